"""`reviews` commands that read the warehouse or keep the data folder: status, sources, report, sql, prune,
compact."""

from __future__ import annotations

import json
import sys
import tempfile
from contextlib import nullcontext
from pathlib import Path
from typing import Annotated

import typer

from flows.cli_base import (
    ConfigOption,
    DataDir,
    app,
    console,
    err_console,
    fail,
    project,
    shown,
    stdout_gone,
    to_stdout,
)
from flows.errors import ReviewsError


@app.command()
def status(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    config: ConfigOption = None,
    data_dir: DataDir = None,
) -> None:
    """Last run per source (counts, health, duration), warehouse size and rows, batches not yet loaded."""
    from flows.status import status as read_status
    from warehouse.db import WarehouseError

    _, root = project(config, data_dir, reading=True)
    try:
        report = read_status(root)
    except WarehouseError as exc:
        raise fail(str(exc)) from None
    from flows.output import print_status

    with to_stdout():
        if as_json:
            print(json.dumps(report, default=str, indent=2))
        else:
            print_status(report, console)


@app.command()
def sources(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    config: ConfigOption = None,
    data_dir: DataDir = None,
) -> None:
    """The configured sources and their last run."""
    from flows.status import sources as read_sources
    from warehouse.db import WarehouseError

    cfg, root = project(config, data_dir)
    try:
        listed, busy = read_sources(cfg, root)
    except WarehouseError as exc:
        raise fail(str(exc)) from None
    if busy:
        print(f"note: last runs unknown: {busy}", file=sys.stderr)
    from flows.output import print_sources

    with to_stdout():
        if as_json:
            print(json.dumps(listed, default=str, indent=2))
        else:
            print_sources(listed, console, known=busy is None)


REPORT_STOPPED = "stopped: no report was written, and those already there are as they were"
SQL_STOPPED = "stopped: the query was cancelled"


@app.command()
def report(
    week: Annotated[str | None, typer.Option(help="ISO week like 2026-W47 (default: the last complete week).")]
    = None,
    out: Annotated[Path | None, typer.Option(help="Folder for <week>.html and <week>.md (default reports/).")]
    = None,
    config: ConfigOption = None,
    data_dir: DataDir = None,
) -> None:
    """Write the weekly summary report as self-contained HTML and Markdown."""

    from flows.settings import matplotlib_home
    from warehouse.db import WarehouseError, warehouse_path

    cfg, root = project(config, data_dir, reading=True)
    matplotlib_home(root)  # before flows.report imports matplotlib, which reads it then
    from flows.report import write_report
    from flows.report.weeks import asked_week, latest_day
    from flows.writer import writer_slot
    from warehouse.marts import marts_fresh

    out_dir = (out or Path(cfg.report_out)).expanduser()
    try:
        if week is not None:
            asked_week(week, latest_day())
    except ValueError as exc:
        raise fail(str(exc)) from None
    # Checked before the report is built, which takes a while; whatever else stops the writing (no such
    # parent, no permission, a read-only file system) is an OSError from write_report below.
    if out_dir.exists() and not out_dir.is_dir():
        raise fail(f"--out {out_dir} is a file, not a folder")
    from flows.crawl import sigterm_as_interrupt

    try:
        # Marts left stale (a run stopped while building them, an upgrade) are rebuilt first, a write: in turn
        # with runs, and with a backup taken under the writer lock, as the scheduled report is (recovery QA).
        slot = nullcontext() if marts_fresh(warehouse_path(root)) else writer_slot(
            root, waiting=lambda note: err_console.print(f"{shown(note)}", highlight=False, soft_wrap=True))
        with sigterm_as_interrupt(), slot:  # a SIGTERM as Ctrl-C: it killed the command silently (stop-timing QA)
            paths = write_report(warehouse_path(root), week, out_dir)
    except KeyboardInterrupt:  # publish() puts back any file it had replaced
        err_console.print(REPORT_STOPPED, highlight=False, soft_wrap=True)
        raise typer.Exit(130) from None
    except (WarehouseError, ReviewsError, ValueError) as exc:
        raise fail(str(exc)) from None
    except OSError as exc:
        raise fail(f"cannot write the report to {exc.filename or out_dir}: {exc.strerror or exc}") from None
    console.print(f"report {paths.week}:\n  {paths.html}\n  {paths.markdown}", highlight=False)


SPOOL_IN_MEMORY = 8 * 2**20  # characters of a `reviews sql` result held in memory (up to 4 bytes each), then on disk


@app.command()
def sql(
    query: Annotated[str | None, typer.Argument(
        help="SQL to run read-only against the warehouse; - reads it from standard input.")] = None,
    file: Annotated[Path | None, typer.Option(
        "--file", help="Read the SQL from this file (a saved query) instead.")] = None,
    format: Annotated[str, typer.Option("--format", "-f", help="table, csv or json.")] = "table",
    config: ConfigOption = None,
    data_dir: DataDir = None,
) -> None:
    """Run one reading SQL statement against the warehouse."""
    from flows.output import copy_out, print_rows
    from warehouse.db import WarehouseError, connect, warehouse_path
    from warehouse.queries import lock_down, run_read_only, stale_marts_note

    if format not in ("table", "csv", "json"):
        raise fail(f"unknown format {format!r}; choose table, csv or json")
    query = _query_text(query, file)
    _, root = project(config, data_dir, reading=True)
    # The result is written to a spool (in memory, on disk past SPOOL_IN_MEMORY) as DuckDB streams it, and the
    # warehouse is closed before the spool is copied out: written straight to a slow reader (`| less` left
    # open), the query held the file, and a scheduled run's load gave up after its minute of waiting (review).
    spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY, mode="w+", encoding="utf-8", newline="")
    from flows.crawl import sigterm_as_interrupt

    try:
        with sigterm_as_interrupt(), spool:
            with connect(warehouse_path(root), read_only=True) as conn:
                lock_down(conn, show_progress=console.is_terminal)
                columns, rows = run_read_only(conn, query, "json" if format == "json" else "text")
                print_rows(columns, rows, format, console, spool)
                note = stale_marts_note(conn, query)  # after the rows: a statement before would end their stream
            copy_out(spool, exact=format != "table")
        if note:
            err_console.print(f"note: {note}", highlight=False, soft_wrap=True, markup=False)
    except WarehouseError as exc:
        raise fail(str(exc)) from None
    except KeyboardInterrupt:  # Ctrl-C or SIGTERM: the shell's code for SIGINT, one line and no traceback
        err_console.print(SQL_STOPPED, highlight=False, soft_wrap=True)
        raise typer.Exit(130) from None
    except BrokenPipeError:  # the reader stopped early (`| head`): no error of the query's
        stdout_gone()
        raise typer.Exit(0) from None
    except OSError as exc:  # a full disk under the output or the spool was a traceback (sql QA)
        raise fail(f"cannot write the result: {exc.strerror or exc}") from None


def _query_text(query: str | None, file: Path | None) -> str:
    """The SQL of `reviews sql`: the argument, standard input for "-", or --file's text."""
    if (query is None) == (file is None):
        raise fail("give the SQL as an argument, - to read it from standard input, or --file FILE, one of them")
    if file is not None:
        try:
            return file.expanduser().read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
            raise fail(f"cannot read --file {file}: {reason}") from None
    try:
        if query == "-" and sys.stdin is None:  # started with standard input closed (<&-)
            raise fail("- reads the SQL from standard input, which is closed")
        text = sys.stdin.read() if query == "-" else str(query)
        text.encode("utf-8")  # a Latin-1 terminal's bytes reach Python as lone surrogates, which DuckDB refuses
    except UnicodeError:
        raise fail("the SQL is not UTF-8 text; set the terminal (or the file) to UTF-8") from None
    return text


@app.command()
def prune(
    older_than: Annotated[str, typer.Option("--older-than", help="Remove loaded runs started longer ago than "
                                            "this: whole days or weeks, e.g. 30d or 8w.")],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Say what would be removed; remove nothing.")] = False,
    config: ConfigOption = None,
    data_dir: DataDir = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print only warnings and errors.")] = False,
) -> None:
    """Delete the landing files and crawl logs of loaded runs older than --older-than; pending runs stay."""
    from flows.prune import parse_duration, prune_landing
    from warehouse.db import WarehouseError

    try:
        age = parse_duration(older_than)
        _, root = project(config, data_dir)
        result = prune_landing(root, age, dry_run=dry_run)
    except (ReviewsError, WarehouseError) as exc:
        raise fail(str(exc)) from None
    except KeyboardInterrupt:  # what was removed is gone, the rest stays: harmless, and no traceback
        err_console.print("stopped: runs not yet pruned stay; run it again to finish", highlight=False)
        raise typer.Exit(130) from None
    for line in [] if quiet else result.summary():
        console.print(line, markup=False, highlight=False, soft_wrap=True)
    for line in result.warnings():
        err_console.print(f"[yellow]warning:[/yellow] {shown(line)}", highlight=False, soft_wrap=True)
    if failure := result.failure():
        raise fail(failure, 1)


@app.command()
def compact(
    config: ConfigOption = None,
    data_dir: DataDir = None,
) -> None:
    """Rewrite the warehouse file to the size of what it holds (weekly updates leave it ~1.7x that); waits for a
    run that is writing it."""
    from flows.compact import compact as compact_warehouse
    from flows.crawl import sigterm_as_interrupt
    from warehouse.db import WarehouseError

    def waiting(message: str) -> None:
        # Written in one call, not through rich: a stop landing between rich's write and the clearing of its buffer
        # wrote the line a second time, above the `stopped` line (seen in CI).
        sys.stderr.write(message + "\n")
        sys.stderr.flush()

    try:
        _, root = project(config, data_dir)
        # A SIGTERM (systemd stopping a compact queued behind a run) ended it silently with 143 and, mid-copy, left
        # the half-written copy in the data folder (concurrency QA): it stops as a Ctrl-C does.
        with sigterm_as_interrupt():
            done = compact_warehouse(root, waiting=waiting)
    except (ReviewsError, WarehouseError) as exc:
        raise fail(str(exc)) from None
    except KeyboardInterrupt:
        err_console.print("stopped: the warehouse is as it was", highlight=False)
        raise typer.Exit(130) from None
    console.print(f"compacted {done.path}: {done.before / 1e6:,.1f} MB -> {done.after / 1e6:,.1f} MB",
                  markup=False, highlight=False, soft_wrap=True)
