"""The Prefect flows: `pipeline` (crawl -> normalize -> load -> marts) and its parts.

Tasks are coarse on purpose: one per spider run, one per landing batch, one marts build.
A Prefect task costs milliseconds to a second, so a task per review would cost more than
the work. Only the crawl touches the network, so only the crawl retries.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from prefect import flow, get_run_logger, task
from prefect.tasks import exponential_backoff

from crawlers.landing import data_dir
from flows.crawl import run_crawl
from flows.load import Batch, load, normalize, pending_batches
from warehouse.db import connect, migrate, warehouse_path
from warehouse.marts import build_marts


@dataclass
class SourceSpec:
    """One thing to crawl: a spider and its start URLs, landing under `source`."""

    spider: str
    urls: list[str]
    source: str
    settings: dict[str, Any] = field(default_factory=dict)
    spider_args: dict[str, str] = field(default_factory=dict)


@dataclass
class PipelineResult:
    crawls: list[dict[str, Any]] = field(default_factory=list)
    loads: list[dict[str, Any]] = field(default_factory=list)
    marts: dict[str, int] = field(default_factory=dict)
    warehouse: str = ""


@task(retries=2, retry_delay_seconds=exponential_backoff(backoff_factor=2), task_run_name="crawl-{spec.source}")
def crawl_source(spec: SourceSpec, root: Path, show_progress: bool = False) -> dict[str, Any]:
    result = run_crawl(spec.spider, spec.urls, source=spec.source, data=root, settings=spec.settings,
                       spider_args=spec.spider_args, show_progress=show_progress)
    return {"spider": result.spider, "source": result.source, "run_id": result.run_id,
            "seconds": round(result.seconds, 2), **result.stats}


@task(task_run_name="load-{batch.source}-{batch.run_id}")
def normalize_and_load(batch: Batch, database: Path) -> dict[str, Any]:
    """Normalize and load one landing batch, in one write transaction."""
    conn = connect(database)
    try:
        migrate(conn)
        return load(conn, batch, normalize(conn, batch)).as_dict()
    finally:
        conn.close()


@task
def find_pending(database: Path, root: Path) -> list[Batch]:
    conn = connect(database)
    try:
        migrate(conn)
        return pending_batches(conn, root)
    finally:
        conn.close()


@task
def build_marts_task(database: Path) -> dict[str, int]:
    conn = connect(database)
    try:
        migrate(conn)
        return build_marts(conn)
    finally:
        conn.close()


@flow(name="pipeline", log_prints=False)
def pipeline(sources: list[SourceSpec], data: str | None = None, show_progress: bool = False) -> PipelineResult:
    """Crawl every source, then load every pending landing batch, then rebuild the marts."""
    logger = get_run_logger()
    root = data_dir(data).resolve()
    database = warehouse_path(root)
    result = PipelineResult(warehouse=str(database))
    for spec in sources:
        result.crawls.append(crawl_source(spec, root, show_progress))
    for batch in find_pending(database, root):
        loaded = normalize_and_load(batch, database)
        logger.info("loaded %s", loaded)
        result.loads.append(loaded)
    result.marts = build_marts_task(database)
    return result


def result_dict(result: PipelineResult) -> dict[str, Any]:
    return asdict(result)
