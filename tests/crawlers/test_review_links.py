"""Links in reviews are resolved against their page, as a browser would; non-links stay out of URL fields."""

from __future__ import annotations

import json
from typing import Any

from crawlers.extraction import extract_page
from crawlers.spiders.schema_org import SchemaOrgSpider
from tests.crawlers.conftest import html_response, make_spider, split_output

URL = "https://reviews.example/film/her-2013/"


def parse(review: dict[str, Any], head: str = "", body: str = "", url: str = URL) -> list:
    block = json.dumps({"@context": "https://schema.org", "@type": "Review", "reviewBody": "Fine.",
                        "itemReviewed": {"@type": "Movie", "name": "Her"}, **review})
    html = (f'<html><head>{head}<script type="application/ld+json">{block}</script></head>'
            f"<body>{body}</body></html>")
    spider = make_spider(SchemaOrgSpider, url=url, follow="false")
    items, _ = split_output(list(spider.parse(html_response(url, html))))
    return items


def test_relative_url_is_resolved_and_identifies_the_review():
    (item,) = parse({"url": "/r/h1"})
    assert (item.url, item.source_review_id) == ("https://reviews.example/r/h1", "https://reviews.example/r/h1")
    assert item.page_url == URL


def test_relative_id_is_resolved():
    (item,) = parse({"@id": "/r/h1"})
    assert (item.source_review_id, item.url) == ("https://reviews.example/r/h1", URL)


def test_path_relative_url_resolves_against_the_page_directory():
    (item,) = parse({"url": "reviews/2"})
    assert item.url == "https://reviews.example/film/her-2013/reviews/2"


def test_fragment_id_is_the_page_url_with_the_fragment():
    (item,) = parse({"@id": "#review-1"})
    assert item.source_review_id == "https://reviews.example/film/her-2013/#review-1"


def test_scheme_relative_url_takes_the_page_scheme():
    (item,) = parse({"url": "//cdn.reviews.example/r/h1"})
    assert item.url == "https://cdn.reviews.example/r/h1"


def test_absolute_url_is_kept_as_published():
    (item,) = parse({"url": "http://other.example/r/h1?a=1"})
    assert item.url == "http://other.example/r/h1?a=1"


def test_published_identifier_is_not_treated_as_a_link():
    (item,) = parse({"identifier": "r1", "url": "/r/h1"})
    assert (item.source_review_id, item.url) == ("r1", "https://reviews.example/r/h1")


def test_relative_critic_url_is_resolved():
    (item,) = parse({"author": {"@type": "Person", "name": "Ann", "url": "/critic/ann/"}})
    assert item.critic_url == "https://reviews.example/critic/ann/"


def test_base_href_is_honoured():
    (item,) = parse({"url": "r/h1", "author": {"name": "Ann", "url": "/critic/ann/"}},
                    head='<base href="https://mirror.example/site/">')
    assert (item.url, item.critic_url) == ("https://mirror.example/site/r/h1", "https://mirror.example/critic/ann/")
    assert item.page_url == URL


def test_empty_url_and_id_do_not_become_the_page_url_as_identifier():
    (item,) = parse({"url": "", "@id": "  ", "author": {"name": "Ann", "url": ""}})
    assert (item.url, item.source_review_id, item.critic_url) == (URL, None, None)


def test_javascript_url_is_not_a_url():
    (item,) = parse({"url": "javascript:void(0)", "author": {"name": "Ann", "url": " JavaScript:alert(1)"}})
    assert (item.url, item.source_review_id, item.critic_url) == (URL, None, None)


def test_data_url_is_not_a_url():
    (item,) = parse({"@id": "data:text/html,<b>x</b>"})
    assert item.source_review_id is None


def test_urn_id_is_kept_as_published():
    (item,) = parse({"@id": "urn:uuid:6e8bc430-9c3a-11d9-9669-0800200c9a66"})
    assert item.source_review_id == "urn:uuid:6e8bc430-9c3a-11d9-9669-0800200c9a66"


def test_blank_node_id_is_not_resolved():
    (item,) = parse({"@id": "_:b0"})
    assert item.source_review_id == "_:b0"


def test_relative_url_in_microdata_meta_is_resolved():
    html = """<html><body><div itemscope itemtype="https://schema.org/Review">
      <meta itemprop="url" content="/r/m1">
      <div itemprop="itemReviewed" itemscope itemtype="https://schema.org/Movie"><span itemprop="name">Her</span></div>
      <p itemprop="reviewBody">Fine.</p></div></body></html>"""
    spider = make_spider(SchemaOrgSpider, url=URL, follow="false")
    (item,), _ = split_output(list(spider.parse(html_response(URL, html))))
    assert (item.url, item.syntax) == ("https://reviews.example/r/m1", "microdata")


def test_relative_film_url_in_summary_is_resolved():
    block = json.dumps({"@context": "https://schema.org", "@type": "Movie", "name": "Her", "url": "/film/her-2013/"})
    page = extract_page(f'<script type="application/ld+json">{block}</script>', "https://reviews.example/x/")
    assert [f.url for f in page.films] == ["https://reviews.example/film/her-2013/"]
