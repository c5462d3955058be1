-- Decide what each batch row is: a new review, a changed or unchanged re-crawl of a known
-- source key, or a syndicated copy (same critic name, film and body text as another review).
create or replace temp table batch_classified as
with keyed as (
    select
        b.*,
        k.review_id as known_review_id,
        k.content_hash as known_hash,
        'r' || substr(sha256(b.source || chr(31) || b.source_review_id), 1, 16) as own_review_id
    from batch_keys as b
    left join review_keys as k using (source, source_review_id)
),

warehouse_texts as (
    select c.name_key, r.film_id, r.text_hash, min(r.review_id) as review_id
    from reviews as r
    inner join critics as c using (critic_id)
    where r.text_hash is not null
    group by all
),

-- Among new keys of this batch with one text, the first (by source key) is the review.
batch_texts as (
    select name_key, film_id, text_hash, arg_min(own_review_id, (source, source_review_id)) as first_copy_id
    from keyed
    where known_review_id is null and text_hash is not null
    group by all
    having count(*) > 1
),

unknown_keys as (
    select
        kd.*,
        wt.review_id as syndicated_to,
        bt.first_copy_id
    from keyed as kd
    left join warehouse_texts as wt using (name_key, film_id, text_hash)
    left join batch_texts as bt using (name_key, film_id, text_hash)
    where kd.known_review_id is null
),

known_keys as (
    select
        *,
        case when content_hash = known_hash then 'unchanged' else 'changed' end as outcome,
        known_review_id as review_id
    from keyed
    where known_review_id is not null
),

final as (
    select * exclude (known_review_id, known_hash, own_review_id) from known_keys
    union all by name
    select
        * exclude (known_review_id, known_hash, own_review_id, syndicated_to, first_copy_id),
        case
            when syndicated_to is not null or own_review_id <> coalesce(first_copy_id, own_review_id)
                then 'syndicated'
            else 'new'
        end as outcome,
        coalesce(syndicated_to, first_copy_id, own_review_id) as review_id
    from unknown_keys
)

select * from final;
