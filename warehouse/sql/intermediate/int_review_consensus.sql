-- Each review with the consensus of the OTHER reviewers of its film (leave-one-out), the one
-- definition critic_stats (harshness, agreement) and the weekly report's harshest and kindest
-- critics measure a reviewer against.
--
-- Score consensus = (film's score sum - this critic's scores of it) / (film's explicit scores - this
-- critic's): the mean of the explicit scores other critics and users gave the film. The reviewer is
-- left out of their own consensus so that a film only they scored says nothing (no consensus, no
-- offset) instead of an offset of 0, and so that two reviewers 80 and 40 sit +40 and -40 from each
-- other, not +20 and -20. All of the reviewer's reviews of the film are left out, not just this one:
-- a critic's second review of a film (an edited import, a review re-published under a new key) is
-- not "another reviewer" and must not make a film only they scored count with an offset of 0.
-- Null when no one else gave the film an explicit score; score_offset is null then, and for a review
-- without an explicit score (a binary fresh/rotten verdict, or an inferred rating).
--
-- Verdict consensus = the majority of the other reviewers' explicit verdicts (the critic's own
-- verdicts on the film subtracted from its positive and negative counts); null when there is no
-- other verdict or the others tie, so such a verdict is not compared.
--
-- week_*: the same score consensus as of the end of the review's own ISO publication week, over
-- the film's reviews published by then (trusted dates, stg_reviews.published_on: undated reviews
-- and reviews dated after their fetch are left out, and have no week_* values). The weekly report
-- reads it for the reviews of its week, so a past week's numbers do not move when reviews published
-- later arrive (late arrivals published by then do move them).
--
-- The all-time consensus is the critic-and-film pair's (int_critic_film_consensus), which the marts
-- read directly; this per-review view is for the weekly report and for queries. The week-end sums
-- are running windows over each film's (and each critic-and-film's) reviews instead of more joins,
-- because DuckDB drops a window nobody selects but not a join.
--
-- A syndicated copy is already one review (one stg_reviews row).
with

reviews as (
    select * from stg_reviews
),

-- the consensus of the other reviewers, one row per critic and film
critic_film as (
    select * from int_critic_film_consensus
),

-- each review with its film's dated explicit scores up to the end of the review's week (own
-- included, the week's other reviews too: a range frame takes the whole week); none when undated
reviews_with_week_totals as (
    select
        *,
        case when published_week_start is not null
            then count(score) over film_history end as week_scored_reviews,
        case when published_week_start is not null
            then coalesce(sum(exact_score(score)) over film_history, 0) end as week_score_sum,
        case when published_week_start is not null
            then count(score) over critic_film_history end as week_own_scored_reviews,
        case when published_week_start is not null
            then coalesce(sum(exact_score(score)) over critic_film_history, 0) end as week_own_score_sum
    from reviews
    window
        film_history as (
            partition by film_id
            order by published_week_start asc nulls last
            range between unbounded preceding and current row
        ),
        critic_film_history as (
            partition by film_id, critic_id
            order by published_week_start asc nulls last
            range between unbounded preceding and current row
        )
),

-- what the other reviewers add up to: the film's totals minus this critic's own scores and verdicts
consensus as (
    select
        reviews.review_id,
        reviews.film_id,
        reviews.critic_id,
        reviews.audience,
        reviews.score,
        reviews.is_positive,
        reviews.published_week_start,
        -- all time: the pair's
        critic_film.other_scored_reviews,
        critic_film.consensus_score,
        critic_film.other_positive_verdicts,
        critic_film.other_negative_verdicts,
        critic_film.consensus_positive,
        -- as of the end of the review's publication week (null for an undated review)
        reviews.week_scored_reviews - reviews.week_own_scored_reviews as week_other_scored_reviews,
        case when reviews.week_scored_reviews > reviews.week_own_scored_reviews
            then (reviews.week_score_sum - reviews.week_own_score_sum)
                / (reviews.week_scored_reviews - reviews.week_own_scored_reviews) end as week_consensus_score
    from reviews_with_week_totals as reviews
    left join critic_film using (film_id, critic_id)  -- none for an unrated review
),

final as (
    select
        -- ids
        review_id,
        film_id,
        critic_id,
        audience,
        published_week_start,
        -- the review's own rating
        score,
        is_positive,
        -- score consensus of the other reviews, all time
        other_scored_reviews::bigint as other_scored_reviews,
        consensus_score,
        score - consensus_score as score_offset,
        -- verdict consensus of the other reviews, all time
        other_positive_verdicts::bigint as other_positive_verdicts,
        other_negative_verdicts::bigint as other_negative_verdicts,
        consensus_positive,
        -- score consensus of the other reviews as of the end of the review's publication week
        week_other_scored_reviews::bigint as week_other_scored_reviews,
        week_consensus_score,
        score - week_consensus_score as week_score_offset
    from consensus
)

select * from final
