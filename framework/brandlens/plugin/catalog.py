"""What is installed: plugins, methodologies, indicators, explanations — as models."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field

from brandlens.errors import UsageError
from brandlens.plugin.host import registry
from brandlens.specs.spec import property_text

if TYPE_CHECKING:  # pragma: no cover
    from brandlens.plugin.methodology import Indicator


class PluginEntry(BaseModel):
    name: str
    origin: str
    distribution: str | None
    version: str | None
    hooks: list[str]
    methodologies: list[str]
    event_types: int
    presets: list[str]
    errors: list[str]


class PluginList(BaseModel):
    plugins: list[PluginEntry]


class MethodologyEntry(BaseModel):
    name: str
    title: str
    version: str
    source: str
    plugin: str
    indicators: int
    headline: list[str]
    entities: list[str] = Field(default_factory=list, description="entity tables to list")


class MethodologyList(BaseModel):
    methodologies: list[MethodologyEntry]


class IndicatorEntry(BaseModel):
    id: str
    title: str
    unit: str
    direction: str
    dimension: str | None
    headline: bool


class IndicatorList(BaseModel):
    indicators: list[IndicatorEntry]


class ParameterEntry(BaseModel):
    name: str
    default: Any
    description: str
    source: str | None


class Explanation(BaseModel):
    id: str
    title: str
    title_zh: str | None
    methodology: str
    methodology_title: str
    unit: str
    direction: str
    dimension: str | None
    keys: list[str] | None
    headline: bool
    definition: str
    formula: str | None
    sql: str | None
    requires: list[str]
    parameters: list[ParameterEntry]
    properties: list[str]
    source: str


def plugins() -> PluginList:
    reg = registry()
    return PluginList(
        plugins=[
            PluginEntry(
                name=p.name,
                origin=p.origin,
                distribution=p.distribution,
                version=p.version,
                hooks=p.hooks,
                methodologies=p.methodologies,
                event_types=len(p.event_types),
                presets=p.presets,
                errors=p.errors,
            )
            for p in reg.plugins
        ]
    )


def methodologies() -> MethodologyList:
    return MethodologyList(
        methodologies=[
            MethodologyEntry(
                name=c.name,
                title=c.methodology.title,
                version=c.methodology.version,
                source=c.methodology.source,
                plugin=c.plugin,
                indicators=len(c.methodology.indicators),
                headline=[i.id for i in c.methodology.indicators if i.headline],
                entities=[t.name for t in c.methodology.entities],
            )
            for c in registry().methodologies.values()
        ]
    )


def _named(reg: Any, given: str, problem: str) -> str:
    """The registered methodology ``given`` names (any case), or a usage error."""
    name = reg.methodology_name(given)
    if name is not None:
        return name
    close = reg.close_methodologies(given)
    meant = f"; did you mean {', '.join(close)}?" if close else ""
    known = ", ".join(reg.methodologies) or "none installed"
    why = reg.unregistered(given)  # a plugin that failed: its reason, as compute says it
    raise UsageError(f"{problem} {given!r}{meant} (available: {known}){why}")


def indicators(methodology: str | None = None) -> IndicatorList:
    reg = registry()
    if methodology is not None:
        methodology = _named(reg, methodology, "unknown methodology")
    chosen = [reg.methodologies[methodology]] if methodology else reg.methodologies.values()
    return IndicatorList(
        indicators=[
            IndicatorEntry(
                id=i.id,
                title=i.title,
                unit=i.unit,
                direction=i.direction,
                dimension=i.dimension,
                headline=i.headline,
            )
            for c in chosen
            for i in c.methodology.indicators
        ]
    )


def find_indicator(reg: Any, indicator_id: str) -> tuple[Any, Indicator]:
    """The methodology and indicator ``indicator_id`` names, in any case (``FAST.thriving``
    as ``fast.thriving``), or a usage error listing the methodology's indicators."""
    given, _, rest = indicator_id.partition(".")
    method = _named(reg, given, f"unknown indicator {indicator_id!r}: no methodology")
    checked = reg.methodologies[method]
    if not rest:  # "fast": a methodology, not one of its indicators ("fast." was said)
        known = ", ".join(i.id for i in checked.methodology.indicators)
        raise UsageError(f"{indicator_id!r} is a methodology; name one of its indicators: {known}")
    indicator_id = f"{method}.{rest.lower()}"
    try:
        return checked, checked.methodology.indicator(indicator_id)
    except KeyError:
        known = ", ".join(i.id for i in checked.methodology.indicators)
        raise UsageError(f"unknown indicator {indicator_id!r} (known: {known})") from None


def explain(indicator_id: str) -> Explanation:
    reg = registry()
    checked, ind = find_indicator(reg, indicator_id)
    m = checked.methodology
    used = checked.indicator_sql[ind.id].parameters if ind.id in checked.indicator_sql else None
    for rel in checked.relations_needed([ind.id]):
        if used is not None and rel in checked.relation_sql:
            used = used | checked.relation_sql[rel].parameters
        elif used is not None:
            lad = next(x for x in m.ladders if x.name == rel)
            used = used | lad.parameter_refs()
    spec = checked.spec.indicator(ind.id) if checked.spec else None
    if spec is not None and spec.parameters:
        used = set(spec.parameters) if used is None else used | set(spec.parameters)
    defaults = m.parameters().model_dump(mode="json")
    param_specs = checked.spec.parameters if checked.spec else {}
    params = [
        ParameterEntry(
            name=n,
            default=defaults[n],
            description=(param_specs[n].description if n in param_specs else f.description) or "",
            source=param_specs[n].source if n in param_specs else None,
        )
        for n, f in m.parameters.model_fields.items()
        if used is None or n in used
    ]
    return Explanation(
        id=ind.id,
        title=ind.title,
        title_zh=spec.title.zh if spec else None,
        methodology=m.name,
        methodology_title=m.title,
        unit=ind.unit or "",
        direction=ind.direction,
        dimension=ind.dimension,
        keys=list(ind.keys) if ind.keys else None,
        headline=ind.headline,
        definition=spec.definition if spec else ind.description,
        formula=spec.formula if spec else None,
        sql=ind.sql,
        requires=list(ind.requires),
        parameters=params,
        properties=[property_text(p) for p in spec.properties] if spec else [],
        source=m.source,
    )
