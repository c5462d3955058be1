"""`reviews extract URL` reads a page as a crawl would, and no more (security QA: an endless answer took memory
until the command died, and a redirect to ftp:// was followed)."""

from __future__ import annotations

import pytest

from flows import extract_page
from flows.errors import ReviewsError
from flows.extract_page import load_page
from tests.crawlers.localsite import NOT_FOUND, Answer, LocalSite


def _site(site: LocalSite, path: str) -> Answer:
    return {"/big": Answer(200, b"<p>" + b"x" * (9 * 2**20)),
            "/ftp": Answer(302, headers={"Location": "ftp://127.0.0.1/page.html"}),
            "/page": Answer(200, "<p>" + "y" * 200_000 + "</p>")}.get(path, NOT_FOUND)


def test_a_page_larger_than_the_crawls_limit_is_refused() -> None:
    with LocalSite(_site) as site, pytest.raises(ReviewsError, match="larger than 8 MB"):
        load_page(site.url + "/big")


def test_a_redirect_to_another_scheme_is_not_followed() -> None:
    with LocalSite(_site) as site, pytest.raises(ReviewsError, match="not a web address"):
        load_page(site.url + "/ftp")


def test_a_page_still_arriving_after_the_total_time_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    with LocalSite(_site) as site:
        assert "y" * 1000 in load_page(site.url + "/page")[0]
        monkeypatch.setattr(extract_page, "TOTAL_SECONDS", -1.0)
        with pytest.raises(ReviewsError, match="still arriving"):
            load_page(site.url + "/page")
