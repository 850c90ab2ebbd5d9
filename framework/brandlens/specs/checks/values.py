"""Checks of each reported value on its own: bounds, integer, non_negative, ratio_of,
empty_brand, deterministic."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from brandlens.specs.checks.base import Cell, Checker, Failure, Trial, close, keys_of, where
from brandlens.specs.strategies import GHOST_BRAND

if TYPE_CHECKING:  # pragma: no cover
    from brandlens.engine.result import ResultRow
    from brandlens.specs.spec import IndicatorSpec


class RowChecker(Checker):
    """A check of every row of the indicator on the generated log."""

    def check(self, cell: Cell, trial: Trial) -> None:
        for row in trial.before.of(cell.indicator.id):
            at = where((row.indicator, row.brand, row.key))
            self.check_row(cell.prop, cell.indicator, row, at, trial.log.table)

    def check_row(self, prop: Any, ind: IndicatorSpec, row: ResultRow, at: str, table: Any) -> None:
        raise NotImplementedError


class BoundsChecker(RowChecker):
    kind = "bounds"
    example = "- bounds: [0, 1]"
    checks = "every non-null value is within [lo, hi] (`null` for an open end)"
    failure = "`brand 'Lumi': value outside [0.0, 1.0]` — expected `[0.0, 1.0]`, got `2.0`"

    def check_row(self, prop: Any, ind: IndicatorSpec, row: ResultRow, at: str, table: Any) -> None:
        v = row.value
        if v is None:
            return
        if (prop.lo is not None and v < prop.lo) or (prop.hi is not None and v > prop.hi):
            raise Failure(
                ind.id,
                f"{at}: value outside [{prop.lo}, {prop.hi}]",
                [prop.lo, prop.hi],
                v,
                table(),
            )


class IntegerChecker(RowChecker):
    kind = "integer"
    example = "- integer"
    checks = "every non-null value is a whole number"
    failure = "`value is not an integer`, got `0.5`"

    def check_row(self, prop: Any, ind: IndicatorSpec, row: ResultRow, at: str, table: Any) -> None:
        if row.value is not None and not float(row.value).is_integer():
            raise Failure(
                ind.id, f"{at}: value is not an integer", "an integer", row.value, table()
            )


class NonNegativeChecker(RowChecker):
    kind = "non_negative"
    example = "- non_negative"
    checks = "every non-null value is ≥ 0"
    failure = "`value is negative`, got `-1`"

    def check_row(self, prop: Any, ind: IndicatorSpec, row: ResultRow, at: str, table: Any) -> None:
        if row.value is not None and row.value < 0:
            raise Failure(ind.id, f"{at}: value is negative", ">= 0", row.value, table())


class RatioOfChecker(RowChecker):
    kind = "ratio_of"
    example = "- ratio_of` or `- ratio_of: {denominator_ge_numerator: false}"
    checks = (
        "every row reports numerator and denominator, value = numerator / denominator, and "
        "(by default) denominator ≥ numerator; a null value needs a zero or null denominator"
    )
    failure = "`value != numerator / denominator` — expected `1/3`, got `0.5`"

    def check_row(self, prop: Any, ind: IndicatorSpec, row: ResultRow, at: str, table: Any) -> None:
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
            return
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
            raise Failure(ind.id, f"{at}: denominator < numerator", num, den, table())


class EmptyBrandChecker(RowChecker):
    kind = "empty_brand"
    example = '- empty_brand`, `- empty_brand: "null"`, `- empty_brand: zero'
    checks = (
        f"every run also reports a brand with no events at all (`{GHOST_BRAND}`); its value "
        'is 0 (units users, count, currency) or null (ratio, index, days); `"null"` declares '
        "null (an average in currency, such as ARPU), `zero` declares 0 (a ratio whose "
        "denominator does not depend on the brand). Null is never accepted for 0, nor 0 for null"
    )
    failure = f"`brand '{GHOST_BRAND}': a brand with no events` — expected `0`, got `1`"

    def check_row(self, prop: Any, ind: IndicatorSpec, row: ResultRow, at: str, table: Any) -> None:
        if row.brand != GHOST_BRAND:
            return
        expected = None if ind.unit in ("ratio", "index", "days") else 0
        if prop.value != "auto":
            expected = 0 if prop.value == "zero" else None
        if row.value != expected:  # None != 0: null is not accepted for a declared 0
            raise Failure(ind.id, f"{at}: a brand with no events", expected, row.value, table())


class DeterministicChecker(Checker):
    kind = "deterministic"
    example = "- deterministic"
    checks = "two runs on the same input give identical rows (value, numerator, denominator)"
    failure = "`two runs on the same input differ`"

    def check(self, cell: Cell, trial: Trial) -> None:
        ind = cell.indicator.id
        if trial.before.json.get(ind) == trial.after.json.get(ind):
            return
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
