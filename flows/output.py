"""Printing query results as a table, CSV or JSON lines."""

from __future__ import annotations

import csv
import json
import sys
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from rich.console import Console
from rich.table import Table


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def print_rows(columns: list[str], rows: list[tuple[Any, ...]], fmt: str, console: Console) -> None:
    if fmt == "json":
        for row in rows:
            sys.stdout.write(json.dumps(dict(zip(columns, map(_plain, row), strict=True)), ensure_ascii=False) + "\n")
    elif fmt == "csv":
        writer = csv.writer(sys.stdout)
        writer.writerow(columns)
        writer.writerows([[_plain(v) for v in row] for row in rows])
    else:
        table = Table()
        for column in columns:
            table.add_column(column)
        for row in rows:
            # Table cells are rich markup by default; scraped text must show as typed.
            table.add_row(*["" if v is None else str(_plain(v)) for v in row])
        console.print(table, markup=False)
        console.print(f"{len(rows)} rows", highlight=False)


def print_status(report: dict[str, Any], console: Console) -> None:
    size_mb = report["warehouse_bytes"] / 1e6
    console.print(f"warehouse {report['warehouse']} ({size_mb:.1f} MB)", highlight=False)
    if report["tables"]:
        console.print("rows: " + ", ".join(f"{name} {count:,}" for name, count in report["tables"].items()),
                      highlight=False)
    table = Table(title="Last run per source")
    for column in ("source", "finished", "pages", "scraped", "loaded", "dupl.", "rej.", "seconds", "health"):
        table.add_column(column)
    for run in report["last_runs"]:
        health = ("ok" if run["healthy"] else f"UNHEALTHY: {run['health_notes']}" if run["healthy"] is False
                  else run["health_notes"] or "-")  # unjudged runs: the note says why
        seconds = f"{run['duration_seconds']:.0f}" if run["duration_seconds"] is not None else "-"
        table.add_row(run["source"], str(run["finished"] or run["finish_reason"] or "-"), str(run["pages"] or 0),
                      str(run["scraped"]), str(run["loaded"]), str(run["duplicates"]), str(run["rejected"]), seconds,
                      health)
    console.print(table, markup=False)
    pending = report["pending_batches"]
    console.print(f"landing batches not yet loaded: {len(pending)}", highlight=False)
    for batch in pending:
        console.print(f"  {batch['source']} {batch['run_id']}  {batch['path']}", highlight=False, markup=False)


def print_sources(listed: list[dict[str, Any]], console: Console) -> None:
    table = Table(title="Sources")
    for column in ("name", "spider", "schedule", "urls", "last run", "health"):
        table.add_column(column)
    for source in listed:
        last = source["last_run"] or {}
        health = {True: "ok", False: "UNHEALTHY", None: "not judged"}[last.get("healthy")] if last else "-"
        table.add_row(source["name"], source["spider"], source["schedule"] or "-", "\n".join(source["urls"]),
                      str(last.get("finished") or "never"), health)
    console.print(table, markup=False)
    if not listed:
        console.print("no sources configured: copy reviews.example.toml to reviews.toml", highlight=False)
