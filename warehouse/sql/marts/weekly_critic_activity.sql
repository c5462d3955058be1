-- One row per ISO week and critic who published in it: how much they reviewed and how they scored.
-- anonymous: as in critic_stats, a row of many people ("Anonymous", "Guest").
with

reviews as (
    select * from stg_reviews
    where published_on is not null
),

critics as (
    select * from stg_critics
),

per_week_critic as (
    select
        published_week,
        published_week_start,
        critic_id,
        count(*) as reviews,
        count(score) as scored_reviews,
        settled(avg(exact_score(score))) as mean_score
    from reviews
    group by published_week, published_week_start, critic_id
),

final as (
    select
        -- week
        activity.published_week as week,
        activity.published_week_start as week_start,
        -- critic
        activity.critic_id,
        critics.name,
        critics.outlet,
        critics.audience,
        names_nobody(critics.name_key) as anonymous,
        -- activity
        activity.reviews,
        activity.scored_reviews,
        activity.mean_score
    from per_week_critic as activity
    left join critics using (critic_id)
)

select * from final
