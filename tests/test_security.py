"""Read and write nothing but what the user named: one regression class per section."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from typer.testing import CliRunner

from brandlens.cli.app import app
from brandlens.errors import DataError, UsageError
from conftest import ev, write_csv

ROWS = [
    ev("2025-06-01 04:00:00", "u1", "ad_impression"),
    ev("2025-06-02 04:00:00", "u2", "purchase", amount="9.90"),
    ev("not a time", "u3", "ad_click"),  # one quarantined row
]


def invoke(*args: object) -> object:
    return CliRunner().invoke(app, [str(a) for a in args])


def one_line_error(r: object, code: int, *needles: str) -> None:
    """Exit ``code``, exactly one stderr line naming every needle, no traceback."""
    assert r.exit_code == code, (r.exit_code, r.output)  # type: ignore[attr-defined]
    lines = r.stderr.strip().splitlines()  # type: ignore[attr-defined]
    assert len(lines) == 1, r.stderr  # type: ignore[attr-defined]
    assert "Traceback" not in r.output  # type: ignore[attr-defined]
    for needle in needles:
        assert needle in lines[0], lines[0]


# ---- writes: one atomic helper, nothing but the named path changes ------------------


def test_quarantine_out_leaves_its_neighbours_alone(tmp_path: Path) -> None:
    data = write_csv(tmp_path / "data" / "events.csv", ROWS).parent
    out = tmp_path / "out"
    out.mkdir()
    (out / "tmp_q.csv").write_text("precious\n")  # DuckDB's own temp name for q.csv
    (out / "q.csv").write_text("old\n")  # the path the user asked for: replaced
    r = invoke("validate", data, "--quarantine-out", out / "q.csv")
    assert r.exit_code == 0, r.output
    assert (out / "tmp_q.csv").read_text() == "precious\n"
    assert (out / "q.csv").read_text().splitlines()[0].startswith("table,row,reason")
    assert sorted(p.name for p in out.iterdir()) == ["q.csv", "tmp_q.csv"]


@pytest.mark.parametrize("name", ["q.parquet", "q.csv"])
def test_quarantine_out_into_a_read_only_database_source(tmp_path: Path, name: str) -> None:
    """A database source switches file access off early; the quarantine is still written."""
    import duckdb

    db = tmp_path / "data.duckdb"
    con = duckdb.connect(str(db))
    con.execute("CREATE TABLE events (ts VARCHAR, user_id VARCHAR, event_type VARCHAR)")
    con.execute("INSERT INTO events VALUES ('2025-06-01', 'u1', 'ad_click'), ('x', 'u2', 'share')")
    con.close()
    r = invoke("validate", db, "--quarantine-out", tmp_path / name)
    assert r.exit_code == 0, r.output
    rows = duckdb.sql(f"SELECT reason FROM '{tmp_path / name}'").fetchall()
    assert rows == [("ts_unparseable",)]


@pytest.mark.parametrize(
    ("target", "needle"),
    [
        ("out", "is a directory"),
        ("no/such/q.csv", "does not exist"),
        ("afile/q.csv", "does not exist"),
    ],
)
def test_bad_write_targets_are_one_line_usage_errors(
    tmp_path: Path, target: str, needle: str
) -> None:
    data = write_csv(tmp_path / "data" / "events.csv", ROWS).parent
    (tmp_path / "out").mkdir()
    (tmp_path / "afile").write_text("x")
    before = sorted(p.name for p in tmp_path.rglob("*"))
    for option in ("--quarantine-out", "--output"):
        r = invoke("validate", data, option, tmp_path / target)
        one_line_error(r, 2, option, str(tmp_path / target), needle)
    assert sorted(p.name for p in tmp_path.rglob("*")) == before


def test_output_and_schema_output_replace_only_the_named_file(tmp_path: Path) -> None:
    data = write_csv(tmp_path / "data" / "events.csv", ROWS).parent
    (tmp_path / "tmp_r.json").write_text("precious")
    (tmp_path / "r.json").write_text("old")
    assert invoke("validate", data, "-f", "json", "-o", tmp_path / "r.json").exit_code == 0
    assert invoke("schema", "-o", tmp_path / "s.json").exit_code == 0
    assert (tmp_path / "tmp_r.json").read_text() == "precious"
    assert (tmp_path / "r.json").read_text().startswith("{")
    assert (tmp_path / "s.json").read_text().startswith("{")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data", "r.json", "s.json", "tmp_r.json"]


def test_a_failed_or_interrupted_write_leaves_the_target_and_no_temp_file(
    tmp_path: Path,
) -> None:
    from brandlens.fileio import atomic_path, atomic_write_text

    target = tmp_path / "t.txt"
    target.write_text("before")
    for exc in (RuntimeError, KeyboardInterrupt):
        with pytest.raises(exc), atomic_path(target) as tmp:
            tmp.write_text("half")
            raise exc()
        assert target.read_text() == "before"
        assert [p.name for p in tmp_path.iterdir()] == ["t.txt"]
    atomic_write_text(target, "after")
    assert target.read_text() == "after"
    assert [p.name for p in tmp_path.iterdir()] == ["t.txt"]
    # a named pipe of the test's own, not /dev/null: a write that forgot the check would
    # replace the machine's /dev/null (a mutation run did)
    pipe = tmp_path / "pipe"
    os.mkfifo(pipe)
    with pytest.raises(UsageError, match="not a regular file"):
        atomic_write_text(pipe, "x")
    assert stat.S_ISFIFO(pipe.stat().st_mode)


def test_generate_writes_atomically_and_cleans_up_on_failure(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from brandlens.data.market import generate, write

    out = tmp_path / "m"
    out.mkdir()
    (out / "tmp_events.csv").write_text("precious")
    generate(out, users=30, fmt="csv")
    tables = ("events", "users", "products", "targets", "spend")
    expected = sorted(["tmp_events.csv", *(f"{t}.csv" for t in tables)])
    assert sorted(p.name for p in out.iterdir()) == expected
    assert (out / "tmp_events.csv").read_text() == "precious"

    def broken(self: write.TableWriter, table: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(write.TableWriter, "write", broken)
    again = tmp_path / "again"
    with pytest.raises(OSError):
        generate(again, users=30, fmt="csv")
    assert not again.exists()  # the folder it made goes too, with no partial table
    with pytest.raises(OSError):
        generate(out, users=30, fmt="csv", overwrite=True)
    assert sorted(p.name for p in out.iterdir()) == expected  # a folder it found stays
    (tmp_path / "afile").write_text("x")
    r = invoke("generate", tmp_path / "afile", "--users", "5")
    one_line_error(r, 2, str(tmp_path / "afile"))


def test_new_plugin_never_touches_what_exists(tmp_path: Path) -> None:
    (tmp_path / "brandlens-o5a").mkdir()
    (tmp_path / "brandlens-o5a" / "keep.txt").write_text("mine")
    r = invoke("new-plugin", "o5a", "--dir", tmp_path)
    one_line_error(r, 2, "already exists")
    assert [p.name for p in (tmp_path / "brandlens-o5a").iterdir()] == ["keep.txt"]
    # a --dir that does not exist yet is made (it said "not an existing folder")
    assert invoke("new-plugin", "o5c", "--dir", tmp_path / "new" / "here").exit_code == 0
    assert (tmp_path / "new" / "here" / "brandlens-o5c" / "pyproject.toml").is_file()
    (tmp_path / "a-file").write_text("mine")
    r = invoke("new-plugin", "o5b", "--dir", tmp_path / "a-file" / "sub")
    one_line_error(r, 2, str(tmp_path / "a-file" / "sub"))
    r = invoke("new-plugin", "o5b", "--dir", tmp_path / "a-file")
    one_line_error(r, 2, "is not a folder")
    assert invoke("new-plugin", "o5b", "--dir", tmp_path).exit_code == 0
    written = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*") if p.is_file())
    assert not [w for w in written if w.endswith(".tmp")]
    assert "brandlens-o5b/pyproject.toml" in written


# ---- reads: DATA is a literal path, never a pattern ---------------------------------


def _write_events(folder: Path, fmt: str, users: list[str]) -> Path:
    """An events file in ``folder`` with one ad_impression per user."""
    import duckdb

    rows = [ev("2025-06-01 04:00:00", u, "ad_impression") for u in users]
    src = write_csv(folder / "events.csv", rows)
    if fmt == "csv":
        return src
    out = folder / f"events.{fmt}"
    kind = "PARQUET" if fmt == "parquet" else "JSON"
    duckdb.execute(
        f"COPY (SELECT * FROM read_csv($src, all_varchar=true)) TO $out (FORMAT {kind})",
        {"src": str(src), "out": str(out)},
    )
    src.unlink()
    return out


def _users(data: Path | str) -> list[str]:
    from brandlens.engine.runs import Dataset

    with Dataset(data) as ds:
        return [r[0] for r in ds.con.execute("SELECT user_id FROM events ORDER BY 1").fetchall()]


@pytest.mark.parametrize("fmt", ["csv", "parquet", "jsonl"])
@pytest.mark.parametrize(
    ("name", "decoy"), [("d*", "dA"), ("data[1]", "data1"), ("d?", "dB"), ("[ab]", "a")]
)
def test_glob_characters_in_data_are_literal(
    tmp_path: Path, fmt: str, name: str, decoy: str
) -> None:
    named = _write_events(tmp_path / name, fmt, ["named"])
    _write_events(tmp_path / decoy, fmt, ["decoy"])
    assert _users(tmp_path / name) == ["named"]  # the folder
    assert _users(named) == ["named"]  # the file inside it
    file = named.rename(tmp_path / name / f"ev{name}{named.suffix}")
    (tmp_path / decoy / f"events{named.suffix}").rename(tmp_path / name / f"ev{decoy}.csv")
    assert _users(file) == ["named"]  # a file whose own name holds the pattern


@pytest.mark.skipif(os.sep == "\\", reason="a backslash separates folders on Windows")
@pytest.mark.parametrize("fmt", ["csv", "parquet", "jsonl"])
def test_a_backslash_beside_a_glob_character_never_reads_another_file(
    tmp_path: Path, fmt: str
) -> None:
    """In a pattern DuckDB reads a backslash as a folder separator: a file named
    `x\\..\\..\\outside\\e[1].csv` in d/ made it read outside/e[1].csv, a file no check
    had seen (a hostile-input review). Refused, as a file and as a folder's part; a
    backslash without a glob character is read as named."""
    outside = _write_events(tmp_path / "outside", fmt, ["outside"])
    secret = outside.rename(tmp_path / "outside" / f"e[1]{outside.suffix}")
    (tmp_path / "d").mkdir()
    decoy = _write_events(tmp_path / "staging", fmt, ["named"])
    named = tmp_path / "d" / f"x\\..\\..\\outside\\e[1]{outside.suffix}"
    decoy.rename(named)
    with pytest.raises(DataError, match=r"backslash beside '\*', '\?' or '\['"):
        _users(named)
    one_line_error(invoke("validate", named, "--no-cache"), 1, str(named), "backslash")
    parts = tmp_path / "leak" / "events"
    parts.mkdir(parents=True)
    (tmp_path / "d" / named.name).rename(parts / f"p[x]\\..\\..\\..\\outside\\{secret.name}")
    with pytest.raises(DataError, match="backslash"):
        _users(tmp_path / "leak")
    plain = _write_events(tmp_path / "plain", fmt, ["plain"])
    assert _users(plain.rename(tmp_path / "plain" / f"ev\\..\\x{plain.suffix}")) == ["plain"]


def test_a_folder_named_tilde_is_not_the_home_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "home"
    _write_events(home, "csv", ["home"])
    _write_events(tmp_path / "~", "csv", ["here"])
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.chdir(tmp_path)
    assert _users("./~") == ["here"]
    assert _users(Path("./~") / "events.csv") == ["here"]


def test_a_folder_named_like_a_partition_is_not_data(tmp_path: Path) -> None:
    folder = tmp_path / "brand=Z"
    write_csv(folder / "events.csv", [ev("2025-06-01 04:00:00", "u1", "purchase", amount="1")])
    from brandlens.engine.runs import Dataset

    with Dataset(folder) as ds:
        assert ds.con.execute("SELECT brand FROM events").fetchall() == [("B",)]


def test_malformed_lines_are_counted_in_a_file_with_a_bracket_name(tmp_path: Path) -> None:
    import brandlens

    path = write_csv(tmp_path / "ev[1].csv", ROWS[:2])
    with path.open("a") as f:
        f.write("a,b\n")  # too few fields
    report = brandlens.validate(path)
    assert [(r.reason, r.count) for r in report.reasons] == [("malformed_row", 1)]


def test_a_missing_data_path_is_named_exactly_as_given(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _write_events(tmp_path / "dA", "csv", ["decoy"])
    monkeypatch.chdir(tmp_path)
    for given in ("./d*", "./d?", "./~"):
        r = invoke("validate", given)
        one_line_error(r, 1, f"{given}: no such file or directory")


# ---- a DuckDB database as DATA: base tables only, file access off first -------------

SECRET = "s3cr3t-7f2a9c"


def _database(tmp_path: Path, *statements: str) -> Path:
    """A DuckDB file built by ``statements``; ``{secret}`` is a file holding SECRET."""
    import duckdb

    secret = tmp_path / "secret.txt"
    secret.write_text(SECRET)
    db = tmp_path / "data.duckdb"
    con = duckdb.connect(str(db))
    con.execute(
        "CREATE TABLE base AS SELECT '2025-06-01 04:00:00' AS ts, 'u1' AS user_id, "
        "'ad_click' AS event_type"
    )
    for sql in statements:
        con.execute(sql.format(secret=secret))
    con.close()
    return db


LEAK = "(SELECT content FROM read_text('{secret}'))"


@pytest.mark.parametrize(
    ("statements", "needle"),
    [
        ([f"CREATE VIEW events AS SELECT *, {LEAK} AS brand FROM base"], "events is a view"),
        (
            [
                "CREATE TABLE events AS SELECT * FROM base",
                f"CREATE VIEW users AS SELECT user_id, {LEAK} AS target_group FROM base",
            ],
            "users is a view",
        ),
        (
            [f"CREATE MACRO events() AS TABLE SELECT *, {LEAK} AS brand FROM base"],
            "no table named events",
        ),
    ],
)
def test_a_database_cannot_smuggle_a_file_into_the_output(
    tmp_path: Path, statements: list[str], needle: str
) -> None:
    db = _database(tmp_path, *statements)
    for command in ("validate", "compute"):
        r = invoke(command, db, "-f", "json")
        one_line_error(r, 1, str(db), needle)
        assert SECRET not in r.output


def test_file_access_is_off_before_anything_in_the_database_is_read(tmp_path: Path) -> None:
    import duckdb

    from brandlens.data.sources import open_source

    db = _database(
        tmp_path,
        "CREATE TABLE events AS SELECT * FROM base",
        f"CREATE VIEW leak AS SELECT {LEAK} AS x",
        f"CREATE MACRO leak_table() AS TABLE SELECT {LEAK} AS x",
        f"CREATE MACRO leak_scalar() AS {LEAK}",
    )
    con = duckdb.connect()
    source = open_source(con, db, None)
    assert list(source.tables) == ["events"]
    for sql in ("FROM src.leak", "FROM src.leak_table()", "SELECT src.leak_scalar()"):
        with pytest.raises(duckdb.Error, match="disabled by configuration"):
            con.execute(sql).fetchall()


@pytest.mark.parametrize(
    "column",
    [
        f"x VARCHAR GENERATED ALWAYS AS ({LEAK}) VIRTUAL",
        f"x VARCHAR DEFAULT {LEAK}",
        "x VARCHAR GENERATED ALWAYS AS (leak_scalar()) VIRTUAL",
    ],
)
def test_a_base_table_column_cannot_read_files(tmp_path: Path, column: str) -> None:
    """DuckDB refuses subqueries in generated columns and defaults: a base table is data.

    This is why reading base tables is safe; should DuckDB ever accept one, this fails.
    """
    import duckdb

    with pytest.raises(duckdb.Error, match="subquer"):
        _database(
            tmp_path,
            f"CREATE MACRO leak_scalar() AS {LEAK}",
            f"CREATE TABLE events (ts VARCHAR, user_id VARCHAR, event_type VARCHAR, {column})",
        )


# ---- mapping derive: one scalar expression over the row, allow-listed functions -----

HEADER = "ts,user_id,event_type,label,code,day,epoch,n\n"
LINE = "2025-06-01 04:00:00,u1,ad_click,Acme-Pro,SKU-0042,01/06/2025,1748750400,3\n"


def _mapped(tmp_path: Path, derive: dict[str, str]) -> tuple[Path, Path]:
    import yaml

    data = tmp_path / "log.csv"
    data.write_text(HEADER + LINE)
    mapping = tmp_path / "m.yaml"
    mapping.write_text(yaml.safe_dump({"derive": derive}))
    return data, mapping


@pytest.mark.parametrize(
    ("expr", "reason"),
    [
        ("*", "* is not allowed"),
        ("unnest([label, label, label])", "set-returning function unnest()"),
        ("range(3)", "set-returning function range()"),
        ("label; ATTACH 'x.duckdb'", "exactly one expression, got 2"),
        ("label; LOAD httpfs", "exactly one expression, got 2"),
        ("ATTACH 'x.duckdb'", "ATTACH is not allowed"),
        ("max(label)", "aggregate function max()"),
        ("row_number() OVER ()", "window functions are not allowed"),
        ("(SELECT label)", "not a query"),
        ("read_text('/etc/passwd')", "function read_text() is not allowed"),
        ("getenv('HOME')", "function getenv() is not allowed"),
        ("current_setting('home_directory')", "function current_setting() is not allowed"),
        ("random()", "function random() is not allowed"),
        ("log.label", "must be a bare source column name"),
        ("$p", "parameters are not allowed"),
        ("label AS other", "ALIAS is not allowed"),
        ("list_transform([label], x -> x)", "is not allowed"),
        # a width of 2e9 took 7.9 GB under --memory-limit 500MB; one read from a column too
        ("lpad(label, 2000000000, 'x')", "lpad() pads to a whole number up to 1000"),
        ("rpad(label, n, 'x')", "rpad() pads to a whole number up to 1000"),
    ],
)
def test_a_derive_must_be_one_scalar_expression(tmp_path: Path, expr: str, reason: str) -> None:
    data, mapping = _mapped(tmp_path, {"brand": expr})
    for command in ("validate", "compute"):
        r = invoke(command, data, "--mapping", mapping)
        one_line_error(r, 2, f"{mapping}: derive brand: ", reason)


@pytest.mark.parametrize(
    ("expr", "reason"),
    [  # what DuckDB's binder refuses is the mapping's to fix: exit 2 naming it, not the data
        ("strptime(day, label)", 'The "format" argument in function "strptime" must be'),
        ("(" * 3000 + "label" + ")" * 3000, "expression nested too deeply to read"),
    ],
)
def test_a_derive_duckdb_cannot_run_names_the_mapping(
    tmp_path: Path, expr: str, reason: str
) -> None:
    """A format read from a column was `log.csv: cannot read (Binder Error ...)`, exit 1,
    blamed on the data; 3,000 parentheses were an internal RecursionError."""
    data, mapping = _mapped(tmp_path, {"ts": expr})
    r = invoke("validate", data, "--mapping", mapping)
    one_line_error(r, 2, f"{mapping}: derive ts: ", reason)


def test_an_unknown_zone_in_one_row_names_the_zone_and_the_way_out(tmp_path: Path) -> None:
    """DuckDB raises on an unknown zone (a misspelt or blank one) in any row, where TRY
    cannot make it NULL: the file fails. The message names the zone and how to map the
    zones; done so, the bad rows are quarantined and the rest read."""
    import yaml

    from brandlens.engine.runs import Dataset

    data = tmp_path / "log.csv"
    data.write_text(
        "time,zone,user_id,event_type\n"
        "2025-06-01 12:00:00,Asia/Shanghai,u1,ad_click\n"
        "2025-06-01 12:00:00,Asia/Shanghia,u2,ad_click\n"
        "2025-06-01 12:00:00,,u3,ad_click\n"
        "2025-06-01 12:00:00,America/New_York,u4,ad_click\n"
    )
    parse = "strptime(time, '%Y-%m-%d %H:%M:%S')"
    mapping = tmp_path / "m.yaml"
    mapping.write_text(yaml.safe_dump({"derive": {"ts": f"timezone(zone, {parse})"}}))
    r = invoke("validate", data, "--mapping", mapping)
    one_line_error(r, 1, "log.csv: a row's time zone 'Asia/Shanghia', read by the mapping's")
    known = "('Asia/Shanghai', 'America/New_York')"
    guarded = f"CASE WHEN zone IN {known} THEN timezone(zone, {parse}) END"
    mapping.write_text(yaml.safe_dump({"derive": {"ts": guarded}}))
    with Dataset(data, mapping=mapping) as ds:
        assert (ds.report.events.rows_accepted, ds.report.events.rows_quarantined) == (2, 2)
        got = ds.con.execute("SELECT user_id, CAST(ts AS VARCHAR) FROM events ORDER BY 1")
        assert got.fetchall() == [("u1", "2025-06-01 04:00:00"), ("u4", "2025-06-01 16:00:00")]


def test_a_preset_derive_error_names_the_preset(tmp_path: Path, register_plugin: object) -> None:
    import brandlens
    from brandlens.data.mapping import Mapping

    class BadPreset:
        @brandlens.hookimpl
        def brandlens_register_presets(self, register: object) -> None:
            register("bad-preset", Mapping(derive={"brand": "*"}))  # type: ignore[operator]

    register_plugin(BadPreset(), "bad-preset-plugin")  # type: ignore[operator]
    with pytest.raises(UsageError, match=r"^preset bad-preset: derive brand: \* is not allowed"):
        brandlens.validate(_mapped(tmp_path, {})[0], preset="bad-preset")


@pytest.mark.parametrize(
    ("target", "expr", "expected"),
    [
        ("brand", "upper(split_part(label, '-', 1))", "ACME"),
        ("brand", "concat('b:', lower(label))", "b:acme-pro"),
        ("brand", "coalesce(nullif(trim(label), ''), 'none') || '!'", "Acme-Pro!"),
        ("brand", "regexp_replace(label, '-.*', '')", "Acme"),
        ("product_id", "regexp_extract(code, '([0-9]+)', 1)", "0042"),
        ("product_id", "substring(code, 5, 4)", "0042"),
        ("product_id", "replace(code, 'SKU-', '')", "0042"),
        ("product_id", "lpad(substring(code, 7, 2), 6, '0')", "000042"),
        ("product_id", "regexp_split_to_array(code, '-')[2]", "0042"),
        ("quantity", "CASE WHEN n::INT > 1 THEN n END", "3"),
        ("quantity", "if(TRY_CAST(n AS INT) > 5, 1, 2)", "2"),
        ("quantity", "round(abs(-n::DOUBLE / 2))", "2"),
        ("amount", "TRY_CAST(n AS DECIMAL(18, 2)) * 2 + 0.5", "6.5"),
        ("ts", "strptime(day, '%d/%m/%Y') + INTERVAL 4 HOUR", "2025-06-01 04:00:00"),
        (
            "ts",
            "try_strptime(day, ['%Y-%m-%d', '%d/%m/%Y']) + INTERVAL 4 HOUR",
            "2025-06-01 04:00:00",
        ),
        ("ts", "to_timestamp(epoch::BIGINT)", "2025-06-01 04:00:00"),
        ("ts", "epoch_ms(epoch::BIGINT * 1000)", "2025-06-01 04:00:00"),
        ("ts", "make_timestamp(2025, 6, 1, 4, 0, 0.0)", "2025-06-01 04:00:00"),
        ("ts", "date_trunc('hour', ts::TIMESTAMP + INTERVAL 30 MINUTE)", "2025-06-01 04:00:00"),
        ("ts", "strftime(ts::TIMESTAMP, '%Y-%m-%d %H:%M:%S')", "2025-06-01 04:00:00"),
    ],
)
def test_allowed_derives_compute_the_value(
    tmp_path: Path, target: str, expr: str, expected: str
) -> None:
    from brandlens.engine.runs import Dataset

    data, mapping = _mapped(tmp_path, {target: expr})
    with Dataset(data, mapping=mapping) as ds:
        assert ds.report.rows_quarantined == 0
        column = "strftime(ts, '%Y-%m-%d %H:%M:%S')" if target == "ts" else target
        got = ds.con.execute(f"SELECT CAST({column} AS VARCHAR) FROM events").fetchall()
    assert got == [(expected,)] or float(got[0][0]) == float(expected)


@pytest.mark.parametrize("name", ["q.json", "q.txt", "q"])
def test_a_quarantine_file_named_for_another_format_is_refused_before_loading(
    tmp_path: Path, name: str
) -> None:
    """`--quarantine-out q.json` wrote CSV into a .json file."""
    data = write_csv(tmp_path / "data" / "events.csv", ROWS).parent
    r = invoke("validate", data, "--quarantine-out", tmp_path / name)
    one_line_error(r, 2, "--quarantine-out", "name a .csv, .csv.gz or .parquet file")
    assert not (tmp_path / name).exists()
    r = invoke("validate", data, "--quarantine-out", tmp_path / "q.CSV.GZ")
    assert r.exit_code == 0, r.output


def test_the_library_refuses_a_quarantine_file_named_for_another_format(tmp_path: Path) -> None:
    import brandlens
    from brandlens.errors import UsageError

    data = write_csv(tmp_path / "data" / "events.csv", ROWS).parent
    with pytest.raises(UsageError, match=r"name a \.csv, \.csv\.gz or \.parquet file"):
        brandlens.validate(data, quarantine_out=tmp_path / "q.json")
    assert not (tmp_path / "q.json").exists()


@pytest.mark.skipif(os.sep == "\\", reason="a backslash separates folders there")
def test_a_database_path_duckdb_would_read_as_another_is_refused(tmp_path: Path) -> None:
    """DuckDB turns `\\` into `/` in a database path: `inner/x\\..\\..\\secret.duckdb`
    opened `secret.duckdb` two folders up, outside the folder named; `--into a\\b/x.duckdb`
    left a temporary file in `a/b/`. A `?` starts DuckDB's connection options."""
    import duckdb

    inner = tmp_path / "w" / "inner"
    inner.mkdir(parents=True)
    for target, user in (
        (tmp_path / "w" / "secret.duckdb", "OUTSIDE"),
        (inner / "x\\..\\..\\secret.duckdb", "inside"),
    ):
        con = duckdb.connect(str(tmp_path / "t.duckdb"))
        con.execute(
            f"CREATE TABLE events AS SELECT TIMESTAMP '2025-06-01 04:00:00' AS ts, "
            f"'{user}' AS user_id, 'purchase' AS event_type, 'A' AS brand"
        )
        con.close()
        os.rename(tmp_path / "t.duckdb", target)
    named = inner / "x\\..\\..\\secret.duckdb"
    for cache in ([], ["--no-cache"]):
        r = invoke("entities", named, "-m", "fast", "--table", "users", "-f", "csv", *cache)
        one_line_error(r, 1, str(named), "backslash")
        assert "OUTSIDE" not in r.output
    data = write_csv(tmp_path / "e.csv", ROWS)
    (tmp_path / "a\\b").mkdir()
    (tmp_path / "a" / "b").mkdir(parents=True)
    r = invoke("load", data, "--into", tmp_path / "a\\b" / "x.duckdb")
    one_line_error(r, 2, "--into", "backslash")
    assert list((tmp_path / "a" / "b").iterdir()) == []
    (tmp_path / "q?x").mkdir()
    r = invoke("load", data, "--into", tmp_path / "q?x" / "x.duckdb")
    one_line_error(r, 2, "--into", "'?'")
    assert list((tmp_path / "q?x").iterdir()) == []


def test_a_name_that_is_not_utf8_is_named_with_the_way_out(tmp_path: Path) -> None:
    """A GBK file name (bytes Python keeps as surrogates) reached DuckDB as 'Python
    Conversion Failure: cannot encode str as UTF-8', naming no file."""
    base = os.fsencode(tmp_path)
    try:
        os.makedirs(base + b"/data/events")
        with open(base + b"/data/events/part-\xd6\xd0.csv", "w") as f:  # GBK for 中
            f.write("ts,user_id,event_type\n2025-06-01 04:00:00,u1,ad_click\n")
    except OSError:
        pytest.skip("this file system refuses names that are not UTF-8")
    r = invoke("validate", tmp_path / "data")
    one_line_error(r, 1, "events: 'part-", "is not UTF-8 text", "rename it")
    assert "Conversion Failure" not in r.stderr


def test_a_misspelt_zone_written_in_a_derive_names_the_mapping(tmp_path: Path) -> None:
    """timezone('Asia/Shangai', ...) binds, then fails on the first row: it was exit 1,
    blamed on a row's zone "read from a column". A literal zone is the mapping's: exit 2,
    as ts_timezone: Asia/Shangai is."""
    data, mapping = _mapped(tmp_path, {"ts": "timezone('Asia/Shangai', CAST(ts AS TIMESTAMP))"})
    r = invoke("validate", data, "--mapping", mapping)
    one_line_error(r, 2, f"{mapping}: derive ts: unknown time zone 'Asia/Shangai'")
    mapping.write_text("ts_timezone: Asia/Shangai\n")
    r = invoke("validate", data, "--mapping", mapping)
    one_line_error(r, 2, "mapping field ts_timezone: unknown time zone 'Asia/Shangai'")
    assert "Value error" not in r.stderr


def test_derives_are_bound_together_and_the_refused_one_is_named(tmp_path: Path) -> None:
    """All derives bind in one statement (a JSON source is read once to bind); when that
    fails, each on its own names the one DuckDB refuses."""
    data, mapping = _mapped(tmp_path, {"brand": "upper(label)", "ts": "strptime(day, label)"})
    r = invoke("validate", data, "--mapping", mapping)
    one_line_error(r, 2, f"{mapping}: derive ts: DuckDB cannot run it")


def test_a_key_given_twice_in_a_mapping_file_is_refused(tmp_path: Path) -> None:
    """YAML keeps the last of two equal keys: `columns: {ts: label, ts: day}` read ts from
    day without a word. Now not valid YAML, naming both lines."""
    data, mapping = _mapped(tmp_path, {})
    mapping.write_text("columns:\n  ts: label\n  user_id: user_id\n  ts: day\n")
    r = invoke("validate", data, "--mapping", mapping)
    one_line_error(r, 2, f"{mapping}: not valid YAML, line 4", "'ts' is given twice (first at")
