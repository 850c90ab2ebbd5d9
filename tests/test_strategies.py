"""The log generator makes the cases that matter often, not by luck."""

from __future__ import annotations

from collections import Counter, defaultdict
from decimal import Decimal

from hypothesis import HealthCheck, given, settings

from brandlens.specs.strategies import UTC_OFFSET, EventLog, event_logs


def _local_day(ts: str) -> str:
    from datetime import datetime

    return (datetime.strptime(ts, "%Y-%m-%d %H:%M:%S") + UTC_OFFSET).date().isoformat()


def _cases(log: EventLog) -> set[str]:
    """Which of the cases that matter this log holds."""
    found = set()
    purchases = [e for e in log.events if e["event_type"] == "purchase"]
    if len(purchases) >= 3:
        found.add("three purchases")
    days = Counter((e["user_id"], e["brand"], _local_day(e["ts"])) for e in purchases)
    if any(n >= 2 for n in days.values()):
        found.add("same-day repeat")
    spent: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    refunded: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for e in log.events:
        if e["event_type"] in ("purchase", "refund"):
            side = spent if e["event_type"] == "purchase" else refunded
            side[(e["user_id"], e["brand"])] += Decimal(e["amount"])
    if any(v > spent[k] for k, v in refunded.items()):
        found.add("refund above purchases")
    if any(e.get("category") is None for e in log.events):
        found.add("null category")
    brands_of: dict[str, set[str]] = defaultdict(set)
    for e in purchases:
        brands_of[e["user_id"]].add(e["brand"])
    if any(len(b) >= 2 for b in brands_of.values()):
        found.add("multi-brand buyer")
    return found


def test_generated_logs_hold_the_cases_that_matter_often():
    """Over 200 logs, each case is in at least a fifth of them, and a quarter of all events
    are purchases. (The even draw over 18 event types this replaces gave 4% purchases, and
    none of the first five cases; refunds above the purchases in 14% of the logs.)"""
    seen: Counter[str] = Counter()
    types: Counter[str] = Counter()
    n = [0]

    @settings(
        max_examples=200, database=None, derandomize=True, suppress_health_check=list(HealthCheck)
    )
    @given(event_logs())
    def draw(log):
        n[0] += 1
        seen.update(_cases(log))
        types.update(e["event_type"] for e in log.events)

    draw()
    share = {case: seen[case] / n[0] for case in seen}
    for case in (
        "three purchases",
        "same-day repeat",
        "refund above purchases",
        "null category",
        "multi-brand buyer",
    ):
        # at least a fifth of the logs (the even draw gave none); the exact shares move with
        # hypothesis' version (0.30-0.53 seen), so the bound leaves room
        assert share.get(case, 0) >= 1 / 5, (case, share)
    assert types["purchase"] / sum(types.values()) >= 1 / 4, types


def test_the_sample_market_holds_every_event_type_a_builtin_ladder_reads():
    """The reference tests compare the engine with the reference on the sample market:
    every rule of every ladder meets its events there (ad_click included), and refunds."""
    import csv
    from pathlib import Path

    from brandlens.plugin.host import registry

    sample = Path(__file__).resolve().parents[1] / "framework/brandlens/data/sample"
    with (sample / "events.csv").open(encoding="utf-8") as f:
        present = Counter(row["event_type"] for row in csv.DictReader(f))
    read = {
        t
        for m in registry().methodologies.values()
        for ladder in m.methodology.ladders
        for t in ladder.event_types()
    }
    assert "ad_click" in read
    assert {t for t in read | {"refund", "member_leave"} if present[t] < 3} == set()
