"""The weekly report: `write_report` renders one ISO week of the warehouse to HTML and Markdown.

The HTML page is self-contained (inline CSS and SVG charts, no scripts) so it opens offline and on
a phone; the Markdown is for email or chat. Both come from the SQL in warehouse/sql/report/ run
read-only against the marts. The Prefect flow `weekly_report` lives in flows.report.flow, apart,
so importing this package does not import Prefect.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from flows.report.charts import render_charts
from flows.report.data import ReportData, load_report_data
from flows.report.render import SECTIONS, render_html, render_markdown
from flows.report.weeks import Week, default_week, latest_week_with_reviews, parse_week
from warehouse.db import connect

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


def build_report_data(database: Path, week: str | None = None, today: date | None = None) -> ReportData:
    """The numbers of one week's report, read from the warehouse opened read-only."""
    chosen = parse_week(week if week is not None else default_week(today or date.today()))
    conn = connect(database, read_only=True)
    try:
        return load_report_data(conn, chosen)
    finally:
        conn.close()


def write_report(database: Path, week: str | None, out_dir: Path) -> ReportPaths:
    """Write <out_dir>/<week>.html and <week>.md; week None means the last complete ISO week.

    A bad week raises ValueError ("week must look like 2026-W47 ..."); a missing or busy warehouse
    raises warehouse.db.WarehouseError.
    """
    if week is not None:
        parse_week(week)  # fail on a bad week before touching the warehouse
    data = build_report_data(Path(database), week)
    generated = datetime.now().astimezone()
    html = render_html(data, render_charts(data), generated)
    markdown = render_markdown(data, generated)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = ReportPaths(html=out_dir / f"{data.week}.html", markdown=out_dir / f"{data.week}.md", week=data.week)
    # Write then rename, so a reader (a mail job, a web server) never sees half a report.
    for path, text in ((paths.html, html), (paths.markdown, markdown)):
        partial = path.with_name(path.name + ".part")
        partial.write_text(text, encoding="utf-8")
        partial.replace(path)
    return paths
