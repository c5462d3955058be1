-- Per critic, how they stand against the other reviewers of the films they reviewed: harshness and
-- agreement, from int_critic_film_consensus (leave-one-out, one row per critic and film) in one pass.
--
-- harshness = sum(score - consensus) / (n + harshness_k), where consensus is the mean of the film's
-- other reviewers' explicit scores and n (offset_reviews) counts only the critic's scores that have
-- such an offset: a score on a film nobody else scored is no evidence either way, so it neither adds
-- an offset nor dilutes the mean. A critic with few offsets is pulled toward 0 (neutral) because a
-- couple of reviews say little. Negative means harsher than the others; null with no offset at all.
--
-- agreement_rate = percent of the critic's explicit verdicts that match the majority of the other
-- reviewers' verdicts on the film, over agreement_verdicts compared (a film whose other verdicts tie,
-- or that has none, compares nothing); null when nothing was compared.
--
-- Critics with neither (no explicit rating, or only on films nobody else rated) do not appear here.
with

critic_film as (
    select * from int_critic_film_consensus
),

per_critic as (
    select
        critic_id,
        sum(offset_reviews) as offset_reviews,
        sum(exact(offset_sum))::double as offset_sum,
        sum(compared_verdicts) as agreement_verdicts,
        sum(agreeing_verdicts) as agreeing_verdicts
    from critic_film
    where offset_reviews > 0 or compared_verdicts > 0
    group by critic_id
),

final as (
    select
        -- ids
        critic_id,
        -- scores against the others
        offset_reviews::bigint as offset_reviews,
        offset_sum,
        case
            when offset_reviews > 0
                then shrunk_offset(offset_sum, offset_reviews)
        end as harshness,
        -- verdicts against the others
        agreement_verdicts::bigint as agreement_verdicts,
        case
            when agreement_verdicts > 0 then 100.0 * agreeing_verdicts / agreement_verdicts
        end as agreement_rate
    from per_critic
)

select * from final
