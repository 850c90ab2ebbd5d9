"""parameters: an indicator depends on the parameters its spec entry lists, and no other.

Not a property one declares: every indicator's ``parameters:`` list is checked, because
docs, ``brandlens explain`` and the methodology pages show it as what the number depends
on. An unlisted parameter that changes the value is a dependency the docs hide; a listed
one that no move changes is most often a hard-coded default (``- 28`` where
``- $recent_days`` was meant). A parameter that matters only when others are moved too
is declared in ``joint_parameters``, with where it matters, and is moved there as well.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from brandlens.specs.checks.base import (
    VARIED,
    VARIED_NEVER,
    Cell,
    Change,
    Checker,
    Context,
    Failure,
    Trial,
    close,
    keys_of,
    moved_by_one,
    where,
)
from brandlens.specs.strategies import EventLog

if TYPE_CHECKING:  # pragma: no cover
    from hypothesis.strategies import SearchStrategy

KIND = "parameters"
MOVES_ON = ("dense", "spread")
"""The probe logs every move is tried on; each random log gets one move."""


Corner = tuple[str, tuple[tuple[str, Any], ...]]
"""A joint parameter and the other parameters' values it is moved at."""


@dataclass(frozen=True)
class ListedParameters:
    """The implicit property of one indicator: the parameters its spec entry lists, and
    every joint parameter's corner in the methodology (all cells share their moves)."""

    names: tuple[str, ...]
    joint: tuple[Corner, ...] = ()  # this indicator's own
    corners: tuple[Corner, ...] = ()  # every indicator's
    kind: str = KIND


def moves(ctx: Context) -> list[tuple[str, Any]]:
    """Every parameter's moved values: (name, value), in name order.

    Booleans are flipped. A whole number is moved by one (+1, else -1), halved, doubled,
    and taken to both ends of what the model takes (the lowest of 0, 1, 2; the highest
    up to ten times the default): a parameter can matter only in a corner, as an exit
    window shorter than a recent-sales window. A fraction is halved, doubled, moved
    halfway to 1, and taken to 0 and 1. Only values the methodology's parameter model
    takes count; lists and text are not moved.
    """
    out: list[tuple[str, Any]] = []
    for name in sorted(ctx.params):
        value = ctx.params[name]

        def takes(v: Any, name: str = name) -> bool:
            return bool(ctx.accepts({**ctx.params, name: v}))

        if isinstance(value, bool):
            tried: list[Any] = [not value]
        elif isinstance(value, int):
            step = [v for _, v, _ in moved_by_one(ctx, [name], lambda p: True)]
            low = next((v for v in (0, 1, 2) if v < value and takes(v)), None)
            tried = [*step, value // 2, value * 2, low, _highest(value, takes)]
        elif isinstance(value, float):
            tried = [value / 2, value * 2, (value + 1) / 2, 0.0, 1.0]
        else:
            continue
        kept: list[Any] = []
        for v in tried:
            if v is not None and v != value and v not in kept and takes(v):
                kept.append(v)
        out += [(name, v) for v in kept]
    return out


def _highest(value: int, takes: Any) -> int | None:
    """The largest whole number the model takes, up to ten times ``value`` (bisected)."""
    top = max(10 * value, value + 1)
    if takes(top):
        return top
    lo, hi = value, top  # lo taken (the default), hi not
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (mid, hi) if takes(mid) else (lo, mid)
    return lo if lo != value else None


def movable(ctx: Context) -> set[str]:
    return {name for name, _ in moves(ctx)}


def corner_moves(ctx: Context, corners: tuple[Corner, ...]) -> list[tuple[str, Any, Any]]:
    """Each joint parameter's moves at its corner: (name, value, the corner's values)."""
    out = []
    for name, at in corners:
        base = replace(ctx, params={**ctx.params, **dict(at)})
        out += [(n, v, at) for n, v in moves(base) if n == name]
    return out


def _at(at: Any) -> str:
    return ", ".join(f"{k} = {v!r}" for k, v in at)


class ParametersChecker(Checker):
    kind = KIND
    relational = True
    example = "parameters: [recent_days, exit_days]` on the indicator, not under `properties"
    checks = (
        "not declared under `properties`: every indicator of a methodology with a parameter "
        "to move is checked against its spec entry's `parameters:` list. Each parameter "
        "of the model is moved (a boolean flipped; a whole number moved by one, +1 or −1 "
        "where +1 is refused, halved, doubled, and taken to the lowest of 0, 1, 2 and the "
        "highest up to ten times its default; a fraction halved, doubled, moved halfway "
        "to 1, and taken to 0 and 1), only to values the methodology's parameter model "
        "takes, and the log computed at the defaults and again at the moved value. A "
        "parameter the list leaves out must change no value of the indicator; one it "
        "names must change some value. A listed parameter that matters only beside "
        "another's move is declared in `joint_parameters` with the values of the others "
        "(`with`) and a reason, and is moved there too. Lists and text are not moved"
    )
    probing = (
        "every move of every parameter, and each declared joint parameter's moves at its "
        "corner, on the dense probe log and on a log of its own, `spread` (see the harness)"
    )
    random = "one move, drawn, per random log"
    exercised = (
        "the indicator took two different values on the logs tried, and each listed "
        "parameter that can be moved changed some value on some log, at the defaults' "
        "moves or at its own declared corner"
    )
    failure = (
        "`brand 'Lumi': moving exit_days from 60 to 61 changed the value, but the spec "
        "entry's parameters do not list exit_days`; never exercised: `moving recent_days "
        "(to 29, 14, 56, 1, 280) never changed the value on any log: the definition does "
        "not read recent_days (a hard-coded default?), it matters only when another "
        "parameter is moved too (declare it in joint_parameters), or no log reaches it`"
    )

    def label(self, prop: Any, ctx: Context) -> str:
        return KIND

    def group(self, prop: Any, ctx: Context) -> str:
        return KIND  # every indicator's cell shares each moved run

    def probes(self, prop: Any, ctx: Context, log: EventLog) -> list[Any]:
        if log.probe not in MOVES_ON:
            return []
        return [(n, v, None) for n, v in moves(ctx)] + corner_moves(ctx, prop.corners)

    def draw(self, prop: Any, ctx: Context) -> SearchStrategy[Any] | None:
        from hypothesis import strategies as st

        found = [(n, v, None) for n, v in moves(ctx)]
        return st.sampled_from(found) if found else None

    def transform(self, prop: Any, ctx: Context, log: EventLog, extra: Any) -> Change | None:
        if extra is None:
            return None
        name, value, at = extra
        base = {**ctx.params, **dict(at or ())}
        what = f"moving {name} from {base[name]!r} to {value!r} changed the value"
        if at:
            what = f"with {_at(at)}, {what}"
        after = {**base, name: value}
        return Change(
            log, what, log, note=(name, value, at), params=base if at else None, after_params=after
        )

    def check(self, cell: Cell, trial: Trial) -> Iterable[str]:
        assert trial.change is not None
        name, _, at = trial.change.note
        # a listed parameter counts at the defaults' moves and at its own declared
        # corner; an unlisted one may change nothing at any move
        counts = at is None or (name, at) in cell.prop.joint
        for key in keys_of(trial.before, trial.after, indicator=cell.indicator.id):
            left, right = trial.before.value(key), trial.after.value(key)
            if close(left, right) if _numeric(left, right) else left == right:
                continue
            if name in cell.prop.names:
                return {name} if counts else ()
            raise Failure(
                cell.indicator.id,
                f"{where(key)}: {trial.change.what}, but the spec entry's parameters do "
                f"not list {name}",
                left,
                right,
                trial.shown.table(),
            )
        return ()

    def exercise(self, prop: Any, ctx: Context) -> dict[str, str]:
        out = {VARIED: VARIED_NEVER}
        found = moves(ctx)
        joint = dict(prop.joint)
        for name in prop.names:
            tried = [repr(v) for n, v in found if n == name]
            if not tried:
                continue
            if name in joint:
                where = f", nor at {_at(joint[name])}"
                other = "the declared joint_parameters corner is not where it matters"
            else:
                where = ""
                other = (
                    "it matters only when another parameter is moved too (declare it in "
                    "joint_parameters)"
                )
            out[name] = (
                f"moving {name} (to {', '.join(tried)}) never changed the value on any log"
                f"{where}: the definition does not read {name} (a hard-coded default?), "
                f"{other}, or no log reaches it"
            )
        return out


def _numeric(*values: Any) -> bool:
    return all(isinstance(v, int | float) and not isinstance(v, bool) for v in values)
