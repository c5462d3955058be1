"""A host that stops answering mid-crawl is given up for the rest of the run, its requests failed unasked and kept
for the next run; one that answers again in time, or another host, is not (crawlers/unreachable.py). Real crawls, in
a child process, of sites served on 127.0.0.1."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from crawlers.retries import read_retries, retry_file
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
    assert asked < 40 * 2, asked  # without it every page is asked 4 times: 160
    assert result.stats["failed_requests"]["no_answer"] == 40
    retries = read_retries(retry_file(tmp_path, "site"))
    assert sorted(retries) == sorted(f"{site.url}/p/{n}" for n in range(40))
    log = result.log_path.read_text(encoding="utf-8")
    assert "has answered nothing for" in log and logged_stat(log, "reviews/host_down") == 1


def test_a_host_that_answers_again_within_the_limit_loses_no_page(tmp_path):
    started: list[float] = []

    def restarting(site: LocalSite, path: str) -> Answer | None:
        if path == "/":
            return plain_page("home", [f"/p/{n}" for n in range(8)])
        if path == "/robots.txt":
            return NOT_FOUND
        started.append(started[0] if started else time.monotonic())
        return None if time.monotonic() - started[0] < 1.5 else review_page(site.url + path, path)

    with LocalSite(restarting) as site:
        result, items = crawl([site.url + "/"], tmp_path, REVIEWS_HOST_DOWN_AFTER=30)
    assert len(items) == 8 and result.stats["errors"] == 0
    assert "has answered nothing for" not in result.log_path.read_text(encoding="utf-8")


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
