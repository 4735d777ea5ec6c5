"""PII recall per type, false positives, and evasion by invisible characters, on the project's case file.

    python benchmarks/pii_cases.py [--show]

``tests/data/pii_cases.jsonl`` holds the hand-written cases (one a line: text and the PII values in it, typed;
texts without PII are the negatives). A value counts as found when none of its digits-and-letters survive in the
output and a placeholder of its type is there. The evasion probes are the same cases with one invisible
character (zero-width space, zero-width joiner, word joiner, BOM or soft hyphen) put inside each value, as someone
who knows the detectors would; they are derived here, not stored.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
CASES = ROOT / "tests" / "data" / "pii_cases.jsonl"
INVISIBLE = ["\u200b", "\u200d", "\u2060", "\ufeff", "\u00ad"]
EVADED = ("EMAIL", "PHONE", "CARD", "IBAN")


def evasion_probes(cases: list[dict]) -> list[dict]:
    """Each e-mail, phone, card and IBAN case with an invisible character inside every value."""
    probes = []
    for n, case in enumerate(c for c in cases if c["pii"] and all(p["type"] in EVADED for p in c["pii"])):
        text, pii = case["text"], []
        for p in case["pii"]:
            mid = len(p["value"]) // 2
            hidden = p["value"][:mid] + INVISIBLE[n % len(INVISIBLE)] + p["value"][mid:]
            text = text.replace(p["value"], hidden, 1)
            pii.append({"type": p["type"], "value": p["value"]})
        probes.append({"text": text, "pii": pii})
    return probes


def found(value: str, out: str) -> bool:
    """The value is gone: no run of its characters long enough to identify it survives in the output."""
    core = "".join(ch for ch in value if ch.isalnum())
    flat = "".join(ch for ch in out if ch.isalnum())
    return len(core) < 4 or not any(core[i:i + 6] in flat for i in range(0, max(len(core) - 5, 1)))


def main() -> None:
    from insight.clean import Redactor
    from insight.config import load_config

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--show", action="store_true", help="print every miss and false positive")
    args = ap.parse_args()
    redactor = Redactor.from_config(load_config().clean.pii)
    cases = [json.loads(line) for line in CASES.read_text(encoding="utf-8").splitlines() if line.strip()]
    rows = []
    for name, batch in (("cases", cases), ("evasion probes", evasion_probes(cases))):
        hit, seen = defaultdict(int), defaultdict(int)
        false_pos = negatives = 0
        for case in batch:
            out, _ = redactor.redact(case["text"])
            if not case["pii"]:
                negatives += 1
                false_pos += out != case["text"]
                if out != case["text"] and args.show:
                    print("FALSE POSITIVE:", case["text"], "->", out)
                continue
            for p in case["pii"]:
                seen[p["type"]] += 1
                ok = found(p["value"], out) and f"[{p['type']}]" in out
                hit[p["type"]] += ok
                if not ok and args.show:
                    print(f"MISS ({name}) {p['type']}: {case['text']!r} -> {out!r}")
        texts = len(batch) - negatives
        rows.append((name, texts, negatives, false_pos, {t: (hit[t], seen[t]) for t in sorted(seen)}))
    for name, texts, negatives, false_pos, per in rows:
        print(f"{name}: {texts} texts with PII" + (f", {negatives} without" if negatives else ""))
        for t, (h, n) in per.items():
            print(f"  {t:8} recall {h / n:.3f}  ({h} of {n})")
        if negatives:
            print(f"  false positives: {false_pos} of {negatives} texts without PII ({false_pos / negatives:.1%})")


if __name__ == "__main__":
    main()
