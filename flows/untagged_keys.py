"""The data fix `tracking_keys`: stored source keys and urls lose their tracking parameters and session ids, as
crawls now drop them (crawlers/tracking.py). Without it, a review keyed by a tagged url was met under its clean
key as another: an anonymous one (no author to match a copy by) was stored twice (review of the tracking change)."""

from __future__ import annotations

import duckdb

# Each name stands for the rules it was applied with: "session_keys" (migration 021) applies it again for the
# session ids crawlers.tracking drops since.
TRACKING_KEYS = ("tracking_keys", "session_keys")

_RENAME_KEYS = """
    -- A clean key another stored key already has is left as it is; of two tagged keys that clean to one, the first
    -- stored takes it (the next crawl lands the review under it).
    create or replace temp table fix_renamed_keys as
    select m.source, m.old_key, m.new_key
    from fix_key_map as m
    inner join review_keys as k on k.source = m.source and k.source_review_id = m.old_key
    anti join review_keys as clean on clean.source = m.source and clean.source_review_id = m.new_key
    qualify row_number() over (partition by m.source, m.new_key order by k.first_seen, m.old_key) = 1;
    update review_keys set source_review_id = m.new_key
    from fix_renamed_keys as m
    where review_keys.source = m.source and review_keys.source_review_id = m.old_key;
    update reviews set source_review_id = m.new_key
    from fix_renamed_keys as m
    where reviews.source = m.source and reviews.source_review_id = m.old_key;
"""
_CLEAN_URLS = """
    update review_keys set url = m.new_url from fix_url_map as m where review_keys.url = m.old_url;
    create or replace temp table fix_review_urls as
    select review_id, list_sort(list_distinct(list(coalesce(m.new_url, u.url)))) as urls
    from (
        select review_id, unnest(urls) as url
        from reviews
        where list_has_any(urls, (select list(old_url) from fix_url_map))
    ) as u
    left join fix_url_map as m on m.old_url = u.url
    group by review_id;
    update reviews set urls = f.urls from fix_review_urls as f where reviews.review_id = f.review_id;
"""


def clean_tracking_keys(conn: duckdb.DuckDBPyConnection) -> int:
    """Stored keys and urls without tracking parameters and session ids. Returns how many keys were renamed; 0
    once applied."""
    from flows.upgrades import _apply, _pending

    pending = _pending(conn, *TRACKING_KEYS)
    if not pending:
        return 0
    from crawlers.tracking import MAYBE_TAGGED, without_tracking  # Scrapy's import, only when the fix is due

    keys = conn.execute("select distinct source, source_review_id from review_keys "
                        "where regexp_matches(source_review_id, ?, 'i')", [MAYBE_TAGGED]).fetchall()
    urls = conn.execute("select distinct url from (select url from review_keys union all "
                        "select unnest(urls) from reviews) where regexp_matches(url, ?, 'i')",
                        [MAYBE_TAGGED]).fetchall()
    key_map = [(source, key, clean) for source, key in keys if (clean := without_tracking(key)) != key]
    url_map = [(url, clean) for (url,) in urls if (clean := without_tracking(url)) != url]

    def clean() -> int:
        conn.execute("create or replace temp table fix_key_map (source varchar, old_key varchar, new_key varchar)")
        conn.execute("create or replace temp table fix_url_map (old_url varchar, new_url varchar)")
        conn.execute("insert into fix_key_map select unnest(?), unnest(?), unnest(?)",
                     [list(column) for column in zip(*key_map, strict=True)] if key_map else [[], [], []])
        conn.execute("insert into fix_url_map select unnest(?), unnest(?)",
                     [list(column) for column in zip(*url_map, strict=True)] if url_map else [[], []])
        conn.execute(_RENAME_KEYS)
        renamed = conn.execute("select count(*) from fix_renamed_keys").fetchone()[0]
        conn.execute(_CLEAN_URLS)
        for table in ("fix_key_map", "fix_url_map", "fix_renamed_keys", "fix_review_urls"):
            conn.execute(f"drop table {table}")
        return renamed

    return _apply(conn, pending, clean)
