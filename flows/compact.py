"""`reviews compact`: the warehouse rewritten into a file of its own size.

DuckDB reuses the blocks an update frees but never gives them back to the disk: the weekly updates of
re-crawled reviews touch every row group, and a warehouse of a million reviews grew from 153 to ~260 MB
within a few weekly loads and stayed there (QA). Copying every table, view, sequence and macro into a
new file (DuckDB's `COPY FROM DATABASE`) writes only what is in use; the copy replaces the warehouse
once each table's rows are counted the same in both, so a failure (a full disk) leaves it as it was.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import duckdb

from flows.errors import ReviewsError
from flows.writer import writer_slot
from warehouse.db import connect_writer, missing, warehouse_path


@dataclass
class Compacted:
    path: Path
    before: int  # bytes
    after: int


def compact(root: Path, waiting: Callable[[str], object] | None = None) -> Compacted:
    """Rewrite `<root>/reviews.duckdb` compactly, holding the writer slot so no run writes meanwhile."""
    path = warehouse_path(root)
    if not path.exists():
        raise missing(path)
    copy = path.with_name("reviews.compact.duckdb")
    with writer_slot(root, waiting=waiting):
        # A checkpoint first, so a .wal a killed run left is in the file that is copied.
        conn = connect_writer(path)
        conn.execute("checkpoint")
        conn.close()
        before = path.stat().st_size
        leftovers = (copy, copy.with_name(copy.name + ".wal"))
        for leftover in leftovers:
            leftover.unlink(missing_ok=True)
        try:
            _copy(path, copy)
        except BaseException as exc:  # a stop too: it left the half-written copy behind (concurrency QA)
            for leftover in leftovers:  # the copy's WAL too: a failed copy left it behind (resources QA)
                leftover.unlink(missing_ok=True)
            from flows.crawl import signalled

            if signalled.is_set():  # DuckDB turned the stop into "Query interrupted" (verification QA)
                raise KeyboardInterrupt from None
            if isinstance(exc, duckdb.Error | OSError | ReviewsError):
                raise ReviewsError(f"cannot compact {path}, which is as it was: {str(exc).splitlines()[0]}") from None
            raise
        os.replace(copy, path)
        leftovers[1].unlink(missing_ok=True)  # checkpointed: nothing in it belongs to the renamed file
    return Compacted(path, before, path.stat().st_size)


def _copy(path: Path, copy: Path) -> None:
    duck = duckdb.connect()
    try:
        duck.execute(f"attach '{_quoted(path)}' as old (read_only)")
        duck.execute(f"attach '{_quoted(copy)}' as new")
        duck.execute("copy from database old to new")
        tables = [row[0] for row in duck.execute(
            "select table_name from duckdb_tables() where database_name = 'old' and schema_name = 'main'").fetchall()]
        for table in tables:
            counts = duck.execute(f'select (select count(*) from old.main."{table}"), '
                                  f'(select count(*) from new.main."{table}")').fetchone()
            if counts[0] != counts[1]:
                raise ReviewsError(f"the copy of table {table} has {counts[1]} rows, not {counts[0]}")
        duck.execute("checkpoint new")
    finally:
        duck.close()


def _quoted(path: Path) -> str:
    return str(path).replace("'", "''")
