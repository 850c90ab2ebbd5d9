"""Each indicator here is wrong in one way that one declared property must catch: the
harness rejects it (fail, or unexercised when the property proves nothing). A checker
made lenient (a bound left out, a tolerance widened, null taken for any value, a key
compared on one side only, a transformation that no longer does what it says) would
let it pass. Probes alone (max_examples=0), so the outcome never depends on the seed."""

from __future__ import annotations

import pytest

from brandlens.specs.verification import verify

_PURCHASERS = (
    "(SELECT count(DISTINCT e.user_id) FROM events e "
    "WHERE e.brand = b.brand AND e.event_type = 'purchase')"
)
_AMOUNT = (
    "(SELECT coalesce(sum(e.amount), 0) FROM events e "
    "WHERE e.brand = b.brand AND e.event_type = 'purchase')"
)
_EVENTS = "(SELECT count(*) FROM events e WHERE e.brand = b.brand)"


def _sql(value: str, extra: str = "") -> str:
    return f"SELECT b.brand, {value} AS value {extra} FROM brands b"


# id -> (unit, dimension, keys, property, sql, the status the harness must give)
GAPS: dict[str, tuple] = {
    # below the lower bound only
    "below_zero": ("ratio", None, None, {"bounds": [0, 1]}, _sql("-0.5"), "fail"),
    # 1.05 is no whole number, however close to one
    "almost_integer": ("count", None, None, "integer", _sql("1.05"), "fail"),
    # -0.5 is negative though above -1
    "slightly_negative": ("count", None, None, "non_negative", _sql("-0.5"), "fail"),
    # 3 of 2: the numerator exceeds the denominator by one
    "num_over_den": (
        "ratio",
        None,
        None,
        "ratio_of",
        _sql("1.5", ", 3 AS numerator, 2 AS denominator"),
        "fail",
    ),
    # a null value beside a non-zero denominator on one brand
    "null_with_base": (
        "ratio",
        None,
        None,
        "ratio_of",
        _sql(
            "CASE WHEN b.brand = 'Lumi' THEN NULL ELSE 0.5 END",
            ", 1 AS numerator, 2 AS denominator",
        ),
        "fail",
    ),
    # value off numerator / denominator by 0.1 %
    "ratio_off": (
        "ratio",
        None,
        None,
        "ratio_of",
        _sql("0.5 * 1.001", ", 1 AS numerator, 2 AS denominator"),
        "fail",
    ),
    # a base of -1 users
    "negative_base": ("ratio", None, None, "base", _sql("0.5", ", -1 AS denominator"), "fail"),
    # a ratio (null for a brand without events) reported as 0
    "zero_for_null": (
        "ratio",
        None,
        None,
        "empty_brand",
        _sql(f"CASE WHEN {_EVENTS} = 0 THEN 0 ELSE 0.5 END"),
        "fail",
    ),
    # the value is stable, its reported denominator is random
    "random_base": (
        "count",
        None,
        None,
        "deterministic",
        _sql(_EVENTS, ", random() AS denominator"),
        "fail",
    ),
    # null when as_of is not in June: time shifts onto other months make it null
    "null_off_june": (
        "users",
        None,
        None,
        "time_shift_invariant",
        _sql(f"CASE WHEN month(CAST($as_of AS DATE)) = 6 THEN {_PURCHASERS} END"),
        "fail",
    ),
    # a currency that is always 0 (reads a type no log has) scales trivially
    "always_zero_money": (
        "currency",
        None,
        None,
        {"scale_equivariant": 1},
        _sql(
            "(SELECT coalesce(sum(e.amount), 0) FROM events e "
            "WHERE e.brand = b.brand AND e.event_type = 'no_such_type')"
        ),
        "unexercised",
    ),
    # one key per event type in the whole log: another brand's event types add keys
    "keys_from_others": (
        "count",
        "event_type",
        None,
        "brand_isolated",
        "SELECT b.brand, t.event_type AS key, count(e.user_id) AS value FROM brands b "
        "CROSS JOIN (SELECT DISTINCT event_type FROM events) t "
        "LEFT JOIN events e ON e.brand = b.brand AND e.event_type = t.event_type GROUP BY ALL",
        "fail",
    ),
    # the spend of the alphabetically first buyer: renaming users changes it
    "first_user": (
        "currency",
        None,
        None,
        "permutation_invariant",
        "SELECT b.brand, (SELECT min_by(s, user_id) FROM (SELECT user_id, sum(amount) AS s "
        "FROM events e WHERE e.brand = b.brand AND e.event_type = 'purchase' GROUP BY ALL)) "
        "AS value FROM brands b",
        "fail",
    ),
    # a 0.01 % surcharge on sums above 20: 10 scales to 30.003, not 30
    "surcharge": (
        "currency",
        None,
        None,
        {"scale_equivariant": 1},
        _sql(f"{_AMOUNT} * CASE WHEN {_AMOUNT} > 20 THEN 1.0001 ELSE 1 END"),
        "fail",
    ),
    # reads every brand's events older than 100 days (a "market baseline"): another
    # brand's old events change it, its events of today do not
    "old_market": (
        "count",
        None,
        None,
        "brand_isolated",
        _sql(f"{_EVENTS} + (SELECT count(*) FROM events e WHERE e.local_date < $as_of - 100)"),
        "fail",
    ),
    # purchases of a calendar year back (366 days across a leap day), declared exact at
    # 365 days: right at as_of 2025-06-30 and one day either way, wrong on 2024-03-01
    "calendar_year": (
        "count",
        None,
        None,
        ["time_shift_invariant", {"window_bounded": {"days": 365}}],
        "SELECT b.brand, count(e.user_id) AS value FROM brands b LEFT JOIN events e "
        "ON e.brand = b.brand AND e.event_type = 'purchase' AND e.local_date > "
        "CAST($as_of AS DATE) - INTERVAL 1 YEAR AND e.local_date <= $as_of GROUP BY b.brand",
        "fail",
    ),
    # users of the brand with no event in the last 30 days: declared bounded by 30 days,
    # it reads all history, which only a user whose one event lies on day 30 tells
    "lapsed_users": (
        "users",
        None,
        None,
        {"window_bounded": {"days": 30}},
        "SELECT b.brand, count(DISTINCT e.user_id) FILTER (WHERE e.user_id NOT IN (SELECT "
        "user_id FROM events r WHERE r.brand = b.brand AND r.local_date > $as_of - 30 AND "
        "r.local_date <= $as_of)) AS value FROM brands b LEFT JOIN events e "
        "ON e.brand = b.brand AND e.local_date <= $as_of GROUP BY b.brand",
        "fail",
    ),
    # the same for products: only a product first seen on day 30 tells
    "dormant_products": (
        "count",
        None,
        None,
        {"window_bounded": {"days": 30}},
        "SELECT b.brand, count(DISTINCT e.product_id) FILTER (WHERE e.product_id NOT IN "
        "(SELECT product_id FROM events r WHERE r.brand = b.brand AND r.product_id IS NOT NULL "
        "AND r.local_date > $as_of - 30 AND r.local_date <= $as_of)) AS value FROM brands b "
        "LEFT JOIN events e ON e.brand = b.brand AND e.local_date <= $as_of GROUP BY b.brand",
        "fail",
    ),
    # purchases of the shorter of 426 days and 14 calendar months, declared exact at 426:
    # 14 months are 426 days back from June 29, June 30 and July 1, but 425 from March 1,
    # where only a purchase on day 425 (W - 1) drops out of the window
    "fourteen_months": (
        "count",
        None,
        None,
        ["time_shift_invariant", {"window_bounded": {"days": 426}}],
        "SELECT b.brand, count(e.user_id) AS value FROM brands b LEFT JOIN events e "
        "ON e.brand = b.brand AND e.event_type = 'purchase' AND e.local_date > greatest("
        "CAST($as_of AS DATE) - 426, CAST($as_of AS DATE) - INTERVAL 14 MONTH) "
        "AND e.local_date <= $as_of GROUP BY b.brand",
        "fail",
    ),
    # the amount of the brand's first purchase in file order: shuffling rows changes it
    "file_order": (
        "currency",
        None,
        None,
        "permutation_invariant",
        "SELECT b.brand, (SELECT first(e.amount) FROM events e WHERE e.brand = b.brand "
        "AND e.event_type = 'purchase') AS value FROM brands b",
        "fail",
    ),
    # a count that reads 0 at exactly two buyers (an off-by-one suppression rule)
    "zero_at_two": (
        "users",
        None,
        None,
        {
            "monotone": {
                "add": {"event_type": "purchase", "user": "new"},
                "direction": "non_decreasing",
            }
        },
        _sql(f"CASE WHEN {_PURCHASERS} = 2 THEN 0 ELSE {_PURCHASERS} END"),
        "fail",
    ),
    # an identity that holds only because both sides are always 0
    "zero_identity": (
        "count",
        None,
        None,
        {"identity": {"expr": "gaps.zero_identity == 2 * gaps.zero_identity"}},
        _sql("0"),
        "unexercised",
    ),
    # a constant cannot fail an invariance: it proves nothing
    "constant": ("count", None, None, "permutation_invariant", _sql("7"), "unexercised"),
    # a total that is null on one brand while its parts are set
    "null_total": (
        "users",
        None,
        None,
        {"partition": {"parts": "gaps.parts", "total": "gaps.null_total"}},
        _sql(f"CASE WHEN b.brand = 'Lumi' THEN NULL ELSE 3 * {_EVENTS} END"),
        "fail",
    ),
    # for each k of [x, y] the parts "k*" sum to the total at key k: wrong for y
    "per_item_total": (
        "users",
        "part",
        ["x", "y"],
        {
            "partition": {
                "parts": "gaps.parts",
                "parts_keys": "{k}*",
                "total": "gaps.per_item_total",
                "total_key": "{k}",
                "for_each": ["x", "y"],
            }
        },
        f"SELECT b.brand, k.key, CASE WHEN k.key = 'x' THEN 2 * {_EVENTS} ELSE {_EVENTS} + 1 END "
        "AS value FROM brands b CROSS JOIN (SELECT unnest(['x', 'y']) AS key) k",
        "fail",
    ),
}


def _plugin(tmp_path, names=None, gaps=None):
    """The methodology ``gaps``: the wrong indicators of ``GAPS`` (those named), or of
    ``gaps``, beside ``gaps.parts`` (keys x1, x2, y1: each the brand's event count)."""
    import yaml

    import brandlens
    from brandlens.plugin import Indicator, Methodology

    if gaps is None:
        gaps = {i: g for i, g in GAPS.items() if names is None or i in names}

    def entry(id_, unit, dimension, keys, prop):
        return {
            "id": f"gaps.{id_}",
            "title": {"en": id_, "zh": id_},
            "definition": "wrong on purpose",
            "formula": "see tests/test_harness_gaps.py",
            "unit": unit,
            "direction": "higher",
            "dimension": dimension,
            "keys": keys,
            "properties": prop if isinstance(prop, list) else [prop],
        }

    parts = entry("parts", "users", "part", ["x1", "x2", "y1"], "non_negative")
    spec = {
        "methodology": "gaps",
        "title": {"en": "Gaps", "zh": "缺口"},
        "sources": ["assumption: a test fixture"],
        "indicators": [parts] + [entry(i, *g[:4]) for i, g in gaps.items()],
    }
    path = tmp_path / "gaps.yaml"
    path.write_text(yaml.safe_dump(spec, allow_unicode=True), encoding="utf-8")
    parts_sql = (
        f"SELECT b.brand, k.key, {_EVENTS} AS value FROM brands b "
        "CROSS JOIN (SELECT unnest(['x1', 'x2', 'y1']) AS key) k"
    )
    methodology = Methodology(
        name="gaps",
        title="Gaps",
        source="tests/test_harness_gaps.py",
        version="0",
        indicators=(
            Indicator(id="gaps.parts", sql=parts_sql),
            *(Indicator(id=f"gaps.{i}", sql=g[4]) for i, g in gaps.items()),
        ),
    )

    class Plugin:
        @brandlens.hookimpl
        def brandlens_register_methodologies(self, register):
            register(methodology, spec=path)

    return Plugin()


@pytest.fixture(scope="module")
def gaps_report(tmp_path_factory):
    from brandlens.plugin.host import host

    host.register(_plugin(tmp_path_factory.mktemp("gaps")), "gaps")
    try:
        return verify(["gaps"], max_examples=0)
    finally:
        host.unregister("gaps")
        host.reset()


@pytest.mark.parametrize("gap", sorted(GAPS))
def test_the_harness_rejects_each_wrong_indicator(gaps_report, gap):
    (m,) = gaps_report.methodologies
    r = next(r for r in m.results if r.indicator == f"gaps.{gap}")  # its first property
    assert r.status == GAPS[gap][5], (r.status, r.message, r.left, r.right)


def test_the_pytest_helper_fails_a_property_never_exercised(register_plugin, tmp_path):
    """assert_honours_spec fails as `brandlens verify` does: an unexercised property is
    no pass, though nothing failed."""
    from brandlens.specs.testing import assert_honours_spec

    register_plugin(_plugin(tmp_path, names=("constant",)), "gaps")
    with pytest.raises(AssertionError, match="never exercised"):
        assert_honours_spec("gaps", max_examples=1)


def test_a_partition_of_zeros_is_never_exercised(register_plugin, tmp_path):
    """docs/specs.md: partition passes only if "some brand had a total other than 0". Here
    the glob matches no part and the total is always 0: 0 == 0 on every log proves nothing.
    (The harness used to drop what each brand's check said and pass it.)"""
    zero_total = (
        "users",
        None,
        None,
        {"partition": {"parts": "gaps.parts", "parts_keys": "z*", "total": "gaps.zero_total"}},
        "SELECT b.brand, 0 AS value FROM brands b",
        "unexercised",
    )
    plugin = _plugin(tmp_path, gaps={"zero_total": zero_total})
    register_plugin(plugin, "gaps")
    (m,) = verify(["gaps"], max_examples=0).methodologies
    (r,) = [r for r in m.results if r.indicator == "gaps.zero_total"]
    assert r.status == "unexercised", r
