"""Names after an erasure: a stored run's theme names lose the words the remaining customers no longer voice.

Theme labels, keywords and key phrases are built only from words at least ``themes.min_voices`` distinct customers
used. Erasing a customer can leave a word with fewer voices than that; the names derived from it (theme and
problem labels, keywords, key phrases, sub-theme labels and problem labels, and the action titles and sentences
that quote them) are rebuilt here from what remains, so the erased customer's words do not outlive them. Pure
functions over the stored frames; the caller reads and writes the store.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from .describe import word_set


def forget_words(themes: pd.DataFrame, rare: set[str]) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """The theme rows whose names hold a ``rare`` word, renamed, and every old name mapped to its new one.

    A keyword or key phrase holding a rare word is dropped; a label holding one is named again from the keywords
    left (or "theme <id>" when none is), never left blank.
    """
    changed, names = [], {}
    for row in themes.to_dict("records"):
        keywords = [k for k in _list(row.get("keywords")) if not word_set(k) & rare]
        phrases = [k for k in _list(row.get("key_phrases")) if not word_set(k) & rare]
        fallback = " / ".join(keywords[:3]) or f"theme {row['theme_id']}"
        new = {"theme_id": row["theme_id"], "keywords": keywords, "key_phrases": phrases}
        for field in ("label", "problem_label"):
            old = row.get(field)
            if isinstance(old, str) and old and word_set(old) & rare:
                new[field] = names[old] = fallback
            else:
                new[field] = old
        subs = []
        for part in _list(row.get("subthemes")):
            label = " / ".join(w for w in (part.get("label") or "").split(" / ") if not word_set(w) & rare)
            subs.append({**part, "label": label})
            problem = part.get("problem_label")
            if isinstance(problem, str) and word_set(problem) & rare:
                subs[-1]["problem_label"] = names[problem] = label or new["problem_label"] or fallback
        new["subthemes"] = subs
        if (keywords != _list(row.get("keywords")) or phrases != _list(row.get("key_phrases"))
                or new["label"] != row.get("label") or new["problem_label"] != row.get("problem_label")
                or subs != _list(row.get("subthemes"))):
            changed.append(new)
    return changed, names


def renamed(text: object, names: dict[str, str]) -> object:
    """``text`` with every old theme name replaced by its new one (longest first, so no name is half replaced)."""
    if not isinstance(text, str) or not names:
        return text
    for old in sorted(names, key=len, reverse=True):
        text = text.replace(old, names[old])
    return text


def _list(value: object) -> list:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return []
    return list(value)
