"""Checks of each reported value on its own: bounds, integer, non_negative, ratio_of,
empty_brand, deterministic."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from brandlens.specs.checks.base import (
    VARIED,
    VARIED_NEVER,
    Cell,
    Checker,
    Context,
    Failure,
    Trial,
    close,
    keys_of,
    where,
)
from brandlens.specs.strategies import GHOST_BRAND

if TYPE_CHECKING:  # pragma: no cover
    from brandlens.engine.result import ResultRow
    from brandlens.specs.spec import IndicatorSpec

SEEN = "seen"


class RowChecker(Checker):
    """A check of every row of the indicator on the log; exercised by a row it tested."""

    never: str = "no log gave the indicator a non-null value"
    exercised = "some row had a value other than null"

    def check(self, cell: Cell, trial: Trial) -> Iterable[str]:
        tested = False
        for row in trial.before.of(cell.indicator.id):
            at = where((row.indicator, row.brand, row.key))
            tested |= self.check_row(cell.prop, cell.indicator, row, at, trial.log.table)
        return {SEEN} if tested else set()

    def check_row(self, prop: Any, ind: IndicatorSpec, row: ResultRow, at: str, table: Any) -> bool:
        """Raise Failure, or say whether the row tested anything."""
        raise NotImplementedError

    def exercise(self, prop: Any, ctx: Context) -> dict[str, str]:
        return {SEEN: self.never}


class BoundsChecker(RowChecker):
    kind = "bounds"
    example = "- bounds: [0, 1]"
    checks = "every non-null value is within [lo, hi] (`null` for an open end)"
    failure = "`brand 'Lumi': value outside [0.0, 1.0]` — expected `[0.0, 1.0]`, got `2.0`"

    def check_row(self, prop: Any, ind: IndicatorSpec, row: ResultRow, at: str, table: Any) -> bool:
        v = row.value
        if v is None:
            return False
        if (prop.lo is not None and v < prop.lo) or (prop.hi is not None and v > prop.hi):
            bounds = [prop.lo, prop.hi]
            raise Failure(ind.id, f"{at}: value outside [{prop.lo}, {prop.hi}]", bounds, v, table())
        return True


class IntegerChecker(RowChecker):
    kind = "integer"
    example = "- integer"
    checks = "every non-null value is a whole number"
    failure = "`value is not an integer`, got `0.5`"

    def check_row(self, prop: Any, ind: IndicatorSpec, row: ResultRow, at: str, table: Any) -> bool:
        if row.value is None:
            return False
        if not float(row.value).is_integer():
            raise Failure(
                ind.id, f"{at}: value is not an integer", "an integer", row.value, table()
            )
        return True


class NonNegativeChecker(RowChecker):
    kind = "non_negative"
    example = "- non_negative"
    checks = "every non-null value is ≥ 0"
    failure = "`value is negative`, got `-1`"

    def check_row(self, prop: Any, ind: IndicatorSpec, row: ResultRow, at: str, table: Any) -> bool:
        if row.value is None:
            return False
        if row.value < 0:
            raise Failure(ind.id, f"{at}: value is negative", ">= 0", row.value, table())
        return True


class RatioOfChecker(RowChecker):
    kind = "ratio_of"
    example = "- ratio_of` or `- ratio_of: {denominator_ge_numerator: false}"
    checks = (
        "every row reports numerator and denominator, value = numerator / denominator, and "
        "(by default) denominator ≥ numerator; a null value needs a zero or null denominator"
    )
    failure = "`value != numerator / denominator` — expected `1/3`, got `0.5`"
    never = "no log gave a ratio with a non-zero denominator"
    exercised = "some row had a value and a denominator other than 0"

    def check_row(self, prop: Any, ind: IndicatorSpec, row: ResultRow, at: str, table: Any) -> bool:
        v, num, den = row.value, row.numerator, row.denominator
        if v is None:
            if num is not None and den not in (None, 0):
                raise Failure(
                    ind.id,
                    f"{at}: null value with a non-zero denominator",
                    f"{num}/{den}",
                    None,
                    table(),
                )
            return False
        if num is None or den is None:
            raise Failure(
                ind.id,
                f"{at}: numerator and denominator must be reported",
                "both",
                [num, den],
                table(),
            )
        if den == 0 or not close(v, num / den):
            raise Failure(
                ind.id, f"{at}: value != numerator / denominator", f"{num}/{den}", v, table()
            )
        if prop.denominator_ge_numerator and den < num:
            # expected and got are the denominator's: at least the numerator, and what it is
            raise Failure(
                ind.id, f"{at}: denominator < numerator", f"denominator >= {num}", den, table()
            )
        return True


class BaseChecker(RowChecker):
    kind = "base"
    example = "- base` or `- base: buyers"
    checks = (
        "every row with a value reports its denominator, a whole number ≥ 0: the count of "
        "`counts` (users by default) the value is taken over, which `compare` marks when "
        "it is under `--min-base`"
    )
    failure = "`the base is not a count` — expected `a whole number >= 0`, got `2.5`"
    never = "no log gave the indicator a value"
    exercised = "some row had a value"

    def check_row(self, prop: Any, ind: IndicatorSpec, row: ResultRow, at: str, table: Any) -> bool:
        if row.value is None:
            return False
        den = row.denominator
        if den is None or den < 0 or not float(den).is_integer():
            raise Failure(
                ind.id, f"{at}: the base is not a count", "a whole number >= 0", den, table()
            )
        return True


class EmptyBrandChecker(RowChecker):
    kind = "empty_brand"
    example = '- empty_brand`, `- empty_brand: "null"`, `- empty_brand: zero'
    checks = (
        f"every run also reports a brand with no events at all (`{GHOST_BRAND}`); each of its "
        'rows is 0 (units users, count, currency) or null (ratio, index, days); `"null"` '
        "declares null (an average in currency, such as ARPU), `zero` declares 0 (a ratio "
        "whose denominator does not depend on the brand). Null is never accepted for 0, nor "
        "0 for null. A breakdown without declared keys may report no row for it"
    )
    failure = f"`brand '{GHOST_BRAND}': a brand with no events` — expected `0`, got `1`"
    never = "no run reported the brand with no events"
    exercised = (
        "a run reported the brand with no events (every run does, unless the indicator "
        "is not applicable to every log), or an open breakdown left it out"
    )

    def check(self, cell: Cell, trial: Trial) -> Iterable[str]:
        seen = set(super().check(cell, trial))
        ind = cell.indicator
        ghost = [k for k in trial.before.rows if k[0] == ind.id and k[1] == GHOST_BRAND]
        if not ghost and ind.dimension and not ind.keys:
            seen.add(SEEN)  # an open breakdown may leave an empty brand out
        return seen

    def check_row(self, prop: Any, ind: IndicatorSpec, row: ResultRow, at: str, table: Any) -> bool:
        if row.brand != GHOST_BRAND:
            return False
        expected = None if ind.unit in ("ratio", "index", "days") else 0
        if prop.value != "auto":
            expected = 0 if prop.value == "zero" else None
        if row.value != expected:  # None != 0: null is not accepted for a declared 0
            raise Failure(ind.id, f"{at}: a brand with no events", expected, row.value, table())
        return True


class DeterministicChecker(Checker):
    kind = "deterministic"
    example = "- deterministic"
    checks = (
        "two runs on the same input give identical rows (value, numerator, denominator): "
        "randomness from run to run; a value that depends on the rows' order is "
        "`permutation_invariant`'s to catch"
    )
    failure = "`two runs on the same input differ`"
    exercised = (
        "the indicator took two different values over all runs (a constant is "
        "trivially deterministic)"
    )

    def check(self, cell: Cell, trial: Trial) -> Iterable[str]:
        ind = cell.indicator.id
        if trial.before.json.get(ind) == trial.after.json.get(ind):
            return ()
        for key in keys_of(trial.before, trial.after, indicator=ind):
            a, b = trial.before.rows.get(key), trial.after.rows.get(key)
            if a != b:
                raise Failure(
                    ind,
                    f"{where(key)}: two runs on the same input differ",
                    a and a.value,
                    b and b.value,
                    trial.log.table(),
                )
        return ()

    def exercise(self, prop: Any, ctx: Context) -> dict[str, str]:
        return {VARIED: VARIED_NEVER}
