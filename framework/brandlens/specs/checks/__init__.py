"""The property checkers, one per kind of the spec vocabulary, in one table.

``CHECKERS`` maps each kind of ``brandlens.specs.spec.PROPERTY_KINDS`` to the
checker that verifies it; ``IMPLICIT`` holds the checks every indicator gets without
declaring them. The harness loops over both and docs/specs.md is written from them
(``checks_markdown``).
"""

from __future__ import annotations

from brandlens.specs.checks.base import Checker
from brandlens.specs.checks.invariance import (
    BrandIsolatedChecker,
    PermutationChecker,
    ScaleChecker,
    TimeShiftChecker,
)
from brandlens.specs.checks.monotone import MonotoneChecker
from brandlens.specs.checks.parameters import ParametersChecker
from brandlens.specs.checks.reads import ReadsOnlyChecker
from brandlens.specs.checks.relations import IdentityChecker, PartitionChecker
from brandlens.specs.checks.threshold import ThresholdChecker
from brandlens.specs.checks.values import (
    BaseChecker,
    BoundsChecker,
    DeterministicChecker,
    EmptyBrandChecker,
    IntegerChecker,
    NonNegativeChecker,
    RatioOfChecker,
)
from brandlens.specs.checks.window import WindowChecker

CHECKERS: dict[str, Checker] = {
    c.kind: c
    for c in (
        BoundsChecker(),
        IntegerChecker(),
        NonNegativeChecker(),
        PartitionChecker(),
        IdentityChecker(),
        RatioOfChecker(),
        BaseChecker(),
        PermutationChecker(),
        BrandIsolatedChecker(),
        MonotoneChecker(),
        ThresholdChecker(),
        TimeShiftChecker(),
        WindowChecker(),
        ReadsOnlyChecker(),
        DeterministicChecker(),
        EmptyBrandChecker(),
        ScaleChecker(),
    )
}

IMPLICIT: dict[str, Checker] = {c.kind: c for c in (ParametersChecker(),)}
"""Checks no spec declares: every indicator gets them (its ``parameters:`` list)."""


def checks_markdown() -> str:
    """The per-kind reference of docs/specs.md, written from the checkers' own docs.

    ``scripts/spec_docs.py`` writes it between ``<!-- checks:begin -->`` and
    ``<!-- checks:end -->``; a test keeps the page equal to it.
    """
    lines = []
    for kind, c in {**CHECKERS, **IMPLICIT}.items():
        lines += [
            f"### `{kind}`",
            "",
            f"- **declared as**: `{c.example}`",
            f"- **checks**: {c.checks}",
            f"- **probe logs**: {c.probing}",
            f"- **random logs**: {c.random}",
            f"- **passes only if exercised**: {c.exercised}",
            f"- **a failure reads**: {c.failure}",
            "",
        ]
    return "\n".join(lines)


__all__ = ["CHECKERS", "IMPLICIT", "Checker", "checks_markdown"]
