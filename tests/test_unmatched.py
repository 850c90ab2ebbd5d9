"""Category names in parameters that no event has are said, not silently counted as zero.

DREAM's defaults name English categories (`smartphones`, `phone_accessories`); a log
exported from a Chinese platform names them `手机` and `手机配件`. Every accessory signal
then counts nothing, and Retain reads lower than it is, with no message at all.
"""

from __future__ import annotations

import json
from datetime import date

import pytest
from pydantic import BaseModel, Field
from typer.testing import CliRunner

import brandlens
from brandlens.cli.app import app
from brandlens.engine.unmatched import likely_meant, unmatched_values
from brandlens.plugin.host import registry
from conftest import ev, write_csv

D = "2025-06-03"  # the last event's day
# DREAM's indicators that read accessory_categories (its mind ladder's), as its spec lists
MIND_INDICATORS = [
    i.id
    for i in registry().methodologies["dream"].spec.indicators
    if "accessory_categories" in i.parameters
]
# The story has an events table only: the matrix and the circles need users, the flow's
# achievement targets. Not applicable, they read nothing, and no note names them.
NO_TABLE = ["dream.mind_matrix", "dream.circle_tgi", "dream.flow_achievement"]
MIND_RUN = [i for i in MIND_INDICATORS if i not in NO_TABLE]


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
    # read by the mind ladder's indicators that ran, not by the three the data made not
    # applicable (dream.purchase_achievement, also skipped, reads neither parameter)
    assert acc.indicators == MIND_RUN
    assert {n.indicator for n in r.not_applicable} == {*NO_TABLE, "dream.purchase_achievement"}
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
    notes = [line for line in res.stderr.splitlines() if "names categories no event" in line]
    mind = ", ".join(MIND_RUN)
    # the circle TGI counts Consider and up, which the accessory categories (a Retain
    # signal, and Retain needs a purchase) cannot change: its spec does not list them
    assert set(NO_TABLE) - set(MIND_INDICATORS) == {"dream.circle_tgi"}
    assert len(MIND_RUN) == len(MIND_INDICATORS) - 2
    assert notes == [
        f"brandlens: note: dream.accessory_categories (read by {mind}) names categories no "
        "event up to the as-of date has: phone_accessories (did you mean Phone Accessories?); "
        "nothing is counted for them; the data's most common categories: 手机, Phone "
        "Accessories, 家电, 服饰 (set it with --param dream.accessory_categories=A,B)",
        "brandlens: note: dream.durable_categories (read by dream.replacement_due) names "
        "categories no event up to the as-of date has: smartphones; nothing is counted for "
        "them; the data's most common categories: 手机, Phone Accessories, 家电, 服饰 (set it "
        "with --param dream.durable_categories=A,B)",
    ]
    out = json.loads(res.stdout)
    assert [u["parameter"] for u in out["unmatched_values"]] == [
        "accessory_categories",
        "durable_categories",
    ]


def test_compare_names_only_what_its_headline_indicators_read(story):
    """durable_categories feeds dream.replacement_due only, which compare does not show:
    its English default is not said there; accessory_categories, read by the mind ladder's
    headline indicators, is, with those indicators."""
    c = brandlens.compare(story, as_of=D, methodologies=["dream"])
    assert [(u.parameter, u.values) for u in c.unmatched_values] == [
        ("accessory_categories", ["phone_accessories"])
    ]
    headline = {
        i.id for i in registry().methodologies["dream"].methodology.indicators if i.headline
    }
    assert set(c.unmatched_values[0].indicators) == headline & set(MIND_RUN)
    r = brandlens.compute(story, as_of=D, methodologies=["dream"])
    only = r.restricted(lambda _m, i: i == "dream.replacement_due")
    assert [(u.parameter, u.indicators) for u in only.unmatched_values] == [
        ("durable_categories", ["dream.replacement_due"])
    ]


def test_a_parameter_read_only_by_indicators_the_data_skips_is_not_said(story):
    """Of the story's run, only dream.mind_matrix (which needs a users table the story
    lacks) reads accessory_categories: skipped, it counted nothing, so nothing is said."""
    from brandlens.engine.runs import Dataset

    with Dataset(story, cache=False) as d:
        r = d.compute(as_of=D, methodologies=["dream"], indicators=["dream.mind_matrix"])
        assert [(n.indicator, n.reason != "") for n in r.not_applicable] == [
            ("dream.mind_matrix", True)
        ]
        assert r.unmatched_values == []
        # the same run of an indicator that ran names it
        r = d.compute(as_of=D, methodologies=["dream"], indicators=["dream.stage_users"])
        assert [(u.parameter, u.indicators) for u in r.unmatched_values] == [
            ("accessory_categories", ["dream.stage_users"])
        ]


def test_a_category_only_after_the_as_of_date_counts_nothing_and_is_said(story):
    """家电 and 服饰 are bought on 06-01..06-03: as of 05-31 no event has them yet."""
    params = {"dream.accessory_categories": "家电", "dream.durable_categories": "手机"}
    early = brandlens.compute(story, as_of="2025-05-31", methodologies=["dream"], params=params)
    assert [(u.parameter, u.values, u.most_common) for u in early.unmatched_values] == [
        ("accessory_categories", ["家电"], ["手机", "Phone Accessories"])
    ]
    late = brandlens.compute(story, as_of=D, methodologies=["dream"], params=params)
    assert late.unmatched_values == []


def test_another_unicode_form_is_said_as_such(tmp_path):
    """The data writes Zubehör with one code point for ö (NFC); the parameter with o and a
    combining diaeresis (NFD). They look alike and never match."""
    import unicodedata

    nfc = unicodedata.normalize("NFC", "Zubehör")
    nfd = unicodedata.normalize("NFD", "Zubehör")
    assert nfc != nfd
    write_csv(tmp_path / "events.csv", [buy("2025-06-01", "u1", nfc)])
    r = brandlens.compute(
        tmp_path,
        as_of="2025-06-01",
        methodologies=["dream"],
        params={"dream.accessory_categories": nfd, "dream.durable_categories": nfc},
    )
    (u,) = r.unmatched_values
    assert u.did_you_mean == {nfd: nfc}
    from brandlens.cli.render import unmatched_text

    assert f"{nfd} (the data's {nfc} has the same letters in another Unicode form)" in (
        unmatched_text(u)
    )


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
    def read(sql: str, binds: dict) -> list[tuple]:
        asked.append(sql)
        assert binds == {"as_of": AS_OF}
        return list(counts.items())

    return read


AS_OF = date(2025, 6, 30)
READ_ALL = {"shelf": {n: ["shelf.x"] for n in ("hero_categories", "main_category", "extra")}}


def test_any_plugin_parameter_declared_as_categories_is_checked():
    asked: list[str] = []
    read = _reader({"tea": 5, "snacks": 2, "juice": 5}, asked)
    out = unmatched_values(read, {"shelf": Shelf()}, READ_ALL, AS_OF)
    # one grouping for the column, however many parameters name it
    assert asked == [
        'SELECT "category", count(*) FROM events WHERE "category" IS NOT NULL '
        'AND local_date <= CAST($as_of AS DATE) GROUP BY "category"'
    ]
    assert [(u.parameter, u.values, u.did_you_mean) for u in out] == [
        ("hero_categories", ["Tea", "coffee"], {"Tea": "tea"})
    ]
    assert out[0].most_common == ["juice", "tea", "snacks"]  # 5, 5 by name, then 2


def test_a_column_without_values_says_so():
    out = unmatched_values(_reader({}, []), {"shelf": Shelf()}, READ_ALL, AS_OF)
    assert [(u.parameter, u.most_common) for u in out] == [
        ("hero_categories", []),
        ("main_category", []),
    ]
    from brandlens.cli.render import unmatched_text

    assert unmatched_text(out[1]).endswith("; no event has any category")
    assert "--param" not in unmatched_text(out[1])  # nothing in the data to set it to


def test_a_value_given_twice_is_named_once():
    shelf = Shelf(hero_categories=["a", "a"])
    out = unmatched_values(_reader({"x": 1}, []), {"shelf": shelf}, READ_ALL, AS_OF)
    assert out[0].values == ["a"]


def test_an_optional_category_left_unset_names_nothing():
    class Optional(BaseModel):
        extra: str | None = Field(None, json_schema_extra={"vocabulary": "categories"})

    asked: list[str] = []
    assert unmatched_values(_reader({"x": 1}, asked), {"shelf": Optional()}, READ_ALL, AS_OF) == []
    assert asked == []


def test_a_parameter_no_indicator_of_the_run_reads_is_not_checked():
    asked: list[str] = []
    readers = {"shelf": {"main_category": ["shelf.x"]}}
    out = unmatched_values(_reader({"tea": 1}, asked), {"shelf": Shelf()}, readers, AS_OF)
    assert [(u.parameter, u.indicators) for u in out] == [("main_category", ["shelf.x"])]


def test_no_declared_parameter_reads_nothing():
    class Plain(BaseModel):
        categories: list[str] = ["a"]  # not declared: nothing is known about what it names

    asked: list[str] = []
    assert unmatched_values(_reader({}, asked), {"plain": Plain()}, READ_ALL, AS_OF) == []
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
