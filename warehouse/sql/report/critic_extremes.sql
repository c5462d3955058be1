-- Harshest and kindest critics of the week: how far each critic's explicit scores this week sit from
-- the other reviewers' consensus, shrunk toward 0 like critic_stats.harshness: sum(offset) / (n +
-- harshness_k), n = the critic's scores this week that have an offset, so one stray score does not
-- top the list. Critics need at least 2 such scores this week. side is 'harshest' (most negative)
-- or 'kindest' (most positive). A row of many people ("Anonymous": names_nobody) is not ranked.
--
-- The consensus is the same leave-one-out rule as critic_stats (int_review_consensus): a review's
-- consensus is the mean of its film's OTHER explicit scores (critics' and users'), so a film only
-- this critic scored gives no offset. Point in time, like the movers and critics-vs-users: those
-- other scores are the ones published up to the end of the review's own week, by trusted date
-- (int_review_consensus.week_consensus_score; an undated review, or one dated after its fetch, is
-- left out). Every review here is published in the report's week, so that is the end of this week,
-- and a past week's list does not change when reviews published later arrive (it does when reviews
-- published by then arrive late, or are edited: the report counts the first, arrived_since.sql). critic_stats keeps the
-- all-time consensus (every other review of the film, undated ones too), so a critic's
-- week_harshness here need not match their harshness there.
with

week_scores as (
    select
        critic_id,
        score,
        week_score_offset
    from int_review_consensus
    where published_week_start = $week_start::date
      and audience = 'critic'
      and score is not null
),

per_critic as (
    select
        critic_id,
        count(*) as scored_reviews,
        count(week_score_offset) as offset_reviews,
        settled(avg(exact_score(score))) as mean_score,
        shrunk_offset(sum(exact(week_score_offset))::double, count(week_score_offset)) as week_harshness
    from week_scores
    group by critic_id
    having count(week_score_offset) >= 2
),

ranked as (
    select
        per_critic.*,
        critics.name,
        critics.outlet,
        row_number() over (order by week_harshness, name, outlet, critic_id) as harsh_rank,
        row_number() over (order by week_harshness desc, name, outlet, critic_id) as kind_rank
    from per_critic
    left join stg_critics as critics using (critic_id)
    where not coalesce(names_nobody(critics.name_key), false)
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
