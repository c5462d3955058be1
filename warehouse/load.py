"""Bulk, idempotent loads of normalized review batches into the warehouse.

A batch arrives as a temp table or view, or an Arrow table (never row by row), and is
merged by the SQL files in `warehouse/upsert/`, all inside one transaction: a batch that fails
half-way leaves the warehouse as it was. Every batch ends in `crawl_runs` with
scraped = loaded + duplicates + rejected, or the load is rolled back.
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from importlib import resources
from typing import Any

import duckdb
import pyarrow as pa

from warehouse.db import WarehouseDamaged, WarehouseError, first_line, is_damage, is_write_failure, rollback
from warehouse.hashing import define_hash_macros
from warehouse.marts import define_macros, mark_marts_stale

UPSERT_STEPS = ("01_classify.sql", "02_films_critics.sql", "03_reviews.sql", "04_review_keys.sql",
                "05_merge_copies.sql")

# The normalized batch, as flows.normalize produces it.
BATCH_COLUMNS: dict[str, str] = {
    "row_no": "bigint", "run_id": "varchar", "source": "varchar", "source_review_id": "varchar",
    "url": "varchar", "fetched_at": "timestamp",
    "film_id": "varchar", "film_title": "varchar", "film_year": "integer", "imdb_id": "varchar",
    "tmdb_id": "varchar", "title_key": "varchar",
    "critic_id": "varchar", "critic_name": "varchar", "name_key": "varchar", "outlet": "varchar",
    "audience": "varchar", "critic_url": "varchar",
    "rating_raw": "varchar", "score": "double", "is_positive": "boolean", "score_source": "varchar",
    "rating_problem": "varchar", "title": "varchar", "body": "varchar", "language": "varchar",
    "content_hash": "ubigint", "text_hash": "ubigint", "published_on": "date", "date_problem": "varchar",
}


class LoadMismatch(WarehouseError):
    """The counts of a batch do not add up; the load was rolled back."""


@dataclass
class RunInfo:
    run_id: str
    source: str
    spider: str | None = None
    started: datetime | None = None
    finished: datetime | None = None
    pages: int | None = None
    errors: int | None = None
    field_coverage: dict[str, Any] = field(default_factory=dict)
    healthy: bool | None = None
    health_notes: str | None = None
    batch_path: str | None = None
    batch_sha1: str | None = None
    finish_reason: str | None = None
    duration_seconds: float | None = None
    resumed: bool = False  # continued a stopped crawl, so it covers only part of the site
    site_unchanged: bool | None = None  # its stats showed it found the site unchanged (flows/health.py)
    full_crawl: bool | None = None  # it skipped nothing (flows/incremental.py full_crawl_due); None: not known


@dataclass
class LoadResult:
    run_id: str
    source: str
    scraped: int
    loaded: int
    updated: int
    duplicates: int
    rejected: int
    already_loaded: bool = False

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Reject:
    reason: str
    raw: dict[str, Any]
    stage: str = "load"


def _upsert_sql(name: str) -> str:
    return resources.files("warehouse.upsert").joinpath(name).read_text(encoding="utf-8")


def already_loaded(conn: duckdb.DuckDBPyConnection, run_id: str, source: str) -> LoadResult | None:
    row = conn.execute(
        "select scraped, loaded, updated, duplicates, rejected from crawl_runs where run_id = ? and source = ?",
        [run_id, source]).fetchall()
    if not row:
        return None
    return LoadResult(run_id, source, *row[0], already_loaded=True)


def _table_name(name: str) -> str:
    if not name.isidentifier():
        raise WarehouseError(f"not a table name: {name!r}")
    return name


def _source(conn: duckdb.DuckDBPyConnection, rows: str | pa.Table) -> str:
    if isinstance(rows, str):
        return _table_name(rows)
    conn.register("incoming_batch", rows)
    return "incoming_batch"


def _stage(conn: duckdb.DuckDBPyConnection, rows: str | pa.Table) -> None:
    """Expose the batch as view batch_rows, every column cast to its type.

    `rows` is a temp table or view of this connection, or an Arrow table. Nothing is copied here:
    the upsert reads key columns first and the texts once, when inserting.
    """
    source = _source(conn, rows)
    names = [r[0] for r in conn.execute(f"select column_name from (describe select * from {source})").fetchall()]
    missing = sorted(set(BATCH_COLUMNS) - set(names))
    if missing:
        raise WarehouseError(f"batch lacks columns: {', '.join(missing)}")
    casts = ", ".join(f"cast({name} as {kind}) as {name}" for name, kind in BATCH_COLUMNS.items())
    conn.execute(f"create or replace temp view batch_rows as select {casts} from {source}")


def _unstage(conn: duckdb.DuckDBPyConnection, rows: str | pa.Table) -> None:
    for view in ("batch_kept", "batch_rows"):
        conn.execute(f"drop view if exists {view}")
    conn.execute("drop table if exists batch_classified")
    conn.execute("drop table if exists batch_rating_fills")
    conn.execute("drop table if exists batch_kept_edits")
    conn.execute("drop table if exists batch_date_fills")
    if isinstance(rows, pa.Table):
        conn.unregister("incoming_batch")


# A reject's item over this many characters of JSON is stored as its start and its size: a 251 MB line of NULs
# (each written \u0000) took more than the 1 GB memory limit to store, and its batch never loaded (sizes QA). The
# landing file keeps the whole line.
REJECT_RAW_MAX = 16 * 1024 * 1024
REJECT_RAW_KEPT = 64 * 1024
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def storable_raw(raw: Any) -> str:
    """A reject's item as the JSON text `rejects.raw` stores: whole, or over REJECT_RAW_MAX characters, an object
    holding its first REJECT_RAW_KEPT characters and its size."""
    text = json.dumps(raw, ensure_ascii=False, sort_keys=True)
    # A lone surrogate (the escape of half a pair in a page's JSON) is refused by UTF-8, Arrow and DuckDB: spelled
    # out as its six characters, as the landing file spells it (crawlers.landing.storable).
    text = _LONE_SURROGATE.sub(lambda found: f"\\\\u{ord(found[0]):04x}", text)
    if len(text) <= REJECT_RAW_MAX:
        return text
    return json.dumps({"truncated": True, "chars": len(text), "start": text[:REJECT_RAW_KEPT]}, ensure_ascii=False)


def _insert_rejects(conn: duckdb.DuckDBPyConnection, run: RunInfo, rejects: list[Reject], now: datetime) -> None:
    if not rejects:
        return
    table = pa.table({
        "run_id": [run.run_id] * len(rejects), "source": [run.source] * len(rejects),
        "stage": [r.stage for r in rejects], "reason": [r.reason for r in rejects],
        "raw": [storable_raw(r.raw) for r in rejects],
        "rejected_at": [now] * len(rejects),
    })
    conn.register("incoming_rejects", table)
    conn.execute("insert into rejects select run_id, source, stage, reason, cast(raw as json), rejected_at "
                 "from incoming_rejects")
    conn.unregister("incoming_rejects")


def load_batch(conn: duckdb.DuckDBPyConnection, rows: str | pa.Table, rejects: list[Reject], run: RunInfo,
               scraped: int, cancelled: Callable[[], bool] | None = None) -> LoadResult:
    """Merge one normalized batch; a batch already recorded for (run_id, source) is not loaded again.
    `cancelled`, asked just before the commit, rolls the batch back with KeyboardInterrupt when true."""
    previous = already_loaded(conn, run.run_id, run.source)
    if previous is not None:
        return previous
    now = datetime.now(UTC).replace(tzinfo=None)
    conn.execute("begin transaction")
    try:
        define_hash_macros(conn)  # the upsert recomputes a review's hash when it keeps its old rating
        define_macros(conn)
        _stage(conn, rows)
        for step in UPSERT_STEPS:
            conn.execute(_upsert_sql(step))
        outcomes = dict(conn.execute("select outcome, count(*) from batch_classified group by outcome").fetchall())
        # A copy that gave a review its missing rating changed it (03_reviews.sql): updated, not a duplicate,
        # unless this batch also wrote the review otherwise (new or changed): one write per review.
        filled = conn.execute("select count(*) from batch_rating_fills where review_id not in "
                              "(select review_id from batch_classified where outcome in ('new', 'changed'))"
                              ).fetchall()[0][0]
        # Likewise a date a re-crawl gave the review (03_reviews.sql), unless it was written otherwise too.
        filled += conn.execute("select count(*) from batch_date_fills where review_id not in "
                               "(select review_id from batch_rating_fills) and review_id not in "
                               "(select review_id from batch_classified where outcome in ('new', 'changed') "
                               "and row_no not in (select row_no from batch_kept_edits))").fetchall()[0][0]
        # Read as changed, but only a rating the review keeps differed: nothing was written (03_reviews.sql).
        kept = conn.execute("select count(*) from batch_kept_edits").fetchall()[0][0]
        repeats = conn.execute("select (select count(*) from batch_rows) - (select count(*) from batch_classified)"
                               ).fetchall()[0][0]
        _insert_rejects(conn, run, rejects, now)
        result = LoadResult(
            run_id=run.run_id, source=run.source, scraped=scraped,
            loaded=outcomes.get("new", 0) + outcomes.get("changed", 0) - kept + filled,
            updated=outcomes.get("changed", 0) - kept + filled,
            duplicates=repeats + outcomes.get("unchanged", 0) + outcomes.get("syndicated", 0) + kept - filled,
            rejected=len(rejects),
        )
        if result.scraped != result.loaded + result.duplicates + result.rejected:
            raise LoadMismatch(f"run {run.run_id} of {run.source}: scraped {result.scraped} != loaded "
                               f"{result.loaded} + duplicates {result.duplicates} + rejected {result.rejected}")
        conn.execute(
            "insert into crawl_runs by name select ? as run_id, ? as source, ? as spider, ? as started, "
            "? as finished, ? as pages, ? as scraped, ? as loaded, ? as updated, ? as duplicates, ? as rejected, "
            "? as errors, ? as field_coverage, ? as healthy, ? as health_notes, ? as batch_path, ? as batch_sha1, "
            "? as loaded_at, ? as finish_reason, ? as duration_seconds, ? as resumed, ? as site_unchanged, "
            "? as full_crawl",
            [run.run_id, run.source, run.spider, run.started, run.finished, run.pages, result.scraped,
             result.loaded, result.updated, result.duplicates, result.rejected, run.errors,
             json.dumps(run.field_coverage), run.healthy, run.health_notes, run.batch_path, run.batch_sha1, now,
             run.finish_reason, run.duration_seconds, run.resumed, run.site_unchanged, run.full_crawl])
        mark_marts_stale(conn)  # until build_marts runs: a run killed before it leaves them known to be stale
        if cancelled is not None and cancelled():
            raise KeyboardInterrupt
        conn.execute("commit")
    except duckdb.FatalException as exc:
        if not is_write_failure(exc):
            raise
        # DuckDB invalidated the database (a checkpoint after the commit could not write: a full disk), so the
        # commit may be in its WAL; the next run's load is idempotent either way (crash QA: it was a traceback).
        raise WarehouseError(f"cannot load run {run.run_id} of {run.source}: {first_line(exc)}; the next run "
                             "loads it, unless it went in") from exc
    except duckdb.Error as exc:
        rollback(conn)
        if not (is_write_failure(exc) or isinstance(exc, duckdb.OutOfMemoryException)):
            raise
        if is_damage(exc):  # it ends the run, with the advice to restore
            raise WarehouseDamaged(f"cannot load run {run.run_id} of {run.source}: the warehouse is damaged "
                                   f"({first_line(exc)}): restore it from a backup, or rebuild it from the landing "
                                   "zone (see Backups in the README)") from exc
        # The machine's limits (a full disk, the memory limit), not a mistake in the rows: one line.
        raise WarehouseError(f"cannot load run {run.run_id} of {run.source}, the warehouse is as it was: "
                             f"{first_line(exc)}") from exc
    except BaseException:
        rollback(conn)
        raise
    finally:
        with contextlib.suppress(duckdb.FatalException):  # an invalidated connection drops nothing, and would
            _unstage(conn, rows)                           # hide the error above
    return result
