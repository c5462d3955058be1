-- Harshest and kindest critics of the week: how far each critic's explicit scores this week sit from
-- the films' consensus, shrunk toward 0 like critic_stats.harshness: sum(offset) / (n + harshness_k),
-- n = the critic's scored reviews this week, so one stray score does not top the list. Critics need
-- at least 2 scored reviews this week. side is 'harshest' (most negative) or 'kindest' (most positive).
--
-- Point in time, like the movers and critics-vs-users: a review's consensus is its film's mean
-- explicit score over the reviews (critics and users, this one included) published up to the end of
-- the week, by trusted date (stg_reviews.published_on: an undated review, or one dated after its fetch,
-- is left out). So a past week's list does not change when later reviews arrive. critic_stats keeps
-- the all-time consensus (int_film_consensus, every review of the film, undated ones too), so a
-- critic's week_harshness here need not match their harshness there.
with

week_scores as (
    select review_id, film_id, critic_id, score
    from stg_reviews
    where published_week_start = $week_start::date
      and audience = 'critic'
      and score is not null
),

consensus as (
    select film_id, avg(score) as consensus_score
    from stg_reviews
    where published_on < $week_start::date + 7
      and score is not null
      and film_id in (select film_id from week_scores)
    group by film_id
),

week_offsets as (
    select
        week_scores.*,
        week_scores.score - consensus.consensus_score as score_offset
    from week_scores
    join consensus using (film_id)
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
