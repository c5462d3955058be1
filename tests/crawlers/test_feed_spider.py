"""The RSS/Atom spider: ratings in feed extensions, film fields, HTML kept as published."""

from __future__ import annotations

import pytest
from scrapy import Request
from scrapy.http import XmlResponse

from crawlers.items import RefusedReview, UnreadableMarkup
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



def rss(items: str, namespaces: str = "") -> str:
    return (f'<?xml version="1.0"?><rss version="2.0" {namespaces}><channel><title>t</title>{items}'
            "</channel></rss>")


def test_a_rating_is_read_by_its_namespace_whatever_prefix_the_feed_binds():
    items, _ = parse(rss('<item><title>x</title><guid>tag:a,2026:1</guid><r:rating>9</r:rating>'
                         '<r:maxRating>10</r:maxRating></item>', 'xmlns:r="http://purl.org/stuff/rev#"'))
    assert (items[0].rating_raw, items[0].rating_best) == ("9", "10")


def test_letterboxd_ratings_under_another_prefix_keep_their_0_to_5_scale():
    items, _ = parse(rss('<item><title>x</title><guid>tag:a,2026:1</guid><lb:memberRating>4.5</lb:memberRating>'
                         '</item>', 'xmlns:lb="https://letterboxd.com"'))
    assert (items[0].rating_raw, items[0].rating_best, items[0].rating_worst) == ("4.5", "5", "0")


def test_the_demo_feeds_imdb_id_and_displayed_rating_are_read():
    namespace = 'xmlns:film="https://demo-film-reviews.invalid/ns/film#"'
    items, _ = parse(rss('<item><title>x</title><guid>tag:a,2026:1</guid><film:imdbId>tt1798709</film:imdbId>'
                         '<film:ratingDisplayed>B+</film:ratingDisplayed></item>', namespace))
    assert (items[0].external_ids, items[0].rating_raw) == ({"imdb": "tt1798709"}, "B+")


def test_a_critic_is_named_without_the_email_address_the_feed_gives():
    items, _ = parse(rss('<item><title>x</title><guid>tag:a,2026:1</guid>'
                         '<author>jane@example.com (Jane Doe)</author></item>'))
    atom = ('<feed xmlns="http://www.w3.org/2005/Atom"><title>t</title><entry><title>x</title><id>tag:a,1:2</id>'
            "<author><name>Kim Ode</name><email>noreply@blogger.com</email></author></entry></feed>")
    atom_items, _ = parse(atom)
    assert (items[0].critic_name, atom_items[0].critic_name) == ("Jane Doe", "Kim Ode")


def test_a_guid_given_twice_in_a_feed_to_two_critics_reviews_is_refused_with_a_reason():
    spider = make_spider(FeedSpider, url=FEED_URL)
    body = rss('<item><title>a</title><guid isPermaLink="false">1</guid><dc:creator>Xavier Ant</dc:creator>'
               '<film:title>Arrival</film:title></item>'
               '<item><title>b</title><guid isPermaLink="false">1</guid><dc:creator>Yolanda Bee</dc:creator>'
               '<film:title>Her</film:title></item>',
               'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:film="https://demo-film-reviews.invalid/ns/film#"')
    first, refused = list(spider.parse(xml_response(FEED_URL, body)))
    assert first.critic_name == "Xavier Ant"
    assert isinstance(refused, RefusedReview) and "already named 'Xavier Ant'" in refused.reason


def test_a_page_served_as_html_is_named_as_such_not_as_a_missing_content_type():
    spider = make_spider(FeedSpider, url=FEED_URL)
    page = XmlResponse(url=FEED_URL, body=b"<html><body>no feed</body></html>", request=Request(FEED_URL),
                       headers={"Content-Type": "text/html; charset=utf-8"})
    (unreadable,) = list(spider.parse(page))
    assert "no Content-type" not in unreadable.reason and "text/html" in unreadable.reason


@pytest.mark.parametrize(("label", "encoding", "name", "body"), [
    # Characters only the Windows code pages browsers read these labels as have: Python's strict shift_jis and
    # euc_kr failed, feedparser fell back to a Western code page, and mojibake landed in silence (encodings QA).
    ("Shift_JIS", "cp932", "山田太郎", "素晴らしい～①"),
    ("EUC-KR", "cp949", "김똠", "정말 훌륭한 영화"),
    ("gb2312", "gb18030", "张艺谋", "非常精彩的电影"),
])
@pytest.mark.parametrize("in_header", [False, True])
def test_a_feed_in_a_legacy_cjk_encoding_is_read_as_browsers_read_its_label(label, encoding, name, body, in_header):
    feed = (f'<?xml version="1.0" encoding="{label}"?><rss version="2.0"><channel><title>t</title>'
            f"<item><title>Her</title><guid>g1</guid><dc:creator xmlns:dc=\"http://purl.org/dc/elements/1.1/\">"
            f"{name}</dc:creator><description>{body}</description></item></channel></rss>")
    headers = {"Content-Type": f"application/rss+xml; charset={label}"} if in_header else {}
    response = XmlResponse(url=FEED_URL, body=feed.encode(encoding), headers=headers, request=Request(FEED_URL))
    items, _ = split_output(list(make_spider(FeedSpider, url=FEED_URL).parse(response)))
    assert [(item.critic_name, item.body) for item in items] == [(name, body)]


@pytest.mark.parametrize("label", ["us-ascii", "utf8mb4"])
def test_a_utf8_feed_with_a_wrong_label_is_still_read_as_utf8(label):
    # Review: a label browsers read as windows-1252 made "Amélie" land as "AmÃ©lie".
    feed = (f'<?xml version="1.0" encoding="{label}"?><rss version="2.0"><channel><title>t</title>'
            "<item><title>Amélie (2001) review</title><guid>g1</guid><description>Zoë – très bien</description></item>"
            "</channel></rss>")
    response = XmlResponse(url=FEED_URL, body=feed.encode("utf-8"), request=Request(FEED_URL))
    items, _ = split_output(list(make_spider(FeedSpider, url=FEED_URL).parse(response)))
    assert [item.body for item in items] == ["Zoë – très bien"]
