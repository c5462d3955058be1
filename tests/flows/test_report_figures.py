"""The weekly report's figures read as printed: rows that add up, lists that hold only what their heading says,
counts formatted alike in Markdown and HTML, and cut lists that say so (from the report QA)."""

from __future__ import annotations

import lxml.html
import pytest

from flows.report.render import change
from tests.flows.test_report_safety import render
from tests.warehouse.conftest import Warehouse


@pytest.fixture
def wh(conn) -> Warehouse:
    return Warehouse(conn)


def test_a_change_is_the_difference_of_the_printed_figures():
    # 75.24 and 76.16 print as 75.2 and 76.2: the row said +0.9 beside them.
    assert str(change(76.16, 75.24)) == "+1.0"
    assert str(change(64.04, 65.15)) == "−1.2"
    assert str(change(70.0, 70.04)) == "0.0"
    assert str(change(None, 70.0)) == "—"


def test_the_critics_users_gap_adds_up_as_printed(wh):
    # Critics 91 and 90.12 (mean 90.56, printed 90.6), users 60.04 and 60.0 (60.02, printed 60.0): the
    # row said +30.5, the unrounded gap.
    wh.review("her", "c", 91)
    wh.review("her", "d", 90.12)
    wh.review("her", "u1", 60.04, audience="user")
    wh.review("her", "u2", 60.0, audience="user")
    _, markdown, html = render(wh)
    assert "| 90.6 | 60.0 | +30.6 |" in markdown
    assert "+30.6" in html and "+30.5" not in html


def test_the_critics_users_gaps_are_ordered_as_printed(wh):
    # Printed gaps +30.6 (exact 30.54), +30.6 (30.56) and +30.5 (30.58): ordered by the exact gap, the
    # +30.5 came first.
    scores = {"x": ((91, 90.12), (60.04, 60.0)), "y": ((90.6, 90.6), (60.04, 60.04)),
              "z": ((90.64, 90.64), (60.06, 60.06))}
    for film, (critics, users) in scores.items():
        for number, score in enumerate(critics):
            wh.review(film, f"critic{number}", score)
        for number, score in enumerate(users):
            wh.review(film, f"{film}user{number}", score, audience="user")
    data, _, _ = render(wh)
    assert [row["film_id"] for row in data.critics_vs_users] == ["y", "x", "z"]


def test_a_gap_whose_mean_is_a_half_is_rounded_up_and_ordered_as_printed(wh):
    # Critics 4.6, 83.6, 58.7, 64.9: a mean of exactly 52.95, printed 53.0 (summed as doubles it was
    # 52.949999999999996 and printed 52.9; the scores are now summed exactly). y's 59.96 and 7.04 print as
    # 60.0 and 7.0, a gap of 53.0 too, after x's.
    for number, score in enumerate((4.6, 83.6, 58.7, 64.9)):
        wh.review("x", f"critic{number}", score)
    for number, score in enumerate((0, 0)):
        wh.review("x", f"xuser{number}", score, audience="user")
    for number, score in enumerate((59.96, 59.96)):
        wh.review("y", f"critic{number}", score)
    for number, score in enumerate((7.04, 7.04)):
        wh.review("y", f"yuser{number}", score, audience="user")
    data, markdown, _ = render(wh)
    assert [row["film_id"] for row in data.critics_vs_users] == ["x", "y"]
    assert "| X (2026) | 53.0 | 0.0 | +53.0 |" in markdown and "| Y (2026) | 60.0 | 7.0 | +53.0 |" in markdown


def test_a_film_whose_critics_and_users_gap_prints_as_zero_is_not_where_they_disagree(wh):
    # Marts QA: films were listed at "65.7 | 65.7 | 0.0" (here 65.70 against 65.74).
    for film, users in (("x", (65.74, 65.74)), ("y", (60.0, 60.0))):
        wh.review(film, "critic1", 65.7)
        wh.review(film, "critic2", 65.7)
        for number, score in enumerate(users):
            wh.review(film, f"{film}user{number}", score, audience="user")
    data, markdown, _ = render(wh)
    assert [row["film_id"] for row in data.critics_vs_users] == ["y"]
    assert "| 0.0 |" not in markdown


def test_movers_are_ordered_by_the_change_they_print_and_one_printed_as_zero_is_left_out(wh):
    from flows.report.data import load_report_data
    from flows.report.weeks import parse_week

    wh.review("her", "a", 70)
    wh.build()
    wh.conn.execute("delete from weekly_film_scores")
    # printed +1.0, +1.1, 0.0, -1.1, 0.0 and +0.1: d and b tie on the printed change, d moved more. The last
    # two are means SQL rounds the other way (52.949999999999996 is 53.0 there, 52.9 printed: review).
    for film, before, now in (("a", 75.24, 76.16), ("b", 64.04, 65.10), ("c", 70.04, 70.0), ("d", 50.0, 48.86),
                              ("e", 52.9, 52.949999999999996), ("f", 52.949999999999996, 53.0)):
        wh.conn.execute("insert into weekly_film_scores (week, week_start, film_id, title, reviews, scored_reviews, "
                        "previous_bayes_score, cumulative_bayes_score, movement) "
                        "values ('2026-W47', '2026-11-16', ?, ?, 2, 2, ?, ?, ?)",
                        [film, film, before, now, now - before])
    movers = load_report_data(wh.conn, parse_week("2026-W47")).movers
    assert [row["film_id"] for row in movers] == ["d", "b", "a", "f"]


def test_a_film_whose_score_did_not_move_is_no_mover_and_the_empty_list_says_why(wh):
    wh.review("solo", "a", 70, published_on="2026-11-10")
    wh.review("solo", "b", 70, published_on="2026-11-18")  # the same mean: the Bayesian score stays 70
    data, markdown, html = render(wh)
    assert data.movers == []
    assert "_No film's score moved this week (films with explicit scores this week and before it)._" in markdown
    assert "No film had reviews both this week and before" not in html


def test_divisive_films_need_two_differing_scores_whatever_min_reviews_top_says(wh):
    wh.set_param("min_reviews_top", 1)
    wh.review("alone", "a", 100)
    wh.review("unanimous", "a", 70)
    wh.review("unanimous", "b", 70)
    wh.review("split", "a", 20)
    wh.review("split", "b", 90)
    data, markdown, _ = render(wh)
    assert [row["film_id"] for row in data.divisive_films] == ["split"]
    assert "_At least 1 scored review this week" in markdown


def test_counts_read_alike_in_html_and_markdown(wh):
    for number in range(1005):
        wh.review("big", f"u{number}", 70, audience="user")
    data, markdown, html = render(wh)
    page = lxml.html.fromstring(html)
    assert "1,005/1,005" in markdown and "1,005/1,005" in page.text_content()
    assert page.xpath("string(//section[@id='new-films']//tbody/tr/td[2])") == "1,005"
    assert "<span>film reviewed</span>" in html  # one film: no "1 films"


def test_a_cut_new_films_list_says_how_many_more(wh):
    for number in range(12):
        wh.review(f"film{number:02d}", "a", 70)
    data, markdown, html = render(wh)
    assert len(data.new_films) == 10
    assert "- …and 2 more" in markdown
    assert "…and 2 more." in html


def test_the_movers_chart_draws_the_change_the_table_prints():
    from flows.report.charts import _shown_movement

    assert _shown_movement({"cumulative_bayes_score": 76.16, "previous_bayes_score": 75.24, "movement": 0.92}) == 1.0
    assert _shown_movement({"movement": 1.5}) == 1.5  # a row without its scores: the exact change
