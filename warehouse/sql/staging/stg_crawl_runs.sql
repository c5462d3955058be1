-- One row per crawl run (and per import, and per batch loaded without a crawl), with when it started.
with

source as (
    select * from crawl_runs
),

final as (
    select
        -- ids
        run_id,
        source,
        -- when: the recorded start, else the time the run id spells (runs loaded before starts were recorded)
        run_started(started, run_id) as started,
        finished
    from source
)

select * from final
