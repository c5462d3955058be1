"""A page's nofollow (meta robots, X-Robots-Tag) and a link's rel="nofollow" are obeyed (crawlers/meta_robots.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from scrapy.http import HtmlResponse

from crawlers.meta_robots import forbids_following
from flows.crawl import run_crawl
from tests.crawlers.localsite import NOT_FOUND, Answer, LocalSite, plain_page, review_page

URL = "https://reviews.example/list"


def page(head: str = "", headers: dict[str, str] | None = None) -> HtmlResponse:
    return HtmlResponse(URL, body=f"<html><head>{head}</head><body></body></html>".encode(), headers=headers or {})


@pytest.mark.parametrize("response", [
    page('<meta name="robots" content="noindex, nofollow">'),
    page('<meta name="ROBOTS" content="NONE">'),
    page('<meta name="film-reviews" content="nofollow">'),
    page(headers={"X-Robots-Tag": "nofollow"}),
    page(headers={"X-Robots-Tag": "film-reviews: noindex, nofollow"}),
    page(headers={"X-Robots-Tag": "max-snippet: 50, nofollow"}),  # a directive's value, not a crawler's name
    page(headers={"X-Robots-Tag": "unavailable_after: 25 Jun 2030 15:00:00 PST, nofollow"}),
])
def test_a_page_that_asks_all_crawlers_or_ours_not_to_follow_its_links_is_obeyed(response):
    assert forbids_following(response, "film-reviews")


@pytest.mark.parametrize("response", [
    page('<meta name="robots" content="noindex, follow">'),  # noindex is for search engines' listings
    page('<meta name="googlebot" content="nofollow">'),
    page(headers={"X-Robots-Tag": "googlebot: nofollow"}),
    page(headers={"X-Robots-Tag": "noarchive"}),
    page('<meta name="description" content="nofollow">'),
])
def test_another_crawlers_nofollow_or_a_noindex_is_not_ours(response):
    assert not forbids_following(response, "film-reviews")


def _crawl(tmp_path: Path, site: LocalSite, **settings) -> list[str]:
    run_crawl("schema_org", [site.url + "/"], source="site", data=tmp_path,
              settings={"AUTOTHROTTLE_START_DELAY": 0.02, "CLOSESPIDER_TIMEOUT": 30, **settings}, show_progress=False)
    return sorted(path for path in site.paths() if path.startswith("/r/"))


def _site(site: LocalSite, path: str) -> Answer:
    if path == "/":
        answer = plain_page("home", ["/r/1", "/list"])
        answer.body = str(answer.body).replace('<a href="/list">', '<a href="/list" rel="ugc nofollow">')
        return answer
    if path == "/list":
        return plain_page("list", ["/r/2"])
    if path == "/r/1":
        answer = review_page(site.url + path, 1, ["/r/3"])
        answer.body = str(answer.body).replace("<head>", '<head><meta name="robots" content="nofollow">')
        return answer
    if path in ("/r/2", "/r/3"):
        return review_page(site.url + path, path[-1])
    return NOT_FOUND


def test_the_crawl_follows_no_nofollow_link_nor_any_link_of_a_nofollow_page(tmp_path: Path) -> None:
    with LocalSite(_site) as site:
        assert _crawl(tmp_path, site) == ["/r/1"]


def test_reviews_obey_nofollow_off_follows_them_all(tmp_path: Path) -> None:
    with LocalSite(_site) as site:
        assert _crawl(tmp_path, site, REVIEWS_OBEY_NOFOLLOW=False) == ["/r/1", "/r/2", "/r/3"]
