"""Clean stage: normalise, redact PII, flag non-actionable feedback, detect language, dedupe.

``stage`` holds the stage function and the shared text preparation; ``hygiene`` normalisation and the
non-actionable rules; ``pii``, ``addresses`` and ``names`` the redactors; ``language`` offline language
identification and the English gloss of romanised Hindi; ``dedupe`` exact and near duplicates.
"""

from .dedupe import collapse_near_duplicates, finalise_duplicates, near_duplicates
from .hygiene import addressee_names, model_text, model_texts, non_actionable_reason, normalise
from .language import UNDETERMINED, LanguageDetector, gloss_hinglish, is_hinglish
from .names import NameRedactor
from .pii import PLACEHOLDERS, Redactor, iban_ok, luhn_ok, redact_pii
from .stage import CleanState, clean, clean_stream, model_inputs, prepare_texts

__all__ = [
    "PLACEHOLDERS", "UNDETERMINED", "CleanState", "LanguageDetector", "NameRedactor", "Redactor", "addressee_names",
    "clean", "clean_stream", "collapse_near_duplicates", "finalise_duplicates", "gloss_hinglish", "iban_ok",
    "is_hinglish", "luhn_ok", "model_inputs",
    "model_text", "model_texts", "near_duplicates",
    "non_actionable_reason", "normalise", "prepare_texts", "redact_pii",
]
