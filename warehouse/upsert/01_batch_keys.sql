-- The batch's key columns, one row per source key: a review met twice in one batch keeps its
-- latest fetch. Narrow on purpose: bodies are read once, by the insert in 04_reviews.sql.
-- (A hash aggregate, not a window: windows sort the whole batch.)
create or replace temp table batch_keys as
with batch_key_columns as (
    select row_no, source, source_review_id, url, fetched_at, content_hash, text_hash, name_key, film_id
    from batch_rows
),

latest_copy as (
    select source, source_review_id, max((fetched_at, row_no)) as latest
    from batch_key_columns
    group by source, source_review_id
    having count(*) > 1
),

final as (
    select b.*
    from batch_key_columns as b
    left join latest_copy as l using (source, source_review_id)
    where l.latest is null or l.latest = (b.fetched_at, b.row_no)
)

select * from final;
