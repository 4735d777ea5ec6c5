"""Evaluation commands' library side (composition layer): quality figures on labelled data, printed, not asserted.

``datasets`` reads the public sets and labelled exports, ``tagging`` measures root-cause tagging, ``themes``
measures theme discovery and id stability. Each returns a dict with the figures and the protocol that made them.
"""

from .datasets import (
    DATASETS,
    label_key,
    load_dataset,
    load_label_map,
    load_labelled,
    match_labels,
    taxonomy_from_labels,
)
from .tagging import MODES, STRATEGIES, eval_active, eval_tagging, prepare, sample_shots, unlabelled_pool
from .themes import eval_stability, eval_themes

__all__ = ["DATASETS", "MODES", "STRATEGIES", "eval_active", "eval_stability", "eval_tagging", "eval_themes",
           "label_key", "load_dataset", "load_label_map", "load_labelled", "match_labels", "prepare", "sample_shots",
           "taxonomy_from_labels", "unlabelled_pool"]
