-- The crawl runs that loaded this week's reviews (see week_numbers.sql), with their health.
with

week_runs as (
    select run_id, count(*) as week_reviews
    from reviews
    where published_on >= $week_start::date
      and published_on < $week_start::date + 7
    group by run_id
),

final as (
    select
        runs.source,
        runs.spider,
        runs.run_id,
        runs.started,
        week_runs.week_reviews,
        runs.scraped,
        runs.loaded,
        runs.duplicates,
        runs.rejected,
        runs.healthy,
        runs.health_notes
    from crawl_runs as runs
    join week_runs using (run_id)
)

select * from final
order by source, started, run_id
