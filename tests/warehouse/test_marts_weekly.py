"""The weekly marts: ISO-week buckets, arrivals, score movement and critic activity."""

from __future__ import annotations

from datetime import date

import pytest

approx = pytest.approx


def test_iso_weeks_cross_the_year_boundary(wh):
    # 2026 has 53 ISO weeks: Monday 2026-12-28 to Sunday 2027-01-03 is 2026-W53.
    for day in ["2026-12-28", "2026-12-31", "2027-01-01", "2027-01-03"]:
        wh.review("her", "a", 70, published_on=day)
    wh.review("her", "a", 80, published_on="2027-01-04")
    wh.review("her", "a", 90, published_on="2025-12-29")  # a Monday that opens 2026-W01
    wh.build()
    weeks = wh.rows("select week, week_start, reviews from weekly_reviews order by week_start")
    assert weeks == [
        {"week": "2026-W01", "week_start": date(2025, 12, 29), "reviews": 1},
        {"week": "2026-W53", "week_start": date(2026, 12, 28), "reviews": 4},
        {"week": "2027-W01", "week_start": date(2027, 1, 4), "reviews": 1},
    ]


def test_weekly_reviews_counts_arrivals_critics_sources_and_scores(wh):
    wh.review("her", "a", 70, published_on="2026-11-16", source="site-a")
    wh.review("her", "b", 90, published_on="2026-11-22", source="site-b")
    wh.review("old", "a", is_positive=True, published_on="2026-11-20", source="site-a")
    wh.review("old", "a", 50, published_on="2026-11-09", source="site-a")
    wh.review("new", "c", 60, published_on="2026-11-23", source="site-a")
    wh.review("her", "c", 60, published_on=None)
    wh.build()
    w47 = wh.one("weekly_reviews", week="2026-W47")
    assert w47 == {"week": "2026-W47", "week_start": date(2026, 11, 16), "reviews": 3, "new_films": 1,
                   "active_critics": 2, "anonymous_reviews": 0, "sources": 2, "scored_reviews": 2,
                   "mean_score": approx(80)}
    assert wh.one("weekly_reviews", week="2026-W46")["new_films"] == 1
    assert wh.one("weekly_reviews", week="2026-W48")["new_films"] == 1
    assert sum(row["reviews"] for row in wh.rows("select reviews from weekly_reviews")) == 5  # undated left out


def test_an_anonymous_row_is_no_active_critic_and_its_reviews_are_counted_apart(wh):
    wh.critic("anon", name="Anonymous", name_key="anonymous")
    wh.review("her", "anon", 70, published_on="2026-11-16")
    wh.review("old", "anon", 50, published_on="2026-11-17")
    wh.review("her", "a", 90, published_on="2026-11-18")
    wh.build()
    w47 = wh.one("weekly_reviews", week="2026-W47")
    assert (w47["reviews"], w47["active_critics"], w47["anonymous_reviews"]) == (3, 1, 2)


def test_weekly_film_scores_move_against_the_previous_week(wh):
    # W47: film a 80. W48: film b 40. W50: film a 100. m = 10.
    wh.review("a", "x", 80, published_on="2026-11-18")
    wh.review("b", "y", 40, published_on="2026-11-25")
    wh.review("a", "y", 100, published_on="2026-12-09")
    wh.build()
    rows = wh.rows("select * from weekly_film_scores where film_id = 'a' order by week_start")
    assert [row["week"] for row in rows] == ["2026-W47", "2026-W50"]
    assert {row["year"] for row in rows} == {2026}  # the film's, so report queries need not join films
    first, later = rows
    # end of W47: C = 80, so the film's score is 80 whatever m; no previous week.
    assert first["cumulative_bayes_score"] == approx(80)
    assert (first["previous_bayes_score"], first["movement"]) == (None, None)
    # end of W49 (the week before W50): C = (80 + 40) / 2 = 60, film a has one score of 80.
    previous = (80 + 10 * 60) / 11
    # end of W50: C = 220 / 3, film a has 80 and 100.
    current = (180 + 10 * 220 / 3) / 12
    assert (later["reviews"], later["scored_reviews"]) == (1, 1)
    assert (later["cumulative_reviews"], later["cumulative_scored_reviews"]) == (2, 2)
    assert later["cumulative_mean_score"] == approx(90)
    assert later["previous_bayes_score"] == approx(previous)
    assert later["cumulative_bayes_score"] == approx(current)
    assert later["movement"] == approx(current - previous)


def test_weekly_film_scores_last_week_matches_film_scores_when_all_reviews_are_dated(wh):
    wh.review("a", "x", 80, published_on="2026-11-18")
    wh.review("b", "y", 40, published_on="2026-11-25")
    wh.review("a", "y", 100, published_on="2026-12-09")
    wh.review("a", "z", is_positive=False, published_on="2026-12-30")
    wh.build()
    last = wh.rows("select * from weekly_film_scores where film_id = 'a' order by week_start desc limit 1")[0]
    assert last["week"] == "2026-W53"
    assert last["scored_reviews"] == 0
    assert last["movement"] == approx(0)  # an unscored review moves nothing
    assert last["cumulative_bayes_score"] == approx(wh.one("film_scores", film_id="a")["bayes_score"])


def test_weekly_critic_activity_counts_each_critics_week(wh):
    wh.critic("a", name="Ann", outlet="The Daily")
    wh.review("f1", "a", 70, published_on="2026-11-16")
    wh.review("f2", "a", 90, published_on="2026-11-22")
    wh.review("f3", "a", is_positive=True, published_on="2026-11-23")
    wh.review("f1", "b", 50, published_on="2026-11-17")
    wh.build()
    assert wh.one("weekly_critic_activity", week="2026-W47", critic_id="a") == {
        "week": "2026-W47", "week_start": date(2026, 11, 16), "critic_id": "a", "name": "Ann",
        "outlet": "The Daily", "audience": "critic", "anonymous": False, "reviews": 2, "scored_reviews": 2,
        "mean_score": approx(80)}
    w48 = wh.one("weekly_critic_activity", week="2026-W48", critic_id="a")
    assert (w48["reviews"], w48["scored_reviews"], w48["mean_score"]) == (1, 0, None)
    assert wh.one("weekly_critic_activity", week="2026-W47", critic_id="b")["mean_score"] == approx(50)


def test_a_future_dated_review_makes_no_future_week_and_no_last_review(wh):
    wh.review("her", "a", 70, published_on="2026-11-18")
    typo = wh.review("her", "b", 90, published_on="2031-01-01")
    wh.flush()
    wh.conn.execute("update reviews set date_problem = 'future date: 2031-01-01 is after fetch date 2026-11-20' "
                    "where review_id = ?", [typo])
    wh.build()
    assert [row["week"] for row in wh.rows("select week from weekly_reviews")] == ["2026-W47"]
    film = wh.one("film_scores", film_id="her")
    assert (film["reviews"], film["last_review"]) == (2, date(2026, 11, 18))
    assert wh.rows("select published_on from reviews where review_id = ?", [typo]) == [
        {"published_on": date(2031, 1, 1)}]  # kept as published, with its flag

