"""Ratings written in words: read as their digits when the text is a rating, left alone when it is prose."""

import pytest

from flows.normalize.rating_words import spelled_out
from flows.normalize.ratings import parse_rating

# (raw, expected score, expected is_positive)
WORDED = [
    ("Four stars", 80.0, True),
    ("FOUR STARS", 80.0, True),
    ("Four stars.", 80.0, True),
    ("One star", 20.0, False),
    ("Zero stars", 0.0, False),
    ("Half a star", 10.0, False),
    ("three and a half stars", 70.0, True),
    ("two stars and a half", 50.0, False),
    ("Two-and-a-half out of four", 62.5, True),
    ("Three out of five stars", 60.0, True),
    ("Seven out of ten", 70.0, True),
    ("eight point five out of ten", 85.0, True),
    ("A four-star film", 80.0, True),
    ("Rating: Four stars", 80.0, True),
    ("quatre étoiles", 80.0, True),
    ("trois étoiles et demie", 70.0, True),
    ("une demi-étoile", 10.0, False),
    ("cuatro estrellas", 80.0, True),
    ("tres estrellas y media", 70.0, True),
    ("vier von fünf Sternen", 80.0, True),
    ("dreieinhalb Sterne", 70.0, True),
    ("quattro stelle", 80.0, True),
    ("vier sterren", 80.0, True),
    ("B minus", 66.67, True),
    ("A-minus", 91.67, True),
    ("C plus", 58.33, False),
    ("D minus", 16.67, False),
    # the scale in another language, halves after the stars, fractions beside words, brackets, percent
    ("deux étoiles sur quatre", 50.0, False),
    ("tre stelle su quattro", 75.0, True),
    ("3 sterren van 4", 75.0, True),
    ("3 Sterne von 4", 75.0, True),
    ("3 stars and a half", 70.0, True),
    ("3 étoiles et demie", 70.0, True),
    ("Three ½ stars", 70.0, True),
    ("Three 1/2 stars", 70.0, True),
    ("three and one-half stars", 70.0, True),
    ("a star and a half", 30.0, False),
    ("half a star out of four", 12.5, False),
    ("Three stars (out of four)", 75.0, True),
    ("3 stars (of 4)", 75.0, True),
    ("Three stars out of a possible four", 75.0, True),
    ("eighty out of a hundred", 80.0, True),
    ("four/five", 80.0, True),
    ("Ninety percent", 90.0, True),
    ("90 percent", 90.0, True),
    ("een ster", 20.0, False),
    ("vier-einhalb Sterne", 90.0, True),
    ("3 point 5 stars", 70.0, True),
]


@pytest.mark.parametrize(("raw", "score", "positive"), WORDED)
def test_rating_in_words_scores_as_its_digits(raw, score, positive):
    rating = parse_rating(raw)
    assert rating.problem is None
    assert rating.score == pytest.approx(score, abs=0.01)
    assert rating.is_positive is positive


@pytest.mark.parametrize(
    "raw", ["The film was one of the best", "one of a kind", "first rate", "ten out of ten stars of it"]
)
def test_prose_with_number_words_stays_unparseable(raw):
    rating = parse_rating(raw)
    assert rating.score is None
    assert rating.problem.startswith("unparseable")


def test_impossible_rating_in_words_says_why_and_quotes_the_words():
    rating = parse_rating("Eleven out of ten")
    assert rating.score is None
    assert rating.problem == "out of range: 11/10 (read from 'Eleven out of ten')"


@pytest.mark.parametrize("raw", ["Eight", "null", "NULL", "zero", "un", "een", "ein", "uno", "second", "Otto"])
def test_a_lone_number_word_is_no_rating_even_on_a_known_scale(raw):
    # "null" is German for 0 and "un" French for 1: a CSV's NULL cell beside bestRating must not score 0.
    assert parse_rating(raw).score is None
    assert parse_rating(None, value=raw, best=5).score is None


def test_a_rating_read_without_words_is_not_changed_by_them():
    # Words are a fallback: "4/5 - four stars" keeps its explicit x/N.
    assert parse_rating("4/5 - four stars").score == pytest.approx(80.0)
    assert spelled_out("4/5") is None


@pytest.mark.parametrize(
    ("raw", "score"),
    [
        ("★★★ out of four", 75.0),
        ("★★★ (out of four)", 75.0),
        ("★★★½ out of four", 87.5),
        ("★★★ sur quatre", 75.0),
        ("3 stars out of four", 75.0),
        ("3 étoiles sur quatre", 75.0),
        ("7 out of twenty-five", 28.0),
        ("3 out of ten.", 30.0),
    ],
)
def test_a_scale_in_words_after_digits_or_glyphs_is_the_scale(raw, score):
    # Read on the default five stars these were 60: the words after "out of" were ignored.
    rating = parse_rating(raw)
    assert rating.problem is None
    assert rating.score == pytest.approx(score, abs=0.01)


def test_more_glyphs_than_a_worded_scale_allows_is_out_of_range():
    rating = parse_rating("★★★★★ out of four")
    assert rating.score is None
    assert rating.problem.startswith("out of range")
