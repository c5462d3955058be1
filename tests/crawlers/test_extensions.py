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


# `errors` counts requests that failed for good. The tests below send the signals in the order Scrapy's engine
# and downloader send them (scrapy/core/engine.py, scrapy/core/downloader/__init__.py); tests/flows/
# test_crawl_errors.py checks the same counts on real crawls.


def extension_for(spider: Any) -> RunStats:
    spider.crawler.spider = spider
    return RunStats.from_crawler(spider.crawler)


def download(spider: Any, request: Request, status: int | None, received: bool = True,
             flags: list[str] | None = None) -> None:
    """One download of `request`: status None is no answer (an exception); `received` False is an answer a
    downloader middleware dropped (IgnoreRequest in process_response) or turned into a retry or redirect."""
    send = spider.crawler.signals.send_catch_log
    send(signals.request_reached_downloader, request=request, spider=spider)
    response = None if status is None else Response(request.url, status=status, request=request, flags=flags)
    if response is not None:
        send(signals.response_downloaded, response=response, request=request, spider=spider)
    send(signals.request_left_downloader, request=request, spider=spider)
    if response is not None and received:
        send(signals.response_received, response=response, request=request, spider=spider)


def scheduled(spider: Any, request: Request) -> Request:
    spider.crawler.signals.send_catch_log(signals.request_scheduled, request=request, spider=spider)
    return request


def test_a_download_retried_until_retries_ran_out_is_one_error_not_one_per_log_line():
    spider = make_spider(SchemaOrgSpider, url="https://reviews.example/film/her/")
    extension = extension_for(spider)
    page = scheduled(spider, Request("https://reviews.example/film/her/", callback=spider.parse))
    download(spider, page, None)  # a timeout: RetryMiddleware schedules a copy, which carries the meta over
    retry = scheduled(spider, page.copy())
    download(spider, retry, None)  # "Gave up retrying" and "Error downloading": two ERROR lines, one failed request
    spider.crawler.stats.set_value("log_count/ERROR", 2)
    summary = extension.summary("finished")
    assert summary["errors"] == 1
    assert (summary["failed_requests"]["no_answer"], summary["log_errors"]) == (1, 2)


def test_a_page_still_answering_500_after_its_retries_is_a_page_and_one_error():
    spider = make_spider(SchemaOrgSpider, url="https://reviews.example/film/her/")
    extension = extension_for(spider)
    page = scheduled(spider, Request("https://reviews.example/film/her/", callback=spider.parse))
    download(spider, page, 500, received=False)  # retried
    download(spider, scheduled(spider, page.copy()), 500)  # given up: the 500 reaches the spider
    summary = extension.summary("finished")
    assert (summary["pages"], summary["errors"]) == (1, 1)
    assert summary["failed_requests"]["error_status_after_retries"] == 1


def test_an_answer_dropped_before_the_spider_got_it_is_a_failed_request_not_a_page():
    # A gzip bomb: HttpCompressionMiddleware raises IgnoreRequest in process_response, which Scrapy does not log
    # as an error, count in any stat or signal as a failure.
    spider = make_spider(SchemaOrgSpider, url="https://reviews.example/film/her/")
    extension = extension_for(spider)
    download(spider, scheduled(spider, Request("https://reviews.example/film/her/", callback=spider.parse)), 200,
             received=False)
    summary = extension.summary("finished")
    assert (summary["pages"], summary["errors"]) == (0, 1)
    assert summary["failed_requests"]["dropped"] == 1


def test_a_redirect_is_not_a_dropped_answer():
    spider = make_spider(SchemaOrgSpider, url="https://reviews.example/film/her")
    extension = extension_for(spider)
    page = scheduled(spider, Request("https://reviews.example/film/her", callback=spider.parse))
    download(spider, page, 301, received=False)
    download(spider, scheduled(spider, page.replace(url="https://reviews.example/film/her/")), 200)
    summary = extension.summary("finished")
    assert (summary["pages"], summary["errors"]) == (1, 0)


def test_a_robots_txt_download_that_failed_is_not_counted_twice_with_its_pages():
    # robots.txt that allows everything when it fails (Scrapy's own): its pages are requested and count themselves.
    spider = make_spider(SchemaOrgSpider, url="https://reviews.example/film/her/")
    extension = extension_for(spider)
    robots = Request("https://reviews.example/robots.txt", callback=NO_CALLBACK, meta={"dont_obey_robotstxt": True})
    download(spider, robots, None)
    download(spider, scheduled(spider, Request("https://reviews.example/film/her/", callback=spider.parse)), None)
    spider.crawler.stats.set_value("robotstxt/exception_count/<class 'scrapy.exceptions.DownloadTimeoutError'>", 1)
    spider.crawler.stats.set_value("log_count/ERROR", 4)
    assert extension.summary("finished")["errors"] == 1


def test_a_host_whose_robots_txt_was_unreachable_is_one_failed_request():
    # crawlers/robots.py (RFC 9309) then disallows the whole host: its pages are never requested.
    spider = make_spider(SchemaOrgSpider, url="https://reviews.example/film/her/")
    extension = extension_for(spider)
    spider.crawler.stats.set_value("robotstxt/unreachable", 1)
    spider.crawler.stats.set_value("robotstxt/forbidden", 3)
    summary = extension.summary("finished")
    assert summary["errors"] == 1
    assert summary["failed_requests"]["robots_unreachable"] == 1


def test_spider_exceptions_count_as_errors():
    # Scrapy's key is spider_exceptions/count (scrapy/core/scraper.py); there is no plain `spider_exceptions`.
    spider = make_spider(SchemaOrgSpider, url="https://reviews.example/film/her/")
    extension = extension_for(spider)
    spider.crawler.stats.set_value("spider_exceptions/count", 2)
    spider.crawler.stats.set_value("spider_exceptions/ValueError", 2)
    assert extension.summary("finished")["errors"] == 2


def test_a_page_answered_from_the_cache_after_a_304_counts_as_unchanged():
    spider = make_spider(SchemaOrgSpider, url="https://reviews.example/film/her/")
    extension = extension_for(spider)
    page = scheduled(spider, Request("https://reviews.example/film/her/", callback=spider.parse))
    download(spider, page, 200, flags=["cached"])  # HttpCacheMiddleware flags the stored copy it answers a 304 with
    spider.crawler.stats.set_value("incremental/pages_not_followed", 1)
    assert extension.summary("finished")["incremental"] == {
        "sitemap_entries_skipped": 0, "pages_not_followed": 1, "pages_unchanged": 1, "canary_pages": 0,
        "canary_reviews": 0, "canary_missing": 0, "pages_gone": 0, "retried_silent": 0}


def test_a_profile_spiders_date_order_goes_into_the_stats_for_the_load(tmp_path):
    from crawlers.spiders.profile import ProfileSpider

    profile = tmp_path / "site.toml"
    profile.write_text('date_order = "DMY"\nreviews = "article"\n[fields]\nfilm_title = "h2::text"\nbody = "p"\n')
    spider = make_spider(ProfileSpider, profile=str(profile))
    spider.crawler.spider = spider
    assert RunStats.from_crawler(spider.crawler).summary("finished")["date_order"] == "DMY"
    schema_org = make_spider(SchemaOrgSpider)
    schema_org.crawler.spider = schema_org
    assert "date_order" not in RunStats.from_crawler(schema_org.crawler).summary("finished")
