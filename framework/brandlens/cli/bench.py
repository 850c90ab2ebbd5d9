"""``brandlens bench``: the figures the project reports, measured the way a user runs it.

Every step is its own process (``brandlens ...`` as a user types it), so its wall time
includes start-up and its peak memory is that process's own maximum resident set
(``wait4``). Beside brandlens' figures stands the *floor*: one DuckDB scan of the same
events file grouping by brand (count, distinct users, sum of amount), the least any
tool must do to read the data; and, where pandas and ``benchmarks/pandas_fast.py`` are
at hand, an analyst's plain pandas FAST for comparison.
"""

from __future__ import annotations

import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from pydantic import BaseModel, Field

from brandlens import __version__

FLOOR_SQL = (
    "SELECT brand, count(*), count(DISTINCT user_id), sum(amount) "
    "FROM read_parquet($p) GROUP BY brand"
)


class BenchRow(BaseModel):
    """One measured step."""

    step: str
    seconds: float
    events_per_second: float | None
    peak_rss_mb: float
    ratio_to_floor: float | None = Field(None, description="seconds / the floor's seconds")
    note: str = ""


class BenchReport(BaseModel):
    """What ``brandlens bench`` prints."""

    brandlens_version: str
    duckdb_version: str
    machine: str
    cores: int
    memory_gb: float
    data: str
    events: int
    rows: list[BenchRow]


def _run(cmd: list[str], env: dict[str, str] | None = None) -> tuple[float, float, str]:
    """(seconds, peak RSS in MB, stderr) of one command; a failure is raised with its stderr."""
    began = time.perf_counter()
    proc = subprocess.Popen(
        cmd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env={**os.environ, **(env or {}), "NO_COLOR": "1"},
    )
    assert proc.stderr is not None
    err = proc.stderr.read().decode("utf-8", "replace")
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - began
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode not in (0,):
        last = err.strip().splitlines()[-1] if err.strip() else f"exit {proc.returncode}"
        raise RuntimeError(f"{' '.join(cmd[:4])} ...: {last}")
    return seconds, usage.ru_maxrss / 1024, err


def _brandlens(*args: str) -> list[str]:
    return [sys.executable, "-m", "brandlens.cli.app", *args]


def _events_file(data: Path) -> Path:
    found = sorted(data.glob("events.*"))
    if not found:
        raise FileNotFoundError(f"{data}: no events file")
    return found[0]


def _count_events(events: Path) -> int:
    import duckdb

    con = duckdb.connect()
    reader = "read_parquet" if events.name.endswith(".parquet") else "read_csv"
    return int(con.execute(f"SELECT count(*) FROM {reader}($p)", {"p": str(events)}).fetchone()[0])


def _pandas_script() -> Path | None:
    here = Path(__file__).resolve()
    for parent in here.parents:
        candidate = parent / "benchmarks" / "pandas_fast.py"
        if candidate.is_file():
            return candidate
    return None


def run_bench(
    users: int = 100_000,
    data: Path | None = None,
    methodologies: list[str] | None = None,
    memory_limit: str | None = None,
    pandas: bool = True,
    progress: object = None,
) -> BenchReport:
    """Generate (or reuse) a market of ``users`` users and measure every step on it."""
    import duckdb

    from brandlens.data.market import MARKET_VERSION
    from brandlens.data.store import cache_dir
    from brandlens.fileio import AtomicFile
    from brandlens.plugin.host import registry

    say = progress if callable(progress) else (lambda _msg: None)
    rows: list[BenchRow] = []
    if data is None:
        data = cache_dir() / f"bench-{MARKET_VERSION}-{users}"
        marker = data / ".complete"
        if not marker.exists():
            say(f"generating a market of {users:,} users in {data}")
            seconds, rss, _ = _run(_brandlens("generate", str(data), "--users", str(users), "-q"))
            with AtomicFile(marker) as tmp:  # a killed run leaves no half-written marker
                tmp.write_text(MARKET_VERSION)
            rows.append(
                BenchRow(step="generate", seconds=seconds, events_per_second=None, peak_rss_mb=rss)
            )
    events_file = _events_file(data)
    events = _count_events(events_file)
    for row in rows:
        row.events_per_second = events / row.seconds
    limit = ["--memory-limit", memory_limit] if memory_limit else []
    names = methodologies or sorted(registry().methodologies)
    m_args = [a for n in names for a in ("-m", n)]

    say("floor: one GROUP BY brand scan")
    floor_code = (
        "import duckdb,sys; c=duckdb.connect(); "
        f"c.execute({FLOOR_SQL!r}, {{'p': sys.argv[1]}}).fetchall()"
    )
    floor, rss, _ = _run([sys.executable, "-c", floor_code, str(events_file)])
    rows.append(
        BenchRow(
            step="floor (one scan)",
            seconds=floor,
            events_per_second=events / floor,
            peak_rss_mb=rss,
            ratio_to_floor=1.0,
        )
    )

    def measure(step: str, args: list[str], env: dict[str, str], note: str = "") -> None:
        say(step)
        with tempfile.TemporaryDirectory(prefix="brandlens-bench-") as out:
            seconds, rss, _ = _run(
                _brandlens(*args, "-f", "json", "-o", str(Path(out) / "out.json")), env
            )
        rows.append(
            BenchRow(
                step=step,
                seconds=seconds,
                events_per_second=events / seconds,
                peak_rss_mb=rss,
                ratio_to_floor=seconds / floor,
                note=note,
            )
        )

    with tempfile.TemporaryDirectory(prefix="brandlens-bench-cache-") as fresh:
        cold = {"BRANDLENS_CACHE_DIR": fresh}
        measure(
            "compute, first run (load + validate + all)",
            ["compute", str(data), *m_args, *limit, "-q"],
            cold,
            "validation included; keeps the validated dataset",
        )
        measure(
            "compute, repeated (cached dataset)",
            ["compute", str(data), *m_args, *limit, "-q"],
            cold,
        )
        for name in names:
            measure(
                f"compute -m {name} (cached dataset)",
                ["compute", str(data), "-m", name, *limit, "-q"],
                cold,
            )
    with tempfile.TemporaryDirectory(prefix="brandlens-bench-cache-") as fresh:
        measure(
            "validate (load + validate only)",
            ["validate", str(data), *limit],
            {"BRANDLENS_CACHE_DIR": fresh},
        )
    with tempfile.TemporaryDirectory(prefix="brandlens-bench-cache-") as fresh:
        measure(
            "compute -m fast, first run",
            ["compute", str(data), "-m", "fast", *limit, "-q"],
            {"BRANDLENS_CACHE_DIR": fresh},
            "validation included",
        )
    script = _pandas_script() if pandas else None
    if script is not None:
        say("pandas FAST baseline")
        try:
            seconds, rss, _ = _run([sys.executable, str(script), str(data)])
            rows.append(
                BenchRow(
                    step="pandas FAST (benchmarks/pandas_fast.py)",
                    seconds=seconds,
                    events_per_second=events / seconds,
                    peak_rss_mb=rss,
                    ratio_to_floor=seconds / floor,
                    note="no validation",
                )
            )
        except RuntimeError as e:
            rows.append(
                BenchRow(
                    step="pandas FAST (benchmarks/pandas_fast.py)",
                    seconds=0.0,
                    events_per_second=None,
                    peak_rss_mb=0.0,
                    note=f"not run: {e}",
                )
            )
    return BenchReport(
        brandlens_version=__version__,
        duckdb_version=duckdb.__version__,
        machine=f"{platform.system()} {platform.machine()}",
        cores=os.cpu_count() or 0,
        memory_gb=round(_ram() / 1e9, 1),
        data=str(data),
        events=events,
        rows=rows,
    )


def _ram() -> int:
    from brandlens.engine.runs import physical_memory

    return physical_memory()
