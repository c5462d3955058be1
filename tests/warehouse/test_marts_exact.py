"""Mart figures that must be exact where a report rounds them or a query compares them with a constant."""

from __future__ import annotations


def test_pct_positive_is_exact_where_a_half_decides_the_rounding(wh):
    # 23 of 40 is 57.5 %, which the report rounds up to 58; 100 * avg() gave 57.49999999999999 (57).
    for i in range(40):
        wh.review("her", f"c{i}", 70 if i < 23 else 30)
    wh.build()
    assert wh.one("film_scores", film_id="her")["pct_positive"] == 57.5
    assert wh.one("film_scores", film_id="her")["critic_pct_positive"] == 57.5


def test_wilson_lower_bound_with_no_positive_review_is_exactly_zero(wh):
    for i in range(7):
        wh.review("her", f"c{i}", 20)
    wh.build()
    assert wh.one("film_scores", film_id="her")["pct_positive_wilson_low"] == 0
