-- Reviews published on each day of the week, Monday to Sunday, critics and users apart; days
-- without reviews are present with zeros.
with

days as (
    select unnest(range($week_start::date, $week_start::date + 7, interval 1 day))::date as day
),

week_reviews as (
    select published_on as day, audience
    from stg_reviews
    where published_week_start = $week_start::date
),

final as (
    select
        days.day,
        count(week_reviews.audience) filter (where week_reviews.audience = 'critic') as critic_reviews,
        count(week_reviews.audience) filter (where week_reviews.audience = 'user') as user_reviews
    from days
    left join week_reviews using (day)
    group by days.day
)

select * from final
order by day
