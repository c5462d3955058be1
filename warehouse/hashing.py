"""The review hashes (64 bits of md5, see sql/hashing/macros.sql) and the fingerprint that keeps them comparable.

Stored hashes are only useful if the next load computes them the same way. The warehouse records a
fingerprint of the formulas (sha1 of the hashes of fixed probe values) in `hash_scheme`, and
opening it for writing rehashes the stored rows whenever the running code's fingerprint differs:
after a change of formula (DuckDB's hash(), used from migration 004 until it was found to collide
on near-identical text, back to md5) or of the DuckDB functions behind it.
"""

from __future__ import annotations

import hashlib
import logging
from datetime import UTC, datetime

import duckdb

from warehouse.db import WarehouseError, first_line, rollback, sql_file

log = logging.getLogger(__name__)

# Short and long (DuckDB inlines strings up to 12 bytes; bodies run to several KB), empty, non-ASCII,
# and nulls in every position.
_PROBE_TEXTS = ["", "a", "twelve bytes", "thirteen byte", "A Tender film. " * 20, "Slow, then moving. " * 450,
                "Amélie — “déjà vu” ★★★½", None]
# Scores as stored: whole numbers (most) and fractions, since the score is hashed as text.
_PROBE_CONTENT = [("Title", "7/10", 70.0), (None, "B+", 83.33333333333334), ("Title", None, None),
                  (None, None, None), (None, "4/5", 75.0)]


def define_hash_macros(conn: duckdb.DuckDBPyConnection) -> None:
    """Temp macros text_hash_of(body) and content_hash_of(title, body_hash, rating_raw, score, score_source)
    on `conn`."""
    conn.execute(sql_file("sql/hashing/macros.sql"))


def fingerprint(conn: duckdb.DuckDBPyConnection) -> str:
    """sha1 of this DuckDB's hashes of the probe values: equal fingerprints, comparable hashes."""
    define_hash_macros(conn)
    found = conn.execute("""
        with texts as (select unnest($texts) as text, generate_subscripts($texts, 1) as i),
        contents as (
            select unnest($titles) as title, unnest($ratings) as rating, unnest($scores) as score,
                generate_subscripts($titles, 1) as j
        )
        select
            (select list(text_hash_of(text) order by i) from texts),
            (select list(content_hash_of(title, text_hash_of(text), rating, score, 'explicit') order by i, j)
             from texts, contents)""",
        {"texts": _PROBE_TEXTS, "titles": [c[0] for c in _PROBE_CONTENT], "ratings": [c[1] for c in _PROBE_CONTENT],
         "scores": [c[2] for c in _PROBE_CONTENT]}).fetchone()
    return hashlib.sha1(repr(found).encode()).hexdigest()


def ensure_hash_scheme(conn: duckdb.DuckDBPyConnection) -> int:
    """Rehash the stored reviews if they were hashed with other formulas (or before migration 004
    recorded any); returns the number of reviews rehashed (all of them, changed or not), 0 when none was."""
    current = fingerprint(conn)
    stored = conn.execute("select fingerprint from hash_scheme").fetchall()
    if stored == [(current,)]:
        return 0
    reviews = conn.execute("select count(*) from reviews").fetchone()[0]
    conn.execute("begin transaction")
    try:
        conn.execute(sql_file("sql/hashing/rehash.sql"))
        conn.execute("delete from hash_scheme")
        conn.execute("insert into hash_scheme values (?, ?, ?)",
                     [current, duckdb.__version__, datetime.now(UTC).replace(tzinfo=None)])
        conn.execute("commit")
    except duckdb.Error as exc:
        rollback(conn)
        raise WarehouseError(f"cannot rehash the stored reviews, the warehouse is as it was: {first_line(exc)}") \
            from exc
    if stored and reviews:
        log.warning("the review hashes differ from the ones this warehouse was written with; "
                    "rehashed %d reviews so re-crawls compare like with like", reviews)
    elif reviews:
        log.info("recorded the hash scheme of %d reviews (migration 004)", reviews)
    return reviews
