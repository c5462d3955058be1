"""The Prefect flow `weekly_report`: render one ISO week of the warehouse to HTML and Markdown."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from prefect import flow, get_run_logger, task
from prefect.exceptions import CancelledRun

from crawlers.landing import data_dir
from flows.crawl import sigterm_as_interrupt
from flows.errors import ReviewsError
from flows.report import write_report
from flows.report.weeks import asked_week, default_week, latest_day
from flows.served import cancelled_when_stopped, prepare_served_run, served_body, stopped_state, unless_stopped
from flows.writer import writer_slot
from warehouse.db import warehouse_path

STOPPED_REPORT = "stopped: no report was written for this week; the next run writes it"


@task(task_run_name="render-report-{week}")
@cancelled_when_stopped(STOPPED_REPORT)
def render_report(database: Path, week: str | None, out_dir: Path) -> dict[str, Any]:
    # DuckDB lets no reader in while a load writes: wait for the writer slot instead of failing.
    with writer_slot(database.parent, waiting=get_run_logger().info):
        paths = write_report(database, week, out_dir)
    return {"week": paths.week, "html": str(paths.html), "markdown": str(paths.markdown)}


def _scheduled_day() -> date:
    """The local day this run was scheduled for, or today if later: Prefect starts a scheduled run up to a
    second early, and a report scheduled for Monday 00:00 that started on Sunday at 23:59:59 wrote the week
    before last (and the last week never got one)."""
    from prefect.runtime import flow_run

    now = datetime.now(UTC)
    scheduled = flow_run.scheduled_start_time
    when = max(now, scheduled) if isinstance(scheduled, datetime) else now
    return when.astimezone().date()


@flow(name="weekly_report", log_prints=False)
def weekly_report(data: str | None = None, week: str | None = None, out: str = "reports") -> dict[str, Any]:
    """Write <out>/<week>.html and .md from the warehouse in the data folder (read-only).

    week None is the last complete ISO week. Returns {"week", "html", "markdown"}.
    """
    prepare_served_run()
    try:
        # A stop is taken as the pipeline takes it (flows/crawl.py), so a served report ends Cancelled, not Crashed.
        with served_body(), sigterm_as_interrupt():
            if week is not None:
                # A bad or future week is the caller's mistake: fail before any task runs, as `reviews report` does,
                # in one line (a ValueError was two tracebacks in serve's output: Prefect QA).
                try:
                    asked_week(week, latest_day())
                except ValueError as exc:
                    raise ReviewsError(str(exc)) from None
            else:
                week = default_week(_scheduled_day())
            database = warehouse_path(data_dir(data).resolve())
            result = unless_stopped(render_report(database, week, Path(out)))
    except (KeyboardInterrupt, CancelledRun) as exc:
        if (cancelled := stopped_state(exc, STOPPED_REPORT)) is None:
            raise
        return cancelled
    get_run_logger().info("weekly report %s: %s, %s", result["week"], result["html"], result["markdown"])
    return result
