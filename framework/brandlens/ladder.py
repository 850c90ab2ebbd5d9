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

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator

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
LADDER_COLUMNS = ("days_before", "snapshot_date", "user_id", "brand", "stage", "stage_rank")
"""The columns of the relation a compiled ladder becomes."""


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

    key: str = Field(pattern=r"^[A-Za-z0-9_]+$", description="'none' is reserved for flows")
    title: str = ""
    evidence: tuple[Evidence, ...] = Field(min_length=1)


class StageLadder(BaseModel):
    """Ordered stages (lowest first); the highest satisfied stage wins."""

    @field_validator("stages")
    @classmethod
    def _keys(cls, stages: tuple[Stage, ...]) -> tuple[Stage, ...]:
        keys = [s.key for s in stages]
        if "none" in keys or len(set(keys)) != len(keys):
            raise ValueError("stage keys must be unique and 'none' is reserved for flows")
        return stages

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
        reach: dict[str, int] = {}  # event type -> the longest window of a rule naming it
        for s_i, stage in enumerate(self.stages):
            for e_i, ev in enumerate(stage.evidence):
                if any(resolve(f"${k}", params) != v for k, v in ev.when.items()):
                    continue
                tag = f"l_{self.name}_{s_i}_{e_i}"
                binds[f"{tag}_types"] = list(ev.event_types)
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
                for t in ev.event_types:
                    reach[t] = max(reach.get(t, 0), window)
                binds[f"{tag}_w"] = window
                binds[f"{tag}_m"] = int(resolve(ev.min_days, params))
                flag = f"f_{s_i}_{e_i}"
                flag_exprs.append(f"bool_or({' AND '.join(parts)}) AS {flag}")
                rules.append((s_i, flag, f"{tag}_w", f"{tag}_m"))
        snapshots = sorted({int(resolve(s, params)) for s in self.snapshots})
        # Each event type is read only as far back as the longest rule that names it needs
        # (awareness looks back days, purchase years): the scan reduces to what counts.
        by_span: dict[int, list[str]] = {}
        for t, w in sorted(reach.items()):
            by_span.setdefault(w + max(snapshots), []).append(t)
        scans = []
        for i, (span, types) in enumerate(sorted(by_span.items())):
            binds[f"l_types_{i}"] = types
            binds[f"l_span_{i}"] = span
            scans.append(
                f"(list_contains($l_types_{i}, event_type) "
                f"AND local_date > CAST($as_of AS DATE) - $l_span_{i})"
            )
        if not rules:  # every rule switched off by `when`: an empty relation
            sql = (
                "SELECT CAST(NULL AS INTEGER) AS days_before, CAST(NULL AS DATE) AS snapshot_date,"
                " CAST(NULL AS VARCHAR) AS user_id, CAST(NULL AS VARCHAR) AS brand,"
                " CAST(NULL AS VARCHAR) AS stage, CAST(NULL AS INTEGER) AS stage_rank WHERE false"
            )
            return sql, {}
        # One pass over the (user, brand, day) flags counts every rule at every snapshot
        # (n<snapshot>_<rule>); each snapshot then reads its own counts. No join of days
        # with snapshots, no second grouping per snapshot.
        counts = []
        for k in range(len(snapshots)):
            binds[f"l_snap_{k}"] = snapshots[k]
            day = f"(CAST($as_of AS DATE) - $l_snap_{k})"
            counts += [
                f"count(*) FILTER (WHERE {flag} AND local_date <= {day} "
                f"AND local_date > {day} - ${w}) AS n{k}_{i}"
                for i, (_, flag, w, _) in enumerate(rules)
            ]
        per_snapshot = []
        for k in range(len(snapshots)):
            stage_case, rank_case = [], []
            for s_i in reversed(range(len(self.stages))):
                ors = [f"n{k}_{i} >= ${m}" for i, (si, _, _, m) in enumerate(rules) if si == s_i]
                if not ors:
                    continue
                cond = " OR ".join(ors)
                binds[f"l_key_{s_i}"] = self.stages[s_i].key
                stage_case.append(f"WHEN {cond} THEN $l_key_{s_i}")
                rank_case.append(f"WHEN {cond} THEN {s_i + 1}")
            per_snapshot.append(
                f"""SELECT CAST($l_snap_{k} AS INTEGER) AS days_before,
    CAST($as_of AS DATE) - $l_snap_{k} AS snapshot_date, user_id, brand,
    CASE {" ".join(stage_case)} END AS stage,
    CAST(CASE {" ".join(rank_case)} END AS INTEGER) AS stage_rank
  FROM counted"""
            )
        union = "\n  UNION ALL\n  ".join(per_snapshot)
        sql = f"""
WITH days AS (
  SELECT user_id, brand, local_date, {", ".join(flag_exprs)}
  FROM events
  WHERE brand IS NOT NULL
    AND local_date <= CAST($as_of AS DATE)
    AND ({" OR ".join(scans)})
  GROUP BY user_id, brand, local_date
),
counted AS MATERIALIZED (
  SELECT user_id, brand, {", ".join(counts)}
  FROM days
  GROUP BY user_id, brand
),
staged AS (
  {union}
)
SELECT * FROM staged WHERE stage IS NOT NULL
"""
        return sql, binds


# ---- SQL for the indicators every ladder supports ----------------------------------------
# A plugin passes these strings as Indicator(sql=...): stage counts, flows and deepening
# rates come for free with any ladder (AIPL, JD 4A, DREAM, a team's own O-5A).

NONE = "none"
"""The key of 'no stage' in flows (users outside the ladder at a snapshot)."""


def _days(value: int | str) -> str:
    """A snapshot offset in SQL: an integer literal or a ``$parameter`` placeholder."""
    if isinstance(value, int):
        return str(int(value))
    if not _PARAM.match(value):
        raise ValueError(f"days_before must be an int or $parameter, got {value!r}")
    return value


def _literals(keys: list[str]) -> str:
    from sqlglot import exp

    return "[" + ", ".join(exp.Literal.string(k).sql(dialect="duckdb") for k in keys) + "]"


def stage_counts_sql(ladder: StageLadder, days_before: int | str = 0) -> str:
    """Users per stage and brand at a snapshot; every stage key present, zeros included."""
    keys = _literals([s.key for s in ladder.stages])
    lad = quote_ident(ladder.name)
    return f"""
SELECT b.brand, k.key, count(l.user_id) AS value
FROM brands b
CROSS JOIN (SELECT unnest({keys}) AS key) k
LEFT JOIN {lad} l ON l.brand = b.brand AND l.stage = k.key AND l.days_before = {_days(days_before)}
GROUP BY b.brand, k.key
"""


def stage_users_sql(ladder: StageLadder, days_before: int | str = 0) -> str:
    """Every user with a stage at one snapshot: an entity table for an audience export."""
    return f"""
SELECT brand, user_id, stage, stage_rank
FROM {quote_ident(ladder.name)} WHERE days_before = {_days(days_before)}
"""


def stage_total_sql(ladder: StageLadder, days_before: int | str = 0) -> str:
    """Users with any stage of the ladder, per brand, at a snapshot."""
    lad = quote_ident(ladder.name)
    return f"""
SELECT b.brand, count(l.user_id) AS value
FROM brands b
LEFT JOIN {lad} l ON l.brand = b.brand AND l.days_before = {_days(days_before)}
GROUP BY b.brand
"""


def _pairs(ladder: StageLadder, start: int | str, end: int | str) -> str:
    lad = quote_ident(ladder.name)
    return f"""
s0 AS (SELECT brand, user_id, stage, stage_rank FROM {lad} WHERE days_before = {_days(start)}),
s1 AS (SELECT brand, user_id, stage, stage_rank FROM {lad} WHERE days_before = {_days(end)}),
pairs AS (
  SELECT coalesce(s0.brand, s1.brand) AS brand, coalesce(s0.user_id, s1.user_id) AS user_id,
         coalesce(s0.stage, '{NONE}') AS from_stage, coalesce(s1.stage, '{NONE}') AS to_stage,
         coalesce(s0.stage_rank, 0) AS r0, coalesce(s1.stage_rank, 0) AS r1
  FROM s0 FULL OUTER JOIN s1 ON s0.brand = s1.brand AND s0.user_id = s1.user_id
)"""


def flow_sql(ladder: StageLadder, start: int | str, end: int | str = 0) -> str:
    """The flow matrix between two snapshots: keys 'X>Y' over none and the stages.

    Every key is reported (zeros included) except none>none: gained (none>X),
    deepened, kept (X>X), weakened and lost (X>none).
    """
    keys = _literals([NONE] + [s.key for s in ladder.stages])
    return f"""
WITH {_pairs(ladder, start, end)},
keys AS (
  SELECT f || '>' || t AS key FROM (SELECT unnest({keys}) AS f) CROSS JOIN
  (SELECT unnest({keys}) AS t) WHERE NOT (f = '{NONE}' AND t = '{NONE}')
)
SELECT b.brand, k.key, count(p.user_id) AS value
FROM brands b
CROSS JOIN keys k
LEFT JOIN pairs p ON p.brand = b.brand AND p.from_stage || '>' || p.to_stage = k.key
GROUP BY b.brand, k.key
"""


def deepening_sql(
    ladder: StageLadder, start: int | str, end: int | str = 0, by_stage: bool = False
) -> str:
    """Among users with a stage at ``start``, the share with a higher stage at ``end``.

    A user who left the ladder did not deepen. With ``by_stage`` the rate is broken
    down by the stage at ``start`` (every stage but the highest, which cannot rise).
    """
    pairs = _pairs(ladder, start, end)
    ratio = """count(p.user_id) FILTER (WHERE p.r1 > p.r0) AS numerator,
       count(p.user_id) AS denominator,
       CASE WHEN count(p.user_id) = 0 THEN NULL
            ELSE count(p.user_id) FILTER (WHERE p.r1 > p.r0) / count(p.user_id) END AS value"""
    if not by_stage:
        return f"""
WITH {pairs}
SELECT b.brand, {ratio}
FROM brands b
LEFT JOIN pairs p ON p.brand = b.brand AND p.r0 > 0
GROUP BY b.brand
"""
    keys = _literals([s.key for s in ladder.stages[:-1]])
    return f"""
WITH {pairs}
SELECT b.brand, k.key, {ratio}
FROM brands b
CROSS JOIN (SELECT unnest({keys}) AS key) k
LEFT JOIN pairs p ON p.brand = b.brand AND p.from_stage = k.key
GROUP BY b.brand, k.key
"""
