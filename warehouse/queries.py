"""Read-only queries: the named ones shipped as .sql files, and a user's own SQL."""

from __future__ import annotations

from importlib import resources
from typing import Any

import duckdb

from warehouse.db import WarehouseError


def query_text(name: str) -> str:
    """A named query from warehouse/sql/queries/ (used by summaries and reports)."""
    path = resources.files("warehouse").joinpath("sql", "queries", f"{name}.sql")
    if not path.is_file():
        raise WarehouseError(f"no query named {name!r}")
    return path.read_text(encoding="utf-8")


def run_sql(conn: duckdb.DuckDBPyConnection, sql: str, params: list[Any] | dict[str, Any] | None = None
            ) -> tuple[list[str], list[tuple[Any, ...]]]:
    """(column names, rows); a SQL mistake becomes a WarehouseError with DuckDB's one-line reason."""
    try:
        cursor = conn.execute(sql, params) if params is not None else conn.execute(sql)
        # DuckDB returns no cursor at all for text without a statement ("", ";", a comment).
        if cursor is None and not params:
            raise WarehouseError("no SQL statement given")
        if cursor is None or cursor.description is None:
            return [], []
        columns = [d[0] for d in cursor.description]
        return columns, cursor.fetchall()
    except duckdb.Error as exc:
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise WarehouseError(f"SQL error: {first_line}") from None


def run_query(conn: duckdb.DuckDBPyConnection, name: str, params: list[Any] | dict[str, Any] | None = None
              ) -> tuple[list[str], list[tuple[Any, ...]]]:
    return run_sql(conn, query_text(name), params)
