-- One row per critic (and per user): volume, mean score, harshness, agreement with consensus.
--
-- Both compare a review with the OTHER reviewers of its film (int_review_consensus, leave-one-out),
-- so a critic is never part of the consensus they are measured against.
-- harshness: mean offset of the critic's explicit scores from the mean of each film's other
--   explicit scores, shrunk toward 0 as sum(offset) / (n + harshness_k), n = the critic's reviews
--   with an offset (a film nobody else scored gives none); negative = harsher than the others.
--   Null when the critic has no offset at all (see int_critic_harshness). offset_reviews is that n:
--   filter on it, not on scored_reviews, to rank critics by harshness.
-- agreement_rate: percent (0-100) of the critic's positive/negative verdicts that match the
--   majority of the film's other verdicts, over verdicts with at least one other verdict and no tie
--   among the others; agreement_verdicts is the number of verdicts compared. Null when there is
--   nothing to compare.
-- outlets: every outlet of critics sharing this critic's name_key and audience (the same person
--   writing for several outlets), or just the critic's own outlet.
-- Only critics with at least one review: a critic whose reviews all moved to another critic (an
-- edited byline) or that an earlier version stored for a syndicated copy has nothing to measure.
with

critics as (
    select * from stg_critics
    semi join (select distinct critic_id from stg_reviews) using (critic_id)
),

reviews as (
    select * from stg_reviews
),

review_consensus as (
    select * from int_review_consensus
),

harshness as (
    select * from int_critic_harshness
),

per_critic as (
    select
        critic_id,
        count(*) as reviews,
        count(score) as scored_reviews,
        avg(score) as mean_score,
        min(published_on) as first_review,
        max(published_on) as last_review
    from reviews
    group by critic_id
),

agreement as (
    select
        critic_id,
        count(*) as agreement_verdicts,
        pct_true(is_positive = consensus_positive) as agreement_rate
    from review_consensus
    where is_positive is not null
      and consensus_positive is not null
    group by critic_id
),

outlets_by_person as (
    select
        name_key,
        audience,
        list_sort(list_distinct(list(outlet))) as outlets
    from critics
    group by name_key, audience
),

final as (
    select
        -- ids
        critics.critic_id,
        -- who
        critics.name,
        critics.outlet,
        critics.audience,
        -- volume
        coalesce(per_critic.reviews, 0) as reviews,
        coalesce(per_critic.scored_reviews, 0) as scored_reviews,
        -- scores
        per_critic.mean_score,
        harshness.harshness,
        coalesce(harshness.offset_reviews, 0) as offset_reviews,
        -- agreement with consensus
        agreement.agreement_rate,
        coalesce(agreement.agreement_verdicts, 0) as agreement_verdicts,
        -- active period
        per_critic.first_review,
        per_critic.last_review,
        -- outlets
        coalesce(outlets_by_person.outlets, []::varchar[]) as outlets
    from critics
    inner join per_critic using (critic_id)
    left join harshness using (critic_id)
    left join agreement using (critic_id)
    left join outlets_by_person using (name_key, audience)
)

select * from final
