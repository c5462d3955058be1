"""JSON-LD nodes that name each other by `@id` (Yoast/WordPress graphs), and what a review names its film by."""

from __future__ import annotations

import json
from typing import Any

from crawlers.extraction import extract_page
from crawlers.spiders.schema_org import SchemaOrgSpider
from tests.crawlers.conftest import html_response, make_spider, split_output

URL = "https://ex.test/review/1"
HER = {"@type": "Movie", "@id": "https://ex.test/film/her#movie", "name": "Her",
       "sameAs": "https://www.imdb.com/title/tt1798709/"}
JANE = {"@type": "Person", "@id": "https://ex.test/#person-jane", "name": "Jane Doe"}


def review(**fields: Any) -> dict[str, Any]:
    return {"@type": "Review", "@id": URL, "reviewBody": "Tender.", **fields}


def page(*blocks: Any) -> str:
    scripts = "".join(f'<script type="application/ld+json">{json.dumps(b)}</script>' for b in blocks)
    return f"<html><head>{scripts}</head><body></body></html>"


def parse(body: str | bytes) -> list:
    spider = make_spider(SchemaOrgSpider, url=URL)
    items, _ = split_output(list(spider.parse(html_response(URL, body))))
    return items


def test_graph_review_takes_film_and_author_from_the_nodes_it_references(crafted_page):
    (item,) = parse(crafted_page("jsonld-graph-references.html"))
    assert (item.film_title, item.film_year, item.external_ids) == ("Her", "2013-12-18", {"imdb": "tt1798709"})
    assert (item.critic_name, item.rating_raw, item.source_review_id) == ("Jane Doe", "4", URL)


def test_reference_resolves_to_a_node_in_another_jsonld_block():
    graph = {"@context": "https://schema.org", "@graph": [
        HER, review(itemReviewed={"@id": HER["@id"]}, author={"@id": JANE["@id"]})]}
    (item,) = parse(page(graph, {"@context": "https://schema.org", **JANE}))
    assert (item.film_title, item.critic_name) == ("Her", "Jane Doe")


def test_publisher_reference_names_the_outlet():
    org = {"@type": "Organization", "@id": "https://ex.test/#organization", "name": "The Daily Reel"}
    graph = {"@graph": [org, HER, review(itemReviewed={"@id": HER["@id"]}, publisher={"@id": org["@id"]})]}
    (item,) = parse(page(graph))
    assert (item.outlet, item.audience) == ("The Daily Reel", "critic")


def test_unresolved_author_reference_is_no_critic_name_not_its_url():
    (item,) = parse(page(review(itemReviewed=HER, author={"@id": "https://ex.test/#person-nobody"})))
    assert item.critic_name is None


def test_author_given_as_a_web_address_is_no_critic_name():
    (item,) = parse(page(review(itemReviewed=HER, author="https://ex.test/#person-nobody")))
    assert item.critic_name is None


def test_unresolved_item_reviewed_reference_still_gives_its_imdb_id():
    (item,) = parse(page(review(itemReviewed={"@id": "https://www.imdb.com/title/tt1798709/"})))
    assert (item.film_title, item.external_ids) == (None, {"imdb": "tt1798709"})


def test_film_listing_its_reviews_by_reference_gives_each_review_once_with_the_film():
    # The review node comes first, with no itemReviewed: only the Movie's `review` list ties it to its film.
    graph = {"@graph": [review(author={"@id": JANE["@id"]}), JANE, {**HER, "review": [{"@id": URL}]}]}
    result = extract_page(page(graph), URL)
    assert [(r.film_title, r.critic_name) for r in result.reviews] == [("Her", "Jane Doe")]
    assert [f.title for f in result.films] == ["Her"]


def test_cycles_and_self_references_end_and_resolve_to_nothing_new():
    movie = {**HER, "review": {"@id": URL}, "hasPart": {"@id": HER["@id"]}, "mainEntity": [{"@id": HER["@id"]}]}
    graph = {"@graph": [movie, review(itemReviewed={"@id": HER["@id"]}, author={"@id": URL})]}
    result = extract_page(page(graph), URL)
    assert [(r.film_title, r.critic_name) for r in result.reviews] == [("Her", None)]
    assert [f.title for f in result.films] == ["Her"]


def test_review_whose_item_reviewed_is_itself_has_no_film():
    (item,) = parse(page(review(name="My take", itemReviewed={"@id": URL})))
    assert (item.film_title, item.review_title) == (None, "My take")


def test_node_defined_in_two_blocks_is_one_review_with_both_parts():
    first = review(itemReviewed={"@id": HER["@id"]})
    second = {"@type": "Review", "@id": URL, "author": {"@type": "Person", "name": "Jane Doe"}}
    (item,) = parse(page({"@graph": [HER, first]}, second))
    assert (item.film_title, item.critic_name, item.body) == ("Her", "Jane Doe", "Tender.")


def test_plain_text_item_reviewed_is_the_film_name_with_its_year_left_to_the_flows():
    (item,) = parse(page(review(itemReviewed="Her (2013)", author="Jane Doe")))
    assert (item.film_title, item.film_year, item.external_ids) == ("Her (2013)", None, {})


def test_item_reviewed_given_as_a_web_address_is_read_as_a_reference():
    graph = {"@graph": [HER, review(itemReviewed=HER["@id"])]}
    (item,) = parse(page(graph))
    assert (item.film_title, item.external_ids) == ("Her", {"imdb": "tt1798709"})


def test_review_nested_in_a_movie_takes_the_movie_over_an_unresolved_reference():
    movie = {**HER, "review": [review(itemReviewed={"@id": "https://ex.test/film/elsewhere#movie"})]}
    (item,) = parse(page(movie))
    assert (item.film_title, item.external_ids) == ("Her", {"imdb": "tt1798709"})


def test_review_sharing_its_id_with_the_webpage_is_still_a_review():
    webpage = {"@context": "https://schema.org", "@type": "WebPage", "@id": URL, "name": "Her review"}
    result = extract_page(page(webpage, review(itemReviewed=HER)), URL)
    assert [(r.film_title, r.body) for r in result.reviews] == [("Her", "Tender.")]


def test_reviews_sharing_one_id_but_with_distinct_identifiers_are_two_reviews():
    first = review(identifier="r1", itemReviewed=HER, reviewBody="Tender.")
    second = review(identifier="r2", itemReviewed=HER, reviewBody="Cold.")
    result = extract_page(page(first, second), URL)
    assert [(r.source_review_id, r.body) for r in result.reviews] == [("r1", "Tender."), ("r2", "Cold.")]


def test_film_defined_in_two_blocks_keeps_the_reviews_of_both():
    def nested(n: int) -> dict[str, Any]:
        return {"@type": "Review", "identifier": f"r{n}", "reviewBody": f"Body {n}."}
    first = {**HER, "review": [nested(1), nested(2)]}
    second = {**HER, "review": [nested(3)]}
    result = extract_page(page(first, second), URL)
    assert [(r.source_review_id, r.film_title) for r in result.reviews] == [
        ("r1", "Her"), ("r2", "Her"), ("r3", "Her")]
    assert [f.title for f in result.films] == ["Her"]


def test_reviews_sharing_one_id_but_by_different_authors_are_separate_reviews():
    # A template giving every review of a page one @id: the definitions disagree on author, body and rating.
    def shared(author: str, body: str, value: str) -> dict[str, Any]:
        return {"@type": "Review", "@id": f"{URL}#review", "author": {"@type": "Person", "name": author},
                "reviewBody": body, "reviewRating": {"@type": "Rating", "ratingValue": value, "bestRating": "5"}}
    movie = {**HER, "review": [shared("ann", "Loved it", "5"), shared("bob", "Too slow", "2")]}
    result = extract_page(page(movie), URL)
    assert [(r.critic_name, r.body, r.rating_raw, r.film_title) for r in result.reviews] == [
        ("ann", "Loved it", "5", "Her"), ("bob", "Too slow", "2", "Her")]


def test_one_review_whose_author_is_a_reference_in_one_block_and_an_object_in_another_is_merged():
    first = review(itemReviewed={"@id": HER["@id"]}, author={"@id": JANE["@id"]})
    second = {"@type": "Review", "@id": URL, "author": {"@type": "Person", "name": "Jane Doe"}, "reviewBody": "Tender."}
    (item,) = parse(page({"@graph": [HER, JANE, first]}, second))
    assert (item.film_title, item.critic_name, item.body) == ("Her", "Jane Doe", "Tender.")


def test_relative_id_reference_finds_the_node_defined_with_the_absolute_id():
    movie = {**HER, "@id": f"{URL}#movie"}
    graph = {"@graph": [movie, review(itemReviewed={"@id": "#movie"}, author="Jane Doe")]}
    (item,) = parse(page(graph))
    assert (item.film_title, item.external_ids) == ("Her", {"imdb": "tt1798709"})


def test_blank_node_reference_is_not_resolved_against_the_page():
    movie = {**HER, "@id": "_:movie"}
    graph = {"@graph": [movie, review(itemReviewed={"@id": "_:movie"})]}
    (item,) = parse(page(graph))
    assert item.film_title == "Her"


def test_reviews_of_a_movie_the_web_page_is_about_are_found():
    nested = [{"@type": "Review", "author": {"@type": "Person", "name": name}, "reviewBody": body}
              for name, body in (("Jane Doe", "Tender and funny."), ("John Roe", "Overlong and precious."))]
    webpage = {"@context": "https://schema.org", "@type": "WebPage", "about": {**HER, "review": nested}}
    result = extract_page(page(webpage), URL)
    assert [(r.film_title, r.critic_name) for r in result.reviews] == [("Her", "Jane Doe"), ("Her", "John Roe")]
    assert [f.title for f in result.films] == ["Her"]


def test_review_that_is_the_subject_of_a_movie_is_found():
    subject = {"@type": "Review", "author": {"@type": "Person", "name": "Jane Doe"}, "reviewBody": "Tender and funny."}
    result = extract_page(page({"@context": "https://schema.org", **HER, "subjectOf": subject}), URL)
    assert [(r.film_title, r.critic_name) for r in result.reviews] == [("Her", "Jane Doe")]
