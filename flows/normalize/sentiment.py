"""Inferred 0-100 score for reviews that carry no explicit rating: VADER's lexicon, run in DuckDB.

Why in SQL: the reference VADER implementation costs ~2.4 ms per review in Python, so a million
unrated reviews would take most of an hour. The same lexicon (shipped inside the vaderSentiment
package, nothing downloaded) applied set-based in DuckDB costs seconds. Kept from VADER: the
lexicon valences; negation of the next two words (x -0.74; VADER looks three words back, but a third
word here would swallow the next negation of "not good and not funny"); "no" negating the two words
after it, and no negative word itself ("no fun" is fun negated); "kind of" as no "kind"; "but", which
halves what comes before it and weighs what follows by 1.5, within a sentence and across sentences (a
review of praise that ends "But overall it is awful" is negative, as VADER reads it); and the compound
normalisation s / sqrt(s^2 + 15). Left out: capitals, "!!" and booster words; they move scores
slightly, not the verdict.

Why per sentence: the compound squashes sums, so a long review scored whole saturates near +1 or -1.
Scoring each sentence and averaging the opinionated ones (|compound| >= 0.05) follows the balance of
the verdict; plot-summary sentences score 0 and are left out so they do not drag every review to 50.
A text with no opinionated sentence at all gets no score (None), not 50.

The lexicon is English: the normalizer keeps an inferred score only for text in English or in no
language it could detect (flows/normalize/assemble.py).

Why replace() chains instead of regex splitting: the same tokens (words between punctuation and
spaces) at half the cost of the whole step. On the 3,001 demo-site texts the scores differ from a
regex tokenizer's by 0.04 points on average, and 99.9% keep the same verdict.

This is an estimate for gap-filling only; it is stored as score_source = 'inferred' and never mixed
into the explicit marts.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from functools import cache
from importlib import resources

import duckdb
import pyarrow as pa
from vaderSentiment.vaderSentiment import N_SCALAR, NEGATE

ALPHA = 15.0  # VADER's normalisation constant
NEUTRAL = 0.05  # VADER's own cut-off between neutral and opinionated
# "not think", "don't believe": the negation is of what follows (the verbs hold no valence of their own).
_OPINION_VERBS = "(?:believe|expect)"
# After these the negation also reaches past up to three words of no opinion ("I do not think it is good"). Not after
# "believe" nor "expect": "I can't believe it is so good" and "didn't expect it was this good" are praise, surprised;
# nor past "would", "will" or "ever": "didn't think it would be this good", "don't think he's ever been better" are
# praise too (reviews).
_REACHING_VERBS = "(?:think|feel|find|say|suppose)"
_OPINION_FILLERS = ("(?:that|it|this|the|film|movie|one|he|she|they|is|was|were|are|really|it''s|that''s|he''s|"
                    "she''s|they''re)")  # quotes doubled: it goes inside a SQL string
_NEGATIONS = "|".join(sorted({w.replace("'", "''") for w in NEGATE if w.replace("-", "").isalpha()
                              or "'" in w}, key=len, reverse=True))
# A negation, what it passes through, and the two words it negates. Braces doubled: SCORE_SQL is formatted.
_NEGATED = (f"\\b({_NEGATIONS})\\s+({_REACHING_VERBS}\\s+(?:{_OPINION_FILLERS}\\s+){{{{0,3}}}}|{_OPINION_VERBS}\\s+)?"
            "([a-z'']+)(\\s+([a-z'']+))?")


def _replacing(expression: str, pairs: Sequence[tuple[str, str]]) -> str:
    """SQL: `expression` with each (old, new) pair of SQL expressions replaced in turn.

    Plain replace() chains, because DuckDB's regex splitting costs ~6x more per review than
    replacing a few characters and splitting on one.
    """
    for old, new in pairs:
        expression = f"replace({expression}, {old}, {new})"
    return expression


# A typographic apostrophe is an apostrophe ("don’t" is the negation "don't"); sentence ends become
# chr(30), and the text splits on it; inside a sentence, punctuation becomes a space.
_SENTENCE_ENDS = ([("'’'", "''''")] + [(f"'{mark} '", "chr(30)") for mark in ".!?…"]
                  + [("chr(10)", "chr(30)")])
_WORD_BREAKS = [(f"'{mark}'", "' '") for mark in '.,!?;:"()[]*-/—–…“”‘„«»'] + [("chr(9)", "' '")]
# An apostrophe at the edge of a word is a quotation mark ('brilliant'), inside one it belongs to it (don't).
_QUOTE_MARKS = [("''' '", "' '"), ("' '''", "' '")]
def _ascii(pairs: Sequence[tuple[str, str]]) -> list[tuple[str, str]]:
    """The pairs whose mark is ASCII: the others cannot occur in ASCII text, so ASCII text skips them."""
    return [(old, new) for old, new in pairs if old.startswith("chr(") or old.isascii()]


# Most sentences hold no mark but '.' and ','; the rarer ones are replaced only when one occurs (a
# contains() costs a third of a replace()), the quote marks only when there is an apostrophe, and the
# multi-byte marks only in non-ASCII sentences. Each CASE branch gives what the full chain gives.
_COMMON_BREAKS = [pair for pair in _WORD_BREAKS if pair[0] in ("'.'", "','")]
_RARE_BREAKS = [pair for pair in _ascii(_WORD_BREAKS) if pair not in _COMMON_BREAKS]
_HAS_RARE = " or ".join(f"contains(sentence, {old})" for old, _ in _RARE_BREAKS)
_BASE = _replacing("sentence || ' '", _COMMON_BREAKS)
_TOKENIZED = f"""case
            when not is_ascii then {_replacing("sentence || ' '", _WORD_BREAKS + _QUOTE_MARKS)}
            when contains(sentence, '''') then (case when {_HAS_RARE}
                then {_replacing(_BASE, _RARE_BREAKS + _QUOTE_MARKS)} else {_replacing(_BASE, _QUOTE_MARKS)} end)
            when {_HAS_RARE} then {_replacing(_BASE, _RARE_BREAKS)}
            else {_BASE} end"""
SCORE_SQL = f"""
create or replace temp table {{target}} as
with split as (
    select row_no, string_split(case when strlen(text) = length(text)
            then {_replacing("lower(text)", _ascii(_SENTENCE_ENDS))}
            else {_replacing("lower(text)", _SENTENCE_ENDS)} end, chr(30)) as parts
    from {{source}}
    where regexp_matches(text, '\\S')
),
sentences as (
    select row_no, unnest(parts) as sentence, generate_subscripts(parts, 1) as sentence_no
    from split
),
clauses as (
    -- A sentence holding " but " is read as its clauses: what comes before the "but" weighs half, what follows 1.5
    -- (VADER's rule), and a negation's words never run past it.
    select row_no, sentence_no, sentence, 1.0 as weight
    from sentences
    where not contains(sentence, ' but ')
    union all
    select row_no, sentence_no, sentence, case when clause_no = 1 then 0.5 else 1.5 end as weight
    from (select row_no, sentence_no, unnest(string_split(sentence, ' but ')) as sentence,
              generate_subscripts(string_split(sentence, ' but '), 1) as clause_no
          from sentences
          where contains(sentence, ' but '))
),
negation_marked as (
    -- "not good" and "never really good": the two words after a negation carry a neg_ mark (a third word would take
    -- the next negation of "not good and not funny" with it); so do the two after "no", which becomes no_, no word
    -- of the lexicon ("no fun" is fun negated); a verb of opinion after the negation passes it on, past up to three
    -- words of no opinion ("I don't think it's good", "I do not think it is good" negate "good"). "kind of" is
    -- kind_of, not "kind". (The rarer rules run only where a contains() finds their words: a regex pass over every
    -- sentence cost ~1 CPU-s per 250,000 reviews.)
    select row_no, sentence_no, weight, strlen(sentence) = length(sentence) as is_ascii,
        regexp_replace(
            case when contains(sentence, 'no ') then regexp_replace(sentence,
                '\\bno\\s+([a-z'']+)(\\s+([a-z'']+))?', 'no_ neg_\\1 neg_\\3', 'g') else sentence end,
            '{_NEGATED}', '\\1 \\2neg_\\3 neg_\\5', 'g')
            as marked
    from clauses
),
kind_of_read as (
    select row_no, sentence_no, weight, is_ascii,
        case when contains(marked, 'kind of ') then replace(' ' || marked, ' kind of ', ' kind_of ') else marked end
            as sentence
    from negation_marked
),
tokens as (
    select row_no, sentence_no, weight, unnest(string_split({_TOKENIZED}, ' ')) as token
    from kind_of_read
),
valences as (
    -- vader_lexicon also holds each 'neg_' token with its valence x N_SCALAR; the lexicon is the
    -- join's right side, its build side (see infer_scores_in).
    select t.row_no, t.sentence_no, sum(l.valence * t.weight) as total
    from tokens as t
    inner join vader_lexicon as l on l.token = t.token
    group by all
),
compounds as (
    select row_no, sentence_no, total / sqrt(total * total + {ALPHA}) as compound from valences
),
last_but as (
    select row_no, max(sentence_no) as sentence_no
    from sentences
    where starts_with(ltrim(sentence), 'but ') or starts_with(ltrim(sentence), 'but,')
    group by row_no
),
opinions as (
    -- Sentences before the last one that begins with "But" weigh half, it and those after 1.5.
    select c.row_no, c.compound,
        case when b.sentence_no is null then 1.0 when c.sentence_no < b.sentence_no then 0.5 else 1.5 end as weight
    from compounds as c
    left join last_but as b using (row_no)
    where abs(c.compound) >= {NEUTRAL}
),
final as (
    select
        i.row_no,
        -- No opinionated sentence is no evidence: no score, rather than a 50 that pulls means to the middle.
        round((sum(o.compound * o.weight) / sum(o.weight) + 1) * 50, 2) as score
    from split as i
    left join opinions as o using (row_no)
    group by i.row_no
)
select * from final
"""


@cache
def _lexicon_path() -> str:
    return str(resources.files("vaderSentiment").joinpath("vader_lexicon.txt"))


def infer_scores_in(duck: duckdb.DuckDBPyConnection, source: str = "inference_input",
                    target: str = "inferred_scores") -> None:
    """Score the rows of `source(row_no, text)`, a table or a parenthesized query, into temp table
    `target(row_no, score)`."""
    # One row per token, and one per negated token: 'neg_' || token with valence x N_SCALAR, so that
    # the join is on the token itself. (The few tokens the file lists twice are summed: same totals.)
    duck.execute(f"""
        create temp table if not exists vader_lexicon as
        with listed as (
            select token, valence from read_csv(?, delim = '\t', header = false, quote = '', escape = '',
                columns = {{'token': 'VARCHAR', 'valence': 'DOUBLE', 'sd': 'DOUBLE', 'raw': 'VARCHAR'}})
        )
        select token, sum(valence) as valence
        from (select token, valence from listed
              union all
              select 'neg_' || token, valence * {N_SCALAR} from listed)
        group by token""", [_lexicon_path()])
    with optimizers_off(duck, "join_order", "build_side_probe_side"):
        duck.execute(SCORE_SQL.format(source=source, target=target))


@contextmanager
def optimizers_off(duck: duckdb.DuckDBPyConnection, *names: str) -> Iterator[None]:
    """DuckDB's optimizers `names` off for the statements inside, the setting put back after.

    The tokens' join must build its hash table on the lexicon: DuckDB picks a join's build side from
    estimates, and the number of tokens is unknown before unnesting. Given a query as source it built
    the table on 12.6 million tokens (7.8 CPU-s against 0.6). Without join_order and build_side_probe_side a
    join builds on its right side, as SCORE_SQL writes it. The setting is global to the database instance,
    so two threads scoring at once in one process could leave it off; the normalizer scores in one thread.
    """
    previous = duck.execute("select current_setting('disabled_optimizers')").fetchone()[0]
    wanted = ",".join(dict.fromkeys([*filter(None, previous.split(",")), *names]))
    duck.execute(f"set disabled_optimizers = '{wanted}'")
    try:
        yield
    finally:
        duck.execute(f"set disabled_optimizers = '{previous}'")


def infer_scores(texts: Sequence[str | None]) -> list[float | None]:
    """0-100 inferred scores for a list of texts (None for empty text or text with no opinion)."""
    duck = duckdb.connect()
    try:
        duck.register("inference_input", pa.table({"row_no": list(range(len(texts))),
                                                   "text": pa.array(list(texts), type=pa.string())}))
        infer_scores_in(duck)
        scores = dict(duck.execute("select row_no, score from inferred_scores").fetchall())
    finally:
        duck.close()
    return [scores.get(i) for i in range(len(texts))]


def infer_score(text: str | None) -> float | None:
    """0-100 inferred score of one text; None when empty or without any opinionated sentence."""
    return infer_scores([text])[0]
