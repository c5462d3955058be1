"""Reading pages with a site profile: one small page per edge case a real site has (found by QA on the first
version: reviews merged or misread, page code in bodies, pages of other kinds)."""

from __future__ import annotations

from pathlib import Path

import pytest
from scrapy.http import HtmlResponse, Request, TextResponse

from crawlers.profile_pages import extract_with_profile
from crawlers.profiles import ProfileError, load_profile
from crawlers.spiders.profile import ProfileSpider
from tests.crawlers.conftest import make_spider, split_output

URL = "https://reviews.example/film/1/"
PROFILE = """
reviews = "div.review"
next_pages = ["a.next"]
[fields]
source_review_id = "::attr(id)"
url = "a.permalink::attr(href)"
critic_name = ".by"
rating = ".score"
body = ".text"
[page_fields]
film_title = "h1"
"""


def profile(tmp_path: Path, text: str = PROFILE):
    path = tmp_path / "site.toml"
    path.write_text(text, encoding="utf-8")
    return load_profile(path)


def read(tmp_path: Path, body: str, text: str = PROFILE, url: str = URL):
    return extract_with_profile(f"<html><body><h1>Her</h1>{body}</body></html>", url, "site",
                                profile(tmp_path, text)).reviews


def test_two_reviews_without_ids_by_one_critic_of_one_film_stay_two(tmp_path):
    body = ('<div class="review"><span class="by">Anonymous</span><p class="text">Loved it.</p></div>'
            '<div class="review"><span class="by">Anonymous</span><p class="text">Terrible film.</p></div>')
    reviews = read(tmp_path, body)
    assert [r.body for r in reviews] == ["Loved it.", "Terrible film."]
    assert [r.source_review_id.split("#")[0] for r in reviews] == ["Anonymous|Her|"] * 2
    assert reviews[0].source_review_id != reviews[1].source_review_id


def test_a_review_without_id_or_permalink_keeps_its_key_when_pushed_to_another_page(tmp_path):
    old = '<div class="review"><span class="by">Anonymous</span><p class="text">Terrible film.</p></div>'
    new = '<div class="review"><span class="by">Anonymous</span><p class="text">Loved it.</p></div>'
    week1 = read(tmp_path, old, url=URL)
    week2 = read(tmp_path, new, url=URL) + read(tmp_path, old, url=URL + "page/2/")
    assert week2[1].source_review_id == week1[0].source_review_id
    assert week2[0].source_review_id != week1[0].source_review_id


def test_a_review_with_a_permalink_of_its_own_is_keyed_by_it(tmp_path):
    body = ('<div class="review"><a class="permalink" href="/r/7/">#</a><span class="by">Ann</span>'
            '<p class="text">Fine.</p></div>')
    assert read(tmp_path, body)[0].source_review_id == "https://reviews.example/r/7/#Ann|Her"


@pytest.mark.parametrize("second", ['<span class="score">1/5</span>', '<p class="text">Loved it. Though the end…</p>'])
def test_reviews_without_ids_stay_apart_without_a_body_or_with_one_opening_alike(tmp_path, second):
    body = ('<div class="review"><span class="by">Anonymous</span><span class="score">5/5</span>'
            '<p class="text">Loved it.</p></div>'
            f'<div class="review"><span class="by">Anonymous</span>{second}</div>')
    assert len({r.source_review_id for r in read(tmp_path, body)}) == 2


def test_a_review_without_id_or_permalink_is_keyed_by_its_content_never_by_the_page_url(tmp_path):
    body = '<div class="review"><span class="by">Ann</span><p class="text">Fine.</p></div>'
    page = extract_with_profile(f"<html><body><h1>Her</h1>{body}</body></html>", URL, "site", profile(tmp_path))
    assert page.reviews[0].source_review_id.startswith("Ann|Her|#")
    assert page.site_ids == [None]  # so an incremental run never reads the page as all known


def test_text_after_an_excluded_element_or_a_nested_reply_stays(tmp_path):
    body = ('<div class="review" id="a"><span class="by">Ann</span><div class="text">A tender film '
            '<a class="more">Read more</a> about loneliness.<div class="review" id="b"><span class="by">Bo</span>'
            '<div class="text">Agreed.</div></div> And the end.</div></div>')
    text = PROFILE.replace('body = ".text"', 'body = { css = ".text", exclude = ["a.more"] }')
    ann, bo = read(tmp_path, body, text)
    assert ann.body == "A tender film about loneliness. And the end."
    assert bo.body == "Agreed."


def test_html_true_on_a_field_other_than_the_body_is_refused(tmp_path):
    with pytest.raises(ProfileError, match=r"fields.critic_name.html: html = true is for the body only"):
        profile(tmp_path, PROFILE.replace('critic_name = ".by"', 'critic_name = { css = ".by", html = true }'))


def test_a_start_url_with_a_comma_is_refused(tmp_path):
    with pytest.raises(ProfileError, match=r"start_urls\[0\]: .* holds a comma"):
        profile(tmp_path, 'start_urls = ["https://site.example/r?genre=drama,comedy"]\n' + PROFILE)


def test_attr_alone_reads_the_review_elements_own_attribute_not_a_childs(tmp_path):
    body = ('<div class="review"><div id="share-widget"></div><span class="by">Ann</span><p class="text">A.</p>'
            '</div><div class="review" id="r2"><span class="by">Bob</span><p class="text">B.</p></div>')
    reviews = read(tmp_path, body)
    assert reviews[0].source_review_id.startswith("Ann|Her|#") and reviews[1].source_review_id == "r2"


def test_a_reply_nested_in_a_review_is_not_part_of_the_outer_reviews_fields(tmp_path):
    body = ('<div class="review" id="a"><span class="by">Alice</span><span class="score">5/5</span>'
            '<p class="text">Wonderful.</p>'
            '<div class="review" id="c"><span class="by">Carl</span><span class="score">1/5</span>'
            '<p class="text">Disagree.</p></div></div>')
    reviews = read(tmp_path, body, PROFILE.replace('body = ".text"', 'body = "xpath:."'))
    alice, carl = reviews
    assert (alice.critic_name, alice.rating_raw) == ("Alice", "5/5")
    assert "Disagree" not in alice.body and "Wonderful." in alice.body
    assert (carl.critic_name, carl.rating_raw, carl.body) == ("Carl", "1/5", "Carl 1/5\n\nDisagree.")


def test_text_leaves_out_scripts_and_styles_and_breaks_between_blocks(tmp_path):
    body = ('<div class="review"><span class="by">Ann</span><div class="text"><p>A fine film.<script>'
            'window.dataLayer.push({});</script></p><style>.t p{color:red}</style><noscript>Enable JS</noscript>'
            '<p>Second paragraph.</p><ul><li>Pros</li><li>Cons</li></ul></div></div>')
    assert read(tmp_path, body)[0].body == "A fine film.\n\nSecond paragraph.\n\nPros\nCons"


def test_escaped_markup_a_user_typed_stays_in_the_text(tmp_path):
    body = ('<div class="review"><span class="by">Ann</span><p class="text">&lt;script&gt;alert(1)&lt;/script&gt;'
            " '); DROP TABLE reviews; --</p></div>")
    assert read(tmp_path, body)[0].body == "<script>alert(1)</script> '); DROP TABLE reviews; --"


def test_html_true_keeps_the_markup_and_marks_the_item_as_html(tmp_path):
    body = '<div class="review"><span class="by">Ann</span><div class="text"><p>One</p><p>Two</p></div></div>'
    review = read(tmp_path, body, PROFILE.replace('body = ".text"', 'body = { css = ".text", html = true }'))[0]
    assert (review.body, review.syntax) == ("<p>One</p><p>Two</p>", "profile-html")
    assert read(tmp_path, body)[0].syntax == "profile"


# The second: two exclude selectors matching one element leave it out once (it used to crash the page).
@pytest.mark.parametrize("exclude", ['["a.more"]', '["a.more", "a.share"]'])
def test_exclude_leaves_a_read_more_link_out_of_a_field_and_keeps_the_text_after_it(tmp_path, exclude):
    body = ('<div class="review"><span class="by">Ann</span><p class="text">Cut short… '
            '<a class="more share" href="#">more</a> and on.</p></div>')
    text = PROFILE.replace('body = ".text"', f'body = {{ css = ".text", exclude = {exclude} }}')
    assert read(tmp_path, body, text)[0].body == "Cut short… and on."


def test_an_xhtml_page_is_read_as_html(tmp_path):
    page = ('<?xml version="1.0" encoding="utf-8"?>\n<html xmlns="http://www.w3.org/1999/xhtml"><body><h1>Her</h1>'
            '<div class="review" id="x1"><span class="by">Ann</span><p class="text">Good.</p></div></body></html>')
    reviews = extract_with_profile(page, URL, "site", profile(tmp_path)).reviews
    assert [(r.source_review_id, r.film_title, r.body) for r in reviews] == [("x1", "Her", "Good.")]


def test_a_json_answer_gives_no_reviews_and_no_error(tmp_path):
    page = extract_with_profile('{"reviews": [1, 2]}', URL, "site", profile(tmp_path))
    assert page.reviews == [] and page.errors == []
    spider = make_spider(ProfileSpider, url=URL, profile=str(tmp_path / "site.toml"))
    answer = TextResponse(URL + "data.json", body=b'{"a": 1}', encoding="utf-8", request=Request(URL))
    assert list(spider.parse(answer)) == []


def test_a_javascript_or_mailto_link_is_no_review_url(tmp_path):
    body = ('<div class="review" id="r1"><a class="permalink" href="javascript:void(0)">#</a>'
            '<span class="by">Ann</span><p class="text">Good.</p></div>')
    assert read(tmp_path, body)[0].url == URL


def parse_redirected(tmp_path, landed_url: str):
    """The profile spider reading a page that its start URL http://site.example/films/ redirected to."""
    profile(tmp_path)
    start = "http://site.example/films/"
    spider = make_spider(ProfileSpider, url=start, profile=str(tmp_path / "site.toml"))
    page = ('<html><body><h1>Her</h1><div class="review" id="r1"><span class="by">Ann</span><p class="text">A.</p>'
            '</div><a class="next" href="/films/?page=2">next</a></body></html>')
    landed = HtmlResponse(landed_url, body=page.encode(), encoding="utf-8",
                          request=Request(landed_url, meta={"redirect_urls": [start]}))
    return spider, list(spider.parse(landed))


def test_links_follow_a_start_url_that_redirected_within_its_site(tmp_path):
    spider, output = parse_redirected(tmp_path, "https://www.site.example/films/")
    _, requests = split_output(output)
    assert [r.url for r in requests] == ["https://www.site.example/films/?page=2"]
    assert "www.site.example" in spider.allowed_domains


def test_a_start_url_redirected_to_another_site_is_not_read(tmp_path):
    spider, output = parse_redirected(tmp_path, "https://parked.example/films/")
    assert output == []
    assert spider.allowed_domains == ["site.example"]
    assert spider.crawler.stats.get_value("reviews/start_redirected_offsite") == 1


@pytest.mark.parametrize("xpath", ["(//h1)[1]", ".//a | //h1", "concat(., //h1)", " //h1", ". and //h1",
                                   "count(.//a) * //h1", "(.//a)and //h1", ".//a[@x]and //h1"])
def test_every_form_of_an_absolute_xpath_in_a_review_field_is_refused(tmp_path, xpath):
    with pytest.raises(ProfileError, match="searches the whole page"):
        profile(tmp_path, PROFILE.replace('critic_name = ".by"', f'critic_name = "xpath:{xpath}"'))


@pytest.mark.parametrize("xpath", [".//*/h2/a", ".//header/*/h2/a", "*/h2/a", ".//h2 /a", "@*"])
def test_a_relative_xpath_with_a_wildcard_step_or_a_space_before_a_slash_is_accepted(tmp_path, xpath):
    text = PROFILE.replace('critic_name = ".by"', f'critic_name = "xpath:{xpath}"')
    assert profile(tmp_path, text).fields["critic_name"].selector == xpath


def test_a_relative_xpath_holding_a_slash_in_a_string_is_accepted(tmp_path):
    text = PROFILE.replace('critic_name = ".by"', "critic_name = \"xpath:.//a[contains(@href, '/critic/')]\"")
    assert profile(tmp_path, text).fields["critic_name"].xpath


def test_a_profile_saved_with_a_bom_loads(tmp_path):
    path = tmp_path / "site.toml"
    path.write_bytes(b"\xef\xbb\xbf" + PROFILE.encode())
    assert load_profile(path).reviews.selector == "div.review"


@pytest.mark.parametrize("value", ["inf", "nan", "1e400", "-inf"])
def test_a_rating_scale_that_is_not_a_finite_number_is_refused(tmp_path, value):
    with pytest.raises(ProfileError, match="expected a finite number"):
        profile(tmp_path, PROFILE + f"[rating_scale]\nbest = {value if value != '-inf' else 10}\n"
                                    f"worst = {value if value == '-inf' else 0}\n")


def test_a_real_film_page_gives_its_reviews_with_the_film_read_once_from_the_page():
    from tests.crawlers.conftest import FIXTURES

    page = (FIXTURES / "pages" / "letterboxd-film-breathless.html").read_text(encoding="utf-8")
    found = extract_with_profile(page, "https://letterboxd.com/film/breathless/", "lb",
                                 load_profile(FIXTURES / "profiles" / "letterboxd-film.toml"))
    reviews = found.reviews
    read = [(r.source_review_id, r.critic_name, r.rating_raw, r.rating_value, r.language_declared) for r in reviews]
    assert read == [
        ("99611455", "maria", "★★★★", "8", "en"), ("29377356", "Wes", "★★★★★", "10", "en"),
        ("31170806", "Leticia Fernandes", "★★★★", "8", "en"), ("1027972758", "DoctorChaz", "★★★★½", "9", "en"),
        ("1030767896", "A9eel", "★★★★½", "9", "ar"), ("1030754420", "Diane Delacruz", "★★★½", "7", "fr")]
    assert {(r.film_title, r.film_year, r.external_ids["imdb"]) for r in reviews} == {
        ("Breathless", "1960", "tt0053472")}
    assert reviews[0].url == "https://letterboxd.com/usercillian/film/breathless/"
    assert reviews[0].body.endswith("Good shit") and found.errors == []


def test_a_profile_items_title_is_text_when_its_body_is_markup():
    from flows.normalize.text import clean_review_text

    assert clean_review_text("The <Untitled> Project", "profile-html", "title") == "The <Untitled> Project"
    assert clean_review_text("<p>The <b>film</b></p>", "profile-html", "body") == "The film"


def test_a_review_with_a_reply_can_still_read_its_film_from_around_it(tmp_path):
    body = ('<section><h2>Her</h2><div class="review" id="a"><span class="by">Ann</span><p class="text">Fine.</p>'
            '<div class="review" id="b"><span class="by">Bo</span><p class="text">No.</p></div> after</div></section>')
    text = PROFILE.replace('[page_fields]\nfilm_title = "h1"', "").replace(
        '[fields]', '[fields]\nfilm_title = "xpath:ancestor::section[1]/h2/text()"')
    ann, bo = read(tmp_path, body, text)
    assert (ann.film_title, bo.film_title) == ("Her", "Her")
    assert ann.body == "Fine." and bo.body == "No."


def test_the_page_is_left_as_it_was_after_a_reply_was_set_aside(tmp_path):
    from parsel import Selector

    from crawlers.profile_pages import _set_aside

    html = '<div id="a">one <i>x</i> two <b id="n">reply</b> three <u>y</u></div>'
    page = Selector(text=html, type="html")
    before = page.css("#a").get()
    with _set_aside([page.css("#n")[0].root]):
        assert page.css("#a").xpath("string()").get() == "one x two  three y"
    assert page.css("#a").get() == before


def test_reviews_alike_in_every_word_on_one_page_are_numbered_not_merged(tmp_path):
    one = '<div class="review"><span class="by">Anonymous</span><span class="score">5/5</span></div>'
    reviews = read(tmp_path, one + one)
    assert reviews[1].source_review_id == reviews[0].source_review_id + "#2"


def test_a_site_profiles_markup_body_is_read_as_html_and_its_text_body_as_text():
    from flows.normalize.text import clean_review_text

    markup = "<p>A fine film.</p><script>track()</script><p>Tom &amp; Jerry &lt;3</p>"
    assert clean_review_text(markup, "profile-html") == "A fine film.\n\nTom & Jerry <3"
    typed = "<script>alert(1)</script> Tom &amp; Jerry"  # an element's text: escaped on the page, shown as typed
    assert clean_review_text(typed, "profile") == clean_review_text(typed, "microdata")
    assert clean_review_text(typed, "profile").startswith("<script>alert(1)</script>")
