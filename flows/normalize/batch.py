"""Normalize one landing batch into warehouse rows, set-based.

The heavy lifting is DuckDB over the whole batch; Python functions run only on the distinct
values of a column (ratings, dates, names, film mentions: few per batch) or on the subset of
rows that need them (bodies with markup or mojibake, reviews without a declared language).
No per-row Python loop over the batch.

The landed items are read once into a scratch table; every step after that writes a narrow
table keyed by row number (a map of distinct values, or the few rows Python had to fix), and one
final query joins them onto the landed rows into one wide table of normalized rows, texts
included, after which the landed copy is dropped. The load reads key columns from it first and
the texts once, when inserting; it never joins texts back by row number. (The inferred-score
step reads the unrated bodies through a query, without copying them.)
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from flows.import_dates import order_of
from flows.normalize.assemble import assemble, infer_cleaned, infer_plain
from flows.normalize.films import Film
from flows.normalize.lookups import (
    UNTITLED_FILMS,
    blank_after_cleaning,
    critic_columns,
    critic_keys,
    date_columns,
    date_keys,
    film_columns,
    film_keys,
    rating_map,
)
from flows.normalize.python_share import PythonShare
from flows.normalize.rowfixes import clean_flagged, flagged_texts, undeclared_texts
from flows.normalize.staging import read_items, refuse_more, register, validate
from warehouse.load import Reject

SCRATCH = "nz_"  # prefix of the batch modules' temp tables, dropped with the batch
# One normalized batch at a time per connection: the view and the nz_* tables behind it are fixed names.
NORMALIZED = "normalized_batch"


@dataclass
class NormalizedBatch:
    # The name of a temp view in the connection that normalized it, or an Arrow table.
    rows: str | pa.Table
    rejects: list[Reject] = field(default_factory=list)
    scraped: int = 0
    date_order: str | None = None  # the order its slashed dates were read in (None: month first)


# Python's share of the batch: fetched inputs in, columns of these tables out. All-null columns need a type.
PYTHON_TABLES: dict[str, dict[str, pa.DataType]] = {
    "nz_date_map": {"published_on": pa.date32()},
    "nz_film_map": {"year": pa.int32()},
    "nz_critic_map": {"blank_name": pa.bool_()},
    "nz_cleaned": {"row_no": pa.int64(), "body_py": pa.bool_(), "title_py": pa.bool_()},
    "nz_detected": {"row_no": pa.int64()},
}


def _lookup_columns(keys: dict[str, list[tuple[Any, ...]]], known: list[Film],
                   date_order: str | None = None) -> dict[str, dict[str, list[Any]]]:
    """Dates, film mentions and critic names parsed once per distinct value (pure Python)."""
    return {"nz_date_map": date_columns(keys["dates"], date_order), "nz_film_map": film_columns(keys["films"], known),
            "nz_critic_map": critic_columns(keys["critics"])}


def _row_fixes(flagged: list[tuple[Any, ...]], undeclared: pa.Table,
               stopped: threading.Event | None = None) -> dict[str, dict[str, list[Any]]]:
    """clean_text on the flagged texts and language detection of the undeclared ones (pure Python)."""
    cleaned, detected = clean_flagged(flagged, undeclared, stopped)
    return {"nz_cleaned": cleaned, "nz_detected": detected}


def crawl_rejects(rejects_path: Path | None) -> list[Reject]:
    """Items the crawler's validation already refused, carried into the warehouse's rejects."""
    if rejects_path is None or not rejects_path.exists():
        return []
    found = []
    # Lines end at "\n" alone: the crawler writes U+2028 and U+2029 unescaped, and str.splitlines() cut a reject
    # holding one into pieces, each counted as a reject of its own (sizes QA).
    with rejects_path.open("rb") as lines:
        numbered = [(number, raw.decode("utf-8", errors="replace").rstrip("\r\n"))
                    for number, raw in enumerate(lines, 1) if raw.strip()]
    for number, line in numbered:
        try:
            record = json.loads(line)
            found.append(Reject(record.get("reason", "rejected by crawler"), record.get("item", record), "crawl"))
        except ValueError:
            found.append(Reject(f"unreadable crawl reject line {number}", {"line": line}, "crawl"))
    return found


def drop_normalized(duck: duckdb.DuckDBPyConnection) -> None:
    """Drop the normalized batch's view and the scratch tables behind it, once the batch is loaded."""
    duck.execute(f"drop view if exists {NORMALIZED}")
    found = duck.execute("select table_name, table_type from information_schema.tables "
                         "where table_catalog = 'temp' and starts_with(table_name, ?)", [SCRATCH]).fetchall()
    for table, kind in sorted(found, key=lambda found: found[1] != "VIEW"):  # views before their tables
        duck.execute(f"drop {'view' if kind == 'VIEW' else 'table'} if exists {table}")


def normalize_landing(items_path: Path, known_films: list[Film], rejects_path: Path | None = None,
                      positive_threshold: float = 60.0,
                      duck: duckdb.DuckDBPyConnection | None = None,
                      date_order: str | None = None, infer_date_order: bool = False,
                      earlier_date_order: str | None = None) -> NormalizedBatch:
    """Normalize a landing file into rows for `warehouse.load.load_batch`.

    Given a connection (the warehouse's), the rows are its temp view `normalized_batch` and `rows`
    is that name: a million-review batch then stays inside DuckDB, within its memory limit, never
    copied through Python. Call `drop_normalized` after the load, before normalizing the next
    batch in that connection. Without a connection, the rows come back as an Arrow table. `date_order`
    (crawlers.items.DATE_ORDERS) is the batch's order of day and month in slashed dates, when its source's is known;
    with `infer_date_order`, the order the batch's own dates show, else `earlier_date_order` (import_dates.order_of).
    """
    own = duck is None
    work = duckdb.connect() if own else duck
    try:
        # A fetched_at without a zone is UTC (as the crawler writes it), not the machine's local time.
        work.execute("set TimeZone = 'UTC'")
        rejects = crawl_rejects(rejects_path)
        read_rejects, broken = read_items(work, items_path)
        rejects += read_rejects
        scraped = work.execute("select count(*) from nz_raw").fetchall()[0][0] + len(rejects) - len(broken)
        rejects += validate(work, broken, items_path)
        keys = {"dates": date_keys(work), "films": film_keys(work), "critics": critic_keys(work)}
        if infer_date_order:
            date_order = order_of((key[0] for key in keys["dates"]), earlier_date_order)
        # Python's share runs in one thread, in order, while DuckDB (which releases the GIL) goes on:
        # the lookups while SQL flags the texts, the text fixes while SQL scores the unrated reviews.
        share, finished = PythonShare(), False
        try:
            lookups = share.submit(_lookup_columns, keys, known_films, date_order)
            fixes = share.submit(_row_fixes, flagged_texts(work), undeclared_texts(work), share.stopped)
            rating_map(work, positive_threshold)
            infer_plain(work)
            tables = lookups.result() | fixes.result()
            finished = True
        finally:
            share.close(stop=not finished)
        for table, columns in tables.items():
            register(work, table, columns, PYTHON_TABLES[table])
        if any(tables["nz_film_map"]["untitled"]):
            rejects += refuse_more(work, UNTITLED_FILMS, items_path)
        cleaned = tables["nz_cleaned"]
        if any(tables["nz_critic_map"]["blank_name"]) or any(
                py and not body for py, body in zip(cleaned["body_py"], cleaned["body"], strict=True)):
            rejects += refuse_more(work, blank_after_cleaning(), items_path)
        infer_cleaned(work)
        assemble(work, NORMALIZED)
        rows: str | pa.Table = (work.sql(f"select * from {NORMALIZED} order by row_no").to_arrow_table()
                                if own else NORMALIZED)
    except BaseException:
        if not own:
            drop_normalized(work)
        raise
    finally:
        if own:
            work.close()
    return NormalizedBatch(rows=rows, rejects=rejects, scraped=scraped, date_order=date_order)
