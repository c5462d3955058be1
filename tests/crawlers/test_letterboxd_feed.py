"""Letterboxd member feeds: diary entries that are no review, and Letterboxd's own text around a review."""

from __future__ import annotations

import pytest

from crawlers.spiders.feed import FeedSpider
from tests.crawlers.conftest import make_spider, split_output, xml_response

FEED_URL = "https://letterboxd.com/maria/rss/"


@pytest.fixture
def letterboxd_items(crafted_page) -> dict[str, object]:
    spider = make_spider(FeedSpider, url=FEED_URL)
    body = crafted_page("letterboxd-member-feed.xml").decode("utf-8")
    items, _ = split_output(list(spider.parse(xml_response(FEED_URL, body))))
    return {item.source_review_id: item for item in items}


def one_entry_feed(description: str, namespace: str = 'xmlns:letterboxd="https://letterboxd.com"',
                   fields: str = "<letterboxd:filmTitle>Her</letterboxd:filmTitle>") -> str:
    return f"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0" {namespace}><channel><title>feed</title><link>https://letterboxd.com/maria/</link>
<item><title>Her, 2013</title><link>https://letterboxd.com/maria/film/her/</link>
<guid isPermaLink="false">entry-1</guid>{fields}
<description><![CDATA[ {description} ]]></description></item></channel></rss>"""


def parse_one(description: str, **feed: str) -> list:
    spider = make_spider(FeedSpider, url=FEED_URL)
    items, _ = split_output(list(spider.parse(xml_response(FEED_URL, one_entry_feed(description, **feed)))))
    return items


def test_diary_entry_without_review_or_rating_is_not_a_review(letterboxd_items):
    assert "letterboxd-watch-1002" not in letterboxd_items
    assert sorted(letterboxd_items) == ["letterboxd-review-1001", "letterboxd-review-1003", "letterboxd-watch-1004"]


def test_diary_entry_without_review_is_counted_in_the_crawl_stats(crafted_page):
    spider = make_spider(FeedSpider, url=FEED_URL)
    list(spider.parse(xml_response(FEED_URL, crafted_page("letterboxd-member-feed.xml").decode("utf-8"))))
    assert spider.crawler.stats.get_value("feed/entries_without_review") == 1


def test_rated_diary_entry_without_review_is_a_rating_with_no_body(letterboxd_items):
    item = letterboxd_items["letterboxd-watch-1004"]
    assert (item.film_title, item.film_year, item.external_ids) == ("Alien", "1979", {"tmdb": "348"})
    assert (item.rating_raw, item.rating_best, item.rating_worst, item.body) == ("4.0", "5", "0", None)


def test_spoiler_notice_and_poster_are_not_in_the_review_body(letterboxd_items):
    assert letterboxd_items["letterboxd-review-1001"].body == (
        "<p>Um filme lindo e triste sobre solid&atilde;o. Joaquin est&aacute; perfeito.</p>")


def test_poster_is_not_in_a_short_review_body(letterboxd_items):
    assert letterboxd_items["letterboxd-review-1003"].body == "<p>Boring &amp; long.</p>"


def test_review_that_starts_with_the_words_watched_on_keeps_them():
    (item,) = parse_one("<p><img src=\"https://a.ltrbxd.com/p.jpg\"/></p> <p>Watched on a plane. Loved it.</p>")
    assert item.body == "<p>Watched on a plane. Loved it.</p>"


def test_spoiler_sentence_later_in_a_review_is_the_authors_text():
    (item,) = parse_one("<p>Great.</p> <p><em>This review may contain spoilers.</em></p>")
    assert item.body == "<p>Great.</p> <p><em>This review may contain spoilers.</em></p>"


def test_same_text_in_a_feed_without_letterboxd_fields_is_kept_as_published():
    body = "<p><img src=\"https://ex.test/p.jpg\"/></p> <p>Watched on Friday November 21, 2025.</p>"
    (item,) = parse_one(body, namespace='xmlns:film="https://ex.test/film"',
                        fields="<film:title>Her</film:title>")
    assert item.body == body
