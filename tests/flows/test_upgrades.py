"""Stored rows repaired with the normalizer's Python rules, once per warehouse."""

from __future__ import annotations

from flows.normalize.lookups import _critic_id
from flows.normalize.text import normalize_person
from flows.upgrades import repair_outlet_bylines
from warehouse.db import connect, migrate


def test_a_critic_stored_under_a_byline_repeating_the_outlet_joins_the_critic_alone(tmp_path):
    conn = connect(tmp_path / "reviews.duckdb")
    migrate(conn)
    # As earlier versions stored "Jane Doe, Variety" writing for Variety, beside her newer reviews as "Jane Doe".
    old_id = _critic_id(normalize_person("Jane Doe, Variety"), "Variety", "critic")
    new_id = _critic_id(normalize_person("Jane Doe"), "Variety", "critic")
    other = _critic_id(normalize_person("Ebert, Roger"), "Sun-Times", "critic")
    conn.execute(f"""
        insert into critics (critic_id, name, name_key, outlet, audience, first_seen) values
            ('{old_id}', 'Jane Doe, Variety', 'variety jane doe', 'Variety', 'critic', '2026-10-01'),
            ('{new_id}', 'Jane Doe', 'jane doe', 'Variety', 'critic', '2026-11-20'),
            ('{other}', 'Ebert, Roger', 'roger ebert', 'Sun-Times', 'critic', '2026-10-01');
        insert into reviews (review_id, film_id, critic_id, source, source_review_id, urls, audience, content_hash,
                             first_seen, last_seen, run_id) values
            ('r1', 'f1', '{old_id}', 's', 'k1', [], 'critic', 1, now(), now(), 'x'),
            ('r2', 'f2', '{new_id}', 's', 'k2', [], 'critic', 1, now(), now(), 'x'),
            ('r3', 'f1', '{other}', 's', 'k3', [], 'critic', 1, now(), now(), 'x')""")
    assert repair_outlet_bylines(conn) == 1
    assert conn.execute("select critic_id, name, first_seen::date::varchar from critics order by name").fetchall() \
        == [(other, "Ebert, Roger", "2026-10-01"), (new_id, "Jane Doe", "2026-10-01")]
    assert conn.execute("select review_id, critic_id from reviews order by review_id").fetchall() == [
        ("r1", new_id), ("r2", new_id), ("r3", other)]
    assert repair_outlet_bylines(conn) == 0  # once per warehouse
