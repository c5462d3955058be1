"""Fetch or read one page for `reviews extract`, decoding it as a browser would."""

from __future__ import annotations

import http.client
import threading
import urllib.error
import urllib.request
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from scrapy.http import Headers, TextResponse
from scrapy.responsetypes import responsetypes

from crawlers.encoding import UndeclaredEncodingMiddleware
from crawlers.schemes import WEB_SCHEMES
from crawlers.settings import DOWNLOAD_MAXSIZE, USER_AGENT
from flows.errors import ReviewsError

if TYPE_CHECKING:
    from crawlers.extraction import PageExtract


TOTAL_SECONDS = 120.0  # for the whole page: `timeout` bounds each read, and a page can trickle in for ever


class _WebRedirects(urllib.request.HTTPRedirectHandler):
    """urllib follows a redirect to ftp:// too; the crawl follows only the web (crawlers/schemes.py)."""

    def redirect_request(self, req: urllib.request.Request, fp: Any, code: int, msg: str, headers: Any,
                         newurl: str) -> urllib.request.Request | None:
        if urlsplit(newurl).scheme.lower() not in WEB_SCHEMES:
            raise urllib.error.URLError(f"redirected to {newurl}, not a web address")
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def load_page(target: str, timeout: float = 30.0) -> tuple[str, str]:
    """(decoded HTML, its URL) for a saved file path or an http(s) URL; a page is read up to the crawl's
    DOWNLOAD_MAXSIZE and TOTAL_SECONDS (an endless answer took memory until the command died: security QA)."""
    if target.startswith(("http://", "https://")):
        body, content_type = _fetch_within(target, timeout)
        return decoded(body, content_type, target), target
    path = Path(target)
    if not path.is_file():
        raise ReviewsError(f"no such file: {target}")
    return decoded(path.read_bytes(), None, path.resolve().as_uri()), path.resolve().as_uri()


def _fetch_within(target: str, timeout: float) -> tuple[bytes, str | None]:
    """The page's body and Content-Type, fetched in a thread the command waits TOTAL_SECONDS for: `timeout` bounds
    each read only, and a server sending a byte (or a header line) every few seconds held the command for hours
    (verification QA). A fetch given up on is left to the thread, which ends with the command."""
    outcome: list[tuple[bytes, str | None] | BaseException] = []

    def fetch() -> None:
        request = urllib.request.Request(target, headers={"User-Agent": USER_AGENT})
        try:
            with urllib.request.build_opener(_WebRedirects).open(request, timeout=timeout) as response:
                outcome.append((_read_bounded(response, target), response.headers.get("Content-Type")))
        except (OSError, ValueError, http.client.HTTPException) as exc:  # URLError, a reset, a cut body, a timeout
            outcome.append(ReviewsError(f"cannot fetch {target}: {exc or type(exc).__name__}"))
        except BaseException as exc:  # handed to the command's thread, which raises it there
            outcome.append(exc)

    worker = threading.Thread(target=fetch, name="extract-fetch", daemon=True)
    worker.start()
    worker.join(TOTAL_SECONDS)
    if not outcome:
        raise ReviewsError(f"cannot fetch {target}: not all there after {TOTAL_SECONDS:.0f} s")
    if isinstance(outcome[0], BaseException):
        raise outcome[0]
    return outcome[0]


def _read_bounded(response: Any, target: str) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while chunk := response.read1(1 << 16):  # what has arrived, not a full 64 KB: a trickle is seen growing
        chunks.append(chunk)
        size += len(chunk)
        if size > DOWNLOAD_MAXSIZE:
            raise ReviewsError(f"cannot fetch {target}: larger than {DOWNLOAD_MAXSIZE // 2**20} MB, the most a crawl "
                               "reads of a page (DOWNLOAD_MAXSIZE)")
    return b"".join(chunks)


def decoded(body: bytes, content_type: str | None, url: str) -> str:
    """The page's text as the crawl reads it: Scrapy's response for these headers, through the crawl's encoding
    middleware (a page labelled UTF-8 in cp1252, a CJK <meta> behind a UTF-8 label, "utf-16" without a BOM).
    Decoded apart, `reviews extract` showed "Am�lie" where the crawl stored "Amélie" (encodings QA)."""
    headers = Headers({"Content-Type": content_type} if content_type else {})
    response = responsetypes.from_args(headers=headers, url=url, body=body)(url=url, body=body, headers=headers)
    response = UndeclaredEncodingMiddleware().process_response(None, response)
    return response.text if isinstance(response, TextResponse) else body.decode("utf-8", "replace")


def with_profile(html: str, url: str, profile: str | Path) -> PageExtract:
    """What the profile spider would take from this page, shaped as extract_page's result (no films: a profile
    reads reviews); the links it would follow are not shown."""
    from crawlers.extraction import PageExtract
    from crawlers.profile_pages import extract_with_profile
    from flows.config import read_profile

    found = extract_with_profile(html, url, "extract", read_profile(profile))
    return PageExtract(reviews=found.reviews, films=[], errors=found.errors)
