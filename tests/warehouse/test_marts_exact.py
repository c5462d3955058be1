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


# Ten scores whose mean is exactly 61.75; summed as doubles, one order gave 61.749999999999986 and another
# 61.750000000000014, which the report printed as 61.7 and 61.8 (determinism QA).
SCORES = [55.5, 70.25, 61.75, 80.0, 43.33, 66.67, 59.99, 61.75, 62.5, 55.76]


def _marts_in_order(tmp_path, name: str, order: list[int]) -> dict[str, list[tuple]]:
    from tests.warehouse.conftest import Warehouse
    from warehouse.db import connect, migrate

    conn = connect(tmp_path / f"{name}.duckdb")
    migrate(conn)
    wh = Warehouse(conn)
    for i in order:  # two critics on a second film make every critic's offsets and harshness non-trivial
        wh.review("float", f"c{i}", SCORES[i], audience="user" if i % 3 else None)
        wh.review("other", f"c{i}", SCORES[(i + 3) % 10])
    wh.build()
    found = {mart: conn.execute(f"select * from {mart} order by all").fetchall()
             for mart in ("film_scores", "critic_stats", "weekly_film_scores", "weekly_reviews",
                          "weekly_critic_activity")}
    conn.close()
    return found


def test_means_spreads_and_offsets_are_the_same_whatever_order_the_reviews_were_loaded_in(tmp_path):
    first = _marts_in_order(tmp_path, "a", list(range(10)))
    for n, order in enumerate([[9, 8, 7, 6, 5, 4, 3, 2, 1, 0], [3, 7, 0, 9, 1, 5, 8, 2, 6, 4]]):
        assert _marts_in_order(tmp_path, f"b{n}", order) == first
    (float_film,) = [row for row in first["film_scores"] if row[0] == "float"]
    assert 61.75 in float_film  # mean_score, exactly


def _top_critics_in_order(tmp_path, name: str, outlets: list[str]) -> list[tuple]:
    from tests.warehouse.conftest import Warehouse
    from warehouse.db import connect, migrate
    from warehouse.queries import run_query

    conn = connect(tmp_path / f"{name}.duckdb")
    migrate(conn)
    wh = Warehouse(conn)
    for outlet in outlets:  # one name at two outlets, as many reviews each: a tie on everything but the outlet
        wh.critic(f"sam-{outlet[-1].lower()}", "Sam Lee", outlet)
        for film in ("her", "dune"):
            wh.review(film, f"sam-{outlet[-1].lower()}", 70)
    wh.build()
    _, found = run_query(conn, "top_critics")
    conn.close()
    return found


def test_critics_tied_on_every_figure_are_listed_in_one_order_whatever_order_they_were_loaded_in(tmp_path):
    # The order stopped at the name, so two Sam Lees swapped places with the dump's line order (determinism QA).
    first = _top_critics_in_order(tmp_path, "a", ["Paper A", "Paper B"])
    assert [row[1] for row in first] == ["Paper A", "Paper B"]
    assert _top_critics_in_order(tmp_path, "b", ["Paper B", "Paper A"]) == first


def test_a_mean_of_exactly_50_45_is_stored_as_50_45_not_a_step_below(wh):
    # Marts QA: DuckDB divided the exact sum in floating point, 50.449999999999996, which printed 50.4 in "New
    # films" and in the run summary beside the report's 50.5 for the same film.
    for critic, score in (("c1", 49.45), ("c2", 50.45), ("c3", 51.45)):
        wh.review("half", critic, score)
    wh.build()
    assert wh.one("film_scores", film_id="half")["mean_score"] == 50.45
    assert wh.one("film_scores", film_id="half")["critic_mean_score"] == 50.45
    assert wh.one("weekly_film_scores", film_id="half")["cumulative_mean_score"] == 50.45


def test_a_harshness_of_exactly_0_45_is_stored_as_0_45(wh):
    # Offsets of 1.01, 1.01, 1.01 and 1.02 from the other critic: 4.05 / (4 + harshness_k 5) is 0.45, which
    # was 0.44999999999999996 and printed +0.4 / -0.4 (marts QA).
    for film, kind in zip(("a", "b", "c", "d"), (51.01, 51.01, 51.01, 51.02), strict=True):
        wh.review(film, "kate", kind)
        wh.review(film, "hal", 50)
    wh.build()
    assert wh.one("critic_stats", critic_id="kate")["harshness"] == 0.45  # the score's offset: kinder is higher
    assert wh.one("critic_stats", critic_id="hal")["harshness"] == -0.45


def test_the_run_summary_prints_a_harshness_that_rounds_to_zero_without_a_sign(wh):
    # -0.2 / (1 + harshness_k 5) is -0.033: DuckDB's round() gave -0.0, printed as "-0.0" (report-history QA).
    from warehouse.queries import run_query

    wh.review("her", "kate", 50)
    wh.review("her", "hal", 50.2)
    wh.build()
    _, rows = run_query(wh.conn, "top_critics")
    assert sorted(str(row[5]) for row in rows) == ["0.0", "0.0"]
