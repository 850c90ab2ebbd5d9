"""Checks that relate an indicator to others on the same run: partition, identity."""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable
from typing import Any

from brandlens.specs.checks.base import Cell, Checker, Context, Failure, Run, Trial, close
from brandlens.specs.spec import IndicatorSpec, evaluate

_REF = re.compile(r"\b([a-z][a-z0-9_]*\.[a-z0-9_]+)\b")


class PartitionChecker(Checker):
    kind = "partition"
    example = "- partition: {parts: fast.aipl_users, total: fast.fertility}"
    checks = (
        "per brand, the values of `parts` whose key matches `parts_keys` (a glob: `*`, `?`, "
        "`[AIPL]`) sum to the total: the `total_field` (`value`, `numerator` or "
        "`denominator`) of indicator `total` at key `total_key`, or a constant; with "
        "`for_each: [A, I]` it is checked once per item, `{k}` in `parts_keys` and "
        "`total_key` replaced by the item. A null total needs null parts; a brand whose "
        "total row is absent is skipped"
    )
    failure = "`sum of fast.aipl_users[*] != fast.fertility` — expected `3`, got `2`"
    exercised = "some brand had a total other than 0 to compare the parts with"

    def needs(self, prop: Any, ind: IndicatorSpec) -> set[str]:
        return {ind.id, prop.parts} | ({prop.total} if isinstance(prop.total, str) else set())

    def exercise(self, prop: Any, ctx: Context) -> dict[str, str]:
        return {"nonzero": "no brand had a total other than 0 to compare the parts with"}

    def check(self, cell: Cell, trial: Trial) -> Iterable[str]:
        prop, ind, run = cell.prop, cell.indicator, trial.before
        brands = sorted({k[1] for k in run.rows if k[0] in (prop.parts, prop.total)})
        nonzero = False
        for brand in brands:
            for k in prop.for_each:
                nonzero = self._one(prop, ind, run, brand, k, trial) or nonzero
        return {"nonzero"} if nonzero else ()

    def _one(
        self, prop: Any, ind: IndicatorSpec, run: Run, brand: str, k: str, trial: Trial
    ) -> bool:
        """Check one brand (and item); whether its total was other than 0."""
        pattern = prop.parts_keys.replace("{k}", k)
        parts = [
            r.value
            for (i, b, key), r in run.rows.items()
            if i == prop.parts and b == brand and fnmatch.fnmatchcase(key or "", pattern)
        ]
        total_key = None
        if isinstance(prop.total, str):
            total_key = prop.total_key.replace("{k}", k) if prop.total_key else None
            if (prop.total, brand, total_key) not in run.rows:
                return False
            total = getattr(run.rows[(prop.total, brand, total_key)], prop.total_field)
        else:
            total = prop.total
            if parts and all(p is None for p in parts):
                return False  # a share that is null as a whole (e.g. nothing to share)
        if total is None:
            if any(p is not None for p in parts):
                raise Failure(
                    ind.id,
                    f"brand {brand!r}: parts are set but the total is null",
                    None,
                    parts,
                    trial.log.table(),
                )
            return False
        got = sum(p for p in parts if p is not None)
        if not close(got, total, rel=prop.rel_tol):
            named = f"{prop.total}[{total_key}]" if total_key else f"{prop.total}"
            raise Failure(
                ind.id,
                f"brand {brand!r}: sum of {prop.parts}[{pattern}] != {named}",
                total,
                got,
                trial.log.table(),
            )
        return bool(total)


class IdentityChecker(Checker):
    kind = "identity"
    example = (
        '- identity: {expr: "grow.gain + grow.retain + grow.boost + grow.widen + grow.lost '
        '== grow.gmv_change", rel_tol: 1e-9}'
    )
    checks = (
        "per brand, `lhs == rhs` within `rel_tol` and `abs_tol`; terms are `m.x` (the value), "
        "`m.x[KEY]` (one key), `sum(m.x)` (all keys, nulls as 0), `numerator(m.x)` and "
        "`denominator(m.x)` (a ratio's reported parts, also with `[KEY]`), numbers, "
        "`+ - * /` and `abs()`. A brand where a term is null or absent is skipped"
    )
    failure = "`brand 'Lumi': <expr>` with both sides' values"
    exercised = "some brand had every term non-null and a side other than 0"

    def needs(self, prop: Any, ind: IndicatorSpec) -> set[str]:
        return {ind.id} | set(_REF.findall(prop.expr))

    def exercise(self, prop: Any, ctx: Context) -> dict[str, str]:
        return {"evaluated": "no brand had every term non-null and a side other than 0"}

    def check(self, cell: Cell, trial: Trial) -> Iterable[str]:
        prop, ind, run = cell.prop, cell.indicator, trial.before
        lhs, _, rhs = prop.expr.partition("==")
        evaluated = False
        for brand in sorted({k[1] for k in run.rows if k[0] == ind.id}):
            values = _identity_names(run, brand)
            try:
                left = evaluate(_identity_expr(lhs), values)
                right = evaluate(_identity_expr(rhs), values)
            except (KeyError, TypeError):
                continue  # a term is null or absent for this brand: nothing to check
            if not close(left, right, rel=prop.rel_tol, abs_=prop.abs_tol):
                raise Failure(
                    ind.id, f"brand {brand!r}: {prop.expr.strip()}", left, right, trial.log.table()
                )
            evaluated = evaluated or bool(left) or bool(right)
        return {"evaluated"} if evaluated else ()


def _identity_expr(side: str) -> str:
    """``grow.gain + sum(grow.contribution) + grow.driver_share[G]`` -> Python names;
    ``denominator(m.x)`` and ``numerator(m.x[K])`` name a row's reported parts."""
    side = re.sub(
        r"(numerator|denominator)\(([a-z0-9_]+)\.([a-z0-9_]+)(?:\[([^\]]+)\])?\)",
        lambda m: f"{m[1][:3]}__{m[2]}__{m[3]}" + (f"__{_safe(m[4])}" if m[4] else ""),
        side,
    )
    side = re.sub(r"sum\(([a-z0-9_]+)\.([a-z0-9_]+)\)", r"sum__\1__\2", side)
    side = re.sub(
        r"([a-z0-9_]+)\.([a-z0-9_]+)\[([^\]]+)\]",
        lambda m: f"key__{m[1]}__{m[2]}__{_safe(m[3])}",
        side,
    )
    return re.sub(r"\b([a-z][a-z0-9_]*)\.([a-z0-9_]+)\b", r"val__\1__\2", side)


def _safe(key: str) -> str:
    return "".join(c if c.isalnum() else f"_{ord(c):x}_" for c in key)


def _identity_names(run: Run, brand: str) -> dict[str, Any]:
    names: dict[str, Any] = {}
    sums: dict[str, float] = {}
    for (ind, b, key), row in run.rows.items():
        if b != brand:
            continue
        m, n = ind.split(".", 1)
        suffix = "" if key is None else f"__{_safe(key)}"
        for part in ("numerator", "denominator"):
            if getattr(row, part) is not None:
                names[f"{part[:3]}__{m}__{n}{suffix}"] = getattr(row, part)
        if key is None:
            if row.value is not None:
                names[f"val__{m}__{n}"] = row.value
        else:
            if row.value is not None:
                names[f"key__{m}__{n}__{_safe(key)}"] = row.value
                sums[f"sum__{m}__{n}"] = sums.get(f"sum__{m}__{n}", 0.0) + row.value
            else:
                sums.setdefault(f"sum__{m}__{n}", 0.0)
    names.update(sums)
    return names
