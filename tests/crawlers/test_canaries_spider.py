"""The schema.org spider's canary pages: which pages it remembers, which it reads again, what it forgets."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from scrapy import Request
from scrapy.http import HtmlResponse
from scrapy.utils.test import get_crawler

from crawlers.canaries import known_pages, pages_file, remember_pages, settle_pages
from crawlers.spiders.schema_org import SchemaOrgSpider


def _spider(tmp_path: Path, incremental: bool = True) -> SchemaOrgSpider:
    state = tmp_path / "state.json"
    state.write_text(json.dumps({"since": "2026-11-20T10:00:00" if incremental else None}), encoding="utf-8")
    crawler = get_crawler(SchemaOrgSpider, {"REVIEWS_DATA_DIR": str(tmp_path), "REVIEWS_CANARY_PAGES": 3})
    return SchemaOrgSpider.from_crawler(crawler, url="https://site.test/sitemap.xml", source="demo",
                                        run_id="run-1", state=str(state))


def _response(url: str, redirected_from: str | None = None, status: int = 200) -> HtmlResponse:
    meta = {"redirect_urls": [redirected_from]} if redirected_from else {}
    return HtmlResponse(url=url, body=b"<html></html>", status=status, request=Request(url, meta=meta))


def test_a_page_that_gave_reviews_is_remembered_as_its_sitemap_names_it_not_where_it_redirected(tmp_path):
    spider = _spider(tmp_path)
    spider.note_page(_response("https://site.test/film/a/", redirected_from="http://site.test/film/a"), 2)
    spider.note_page(_response("https://site.test/film/b/"), 0)
    assert spider.pages_with_reviews == {"http://site.test/film/a"}


def test_a_sitemap_loc_with_unicode_letters_matches_the_page_as_requested(tmp_path):
    spider = _spider(tmp_path)
    requested = Request("https://site.test/film/amélie/").url  # percent-encoded, as the crawl recorded it
    remember_pages(pages_file(tmp_path, "demo"), {requested})
    assert spider.canaries(["https://site.test/film/amélie/", "https://site.test/film/other/"]) == [
        "https://site.test/film/amélie/"]
    assert spider.canary_meta(requested) == {"dont_cache": True, "handle_httpstatus_list": [404, 410]}
    assert spider.canary_meta("https://site.test/film/other/") == {}


def test_a_canary_that_gave_nothing_beside_one_that_did_is_forgotten(tmp_path):
    path = pages_file(tmp_path, "demo")
    remember_pages(path, {"https://site.test/a", "https://site.test/b", "https://site.test/c"})
    spider = _spider(tmp_path)
    spider.canaries(["https://site.test/a", "https://site.test/b"])
    spider.note_page(_response("https://site.test/a"), 3)
    spider.note_page(_response("https://site.test/b"), 0)  # its reviews were taken down
    spider.closed("finished")
    assert known_pages(path) == {"https://site.test/a", "https://site.test/c"}
    assert spider.crawler.stats.get_value("incremental/canary_pages") == 2


def test_canaries_that_all_gave_nothing_are_kept_for_next_week(tmp_path):
    path = pages_file(tmp_path, "demo")
    remember_pages(path, {"https://site.test/a", "https://site.test/b"})
    spider = _spider(tmp_path)
    spider.canaries(["https://site.test/a", "https://site.test/b"])
    spider.note_page(_response("https://site.test/a", status=404), 0)
    spider.note_page(_response("https://site.test/b"), 0)
    spider.closed("finished")
    assert known_pages(path) == {"https://site.test/a", "https://site.test/b"}  # a relaunch stays flagged
    assert spider.crawler.stats.get_value("incremental/canary_missing") == 1


def test_a_complete_full_crawl_lists_the_pages_anew_once_its_load_finds_it_healthy(tmp_path):
    path = pages_file(tmp_path, "demo")
    remember_pages(path, {"https://site.test/old"})
    spider = _spider(tmp_path, incremental=False)
    spider.note_page(_response("https://site.test/new"), 1)
    spider.closed("finished")
    assert known_pages(path) == {"https://site.test/old", "https://site.test/new"}  # added until judged
    settle_pages(tmp_path, "demo", spider.run_id, True)
    assert known_pages(path) == {"https://site.test/new"}
    assert not list((tmp_path / "state" / "full-crawls" / "demo").iterdir())


def test_an_unhealthy_full_crawl_keeps_the_pages_known_before(tmp_path):
    # A full crawl of a site that lost its markup found no page with reviews: an empty list left later runs no
    # canary, and they were "not judged" for weeks (site-drift QA).
    path = pages_file(tmp_path, "demo")
    remember_pages(path, {"https://site.test/a", "https://site.test/b"})
    spider = _spider(tmp_path, incremental=False)
    spider.note_page(_response("https://site.test/a"), 0)
    spider.closed("finished")
    settle_pages(tmp_path, "demo", spider.run_id, False)
    assert known_pages(path) == {"https://site.test/a", "https://site.test/b"}


def test_pages_known_but_listed_by_no_sitemap_are_read_as_canaries_once(tmp_path):
    remember_pages(pages_file(tmp_path, "demo"), {f"https://site.test/reviews/{n}" for n in range(5)})
    spider = _spider(tmp_path)
    spider.listed(["https://site.test/r/1", "https://site.test/r/2"])  # the site moved its pages
    assert spider.canaries(["https://site.test/r/1"]) == []
    chosen = spider.unlisted_canaries()
    assert len(chosen) == 3 and set(chosen) <= {f"https://site.test/reviews/{n}" for n in range(5)}
    assert spider.canary_meta(chosen[0]) == {"dont_cache": True, "handle_httpstatus_list": [404, 410]}
    assert spider.unlisted_canaries() == []  # once a run
    assert spider.crawler.stats.get_value("incremental/canaries_unlisted") == 3


@pytest.mark.parametrize(("incremental", "listed"), [(True, ["https://site.test/reviews/1"]), (False, [""]),
                                                     (True, None)])
def test_no_unlisted_canaries_when_a_sitemap_listed_a_known_page_on_a_full_crawl_or_without_sitemaps(
        tmp_path, incremental, listed):
    # Without sitemaps (a source crawled from its pages) its start pages are read every run, as before.
    remember_pages(pages_file(tmp_path, "demo"), {f"https://site.test/reviews/{n}" for n in range(5)})
    spider = _spider(tmp_path, incremental=incremental)
    if listed is not None:
        spider.listed(listed)
    assert spider.unlisted_canaries() == []


def test_known_pages_that_went_silent_beside_pages_that_still_give_reviews_are_retried(tmp_path):
    remember_pages(pages_file(tmp_path, "demo"), {"https://site.test/a", "https://site.test/b", "https://site.test/c"})
    spider = _spider(tmp_path)
    spider.note_page(_response("https://site.test/a"), 2)
    spider.note_page(_response("https://site.test/b"), 0)  # a soft 404
    spider.note_page(_response("https://site.test/new"), 0)  # never gave reviews: a film or list page
    assert spider.pages_to_retry() == {"https://site.test/b"}


def test_no_page_is_retried_when_more_went_silent_than_gave_reviews(tmp_path):
    # A relaunch: the canaries and the health check report it; retrying every page would only repeat it.
    remember_pages(pages_file(tmp_path, "demo"), {"https://site.test/a", "https://site.test/b", "https://site.test/c"})
    spider = _spider(tmp_path)
    spider.note_page(_response("https://site.test/a"), 2)
    spider.note_page(_response("https://site.test/b"), 0)
    spider.note_page(_response("https://site.test/c"), 0)
    assert spider.pages_to_retry() == set()
