"""Tracking parameters (utm_*, click ids) are dropped from the URLs a crawl fetches and lands (crawlers/tracking.py),
so one review page tagged by a feed or a newsletter is fetched once and keeps one address."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from crawlers.items import ReviewItem
from crawlers.tracking import TrackingParamsPipeline, without_tracking
from flows.crawl import run_crawl
from tests.crawlers.localsite import NOT_FOUND, Answer, LocalSite, plain_page, review_page


@pytest.mark.parametrize(("url", "expected"), [
    ("https://x.test/r/1?utm_source=feed&utm_medium=rss", "https://x.test/r/1"),
    ("https://x.test/r/1?id=3&utm_campaign=weekly", "https://x.test/r/1?id=3"),
    ("https://x.test/r/1?UTM_Source=Feed&page=2", "https://x.test/r/1?page=2"),
    ("https://x.test/r/1?fbclid=IwAR0x&gclid=Cj0&msclkid=9", "https://x.test/r/1"),
    ("https://x.test/r/1?utm_source", "https://x.test/r/1"),
])
def test_tracking_parameters_are_dropped(url: str, expected: str) -> None:
    assert without_tracking(url) == expected



@pytest.mark.parametrize(("url", "expected"), [
    ("https://x.test/review/0;jsessionid=d182e1f4", "https://x.test/review/0"),
    ("https://x.test/review/0;JSESSIONID=A1B2.node1?page=2#Ann|Her", "https://x.test/review/0?page=2#Ann|Her"),
    ("https://x.test/r?sid=9f86d081884c7d659a2feaa0c55ad015&page=1", "https://x.test/r?page=1"),
    ("https://x.test/r;sid=9f86d081884c7d659a2feaa0c55ad015", "https://x.test/r"),
    ("https://x.test/r?PHPSESSID=k2j3h4&id=7", "https://x.test/r?id=7"),
    ("https://x.test/r?id=7&sessionid=abc", "https://x.test/r?id=7"),
])
def test_session_ids_are_dropped(url: str, expected: str) -> None:
    # Traps QA: a session id in every link made a review keyed by its page a new review every week.
    assert without_tracking(url) == expected


@pytest.mark.parametrize("url", [
    "https://x.test/story?sid=12",  # a story id, not a session
    "https://x.test/story?sid=abcdefgh",  # no digit: a word
    "https://x.test/review?sid=tt0111161",  # an IMDb id (review of the session change)
    "https://x.test/review?sid=review2024", "https://x.test/story;sid=12",
    "https://x.test/r?q=a;jsessionid=1",  # in the query, the site's own text
    "https://x.test/film/1#Ann;sid=a1b2c3d4|Her",  # in a key's fragment
])
def test_what_only_looks_like_a_session_id_is_kept(url: str) -> None:
    assert without_tracking(url) == url

@pytest.mark.parametrize("url", [
    "https://x.test/r/1",
    "https://x.test/r/1?id=3&genre=a&genre=b",  # a repeated parameter stays repeated
    "https://x.test/films?q=a+b&title=%C3%A9t%C3%A9",  # encodings as written
    "https://x.test/r/1?ref=home",  # "ref" may name a page on some sites: not a known tracker
    "https://x.test/film/her/#Ann?|Her",  # a "?" in the fragment is no query
    "http://[::1/broken?utm_source=x",  # unparseable: as it was
])
def test_urls_without_tracking_parameters_are_kept_as_written(url: str) -> None:
    assert without_tracking(url) == url


def test_a_fragment_survives_the_cleaning() -> None:
    # Reviews without ids of their own are keyed <page url>#<critic>|<film>.
    assert without_tracking("https://x.test/film/1?utm_medium=rss#Ann|Her") == "https://x.test/film/1#Ann|Her"


def test_the_pipeline_cleans_every_address_of_an_item_and_nothing_else() -> None:
    item = ReviewItem(source="s", url="https://x.test/r/1?utm_source=feed", page_url="https://x.test/list?fbclid=1",
                      critic_url="https://x.test/u/ann?utm_medium=social",
                      source_review_id="https://x.test/r/1?utm_source=feed", body="Read https://y.test/?utm_source=z")
    cleaned = TrackingParamsPipeline().process_item(item)
    assert (cleaned.url, cleaned.page_url, cleaned.critic_url, cleaned.source_review_id) == (
        "https://x.test/r/1", "https://x.test/list", "https://x.test/u/ann", "https://x.test/r/1")
    assert cleaned.body == "Read https://y.test/?utm_source=z"


def test_a_review_page_linked_with_campaign_tags_is_fetched_once_and_lands_without_them(tmp_path: Path) -> None:
    def route(site: LocalSite, path: str) -> Answer:
        if path == "/":
            return plain_page("home", ["/r/1?utm_source=feed&utm_medium=rss", "/r/1", "/r/1?fbclid=abc",
                                       "/r/2?utm_campaign=newsletter"])
        page, _, _ = path.partition("?")
        if page in ("/r/1", "/r/2"):
            # Its permalink carries a tag the request did not.
            return review_page(f"{site.url}{page}?utm_source=share", page[-1])
        return NOT_FOUND

    with LocalSite(route) as site:
        result = run_crawl("schema_org", [site.url + "/"], source="site", data=tmp_path,
                           settings={"AUTOTHROTTLE_START_DELAY": 0.02, "CLOSESPIDER_TIMEOUT": 30},
                           show_progress=False)
        fetched = [path for path in site.paths() if path.startswith("/r/")]
    assert sorted(fetched) == ["/r/1", "/r/2"]
    items = [json.loads(line) for line in result.items_path.read_text(encoding="utf-8").splitlines()]
    assert sorted((i["url"], i["source_review_id"]) for i in items) == [
        (f"{site.url}/r/1", f"{site.url}/r/1"), (f"{site.url}/r/2", f"{site.url}/r/2")]



def test_reviews_linked_with_a_new_session_id_on_every_page_are_fetched_once_under_one_address(
        tmp_path: Path) -> None:
    # As a Java site links: every page view hands out a new ;jsessionid, and review 2 carries no id of its own.
    sessions = iter(range(10_000, 99_999))

    def route(site: LocalSite, path: str) -> Answer:
        page = path.split(";")[0]
        session = f";jsessionid=a{next(sessions)}b"
        if page == "/":
            return plain_page("home", [f"/r/1{session}", f"/r/2{session}", f"/?sid=s{next(sessions)}x0123456789ab"])
        if page == "/r/1":
            return review_page(f"{site.url}/r/1{session}", 1, [f"/r/2{session}", f"/{session}"])
        if page == "/r/2":
            answer = review_page(f"{site.url}/r/2{session}", 2, [f"/r/1{session}"])
            answer.body = str(answer.body).replace(f'"@id": "{site.url}/r/2{session}", ', "")
            return answer
        return NOT_FOUND

    with LocalSite(route) as site:
        result = run_crawl("schema_org", [site.url + "/"], source="site", data=tmp_path,
                           settings={"AUTOTHROTTLE_START_DELAY": 0.02, "CLOSESPIDER_TIMEOUT": 30},
                           show_progress=False)
        fetched = sorted(path for path in site.paths() if path.startswith("/r/"))
        homes = site.paths().count("/")
    assert fetched == ["/r/1", "/r/2"] and homes == 1  # /?sid=<session> is the home page
    items = sorted((json.loads(line) for line in result.items_path.read_text(encoding="utf-8").splitlines()),
                   key=lambda item: item["url"])
    assert [(i["url"], i["source_review_id"]) for i in items] == [
        (f"{site.url}/r/1", f"{site.url}/r/1"), (f"{site.url}/r/2", None)]
