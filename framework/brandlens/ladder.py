"""Stage ladders: declare ordered stages with evidence rules, get one SQL pass.

AIPL, JD 4A and DREAM are ladders; a third party can declare a new one (say
Douyin O-5A) without writing SQL. The compiled query assigns every
(user, brand) its highest satisfied stage as of one or more snapshot dates.

Output relation columns: ``days_before`` (0 = as_of), ``snapshot_date``,
``user_id``, ``brand``, ``stage`` (the stage key) and ``stage_rank``
(1 = lowest stage). Users with no stage have no row.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from brandlens.schema import Event, columns_of
from brandlens.sqlcheck import quote_ident

_PARAM = re.compile(r"^\$([a-z_][a-z0-9_]*)$")


def _check_ref(v: Any) -> Any:
    if isinstance(v, str) and v.startswith("$") and not _PARAM.match(v):
        raise ValueError(f"parameter reference {v!r} must look like $name")
    return v


IntOrParam = Annotated[int | str, AfterValidator(_check_ref)]
"""An integer, or ``"$name"``: the value of the methodology parameter ``name``."""

EVENT_COLUMNS = (*tuple(c.name for c in columns_of(Event)), "local_date")


def resolve(value: Any, params: dict[str, Any]) -> Any:
    """Replace a ``$name`` reference with the parameter's value."""
    if isinstance(value, str):
        m = _PARAM.match(value)
        if m:
            return params[m.group(1)]
    return value


def references(value: Any) -> set[str]:
    """Parameter names referenced by a value (for registration checks)."""
    if isinstance(value, str):
        m = _PARAM.match(value)
        if m:
            return {m.group(1)}
    return set()


class Condition(BaseModel):
    """An extra predicate on an event column, e.g. rating >= $positive_rating."""

    model_config = ConfigDict(frozen=True)

    column: Literal[EVENT_COLUMNS]  # type: ignore[valid-type]
    op: Literal["=", "!=", "<", "<=", ">", ">=", "in", "not in"]
    value: Any


class Evidence(BaseModel):
    """One way to qualify for a stage: events of these types within a look-back window."""

    model_config = ConfigDict(frozen=True)

    event_types: tuple[str, ...] = Field(min_length=1)
    window_days: IntOrParam
    min_days: IntOrParam = 1
    where: tuple[Condition, ...] = ()
    when: dict[str, Any] = Field(
        default_factory=dict,
        description="the rule applies only when these parameters have these values",
    )


class Stage(BaseModel):
    """A stage of the ladder; any of its evidence rules qualifies a user."""

    model_config = ConfigDict(frozen=True)

    key: str = Field(pattern=r"^[A-Za-z0-9_]+$")
    title: str = ""
    evidence: tuple[Evidence, ...] = Field(min_length=1)


class StageLadder(BaseModel):
    """Ordered stages (lowest first); the highest satisfied stage wins."""

    model_config = ConfigDict(frozen=True)

    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    stages: tuple[Stage, ...] = Field(min_length=1)
    snapshots: tuple[IntOrParam, ...] = Field(
        default=(0,), description="days before as_of at which stages are assigned"
    )

    def parameter_refs(self) -> set[str]:
        refs: set[str] = set()
        for value in self.snapshots:
            refs |= references(value)
        for stage in self.stages:
            for ev in stage.evidence:
                refs |= references(ev.window_days) | references(ev.min_days)
                refs |= set(ev.when)
                for cond in ev.where:
                    refs |= references(cond.value)
        return refs

    def compile(self, params: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        """Return (SQL, bound parameters) computing the ladder relation."""
        binds: dict[str, Any] = {"as_of": None}  # filled by the engine
        rules: list[tuple[int, str, str, str]] = []  # (stage index, flag, window bind, min bind)
        flag_exprs: list[str] = []
        all_types: set[str] = set()
        windows: list[int] = []
        for s_i, stage in enumerate(self.stages):
            for e_i, ev in enumerate(stage.evidence):
                if any(resolve(f"${k}", params) != v for k, v in ev.when.items()):
                    continue
                tag = f"l_{self.name}_{s_i}_{e_i}"
                binds[f"{tag}_types"] = list(ev.event_types)
                all_types.update(ev.event_types)
                parts = [f"list_contains(${tag}_types, event_type)"]
                for c_i, cond in enumerate(ev.where):
                    col = quote_ident(cond.column)
                    bind = f"{tag}_c{c_i}"
                    value = resolve(cond.value, params)
                    if cond.op in ("in", "not in"):
                        binds[bind] = list(value)
                        neg = "NOT " if cond.op == "not in" else ""
                        parts.append(f"{neg}list_contains(${bind}, {col})")
                    else:
                        binds[bind] = value
                        parts.append(f"{col} {cond.op} ${bind}")
                window = int(resolve(ev.window_days, params))
                windows.append(window)
                binds[f"{tag}_w"] = window
                binds[f"{tag}_m"] = int(resolve(ev.min_days, params))
                flag = f"f_{s_i}_{e_i}"
                flag_exprs.append(f"bool_or({' AND '.join(parts)}) AS {flag}")
                rules.append((s_i, flag, f"{tag}_w", f"{tag}_m"))
        snapshots = sorted({int(resolve(s, params)) for s in self.snapshots})
        binds["l_snapshots"] = snapshots
        binds["l_types"] = sorted(all_types)
        binds["l_maxw"] = max(windows) if windows else 1
        binds["l_span"] = binds["l_maxw"] + max(snapshots)
        if not rules:  # every rule switched off by `when`: an empty relation
            sql = (
                "SELECT CAST(NULL AS INTEGER) AS days_before, CAST(NULL AS DATE) AS snapshot_date,"
                " CAST(NULL AS VARCHAR) AS user_id, CAST(NULL AS VARCHAR) AS brand,"
                " CAST(NULL AS VARCHAR) AS stage, CAST(NULL AS INTEGER) AS stage_rank WHERE false"
            )
            return sql, {}
        counts = [
            f"count(*) FILTER (WHERE d.{flag} AND d.local_date > s.snapshot_date - ${w}) AS n{i}"
            for i, (_, flag, w, _) in enumerate(rules)
        ]
        stage_case, rank_case = [], []
        for s_i in reversed(range(len(self.stages))):
            ors = [f"n{i} >= ${m}" for i, (si, _, _, m) in enumerate(rules) if si == s_i]
            if not ors:
                continue
            cond = " OR ".join(ors)
            key = self.stages[s_i].key
            binds[f"l_key_{s_i}"] = key
            stage_case.append(f"WHEN {cond} THEN $l_key_{s_i}")
            rank_case.append(f"WHEN {cond} THEN {s_i + 1}")
        sql = f"""
WITH snap AS (
  SELECT days_before, CAST($as_of AS DATE) - days_before AS snapshot_date
  FROM (SELECT unnest($l_snapshots) AS days_before)
),
days AS (
  SELECT user_id, brand, local_date, {", ".join(flag_exprs)}
  FROM events
  WHERE brand IS NOT NULL
    AND local_date <= CAST($as_of AS DATE)
    AND local_date > CAST($as_of AS DATE) - $l_span
    AND list_contains($l_types, event_type)
  GROUP BY user_id, brand, local_date
),
counted AS (
  SELECT s.days_before, s.snapshot_date, d.user_id, d.brand, {", ".join(counts)}
  FROM days d JOIN snap s
    ON d.local_date <= s.snapshot_date AND d.local_date > s.snapshot_date - $l_maxw
  GROUP BY s.days_before, s.snapshot_date, d.user_id, d.brand
),
staged AS (
  SELECT days_before, snapshot_date, user_id, brand,
    CASE {" ".join(stage_case)} END AS stage,
    CAST(CASE {" ".join(rank_case)} END AS INTEGER) AS stage_rank
  FROM counted
)
SELECT * FROM staged WHERE stage IS NOT NULL
"""
        return sql, binds
