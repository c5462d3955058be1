"""Which blocks are JSON-LD, where a review's text is, and the language a review declares.

Pages are trimmed copies of the QA corpus of review markup variants (n05, n12, n13, n15, t03, t04, x04);
the RDFa ones are written by hand, after the microdata ones.
"""

from __future__ import annotations

import json
from typing import Any

from crawlers.spiders.schema_org import SchemaOrgSpider
from tests.crawlers.conftest import html_response, make_spider, split_output

URL = "https://reel.example/reviews/her"
REVIEW = {"@context": "https://schema.org", "@type": "Review", "itemReviewed": {"@type": "Movie", "name": "Her"},
          "author": {"@type": "Person", "name": "Jane Doe"}, "reviewBody": "Tender."}


def parse(body: str) -> list:
    spider = make_spider(SchemaOrgSpider, url=URL, follow="false")
    items, _ = split_output(list(spider.parse(html_response(URL, body))))
    return items


def jsonld(block: Any, script_type: str = "application/ld+json", html_lang: str = "en", around: str = "{}") -> list:
    script = f'<script type="{script_type}">{json.dumps(block)}</script>'
    return parse(f'<html lang="{html_lang}"><head></head><body>{around.format(script)}</body></html>')


def test_body_falls_back_to_the_text_property():
    review = {**REVIEW, "text": "Only in the text property: a tender film."}
    del review["reviewBody"]
    (item,) = jsonld(review)
    assert item.body == "Only in the text property: a tender film."


def test_description_comes_before_text():
    review = {**REVIEW, "description": "The snippet.", "text": "The whole text."}
    del review["reviewBody"]
    (item,) = jsonld(review)
    assert item.body == "The snippet."


def test_jsonld_script_type_with_a_charset_parameter_is_read():
    (item,) = jsonld(REVIEW, script_type="application/ld+json; charset=utf-8")
    assert item.film_title == "Her"


def test_jsonld_script_type_in_upper_case_is_read():
    (item,) = jsonld(REVIEW, script_type="application/LD+JSON")
    assert item.film_title == "Her"


def test_plain_json_script_is_not_jsonld():
    assert jsonld(REVIEW, script_type="application/json") == []


def test_types_and_properties_with_the_schema_prefix_are_read():
    block = {"@context": {"schema": "http://schema.org/"}, "@type": "schema:Review",
             "schema:itemReviewed": {"@type": "schema:Movie", "schema:name": "Her"}, "schema:reviewBody": "Tender."}
    (item,) = jsonld(block)
    assert (item.film_title, item.body) == ("Her", "Tender.")


def test_language_object_gives_its_code():
    (item,) = jsonld({**REVIEW, "inLanguage": {"@type": "Language", "name": "French", "alternateName": "fr"}})
    assert item.language_declared == "fr"


def test_language_object_without_a_code_gives_its_name():
    (item,) = jsonld({**REVIEW, "inLanguage": {"@type": "Language", "name": "French"}})
    assert item.language_declared == "French"


def test_jsonld_review_without_in_language_takes_the_lang_of_an_element_around_its_block():
    (item,) = jsonld(REVIEW, around='<div lang="fr">{}</div>')
    assert item.language_declared == "fr"


def test_html_lang_alone_is_not_taken_for_the_review_language():
    # A site template's <html lang="en"> also covers reviews its users wrote in French: the flows detect
    # the language of a review that declares none, and would trust a declared one.
    (item,) = jsonld({**REVIEW, "reviewBody": "Magnifique, tendre."}, html_lang="fr")
    assert item.language_declared is None


def test_body_lang_alone_is_not_taken_for_the_review_language():
    # Some templates put the site's language on <body> instead of <html>.
    (item,) = parse(f'<html><body lang="en"><script type="application/ld+json">'
                    f'{json.dumps({**REVIEW, "reviewBody": "Magnifique, tendre."})}</script></body></html>')
    assert item.language_declared is None


def test_in_language_wins_over_the_lang_of_the_element():
    (item,) = jsonld({**REVIEW, "inLanguage": "de"}, around='<div lang="fr">{}</div>')
    assert item.language_declared == "de"


def test_microdata_review_without_in_language_takes_the_lang_of_its_element():
    body = """<article lang="fr" itemscope itemtype="https://schema.org/Review">
      <span itemprop="itemReviewed">Her (2013)</span><p itemprop="reviewBody">Un film tendre.</p></article>
      <article itemscope itemtype="https://schema.org/Review">
      <span itemprop="itemReviewed">Her (2013)</span><p itemprop="reviewBody">A tender film.</p></article>"""
    items = parse(f'<html lang="en"><body>{body}</body></html>')
    assert [(i.body, i.language_declared) for i in items] == [("Un film tendre.", "fr"), ("A tender film.", None)]


def test_microdata_review_takes_the_xml_lang_of_its_element():
    body = """<article xml:lang="fr" itemscope itemtype="https://schema.org/Review">
      <span itemprop="itemReviewed">Her (2013)</span><p itemprop="reviewBody">Un film tendre.</p></article>"""
    (item,) = parse(f'<html lang="en"><body>{body}</body></html>')
    assert item.language_declared == "fr"


RDFA_REVIEW = """<div vocab="http://schema.org/" typeof="Review" {attrs}><span property="itemReviewed">Her</span>
  <span property="author">Jeanne</span><p property="reviewBody" {body_attrs}>Un film tendre.</p>{more}</div>"""


def rdfa(attrs: str = "", body_attrs: str = "", around: str = "{}", more: str = "") -> list:
    review = RDFA_REVIEW.format(attrs=attrs, body_attrs=body_attrs, more=more)
    return parse(f'<html lang="en"><body>{around.format(review)}</body></html>')


def test_rdfa_review_without_in_language_takes_the_lang_of_its_element():
    (item,) = rdfa(attrs='lang="fr"')
    assert (item.syntax, item.language_declared) == ("rdfa", "fr")


def test_rdfa_review_takes_the_lang_of_an_element_around_it():
    (item,) = rdfa(around='<section lang="fr">{}</section>')
    assert item.language_declared == "fr"


def test_rdfa_review_takes_the_xml_lang_of_its_element():
    (item,) = rdfa(attrs='xml:lang="fr"')
    assert item.language_declared == "fr"


def test_rdfa_review_under_html_lang_alone_declares_no_language():
    (item,) = rdfa()
    assert item.language_declared is None


def test_rdfa_review_does_not_take_the_lang_of_one_of_its_properties():
    # A quoted line in another language is not the review's language.
    (item,) = rdfa(body_attrs='lang="de"')
    assert item.language_declared is None


def test_rdfa_reviews_nested_in_a_film_take_the_nearest_lang():
    page = """<div vocab="http://schema.org/" typeof="Movie" lang="fr"><span property="name">Her</span>
      <div property="review" typeof="Review"><span property="author">Jeanne</span>
        <p property="reviewBody">Tendre.</p></div>
      <div property="review" typeof="Review" lang="de"><span property="author">Jo</span>
        <p property="reviewBody">Zart.</p></div></div>"""
    items = parse(f'<html lang="en"><body>{page}</body></html>')
    assert [(i.body, i.language_declared) for i in items] == [("Tendre.", "fr"), ("Zart.", "de")]


def test_rdfa_in_language_wins_over_the_lang_of_the_element():
    (item,) = rdfa(attrs='lang="fr"', more='<meta property="inLanguage" content="it">')
    assert item.language_declared == "it"
