"""Printing query results as a table, CSV or JSON lines, and counts in words."""

from __future__ import annotations

import csv
import json
import re
import sys
from pathlib import Path
from typing import Any

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


def print_rows(columns: list[str], rows: list[tuple[str | None, ...]], fmt: str, console: Console) -> None:
    """Print rows whose values DuckDB rendered already (warehouse.queries.run_read_only): as JSON lines (each
    value a JSON text), or as CSV or a table (each value DuckDB's text form; None is NULL)."""
    if fmt == "json":
        keys = [json.dumps(column, ensure_ascii=False) + ":" for column in columns]
        for row in rows:
            values = ("null" if value is None else value for value in row)
            sys.stdout.write("{" + ",".join(key + value for key, value in zip(keys, values, strict=True)) + "}\n")
    elif fmt == "csv":
        # Exact, for programs: a value a spreadsheet would read as a formula (=, +, -, @) is written as it is.
        writer = csv.writer(sys.stdout)
        writer.writerow(columns)
        writer.writerows(rows)
    else:
        _print_table(columns, rows, console)


def _print_table(columns: list[str], rows: list[tuple[str | None, ...]], console: Console) -> None:
    table = Table()
    for column in columns:
        table.add_column(Text(visible(column)))
    for row in rows:
        # Text, not str: a str cell is Rich markup, and scraped text must show as typed.
        table.add_row(*[Text("" if value is None else visible(value)) for value in row])
    if console.is_terminal:
        console.print(table)
    else:
        # Piped: no terminal to fit, so each value whole on one line rather than cut at Rich's default 80
        # columns; a console as wide as the table, since print() never goes wider than its console.
        width = console.measure(table, options=console.options.update_width(sys.maxsize)).maximum
        Console(file=console.file, width=width, color_system=None).print(table, crop=False)
    console.print(f"{len(rows)} rows", highlight=False)


def print_status(report: dict[str, Any], console: Console) -> None:
    size_mb = report["warehouse_bytes"] / 1e6
    console.print(f"warehouse {report['warehouse']} ({size_mb:.1f} MB)", highlight=False)
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
    console.print(table, markup=False)
    pending, waiting = report["pending_batches"], report.get("waiting_batches", [])
    # Those waiting behind a run still being written are counted apart: "0" above a waiting line read as if the
    # batch were lost (crash QA).
    behind = f" (and {len(waiting)} waiting, below)" if waiting else ""
    console.print(f"landing batches not yet loaded: {len(pending)}{behind}", highlight=False)
    for batch in pending:
        console.print(f"  {batch['source']} {batch['run_id']}  {batch['path']}", highlight=False, markup=False)
    for note in waiting:
        console.print(f"  waiting: {note}", highlight=False, markup=False)
    for path in report.get("killed_imports", []):
        console.print(f"  left by a killed import, never loaded (the next import into its source removes it): {path}",
                      highlight=False, markup=False)


def print_sources(listed: list[dict[str, Any]], console: Console) -> None:
    table = Table(title="Sources")
    for column in ("name", "spider", "schedule", "urls", "last run", "health"):
        table.add_column(column)
    for source in listed:
        last = source["last_run"] or {}
        health = {True: "ok", False: "UNHEALTHY", None: "not judged"}[last.get("healthy")] if last else "-"
        # The profile's file name: its whole path is in --json, and would crowd the table out.
        spider = f"{source['spider']}: {Path(source['profile']).name}" if source.get("profile") else source["spider"]
        table.add_row(source["name"], spider, source["schedule"] or "-", "\n".join(source["urls"]),
                      str(last.get("finished") or last.get("finish_reason") or "never"), health)
    console.print(table, markup=False)
    if not listed:
        console.print("no sources configured: copy reviews.example.toml to reviews.toml", highlight=False)
