"""Health of crawl runs: runs the check cannot judge are stored as unknown (NULL) with the reason, and
stay out of the baseline later runs are judged against."""

from __future__ import annotations

import json
import socket
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from flows.cli import app
from flows.config import Health
from flows.crawl import run_crawl
from flows.health import assess
from flows.load import Batch, landing_batches, load, normalize
from tests.flows.test_normalize_batch import item
from tests.flows.test_revalidation import StaticSite, review_page
from warehouse.db import open_writer
from warehouse.load import RunInfo

RULES = Health(history=5, min_pages=5, min_yield_ratio=0.5, max_coverage_drop=0.25)


def add_run(conn: duckdb.DuckDBPyConnection, run_id: str, pages: int, scraped: int, healthy: bool | None,
            finish_reason: str | None = "finished", site_unchanged: bool | None = None,
            full_crawl: bool | None = None) -> None:
    conn.execute("insert into crawl_runs by name select ? as run_id, 'demo' as source, ? as pages, ? as scraped, "
                 "? as loaded, 0 as updated, 0 as duplicates, 0 as rejected, '{}' as field_coverage, "
                 "? as healthy, ? as finish_reason, now() + to_seconds(?) as loaded_at, ? as site_unchanged, "
                 "? as full_crawl",
                 [run_id, pages, scraped, scraped, healthy, finish_reason, len(run_id), site_unchanged, full_crawl])


def run(pages: int = 10, finish_reason: str = "finished", resumed: bool = False) -> RunInfo:
    return RunInfo("new", "demo", pages=pages, finish_reason=finish_reason, resumed=resumed)


def test_a_stopped_run_is_unknown_with_a_note_saying_why(conn: duckdb.DuckDBPyConnection) -> None:
    assert assess(conn, run(finish_reason="shutdown"), 0, RULES) == (
        None, "not judged: the crawl ended as 'shutdown', not 'finished', so it saw only part of the site")


def test_a_resumed_run_is_unknown_with_a_note_saying_why(conn: duckdb.DuckDBPyConnection) -> None:
    healthy, notes = assess(conn, run(resumed=True), 50, RULES)
    assert healthy is None and notes.startswith("not judged: the crawl resumed a stopped one")


def test_a_run_with_fewer_than_min_pages_is_unknown_with_a_note_saying_why(conn: duckdb.DuckDBPyConnection) -> None:
    assert assess(conn, run(pages=3), 0, RULES) == (
        None, "not judged: 3 pages fetched, fewer than min_pages (5)")


def test_unjudged_runs_stay_out_of_the_baseline(conn: duckdb.DuckDBPyConnection) -> None:
    add_run(conn, "a", pages=10, scraped=100, healthy=True)  # 10 reviews per page
    for run_id in ("bb", "ccc", "dddd"):  # later, unjudged, 1 review per page: would drag the median to 1
        add_run(conn, run_id, pages=10, scraped=10, healthy=None, finish_reason="shutdown")
    healthy, notes = assess(conn, run(pages=10), 40, RULES)
    assert healthy is False and "against a recent median of 10.00" in notes


def test_stopped_runs_stored_as_healthy_before_this_change_stay_out_of_the_baseline(
        conn: duckdb.DuckDBPyConnection) -> None:
    add_run(conn, "a", pages=10, scraped=100, healthy=True)
    for run_id in ("bb", "ccc", "dddd"):
        add_run(conn, run_id, pages=10, scraped=10, healthy=True, finish_reason="shutdown")
    assert assess(conn, run(pages=10), 40, RULES)[0] is False


def test_an_unjudged_run_is_stored_as_null_and_status_shows_it_as_unknown(tmp_path: Path) -> None:
    folder = tmp_path / "raw" / "demo"
    folder.mkdir(parents=True)
    batch = Batch("demo", "run-1", folder / "run-1.jsonl")
    batch.items.write_text(json.dumps(item()) + "\n", encoding="utf-8")
    batch.stats.write_text(json.dumps({"spider": "feed", "pages": 20, "finish_reason": "shutdown"}), encoding="utf-8")
    with open_writer(tmp_path / "reviews.duckdb") as conn:
        load(conn, batch, normalize(conn, batch))
    result = CliRunner().invoke(app, ["status", "--json", "--data-dir", str(tmp_path)])
    (last,) = json.loads(result.stdout)["last_runs"]
    assert last["healthy"] is None and last["health_notes"].startswith("not judged: the crawl ended as 'shutdown'")


def failed(pages: int, errors: int | None, finish_reason: str = "finished", resumed: bool = False) -> RunInfo:
    return RunInfo("new", "demo", pages=pages, errors=errors, finish_reason=finish_reason, resumed=resumed)


def test_a_run_where_every_request_failed_is_unhealthy_even_without_history(conn: duckdb.DuckDBPyConnection) -> None:
    healthy, notes = assess(conn, failed(pages=0, errors=4), 0, RULES)
    assert healthy is False and notes == "no page fetched: every request failed (4 errors); is the site down?"


@pytest.mark.parametrize(("failed_requests", "asked"), [
    ({"no_answer": 1}, "is the site down?"),
    ({"error_status_after_retries": 1}, "it answered error statuses (429, 5xx) after every retry; is it "
                                        "rate-limiting or failing?"),
    ({"robots_unreachable": 1, "dropped": 1}, "its robots.txt could not be fetched (an error status or no answer), "
                                              "which forbids the whole site (RFC 9309); is the site down?"),
    ({"dropped": 1}, "its answers were dropped before the spider (a redirect loop, or a page over the size limit: "
                     "see the crawl log's stats)"),
])
def test_a_failed_run_asks_about_how_its_requests_failed_not_always_about_a_site_down(
        conn: duckdb.DuckDBPyConnection, failed_requests: dict, asked: str) -> None:
    # A site answering 429 to everything, one whose robots.txt failed and a redirect loop all read "is the site
    # down?", though the stats said otherwise (diagnosis QA).
    healthy, notes = assess(conn, failed(pages=0, errors=1), 0, RULES, stats={"failed_requests": failed_requests})
    assert healthy is False and notes == f"no page fetched: every request failed (1 error); {asked}"


def test_a_run_with_few_pages_and_errors_after_healthy_runs_is_unhealthy(conn: duckdb.DuckDBPyConnection) -> None:
    add_run(conn, "a", pages=12, scraped=100, healthy=True)
    healthy, notes = assess(conn, failed(pages=2, errors=6), 10, RULES)
    assert healthy is False
    assert notes.startswith("only 2 pages fetched, with 6 errors, where recent healthy runs fetched 12;")


def test_a_judged_run_whose_requests_mostly_failed_is_unhealthy_even_as_the_first(conn: duckdb.DuckDBPyConnection
                                                                                    ) -> None:
    # A crawl that outlived its killed run, then its site: judged healthy, it made the next full crawl's yield
    # look like a collapse (QA of upgrades).
    assert assess(conn, failed(pages=44, errors=277), 120, RULES) == (
        False, "277 requests failed against 44 pages fetched; was the site down?")
    assert assess(conn, failed(pages=44, errors=3), 120, RULES) == (True, None)
    # Such a run stored as healthy by an earlier version is no yardstick: the next full crawl is healthy.
    add_run(conn, "leftover", pages=44, scraped=150, healthy=True)
    conn.execute("update crawl_runs set errors = 277 where run_id = 'leftover'")
    assert assess(conn, failed(pages=476, errors=0), 300, RULES) == (True, None)


def test_a_small_site_without_errors_or_a_past_stays_not_judged(conn: duckdb.DuckDBPyConnection) -> None:
    assert assess(conn, failed(pages=2, errors=0), 10, RULES)[0] is None  # a small site
    assert assess(conn, failed(pages=2, errors=3), 10, RULES)[0] is None  # no healthy runs to say it is bigger
    add_run(conn, "a", pages=12, scraped=100, healthy=True)
    assert assess(conn, failed(pages=0, errors=0), 0, RULES)[0] is None  # an incremental run with nothing new
    assert assess(conn, failed(pages=3, errors=2), 10, RULES)[0] is None  # a transient failure in a small run
    assert assess(conn, failed(pages=0, errors=4, finish_reason="shutdown"), 0, RULES)[0] is None
    assert assess(conn, failed(pages=0, errors=4, resumed=True), 0, RULES)[0] is None


def test_a_crawl_of_a_site_that_is_down_is_recorded_unhealthy(tmp_path: Path) -> None:
    with socket.socket() as probe:  # a port nothing listens on: every connection is refused
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    result = run_crawl("schema_org", [f"http://127.0.0.1:{port}/index.html"], source="site", data=tmp_path,
                       settings={"RETRY_TIMES": 1}, show_progress=False, resumable=True)
    assert (result.stats["pages"], result.stats["finish_reason"]) == (0, "finished") and result.stats["errors"] > 0
    (batch,) = landing_batches(tmp_path)
    with open_writer(tmp_path / "reviews.duckdb") as conn:
        _, run = load(conn, batch, normalize(conn, batch))
    assert run.healthy is False and run.health_notes.startswith("no page fetched: every request failed")


# A source that stops producing without a failed request: a run with too few pages, after healthy runs, is
# unhealthy unless its stats show an incremental run that found the site unchanged.
NOTHING_UNCHANGED = {"incremental": {"sitemap_entries_skipped": 0, "pages_not_followed": 0, "pages_unchanged": 0}}


@pytest.mark.parametrize("pages", [0, 1])
def test_a_complete_run_with_few_pages_and_no_errors_after_healthy_runs_is_unhealthy(
        conn: duckdb.DuckDBPyConnection, pages: int) -> None:
    # 0 pages: the sitemap is a soft-404 page or a 404, the start page redirects off the site; 1: it answers 404.
    add_run(conn, "a", pages=8, scraped=80, healthy=True)
    assert assess(conn, failed(pages=pages, errors=0), 0, RULES, stats=NOTHING_UNCHANGED) == (
        False, f"only {pages} page{'' if pages == 1 else 's'} fetched where recent healthy runs fetched 8; "
               "is the site down or its start page moved?")


def test_a_run_that_robots_txt_shut_out_says_so_not_that_the_site_is_down(conn: duckdb.DuckDBPyConnection) -> None:
    add_run(conn, "a", pages=8, scraped=80, healthy=True)
    assert assess(conn, failed(pages=0, errors=0), 0, RULES, stats=NOTHING_UNCHANGED | {"robots_forbidden": 1}) == (
        False, "only 0 pages fetched where recent healthy runs fetched 8: robots.txt forbade 1 request; has the "
               "site disallowed this crawler?")


@pytest.mark.parametrize("sign", ["sitemap_entries_skipped", "pages_not_followed", "pages_unchanged"])
def test_an_incremental_run_that_found_the_site_unchanged_stays_not_judged(
        conn: duckdb.DuckDBPyConnection, sign: str) -> None:
    add_run(conn, "a", pages=8, scraped=80, healthy=True)
    stats = {"incremental": NOTHING_UNCHANGED["incremental"] | {sign: 3}}
    assert assess(conn, failed(pages=1, errors=0), 10, RULES, stats=stats) == (
        None, "not judged: 1 page fetched, fewer than min_pages (5)")


def test_a_small_run_without_a_healthy_past_or_with_older_stats_is_not_flagged_as_stopped(
        conn: duckdb.DuckDBPyConnection) -> None:
    assert assess(conn, failed(pages=1, errors=0), 10, RULES, stats=NOTHING_UNCHANGED)[0] is None  # a small site
    add_run(conn, "a", pages=8, scraped=80, healthy=True)
    assert assess(conn, failed(pages=1, errors=0), 10, RULES, stats={"pages": 1})[0] is None  # stats before the counts
    assert assess(conn, failed(pages=1, errors=0, finish_reason="shutdown"), 10, RULES,
                  stats=NOTHING_UNCHANGED)[0] is None
    assert assess(conn, failed(pages=1, errors=0, resumed=True), 10, RULES, stats=NOTHING_UNCHANGED)[0] is None


@pytest.fixture(scope="module")
def sitemap_site(tmp_path_factory: pytest.TempPathFactory):
    """Six review pages listed in a sitemap, last modified a month ago; and a sitemap turned into an HTML page."""
    site = StaticSite(tmp_path_factory.mktemp("www"))
    pages = [f"film-{i}.html" for i in range(6)]
    for i, page in enumerate(pages):
        site.write(page, review_page(f"Film {i}", [f"r{i}"]), 30)
    lastmod = (datetime.now(UTC) - timedelta(days=30)).date().isoformat()
    entries = "".join(f"<url><loc>{site.url}{page}</loc><lastmod>{lastmod}</lastmod></url>" for page in pages)
    site.write("sitemap.xml", f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{entries}</urlset>', 30)
    site.write("moved/sitemap.xml", "<html><body><h1>Page not found</h1></body></html>", 1)
    yield site
    site.server.shutdown()
    site.server.server_close()


def crawl_after_a_healthy_run(site: StaticSite, path: str, root: Path, state: dict | None = None) -> RunInfo:
    """Crawl `path` of the site and load the run into a warehouse whose last run of the source fetched 6 pages."""
    args = {}
    if state is not None:
        (root / "state.json").write_text(json.dumps(state), encoding="utf-8")
        args["state"] = str(root / "state.json")
    run_crawl("schema_org", [site.url + path], source="demo", data=root, spider_args=args, show_progress=False,
              settings={"AUTOTHROTTLE_ENABLED": False, "DOWNLOAD_DELAY": 0})
    (batch,) = landing_batches(root)
    with open_writer(root / "reviews.duckdb") as conn:
        add_run(conn, "a", pages=6, scraped=6, healthy=True)
        return load(conn, batch, normalize(conn, batch))[1]


def test_a_sitemap_turned_into_an_html_page_after_healthy_runs_is_recorded_unhealthy(sitemap_site, tmp_path) -> None:
    run = crawl_after_a_healthy_run(sitemap_site, "moved/sitemap.xml", tmp_path)
    assert (run.pages, run.errors, run.healthy) == (0, 0, False)
    assert run.health_notes.startswith("only 0 pages fetched where recent healthy runs fetched 6")


def test_an_incremental_run_that_skipped_every_unchanged_sitemap_entry_is_not_flagged(sitemap_site, tmp_path) -> None:
    since = {"since": datetime.now(UTC).isoformat()}  # the last complete crawl: after every lastmod
    run = crawl_after_a_healthy_run(sitemap_site, "sitemap.xml", tmp_path, state=since)
    assert (run.pages, run.errors, run.healthy) == (0, 0, None)
    assert run.health_notes == "not judged: 0 pages fetched, fewer than min_pages (5)"


# Health judges the reviews a run gave the warehouse, not the items it found.
def test_a_run_whose_every_review_was_rejected_at_load_is_unhealthy(tmp_path: Path) -> None:
    folder = tmp_path / "raw" / "demo"
    folder.mkdir(parents=True)
    batch = Batch("demo", "run-1", folder / "run-1.jsonl")
    items = [item(source_review_id=f"r{i}", url=f"https://x/review/{i}/", critic_name=None) for i in range(4)]
    batch.items.write_text("".join(json.dumps(i) + "\n" for i in items), encoding="utf-8")
    batch.stats.write_text(json.dumps({"spider": "schema_org", "pages": 10, "errors": 0, "finish_reason": "finished"}),
                           encoding="utf-8")
    with open_writer(tmp_path / "reviews.duckdb") as conn:
        result, run = load(conn, batch, normalize(conn, batch))
    assert (result.scraped, result.rejected, result.loaded) == (4, 4, 0)
    assert (run.healthy, run.health_notes) == (False, "no review accepted on 10 pages: all 4 found were rejected")


def test_a_full_crawl_is_judged_against_full_crawls_not_the_incremental_runs_between(
        conn: duckdb.DuckDBPyConnection) -> None:
    # Review: a full crawl reads the film and critic pages incremental runs skip, so it has fewer reviews per
    # page; judged against them it was unhealthy, and every later run was a full crawl judged so again.
    add_run(conn, "a", pages=36, scraped=20, healthy=True, full_crawl=True)
    for run_id in ("bb", "ccc", "dddd"):
        add_run(conn, run_id, pages=17, scraped=20, healthy=True, full_crawl=False)
    full = RunInfo("new", "demo", pages=36, finish_reason="finished", full_crawl=True)
    assert assess(conn, full, 20, RULES, stats=NOTHING_UNCHANGED | {"full_crawl": True}) == (True, None)
    incremental = RunInfo("new", "demo", pages=17, finish_reason="finished", full_crawl=False)
    assert assess(conn, incremental, 8, RULES, stats=NOTHING_UNCHANGED)[0] is False  # 0.47 against 1.18


def test_a_full_crawl_whose_pages_answered_304_is_no_sign_the_site_is_unchanged(
        conn: duckdb.DuckDBPyConnection) -> None:
    # Review: its 304s made a full crawl "unchanged", which switched off the check for lost pagination.
    add_run(conn, "a", pages=18, scraped=48, healthy=True, full_crawl=True)
    stats = {"incremental": NOTHING_UNCHANGED["incremental"] | {"pages_unchanged": 2}, "full_crawl": True}
    full = RunInfo("new", "demo", pages=6, finish_reason="finished", full_crawl=True)
    healthy, notes = assess(conn, full, 12, RULES, stats=stats)
    assert healthy is False and notes.startswith("only 6 pages fetched against a recent median of 18")


def test_reviews_per_page_are_counted_on_the_reviews_accepted(conn: duckdb.DuckDBPyConnection) -> None:
    add_run(conn, "a", pages=10, scraped=100, healthy=True)  # 10 accepted reviews per page
    healthy, notes = assess(conn, run(pages=10), 100, RULES, rejected=60)
    assert healthy is False
    assert notes == "4.00 reviews per page against a recent median of 10.00 (60 of 100 found were rejected)"


NOTHING_UNCHANGED = {"incremental": {"sitemap_entries_skipped": 0, "pages_not_followed": 0, "pages_unchanged": 0}}


def test_a_run_that_lost_most_of_its_pages_without_finding_the_site_unchanged_is_unhealthy(conn) -> None:
    for run_id in ("a", "bb", "ccc"):
        add_run(conn, run_id, pages=13, scraped=39, healthy=True)  # 3 reviews a page
    # Pagination renamed: the same 3 reviews a page, on 5 pages.
    healthy, notes = assess(conn, run(pages=5), 15, RULES, stats=NOTHING_UNCHANGED)
    assert healthy is False
    assert notes == ("only 5 pages fetched against a recent median of 13, and no sign the site was unchanged: "
                     "did its pagination or links change?")


def test_an_incremental_run_with_few_pages_that_found_the_site_unchanged_stays_healthy(conn) -> None:
    for run_id in ("a", "bb", "ccc"):
        add_run(conn, run_id, pages=13, scraped=39, healthy=True)
    unchanged = {"incremental": {**NOTHING_UNCHANGED["incremental"], "pages_unchanged": 8}}
    assert assess(conn, run(pages=5), 15, RULES, stats=unchanged) == (True, None)
    assert assess(conn, run(pages=5), 15, RULES, stats=None) == (True, None)  # stats that do not say


def test_a_source_made_smaller_on_purpose_is_flagged_until_most_recent_runs_are_that_size(conn) -> None:
    for run_id in ("a", "bb", "ccc"):
        add_run(conn, run_id, pages=13, scraped=39, healthy=True)
    add_run(conn, "dddd", pages=5, scraped=15, healthy=False)  # flagged by the page rule
    assert assess(conn, run(pages=5), 15, RULES, stats=NOTHING_UNCHANGED)[0] is False
    add_run(conn, "eeeee", pages=5, scraped=15, healthy=False)
    add_run(conn, "ffffff", pages=5, scraped=15, healthy=False)
    assert assess(conn, run(pages=5), 15, RULES, stats=NOTHING_UNCHANGED) == (True, None)


def test_incremental_runs_that_found_the_site_unchanged_do_not_lower_the_usual_page_count(conn) -> None:
    add_run(conn, "a", pages=13, scraped=39, healthy=True, site_unchanged=False)  # a full run
    for run_id in ("bb", "ccc", "dddd"):  # weekly incremental runs with nothing new: few pages, by design
        add_run(conn, run_id, pages=5, scraped=5, healthy=True, site_unchanged=True)
    # A full run after the next-page link was renamed.
    healthy, notes = assess(conn, run(pages=5), 15, RULES, stats=NOTHING_UNCHANGED)
    assert healthy is False and "against a recent median of 13" in notes


def test_a_run_with_failed_requests_gets_a_line_under_the_loads_table(tmp_path: Path) -> None:
    # Crawler QA: a run whose requests mostly failed was "not judged" and looked like any other.
    from rich.console import Console

    from flows.summary import print_summary
    from warehouse.db import connect, migrate
    from warehouse.marts import build_marts

    database = tmp_path / "reviews.duckdb"
    with connect(database) as conn:
        migrate(conn)
        build_marts(conn)
    loads = [{"source": "a", "run_id": "r1", "pages": 1, "errors": 5, "scraped": 2, "loaded": 2, "duplicates": 0,
              "rejected": 0, "healthy": None, "health_notes": "not judged: 1 page fetched, fewer than min_pages (5)"},
             {"source": "b", "run_id": "r2", "pages": 9, "errors": 0, "scraped": 9, "loaded": 9, "duplicates": 0,
              "rejected": 0, "healthy": True, "health_notes": None}]
    console = Console(record=True, width=80)
    print_summary(database, console, loads)
    text = " ".join(console.export_text().split())
    assert "failed requests: a run r1: 5 failed requests (1 page fetched); not judged: 1 page fetched" in text
    assert "b run r2" not in text


@pytest.mark.parametrize("path", ["sitemap.xlm", "no-such-page.html"])
def test_a_first_run_whose_every_answer_is_an_error_status_is_unhealthy(sitemap_site, tmp_path, path) -> None:
    # Config QA: a mistyped start URL answered 404 and the source's first run ended "not judged: 0 pages", exit 0.
    run_crawl("schema_org", [sitemap_site.url + path], source="demo", data=tmp_path, show_progress=False,
              settings={"AUTOTHROTTLE_ENABLED": False, "DOWNLOAD_DELAY": 0})
    (batch,) = landing_batches(tmp_path)
    with open_writer(tmp_path / "reviews.duckdb") as conn:
        run = load(conn, batch, normalize(conn, batch))[1]
    assert run.healthy is False
    assert run.health_notes == ("every answer was an error status (1 answer, none under 400); is the start URL "
                                "right?")


def test_a_first_run_with_an_answer_but_too_few_pages_is_still_not_judged(sitemap_site, tmp_path) -> None:
    run_crawl("schema_org", [sitemap_site.url + "moved/sitemap.xml"], source="demo", data=tmp_path,
              show_progress=False, settings={"AUTOTHROTTLE_ENABLED": False, "DOWNLOAD_DELAY": 0})
    (batch,) = landing_batches(tmp_path)
    with open_writer(tmp_path / "reviews.duckdb") as conn:
        run = load(conn, batch, normalize(conn, batch))[1]
    assert run.healthy is None and run.health_notes.startswith("not judged")
