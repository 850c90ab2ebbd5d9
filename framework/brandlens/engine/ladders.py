"""Stage ladders: declare ordered stages with evidence rules, get one SQL pass.

AIPL, JD 4A and DREAM are ladders; a third party can declare a new one (say
Douyin O-5A) without writing SQL. The compiled query assigns every
(user, brand) its highest satisfied stage as of one or more snapshot dates.

Output relation columns: ``days_before`` (0 = as_of), ``snapshot_date``,
``user_id``, ``brand``, ``stage`` (the stage key) and ``stage_rank``
(1 = lowest stage). Users with no stage have no row.

A stage is qualified by any one of its rules. A rule is an :class:`Evidence`
(events of some types within a window, optionally only on days later than a day
of another evidence), or a group: :class:`AllOf` needs every one of its rules,
:class:`AnyOf` one of them. Groups nest, so "a purchase within two years AND one
of a review or an accessory bought after the phone within a year" is one rule,
and all of it still compiles into the same single pass.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Annotated, Any, ClassVar, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

from brandlens.data.schema import Event, columns_of
from brandlens.data.vocabulary import VOCABULARY_TYPE
from brandlens.plugin.sqlcheck import quote_ident, quote_string, used_binds

MAX_FLAG_BITS = 62
"""Up to this many rule flags travel as the bits of one BIGINT per event (or per
(user, brand, day)); a ladder with more flags compiles to one bool_or and count each."""
DAY_MAP_DAYS = 62
"""The longest window whose days one BIGINT holds as bits (bit 0 = the snapshot's day, so
the largest shift is 61; a signed BIGINT shifted by 63 overflows in DuckDB)."""

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


def by_code(codes: dict[str, int], values: dict[str, Any], missing: Any) -> list[Any]:
    """A list indexed by vocabulary code (SQL reads element ``code + 1``); ``missing``
    for the codes of types ``values`` does not name."""
    out = [missing] * (max(codes.values(), default=-1) + 1)
    for t, v in values.items():
        out[codes[t]] = v
    return out


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
    """An extra predicate on an event column, e.g. rating >= $positive_rating.

    ``op`` is one of ``=``, ``!=``, ``<``, ``<=``, ``>``, ``>=``, ``in`` and ``not in``
    (with a list). ``value`` is a literal or a ``$parameter`` reference; either way it
    reaches SQL as a bound parameter.

    Example::

        Condition(column="rating", op=">=", value="$positive_rating")
        Condition(column="channel", op="in", value=["app", "mini_program"])
    """

    model_config = ConfigDict(frozen=True)

    column: Literal[EVENT_COLUMNS] = Field(  # type: ignore[valid-type]
        description="a column of the canonical events table, or local_date"
    )
    op: Literal["=", "!=", "<", "<=", ">", ">=", "in", "not in"] = Field(
        description="comparison; 'in' and 'not in' take a list"
    )
    value: Any = Field(description="a literal, a list for in/not in, or '$parameter'")


class Evidence(BaseModel):
    """One way to qualify for a stage: events of these types within a look-back window.

    The user needs events of ``event_types`` on at least ``min_days`` distinct local
    days within the ``window_days`` days ending at the snapshot, each meeting every
    ``where`` condition. ``when`` switches the rule on only for some parameter
    values; ``after`` counts only days later than a day of another evidence.

    Example::

        Evidence(event_types=("add_to_cart", "favorite"), window_days="$interest_days")
        Evidence(event_types=("purchase",), window_days=365, min_days=2)
        Evidence(
            event_types=("purchase",),
            window_days=90,
            after=Evidence(event_types=("ad_click",), window_days=90),
        )
    """

    model_config = ConfigDict(frozen=True)

    event_types: tuple[str, ...] = Field(
        min_length=1, description="registered event types that count as this evidence"
    )
    window_days: IntOrParam = Field(
        description="days ending at the snapshot (inclusive) to look back; int or '$parameter'"
    )
    min_days: IntOrParam = Field(
        1, description="distinct local days with such events needed; int or '$parameter'"
    )
    where: tuple[Condition, ...] = Field(
        (), description="conditions every counted event must meet (all of them)"
    )
    when: dict[str, Any] = Field(
        default_factory=dict,
        description="the rule applies only when these parameters have these values",
    )
    after: Evidence | None = Field(
        default=None,
        description="count only days later than a day of this evidence (same user and "
        "brand, within its own window of the same snapshot)",
    )

    @model_validator(mode="after")
    def _ordered(self) -> Evidence:
        # An ordered rule is decided by its latest day against the prior's earliest day:
        # one aggregate each in the single pass, so it holds on one day, not on min_days.
        if self.after is not None:
            if self.min_days != 1:
                raise ValueError("an evidence with after= qualifies on one day: min_days must be 1")
            a = self.after
            if a.min_days != 1 or a.after is not None or a.when:
                raise ValueError("the evidence in after= takes no min_days, after or when")
        return self


class AllOf(BaseModel):
    """A rule that holds when every one of its rules holds (each within its own window).

    Example (Douyin O-5A's A5: a purchase within a year and advocacy within 90 days)::

        AllOf(
            all_of=(
                Evidence(event_types=("purchase",), window_days=365),
                AnyOf(
                    any_of=(
                        Evidence(event_types=("share",), window_days=90),
                        Evidence(
                            event_types=("review",),
                            window_days=90,
                            where=(Condition(column="rating", op=">=", value=4),),
                        ),
                    )
                ),
            )
        )
    """

    model_config = ConfigDict(frozen=True)

    all_of: tuple[Rule, ...] = Field(min_length=1, description="rules that must all hold")


class AnyOf(BaseModel):
    """A rule that holds when one of its rules holds (to nest an "or" inside an AllOf).

    At the top of a stage it is not needed: a stage's rules are already alternatives.

    Example::

        AnyOf(
            any_of=(
                Evidence(event_types=("share",), window_days=90),
                Evidence(event_types=("review",), window_days=90),
            )
        )
    """

    model_config = ConfigDict(frozen=True)

    any_of: tuple[Rule, ...] = Field(min_length=1, description="rules of which one must hold")


Rule = Evidence | AllOf | AnyOf
"""What qualifies for a stage: one evidence, or a group of rules."""

AllOf.model_rebuild()
AnyOf.model_rebuild()


def evidence_of(rule: Rule) -> Iterator[Evidence]:
    """Every Evidence in a rule, nested groups and ``after=`` evidence included."""
    if isinstance(rule, Evidence):
        yield rule
        if rule.after is not None:
            yield rule.after
        return
    for child in rule.all_of if isinstance(rule, AllOf) else rule.any_of:
        yield from evidence_of(child)


class Stage(BaseModel):
    """A stage of the ladder; any of its rules qualifies a user.

    Example::

        Stage(
            key="P",
            title="Purchase",
            evidence=(Evidence(event_types=("purchase",), window_days=365),),
        )
    """

    model_config = ConfigDict(frozen=True)

    key: str = Field(
        pattern=r"^[A-Za-z0-9_]+$",
        description="the stage's key in results (letters, digits, _); 'none' is reserved",
    )
    title: str = Field("", description="a human name for the stage")
    evidence: tuple[Rule, ...] = Field(
        min_length=1, description="alternative rules; any one qualifies the user"
    )


FUNNEL_STEPS: tuple[str, ...] = ("reach", "engage", "buy", "loyal")
"""The common funnel every ladder can be read on: reached by the brand, engaged with it,
bought, loyal. A ladder declares which of its stages stand at each step (its crosswalk)."""


class StageLadder(BaseModel):
    """Ordered stages (lowest first); the highest satisfied stage wins.

    Declared on a methodology, a ladder is compiled into one SQL pass and
    materialised as a relation named after it, with columns ``days_before``,
    ``snapshot_date``, ``user_id``, ``brand``, ``stage`` and ``stage_rank``: one row
    per user with a stage at each snapshot. ``stage_counts_sql`` and the other
    helpers read it.

    ``funnel`` is the ladder's crosswalk onto the common funnel (``StageLadder.STEPS``):
    step -> the stage keys at that step, e.g. AIPL ``{"reach": ("A",), "engage": ("I",),
    "buy": ("P",), "loyal": ("L",)}``. Steps follow the ladder's order (a later step
    holds only higher stages); a step may be left out, a stage may be at no step.
    ``brandlens compare --funnel`` shows every ladder's brands on the same four steps.

    ``snapshots_sql`` adds snapshots the data asks for, such as the ends of the target
    periods in the targets table: a Python indicator then reads their rows from the
    relation (``days_before = as_of - date``) instead of compiling the ladder again.
    They are added only when a Python indicator of the methodology runs: SQL indicators
    (and entity tables) read the declared snapshots alone, as ``brandlens sql`` exports
    them.

    Example::

        StageLadder(
            name="interest",
            snapshots=(0, 7),
            stages=(
                Stage(key="I", evidence=(Evidence(event_types=("product_view",), window_days=30),)),
                Stage(key="P", evidence=(Evidence(event_types=("purchase",), window_days=365),)),
            ),
            funnel={"engage": ("I",), "buy": ("P",)},
        )
    """

    @field_validator("stages")
    @classmethod
    def _keys(cls, stages: tuple[Stage, ...]) -> tuple[Stage, ...]:
        keys = [s.key for s in stages]
        if "none" in keys or len(set(keys)) != len(keys):
            raise ValueError("stage keys must be unique and 'none' is reserved for flows")
        return stages

    model_config = ConfigDict(frozen=True)

    name: str = Field(
        pattern=r"^[a-z][a-z0-9_]*$", description="the relation name SQL reads the ladder by"
    )
    title: str = Field(
        "",
        description="the ladder's name as people say it (AIPL, JD 4A), in reports; "
        "default: its relation name in capitals, underscores as spaces",
    )
    stages: tuple[Stage, ...] = Field(min_length=1, description="the stages, lowest first")
    snapshots: tuple[IntOrParam, ...] = Field(
        default=(0,), description="days before as_of at which stages are assigned"
    )
    snapshots_sql: str | None = Field(
        None,
        description="a read-only query over the canonical tables whose one DATE column "
        "lists further days on which stages are assigned, found in the data (e.g. the day "
        "before a target period and its last day); dates after as_of and NULLs are "
        "ignored, each other date d becomes the snapshot as_of - d. When a Python "
        "indicator of the methodology runs (only those read them), the engine adds them "
        "before compiling the ladder, so one pass serves every snapshot; a ladder that "
        "cannot take them (more than 64, or a rule with min_days 0) keeps its declared "
        "ones, and IndicatorContext.ladder_snapshots says which it holds",
    )
    STEPS: ClassVar[tuple[str, ...]] = FUNNEL_STEPS

    funnel: dict[str, tuple[str, ...]] = Field(
        default_factory=dict,
        description="crosswalk: funnel step (reach, engage, buy, loyal) -> stage keys",
    )

    @property
    def shown_name(self) -> str:
        """The ladder's title, else its name as a reader would write it (DREAM MIND)."""
        return self.title or self.name.replace("_", " ").upper()

    @model_validator(mode="after")
    def _crosswalk(self) -> StageLadder:
        rank = {s.key: i for i, s in enumerate(self.stages)}
        seen: list[str] = []
        last = -1
        for step in FUNNEL_STEPS:
            keys = self.funnel.get(step, ())
            if step in self.funnel and not keys:
                raise ValueError(f"funnel step {step!r} names no stage")
            for key in keys:
                if key not in rank:
                    raise ValueError(f"funnel step {step!r}: unknown stage {key!r}")
                if key in seen:
                    raise ValueError(f"funnel: stage {key!r} is at more than one step")
                seen.append(key)
            if keys:
                if min(rank[k] for k in keys) <= last:
                    raise ValueError(f"funnel step {step!r}: stages out of the ladder's order")
                last = max(rank[k] for k in keys)
        unknown = set(self.funnel) - set(FUNNEL_STEPS)
        if unknown:
            raise ValueError(
                f"funnel: unknown step(s) {', '.join(sorted(unknown))} "
                f"(steps: {', '.join(FUNNEL_STEPS)})"
            )
        return self

    def crosswalk(self) -> dict[str, list[str]]:
        """The declared funnel in step order: step -> stage keys in ladder order."""
        rank = {s.key: i for i, s in enumerate(self.stages)}
        return {
            step: sorted(self.funnel[step], key=rank.__getitem__)
            for step in FUNNEL_STEPS
            if step in self.funnel
        }

    def evidence(self) -> Iterator[Evidence]:
        """Every Evidence of every stage, however nested."""
        for stage in self.stages:
            for rule in stage.evidence:
                yield from evidence_of(rule)

    def event_types(self) -> set[str]:
        """The event types the ladder reads (for the registration check)."""
        return {t for ev in self.evidence() for t in ev.event_types}

    def snapshot_days(self, params: dict[str, Any]) -> list[int]:
        """The snapshots' days before as_of with ``params`` resolved, sorted, each once."""
        return sorted({int(resolve(s, params)) for s in self.snapshots})

    def history_days(self, params: dict[str, Any]) -> int:
        """Days of events up to as_of the ladder reads: its longest window (of the rules
        ``when`` leaves on) from its earliest snapshot."""
        windows = [
            int(resolve(ev.window_days, params))
            for ev in self.evidence()
            if all(resolve(f"${k}", params) == v for k, v in ev.when.items())
        ]
        return max(windows, default=0) + max(self.snapshot_days(params), default=0)

    def parameter_refs(self) -> set[str]:
        """The parameters the ladder's windows, snapshots and conditions name."""
        refs: set[str] = set()
        for value in self.snapshots:
            refs |= references(value)
        for ev in self.evidence():
            refs |= references(ev.window_days) | references(ev.min_days)
            refs |= set(ev.when)
            for cond in ev.where:
                refs |= references(cond.value)
        return refs

    def compile(
        self, params: dict[str, Any], codes: dict[str, int] | None = None
    ) -> tuple[str, dict[str, Any]]:
        """Return (SQL, bound parameters) computing the ladder relation.

        With ``codes`` (event type -> code of the connection's vocabulary ENUM, see
        ``data.vocabulary``) each event's type is cast to its code once: the scan looks
        up the span its type is read for, the flags of rules with no ``where`` are looked
        up by it and the rest test a bit mask of their types; without, every test is a
        bound list. Same rows.
        """
        binds: dict[str, Any] = {"as_of": None}  # filled by the engine
        if codes is not None and not self.event_types() <= set(codes):
            codes = None  # a type outside the vocabulary: keep the list test

        def has_type(bind: str, types: list[str]) -> str:
            """The test that an event's type is one of ``types``, bound as ``bind``."""
            if codes is None:
                binds[bind] = types
                return f"list_contains(${bind}, event_type)"
            binds[bind] = sum(1 << codes[t] for t in set(types))
            return f"((${bind} >> _type_code) & 1) = 1"

        counted: list[tuple[str, str, str]] = []  # (flag, window bind, min bind) per rule
        ordered: list[tuple[str, str, str, str]] = []  # (flag, window, prior flag, prior window)
        flag_conditions: dict[str, str] = {}  # flag -> its per-event condition
        type_only: dict[str, tuple[str, ...]] = {}  # flag with no `where` -> its event types
        reach: dict[str, int] = {}  # event type -> the longest window of a rule naming it

        def define(ev: Evidence, tag: str, flag: str) -> None:
            """A flag for the evidence's events (per event or day), and its window bind."""
            parts = [has_type(f"{tag}_types", list(ev.event_types))]
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
            flag_conditions[flag] = " AND ".join(parts)
            if not ev.where:
                type_only[flag] = ev.event_types

        def node(rule: Rule, path: str) -> tuple[str, Any] | None:
            """A rule as a tree of counted/ordered leaves; None when `when` switches it off."""
            if isinstance(rule, Evidence):
                if any(resolve(f"${k}", params) != v for k, v in rule.when.items()):
                    return None
                tag, flag = f"l_{self.name}_{path}", f"f_{path}"
                define(rule, tag, flag)
                if rule.after is None:
                    binds[f"{tag}_m"] = int(resolve(rule.min_days, params))
                    counted.append((flag, f"{tag}_w", f"{tag}_m"))
                    return ("n", len(counted) - 1)
                define(rule.after, f"{tag}_a", f"{flag}_a")
                ordered.append((flag, f"{tag}_w", f"{flag}_a", f"{tag}_a_w"))
                return ("o", len(ordered) - 1)
            op, children = ("AND", rule.all_of) if isinstance(rule, AllOf) else ("OR", rule.any_of)
            kept = [t for j, c in enumerate(children) if (t := node(c, f"{path}_{j}"))]
            return (op, kept) if kept else None  # a group left with no rule qualifies nobody

        trees = [
            [t for e_i, rule in enumerate(stage.evidence) if (t := node(rule, f"{s_i}_{e_i}"))]
            for s_i, stage in enumerate(self.stages)
        ]

        # A rule needing one day only asks whether a day exists: all such rules of a
        # snapshot share one bit_or (the rule's flag bit set = the rule holds) instead of
        # a count each.
        bits = {flag: 1 << i for i, flag in enumerate(flag_conditions)}
        as_bits = len(bits) <= MAX_FLAG_BITS
        exists = {i for i, (_, _, m) in enumerate(counted) if as_bits and binds[m] == 1}
        # A rule needing two or more days in a window of at most DAY_MAP_DAYS days sets
        # one bit per day of the window (its distance from the snapshot) in a bit_or and
        # counts the bits: distinct days, with no grouping per day (for two days one
        # aggregate instead of a first and a last day: AIPL's ladder at 10 M events 0.36 ->
        # 0.33 s, DREAM's mind ladder 0.85 -> 0.74 s). A longer window needing two days
        # compares its first and last day in the window. Only the events of the rest (a
        # longer window needing three or more, or min_days 0) are grouped per (user, brand,
        # day) to count days; when the flags do not fit one integer, all events are.
        day_maps = {
            i
            for i, (_, w, m) in enumerate(counted)
            if as_bits and binds[m] >= 2 and binds[w] <= DAY_MAP_DAYS
        }
        two_days = {
            i for i, (_, _, m) in enumerate(counted) if as_bits and binds[m] == 2
        } - day_maps
        by_day = [i for i in range(len(counted)) if i not in exists | two_days | day_maps]
        single = as_bits and not by_day

        def condition(tree: tuple[str, Any], k: int) -> str:
            kind, arg = tree
            if kind == "n" and arg in exists:
                return f"(e{k} & {bits[counted[arg][0]]}) <> 0"
            if kind == "n" and arg in two_days:
                return f"coalesce(lo{k}_{arg} < hi{k}_{arg}, false)"
            if kind == "n" and arg in day_maps:
                return f"bit_count(d{k}_{arg}) >= ${counted[arg][2]}"
            if kind == "n":
                return f"n{k}_{arg} >= ${counted[arg][2]}"
            if kind == "o":  # some day of the rule is later than some day of its prior
                return f"coalesce(a{k}_{arg} > p{k}_{arg}, false)"
            return "(" + f" {kind} ".join(condition(c, k) for c in arg) + ")"

        snapshots = self.snapshot_days(params)
        # Each event type is read only as far back as the longest rule that names it needs
        # (awareness looks back days, purchase years): the scan reduces to what counts.
        read_back = {t: w + max(snapshots) for t, w in reach.items()}  # type -> its span
        if codes is not None:
            # One lookup per event of its type's span (NULL: a type no rule reads), beside
            # the longest span as a plain range the scan can test on its zone maps; one
            # comparison instead of a type test and a range per span (DREAM's mind ladder
            # at 10 M events 0.71 -> 0.63 s).
            binds["l_spans"] = by_code(codes, read_back, None)
            binds["l_span_max"] = max(read_back.values(), default=0)
            scans = [
                "local_date > CAST($as_of AS DATE) - $l_span_max AND local_date > "
                "CAST($as_of AS DATE) - list_extract(CAST($l_spans AS INTEGER[]), _type_code + 1)"
            ]
        else:
            by_span: dict[int, list[str]] = {}
            for t, w in sorted(read_back.items()):
                by_span.setdefault(w, []).append(t)
            scans = []
            for i, (span, types) in enumerate(sorted(by_span.items())):
                binds[f"l_span_{i}"] = span
                scans.append(
                    f"({has_type(f'l_types_{i}', types)} "
                    f"AND local_date > CAST($as_of AS DATE) - $l_span_{i})"
                )
        if not counted and not ordered:  # every rule switched off by `when`: an empty relation
            sql = (
                "SELECT CAST(NULL AS INTEGER) AS days_before, CAST(NULL AS DATE) AS snapshot_date,"
                " CAST(NULL AS VARCHAR) AS user_id, CAST(NULL AS VARCHAR) AS brand,"
                " CAST(NULL AS VARCHAR) AS stage, CAST(NULL AS INTEGER) AS stage_rank WHERE false"
            )
            return sql, {}
        # One grouping per (user, brand) decides every rule at every snapshot; each
        # snapshot then reads its own columns. No join of days with snapshots, no second
        # grouping per snapshot. Per snapshot k: e<k>, the bits of the one-day rules that
        # hold; d<k>_<rule>, the days (as bits) of a rule needing two or more in a short
        # window; n<k>_<rule>, the counted days of one in a longer window (or none);
        # lo/hi<k>_<rule>, the first and last day of a rule needing two in a window longer
        # than DAY_MAP_DAYS; a<k>_<rule> and p<k>_<rule>, an ordered rule's latest day and
        # its prior's earliest. When the flags do not fit one integer, every event is
        # first grouped per (user, brand, day) with a bool_or per flag and every rule has
        # a count n<k>_<rule>; otherwise a day's flags travel as the bits of one integer
        # (one bit_or, not a bool_or per flag: DREAM's day grouping at 10 M events 0.84 ->
        # 0.40 s).
        if as_bits:
            terms = []
            looked_up: set[str] = set()
            if codes is not None and type_only:
                looked_up = set(type_only)
                # The bits of the flags that test the type alone, looked up by the type's
                # code in one list: one expression instead of a CASE per flag.
                type_bits: dict[str, int] = {}
                for f in looked_up:
                    for t in set(type_only[f]):
                        type_bits[t] = type_bits.get(t, 0) | bits[f]
                binds["l_type_flags"] = by_code(codes, type_bits, 0)
                terms.append(
                    "coalesce(list_extract(CAST($l_type_flags AS BIGINT[]), _type_code + 1), 0)"
                )
            terms += [
                f"(CASE WHEN {cond} THEN {bits[flag]} ELSE 0 END)"
                for flag, cond in flag_conditions.items()
                if flag not in looked_up
            ]
            mask = " | ".join(terms)
            day_flags = f"bit_or({mask}) AS _flags"
            flag = {f: f"((_flags & {b}) <> 0)" for f, b in bits.items()}
        else:
            day_flags = ", ".join(f"bool_or({c}) AS {f}" for f, c in flag_conditions.items())
            flag = {f: f for f in flag_conditions}
        by_window: dict[int, tuple[str, int]] = {}  # window -> (its bind, its rules' bits)
        for i in sorted(exists):
            f, w, _ = counted[i]
            bind, mask_w = by_window.get(binds[w], (w, 0))
            by_window[binds[w]] = (bind, mask_w | bits[f])
        counts = []
        for k in range(len(snapshots)):
            binds[f"l_snap_{k}"] = snapshots[k]
            day = f"(CAST($as_of AS DATE) - $l_snap_{k})"
            if by_window:
                in_window = " | ".join(
                    f"(CASE WHEN local_date > {day} - ${bind} THEN {mask_w} ELSE 0 END)"
                    for bind, mask_w in by_window.values()
                )
                counts.append(
                    f"bit_or(CASE WHEN local_date <= {day} THEN _flags & ({in_window}) ELSE 0 END)"
                    f" AS e{k}"
                )
            for i in sorted(two_days):
                f, w, _ = counted[i]
                in_w = f"{flag[f]} AND local_date <= {day} AND local_date > {day} - ${w}"
                counts += [
                    f"min(local_date) FILTER (WHERE {in_w}) AS lo{k}_{i}",
                    f"max(local_date) FILTER (WHERE {in_w}) AS hi{k}_{i}",
                ]
            counts += [
                f"bit_or(CASE WHEN {flag[f]} AND local_date <= {day} "
                f"AND local_date > {day} - ${w} THEN CAST(1 AS BIGINT) << "
                f"CAST(date_diff('day', local_date, {day}) AS INTEGER) ELSE 0 END) AS d{k}_{i}"
                for i, (f, w, _) in enumerate(counted)
                if i in day_maps
            ]
            counts += [
                f"count(*) FILTER (WHERE {flag[f]} AND local_date <= {day} "
                f"AND local_date > {day} - ${w}) AS n{k}_{i}"
                for i, (f, w, _) in enumerate(counted)
                if i in by_day
            ]
            for i, (f, w, prior, pw) in enumerate(ordered):
                counts += [
                    f"max(local_date) FILTER (WHERE {flag[f]} AND local_date <= {day} "
                    f"AND local_date > {day} - ${w}) AS a{k}_{i}",
                    f"min(local_date) FILTER (WHERE {flag[prior]} AND local_date <= {day} "
                    f"AND local_date > {day} - ${pw}) AS p{k}_{i}",
                ]
        per_snapshot = []
        for k in range(len(snapshots)):
            stage_case, rank_case = [], []
            for s_i in reversed(range(len(self.stages))):
                if not trees[s_i]:
                    continue
                cond = " OR ".join(condition(t, k) for t in trees[s_i])
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
        source = "events"
        if codes is not None:
            source = (
                f"(SELECT *, CAST(enum_code(TRY_CAST(event_type AS main.{VOCABULARY_TYPE})) "
                "AS BIGINT) AS _type_code FROM events)"
            )
        scan = f"""FROM {source}
  WHERE brand IS NOT NULL
    AND local_date <= CAST($as_of AS DATE)
    AND ({" OR ".join(scans)})"""
        flagged = ""
        if single:  # `days` then holds one row per event: no grouping before the per-user one
            days = f"SELECT user_id, brand, local_date, {mask} AS _flags\n  {scan}"
        elif as_bits:
            # Counting days needs one row per (user, brand, day), but only for the flags of
            # the rules that count them; every other flag (a day exists, first and last day,
            # ordered days) gives the same answer per event, so those rows skip the day
            # grouping. A row keeps its place among the events when it carries no counting
            # flag, or any other flag (then without the counting ones), so a (user, brand)
            # seen only through events no rule matches still gets its row, as before.
            # (DREAM's mind ladder took this form, before its Consider rule's 60 days went
            # into a day map: 1.16-1.30 -> 1.12-1.13 s at 10 M, 12.5-14.2 -> 11.5 s at 100 M.)
            counting = sum(bits[counted[i][0]] for i in by_day)
            others = (1 << len(bits)) - 1 - counting
            flagged = f"""flagged AS (
  SELECT user_id, brand, local_date, {mask} AS _f
  {scan}
),
"""
            days = f"""SELECT user_id, brand, local_date, _f & {others} AS _flags FROM flagged
  WHERE (_f & {counting}) = 0 OR (_f & {others}) <> 0
  UNION ALL
  SELECT user_id, brand, local_date, bit_or(_f & {counting}) AS _flags FROM flagged
  WHERE (_f & {counting}) <> 0
  GROUP BY user_id, brand, local_date"""
        else:
            days = f"SELECT user_id, brand, local_date, {day_flags}\n  {scan}"
            days += "\n  GROUP BY user_id, brand, local_date"
        sql = f"""
WITH {flagged}days AS (
  {days}
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
        # Only the binds the SQL names: the windows merged into e<k> and the min_days of
        # rules decided by bits or first/last day are gone, and DuckDB rejects unused ones.
        return sql, used_binds(sql, binds)


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
    return "[" + ", ".join(quote_string(k) for k in keys) + "]"


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
