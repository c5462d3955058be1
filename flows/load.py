"""Landing batches into the warehouse: find what is pending, normalize it, load it.

A batch is one `<run-id>.jsonl` under `raw/<source>/`. A batch is pending until a row for its
(run_id, source) exists in crawl_runs, so a crawl killed before its load is picked up by the
next run, and loading twice is harmless.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from crawlers.canaries import settle_pages
from crawlers.items import DATE_ORDERS
from crawlers.landing import being_written
from flows.config import Health
from flows.health import assess, found_site_unchanged
from flows.import_dates import DateOrder, remember, remembered
from flows.normalize.batch import NormalizedBatch, drop_normalized, normalize_landing
from flows.normalize.films import Film
from warehouse.db import WarehouseError, connect
from warehouse.load import LoadResult, RunInfo, load_batch
from warehouse.marts import mark_marts_stale

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Batch:
    source: str
    run_id: str
    items: Path

    @property
    def rejects(self) -> Path:
        return self.items.with_name(f"{self.run_id}.rejects.jsonl")

    @property
    def stats(self) -> Path:
        return self.items.with_name(f"{self.run_id}.stats.json")


def landing_batches(root: Path) -> list[Batch]:
    """Every run in the landing zone, including runs whose items were all rejected or that found none."""
    batches, writing = _landing_runs(root)
    return batches[:writing]


def held_batches(root: Path) -> tuple[Batch | None, list[Batch]]:
    """The run another process is still crawling, and the complete runs after it that wait for it to load."""
    batches, writing = _landing_runs(root)
    return (None, []) if writing is None else (batches[writing], batches[writing + 1:])


def held_notes(root: Path) -> list[str]:
    """One line per complete run that waits behind a run still being crawled (it would otherwise say nothing)."""
    return [held["note"] for held in held_runs(root)]


def held_runs(root: Path) -> list[dict[str, Any]]:
    """Each complete run that waits behind a run still being crawled: its source, run id, path, the run it waits
    for, and the line that says so (for `reviews status --json`, where a sentence alone hid the run waited for)."""
    writer, held = held_batches(root)
    if writer is None:
        return []
    return [{"source": batch.source, "run_id": batch.run_id, "path": str(batch.items),
             "waits_for": {"source": writer.source, "run_id": writer.run_id},
             "note": f"run {batch.run_id} of {batch.source} is not loaded yet: it waits for run {writer.run_id} of "
                     f"{writer.source}, still being written by another process (a crawl or an import), and loads "
                     "with the first run after that one"} for batch in held]


def _landing_runs(root: Path) -> tuple[list[Batch], int | None]:
    # A run whose lock is held is being written, whatever it has written yet: an import writes `<run>.jsonl.part`
    # (crash QA: a feed crawled during one loaded first), a crawl may have landed nothing yet. Looked for first: a
    # file renamed between the looks is then seen twice, not missed (review). A dead run's lock holds nothing.
    held = {(path.parent.name, path.name.removesuffix(".lock")) for path in (root / "raw").glob("*/*.lock")
            if not path.name.startswith(".") and being_written(path)}  # not `.import.lock`, a source's own
    runs = set(held)
    for path in (root / "raw").glob("*/*.jsonl"):
        runs.add((path.parent.name, path.name.removesuffix(".jsonl").removesuffix(".rejects")))
    # A run that found nothing leaves only its stats: it must still be recorded, to be judged unhealthy.
    for path in (root / "raw").glob("*/*.stats.json"):
        runs.add((path.parent.name, path.name.removesuffix(".stats.json")))
    # In crawl order (run ids begin with their start time), whatever the source: a batch loaded after a
    # later one of another source would otherwise make the later one's reviews look like its copies. So a
    # run another process is still crawling (crawlers.extensions.BatchLock) is no batch yet, and neither is
    # any later one: they load once it is complete, by whichever run comes next.
    ordered = sorted(runs, key=lambda run: (run[1], run[0]))
    writing = next((i for i, run in enumerate(ordered) if run in held), None)
    return [Batch(source, run_id, root / "raw" / source / f"{run_id}.jsonl") for source, run_id in ordered], writing


def pending_batches(conn: duckdb.DuckDBPyConnection, root: Path) -> list[Batch]:
    loaded = set(conn.execute("select source, run_id from crawl_runs").fetchall())
    return [b for b in landing_batches(root) if (b.source, b.run_id) not in loaded]


def known_films(conn: duckdb.DuckDBPyConnection) -> list[Film]:
    rows = conn.execute("""
        select f.film_id, f.title_key, f.year, f.imdb_id, f.tmdb_id,
            coalesce(list(distinct t.title_key order by t.title_key)
                     filter (where t.title_key is not null and t.title_key <> f.title_key), [])
        from films as f
        left join film_titles as t using (film_id)
        group by all""").fetchall()
    return [Film(*row) for row in rows]


def file_sha1(path: Path) -> str | None:
    """The sha1 of a landing file, as crawl_runs.batch_sha1 records it; None when it is gone."""
    if not path.exists():
        return None
    digest = hashlib.sha1()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _timestamp(value: Any) -> datetime | None:
    try:
        return datetime.fromisoformat(value).replace(tzinfo=None) if value else None
    except (TypeError, ValueError):
        return None


def _count(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def started_from_run_id(run_id: str) -> datetime | None:
    """When a crawl started, from its run id (crawlers.landing.new_run_id: UTC, to the microsecond), or
    None for a run id in another form."""
    try:
        return datetime.strptime(run_id, "%Y%m%dT%H%M%S%fZ")
    except ValueError:
        return None


def read_stats(batch: Batch) -> dict[str, Any]:
    """The run's stats file, or {} when it is missing or unreadable (a crawl killed while writing it).

    An unreadable file must not stop the load: its items are still good, and every later run would
    otherwise fail on the same file.
    """
    if not batch.stats.exists():
        return {}
    try:
        stats = json.loads(batch.stats.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        log.warning("%s is unreadable (%s); its run is recorded as killed", batch.stats, exc)
        return {}
    if not isinstance(stats, dict):
        log.warning("%s holds no JSON object; its run is recorded as killed", batch.stats)
        return {}
    return stats


def run_started(batch: Batch, stats: dict[str, Any]) -> datetime | None:
    """When the run started: from its stats, else from its run id (a killed crawl wrote no stats)."""
    return _timestamp(stats.get("started")) or started_from_run_id(batch.run_id)


def run_info(batch: Batch, stats: dict[str, Any] | None = None) -> RunInfo:
    """The run's own record, from its stats file (`stats`, when already read with read_stats); a crawl
    killed before it could write its stats is 'killed'.

    A killed run's start is read from its run id; what it cannot know (finished, pages, errors, duration)
    stays NULL, unknown, rather than 0.
    """
    stats = read_stats(batch) if stats is None else stats
    started, finished = run_started(batch, stats), _timestamp(stats.get("finished"))
    coverage = stats.get("field_coverage")
    spider, reason = stats.get("spider"), stats.get("finish_reason", "killed" if not stats else None)
    return RunInfo(
        run_id=batch.run_id, source=batch.source, spider=spider if isinstance(spider, str) else None,
        started=started, finished=finished, pages=_count(stats.get("pages")), errors=_count(stats.get("errors")),
        field_coverage=coverage if isinstance(coverage, dict) else {},
        batch_path=str(batch.items), batch_sha1=file_sha1(batch.items),
        finish_reason=reason if isinstance(reason, str) or reason is None else str(reason),
        duration_seconds=(finished - started).total_seconds() if started and finished else None,
        resumed=stats.get("job_state") == "resumed",
        full_crawl=full if isinstance(full := stats.get("full_crawl"), bool) else None)


def positive_threshold(conn: duckdb.DuckDBPyConnection) -> float:
    rows = conn.execute("select value from mart_params where name = 'positive_threshold'").fetchall()
    return float(rows[0][0]) if rows else 60.0


def normalize(conn: duckdb.DuckDBPyConnection, batch: Batch) -> NormalizedBatch:
    """Normalize a landing batch into temp view `normalized_batch` of the warehouse connection."""
    landed = read_stats(batch).get("landed")
    if not batch.items.exists():  # every item was rejected by the crawler: only a rejects file exists
        if isinstance(landed, int) and landed > 0:
            # Deleted by hand: loaded as empty, the run was recorded as a crawl that found nothing (ops QA).
            raise WarehouseError(f"{batch.items} is missing, though its stats file says {landed} reviews landed "
                                 f"there: restore it, or delete {batch.stats.name} beside it to give the run up")
        batch.items.touch()
    elif isinstance(landed, int) and landed > 0 and (whole := _whole_lines(batch.items, landed)) < landed:
        # Cut short after its crawl ended (a disk, a copy, a restore): loaded, its missing part was lost for
        # good, since the next crawl knows those reviews and skips their pages (recovery QA).
        raise WarehouseError(f"{batch.items} holds {whole} whole lines, though its stats file says {landed} "
                             f"reviews landed there: it was cut short; restore it, or delete {batch.stats.name} "
                             "beside it to load what is left")
    order = date_order(batch)
    # A crawl's stats give no order (an import's and a site profile's do): its dates tell, else the source's.
    return normalize_landing(batch.items, known_films(conn), batch.rejects, positive_threshold(conn), duck=conn,
                             date_order=order, infer_date_order=order is None,
                             earlier_date_order=remembered(batch.items.parent) if order is None else None)


def _whole_lines(path: Path, enough: int) -> int:
    """How many lines of `path` end with a newline, counted up to `enough` (read in 1 MB blocks)."""
    found = 0
    with path.open("rb") as handle:
        while found < enough and (block := handle.read(1 << 20)):
            found += block.count(b"\n")
    return found


def date_order(batch: Batch) -> str | None:
    """The order of day and month in the batch's slashed dates, as its import (flows/import_dates.py) or its
    site profile (crawlers/profiles.py) recorded it in the run's stats, or None: not known."""
    order = read_stats(batch).get("date_order")
    if order is not None and order not in DATE_ORDERS:
        log.warning("%s: date_order %r is none of %s; its dates are read as if none were given",
                    batch.stats, order, ", ".join(DATE_ORDERS))
        return None
    return order


def readings(conn: duckdb.DuckDBPyConnection, rows: str | pa.Table) -> dict[str, int]:
    """How many of a normalized batch's reviews had their rating read (an explicit score) and their date read:
    kept in the run's field coverage beside the raw fields, so health sees a site whose ratings or dates turned
    unreadable ("Rating: 4", a new date format) while every review still had one (site-drift QA)."""
    source = rows if isinstance(rows, str) else "batch_rows_arrow"
    if not isinstance(rows, str):
        conn.register(source, rows)
    try:
        read = conn.execute(f"select count(*) filter (where score_source = 'explicit'), "
                            f"count(*) filter (where published_on is not null) from {source}").fetchone()
    finally:
        if not isinstance(rows, str):
            conn.unregister(source)
    return {"ratings_read": read[0], "dates_read": read[1]} if read else {}


def load(conn: duckdb.DuckDBPyConnection, batch: Batch, normalized: NormalizedBatch,
         rules: Health | None = None, cancelled: Callable[[], bool] | None = None) -> tuple[LoadResult, RunInfo]:
    """Load a normalized batch, judging the run's health against the source's recent runs first;
    `cancelled` as for load_batch."""
    try:
        stats = read_stats(batch)
        run = run_info(batch, stats)
        run.field_coverage = {**run.field_coverage, **readings(conn, normalized.rows)}
        run.site_unchanged = found_site_unchanged(stats)
        run.healthy, run.health_notes = assess(conn, run, normalized.scraped, rules or Health(),
                                               rejected=len(normalized.rejects), stats=stats)
        result = load_batch(conn, normalized.rows, normalized.rejects, run, normalized.scraped, cancelled)
        if batch.items.parent.parent.name == "raw":  # in a data folder's landing zone (tests load loose files)
            settle_pages(batch.items.parent.parent.parent, batch.source, batch.run_id, run.healthy)
            if normalized.date_order and normalized.date_order != remembered(batch.items.parent):
                remember(batch.items.parent, DateOrder(normalized.date_order, None), batch.run_id)
    finally:
        if isinstance(normalized.rows, str):
            with contextlib.suppress(duckdb.FatalException):  # an invalidated database: its error is the one to say
                drop_normalized(conn)
    return result, run


def apply_mart_params(conn: duckdb.DuckDBPyConnection, params: dict[str, float]) -> None:
    """The marts' parameters as the config gives them (reviews.toml [marts]); a key it leaves out takes its
    default (mart_params.default_value), so taking a line out of the config undoes it.

    Apply them before normalizing: the normalizer reads positive_threshold for the verdicts it stores.
    """
    rows = conn.execute("select name, default_value, value from mart_params").fetchall()
    stored = {name: default for name, default, _ in rows}
    current = {name: value for name, _, value in rows}
    unknown = set(params) - set(stored)
    if unknown:
        raise WarehouseError(f"unknown mart parameters: {', '.join(sorted(unknown))} "
                             f"(known: {', '.join(sorted(stored))})")
    if any(current.get(name) != params.get(name, default) for name, default in stored.items()):
        mark_marts_stale(conn)
    for name, default in stored.items():
        value = params.get(name, default)
        conn.execute("update mart_params set value = ? where name = ? and value <> ?", [value, name, value])
    # The reviews table keeps a scored review's verdict too; it must be the one the marts use
    # (stg_reviews), or a query of `reviews` disagrees with film_scores after a threshold change.
    threshold = positive_threshold(conn)
    conn.execute("update reviews set is_positive = score >= ? where score_source = 'explicit' "
                 "and score is not null and is_positive is distinct from (score >= ?)", [threshold, threshold])


def judged_elsewhere(database: Path, crawls: list[dict[str, Any]],
                     loaded: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """This run's crawls that another run loaded meanwhile (two runs on one data folder) and judged unhealthy, shaped
    as a load's summary: the run that crawled such a site exited 0, saying nothing, while the run that happened to
    load it failed for it (diagnosis QA). Call it holding the writer slot, with no connection of this process open."""
    done = {(load["source"], load["run_id"]) for load in loaded}
    wanted = {(crawl["source"], crawl["run_id"]) for crawl in crawls} - done
    if not wanted or not database.exists():
        return []
    conn = connect(database, read_only=True)
    try:
        rows = conn.execute("select source, run_id, health_notes from crawl_runs where healthy = false and run_id in "
                            "(select unnest(?::varchar[]))", [sorted(run_id for _, run_id in wanted)]).fetchall()
    finally:
        conn.close()
    return [{"source": source, "run_id": run_id, "healthy": False, "health_notes": notes}
            for source, run_id, notes in rows if (source, run_id) in wanted]
