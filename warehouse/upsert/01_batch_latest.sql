-- One row per source key: a review met twice in one batch keeps its latest fetch.
create or replace temp table batch_latest as
with ranked as (
    select
        *,
        row_number() over (
            partition by source, source_review_id order by fetched_at desc, row_no desc
        ) as copy_in_batch
    from batch_rows
),

final as (
    select * exclude (copy_in_batch) from ranked where copy_in_batch = 1
)

select * from final;
