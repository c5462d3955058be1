"""The rows SQL cannot finish: texts with markup, entities, controls or mojibake, and undeclared languages.

SQL flags them (a regex over every body, cheap), Python fixes only the flagged ones.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from typing import Any, TypeVar

import duckdb
import pyarrow as pa

from flows.normalize.language import (
    MAX_DETECT_CHARS,
    NON_LATIN,
    OTHER_SCRIPT_SQL,
    detect_language,
    detect_languages,
    detection_text_sql,
)
from flows.normalize.python_share import Stopped
from flows.normalize.staging import register
from flows.normalize.text import clean_review_text

# Text that plain whitespace folding in SQL would get wrong goes through clean_text in Python: markup,
# entities, controls, mojibake, and every character clean_text changes on its own (tested character by
# character): Unicode spaces and line/paragraph separators (folded), zero-width spaces, word joiners, soft
# hyphens and BOMs (dropped), Latin ligatures (ﬁ -> fi), and what ftfy deletes: deprecated format
# controls U+206A-F, interlinear annotations and the object replacement character U+FFF9-C.
NEEDS_CLEANING = (r"[<&\x00-\x1f\x7f-\x9f\xa0\xad\x{1680}\x{2000}-\x{200b}\x{2028}\x{2029}\x{202f}"
                  r"\x{205f}\x{2060}\x{206a}-\x{206f}\x{3000}\x{fb00}-\x{fb06}\x{feff}\x{fff9}-\x{fffc}]"
                  r"|Ã|Â|â€|Å|Ð")
_C0_CONTROLS = r"[\x00-\x1f]"


def _needs_python(column: str) -> str:
    # Markup, entities, controls or mojibake need clean_text; so does non-NFC text, but only text that
    # is not plain ASCII (more characters than bytes) can be non-NFC, and that test is cheap.
    # Plain ASCII text (most English reviews) can only be flagged for "<", "&", DEL or a C0 control, and
    # substring tests find those at a fraction of the regex's cost: JSON escapes every C0 control with a
    # backslash, so only text whose JSON has one (a quote, a backslash or a control) runs the regex.
    # Nested `case`, because DuckDB evaluates both sides of an `and` or `or` in a select list.
    return f"""coalesce(case
        when strlen({column}) = length({column}) then case
            when contains({column}, '<') or contains({column}, '&') or contains({column}, chr(127)) then true
            when contains(to_json({column}), '\\') then regexp_matches({column}, '{_C0_CONTROLS}')
            else false end
        when regexp_matches({column}, '{NEEDS_CLEANING}') then true
        else nfc_normalize({column}) <> {column} end, false)"""


def flagged_texts(duck: duckdb.DuckDBPyConnection) -> list[tuple[Any, ...]]:
    """Rows whose body or title SQL cannot fold safely (table nz_flagged), with those texts."""
    duck.execute(f"""
        create or replace temp table nz_flagged as
        with flags as (
            select row_no, {_needs_python("body")} as body_py, {_needs_python("review_title")} as title_py
            from nz_checked
        )
        select * from flags where body_py or title_py""")
    return duck.execute("""
        select f.row_no, c.syntax, f.body_py, f.title_py,
            case when f.body_py then c.body end, case when f.title_py then c.review_title end
        from nz_flagged as f
        inner join nz_checked as c using (row_no)""").fetchall()


def undeclared_texts(duck: duckdb.DuckDBPyConnection) -> pa.Table:
    """Table nz_declared maps declared languages to codes; returns columns row_no and text of the rows to detect,
    in Arrow (a million rows as Python tuples took ~350 MB: import QA, a dump declaring no language):
    those that declare none, those that declare a language of another script for a body in Latin script
    (see language.NON_LATIN), and those that declare a Latin-script language for a body that starts in another
    script (a site-wide lang="en" on a Russian review: the English lexicon scored it, language QA). A flagged row
    is detected on its cleaned body instead, see clean_flagged."""
    declared = [r[0] for r in duck.execute("select distinct language_declared from nz_checked "
                                           "where language_declared is not null").fetchall()]
    codes = [detect_language(None, d) for d in declared]
    register(duck, "nz_declared", {"language_declared": declared, "code": codes,
                                   "non_latin": [code in NON_LATIN for code in codes]},
             {"non_latin": pa.bool_()})
    # The detector reads the start of a text; fetching more would only cost memory (80 characters where
    # folding whitespace changes nothing: a million texts of 240 took ~160 MB more). The script test runs
    # only on the few rows declaring such a language, or on text that is not ASCII (strlen against length is nearly
    # free: the regex over 900,000 declared bodies cost ~0.5 s).
    # duck.sql, not execute: Arrow from a DB-API result copies the rows once more and warns on stderr.
    return duck.sql(f"""
        select c.row_no, {detection_text_sql("c.body")} as text
        from nz_checked as c
        left join nz_declared as d using (language_declared)
        where d.code is null or (d.non_latin and not regexp_matches(c.body, '{OTHER_SCRIPT_SQL}'))
            or (not d.non_latin and strlen(c.body) <> length(c.body)
                and regexp_matches(left(c.body, {MAX_DETECT_CHARS}), '{OTHER_SCRIPT_SQL}'))
        """).to_arrow_table()


T = TypeVar("T")
DETECT_CHUNK = 50_000  # texts turned into Python strings at a time for the language detector, or cleaned


def _until_stopped(chunks: Iterable[T], stopped: threading.Event | None) -> Iterator[T]:
    for chunk in chunks:
        if stopped is not None and stopped.is_set():
            raise Stopped
        yield chunk


def clean_flagged(flagged: list[tuple[Any, ...]], undeclared: pa.Table,
                  stopped: threading.Event | None = None) -> tuple[dict, dict]:
    """clean_text on the flagged texts, then language detection of the rows that declare none.

    Pure Python on fetched values, so it can run in a thread while DuckDB works on the rest; it raises
    Stopped between chunks once `stopped` is set.
    """
    # Feed descriptions are HTML, JSON-LD values text with tags, microdata and RDFa values plain text.
    cleaned: dict[str, list[Any]] = {
        "row_no": [r[0] for r in flagged], "body_py": [r[2] for r in flagged], "title_py": [r[3] for r in flagged],
        "body": [], "title": []}
    for chunk in _until_stopped((flagged[i:i + DETECT_CHUNK] for i in range(0, len(flagged), DETECT_CHUNK)),
                                stopped):
        cleaned["body"] += [clean_review_text(r[4], r[1]) if r[2] else None for r in chunk]
        cleaned["title"] += [clean_review_text(r[5], r[1], "title") if r[3] else None for r in chunk]
    clean_bodies = {row_no: body for row_no, is_flagged, body
                    in zip(cleaned["row_no"], cleaned["body_py"], cleaned["body"], strict=True) if is_flagged}
    codes: list[str | None] = []
    for chunk in _until_stopped(undeclared.to_batches(max_chunksize=DETECT_CHUNK), stopped):
        rows, texts = chunk.column(0).to_pylist(), chunk.column(1).to_pylist()
        codes += detect_languages([clean_bodies.get(row_no, text) for row_no, text in zip(rows, texts, strict=True)])
    return cleaned, {"row_no": undeclared.column("row_no"), "code": codes}
