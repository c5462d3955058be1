-- One row per source key: a review met twice in one batch keeps its latest fetch.
-- (A hash aggregate, not a window: windows sort the whole batch.)
create or replace temp table batch_latest as
with latest_copy as (
    select source, source_review_id, max((fetched_at, row_no)) as latest
    from batch_rows
    group by source, source_review_id
    having count(*) > 1
),

final as (
    select b.*
    from batch_rows as b
    left join latest_copy as l using (source, source_review_id)
    where l.latest is null or l.latest = (b.fetched_at, b.row_no)
)

select * from final;
