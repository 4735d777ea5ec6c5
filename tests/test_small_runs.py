"""Issue 16: ordinary small exports must not crash a run.

Regressions: a run with 0 stored items raised ``ValueError`` (matmul) in the tag stage; 5-30 stored items raised
``IndexError`` in theme discovery when HDBSCAN kept no cluster. Every row is still accounted for.
"""

from __future__ import annotations

import pandas as pd
import pytest

from insight.demo import demo_path
from insight.flow import run


@pytest.mark.parametrize("n", [0, 1, 5, 12, 20, 30])
def test_small_exports_run_and_account_for_every_row(fast_config, n):
    rows = pd.read_csv(demo_path()).head(max(n, 3))
    if n == 0:  # every row empty: nothing stored at all
        rows = rows.assign(text="")
    result = run(rows, fast_config)
    counts = result.counts
    assert counts.read == len(rows)
    assert counts.stored + counts.duplicates + counts.quarantined + counts.non_actionable == counts.read
    stored = result.items[result.items["status"] == "stored"]
    assert stored["root_cause"].notna().all() and stored["theme_id"].notna().all()


def test_a_run_with_nothing_stored_is_published(tiny_config):
    from insight.flow import run_and_store
    from insight.store import SQLStore

    rows = pd.DataFrame({"id": ["a", "b"], "text": ["", "   "]})
    result = run_and_store(rows, tiny_config)
    store = SQLStore(tiny_config.store_url)
    assert result.counts.stored == 0 and len(store.load(result.run_id, "items")) == 2
    assert result.actions.empty


def test_ids_repeated_across_chunks_never_lose_the_run_at_publish(tiny_config, tmp_path):
    """Regression (issue 16): an id repeated across chunks (exports over 50,000 rows by default), or an id ``A~2``
    beside a repeated ``A``, raised IntegrityError at publish, after every stage had finished."""
    from insight.flow import run_and_store

    cfg = tiny_config.model_copy(update={"ingest": tiny_config.ingest.model_copy(update={"chunk_size": 2})})
    rows = pd.DataFrame({"id": ["A", "B", "A", "A~2", "C", "A", "B", "D"],
                         "text": ["parcel late", "refund missing", "parcel late", "card declined",
                                  "parcel lost again", "another text for A", "refund missing", "tracking stuck"]})
    path = tmp_path / "ids.csv"
    rows.to_csv(path, index=False)
    result = run_and_store(path, cfg)
    items = result.items
    assert items["item_id" if "item_id" in items else "id"].is_unique
    c = result.counts
    assert c.read == 8 == c.stored + c.duplicates + c.quarantined + c.non_actionable
