"""Printing query results as a table, CSV or JSON lines, and counts in words."""

from __future__ import annotations

import csv
import errno
import json
import os
import re
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any, BinaryIO, TextIO

from rich.cells import cell_len
from rich.console import Console
from rich.table import Table
from rich.text import Text

# What a terminal would act on instead of showing: C0 and C1 controls (ESC starts colour changes, title rewrites
# and screen clears; U+009B is a one-character CSI), DEL, and the bidi overrides that reorder what is shown.
# Newline and tab stay: a cell can have several lines, and Rich expands tabs itself.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def noun(count: object, word: str) -> str:
    """`word` as it reads after `count`: "page" after 1, "pages" after 2, 0 or an unknown count."""
    return word if count == 1 else word + "s"


def counted(count: int, word: str) -> str:
    """A count and its noun: "1 page", "2 pages", "0 pages"."""
    return f"{count} {noun(count, word)}"


def visible(text: str) -> str:
    """Text safe to print on a terminal: each control character shown as its escape, like \\x1b or \\u202e."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}" if ord(m.group()) < 0x100
                        else f"\\u{ord(m.group()):04x}", text)


SHOWN_ON_A_TERMINAL = 1_000  # rows a terminal's table shows; the rest are counted (csv or json give them all)
TERMINAL_CELL_MAX = 10_000  # characters of one value a terminal's table shows
_PADDED_UP_TO = 60  # a piped table's cells are padded to at most this width: one long body must not widen every row


def print_rows(columns: list[str], batches: Iterable[list[tuple[str | None, ...]]], fmt: str,
               console: Console, out: TextIO) -> None:
    """Write rows whose values DuckDB rendered already (warehouse.queries.run_read_only) to `out`, batch by batch
    as they come: as JSON lines (each value a JSON text), or as CSV or a table (each value DuckDB's text form;
    None is NULL). A table is laid out for `console`: fitted to it on a terminal, plain text elsewhere."""
    if fmt == "json":
        keys = [json.dumps(column, ensure_ascii=False) + ":" for column in columns]
        for rows in batches:
            out.writelines("{" + ",".join(key + ("null" if value is None else value)
                                          for key, value in zip(keys, row, strict=True)) + "}\n" for row in rows)
    elif fmt == "csv":
        # Exact, for programs: a value a spreadsheet would read as a formula (=, +, -, @) is written as it is.
        writer = csv.writer(out)
        writer.writerow(columns)
        for rows in batches:
            # csv.writer is the fast path; a batch with an empty string in a row of several columns is written
            # as PostgreSQL writes it (csv.writer writes one column's NULL and empty string as "" already).
            if len(columns) > 1 and any("" in row for row in rows):
                out.writelines(",".join(map(_csv_field, row)) + "\r\n" for row in rows)
            else:
                writer.writerows(rows)
    elif console.is_terminal:
        _print_table(columns, batches, type(console)(file=out, width=console.width, force_terminal=True,
                                                     color_system=console.color_system))
    else:
        _print_plain_table(columns, batches, out)


_CSV_QUOTED = re.compile('[",\r\n]')


def _csv_field(value: str | None) -> str:
    # As DuckDB's and PostgreSQL's COPY write CSV: NULL an empty field, the empty string "" (Python 3.11's csv
    # writes both as an empty field), quotes only where the value needs them, as csv.writer quotes. (A row of
    # one column keeps csv.writer's "" for NULL too: an empty line is a row pandas and others skip.)
    if value is None:
        return ""
    return '"' + value.replace('"', '""') + '"' if not value or _CSV_QUOTED.search(value) else value


def _print_table(columns: list[str], batches: Iterable[list[tuple[str | None, ...]]], console: Console) -> None:
    """A Rich table fitted to the terminal, of the first SHOWN_ON_A_TERMINAL rows; the rest are counted."""
    table = Table()
    for column in columns:
        table.add_column(Text(visible(column)))
    total = 0
    for rows in batches:
        for row in rows[:max(0, SHOWN_ON_A_TERMINAL - total)]:
            # Text, not str: a str cell is Rich markup, and scraped text must show as typed.
            table.add_row(*[Text("" if value is None else visible(_cut(value))) for value in row])
        total += len(rows)
    console.print(table)
    shown = f" (the first {SHOWN_ON_A_TERMINAL:,} shown; --format csv or json gives them all)" \
        if total > SHOWN_ON_A_TERMINAL else ""
    console.print(f"{total:,} {noun(total, 'row')}{shown}", highlight=False)


def _cut(value: str) -> str:
    # Rich's wrapping of a cell grows faster than its length: a 5 MB body took 49 s, 20 MB over ten minutes
    # (sizes QA). No terminal shows more than this of one cell anyway.
    if len(value) <= TERMINAL_CELL_MAX:
        return value
    return f"{value[:TERMINAL_CELL_MAX]}… ({len(value):,} characters; --format csv or json gives it whole)"


def _print_plain_table(columns: list[str], batches: Iterable[list[tuple[str | None, ...]]], out: TextIO) -> None:
    """Piped: an aligned text table written as the rows come (a Rich table held and measured every row: 10
    minutes and 4.8 GB for 200,000 reviews), each row one line and each value whole. The widths are those of
    the first batch, a cell padded to at most _PADDED_UP_TO: a longer value is written whole and shifts the
    rest of its row."""
    header = [_one_line(column) for column in columns]  # a name can hold a newline too: select 'a\nb'
    batches = iter(batches)
    first = next(batches, [])
    cells = [[_one_line(value) for value in row] for row in first]
    widths = [min(_PADDED_UP_TO, max([cell_len(name), *(cell_len(row[i]) for row in cells)]))
              for i, name in enumerate(header)]

    def line(values: list[str]) -> str:
        return " | ".join(value + " " * max(0, width - cell_len(value))
                          for value, width in zip(values, widths, strict=True)).rstrip() + "\n"

    out.write(line(header))
    out.write("-+-".join("-" * width for width in widths) + "\n")
    out.writelines(line(row) for row in cells)
    total = len(cells)
    for rows in batches:
        out.writelines(line([_one_line(value) for value in row]) for row in rows)
        total += len(rows)
    out.write(f"({total:,} {noun(total, 'row')})\n")


def copy_out(spool: TextIO, exact: bool) -> None:
    """A spooled result to standard output: `exact` (CSV, JSON) as UTF-8 bytes whatever the locale's encoding
    (an ASCII or Latin-1 stdout would escape characters, and JSON with them is no JSON), a table as text."""
    spool.seek(0)
    sys.stdout.flush()
    binary = getattr(sys.stdout, "buffer", None) if exact else None
    while chunk := spool.read(1 << 20):
        if binary is not None:
            _write_all(binary, chunk.encode("utf-8"))
        else:
            sys.stdout.write(chunk)
    (binary or sys.stdout).flush()


def _write_all(binary: BinaryIO, data: bytes) -> None:
    # A buffered write that meets a full disk part-way returns how much it wrote instead of raising: a CSV cut
    # mid-row ended with exit 0 (resources QA).
    view = memoryview(data)
    while view:
        written = binary.write(view)
        if not written:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        view = view[written:]


def _one_line(value: str | None) -> str:
    """A value as a piped table shows it: on one line (newline and tab as \\n and \\t), controls escaped."""
    if value is None:
        return ""
    return visible(value.replace("\n", "\\n").replace("\t", "\\t"))


def show(console: Console, table: Table, markup: bool = True) -> None:
    """A table fitted to the terminal; elsewhere (cron's mail, a log file) as wide as its values, each whole: cut
    to 80 columns, the run ids in a mailed summary could not be found among the logs (environment QA)."""
    if console.is_terminal or console.record:
        console.print(table, markup=markup)
        return
    options = console.options.update(width=sys.maxsize, markup=markup)
    width = console.measure(table, options=options).maximum
    type(console)(file=console.file, width=max(width, 20), color_system=None).print(table, crop=False, markup=markup)


def print_status(report: dict[str, Any], console: Console) -> None:
    size_mb = report["warehouse_bytes"] / 1e6
    console.print(f"warehouse {report['warehouse']} ({size_mb:.1f} MB)", highlight=False)
    if report.get("busy"):
        console.print(f"busy: {report['busy']}; its runs and rows show once it is done", highlight=False,
                      markup=False, soft_wrap=True)
        _print_landing_notes(report, console)
        return
    if report["tables"]:
        console.print("rows: " + ", ".join(f"{name} {count:,}" for name, count in report["tables"].items()),
                      highlight=False)
    if not report.get("marts_current", True):
        from warehouse.marts import STALE_MARTS

        console.print(f"marts: {STALE_MARTS}", highlight=False, markup=False)
    table = Table(title="Last run per source")
    for column in ("source", "finished", "pages", "scraped", "loaded", "dupl.", "rej.", "seconds", "health"):
        table.add_column(column)
    for run in report["last_runs"]:
        health = ("ok" if run["healthy"] else f"UNHEALTHY: {run['health_notes']}" if run["healthy"] is False
                  else run["health_notes"] or "-")  # unjudged runs: the note says why
        seconds = f"{run['duration_seconds']:.0f}" if run["duration_seconds"] is not None else "-"
        pages = "?" if run["pages"] is None else str(run["pages"])  # a killed run's pages are unknown, not 0
        table.add_row(run["source"], str(run["finished"] or run["finish_reason"] or "-"), pages, str(run["scraped"]),
                      str(run["loaded"]), str(run["duplicates"]), str(run["rejected"]), seconds,
                      health)
    show(console, table, markup=False)
    pending, waiting = report["pending_batches"], report.get("waiting_batches", [])
    # Those waiting behind a run still being written are counted apart: "0" above a waiting line read as if the
    # batch were lost (crash QA).
    behind = f" (and {len(waiting)} waiting, below)" if waiting else ""
    console.print(f"landing batches not yet loaded: {len(pending)}{behind}", highlight=False)
    for batch in pending:
        console.print(f"  {batch['source']} {batch['run_id']}  {batch['path']}", highlight=False, markup=False)
    _print_landing_notes(report, console)


def _print_landing_notes(report: dict[str, Any], console: Console) -> None:
    """The batches waiting behind a run still being written, and what killed imports left."""
    for held in report.get("waiting_batches", []):
        console.print(f"  waiting: {held['note']}", highlight=False, markup=False)
    for path in report.get("killed_imports", []):
        console.print(f"  left by a killed import, never loaded (the next import into its source removes it): {path}",
                      highlight=False, markup=False)


def print_sources(listed: list[dict[str, Any]], console: Console, known: bool = True) -> None:
    """The sources table; `known` False when the last runs could not be read ("unknown", not "never")."""
    table = Table(title="Sources")
    for column in ("name", "spider", "schedule", "urls", "last run", "health"):
        table.add_column(column)
    for source in listed:
        last = source["last_run"] or {}
        health = {True: "ok", False: "UNHEALTHY", None: "not judged"}[last.get("healthy")] if last else "-"
        # The profile's file name: its whole path is in --json, and would crowd the table out.
        spider = f"{source['spider']}: {Path(source['profile']).name}" if source.get("profile") else source["spider"]
        table.add_row(source["name"], spider, source["schedule"] or "-", "\n".join(source["urls"]),
                      str(last.get("finished") or last.get("finish_reason") or ("never" if known else "unknown")),
                      health)
    show(console, table, markup=False)
    if not listed:
        # The example ships inside the package, so an installed copy can show where it is.
        example = Path(__file__).with_name("reviews.example.toml")
        console.print(f"no sources configured: copy {example} to reviews.toml", highlight=False, soft_wrap=True)
