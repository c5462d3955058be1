"""Fetch or read one page for `reviews extract`, decoding it as a browser would."""

from __future__ import annotations

import urllib.error
import urllib.request
from pathlib import Path
from typing import TYPE_CHECKING

from w3lib.encoding import html_to_unicode

from crawlers.encoding import browser_encoding
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
        return html_to_unicode(content_type, body, auto_detect_fun=browser_encoding)[1], target
    path = Path(target)
    if not path.is_file():
        raise ReviewsError(f"no such file: {target}")
    return html_to_unicode(None, path.read_bytes(), auto_detect_fun=browser_encoding)[1], path.resolve().as_uri()


def with_profile(html: str, url: str, profile: str | Path) -> PageExtract:
    """What the profile spider would take from this page, shaped as extract_page's result (no films: a profile
    reads reviews); the links it would follow are not shown."""
    from crawlers.extraction import PageExtract
    from crawlers.profile_pages import extract_with_profile
    from flows.config import read_profile

    found = extract_with_profile(html, url, "extract", read_profile(profile))
    return PageExtract(reviews=found.reviews, films=[], errors=found.errors)
