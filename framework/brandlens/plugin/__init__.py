"""The plugin layer: hooks, what a methodology declares, the host that registers plugins.

This package is also the public plugin API: everything a methodology plugin may
import is re-exported here, so a plugin writes one import line::

    from brandlens.plugin import Indicator, Methodology, Stage, StageLadder

The names are resolved on first use, so importing the host does not import
SQLGlot. Besides these, plugins may use ``brandlens.hookimpl``, the CLV models in
``brandlens.stats.clv`` and the pytest helper ``brandlens.specs.testing``.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from brandlens.analysis.charts import Chart, Link, Point, ReportContext, ReportSection, Series
    from brandlens.data.mapping import Mapping
    from brandlens.data.schema import EVENT_GROUPS
    from brandlens.engine.ladders import (
        AllOf,
        AnyOf,
        Condition,
        Evidence,
        Stage,
        StageLadder,
        deepening_sql,
        flow_sql,
        stage_counts_sql,
        stage_total_sql,
        stage_users_sql,
    )
    from brandlens.plugin.methodology import (
        EntityTable,
        Indicator,
        IndicatorContext,
        Methodology,
        NoParameters,
        Relation,
        Value,
    )
    from brandlens.plugin.sqlcheck import quote_ident
    from brandlens.specs.spec import packaged_spec

PUBLIC: dict[str, str] = {
    **dict.fromkeys(
        [
            "EntityTable",
            "Indicator",
            "IndicatorContext",
            "Methodology",
            "NoParameters",
            "Relation",
            "Value",
        ],
        "brandlens.plugin.methodology",
    ),
    **dict.fromkeys(
        [
            "AllOf",
            "AnyOf",
            "Condition",
            "Evidence",
            "Stage",
            "StageLadder",
            "deepening_sql",
            "flow_sql",
            "stage_counts_sql",
            "stage_total_sql",
            "stage_users_sql",
        ],
        "brandlens.engine.ladders",
    ),
    **dict.fromkeys(
        ["Chart", "Link", "Point", "ReportContext", "ReportSection", "Series"],
        "brandlens.analysis.charts",
    ),
    "Mapping": "brandlens.data.mapping",
    "EVENT_GROUPS": "brandlens.data.schema",
    "quote_ident": "brandlens.plugin.sqlcheck",
    "packaged_spec": "brandlens.specs.spec",
}
"""Public name -> the module that defines it."""

__all__ = [
    "EVENT_GROUPS",
    "AllOf",
    "AnyOf",
    "Chart",
    "Condition",
    "EntityTable",
    "Evidence",
    "Indicator",
    "IndicatorContext",
    "Link",
    "Mapping",
    "Methodology",
    "NoParameters",
    "Point",
    "Relation",
    "ReportContext",
    "ReportSection",
    "Series",
    "Stage",
    "StageLadder",
    "Value",
    "deepening_sql",
    "flow_sql",
    "packaged_spec",
    "quote_ident",
    "stage_counts_sql",
    "stage_total_sql",
    "stage_users_sql",
]


def __getattr__(name: str) -> Any:
    if name in PUBLIC:
        value = getattr(import_module(PUBLIC[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'brandlens.plugin' has no attribute {name!r}")
