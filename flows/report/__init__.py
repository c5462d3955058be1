"""The weekly report: `write_report` renders one ISO week of the warehouse to HTML and Markdown.

The HTML page is self-contained (inline CSS and SVG charts, no scripts) so it opens offline and on
a phone; the Markdown is for email or chat. Both come from the SQL in warehouse/sql/report/ run
read-only against the marts. The Prefect flow `weekly_report` lives in flows.report.flow, apart,
so importing this package does not import Prefect.
"""

from __future__ import annotations

import contextlib
import errno
import os
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb

from flows.report.charts import render_charts
from flows.report.data import ReportData, load_report_data
from flows.report.render import SECTIONS, render_html, render_markdown
from flows.report.weeks import Week, default_week, latest_week_with_reviews, parse_week
from warehouse.db import connect
from warehouse.marts import refresh_stale_marts

__all__ = [
    "SECTIONS",
    "ReportData",
    "ReportPaths",
    "Week",
    "build_report_data",
    "default_week",
    "latest_week_with_reviews",
    "parse_week",
    "write_report",
]


@dataclass(frozen=True)
class ReportPaths:
    html: Path
    markdown: Path
    week: str


def build_report_data(database: Path, week: str | None = None, today: date | None = None,
                      first_written: datetime | None = None) -> ReportData:
    """The numbers of one week's report, read from the warehouse opened read-only; given when this week's first
    complete report was written, also how many of its reviews arrived since."""
    chosen = parse_week(week if week is not None else default_week(today or date.today()))
    refresh_stale_marts(database)  # after an upgrade, the report reads marts built by this version's SQL
    conn = connect(database, read_only=True)
    try:
        data = load_report_data(conn, chosen, first_written)
        data.unloaded_runs = unloaded_runs(conn, Path(database).parent)
        return data
    finally:
        conn.close()


def unloaded_runs(conn: duckdb.DuckDBPyConnection, root: Path) -> list[dict[str, str]]:
    """The runs in the landing zone that are not loaded: a load that failed, one stopped, a crawl still running.
    Their reviews are in no week's figures yet, so the report names them (a report written after a Sunday-night
    run died while loading looked complete: report-history QA)."""
    from flows.load import held_batches, pending_batches  # the load's imports, only when a report is written

    writer, held = held_batches(root)
    batches = pending_batches(conn, root) + ([writer] if writer else []) + held
    return [{"source": batch.source, "run_id": batch.run_id} for batch in batches]


def write_report(database: Path, week: str | None, out_dir: Path) -> ReportPaths:
    """Write <out_dir>/<week>.html and <week>.md; week None means the last complete ISO week.

    A bad week raises ValueError ("week must look like 2026-W47 ..."); a missing or busy warehouse
    raises warehouse.db.WarehouseError.
    """
    # A bad week fails before the warehouse is touched.
    label = parse_week(week if week is not None else default_week(date.today())).label
    out_dir = Path(out_dir)
    first = first_written(out_dir, label)
    data = build_report_data(Path(database), label, first_written=first)
    # The machine's time, as the default week and the schedules are: a week whose Sunday has ended here is complete,
    # though east of UTC its UTC Sunday may have hours to go (in UTC a Monday-morning report in Shanghai was always
    # "the week so far", and no complete one was written: review).
    generated = datetime.now().astimezone()
    html = render_html(data, render_charts(data), generated)
    markdown = render_markdown(data, generated)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = ReportPaths(html=out_dir / f"{data.week}.html", markdown=out_dir / f"{data.week}.md", week=data.week)
    publish([(paths.html, html), (paths.markdown, markdown)])
    if first is None and generated.date() > data.week_end:  # a complete week's first report
        _first_written_file(out_dir, label).write_text(generated.astimezone(UTC).isoformat(), encoding="utf-8")
    return paths


def _first_written_file(out_dir: Path, week: str) -> Path:
    return out_dir / f".{week}.first-written"


def first_written(out_dir: Path, week: str) -> datetime | None:
    """When the first report of a complete week was written to `out_dir` (kept beside it), or None. A week holds
    reviews by publication date, so a report written again later counts those that arrived since: its figures
    moved from the one sent, with no word why (report-history QA); the report now says how many arrived."""
    try:
        found = datetime.fromisoformat(_first_written_file(out_dir, week).read_text(encoding="utf-8").strip())
    except (OSError, ValueError):
        return None
    return found if found.tzinfo is not None else None


def _naming(exc: OSError, path: Path) -> OSError:
    """The same error about `path`, the file the caller asked for, rather than a .part file."""
    return OSError(exc.errno, exc.strerror or str(exc), str(path))  # OSError(errno, ...) picks the subclass


def publish(files: list[tuple[Path, str]]) -> None:
    """Write every (path, text) or none of them.

    Each text goes to <path>.part first and the .part files are renamed over their paths only when all
    are written, so a reader (a mail job, a web server) never sees half a report, nor this week's HTML
    beside last run's Markdown. When a write or a rename fails, the files already replaced get their
    old content back, every .part file is removed, and the OSError names the path asked for.
    """
    parts: list[Path] = []
    replaced: list[tuple[Path, bytes | None]] = []  # (path, its content before, None when it was new)
    try:
        for path, text in files:
            if path.is_dir():
                raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), str(path))
            partial = path.with_name(path.name + ".part")
            try:
                if not partial.is_dir():
                    parts.append(partial)
                partial.write_text(text, encoding="utf-8")
            except OSError as exc:
                raise _naming(exc, path) from exc
        for (path, _), partial in zip(files, parts, strict=True):
            try:
                before = path.read_bytes() if path.exists() else None
                partial.replace(path)
            except OSError as exc:
                raise _naming(exc, path) from exc
            replaced.append((path, before))
    except BaseException:
        for path, before in reversed(replaced):
            with contextlib.suppress(OSError):
                if before is None:
                    path.unlink()
                else:
                    restore = path.with_name(path.name + ".part")
                    restore.write_bytes(before)
                    restore.replace(path)
        for partial in parts:
            with contextlib.suppress(OSError):
                partial.unlink(missing_ok=True)
        raise
