"""Only web addresses are crawled (crawlers/schemes.py): a crawled page's link to `file://<its host>/…` read the
machine's own files and landed them, and one to `file://<host>/dev/zero` read until memory ran out (security QA).
Real crawls, in a child process, of sites served on 127.0.0.1; a start URL the user named stays readable."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import pytest
from scrapy import Request
from scrapy.exceptions import IgnoreRequest

from crawlers.schemes import WebOnlyMiddleware
from flows.crawl import run_crawl
from tests.crawlers.localsite import NOT_FOUND, Answer, LocalSite, logged_stat, plain_page, review_page

FAST = {"AUTOTHROTTLE_START_DELAY": 0.02, "CLOSESPIDER_TIMEOUT": 30}


def _landed(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()] if path.exists() else []


def _secret(tmp_path: Path) -> Path:
    """A local file a crawl must never read: a review page, so the spider would land it if it did."""
    secret = tmp_path / "secret" / "review.html"
    secret.parent.mkdir()
    secret.write_text(review_page("https://secret.example/r", "secret").body, encoding="utf-8")
    return secret


def test_a_pages_link_to_a_local_file_on_the_sites_host_is_not_read(tmp_path: Path) -> None:
    secret = _secret(tmp_path)
    links = [f"file://127.0.0.1{secret}", "file://127.0.0.1/dev/zero", "ftp://127.0.0.1:1/robots.txt", "/r/2"]

    def route(site: LocalSite, path: str) -> Answer:
        return {"/": plain_page("home", links), "/r/2": review_page(site.url + "/r/2", 2)}.get(path, NOT_FOUND)

    with LocalSite(route) as site:
        result = run_crawl("schema_org", [site.url + "/"], source="site", data=tmp_path / "data", settings=FAST,
                           show_progress=False)
    landed = _landed(result.items_path)
    assert [item["film_title"] for item in landed] == ["Film 2"]  # the web link only; "Film secret" was landed
    assert result.stats["finish_reason"] == "finished"


def test_a_feeds_next_page_on_a_local_file_is_not_fetched(tmp_path: Path) -> None:
    secret = tmp_path / "older.xml"
    secret.write_text('<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom" '
                      'xmlns:letterboxd="https://letterboxd.com"><title>t</title><entry><title>Secret</title>'
                      '<letterboxd:filmTitle>Secret</letterboxd:filmTitle><id>s1</id><link href="https://x.example/s1"/><author><name>Eve</name>'
                      '</author><content>Local.</content></entry></feed>', encoding="utf-8")
    feed = ('<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom" xmlns:letterboxd="https://letterboxd.com">'
            f'<title>t</title><link rel="next" href="file://127.0.0.1{secret}"/><entry><title>Alien</title><id>a1</id>'
            '<letterboxd:filmTitle>Alien</letterboxd:filmTitle>'
            '<link href="https://x.example/a1"/><author><name>Ann</name></author><content>Tense.</content>'
            '</entry></feed>')

    def route(site: LocalSite, path: str) -> Answer:
        return Answer(200, feed, content_type="application/atom+xml") if path == "/feed.xml" else NOT_FOUND

    with LocalSite(route) as site:
        result = run_crawl("feed", [site.url + "/feed.xml"], source="feed", data=tmp_path / "data", settings=FAST,
                           show_progress=False)
    assert [item["film_title"] for item in _landed(result.items_path)] == ["Alien"]  # "Secret" was landed too
    assert logged_stat(result.log_path.read_text(encoding="utf-8"), "reviews/refused_scheme") == 1


def test_a_saved_page_named_as_a_start_url_is_still_read(tmp_path: Path) -> None:
    saved = _secret(tmp_path)
    result = run_crawl("schema_org", [saved.as_uri()], source="saved", data=tmp_path / "data", settings=FAST,
                       show_progress=False)
    assert [item["film_title"] for item in _landed(result.items_path)] == ["Film secret"]


@pytest.mark.parametrize("url", ["file://127.0.0.1/etc/passwd", "ftp://127.0.0.1/x", "s3://bucket/key",
                                 "data:text/html,<p>x</p>", "FILE://127.0.0.1/etc/passwd"])
def test_a_request_that_is_not_a_web_address_is_dropped(url: str) -> None:
    counted: list[str] = []
    spider = SimpleNamespace(start_urls=["https://site.example/"], logger=SimpleNamespace(warning=lambda *a: None))
    crawler = SimpleNamespace(spider=spider, stats=SimpleNamespace(inc_value=counted.append))
    with pytest.raises(IgnoreRequest):
        WebOnlyMiddleware(crawler).process_request(Request(url))
    assert counted == ["reviews/refused_scheme"]
    assert WebOnlyMiddleware(crawler).process_request(Request("HTTPS://site.example/x")) is None
