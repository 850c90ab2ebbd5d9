"""Start-up: what every command pays before its first query.

SQLGlot's quoting is remembered in the cache folder, and the CLV models (NumPy) load
only when a CLV indicator runs, so a command on data it has seen before imports
neither. The remembered quoting must never change a query: it is SQLGlot's own output,
and a form that does not read back as its name is ignored.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlglot import exp

import brandlens
from brandlens.plugin import sqlcheck
from conftest import imports_of_a_compute


def _sqlglot_ident(name: str) -> str:
    return exp.to_identifier(name, quoted=True).sql(dialect="duckdb")


def _sqlglot_string(text: str) -> str:
    return exp.Literal.string(text).sql(dialect="duckdb")


@given(st.text(min_size=1, max_size=12))
@settings(max_examples=200, deadline=None)
def test_quoting_is_sqlglots(text: str) -> None:
    assert sqlcheck.quote_ident(text) == _sqlglot_ident(text)
    assert sqlcheck.quote_string(text) == _sqlglot_string(text)


@given(st.text(alphabet="a\"'; -", min_size=1, max_size=8))
@settings(max_examples=300, deadline=None)
def test_a_remembered_form_counts_only_if_it_reads_back(text: str) -> None:
    """SQLGlot's form always reads back; a form for another text, or with a lone quote
    inside, never does (so an edited cache file cannot smuggle SQL in)."""
    assert sqlcheck._reads_back(_sqlglot_ident(text), text, '"')
    assert sqlcheck._reads_back(_sqlglot_string(text), text, "'")
    assert not sqlcheck._reads_back(_sqlglot_ident(text + "x"), text, '"')
    assert not sqlcheck._reads_back(f'"{text}"; DROP TABLE t; --"', text, '"')
    if '"' in text:  # SQLGlot doubles the quote; left single it would end the name
        assert not sqlcheck._reads_back(f'"{text}"', text, '"')


def test_a_form_without_its_quotes_never_reads_back() -> None:
    for form in ('Xevents"', '"eventsX', "events", '"', "'events'", "\"events'"):
        assert not sqlcheck._reads_back(form, "events", '"')
    assert not sqlcheck._reads_back('"events"', "events", "'")
    assert sqlcheck._reads_back('""', "", '"')  # the one empty form there is


def test_an_edited_cache_entry_is_ignored(monkeypatch) -> None:
    hostile = '"aipl" AS x; DROP TABLE events; --"'
    monkeypatch.setitem(sqlcheck._passed(), "identifier:a_hostile_name", hostile)
    monkeypatch.setitem(sqlcheck._passed(), "string:a_hostile_key", "'x' || 'y'")
    sqlcheck.quote_ident.cache_clear()
    sqlcheck.quote_string.cache_clear()
    try:
        assert sqlcheck.quote_ident("a_hostile_name") == '"a_hostile_name"'
        assert sqlcheck.quote_string("a_hostile_key") == "'a_hostile_key'"
        # the entries were replaced by SQLGlot's own quoting
        assert sqlcheck._passed()["identifier:a_hostile_name"] == '"a_hostile_name"'
    finally:
        sqlcheck.quote_ident.cache_clear()
        sqlcheck.quote_string.cache_clear()


def test_a_repeated_compute_imports_neither_sqlglot_nor_numpy(tmp_path) -> None:
    data = Path(brandlens.__file__).parent / "data" / "sample"
    first = imports_of_a_compute(data, tmp_path)
    assert "sqlglot" in first  # validating and checking plugin SQL the first time
    assert imports_of_a_compute(data, tmp_path) == []


def test_no_cache_writes_nothing_to_the_cache_folder(tmp_path) -> None:
    data = Path(brandlens.__file__).parent / "data" / "sample"
    assert "sqlglot" in imports_of_a_compute(data, tmp_path, keep=False)
    assert list(tmp_path.iterdir()) == []
    imports_of_a_compute(data, tmp_path)  # with the cache: the store and the memo
    assert sorted(p.suffix for p in tmp_path.iterdir()) == [".duckdb", ".json"]


_CLI_PROBE = """
import sys
from brandlens.cli.app import app
try:
    app(["compute", sys.argv[1], "-m", "fast", "-f", sys.argv[2], "-o", sys.argv[3], "-q"],
        standalone_mode=False)
except SystemExit:
    pass
models = ("brandlens.analysis.model", "brandlens.cli.bench", "brandlens.plugin.catalog")
print(sorted(m for m in models if m in sys.modules))
"""


@pytest.mark.parametrize("fmt", ["json", "table", "csv", "markdown"])
def test_rendering_a_result_loads_no_other_models(tmp_path, fmt) -> None:
    # The renderer recognises comparison, bench and catalog models without importing
    # their modules (a model exists only once its module is loaded): ~50 ms a command.
    data = Path(brandlens.__file__).parent / "data" / "sample"
    out = tmp_path / f"out.{fmt}"
    env = {**os.environ, "BRANDLENS_CACHE_DIR": str(tmp_path / "cache")}
    probe = subprocess.run(
        [sys.executable, "-c", _CLI_PROBE, str(data), fmt, str(out)],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert probe.stdout.strip() == "[]", probe.stderr
    assert "fast" in out.read_text()
