"""``brandlens bench``: rounds, medians and the verdicts on issue #11's targets.

The orchestration is checked with the process runner replaced by a script of
timings (which commands run, in which round, with which cache folder); the
arithmetic on rows worked by hand; and one real run on a tiny market end to end.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import brandlens
from brandlens.cli import bench
from brandlens.cli.bench import BenchRow, judge, summarise
from brandlens.cli.bench import Measured as M
from conftest import imports_of_a_compute


def _row(step: str, seconds: float, rss: float = 100.0) -> BenchRow:
    return summarise(step, [M(seconds, rss, seconds)], 1, None)


def test_summarise_takes_the_median_the_range_and_the_largest_peak():
    # three runs: 9 s at 100 MB using 17 CPU-s, 1 s at 300 MB using 1.5, 2 s at 200 MB
    # using 3.5 (the means would be 4 s and 7.3 CPU-s); the floor's median is 0.5 s
    runs = [M(9.0, 100.0, 17.0), M(1.0, 300.0, 1.5), M(2.0, 200.0, 3.5)]
    row = summarise("x", runs, 1000, 0.5)
    assert (row.seconds, row.min_seconds, row.max_seconds, row.runs) == (2.0, 1.0, 9.0, 3)
    assert row.cpu_seconds == 3.5  # the median CPU time: more than the wall, two cores busy
    assert row.peak_rss_mb == 300.0
    assert row.events_per_second == 500.0  # 1000 events / the median's 2 s
    assert row.ratio_to_floor == 4.0  # 2 s / 0.5 s
    # an even number of runs: the mean of the middle two (not of all four, 4 s)
    even = [M(10.0, 1.0, 0.0), M(1.0, 1.0, 0.0), M(2.0, 1.0, 0.0), M(3.0, 1.0, 0.0)]
    assert summarise("y", even, 1, None).seconds == 2.5


def test_judge_against_hand_worked_targets():
    rows = [
        _row(bench.FLOOR, 0.4),
        _row(bench.FIRST_RUN, 8.0, rss=600.0),  # 10 M events may take 6 s: not met
        _row(bench.FAST_CACHED, 1.0, rss=300.0),
        _row(bench.FAST_FIRST, 3.0, rss=500.0),
        _row(bench.PANDAS, 4.0, rss=1500.0),
        _row(bench.FAST_NO_CACHE, 2.0, rss=1600.0),
    ]
    got = {t.target: (t.measured, t.met) for t in judge(rows, 10_000_000)}
    # keeping nothing: twice as fast as pandas, but 1,600 MB against 1,500: not met
    assert got["FAST keeping nothing / pandas"] == (0.5, False)
    for seconds, rss, met in (
        (2.0, 300.0, True),  # faster and leaner
        (2.0, 1500.0, True),  # as much memory as pandas: allowed
        (4.0, 300.0, False),  # as slow as pandas: not faster
        (5.0, 300.0, False),
    ):
        rows[-1] = _row(bench.FAST_NO_CACHE, seconds, rss=rss)
        judged = {t.target: (t.measured, t.met) for t in judge(rows, 10_000_000)}
        assert judged["FAST keeping nothing / pandas"] == (seconds / 4.0, met)
    assert got["first run (s)"] == (8.0, False)
    assert got["first run peak memory (GB)"] == (pytest.approx(600 * 2**20 / 1e9), True)
    assert got["FAST first run / pandas"] == (0.75, True)  # 3 s against 4 s
    assert got["pandas / FAST cached"] == (4.0, False)  # 4 s / 1 s, five times is the goal
    assert got["FAST peak memory / pandas'"] == (pytest.approx(500 / 1500), True)
    assert got["first run / floor"] == (20.0, False)  # 8 s / 0.4 s
    # 100 M events may take 60 s: 59 s meets it; a missing step is "not measured"
    at_100m = {t.target: t for t in judge([_row(bench.FIRST_RUN, 59.0)], 100_000_000)}
    assert at_100m["first run (s)"].met is True
    assert at_100m["FAST first run / pandas"].met is None
    assert at_100m["FAST first run / pandas"].measured is None
    assert at_100m["FAST keeping nothing / pandas"].met is None


def test_rounds_run_every_step_with_a_fresh_cache_per_round(tmp_path, monkeypatch):
    """Each round runs every step once, in order; a first run never finds a dataset (only
    the remembered plugin checks), the cached steps share their round's first-run cache,
    and a pandas failure is reported without stopping the bench."""
    data = tmp_path / "market"
    data.mkdir()
    (data / "events.parquet").write_bytes(b"")
    monkeypatch.setattr(bench, "_count_events", lambda _p: 1000)
    monkeypatch.setattr(bench, "_pandas_script", lambda: Path("pandas_fast.py"))
    calls: list[tuple[str, str | None]] = []
    timings = iter([float(i) for i in range(1, 100)])

    stores_at_once: list[int] = []
    found_in_cache: list[list[str]] = []
    memo = "sqlcheck-0-sqlglot0.json"

    def fake_run(cmd: list[str], env: dict[str, str] | None = None) -> M:
        what = " ".join(cmd[3:6]) if cmd[1:3] == ["-m", "brandlens.cli.app"] else cmd[1]
        cache = (env or {}).get("BRANDLENS_CACHE_DIR")
        calls.append((what, cache))
        if cache:  # the command would keep its store and its checks there
            folder = Path(cache)
            found_in_cache.append(
                sorted(p.name for p in folder.iterdir()) if folder.exists() else []
            )
            folder.mkdir(parents=True, exist_ok=True)
            (folder / memo).write_text("{}")
            (folder / "store.duckdb").touch()
            if len(calls) > 1:  # the untimed run keeps its folder elsewhere
                stores_at_once.append(sum(1 for p in folder.parent.iterdir() if p.is_dir()))
        if len(calls) == 1:
            return M(99.0, 10.0, 99.0)  # the untimed run: no timing of it may count
        if cmd[-1] == str(data) and cmd[1] == "pandas_fast.py":
            raise RuntimeError("pandas_fast.py ...: no pandas")
        return M(next(timings), 10.0, 0.0)

    monkeypatch.setattr(bench, "_run", fake_run)
    compiled_after: list[int] = []
    monkeypatch.setattr(
        bench, "compile_bytecode", lambda folders: compiled_after.append(len(calls)) or False
    )
    report = bench.run_bench(data=data, methodologies=["grow"], repeat=2)
    assert compiled_after == [0] and report.bytecode is False  # once, before any timing
    starts = [i for i, c in enumerate(calls) if c[0] == "-c"]  # each round begins at the floor
    assert len(starts) == 2
    # before the rounds, one untimed first run remembers the plugins' checks in a folder
    # of its own; every step's fresh folder then starts with those checks and no store
    assert starts[0] == 1 and calls[0][0] == "compute " + str(data) + " -m"
    assert found_in_cache[0] == [] and report.checks_remembered is True
    fresh = found_in_cache[1:]  # what each step found in its cache folder
    assert fresh.count([memo]) == 8  # 4 folders a round (all, validate, fast, no-cache)
    assert all(f in ([memo], [memo, "store.duckdb"]) for f in fresh)
    first, second = calls[starts[0] : starts[1]], calls[starts[1] :]
    # the same steps in the same order, but pandas, which failed in the first round
    assert [c[0] for c in first[:9]] == [c[0] for c in second] and len(first) == 10
    names = [r.step for r in report.rows]
    assert names == [
        bench.FLOOR,
        bench.FIRST_RUN,
        bench.CACHED,
        "compute -m grow (cached dataset)",
        bench.COMPARE,
        bench.REPORT,
        "validate (load + validate only)",
        bench.FAST_FIRST,
        bench.FAST_NO_CACHE,
        bench.PANDAS,
    ]
    caches = [[c[1] for c in r] for r in (first, second)]
    for round_caches in caches:
        # first run, repeated, -m grow, compare and report share one folder; validate and
        # the two FAST first runs their own
        assert len(set(round_caches[1:6])) == 1
        assert len({round_caches[1], round_caches[6], round_caches[7], round_caches[8]}) == 4
        assert round_caches[0] is None
    assert caches[0][9] is None  # pandas keeps no cache
    assert not set(caches[0][1:9]) & set(caches[1][1:9])  # each round starts empty
    assert calls[0][1] not in caches[0] + caches[1]
    floor_row, first_row = report.rows[0], report.rows[1]
    # the fake timings count up: the floor took 1 s then 10 s (after eight more steps and
    # the failed pandas, which took no timing), the first run 2 s then 11 s
    assert (floor_row.runs, floor_row.seconds, floor_row.min_seconds) == (2, 5.5, 1.0)
    assert (first_row.seconds, first_row.max_seconds) == (6.5, 11.0)
    assert first_row.ratio_to_floor == pytest.approx(6.5 / 5.5, abs=0.01)
    assert set(stores_at_once) == {1}  # a round's stores are removed after their last use
    pandas_row = report.rows[-1]
    assert pandas_row.runs == 0
    assert pandas_row.note == "no validation; failed in round 1: pandas_fast.py ...: no pandas"
    assert calls.count(("pandas_fast.py", None)) == 1  # a failed optional step is not retried
    assert {t.target: t.met for t in report.targets}["FAST first run / pandas"] is None


def test_bench_end_to_end_on_a_tiny_market(tmp_path):
    """The real command: every step as its own process, JSON on stdout."""
    out = subprocess.run(
        [
            *(sys.executable, "-m", "brandlens.cli.app", "bench", "--users", "150"),
            *("-m", "grow", "--no-pandas", "--repeat", "1", "-f", "json", "-q"),
        ],
        capture_output=True,
        text=True,
        env={"BRANDLENS_CACHE_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"},
        check=True,
    )
    report = json.loads(out.stdout)
    assert report["repeat"] == 1 and report["events"] > 0
    steps = {r["step"]: r for r in report["rows"]}
    assert steps[bench.FLOOR]["ratio_to_floor"] == 1.0
    for row in report["rows"]:
        assert row["runs"] == 1
        assert row["min_seconds"] == row["seconds"] == row["max_seconds"] > 0
        assert row["cpu_seconds"] > 0  # the process's own user + system time
    assert steps[bench.FIRST_RUN]["peak_rss_mb"] > 0
    assert report["checks_remembered"] is True
    measured = {t["target"]: t for t in report["targets"]}
    assert measured["first run / floor"]["measured"] == pytest.approx(
        steps[bench.FIRST_RUN]["seconds"] / steps[bench.FLOOR]["seconds"]
    )
    assert measured["pandas / FAST cached"]["met"] is None  # neither was measured


def test_a_step_failing_in_a_later_round_keeps_its_earlier_runs(tmp_path, monkeypatch):
    data = tmp_path / "market"
    data.mkdir()
    (data / "events.parquet").write_bytes(b"")
    monkeypatch.setattr(bench, "_count_events", lambda _p: 1000)
    monkeypatch.setattr(bench, "_pandas_script", lambda: Path("pandas_fast.py"))
    pandas_runs = []

    def fake_run(cmd: list[str], env: dict[str, str] | None = None) -> M:
        if cmd[1] == "pandas_fast.py":
            pandas_runs.append(1)
            if len(pandas_runs) == 2:
                raise RuntimeError("pandas_fast.py ...: killed")
            return M(3.0, 1500.0, 3.0)
        return M(1.0, 100.0, 1.0)

    monkeypatch.setattr(bench, "_run", fake_run)
    report = bench.run_bench(data=data, methodologies=["grow"], repeat=3)
    row = next(r for r in report.rows if r.step == bench.PANDAS)
    # round 1 measured 3 s; round 2 failed; round 3 did not try again
    assert (row.runs, row.seconds, len(pandas_runs)) == (1, 3.0, 2)
    assert row.note == "no validation; failed in round 2: pandas_fast.py ...: killed"
    assert {t.target: t.measured for t in report.targets}["FAST first run / pandas"] == 1 / 3


def test_pandas_not_installed_is_said_in_its_row(tmp_path, monkeypatch):
    """Without the bench extra the pandas step failed on an import, shown as a 0 s median
    with a wrapped command line; it is skipped with the install command instead."""
    import importlib.util

    from brandlens.cli.render import Format, render

    data = tmp_path / "market"
    data.mkdir()
    (data / "events.parquet").write_bytes(b"")
    monkeypatch.setattr(bench, "_count_events", lambda _p: 1000)
    monkeypatch.setattr(bench, "_pandas_script", lambda: Path("pandas_fast.py"))
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda n, *a: None if n == "pandas" else real(n, *a)
    )
    ran: list[list[str]] = []

    def fake_run(cmd: list[str], env: dict[str, str] | None = None) -> M:
        ran.append(cmd)
        return M(1.0, 100.0, 1.0)

    monkeypatch.setattr(bench, "_run", fake_run)
    report = bench.run_bench(data=data, methodologies=["fast"], repeat=1)
    assert not any("pandas_fast.py" in c for cmd in ran for c in cmd)
    row = next(r for r in report.rows if r.step == bench.PANDAS)
    assert row.runs == 0
    # a step that never ran has no time and no memory, not 0 s (JSON: null)
    assert (row.seconds, row.min_seconds, row.max_seconds, row.peak_rss_mb) == (None,) * 4
    assert '"seconds":null' in report.model_dump_json()
    assert row.note == (
        "no validation; skipped: pandas is not installed (pip install -e '.[bench]')"
    )
    measured = {t.target: t.measured for t in report.targets}
    assert measured["FAST first run / pandas"] is None
    text = render(report, Format.markdown)
    line = next(x for x in text.splitlines() if x.startswith(f"| {bench.PANDAS} |"))
    cells = [c.strip() for c in line.strip("|").split("|")]
    assert cells[1] == "" and cells[4] == "0"  # no median time, no runs


def test_every_format_carries_the_steps(tmp_path):
    from brandlens.cli.render import Format, render

    rows = [
        summarise(bench.FLOOR, [M(0.5, 100.0, 0.5)], 1000, 0.5),
        summarise(
            bench.FIRST_RUN,
            [M(2.0, 300.0, 3.0), M(4.0, 200.0, 7.0)],
            1000,
            0.5,
            "keeps the dataset",
        ),
    ]
    report = bench.BenchReport(
        brandlens_version="0",
        duckdb_version="0",
        machine="m",
        cores=2,
        memory_gb=1.0,
        data="d",
        events=1000,
        repeat=2,
        bytecode=True,
        rows=rows,
        targets=judge(rows, 1000),
    )
    csv = render(report, Format.csv).splitlines()
    assert csv[0].startswith("step,seconds,range,cpu_seconds,runs,")
    # median 3 s of 2 and 4, median 5 CPU-s of 3 and 7
    assert csv[2].startswith(f'"{bench.FIRST_RUN}",3.0,2.00-4.00,5.0,2,')
    markdown = render(report, Format.markdown, color=False)
    assert "### targets of issue #11 (on the medians)" in markdown
    assert "| first run / floor | 6 | <= 3 (long-term) | no |" in markdown  # 3 s / 0.5 s


def test_the_floor_of_a_csv_file_scans_it_as_text_and_agrees_with_parquet(tmp_path):
    """`bench --data` on a folder of CSV files: the floor reads events.csv (it used
    read_parquet on any file), every field as text with the amounts parsed, and finds
    what the Parquet floor finds in the same events; so does JSON lines, gzipped."""
    import duckdb

    from brandlens.data.market import generate

    generate(tmp_path, users=150, seed=5)
    parquet = tmp_path / "events.parquet"
    csv_file = tmp_path / "events.csv"
    duckdb.execute(
        "COPY (SELECT * FROM read_parquet($p)) TO $c (HEADER)",
        {"p": str(parquet), "c": str(csv_file)},
    )
    assert bench.floor_sql(parquet) == bench.FLOOR_SQL
    assert bench.floor_sql(csv_file) == bench.FLOOR_CSV_SQL

    def floor(path: Path) -> list[tuple]:
        rows = duckdb.execute(bench.floor_sql(path), {"p": str(path)}).fetchall()
        return sorted(  # the brand-less events are a group too (their amounts: none)
            (b or "", n, u, None if a is None else round(a, 6)) for b, n, u, a in rows
        )

    jsonl = tmp_path / "events.jsonl.gz"
    duckdb.execute(
        "COPY (SELECT * FROM read_parquet($p)) TO $j (FORMAT json)",
        {"p": str(parquet), "j": str(jsonl)},
    )
    assert bench.floor_sql(jsonl) == bench.FLOOR_JSON_SQL
    assert floor(csv_file) == floor(parquet) == floor(jsonl)
    assert sum(r[1] for r in floor(csv_file)) > 1000
    parts = tmp_path / "parts" / "events"  # the same events as parts, two folders deep
    for n in range(3):
        (parts / f"d={n}").mkdir(parents=True)
        duckdb.execute(
            "COPY (SELECT * FROM read_parquet($p) WHERE event_id % 3 = $n) TO $o",
            {"p": str(parquet), "n": n, "o": str(parts / f"d={n}" / "part.parquet")},
        )
    files = bench._events_files(tmp_path / "parts")
    assert [f.relative_to(parts).as_posix() for f in files] == [
        f"d={n}/part.parquet" for n in range(3)
    ]
    assert bench.floor_sql(files[0]) == bench.FLOOR_SQL
    by_parts = duckdb.execute(bench.FLOOR_SQL, {"p": [str(f) for f in files]}).fetchall()
    assert sorted((b or "", n, u, round(a or 0, 6)) for b, n, u, a in by_parts) == [
        (b, n, u, round(a or 0, 6)) for b, n, u, a in floor(parquet)
    ]
    assert bench._count_events(files) == sum(r[1] for r in floor(parquet))
    assert (
        bench._count_events([jsonl])
        == bench._count_events([csv_file])
        == sum(r[1] for r in floor(parquet))
    )


def test_a_generated_csv_market_is_its_own_folder_and_a_bad_format_is_a_usage_error(
    tmp_path, monkeypatch
):
    """`--data-format csv` generates the market as CSV files in a folder of its own (the
    Parquet market of the same size stays reusable); a format other than parquet or
    csv, or one given with --data, stops before anything runs."""
    from brandlens.data import store
    from brandlens.errors import UsageError

    monkeypatch.setattr(store, "cache_dir", lambda: tmp_path)
    monkeypatch.setattr(bench, "_count_events", lambda _p: 1000)
    monkeypatch.setattr(bench, "_events_files", lambda d: [d / "events.csv"])
    generated: list[list[str]] = []

    def fake_run(cmd: list[str], env: dict[str, str] | None = None) -> M:
        if "generate" in cmd:
            generated.append(cmd[cmd.index("generate") :])
            Path(generated[-1][1]).mkdir()  # where the market would be written
        return M(1.0, 10.0, 1.0)

    monkeypatch.setattr(bench, "_run", fake_run)
    bench.run_bench(users=50, methodologies=["grow"], pandas=False, repeat=1, data_format="csv")
    (command,) = generated
    folder = Path(command[1])
    assert folder.parent == tmp_path and folder.name.endswith("-50-csv")
    assert command[2:] == [
        "--users",
        "50",
        "--format",
        "csv",
        "--order",
        "user",
        "--overwrite",
        "-q",
    ]
    bench.run_bench(users=50, methodologies=["grow"], pandas=False, repeat=1, order="time")
    command = generated[-1]  # a market in time order is a folder of its own too
    assert Path(command[1]).name.endswith("-50-time") and Path(command[1]).parent == tmp_path
    assert command[2:] == [
        "--users",
        "50",
        "--format",
        "parquet",
        "--order",
        "time",
        "--overwrite",
        "-q",
    ]
    for kwargs in (
        {"data_format": "xml"},
        {"data": tmp_path, "data_format": "csv"},
        {"order": "random"},
        {"data": tmp_path, "order": "time"},
    ):
        with pytest.raises(UsageError):
            bench.run_bench(**kwargs)
    assert len(generated) == 2


def test_the_floor_reads_parts_literally_and_by_name(tmp_path):
    """The floor of a folder of parts: an older part without `amount` reads as NULL
    there (as brandlens reads it), and `p[1].parquet` is that file, not a pattern that
    would also match `p1.parquet`; the files reach the floor's process in a list file."""
    import duckdb

    parts = tmp_path / "events"
    parts.mkdir()
    duckdb.execute(
        "COPY (SELECT 'A' AS brand, 'u1' AS user_id) TO $p",
        {"p": str(parts / "p[1].parquet")},
    )
    duckdb.execute(
        "COPY (SELECT 'A' AS brand, unnest(['u1', 'u2', 'u3']) AS user_id, 2.5 AS amount) TO $p",
        {"p": str(parts / "p1.parquet")},
    )
    files = bench._events_files(tmp_path)
    assert [f.name for f in files] == ["p1.parquet", "p[1].parquet"]
    assert bench._count_events(files) == 4
    rows = duckdb.execute(bench.FLOOR_SQL, {"p": bench._literal_paths(files)}).fetchall()
    assert rows == [("A", 4, 3, 7.5)]


def test_cluster_adds_a_clustered_load_and_a_run_on_its_file(tmp_path, monkeypatch):
    """`bench --cluster`: each round loads a clustered dataset file, then computes every
    methodology on that same file; neither step touches the user's cache (theirs is a
    folder of the round's, holding only the remembered plugin checks)."""
    data = tmp_path / "market"
    data.mkdir()
    (data / "events.parquet").write_bytes(b"")
    monkeypatch.setattr(bench, "_count_events", lambda _p: 1000)
    calls: list[tuple[list[str], str | None]] = []

    def fake_run(cmd: list[str], env: dict[str, str] | None = None) -> M:
        cache = (env or {}).get("BRANDLENS_CACHE_DIR")
        calls.append((cmd, cache))
        if cache:
            Path(cache).mkdir(parents=True, exist_ok=True)
        return M(1.0, 10.0, 1.0)

    monkeypatch.setattr(bench, "_run", fake_run)
    report = bench.run_bench(
        data=data, methodologies=["grow"], pandas=False, repeat=2, cluster=True
    )
    assert [r.step for r in report.rows][-2:] == [bench.LOAD_CLUSTERED, bench.CLUSTERED]
    loads = [(c, e) for c, e in calls if c[3:4] == ["load"]]
    computes = [c for c, _ in calls if c[3:4] == ["compute"] and c[4].endswith(".duckdb")]
    assert len(loads) == len(computes) == 2
    for (load, env), compute in zip(loads, computes, strict=True):
        into = load[load.index("--into") + 1]
        assert "--cluster" in load and Path(env).name == "cluster" and compute[4] == into
        assert compute[5:7] == ["-m", "grow"]
    assert computes[0][4] != computes[1][4]  # a file per round, in the round's own folder
    without = bench.run_bench(data=data, methodologies=["grow"], pandas=False, repeat=1)
    assert bench.LOAD_CLUSTERED not in [r.step for r in without.rows]


def test_bytecode_is_compiled_even_where_python_would_not_write_it(tmp_path, monkeypatch):
    """The timed steps find brandlens compiled, as pip installs it, although
    PYTHONDONTWRITEBYTECODE would have every step compile it from source; a module that
    does not compile is reported."""
    import importlib.util

    monkeypatch.setattr(sys, "dont_write_bytecode", True)
    package = tmp_path / "pkg"
    (package / "sub").mkdir(parents=True)
    for name in ("__init__.py", "sub/__init__.py", "sub/mod.py"):
        (package / name).write_text("X = 1\n")
    assert bench.compile_bytecode([package]) is True
    for name in ("__init__.py", "sub/__init__.py", "sub/mod.py"):
        assert Path(importlib.util.cache_from_source(str(package / name))).is_file()
    (package / "broken.py").write_text("def (:\n")
    assert bench.compile_bytecode([package]) is False


def test_the_compiled_packages_are_brandlens_and_its_plugins():
    import brandlens
    import brandlens_fast

    folders = bench.plugin_packages()
    assert Path(brandlens.__file__).parent in folders
    assert Path(brandlens_fast.__file__).parent in folders


def test_the_remembered_checks_cover_a_first_run_and_carry_no_dataset(tmp_path):
    """The untimed run's checks spare a first run SQLGlot (parsing every plugin's SQL),
    and nothing else: the step's folder holds no dataset, so it validates anew."""

    data = Path(brandlens.__file__).parent / "data" / "sample"
    command = lambda out: bench._brandlens("compute", str(data), "-q", "-f", "json")  # noqa: E731
    remembered = bench.remember_plugin_checks(command)
    assert remembered and all(n.startswith("sqlcheck-") for n in remembered)

    def first_run(seeded: bool) -> bool:
        folder = tmp_path / ("seeded" if seeded else "empty")
        folder.mkdir()
        for name, content in (remembered if seeded else {}).items():
            (folder / name).write_bytes(content)
        imported = imports_of_a_compute(data, folder)
        assert len(list(folder.glob("*.duckdb"))) == 1  # it validated and kept a dataset
        return "sqlglot" in imported

    assert first_run(seeded=False) is True
    assert first_run(seeded=True) is False
    failing = lambda out: bench._brandlens("compute", str(tmp_path / "nothing"))  # noqa: E731
    assert bench.remember_plugin_checks(failing) == {}


def test_cpu_time_is_the_childs_user_plus_system_time(monkeypatch):
    """The CPU time comes from the same wait4 as the peak memory: user and system time."""
    real = os.wait4

    def wait4(pid: int, options: int):
        got_pid, status, _real_usage = real(pid, options)
        fake = type("Usage", (), {"ru_utime": 1.25, "ru_stime": 2.5, "ru_maxrss": 2048})
        return got_pid, status, fake

    monkeypatch.setattr(bench.os, "wait4", wait4)
    measured = bench._run([sys.executable, "-c", "pass"])
    assert (measured.cpu_seconds, measured.peak_rss_mb) == (3.75, 2.0)


def test_a_failed_untimed_run_remembers_nothing_and_the_bench_goes_on(tmp_path, monkeypatch):
    data = tmp_path / "market"
    data.mkdir()
    (data / "events.parquet").write_bytes(b"")
    monkeypatch.setattr(bench, "_count_events", lambda _p: 1000)
    calls: list[str | None] = []
    told: list[str] = []

    def fake_run(cmd: list[str], env: dict[str, str] | None = None) -> M:
        calls.append((env or {}).get("BRANDLENS_CACHE_DIR"))
        if len(calls) == 1:
            raise RuntimeError("compute ...: a transient failure")
        return M(1.0, 10.0, 1.0)

    monkeypatch.setattr(bench, "_run", fake_run)
    report = bench.run_bench(
        data=data, methodologies=["grow"], pandas=False, repeat=1, progress=told.append
    )
    assert report.checks_remembered is False
    assert any("untimed first run failed" in m and "a transient failure" in m for m in told)
    assert all(r.runs == 1 for r in report.rows)  # every step measured, from empty folders


def test_a_dataset_file_is_no_data_to_bench(tmp_path):
    from brandlens.errors import UsageError

    store = tmp_path / "events.duckdb"
    store.write_bytes(b"")
    with pytest.raises(UsageError, match="a dataset file is validated already"):
        bench.run_bench(data=store, repeat=1, pandas=False)
