"""The normalized rows, assembled from the landed rows and the narrow `nz_*` tables, and their inferred scores."""

from __future__ import annotations

import duckdb

from crawlers.nobody import NOBODY_NAMES
from flows.normalize.language import DETECTION_WINDOW
from flows.normalize.lookups import critic_match, film_match
from flows.normalize.sentiment import infer_scores_in
from flows.normalize.staging import fetched_minute
from warehouse.hashing import define_hash_macros
from warehouse.load import BATCH_COLUMNS

ROWS = "nz_rows"  # the normalized rows, texts included


def fold_spaces(column: str) -> str:
    # Plain text only needs runs of spaces folded and ends trimmed; most has neither, and testing is
    # several times cheaper than trimming every body.
    return (f"nullif(case when contains({column}, '  ') or starts_with({column}, ' ') or ends_with({column}, ' ') "
            f"then trim(regexp_replace({column}, ' {{2,}}', ' ', 'g')) else {column} end, '')")


BODY = f"case when cl.body_py then cl.body else {fold_spaces('c.body')} end"


TITLE = f"case when cl.title_py then cl.title else {fold_spaces('c.review_title')} end"


# A review published without an id or url of its own is known by its page, critic and film, as the
# crawler's in-run repeat filter knows it: the page url alone would make every such review on a page
# one review, and keep only the last. With no author to tell reviews apart (none, or "Anonymous":
# crawlers/nobody.py), by its site, critic, film (title and year as published) and text instead: each
# anonymous review of a film on a page is then one of its own, and one that pagination moves to another
# page keeps its key (a named critic's moved review is found as a copy, upsert/01_classify.sql). Text is
# compared as letters and digits only (text_fingerprint_of), so a change of markup or of this project's
# cleaning rules keeps the key. A review with no text is known by its page and rating.
_NOBODY = ", ".join(f"'{name}'" for name in sorted(NOBODY_NAMES))
_NAMELESS = f"(k.name_key is null or k.name_key in ('', {_NOBODY}))"
_KEY_TAIL = "'#' || coalesce(c.critic_name, '') || '|' || coalesce(c.film_title, '')"
# The year the page gives the film, as a year: "2021", 2021 and "2021-10-22" (a datePublished) are one key.
_YEAR = r"nullif(regexp_extract(cast(c.film_year as varchar), '(1[89]\d\d|20\d\d)'), '')"
SOURCE_KEY = f"""case
    when c.source_review_id is not null then c.source_review_id
    when not {_NAMELESS} then c.url || {_KEY_TAIL}
    else nameless_key_of(c.url, {_KEY_TAIL}, {_YEAR}, {BODY}, coalesce(c.rating_raw, c.rating_value))
end"""


RATED = """
    left join nz_rating_map as r
        on r.rating_raw is not distinct from c.rating_raw and r.rating_value is not distinct from c.rating_value
        and r.rating_best is not distinct from c.rating_best and r.rating_worst is not distinct from c.rating_worst
"""
# No usable rating: a rating that could not be read (11/10) is not a missing one; its score stays
# empty with the problem recorded, and no inferred score hides it.
UNRATED = "r.score is null and r.is_positive is null and r.rating_problem is null"


# A row sent to detection (no usable declaration, or one of another script for ASCII text) takes the
# detector's answer, even none: plain ASCII is not Ukrainian however the page is tagged.
# A detection that cannot tell keeps a declared Latin-script language for text mostly in Latin letters (a name in
# Cyrillic opening an English review: it lost its language), not for text mostly in another script ("Отличный
# фильм!" under lang="en" is too short to detect, and no English). A declared language of another script on Latin
# text is a known mistake, and stays unknown.
# Over the start of the text only (as much as language.mostly_latin reads): a million long bodies took seconds.
MOSTLY_LATIN = (f"length(regexp_replace(left(c.body, {DETECTION_WINDOW}), '[^\\p{{Latin}}]', '', 'g')) * 2 "
                f"> length(regexp_replace(left(c.body, {DETECTION_WINDOW}), '[^\\pL]', '', 'g'))")
LANGUAGE = ("case when x.row_no is not null then coalesce(x.code, "
            f"case when not d.non_latin and {MOSTLY_LATIN} then d.code end) else d.code end")


# The sentiment lexicon is English: a score it gives a French or Japanese text measures nothing. Text
# too short to tell its language (under 20 characters, no declared language) may still be scored.
INFERRED = f"case when coalesce({LANGUAGE}, 'en') = 'en' then i.score end"


# A review cannot come out years before its film: a festival premiere or a country's earlier release puts a
# review a year or so before the year the film is listed under, and film matching allows a year either way. A
# date earlier still is a misread date (a two-digit year, a day/month swap of an old page) or a review matched
# to the wrong film of that title, and is flagged like a future date: kept as written, read by the marts as no
# date.
DATE_PROBLEM = """case
    when d_.date_problem is null and year(d_.published_on) < f.year - 2
    then 'date before film: ' || strftime(d_.published_on, '%Y-%m-%d') || ' is over two years before the film''s '
         || 'year ' || f.year
    else d_.date_problem end"""


def infer_plain(duck: duckdb.DuckDBPyConnection) -> None:
    """Inferred scores of the unrated reviews whose body SQL folds (most): table nz_inferred_plain."""
    # A query, not a table: a copy of a quarter of a million bodies cost ~0.7 CPU-s and its memory.
    infer_scores_in(duck, f"""(
        select c.row_no, {fold_spaces("c.body")} as text
        from nz_checked as c
        {RATED}
        anti join (select row_no from nz_flagged where body_py) as f using (row_no)
        where {UNRATED} and c.body is not null)""", "nz_inferred_plain")


def infer_cleaned(duck: duckdb.DuckDBPyConnection) -> None:
    """The same for bodies clean_text fixed, then both together: table nz_inferred."""
    infer_scores_in(duck, f"""(
        select c.row_no, cl.body as text
        from nz_checked as c
        inner join nz_cleaned as cl using (row_no)
        {RATED}
        where cl.body_py and {UNRATED} and c.body is not null)""", "nz_inferred_cleaned")
    duck.execute("create or replace temp table nz_inferred as "
                 "select * from nz_inferred_plain union all select * from nz_inferred_cleaned")
    for table in ("nz_inferred_plain", "nz_inferred_cleaned"):
        duck.execute(f"drop table {table}")


def assemble(duck: duckdb.DuckDBPyConnection, name: str) -> None:
    """The normalized rows as table ROWS, and view `name` over it; the landed rows are dropped.

    One wide table, because the load then reads every column without a join: its key steps scan
    the narrow columns (cheap in a column store) and its insert scans the texts once. Copying the
    texts here costs ~0.3 s a million rows; joining them back by row number cost seconds.
    """
    define_hash_macros(duck)
    casts = ",\n    ".join(f"cast({column} as {kind}) as {column}" for column, kind in BATCH_COLUMNS.items())
    duck.execute(f"""
create or replace temp table {ROWS} as
with joined as (
    select
        c.row_no, c.run_id, c.source, {SOURCE_KEY} as source_review_id, c.url,
        cast(cast(c.fetched_at as timestamptz) at time zone 'UTC' as timestamp) as fetched_at,
        f.film_id, coalesce(f.clean_title, c.film_title) as film_title, f.year as film_year, f.imdb_id,
        f.tmdb_id, f.title_key,
        k.critic_id, k.clean_name as critic_name, k.name_key, k.clean_outlet as outlet, k.audience, c.critic_url,
        coalesce(c.rating_raw, c.rating_value) as rating_raw, coalesce(r.score, {INFERRED}) as score, r.is_positive,
        case when r.score is not null or r.is_positive is not null then 'explicit'
             when {INFERRED} is not null then 'inferred' end as score_source,
        r.rating_problem, {TITLE} as title, {BODY} as body, {LANGUAGE} as language,
        d_.published_on, {DATE_PROBLEM} as date_problem
    from nz_checked as c
    left join nz_cleaned as cl using (row_no)
    {RATED}
    left join nz_inferred as i using (row_no)
    left join nz_declared as d using (language_declared)
    left join nz_detected as x using (row_no)
    left join nz_date_map as d_
        on d_.published_raw is not distinct from c.published_raw
        and d_.fetched_minute = {fetched_minute("c.")}
    left join nz_film_map as f on {film_match("f", "c")}
    left join nz_critic_map as k on {critic_match("k", "c")}
),

text_hashed as (
    -- Bodies are whitespace-folded already, so identical text hashes alike (warehouse/sql/hashing/macros.sql).
    select *, text_hash_of(body) as text_hash from joined
),

hashed as (
    -- The body's hash, not the body again: each body is read once.
    select *, content_hash_of(title, text_hash, rating_raw, score, score_source) as content_hash from text_hashed
)

select
    {casts}
from hashed""")
    duck.execute(f"create or replace temp view {name} as select * from {ROWS}")
    # Everything the batch needs is in ROWS now; the landed copy is the largest table in memory.
    duck.execute("drop view nz_checked")
    duck.execute("drop table nz_raw")
