"""The Python API; the CLI is a thin shell over these functions."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from pathlib import Path
from typing import Any

from brandlens.engine.result import CacheReport, Comparison, EntityListing, Result, ValidationReport
from brandlens.engine.runs import Dataset, EngineConfig, Progress


def compute(
    data: str | Path,
    as_of: str | date | None = None,
    methodologies: Iterable[str] | None = None,
    brands: Iterable[str] | None = None,
    params: Mapping[str, Any] | None = None,
    *,
    mapping: str | Path | None = None,
    preset: str | None = None,
    timezone: str | None = None,
    strict: bool = False,
    config: EngineConfig | None = None,
    progress: Progress | None = None,
    cache: bool | None = None,
) -> Result:
    """Compute every indicator of the chosen methodologies (default: all) per brand."""
    with Dataset(
        data,
        mapping=mapping,
        preset=preset,
        timezone=timezone,
        strict=strict,
        config=config,
        cache=cache,
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
    timezone: str | None = None,
    strict: bool = False,
    config: EngineConfig | None = None,
    progress: Progress | None = None,
    cache: bool | None = None,
) -> Comparison:
    """One row per brand, the headline indicators of every chosen methodology as columns."""
    with Dataset(
        data,
        mapping=mapping,
        preset=preset,
        timezone=timezone,
        strict=strict,
        config=config,
        cache=cache,
    ) as ds:
        return ds.compare(
            as_of=as_of,
            methodologies=methodologies,
            brands=brands,
            params=params,
            progress=progress,
        )


def entities(
    data: str | Path,
    methodology: str,
    table: str | None = None,
    brands: str | Iterable[str] | None = None,
    as_of: str | date | None = None,
    params: Mapping[str, Any] | None = None,
    *,
    mapping: str | Path | None = None,
    preset: str | None = None,
    timezone: str | None = None,
    strict: bool = False,
    config: EngineConfig | None = None,
    cache: bool | None = None,
) -> EntityListing:
    """The rows of one entity table (e.g. SUPER's products) for the chosen brands."""
    with Dataset(
        data,
        mapping=mapping,
        preset=preset,
        timezone=timezone,
        strict=strict,
        config=config,
        cache=cache,
    ) as ds:
        return ds.entities(methodology, table, brands=brands, as_of=as_of, params=params)


def validate(
    data: str | Path,
    *,
    mapping: str | Path | None = None,
    preset: str | None = None,
    timezone: str | None = None,
    quarantine_out: str | Path | None = None,
    config: EngineConfig | None = None,
    cache: bool | None = None,
) -> ValidationReport:
    """Validate DATA; return counts per reason with example rows (never raises for bad rows)."""
    with Dataset(
        data,
        mapping=mapping,
        preset=preset,
        timezone=timezone,
        config=config,
        quarantine_out=quarantine_out,
        cache=cache,
    ) as ds:
        return ds.report


def load(
    data: str | Path,
    into: str | Path,
    *,
    mapping: str | Path | None = None,
    preset: str | None = None,
    timezone: str | None = None,
    strict: bool = False,
    quarantine_out: str | Path | None = None,
    config: EngineConfig | None = None,
) -> ValidationReport:
    """Validate DATA once into the dataset file ``into``, which every command takes as DATA."""
    with Dataset(
        data,
        mapping=mapping,
        preset=preset,
        timezone=timezone,
        strict=strict,
        config=config,
        quarantine_out=quarantine_out,
        into=into,
    ) as ds:
        return ds.report


def cache_info() -> CacheReport:
    """Where the cache of validated datasets is, and what it holds."""
    from brandlens.data.store import describe_cache

    return describe_cache()


def clear_cache() -> CacheReport:
    """Remove every cached dataset."""
    from brandlens.data import store

    removed, _ = store.clear_cache()
    return store.describe_cache(removed)
