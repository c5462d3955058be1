"""Health rules for runs that fetch few pages by nature (feeds: 12 of 12 entries rejected, or a feed whose
entries lost their ratings, ended "not judged", exit 0: site-drift QA), and what reviews per page are judged on."""

from __future__ import annotations

import json

import duckdb

from flows.health import assess
from tests.flows.test_health import RULES
from warehouse.load import RunInfo

FULL = {"film_title": 12, "critic_name": 12, "body": 12, "rating_raw": 12, "published_raw": 12}


def add_feed_run(conn: duckdb.DuckDBPyConnection, run_id: str, scraped: int, coverage: dict[str, int]) -> None:
    conn.execute("insert into crawl_runs by name select ? as run_id, 'feed' as source, 'feed' as spider, "
                 "1 as pages, ? as scraped, ? as loaded, 0 as updated, 0 as duplicates, 0 as rejected, "
                 "? as field_coverage, true as healthy, 'finished' as finish_reason, "
                 "now() + to_seconds(?) as loaded_at", [run_id, scraped, scraped, json.dumps(coverage), len(run_id)])


def feed_run(coverage: dict[str, int] | None = None) -> RunInfo:
    return RunInfo("new", "feed", spider="feed", pages=1, finish_reason="finished",
                   field_coverage=FULL if coverage is None else coverage)


def test_a_feed_whose_every_entry_was_rejected_is_unhealthy(conn: duckdb.DuckDBPyConnection) -> None:
    healthy, notes = assess(conn, feed_run(), 12, RULES, rejected=12)
    assert healthy is False and notes == "no review accepted on 1 page: all 12 found were rejected"


def test_a_feed_whose_entries_lost_their_ratings_is_unhealthy(conn: duckdb.DuckDBPyConnection) -> None:
    for run_id in ("a", "bb"):
        add_feed_run(conn, run_id, 12, FULL)
    healthy, notes = assess(conn, feed_run({**FULL, "rating_raw": 0}), 12, RULES)
    assert healthy is False and notes == "rating_raw on 0% of reviews against a usual 100%"


def test_a_feed_as_it_was_is_healthy_and_becomes_the_baseline(conn: duckdb.DuckDBPyConnection) -> None:
    assert assess(conn, feed_run(), 12, RULES) == (True, None)
    add_feed_run(conn, "a", 12, FULL)
    assert assess(conn, feed_run(), 12, RULES) == (True, None)


def test_a_feed_with_fewer_entries_than_min_pages_is_not_judged(conn: duckdb.DuckDBPyConnection) -> None:
    healthy, notes = assess(conn, feed_run({"film_title": 3}), 3, RULES, rejected=3)
    assert healthy is None and notes.startswith("not judged: 1 page fetched")


def test_a_small_crawl_whose_every_review_was_rejected_is_unhealthy(conn: duckdb.DuckDBPyConnection) -> None:
    small = RunInfo("new", "site", spider="schema_org", pages=2, finish_reason="finished")
    assert assess(conn, small, 6, RULES, rejected=6) == (False, "no review accepted: all 6 found were rejected")
    assert assess(conn, small, 6, RULES, rejected=5)[0] is None  # one accepted: too small to judge
    assert assess(conn, small, 3, RULES, rejected=3)[0] is None  # too few to say


def test_a_short_week_of_a_feed_is_no_outage(conn: duckdb.DuckDBPyConnection) -> None:
    # Its healthy runs (one page each) were taken as a yardstick of pages: "only 1 page fetched where recent
    # healthy runs fetched 1; is the site down?" (review).
    for run_id in ("a", "bb"):
        add_feed_run(conn, run_id, 12, FULL)
    stats = {"incremental": {"sitemap_entries_skipped": 0, "pages_not_followed": 0, "pages_unchanged": 0}}
    healthy, notes = assess(conn, feed_run({name: 4 for name in FULL}), 4, RULES, stats=stats)
    assert healthy is None and notes.startswith("not judged: 1 page fetched")


def test_a_feed_that_shrinks_is_judged_by_its_fields_not_its_length(conn: duckdb.DuckDBPyConnection) -> None:
    for run_id in ("a", "bb"):
        add_feed_run(conn, run_id, 50, {name: 50 for name in FULL})
    assert assess(conn, feed_run({name: 8 for name in FULL}), 8, RULES) == (True, None)


def add_site_run(conn: duckdb.DuckDBPyConnection, run_id: str, pages: int, scraped: int) -> None:
    conn.execute("insert into crawl_runs by name select ? as run_id, 'site' as source, 'schema_org' as spider, "
                 "? as pages, ? as scraped, ? as loaded, 0 as updated, 0 as duplicates, 0 as rejected, '{}' as "
                 "field_coverage, true as healthy, 'finished' as finish_reason, now() + to_seconds(?) as loaded_at",
                 [run_id, pages, scraped, scraped, len(run_id)])


def site_run(pages: int) -> RunInfo:
    return RunInfo("new", "site", spider="schema_org", pages=pages, finish_reason="finished")


def incremental(**counts: int) -> dict:
    signs = {"sitemap_entries_skipped": 20, "pages_not_followed": 0, "pages_unchanged": 0, "canary_pages": 0,
             "canary_reviews": 0, "canary_missing": 0, "pages_gone": 0, "retried_silent": 0}
    return {"incremental": {**signs, **counts}}


def test_pages_of_deleted_reviews_are_left_out_of_the_reviews_per_page(conn: duckdb.DuckDBPyConnection) -> None:
    # A quiet week whose 8 deleted reviews answered 404 read as broken markup, "0.27 reviews per page"; so did the
    # next week's retries of pages emptied on purpose (health QA).
    for run_id in ("a", "bb"):
        add_site_run(conn, run_id, 20, 20)
    assert assess(conn, site_run(11), 3, RULES, stats=incremental(pages_gone=8)) == (True, None)
    assert assess(conn, site_run(15), 7, RULES, stats=incremental(retried_silent=8, canary_pages=3,
                                                                   canary_reviews=3)) == (True, None)


def test_canaries_do_not_hide_new_pages_that_gave_no_review(conn: duckdb.DuckDBPyConnection) -> None:
    # Five new pages of a new template without markup, and three canaries with three old reviews each: 9 reviews
    # on 8 pages read as more than usual, where the week's new pages gave none (health QA).
    for run_id in ("a", "bb"):
        add_site_run(conn, run_id, 20, 20)
    healthy, notes = assess(conn, site_run(8), 9, RULES, stats=incremental(canary_pages=3, canary_reviews=9))
    assert healthy is False and notes.startswith("0.00 reviews per page against a recent median of 1.00")


def test_canaries_that_gave_their_reviews_show_the_site_unchanged(conn: duckdb.DuckDBPyConnection) -> None:
    # A sitemap of this week's pages only skips nothing: a quiet week read as lost pagination (health QA).
    for run_id in ("a", "bb"):
        add_site_run(conn, run_id, 13, 13)
    quiet = incremental(sitemap_entries_skipped=0, canary_pages=3, canary_reviews=3)
    assert assess(conn, site_run(5), 5, RULES, stats=quiet) == (True, None)
    assert assess(conn, site_run(3), 3, RULES, stats=quiet)[0] is None  # not "is the site down?"


def test_ratings_gone_are_one_note_not_two(conn: duckdb.DuckDBPyConnection) -> None:
    with_ratings = {**FULL, "ratings_read": 12, "dates_read": 12}
    for run_id in ("a", "bb"):
        add_feed_run(conn, run_id, 12, with_ratings)
    healthy, notes = assess(conn, feed_run({**with_ratings, "rating_raw": 0, "ratings_read": 0}), 12, RULES)
    assert healthy is False and notes == "rating_raw on 0% of reviews against a usual 100%"


def test_a_coverage_drop_a_small_run_shows_by_chance_is_no_alarm(conn: duckdb.DuckDBPyConnection) -> None:
    # A 10-entry member feed, about 60% rated: a week with 3 rated happens about one week in twenty (health QA).
    usual = {**{name: 10 for name in FULL}, "rating_raw": 6}
    for run_id in ("a", "bb", "ccc"):
        add_feed_run(conn, run_id, 10, usual)
    assert assess(conn, feed_run({**usual, "rating_raw": 3}), 10, RULES) == (True, None)
    healthy, notes = assess(conn, feed_run({**usual, "rating_raw": 0}), 10, RULES)  # 1 week in 10,000
    assert healthy is False and notes == "rating_raw on 0% of reviews against a usual 60%"


def profile_run(coverage: dict[str, int]) -> RunInfo:
    return RunInfo("new", "site", spider="profile", pages=12, finish_reason="finished", field_coverage=coverage)


def test_a_profiles_first_run_whose_ratings_could_none_be_read_is_unhealthy(conn: duckdb.DuckDBPyConnection) -> None:
    # A site profile without its [rating_scale]: bare numbers, every one an "ambiguous scale" (site QA).
    healthy, notes = assess(conn, profile_run({**FULL, "ratings_read": 0}), 12, RULES)
    assert healthy is False and notes == ("12 of 12 reviews have a rating and none could be read "
                                          "(reviews.rating_problem says why): give the site profile its "
                                          "[rating_scale], or leave the rating out")
    assert assess(conn, profile_run({**FULL, "ratings_read": 1}), 12, RULES) == (True, None)
    assert assess(conn, profile_run({**FULL, "rating_raw": 4, "ratings_read": 0}), 12, RULES) == (True, None)


def test_a_feed_publishing_a_scale_nothing_reads_is_not_unhealthy_for_it(conn: duckdb.DuckDBPyConnection) -> None:
    # Its user cannot mend it: every run would be unhealthy, and none the yardstick of the next.
    assert assess(conn, feed_run({**FULL, "ratings_read": 0}), 12, RULES) == (True, None)
