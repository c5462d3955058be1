"""Who wrote a review: names and profile urls as published in each markup, staff reviews, co-authors.

Pages are trimmed copies of the QA corpus of review markup variants (a01-a10, m03, x03, s05).
"""

from __future__ import annotations

import json
from typing import Any

from crawlers.spiders.schema_org import SchemaOrgSpider
from tests.crawlers.conftest import html_response, make_spider, split_output

URL = "https://reel.example/reviews/her"
HER = {"@type": "Movie", "name": "Her", "sameAs": "https://www.imdb.com/title/tt1798709/"}
DAILY_REEL = {"@type": "Organization", "name": "The Daily Reel"}


def parse(body: str) -> list:
    spider = make_spider(SchemaOrgSpider, url=URL, follow="false")
    items, _ = split_output(list(spider.parse(html_response(URL, body))))
    return items


def review(**fields: Any) -> list:
    block = json.dumps({"@context": "https://schema.org", "@type": "Review", "itemReviewed": HER,
                        "reviewBody": "Tender.", **fields})
    return parse(f'<html><head><script type="application/ld+json">{block}</script></head><body></body></html>')


def test_person_with_given_and_family_name_but_no_name_is_called_by_both():
    (item,) = review(author={"@type": "Person", "givenName": "Jane", "familyName": "Doe"})
    assert item.critic_name == "Jane Doe"


def test_name_wins_over_given_and_family_name():
    (item,) = review(author={"@type": "Person", "name": "J. Doe", "givenName": "Jane", "familyName": "Doe"})
    assert item.critic_name == "J. Doe"


def test_author_given_as_an_address_is_the_critic_url_and_no_name():
    (item,) = review(author="https://reel.example/critics/jane-doe", publisher=DAILY_REEL)
    assert (item.critic_name, item.critic_url) == (None, "https://reel.example/critics/jane-doe")


def test_unresolved_author_id_that_is_a_web_address_is_the_critic_url():
    (item,) = review(author={"@type": "Person", "@id": "https://reel.example/#jane"}, publisher=DAILY_REEL)
    assert (item.critic_name, item.critic_url) == (None, "https://reel.example/#jane")


def test_unresolved_author_id_naming_a_fragment_of_the_page_is_no_critic_url():
    (item,) = review(author={"@id": "#author"})
    assert (item.critic_name, item.critic_url) == (None, None)


def test_author_with_only_a_url_has_no_name_and_the_url_as_critic_url():
    # The address is no name: the flows refuse the review as "no author name (the page gives only the
    # address …)", where taking it for a name would credit a critic called "https://…".
    (item,) = review(author={"@type": "Person", "url": "https://example.org/users/jdoe"})
    assert (item.critic_name, item.critic_url) == (None, "https://example.org/users/jdoe")


def test_microdata_author_person_with_only_a_url_has_no_name_and_the_url_as_critic_url():
    body = """<div itemscope itemtype="http://schema.org/Review"><span itemprop="itemReviewed">Her (2013)</span>
      <div itemprop="author" itemscope itemtype="http://schema.org/Person"><link itemprop="url" href="/users/jdoe">
      </div><div itemprop="reviewBody">Tender.</div></div>"""
    (item,) = parse(f"<html><body>{body}</body></html>")
    assert (item.critic_name, item.critic_url) == (None, "https://reel.example/users/jdoe")


def test_rdfa_author_person_with_only_a_url_has_no_name_and_the_url_as_critic_url():
    body = """<div vocab="http://schema.org/" typeof="Review"><span property="itemReviewed">Her (2013)</span>
      <div property="author" typeof="Person"><a property="url" href="/users/jdoe">profile</a></div>
      <div property="reviewBody">Tender.</div></div>"""
    (item,) = parse(f"<html><body>{body}</body></html>")
    assert (item.critic_name, item.critic_url) == (None, "https://reel.example/users/jdoe")


def test_author_same_as_is_the_critic_url():
    (item,) = review(author={"@type": "Person", "name": "Matt Zoller Seitz",
                             "sameAs": "https://rogerebert.example/contributors/matt-zoller-seitz"})
    assert item.critic_url == "https://rogerebert.example/contributors/matt-zoller-seitz"


def test_author_url_comes_before_its_same_as():
    (item,) = review(author={"name": "Jane Doe", "url": "/critics/jane",
                             "sameAs": ["https://en.wikipedia.org/wiki/Jane_Doe"]})
    assert item.critic_url == "https://reel.example/critics/jane"


def test_microdata_author_link_gives_its_text_as_name_and_its_href_as_critic_url():
    body = """<div itemscope itemtype="http://schema.org/Review"><span itemprop="itemReviewed">Her (2013)</span>
      by <a itemprop="author" href="/critics/jane">Jane Doe</a><div itemprop="reviewBody">Tender.</div></div>"""
    (item,) = parse(f"<html><body>{body}</body></html>")
    assert (item.critic_name, item.critic_url) == ("Jane Doe", "https://reel.example/critics/jane")


def test_microdata_author_link_without_text_keeps_its_address_as_published():
    body = """<div itemscope itemtype="http://schema.org/Review"><span itemprop="itemReviewed">Her (2013)</span>
      <link itemprop="author" href="/critics/jane"><div itemprop="reviewBody">Tender.</div></div>"""
    (item,) = parse(f"<html><body>{body}</body></html>")
    assert (item.critic_name, item.critic_url) == ("https://reel.example/critics/jane", None)


def test_microdata_plain_text_author_is_kept_as_published():
    body = """<div itemscope itemtype="http://schema.org/Review"><span itemprop="itemReviewed">Her (2013)</span>
      <span itemprop="author">By Jane Doe</span> <a href="/critics/jane">profile</a>
      <div itemprop="reviewBody">Tender.</div></div>"""
    (item,) = parse(f"<html><body>{body}</body></html>")
    assert (item.critic_name, item.critic_url) == ("By Jane Doe", None)


def test_rdfa_author_link_gives_its_text_as_name_and_its_href_as_critic_url():
    body = """<div vocab="http://schema.org/" typeof="Review"><span property="itemReviewed">Her (2013)</span>
      by <a property="author" href="/critics/jane">Jane Doe</a><div property="reviewBody">Tender.</div></div>"""
    (item,) = parse(f"<html><body>{body}</body></html>")
    assert (item.critic_name, item.critic_url, item.syntax) == ("Jane Doe", "https://reel.example/critics/jane", "rdfa")


def test_organization_author_without_publisher_is_a_staff_review_of_that_outlet():
    # An organization is a publication, never a site's user: it is the outlet, and the critic of its
    # staff review (every review keeps a critic).
    (item,) = review(author=DAILY_REEL)
    assert (item.critic_name, item.outlet, item.audience) == ("The Daily Reel", "The Daily Reel", "critic")


def test_organization_author_with_a_publisher_keeps_the_publisher_as_outlet():
    (item,) = review(author={"@type": "NewsMediaOrganization", "name": "Reel Staff"}, publisher=DAILY_REEL)
    assert (item.critic_name, item.outlet, item.audience) == ("Reel Staff", "The Daily Reel", "critic")


def test_person_author_without_publisher_is_still_a_user():
    (item,) = review(author={"@type": "Person", "name": "moviefan"})
    assert (item.outlet, item.audience) == (None, "user")


def test_co_authored_review_is_credited_to_its_first_author_only():
    (item,) = review(author=[{"@type": "Person", "name": "Jane Doe", "url": "/critics/jane"},
                             {"@type": "Person", "name": "John Roe", "url": "/critics/john"}], publisher=DAILY_REEL)
    assert (item.critic_name, item.critic_url) == ("Jane Doe", "https://reel.example/critics/jane")


def test_co_authors_after_the_first_are_kept_by_name_in_page_order():
    (item,) = review(author=[{"@type": "Person", "name": "Jane Doe"}, {"@type": "Person", "name": "John Roe"},
                             {"@type": "Person", "givenName": "Ann", "familyName": "Poe"}], publisher=DAILY_REEL)
    assert (item.critic_name, item.co_authors) == ("Jane Doe", ["John Roe", "Ann Poe"])


def test_review_with_one_author_has_no_co_authors():
    (item,) = review(author={"@type": "Person", "name": "Jane Doe"})
    assert item.co_authors == []


def test_co_author_given_only_as_an_address_is_left_out_of_co_authors():
    (item,) = review(author=[{"@type": "Person", "name": "Jane Doe"}, {"@type": "Person", "url": "/critics/john"}])
    assert item.co_authors == []


def test_microdata_co_authors_are_kept_by_name():
    body = """<div itemscope itemtype="http://schema.org/Review"><span itemprop="itemReviewed">Her (2013)</span>
      by <a itemprop="author" href="/critics/jane">Jane Doe</a> and <span itemprop="author">John Roe</span>
      <div itemprop="reviewBody">Tender.</div></div>"""
    (item,) = parse(f"<html><body>{body}</body></html>")
    assert (item.critic_name, item.co_authors) == ("Jane Doe", ["John Roe"])


def test_the_first_author_with_a_name_is_the_critic_when_the_first_is_given_only_as_an_address():
    # Taking the nameless first author had the load refuse the review ("no author name") though a named author
    # wrote it too.
    (item,) = review(author=[{"@type": "Person", "url": "/critics/john"}, {"@type": "Person", "name": "Jane Doe",
                                                                        "url": "/critics/jane"},
                             {"@type": "Person", "name": "Ann Lee"}])
    assert (item.critic_name, item.critic_url, item.co_authors) == (
        "Jane Doe", "https://reel.example/critics/jane", ["Ann Lee"])
