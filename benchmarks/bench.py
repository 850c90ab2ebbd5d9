"""Benchmarks whose figures the project reports (not timed unit tests).

    python benchmarks/bench.py                 # generation throughput + a full run at demo size
    python benchmarks/bench.py --users 1000000 # the 100-million-event market (disk: ~1.5 GB)

Prints one line per measurement: generation events/s, validation rows/s, compute
seconds per methodology, and the cold start of `brandlens --help`.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument(
        "--compute-users",
        type=int,
        default=20_000,
        help="size of the market used for load and compute timings",
    )
    parser.add_argument("--keep", type=Path, default=None, help="write the data here")
    args = parser.parse_args()

    from brandlens.engine import Dataset
    from brandlens.market import generate
    from brandlens.plugins import registry

    root = args.keep or Path(tempfile.mkdtemp(prefix="brandlens-bench-"))
    big = generate(root / "generate", users=args.users, seed=0)
    size = sum(f.stat().st_size for f in (root / "generate").iterdir()) / 1e6
    print(
        f"generate: {big.rows['events']:,} events for {args.users:,} users in "
        f"{big.seconds:.1f} s = {big.events_per_second:,.0f} events/s ({size:,.0f} MB parquet)"
    )

    small = generate(root / "compute", users=args.compute_users, seed=0)
    began = time.perf_counter()
    with Dataset(root / "compute") as ds:
        loaded = time.perf_counter() - began
        print(
            f"load+validate: {small.rows['events']:,} events in {loaded:.1f} s = "
            f"{small.rows['events'] / loaded:,.0f} rows/s"
        )
        for name in registry().methodologies:
            began = time.perf_counter()
            result = ds.compute(methodologies=[name])
            print(
                f"compute {name}: {time.perf_counter() - began:.2f} s, "
                f"{len(result.results)} values, {len(result.errors)} errors"
            )

    exe = Path(sys.executable).with_name("brandlens")
    runs = []
    for _ in range(5):
        began = time.perf_counter()
        subprocess.run(
            [str(exe), "--help"],
            capture_output=True,
            check=True,
            env={**os.environ, "NO_COLOR": "1"},
        )
        runs.append(time.perf_counter() - began)
    print(f"brandlens --help: median {sorted(runs)[2]:.2f} s over 5 runs")


if __name__ == "__main__":
    main()
