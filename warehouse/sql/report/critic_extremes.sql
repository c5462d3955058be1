-- Harshest and kindest critics of the week: how far each critic's explicit scores this week sit from
-- the films' consensus (int_review_offsets), shrunk toward 0 like critic_stats.harshness:
-- sum(offset) / (n + harshness_k), so one stray score does not top the list. Critics need at least
-- 2 scored reviews this week. side is 'harshest' (most negative) or 'kindest' (most positive).
with

week_offsets as (
    select offsets.*
    from int_review_offsets as offsets
    join stg_reviews as reviews using (review_id)
    where reviews.published_week_start = $week_start::date
      and offsets.audience = 'critic'
),

per_critic as (
    select
        critic_id,
        count(*) as scored_reviews,
        avg(score) as mean_score,
        sum(score_offset) / (count(*) + mart_param('harshness_k')) as week_harshness
    from week_offsets
    group by critic_id
    having count(*) >= 2
),

ranked as (
    select
        per_critic.*,
        critics.name,
        critics.outlet,
        row_number() over (order by week_harshness, name) as harsh_rank,
        row_number() over (order by week_harshness desc, name) as kind_rank
    from per_critic
    left join stg_critics as critics using (critic_id)
),

final as (
    select 'harshest' as side, harsh_rank as rank, * exclude (harsh_rank, kind_rank)
    from ranked
    where harsh_rank <= 3 and week_harshness < 0
    union all
    select 'kindest' as side, kind_rank as rank, * exclude (harsh_rank, kind_rank)
    from ranked
    where kind_rank <= 3 and week_harshness > 0
)

select * from final
order by side, rank
