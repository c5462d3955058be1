"""The generic schema.org spider on saved real pages and on one small page per edge case."""

from __future__ import annotations

import json

from crawlers.extraction import extract_page
from crawlers.items import UnreadableMarkup
from crawlers.spiders.schema_org import SchemaOrgSpider
from tests.crawlers.conftest import html_response, make_spider, split_output

URL = "https://reviews.example/film/her-2013/"


def parse(body: str, url: str = URL, **kwargs: object) -> tuple[list, list]:
    spider = make_spider(SchemaOrgSpider, url=url, **kwargs)
    return split_output(list(spider.parse(html_response(url, body))))


def page(*blocks: str, body: str = "") -> str:
    scripts = "".join(f'<script type="application/ld+json">{b}</script>' for b in blocks)
    return f"<html><head><title>t</title>{scripts}</head><body>{body}</body></html>"


MOVIE = {
    "@context": "https://schema.org", "@type": "Movie", "name": "Her", "dateCreated": "2013",
    "sameAs": "https://www.imdb.com/title/tt1798709/",
    "aggregateRating": {"@type": "AggregateRating", "ratingValue": 4.1, "bestRating": 5, "worstRating": 0},
    "review": [
        {"@type": "Review", "identifier": "r1", "name": "Tender", "reviewBody": "A tender film.",
         "author": {"@type": "Person", "name": "Zoë Ångström", "url": "/critic/zoe/"},
         "publisher": {"@type": "Organization", "name": "The Daily Reel"},
         "reviewRating": {"@type": "Rating", "ratingValue": "3.5", "bestRating": "4", "worstRating": "0"},
         "datePublished": "2026-11-20", "inLanguage": "en"},
        {"@type": "Review", "identifier": "r2", "reviewBody": "Loved it", "author": {"name": "moviefan"},
         "reviewRating": {"@type": "Rating", "ratingValue": "B+"}},
    ],
}


def test_letterboxd_film_page_gives_movie_with_aggregate_rating(fixture_page):
    result = extract_page(fixture_page("letterboxd-film-breathless.html"), "https://letterboxd.com/film/breathless/")
    assert [(f.title, f.year, f.rating_value, f.rating_best) for f in result.films] == [
        ("Breathless", "1960", "3.92", "5")]
    assert result.errors == []


def test_letterboxd_member_page_without_structured_data_yields_nothing_and_no_error(fixture_page):
    result = extract_page(fixture_page("letterboxd-member-reviews-page.html"), "https://letterboxd.com/x/")
    assert result.reviews == [] and result.errors == []


def test_reviews_nested_in_movie_carry_the_film():
    items, _ = parse(page(json.dumps(MOVIE)))
    assert [i.source_review_id for i in items] == ["r1", "r2"]
    first = items[0]
    assert (first.film_title, first.film_year, first.external_ids) == ("Her", "2013", {"imdb": "tt1798709"})
    assert (first.critic_name, first.outlet, first.audience) == ("Zoë Ångström", "The Daily Reel", "critic")
    assert (first.rating_raw, first.rating_best, first.rating_worst) == ("3.5", "4", "0")
    assert (first.source, first.run_id, first.syntax) == ("test", "run-1", "json-ld")
    assert first.fetched_at


def test_user_review_without_publisher_is_user_and_keeps_letter_grade_raw():
    items, _ = parse(page(json.dumps(MOVIE)))
    assert (items[1].audience, items[1].rating_raw, items[1].rating_best) == ("user", "B+", None)


def test_jsonld_in_cdata_is_read():
    items, _ = parse(page(f"\n/* <![CDATA[ */\n{json.dumps(MOVIE)}\n/* ]]> */\n"))
    assert len(items) == 2


def test_jsonld_in_html_comment_is_read():
    items, _ = parse(page(f"<!--\n{json.dumps(MOVIE)}\n-->"))
    assert len(items) == 2


def test_trailing_commas_and_comments_are_tolerated():
    block = json.dumps(MOVIE)[:-1] + ', // trailing\n}'
    items, _ = parse(page(block))
    assert len(items) == 2


def test_malformed_block_keeps_other_reviews():
    spider = make_spider(SchemaOrgSpider, url=URL)
    broken = '{"@type": "BreadcrumbList", "itemListElement": [{"@type": "ListItem", "position": 1,'
    output = list(spider.parse(html_response(URL, page(broken, json.dumps(MOVIE)))))
    items, _ = split_output(output)
    assert len(items) == 2
    assert spider.crawler.stats.get_value("reviews/extract_errors") == 1
    # a broken breadcrumb list mentions no review or rating: logged and counted, not a reject
    assert not [o for o in output if isinstance(o, UnreadableMarkup)]


def test_a_block_nested_too_deeply_to_read_keeps_the_pages_other_reviews():
    # A RecursionError in the JSON parser or the walk over its objects was a spider exception: the page lost.
    spider = make_spider(SchemaOrgSpider, url=URL)
    arrays = "[" * 100_000 + "]" * 100_000
    objects = '{"@type": "Review", "reviewBody": "Deep", "about": ' * 5_000 + "{}" + "}" * 5_000
    output = list(spider.parse(html_response(URL, page(arrays, objects, json.dumps(MOVIE)))))
    assert [i.source_review_id for i in split_output(output)[0]] == ["r1", "r2"]
    reasons = [o.reason for o in output if isinstance(o, UnreadableMarkup)]
    assert reasons == ["JSON-LD block 2 unreadable: nested too deeply"]  # the one naming a review is a reject
    assert spider.crawler.stats.get_value("reviews/extract_errors") == 2


def test_xhtml_page_with_an_xml_declaration_is_read():
    body = '<?xml version="1.0" encoding="iso-8859-1"?>\n' + page(json.dumps(MOVIE))
    spider = make_spider(SchemaOrgSpider, url=URL)
    output = list(spider.parse(html_response(URL, body)))
    assert [i.source_review_id for i in split_output(output)[0]] == ["r1", "r2"]
    assert not spider.crawler.stats.get_value("reviews/extract_errors")


def test_malformed_block_is_yielded_verbatim_with_its_reason_for_the_rejects():
    # A broken block may have held reviews: it must reach the run's rejects, not only the log.
    spider = make_spider(SchemaOrgSpider, url=URL)
    broken = '{"@type": "Review", "reviewBody": "Lost <b>review</b>", "author": {"name": "Ann"},'
    output = list(spider.parse(html_response(URL, page(broken, json.dumps(MOVIE)))))
    (unreadable,) = [o for o in output if isinstance(o, UnreadableMarkup)]
    assert unreadable.text == broken and unreadable.url == URL
    assert unreadable.reason.startswith("JSON-LD block 1 unreadable")
    assert (unreadable.source, unreadable.run_id) == ("test", "run-1") and unreadable.fetched_at


def test_graph_of_reviews_referencing_item_reviewed_is_read():
    graph = {"@context": "https://schema.org", "@graph": [
        {"@type": "CriticReview", "identifier": "g1", "reviewBody": "Fine.",
         "itemReviewed": {"@type": "Movie", "name": "Alien", "datePublished": "1979"},
         "author": "Ann Critic"}]}
    items, _ = parse(page(json.dumps(graph)))
    assert [(i.film_title, i.film_year, i.critic_name, i.audience) for i in items] == [
        ("Alien", "1979", "Ann Critic", "critic")]


MICRODATA = """
<div itemscope itemtype="https://schema.org/Review">
  <meta itemprop="identifier" content="m1">
  <div itemprop="itemReviewed" itemscope itemtype="https://schema.org/Movie">
    <span itemprop="name">Her</span> (<span itemprop="dateCreated">2013</span>)
    <link itemprop="sameAs" href="https://www.imdb.com/title/tt1798709/">
  </div>
  <span itemprop="author" itemscope itemtype="https://schema.org/Person">
    <a itemprop="url" href="/critic/jose/"><span itemprop="name">José Martínez</span></a></span>
  <span itemprop="publisher" itemscope itemtype="https://schema.org/Organization">
    <span itemprop="name">Cine Diario</span></span>
  <span itemprop="reviewRating" itemscope itemtype="https://schema.org/Rating">
    <span itemprop="ratingValue">★★★½</span></span>
  <p itemprop="reviewBody">&lt;script&gt;alert(1)&lt;/script&gt; '); DROP TABLE reviews; --</p>
</div>"""


def test_microdata_review_with_item_reviewed_is_read():
    items, _ = parse(page(body=MICRODATA), url="https://reviews.example/critic/jose/")
    (item,) = items
    assert (item.film_title, item.film_year, item.external_ids) == ("Her", "2013", {"imdb": "tt1798709"})
    assert (item.critic_name, item.critic_url) == ("José Martínez", "https://reviews.example/critic/jose/")
    assert (item.outlet, item.rating_raw, item.syntax) == ("Cine Diario", "★★★½", "microdata")


def test_hostile_text_is_extracted_verbatim():
    items, _ = parse(page(body=MICRODATA))
    assert items[0].body == "<script>alert(1)</script> '); DROP TABLE reviews; --"


RDFA = """
<div vocab="https://schema.org/" typeof="Review">
  <meta property="identifier" content="u1">
  <div property="itemReviewed" typeof="Movie"><span property="name">Her</span>
    <span property="dateCreated">2013</span></div>
  <span property="author" typeof="Person"><span property="name">moviefan</span></span>
  <span property="reviewRating" typeof="Rating"><span property="ratingValue">4</span>/
    <span property="bestRating">5</span></span>
  <p property="reviewBody">Great.</p>
</div>"""


def test_rdfa_review_is_read():
    items, _ = parse(page(body=RDFA), url="https://reviews.example/user/moviefan/")
    (item,) = items
    assert (item.source_review_id, item.film_title, item.film_year) == ("u1", "Her", "2013")
    assert (item.critic_name, item.rating_raw, item.rating_best, item.audience) == ("moviefan", "4", "5", "user")
    assert item.syntax == "rdfa"


PAGINATION = """
<a rel="next" href="/film/her-2013/reviews/page/2/">Next</a>
<a href="/film/her-2013/reviews/page/3/">3</a>
<a href="https://elsewhere.example/film/">offsite</a>
"""


def test_pagination_links_are_followed_and_offsite_links_are_not():
    _, requests = parse(page(body=PAGINATION))
    urls = {r.url for r in requests}
    assert "https://reviews.example/film/her-2013/reviews/page/2/" in urls
    assert "https://reviews.example/film/her-2013/reviews/page/3/" in urls
    assert not any("elsewhere.example" in u for u in urls)


def test_links_to_fonts_modern_images_modules_and_json_are_not_fetched():
    links = "".join(f'<a href="/static/file.{ext}">x</a>' for ext in ("woff2", "avif", "mjs", "json", "map", "jpg"))
    _, requests = parse(page(body=PAGINATION + links))
    urls = {r.url for r in requests}
    assert not [u for u in urls if "/static/" in u]
    assert "https://reviews.example/film/her-2013/reviews/page/2/" in urls


def test_follow_false_stays_on_the_given_pages():
    _, requests = parse(page(body=PAGINATION), follow="false")
    assert requests == []


def test_windows_1252_page_is_decoded():
    body = page(json.dumps({"@type": "Review", "identifier": "w1", "reviewBody": "Très bien, café",
                            "itemReviewed": {"@type": "Movie", "name": "Amélie"}}, ensure_ascii=False))
    spider = make_spider(SchemaOrgSpider, url=URL)
    items, _ = split_output(list(spider.parse(html_response(URL, body.encode("cp1252"), encoding="cp1252"))))
    assert (items[0].body, items[0].film_title) == ("Très bien, café", "Amélie")


def test_empty_body_is_not_a_crash():
    items, requests = parse("")
    assert items == [] and requests == []


RDFA_LINK_WRAPPED = """
<article vocab="https://schema.org/" typeof="Review">
  <meta property="identifier" content="u2">
  <div property="itemReviewed" typeof="Movie"><a href="/film/her-2013/"><span property="name">Her</span></a>
    <link property="url" href="https://reviews.example/film/her-2013/"></div>
  <span property="author" typeof="Person"><link property="url" href="https://reviews.example/user/fan/">
    <a href="/user/fan/"><span property="name">fan</span></a></span>
  <p property="reviewBody">Fine.</p>
</article>"""


def test_rdfa_name_inside_a_link_still_names_the_item():
    items, _ = parse(page(body=RDFA_LINK_WRAPPED), url="https://reviews.example/user/fan/")
    (item,) = items
    assert (item.film_title, item.critic_name, item.critic_url) == ("Her", "fan", "https://reviews.example/user/fan/")


def test_links_follow_a_start_url_that_redirected_to_another_host():
    from scrapy.http import HtmlResponse, Request

    start = "http://site.example/"
    spider = make_spider(SchemaOrgSpider, url=start)
    landed = HtmlResponse("https://www.site.example/", body=b'<html><body><a href="/films/">Films</a></body></html>',
                          encoding="utf-8",
                          request=Request("https://www.site.example/", meta={"redirect_urls": [start]}))
    _, requests = split_output(list(spider.parse(landed)))
    assert [r.url for r in requests] == ["https://www.site.example/films/"]


def test_links_to_a_host_no_start_url_redirected_to_are_not_followed():
    from scrapy.http import HtmlResponse, Request

    spider = make_spider(SchemaOrgSpider, url="http://site.example/")
    # Reached by following a link, not a start URL: another host stays another site.
    landed = HtmlResponse("https://elsewhere.example/", body=b'<html><body><a href="/films/">Films</a></body></html>',
                          encoding="utf-8", request=Request("https://elsewhere.example/",
                                                            meta={"redirect_urls": ["http://site.example/x/"]}))
    _, requests = split_output(list(spider.parse(landed)))
    assert requests == []


def parse_redirected_sitemap(landed_url: str, loc: str):
    """The spider reading a sitemap that its start URL http://site.example/sitemap.xml redirected to."""
    from scrapy.http import Request, XmlResponse

    start = "http://site.example/sitemap.xml"
    spider = make_spider(SchemaOrgSpider, url=start)
    body = (b'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
            b"<url><loc>" + loc.encode() + b"</loc></url></urlset>")
    landed = XmlResponse(landed_url, body=body, encoding="utf-8",
                         request=Request(landed_url, meta={"redirect_urls": [start]}))
    return spider, list(spider._parse_sitemap(landed))


def test_a_start_sitemap_that_redirected_within_its_site_allows_the_new_host():
    spider, requests = parse_redirected_sitemap("https://www.site.example/sitemap.xml",
                                                "https://www.site.example/film/1/")
    assert [r.url for r in requests] == ["https://www.site.example/film/1/"]
    assert "www.site.example" in spider.allowed_domains


def test_a_start_sitemap_redirected_to_another_site_is_not_read():
    spider, requests = parse_redirected_sitemap("https://parked.example/sitemap.xml", "https://parked.example/ads/")
    assert requests == []
    assert spider.allowed_domains == ["site.example"]


async def _start_requests(spider):
    return [request async for request in spider.start()]


def test_start_requests_may_be_redirected_past_the_offsite_filter_to_be_judged_by_their_site():
    import asyncio

    spider = make_spider(SchemaOrgSpider, url="https://www.site.example/,https://www.site.example/sitemap.xml")
    requests = asyncio.run(_start_requests(spider))
    assert len(requests) == 2 and all(r.meta.get("allow_offsite") for r in requests)


def test_a_start_url_scrapy_rewrote_that_redirected_to_another_site_is_not_read():
    from scrapy.http import HtmlResponse, Request

    spider = make_spider(SchemaOrgSpider, url="https://Site.Example/critiques/été")
    requested = Request("https://Site.Example/critiques/été").url  # host lower-cased, é percent-encoded
    landed = HtmlResponse("https://parked.example/", body=b'<html><body><a href="/x/">x</a></body></html>',
                          encoding="utf-8", request=Request("https://parked.example/",
                                                            meta={"redirect_urls": [requested]}))
    assert list(spider.parse(landed)) == []


def incremental_spider(tmp_path, since: str) -> SchemaOrgSpider:
    state = tmp_path / "state.json"
    state.write_text(json.dumps({"since": since}), encoding="utf-8")
    return make_spider(SchemaOrgSpider, url="https://site.test/sitemap.xml", state=str(state))


def test_a_sitemap_entry_modified_after_the_last_crawl_began_is_read_whatever_the_zone_of_its_lastmod(tmp_path):
    # Time-zone QA: 23:50 in Los Angeles on the 26th is 07:50 UTC on the 27th, after a crawl that began at 07:00
    # UTC; its first ten characters, "2026-11-26", had it skipped until the next full crawl.
    spider = incremental_spider(tmp_path, "2026-11-27T07:00:00")
    entries = [{"loc": "https://site.test/la", "lastmod": "2026-11-26T23:50:00-08:00"},
               {"loc": "https://site.test/utc", "lastmod": "2026-11-27T07:50:00Z"},
               {"loc": "https://site.test/local-day", "lastmod": "2026-11-26"},  # the site's day: UTC may be a day on
               {"loc": "https://site.test/tokyo", "lastmod": "2026-11-27T01:00:00+09:00"},  # 26 November in UTC
               {"loc": "https://site.test/old", "lastmod": "2026-11-25"},
               {"loc": "https://site.test/old-odd", "lastmod": "2026-11-25 10:00:00 UTC"},  # its date: skipped
               {"loc": "https://site.test/month", "lastmod": "2026-11"}]  # unreadable here: read
    kept = [entry["loc"].rsplit("/", 1)[1] for entry in spider.sitemap_filter(entries)]
    assert kept == ["la", "utc", "local-day", "month"]
    assert spider.crawler.stats.get_value("incremental/sitemap_entries_skipped") == 3
