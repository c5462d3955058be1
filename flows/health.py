"""Is a crawl run healthy? Compared with the source's own recent runs, not with fixed numbers.

The most common failure of review scrapers is silent: a site changes its markup and the scraper
returns zero reviews for weeks. A run is unhealthy when it fetched enough pages to judge and
either found no reviews, had every review it found rejected, found far fewer accepted reviews per
page (found minus rejected) than the source's recent median, fetched far fewer pages than its recent runs
without saying it found the site unchanged (lost pagination), or a field it used to fill (critic, film, body,
rating, date) went missing. Thresholds come from the [health] table of reviews.toml.

A site that is down, or whose start page moved, is no small site. A complete run is unhealthy too when
every request failed (errors, no page fetched), when it fetched fewer than min_pages pages with more errors
than pages where the source's healthy runs fetched enough, or when it fetched fewer than min_pages pages
where the source's healthy runs fetched enough and nothing in its stats says it found the site unchanged
(an incremental run that skipped sitemap entries, left known pages unfollowed or had pages answer 304).
An incremental run whose canary pages (known review pages read again, crawlers/canaries.py), two or more,
gave no accepted review, nor did any other page, is unhealthy whatever else it saw: the site changed its
markup or moved its pages and left its sitemap's dates alone.
A run it cannot judge (stopped, killed, resumed, or too few pages otherwise) is recorded as unknown,
healthy NULL, with a note saying why, and never enters a later run's baseline.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from statistics import median
from typing import Any

import duckdb

from flows.config import Health
from flows.importer import IMPORT_SPIDER
from flows.output import counted
from warehouse.load import RunInfo

# The raw fields the crawl filled, and the ratings and dates the normalizer could read (flows/load.py readings).
WATCHED_FIELDS = ("film_title", "critic_name", "body", "rating_raw", "published_raw", "ratings_read", "dates_read")
FEED_SPIDER = "feed"
READ_FROM = {"ratings_read": "rating_raw", "dates_read": "published_raw"}


# The baseline: the source's recent runs judged healthy. `healthy` is NULL for runs that were not
# judged, and `where healthy` drops NULL as well as false. Runs stored before unjudged runs were NULL
# (they were stored as healthy) are kept out by their finish_reason where they have one.
# A full crawl (flows/incremental.py full_crawl_due) is judged against the source's full crawls: it reads the
# pages without reviews that incremental runs skip (film and critic pages linked from known reviews), so its
# reviews per page are lower, and against incremental runs it looked broken (review).
_LIKE_RUNS = "and (not ? or full_crawl is not false)"
BASELINE = f"""
select pages, scraped, coalesce(rejected, 0), field_coverage from crawl_runs
where source = ? and healthy and coalesce(finish_reason, 'finished') = 'finished'
    and (pages >= ? or (spider = '{FEED_SPIDER}' and scraped >= ?))  -- a feed is judged on its entries (not_judged)
    and coalesce(errors, 0) <= pages  -- judged healthy by versions that let mostly failed first runs pass
    {_LIKE_RUNS}
order by loaded_at desc limit ?
"""


# The pages of the source's recent judged runs, healthy or not, that did not find the site unchanged: an
# incremental run with nothing new fetches few pages by design and says so (fewer_pages).
RECENT_PAGES = f"""
select pages from crawl_runs
where source = ? and healthy is not null and coalesce(finish_reason, 'finished') = 'finished' and pages >= ?
    and site_unchanged is not true and coalesce(errors, 0) <= pages {_LIKE_RUNS}
order by loaded_at desc limit ?
"""


def not_judged(run: RunInfo, rules: Health, scraped: int = 0) -> str | None:
    """Why a run is not judged, or None when it is. A stopped, killed or resumed crawl saw part of the
    site, and an incremental run with nothing new saw almost nothing: neither says anything about the
    site's markup. A feed fetches one page a run: it is judged when it gave at least min_pages entries."""
    pages = run.pages or 0
    if run.spider == IMPORT_SPIDER:
        return "not judged: an import of a file (flows/importer.py), not a crawl"
    if run.finish_reason != "finished":
        ended = f"ended as {run.finish_reason!r}" if run.finish_reason else "left no finish reason"
        return f"not judged: the crawl {ended}, not 'finished', so it saw only part of the site"
    if run.resumed:
        return "not judged: the crawl resumed a stopped one, so it saw only part of the site"
    if run.spider == FEED_SPIDER and scraped >= rules.min_pages:
        return None  # one page by nature: its entries say whether it still reads (site-drift QA)
    if pages < rules.min_pages:
        return f"not judged: {counted(pages, 'page')} fetched, fewer than min_pages ({rules.min_pages})"
    return None


def likely_cause(stats: Mapping[str, Any] | None) -> str:
    """The question a failed run's note ends with, from how its requests failed (crawlers/extensions.py): "is the
    site down?" was asked of a site rate-limiting, one whose robots.txt failed, and a redirect loop (diagnosis QA)."""
    failed = (stats or {}).get("failed_requests")
    failed = failed if isinstance(failed, Mapping) else {}
    if failed.get("robots_unreachable"):
        return ("its robots.txt could not be fetched (an error status or no answer), which forbids the whole site "
                "(RFC 9309); is the site down?")
    if not failed.get("no_answer"):
        if failed.get("error_status_after_retries"):
            return "it answered error statuses (429, 5xx) after every retry; is it rate-limiting or failing?"
        if failed.get("dropped"):
            return ("its answers were dropped before the spider (a redirect loop, or a page over the size limit: see "
                    "the crawl log's stats)")
    return "is the site down?"


def failed_downloads(run: RunInfo, history: list[tuple], stats: Mapping[str, Any] | None = None) -> str | None:
    """Why a complete run with too few pages to judge is unhealthy all the same: its requests failed.

    A site that is down (refused connections, DNS failures, timeouts) answers no page, so it fetches
    fewer than min_pages pages; with errors that is breakage, not a small site. Every request failing
    (no page at all) is unhealthy whatever the source's past; a few pages with more errors than pages
    are unhealthy when the source's healthy runs fetched at least min_pages. (An incremental run fetches
    few pages, and one transient failure among them is no outage.)
    """
    pages, errors = run.pages or 0, run.errors or 0
    if not errors:
        return None
    if pages == 0:
        return f"no page fetched: every request failed ({counted(errors, 'error')}); {likely_cause(stats)}"
    if history and errors > pages:
        usual = median(row[0] for row in history)
        return (f"only {counted(pages, 'page')} fetched, with {counted(errors, 'error')}, where recent healthy "
                f"runs fetched {usual:.0f}; {likely_cause(stats)}")
    return None


# Stats (crawlers/extensions.py, "incremental") that show a run reached the site and found it unchanged: canaries
# that gave reviews too (a sitemap of this week's pages only skips nothing, and its quiet weeks were unhealthy).
UNCHANGED_SIGNS = ("sitemap_entries_skipped", "pages_not_followed", "pages_unchanged", "canary_reviews")


def found_site_unchanged(stats: Mapping[str, Any] | None) -> bool | None:
    """Whether the run's stats show it saw the site and found it unchanged: sitemap entries skipped as not
    modified since the last complete crawl, pages whose reviews were all known (their links not followed),
    or pages the server answered 304. None when the stats do not say (written before they counted this)."""
    signs = _incremental(stats)
    if signs is None:
        return None
    if (stats or {}).get("full_crawl") is True:  # it skipped nothing: its 304s were read from the cache in full
        return False
    return any(isinstance(signs.get(name), int) and signs[name] > 0 for name in UNCHANGED_SIGNS)


def _incremental(stats: Mapping[str, Any] | None) -> Mapping[str, Any] | None:
    """The incremental counts of a run's stats (crawlers/extensions.py); None in stats written before them."""
    signs = (stats or {}).get("incremental")
    return signs if isinstance(signs, Mapping) else None


def fewer_pages(run: RunInfo, recent_pages: list[int], rules: Health, stats: Mapping[str, Any] | None) -> str | None:
    """Why a run that fetched enough pages to judge is unhealthy all the same: far fewer pages than the source's
    recent judged runs, and nothing in its stats says it found the site unchanged. A redesign that renames the
    "next page" link or the links to the films leaves the reviews per page as they were and quietly loses the
    rest of the site. (An incremental run fetches few pages too, but says so: found_site_unchanged.) The
    recent runs include those flagged by this rule, so a source made smaller on purpose (fewer start URLs, an
    archive the site dropped) is flagged until most of its recent runs are that size, not for ever."""
    if not recent_pages or found_site_unchanged(stats) is not False:
        return None
    usual = median(recent_pages)
    pages = run.pages or 0
    if pages >= rules.min_yield_ratio * usual:
        return None
    return (f"only {counted(pages, 'page')} fetched against a recent median of {usual:.0f}, and no sign the site was "
            "unchanged: did its pagination or links change?")


def canaries_silent(stats: Mapping[str, Any] | None, accepted: int) -> str | None:
    """Why a run is unhealthy whose canary pages (known review pages an incremental run reads again,
    crawlers/canaries.py), two or more, gave no accepted review, nor did any other page of the run: the site
    changed its markup, or moved its pages, without changing its sitemap's dates. One silent canary, or silent
    canaries beside pages that still give reviews, are pages whose reviews were taken down, not a relaunch."""
    signs = _incremental(stats)
    if signs is None or accepted > 0:
        return None
    pages, reviews = signs.get("canary_pages"), signs.get("canary_reviews")
    if not isinstance(pages, int) or pages < 2 or not isinstance(reviews, int) or reviews > 0:
        return None
    missing = signs.get("canary_missing")
    gone = f" ({missing} answered 404 or 410)" if isinstance(missing, int) and missing else ""
    return (f"{counted(pages, 'page')} that gave reviews before, read again to check the site, gave none now{gone}: "
            "did its markup change, or its pages move? (`reviews run --full` reads it all again)")


def stopped_producing(run: RunInfo, history: list[tuple], stats: Mapping[str, Any] | None) -> str | None:
    """Why a complete run with fewer than min_pages pages is unhealthy even without more errors than pages:
    the source's healthy runs fetched at least min_pages. A sitemap that turned into an HTML page or a 404,
    a start page that answers 404 or redirects off the site fetch 0 or 1 pages without a failed request. An
    incremental run with nothing new fetches few pages too, but says so in its stats (found_site_unchanged);
    a run whose stats do not say either way (written before they counted this) is left unjudged."""
    if not history or found_site_unchanged(stats) is not False:
        return None
    usual = median(row[0] for row in history)
    forbidden = (stats or {}).get("robots_forbidden")
    if isinstance(forbidden, int) and forbidden > 0:  # the site's robots.txt now shuts this crawler out
        return (f"only {counted(run.pages or 0, 'page')} fetched where recent healthy runs fetched {usual:.0f}: "
                f"robots.txt forbade {counted(forbidden, 'request')}; has the site disallowed this crawler?")
    return (f"only {counted(run.pages or 0, 'page')} fetched where recent healthy runs fetched {usual:.0f}; "
            f"is the site down or its start page moved?")


def only_error_statuses(stats: Mapping[str, Any] | None) -> str | None:
    """Why a complete run whose every answer had an error status is unhealthy, even as a source's first: a
    mistyped start URL or sitemap answers 404, and such a run ended with exit 0 and "not judged: 0 pages"
    (config QA). Stats written before they counted answers say nothing."""
    answers, ok = (stats or {}).get("answers"), (stats or {}).get("answers_ok")
    if not isinstance(answers, int) or not answers or ok != 0:
        return None
    return (f"every answer was an error status ({counted(answers, 'answer')}, none under 400); is the start URL "
            "right?")


def judged_yield(accepted: int, pages: int, stats: Mapping[str, Any] | None, rules: Health) -> tuple[int, int]:
    """(accepted reviews, pages) the reviews per page are judged on. Left out: pages answered 404 or 410
    (deleted reviews: nothing to read, and a quiet week's deletions read as broken markup) and retried pages that
    were silent again (reviews taken down). The canaries, known pages read again, are left out too when at least
    min_pages other pages remain: their reviews hid new pages that gave none."""
    signs = _incremental(stats) or {}

    def count(name: str) -> int:
        value = signs.get(name)
        return value if isinstance(value, int) else 0

    gone = max(0, count("pages_gone") - count("canary_missing"))  # a canary's 404 is counted among the canaries
    pages -= gone + count("retried_silent")
    if pages - count("canary_pages") >= rules.min_pages:
        return accepted - count("canary_reviews"), pages - count("canary_pages")
    return accepted, max(0, pages)


CHANCE = 0.01  # a coverage drop as likely as this by chance alone is no breakage


def by_chance(filled: int, reviews: int, usual: float) -> bool:
    """Whether `filled` of `reviews` is a plausible draw when each review fills the field with the source's usual
    share (binomial, P(X <= filled) >= CHANCE): 3 of a 10-entry feed rated, where 60% usually are, happens in
    about one week in twenty (health QA). A field always filled (usual 100%) has no chance of a miss: strict."""
    if reviews > 200 or usual >= 1:  # past a couple of hundred, a drop of max_coverage_drop is never chance
        return False
    below = sum(math.comb(reviews, k) * usual**k * (1 - usual) ** (reviews - k) for k in range(filled + 1))
    return below >= CHANCE


def all_rejected(scraped: int, rejected: int, pages: int | None = None) -> str | None:
    """Why a run that found reviews is unhealthy when it refused every one, also when it is too small to judge
    otherwise (with at least min_pages reviews: a feed whose 12 entries lost their film ended "not judged")."""
    if not scraped or rejected < scraped:
        return None
    on = f" on {counted(pages, 'page')}" if pages is not None else ""
    return f"no review accepted{on}: all {scraped} found were rejected"


def ratings_unread(coverage: Mapping[str, int], scraped: int, spider: str | None = None) -> str | None:
    """Why a site profile's run whose reviews mostly have a rating, none of which could be read, is unhealthy: a
    profile without its [rating_scale] (bare numbers), a rating selector on the wrong element. Judged on every
    run, the first included: no earlier run is a yardstick for a rating that was never read (site QA: such a first
    run was healthy, and every review went unscored without a word). Only profiles: the user can mend one, while
    a schema_org or feed source publishing an unreadable scale would be unhealthy for good (review)."""
    rated, read = coverage.get("rating_raw", 0), coverage.get("ratings_read")
    if spider != "profile" or read != 0 or rated < 5 or 2 * rated < scraped:
        return None
    return (f"{rated} of {scraped} reviews have a rating and none could be read (reviews.rating_problem says why): "
            "give the site profile its [rating_scale], or leave the rating out")


def assess(conn: duckdb.DuckDBPyConnection, run: RunInfo, scraped: int, rules: Health, rejected: int = 0,
           stats: Mapping[str, Any] | None = None) -> tuple[bool | None, str | None]:
    """(healthy, notes) for one run about to be loaded; healthy is None (unknown) for a run that is not
    judged, with a note saying why.

    `scraped` counts the run's items, `rejected` those of them the crawler or the normalizer refused (so
    scraped - rejected reviews are accepted), and `stats` is the run's stats file (crawlers/extensions.py).
    """
    reason = not_judged(run, rules, scraped)
    pages = run.pages or 0
    history = conn.execute(BASELINE, [run.source, rules.min_pages, rules.min_pages, run.full_crawl is True,
                                      rules.history]).fetchall()
    silent = canaries_silent(stats, scraped - rejected)
    if silent and run.spider != IMPORT_SPIDER:
        # Judged whatever else the run saw: an incremental run that found nothing new fetches few pages.
        return False, silent
    if reason and run.spider == IMPORT_SPIDER:
        # An import says what it landed and refused itself; judged, a dump whose rows were all refused made the
        # command exit 3 with a Prefect warning, even quiet (lineage QA).
        return None, reason
    if reason:
        # A complete run is not judged only for having too few pages: a site down or moved looks so too.
        complete = run.finish_reason == "finished" and not run.resumed
        # The rules that weigh pages against the source's past, against runs that fetched enough to judge: a feed's
        # healthy runs (one page each) made a short week of its feed "only 1 page fetched where recent healthy
        # runs fetched 1" (review).
        paged = [row for row in history if row[0] >= rules.min_pages]
        failed = complete and (failed_downloads(run, paged, stats) or only_error_statuses(stats)
                               or stopped_producing(run, paged, stats)
                               or (scraped >= rules.min_pages and all_rejected(scraped, rejected)))
        return (False, failed) if failed else (None, reason)
    if (run.errors or 0) > pages:
        # Most of its requests failed: a site that went down mid-crawl, or a crawl that outlived its run and
        # then its site. Judged so even as a source's first run, or it would be the yardstick of the next ones.
        return False, (f"{counted(run.errors or 0, 'request')} failed against {counted(pages, 'page')} fetched; "
                       "was the site down?")
    if scraped == 0:
        return False, f"no reviews on {counted(pages, 'page')}"
    accepted = scraped - rejected
    if accepted <= 0:
        return False, all_rejected(scraped, rejected, pages)
    unread = ratings_unread(run.field_coverage, scraped, run.spider)
    if not history:
        return (False, unread) if unread else (True, None)
    problems = [unread] if unread else []
    recent = conn.execute(RECENT_PAGES, [run.source, rules.min_pages, run.full_crawl is True, rules.history]).fetchall()
    recent_pages = [row[0] for row in recent]
    shrunk = fewer_pages(run, recent_pages, rules, stats)
    if shrunk:
        problems.append(shrunk)
    recent_yield = median((s - r) / p for p, s, r, _ in history)
    judged_accepted, judged_pages = judged_yield(accepted, pages, stats, rules)
    run_yield = judged_accepted / judged_pages if judged_pages else recent_yield
    # A feed's length is its publisher's choice (the last 7 days, a slow week): per page it says nothing.
    if run.spider != FEED_SPIDER and run_yield < rules.min_yield_ratio * recent_yield:
        rejects = f" ({rejected} of {scraped} found were rejected)" if rejected else ""
        problems.append(f"{run_yield:.2f} reviews per page against a recent median of {recent_yield:.2f}{rejects}")
    dropped = {"rating_raw"} if unread else set()  # said once: no ratings_read drop note beside it
    for name in WATCHED_FIELDS:
        usual = median(json.loads(c or "{}").get(name, 0) / s if s else 0 for _, s, _, c in history)
        filled = run.field_coverage.get(name, 0)
        now = filled / scraped
        if usual >= 0.5 and now < usual - rules.max_coverage_drop and READ_FROM.get(name) not in dropped \
                and not by_chance(filled, scraped, usual):
            dropped.add(name)  # a rating gone is also a rating not read: said once
            problems.append(f"{name} on {now:.0%} of reviews against a usual {usual:.0%}")
    return (not problems), ("; ".join(problems) or None)
