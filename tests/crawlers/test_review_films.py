"""What film a review is about: IMDb's stubs, items that are no film, TV episodes, and external ids.

Pages are trimmed copies of the QA corpus of review markup variants (s01, f06, f09, f10, f12).
"""

from __future__ import annotations

import json
from typing import Any

from crawlers.extraction import extract_page
from crawlers.pipelines import validation_problems
from crawlers.spiders.schema_org import SchemaOrgSpider
from tests.crawlers.conftest import html_response, make_spider, split_output

URL = "https://reel.example/reviews/her"
IMDB_URL = "https://www.imdb.com/title/tt0119448/reviews"
# IMDb's own title page: relative urls, and a review whose itemReviewed is a name-less stub of the Movie.
KARAKTER = {
    "@context": "http://schema.org", "@type": "Movie", "url": "/title/tt0119448/", "name": "Karakter",
    "datePublished": "1998-03-27",
    "review": {"@type": "Review", "itemReviewed": {"@type": "CreativeWork", "url": "/title/tt0119448/"},
               "author": {"@type": "Person", "name": "khatcher-2"}, "dateCreated": "2004-04-10",
               "reviewBody": "The acting is magnificent.",
               "reviewRating": {"@type": "Rating", "worstRating": "1", "bestRating": "10", "ratingValue": "7"}},
}


def page(*blocks: Any) -> str:
    scripts = "".join(f'<script type="application/ld+json">{json.dumps(b)}</script>' for b in blocks)
    return f"<html><head>{scripts}</head><body></body></html>"


def parse(body: str, url: str = URL) -> list:
    spider = make_spider(SchemaOrgSpider, url=url, follow="false")
    items, _ = split_output(list(spider.parse(html_response(url, body))))
    return items


def reviewing(item_reviewed: Any) -> Any:
    (item,) = parse(page({"@context": "https://schema.org", "@type": "Review", "itemReviewed": item_reviewed,
                          "author": {"@type": "Person", "name": "Jane Doe"}, "reviewBody": "Tender."}))
    return item


def test_imdb_review_whose_item_reviewed_is_a_nameless_stub_keeps_the_movie_it_is_nested_in():
    (item,) = parse(page(KARAKTER), url=IMDB_URL)
    assert (item.film_title, item.film_year, item.external_ids) == ("Karakter", "1998-03-27", {"imdb": "tt0119448"})
    assert (item.critic_name, item.rating_raw, item.published_raw) == ("khatcher-2", "7", "2004-04-10")


def test_stub_with_the_movies_url_and_its_own_name_adds_to_the_movie():
    movie = {**KARAKTER, "review": {**KARAKTER["review"], "itemReviewed": {
        "@type": "CreativeWork", "url": "https://www.imdb.com/title/tt0119448/", "name": "Character"}}}
    (item,) = parse(page(movie), url=IMDB_URL)
    assert (item.film_title, item.external_ids) == ("Karakter", {"imdb": "tt0119448"})


def test_item_reviewed_naming_another_film_wins_over_the_movie_it_is_nested_in():
    movie = {**KARAKTER, "review": {**KARAKTER["review"], "itemReviewed": {"@type": "Movie", "name": "Her"}}}
    (item,) = parse(page(movie), url=IMDB_URL)
    assert (item.film_title, item.external_ids) == ("Her", {})


def test_relative_film_url_on_imdb_gives_the_imdb_id_of_the_film_summary():
    result = extract_page(page({**KARAKTER, "review": []}), IMDB_URL)
    assert [(f.title, f.external_ids) for f in result.films] == [("Karakter", {"imdb": "tt0119448"})]


def test_relative_item_reviewed_url_on_imdb_gives_the_imdb_id():
    item = reviewing({"@type": "CreativeWork", "url": "/title/tt0119448/"})
    assert (item.film_title, item.external_ids) == (None, {})  # on another site it is that site's page
    (item,) = parse(page({"@type": "Review", "itemReviewed": {"@type": "CreativeWork", "url": "/title/tt0119448/"},
                          "reviewBody": "Fine."}), url=IMDB_URL)
    assert item.external_ids == {"imdb": "tt0119448"}


def test_review_of_a_book_has_no_film_and_is_refused_with_its_text():
    item = reviewing({"@type": "Book", "name": "Her: The Screenplay", "isbn": "9780000000000"})
    assert (item.film_title, item.external_ids, item.body) == (None, {}, "Tender.")
    assert "no film: neither title nor external id" in validation_problems(item.to_dict())


def test_item_reviewed_typed_only_as_thing_is_still_read_as_the_film():
    assert reviewing({"@type": "Thing", "name": "Her"}).film_title == "Her"


def test_tv_episode_is_titled_with_its_series():
    item = reviewing({"@type": "TVEpisode", "name": "Pilot", "episodeNumber": 1, "datePublished": "2014-06-29",
                      "partOfSeries": {"@type": "TVSeries", "name": "The Leftovers"}})
    assert (item.film_title, item.film_year) == ("The Leftovers: Pilot", "2014-06-29")


def test_tv_episode_series_given_through_its_season():
    item = reviewing({"@type": "TVEpisode", "name": "Pilot", "partOfSeason": {
        "@type": "TVSeason", "name": "Season 1", "partOfSeries": {"@type": "TVSeries", "name": "The Leftovers"}}})
    assert item.film_title == "The Leftovers: Pilot"


def test_tv_episode_already_named_after_its_series_is_not_named_twice():
    item = reviewing({"@type": "TVEpisode", "name": "The Leftovers: Pilot",
                      "partOfSeries": {"@type": "TVSeries", "name": "The Leftovers"}})
    assert item.film_title == "The Leftovers: Pilot"


def test_imdb_id_from_a_property_value_identifier():
    item = reviewing({"@type": "Movie", "name": "Her", "identifier": {
        "@type": "PropertyValue", "propertyID": "IMDb", "name": "IMDb ID", "value": "tt1798709"}})
    assert item.external_ids == {"imdb": "tt1798709"}


def test_tmdb_id_from_a_property_value_named_tmdb():
    item = reviewing({"@type": "Movie", "name": "Her", "identifier": [
        {"@type": "PropertyValue", "propertyID": "TMDb", "value": "152601"}]})
    assert item.external_ids == {"tmdb": "152601"}


def test_imdb_id_from_any_element_of_an_identifier_list():
    item = reviewing({"@type": "Movie", "name": "Her", "sameAs": ["https://www.wikidata.org/wiki/Q7500014"],
                      "identifier": ["Q7500014", "tt1798709"]})
    assert item.external_ids == {"imdb": "tt1798709"}


def test_ids_from_every_same_as_link():
    item = reviewing({"@type": "Movie", "name": "Her", "sameAs": [
        "https://www.wikidata.org/wiki/Q7500014", "https://www.themoviedb.org/movie/152601-her",
        "https://www.imdb.com/title/tt1798709/"]})
    assert item.external_ids == {"tmdb": "152601", "imdb": "tt1798709"}


def test_item_reviewed_typed_by_another_address_of_a_film_type_is_still_a_film():
    body = """<div itemscope itemtype="https://schema.org/Review"><p itemprop="reviewBody">Tender.</p>
      <div itemprop="itemReviewed" itemscope itemtype="http://www.schema.org/Movie">
      <span itemprop="name">Her</span></div></div>"""
    (item,) = parse(f"<html><body>{body}</body></html>")
    assert item.film_title == "Her"
