-- Decide what each batch row is: a repeat of a source key fetched again later in the same batch
-- (left out), a new review, a changed or unchanged re-crawl of a known source key, or a syndicated
-- copy (same critic name, film and body text as another review). Only key columns are read here;
-- the texts are read once, by the insert in 03_reviews.sql.
--
-- Grouping a million rows on one 64-bit hash() is several times cheaper than on strings, so repeats
-- are found in two steps: rows whose hash repeats, then those grouped on the real columns (equal
-- hashes of different keys only widen the candidates). These grouping hashes are never stored;
-- the stored text and content hashes are kept comparable by warehouse/hashing.py.
--
-- Who wrote a review, for finding copies: a critic is a name wherever published (a review syndicated to
-- another outlet is a copy); a user is an account on one site, so only that user's own texts. A name
-- that names nobody ("Anonymous", "Guest", "[deleted]": names_nobody in sql/macros.sql) has no author key:
-- two anonymous "Loved it!" for one film are two people, never one review shown twice.
create or replace temp macro author_key_of(audience, critic_id, name_key) as
    case
        when names_nobody(name_key) then null
        when audience = 'user' then critic_id
        else name_key
    end;

create or replace temp table batch_classified as
with batch_key_columns as (
    select row_no, source, source_review_id, url, fetched_at, content_hash, text_hash,
        author_key_of(audience, critic_id, name_key) as author_key, film_id,
        score_source = 'explicit' and score is not null as has_score
    from batch_rows
),

repeated_key_hashes as (
    select hash(source, source_review_id) as key_hash
    from batch_key_columns
    group by key_hash
    having count(*) > 1
),

-- A review met twice in one batch keeps its latest fetch, the first as when it was first seen, and the urls
-- of all (only the latest one's reached `urls`, every page it was published on: idempotency QA).
latest_copy as (
    select source, source_review_id, max((fetched_at, row_no)) as latest, min(fetched_at) as first_fetch,
        list(distinct url) as repeat_urls
    from batch_key_columns
    where hash(source, source_review_id) in (select key_hash from repeated_key_hashes)
    group by source, source_review_id
    having count(*) > 1
),

batch_keys as (
    select b.*, coalesce(l.first_fetch, b.fetched_at) as first_fetch, l.repeat_urls
    from batch_key_columns as b
    left join latest_copy as l using (source, source_review_id)
    where l.latest is null or l.latest = (b.fetched_at, b.row_no)
),

keyed as (
    select
        b.*,
        k.review_id as known_review_id,
        k.content_hash as known_hash,
        r.content_hash as review_hash,
        -- A batch crawled before the key, or any key of its review, was last seen (loaded late, out
        -- of order) is older than what the warehouse holds: never an edit, and its hash is not
        -- recorded (04_review_keys.sql), so a later crawl judges it afresh.
        coalesce(b.fetched_at < k.last_seen or b.fetched_at < r.last_seen, false) as is_stale,
        -- The review's own key, not a copy's: only it may move the review to another film or critic,
        -- and only its film and critic are added (02_films_critics.sql, 03_reviews.sql).
        coalesce(r.source = b.source and r.source_review_id = b.source_review_id, false) as is_own_key,
        'r' || substr(sha256(b.source || chr(31) || b.source_review_id), 1, 16) as own_review_id
    from batch_keys as b
    left join review_keys as k using (source, source_review_id)
    left join reviews as r on r.review_id = k.review_id
),

new_keys as (
    select * from keyed where known_review_id is null
),

-- Only the warehouse's reviews whose text this batch repeats: the warehouse is far larger than a batch.
warehouse_texts as (
    select author_key_of(c.audience, c.critic_id, c.name_key) as author_key, r.film_id, r.text_hash,
        min(r.review_id) as review_id
    from reviews as r
    inner join critics as c using (critic_id)
    where r.text_hash in (select text_hash from new_keys)
    group by all
),

-- Texts met twice among the new keys: by hash first, as for repeated keys above.
repeated_texts as (
    select hash(author_key, film_id, text_hash) as text_key
    from new_keys
    where text_hash is not null
    group by text_key
    having count(*) > 1
),

-- Among new keys of this batch with one text, the first fetched (then the first landed: a dump's file order) is
-- the review, credited to its outlet.
batch_texts as (
    select author_key, film_id, text_hash, arg_min(own_review_id, (first_fetch, row_no)) as first_copy_id
    from new_keys
    where author_key is not null and text_hash is not null
      and hash(author_key, film_id, text_hash) in (select text_key from repeated_texts)
    group by all
    having count(*) > 1
),

unknown_keys as (
    select
        kd.*,
        wt.review_id as syndicated_to,
        bt.first_copy_id
    from new_keys as kd
    left join warehouse_texts as wt using (author_key, film_id, text_hash)
    left join batch_texts as bt using (author_key, film_id, text_hash)
),

-- Reviews whose own page this batch fetched unchanged and holding what the review holds: it confirms the
-- review, so a copy that differs from it (a partner page still showing the rating the critic changed) is stale,
-- not an edit. (When the own page changed too, the edits below choose between them; when the review holds a
-- copy's earlier edit instead, the own page confirms nothing and a copy's edit applies as any edit.)
own_keys_unchanged as (
    select distinct known_review_id as review_id
    from keyed
    where known_review_id is not null and is_own_key and not is_stale and content_hash = known_hash
        and content_hash = review_hash
),

known_keys as (
    select
        *,
        -- A key with no hash (a syndicated copy's, from before migration 003) records one now, as does a
        -- copy overruled by its review's own page: its hash is recorded, so it is not applied next time.
        case
            when is_stale then 'unchanged'
            when known_hash is null or content_hash = known_hash then 'unchanged'
            when not is_own_key and known_review_id in (select review_id from own_keys_unchanged) then 'unchanged'
            else 'changed'
        end as seen_as,
        known_review_id as review_id
    from keyed
    where known_review_id is not null
),

-- One edit per review per batch: two keys of one review (twins on a site, a copy elsewhere) edited
-- differently must not both write it, in an order nobody chose. An edit with a score wins (a
-- print page or feed copy without the rating must not hide the critic's new one), then the latest
-- fetch, then the review's own key, then the later row. The others' hashes are recorded as seen
-- (04_review_keys.sql), so they apply only when they change again, unless the chosen edit wrote nothing
-- (03_reviews.sql batch_kept_edits: only a rating the review keeps differed), when the next crawl judges them.
edits as (
    select review_id, arg_max(row_no, (has_score, fetched_at, review_id = own_review_id, row_no)) as edit_row
    from known_keys
    where seen_as = 'changed'
    group by review_id
),

known_outcomes as (
    select
        k.* exclude (seen_as),
        k.seen_as = 'changed' and e.edit_row is null as is_superseded,
        case when k.seen_as = 'changed' and e.edit_row is not null then 'changed' else 'unchanged' end as outcome
    from known_keys as k
    left join edits as e on e.review_id = k.review_id and e.edit_row = k.row_no
),

final as (
    select * exclude (known_review_id, known_hash, review_hash, own_review_id) from known_outcomes
    union all by name
    select
        * exclude (known_review_id, known_hash, review_hash, own_review_id, syndicated_to, first_copy_id,
                   is_own_key),
        false as is_superseded,
        case
            when syndicated_to is not null or own_review_id <> coalesce(first_copy_id, own_review_id)
                then 'syndicated'
            else 'new'
        end as outcome,
        syndicated_to is null and own_review_id = coalesce(first_copy_id, own_review_id) as is_own_key,
        coalesce(syndicated_to, first_copy_id, own_review_id) as review_id
    from unknown_keys
)

select * from final;
