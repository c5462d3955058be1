"""A real crawl of the demo site over loopback, in a child process, against its ground truth."""

from __future__ import annotations

import json

import pytest

from flows.crawl import run_crawl
from flows.errors import ReviewsError


@pytest.fixture(scope="module")
def crawled(small_demo, tmp_path_factory):
    data = tmp_path_factory.mktemp("data")
    result = run_crawl("schema_org", [small_demo.url], source="demo", data=data, show_progress=False)
    items = [json.loads(line) for line in result.items_path.read_text(encoding="utf-8").splitlines()]
    return result, items


def test_every_published_review_lands_exactly_once(crawled, small_demo):
    _, items = crawled
    landed = [item["source_review_id"] for item in items]
    assert sorted(landed) == sorted(row["identifier"] for row in small_demo.truth)


def test_landed_items_carry_the_published_film_critic_and_rating(crawled, small_demo):
    _, items = crawled
    by_id = {item["source_review_id"]: item for item in items}
    for row in small_demo.truth:
        item = by_id[row["identifier"]]
        assert item["critic_name"] == row["critic_name"]
        assert item["audience"] == row["audience"]
        assert (item["rating_raw"] is None) == (row["rating_raw"] is None)


def test_robots_disallowed_pages_are_never_requested(crawled, small_demo):
    assert small_demo.server.requested_paths, "the crawl requested nothing"
    assert not [p for p in small_demo.server.requested_paths if p.startswith("/search")]


def test_run_stats_are_written_beside_the_landing_file(crawled):
    result, items = crawled
    stats = result.stats
    assert stats["landed"] == len(items)
    assert stats["rejected"] == 0 and stats["errors"] == 0
    assert stats["robots_forbidden"] >= 1
    assert stats["field_coverage"]["critic_name"] == len(items)
    assert result.items_path.with_name(f"{result.run_id}.stats.json").exists()


def test_feed_spider_reads_the_demo_feed(small_demo, tmp_path):
    result = run_crawl("feed", [small_demo.url + "feed.xml"], source="demo-feed", data=tmp_path, show_progress=False)
    items = [json.loads(line) for line in result.items_path.read_text(encoding="utf-8").splitlines()]
    truth = {row["identifier"]: row for row in small_demo.truth}
    assert items and all(item["source_review_id"] in truth for item in items)
    assert all(item["film_title"] for item in items)


def test_unknown_spider_is_a_clear_error(tmp_path):
    with pytest.raises(ReviewsError, match="unknown spider 'nope'"):
        run_crawl("nope", ["http://127.0.0.1:9/"], data=tmp_path, show_progress=False)
