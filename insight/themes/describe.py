"""Theme description: c-TF-IDF keywords, key phrases (the members' own word runs), examples, labels, sub-themes.

A theme is only as useful as its name: keywords must be shared by several members (one long message cannot name
a theme), examples are the medoid plus diverse others, and large themes are split once more into sub-themes.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from functools import cache, lru_cache

import numpy as np
import pandas as pd

from ..lexicon import FEELING, HINDI_NEGATIONS, HINGLISH_STOP, NAMING_WORDS, NEGATIONS
from ..schema import MIXED_BELOW, NOISE, UNTHEMED
from .discovery import content_keys

_TOKEN = r"(?u)\b[^\W\d_]{2,}\b"
_EXTRA_STOP = {
    "hi", "hello", "hey", "thanks", "thank", "pls", "plz", "please", "just", "im", "ive", "dont", "got", "get",
    "like", "really", "order", "ordered", "item", "items", "time", "day", "days", "week", "weeks", "said", "told",
    "want", "need", "know", "tbh", "lol", "ok", "okay", "regards", "guys", "team", "ur", "did", "does", "doing",
    "bit", "times", "don", "didn", "doesn", "isn", "wasn", "aren", "won", "ve", "ll", "re", "cheers", "kind",
    "dear", "sir", "madam", "yes", "still", "also", "even", "one", "two", "three", "would", "could", "us", "it's",
    "came", "whats", "thats", "theres", "cant", "wont", "didnt", "doesnt", "isnt", "wasnt", "havent", "hasnt", "youre",
} | HINGLISH_STOP


_WORD = re.compile(r"[^\W\d_]{2,}", re.UNICODE)


# negations that come before what they negate and hold it alone ("no resolution provided", "never received my
# refund"): romanised Hindi ones follow it, and "not" reaches past its neighbour too often ("not a tunic", "store
# credit, not a refund", "did not call back": a callback complaint named "Call back")
_LEADING_NEGATIONS = NEGATIONS - set(HINDI_NEGATIONS) - {"not"}
# nouns that name trouble itself: denied ("no complaints", "nothing to complain", "no issues") they say there is none;
# not verbs ("never issued") nor a noun's modifier ("no complaint number", "no problem resolution")
_TROUBLE = re.compile(r"complain(?:t|ts|s)?|problems?|issues?|troubles?|hassles?|difficult(?:y|ies)")


@cache
def _stop() -> frozenset[str]:
    """Words that never name a theme (scikit-learn's English list without ``NAMING_WORDS``, loaded on first use,
    and ours)."""
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    return frozenset((ENGLISH_STOP_WORDS - NAMING_WORDS) | _EXTRA_STOP)


def spelling_variants(texts: Sequence[str], min_count: int = 10, ratio: float = 5.0) -> dict[str, str]:
    """Misspellings mapped to the common form: "sarvice" -> "service", "costomer"/"coustomer" -> "customer".

    A word is a variant of another when one edit (insert, delete, substitute, swap two neighbours) turns it into
    it, both start with the same letter, and the other is at least ``ratio`` times as frequent (four-letter words,
    where one edit is often another word, ``4 * ratio``: "goog" -> "good", never "slim" -> "slip") and seen
    ``min_count`` times. Found with a deletion index (as SymSpell does), so it is linear in the
    vocabulary. Spelling variants split one problem into themes and fill keyword lists with typos.
    """
    return _variants(Counter(w for t in texts for w in _WORD.findall(t.lower())), min_count, ratio)


def _variants(counts: Counter, min_count: int = 10, ratio: float = 5.0) -> dict[str, str]:
    """``spelling_variants`` from the corpus's word counts."""
    common = {w: c for w, c in counts.items() if c >= min_count and len(w) >= 4}
    index: dict[str, list[str]] = {}
    for w in common:
        for d in {w[:i] + w[i + 1:] for i in range(len(w))} | {w}:
            index.setdefault(d, []).append(w)
    out = {}
    for w, c in counts.items():
        if len(w) < 4:
            continue
        need = ratio * (4 if len(w) == 4 else 1)
        deletes = {w[:i] + w[i + 1:] for i in range(len(w))}
        near = set(index.get(w, [])) | {d for d in deletes if d in common}
        for d in deletes:
            near |= set(index.get(d, []))
        near = [f for f in near if f != w and f[0] == w[0] and common[f] >= need * c]
        if near:
            out[w] = max(near, key=lambda f: (common[f], f))
    return out


def respell(texts: Sequence[str], variants: dict[str, str]) -> list[str]:
    """Lower-cased ``texts`` with every known misspelling replaced by its common form."""
    return _respelled([t.lower() for t in texts], variants)


def _respelled(lowered: list[str], variants: dict[str, str], words: Sequence[Sequence[str]] | None = None
               ) -> list[str]:
    """``respell`` of texts already lower-cased; ``words`` (each text's words, when known) skip the texts that
    hold no misspelling, most of them."""
    if not variants:
        return lowered
    fix = lambda w: variants.get(w, w)  # noqa: E731
    if words is None:
        return [_rewrite_words(t, fix) for t in lowered]
    keys = variants.keys()
    return [t if keys.isdisjoint(w) else _rewrite_words(t, fix) for t, w in zip(lowered, words)]


_WORDS_AND_GAPS = re.compile(f"({_WORD.pattern})", re.UNICODE)


def _rewrite_words(text: str, rewrite: Callable[[str], str]) -> str:
    """``text`` with each ``_WORD`` run replaced by ``rewrite(run)``: ``_WORD.sub`` without a match object and a
    call per word (a third faster on the thousands of texts that hold a misspelling or a rare word)."""
    parts = _WORDS_AND_GAPS.split(text)
    parts[1::2] = [rewrite(w) for w in parts[1::2]]
    return "".join(parts)


def theme_term_counts(texts: Sequence[str], labels: np.ndarray, words: Sequence[Sequence[str]] | None = None,
                      terms: Callable[[str], Iterable[str]] | None = None
                      ) -> tuple[list[int], np.ndarray, np.ndarray, np.ndarray] | None:
    """Per theme, how many of its distinct member texts use each term: (theme ids, counts, sizes, vocabulary).

    One distinct text counts once per theme: a message pasted by many customers (or a template with a name in
    it: "... Thanks, Meera") must not name a theme any more than one long message can (the same words with
    another greeting or order number are the same text). None when no theme has a term. Terms are a text's
    words and word pairs without stop words (as scikit-learn's ``CountVectorizer(ngram_range=(1, 2))`` with
    ``_TOKEN`` finds them), or what ``terms`` gives for it. ``words``: each text's words (``_WORD`` of the
    lower-cased text), when the caller has them already.
    """
    ids = sorted(set(labels.tolist()) - {NOISE})
    stop = _stop()
    seen: dict[tuple[str, int], tuple[int, list[str]]] = {}
    for n, lab in enumerate(labels.tolist()):  # Python ints: comparing numpy scalars cost more than the rest
        if lab != NOISE:
            found = words[n] if words is not None else _WORD.findall(texts[n].lower())
            kept = [w for w in found if w not in stop]
            seen.setdefault((" ".join(kept), lab), (n, kept))
    if not seen:
        return None
    lab = np.array([k[1] for k in seen], dtype=int)
    if terms is not None:
        counted = _distinct_terms([list(terms(texts[n])) for n, _ in seen.values()], _least_texts(len(seen)))
    else:
        counted = _distinct_word_terms([_vectorizer_words(texts[n], kept, stop) for n, kept in seen.values()],
                                       _least_texts(len(seen)))
    if counted is None:
        return None
    rows, cols, vocab = counted
    theme = np.searchsorted(ids, lab)
    tf = np.bincount(theme[rows] * len(vocab) + cols, minlength=len(ids) * len(vocab))
    sizes = np.bincount(theme, minlength=len(ids)).astype(float)
    # integer counts: the ranking divides them anyway, and a float copy of the sub-themes' matrix (every part
    # of every theme against every term: 380 x 50,000 at 20,000 texts) cost 0.15 s
    return ids, tf.reshape(len(ids), len(vocab)), sizes, vocab


def _least_texts(n_docs: int) -> int:
    """A term in one text only can never be shared by two members: on large sets it is left out of the counts
    (at 93,000 texts most word pairs are such, and made the theme x term matrix 30x larger); on small ones it is
    the fallback name of a theme no shared term names."""
    return 2 if n_docs >= 1000 else 1


_DIGIT_OR_UNDERSCORE = re.compile(r"[\d_]")
_TOKEN_RE = re.compile(_TOKEN)


def _vectorizer_words(text: str, kept: list[str], stop: frozenset[str]) -> list[str]:
    """The words of ``text`` that count as terms: ``_TOKEN`` runs of the lower-cased text without stop words.
    ``kept`` (the ``_WORD`` runs of the lower-cased text without stop words) are the same wherever the text has
    no digit or underscore (only those can glue letters into a longer word), so they are reused there."""
    if not _DIGIT_OR_UNDERSCORE.search(text):
        return kept
    return [w for w in _TOKEN_RE.findall(text.lower()) if w not in stop]


def _distinct_word_terms(docs: list[list[str]], least: int) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """``_distinct_terms`` of each text's words and its pairs of neighbouring words, without writing out every
    pair: pairs are numbered from their words' numbers, and only pairs frequent enough to be kept are named."""
    numbered = _numbered(docs)
    if numbered is None:
        return None
    codes, doc_of, names = numbered
    inner = np.flatnonzero(doc_of[:-1] == doc_of[1:])  # a word followed by another of the same text
    v = len(names)
    term = np.concatenate([codes, v + codes[inner] * v + codes[inner + 1]])
    doc = np.concatenate([doc_of, doc_of[inner]])

    def name(code: int) -> str:
        return names[code] if code < v else f"{names[(code - v) // v]} {names[(code - v) % v]}"

    return _pairs(doc, term, least, name)


def _distinct_terms(docs: list[list[str]], least: int) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """Which terms each text uses, among the terms at least ``least`` texts use: (text rows, term columns,
    vocabulary in sorted order, as scikit-learn's ``CountVectorizer(binary=True, min_df=least)`` orders it)."""
    numbered = _numbered(docs)
    if numbered is None:
        return None
    codes, doc_of, names = numbered
    return _pairs(doc_of, codes, least, names.__getitem__)


def _numbered(docs: list[list[str]]) -> tuple[np.ndarray, np.ndarray, list[str]] | None:
    """Every term of every text as a number, the text each came from, and the terms by number; None if none."""
    index: dict[str, int] = {}
    codes = np.array([index.setdefault(w, len(index)) for doc in docs for w in doc], dtype=np.int64)
    if not len(codes):
        return None
    doc_of = np.repeat(np.arange(len(docs), dtype=np.int64), [len(doc) for doc in docs])
    return codes, doc_of, list(index)


PAIR_CODES = 2**62  # (text, term) pairs are numbered text * terms + term in int64


def _pairs(doc: np.ndarray, term: np.ndarray, least: int, name: Callable[[int], str]
           ) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """Distinct (text, term) pairs of terms used by at least ``least`` texts, terms numbered in name order."""
    span = int(term.max()) + 1
    if span * (int(doc.max()) + 1) >= PAIR_CODES:  # pair codes would overflow: number the terms densely first
        wide, term = np.unique(term, return_inverse=True)
        span, named = len(wide), name
        name = lambda c: named(int(wide[c]))  # noqa: E731
    pair = _distinct(doc * span + term)
    doc, term = pair // span, pair % span
    codes, df = np.unique(term, return_counts=True)
    kept = codes[df >= least]
    if not len(kept):
        return None
    vocab = np.array([name(int(c)) for c in kept], dtype=object)
    order = np.argsort(vocab.astype(str), kind="stable")
    column = np.empty(len(kept), dtype=np.int64)
    column[order] = np.arange(len(kept))
    at = np.minimum(np.searchsorted(kept, term), len(kept) - 1)
    keep = kept[at] == term
    return doc[keep], column[at[keep]], vocab[order]


def _distinct(values: np.ndarray) -> np.ndarray:
    """``np.unique(values)`` by sorting: numpy 2.4 hashes integers there, 5-15x slower on wide-ranging codes."""
    values = np.sort(values)
    return values[np.concatenate([[True], values[1:] != values[:-1]])] if len(values) else values


def _distinctive(ids: list[int], tf: np.ndarray, sizes: np.ndarray, vocab: np.ndarray, n: int, min_share: float,
                 min_count: int = 2) -> dict[int, list[str]]:
    """Class-based TF-IDF ranking: per theme, the ``n`` terms frequent in it and rare across themes, terms that
    at least ``min_count`` members and ``min_share`` of the theme use first, none contained in a better one."""
    avg = tf.sum() / len(ids)
    idf = np.log(1 + avg / np.maximum(tf.sum(axis=0), 1))
    score = (tf / np.maximum(tf.sum(axis=1, keepdims=True), 1)) * idf
    enough = (tf >= min_count) & (tf >= min_share * sizes[:, None])
    tf_share = tf / np.maximum(sizes[:, None], 1)
    out = {}
    for row, i in enumerate(ids):
        # terms shared by several members first; a theme with none falls back to its best single terms
        ranked = np.where(enough[row], score[row], 0.0) if enough[row].any() else score[row]
        ranked = ranked * np.sqrt(tf_share[row])  # words many members use make better names than rare ones
        words: list[str] = []
        for j in np.argsort(-ranked, kind="stable")[: n * 4]:
            w = vocab[j]
            if ranked[j] <= 0:
                break
            if any(w in kept or kept in w for kept in words):
                continue
            words.append(w)
            if len(words) == n:
                break
        out[i] = words
    return out


def ctfidf_keywords(texts: Sequence[str], labels: np.ndarray, n: int = 8, min_share: float = 0.1,
                    words: Sequence[Sequence[str]] | None = None) -> dict[int, list[str]]:
    """Class-based TF-IDF (as in BERTopic): terms frequent in one theme and rare across themes.

    Term frequency counts members that use a term (not raw repeats), and a term must appear in at least two
    members and ``min_share`` of the theme, so one long message (or one person's "hiya") cannot name a theme.
    ``words``: each text's lower-cased words, when the caller has them.
    """
    counted = theme_term_counts(texts, labels, words)
    if counted is None:
        return {i: [] for i in sorted(set(labels.tolist()) - {NOISE})}
    return _distinctive(*counted, n=n, min_share=min_share)


def key_phrases(texts: Sequence[str], labels: np.ndarray, n: int = 5,
                candidates: Callable[[str], Iterable[str]] | None = None,
                words: Sequence[Sequence[str]] | None = None) -> dict[int, list[str]]:
    """The phrases of two or three words that a theme's members write ("runs small", "refund not received",
    "true to size"), most used and most its own first; a phrase at least two members use.

    Phrases are the members' own word runs that neither cross punctuation nor begin or end with a stop word,
    counted like keywords. Parsing noun chunks with spaCy (this function's first form) cost 2 ms a text, 44 s
    of a 52 s theme stage on 20,000 texts; counting runs costs about a second and also finds verb phrases
    ("does not fit"), which say more about a problem than its nouns. ``candidates``: a text's such phrases, when
    the caller has them already (``_candidates`` of the lower-cased text's ``_fragments``); ``words``: each text's
    words (``text_words``), which tell copies of one text apart, likewise.
    """
    ids = sorted(set(labels.tolist()) - {NOISE})
    counted = theme_term_counts(texts, labels, words,
                                terms=candidates or (lambda t: _candidates(_fragments(t.lower()))))
    if counted is None:
        return {i: [] for i in ids}
    found = _distinctive(*counted, n=n, min_share=0.0)
    return {i: found.get(i, []) for i in ids}


def feeling_only(term: str) -> bool:
    """True for a term that names a feeling, a greeting or an intensifier and nothing else ("love", "very bad"),
    misspelt as customers misspell them ("exllent", "exilent", "goo")."""
    words = term.lower().split()
    return bool(words) and all(_feeling(w) for w in words)


@lru_cache(maxsize=1 << 16)  # a label checks every phrase its members write, and their words repeat
def _feeling(word: str) -> bool:
    if word in FEELING:
        return True
    if len(word) < 5:  # "bag" is one edit from "bad", "hat" from "hate": short misspellings are listed instead
        return False
    limit = 1 if len(word) <= 6 else 2
    return any(abs(len(f) - len(word)) <= limit and _edits(word, f, limit) <= limit
               for f in _FEELING_BY_LETTER.get(word[0], ()))


_FEELING_BY_LETTER: dict[str, list[str]] = {}
for _f in sorted(FEELING):
    if len(_f) >= 4:
        _FEELING_BY_LETTER.setdefault(_f[0], []).append(_f)


def _edits(a: str, b: str, limit: int) -> int:
    """Levenshtein distance, stopping early once it exceeds ``limit``."""
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        if min(cur) > limit:
            return limit + 1
        prev = cur
    return prev[-1]


def _fragments(text: str) -> list[list[str]]:
    """The words of each stretch of ``text`` between punctuation marks that holds two words or more."""
    return [words for words in map(_WORD.findall, _FRAGMENT.split(text)) if len(words) >= 2]


def _candidates(fragments: list[list[str]]) -> set[str]:
    """Key phrase candidates: runs of two or three different words that neither begin nor end with a stop word."""
    edge = _stop()
    named: set[str] = set()
    for words in fragments:
        for a, b in zip(words, words[1:]):
            if a != b and a not in edge and b not in edge:
                named.add(f"{a} {b}")
        for a, b, c in zip(words, words[1:], words[2:]):
            if a != b and b != c and a != c and a not in edge and c not in edge:
                named.add(f"{a} {b} {c}")
    return named


def _runs(fragments: list[list[str]], max_words: int, key: str) -> set[str]:
    """The runs of 2-``max_words`` different words (never across punctuation) that hold ``key``'s words in a row.
    Only those: a label grows one keyword, and writing out every run of every member cost a tenth of the stage.
    A run right after a negation is not said: "no resolution provided" says "no resolution", not "resolution
    provided" (the run with its negation is among the runs where it fits)."""
    out: set[str] = set()
    need = key.split()
    m = len(need)
    for words in fragments:
        starts = [p for p, w in enumerate(words) if w == need[0] and words[p:p + m] == need]
        for n in range(max(2, m), max_words + 1):
            for i in {i for p in starts for i in range(max(0, p + m - n), min(p, len(words) - n) + 1)}:
                run = words[i:i + n]
                if len(set(run)) == n and not (i and words[i - 1] in _LEADING_NEGATIONS):
                    out.add(" ".join(run))
    return out


_FRAGMENT = re.compile(r"[.!?,;:()\[\]\"\n]+")


FILLER_LABELS = ("General praise and thanks", "General feedback")  # a theme with no word that names something


def readable_label(texts: Sequence[str], keywords: Sequence[str], phrases: Sequence[str] = (),
                   max_words: int = 4, runs: Callable[[str, str], set[str]] | None = None,
                   prefer: str | None = None) -> str:
    """A few words a CX lead would use for the theme, drawn from its members' own phrases.

    The top keyword that names something (not a feeling or a greeting: a praise theme is not "love / great /
    cute") is grown into the phrase of 2-``max_words`` words containing it that most members write ("runs
    small", "refund not received"), else paired with the next such keyword. Only the top keyword's phrases: a
    phrase every theme shares ("true to size" in reviews of pants, skirts and jackets) would name them all alike.
    ``texts`` are the members' model texts, lower-cased and respelled; ``runs(text, key)``: the text's word runs
    of up to ``max_words`` that hold ``key``, when the caller has the text's words already. ``prefer``: a way of
    writing it (lower case) that wins a tie between ways members write one thing equally often and as briefly
    (the theme's name, for the label of its complaints: "fabric of the dress", not "fabric as the dress").
    """
    content = [k for k in keywords if not feeling_only(k)]
    content += [p for p in phrases if not feeling_only(p) and p not in content]
    if not content:
        praise = sum(w in FEELING and w not in _EXTRA_STOP for k in keywords for w in k.split())
        return FILLER_LABELS[0] if praise else FILLER_LABELS[1]
    top = content[0]
    edge = _stop() | FEELING
    best, best_score = top, 0.0
    floor = max(2.0, 0.05 * len(texts))
    if runs is None:
        texts = [t.lower() for t in texts]
        runs = lambda t, key: _runs(_fragments(t), max_words, key)  # noqa: E731
    # a keyword bigram can be an artefact of dropped stop words ("size soft" from "size and so soft"): where the
    # members never write it, its words are grown instead
    top_said: tuple[Counter, dict[frozenset[str], Counter]] | None = None  # what members write with the top key
    for key in [top, *[w for w in top.split() if w not in edge and " " in top]]:
        first = key.split()[0]  # a text that does not hold the key's first word as a substring has no such run
        said, forms = _phrasings([runs(t, key) for t in texts if first in t], edge)
        top_said = top_said or (said, forms)
        for sense, c in sorted(said.items(), key=lambda kv: sorted(kv[0])):
            if c < floor:
                continue
            g = _as_written(forms[sense], prefer)
            score = c * (1 + 0.2 * (len(g.split()) - 2))
            if score > best_score or (score == best_score and len(g) < len(best)):
                best, best_score = g, score
        if best_score:
            break
    if " " not in best:
        second = next((k for k in content[1:] if k not in best and best not in k), None)
        together = _written_together(*top_said, {_singular(w) for w in f"{best} {second}".split()}, prefer) \
            if second and top_said else None
        best = together or (f"{best} and {second}" if second else best)
    words = best.split()  # "card isn working": the words lost their apostrophe and "t" as ``_WORD`` found them
    best = " ".join(_CONTRACTED.get(w, w) if w != "won" or i < len(words) - 1 else w for i, w in enumerate(words))
    return best[:1].upper() + best[1:]


# the negations a label's words hold without their "n't" ("won" only before another word: "contactless won work")
_CONTRACTED = {w: f"{w}'t" for w in ("isn", "wasn", "aren", "weren", "didn", "doesn", "don", "haven", "hasn", "hadn",
                                     "couldn", "wouldn", "shouldn", "won")}


def _as_written(forms: Counter, prefer: str | None = None) -> str:
    """A phrase as most members write it; on a tie the shorter way, then ``prefer``, then the alphabet."""
    return min(forms, key=lambda f: (-forms[f], len(f), f != prefer, f))


def _written_together(said: Counter, forms: dict[frozenset[str], Counter], words: set[str],
                      prefer: str | None = None) -> str | None:
    """The phrase holding all of ``words`` that most members write, if two members do: a label of two keywords
    reads better in the members' own words ("itchy wool", "reduce time to resolve") than joined by "and"."""
    held = [(c, _as_written(forms[sense], prefer)) for sense, c in said.items() if c >= 2 and words <= sense]
    return min(held, key=lambda cg: (-cg[0], len(cg[1]), cg[1]))[1] if held else None


def _phrasings(found: Iterable[set[str]], edge: frozenset[str]) -> tuple[Counter, dict[frozenset[str], Counter]]:
    """How many texts say each thing, and in which words: "call disconnected", "disconnected the call" and "calls
    were disconnected" are one thing said three ways (their content words, without a plural's s, in any order),
    and a label counts them together: in the CSAT export no single way reached the 5 % a label needs, together
    they held a third of the theme. A negation stays part of what is said, any negation as any other ("no
    resolution", "didn't get any resolution"), and one of ``_LEADING_NEGATIONS`` may open a phrase. ``found``:
    each text's word runs."""
    said: Counter = Counter()
    forms: dict[frozenset[str], Counter] = {}
    meaning: dict[str, frozenset[str] | None] = {}  # per distinct run: members repeat their phrases

    def sense_of(g: str) -> frozenset[str] | None:
        if g not in meaning:
            words = g.split()
            meaning[g] = None if (words[0] in edge and words[0] not in _LEADING_NEGATIONS) or words[-1] in edge \
                or feeling_only(g) or _denies_trouble(words, edge) \
                else frozenset("not" if w in NEGATIONS else _singular(w)
                               for w in words if w not in edge or w in NEGATIONS)
        return meaning[g]

    for runs in found:
        senses: dict[frozenset[str], set[str]] = {}
        for g in runs:
            sense = sense_of(g)
            if sense is not None:
                senses.setdefault(sense, set()).add(g)
        for sense, written in senses.items():
            said[sense] += 1
            forms.setdefault(sense, Counter()).update(written)
    return said, forms


def _denies_trouble(words: list[str], edge: frozenset[str]) -> bool:
    """Whether a phrase opens by denying trouble ("no complain", "nothing to complain about", "no issues"): praise,
    whatever theme its writers sit in, so never the name of a theme's complaints."""
    if words[0] not in _LEADING_NEGATIONS:
        return False
    content = [i for i, w in enumerate(words) if i and w not in edge]
    if not content or not _TROUBLE.fullmatch(words[content[0]]):
        return False
    after = content[0] + 1  # what is denied ends there ("no complaints at all"), or it was a modifier
    return after == len(words) or words[after] in edge


def _singular(word: str) -> str:
    return word[:-1] if len(word) > 3 and word.endswith("s") and not word.endswith("ss") else word


def representatives(X: np.ndarray, labels: np.ndarray, centroids: np.ndarray, n: int = 5) -> dict[int, list[int]]:
    """Row positions of the medoid-like item plus diverse others (max-min diversity among the closest)."""
    out: dict[int, list[int]] = {}
    for i in range(len(centroids)):
        members = np.flatnonzero(labels == i)
        if len(members) == 0:
            continue
        sims = X[members] @ centroids[i]
        pool = members[np.argsort(-sims, kind="stable")[: max(n * 4, 20)]]
        chosen = [pool[0]]
        while len(chosen) < min(n, len(pool)):
            rest = [p for p in pool if p not in chosen]
            closeness = np.max(X[rest] @ X[chosen].T, axis=1)
            chosen.append(rest[int(np.argmin(closeness))])
        out[i] = [int(c) for c in chosen]
    return out


def describe_themes(texts: Sequence[str], X: np.ndarray, labels: np.ndarray, centroids: np.ndarray,
                    n_keywords: int = 8, n_examples: int = 5, phrases: bool = True,
                    display_texts: Sequence[str] | None = None,
                    complaints: Sequence[bool] | None = None, voices: Sequence[object] | None = None,
                    min_voices: int = 1, words: Sequence[list[str]] | None = None) -> pd.DataFrame:
    """One row per theme: id, label, problem label, keywords, key phrases, representative examples and size.

    Keywords and key phrases are read from ``texts``; examples are quoted from ``display_texts`` when given.
    ``complaints`` marks the unhappy items: a theme's ``problem_label`` names what they complain about, from
    keywords that set its complaints apart from the other themes' complaints (a review theme whose members mostly
    say "true to size" can hold complaints that the seam sits wrong at the bust). It is the label where a theme
    has fewer than ``MIN_COMPLAINTS_TO_NAME`` complaints or none are marked. ``voices`` (each item's customer, or
    None: the item speaks for itself) and ``min_voices``: a word fewer distinct customers used never names a theme,
    so one customer's words cannot become a label (and erasing them leaves no trace in names). ``words``: each
    text's words (``text_words``), when the caller has them.
    """
    shown = list(display_texts) if display_texts is not None else list(texts)
    texts, spelled, tokens = _spelled(texts, voices, min_voices, words)
    kw = ctfidf_keywords(spelled, labels, n_keywords, words=tokens)
    # phrases and labels are read from each theme's core: its CORE members closest to the centroid (what the
    # theme is about, and a cost that stops growing with the theme)
    core = {i: _nearest_members(X, labels, centroids, i, CORE) for i in sorted(kw)}
    core_rows = np.concatenate([np.zeros(0, dtype=int), *core.values()])
    memo: dict[str, list[list[str]]] = {}

    def fragments(text: str) -> list[list[str]]:  # each core text's words, found once for phrases and labels
        if text not in memo:
            memo[text] = _fragments(text)
        return memo[text]

    def runs(text: str, key: str) -> set[str]:
        return _runs(fragments(text), 4, key)

    kp = key_phrases([spelled[j] for j in core_rows], labels[core_rows], candidates=lambda t: _candidates(fragments(t)),
                     words=[tokens[j] for j in core_rows]) if phrases else {}
    reps = representatives(X, labels, centroids, n_examples)
    names = {i: readable_label([spelled[j] for j in core[i]], kw[i], kp.get(i, []), runs=runs) if kw[i] else
             _short(texts[reps[i][0]] if reps.get(i) else f"theme {i + 1}") for i in sorted(kw)}
    names = _namesakes_apart(names, spelled, labels, core, n_keywords, tokens, runs)
    # a theme's complaints that say what its name says, in as many ways as not, go by its name
    problems = _problem_labels(spelled, labels, complaints, n_keywords, tokens, runs,
                               prefer={i: name.lower() for i, name in names.items()})
    names = _few_complaints_apart(names, labels, complaints)
    rows = []
    for i in sorted(kw):
        words, label = kw.get(i, []), names[i]
        examples = [shown[j] for j in reps.get(i, [])]
        rows.append({
            "theme_id": theme_key(i),
            "label": label,
            "problem_label": problems.get(i, label),
            "keywords": words,
            "key_phrases": kp.get(i, []),
            "examples": examples,
            "size": int((labels == i).sum()),
        })
    return pd.DataFrame(rows, columns=["theme_id", "label", "problem_label", "keywords", "key_phrases", "examples",
                                       "size"])


def _namesakes(names: dict[int, str]) -> list[list[int]]:
    """The groups of two or more themes that share a name (ignoring case)."""
    groups: dict[str, list[int]] = {}
    for i, name in names.items():
        groups.setdefault(name.lower(), []).append(i)
    return [same for same in groups.values() if len(same) > 1]


def _namesakes_apart(names: dict[int, str], spelled: list[str], labels: np.ndarray, core: dict[int, np.ndarray],
                     n_keywords: int, words: Sequence[Sequence[str]] | None = None,
                     runs: Callable[[str, str], set[str]] | None = None) -> dict[int, str]:
    """Themes that came out with one name, named again by what sets each apart from its namesakes.

    Four themes called "Customer care" (CSAT remarks) tell a CX lead nothing about which is which: the words they
    share name them all alike. So the others are named from keywords read among the namesakes alone, less the
    shared name's words ("Resolve the issue"; "Sweater coat" beside "Xs fit"). The largest keeps the name; another
    takes its new one only where members write it (an "X and Y" of two words never written together reads worse
    than the duplicate), no other theme's name says the same words (whatever its stop words: "Resolve my issue") and
    it is no filler.
    """
    def said_as(name: str) -> frozenset[str]:  # "Resolve the issue" and "Resolve my issue" say one thing
        return frozenset(_singular(w) for w in _WORD.findall(name.lower()) if w not in _stop())

    taken = {said_as(name) for name in names.values()}
    out = dict(names)
    sizes = np.bincount(labels[labels >= 0], minlength=max(names, default=0) + 1) if len(labels) else np.zeros(0)
    for same in _namesakes(names):
        rows = np.flatnonzero(np.isin(labels, same))
        keys = ctfidf_keywords([spelled[j] for j in rows], labels[rows], n_keywords,
                               words=None if words is None else [words[j] for j in rows])
        shared = set(_WORD.findall(names[same[0]].lower()))
        for i in sorted(same, key=lambda i: -sizes[i])[1:]:
            apart = [k for k in keys.get(i, []) if not shared & set(k.split())]
            if not apart:
                continue
            members = [spelled[j] for j in core[i]]
            name = readable_label(members, apart, runs=runs)
            said = f" {' '.join(_WORD.findall(name.lower()))} "
            written = sum(said in f" {' '.join(_WORD.findall(t.lower()))} " for t in members)
            if said_as(name) not in taken and name not in FILLER_LABELS and written >= max(3, 0.02 * len(members)):
                out[i] = name
                taken.add(said_as(name))
    return out


FEW_COMPLAINTS = 1 / 3  # a theme where fewer of its members complain is told apart from a namesake of complaints


def _few_complaints_apart(names: dict[int, str], labels: np.ndarray, complaints: Sequence[bool] | None
                          ) -> dict[int, str]:
    """Namesakes that no word tells apart, told apart by whether they complain: "Customer care" praised and
    "Customer care" complained about (CSAT remarks) read "Customer care (few complaints)" and "Customer care"."""
    if complaints is None:
        return names
    unhappy = np.asarray(complaints, dtype=bool)
    out = dict(names)
    for same in _namesakes(names):
        share = {i: float(unhappy[labels == i].mean()) if (labels == i).any() else 0.0 for i in same}
        if max(share.values()) < FEW_COMPLAINTS:
            continue
        out.update({i: f"{names[i]} (few complaints)" for i in same if share[i] < FEW_COMPLAINTS})
    return out


def _spelled(texts: Sequence[str], voices: Sequence[object] | None, min_voices: int,
             words: Sequence[list[str]] | None = None) -> tuple[list[str], list[str], list[list[str]]]:
    """The texts names are read from: without words too few customers used, and lower-cased with misspellings
    ("sarvice", "costomer") counted as their common form; returns them as kept, respelled, and their words (each
    text's words found once, for every use)."""
    texts, tokens = drop_rare_words(list(texts), voices, min_voices, words)
    variants = _variants(Counter(w for found in tokens for w in found))
    spelled = _respelled([t.lower() for t in texts], variants, tokens)
    if variants:
        tokens = [found if variants.keys().isdisjoint(found) else [variants.get(w, w) for w in found]
                  for found in tokens]
    return texts, spelled, tokens


def cause_problem_labels(texts: Sequence[str], theme_ids: Sequence[str], complaints: Sequence[bool],
                         causes: Sequence[str], n_keywords: int = 8, voices: Sequence[object] | None = None,
                         min_voices: int = 1, names: dict[str, str] | None = None) -> dict[str, str]:
    """Per theme whose complaints are spread over causes, none of them holding ``MIXED_BELOW`` (half), a problem label
    read from the complaints of its most common cause alone (the theme's cause: the one its action is sent to).

    Real CSAT remarks gave a theme of invoice requests (payments, 42 % of its complaints) and warranty claims
    spread over three other causes: named by all its complaints, the action for the Payments team read "Warranty
    claim", while its evidence, quoted from its own cause first, was about invoices. The chosen complaints are set
    apart from every other theme's complaints, as ``describe_themes`` sets a theme's complaints apart; themes with
    one main cause keep the label it gave them. ``names``: each theme's name, whose way of writing a phrase wins a
    tie (``readable_label``'s ``prefer``). Ties between causes go to the first by name, as the theme's cause does.
    """
    ids = np.asarray(theme_ids, dtype=object)
    unhappy = np.asarray(complaints, dtype=bool) & (ids != UNTHEMED)
    said = pd.DataFrame({"theme": ids[unhappy], "cause": np.asarray(causes, dtype=object)[unhappy].astype(str)})
    if said.empty:
        return {}
    counts = said.value_counts().rename("n").reset_index()
    counts = counts.sort_values(["theme", "n", "cause"], ascending=[True, False, True], kind="stable")
    top = counts.drop_duplicates("theme").set_index("theme")
    share = top["n"] / said.groupby("theme").size()
    mixed = top[(share < MIXED_BELOW) & (top["n"] >= MIN_COMPLAINTS_TO_NAME)]
    if mixed.empty:
        return {}
    codes, order = pd.factorize(ids)
    # every theme's complaints stay in, so the mixed ones' chosen complaints are set apart from all the others
    main = pd.Series(ids).map(mixed["cause"]).to_numpy()  # a mixed theme's cause; NaN elsewhere
    chosen = unhappy & (pd.isna(main) | (np.asarray(causes, dtype=object).astype(str) == main))
    _, spelled, tokens = _spelled(texts, voices, min_voices)
    found = _problem_labels(spelled, codes, chosen, n_keywords, tokens,
                            prefer={i: name.lower() for i, t in enumerate(order) if (name := (names or {}).get(t))})
    return {str(order[i]): label for i, label in found.items() if order[i] in mixed.index}


def without_rare_words(texts: list[str], voices: Sequence[object] | None, min_voices: int) -> list[str]:
    """``texts`` without the words fewer than ``min_voices`` distinct customers used (an item without a customer
    counts as a customer of its own)."""
    if min_voices <= 1:
        return texts
    return drop_rare_words(texts, voices, min_voices)[0]


def text_words(texts: Sequence[str]) -> list[list[str]]:
    """Each text's words as theme names are built from them (letter runs of the lower-cased text). The theme
    stage finds them once and hands them to every step that reads words: on 20,000 texts each pass costs 0.2 s."""
    return [_words(t) for t in texts]


def _words(text: str) -> list[str]:
    return _WORD.findall(str(text).lower())


def drop_rare_words(texts: list[str], voices: Sequence[object] | None, min_voices: int,
                    words: Sequence[list[str]] | None = None) -> tuple[list[str], list[list[str]]]:
    """``without_rare_words`` and the resulting texts' words (``text_words``); ``words``: the given texts' words,
    when the caller has them (only the texts that lose a word are read again)."""
    words = list(words) if words is not None else text_words(texts)
    if min_voices <= 1:
        return texts, words
    sets = [set(found) for found in words]
    rare = _rare(sets, voices, min_voices)
    if not rare:
        return texts, words
    drop = lambda w: "" if w.lower() in rare else w  # noqa: E731
    kept, kept_words = [], []
    for text, found, seen in zip(texts, words, sets):
        if not rare.isdisjoint(seen):
            text = _rewrite_words(text, drop)
            found = _words(text)
        kept.append(text)
        kept_words.append(found)
    return kept, kept_words


def rare_words(texts: Sequence[str], voices: Sequence[object] | None, min_voices: int) -> set[str]:
    """The words (lower case) fewer than ``min_voices`` distinct customers used: never fit to name a theme."""
    if min_voices <= 1:
        return set()
    return _rare([word_set(t) for t in texts], voices, min_voices)


def _rare(sets: list[set[str]], voices: Sequence[object] | None, min_voices: int) -> set[str]:
    """``rare_words`` from each text's word set: a word's count is the number of distinct customers using it."""
    counts: Counter = Counter()
    said: dict[str, set[str]] = {}  # a named customer's words, counted once however often they wrote
    for found, voice in zip(sets, voices if voices is not None else [None] * len(sets)):
        if isinstance(voice, str) and voice:
            said.setdefault(voice, set()).update(found)
        else:
            counts.update(found)
    for found in said.values():
        counts.update(found)
    return {w for w, c in counts.items() if c < min_voices}


def word_set(text: str) -> set[str]:
    """The words of ``text`` as theme names are built from them (letters only, lower case)."""
    return set(_words(text))


MIN_COMPLAINTS_TO_NAME = 5
CORE = 300


def _problem_labels(spelled: list[str], labels: np.ndarray, complaints: Sequence[bool] | None, n_keywords: int,
                    words: Sequence[Sequence[str]] | None = None,
                    runs: Callable[[str, str], set[str]] | None = None,
                    prefer: dict[int, str] | None = None) -> dict[int, str]:
    """Per theme, a label for its complaints alone (see ``describe_themes``); ``runs``: a text's word runs that
    hold a key, from the words the theme labels kept (a theme's complaints are mostly among its core members)."""
    if complaints is None:
        return {}
    unhappy = np.where(np.asarray(complaints, dtype=bool), labels, NOISE)
    out = {}
    for i, keys in ctfidf_keywords(spelled, unhappy, n_keywords, words=words).items():
        rows = np.flatnonzero(unhappy == i)
        if len(rows) >= MIN_COMPLAINTS_TO_NAME and keys:
            out[i] = readable_label([spelled[j] for j in rows[:CORE]], keys, runs=runs, prefer=(prefer or {}).get(i))
    return out


def _nearest_members(X: np.ndarray, labels: np.ndarray, centroids: np.ndarray, i: int, n: int = CORE
                     ) -> np.ndarray:
    """Row positions of up to ``n`` members of theme ``i``, closest to its centroid first."""
    members = np.flatnonzero(labels == i)
    if len(members) > n and i < len(centroids):
        members = members[np.argsort(-(X[members] @ centroids[i]), kind="stable")[:n]]
    return members


def _short(text: str, n: int = 40) -> str:
    return text if len(text) <= n else text[: n - 3].rstrip() + "..."


def theme_key(label: int) -> str:
    return "unthemed" if label == NOISE else f"T{label + 1:03d}"


def subthemes(texts: Sequence[str], X: np.ndarray, theme_ids: Sequence[str], min_size: int = 20,
              max_parts: int = 4, seed: int = 42, max_ward: int = 400, words: Sequence[list[str]] | None = None,
              complaints: Sequence[bool] | None = None) -> tuple[list[str], dict[str, list[dict]]]:
    """The third level of the hierarchy (root cause > theme > sub-theme): each large theme split by Ward linkage
    into 2-``max_parts`` parts, named by their own c-TF-IDF words. Rows are taken in a content-derived order so
    the parts do not depend on input order. Returns each item's sub-theme id and, per theme, its parts.
    ``words``: each text's words (``text_words``), when the caller has them. ``complaints``: a part with enough
    of them also gets a ``problem_label`` naming what they say, set apart from every other part's complaints
    (the itchy sweaters inside a theme of sweater praise): ranking titles a pocket of complaints by it."""
    theme_ids = list(theme_ids)
    out = [f"{t}.1" if t != "unthemed" else "unthemed" for t in theme_ids]
    parts: dict[str, list[dict]] = {}
    keys = content_keys(np.asarray(X, dtype=np.float32), seed) if len(X) else np.array([])
    rows_of: dict[str, list[int]] = {}
    for i, t in enumerate(theme_ids):
        rows_of.setdefault(t, []).append(i)
    split: dict[str, tuple[np.ndarray, np.ndarray, int]] = {}  # theme -> (members, their parts, head size)
    for theme in sorted(set(theme_ids) - {"unthemed"}):
        members = np.array(rows_of[theme])
        members = members[np.argsort(keys[members], kind="stable")]
        if len(members) < min_size:
            parts[theme] = [{"id": f"{theme}.1", "label": "", "size": int(len(members))}]
            continue
        k = int(np.clip(len(members) // 15, 2, max_parts))
        # Ward on at most ``max_ward`` members (content order: the same ones in any input order), the rest to the
        # nearest part's centroid: Ward is quadratic, and a theme of 5,000 would take longer than all the others
        head = members[:max_ward]
        local = ward(X[head], k)
        if len(members) > len(head):
            centres = np.stack([X[head[local == j]].mean(axis=0) for j in range(k)])
            rest = members[len(head):]  # in blocks: a theme of 100,000 made a 600 MB difference array at once
            near = [((X[rest[s:s + 8192], None, :] - centres[None]) ** 2).sum(axis=2).argmin(axis=1)
                    for s in range(0, len(rest), 8192)]
            local = np.concatenate([local, *near])
        sizes = np.bincount(local, minlength=k)
        rank = np.empty(k, dtype=int)
        rank[np.lexsort((np.arange(k), -sizes))] = np.arange(k)
        split[theme] = (members, rank[local], len(head))
    # every part's words from one term count (one vectoriser, not one per theme), ranked among its theme's parts
    base = {theme: n * max_parts for n, theme in enumerate(split)}
    head_rows = [i for t, (m, _, h) in split.items() for i in m[:h]]
    head_parts = np.array([base[t] + j for t, (_, local, h) in split.items() for j in local[:h]], dtype=int)
    counted = theme_term_counts([texts[i] for i in head_rows], head_parts,
                                words=[words[i] for i in head_rows] if words is not None else None) \
        if head_rows else None
    for theme, (members, local, _) in split.items():
        k = int(local.max()) + 1
        named: dict[int, list[str]] = {}
        if counted is not None:
            ids, tf, sizes, vocab = counted
            rows = [r for r, i in enumerate(ids) if base[theme] <= i < base[theme] + max_parts]
            if rows:
                found = _distinctive([ids[r] - base[theme] for r in rows], tf[rows], sizes[rows], vocab, 2, 0.1)
                named = {j: found.get(j, []) for j in range(k)}
        parts[theme] = [{"id": f"{theme}.{j + 1}", "label": " / ".join(named.get(j, [])),
                         "size": int((local == j).sum())} for j in range(k)]
        for i, j in zip(members, local):
            out[i] = f"{theme}.{j + 1}"
    if complaints is not None and split:
        for theme, problems in _part_problems(texts, words, split, base, max_parts, complaints).items():
            for j, label in problems.items():
                parts[theme][j]["problem_label"] = label
    return out, parts


def _part_problems(texts: Sequence[str], words: Sequence[list[str]] | None,
                   split: dict[str, tuple[np.ndarray, np.ndarray, int]], base: dict[str, int], max_parts: int,
                   complaints: Sequence[bool]) -> dict[str, dict[int, str]]:
    """Per split theme, its parts' problem labels (``_problem_labels`` over the complaints of every part)."""
    unhappy = np.asarray(complaints, dtype=bool)
    rows = np.concatenate([members for members, _, _ in split.values()])
    codes = np.concatenate([base[theme] + local for theme, (_, local, _) in split.items()])
    keep = unhappy[rows]
    rows, codes = rows[keep], codes[keep]
    if not len(rows):
        return {}
    named = _problem_labels([str(texts[i]).lower() for i in rows], codes, [True] * len(rows), 8,
                            [words[i] for i in rows] if words is not None else None)
    theme_at = {start: theme for theme, start in base.items()}
    out: dict[str, dict[int, str]] = {}
    for code, label in named.items():
        part = code % max_parts
        out.setdefault(theme_at[code - part], {})[part] = label
    return out


def ward(X: np.ndarray, k: int) -> np.ndarray:
    """Ward linkage cut into ``k`` clusters: the partition and labels of scikit-learn's
    ``AgglomerativeClustering(k, linkage="ward")`` at less than half its cost, the pairwise distances coming from
    one matrix product instead of a loop over pairs (95 themes of 400 members: 1.2 s -> 0.5 s)."""
    import heapq

    from scipy.cluster.hierarchy import linkage

    G = np.asarray(X, dtype=np.float64)
    n = len(G)
    if n < 2 or k <= 1:
        return np.zeros(n, dtype=int)
    sq = np.einsum("ij,ij->i", G, G)
    D = np.sqrt(np.maximum(sq[:, None] + sq[None, :] - 2.0 * (G @ G.T), 0.0))
    children = linkage(D[np.triu_indices(n, 1)], method="ward")[:, :2].astype(int)
    # the cut scikit-learn makes: undo the latest merges until k clusters are left; clusters numbered in heap order
    nodes = [-(2 * n - 2)]
    for _ in range(min(k, n) - 1):
        a, b = children[-nodes[0] - n]
        heapq.heappush(nodes, -a)
        heapq.heappushpop(nodes, -b)
    labels = np.zeros(n, dtype=int)
    for cluster, node in enumerate(nodes):
        stack, leaves = [-node], []
        while stack:
            v = stack.pop()
            if v < n:
                leaves.append(v)
            else:
                stack.extend(children[v - n])
        labels[leaves] = cluster
    return labels
