"""Several reviews of one page that share one id still land one each; one review keeps the key it had,
and lands once however many times the page publishes it.

Pages are trimmed copies of the QA corpus of review markup variants (v03, v04, v07, n19).
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from scrapy.exceptions import DropItem

from crawlers.pipelines import InRunDuplicatesPipeline
from crawlers.spiders.schema_org import SchemaOrgSpider
from tests.crawlers.conftest import html_response, make_spider, split_output

URL = "http://127.0.0.1:8765/v03-reviews-share-page-url.html"
HER = {"@context": "https://schema.org", "@type": "Movie", "name": "Her", "datePublished": "2013-12-18"}


def user_review(author: str, body: str, value: str, **shared: Any) -> dict[str, Any]:
    return {"@type": "Review", "author": {"@type": "Person", "name": author}, "reviewBody": body,
            "reviewRating": {"@type": "Rating", "ratingValue": value, "bestRating": "5"}, **shared}


def three_reviews(**shared: Any) -> list[dict[str, Any]]:
    return [user_review("ann", "Loved it", "5", **shared), user_review("bob", "Too slow", "2", **shared),
            user_review("cy", "Lovely", "4", **shared)]


def parse(*blocks: Any, body: str = "") -> tuple[Any, list]:
    scripts = "".join(f'<script type="application/ld+json">{json.dumps(b)}</script>' for b in blocks)
    spider = make_spider(SchemaOrgSpider, url=URL, follow="false")
    html = f"<html><head>{scripts}</head><body>{body}</body></html>"
    items, _ = split_output(list(spider.parse(html_response(URL, html))))
    return spider, items


def landed(spider: Any, items: list) -> list:
    pipeline = InRunDuplicatesPipeline.from_crawler(spider.crawler)
    kept = []
    for item in items:
        try:
            kept.append(pipeline.process_item(item))
        except DropItem:
            pass
    return kept


def test_reviews_sharing_the_page_url_get_one_key_each_and_all_land():
    spider, items = parse({**HER, "review": three_reviews(url=URL)})
    assert [i.source_review_id for i in items] == [f"{URL}#ann|Her", f"{URL}#bob|Her", f"{URL}#cy|Her"]
    assert [i.critic_name for i in landed(spider, items)] == ["ann", "bob", "cy"]


def test_reviews_sharing_one_id_get_one_key_each_and_all_land():
    spider, items = parse({**HER, "review": three_reviews(**{"@id": f"{URL}#review"})})
    assert [i.source_review_id for i in items] == [
        f"{URL}#review#ann|Her", f"{URL}#review#bob|Her", f"{URL}#review#cy|Her"]
    assert [i.rating_raw for i in landed(spider, items)] == ["5", "2", "4"]


def test_reviews_sharing_one_identifier_get_one_key_each_and_all_land():
    spider, items = parse({**HER, "review": three_reviews(identifier="1")})
    assert [i.source_review_id for i in items] == ["1#ann|Her", "1#bob|Her", "1#cy|Her"]
    assert len(landed(spider, items)) == 3


def test_review_alone_with_the_page_url_keeps_it_as_its_key():
    _, (item,) = parse({**HER, "review": [user_review("ann", "Loved it", "5", url=URL)]})
    assert item.source_review_id == URL


def test_reviews_with_their_own_ids_keep_them():
    _, items = parse({**HER, "review": [user_review("ann", "Loved it", "5", identifier="r1"),
                                        user_review("bob", "Too slow", "2", identifier="r2")]})
    assert [i.source_review_id for i in items] == ["r1", "r2"]


def test_one_review_published_in_two_blocks_keeps_its_key_and_lands_once():
    same = {"@context": "https://schema.org", **user_review("ann", "Loved it", "5", url="https://reel.example/r/1"),
            "itemReviewed": {"@type": "Movie", "name": "Her"}}
    spider, items = parse(same, dict(same))
    assert [i.source_review_id for i in items] == ["https://reel.example/r/1"] * 2
    assert len(landed(spider, items)) == 1


def test_one_critics_reviews_of_several_films_sharing_the_page_url_get_one_key_each():
    films = [{"@context": "https://schema.org", **user_review("ann", f"About {name}.", "4", url=URL),
              "itemReviewed": {"@type": "Movie", "name": name}} for name in ("Her", "Alien")]
    spider, items = parse(*films)
    assert [i.source_review_id for i in items] == [f"{URL}#ann|Her", f"{URL}#ann|Alien"]
    assert len(landed(spider, items)) == 2


def test_one_review_in_json_ld_and_in_microdata_keeps_its_id_though_its_bodies_differ():
    block = {"@context": "https://schema.org", **user_review("ann", "Loved it", "5", identifier="r1"),
             "itemReviewed": {"@type": "Movie", "name": "Her"}}
    microdata = """<div itemscope itemtype="https://schema.org/Review"><meta itemprop="identifier" content="r1">
      <span itemprop="itemReviewed">Her</span><span itemprop="author">ann</span>
      <p itemprop="reviewBody">Loved it, and the score too.</p></div>"""
    spider, items = parse(block, body=microdata)
    assert [(i.source_review_id, i.syntax) for i in items] == [("r1", "json-ld"), ("r1", "microdata")]
    assert len(landed(spider, items)) == 1


def test_one_critics_reviews_of_one_film_sharing_the_page_url_with_different_bodies_all_land():
    # A user's first review and a later re-watch, both given the page's url by the template.
    spider, items = parse({**HER, "review": [user_review("ann", "Loved it", "5", url=URL),
                                             user_review("ann", "Less so on a second viewing", "3", url=URL)]})
    assert [i.source_review_id for i in items] == [f"{URL}#ann|Her", f"{URL}#ann|Her#2"]
    assert [i.rating_raw for i in landed(spider, items)] == ["5", "3"]


def test_one_critics_reviews_of_one_film_sharing_one_id_with_different_bodies_all_land():
    spider, items = parse({**HER, "review": [user_review("ann", "Loved it", "5", **{"@id": f"{URL}#review"}),
                                             user_review("ann", "Less so", "3", **{"@id": f"{URL}#review"})]})
    assert [i.source_review_id for i in items] == [f"{URL}#review#ann|Her", f"{URL}#review#ann|Her#2"]
    assert len(landed(spider, items)) == 2


def test_one_review_published_twice_in_one_markup_with_a_cut_short_body_lands_once():
    # A theme's excerpt beside the full text is one review, not two.
    full = {"@context": "https://schema.org", **user_review("ann", "Loved it, every minute.", "5", identifier="r1"),
            "itemReviewed": {"@type": "Movie", "name": "Her"}}
    spider, items = parse(full, {**full, "reviewBody": "Loved it, every…"})
    assert [i.source_review_id for i in items] == ["r1", "r1"]
    assert len(landed(spider, items)) == 1


@pytest.mark.parametrize("excerpt", [
    "Loved it, every minute. Read more",  # the theme's link after the excerpt
    "Loved it, every [&hellip;]",  # WordPress's excerpt ending
    "<p>Loved it, <em>every</em> minute.</p>",  # the same text in markup
    "LOVED IT, every minute!",  # another typography of one text
], ids=["read-more", "wordpress-hellip", "markup", "case-and-punctuation"])
def test_one_review_published_twice_with_a_templates_excerpt_or_markup_lands_once(excerpt: str) -> None:
    full = {"@context": "https://schema.org", **user_review("ann", "Loved it, every minute.", "5", identifier="r1"),
            "itemReviewed": {"@type": "Movie", "name": "Her"}}
    spider, items = parse(full, {**full, "reviewBody": excerpt})
    assert [i.source_review_id for i in items] == ["r1", "r1"]
    assert len(landed(spider, items)) == 1


def test_two_reviews_of_one_film_by_one_critic_opening_alike_for_a_long_way_land_as_one() -> None:
    # The limit of telling copies apart: bodies agreeing on their first 80 letters and digits are one review's.
    opening = "An unhurried, tender film about loneliness and longing in a near-future city that trusts its audience "
    first = {"@context": "https://schema.org", **user_review("ann", opening + "and I loved it.", "5", identifier="r1"),
             "itemReviewed": {"@type": "Movie", "name": "Her"}}
    spider, items = parse(first, {**first, "reviewBody": opening + "but the ending let me down."})
    assert len(landed(spider, items)) == 1


def test_one_critics_two_reviews_of_one_film_in_json_ld_and_in_microdata_land_once_each():
    # The microdata copies differ in spacing and wording; the n-th review of ann's in each markup is one review.
    reviews = [user_review("ann", "Loved it", "5", identifier="r1"),
               user_review("ann", "Less so", "3", identifier="r1")]
    microdata = "".join(f"""<div itemscope itemtype="https://schema.org/Review">
      <meta itemprop="identifier" content="r1"><span itemprop="itemReviewed">Her</span>
      <span itemprop="author">ann</span><p itemprop="reviewBody">{body}</p></div>"""
                        for body in ("Loved   it!", "Less so, in the end."))
    spider, items = parse({**HER, "review": reviews}, body=microdata)
    assert [(i.source_review_id, i.syntax) for i in items] == [
        ("r1#ann|Her", "json-ld"), ("r1#ann|Her#2", "json-ld"),
        ("r1#ann|Her", "microdata"), ("r1#ann|Her#2", "microdata")]
    assert [(i.body, i.syntax) for i in landed(spider, items)] == [("Loved it", "json-ld"), ("Less so", "json-ld")]


def test_rdfa_reviews_of_one_critic_and_film_sharing_one_identifier_are_numbered_in_page_order():
    # RDFa's graph gives a film's reviews in no stable order: numbered as it came, a re-crawl would swap
    # the bodies of two keys and read both reviews as edited.
    reviews = "".join(f"""<div property="review" typeof="Review"><meta property="identifier" content="r1">
      <span property="author">ann</span><p property="reviewBody">Viewing {n}.</p></div>""" for n in range(1, 6))
    page = f'<div vocab="http://schema.org/" typeof="Movie"><span property="name">Her</span>{reviews}</div>'
    spider = make_spider(SchemaOrgSpider, url=URL, follow="false")
    items, _ = split_output(list(spider.parse(html_response(URL, f"<html><body>{page}</body></html>"))))
    assert [(i.body, i.source_review_id) for i in items] == [
        ("Viewing 1.", "r1#ann|Her"), ("Viewing 2.", "r1#ann|Her#2"), ("Viewing 3.", "r1#ann|Her#3"),
        ("Viewing 4.", "r1#ann|Her#4"), ("Viewing 5.", "r1#ann|Her#5")]


def _anonymous_page(*reviews: tuple[str | None, str | None, str, str]) -> list:
    """A Dune page (by year) listing reviews without ids signed Anonymous: (body, rating, film year, markup)."""
    from crawlers.extraction import extract_page

    blocks = []
    for body, rating, year, _ in reviews:
        review = {"@type": "Review", "author": {"@type": "Person", "name": "Anonymous"},
                  "itemReviewed": {"@type": "Movie", "name": "Dune", "datePublished": year}}
        if body:
            review["reviewBody"] = body
        if rating:
            review["reviewRating"] = {"@type": "Rating", "ratingValue": rating, "bestRating": "5"}
        blocks.append(f'<script type="application/ld+json">{json.dumps(review)}</script>')
    page = f"<html><head>{''.join(blocks)}</head><body></body></html>"
    return extract_page(page, "https://site.test/film/dune/reviews").reviews


def test_an_anonymous_review_shown_twice_on_its_page_is_one_item_the_fullest():
    full = "Tender, funny and sad, with a voice performance that carries the whole film."
    reviews = _anonymous_page(("Tender, funny and sad… Read more", "5", "2021", ""), (None, "5", "2021", ""),
                              (full, "5", "2021", ""))
    assert [(r.body, r.rating_raw) for r in reviews] == [(full, "5")]


def test_anonymous_reviews_alike_in_their_opening_but_not_their_rating_or_film_are_all_kept():
    reviews = _anonymous_page(("Boring.", "1", "2021", ""), ("Boring at first, then wonderful.", "4", "2021", ""),
                              ("Boring.", "1", "1984", ""), (None, "3", "2021", ""))
    assert [(r.body, r.rating_raw, r.film_year) for r in reviews] == [
        ("Boring.", "1", "2021"), ("Boring at first, then wonderful.", "4", "2021"), ("Boring.", "1", "1984"),
        (None, "3", "2021")]


def test_a_review_in_json_ld_with_its_url_and_outlet_and_in_microdata_without_them_lands_once():
    # Two copies, one under a critic with the outlet and one without, made one film five reviews for four (site QA).
    block = {**HER, "review": {**user_review("Ann Lee", "<p>Loved it, and the score too.</p>", "5"),
                               "url": "http://127.0.0.1:8765/r/ann-her", "publisher": {"name": "The Daily"}}}
    microdata = """<div itemscope itemtype="https://schema.org/Review">
      <div itemprop="itemReviewed" itemscope itemtype="https://schema.org/Movie"><span itemprop="name">Her</span></div>
      <span itemprop="author">Ann  Lee</span><p itemprop="reviewBody">Loved it, and the score too.</p></div>"""
    _, items = parse(block, body=microdata)
    assert [(i.critic_name, i.outlet, i.syntax) for i in items] == [("Ann Lee", "The Daily", "json-ld")]


def test_two_critics_reviews_of_one_film_in_two_markups_both_land():
    block = {**HER, "review": {**user_review("Ann Lee", "Loved it.", "5"), "url": "http://127.0.0.1:8765/r/1"}}
    microdata = """<div itemscope itemtype="https://schema.org/Review"><span itemprop="itemReviewed">Her</span>
      <span itemprop="author">Bob Ray</span><p itemprop="reviewBody">Loved it.</p></div>"""
    _, items = parse(block, body=microdata)
    assert [i.critic_name for i in items] == ["Ann Lee", "Bob Ray"]


def test_a_shorter_review_of_the_same_film_by_the_same_critic_with_another_rating_in_another_markup_lands():
    block = {**HER, "review": {**user_review("Ann Lee", "Tender.", "2"), "url": "http://127.0.0.1:8765/r/1"}}
    microdata = """<div itemscope itemtype="https://schema.org/Review"><span itemprop="itemReviewed">Her</span>
      <span itemprop="author">Ann Lee</span><p itemprop="reviewBody">Tender, yet on a second viewing it wears thin.</p>
      <div itemprop="reviewRating" itemscope itemtype="https://schema.org/Rating">
      <meta itemprop="ratingValue" content="4"></div></div>"""
    _, items = parse(block, body=microdata)
    assert [(i.critic_name, i.rating_raw) for i in items] == [("Ann Lee", "2"), ("Ann Lee", "4")]


def test_the_rating_of_a_markup_copy_is_kept_when_the_copy_that_lands_has_none():
    block = {**HER, "review": {"@type": "Review", "author": {"@type": "Person", "name": "Ann Lee"},
                               "reviewBody": "Loved it, and the score too.", "url": "http://127.0.0.1:8765/r/1"}}
    microdata = """<div itemscope itemtype="https://schema.org/Review"><span itemprop="itemReviewed">Her</span>
      <span itemprop="author">Ann Lee</span><p itemprop="reviewBody">Loved it, and the score too.</p>
      <div itemprop="reviewRating" itemscope itemtype="https://schema.org/Rating">
      <meta itemprop="ratingValue" content="5"><meta itemprop="bestRating" content="5"></div></div>"""
    _, items = parse(block, body=microdata)
    assert [(i.syntax, i.rating_raw, i.rating_best) for i in items] == [("json-ld", "5", "5")]


def _her_in_two_markups(json_ld_rating: dict, microdata_rating: str) -> list:
    block = {**HER, "review": {"@type": "Review", "author": {"@type": "Person", "name": "Ann Lee"},
                               "reviewBody": "Loved it, and the score too.", "url": "http://127.0.0.1:8765/r/1",
                               "reviewRating": {"@type": "Rating", **json_ld_rating}}}
    microdata = f"""<div itemscope itemtype="https://schema.org/Review"><span itemprop="itemReviewed">Her</span>
      <span itemprop="author">Ann Lee</span><p itemprop="reviewBody">Loved it, and the score too.</p>
      <span itemprop="reviewRating">{microdata_rating}</span></div>"""
    return parse(block, body=microdata)[1]


@pytest.mark.parametrize("microdata_rating", ["4/5", "4 out of 5", "4.0", "4"])
def test_a_markup_copy_whose_rating_is_written_differently_lands_once(microdata_rating: str) -> None:
    items = _her_in_two_markups({"ratingValue": "4", "bestRating": "5"}, microdata_rating)
    assert [(i.syntax, i.rating_raw) for i in items] == [("json-ld", "4")]


@pytest.mark.parametrize("microdata_rating", ["3/5", "4/10", "B+"])
def test_a_markup_copy_with_another_number_or_scale_or_a_rating_in_words_is_kept(microdata_rating: str) -> None:
    items = _her_in_two_markups({"ratingValue": "4", "bestRating": "5"}, microdata_rating)
    assert [i.syntax for i in items] == ["json-ld", "microdata"]


@pytest.mark.parametrize("microdata_rating", ["4/10", "4 out of 10", "4/100"])
def test_a_bare_rating_is_out_of_five_so_a_copy_on_another_scale_is_kept(microdata_rating: str) -> None:
    # A bare 4 without bestRating is schema.org's 4 of 5: taken for the 4/10 copy, the review scored 75, not 40.
    items = _her_in_two_markups({"ratingValue": "4"}, microdata_rating)
    assert [(i.syntax, i.rating_raw) for i in items] == [("json-ld", "4"), ("microdata", microdata_rating)]


def test_a_bare_rating_and_a_copy_out_of_five_are_one() -> None:
    items = _her_in_two_markups({"ratingValue": "4"}, "4/5")
    assert [i.syntax for i in items] == ["json-ld"]
