"""Fetch or read one page for `reviews extract`, decoding it as a browser would."""

from __future__ import annotations

import urllib.error
import urllib.request
from pathlib import Path
from typing import TYPE_CHECKING

from scrapy.http import Headers, TextResponse
from scrapy.responsetypes import responsetypes

from crawlers.encoding import UndeclaredEncodingMiddleware
from crawlers.settings import USER_AGENT
from flows.errors import ReviewsError

if TYPE_CHECKING:
    from crawlers.extraction import PageExtract


def load_page(target: str, timeout: float = 30.0) -> tuple[str, str]:
    """(decoded HTML, its URL) for a saved file path or an http(s) URL."""
    if target.startswith(("http://", "https://")):
        request = urllib.request.Request(target, headers={"User-Agent": USER_AGENT})
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                body = response.read()
                content_type = response.headers.get("Content-Type")
        except (urllib.error.URLError, TimeoutError, ValueError) as exc:
            raise ReviewsError(f"cannot fetch {target}: {exc}") from None
        return decoded(body, content_type, target), target
    path = Path(target)
    if not path.is_file():
        raise ReviewsError(f"no such file: {target}")
    return decoded(path.read_bytes(), None, path.resolve().as_uri()), path.resolve().as_uri()


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
