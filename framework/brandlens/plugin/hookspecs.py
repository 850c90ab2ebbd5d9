"""The hooks a brandlens plugin can implement.

A plugin is a module (or object) with functions decorated by
``@brandlens.hookimpl``, exposed through the ``brandlens`` entry-point group::

    [project.entry-points.brandlens]
    my_method = "my_package.plugin"

Every hook receives a ``register`` callback (the simonw/llm pattern): the core
validates each registration where it happens and attributes any error to the
plugin that made it. ``docs/plugin-authoring.md`` documents every hook below; a
test fails when one is missing there.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

import pluggy

if TYPE_CHECKING:  # pragma: no cover
    from collections.abc import Callable
    from pathlib import Path

    from brandlens.analysis.charts import ReportContext, ReportSection
    from brandlens.data.mapping import Mapping
    from brandlens.plugin.methodology import Methodology
    from brandlens.specs.spec import MethodologySpec

hookspec = pluggy.HookspecMarker("brandlens")


class RegisterEventType(Protocol):
    def __call__(self, name: str, description: str) -> None: ...


class RegisterMethodology(Protocol):
    def __call__(
        self, methodology: Methodology, spec: str | Path | MethodologySpec | None = None
    ) -> None: ...


class RegisterPreset(Protocol):
    def __call__(self, name: str, mapping: Mapping) -> None: ...


class RegisterReportSections(Protocol):
    def __call__(
        self, methodology: str, build: Callable[[ReportContext], list[ReportSection]]
    ) -> None: ...


@hookspec
def brandlens_register_event_types(register: RegisterEventType) -> None:
    """Register event types beyond the core vocabulary.

    Call ``register(name, description)`` once per type. Rows with a registered
    type pass validation; methodologies may then use the type in their rules.

    .. versionadded:: 0.1
    """


@hookspec
def brandlens_register_methodologies(register: RegisterMethodology) -> None:
    """Register methodologies.

    Call ``register(methodology, spec=path)`` with a
    :class:`brandlens.plugin.Methodology` and the path of its spec file (or a
    :class:`brandlens.specs.spec.MethodologySpec`). Its SQL is checked when registered
    (read-only, known tables and parameters); a failing check is reported against
    this plugin and the methodology is skipped. Indicators without a spec entry,
    and spec entries without an indicator, are reported by ``brandlens plugins``
    and ``brandlens verify``.

    .. versionadded:: 0.1
    """


@hookspec
def brandlens_register_presets(register: RegisterPreset) -> None:
    """Register data presets: named column mappings for public or in-house formats.

    Call ``register(name, mapping)`` with a :class:`brandlens.plugin.Mapping`;
    users select it with ``--preset name``.

    .. versionadded:: 0.1
    """


@hookspec
def brandlens_report_sections(register: RegisterReportSections) -> None:
    """Contribute a methodology's own pictures to ``brandlens report``.

    Call ``register(methodology, build)`` with the name of a methodology this plugin
    registered and a function that takes a :class:`brandlens.plugin.ReportContext`
    (every indicator of that methodology for the report's brands) and returns a list
    of :class:`brandlens.plugin.ReportSection` holding generic
    :class:`brandlens.plugin.Chart` specs (bar, stacked bar, funnel, heatmap, quadrant,
    waterfall, line, Sankey, box). The core draws them; a chart whose indicators have no
    value is left out with a note, and a builder that raises is reported in the
    report, never fatal. Every ladder already gets its funnel and Sankey diagram
    without this hook.

    .. versionadded:: 0.1
    """
