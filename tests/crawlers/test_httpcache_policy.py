"""RevalidatingPolicy: a stored page is never served without asking, and only a 304 reuses it."""

from __future__ import annotations

import os
from email.utils import formatdate
from time import time

from scrapy import Request
from scrapy.http import Response
from scrapy.settings import Settings

from crawlers.httpcache import RevalidatingPolicy

URL = "http://reviews.example/film-a/"
A_MONTH_AGO = formatdate(time() - 30 * 86400, usegmt=True)
NOW = formatdate(time(), usegmt=True)


def stored(**headers: str) -> Response:
    return Response(URL, status=200, headers={"Date": NOW, **headers}, body=b"<html>old</html>")


def policy() -> RevalidatingPolicy:
    return RevalidatingPolicy(Settings())


def test_page_with_only_last_modified_is_not_served_unasked_and_gets_if_modified_since():
    # RFC2616Policy's heuristic calls this page fresh for 3 days (a tenth of its age) and sends nothing.
    request = Request(URL)
    assert policy().is_cached_response_fresh(stored(**{"Last-Modified": A_MONTH_AGO}), request) is False
    assert request.headers[b"If-Modified-Since"] == A_MONTH_AGO.encode()


def test_no_cache_page_is_revalidated_with_its_etag():
    # RFC2616Policy returns early on no-cache, before setting any validator, so the server can never say 304.
    request = Request(URL)
    cached = stored(**{"Cache-Control": "no-cache", "ETag": '"v1"', "Last-Modified": A_MONTH_AGO})
    assert policy().is_cached_response_fresh(cached, request) is False
    assert (request.headers[b"If-None-Match"], request.headers[b"If-Modified-Since"]) == (b'"v1"',
                                                                                          A_MONTH_AGO.encode())


def test_page_with_max_age_is_still_asked_for():
    request = Request(URL)
    assert policy().is_cached_response_fresh(stored(**{"Cache-Control": "max-age=86400", "ETag": '"v1"'}),
                                             request) is False
    assert request.headers[b"If-None-Match"] == b'"v1"'


def test_only_a_304_reuses_the_stored_page():
    cached, request = stored(**{"ETag": '"v1"'}), Request(URL)
    assert policy().is_cached_response_valid(cached, Response(URL, status=304), request) is True
    assert policy().is_cached_response_valid(cached, Response(URL, status=200, body=b"new"), request) is False


def test_a_server_error_is_not_hidden_behind_the_stored_page():
    # RFC2616Policy would hand the stored page on, so RetryMiddleware never sees the 503.
    cached = stored(**{"ETag": '"v1"'})
    assert policy().is_cached_response_valid(cached, Response(URL, status=503), Request(URL)) is False


def test_validators_carried_over_by_a_redirect_are_dropped():
    # RedirectMiddleware copies headers to the target; the old page's validators must not earn it a 304.
    redirected = Request(URL, headers={"If-None-Match": '"old"', "If-Modified-Since": A_MONTH_AGO})
    assert policy().should_cache_request(redirected) is True
    assert b"If-None-Match" not in redirected.headers and b"If-Modified-Since" not in redirected.headers


def test_no_store_responses_are_still_not_stored():
    response = Response(URL, status=200, headers={"Cache-Control": "no-store", "ETag": '"v1"'})
    assert policy().should_cache_response(response, Request(URL)) is False


def _throttle_after(status: int) -> float:
    from scrapy.core.downloader import Slot
    from scrapy.utils.test import get_crawler

    from crawlers.httpcache import RevalidatingAutoThrottle

    throttle = RevalidatingAutoThrottle(get_crawler(settings_dict={"AUTOTHROTTLE_ENABLED": True}))
    throttle.mindelay, throttle.maxdelay = throttle._min_delay(), throttle._max_delay()  # as at spider_opened
    slot = Slot(concurrency=8, delay=0.5)
    throttle._adjust_delay(slot, 0.01, Response(URL, status=status))
    return slot.delay


def test_a_304_speeds_the_crawl_up_like_a_200_but_an_error_page_does_not():
    assert _throttle_after(304) == _throttle_after(200) < 0.5
    assert _throttle_after(500) == 0.5


def test_a_failed_download_is_not_answered_with_the_stored_copy():
    from scrapy.utils.test import get_crawler
    from twisted.internet.error import ConnectionRefusedError

    from crawlers.httpcache import NoStaleOnErrorCacheMiddleware

    crawler = get_crawler(settings_dict={"HTTPCACHE_ENABLED": True})
    middleware = NoStaleOnErrorCacheMiddleware.from_crawler(crawler)
    request = Request(URL, meta={"cached_response": stored(ETag='"v1"')})
    assert middleware.process_exception(request, ConnectionRefusedError()) is None
    assert "cached_response" not in request.meta
    assert crawler.stats.get_value("httpcache/errorrecovery") is None


def test_an_expired_entry_of_the_developer_cache_is_a_quiet_miss_not_a_damaged_one(tmp_path) -> None:
    from scrapy.http import HtmlResponse
    from scrapy.utils.test import get_crawler

    from crawlers.httpcache import DAMAGED_STAT, CheckedCacheStorage

    crawler = get_crawler(settings_dict={"HTTPCACHE_DIR": str(tmp_path), "HTTPCACHE_EXPIRATION_SECS": 60})
    spider = crawler._create_spider("cache")
    storage = CheckedCacheStorage(crawler.settings)
    storage.open_spider(spider)
    request = Request("https://example.com/film")
    storage.store_response(spider, request, HtmlResponse(request.url, body=b"<html>whole</html>", request=request))
    assert storage.retrieve_response(spider, request).body == b"<html>whole</html>"
    for entry in tmp_path.rglob("*"):
        if entry.is_file():
            os.utime(entry, (time() - 3600, time() - 3600))
    assert storage.retrieve_response(spider, request) is None
    assert crawler.stats.get_value(DAMAGED_STAT) is None
