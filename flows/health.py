"""Is a crawl run healthy? Compared with the source's own recent runs, not with fixed numbers.

The most common failure of review scrapers is silent: a site changes its markup and the scraper
returns zero reviews for weeks. A run is unhealthy when it fetched enough pages to judge and
either found no reviews, found far fewer reviews per page than the source's recent median, or a
field it used to fill (critic, film, body, rating, date) went missing. Thresholds come from the
[health] table of reviews.toml. A run it cannot judge (stopped, killed, resumed, or too few pages) is
recorded as unknown, healthy NULL, with a note saying why, and never enters a later run's baseline.
"""

from __future__ import annotations

import json
from statistics import median

import duckdb

from flows.config import Health
from warehouse.load import RunInfo

WATCHED_FIELDS = ("film_title", "critic_name", "body", "rating_raw", "published_raw")


# The baseline: the source's recent runs judged healthy. `healthy` is NULL for runs that were not
# judged, and `where healthy` drops NULL as well as false. Runs stored before unjudged runs were NULL
# (they were stored as healthy) are kept out by their finish_reason where they have one.
BASELINE = """
select pages, scraped, field_coverage from crawl_runs
where source = ? and healthy and coalesce(finish_reason, 'finished') = 'finished' and pages >= ?
order by loaded_at desc limit ?
"""


def not_judged(run: RunInfo, rules: Health) -> str | None:
    """Why a run is not judged, or None when it is. A stopped, killed or resumed crawl saw part of the
    site, and an incremental run with nothing new saw almost nothing: neither says anything about the
    site's markup."""
    pages = run.pages or 0
    if run.finish_reason != "finished":
        ended = f"ended as {run.finish_reason!r}" if run.finish_reason else "left no finish reason"
        return f"not judged: the crawl {ended}, not 'finished', so it saw only part of the site"
    if run.resumed:
        return "not judged: the crawl resumed a stopped one, so it saw only part of the site"
    if pages < rules.min_pages:
        return f"not judged: {pages} pages fetched, fewer than min_pages ({rules.min_pages})"
    return None


def assess(conn: duckdb.DuckDBPyConnection, run: RunInfo, scraped: int,
           rules: Health) -> tuple[bool | None, str | None]:
    """(healthy, notes) for one run about to be loaded; healthy is None (unknown) for a run that is not
    judged, with a note saying why."""
    reason = not_judged(run, rules)
    if reason:
        return None, reason
    pages = run.pages or 0
    if scraped == 0:
        return False, f"no reviews on {pages} pages"
    history = conn.execute(BASELINE, [run.source, rules.min_pages, rules.history]).fetchall()
    if not history:
        return True, None
    problems = []
    recent_yield = median(s / p for p, s, _ in history)
    run_yield = scraped / pages
    if run_yield < rules.min_yield_ratio * recent_yield:
        problems.append(f"{run_yield:.2f} reviews per page against a recent median of {recent_yield:.2f}")
    for name in WATCHED_FIELDS:
        usual = median(json.loads(c or "{}").get(name, 0) / s if s else 0 for _, s, c in history)
        now = run.field_coverage.get(name, 0) / scraped
        if usual >= 0.5 and now < usual - rules.max_coverage_drop:
            problems.append(f"{name} on {now:.0%} of reviews against a usual {usual:.0%}")
    return (not problems), ("; ".join(problems) or None)
