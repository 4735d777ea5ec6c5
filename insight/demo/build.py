"""Regenerate ``storefront.csv`` from the hand-written base texts (``python -m insight.demo.build``).

Deterministic: the same seed gives the same file byte for byte. Shapes the data like a real shop's export:
five channels, weekday rhythm, repeat customers, PII typed into messages, exact and near duplicates, noise
answers, a few broken rows, non-English lines, and two incidents (see ``INCIDENTS``).
"""

from __future__ import annotations

import json
import random
from collections import defaultdict
from datetime import datetime, timedelta, timezone
from importlib import resources
from pathlib import Path

import pandas as pd

from . import DEMO_FILE, INCIDENTS

START = datetime(2026, 6, 1, tzinfo=timezone.utc)  # a Monday: week 1
WEEKS = 12
BASE_PER_WEEK = 120

CARRIERS = {"SwiftShip": 0.4, "Parcelo": 0.35, "NorthPost": 0.25}
PROVIDERS = {"PayNova": 0.5, "CardBridge": 0.35, "WalletCo": 0.15}
WAREHOUSES = {"Leeds DC": 0.45, "Rotterdam DC": 0.35, "Newark DC": 0.2}
CATEGORIES = {
    "apparel": ["linen shirt", "wrap dress", "denim jacket", "wool jumper", "cargo trousers", "rain coat"],
    "shoes": ["leather boots", "running trainers", "canvas sneakers", "ankle boots"],
    "home": ["duvet cover", "bath towel set", "table lamp", "velvet cushion"],
    "kitchen": ["chef's knife", "non-stick pan", "coffee grinder", "glass storage jars"],
    "electronics": ["usb-c charger", "wireless earbuds", "phone case", "power bank"],
    "beauty": ["face serum", "night cream", "shampoo bar", "lip balm set"],
}
CAUSE_MIX = {
    "delivery": 0.17, "product_quality": 0.17, "returns_refunds": 0.12, "customer_service": 0.10,
    "inventory": 0.08, "pricing_promotions": 0.08, "payments": 0.07, "checkout": 0.07, "account": 0.06,
    "other": 0.08,
}
CHANNELS = ["review", "ticket", "chat", "app_store", "survey"]
FIRST = ["amy", "raj", "li.wei", "j.smith", "maria", "tom", "sofia", "k.nguyen", "omar", "ella"]
DOMAINS = ["example.com", "mail.example.org", "example.net"]


def _pick(rng: random.Random, weights: dict[str, float]) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def _load_texts() -> dict[str, list[dict]]:
    by_file: dict[str, list[dict]] = defaultdict(list)
    folder = resources.files("insight.demo").joinpath("texts")
    for entry in sorted(folder.iterdir(), key=lambda p: p.name):
        if entry.name.endswith(".jsonl"):
            for line in entry.read_text(encoding="utf-8").splitlines():
                if line.strip():
                    by_file[entry.name[:-6]].append(json.loads(line))
    return by_file


def _luhn_card(rng: random.Random) -> str:
    digits = [4] + [rng.randrange(10) for _ in range(14)]
    total = 0
    for i, d in enumerate(reversed(digits)):
        d = d * 2 if i % 2 == 0 else d
        total += d - 9 if d > 9 else d
    digits.append((10 - total % 10) % 10)
    s = "".join(map(str, digits))
    return " ".join(s[i:i + 4] for i in range(0, 16, 4)) if rng.random() < 0.7 else s


def _fill(text: str, rng: random.Random, row: dict) -> str:
    values = {
        "carrier": row["carrier"], "provider": row["payment_provider"], "product": row["_product"],
        "order_no": rng.choice(["", "#", "NW-"]) + row["order_id"].removeprefix("NW-"),
        "email": f"{rng.choice(FIRST)}{rng.randrange(10, 99)}@{rng.choice(DOMAINS)}",
        "phone": rng.choice(["+44 7700 900", "07700 900", "+1 555 01", "(555) 01"]) + f"{rng.randrange(100, 999)}",
    }
    for key, value in values.items():
        text = text.replace("{" + key + "}", value)
    return text


def _add_pii(text: str, rng: random.Random, row: dict) -> str:
    kind = rng.random()
    if kind < 0.35:
        extra = f"my email is {rng.choice(FIRST)}{rng.randrange(10, 99)}@{rng.choice(DOMAINS)}"
    elif kind < 0.6:
        extra = f"call me on {rng.choice(['+44 7700 900', '+1 555 01', '07700 900'])}{rng.randrange(100, 999)}"
    elif kind < 0.8:
        extra = f"order number {row['order_id']}"
    else:
        extra = f"card used was {_luhn_card(rng)}"
    return f"{text} {extra}" if rng.random() < 0.7 else f"{extra}. {text}"


def _perturb(text: str, rng: random.Random) -> str:
    """A near-duplicate: what a second customer (or the same one, later) types about the same thing."""
    r = rng.random()
    if r < 0.25:
        return text.lower()
    if r < 0.45:
        return text.rstrip(".!") + rng.choice(["!!", " pls help", " any update?", "?!", " ..."])
    if r < 0.6:
        return rng.choice(["hi, ", "Hello - ", "hey ", "URGENT: "]) + text
    return text


def build(seed: int = 7) -> pd.DataFrame:
    rng = random.Random(seed)
    texts = _load_texts()
    by_cause: dict[str, list[dict]] = defaultdict(list)
    by_topic: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for name, rows in texts.items():
        if name in ("non_actionable", "multilingual"):
            continue
        for t in rows:
            by_cause[t["root_cause"]].append(t)
            by_topic[(t["root_cause"], t["topic"])].append(t)
    customers = [f"C{n:05d}" for n in rng.sample(range(10000, 99999), 1100)]
    rows: list[dict] = []

    def new_row(week: int, base: dict, carrier: str | None = None, provider: str | None = None) -> dict:
        category = rng.choice(list(CATEGORIES))
        channel = base["channel"] if base["channel"] in CHANNELS else rng.choice(CHANNELS)
        day = rng.choices(range(7), weights=[16, 16, 15, 15, 14, 12, 12])[0]
        ts = START + timedelta(weeks=week - 1, days=day, seconds=rng.randrange(7 * 3600, 23 * 3600))
        row = {
            "timestamp": ts.isoformat(),
            "channel": channel,
            "customer_id": rng.choice(customers),
            "order_id": f"NW-{rng.randrange(1000000, 9999999)}",
            "rating": base["rating"] if base["rating"] is not None else (
                rng.choice([1, 2, 2, 3]) if channel in ("review", "app_store") else None),
            "order_value": round(rng.lognormvariate(4.0, 0.6), 2),
            "carrier": carrier or _pick(rng, CARRIERS),
            "warehouse": _pick(rng, WAREHOUSES),
            "payment_provider": provider or _pick(rng, PROVIDERS),
            "product_category": category,
            "_product": rng.choice(CATEGORIES[category]),
            "true_root_cause": base["root_cause"],
            "true_topic": base["topic"],
            "week": week,
        }
        text = _fill(base["text"], rng, row)
        if rng.random() < 0.25:
            text = _perturb(text, rng)
        if rng.random() < 0.08 and "{" not in base["text"]:
            text = _add_pii(text, rng, row)
        row["text"] = text
        return row

    for week in range(1, WEEKS + 1):
        n = int(BASE_PER_WEEK * rng.uniform(0.9, 1.1))
        for _ in range(n):
            cause = _pick(rng, CAUSE_MIX)
            base = rng.choice(by_cause[cause])
            if rng.random() < 0.03:  # several issues in one message: the first one is the primary cause
                other = rng.choice(by_cause[rng.choice([c for c in CAUSE_MIX if c != cause])])
                base = {**base, "text": base["text"].rstrip() + " Also " + other["text"][0].lower() + other["text"][1:]}
            rows.append(new_row(week, base))
        for _ in range(rng.randrange(2, 5)):
            rows.append(new_row(week, rng.choice(texts["multilingual"])))
        for _ in range(int(n * 0.08)):  # the noise a real export carries
            noise = dict(rng.choice(texts["non_actionable"]))
            noise["channel"] = rng.choice(["survey", "survey", "review", "app_store", "ticket"])
            rows.append(new_row(week, noise))

    carrier = INCIDENTS["carrier_delay"]
    late = by_topic[("delivery", "late")] + by_topic[("delivery", "stuck_in_transit")]
    for week in carrier["weeks"]:
        for _ in range(70 + rng.randrange(10)):
            rows.append(new_row(week, rng.choice(late), carrier=carrier["value"] if rng.random() < 0.9 else None))
    outage = INCIDENTS["payment_outage"]
    failed = by_topic[("payments", "payment_declined_or_failed")]
    for week in outage["weeks"]:
        for _ in range(85 + rng.randrange(10)):
            rows.append(new_row(week, rng.choice(failed), provider=outage["value"] if rng.random() < 0.92 else None))

    # the same customer sends the same message twice (form resubmitted, ticket + chat)
    for src in rng.sample(rows, 45):
        dup = dict(src)
        later = datetime.fromisoformat(src["timestamp"]) + timedelta(minutes=rng.randrange(2, 300))
        dup["timestamp"] = later.isoformat()
        rows.append(dup)

    df = pd.DataFrame(rows).drop(columns=["_product", "week"])
    df = df.sample(frac=1.0, random_state=seed).reset_index(drop=True)
    # a handful of broken rows, as real exports have: they must be quarantined, not dropped
    df.loc[df.index[3], "timestamp"] = "not a date"
    df.loc[df.index[50], "timestamp"] = ""
    df.loc[df.index[120], "rating"] = 9
    df.loc[df.index[777], "timestamp"] = "2026-13-45"
    df.insert(0, "feedback_id", [f"FB{100000 + i}" for i in range(len(df))])
    df["rating"] = df["rating"].astype("Int64")
    return df


def main() -> None:
    df = build()
    out = Path(__file__).with_name(DEMO_FILE)
    df.to_csv(out, index=False)
    print(f"wrote {len(df)} rows to {out}")


if __name__ == "__main__":
    main()
