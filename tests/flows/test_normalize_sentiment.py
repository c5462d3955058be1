import json
from pathlib import Path

import duckdb
import pytest

from flows.normalize.sentiment import SCORE_SQL, infer_score, infer_scores, infer_scores_in

SEEDS = Path(__file__).resolve().parents[1] / "fixtures" / "seeds"

NEGATIVE = (
    "This was a tedious, lifeless mess. The script is lazy, the acting is wooden and the jokes fall flat. "
    "I was bored from start to finish and regret wasting two hours. Avoid it."
)


def test_glowing_seed_review_scores_positive():
    text = (SEEDS / "her-2013-user-review.txt").read_text(encoding="utf-8")
    assert infer_score(text) >= 60


def test_clearly_negative_review_scores_low():
    assert infer_score(NEGATIVE) < 40


def test_plot_summary_alone_gets_no_score():
    # No opinionated sentence is no evidence; a 50 would pull every inferred mean to the middle.
    assert infer_score("The film follows a writer in Los Angeles. He buys a new computer.") is None


@pytest.mark.parametrize("text", [None, "", "   \n  "])
def test_empty_text_has_no_score(text):
    assert infer_score(text) is None


def test_scores_stay_within_0_to_100():
    for text in ["Best film ever!!! Perfect, brilliant, wonderful.", "Worst, awful, horrible garbage."]:
        assert 0 <= infer_score(text) <= 100


def test_batch_matches_single_calls():
    texts = [NEGATIVE, None, "A warm, funny and moving film."]
    assert infer_scores(texts) == [infer_score(t) for t in texts]


def test_typographic_apostrophe_negates_like_a_plain_one():
    from flows.normalize.sentiment import infer_scores

    curly, plain, positive = infer_scores(["I don\u2019t like it at all.", "I don't like it at all.", "I like it."])
    assert curly == plain < 50 < positive


def test_quotes_and_dashes_do_not_glue_words_to_punctuation():
    from flows.normalize.sentiment import infer_scores

    quoted = "\u2018Brilliant\u2019 \u2013 truly \u201ewonderful\u201c."
    assert infer_scores([quoted]) == infer_scores(["Brilliant truly wonderful."])


def test_scoring_builds_the_join_on_the_lexicon_and_gives_the_connection_its_optimizers_back():
    duck = duckdb.connect()
    duck.execute("set disabled_optimizers = 'compressed_materialization'")
    duck.execute("create temp table texts as select 1 as row_no, 'Great film, not bad at all.' as text")
    infer_scores_in(duck, "(select row_no, text from texts)", "scores")
    assert duck.execute("select current_setting('disabled_optimizers')").fetchone()[0] == "compressed_materialization"
    assert duck.execute("select score > 50 from scores").fetchone()[0]
    # The plan as it runs: the lexicon is the hash join's build side (its right child), however few the tokens look.
    duck.execute("set disabled_optimizers = 'join_order,build_side_probe_side'")
    plan = duck.execute("explain (format json) " + SCORE_SQL.format(source="(select row_no, text from texts)",
                                                                    target="plan_check")).fetchall()[0][1]

    def joins(node):
        if node.get("name") == "HASH_JOIN" and "token" in json.dumps(node.get("extra_info", {})):
            yield node
        for child in node.get("children", []):
            yield from joins(child)

    (join,) = [j for root in json.loads(plan) for j in joins(root)]
    assert "vader_lexicon" in json.dumps(join["children"][1])
