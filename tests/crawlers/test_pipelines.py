"""Item pipelines: invalid items go to rejects with a reason, repeats are counted, the rest land."""

from __future__ import annotations

import json

import pytest
from scrapy.exceptions import DropItem

from crawlers.items import ReviewItem, UnreadableMarkup
from crawlers.pipelines import InRunDuplicatesPipeline, LandingPipeline, ValidationPipeline
from crawlers.spiders.schema_org import SchemaOrgSpider
from tests.crawlers.conftest import make_spider


@pytest.fixture
def spider(tmp_path):
    spider = make_spider(SchemaOrgSpider)
    spider.crawler.settings.frozen = False
    spider.crawler.settings.set("REVIEWS_DATA_DIR", str(tmp_path))
    spider.crawler.spider = spider
    return spider


def item(**fields) -> ReviewItem:
    base = dict(source="test", url="https://reviews.example/r/1", film_title="Her", body="Good.",
                run_id="run-1", fetched_at="2026-11-25T00:00:00+00:00", source_review_id="r1")
    return ReviewItem(**{**base, **fields})


def test_unreadable_markup_is_rejected_with_its_reason_and_text(spider, tmp_path):
    pipeline = ValidationPipeline.from_crawler(spider.crawler)
    block = '{"@type": "Review", "reviewBody": "Lost",'
    with pytest.raises(DropItem):
        pipeline.process_item(UnreadableMarkup("test", "https://reviews.example/p", "JSON-LD block 1 unreadable: x",
                                               block, "2026-11-25T00:00:00+00:00", "run-1"))
    pipeline.close_spider()
    (line,) = (tmp_path / "raw" / "test" / "run-1.rejects.jsonl").read_text().splitlines()
    record = json.loads(line)
    assert record["reason"] == "unreadable markup: JSON-LD block 1 unreadable: x"
    assert record["item"]["text"] == block and record["item"]["url"] == "https://reviews.example/p"
    assert spider.crawler.stats.get_value("reviews/rejected") == 1


def test_item_without_film_or_content_is_rejected_with_reason(spider, tmp_path):
    pipeline = ValidationPipeline.from_crawler(spider.crawler)
    with pytest.raises(DropItem):
        pipeline.process_item(item(film_title=None, body="  ", rating_raw=None))
    pipeline.close_spider()
    (line,) = (tmp_path / "raw" / "test" / "run-1.rejects.jsonl").read_text().splitlines()
    record = json.loads(line)
    assert record["reason"] == "no film: neither title nor external id; no content: neither body nor rating"
    assert record["item"]["url"] == "https://reviews.example/r/1"


def test_rating_without_body_is_valid(spider):
    pipeline = ValidationPipeline.from_crawler(spider.crawler)
    assert pipeline.process_item(item(body=None, rating_raw="B+")).rating_raw == "B+"


def test_same_review_twice_in_a_run_is_dropped_and_counted(spider):
    pipeline = InRunDuplicatesPipeline.from_crawler(spider.crawler)
    pipeline.process_item(item())
    with pytest.raises(DropItem):
        pipeline.process_item(item(url="https://reviews.example/critic/x/"))
    assert spider.crawler.stats.get_value("reviews/repeated_in_run") == 1


def _kept(spider, *items: ReviewItem) -> list[str | None]:
    pipeline, kept = InRunDuplicatesPipeline.from_crawler(spider.crawler), []
    for one in items:
        try:
            kept.append(pipeline.process_item(one).body)
        except DropItem:
            pass
    return kept


def _on_page(critic: str | None, body: str | None, rating: str | None = None, **more: str) -> ReviewItem:
    # A film page listing reviews without an id or url of their own.
    return item(source_review_id=None, url="https://reviews.example/film/her?page=2", critic_name=critic,
                body=body, rating_raw=rating, **more)


@pytest.mark.parametrize("signed", ["Anonymous", "[Deleted]", "Invité", "By Anonymous", None])
def test_anonymous_reviews_without_ids_on_one_page_are_all_kept(spider, signed):
    bodies = ["Loved every minute of it, and so did my kids.", "Far too long and nothing happens for an hour."]
    assert _kept(spider, *(_on_page(signed, body) for body in bodies)) == bodies


def test_an_anonymous_review_met_again_in_the_run_is_a_repeat_but_not_another_film_of_its_title(spider):
    # The same page fetched twice in one run; two films called Dune on one page are two reviews.
    full = "A tender film about loneliness in a near-future Los Angeles."
    assert _kept(spider, _on_page("Anonymous", full, "5/5"), _on_page("Anonymous", full, "5/5"),
                 _on_page("Anonymous", full, "5/5", film_year="2021")) == [full, full]


def test_anonymous_ratings_without_text_are_told_apart_by_their_rating(spider):
    assert len(_kept(spider, _on_page("Guest", None, "4/5"), _on_page("Guest", None, "2/5"),
                     _on_page("Guest", None, "4/5"))) == 2


def test_a_named_critic_without_a_review_id_is_one_review_per_film_on_a_page(spider):
    # Two markups of one review may differ in text (an excerpt beside the full review): the byline decides, and
    # a second text that is not the first one's continuation is a repeat.
    assert _kept(spider, _on_page("Ann Lee", "Tender and wise."), _on_page("Ann Lee", "Sad, in the end.")) \
        == ["Tender and wise."]


def test_a_repeat_that_goes_on_from_the_kept_body_or_adds_a_rating_lands_too(spider):
    # One key, so the load keeps the latest (fullest) copy: an excerpt met first no longer hides the full review.
    full, excerpt = "Tender and wise, a film to keep.", "Tender… Read more"
    assert _kept(spider, item(body=excerpt), item(body=full, rating_raw="4/5")) == [excerpt, full]
    assert _kept(spider, item(body=full), item(body=full, rating_raw="4/5")) == [full, full]
    assert spider.crawler.stats.get_value("reviews/fuller_repeat_in_run") == 2


@pytest.mark.parametrize(("first", "then"), [
    (("Tender and wise, a film to keep.", "4/5"), ("Tender… Read more", None)),  # the excerpt after the review
    (("Tender.", "4/5"), ("Tender and wise, a film to keep.", None)),  # longer, but the rating would be lost
    (("Tender and wise.", None), ("<p>Tender and <em>wise</em>. Read more</p>", None)),  # markup is no more text
    (("Tender and wise.", "4/5"), ("Tender and wise.", "3/5")),  # another rating is no fuller
], ids=["excerpt-after", "loses-rating", "markup", "other-rating"])
def test_a_repeat_that_adds_nothing_or_loses_something_is_dropped(spider, first, then):
    assert _kept(spider, item(body=first[0], rating_raw=first[1]), item(body=then[0], rating_raw=then[1])) == [first[0]]
    assert spider.crawler.stats.get_value("reviews/repeated_in_run") == 1


@pytest.mark.parametrize("then", [{"published_raw": None}, {"outlet": None}, {"outlet": "Other Paper"},
                                  {"critic_name": "Someone Else"}], ids=["date", "outlet", "other-outlet", "critic"])
def test_a_rated_full_repeat_that_loses_a_field_or_names_another_critic_is_dropped(spider, then):
    # The load keeps the latest copy whole: the excerpt's date and outlet would be lost, and the review would move
    # to another critic (review of the fuller-repeat rule).
    excerpt = item(body="Tender… Read more", published_raw="2026-11-20", outlet="Paper", critic_name="Ann")
    full = item(**{"body": "Tender and wise, a film to keep.", "rating_raw": "4/5", "published_raw": "2026-11-20",
                   "outlet": "Paper", "critic_name": "Ann", **then})
    assert _kept(spider, excerpt, full) == ["Tender… Read more"]


@pytest.mark.parametrize("then", [{"film_year": "2013"}, {"film_title": "Her (2013)", "film_year": "2013"},
                                  {"film_title": "Her (2013)"}, {"film_title": "HER", "external_ids": {"imdb": "x"}}],
                         ids=["adds-year", "title-with-its-year", "year-in-the-title-only", "cased-and-ids"])
def test_a_fuller_repeat_that_writes_the_film_more_fully_lands_too(spider, then):
    # The film page left the year out (or wrote the title otherwise): the rated full review on its own page was
    # dropped as a repeat, and its rating lost for good (a --full crawl meets the pages in the same order).
    full = item(**{"body": "Tender and wise, a film to keep.", "rating_raw": "4/5", **then})
    assert _kept(spider, item(body="Tender… Read more"), full) == ["Tender… Read more", full.body]


@pytest.mark.parametrize("then", [{"film_title": "Her 2"}, {"film_year": "2014"},
                                  {"film_title": "Her (2014)", "film_year": None}],
                         ids=["other-title", "other-year", "another-year-in-the-title"])
def test_a_fuller_repeat_naming_another_film_is_dropped(spider, then):
    excerpt = item(body="Tender… Read more", film_year="2013")
    full = item(**{"body": "Tender and wise, a film to keep.", "rating_raw": "4/5", "film_year": "2013", **then})
    assert _kept(spider, excerpt, full) == ["Tender… Read more"]


def test_a_title_year_beside_the_year_field_is_the_year_fields_film_as_the_normalizer_reads_it(spider):
    # "Her (2014)" with film_year 2013 is Her of 2013 to the normalizer (the year field first): the same film.
    excerpt = item(body="Tender… Read more", film_year="2013")
    full = item(body="Tender and wise, a film to keep.", rating_raw="4/5", film_title="Her (2014)", film_year="2013")
    assert _kept(spider, excerpt, full) == ["Tender… Read more", full.body]


def test_the_crawler_and_the_warehouse_name_the_same_nobodies():
    import re

    from crawlers.nobody import NOBODY_NAMES, names_nobody
    from warehouse.db import sql_file
    from warehouse.marts import MACROS_FILE

    macro = re.search(r"macro names_nobody\(name_key\) as\s+(?:--[^\n]*\n\s*)*name_key = '' or name_key in \(([^)]*)\)",
                      sql_file(MACROS_FILE))
    assert macro and set(re.findall(r"'([^']*)'", macro.group(1))) == NOBODY_NAMES
    assert all(names_nobody(name) for name in ("Anonymous", "ANONYMOUS USER", "[deleted]", "Invité", "N/A", " ",
                                               "By Anonymous", "by Guest", "???", "—"))
    assert names_nobody("Anonymous (Letterboxd)", "Letterboxd") and names_nobody("Anonymous, The Daily", "The Daily")
    # Only the review's own outlet is taken off, as the warehouse does: "Guest, Christopher" is a critic.
    assert not any(names_nobody(name) for name in ("Anon Kim", "Guesty", "Ann Lee", "Guest, Christopher",
                                                   "Anonymous (Letterboxd)"))


def test_landing_appends_json_lines_and_counts_field_coverage(spider, tmp_path):
    pipeline = LandingPipeline.from_crawler(spider.crawler)
    pipeline.process_item(item(body="<b>x</b> '); DROP TABLE reviews; --"))
    pipeline.process_item(item(source_review_id="r2", body=None, rating_raw="7/10"))
    pipeline.close_spider()
    lines = (tmp_path / "raw" / "test" / "run-1.jsonl").read_text(encoding="utf-8").splitlines()
    assert [json.loads(x)["body"] for x in lines] == ["<b>x</b> '); DROP TABLE reviews; --", None]
    assert spider.crawler.stats.get_value("reviews/field/body") == 1
    assert spider.crawler.stats.get_value("reviews/field/rating_raw") == 1


def test_a_review_holding_half_a_surrogate_pair_lands_with_it_spelled_out(spider, tmp_path):
    # JSON-LD's "\ud800" escape: json.loads makes a character no UTF-8 file can hold, and the item was lost.
    pipeline = LandingPipeline.from_crawler(spider.crawler)
    pipeline.process_item(item(body="bad \ud800 text"))
    pipeline.close_spider()
    lines = (tmp_path / "raw" / "test" / "run-1.jsonl").read_text(encoding="utf-8").splitlines()
    assert [json.loads(x)["body"] for x in lines] == ["bad \\ud800 text"]
