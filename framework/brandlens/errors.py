"""Errors that reach the user as one line and a documented exit code.

Exit codes: 0 success (not-applicable indicators included); 1 data problems
(bad rows under --strict, unreadable or empty input, failed indicators); 2 usage
errors (bad options, parameters, unknown methodology or preset, bad mapping
file, an output path that cannot be written); 130 interrupted.
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_DATA = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130
EXIT_TERMINATED = 143


class EngineInterrupted(Exception):
    """Another engine (Spark) stopped a query because the run interrupted it."""


def is_interrupt(e: BaseException) -> bool:
    """Ctrl-C as DuckDB reports it when it arrives during a query.

    DuckDB consumes Python's KeyboardInterrupt and raises InterruptException or, in
    the 2.x Python client, a plain RuntimeError("Query interrupted"); callers that
    catch exceptions per indicator must let both through as an interrupt.
    """
    if isinstance(e, KeyboardInterrupt | EngineInterrupted):
        return True
    if type(e).__name__ == "InterruptException":
        return True
    return isinstance(e, RuntimeError) and str(e).strip() == "Query interrupted"


def first_line(e: BaseException, fallback: str | None = None) -> str:
    """The first line of an error's message, for one-line reports.

    Library messages (DuckDB, SQLGlot, YAML) often span lines with context and
    hints; the user gets the first, and DuckDB's candidate columns for a name it did not
    find (``Binder Error: ... "amout"; candidates: "amount"``), which is the hint that
    fixes a typo. An empty message gives ``fallback``, or the error's class name when no
    fallback is given.
    """
    lines = str(e).strip().splitlines()
    if not lines:
        return type(e).__name__ if fallback is None else fallback
    hint = next((x.strip() for x in lines[1:] if x.strip().startswith(_CANDIDATES)), None)
    if hint is None:
        return lines[0]
    names = hint.removeprefix(_CANDIDATES).strip().removeprefix(":").strip()
    return f"{lines[0]}; candidates: {names}" if names else lines[0]


_CANDIDATES = "Candidate bindings:"


def debugging() -> bool:
    """Whether ``BRANDLENS_DEBUG`` asks for tracebacks (set, and not ``0``)."""
    import os

    return os.environ.get("BRANDLENS_DEBUG", "") not in ("", "0")


class BrandlensError(Exception):
    """Base class: carries the exit code the CLI uses."""

    exit_code = EXIT_DATA

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class DataError(BrandlensError):
    """The input data cannot be used (unreadable, empty, missing columns, bad rows under strict)."""

    exit_code = EXIT_DATA


class UsageError(BrandlensError):
    """The request itself is wrong (option value, parameter, name that does not exist)."""

    exit_code = EXIT_USAGE


class PluginError(BrandlensError):
    """A plugin declared something the core cannot accept; raised at registration."""

    exit_code = EXIT_USAGE
