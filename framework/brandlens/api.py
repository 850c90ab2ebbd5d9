"""The Python API; the CLI is a thin shell over these functions."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from brandlens.analysis import MIN_BASE
from brandlens.analysis.model import Comparison, FunnelReport
from brandlens.analysis.report import Report
from brandlens.engine.result import (
    CacheReport,
    EntityListing,
    LoadReport,
    Result,
    ValidationReport,
)
from brandlens.engine.runs import Dataset, EngineConfig, Progress
from brandlens.engine.watch import LoadProgress
from brandlens.errors import UsageError


def _dataset(
    data: str | Path,
    mapping: str | Path | None,
    preset: str | None,
    timezone: str | None,
    ts_timezone: str | None,
    strict: bool,
    config: EngineConfig | None,
    cache: bool | None,
    load_progress: LoadProgress | None,
) -> Dataset:
    """DATA opened and validated (or found in the cache) for one call of the API."""
    return Dataset(
        data,
        mapping=mapping,
        preset=preset,
        timezone=timezone,
        ts_timezone=ts_timezone,
        strict=strict,
        config=config,
        cache=cache,
        load_progress=load_progress,
    )


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
    ts_timezone: str | None = None,
    strict: bool = False,
    config: EngineConfig | None = None,
    progress: Progress | None = None,
    cache: bool | None = None,
    load_progress: LoadProgress | None = None,
) -> Result:
    """Compute every indicator of the chosen methodologies (default: all) per brand.

    A brand without events is a ``UsageError``, as in ``compare``; an as-of date outside
    the data is a ``DataRangeWarning``, however far (an indicator's window may look years
    back).
    """
    from brandlens.analysis.checks import check_choice

    brands = None if brands is None else list(brands)
    with _dataset(
        data, mapping, preset, timezone, ts_timezone, strict, config, cache, load_progress
    ) as ds:
        check_choice(ds, as_of, brands)
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
    currency: str = "CNY",
    category: str | None = None,
    across_categories: bool = False,
    baseline: str | None = None,
    benchmark: str | Path | None = None,
    funnel: bool = False,
    min_base: int = MIN_BASE,
    mapping: str | Path | None = None,
    preset: str | None = None,
    timezone: str | None = None,
    ts_timezone: str | None = None,
    strict: bool = False,
    config: EngineConfig | None = None,
    progress: Progress | None = None,
    cache: bool | None = None,
    load_progress: LoadProgress | None = None,
) -> Comparison:
    """Compare brands on the headline indicators of the chosen methodologies (default: all).

    Besides the values: the best brand per indicator, ranks and a composite per
    methodology, Kendall's tau-b and W between methodologies, each brand within its
    main category (or ``category``; ``across_categories=True`` turns it off), due
    target achievement, and on request change since ``baseline`` (``previous``,
    ``yoy`` or a date), placement against a ``benchmark`` file and the common
    ``funnel`` under every ladder. See docs/comparing.md.
    """
    from brandlens.analysis.compare import CompareOptions
    from brandlens.analysis.compare import compare as run_compare

    options = _options(
        CompareOptions,
        currency=currency,
        category=category,
        across_categories=across_categories,
        baseline=baseline,
        benchmark=benchmark,
        funnel=funnel,
        min_base=min_base,
    )
    with _dataset(
        data, mapping, preset, timezone, ts_timezone, strict, config, cache, load_progress
    ) as ds:
        return run_compare(ds, as_of, methodologies, brands, params, progress, options)


def report(
    data: str | Path,
    as_of: str | date | None = None,
    methodologies: Iterable[str] | None = None,
    brands: Iterable[str] | None = None,
    params: Mapping[str, Any] | None = None,
    *,
    currency: str = "CNY",
    baseline: str | None = None,
    min_base: int = MIN_BASE,
    mapping: str | Path | None = None,
    preset: str | None = None,
    timezone: str | None = None,
    ts_timezone: str | None = None,
    strict: bool = False,
    config: EngineConfig | None = None,
    progress: Progress | None = None,
    cache: bool | None = None,
    load_progress: LoadProgress | None = None,
) -> Report:
    """The report model behind ``brandlens report``: the comparison, every ladder's funnel
    and flow, and each methodology's own charts (see docs/report.md).

    ``brandlens.cli.report_html.render_html(report)`` turns it into one offline HTML file.
    """
    from brandlens.analysis.report import ReportOptions, build_report

    options = _options(ReportOptions, currency=currency, baseline=baseline, min_base=min_base)
    with _dataset(
        data, mapping, preset, timezone, ts_timezone, strict, config, cache, load_progress
    ) as ds:
        return build_report(ds, as_of, methodologies, brands, params, progress, options)


def _options(model: type[BaseModel], **values: Any) -> Any:
    """Options as a model; a bad value is a usage error naming it."""
    try:
        return model(**values)
    except ValidationError as e:
        raise UsageError(str(e.errors()[0]["msg"]).removeprefix("Value error, ")) from None


def funnel(
    data: str | Path,
    brand: str,
    methodologies: Iterable[str] | None = None,
    as_of: str | date | None = None,
    params: Mapping[str, Any] | None = None,
    *,
    mapping: str | Path | None = None,
    preset: str | None = None,
    timezone: str | None = None,
    ts_timezone: str | None = None,
    strict: bool = False,
    config: EngineConfig | None = None,
    cache: bool | None = None,
    load_progress: LoadProgress | None = None,
) -> FunnelReport:
    """One brand's stages on every ladder, with counts, shares and the week's flow."""
    from brandlens.analysis.funnel import funnel_report

    with _dataset(
        data, mapping, preset, timezone, ts_timezone, strict, config, cache, load_progress
    ) as ds:
        return funnel_report(ds, brand, methodologies, as_of, params)


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
    ts_timezone: str | None = None,
    strict: bool = False,
    config: EngineConfig | None = None,
    cache: bool | None = None,
    load_progress: LoadProgress | None = None,
) -> EntityListing:
    """The rows of one entity table (e.g. SUPER's products) for the chosen brands.

    Brands and as-of date are checked as ``compute`` checks them.
    """
    from brandlens.analysis.checks import check_choice

    if brands is not None:
        brands = [brands] if isinstance(brands, str) else list(brands)
    with _dataset(
        data, mapping, preset, timezone, ts_timezone, strict, config, cache, load_progress
    ) as ds:
        check_choice(ds, as_of, brands)
        return ds.entities(methodology, table, brands=brands, as_of=as_of, params=params)


def validate(
    data: str | Path,
    *,
    mapping: str | Path | None = None,
    preset: str | None = None,
    timezone: str | None = None,
    ts_timezone: str | None = None,
    quarantine_out: str | Path | None = None,
    config: EngineConfig | None = None,
    cache: bool | None = None,
    load_progress: LoadProgress | None = None,
) -> ValidationReport:
    """Validate DATA; return counts per reason with example rows (never raises for bad rows)."""
    with Dataset(
        data,
        mapping=mapping,
        preset=preset,
        timezone=timezone,
        ts_timezone=ts_timezone,
        config=config,
        quarantine_out=quarantine_out,
        cache=cache,
        load_progress=load_progress,
    ) as ds:
        return ds.report


def load(
    data: str | Path,
    into: str | Path,
    *,
    mapping: str | Path | None = None,
    preset: str | None = None,
    timezone: str | None = None,
    ts_timezone: str | None = None,
    strict: bool = False,
    quarantine_out: str | Path | None = None,
    config: EngineConfig | None = None,
    load_progress: LoadProgress | None = None,
    cluster: bool = False,
) -> LoadReport:
    """Validate DATA once into the dataset file ``into``, which every command takes as DATA.

    ``cluster`` writes a log in time order month by month, each month by user, so later
    commands group each user's events faster (see ``brandlens.data.layout``).
    """
    with Dataset(
        data,
        mapping=mapping,
        preset=preset,
        timezone=timezone,
        ts_timezone=ts_timezone,
        strict=strict,
        config=config,
        quarantine_out=quarantine_out,
        into=into,
        cluster=cluster,
        load_progress=load_progress,
    ) as ds:
        laid = ds.layout
        assert laid is not None  # every --into run records its layout
        return LoadReport(
            **ds.report.model_dump(),
            dataset=str(into),
            clustered=laid.clustered,
            same_user_share=laid.same_user_share,
            months=laid.months,
        )


def cache_info() -> CacheReport:
    """Where the cache of validated datasets is, and what it holds."""
    from brandlens.data.store import describe_cache

    return describe_cache()


def clear_cache() -> CacheReport:
    """Remove every cached dataset."""
    from brandlens.data import store

    removed, _ = store.clear_cache()
    return store.describe_cache(removed)
