"""The same plugins on Spark (local[*]): identical JSON to DuckDB on a generated market
of about 200,000 events, and every storyboard's hand-computed values on Spark.

Runs when Java and pyspark are present (the test extra installs pyspark); one local
Spark is started per process.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(
    shutil.which("java") is None or importlib.util.find_spec("pyspark") is None,
    reason="the Spark engine needs Java 17+ and pyspark",
)

ROOT = Path(__file__).resolve().parents[1]
STORYBOARDS = [
    "tests/test_fast_storyboard.py",
    "tests/test_argo_storyboard.py",
    "tests/test_super_storyboard.py",
    "tests/test_engine_storyboard.py",
    "tests/test_clv_by_hand.py",
]


@pytest.fixture(scope="module")
def market_200k(tmp_path_factory):
    from brandlens.data.market import generate

    out = tmp_path_factory.mktemp("market200k")
    generate(out, users=2000, seed=0)
    return out


def test_market_json_identical_on_both_engines(market_200k):
    from brandlens.engine.runs import Dataset, EngineConfig

    texts = {}
    for engine in ("duckdb", "spark"):
        with Dataset(market_200k, config=EngineConfig(engine=engine), cache=False) as ds:
            result = ds.compute(as_of="2025-06-30")
        assert ds.info.rows_read > 200_000
        assert not result.errors, result.errors[:3]
        texts[engine] = result.model_dump_json(indent=2)
    assert texts["spark"] == texts["duckdb"]


def test_storyboards_hold_on_spark():
    # the storyboards' expected values are computed by hand; on Spark they must hold too
    env = {**os.environ, "BRANDLENS_ENGINE": "spark"}
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *STORYBOARDS]
    run = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
    assert run.returncode == 0, run.stdout[-3000:]


@pytest.mark.parametrize(
    "args",
    [
        ["entities", "-m", "super", "-b", "Lumi"],
        ["funnel", "-b", "Lumi"],
        ["compare", "-m", "fast", "-m", "goal", "--funnel"],
    ],
    ids=["entities", "funnel", "compare"],
)
def test_other_commands_identical_on_both_engines(market_200k, args):
    out = {}
    for engine in ("duckdb", "spark"):
        run = subprocess.run(
            [
                sys.executable,
                "-m",
                "brandlens.cli.app",
                args[0],
                str(market_200k),
                *args[1:],
                "--format",
                "json",
                "--engine",
                engine,
            ],
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert run.returncode == 0, run.stderr
        out[engine] = run.stdout
    assert out["spark"] == out["duckdb"]


def test_cli_engine_spark_is_quiet(tmp_path, market_200k):
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "brandlens.cli.app",
            "compute",
            str(market_200k),
            "-m",
            "grow",
            "--engine",
            "spark",
            "--format",
            "json",
            "-q",
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert run.returncode == 0, run.stderr
    assert run.stderr == ""  # no Java start-up chatter, no progress bars
    assert '"grow.gmv_change"' in run.stdout


def test_unknown_engine_is_a_usage_error(tmp_path, market_200k):
    run = subprocess.run(
        [sys.executable, "-m", "brandlens.cli.app", "compute", str(market_200k), "--engine", "x"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 2
    assert (
        run.stderr.strip()
        == "brandlens: error: --engine: unknown engine 'x' (available: duckdb, spark)"
    )
