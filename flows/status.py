"""What `reviews status` and `reviews sources` report: last runs, health, sizes, pending batches."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from crawlers.landing import being_written, run_paths
from flows.config import Config
from flows.load import held_runs, landing_batches
from warehouse.db import WarehouseBusy, connect, missing, warehouse_path
from warehouse.marts import marts_current
from warehouse.queries import run_sql

CORE_TABLES = ("films", "critics", "reviews", "review_keys", "crawl_runs", "rejects")
LAST_RUNS = """
select source, run_id, spider, started, finished, pages, scraped, loaded, duplicates, rejected, errors, healthy,
    health_notes, finish_reason, duration_seconds
from crawl_runs
qualify row_number() over (partition by source order by loaded_at desc) = 1
order by source
"""


def _rows(conn: Any, sql: str) -> list[dict[str, Any]]:
    columns, rows = run_sql(conn, sql)
    return [dict(zip(columns, row, strict=True)) for row in rows]


def status(root: Path) -> dict[str, Any]:
    """The status report; raises WarehouseError when there is no warehouse yet, as `reviews sql` and
    `reviews report` do, rather than report an empty one that does not exist."""
    database = warehouse_path(root)
    if not database.exists():
        waiting = len(landing_batches(root))
        hint = f" ({waiting} landing batches wait to be loaded)" if waiting else ""
        raise missing(database, hint)
    report: dict[str, Any] = {"data_dir": str(root), "warehouse": str(database),
                              "warehouse_bytes": database.stat().st_size, "busy": None,
                              "tables": {}, "last_runs": [], "pending_batches": []}
    try:
        with connect(database, read_only=True) as conn:
            report["tables"] = {t: conn.execute(f"select count(*) from {t}").fetchall()[0][0] for t in CORE_TABLES}
            report["last_runs"] = _rows(conn, LAST_RUNS)
            loaded = set(conn.execute("select source, run_id from crawl_runs").fetchall())
            report["marts_current"] = marts_current(conn)
    except WarehouseBusy as exc:
        # A run is loading: what only the warehouse knows (runs, rows, pending batches) is unknown, null; the
        # batches waiting behind a crawl and killed imports are still reported (output QA: a monitoring script
        # polling `status --json` got exit 2 and no JSON exactly then).
        report.update(busy=str(exc), tables=None, last_runs=None, pending_batches=None, marts_current=None)
    else:
        report["pending_batches"] = [{"source": b.source, "run_id": b.run_id, "path": str(b.items)}
                                     for b in landing_batches(root) if (b.source, b.run_id) not in loaded]
    report["waiting_batches"] = held_runs(root)
    # A killed import's part file: nothing loads it, and only the next import into its source removes it (crash QA:
    # it was mentioned nowhere).
    report["killed_imports"] = [
        str(path) for path in sorted((root / "raw").glob("*/*.jsonl.part"))
        if not being_written(run_paths(root, path.parent.name, path.name.removesuffix(".jsonl.part"))["lock"])]
    return report


def sources(config: Config, root: Path) -> tuple[list[dict[str, Any]], str | None]:
    """The configured sources with their last run (with no warehouse yet, none has run), and why the last runs
    are unknown, if they are: a run writing the warehouse does not hide what the config says (output QA: `sources
    --json` during a load was exit 2 and no JSON)."""
    last: dict[str, dict[str, Any]] = {}
    busy = None
    if warehouse_path(root).exists():
        try:
            with connect(warehouse_path(root), read_only=True) as conn:
                last = {run["source"]: run for run in _rows(conn, LAST_RUNS)}
        except WarehouseBusy as exc:
            busy = str(exc)
    return [{"name": s.name, "spider": s.spider, "profile": s.profile, "urls": s.urls, "schedule": s.schedule,
             "last_run": last.get(s.name)} for s in config.sources], busy
