"""Check a methodology plugin against its spec from your own pytest suite.

One line in a plugin's tests::

    from brandlens.specs.testing import assert_honours_spec


    def test_honours_spec():
        assert_honours_spec("mymethod")

It runs every declared property of every indicator on the fixed probe logs and then
on generated event logs, and fails with each violated property (the two values that
disagreed and a shrunk counterexample) and each property never exercised.
``BRANDLENS_VERIFY_EXAMPLES`` (or ``pytest --brandlens-examples N``) sets how many
random logs per property (default 25; 0 runs the probe logs alone, a quick check that
``brandlens verify``, which gives a verdict, refuses); ``BRANDLENS_VERIFY_SEED`` the seed.

This module is also a pytest plugin (entry point ``pytest11``): it adds the
``--brandlens-examples`` option and the ``brandlens_verify`` fixture.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import pytest

from brandlens.cli.render import failure_report
from brandlens.engine.result import VerifyReport
from brandlens.specs.verification import DEFAULT_EXAMPLES, verify

__all__ = ["assert_honours_spec", "brandlens_verify", "examples_from_env"]


def examples_from_env() -> int:
    """Examples per property: ``BRANDLENS_VERIFY_EXAMPLES`` when set, else the default.

    0 is the probe logs alone, as ``max_examples=0`` is; anything but a whole number
    of at least 0 is refused in one line naming the variable.
    """
    examples = _whole_number("BRANDLENS_VERIFY_EXAMPLES", DEFAULT_EXAMPLES)
    if examples < 0:
        raise ValueError(f"BRANDLENS_VERIFY_EXAMPLES must be at least 0, got {examples}")
    return examples


def _whole_number(variable: str, default: int) -> int:
    """An environment variable's whole number, or ``default`` when it is unset or blank."""
    raw = os.environ.get(variable, "").strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError:
        raise ValueError(f"{variable}: expected a whole number, got {raw!r}") from None


def assert_honours_spec(
    methodology: str, max_examples: int | None = None, seed: int | None = None
) -> VerifyReport:
    """Fail (AssertionError) unless the methodology honours every property of its spec."""
    if seed is None:
        seed = _whole_number("BRANDLENS_VERIFY_SEED", 0)
    examples = examples_from_env() if max_examples is None else max_examples  # 0: probes only
    report = verify([methodology], examples, seed)
    if not report.passed:
        raise AssertionError(f"{methodology} does not honour its spec:\n" + failure_report(report))
    return report


def pytest_addoption(parser: Any) -> None:
    parser.addoption(
        "--brandlens-examples",
        type=int,
        default=None,
        help="generated event logs per property for brandlens spec verification",
    )


def pytest_configure(config: Any) -> None:
    examples = config.getoption("--brandlens-examples", default=None)
    if examples is None:  # not given: the environment or the default
        return
    if examples < 0:
        raise pytest.UsageError(f"--brandlens-examples must be at least 0, got {examples}")
    os.environ["BRANDLENS_VERIFY_EXAMPLES"] = str(examples)  # 0: the probe logs alone


@pytest.fixture
def brandlens_verify() -> Callable[..., VerifyReport]:
    """The helper as a fixture: ``brandlens_verify("mymethod")``."""
    return assert_honours_spec
