"""Ratings as sites around the world write them, found by QA: each was scored wrong, silently, before."""

from __future__ import annotations

import pytest

from flows.normalize.ratings import parse_rating


@pytest.mark.parametrize(("raw", "score"), [
    # The scale after an article: the star count found there is the scale, not the rating (was 100).
    ("2 out of the 5 stars", 40.0), ("2 of the 5 stars", 40.0), ("2 de las 5 estrellas", 40.0),
    ("2 sur les 5 étoiles", 40.0), ("4 van de 5 sterren", 80.0), ("2 von den 5 Sternen", 40.0),
    ("1 of my 5 stars", 20.0),
    # Decimal marks other than . and , (only the digits after them were read: 7'5/10 was 5/10).
    ("7'5/10", 75.0), ("6’5/10", 65.0), ("0'5/5", 10.0), ("７．５/１０", 75.0), ("3．5/5", 70.0),
    ("٧٫٥/١٠", 75.0), ("7·5/10", 75.0),
    # One rating given two ways is still one.
    ("8/10 (4/5)", 80.0), ("8/10 - 4 stars", 80.0), ("★ 8/10", 80.0), ("4 / 5 - 8 / 10", 80.0),
    ("4 out of 5 - 8 out of 10", 80.0), ("4/5 (Top 10 of 2024)", 80.0),
    # Review: no scale before "of", no range: a number and a rating.
    ("a rating of 4 stars", 80.0), ("Nota de 4 estrellas", 80.0), ("Wertung von 4 Sternen", 80.0),
    ("Day 3 - 4/5", 80.0), ("2024 - 4/5", 80.0),
])
def test_world_ratings_score_as_written(raw: str, score: float) -> None:
    assert parse_rating(raw) == parse_rating(raw)  # cached alike
    assert (parse_rating(raw).score, parse_rating(raw).problem) == (score, None)


@pytest.mark.parametrize("raw", ["3 - 4 / 5", "4 - 5 / 10", "3-4 stars", "3 – 4 stars", "3 or 4 stars",
                                 "3 to 4 out of 5", "3.5-4 stars", "3 à 4 étoiles"])
def test_a_range_is_a_problem_not_its_upper_end(raw: str) -> None:
    rating = parse_rating(raw)
    assert (rating.score, rating.is_positive) == (None, None)
    assert rating.problem.startswith("a range, not one rating")


@pytest.mark.parametrize("raw", ["was 3/5 now 4/5", "3/5 -> 4/5", "10 out of 10 for effort, 2/10 overall",
                                 "4/5 (wait, 3/5)", "Story: 8/10, Acting: 6/10"])
def test_two_different_ratings_in_one_text_are_a_problem_not_the_first(raw: str) -> None:
    rating = parse_rating(raw)
    assert rating.score is None and rating.problem.startswith("several ratings")


@pytest.mark.parametrize(("raw", "best", "score"), [
    ("3 stars", 4, 75.0), ("★★★", 4, 75.0), ("***", 4, 75.0), ("Four stars", 4, 100.0), ("4 stars", 10, 40.0),
    ("★★★☆", 10, 75.0),  # empty stars draw their own scale
    ("4 stars", 100, 80.0),  # a scale of 100 is a number's, not a row of stars
    ("3 stars", None, 60.0),
])
def test_a_count_of_stars_is_out_of_the_scale_the_caller_gives(raw: str, best: int | None, score: float) -> None:
    assert parse_rating(raw, best=best).score == score


def test_a_value_of_true_is_not_read_as_the_number_one() -> None:
    assert parse_rating(None, 1).score == 0.0  # 1 on schema.org's 1-5
    assert parse_rating(None, True).score is None  # the cache once answered this with the 1's score
