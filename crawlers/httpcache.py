"""An HTTP cache policy for crawls that must see every change: always ask the server.

Scrapy's `RFC2616Policy` serves a stored page without any request while it counts as fresh, and
for a page with `Last-Modified` but no `Cache-Control`/`Expires` (what `python -m http.server` and
many static hosts send) it guesses a freshness of a tenth of the page's age, so a page a month old
is not fetched again for three days and new reviews on it are missed. For a page sent with
`Cache-Control: no-cache` it asks the server, but without `If-None-Match`/`If-Modified-Since`, so
the server can never answer 304. See scrapy/extensions/httpcache.py.

`RevalidatingPolicy` treats every stored page as stale: each request goes to the server, carrying
the stored page's validators, and the stored copy is used only when the server answers 304 Not
Modified; conditional headers a request carries from elsewhere (a redirect) are dropped first.
Which responses are stored is unchanged (RFC2616Policy.should_cache_response: not
`no-store`, and a 200 only with a validator or an expiry).

`CheckedCacheStorage` uses a stored page only when it is whole: Scrapy's filesystem storage writes an
entry's files one after another, so a crawl killed mid-write (or a full disk) left the validators of a
page whose body was cut short, and every later 304 served the cut page, for good.
"""

from __future__ import annotations

import hashlib
import logging
import shutil
from pathlib import Path

from scrapy import Spider
from scrapy.core.downloader import Slot
from scrapy.downloadermiddlewares.httpcache import HttpCacheMiddleware
from scrapy.extensions.httpcache import FilesystemCacheStorage, RFC2616Policy
from scrapy.extensions.throttle import AutoThrottle
from scrapy.http import Request, Response

from crawlers.counted import counted

logger = logging.getLogger(__name__)

# request header -> the stored response's header that fills it (RFC 9110 section 13.1)
VALIDATORS = ((b"If-None-Match", b"ETag"), (b"If-Modified-Since", b"Last-Modified"))


class RevalidatingPolicy(RFC2616Policy):
    """RFC 2616 storage rules, but a stored page is reused only after a 304 to a conditional request."""

    def should_cache_request(self, request: Request) -> bool:
        # Validators belong to one URL's stored page, and RedirectMiddleware copies a request's headers
        # to the redirect target: left there, a moved page's validators could earn a 304 for a target
        # with nothing stored, and the spider would get an empty 304 instead of the page. Every
        # request passes here first; is_cached_response_fresh sets them again from this URL's own page.
        for header, _ in VALIDATORS:
            request.headers.pop(header, None)
        return super().should_cache_request(request)

    def is_cached_response_fresh(self, cachedresponse: Response, request: Request) -> bool:
        for header, validator in VALIDATORS:
            if value := cachedresponse.headers.get(validator):
                request.headers[header] = value
        return False  # never served without asking; `no-cache` ("revalidate before use") is this

    def is_cached_response_valid(self, cachedresponse: Response, response: Response, request: Request) -> bool:
        # RFC2616Policy also serves the stored page when the server answers 5xx, which hides the
        # error from RetryMiddleware and the run's health; only "not modified" reuses it here.
        return response.status == 304


class RevalidatingAutoThrottle(AutoThrottle):
    """AutoThrottle that lets a 304 speed a crawl up as a 200 does.

    Stock AutoThrottle never lowers its delay on a response other than 200 (error pages are small
    and fast, and would pull the delay down). A 304 is the unchanged page confirmed by the server:
    with every page revalidated, a re-run of an unchanged site is nearly all 304s, and without this
    it crawls at the start delay (0.5 s a request) however fast the server answers.
    """

    def _adjust_delay(self, slot: Slot, latency: float, response: Response) -> None:
        # Overrides a private method (stable since Scrapy 1.0): the status test sits inside it.
        super()._adjust_delay(slot, latency, response.replace(status=200) if response.status == 304 else response)


class NoStaleOnErrorCacheMiddleware(HttpCacheMiddleware):
    """Scrapy's cache middleware, without serving the stored copy when the download fails.

    Stock HttpCacheMiddleware answers a timeout or refused connection with the stored page (stat
    `httpcache/errorrecovery`) before RetryMiddleware sees the error, so a site that is down looks
    unchanged: no retry, no error in the run's stats, nothing for the health check to flag.
    """

    def process_exception(self, request: Request, exception: Exception,
                          spider: Spider | None = None) -> Request | Response | None:
        request.meta.pop("cached_response", None)
        return None


# Stored pages not used because they were not whole (each is fetched in full instead), and pages stored before
# entries were checked (the same, once each, quietly).
DAMAGED_STAT = "httpcache/damaged"
UNCHECKED_STAT = "httpcache/unchecked"
COMPLETE = "complete"  # "writing" while an entry's files are written, then their digest
ENTRY_FILES = ("pickled_meta", "response_headers", "response_body", "response_data")


def _digest(folder: Path) -> str:
    digest = hashlib.sha1(usedforsecurity=False)
    for name in ENTRY_FILES:
        content = (folder / name).read_bytes()
        digest.update(len(content).to_bytes(8, "big"))
        digest.update(content)
    return digest.hexdigest()


class CheckedCacheStorage(FilesystemCacheStorage):
    """Scrapy's filesystem cache storage, whose entries are used only when their files are whole.

    An entry's `complete` file says "writing" while its files are written, then holds their digest. An entry
    still "writing", whose files no longer match the digest, or that cannot be read at all, is a miss: the page
    is fetched in full (no validators, so no 304) and stored again. An entry stored before this check has no
    `complete` file and is a miss too, once.
    """

    def retrieve_response(self, spider: Spider, request: Request) -> Response | None:
        folder = Path(self._get_request_path(spider, request))
        # A cache read must never fail a crawl: a torn pickle raises nearly anything (EOFError,
        # UnpicklingError, ValueError, a gzip error), and an entry folder may not be readable.
        try:
            if not (folder / "pickled_meta").exists():
                return None  # never stored
            if not (folder / COMPLETE).exists():
                spider.crawler.stats.inc_value(UNCHECKED_STAT)
                self._drop(folder)
                return None
            if self._read_meta(spider, request) is None:
                return None  # expired (the developer cache keeps pages a day)
            whole = (folder / COMPLETE).read_text(encoding="utf-8") == _digest(folder)
            response = super().retrieve_response(spider, request) if whole else None
        except Exception:
            response = None
        if response is None:
            self._damaged(spider, folder)
            self._drop(folder)
        return response

    @staticmethod
    def _drop(folder: Path) -> None:
        # Gone, so it is counted once: a page no longer stored (its answer has no validator now) would be met again
        # at every run. One that is stored again is written afresh.
        shutil.rmtree(folder, ignore_errors=True)

    def store_response(self, spider: Spider, request: Request, response: Response) -> None:
        folder = Path(self._get_request_path(spider, request))
        folder.mkdir(parents=True, exist_ok=True)
        (folder / COMPLETE).write_text("writing", encoding="utf-8")
        super().store_response(spider, request, response)
        (folder / COMPLETE).write_text(_digest(folder), encoding="utf-8")

    @staticmethod
    def _damaged(spider: Spider, folder: Path) -> None:
        counted(spider.crawler.stats, DAMAGED_STAT, logger.warning, "stored page %s is not whole (a crawl stopped "
                "while storing it?): fetched in full instead; further ones are counted in %s", folder, DAMAGED_STAT)
