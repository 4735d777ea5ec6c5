"""The weekly brief's content, from frames a store returns: top actions, run health, spikes, segments that stand
out, new themes, what changed.

Pure: the composition layer loads the frames; ``export.to_markdown`` renders the result.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from ..schema import UNTHEMED

CAUSE_COLUMNS = ("carrier", "payment_provider", "warehouse", "product_category")


def brief(run: dict[str, Any], actions: pd.DataFrame, segments: pd.DataFrame, themes: pd.DataFrame,
          events: pd.DataFrame, previous_run_id: str | None, ledger: pd.DataFrame | None = None) -> dict[str, Any]:
    """What the brief says about ``run``; ``events`` are every theme event, ``previous_run_id`` the run before,
    ``ledger`` (a weekly run's) what it changed on items held before."""
    spikes = []
    for a in actions.to_dict("records"):
        if a.get("spike_weeks"):
            spikes.append(f"{a['theme_label']} ({a['root_cause']}): spike in week(s) "
                          f"{', '.join(map(str, a['spike_weeks']))}" + (f"; {a['segment_sentence']}"
                                                                       if a.get("segment_sentence") else ""))
    standing_out = segments.loc[(segments["level"] == "root_cause") & segments["column"].isin(CAUSE_COLUMNS),
                                "sentence"].head(5).tolist()
    this = events[events["run_id"] == run["run_id"]]
    new_themes: list[str] = []
    if previous_run_id is not None:
        # a theme born last run that is still there: new, and not a one-run fluke
        prev = events[events["run_id"] == previous_run_id]
        born_before = set(prev.loc[prev["event"] == "born", "theme_id"])
        persisted = set(this.loc[this["event"].isin(["persisted", "drifted"]), "theme_id"])
        indexed = themes.set_index("theme_id")
        new_themes = [f"{t}: {indexed.at[t, 'label']} ({int(indexed.at[t, 'size'])} items)"
                      for t in sorted(born_before & persisted) if t in indexed.index]
    changes = this["event"].value_counts().to_dict() if previous_run_id is not None else {}
    # an action that folds several themes ("Customer care", "Customer service", "Support") says which, by the name
    # their complaints go by (what folded them), else the theme's own label
    names = dict(zip(themes["theme_id"], themes["label"])) if {"theme_id", "label"} <= set(themes.columns) else {}
    if "problem_label" in themes.columns:
        names.update({t: p for t, p in zip(themes["theme_id"], themes["problem_label"]) if isinstance(p, str) and p})
    covers = {a["theme_id"]: [names.get(t, t) for t in [a["theme_id"], *a["related_themes"]]]
              for a in actions.to_dict("records") if isinstance(a.get("related_themes"), list) and a["related_themes"]}
    drivers = []
    if "rating_effect" in themes.columns:  # the themes that pull the average rating down most
        pulling = themes[(themes["rating_effect"].fillna(0) > 0) & (themes["theme_id"] != UNTHEMED)
                         ].sort_values("rating_effect", ascending=False)
        drivers = [f"{t['theme_id']} \"{t['label']}\": rated {t['mean_rating']:.2f} on average; rated like the rest, "
                   f"the overall average would rise by {t['rating_effect']:.3f}"
                   for t in pulling.head(5).to_dict("records")]
    return {"run_id": run["run_id"], "counts": run["counts"], "actions": actions, "spikes": spikes,
            "this_week": this_week(run, ledger) if ledger is not None else [],
            "segments": standing_out, "drivers": drivers, "covers": covers,
            "new_themes": new_themes, "changes": changes, "first_run": previous_run_id is None,
            "history": (run.get("manifest") or {}).get("history"),
            "health": ((run.get("manifest") or {}).get("health") or {}).get("notes", [])}


CAUSES = {"model_update": "a new tagger", "taxonomy_edit": "the taxonomy edit",
          "human_correction": "reviewers' corrections", "theme_edit": "reviewers' theme edits",
          "rediscovery": "theme discovery"}


def this_week(run: dict[str, Any], ledger: pd.DataFrame) -> list[str]:
    """What a weekly run changed, in sentences: new items, the tagger, the tags and themes that moved and why, and
    the largest moves between root causes."""
    weekly = (run.get("manifest") or {}).get("weekly") or {}
    items, tagger = weekly.get("items") or {}, weekly.get("tagger") or {}
    lines = []
    if items:
        lines.append(f"{items.get('new', 0):,} new items ({items.get('already_seen', 0):,} rows already held); "
                     f"{items.get('before', 0) + items.get('new', 0):,} items in all")
    if tagger:
        decision = tagger.get("decision") or tagger.get("reason")
        held = (tagger.get("metrics") or {})
        lines.append(f"tagger v{tagger.get('version')} ({decision})" + (
            f": on {held['held_out']} held-out corrections {held['accuracy_before']:.2f} before, "
            f"{held['accuracy_after']:.2f} after" if "held_out" in held else ""))
        if tagger.get("rejected"):
            r = tagger["rejected"]["metrics"]
            lines.append(f"a tagger retrained on {r.get('new_corrections')} corrections was not kept: "
                         f"{r.get('accuracy_after'):.2f} on held-out corrections against "
                         f"{r.get('accuracy_before'):.2f}")
    lines += [f"attention: {w}" for w in weekly.get("warnings") or []]
    for (field, cause), n in ledger.groupby(["field", "cause"]).size().items():
        what = "root causes" if field == "root_cause" else "themes"
        lines.append(f"{n:,} {what if n != 1 else what[:-1]} changed by {CAUSES.get(cause, cause)} ({cause})")
    moves = ledger[ledger["field"] == "root_cause"].groupby(["old", "new"]).size().sort_values(ascending=False)
    for (old, new), n in moves.head(3).items():
        lines.append(f"{old} -> {new}: {n:,} item{'s' if n != 1 else ''}")
    return lines
