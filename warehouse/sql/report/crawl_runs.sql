-- The crawl runs of this week (int_run_weeks: those that first loaded or last changed this week's reviews,
-- by trusted publication date, and those started this week), with their health and how many of this week's
-- reviews each loaded or changed (0 for a run only started this week).
--
-- Ordered by start time (run_started: a run killed before it wrote its stats has only its run_id's time)
-- within each source, then by run_id, so such a run takes its place among its source's runs.
with

week_runs as (
    select run_id, week_reviews
    from int_run_weeks
    where week_start = $week_start::date
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
        runs.health_notes,
        run_started(runs.started, runs.run_id) as run_started
    from crawl_runs as runs
    join week_runs using (run_id)
)

select * exclude (run_started) from final
order by source, run_started nulls last, run_id
