"""Declarative metric specs: what each indicator means and which properties it must honour.

A spec file (YAML, one per methodology) is validated by the models below. Plugins
pass theirs when they register a methodology; titles, definitions and units are
then written once, in the spec, and ``brandlens explain``, the docs pages and the
verification harness all read them from there.
"""

from __future__ import annotations

import ast
import operator
import re
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from brandlens.data.schema import ColumnSpec, Event, columns_of
from brandlens.errors import PluginError
from brandlens.fileio import read_small_text

Unit = Literal["users", "ratio", "currency", "count", "index", "days"]
Direction = Literal["higher", "lower"]
_ID = r"^[a-z][a-z0-9_]*\.[a-z0-9_]+$"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Title(_Strict):
    en: str = Field(min_length=1)
    zh: str = Field(min_length=1)


class ParameterSpec(_Strict):
    """A parameter's default and where that default comes from."""

    default: Any
    description: str = Field(min_length=1)
    source: str = Field(
        description="a URL, or 'assumption: <reason>' when no source publishes the value"
    )

    @field_validator("source")
    @classmethod
    def _source(cls, v: str) -> str:
        if not (v.startswith(("http://", "https://")) or re.match(r"^assumption: \S", v)):
            raise ValueError("must be a URL or 'assumption: <reason>'")
        return v


# ---- the property vocabulary ---------------------------------------------------------


class Bounds(_Strict):
    kind: Literal["bounds"] = "bounds"
    lo: float | None
    hi: float | None


class Integer(_Strict):
    kind: Literal["integer"] = "integer"


class NonNegative(_Strict):
    kind: Literal["non_negative"] = "non_negative"


class Partition(_Strict):
    """Parts sum to a total, per brand (optionally once per item of ``for_each``).

    ``parts``/``total`` are indicator ids; ``parts_keys`` is a glob over the parts'
    keys and ``total_key`` the total's key; ``{k}`` in either is replaced by each
    item of ``for_each``.
    """

    kind: Literal["partition"] = "partition"
    parts: str = Field(pattern=_ID)
    total: str | float = Field(description="an indicator id, or a constant such as 1")
    parts_keys: str = "*"
    total_key: str | None = None
    total_field: Literal["value", "numerator", "denominator"] = "value"
    for_each: tuple[str, ...] = ("",)
    rel_tol: float = 1e-9


class Identity(_Strict):
    """An arithmetic relation between indicators, per brand: ``lhs == rhs``.

    Terms: ``method.name`` (the value), ``method.name[KEY]`` (one key),
    ``sum(method.name)`` (all keys), ``numerator(method.name)`` and
    ``denominator(method.name)`` (a ratio's reported parts; ``[KEY]`` inside for one
    key), numbers, + - * / and abs().
    """

    kind: Literal["identity"] = "identity"
    expr: str
    rel_tol: float = 1e-9
    abs_tol: float = 1e-9


class RatioOf(_Strict):
    kind: Literal["ratio_of"] = "ratio_of"
    denominator_ge_numerator: bool = True


class Base(_Strict):
    """The reported denominator counts ``counts`` (users, buyers, members): a whole number.

    A share or an average over few of them moves far with one person more or less;
    ``brandlens compare`` marks a value whose base is under its ``--min-base``.
    """

    kind: Literal["base"] = "base"
    counts: str = Field("users", pattern=r"^[a-z][a-z ]*[a-z]$", description="a plural noun")


class PermutationInvariant(_Strict):
    kind: Literal["permutation_invariant"] = "permutation_invariant"


class BrandIsolated(_Strict):
    """``isolated: false`` documents an indicator that depends on other brands by definition."""

    kind: Literal["brand_isolated"] = "brand_isolated"
    isolated: bool = True
    reason: str = ""

    @model_validator(mode="after")
    def _reason(self) -> BrandIsolated:
        if not self.isolated and not self.reason:
            raise ValueError("brand_isolated: false needs a reason")
        return self


class Addition(_Strict):
    """The kind of event ``monotone`` adds: one event on the as_of date."""

    event_type: str
    user: Literal["new", "existing", "existing_buyer"] = "new"
    brand: Literal["self", "other"] = "self"
    amount: float | None = Field(None, ge=0)
    rating: int | None = Field(None, ge=1, le=5)
    query_type: str | None = None

    @model_validator(mode="after")
    def _fields_of_its_type(self) -> Addition:
        if self.amount is not None and self.event_type not in ("purchase", "refund"):
            raise ValueError(f"amount is a purchase's or a refund's, not a {self.event_type}'s")
        if self.rating is not None and self.event_type != "review":
            raise ValueError(f"rating is a review's, not a {self.event_type}'s")
        if self.query_type is not None:
            if self.event_type != "search":
                raise ValueError(f"query_type is a search's, not a {self.event_type}'s")
            if self.query_type not in QUERY_TYPES:
                raise ValueError(f"query_type is one of {', '.join(QUERY_TYPES)}")
        return self


class Monotone(_Strict):
    """One more event of the kind ``add`` never lowers (or never raises) the brand's value.

    On an indicator with a dimension it holds key by key, for the keys matching ``keys``
    (a glob); a key reported on one side only counts as 0 on the other when the unit is
    additive (users, count, currency), and is not compared otherwise.
    """

    kind: Literal["monotone"] = "monotone"
    add: Addition
    direction: Literal["non_decreasing", "non_increasing"]
    keys: str = "*"


class Threshold(_Strict):
    """An inner edge: a new user's events of the kind ``add`` count from the ``days``-th
    distinct local day on, or (a review) from the rating ``rating`` up, and not before.

    Give ``days`` or ``rating``: an integer or ``$parameter`` arithmetic. The value may
    change between N - 1 and N, only in ``direction``, and nowhere else near N; on an
    indicator with a dimension that holds for the keys matching ``keys`` (a glob).
    ``within``, the rule's window, also spreads the days over it (not on as_of).
    """

    kind: Literal["threshold"] = "threshold"
    add: Addition
    days: str | int | float | None = None
    rating: str | int | float | None = None
    within: str | int | None = None
    direction: Literal["non_decreasing", "non_increasing"] = "non_decreasing"
    keys: str = "*"

    @field_validator("days", "rating", "within", mode="before")
    @classmethod
    def _no_truth_value(cls, v: Any) -> Any:
        if isinstance(v, bool):
            raise ValueError("a number or $parameter arithmetic, not a truth value")
        return v

    @model_validator(mode="after")
    def _one_edge(self) -> Threshold:
        if self.days is None and self.rating is None:
            raise ValueError("give days (a count of days) or rating (a review's stars)")
        if self.days is not None and self.rating is not None:
            raise ValueError("give days or rating, not both")
        if self.add.user != "new" or self.add.brand != "self":
            raise ValueError("a threshold adds events of a new user of the brand itself")
        if self.rating is not None:
            if self.add.event_type != "review":
                raise ValueError("a rating threshold adds reviews")
            if self.add.rating is not None:
                raise ValueError("a rating threshold varies the rating; leave add.rating out")
            if self.within is not None:
                raise ValueError("within spreads days; a rating threshold adds one review")
        return self

    @property
    def edge(self) -> str | int | float:
        """What is counted to N: the days expression or the rating expression."""
        return self.days if self.days is not None else self.rating  # type: ignore[return-value]


def threshold_value(prop: Threshold, params: dict[str, Any]) -> int:
    """N, the declared threshold at these parameters (ValueError if it is not one)."""
    field = "rating" if prop.rating is not None else "days"
    n = _whole(field, prop.edge, params)
    hi = RATING_MAX if prop.rating is not None else MAX_THRESHOLD_DAYS
    if not 1 <= n <= hi:
        raise ValueError(f"{field} {_shown(prop.edge, n)} is outside 1 to {hi}")
    return n


def threshold_window(prop: Threshold, params: dict[str, Any]) -> int | None:
    """W, the rule's window the days are spread over (``within``), if declared."""
    if prop.within is None:
        return None
    w = _whole("within", prop.within, params)
    n = threshold_value(prop, params)
    if w < n + 2:
        raise ValueError(f"within {_shown(prop.within, w)} leaves no room to spread {n} + 1 days")
    return w


def _whole(field: str, expr: str | int | float, params: dict[str, Any]) -> int:
    text = str(expr)
    try:
        value = evaluate(text.replace("$", ""), params)
    except (KeyError, ValueError, TypeError, ZeroDivisionError, SyntaxError) as e:
        raise ValueError(f"{field} {text} cannot be evaluated ({e})") from None
    if isinstance(value, bool) or not isinstance(value, int | float) or value != int(value):
        raise ValueError(f"{field} {_shown(expr, value)} is not a whole number")
    return int(value)


def _shown(expr: str | int | float, value: Any) -> str:
    text = str(expr)
    return text if text == str(value) else f"{text} = {value!r}"


RATING_MAX = 5
"""The highest rating the canonical schema accepts (1 to 5)."""
MAX_THRESHOLD_DAYS = 62
"""A days threshold's edge is probed on up to N + 1 consecutive days ending on as_of
(N of them inside a window of N days): at most about two months."""


def threshold_errors(prop: BaseModel, params: dict[str, Any]) -> list[str]:
    """A ``threshold`` whose N is not a whole number in range at these parameters (an
    unknown ``$parameter`` is said apart)."""
    if not isinstance(prop, Threshold) or parameter_refs(prop) - set(params):
        return []
    try:
        threshold_value(prop, params)
        threshold_window(prop, params)
    except ValueError as e:
        return [str(e)]
    return []


class TimeShiftInvariant(_Strict):
    kind: Literal["time_shift_invariant"] = "time_shift_invariant"


class WindowBounded(_Strict):
    """Events ``days`` or more days before as_of change nothing (events of the types in
    ``event_types`` only, when it is given; never those of ``except_event_types``).

    ``days`` is an integer or an expression over ``$parameters``: ``+ - * /``, parentheses
    and ``max(a, b, ...)`` (the longest of several windows read at the same snapshot).
    """

    kind: Literal["window_bounded"] = "window_bounded"
    days: str | int
    except_event_types: tuple[str, ...] = ()
    event_types: tuple[str, ...] = ()
    """The types the bound holds for, when it is one type's own window (the rest excepted)."""

    @model_validator(mode="after")
    def _one_list(self) -> WindowBounded:
        if self.except_event_types and self.event_types:
            raise ValueError("give event_types or except_event_types, not both")
        return self


def _event_column(name: str) -> ColumnSpec:
    return next(c for c in columns_of(Event) if c.name == name)


QUERY_TYPES: tuple[str, ...] = _event_column("query_type").enum
"""The values of ``query_type``, the canonical schema's (for ``reads_only``'s ``where``)."""
BRANDED_EVENT_TYPES: tuple[str, ...] = _event_column("brand").required_for
"""The event types that must name a brand; any other may have none."""


class ReadsOnly(_Strict):
    """Only these event types matter: an event of any other type, on any day up to as_of,
    changes nothing.

    ``where`` narrows a listed type to some values of one of its fields, a list or a
    ``$parameter`` holding one: ``{search: {query_type: [brand]}}`` reads searches for the
    brand only, ``{purchase: {category: $durable_categories}}`` purchases in those
    categories only; an event of that type with another value (or none) changes nothing.
    """

    kind: Literal["reads_only"] = "reads_only"
    event_types: tuple[str, ...] = Field(min_length=1)
    where: dict[str, dict[Literal["query_type", "category"], tuple[str, ...] | str]] = {}

    @model_validator(mode="after")
    def _where_names_listed_types(self) -> ReadsOnly:
        for etype, fields in self.where.items():
            if etype not in self.event_types:
                raise ValueError(f"where names {etype!r}, which event_types does not list")
            if len(fields) != 1:
                raise ValueError(f"where: give {etype!r} exactly one field")
            for name, values in fields.items():
                if name == "query_type" and etype != "search":
                    raise ValueError(f"where: query_type narrows searches only, not {etype!r}")
                if isinstance(values, str) and not values.startswith("$"):
                    raise ValueError(f"where: {etype}.{name} is a list or a $parameter")
                if not isinstance(values, str):
                    where_value_error(name, values, f"where: {etype}.{name}")
        return self


def where_value_error(name: str, values: Any, what: str) -> None:
    """Raise ValueError unless ``values`` can narrow field ``name``: a non-empty list of
    text, and of the schema's query types for ``query_type``."""
    if not isinstance(values, list | tuple) or not values:
        raise ValueError(f"{what} is not a non-empty list ({values!r})")
    if not all(isinstance(v, str) for v in values):
        raise ValueError(f"{what} holds something other than text ({values!r})")
    wrong = [v for v in values if name == "query_type" and v not in QUERY_TYPES]
    if wrong:
        raise ValueError(f"{what}: {wrong[0]!r} is not one of {', '.join(QUERY_TYPES)}")


def where_parameter_errors(prop: BaseModel, params: dict[str, Any]) -> list[str]:
    """Each ``where`` narrowing by a known ``$parameter`` whose value cannot narrow its
    field, as ``search.query_type by $kind is not ...`` (an unknown name is said apart)."""
    errors = []
    for etype, fields in getattr(prop, "where", {}).items():
        for name, values in fields.items():
            ref = values.removeprefix("$") if isinstance(values, str) else None
            if ref is None or ref not in params:
                continue  # a list is checked on load
            try:
                where_value_error(name, params[ref], f"${ref}")
            except ValueError as e:
                errors.append(f"{etype}.{name} by {e}")
    return errors


def event_types_named(prop: BaseModel) -> tuple[str, ...]:
    """The event types a property adds, lists or excepts (each must be registered)."""
    named = [prop.add.event_type] if isinstance(prop, Monotone | Threshold) else []
    for name in ("except_event_types", "event_types"):
        named += list(getattr(prop, name, ()))
    return tuple(named)


class Deterministic(_Strict):
    kind: Literal["deterministic"] = "deterministic"


class EmptyBrand(_Strict):
    """A brand with no events gets 0 (counts, currency) or null (ratios, index, days).

    ``value`` overrides the unit's default: ``null`` for an average in currency (ARPU),
    ``zero`` for a ratio whose denominator does not depend on the brand.
    """

    kind: Literal["empty_brand"] = "empty_brand"
    value: Literal["auto", "zero", "null"] = "auto"


class ScaleEquivariant(_Strict):
    """Multiplying every amount by k > 0 multiplies the value by k**degree (0: unchanged)."""

    kind: Literal["scale_equivariant"] = "scale_equivariant"
    degree: Literal[0, 1]
    rel_tol: float = Field(
        1e-9,
        gt=0,
        le=1e-3,
        description="relative tolerance; looser only for values from a numerical fit",
    )


Property = Annotated[
    Bounds
    | Integer
    | NonNegative
    | Partition
    | Identity
    | RatioOf
    | Base
    | PermutationInvariant
    | BrandIsolated
    | Monotone
    | Threshold
    | TimeShiftInvariant
    | WindowBounded
    | ReadsOnly
    | Deterministic
    | EmptyBrand
    | ScaleEquivariant,
    Field(discriminator="kind"),
]

PROPERTY_KINDS: tuple[str, ...] = (
    "bounds",
    "integer",
    "non_negative",
    "partition",
    "identity",
    "ratio_of",
    "base",
    "permutation_invariant",
    "brand_isolated",
    "monotone",
    "threshold",
    "time_shift_invariant",
    "window_bounded",
    "reads_only",
    "deterministic",
    "empty_brand",
    "scale_equivariant",
)


def property_text(prop: Any) -> str:
    """A one-line reading of a declared property: its kind and the fields set (defaults
    left out), except that a monotone addition always shows the event it adds in full,
    declared defaults (``user: new``, ``brand: self``) included."""
    fields = prop.model_dump(exclude={"kind"}, exclude_defaults=True)
    if isinstance(prop, Monotone):
        fields = {**fields, "add": prop.add.model_dump(exclude_none=True)}
        fields = {"add": fields.pop("add"), **fields}  # the addition first, as written
    elif isinstance(prop, Threshold):  # always a new user of the brand itself
        added = prop.add.model_dump(exclude_none=True, exclude={"user", "brand"})
        fields = {"add": added, **{k: v for k, v in fields.items() if k != "add"}}
    if not fields:
        return prop.kind
    return prop.kind + " " + ", ".join(f"{k}={_flow(v)}" for k, v in fields.items())


def _flow(value: Any) -> str:
    """A value as YAML flow style writes it: ``{event_type: purchase, user: new}``."""
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_flow(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_flow(v) for v in value) + "]"
    return str(value)


def _normalise_property(item: Any) -> Any:
    """YAML shorthand: ``- integer``, ``- bounds: [0, 1]``, ``- monotone: {...}``."""
    if isinstance(item, str):
        return {"kind": item}
    if isinstance(item, dict) and len(item) == 1 and "kind" not in item:
        ((kind, value),) = item.items()
        if kind == "bounds" and isinstance(value, list | tuple) and len(value) == 2:
            return {"kind": kind, "lo": value[0], "hi": value[1]}
        if kind == "brand_isolated" and isinstance(value, bool):
            return {"kind": kind, "isolated": value}
        if kind == "empty_brand" and isinstance(value, str):
            return {"kind": kind, "value": value}
        if kind == "base" and isinstance(value, str):
            return {"kind": kind, "counts": value}
        if kind == "reads_only" and isinstance(value, str | list | tuple):
            return {"kind": kind, "event_types": [value] if isinstance(value, str) else value}
        if kind == "scale_equivariant" and isinstance(value, int):
            return {"kind": kind, "degree": value}
        if value is None:
            return {"kind": kind}
        if isinstance(value, dict):
            return {"kind": kind, **value}
    return item


class JointParameter(_Strict):
    """A listed parameter that changes the value only when others are moved too: where
    ``verify`` moves it (``with``), and why it does not matter at the defaults."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    with_: dict[str, Any] = Field(alias="with", min_length=1)
    reason: str = Field(min_length=1)


class IndicatorSpec(_Strict):
    """Everything declared about one indicator."""

    id: str = Field(pattern=_ID)
    title: Title
    definition: str = Field(min_length=1)
    formula: str = Field(min_length=1)
    unit: Unit
    direction: Direction
    dimension: str | None = None
    keys: tuple[str, ...] | None = None
    headline: bool = False
    parameters: tuple[str, ...] = ()
    joint_parameters: dict[str, JointParameter] = Field(default_factory=dict)
    properties: tuple[Property, ...] = ()

    @field_validator("properties", mode="before")
    @classmethod
    def _shorthand(cls, v: Any) -> Any:
        return [_normalise_property(x) for x in v] if isinstance(v, list | tuple) else v

    def has(self, kind: str) -> bool:
        return any(p.kind == kind for p in self.properties)


class MethodologySpec(_Strict):
    """A spec file: one methodology."""

    methodology: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    title: Title
    sources: tuple[str, ...] = Field(min_length=1)
    parameters: dict[str, ParameterSpec] = Field(default_factory=dict)
    indicators: tuple[IndicatorSpec, ...]

    def indicator(self, indicator_id: str) -> IndicatorSpec | None:
        return next((i for i in self.indicators if i.id == indicator_id), None)


def load_spec(path: str | Path) -> MethodologySpec:
    """Read and validate a spec file; any problem is a PluginError naming the file."""
    from brandlens import yamlio as yaml

    p = Path(path)
    try:
        raw = yaml.safe_load(read_small_text(p))
    except OSError as e:
        raise PluginError(f"{p}: cannot read spec ({e.strerror})") from None
    except yaml.YAMLError as e:
        raise PluginError(f"{p}: not valid YAML, {yaml.describe_error(e)}") from None
    try:
        return MethodologySpec.model_validate(raw)
    except ValidationError as e:
        raise PluginError(f"{p}: {_spec_problem(raw, e.errors()[0])}") from None


def _spec_problem(raw: Any, err: Any) -> str:
    """One validation error of a spec file, its place named by the indicator's id where
    it has one (``fast.thriving: properties.0``, not ``indicators.6.properties.0``), an
    unknown property with the closest known ones."""
    import difflib

    loc = [str(x) for x in err["loc"]]
    if len(loc) >= 2 and loc[0] == "indicators" and loc[1].isdigit():
        entries = raw.get("indicators") if isinstance(raw, dict) else None
        i = int(loc[1])
        entry = entries[i] if isinstance(entries, list) and i < len(entries) else None
        if isinstance(entry, dict) and isinstance(entry.get("id"), str):
            loc = [entry["id"], *loc[2:]]
    where = ".".join(loc)
    if err["type"] == "union_tag_invalid":
        tag = str(err.get("ctx", {}).get("tag", ""))
        close = difflib.get_close_matches(tag, PROPERTY_KINDS, n=2)
        meant = f"; did you mean {', '.join(close)}?" if close else ""
        return f"{where}: unknown property {tag!r}{meant} (docs/specs.md lists them)"
    return f"{where}: {err['msg']}"


def packaged_spec(module_file: str, name: str) -> Path:
    """Where a built-in plugin's spec is: beside the module in a wheel, ``specs/`` in a checkout.

    The wheel build copies ``specs/<name>.yaml`` to ``<package>/spec.yaml``; an editable
    install or a source checkout reads the file in the repository's ``specs/`` folder.
    """
    here = Path(module_file).resolve().parent
    candidates = [here / "spec.yaml"] + [p / "specs" / f"{name}.yaml" for p in here.parents]
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    raise PluginError(f"no spec file for {name!r} beside {here} or in a specs/ folder above it")


def spec_markdown(spec: MethodologySpec) -> str:
    """The definitions section of a methodology's docs page, generated from its spec.

    ``scripts/spec_docs.py`` writes it between ``<!-- spec:begin -->`` and
    ``<!-- spec:end -->`` in docs/methodologies/<name>.md; a test keeps them equal.
    """
    lines = ["### Indicators", ""]
    for ind in spec.indicators:
        star = " ★" if ind.headline else ""
        lines.append(f"#### `{ind.id}` — {ind.title.en} ({ind.title.zh}){star}")
        lines.append("")
        lines.append(ind.definition.strip())
        lines.append("")
        lines.append(f"- formula: `{ind.formula}`")
        dim = f", breakdown `{ind.dimension}`" if ind.dimension else ""
        keys = f" (keys {', '.join(ind.keys)})" if ind.keys else ""
        lines.append(f"- unit: {ind.unit}, {ind.direction} is better{dim}{keys}")
        if ind.parameters:
            lines.append(f"- parameters: {', '.join(f'`{p}`' for p in ind.parameters)}")
        for name, joint in ind.joint_parameters.items():
            at = ", ".join(f"`{k}` = {v}" for k, v in joint.with_.items())
            lines.append(
                f"- `{name}` matters only beside other moves: {joint.reason} (verified at {at})"
            )
        props = ", ".join(f"`{property_text(p)}`" for p in ind.properties)
        lines.append(f"- verified properties: {props}")
        lines.append("")
    lines += [
        "### Parameters",
        "",
        "| parameter | default | meaning | source of the default |",
        "|---|---|---|---|",
    ]
    for name, p in spec.parameters.items():
        default = ", ".join(map(str, p.default)) if isinstance(p.default, list) else p.default
        lines.append(f"| `{name}` | {default} | {p.description} | {p.source} |")
    return "\n".join(lines) + "\n"


def spec_json_schema() -> dict[str, Any]:
    """JSON Schema of spec files, for editor completion (``brandlens schema --spec``)."""
    return MethodologySpec.model_json_schema()


# ---- small safe arithmetic, for window days and identities ----------------------------

_OPS = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.USub: operator.neg,
}


def evaluate(expr: str, names: dict[str, Any]) -> Any:
    """Evaluate + - * / abs() max() over numbers and names, and calls of names bound to
    callables (``sum`` in identities); nothing else is allowed."""
    tree = ast.parse(expr.strip(), mode="eval")

    def ev(node: ast.AST) -> Any:
        if isinstance(node, ast.Expression):
            return ev(node.body)
        if isinstance(node, ast.Constant) and isinstance(node.value, int | float):
            return node.value
        if isinstance(node, ast.Name):
            if node.id not in names:
                raise KeyError(node.id)
            return names[node.id]
        if isinstance(node, ast.BinOp) and type(node.op) in _OPS:
            return _OPS[type(node.op)](ev(node.left), ev(node.right))
        if isinstance(node, ast.UnaryOp) and type(node.op) in _OPS:
            return _OPS[type(node.op)](ev(node.operand))
        if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Name) or node.keywords:
            raise ValueError(f"unsupported expression: {ast.unparse(node)}")
        if node.func.id == "max" and len(node.args) >= 2:
            return max(ev(a) for a in node.args)
        if len(node.args) == 1:
            if node.func.id == "abs":
                return abs(ev(node.args[0]))
            if node.func.id in names and callable(names[node.func.id]):
                return names[node.func.id](node.args[0])
        raise ValueError(f"unsupported expression: {ast.unparse(node)}")

    return ev(tree)


_PARAMETER_REF = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")


def parameter_refs(prop: BaseModel) -> set[str]:
    """The ``$parameters`` a property names in any of its text fields (``days``, ...)."""
    found: set[str] = set()

    def walk(value: Any) -> None:
        if isinstance(value, str):
            found.update(_PARAMETER_REF.findall(value))
        elif isinstance(value, dict):
            for v in value.values():
                walk(v)
        elif isinstance(value, list | tuple):
            for v in value:
                walk(v)

    walk(prop.model_dump())
    return found


def window_days(days: str | int, params: dict[str, Any]) -> int:
    """``"$purchase_window_days + $advancing_period_days"``, ``"max($a, $b)"`` -> an int."""
    if isinstance(days, int):
        return days
    return int(evaluate(days.replace("$", ""), params))
