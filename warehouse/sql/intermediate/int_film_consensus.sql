-- Per film, the totals every review's consensus is taken from: its explicit scores (how many, their
-- sum) and its explicit verdicts (positive, negative), over every review of the film, critics and
-- users, dated or not.
--
-- Deliberately no mean or majority here: a review is compared with the OTHER reviewers of its film
-- (int_review_consensus subtracts the critic's own scores and verdicts from these totals), because a
-- consensus that holds the review itself pulls every offset toward 0 and every verdict toward
-- agreement. Sums rather than means, so a reviewer is taken out by a subtraction: no window, no
-- self-join.
with

reviews as (
    select * from stg_reviews
),

per_film as (
    select
        film_id,
        count(score) as scored_reviews,
        coalesce(sum(score), 0) as score_sum,
        count(*) filter (where is_positive) as positive_verdicts,
        count(*) filter (where not is_positive) as negative_verdicts
    from reviews
    group by film_id
),

final as (
    select
        -- ids
        film_id,
        -- explicit scores
        scored_reviews,
        score_sum,
        -- explicit verdicts
        positive_verdicts,
        negative_verdicts
    from per_film
)

select * from final
