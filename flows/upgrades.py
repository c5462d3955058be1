"""Repairs of stored rows that need the normalizer's own Python rules, which SQL migrations cannot
repeat. Each runs once per warehouse, in one transaction, recorded in `data_fixes` (migration 010);
`reviews run` applies the pending ones before it loads anything (flows/pipeline.py, find_pending).
"""

from __future__ import annotations

import duckdb

from flows.normalize.lookups import _critic_id
from flows.normalize.text import normalize_person, without_outlet
from warehouse.db import rollback
from warehouse.marts import mark_marts_stale

OUTLET_BYLINES = "outlet_bylines"


def repair_outlet_bylines(conn: duckdb.DuckDBPyConnection) -> int:
    """Critics stored under a byline that repeats their outlet ("Jane Doe, Variety" writing for Variety)
    become the critic alone, as the normalizer now keys them: otherwise their stored reviews (an
    unchanged re-crawl never moves a review) and their new ones would be two critics. Returns how many
    critics moved; 0 once applied."""
    if conn.execute("select 1 from data_fixes where name = ?", [OUTLET_BYLINES]).fetchone():
        return 0
    stored = conn.execute("select critic_id, name, outlet, audience, profile_url, first_seen from critics "
                          "where outlet is not null and audience = 'critic'").fetchall()
    moves = []
    for critic_id, name, outlet, audience, profile_url, first_seen in stored:
        alone = without_outlet(name, outlet)
        if alone != name:
            key = normalize_person(alone)
            moves.append((critic_id, _critic_id(key, outlet, audience), alone, key, outlet, audience, profile_url,
                          first_seen))
    conn.execute("begin transaction")
    try:
        for old_id, new_id, name, key, outlet, audience, profile_url, first_seen in moves:
            conn.execute("insert into critics select ?, ?, ?, ?, ?, ?, ? "
                         "where ? not in (select critic_id from critics)",
                         [new_id, name, key, outlet, audience, profile_url, first_seen, new_id])
            conn.execute("update critics set first_seen = least(first_seen, ?) where critic_id = ?",
                         [first_seen, new_id])
            conn.execute("update reviews set critic_id = ? where critic_id = ?", [new_id, old_id])
            conn.execute("delete from critics where critic_id = ?", [old_id])
        conn.execute("insert into data_fixes values (?, now())", [OUTLET_BYLINES])
        mark_marts_stale(conn)
        conn.execute("commit")
    except BaseException:
        rollback(conn)
        raise
    return len(moves)
