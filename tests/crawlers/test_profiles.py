"""Loading a site profile: every mistake is one line naming the file and the key, before any crawl."""

from __future__ import annotations

from pathlib import Path

import pytest

from crawlers.profiles import ProfileError, load_profile
from tests.crawlers.conftest import FIXTURES

GOOD = """
reviews = "article.review"
next_pages = ["a[rel=next]"]
audience = "critic"
[fields]
film_title = "h2::text"
rating = ".stars::text"
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "site.toml"
    path.write_text(text, encoding="utf-8")
    return path


def error_of(tmp_path: Path, text: str) -> str:
    with pytest.raises(ProfileError) as raised:
        load_profile(write(tmp_path, text))
    message = str(raised.value)
    assert "\n" not in message
    return message


def test_letterboxd_fixture_profile_loads():
    profile = load_profile(FIXTURES / "profiles" / "letterboxd-member.toml")
    assert (profile.audience, profile.outlet, profile.rating_best, profile.rating_worst) == (
        "user", "Letterboxd", "10", "0")
    assert profile.fields["body"].html and profile.fields["rating_value"].pattern is not None


def test_xpath_prefix_and_tables_are_read(tmp_path):
    profile = load_profile(write(tmp_path, GOOD + 'film_year = { xpath = ".//time/@datetime", pattern = "\\\\d{4}" }\n'
                                               'critic_name = "xpath:.//span[@class=\'by\']"\n'))
    assert profile.fields["critic_name"].xpath and profile.fields["critic_name"].selector == ".//span[@class='by']"
    assert profile.fields["film_year"].xpath and profile.fields["film_year"].pattern.pattern == r"\d{4}"


def test_unknown_key_names_the_closest_known_one(tmp_path):
    assert error_of(tmp_path, GOOD + 'ratng = ".x"\n') == (
        f"{tmp_path / 'site.toml'}: fields.ratng: unknown key; did you mean 'rating'?")


def test_unknown_top_level_key_is_refused(tmp_path):
    message = error_of(tmp_path, 'next_page = ["a"]\n' + GOOD)
    assert message.endswith(": next_page: unknown key; did you mean 'next_pages'?")


def test_bad_css_selector_is_named_with_its_key(tmp_path):
    message = error_of(tmp_path, GOOD + 'body = "span["\n')
    assert message.startswith(f"{tmp_path / 'site.toml'}: fields.body: bad CSS selector 'span[': ")


def test_bad_xpath_selector_is_named_with_its_key(tmp_path):
    message = error_of(tmp_path, GOOD + 'body = { xpath = ".//p[" }\n')
    assert message.startswith(f"{tmp_path / 'site.toml'}: fields.body: bad XPath selector './/p[': ")


def test_bad_regex_is_named_with_its_key(tmp_path):
    message = error_of(tmp_path, GOOD + 'body = { css = "p", pattern = "rated-(\\\\d+" }\n')
    assert ": fields.body.pattern: bad regex 'rated-(\\\\d+': missing ), unterminated subpattern" in message


def test_missing_reviews_selector_is_refused(tmp_path):
    message = error_of(tmp_path, GOOD.replace('reviews = "article.review"', ""))
    assert message.endswith(": reviews: missing; the selector of one review's element is required")


def test_wrong_type_is_refused(tmp_path):
    message = error_of(tmp_path, GOOD.replace('"article.review"', "3"))
    assert message.endswith(": reviews: expected a selector string, got an integer")


def test_wrong_type_in_a_scale_is_refused(tmp_path):
    message = error_of(tmp_path, GOOD + '[rating_scale]\nbest = "10"\nworst = 0\n')
    assert message.endswith(": rating_scale.best: expected a number, got a string")


def test_missing_file_is_one_line(tmp_path):
    with pytest.raises(ProfileError, match=r"nope\.toml: no such profile file$"):
        load_profile(tmp_path / "nope.toml")


def test_a_file_that_is_not_toml_is_one_line(tmp_path):
    message = error_of(tmp_path, "<html>not toml</html>\n")
    assert message.startswith(f"{tmp_path / 'site.toml'}: not TOML: ")


def test_absolute_xpath_in_a_review_field_is_refused(tmp_path):
    # `//h1` would give every review the page's first h1, silently.
    message = error_of(tmp_path, GOOD + 'title = "xpath://h1/text()"\n')
    assert ": fields.title: XPath '//h1/text()' searches the whole page, not the review" in message


def test_rating_value_without_a_scale_is_refused(tmp_path):
    message = error_of(tmp_path, GOOD + 'rating_value = ".score::text"\n')
    assert message.endswith(": fields.rating_value: a number needs its scale: add [rating_scale] best and worst")


def test_a_profile_that_names_no_film_is_refused(tmp_path):
    message = error_of(tmp_path, GOOD.replace('film_title = "h2::text"', ""))
    assert message.endswith(": fields: no film_title, imdb_id or tmdb_id: every review would lack its film")


def test_unknown_audience_is_refused(tmp_path):
    assert error_of(tmp_path, GOOD.replace('"critic"', '"fan"')).endswith(
        ": audience: expected one of critic, user, got 'fan'")


def test_the_example_in_the_module_docstring_loads(tmp_path):
    import crawlers.profiles

    example = crawlers.profiles.__doc__.split("```toml\n")[1].split("```")[0]
    profile = load_profile(write(tmp_path, example))
    assert set(profile.fields) >= {"imdb_id", "rating_value", "body"} and profile.page_fields["film_title"]


def test_a_date_order_tells_how_the_site_writes_numeric_dates(tmp_path):
    assert load_profile(write(tmp_path, 'date_order = "DMY"\n' + GOOD)).date_order == "DMY"
    assert load_profile(write(tmp_path, GOOD)).date_order is None


def test_a_date_order_that_is_no_order_is_refused(tmp_path):
    assert "date_order: expected DMY (day first, 25/01/2024) or MDY" in error_of(tmp_path, 'date_order = "dd/mm"\n'
                                                                                            + GOOD)
