"""The canonical tables, as pydantic models: the single source of truth.

SQL types, the validation SQL (see ``validation.py``), the JSON Schema printed by
``brandlens schema`` and the table in ``docs/data.md`` are all derived from the
models below through :func:`columns_of`.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from typing import Any, Literal

import annotated_types
from pydantic import BaseModel, ConfigDict, Field

CORE_EVENT_TYPES: dict[str, str] = {
    "ad_impression": "an ad of the brand was shown to the user",
    "ad_click": "the user clicked an ad of the brand",
    "content_view": "the user watched or read brand content (video, live stream, article)",
    "search": "the user searched; query_type says whether for the brand, a category or other",
    "product_view": "the user viewed a product detail page",
    "store_visit": "the user visited the brand's store or home page",
    "favorite": "the user favourited a product or the store",
    "add_to_cart": "the user added a product to the cart",
    "follow": "the user followed the brand (became a fan)",
    "consult": "the user asked customer service about the brand",
    "coupon_claim": "the user claimed a coupon, sample or trial of the brand",
    "member_join": "the user joined the brand's membership",
    "member_leave": "the user left the brand's membership",
    "purchase": "a paid order line; amount is the paid amount after discounts",
    "refund": "a refund; amount is the refunded amount",
    "review": "a product review with a 1-5 rating",
    "share": "the user shared a product or brand content",
    "after_sales": "an after-sales service event (installation, repair, support)",
}
"""The core event vocabulary; plugins may register more event types."""

EVENT_GROUPS: Mapping[str, tuple[str, ...]] = types.MappingProxyType(
    {
        "exposure": ("ad_impression", "content_view", "product_view"),
        "engagement": (
            "store_visit",
            "favorite",
            "add_to_cart",
            "follow",
            "consult",
            "coupon_claim",
        ),
    }
)
"""Named groups of core event types that several consumer-asset ladders read alike, so
that each list is written once (read-only; each group's types in a fixed order).

``exposure``: the brand was put in front of the user (an ad shown, brand content, a
product page). ``engagement``: the user acted on the brand short of buying (a store
visit, a favourite, a cart add, a follow, a question to customer service, a coupon
claimed). A ladder adds the types its own methodology reads differently (an ad click,
a membership) to a group rather than writing the group out again.

Example::

    aware = Evidence(event_types=EVENT_GROUPS["exposure"], window_days="$aware_window_days")
    appeal = Evidence(
        event_types=("ad_click", *EVENT_GROUPS["engagement"]), window_days="$appeal_window_days"
    )
    assert EVENT_GROUPS["exposure"] == ("ad_impression", "content_view", "product_view")
"""

Day = date  # alias: the spend table has a column named ``date``


def _meta(**kw: Any) -> dict[str, Any]:
    return kw


class Event(BaseModel):
    """One row of the ``events`` table: one event of one user."""

    model_config = ConfigDict(title="events", json_schema_extra={"key": ["event_id"]})

    event_id: str | None = Field(
        None, description="generated when absent (stable hash of the row's content)"
    )
    ts: datetime = Field(
        description="event time; a time without a UTC offset is read in --ts-timezone "
        "(default UTC), the local date in --timezone (default Asia/Shanghai) is the day "
        "every window counts in",
        json_schema_extra=_meta(bad_reason="ts_unparseable"),
    )
    user_id: str = Field(description="one person after ID mapping")
    event_type: str = Field(
        description="from the event vocabulary (core types below; plugins may register more)",
        json_schema_extra=_meta(vocabulary=True),
    )
    brand: str | None = Field(
        None,
        description="the brand the event is about; required for brand-level events",
        json_schema_extra=_meta(required_for=["purchase", "refund", "member_join", "member_leave"]),
    )
    category: str | None = Field(None, description="product category")
    product_id: str | None = Field(None, description="product (SPU/SKU) identifier")
    channel: str | None = Field(
        None,
        description="e.g. onsite, offsite_media, live, short_video, private_domain, offline_store",
    )
    order_id: str | None = Field(None, description="order identifier")
    quantity: int | None = Field(
        None, ge=1, description="units in the order line", json_schema_extra=_meta(sql="INTEGER")
    )
    amount: Decimal | None = Field(
        None,
        ge=0,
        max_digits=18,
        decimal_places=2,
        description="paid amount after discounts (purchase); refunded amount (refund)",
        json_schema_extra=_meta(
            required_for=["purchase", "refund"], range_reason="negative_amount"
        ),
    )
    rating: int | None = Field(
        None,
        ge=1,
        le=5,
        description="review rating, 1 to 5",
        json_schema_extra=_meta(required_for=["review"], sql="INTEGER"),
    )
    query_type: Literal["brand", "category", "other"] | None = Field(
        None, description="what a search was for", json_schema_extra=_meta(required_for=["search"])
    )
    campaign_id: str | None = Field(None, description="marketing campaign identifier")


class User(BaseModel):
    """One row of the optional ``users`` table."""

    model_config = ConfigDict(title="users", json_schema_extra={"key": ["user_id"]})

    user_id: str = Field(description="the same id as in events")
    target_group: str | None = Field(None, description="target group (e.g. JD's ten groups)")
    circle: str | None = Field(None, description="interest circle")
    city_tier: str | None = Field(None, description="city tier")
    age_band: str | None = Field(None, description="age band")
    gender: str | None = Field(None, description="gender")
    register_date: date | None = Field(None, description="date the user registered")


class Product(BaseModel):
    """One row of the optional ``products`` table."""

    model_config = ConfigDict(title="products", json_schema_extra={"key": ["product_id"]})

    product_id: str = Field(description="the same id as in events")
    brand: str | None = Field(None, description="brand of the product")
    category: str | None = Field(None, description="category of the product")
    launch_date: date | None = Field(None, description="first listing date")
    list_price: Decimal | None = Field(
        None, ge=0, max_digits=18, decimal_places=2, description="list price"
    )


class Target(BaseModel):
    """One row of the optional ``targets`` table: a brand's goal for an indicator."""

    # one target per brand, indicator and period: a second would leave which one counts
    # to a tie-break (and DREAM's achievement would read both)
    model_config = ConfigDict(
        title="targets",
        json_schema_extra={"key": ["brand", "indicator", "period_start", "period_end"]},
    )

    brand: str = Field(description="brand")
    indicator: str = Field(description="indicator id, e.g. fast.fertility")
    period_start: date = Field(description="first day of the target period")
    period_end: date = Field(description="last day of the target period")
    target_value: float = Field(
        description="the target value", json_schema_extra=_meta(sql="DOUBLE")
    )


class Spend(BaseModel):
    """One row of the optional ``spend`` table: marketing cost by brand, day and channel."""

    model_config = ConfigDict(title="spend", json_schema_extra={"key": []})

    brand: str = Field(description="brand")
    date: Day = Field(description="day of the spend")
    channel: str | None = Field(None, description="channel")
    cost: Decimal = Field(ge=0, max_digits=18, decimal_places=2, description="cost")


TABLES: dict[str, type[BaseModel]] = {
    "events": Event,
    "users": User,
    "products": Product,
    "targets": Target,
    "spend": Spend,
}
"""Canonical table name -> model. ``events`` is required, the others optional."""


@dataclass(frozen=True)
class ColumnSpec:
    """What the core needs to know about one canonical column, derived from a model field."""

    name: str
    sql_type: str
    required: bool
    description: str
    required_for: tuple[str, ...] = ()
    ge: float | None = None
    le: float | None = None
    enum: tuple[str, ...] = ()
    vocabulary: bool = False
    range_reason: str = ""
    bad_reason: str = "bad_type"

    @property
    def type_label(self) -> str:
        """Human label used in the docs table."""
        if self.enum:
            return "enum " + ", ".join(self.enum)
        if self.vocabulary:
            return "enum"
        label = {
            "VARCHAR": "string",
            "TIMESTAMP": "timestamp",
            "DATE": "date",
            "INTEGER": "integer",
            "BIGINT": "integer",
            "DOUBLE": "number",
            "DECIMAL(18,2)": "decimal(18,2)",
        }[self.sql_type]
        if self.ge is not None and self.le is not None:
            return f"{label} {self.ge:g}..{self.le:g}"
        if self.ge is not None:
            return f"{label} >= {self.ge:g}"
        return label


def _base_type(annotation: Any) -> tuple[Any, tuple[str, ...]]:
    """Strip Optional and return (python type, literal values)."""
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        return _base_type(args[0])
    if origin is Literal:
        return str, tuple(str(a) for a in typing.get_args(annotation))
    return annotation, ()


_SQL_TYPES = {
    str: "VARCHAR",
    datetime: "TIMESTAMP",
    date: "DATE",
    int: "BIGINT",
    float: "DOUBLE",
    Decimal: "DECIMAL(18,2)",
}


def columns_of(model: type[BaseModel]) -> list[ColumnSpec]:
    """Derive the column specs of a canonical table from its pydantic model."""
    return list(_columns_of(model))


@cache
def _columns_of(model: type[BaseModel]) -> tuple[ColumnSpec, ...]:
    specs = []
    for name, field in model.model_fields.items():
        py_type, enum = _base_type(field.annotation)
        extra = field.json_schema_extra if isinstance(field.json_schema_extra, dict) else {}
        ge = le = None
        for m in field.metadata:
            if isinstance(m, annotated_types.Ge):
                ge = float(m.ge)  # type: ignore[arg-type]
            if isinstance(m, annotated_types.Le):
                le = float(m.le)  # type: ignore[arg-type]
        specs.append(
            ColumnSpec(
                name=name,
                sql_type=str(extra.get("sql", _SQL_TYPES[py_type])),
                required=field.is_required(),
                description=field.description or "",
                required_for=tuple(extra.get("required_for", ())),  # type: ignore[arg-type]
                ge=ge,
                le=le,
                enum=enum,
                vocabulary=bool(extra.get("vocabulary", False)),
                range_reason=str(extra.get("range_reason", f"{name}_out_of_range")),
                bad_reason=str(extra.get("bad_reason", "bad_type")),
            )
        )
    return tuple(specs)


def table_key(model: type[BaseModel]) -> list[str]:
    """Columns that must be unique in a table (duplicates are quarantined)."""
    extra = model.model_config.get("json_schema_extra") or {}
    return list(extra.get("key", [])) if isinstance(extra, dict) else []


def markdown_table(model: type[BaseModel]) -> str:
    """The docs table of one canonical table (docs/data.md embeds these verbatim)."""
    lines = ["| column | type | required | meaning |", "|---|---|---|---|"]
    for c in columns_of(model):
        if c.required:
            req = "yes"
        elif c.required_for:
            req = "for " + ", ".join(c.required_for)
        else:
            req = "no"
        lines.append(f"| {c.name} | {c.type_label} | {req} | {c.description} |")
    return "\n".join(lines)


def json_schemas() -> dict[str, Any]:
    """JSON Schema of every canonical table, keyed by table name."""
    out: dict[str, Any] = {}
    for name, model in TABLES.items():
        schema = model.model_json_schema()
        if name == "events":
            schema["properties"]["event_type"]["examples"] = sorted(CORE_EVENT_TYPES)
        out[name] = schema
    return out
