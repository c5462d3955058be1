"""Answers that are not plain HTML pages: a review page served as JSON, XHTML served as XML, and feeds
that are malformed but still readable or simply empty."""

from __future__ import annotations

import logging

from scrapy import Request
from scrapy.http import JsonResponse, TextResponse, XmlResponse

from crawlers.items import UnreadableMarkup
from crawlers.spiders.feed import FeedSpider
from crawlers.spiders.schema_org import SchemaOrgSpider
from tests.crawlers.conftest import make_spider, split_output, xml_response

URL = "https://reviews.example/review/1"
PAGE = ('<html><head><script type="application/ld+json">{"@context": "https://schema.org", "@type": "Review", '
        '"@id": "https://reviews.example/review/1", "itemReviewed": {"@type": "Movie", "name": "Alien"}, '
        '"author": {"@type": "Person", "name": "Ann Critic"}, "reviewBody": "Tense."}</script></head>'
        '<body><a href="/review/2">next</a></body></html>')


def test_a_review_page_served_as_json_lands_without_a_link_extraction_error():
    spider = make_spider(SchemaOrgSpider, url=URL)
    for response in (JsonResponse(URL, body=PAGE.encode(), request=Request(URL)),
                     TextResponse(URL, body=b'{"reviews": []}', encoding="utf-8", request=Request(URL))):
        items, requests = split_output(list(spider.parse(response)))  # raised AttributeError in LinkExtractor
        assert not requests
    assert spider.crawler.stats.get_value("reviews/extracted") == 1


def test_xhtml_served_as_xml_still_has_its_links_followed():
    body = ('<?xml version="1.0" encoding="utf-8"?>\n<html xmlns="http://www.w3.org/1999/xhtml"><head><title>x'
            '</title></head><body><a href="/review/2">next</a></body></html>')
    spider = make_spider(SchemaOrgSpider, url=URL)
    _, requests = split_output(list(spider.parse(XmlResponse(URL, body=body.encode(), request=Request(URL)))))
    assert [r.url for r in requests] == ["https://reviews.example/review/2"]


FEED_URL = "https://reviews.example/feed.xml"
MALFORMED = """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0" xmlns:letterboxd="https://letterboxd.com"><channel><title>Reviews</title>
<item><title>Alien &nbsp; review</title><guid>a1</guid><link>https://reviews.example/a1</link>
<letterboxd:filmTitle>Alien</letterboxd:filmTitle><description>Tense.</description></item>
</channel></rss>"""  # &nbsp; is no XML entity: feedparser's strict parser fails, its lenient one reads the item


def test_a_malformed_feed_with_readable_entries_is_logged_and_counted(caplog):
    spider = make_spider(FeedSpider, url=FEED_URL)
    with caplog.at_level(logging.WARNING):
        items, _ = split_output(list(spider.parse(xml_response(FEED_URL, MALFORMED))))
    assert len(items) == 1 and items[0].body == "Tense."
    assert spider.crawler.stats.get_value("reviews/extract_errors") == 1
    assert any("malformed feed" in record.getMessage() and "undefined entity" in record.getMessage()
               for record in caplog.records)


def test_a_well_formed_feed_is_not_counted_as_malformed():
    spider = make_spider(FeedSpider, url=FEED_URL)
    items, _ = split_output(list(spider.parse(xml_response(FEED_URL, MALFORMED.replace("&nbsp;", "&amp;")))))
    assert len(items) == 1 and not spider.crawler.stats.get_value("reviews/extract_errors")


def test_an_empty_feed_page_is_not_an_unreadable_feed():
    empty = ('<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom"><title>Feed</title>'
             '<link rel="next" href="https://reviews.example/atom?page=3"/></feed>')
    spider = make_spider(FeedSpider, url=FEED_URL)
    results = list(spider.parse(xml_response(FEED_URL, empty)))
    assert not [r for r in results if isinstance(r, UnreadableMarkup)]
    assert [r.url for r in results] == ["https://reviews.example/atom?page=3"]
    assert not spider.crawler.stats.get_value("reviews/extract_errors")


def test_an_html_page_where_a_feed_was_expected_is_still_unreadable():
    spider = make_spider(FeedSpider, url=FEED_URL)
    results = list(spider.parse(xml_response(FEED_URL, "<html><body><p>Moved<br></body></html>")))
    assert [type(r) for r in results] == [UnreadableMarkup]
