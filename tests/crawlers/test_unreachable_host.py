"""A host that stops answering mid-crawl is given up for the rest of the run, its requests failed unasked and kept
for the next run; one that answers again in time, or another host, is not (crawlers/unreachable.py). Real crawls, in
a child process, of sites served on 127.0.0.1."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest
from scrapy import Request
from scrapy.http import Response
from scrapy.statscollectors import StatsCollector
from scrapy.utils.test import get_crawler

from crawlers.retries import read_retries, retry_file
from crawlers.unreachable import HostDown, UnreachableHostMiddleware
from flows.crawl import CrawlResult, run_crawl
from tests.crawlers.localsite import NOT_FOUND, Answer, LocalSite, logged_stat, plain_page, review_page

FAST = {"AUTOTHROTTLE_ENABLED": False, "DOWNLOAD_DELAY": 0, "REVIEWS_RETRY_BACKOFF": 0.5}


def crawl(urls: list[str], data: Path, **settings: Any) -> tuple[CrawlResult, list[dict[str, Any]]]:
    result = run_crawl("schema_org", urls, source="site", data=data, settings=FAST | settings, show_progress=False)
    lines = result.items_path.read_text(encoding="utf-8").splitlines() if result.items_path.exists() else []
    return result, [json.loads(line) for line in lines]


def gone_down(pages: int) -> Any:
    """A site whose home links `pages` pages, each of which closes the connection without an answer."""
    def route(site: LocalSite, path: str) -> Answer | None:
        if path == "/":
            return plain_page("home", [f"/p/{n}" for n in range(pages)])
        return NOT_FOUND if path == "/robots.txt" else None
    return route


def test_a_host_that_stopped_answering_is_given_up_and_its_pages_kept_for_the_next_run(tmp_path):
    # Measured: 100 such pages took 126 s of retries, each page asked four times.
    with LocalSite(gone_down(40)) as site:
        result, _ = crawl([site.url + "/"], tmp_path, REVIEWS_HOST_DOWN_AFTER=1)
        asked = len(site.times("/p/"))
    assert asked < 40 * 3, asked  # without it every page is asked 4 times: 160
    assert result.stats["failed_requests"]["no_answer"] == 40
    retries = read_retries(retry_file(tmp_path, "site"))
    assert sorted(retries) == sorted(f"{site.url}/p/{n}" for n in range(40))
    log = result.log_path.read_text(encoding="utf-8")
    assert "has answered nothing for" in log and logged_stat(log, "reviews/host_down") == 1


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def monotonic(self) -> float:
        return self.now


def watcher(monkeypatch, after: float) -> tuple[UnreachableHostMiddleware, Clock]:
    """The middleware on a crawler whose hosts are the URLs' host names, on a clock the test sets."""
    import crawlers.unreachable as unreachable

    clock = Clock()
    monkeypatch.setattr(unreachable, "time", clock)
    monkeypatch.setattr(unreachable, "slot_key", lambda crawler, request: urlparse(request.url).hostname)
    crawler = get_crawler(settings_dict={"REVIEWS_HOST_DOWN_AFTER": after})
    crawler.stats = StatsCollector(crawler)
    return UnreachableHostMiddleware(crawler), clock


def fail(middleware: UnreachableHostMiddleware, clock: Clock, at: float, url: str = "http://down.test/p") -> None:
    clock.now = at
    middleware.process_exception(Request(url), ConnectionRefusedError())


def test_a_host_is_given_up_only_after_failing_without_an_answer_for_the_whole_limit(monkeypatch):
    middleware, clock = watcher(monkeypatch, after=10)
    for at in (0, 1, 2, 9):
        fail(middleware, clock, at)
    assert not middleware.down  # failures for 9 s: a server restarting is given time
    fail(middleware, clock, 10)
    assert middleware.down == {"down.test"}
    with pytest.raises(HostDown):
        middleware.process_request(Request("http://down.test/q"))
    middleware.process_request(Request("http://up.test/q"))  # another host goes on


def test_an_answer_between_failures_starts_the_limit_again(monkeypatch):
    middleware, clock = watcher(monkeypatch, after=10)
    for at in (0, 1, 2, 3):
        fail(middleware, clock, at)
    middleware.process_response(Request("http://down.test/ok"), Response("http://down.test/ok"))
    for at in (4, 8, 12, 13):
        fail(middleware, clock, at)
    assert not middleware.down  # 9 s since the answer
    fail(middleware, clock, 14)
    assert middleware.down == {"down.test"}


def test_a_late_answer_from_a_host_given_up_takes_it_back(monkeypatch):
    middleware, clock = watcher(monkeypatch, after=1)
    for at in (0, 1, 2, 3):
        fail(middleware, clock, at)
    assert middleware.down == {"down.test"}
    middleware.process_response(Request("http://down.test/slow"), Response("http://down.test/slow"))
    assert not middleware.down
    middleware.process_request(Request("http://down.test/q"))


def test_a_request_leaving_the_pacing_after_its_host_was_given_up_does_not_go_out(monkeypatch):
    # Review: retries that had passed the middleware waited in the pacing for their backoff, and 4 went out to the
    # host after it was given up (each costing up to DOWNLOAD_TIMEOUT on a host that times out).
    import asyncio

    import crawlers.politeness as politeness
    from crawlers.politeness import DomainPacer, PacingMiddleware

    monkeypatch.setattr(politeness, "slot_key", lambda crawler, request: urlparse(request.url).hostname)
    crawler = get_crawler()
    crawler.stats = StatsCollector(crawler)
    pacing = PacingMiddleware(crawler)
    DomainPacer.of(crawler).down.add("down.test")
    with pytest.raises(HostDown):
        asyncio.run(pacing.process_request(Request("http://down.test/p")))
    assert asyncio.run(pacing.process_request(Request("http://up.test/p"))) is None
    assert crawler.stats.get_value("reviews/host_down/given_up") == 1


def test_only_the_silent_host_is_given_up(tmp_path):
    def healthy(site: LocalSite, path: str) -> Answer | None:
        if path == "/":
            return plain_page("home", [f"/r/{n}" for n in range(20)])
        return NOT_FOUND if path == "/robots.txt" else review_page(site.url + path, path)

    with LocalSite(gone_down(20)) as down, LocalSite(healthy, host="127.0.0.2") as up:
        result, items = crawl([down.url + "/", up.url + "/"], tmp_path, REVIEWS_HOST_DOWN_AFTER=1)
    assert len(items) == 20 and result.stats["failed_requests"]["no_answer"] == 20


def test_giving_up_hosts_can_be_turned_off(tmp_path):
    with LocalSite(gone_down(3)) as site:
        result, _ = crawl([site.url + "/"], tmp_path, REVIEWS_HOST_DOWN_AFTER=0, RETRY_TIMES=1)
        asked = len(site.times("/p/"))
    assert asked >= 3 * 2 and result.stats["failed_requests"]["no_answer"] == 3
