"""Figures `brandlens bench` does not take: generation throughput and start-up time.

    brandlens bench --users 100000            # load, validation, methodologies, floor, pandas
    python benchmarks/bench.py                 # generation events/s, `brandlens --help` start-up
    python benchmarks/bench.py --users 1000000 # the 100-million-event market (disk: ~0.9 GB)

Prints one line per measurement.
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
    parser.add_argument("--keep", type=Path, default=None, help="write the data here")
    args = parser.parse_args()

    from brandlens.data.market import generate

    root = args.keep or Path(tempfile.mkdtemp(prefix="brandlens-bench-"))
    # the script's own folder: a second run with --keep regenerates over the first
    big = generate(root / "generate", users=args.users, seed=0, overwrite=True)
    size = sum(f.stat().st_size for f in (root / "generate").iterdir()) / 1e6
    print(
        f"generate: {big.rows['events']:,} events for {args.users:,} users in "
        f"{big.seconds:.1f} s = {big.events_per_second:,.0f} events/s ({size:,.0f} MB parquet)"
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
