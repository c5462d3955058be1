"""The RSS/Atom spider: ratings in feed extensions, film fields, HTML kept as published."""

from __future__ import annotations

from crawlers.items import UnreadableMarkup
from crawlers.spiders.feed import FeedSpider
from flows.normalize.ratings import parse_rating
from tests.crawlers.conftest import make_spider, split_output, xml_response

FEED_URL = "https://reviews.example/feed.xml"

RSS = """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:rev="http://purl.org/stuff/rev#"
     xmlns:letterboxd="https://letterboxd.com">
<channel><title>Latest reviews</title><link>https://reviews.example/</link>
<item>
  <title>Her (2013) review</title><link>https://reviews.example/review/r7/</link>
  <guid isPermaLink="false">r7</guid><pubDate>Fri, 20 Nov 2026 10:00:00 GMT</pubDate>
  <dc:creator>Zoë Ångström</dc:creator>
  <description>&lt;p&gt;Warm &amp;amp; strange. &lt;script&gt;alert(1)&lt;/script&gt;&lt;/p&gt;</description>
  <rev:rating>3.5</rev:rating><rev:maxRating>4</rev:maxRating><rev:minRating>0</rev:minRating>
</item>
<item>
  <title>Breathless, 1960 - ★★★★</title><link>https://letterboxd.example/u/film/breathless/</link>
  <guid isPermaLink="false">letterboxd-review-1</guid>
  <letterboxd:filmTitle>Breathless</letterboxd:filmTitle><letterboxd:filmYear>1960</letterboxd:filmYear>
  <letterboxd:memberRating>4.0</letterboxd:memberRating>
  <description>Cool.</description>
</item>
</channel></rss>"""

ATOM = """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xmlns:rev="http://purl.org/stuff/rev#">
<title>Critic feed</title><link rel="next" href="https://reviews.example/atom?page=2"/>
<entry><title>Alien</title><id>tag:reviews.example,2026:a1</id>
<link href="https://reviews.example/review/a1/"/><updated>2026-11-19T08:00:00Z</updated>
<author><name>Ann Critic</name></author><content type="html">Tense.</content><rev:rating>8</rev:rating>
<rev:maxRating>10</rev:maxRating></entry>
</feed>"""


def parse(body: str) -> tuple[list, list]:
    spider = make_spider(FeedSpider, url=FEED_URL)
    return split_output(list(spider.parse(xml_response(FEED_URL, body))))


def test_rss_rating_extension_is_read():
    items, _ = parse(RSS)
    first = items[0]
    assert (first.source_review_id, first.rating_raw, first.rating_best, first.rating_worst) == ("r7", "3.5", "4", "0")
    assert (first.critic_name, first.published_raw) == ("Zoë Ångström", "Fri, 20 Nov 2026 10:00:00 GMT")


def test_feed_html_is_kept_as_published_not_sanitized():
    items, _ = parse(RSS)
    assert "<script>alert(1)</script>" in items[0].body


def test_letterboxd_member_rating_and_film_fields_are_read():
    items, _ = parse(RSS)
    second = items[1]
    assert (second.film_title, second.film_year, second.rating_raw) == ("Breathless", "1960", "4.0")


def test_atom_entry_and_next_page_link():
    items, requests = parse(ATOM)
    (item,) = items
    assert (item.critic_name, item.rating_raw, item.rating_best, item.body) == ("Ann Critic", "8", "10", "Tense.")
    assert [r.url for r in requests] == ["https://reviews.example/atom?page=2"]


def test_unreadable_feed_is_counted_and_kept_verbatim_not_raised():
    spider = make_spider(FeedSpider, url=FEED_URL)
    (unreadable,) = list(spider.parse(xml_response(FEED_URL, "<html>not a feed")))
    assert isinstance(unreadable, UnreadableMarkup)
    assert unreadable.text == "<html>not a feed" and unreadable.reason.startswith("unreadable feed")
    assert spider.crawler.stats.get_value("reviews/extract_errors") == 1


# A Letterboxd member RSS feed as Letterboxd publishes it: memberRating is 0.5-5 stars in halves, with no scale
# in the feed (the namespace fixes it at 0-5).
LETTERBOXD_RSS = """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:letterboxd="https://letterboxd.com"
     xmlns:tmdb="https://themoviedb.org">
<channel><title>Letterboxd - member</title><link>https://letterboxd.com/member/</link>
<item>
  <title>Breathless, 1960 - ★★★★½</title><link>https://letterboxd.com/member/film/breathless/</link>
  <guid isPermaLink="false">letterboxd-review-101</guid><pubDate>Fri, 20 Nov 2026 10:00:00 +1300</pubDate>
  <letterboxd:watchedDate>2026-11-19</letterboxd:watchedDate><letterboxd:rewatch>No</letterboxd:rewatch>
  <letterboxd:filmTitle>Breathless</letterboxd:filmTitle><letterboxd:filmYear>1960</letterboxd:filmYear>
  <letterboxd:memberRating>4.5</letterboxd:memberRating><tmdb:movieId>269</tmdb:movieId>
  <description><![CDATA[ <p>Cool and loose.</p> ]]></description><dc:creator>Member</dc:creator>
</item>
<item>
  <title>Cats, 2019 - ½</title><link>https://letterboxd.com/member/film/cats-2019/</link>
  <guid isPermaLink="false">letterboxd-review-102</guid><pubDate>Thu, 19 Nov 2026 10:00:00 +1300</pubDate>
  <letterboxd:watchedDate>2026-11-18</letterboxd:watchedDate><letterboxd:rewatch>No</letterboxd:rewatch>
  <letterboxd:filmTitle>Cats</letterboxd:filmTitle><letterboxd:filmYear>2019</letterboxd:filmYear>
  <letterboxd:memberRating>0.5</letterboxd:memberRating><tmdb:movieId>536869</tmdb:movieId>
  <description><![CDATA[ <p>No.</p> ]]></description><dc:creator>Member</dc:creator>
</item>
</channel></rss>"""


def test_letterboxd_member_rating_lands_with_letterboxds_0_to_5_scale():
    items, _ = parse(LETTERBOXD_RSS)
    assert (items[0].rating_raw, items[0].rating_value, items[0].rating_best, items[0].rating_worst) == (
        "4.5", "4.5", "5", "0")


def test_letterboxd_half_star_lands_on_the_same_0_to_5_scale():
    items, _ = parse(LETTERBOXD_RSS)
    assert (items[1].rating_raw, items[1].rating_best, items[1].rating_worst) == ("0.5", "5", "0")


def test_letterboxd_ratings_normalize_to_90_and_10():
    items, _ = parse(LETTERBOXD_RSS)
    scores = [parse_rating(i.rating_raw, i.rating_value, i.rating_best, i.rating_worst).score for i in items]
    assert scores == [90.0, 10.0]

