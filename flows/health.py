"""Is a crawl run healthy? Compared with the source's own recent runs, not with fixed numbers.

The most common failure of review scrapers is silent: a site changes its markup and the scraper
returns zero reviews for weeks. A run is unhealthy when it fetched enough pages to judge and
either found no reviews, found far fewer reviews per page than the source's recent median, or a
field it used to fill (critic, film, body, rating, date) went missing. Thresholds come from the
[health] table of reviews.toml. A site that is down is no small site: a complete run whose every
request failed (errors, no page fetched), or that fetched fewer than min_pages pages with errors where
the source's healthy runs fetched enough, is unhealthy too. A run it cannot judge (stopped, killed,
resumed, or too few pages without errors) is recorded as unknown, healthy NULL, with a note saying why,
and never enters a later run's baseline.
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


def failed_downloads(run: RunInfo, rules: Health, history: list[tuple]) -> str | None:
    """Why a complete run with too few pages to judge is unhealthy all the same: its requests failed.

    A site that is down (refused connections, DNS failures, timeouts) answers no page, so it fetches
    fewer than min_pages pages; with errors that is breakage, not a small site. Every request failing
    (no page at all) is unhealthy whatever the source's past; a few pages with more errors than pages
    are unhealthy when the source's healthy runs fetched at least min_pages. (An incremental run fetches
    few pages, and one transient failure among them is no outage.)
    """
    pages, errors = run.pages or 0, run.errors or 0
    if run.finish_reason != "finished" or run.resumed or pages >= rules.min_pages or not errors:
        return None
    if pages == 0:
        return f"no page fetched: every request failed ({errors} errors); is the site down?"
    if history and errors > pages:
        usual = median(p for p, _, _ in history)
        return (f"only {pages} pages fetched, with {errors} errors, where recent healthy runs fetched "
                f"{usual:.0f}; is the site down?")
    return None


def assess(conn: duckdb.DuckDBPyConnection, run: RunInfo, scraped: int,
           rules: Health) -> tuple[bool | None, str | None]:
    """(healthy, notes) for one run about to be loaded; healthy is None (unknown) for a run that is not
    judged, with a note saying why."""
    reason = not_judged(run, rules)
    pages = run.pages or 0
    history = conn.execute(BASELINE, [run.source, rules.min_pages, rules.history]).fetchall()
    if reason:
        failed = failed_downloads(run, rules, history)
        return (False, failed) if failed else (None, reason)
    if scraped == 0:
        return False, f"no reviews on {pages} pages"
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
