"""Near-duplicate themes become one (issue 14). Regression: the CSAT remarks had five near-copies of "issue /
resolved / problem", each its own theme and its own action."""

from __future__ import annotations

import numpy as np
import pandas as pd

from insight.themes import Registry, Themes, merge_same_cause


def _found(ids: list[str]) -> Themes:
    themes = list(dict.fromkeys(i for i in ids if i != "unthemed"))
    registry = Registry(ids=themes, labels=themes, centroids=np.zeros((len(themes), 3), dtype=np.float32),
                        status=["active"] * len(themes))
    table = pd.DataFrame({"theme_id": themes, "label": [f"label {t}" for t in themes],
                          "size": [ids.count(t) for t in themes], "subthemes": [[] for _ in themes]})
    return Themes(ids=ids, similarity=np.ones(len(ids)), subtheme_ids=[f"{i}.1" for i in ids], table=table,
                  registry=registry, events=[])


def _unit(v):
    v = np.asarray(v, dtype=np.float32)
    return v / np.linalg.norm(v)


def test_same_cause_and_close_centroids_merge_into_the_larger_theme():
    ids = ["A"] * 6 + ["B"] * 4 + ["C"] * 5 + ["unthemed"]
    X = np.stack([_unit([1, 0.05 * (i % 2), 0]) for i in range(6)] + [_unit([1, 0.2, 0])] * 4
                 + [_unit([0, 0, 1])] * 5 + [_unit([0, 1, 0])])
    causes = ["customer_service"] * 10 + ["customer_service"] * 5 + ["other"]
    out = merge_same_cause(_found(ids), X, causes, 0.8)
    assert out.ids == ["A"] * 10 + ["C"] * 5 + ["unthemed"]
    assert list(out.table["theme_id"]) == ["A", "C"] and list(out.table["size"]) == [10, 5]
    assert out.registry.status == ["active", "merged", "active"]
    assert [e["from"] for e in out.events if e["event"] == "merged"] == [["B"]]
    assert out.subtheme_ids[6] == "A.1" and {"id": "A.1", "label": "label B", "size": 4} in out.table["subthemes"][0]


def test_different_causes_or_distant_centroids_stay_apart():
    ids = ["A"] * 3 + ["B"] * 3 + ["C"] * 3
    X = np.stack([_unit([1, 0, 0])] * 6 + [_unit([0.6, 0.8, 0])] * 3)
    causes = ["delivery"] * 3 + ["payments"] * 3 + ["delivery"] * 3
    out = merge_same_cause(_found(ids), X, causes, 0.9)
    assert out.ids == ids and out.events == []
    assert merge_same_cause(_found(ids), X, ["delivery"] * 9, None).ids == ids  # null turns it off


def test_the_same_label_and_cause_merge_a_little_further_apart():
    ids = ["A"] * 3 + ["B"] * 2 + ["C"] * 5
    X = np.stack([_unit([1, 0, 0])] * 3 + [_unit([1, 0.6, 0])] * 2 + [_unit([0, 0, 1])] * 5)  # centred: 0.74
    found = _found(ids)
    causes = ["delivery"] * 5 + ["payments"] * 5
    assert merge_same_cause(found, X, causes, 0.8).ids == ids  # different labels: apart
    found.table["label"] = ["Solve my problem", "solve my problem", "Card declined"]
    assert merge_same_cause(found, X, causes, 0.8).ids == ["A"] * 5 + ["C"] * 5


def test_centroids_are_compared_apart_from_what_all_feedback_shares():
    """Regression: on the clothing reviews every raw centroid cosine was 0.8-0.95 (all reviews are about clothes),
    and a raw 0.9 threshold chained "dress fit", "dress fabric" and "dress length" into one 5,328-item theme."""
    shared = np.array([3.0, 0, 0, 0])
    X = np.stack([_unit(shared + [0, 1, 0, 0])] * 4 + [_unit(shared + [0, 0, 1, 0])] * 4
                 + [_unit(shared + [0, 0, 0, 1])] * 4)
    ids = ["A"] * 4 + ["B"] * 4 + ["C"] * 4
    raw = _unit(X[:4].mean(0)) @ _unit(X[4:8].mean(0))
    assert raw > 0.9  # a raw threshold would merge them
    assert merge_same_cause(_found(ids), X, ["product_quality"] * 12, 0.8).ids == ids
