"""Category names in parameters that no event has are said, not silently counted as zero.

DREAM's defaults name English categories (`smartphones`, `phone_accessories`); a log
exported from a Chinese platform names them `手机` and `手机配件`. Every accessory signal
then counts nothing, and Retain reads lower than it is, with no message at all.
"""

from __future__ import annotations

import json

import pytest
from pydantic import BaseModel, Field
from typer.testing import CliRunner

import brandlens
from brandlens.cli.app import app
from brandlens.engine.unmatched import likely_meant, unmatched_values
from conftest import ev, write_csv

D = "2025-06-03"  # the last event's day


def buy(day: str, user: str, category: str, amount: str = "100") -> dict:
    return ev(f"{day} 04:00:00", user, "purchase", brand="Volt", category=category, amount=amount)


# Events per category: 手机 3, Phone Accessories 2, 家电 2, 服饰 1.
STORY = [
    # u1: a phone (05-01), then its case on a later day (05-20): an accessory after
    # another category's purchase, so a Retain signal, if the accessory category is named
    buy("2025-05-01", "u1", "手机", "3000"),
    buy("2025-05-20", "u1", "Phone Accessories"),
    # u2: the same in Chinese names only
    buy("2025-04-01", "u2", "手机", "3000"),
    buy("2025-04-02", "u2", "Phone Accessories"),
    # u3: one phone, no accessory
    buy("2025-03-01", "u3", "手机", "3000"),
    # u4, u5: household appliances and clothes, which name nothing of DREAM's
    buy("2025-06-01", "u4", "家电", "800"),
    buy("2025-06-02", "u4", "家电", "800"),
    buy("2025-06-03", "u5", "服饰", "200"),
]


@pytest.fixture
def story(tmp_path):
    write_csv(tmp_path / "events.csv", STORY)
    return tmp_path


def test_dream_defaults_against_other_names_are_reported(story):
    r = brandlens.compute(story, as_of=D, methodologies=["dream"])
    got = {u.parameter: u for u in r.unmatched_values}
    assert sorted(got) == ["accessory_categories", "durable_categories"]
    acc = got["accessory_categories"]
    assert (acc.methodology, acc.column, acc.values) == ("dream", "category", ["phone_accessories"])
    # most events first (手机 3), then a tie of two broken by name: "Phone Accessories"
    # sorts before "家电" (code point order), then 服饰 with one
    assert acc.most_common == ["手机", "Phone Accessories", "家电", "服饰"]
    # the same name but for case and the separator
    assert acc.did_you_mean == {"phone_accessories": "Phone Accessories"}
    # "smartphones" is spelled like nothing in the data
    assert got["durable_categories"].values == ["smartphones"]
    assert got["durable_categories"].did_you_mean == {}


def test_named_as_the_data_names_them_nothing_is_reported_and_retain_counts(story):
    """With the data's names, u1 (case on a later day) is retained and u2 (case the next
    day, also later) too; u3 bought no accessory: of Volt's three phone buyers, two are
    retained. Under the English defaults no accessory signal can hold (the log has no
    after-sales, review, share or membership either), so the same log had none."""
    params = {"dream.accessory_categories": "Phone Accessories", "dream.durable_categories": "手机"}
    right = brandlens.compute(story, as_of=D, methodologies=["dream"], params=params)
    assert right.unmatched_values == []
    wrong = brandlens.compute(story, as_of=D, methodologies=["dream"])
    assert right.value("dream.stage_users", "Volt", "Retain") == 2
    assert wrong.value("dream.stage_users", "Volt", "Retain") == 0


def test_only_the_missing_values_of_a_list_are_named(story):
    params = {"dream.accessory_categories": "Phone Accessories,phone_cases,家电"}
    r = brandlens.compute(story, as_of=D, methodologies=["dream"], params=params)
    got = {u.parameter: u.values for u in r.unmatched_values}
    assert got == {"accessory_categories": ["phone_cases"], "durable_categories": ["smartphones"]}


def test_the_cli_prints_one_note_per_parameter_on_stderr(story):
    res = CliRunner().invoke(
        app,
        ["compute", str(story), "-m", "dream", "--as-of", D, "-f", "json"],
        env={"BRANDLENS_CACHE_DIR": str(story / "cache")},
    )
    assert res.exit_code == 0, res.output
    notes = [line for line in res.stderr.splitlines() if "names categories no event has" in line]
    assert notes == [
        "brandlens: note: dream.accessory_categories names categories no event has: "
        "phone_accessories (did you mean Phone Accessories?); nothing is counted for them; "
        "the data's most common categories: 手机, Phone Accessories, 家电, 服饰 "
        "(set it with --param dream.accessory_categories=A,B)",
        "brandlens: note: dream.durable_categories names categories no event has: "
        "smartphones; nothing is counted for them; the data's most common categories: "
        "手机, Phone Accessories, 家电, 服饰 (set it with --param dream.durable_categories=A,B)",
    ]
    out = json.loads(res.stdout)
    assert [u["parameter"] for u in out["unmatched_values"]] == [
        "accessory_categories",
        "durable_categories",
    ]


def test_compare_carries_them(story):
    c = brandlens.compare(story, as_of=D, methodologies=["dream"])
    assert [u.values for u in c.unmatched_values] == [["phone_accessories"], ["smartphones"]]


def test_the_report_shows_them_in_its_data_section(story):
    from brandlens.cli.report_html import render_html

    page = render_html(brandlens.report(story, as_of=D, methodologies=["dream"]))
    assert "<h3>Parameter values no event has</h3>" in page
    assert "phone_accessories (did you mean Phone Accessories?)" in page
    clean = brandlens.report(
        story,
        as_of=D,
        methodologies=["dream"],
        params={
            "dream.accessory_categories": "Phone Accessories",
            "dream.durable_categories": "手机",
        },
    )
    assert "Parameter values no event has" not in render_html(clean)


def test_the_generated_market_names_what_dream_names(market):
    r = brandlens.compute(market, methodologies=["dream"])
    assert r.unmatched_values == []


# ---- the core's part, for any plugin's parameters ----------------------------------------


class Shelf(BaseModel):
    """A third-party methodology's parameters: two category lists and one plain list."""

    hero_categories: list[str] = Field(
        default_factory=lambda: ["Tea", "coffee"], json_schema_extra={"vocabulary": "categories"}
    )
    main_category: str = Field("snacks", json_schema_extra={"vocabulary": "categories"})
    channels: list[str] = Field(default_factory=lambda: ["nowhere"])


def _reader(counts: dict[str, int], asked: list[str]):
    def read(sql: str) -> list[tuple]:
        asked.append(sql)
        return list(counts.items())

    return read


def test_any_plugin_parameter_declared_as_categories_is_checked():
    asked: list[str] = []
    read = _reader({"tea": 5, "snacks": 2, "juice": 5}, asked)
    out = unmatched_values(read, {"shelf": Shelf()})
    # one grouping for the column, however many parameters name it
    assert asked == [
        'SELECT "category", count(*) FROM events WHERE "category" IS NOT NULL GROUP BY "category"'
    ]
    assert [(u.parameter, u.values, u.did_you_mean) for u in out] == [
        ("hero_categories", ["Tea", "coffee"], {"Tea": "tea"})
    ]
    assert out[0].most_common == ["juice", "tea", "snacks"]  # 5, 5 by name, then 2


def test_a_column_without_values_says_so():
    out = unmatched_values(_reader({}, []), {"shelf": Shelf()})
    assert [(u.parameter, u.most_common) for u in out] == [
        ("hero_categories", []),
        ("main_category", []),
    ]
    from brandlens.cli.render import unmatched_text

    assert "no event has any category" in unmatched_text(out[1])


def test_a_value_given_twice_is_named_once():
    out = unmatched_values(_reader({"x": 1}, []), {"shelf": Shelf(hero_categories=["a", "a"])})
    assert out[0].values == ["a"]


def test_no_declared_parameter_reads_nothing():
    class Plain(BaseModel):
        categories: list[str] = ["a"]  # not declared: nothing is known about what it names

    asked: list[str] = []
    assert unmatched_values(_reader({}, asked), {"plain": Plain()}) == []
    assert asked == []


@pytest.mark.parametrize(
    ("value", "have", "expected"),
    [
        ("phone_accessories", {"Phone Accessories": 1}, "Phone Accessories"),
        ("phone-accessories", {"PHONE_ACCESSORIES": 1}, "PHONE_ACCESSORIES"),
        ("ｓｍａｒｔｐｈｏｎｅｓ", {"smartphones": 1}, "smartphones"),  # full-width forms
        ("smartphone", {"smartphones": 1, "snacks": 9}, "smartphones"),  # close spelling
        ("手机", {"手机配件": 4}, None),  # a different category, not a spelling of it
        ("tv", {"beauty": 1}, None),
        # two spellings of the same name: more events first, then by name
        ("Tea", {"tea": 1, "TEA": 3}, "TEA"),
        ("Tea", {"tea": 3, "TEA": 3}, "TEA"),
    ],
)
def test_likely_meant(value, have, expected):
    assert likely_meant(value, have) == expected
