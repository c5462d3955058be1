"""film_scores, critic_stats and the build itself, checked against values computed by hand."""

from __future__ import annotations

from datetime import date

import pytest

from warehouse.db import WarehouseError
from warehouse.marts import MART_TABLES, build_plan

approx = pytest.approx


# film_scores ---------------------------------------------------------------------------------------

def test_mean_score_averages_explicit_scores(wh):
    for critic, score in [("a", 80), ("b", 60), ("c", 70)]:
        wh.review("her", critic, score)
    wh.build()
    film = wh.one("film_scores", film_id="her")
    assert (film["reviews"], film["scored_reviews"]) == (3, 3)
    assert film["mean_score"] == approx(70)
    assert film["pct_positive"] == approx(100)  # 60 is positive: at the threshold


def test_pct_positive_counts_fresh_rotten_verdicts_without_scores(wh):
    for critic, verdict in [("a", True), ("b", True), ("c", True), ("d", False), ("e", None)]:
        wh.review("her", critic, is_positive=verdict)
    wh.build()
    film = wh.one("film_scores", film_id="her")
    assert (film["reviews"], film["scored_reviews"]) == (5, 0)
    assert film["mean_score"] is None
    assert film["pct_positive"] == approx(75)  # the review with no verdict is not in the denominator


def test_wilson_lower_bound_of_8_positive_out_of_10_is_49_percent(wh):
    for i in range(10):
        wh.review("her", f"c{i}", is_positive=i < 8)
    wh.build()
    film = wh.one("film_scores", film_id="her")
    assert film["pct_positive"] == approx(80)
    assert film["pct_positive_wilson_low"] == approx(49.0, abs=0.1)


def test_positive_threshold_comes_from_mart_params(wh):
    wh.review("her", "a", 60)
    wh.review("her", "b", 55, is_positive=False)
    wh.build()
    assert wh.one("film_scores", film_id="her")["pct_positive"] == approx(50)
    wh.set_param("positive_threshold", 50)
    wh.build()
    assert wh.one("film_scores", film_id="her")["pct_positive"] == approx(100)


def test_a_new_positive_threshold_also_changes_the_verdicts_stored_in_reviews(wh):
    from flows.load import apply_mart_params

    wh.review("her", "a", 65)
    wh.review("her", "b", 90)
    wh.flush()
    apply_mart_params(wh.conn, {"positive_threshold": 80})
    wh.build()
    stored = wh.rows("select score, is_positive from reviews where score_source = 'explicit' order by score")
    staged = wh.rows("select score, is_positive from stg_reviews where score is not null order by score")
    assert stored == staged == [{"score": 65.0, "is_positive": False}, {"score": 90.0, "is_positive": True}]


def test_a_mart_parameter_taken_out_of_the_config_returns_to_its_default(wh):
    from flows.load import apply_mart_params

    wh.review("her", "a", 65)
    wh.flush()
    apply_mart_params(wh.conn, {"positive_threshold": 70, "bayes_m": 20})
    apply_mart_params(wh.conn, {"bayes_m": 20})
    params = dict(wh.conn.execute("select name, value from mart_params").fetchall())
    assert params == {"bayes_m": 20, "positive_threshold": 60, "harshness_k": 5, "min_reviews_top": 3}
    assert wh.rows("select is_positive from reviews") == [{"is_positive": True}]


def test_bayes_score_pulls_toward_mean_of_all_explicit_scores(wh):
    # C = (90 + 90 + 60 * 4) / 6 = 70, m = 10
    wh.review("short", "a", 90)
    wh.review("short", "b", 90)
    for critic in "cdef":
        wh.review("long", critic, 60)
    wh.film("unreviewed")
    wh.build()
    assert wh.one("film_scores", film_id="short")["bayes_score"] == approx((2 * 90 + 10 * 70) / 12)
    assert wh.one("film_scores", film_id="long")["bayes_score"] == approx((4 * 60 + 10 * 70) / 14)
    # a film no review points at any more (its reviews moved to another film) has no numbers of its own
    assert wh.rows("select * from film_scores where film_id = 'unreviewed'") == []


def test_film_with_only_unscored_reviews_gets_the_prior_as_bayes_score(wh):
    wh.review("scored", "a", 70)
    wh.review("verdict-only", "b", is_positive=True)
    wh.build()
    film = wh.one("film_scores", film_id="verdict-only")
    assert (film["reviews"], film["scored_reviews"], film["mean_score"]) == (1, 0, None)
    assert film["bayes_score"] == approx(70)


def test_changing_bayes_m_changes_bayes_score(wh):
    wh.review("short", "a", 90)
    wh.review("short", "b", 90)
    for critic in "cdef":
        wh.review("long", critic, 60)
    wh.set_param("bayes_m", 2)
    wh.build()
    assert wh.one("film_scores", film_id="short")["bayes_score"] == approx((2 * 90 + 2 * 70) / 4)
    assert wh.one("film_scores", film_id="long")["bayes_score"] == approx((4 * 60 + 2 * 70) / 6)


def test_inferred_scores_are_excluded_from_scores_but_counted_apart(wh):
    wh.review("her", "a", 80)
    wh.review("her", "u1", 20, score_source="inferred")
    wh.review("her", "u2", 40, score_source="inferred")
    wh.build()
    film = wh.one("film_scores", film_id="her")
    assert (film["reviews"], film["scored_reviews"], film["inferred_reviews"]) == (3, 1, 2)
    assert film["mean_score"] == approx(80)
    assert film["inferred_mean_score"] == approx(30)
    assert film["pct_positive"] == approx(100)  # inferred verdicts are not explicit verdicts
    assert film["bayes_score"] == approx(80)  # and do not enter the prior C either
    assert film["score_stddev"] is None


def test_critic_and_user_scores_are_split(wh):
    wh.critic("u1", audience="user", outlet=None)
    wh.critic("u2", audience="user", outlet=None)
    wh.critic("u3", audience="user", outlet=None)
    for critic, score in [("a", 80), ("b", 90), ("u1", 40), ("u2", 60), ("u3", 50)]:
        wh.review("her", critic, score)
    wh.build()
    film = wh.one("film_scores", film_id="her")
    assert (film["critic_reviews"], film["user_reviews"]) == (2, 3)
    assert film["critic_mean_score"] == approx(85)
    assert film["user_mean_score"] == approx(50)
    assert film["critic_user_gap"] == approx(35)
    assert film["critic_pct_positive"] == approx(100)
    assert film["user_pct_positive"] == approx(100 / 3)
    assert film["score_stddev"] == approx(430 ** 0.5)  # sample stddev of 80, 90, 40, 60, 50


def test_first_and_last_review_dates_and_top_eligibility(wh):
    wh.review("her", "a", 70, published_on="2026-11-02")
    wh.review("her", "b", 75, published_on="2026-11-20")
    wh.review("her", "c", 80, published_on=None)
    wh.review("other", "a", 80)
    wh.build()
    film = wh.one("film_scores", film_id="her")
    assert (film["first_review"], film["last_review"]) == (date(2026, 11, 2), date(2026, 11, 20))
    assert film["top_eligible"] is True  # 3 scored reviews, min_reviews_top = 3
    assert wh.one("film_scores", film_id="other")["top_eligible"] is False


# harshness and debiasing ---------------------------------------------------------------------------
# A review is compared with the OTHER reviews of its film (leave-one-out): its consensus score is the
# mean of the film's other explicit scores, (sum - own) / (n - 1), and a film nobody else scored gives
# no offset. harshness = sum(offsets) / (reviews with an offset + harshness_k).

def _harsh_and_kind(wh):
    # film1: harsh 40, kind 80; film2: harsh 50, kind 90; film3: harsh alone, 30.
    wh.review("film1", "harsh", 40)
    wh.review("film1", "kind", 80)
    wh.review("film2", "harsh", 50)
    wh.review("film2", "kind", 90)
    wh.review("film3", "harsh", 30)


def test_harshness_is_mean_offset_from_the_other_scores_shrunk_by_k(wh):
    _harsh_and_kind(wh)
    wh.build()
    # harsh: film1 40 - 80 = -40, film2 50 - 90 = -40, film3 no other score: no offset -> n = 2
    # kind: film1 80 - 40 = +40, film2 90 - 50 = +40 -> n = 2; harshness_k = 5
    assert wh.one("critic_stats", critic_id="harsh")["harshness"] == approx((-40 - 40) / (2 + 5))
    assert wh.one("critic_stats", critic_id="kind")["harshness"] == approx((40 + 40) / (2 + 5))
    wh.set_param("harshness_k", 0)
    wh.build()
    assert wh.one("critic_stats", critic_id="harsh")["harshness"] == approx((-40 - 40) / 2)


def test_a_critic_who_alone_scored_a_film_gets_no_offset_from_it(wh):
    wh.review("crowded", "solo", 70)
    wh.review("crowded", "other", 50)
    wh.review("alone", "solo", 10)  # nobody else scored this film: no consensus to be 60 below
    wh.build()
    offsets = wh.rows("select film_id, score_offset from int_review_consensus "
                      "where critic_id = 'solo' and score_offset is not null")
    assert offsets == [{"film_id": "crowded", "score_offset": approx(70 - 50)}]
    alone = wh.one("int_review_consensus", critic_id="solo", film_id="alone")
    assert (alone["other_scored_reviews"], alone["consensus_score"], alone["score_offset"]) == (0, None, None)
    # one offset, +20, over 1 + k: the lone 10 neither pulls it toward 0 nor adds -60
    assert wh.one("critic_stats", critic_id="solo")["harshness"] == approx(20 / (1 + 5))


def test_a_critics_second_review_of_a_film_is_not_another_reviewer(wh):
    # An edited import or a re-published review gives one critic two reviews of a film. Each used to be
    # the other's consensus: offsets of 0 that diluted the critic's harshness and agreed with themselves.
    wh.review("p1", "zed", 80)
    wh.review("p1", "olga", 40)
    wh.review("echo", "zed", 70, is_positive=True)
    wh.review("echo", "zed", 72, is_positive=False)
    wh.build()
    echo = wh.rows("select other_scored_reviews, consensus_score, consensus_positive, week_consensus_score "
                   "from int_review_consensus where film_id = 'echo'")
    assert echo == [{"other_scored_reviews": 0, "consensus_score": None, "consensus_positive": None,
                     "week_consensus_score": None}] * 2  # the weekly report's harshest/kindest too
    zed = wh.one("critic_stats", critic_id="zed")
    assert (zed["harshness"], zed["offset_reviews"]) == (approx(40 / (1 + 5)), 1)
    assert (zed["agreement_rate"], zed["agreement_verdicts"]) == (approx(0), 1)  # p1 only: 80 vs Olga's 40


def test_two_critics_80_and_40_on_one_film_are_40_above_and_below_each_other(wh):
    wh.review("her", "high", 80)
    wh.review("her", "low", 40)
    wh.build()
    offsets = {row["critic_id"]: row["score_offset"]
               for row in wh.rows("select critic_id, score_offset from int_review_consensus")}
    assert offsets == {"high": approx(80 - 40), "low": approx(40 - 80)}  # not +-20 from the mean 60
    assert wh.one("critic_stats", critic_id="high")["harshness"] == approx(40 / (1 + 5))
    assert wh.one("critic_stats", critic_id="low")["harshness"] == approx(-40 / (1 + 5))


def test_score_consensus_takes_users_and_leaves_out_verdicts_without_scores_and_inferred_scores(wh):
    wh.critic("fan", audience="user", outlet=None)
    wh.review("her", "critic", 50)
    wh.review("her", "fan", 90)  # a user's explicit score is part of a critic's consensus
    wh.review("her", "thumbs", is_positive=False)  # a binary verdict has no score to average
    wh.review("her", "guess", 0, score_source="inferred")  # an inferred score is never mixed in
    wh.build()
    assert wh.one("int_review_consensus", critic_id="critic")["consensus_score"] == approx(90)
    assert wh.one("int_review_consensus", critic_id="fan")["consensus_score"] == approx(50)
    thumbs = wh.one("int_review_consensus", critic_id="thumbs")
    assert (thumbs["consensus_score"], thumbs["score_offset"]) == (approx((50 + 90) / 2), None)
    assert wh.one("critic_stats", critic_id="thumbs")["harshness"] is None
    assert wh.one("critic_stats", critic_id="guess")["harshness"] is None


def test_debiased_score_removes_each_critics_harshness(wh):
    _harsh_and_kind(wh)
    wh.build()
    harsh, kind = (-40 - 40) / (2 + 5), (40 + 40) / (2 + 5)
    # film3's only score still counts, with its critic's harshness (made on the other films) removed
    assert wh.one("film_scores", film_id="film3")["debiased_score"] == approx(30 - harsh)
    assert wh.one("film_scores", film_id="film1")["debiased_score"] == approx(((40 - harsh) + (80 - kind)) / 2)


def test_debiased_score_takes_a_critic_without_harshness_as_neutral(wh):
    wh.review("her", "a", 80)
    wh.review("her", "b", 40)
    wh.review("lonely", "c", 70)  # c has no offset anywhere, so no harshness
    wh.build()
    assert wh.one("critic_stats", critic_id="c")["harshness"] is None
    assert wh.one("film_scores", film_id="lonely")["debiased_score"] == approx(70)
    assert wh.one("film_scores", film_id="her")["debiased_score"] == approx(((80 - 40 / 6) + (40 + 40 / 6)) / 2)


# critic_stats --------------------------------------------------------------------------------------

def test_agreement_rate_compares_each_verdict_with_the_majority_of_the_other_verdicts(wh):
    verdicts = {
        "f1": {"a": True, "b": True, "c": True},    # each: the 2 others positive -> agrees
        "f2": {"a": True, "b": False, "c": False},  # a: others 0-2 -> disagrees; b, c: others tie 1-1 -> skipped
        "f3": {"a": False, "b": False},             # each: the other negative -> agrees
        "f4": {"a": True},                          # no other verdict -> skipped
        "f5": {"a": True, "b": False},              # each: the other differs -> disagrees
    }
    for film, by_critic in verdicts.items():
        for critic, verdict in by_critic.items():
            wh.review(film, critic, is_positive=verdict)
    wh.build()
    a = wh.one("critic_stats", critic_id="a")
    assert (a["agreement_rate"], a["agreement_verdicts"]) == (approx(100 * 2 / 4), 4)  # f1, f3 of f1 f2 f3 f5
    b = wh.one("critic_stats", critic_id="b")
    assert (b["agreement_rate"], b["agreement_verdicts"]) == (approx(100 * 2 / 3), 3)  # f1, f3 of f1 f3 f5
    c = wh.one("critic_stats", critic_id="c")
    assert (c["agreement_rate"], c["agreement_verdicts"]) == (approx(100), 1)  # f1


def test_two_verdicts_that_differ_each_disagree_with_the_other(wh):
    wh.review("her", "fresh", 85)
    wh.review("her", "rotten", is_positive=False)  # a binary verdict counts like a scored one
    wh.build()
    for critic in ("fresh", "rotten"):
        row = wh.one("critic_stats", critic_id=critic)
        assert (row["agreement_rate"], row["agreement_verdicts"]) == (approx(0), 1)


def test_on_a_film_split_2_to_1_only_the_odd_verdict_is_compared_and_it_disagrees(wh):
    wh.review("her", "a", is_positive=True)
    wh.review("her", "b", 70)  # positive at the threshold 60
    wh.review("her", "c", is_positive=False)
    wh.build()
    # a: others b+, c- tie -> skipped; b: others a+, c- tie -> skipped; c: others a+, b+ -> disagrees
    assert [(row["critic_id"], row["agreement_rate"], row["agreement_verdicts"])
            for row in wh.rows("select * from critic_stats order by critic_id")] == [
        ("a", None, 0), ("b", None, 0), ("c", approx(0), 1)]
    wh.review("her", "d", is_positive=True)  # 3-1: each of the three positives has the other two against c
    wh.build()
    rates = {row["critic_id"]: (row["agreement_rate"], row["agreement_verdicts"])
             for row in wh.rows("select * from critic_stats")}
    assert rates == {"a": (approx(100), 1), "b": (approx(100), 1), "c": (approx(0), 1), "d": (approx(100), 1)}


def test_critic_stats_counts_reviews_scores_and_active_period(wh):
    wh.critic("a", name="Ann Lee", outlet="The Daily")
    wh.critic("idle", outlet="Weekly")
    wh.review("f1", "a", 70, published_on="2026-10-01")
    wh.review("f2", "a", 90, published_on="2026-11-01")
    wh.review("f3", "a", is_positive=True, published_on="2026-11-15")
    wh.build()
    a = wh.one("critic_stats", critic_id="a")
    assert (a["name"], a["outlet"], a["audience"]) == ("Ann Lee", "The Daily", "critic")
    assert (a["reviews"], a["scored_reviews"], a["mean_score"]) == (3, 2, approx(80))
    assert (a["first_review"], a["last_review"]) == (date(2026, 10, 1), date(2026, 11, 15))
    # a critic left without reviews (an edited byline moved them, or an old version's syndicated copy) is not listed
    assert wh.rows("select * from critic_stats where critic_id = 'idle'") == []


def test_outlets_list_every_outlet_of_the_same_person(wh):
    wh.critic("ann-daily", name="Ann Lee", outlet="The Daily", name_key="ann lee")
    wh.critic("ann-weekly", name="Ann Lee", outlet="Weekly", name_key="ann lee")
    wh.critic("bob", name="Bob", outlet="The Daily")
    wh.critic("ann-user", name="ann lee", outlet=None, audience="user", name_key="ann lee")
    wh.critic("ann-gone", name="Ann Lee", outlet="Old Paper", name_key="ann lee")  # no review left
    for critic in ("ann-daily", "ann-weekly", "bob", "ann-user"):
        wh.review("f1", critic, 70)
    wh.build()
    assert wh.one("critic_stats", critic_id="ann-daily")["outlets"] == ["The Daily", "Weekly"]
    assert wh.one("critic_stats", critic_id="ann-weekly")["outlets"] == ["The Daily", "Weekly"]
    assert wh.one("critic_stats", critic_id="bob")["outlets"] == ["The Daily"]
    assert wh.one("critic_stats", critic_id="ann-user")["outlets"] == []


# the build -----------------------------------------------------------------------------------------

def test_empty_warehouse_builds_empty_marts(wh):
    counts = wh.build()
    assert counts == dict.fromkeys(MART_TABLES, 0)


def test_build_returns_row_counts_and_is_repeatable(wh):
    _harsh_and_kind(wh)
    first = wh.build()
    snapshot = wh.rows("select * from film_scores order by film_id")
    assert wh.build() == first
    assert wh.rows("select * from film_scores order by film_id") == snapshot
    assert first["film_scores"] == 3
    assert first["critic_stats"] == 2


def test_mart_tables_match_the_marts_folder_and_build_in_dependency_order():
    plan = build_plan()
    names = [name for name, _, _ in plan]
    assert sorted(name for name, kind, _ in plan if kind == "table") == sorted(MART_TABLES)
    assert all(kind == "view" for name, kind, _ in plan if name.startswith(("stg_", "int_")))
    assert names.index("int_critic_film_consensus") < names.index("int_review_consensus")
    assert names.index("int_critic_film_consensus") < names.index("int_critic_against_consensus")
    assert max(names.index(n) for n in names if n.startswith("stg_")) < names.index("int_critic_film_consensus")


def test_missing_mart_param_fails_clearly_and_keeps_old_marts(wh):
    wh.review("her", "a", 80)
    wh.build()
    wh.conn.execute("delete from mart_params where name = 'bayes_m'")
    with pytest.raises(WarehouseError, match="bayes_m"):
        wh.build()
    assert wh.one("film_scores", film_id="her")["mean_score"] == approx(80)


def test_repeated_mart_param_fails_clearly(wh):
    wh.conn.execute("insert into mart_params values ('bayes_m', 3, 'a second value', 10)")
    with pytest.raises(WarehouseError, match="repeated \\['bayes_m'\\]"):
        wh.build()


def test_a_view_an_earlier_version_built_under_a_retired_name_is_dropped(wh):
    # int_critic_harshness was renamed; left in place it would answer queries with the old rule.
    wh.review("her", "zoe", 80)
    wh.flush()
    wh.conn.execute("create view int_critic_harshness as select 1 as harshness")
    wh.conn.execute("create view my_own_view as select 1 as x")
    wh.build()
    views = {r[0] for r in wh.conn.execute("select view_name from duckdb_views() where not internal").fetchall()}
    assert "int_critic_harshness" not in views
    assert {"my_own_view", "int_critic_against_consensus", "stg_reviews"} <= views


def test_a_user_lists_only_its_own_outlet_not_those_of_a_namesake_on_another_site(wh):
    # "john" on two sites is two users; each listed both sites' outlets (lineage QA).
    wh.critic("john-a", name="john", outlet="Site A", audience="user", name_key="john")
    wh.critic("john-b", name="john", outlet="Site B", audience="user", name_key="john")
    for critic in ("john-a", "john-b"):
        wh.review("f1", critic, 70)
    wh.build()
    assert wh.one("critic_stats", critic_id="john-a")["outlets"] == ["Site A"]
    assert wh.one("critic_stats", critic_id="john-b")["outlets"] == ["Site B"]
