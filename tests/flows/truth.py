"""Reading a test warehouse and the demo site's ground truth, for the end-to-end tests."""

from __future__ import annotations

from collections import defaultdict
from statistics import mean

from warehouse.db import connect, warehouse_path


def query(root, sql, params=None):
    conn = connect(warehouse_path(root), read_only=True)
    try:
        return conn.execute(sql, params or []).fetchall()
    finally:
        conn.close()


def expected_by_film(truth):
    """Per true film: (unique reviews, mean explicit score), syndicated copies counted once."""
    unique = {}
    for row in truth:
        unique.setdefault(row["syndication_group"] or row["identifier"], row)
    films = defaultdict(list)
    for row in unique.values():
        films[row["film_key"]].append(row)
    return {key: (len(rows), mean([r["score"] for r in rows if r["score"] is not None] or [0]))
            for key, rows in films.items()}
