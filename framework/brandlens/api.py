"""The Python API; the CLI is a thin shell over these functions."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from pathlib import Path
from typing import Any

from brandlens.engine import DEFAULT_TIMEZONE, Dataset, EngineConfig, Progress
from brandlens.result import Comparison, Result, ValidationReport


def compute(
    data: str | Path,
    as_of: str | date | None = None,
    methodologies: Iterable[str] | None = None,
    brands: Iterable[str] | None = None,
    params: Mapping[str, Any] | None = None,
    *,
    mapping: str | Path | None = None,
    preset: str | None = None,
    timezone: str = DEFAULT_TIMEZONE,
    strict: bool = False,
    config: EngineConfig | None = None,
    progress: Progress | None = None,
) -> Result:
    """Compute every indicator of the chosen methodologies (default: all) per brand."""
    with Dataset(
        data, mapping=mapping, preset=preset, timezone=timezone, strict=strict, config=config
    ) as ds:
        return ds.compute(
            as_of=as_of,
            methodologies=methodologies,
            brands=brands,
            params=params,
            progress=progress,
        )


def compare(
    data: str | Path,
    as_of: str | date | None = None,
    methodologies: Iterable[str] | None = None,
    brands: Iterable[str] | None = None,
    params: Mapping[str, Any] | None = None,
    *,
    mapping: str | Path | None = None,
    preset: str | None = None,
    timezone: str = DEFAULT_TIMEZONE,
    strict: bool = False,
    config: EngineConfig | None = None,
    progress: Progress | None = None,
) -> Comparison:
    """One row per brand, the headline indicators of every chosen methodology as columns."""
    with Dataset(
        data, mapping=mapping, preset=preset, timezone=timezone, strict=strict, config=config
    ) as ds:
        return ds.compare(
            as_of=as_of,
            methodologies=methodologies,
            brands=brands,
            params=params,
            progress=progress,
        )


def validate(
    data: str | Path,
    *,
    mapping: str | Path | None = None,
    preset: str | None = None,
    timezone: str = DEFAULT_TIMEZONE,
    quarantine_out: str | Path | None = None,
    config: EngineConfig | None = None,
) -> ValidationReport:
    """Validate DATA; return counts per reason with example rows (never raises for bad rows)."""
    with Dataset(
        data,
        mapping=mapping,
        preset=preset,
        timezone=timezone,
        config=config,
        quarantine_out=quarantine_out,
    ) as ds:
        return ds.report
