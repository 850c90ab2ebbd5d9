"""The brandlens command line: a thin typer shell over the library.

Commands call library functions that return pydantic models and hand them to
``render``. Data goes to stdout (or --output), messages to stderr. Heavy
modules (duckdb, sqlglot) are imported inside commands so ``--help`` is fast.

Exit codes: 0 success (indicators that are not applicable to the data are
skipped with a note); 1 data problems (bad rows under --strict, unreadable or
empty input, failed indicators); 2 usage errors; 130 interrupted (Ctrl-C).

Every message reaches rich through ``say``, which shows user- and data-supplied
text literally (no markup, control characters escaped). No traceback reaches the
user: ``_Group.invoke`` turns an interrupt into one line and exit 130, and any
exception the commands did not anticipate into one "internal error" line and
exit 1 (BRANDLENS_DEBUG=1 shows the traceback instead).
"""

from __future__ import annotations

import contextlib
import os
import sys
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer
from typer.core import TyperCommand, TyperGroup

from brandlens.analysis import MIN_BASE
from brandlens.cli.render import Format as Fmt
from brandlens.errors import (
    EXIT_DATA,
    EXIT_INTERRUPTED,
    EXIT_TERMINATED,
    EXIT_USAGE,
    BrandlensError,
    debugging,
    first_line,
    is_interrupt,
)

if TYPE_CHECKING:  # pragma: no cover
    import click
    from pydantic import BaseModel


def _fold_long_words_in_help() -> None:
    """Help text folds a word wider than its column onto the next line instead of cutting
    it with "…": at 80 columns ``BRANDLENS_METHODOLOGY_BUDGET`` read
    ``BRANDLENS_METHODOLOGY_…``. Typer has no setting for it, so its private help-text
    maker is wrapped, once, when help is drawn (importing typer's rich layer costs 0.12 s,
    too much for every command); without that maker, help is drawn as typer draws it."""
    from rich.text import Text
    from typer import rich_utils

    make = getattr(rich_utils, "_make_rich_text", None)
    if make is None or getattr(make, "folds", False):
        return

    def folding(*args: Any, **kwargs: Any) -> Any:
        text = make(*args, **kwargs)
        if isinstance(text, Text):
            text.overflow = "fold"
        return text

    folding.folds = True  # type: ignore[attr-defined]
    rich_utils._make_rich_text = folding


class _FoldingHelp:
    """Help that folds long words (see ``_fold_long_words_in_help``), for a command or the
    group alike."""

    def format_help(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        _fold_long_words_in_help()
        super().format_help(ctx, formatter)  # type: ignore[misc]


class _Command(_FoldingHelp, TyperCommand):
    """Every brandlens command (assigned below, once all are registered)."""


class _Group(_FoldingHelp, TyperGroup):
    """Runs every command: interrupts, unexpected exceptions and warnings become one line each.

    Usage errors (an unknown option, a missing argument, a bad value) are one line too,
    ``brandlens: error: ...`` and exit 2, where click would draw a box.
    """

    def main(self, *args: Any, standalone_mode: bool = True, **kwargs: Any) -> Any:
        if not standalone_mode:
            return super().main(*args, standalone_mode=False, **kwargs)
        try:
            code = super().main(*args, standalone_mode=False, **kwargs)
        except Exception as e:
            kind = type(e).__name__
            if kind == "NoArgsIsHelpError":  # bare `brandlens` or group: help already shown
                sys.exit(getattr(e, "exit_code", EXIT_USAGE))
            if kind == "Abort":
                say("brandlens: interrupted")
                sys.exit(EXIT_INTERRUPTED)
            if not hasattr(e, "format_message") or not hasattr(e, "exit_code"):
                raise
            # click's (or typer's vendored click's) ClickException: one line, no box
            ctx = getattr(e, "ctx", None)
            hint = f" (see {ctx.command_path} -h)" if ctx is not None else ""
            # typer coerces values with pydantic, whose messages start "Value error, "
            message = e.format_message().replace("': Value error, ", "': ")
            say(f"{message}{hint}", prefix="brandlens: error: ", style="bold red")
            sys.exit(e.exit_code)
        sys.exit(code if isinstance(code, int) else 0)

    def make_context(self, *args: Any, **kwargs: Any) -> click.Context:
        try:  # `brandlens --help | head`: the help is printed while parsing
            return super().make_context(*args, **kwargs)
        except BrokenPipeError:
            _stdout_closed()
        except SystemExit as e:
            _unless_stdout_closed(e)

    def invoke(self, ctx: click.Context) -> Any:
        with warnings.catch_warnings(record=True) as caught:
            try:
                return super().invoke(ctx)
            except KeyboardInterrupt:
                _interrupted()
            except BrokenPipeError:
                _stdout_closed()
            except SystemExit as e:
                _unless_stdout_closed(e)
            except Exception as e:
                if is_interrupt(e):
                    _interrupted()
                if type(e).__module__.startswith(("click", "typer")):  # usage errors, Exit
                    raise
                if debugging():
                    raise
                if isinstance(e, OSError):  # the environment, not a bug: name the file
                    where = f"{e.filename}: " if e.filename else ""
                    fail(f"{where}{e.strerror or e}", EXIT_DATA)
                fail(
                    f"internal error: {type(e).__name__}: {first_line(e, '')} "
                    "(please report; set BRANDLENS_DEBUG=1 for the traceback)",
                    EXIT_DATA,
                )
            finally:
                _report_warnings(caught)


def _stdout_closed() -> NoReturn:
    """The reader of stdout stopped reading (``| head``, a closed pager): the command is
    done, exit 0 without a message. What is still buffered goes to /dev/null, so the
    interpreter's own flush at exit does not fail once more."""
    with contextlib.suppress(OSError, ValueError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    sys.exit(0)


def _unless_stdout_closed(e: SystemExit) -> NoReturn:
    """Re-raise ``e``, unless it is rich's exit on a broken pipe (a help page printed into
    ``| head``): rich points stdout at /dev/null and exits 1; that is a closed stdout."""
    if e.code == 1:
        with contextlib.suppress(OSError, ValueError):
            out, null = os.fstat(sys.stdout.fileno()), os.stat(os.devnull)
            if (out.st_dev, out.st_ino) == (null.st_dev, null.st_ino):
                sys.exit(0)
    raise e


_TERMINATED: list[int] = []


def _on_sigterm(signum: int, frame: Any) -> None:
    """SIGTERM unwinds like Ctrl-C (so temporary files and the spill folder are removed),
    then exits 143, the shell's code for a terminated process."""
    _TERMINATED.append(signum)
    raise KeyboardInterrupt


def _watch_signals() -> None:
    """Stop a running query at once on SIGTERM.

    Python runs a signal handler only between bytecodes, i.e. after a long DuckDB query
    ends. The C-level handler also writes the signal number to a wake-up pipe; a thread
    reading it interrupts every open dataset's query, so the handler runs promptly.
    """
    import signal
    import threading

    read_end, write_end = os.pipe()
    os.set_blocking(write_end, False)
    try:
        signal.set_wakeup_fd(write_end, warn_on_full_buffer=False)
    except ValueError:  # not the main thread (e.g. embedded): the handler alone will do
        os.close(read_end)
        os.close(write_end)
        return

    def watch() -> None:
        # Import nothing here: a daemon thread still importing duckdb's C++ module when
        # a quick command exits is unwound at interpreter exit, and that aborts the
        # process ("exception not rethrown", exit 134). No engine loaded: no query to stop.
        while True:
            data = os.read(read_end, 64)
            if not data:
                return
            if signal.SIGTERM in data:
                _engine_call("interrupt_all")

    threading.Thread(target=watch, daemon=True, name="brandlens-signals").start()


def _engine_call(name: str) -> None:
    """Call ``brandlens.engine.runs.<name>()`` if the engine is loaded: a signal can come
    while it is still being imported, when the module exists without its functions (the
    watcher then printed an AttributeError's traceback); with no engine there is no query
    to stop and no run to close."""
    call = getattr(sys.modules.get("brandlens.engine.runs"), name, None)
    if call is not None:
        call()


def _interrupted() -> NoReturn:
    for _ in range(3):  # the signal's own handler may still be pending: it raises once more
        try:
            _engine_call("close_all")  # no run's directory outlives it, however it was stopped
            break
        except KeyboardInterrupt:
            continue
    if _TERMINATED:
        say("brandlens: terminated")
        raise typer.Exit(EXIT_TERMINATED)
    say("brandlens: interrupted")
    raise typer.Exit(EXIT_INTERRUPTED)


def _report_warnings(caught: list[warnings.WarningMessage]) -> None:
    """Library warnings as one line each, once: never a flood of source lines on stderr."""
    seen: set[tuple[str, str]] = set()
    for w in caught:
        key = (w.category.__name__, first_line(w.message, ""))
        if key not in seen:
            seen.add(key)
            say(f"brandlens: warning: {key[0]}: {key[1]}")


app = typer.Typer(
    name="brandlens",
    help="Consumer-asset indicators (AIPL/FAST, 4A/GOAL, GROW, ...) from a raw event log.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    cls=_Group,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        from brandlens import __version__

        sys.stdout.write(f"brandlens {__version__}\n")
        raise typer.Exit(0)


@app.callback()
def _main(
    version: Annotated[
        bool,
        typer.Option(
            "--version", "-V", callback=_version, is_eager=True, help="Show the version and exit."
        ),
    ] = False,
) -> None:
    """Consumer-asset indicators (AIPL/FAST, 4A/GOAL, GROW, ...) from a raw event log."""


def _writable(value: Path, what: str) -> Path:
    """A path the run will write, checked before anything is computed (a run must not
    end in a refusal to write)."""
    from brandlens.fileio import check_writable

    with writing(value), errors():
        check_writable(value, what)
    return value


def _single(values: list[str], option: str, why: str) -> str:
    """The one value of an option that takes one: given twice, typer would keep the last
    silently (``funnel -b Lumi -b Dusk`` showed Dusk alone)."""
    if len(values) > 1:
        given = ", ".join(repr(v) for v in values)
        fail(f"{option}: give one value, not {len(values)} ({given}): {why}", EXIT_USAGE)
    return values[0]


def _refuse_writing_inputs(
    data: str | Path,
    mapping: Path | None,
    outputs: dict[str, Path | None],
    other_inputs: dict[str, Path | None] | None = None,
) -> None:
    """Before anything is read: an output that is one of the run's inputs is refused."""
    from brandlens.data.sources import refuse_writing_inputs

    with errors():
        refuse_writing_inputs(data, mapping, outputs, other_inputs)


def _output_path(raw: str) -> Path | None:
    """--output as typed: ``-`` alone is stdout; ``./-`` is a file named ``-`` (a Path
    would make the two the same)."""
    return None if raw == "-" else Path(raw)


def _output_checked(value: Path | None) -> Path | None:
    """--output, checked up front (``-`` is already None: stdout)."""
    return None if value is None else _writable(value, "--output")


def _report_checked(value: Path) -> Path:
    """The report's --output, checked up front like --output; ``-`` is stdout. The report
    is one HTML file: a name of another kind (``rep.pdf``) would hold HTML all the same."""
    if str(value) == "-":
        return value
    _writable(value, "--output")
    if value.suffix.lower() not in (".html", ".htm"):
        fail(f"--output {value}: the report is an HTML page: name it .html", EXIT_USAGE)
    return value


def _quarantine_checked(value: Path | None) -> Path | None:
    """--quarantine-out, writable, checked up front (the dataset checks its name)."""
    return None if value is None else _writable(value, "--quarantine-out")


QuarantineOpt = Annotated[
    Path | None,
    typer.Option(
        "--quarantine-out",
        help="Write quarantined rows with reasons (.csv, .csv.gz or .parquet).",
        callback=_quarantine_checked,
    ),
]
FormatOpt = Annotated[
    Fmt | None,
    typer.Option(
        "--format",
        "-f",
        metavar="<format>",
        help=(
            "Output format: table, json, csv or markdown (default: as --output is named, "
            ".json .csv .md; else table)."
        ),
    ),
]
OutputOpt = Annotated[
    Path | None,
    typer.Option(
        "--output",
        "-o",
        help="Write data here instead of stdout ('-' is stdout, './-' a file named -).",
        parser=_output_path,
        callback=_output_checked,
    ),
]
CurrencyOpt = Annotated[
    str, typer.Option("--currency", help="Currency code shown with money values.")
]
BaselineOpt = Annotated[
    str | None,
    typer.Option(
        "--baseline",
        help="Show change since: previous (a month before), yoy (a year before) or a date.",
    ),
]
MinBaseOpt = Annotated[
    int,
    typer.Option(
        "--min-base",
        min=0,
        help="Mark (†) values over fewer people than this in their denominator (0: none).",
    ),
]
NoColorOpt = Annotated[bool, typer.Option("--no-color", help="No colours (NO_COLOR is honoured).")]
DataArg = Annotated[
    str,  # not Path: messages name DATA exactly as given (Path would drop a leading ./)
    typer.Argument(
        help="Directory with events.* (+ optional tables), an events file, or a DuckDB file."
    ),
]
MappingOpt = Annotated[
    Path | None, typer.Option("--mapping", help="Column mapping YAML for a custom format.")
]
PresetOpt = Annotated[
    str | None,
    typer.Option("--preset", help="Built-in mapping: rees46, taobao-userbehavior, cdnow."),
]
StrictOpt = Annotated[
    bool,
    typer.Option(
        "--strict", help="Fail (exit 1) on any bad row (rows a mapping excludes do not count)."
    ),
]
TimezoneOpt = Annotated[
    str | None,
    typer.Option(
        "--timezone",
        help="Time zone whose local dates windows count in (default Asia/Shanghai, or the "
        "zone a loaded dataset file was made with).",
    ),
]
TsTimezoneOpt = Annotated[
    str | None,
    typer.Option(
        "--ts-timezone",
        help="Time zone of event times written without a UTC offset (default UTC), e.g. "
        "Asia/Shanghai for an export in Beijing time.",
    ),
]
QueryTimeoutOpt = Annotated[
    float | None,
    typer.Option(
        "--query-timeout",
        help="Seconds one plugin query may run before it is stopped and its indicator "
        "reported as failed (default 300 for up to 100 M events, in proportion beyond; "
        "BRANDLENS_QUERY_TIMEOUT).",
    ),
]
BudgetOpt = Annotated[
    float | None,
    typer.Option(
        "--methodology-budget",
        help="Seconds all queries of one methodology may take (default 900 for up to "
        "100 M events, in proportion beyond; BRANDLENS_METHODOLOGY_BUDGET).",
    ),
]
NoCacheOpt = Annotated[
    bool,
    typer.Option(
        "--no-cache",
        help="Validate DATA afresh and keep nothing (BRANDLENS_CACHE=0 does the same).",
    ),
]
AsOfOpt = Annotated[
    str | None, typer.Option("--as-of", help="As-of date (default: last local event date).")
]
MethodOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--methodology", "-m", help="Methodology, in any case: fast, FAST, A.R.G.O (repeatable)."
    ),
]
BrandOpt = Annotated[list[str] | None, typer.Option("--brand", "-b", help="Brand (repeatable).")]
ParamOpt = Annotated[
    list[str] | None,
    typer.Option("--param", "-p", help="METHOD.NAME=VALUE, e.g. super.new_days=60."),
]
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar or hints.")]
MemoryOpt = Annotated[
    str | None, typer.Option("--memory-limit", help="DuckDB memory limit, e.g. 8GB.")
]
EngineOpt = Annotated[
    str | None,
    typer.Option(
        "--engine",
        help="Where the indicators run: duckdb (default) or spark (needs brandlens\\[spark] "
        "and Java; BRANDLENS_ENGINE). Spark validates Parquet files itself, DuckDB the "
        "rest (docs/engines.md).",
    ),
]
SparkRemoteOpt = Annotated[
    str | None,
    typer.Option(
        "--spark-remote",
        help="With --engine spark: a Spark Connect address, e.g. sc://host:15002 "
        "(default SPARK_REMOTE, else local[*]).",
    ),
]
ThreadsOpt = Annotated[int | None, typer.Option("--threads", help="DuckDB threads.")]
TempOpt = Annotated[
    Path | None, typer.Option("--temp-directory", help="Where DuckDB spills to disk.")
]


def _stderr(no_color: bool = False) -> Any:
    from rich.console import Console

    return Console(stderr=True, no_color=no_color or "NO_COLOR" in os.environ, highlight=False)


def say(message: str, prefix: str = "", style: str = "") -> None:
    """The one way to stderr: the message is shown literally, never read as rich markup."""
    from rich.text import Text

    from brandlens.cli.render import plain

    line = Text.assemble((prefix, style), plain(message)) if prefix else plain(message)
    _stderr().print(line, soft_wrap=True)


def fail(message: str, code: int) -> NoReturn:
    say(message, prefix="brandlens: error: ", style="bold red")
    raise typer.Exit(code)


@contextmanager
def errors() -> Iterator[None]:
    """Turn library errors into one line on stderr and the documented exit code."""
    try:
        yield
    except BrandlensError as e:
        fail(e.message, e.exit_code)
    except Exception as e:
        if is_interrupt(e):  # DuckDB's form of Ctrl-C: handled by _Group as an interrupt
            raise KeyboardInterrupt from None
        if type(e).__module__.startswith(("duckdb", "_duckdb")):
            first = first_line(e)
            fail(f"DuckDB: {first}", EXIT_DATA)
        raise


OUTPUT_FORMATS = {
    ".json": Fmt.json,
    ".csv": Fmt.csv,
    ".md": Fmt.markdown,
    ".markdown": Fmt.markdown,
}
"""The format an --output file's name asks for when --format is not given."""


def output_format(fmt: Fmt | None, output: Path | None) -> Fmt:
    """``--format`` when given; else what ``--output``'s name says; else a table. A file
    named ``.csv`` used to receive a box-drawn table."""
    if fmt is not None:
        return fmt
    if output is None:
        return Fmt.table
    return OUTPUT_FORMATS.get(output.suffix.lower(), Fmt.table)


def emit(model: BaseModel, fmt: Fmt | None, output: Path | None, no_color: bool) -> None:
    from brandlens.cli.render import render

    fmt = output_format(fmt, output)
    to_terminal = output is None and sys.stdout.isatty()
    color = to_terminal and not no_color and "NO_COLOR" not in os.environ
    width = _terminal_columns() if to_terminal else _columns()
    text = render(model, fmt, color=color, width=width)
    write_output(text, output)


def _terminal_columns() -> int:
    """The terminal's width (COLUMNS first, as shutil reads it), at least 20: a listing
    wider than the terminal then comes in blocks of columns instead of wrapped lines."""
    import shutil

    return max(20, shutil.get_terminal_size((120, 24)).columns)


def _columns() -> int:
    """Table width off a terminal (a file, a pipe): COLUMNS when it is a width, else 160."""
    given = os.environ.get("COLUMNS", "")
    return int(given) if given.isdigit() and 20 <= int(given) <= 10_000 else 160


@contextmanager
def writing(path: Path) -> Iterator[None]:
    """Writing under a path the user gave: an OSError is a usage error naming the file."""
    try:
        yield
    except OSError as e:
        fail(f"{e.filename or path}: cannot write ({e.strerror or e})", EXIT_USAGE)


def write_output(text: str, output: Path | None) -> None:
    """Data to stdout, or to --output (a directory, a missing folder, a full disk: exit 2)."""
    if output is None:
        sys.stdout.write(text)
        sys.stdout.flush()
        return
    from brandlens.fileio import atomic_write_text

    with writing(output), errors():  # only that path changes, and only on success
        atomic_write_text(output, text, "--output")


def _params(items: list[str] | None) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            fail(f"--param {item!r}: expected METHOD.NAME=VALUE", EXIT_USAGE)
        if key.strip() in out:  # typer keeps every -p; the last one would win unsaid
            fail(f"--param {key.strip()}: given twice; give it once", EXIT_USAGE)
        out[key.strip()] = value.strip()
    return out


DEMO_QUERY_TIMEOUT = 60.0
"""Seconds one plugin query may take in ``brandlens demo`` (the demo's own take ~1 s)."""


def _config(
    memory: str | None,
    threads: int | None,
    temp: Path | None,
    query_timeout: float | None = None,
    methodology_budget: float | None = None,
    engine: str | None = None,
    spark_remote: str | None = None,
) -> Any:
    from brandlens.engine.runs import EngineConfig

    config = EngineConfig(
        memory_limit=memory,
        threads=threads,
        temp_directory=str(temp) if temp else None,
        query_timeout=query_timeout,
        methodology_budget=methodology_budget,
        engine=engine,
        spark_remote=spark_remote,
    )
    config.engine_name()  # an unknown engine is a usage error before any data is read
    return config


@contextmanager
def _progress(total: int, quiet: bool) -> Iterator[Any]:
    """A rich progress bar on stderr (one step per methodology), only on a terminal."""
    if quiet or not sys.stderr.isatty() or total == 0:
        yield None
        return
    from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn

    from brandlens.cli.render import printable

    columns = (TextColumn("{task.description}", markup=False), BarColumn(), TaskProgressColumn())
    with Progress(*columns, console=_stderr(), transient=True) as bar:
        task = bar.add_task("computing", total=total)

        def step(name: str) -> None:
            bar.update(task, advance=1, description=printable(f"computed {name}"))

        yield step


@contextmanager
def _loading(data: str | Path, quiet: bool) -> Iterator[Any]:
    """A rich bar on stderr while DATA is read and checked, only on a terminal.

    A first run of a large log spends minutes in a few statements; the bar shows the
    running one's progress (engine.watch). It appears only once a statement has run for
    a moment, so a cached dataset opens without one, and goes when loading ends.
    """
    if quiet or not sys.stderr.isatty():
        yield None
        return
    import threading

    from rich.progress import (
        BarColumn,
        Progress,
        SpinnerColumn,
        TaskProgressColumn,
        TextColumn,
        TimeElapsedColumn,
    )

    from brandlens.cli.render import printable

    columns = (
        SpinnerColumn(),
        TextColumn("{task.description}", markup=False),
        BarColumn(),
        TaskProgressColumn(),
        TimeElapsedColumn(),
    )
    bar = Progress(*columns, console=_stderr(), transient=True)
    task: Any = None  # set while the bar is on screen
    closed = False  # the command is past its load: nothing may show again
    lock = threading.Lock()

    def report(percent: float | None) -> None:
        nonlocal task
        with lock:
            if closed:
                return
            if percent is None:  # loaded: the command's own work (and bar) follows
                if task is not None:
                    bar.stop()
                    bar.remove_task(task)
                    task = None
                return
            if task is None:
                bar.start()
                task = bar.add_task(printable(f"loading {data}"), total=100)
            bar.update(task, completed=percent)

    try:
        yield report
    finally:
        report(None)
        with lock:
            closed = True


@contextmanager
def _verify_progress(quiet: bool) -> Iterator[Any]:
    """A rich progress bar on stderr per methodology verified (logs checked of all), only
    on a terminal; the callback is the harness's ``progress``."""
    if quiet or not sys.stderr.isatty():
        yield None
        return
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
    )

    from brandlens.cli.render import printable

    columns = (
        TextColumn("{task.description}", markup=False),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("logs"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=_stderr(), transient=True) as bar:
        tasks: dict[str, Any] = {}

        def step(methodology: str, done: int, total: int) -> None:
            if methodology not in tasks:
                name = printable(f"verify {methodology}")
                tasks[methodology] = bar.add_task(name, total=total)
            bar.update(tasks[methodology], completed=done, total=total)

        yield step


def _run(
    kind: str,
    data: str | Path,
    as_of: str | None,
    methodology: list[str] | None,
    brand: list[str] | None,
    param: list[str] | None,
    mapping: Path | None,
    preset: str | None,
    timezone: str | None,
    ts_timezone: str | None,
    strict: bool,
    quiet: bool,
    config: Any,
    no_cache: bool = False,
    options: Any = None,
) -> Any:
    from brandlens.engine.runs import Dataset

    with (
        _loading(data, quiet) as on_load,
        Dataset(
            data,
            mapping=mapping,
            preset=preset,
            timezone=timezone,
            ts_timezone=ts_timezone,
            strict=strict,
            config=config,
            cache=False if no_cache else None,
            load_progress=on_load,
        ) as ds,
    ):
        if not quiet:
            import shlex

            given = [
                ("--mapping", mapping),
                ("--preset", preset),
                ("--timezone", timezone),
                ("--ts-timezone", ts_timezone),
            ]
            load = ["brandlens", "load", str(data), "--into", "FILE.duckdb", "--cluster"]
            load += [str(part) for opt, value in given if value for part in (opt, value)]
            _hint_cluster(ds.layout, shlex.join(load))
        total = len(methodology) if methodology else len(ds.registry.methodologies)
        with _progress(total, quiet) as step:
            kwargs = dict(
                as_of=as_of,
                methodologies=methodology,
                brands=brand,
                params=_params(param),
                progress=step,
            )
            if kind == "compute":
                from brandlens.analysis.checks import check_choice

                check_choice(ds, as_of, brand)  # typos are not zeros, as in compare
                return ds.compute(**kwargs)
            if kind == "report":
                from brandlens.analysis.report import build_report

                return build_report(ds, **kwargs, options=options)
            if kind == "compare and report":
                from brandlens.analysis.report import compare_and_report

                return compare_and_report(ds, **kwargs)
            from brandlens.analysis.compare import compare as run_compare

            return run_compare(ds, **kwargs, options=options)


@app.command()
def compute(
    data: DataArg,
    as_of: AsOfOpt = None,
    methodology: MethodOpt = None,
    brand: BrandOpt = None,
    param: ParamOpt = None,
    mapping: MappingOpt = None,
    preset: PresetOpt = None,
    timezone: TimezoneOpt = None,
    ts_timezone: TsTimezoneOpt = None,
    strict: StrictOpt = False,
    fmt: FormatOpt = None,
    output: OutputOpt = None,
    no_color: NoColorOpt = False,
    quiet: QuietOpt = False,
    memory_limit: MemoryOpt = None,
    threads: ThreadsOpt = None,
    temp_directory: TempOpt = None,
    no_cache: NoCacheOpt = False,
    query_timeout: QueryTimeoutOpt = None,
    methodology_budget: BudgetOpt = None,
    engine: EngineOpt = None,
    spark_remote: SparkRemoteOpt = None,
) -> None:
    """Compute every indicator of the chosen methodologies, per brand."""
    _refuse_writing_inputs(data, mapping, {"--output": output})
    with errors():
        config = _config(
            memory_limit,
            threads,
            temp_directory,
            query_timeout,
            methodology_budget,
            engine,
            spark_remote,
        )
        result = _run(
            "compute",
            data,
            as_of,
            methodology,
            brand,
            param,
            mapping,
            preset,
            timezone,
            ts_timezone,
            strict,
            quiet,
            config,
            no_cache,
        )
    emit(result, fmt, output, no_color)
    _report_errors(result, fmt)


@app.command()
def compare(
    data: DataArg,
    as_of: AsOfOpt = None,
    methodology: MethodOpt = None,
    brand: BrandOpt = None,
    param: ParamOpt = None,
    currency: CurrencyOpt = "CNY",
    category: Annotated[
        str | None,
        typer.Option(
            "--category",
            help="Compare within this category (default: each brand within its main "
            "category, the one with the most purchase GMV).",
        ),
    ] = None,
    across_categories: Annotated[
        bool, typer.Option("--across-categories", help="No category context.")
    ] = False,
    baseline: BaselineOpt = None,
    benchmark: Annotated[
        Path | None,
        typer.Option(
            "--benchmark",
            help="CSV or YAML of published figures: indicator, category, p25, p50, p75, "
            "top10, source (docs/comparing.md).",
        ),
    ] = None,
    funnel: Annotated[
        bool,
        typer.Option("--funnel", help="Each brand's reach/engage/buy/loyal under every ladder."),
    ] = False,
    min_base: MinBaseOpt = MIN_BASE,
    mapping: MappingOpt = None,
    preset: PresetOpt = None,
    timezone: TimezoneOpt = None,
    ts_timezone: TsTimezoneOpt = None,
    strict: StrictOpt = False,
    fmt: FormatOpt = None,
    output: OutputOpt = None,
    no_color: NoColorOpt = False,
    quiet: QuietOpt = False,
    memory_limit: MemoryOpt = None,
    threads: ThreadsOpt = None,
    temp_directory: TempOpt = None,
    no_cache: NoCacheOpt = False,
    query_timeout: QueryTimeoutOpt = None,
    methodology_budget: BudgetOpt = None,
    engine: EngineOpt = None,
    spark_remote: SparkRemoteOpt = None,
) -> None:
    """Compare brands: headline values, leaders, ranks, agreement and category context."""
    from brandlens.analysis.compare import CompareOptions
    from brandlens.api import _options

    _refuse_writing_inputs(data, mapping, {"--output": output}, {"--benchmark": benchmark})
    with errors():
        options = _options(
            CompareOptions,
            currency=currency,
            category=category,
            across_categories=across_categories,
            baseline=baseline,
            benchmark=benchmark,
            funnel=funnel,
            min_base=min_base,
        )
        result = _run(
            "compare",
            data,
            as_of,
            methodology,
            brand,
            param,
            mapping,
            preset,
            timezone,
            ts_timezone,
            strict,
            quiet,
            _config(
                memory_limit,
                threads,
                temp_directory,
                query_timeout,
                methodology_budget,
                engine,
                spark_remote,
            ),
            no_cache,
            options,
        )
    emit(result, fmt, output, no_color)
    _report_errors(result, fmt)


@app.command()
def report(
    data: DataArg,
    output: Annotated[
        Path,
        typer.Option(
            "--output",
            "-o",
            help="The HTML file to write (e.g. report.html; '-' is stdout).",
            callback=_report_checked,
        ),
    ],
    as_of: AsOfOpt = None,
    methodology: MethodOpt = None,
    brand: BrandOpt = None,
    param: ParamOpt = None,
    currency: CurrencyOpt = "CNY",
    baseline: BaselineOpt = None,
    min_base: MinBaseOpt = MIN_BASE,
    mapping: MappingOpt = None,
    preset: PresetOpt = None,
    timezone: TimezoneOpt = None,
    ts_timezone: TsTimezoneOpt = None,
    strict: StrictOpt = False,
    quiet: QuietOpt = False,
    memory_limit: MemoryOpt = None,
    threads: ThreadsOpt = None,
    temp_directory: TempOpt = None,
    no_cache: NoCacheOpt = False,
    query_timeout: QueryTimeoutOpt = None,
    methodology_budget: BudgetOpt = None,
    engine: EngineOpt = None,
    spark_remote: SparkRemoteOpt = None,
) -> None:
    """One self-contained HTML report (opens offline): overview, funnels, flows, pictures."""
    from brandlens.analysis.report import ReportOptions
    from brandlens.api import _options

    _refuse_writing_inputs(data, mapping, {"--output": output})
    with errors():
        options = _options(ReportOptions, currency=currency, baseline=baseline, min_base=min_base)
        result = _run(
            "report",
            data,
            as_of,
            methodology,
            brand,
            param,
            mapping,
            preset,
            timezone,
            ts_timezone,
            strict,
            quiet,
            _config(
                memory_limit,
                threads,
                temp_directory,
                query_timeout,
                methodology_budget,
                engine,
                spark_remote,
            ),
            no_cache,
            options,
        )
    _write_report(result, output, quiet)


def _write_report(result: Any, output: Path, quiet: bool) -> None:
    """The report's HTML to ``output`` (atomically), and its path said."""
    from brandlens.cli.report_html import render_html
    from brandlens.fileio import atomic_write_text

    if str(output) == "-":
        write_output(render_html(result), None)
        return
    with writing(output), errors():
        atomic_write_text(output, render_html(result), "--output")
    if not quiet:
        say(f"report written to {output} (open it in a browser; it needs no network)")


@app.command("funnel")
def funnel_command(
    data: DataArg,
    brand: Annotated[list[str], typer.Option("--brand", "-b", help="The brand to show (one).")],
    methodology: MethodOpt = None,
    as_of: AsOfOpt = None,
    param: ParamOpt = None,
    mapping: MappingOpt = None,
    preset: PresetOpt = None,
    timezone: TimezoneOpt = None,
    ts_timezone: TsTimezoneOpt = None,
    strict: StrictOpt = False,
    fmt: FormatOpt = None,
    output: OutputOpt = None,
    no_color: NoColorOpt = False,
    memory_limit: MemoryOpt = None,
    threads: ThreadsOpt = None,
    temp_directory: TempOpt = None,
    no_cache: NoCacheOpt = False,
    engine: EngineOpt = None,
    spark_remote: SparkRemoteOpt = None,
    quiet: QuietOpt = False,
) -> None:
    """One brand's ladder stages as bars: counts, shares and the week's flow."""
    from brandlens import api

    one_brand = _single(brand, "--brand", "the funnel shows one brand")
    _refuse_writing_inputs(data, mapping, {"--output": output})
    with errors(), _loading(data, quiet) as on_load:
        report = api.funnel(
            data,
            one_brand,
            methodology,
            as_of=as_of,
            params=_params(param),
            mapping=mapping,
            preset=preset,
            timezone=timezone,
            ts_timezone=ts_timezone,
            strict=strict,
            config=_config(
                memory_limit, threads, temp_directory, engine=engine, spark_remote=spark_remote
            ),
            cache=False if no_cache else None,
            load_progress=on_load,
        )
    emit(report, fmt, output, no_color)


@app.command()
def entities(
    data: DataArg,
    methodology: Annotated[
        list[str],
        typer.Option("--methodology", "-m", help="The methodology whose table to list (one)."),
    ],
    table: Annotated[
        str | None,
        typer.Option(
            "--table", "-t", help="Entity table, e.g. products (needed when it has several)."
        ),
    ] = None,
    as_of: AsOfOpt = None,
    brand: BrandOpt = None,
    param: ParamOpt = None,
    mapping: MappingOpt = None,
    preset: PresetOpt = None,
    timezone: TimezoneOpt = None,
    ts_timezone: TsTimezoneOpt = None,
    strict: StrictOpt = False,
    fmt: FormatOpt = None,
    output: OutputOpt = None,
    no_color: NoColorOpt = False,
    memory_limit: MemoryOpt = None,
    threads: ThreadsOpt = None,
    temp_directory: TempOpt = None,
    no_cache: NoCacheOpt = False,
    engine: EngineOpt = None,
    spark_remote: SparkRemoteOpt = None,
    quiet: QuietOpt = False,
) -> None:
    """List the entities behind a methodology's numbers (SUPER's products, a ladder's users)."""
    from brandlens import api

    one_methodology = _single(methodology, "--methodology", "one methodology's table is listed")
    _refuse_writing_inputs(data, mapping, {"--output": output})
    with errors(), _loading(data, quiet) as on_load:
        listing = api.entities(
            data,
            one_methodology,
            table,
            brands=brand,
            as_of=as_of,
            params=_params(param),
            mapping=mapping,
            preset=preset,
            timezone=timezone,
            ts_timezone=ts_timezone,
            strict=strict,
            config=_config(
                memory_limit, threads, temp_directory, engine=engine, spark_remote=spark_remote
            ),
            cache=False if no_cache else None,
            load_progress=on_load,
        )
    emit(listing, fmt, output, no_color)


def _report_skipped(result: Any) -> None:
    """Once per reason: which indicators the data does not allow (exit code unaffected)."""
    by_reason: dict[str, list[str]] = {}
    for n in result.not_applicable:
        by_reason.setdefault(n.reason, []).append(n.indicator)
    for reason, names in by_reason.items():
        say(f"brandlens: not applicable to this data ({reason}): {', '.join(names)}")
    short = getattr(result, "short_history", [])
    if short:
        reads = ", ".join(f"{h.methodology} from {h.reads_from} ({h.days} days)" for h in short)
        say(
            f"brandlens: note: the data starts {short[0].data_from}, after where these read "
            f"events: {reads}; what they count before it is missing, not zero"
        )
    unmatched = getattr(result, "unmatched_values", [])
    if unmatched:
        from brandlens.cli.render import unmatched_text

        for u in unmatched:
            say(f"brandlens: note: {unmatched_text(u)}")
    base = getattr(result, "baseline", None)
    if base is not None and base.short_history:
        reads = ", ".join(f"{h.methodology} from {h.reads_from}" for h in base.short_history)
        say(
            f"brandlens: note: as of the baseline {base.as_of}, these read events before the "
            f"data starts ({base.short_history[0].data_from}): {reads}; their changes start "
            "from partly missing counts"
        )


def _report_quarantined(result: Any) -> None:
    """One line on stderr when events were quarantined: in any format and with --output
    the data alone would not say that some rows were left out, nor why."""
    d = getattr(result, "dataset", None)
    if d is not None and d.identical_rows:
        _report_identical(d.identical_rows)
    if d is not None and d.identical_spend_rows:
        _report_identical_spend(d.identical_spend_rows)
    if d is None or not d.rows_quarantined:
        return
    parts = []
    for reason, n in d.quarantined_by_reason.items():
        columns = d.quarantined_columns.get(reason, {})
        named = ", ".join(f"{c} {k}" for c, k in columns.items())
        parts.append(f"{reason} {n}" + (f" ({named})" if named else ""))
    say(
        f"brandlens: {d.rows_quarantined} of {d.rows_read} events quarantined: "
        f"{', '.join(parts)}; `brandlens validate` lists them"
    )


def _report_data_notes(report: Any) -> None:
    """After validate and load: what the report's tables do not say out loud."""
    if report.events.identical_rows:
        _report_identical(report.events.identical_rows)
    spend = sum(t.identical_rows for t in report.tables if t.table == "spend")
    if spend:
        _report_identical_spend(spend)
    if report.naive_ts_as_utc:
        say(
            "brandlens: note: event times without a UTC offset were read as UTC; if they "
            "are local times (an export in Beijing time), give --ts-timezone Asia/Shanghai "
            "(docs/data.md, Exports in local time)"
        )


def _report_identical(n: int) -> None:
    """Events that repeat an earlier row exactly, without an id to tell them apart: kept,
    since two views in one second are two events, but copies would count twice."""
    say(
        f"brandlens: note: {n} event(s) repeat an earlier row exactly and have no event_id: "
        "kept as events of their own; if they are copies (an export written twice), give "
        "the rows an event_id (docs/data.md, event_id)"
    )


def _report_identical_spend(n: int) -> None:
    """Spend rows that repeat an earlier one exactly are two costs, summed: a day
    exported twice would double what acquiring a customer cost."""
    say(
        f"brandlens: note: {n} spend row(s) repeat an earlier row exactly: summed as costs "
        "of their own; if they are copies (a day exported twice), remove them (docs/data.md, "
        "spend)"
    )


def _report_broken_plugins() -> None:
    """One warning line per installed plugin that failed to load or register.

    Its methodologies did not run; the run's exit code is not changed by it (the
    user did not ask for that plugin by name). ``brandlens plugins`` shows every error.
    """
    from brandlens.plugin.host import host

    for info in host.registry().plugins:
        problems = info.failures()
        if problems:
            more = (
                f" (and {len(problems) - 1} more: brandlens plugins)" if len(problems) > 1 else ""
            )
            say(f"brandlens: warning: plugin {info.name} was not run: {problems[0]}{more}")
            continue
        # It ran, but what its spec says is not what it computes: its numbers lack a
        # definition (or a definition its numbers), which `plugins` and `verify` detail.
        notes = info.spec_mismatches()
        if notes:
            more = f" (and {len(notes) - 1} more: brandlens plugins)" if len(notes) > 1 else ""
            say(f"brandlens: warning: plugin {info.name}'s spec: {notes[0]}{more}")


def _report_errors(result: Any, fmt: Fmt | None, skipped: bool = True) -> None:
    """Skipped indicators as a note; failed ones as messages on stderr (any format) and exit 1.

    Indicators of one methodology that failed with the same message (a spent budget, a
    failed relation) are one line.
    """
    if skipped:
        _report_skipped(result)
    _report_quarantined(result)
    _report_broken_plugins()
    if not result.errors:
        return
    # Always on stderr too: with --output, or below a long table, the data hides them.
    groups: dict[tuple[str, str], list[str]] = {}
    for e in result.errors:
        groups.setdefault((e.indicator.split(".", 1)[0], e.message), []).append(e.indicator)
    for (_, message), ids in groups.items():
        if len(ids) == 1:
            say(f"brandlens: indicator {ids[0]} failed: {message}")
        else:
            say(f"brandlens: indicators {', '.join(ids)} failed: {message}")
    raise typer.Exit(EXIT_DATA)


@app.command()
def validate(
    data: DataArg,
    mapping: MappingOpt = None,
    preset: PresetOpt = None,
    timezone: TimezoneOpt = None,
    ts_timezone: TsTimezoneOpt = None,
    strict: StrictOpt = False,
    quarantine_out: QuarantineOpt = None,
    fmt: FormatOpt = None,
    output: OutputOpt = None,
    no_color: NoColorOpt = False,
    memory_limit: MemoryOpt = None,
    threads: ThreadsOpt = None,
    temp_directory: TempOpt = None,
    no_cache: NoCacheOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Check DATA against the canonical schema; report quarantined rows per reason."""
    from brandlens import api

    _refuse_writing_inputs(data, mapping, {"--output": output, "--quarantine-out": quarantine_out})
    with errors(), _loading(data, quiet) as on_load:
        report = api.validate(
            data,
            mapping=mapping,
            preset=preset,
            timezone=timezone,
            ts_timezone=ts_timezone,
            quarantine_out=quarantine_out,
            config=_config(memory_limit, threads, temp_directory),
            cache=False if no_cache else None,
            load_progress=on_load,
        )
    emit(report, fmt, output, no_color)
    _report_data_notes(report)
    if strict and report.rows_bad:
        fail(report.strict_failure(), EXIT_DATA)
    events = report.events
    if events.rows_read and not events.rows_accepted:  # as every other command would fail
        fail(
            f"{events.source}: no valid events (all {events.rows_read} rows quarantined; "
            "the report lists why)",
            EXIT_DATA,
        )


@app.command()
def load(
    data: DataArg,
    into: Annotated[
        Path,
        typer.Option(
            "--into",
            help="The dataset file to write (.duckdb); an existing brandlens dataset file is "
            "replaced, any other file refused.",
        ),
    ],
    mapping: MappingOpt = None,
    preset: PresetOpt = None,
    timezone: TimezoneOpt = None,
    ts_timezone: TsTimezoneOpt = None,
    strict: StrictOpt = False,
    quarantine_out: QuarantineOpt = None,
    cluster: Annotated[
        bool,
        typer.Option(
            "--cluster",
            help="Write a log in time order month by month, each month by user: a slower "
            "load, faster commands on the file after it. A log already written user by "
            "user is kept as read.",
        ),
    ] = False,
    fmt: FormatOpt = None,
    output: OutputOpt = None,
    no_color: NoColorOpt = False,
    memory_limit: MemoryOpt = None,
    threads: ThreadsOpt = None,
    temp_directory: TempOpt = None,
    quiet: QuietOpt = False,
) -> None:
    """Validate DATA once into a dataset file that every command accepts as DATA."""
    from brandlens import api

    if not into.name.lower().endswith((".duckdb", ".db", ".ddb")):
        fail(f"--into {into}: name the dataset file .duckdb (or .db, .ddb)", EXIT_USAGE)
    _refuse_writing_inputs(
        data,
        mapping,
        {"--into": into, "--output": output, "--quarantine-out": quarantine_out},
    )
    with errors(), _loading(data, quiet) as on_load:
        report = api.load(
            data,
            into,
            mapping=mapping,
            preset=preset,
            timezone=timezone,
            ts_timezone=ts_timezone,
            strict=strict,
            quarantine_out=quarantine_out,
            config=_config(memory_limit, threads, temp_directory),
            load_progress=on_load,
            cluster=cluster,
        )
    emit(report, fmt, output, no_color)
    _report_data_notes(report)
    if not (quiet or cluster):
        _hint_cluster(report, "brandlens load --cluster")


def _hint_cluster(layout: Any, command: str) -> None:
    """Say on stderr that a log not grouped by user (in time order, say) would run
    faster clustered. What is measured is how often an event's user is the user of
    the event before, not the time order itself."""
    from brandlens.data.layout import grouped_by_user

    if layout is not None and not grouped_by_user(layout.same_user_share):
        say(
            "hint: this log does not keep each user's events together (a log in time "
            f"order does not); `{command}` writes each month's events user by user, "
            "which makes the commands on its file faster"
        )


cache_app = typer.Typer(
    help="The cache of validated datasets: where it is, what it holds, clearing it.",
    no_args_is_help=True,
)
app.add_typer(cache_app, name="cache")


@cache_app.command("info")
def cache_info(
    fmt: FormatOpt = None, output: OutputOpt = None, no_color: NoColorOpt = False
) -> None:
    """Where validated datasets are cached (BRANDLENS_CACHE_DIR) and how much they take."""
    from brandlens import api

    with errors():
        emit(api.cache_info(), fmt, output, no_color)


@cache_app.command("clear")
def cache_clear(
    fmt: FormatOpt = None, output: OutputOpt = None, no_color: NoColorOpt = False
) -> None:
    """Remove every cached dataset (the next command on any data validates it again)."""
    from brandlens import api

    with errors():
        emit(api.clear_cache(), fmt, output, no_color)


@app.command()
def plugins(fmt: FormatOpt = None, output: OutputOpt = None, no_color: NoColorOpt = False) -> None:
    """Installed plugins, their methodologies, versions and load errors."""
    from brandlens.plugin import catalog

    with errors():
        emit(catalog.plugins(), fmt, output, no_color)


@app.command()
def methodologies(
    fmt: FormatOpt = None, output: OutputOpt = None, no_color: NoColorOpt = False
) -> None:
    """Installed methodologies."""
    from brandlens.plugin import catalog

    with errors():
        emit(catalog.methodologies(), fmt, output, no_color)


@app.command()
def indicators(
    methodology: Annotated[str | None, typer.Argument(help="Only this methodology.")] = None,
    fmt: FormatOpt = None,
    output: OutputOpt = None,
    no_color: NoColorOpt = False,
) -> None:
    """Indicators of every (or one) installed methodology."""
    from brandlens.plugin import catalog

    with errors():
        emit(catalog.indicators(methodology), fmt, output, no_color)


@app.command()
def explain(
    indicator: Annotated[str, typer.Argument(help="Indicator id, e.g. fast.thriving.")],
    fmt: FormatOpt = None,
    output: OutputOpt = None,
    no_color: NoColorOpt = False,
) -> None:
    """Definition, formula, unit, parameters with defaults and source of an indicator."""
    from brandlens.plugin import catalog

    with errors():
        emit(catalog.explain(indicator), fmt, output, no_color)


@app.command()
def schema(
    spec: Annotated[
        bool, typer.Option("--spec", help="JSON Schema of spec files (for editor completion).")
    ] = False,
    output: OutputOpt = None,
) -> None:
    """JSON Schema of the canonical tables and of the result contract (or of spec files)."""
    import json

    from brandlens.analysis.model import Comparison, FunnelReport
    from brandlens.data.schema import json_schemas
    from brandlens.engine.result import (
        EntityListing,
        LoadReport,
        Result,
        ValidationReport,
        VerifyReport,
    )
    from brandlens.specs.spec import spec_json_schema

    if spec:
        doc: dict[str, Any] = spec_json_schema()
    else:
        doc = {
            "tables": json_schemas(),
            "result": Result.model_json_schema(),
            "comparison": Comparison.model_json_schema(),
            "validation": ValidationReport.model_json_schema(),
            "load": LoadReport.model_json_schema(),
            "verification": VerifyReport.model_json_schema(),
            "entities": EntityListing.model_json_schema(),
            "funnel": FunnelReport.model_json_schema(),
        }
    write_output(json.dumps(doc, indent=2, ensure_ascii=False) + "\n", output)


@app.command()
def sql(
    indicator: Annotated[str, typer.Argument(help="Indicator id, e.g. fast.thriving.")],
    dialect: Annotated[
        str,
        typer.Option(
            "--dialect",
            help="duckdb, spark, trino, hive, clickhouse, bigquery or postgres.",
        ),
    ] = "duckdb",
    as_of: Annotated[
        str | None,
        typer.Option("--as-of", help="As-of date (default: the last local event date, in SQL)."),
    ] = None,
    param: ParamOpt = None,
    brand: Annotated[
        list[str] | None,
        typer.Option("--brand", "-b", help="Brand to report (repeatable; default: every brand)."),
    ] = None,
    output: OutputOpt = None,
) -> None:
    """The complete SQL of one indicator in a warehouse's dialect, over the canonical tables."""
    with errors():
        from brandlens.engine.sqlexport import indicator_sql

        text = indicator_sql(
            indicator, dialect=dialect, as_of=as_of, params=_params(param), brands=brand
        )
        write_output(text, output)


@contextlib.contextmanager
def _hypothesis_home() -> Iterator[None]:
    """Hypothesis keeps a cache of constants in ``.hypothesis/`` of the current folder,
    even with no example database: ``brandlens verify`` writes nothing the user did not
    name, so the cache lives in a private folder removed on exit (unless
    HYPOTHESIS_STORAGE_DIRECTORY names one)."""
    import tempfile

    from hypothesis.configuration import set_hypothesis_home_dir, storage_directory

    if os.environ.get("HYPOTHESIS_STORAGE_DIRECTORY"):
        yield
        return
    found = storage_directory(intent_to_write=False)
    before = getattr(found, "home_directory", found)  # before 6.13x: the home as a Path
    with tempfile.TemporaryDirectory(prefix="brandlens-hypothesis-") as home:
        set_hypothesis_home_dir(home)
        try:
            yield
        finally:
            set_hypothesis_home_dir(before)


@app.command()
def verify(
    plugin: Annotated[
        list[str] | None, typer.Argument(help="Plugins or methodologies (default: all).")
    ] = None,
    max_examples: Annotated[
        int | None,
        typer.Option(
            "--max-examples",
            help="Random logs per property, after the fixed probe logs "
            "(default 25, or BRANDLENS_VERIFY_EXAMPLES).",
        ),
    ] = None,
    seed: Annotated[int, typer.Option("--seed", help="Hypothesis seed.")] = 0,
    fmt: FormatOpt = None,
    output: OutputOpt = None,
    no_color: NoColorOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Check every declared property of every indicator on probe and generated event logs."""
    from brandlens.specs.verification import DEFAULT_EXAMPLES
    from brandlens.specs.verification import verify as run_verify

    if max_examples is not None:  # 0 is given, not absent: refused below
        examples, given = max_examples, "--max-examples"
    else:
        text = os.environ.get("BRANDLENS_VERIFY_EXAMPLES", "").strip() or str(DEFAULT_EXAMPLES)
        given = "BRANDLENS_VERIFY_EXAMPLES"
        try:
            examples = int(text)
        except ValueError:
            fail(f"{given}: expected a whole number, got {text!r}", EXIT_USAGE)
    if examples < 1:
        fail(f"{given} must be at least 1", EXIT_USAGE)
    with errors(), _verify_progress(quiet) as progress, _hypothesis_home():
        report = run_verify(plugin or None, examples, seed, progress)
    emit(report, fmt, output, no_color)
    # Verifying everything installed: a plugin that did not load or register has
    # methodologies nobody verified, so the run cannot pass (naming one says why instead).
    from brandlens.plugin.host import host

    unverified = [] if plugin else host.registry().failed_plugins()
    for info in unverified:
        say(f"brandlens: error: plugin {info.name} was not verified: {info.failures()[0]}")
    if not report.passed or unverified:
        raise typer.Exit(EXIT_DATA)


@app.command("new-plugin")
def new_plugin(
    name: Annotated[str, typer.Argument(help="Methodology name, e.g. o5a.")],
    directory: Annotated[
        Path,
        typer.Option("--dir", help="Where to create brandlens-NAME/ (made if missing)."),
    ] = Path("."),
) -> None:
    """Write a complete, installable methodology plugin package to start from."""
    from brandlens.plugin.scaffold import new_plugin as scaffold

    with writing(directory), errors():
        root = scaffold(name, directory)
    say(f"created {root}")
    say(f"  cd {root} && pip install -e '.[test]' && brandlens verify {name}")


@app.command()
def generate(
    out_dir: Annotated[str, typer.Argument(help="Where to write the tables (a folder).")],
    users: Annotated[int, typer.Option("--users", help="Number of users.")] = 20_000,
    start: Annotated[str, typer.Option("--start", help="First day (YYYY-MM-DD).")] = "2023-04-01",
    end: Annotated[str, typer.Option("--end", help="Last day (YYYY-MM-DD).")] = "2025-06-30",
    seed: Annotated[int, typer.Option("--seed", help="Random seed: same seed, same rows.")] = 0,
    file_format: Annotated[str, typer.Option("--format", help="parquet or csv.")] = "parquet",
    order: Annotated[
        str,
        typer.Option(
            "--order",
            help="Events' order: user (the simulation's, user by user) or time (by "
            "timestamp, as a real log arrives).",
        ),
    ] = "user",
    overwrite: Annotated[
        bool,
        typer.Option(
            "--overwrite",
            help="Replace the tables of a market already in OUT_DIR (a folder holding "
            "tables is refused without it).",
        ),
    ] = False,
    quiet: QuietOpt = False,
) -> None:
    """Write a synthetic market (events, users, products, targets, spend) with planted truths."""
    from brandlens.data.market import generate as run_generate
    from brandlens.engine.runs import parse_date

    if not out_dir.strip():  # Path("") is the current folder: a market written where one stands
        fail("OUT_DIR is empty: name a folder (. for the current one)", EXIT_USAGE)
    with writing(Path(out_dir)), errors():
        report = run_generate(
            Path(out_dir),
            users=users,
            start=parse_date(start, "--start"),
            end=parse_date(end, "--end"),
            seed=seed,
            fmt=file_format,
            order=order,
            overwrite=overwrite,
        )
    if not quiet:
        say(
            f"wrote {report.rows['events']:,} events for {users:,} users to {out_dir} "
            f"in {report.seconds:.1f} s ({report.events_per_second:,.0f} events/s)"
        )


@app.command()
def demo(
    data_dir: Annotated[
        Path | None,
        typer.Option("--data-dir", help="Where the demo market lives (generated once, reused)."),
    ] = None,
    fmt: FormatOpt = None,
    no_color: NoColorOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Generate the demo market once, then compare every installed methodology on it."""
    from brandlens.data.market import DEMO_USERS, MARKET_VERSION
    from brandlens.data.market import generate as run_generate
    from brandlens.data.store import checked_cache_dir
    from brandlens.errors import UsageError
    from brandlens.fileio import atomic_write_text

    target = data_dir
    if target is None:
        with errors():  # a cache folder that is a file: said as every command says it
            target = checked_cache_dir() / f"demo-{MARKET_VERSION}-{DEMO_USERS}"
    marker = target / ".complete"
    with writing(target), errors():
        if not marker.exists():
            if data_dir is not None and data_dir.is_dir() and any(data_dir.iterdir()):
                raise UsageError(
                    f"demo --data-dir {data_dir}: holds files but no demo market; "
                    "choose an empty or new folder (or empty this one)"
                )
            if not quiet:
                say(f"generating the demo market ({DEMO_USERS:,} users) in {target} ...")
            # the default folder is the demo's own: what a killed run left is replaced
            run_generate(target, users=DEMO_USERS, overwrite=data_dir is None)
            atomic_write_text(marker, MARKET_VERSION)
    # a slow or broken third-party plugin must not hold the demo up for long
    config = _config(None, None, None, query_timeout=DEMO_QUERY_TIMEOUT)
    demo_run = partial(_run, data=target, as_of=None, methodology=None, brand=None, param=None)
    demo_run = partial(demo_run, mapping=None, preset=None, timezone=None, strict=False)
    demo_run = partial(demo_run, ts_timezone=None)
    try:  # one run serves both: the comparison printed and the report written
        result, report_model = demo_run("compare and report", quiet=quiet, config=config)
    except Exception as e:
        if is_interrupt(e) or isinstance(e, typer.Exit):
            raise
        # Each on its own, as `compare` and `report` would: the comparison is printed
        # even when only the report's part (a ladder counted for its pictures) fails.
        with writing(target), errors():
            result = demo_run("compare", quiet=quiet, config=config)
        emit(result, fmt, None, no_color)
        _report_skipped(result)
        with writing(target), errors():
            report_model = demo_run("report", quiet=True, config=config)
    else:
        emit(result, fmt, None, no_color)
        _report_skipped(result)
    _write_report(report_model, target / "report.html", True)
    if not quiet:
        say("")
        say(f"The demo market is in {target} (docs/demo-data.md says what is planted).")
        say(f"The report: {target / 'report.html'} (open it in a browser; it works offline)")
        say("Try next:")
        say(f"  brandlens compute {target} -m fast -b Lumi")
        say("  brandlens explain fast.advancing")
        say(f"  brandlens validate {target}")
    _report_errors(result, fmt, skipped=False)


@app.command()
def bench(
    users: Annotated[
        int, typer.Option("--users", help="Market size (about 100 events per user).")
    ] = 100_000,
    data: Annotated[
        Path | None,
        typer.Option("--data", help="Measure this data directory instead of a generated market."),
    ] = None,
    methodology: MethodOpt = None,
    memory_limit: MemoryOpt = None,
    no_pandas: Annotated[
        bool, typer.Option("--no-pandas", help="Skip the pandas FAST baseline.")
    ] = False,
    data_format: Annotated[
        str | None,
        typer.Option(
            "--data-format", help="The generated market's files: parquet (default) or csv."
        ),
    ] = None,
    order: Annotated[
        str | None,
        typer.Option(
            "--order",
            help="The generated market's event order: user (default, the simulation's) or "
            "time (by timestamp, as a real log arrives).",
        ),
    ] = None,
    repeat: Annotated[
        int,
        typer.Option(
            "--repeat",
            min=1,
            help="Rounds of every step; each row reports the median run and the range.",
        ),
    ] = 3,
    cluster: Annotated[
        bool,
        typer.Option(
            "--cluster",
            help="Also time `load --into --cluster` and every methodology on its file.",
        ),
    ] = False,
    fmt: FormatOpt = None,
    output: OutputOpt = None,
    no_color: NoColorOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Measure load, validation and every methodology (time, events/s, peak memory)."""
    from brandlens.cli.bench import run_bench

    with errors():
        report = run_bench(
            users=users,
            data=data,
            methodologies=methodology,
            memory_limit=memory_limit,
            pandas=not no_pandas,
            repeat=repeat,
            progress=None if quiet else (lambda msg: say(f"bench: {msg}")),
            data_format=data_format,
            order=order,
            cluster=cluster,
        )
    emit(report, fmt, output, no_color)


for _info in (*app.registered_commands, *cache_app.registered_commands):
    if _info.cls in (None, TyperCommand):
        _info.cls = _Command


def main() -> None:
    """Console-script entry point."""
    import gc
    import signal

    # What is imported by now lives as long as this short process. Frozen, it is left
    # out of the collector's passes, which walked it again and again during start-up
    # (about 25 ms of a cached `compute -m fast` at 10 M events; docs/performance.md).
    gc.freeze()
    signal.signal(signal.SIGTERM, _on_sigterm)
    _watch_signals()
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
