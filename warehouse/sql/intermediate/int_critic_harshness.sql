-- Per critic, how far their explicit scores sit from the other reviewers' consensus, shrunk toward 0.
--
-- harshness = sum(score - consensus) / (n + harshness_k), where consensus is the mean of the film's
-- other explicit scores (int_review_offsets, leave-one-out) and n counts only the critic's reviews
-- that have such an offset: a score on a film nobody else scored is no evidence either way, so it
-- neither adds an offset nor dilutes the mean. A critic with few offsets is
-- pulled toward 0 (neutral) because a couple of reviews say little. Negative means harsher than
-- the others. Critics without any offset (no explicit scores, or only on films nobody else scored)
-- do not appear here.
with

offsets as (
    select * from int_review_offsets
),

per_critic as (
    select
        critic_id,
        count(*) as offset_reviews,
        sum(score_offset) as offset_sum
    from offsets
    group by critic_id
),

final as (
    select
        -- ids
        critic_id,
        -- evidence
        offset_reviews,
        offset_sum,
        -- shrunk mean offset
        case
            when offset_reviews + mart_param('harshness_k') > 0
                then offset_sum / (offset_reviews + mart_param('harshness_k'))
        end as harshness
    from per_critic
)

select * from final
