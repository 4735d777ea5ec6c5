"""The vocabulary every stage shares: column names, status values and result records.

Stages exchange pandas DataFrames whose columns are named here, so a rename happens in one place.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd

NOISE = -1  # HDBSCAN's outlier label: the item fits no theme ("unthemed")
# what an @handle looks like: it has a letter ("@10 in the morning" is a time) and is no domain ("@shop.com")
HANDLE_PATTERN = r"(?<![\w@])\.?@(?=\w*[A-Za-z])[A-Za-z0-9_]{2,30}\b(?!\.\w)"
UNTHEMED = "unthemed"

# canonical item columns after ingest
ID = "item_id"
TEXT = "text"
TIMESTAMP = "timestamp"
TIME_ASSUMED = "timestamp_assumed"  # True where the export had no timestamps: the item belongs to the run's moment
CHANNEL = "channel"
RATING = "rating"
CUSTOMER_ID = "customer_id"
ORDER_ID = "order_id"
SOURCE = "source"
ROW = "source_row"  # 1-based record number in the source
LINE = "source_line"  # 1-based line where the record starts (text formats)
DETAIL = "detail"  # human-readable detail beside a reason code
LANGUAGE = "language"
TRUTH = "true_root_cause"  # optional ground-truth label (the demo carries one)

# metadata columns that segment analysis looks at when they are present; contact_reason is why the customer got in
# touch as the help desk filed it (ticket category, queue, topic): how the contact was sorted, not who is behind it
SEGMENT_COLUMNS = ("carrier", "warehouse", "payment_provider", "channel", "product_category", "contact_reason")
OPTIONAL_COLUMNS = (
    CHANNEL, RATING, CUSTOMER_ID, ORDER_ID, "order_value", "carrier", "warehouse",
    "payment_provider", "product_category", "contact_reason", TRUTH,
)

# columns added by the stages
CLEAN_TEXT = "clean_text"
RAW_TEXT = "raw_text"  # only when clean.pii.keep_raw is set
STATUS = "status"
REASON = "reason"
DUP_OF = "duplicate_of"
DUP_COUNT = "duplicate_count"
WEEK = "week"
THEME = "theme_id"
THEME_SIM = "theme_similarity"
SUBTHEME = "subtheme_id"  # root cause > theme > sub-theme
MAP_X, MAP_Y = "map_x", "map_y"  # the item's place on the theme map (``themes.layout``)
ROOT_CAUSE = "root_cause"
# a theme whose leading cause holds less of its complaints than this has no cause of its own (a mixed theme)
MIXED_BELOW = 0.5
CONFIDENCE = "confidence"
NEGATIVE = "negative"
POLARITY = "polarity"  # negative | neutral | positive: from the rating, else the text

# item statuses: every read row ends in exactly one of these
STORED = "stored"
DUPLICATE = "duplicate"
QUARANTINED = "quarantined"
NON_ACTIONABLE = "non_actionable"
STATUSES = (STORED, DUPLICATE, QUARANTINED, NON_ACTIONABLE)


@dataclass(frozen=True)
class Counts:
    """Row accounting: ``read`` always equals the sum of the four outcomes."""

    read: int
    stored: int
    duplicates: int
    quarantined: int
    non_actionable: int

    def __post_init__(self) -> None:
        total = self.stored + self.duplicates + self.quarantined + self.non_actionable
        if total != self.read:
            raise ValueError(f"row accounting broken: read={self.read} but outcomes sum to {total}")

    def as_dict(self) -> dict[str, int]:
        return asdict(self)

    @classmethod
    def of(cls, items: pd.DataFrame) -> Counts:
        """The row accounting of an item frame; refuses to exist if the outcomes do not add up to ``read``."""
        status = items[STATUS]
        return cls(read=len(items), stored=int((status == STORED).sum()), duplicates=int((status == DUPLICATE).sum()),
                   quarantined=int((status == QUARANTINED).sum()),
                   non_actionable=int((status == NON_ACTIONABLE).sum()))


# ---------------------------------------------------------------- the stored rows of an item frame
# Stages after clean work on the stored items only; these keep "which rows, in which order" in one place.

def stored_items(items: pd.DataFrame) -> pd.DataFrame:
    return items[items[STATUS] == STORED]


def n_stored(items: pd.DataFrame) -> int:
    return int((items[STATUS] == STORED).sum())


def stored_texts(items: pd.DataFrame) -> list[str]:
    """The clean (redacted) texts of the stored items, in row order: what is embedded, themed and tagged."""
    return items.loc[items[STATUS] == STORED, CLEAN_TEXT].tolist()


def by_content(items: pd.DataFrame, column: str = TEXT) -> pd.DataFrame:
    """``items`` in an order their texts set, not their ids. Rows that came without an id carry one keyed by the
    installation's own contact key, so anything that takes rows by id or by position (a seeded sample, the first
    few examples) would show another installation other rows of the same export. Hashing, not sorting the texts:
    0.3 s for a million."""
    if not len(items):
        return items
    key = pd.util.hash_array(items[column].fillna("").astype(str).to_numpy(dtype=object), categorize=False)
    return items.take(np.argsort(key, kind="stable"))


def fill_stored(items: pd.DataFrame, columns: dict[str, Sequence[Any]]) -> pd.DataFrame:
    """A copy of ``items`` with each of ``columns`` set on the stored rows (values in row order), empty elsewhere.

    Float columns are NaN off the stored rows, every other column None: a duplicate has no theme of its own.
    """
    out = items.copy()
    idx = out.index[(out[STATUS] == STORED).to_numpy()]
    for col, values in columns.items():
        if isinstance(values, np.ndarray) and np.issubdtype(values.dtype, np.floating):
            out[col] = np.nan
            out.loc[idx, col] = values
        else:
            out[col] = None
            out.loc[idx, col] = pd.Series(list(values), index=idx, dtype=object)
    return out


@dataclass
class RunResult:
    """What a pipeline run produced, before or after it is stored."""

    run_id: str
    counts: Counts
    items: Any  # pandas.DataFrame, one row per read row (quarantined rows included)
    themes: Any  # pandas.DataFrame, one row per theme
    actions: Any  # pandas.DataFrame, ranked
    weekly: Any  # pandas.DataFrame, volume by week x root cause
    segments: Any  # pandas.DataFrame, segment lift table
    manifest: dict[str, Any] = field(default_factory=dict)
    registry: Any = None  # insight.themes.Registry after this run (stable theme ids)
    theme_events: list[dict[str, Any]] = field(default_factory=list)

    def summary(self, top: int = 5) -> dict[str, Any]:
        """The JSON object that ``insight run --json`` prints."""
        actions = self.actions.head(top)
        return {
            "run_id": self.run_id,
            "counts": self.counts.as_dict(),
            "pii_redactions": self.manifest.get("pii_redactions", {}),
            "names_left_out": self.manifest.get("names_left_out", []),
            "self_check": self.manifest.get("self_check"),
            "history": self.manifest.get("history"),
            "health": self.manifest.get("health"),
            "top_actions": [
                {
                    "rank": int(a["rank"]),
                    "root_cause": a["root_cause"],
                    "theme": a["theme_label"],
                    "theme_id": a["theme_id"],
                    "title": a["title"],
                    "owner": a["owner"],
                    "impact": round(float(a["impact"]), 2),
                    "complaints": int(a["complaints"]) if "complaints" in a and a["complaints"] == a["complaints"]
                    else None,
                    "items": int(a["volume"]),
                    "segment": a["segment"],
                    "evidence": list(a["evidence"]),
                }
                for a in actions.to_dict("records")
            ],
        }


def reviewer_fields(row: dict[str, Any]) -> dict[str, Any]:
    """The parts of a theme-registry row that only a reviewer's edit changes between runs (rename, merge): a run
    that publishes keeps them where they changed while it worked."""
    return {"pinned_label": row.get("pinned_label") or None, "status": row.get("status")}


def voices(items: pd.DataFrame) -> list[object]:
    """Each stored item's customer (None where the export has none: the item then speaks for itself)."""
    stored = items[items[STATUS] == STORED]
    if CUSTOMER_ID not in stored:
        return [None] * len(stored)
    return [v if isinstance(v, str) and v.strip() else None for v in stored[CUSTOMER_ID].tolist()]
