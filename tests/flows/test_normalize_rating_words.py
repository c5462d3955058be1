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


def test_bare_number_word_is_as_ambiguous_as_the_digit():
    assert parse_rating("Eight").problem.startswith("ambiguous scale")
    assert parse_rating("Eight", best=10).score == pytest.approx(80.0)


def test_a_rating_read_without_words_is_not_changed_by_them():
    # Words are a fallback: "4/5 - four stars" keeps its explicit x/N.
    assert parse_rating("4/5 - four stars").score == pytest.approx(80.0)
    assert spelled_out("4/5") is None
