"""What reviewers and runs say about each other: agreement between reviewers' labels, and one run against the one
before it (themes born, grown, shrunk or gone; actions that moved). Pure functions over stored frames.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

NOTABLE = 0.2  # a theme that grew or shrank by more than this share (and by 5 items or more) is named


def agreement(corrections: pd.DataFrame, item_ids: pd.Series | None = None) -> dict[str, Any]:
    """How far reviewers agree: each reviewer's latest label per item (a confirmation keeps the tagger's cause),
    compared on items two or more reviewers labelled. ``kappa`` is Cohen's kappa of the two most active
    reviewers on the items both labelled (None when they share fewer than 5)."""
    labels = corrections if item_ids is None else corrections[corrections["item_id"].isin(set(item_ids))]
    latest = labels.sort_values("entry_id").drop_duplicates(["item_id", "by"], keep="last")
    per_reviewer = latest["by"].value_counts()
    shared = latest.groupby("item_id").filter(lambda g: g["by"].nunique() >= 2)
    agree = shared.groupby("item_id")["new_cause"].nunique().eq(1)
    split = shared[shared["item_id"].isin(agree[~agree].index)].pivot_table(
        index="item_id", columns="by", values="new_cause", aggfunc="last")
    kappa = None
    if len(per_reviewer) >= 2:
        a, b = per_reviewer.index[:2]
        both = latest[latest["by"].isin([a, b])].pivot_table(index="item_id", columns="by", values="new_cause",
                                                             aggfunc="last").dropna()
        if len(both) >= 5:
            kappa = cohen_kappa(both[a].tolist(), both[b].tolist())
    confirmed = (latest["old_cause"] == latest["new_cause"]).mean() if len(latest) else float("nan")
    return {"labels": int(len(latest)), "reviewers": per_reviewer.to_dict(), "shared_items": int(len(agree)),
            "agreement": float(agree.mean()) if len(agree) else None, "kappa": kappa,
            "confirmed_share": None if np.isnan(confirmed) else float(confirmed), "disagreements": split}


def cohen_kappa(a: list[str], b: list[str]) -> float:
    """Agreement beyond chance between two raters of the same items (1 = always, 0 = as by chance)."""
    classes = sorted(set(a) | set(b))
    index = {c: i for i, c in enumerate(classes)}
    table = np.zeros((len(classes), len(classes)))
    for x, y in zip(a, b):
        table[index[x], index[y]] += 1
    n = table.sum()
    observed = np.trace(table) / n
    expected = float((table.sum(0) * table.sum(1)).sum()) / n**2
    return 1.0 if expected == 1 else float((observed - expected) / (1 - expected))


def compare_runs(before: dict[str, pd.DataFrame], after: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """This run against the previous one. ``before``/``after`` hold each run's ``themes`` and ``actions`` frames;
    returns ``themes`` (size before and now, change, and born / gone / grew / shrank / steady) and ``actions``
    (rank before and now, and new / dropped / up / down / same), most notable first."""
    old = _sizes(before["themes"]).rename("before")
    new = _sizes(after["themes"]).rename("now")
    labels = {**_labels(before["themes"]), **_labels(after["themes"])}
    themes = pd.concat([old, new], axis=1).fillna(0).astype(int)
    themes["change"] = themes["now"] - themes["before"]

    def what(row) -> str:
        if row["before"] == 0:
            return "born"
        if row["now"] == 0:
            return "gone"
        share = row["change"] / row["before"]
        if abs(row["change"]) >= 5 and abs(share) > NOTABLE:
            return "grew" if share > 0 else "shrank"
        return "steady"

    themes["what"] = themes.apply(what, axis=1) if len(themes) else pd.Series(dtype=str)
    themes.insert(0, "label", themes.index.map(labels))
    order = {"born": 0, "grew": 1, "shrank": 2, "gone": 3, "steady": 4}
    themes = themes.assign(_o=themes["what"].map(order), _a=-themes["change"].abs()).sort_values(["_o", "_a"]) \
        .drop(columns=["_o", "_a"]).rename_axis("theme_id").reset_index()
    ranks_before = _ranks(before["actions"]).rename("rank before")
    ranks_now = _ranks(after["actions"]).rename("rank now")
    actions = pd.concat([ranks_before, ranks_now], axis=1)
    titles = {**_titles(before["actions"]), **_titles(after["actions"])}
    actions.insert(0, "title", actions.index.map(titles))

    def moved(row) -> str:
        if pd.isna(row["rank before"]):
            return "new"
        if pd.isna(row["rank now"]):
            return "dropped"
        step = int(row["rank before"] - row["rank now"])
        return f"up {step}" if step > 0 else f"down {-step}" if step < 0 else "same"

    actions["moved"] = actions.apply(moved, axis=1) if len(actions) else pd.Series(dtype=str)
    actions = actions.sort_values("rank now", na_position="last").rename_axis("theme_id").reset_index()
    return {"themes": themes, "actions": actions}


def _sizes(themes: pd.DataFrame) -> pd.Series:
    if themes is None or themes.empty:
        return pd.Series(dtype=int)
    real = themes[themes["theme_id"] != "unthemed"]
    return real.set_index("theme_id")["size"].astype(int)


def _labels(themes: pd.DataFrame) -> dict[str, str]:
    return {} if themes is None or themes.empty else dict(zip(themes["theme_id"], themes["label"]))


def _ranks(actions: pd.DataFrame) -> pd.Series:
    if actions is None or actions.empty:
        return pd.Series(dtype=float)
    return actions.set_index("theme_id")["rank"].astype(float)


def _titles(actions: pd.DataFrame) -> dict[str, str]:
    return {} if actions is None or actions.empty else dict(zip(actions["theme_id"], actions["title"]))
