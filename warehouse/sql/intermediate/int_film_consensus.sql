-- Per film, what reviewers agree on: the mean explicit score and the majority verdict.
--
-- The consensus excludes nothing: it is taken over every review of the film, critics and users,
-- including the review it is later compared with (a critic's own review is part of the consensus
-- that critic's harshness and agreement are measured against; shrinkage and the 2-verdict minimum
-- keep that self-influence small). The majority is null on a tie or with fewer than 2 verdicts.
with

reviews as (
    select * from stg_reviews
),

per_film as (
    select
        film_id,
        count(score) as consensus_scored_reviews,
        avg(score) as consensus_score,
        count(is_positive) as verdicts,
        count(*) filter (where is_positive) as positive_verdicts,
        count(*) filter (where not is_positive) as negative_verdicts
    from reviews
    group by film_id
),

final as (
    select
        -- ids
        film_id,
        -- score consensus
        consensus_scored_reviews,
        consensus_score,
        -- verdict consensus
        verdicts,
        positive_verdicts,
        negative_verdicts,
        case
            when verdicts < 2 then null
            when positive_verdicts > negative_verdicts then true
            when negative_verdicts > positive_verdicts then false
        end as majority_positive
    from per_film
)

select * from final
