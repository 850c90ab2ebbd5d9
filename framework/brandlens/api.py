"""The Python API; the CLI is a thin shell over these functions."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from brandlens import arguments as args
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
    _check_common(data, mapping, preset, timezone, ts_timezone, config, load_progress)
    args.flag(strict, "strict")
    args.flag(cache, "cache", optional=True)
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


def _check_common(
    data: object,
    mapping: object,
    preset: object,
    timezone: object,
    ts_timezone: object,
    config: object,
    load_progress: object,
) -> None:
    """The arguments every call takes, checked before anything is opened."""
    from brandlens.data.sources import InMemoryData

    if not isinstance(data, InMemoryData):
        args.path(data, "data", optional=False)
    if mapping is not None and not isinstance(mapping, BaseModel):  # a Mapping model too
        args.path(mapping, "mapping")
    args.text(preset, "preset")
    args.text(timezone, "timezone")
    args.text(ts_timezone, "ts_timezone")
    args.instance(config, "config", EngineConfig)
    args.function(load_progress, "load_progress")


def _check_choice(
    as_of: object, methodologies: object, brands: object, params: object, progress: object = None
) -> tuple[Any, list[str] | None, list[str] | None, dict[str, Any] | None]:
    """as_of, methodologies, brands and params checked; names as lists."""
    args.function(progress, "progress")
    return (
        args.day(as_of),
        args.names(methodologies, "methodologies"),
        args.names(brands, "brands"),
        args.params(params),
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

    as_of, methodologies, brands, params = _check_choice(
        as_of, methodologies, brands, params, progress
    )
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
    baseline: str | date | None = None,
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

    as_of, methodologies, brands, params = _check_choice(
        as_of, methodologies, brands, params, progress
    )
    args.flag(across_categories, "across_categories")
    args.flag(funnel, "funnel")
    baseline = args.baseline(baseline)
    args.path(benchmark, "benchmark")
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
    baseline: str | date | None = None,
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

    as_of, methodologies, brands, params = _check_choice(
        as_of, methodologies, brands, params, progress
    )
    baseline = args.baseline(baseline)
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
        err = e.errors()[0]
        message = str(err["msg"]).removeprefix("Value error, ")
        field = ".".join(str(x) for x in err["loc"])
        if field and not message.startswith("--"):  # a validator's message names its option
            message = f"{field}: {message}"
        raise UsageError(message) from None


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

    brand = args.name(brand, "brand")
    as_of, methodologies, _, params = _check_choice(as_of, methodologies, None, params)
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

    methodology = args.name(methodology, "methodology")
    args.text(table, "table")
    as_of, _, brands, params = _check_choice(as_of, None, brands, params)
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
    _check_common(data, mapping, preset, timezone, ts_timezone, config, load_progress)
    args.path(quarantine_out, "quarantine_out")
    args.flag(cache, "cache", optional=True)
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
    _check_common(data, mapping, preset, timezone, ts_timezone, config, load_progress)
    args.path(into, "into", optional=False)
    args.path(quarantine_out, "quarantine_out")
    args.flag(strict, "strict")
    args.flag(cluster, "cluster")
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
