-- This week's explicit scores in ten bins of 10 points (100 falls in the 90 bin), critics and users
-- apart; every bin is present so the chart's axis does not depend on the data.
with

bins as (
    select unnest(range(0, 100, 10)) as bin_start
),

week_scores as (
    select
        least(floor(score / 10) * 10, 90)::integer as bin_start,
        audience
    from stg_reviews
    where published_week_start = $week_start::date
      and score is not null
),

final as (
    select
        bins.bin_start,
        count(week_scores.audience) filter (where week_scores.audience = 'critic') as critic_reviews,
        count(week_scores.audience) filter (where week_scores.audience = 'user') as user_reviews
    from bins
    left join week_scores using (bin_start)
    group by bins.bin_start
)

select * from final
order by bin_start
