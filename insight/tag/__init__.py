"""Tag stage: an operational root cause per item, calibrated, with an abstain-to-review decision.

``pipeline`` holds the two registered taggers (zero-shot ``prototype``, trained ``model``) and the per-item
decisions; ``zero_shot`` the taxonomy prototypes and keyword evidence; ``focus`` the complaint clauses of a remark
that also praises; ``active`` the review queue's order and the memory of reviewers' labels; ``models`` the
trainable taggers; ``calibration`` temperature scaling and abstention; ``training`` the training recipes;
``finetune`` contrastive fine-tuning of the encoder; ``persist`` saving and loading without pickle.
"""

from .active import LabelMemory, review_order
from .calibration import AbstainPolicy, apply_temperature, coverage_report, expected_calibration_error, fit_temperature
from .focus import complaint_focus
from .models import CalibratedTagger, HybridTagger, LexicalLogisticTagger, LogisticTagger, NeighbourTagger
from .persist import KINDS, data_hash, encoder_path, head_features, load_model, save_model
from .pipeline import TAG_COLUMNS, ModelTagger, ZeroShotTagger, tag_items, tag_texts
from .training import check_labels, fit_calibrated, head_pseudo_rows, next_model_dir, self_train, train_and_save
from .zero_shot import (
    KeywordMatcher,
    PrototypeTagger,
    combined_proba,
    fit_zero_shot,
    in_key_order,
    keyword_evidence,
    taxonomy_training_set,
)

__all__ = [
    "AbstainPolicy", "CalibratedTagger", "HybridTagger", "KINDS", "KeywordMatcher", "LabelMemory",
    "LexicalLogisticTagger", "LogisticTagger", "ModelTagger", "NeighbourTagger", "PrototypeTagger", "TAG_COLUMNS",
    "ZeroShotTagger", "apply_temperature", "check_labels", "combined_proba", "complaint_focus", "coverage_report",
    "data_hash", "encoder_path", "expected_calibration_error", "fit_calibrated", "fit_temperature",
    "fit_zero_shot", "head_features", "head_pseudo_rows", "in_key_order", "keyword_evidence", "load_model",
    "next_model_dir", "review_order", "save_model", "self_train", "tag_items", "tag_texts",
    "taxonomy_training_set", "train_and_save",
]
