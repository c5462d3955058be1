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
