"""The run's stats file: replaced atomically (a failed or killed write leaves no partial file); its page count."""

from __future__ import annotations

import asyncio
import json
import os
from datetime import UTC, datetime
from typing import Any

import pytest
from scrapy import Request, signals
from scrapy.http import Response
from scrapy.http.request import NO_CALLBACK

from crawlers import landing
from crawlers.extensions import RunStats
from crawlers.landing import write_atomic, write_json_atomic
from crawlers.spiders.feed import FeedSpider
from crawlers.spiders.schema_org import SchemaOrgSpider
from tests.crawlers.conftest import make_spider


def test_write_json_atomic_writes_indented_sorted_json(tmp_path):
    path = tmp_path / "run.stats.json"
    write_json_atomic(path, {"b": 1, "a": {"c": 2}})
    assert path.read_text() == '{\n  "a": {\n    "c": 2\n  },\n  "b": 1\n}\n'
    assert os.listdir(tmp_path) == ["run.stats.json"]


def test_unserializable_value_leaves_no_file(tmp_path):
    path = tmp_path / "run.stats.json"
    with pytest.raises(TypeError):
        write_json_atomic(path, {"landed": 3, "bad": object()})
    assert os.listdir(tmp_path) == []


def test_failed_rewrite_leaves_the_stats_file_unchanged(tmp_path):
    path = tmp_path / "run.stats.json"
    write_json_atomic(path, {"landed": 3})
    before = path.read_text()
    with pytest.raises(TypeError):
        write_json_atomic(path, {"landed": 4, "job_state": object()})
    assert path.read_text() == before
    assert os.listdir(tmp_path) == ["run.stats.json"]


def test_failure_midway_through_the_write_removes_the_partial_file(tmp_path, monkeypatch):
    path = tmp_path / "run.stats.json"
    write_json_atomic(path, {"landed": 3})
    before = path.read_text()

    def crash(fd: int) -> None:  # the new text is written but not yet durable or renamed
        raise OSError("disk gone")

    monkeypatch.setattr(landing.os, "fsync", crash)
    with pytest.raises(OSError, match="disk gone"):
        write_atomic(path, '{"landed": 4, "truncated')
    assert path.read_text() == before
    assert os.listdir(tmp_path) == ["run.stats.json"]


def test_file_mode_follows_the_umask(tmp_path):
    path = tmp_path / "run.stats.json"
    write_atomic(path, "{}\n")
    umask = os.umask(0)
    os.umask(umask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~umask


def test_spider_closed_writes_the_stats_file(tmp_path):
    spider = make_spider(SchemaOrgSpider)
    crawler = spider.crawler
    crawler.settings.frozen = False
    crawler.settings.set("REVIEWS_DATA_DIR", str(tmp_path))
    crawler.spider = spider
    crawler.stats.set_value("start_time", datetime(2026, 1, 1, tzinfo=UTC))
    crawler.stats.set_value("reviews/landed", 2)
    RunStats.from_crawler(crawler).spider_closed(spider, "finished")
    folder = tmp_path / "raw" / "test"
    stats = json.loads((folder / "run-1.stats.json").read_text())
    assert (stats["landed"], stats["finish_reason"], stats["started"]) == (2, "finished", "2026-01-01T00:00:00+00:00")
    assert os.listdir(folder) == ["run-1.stats.json"]


def run_stats_after(responses: list[tuple[Request, int]], spider: Any) -> dict:
    """The stats summary after the engine received these responses, as it signals each one."""
    crawler = spider.crawler
    crawler.spider = spider
    extension = RunStats.from_crawler(crawler)
    for request, status in responses:
        crawler.signals.send_catch_log(signals.response_received, spider=spider, request=request,
                                       response=Response(request.url, status=status, request=request))
    return extension.summary("finished")


def test_one_page_crawl_counts_one_page_not_its_robots_txt():
    spider = make_spider(SchemaOrgSpider, url="https://reviews.example/film/her/")
    # Scrapy's robots.txt middleware fetches robots.txt for itself, with callback=NO_CALLBACK.
    robots = Request("https://reviews.example/robots.txt", callback=NO_CALLBACK, meta={"dont_obey_robotstxt": True})
    page = Request("https://reviews.example/film/her/", callback=spider.parse)
    assert run_stats_after([(robots, 200), (page, 200)], spider)["pages"] == 1


def test_sitemaps_are_not_counted_as_pages():
    spider = make_spider(SchemaOrgSpider, url="https://reviews.example/sitemap.xml,https://reviews.example/film/her/")

    async def start_requests() -> list[Request]:
        return [request async for request in spider.start()]

    sitemap, page = asyncio.run(start_requests())
    assert run_stats_after([(sitemap, 200), (page, 200)], spider)["pages"] == 1


def test_a_page_that_answers_with_an_error_still_counts_as_a_page():
    # A site that bans the crawler answers 403 to every page: counted, so the health check sees
    # "no reviews on N pages" instead of a run too small to judge.
    spider = make_spider(SchemaOrgSpider, url="https://reviews.example/film/her/")
    page = Request("https://reviews.example/film/her/", callback=spider.parse)
    assert run_stats_after([(page, 403)], spider)["pages"] == 1


def test_feed_requested_by_the_default_start_counts_as_a_page():
    spider = make_spider(FeedSpider, url="https://reviews.example/feed.xml")
    feed = Request("https://reviews.example/feed.xml")  # Spider.start sends start URLs to parse with callback None
    assert run_stats_after([(feed, 200)], spider)["pages"] == 1
