-- One row per critic (and per user): volume, mean score, harshness, agreement with consensus.
--
-- harshness, offset_reviews, agreement_rate and agreement_verdicts compare the critic with the OTHER
-- reviewers of each film (leave-one-out, so a critic is never part of the consensus they are
-- measured against); the rules are in int_critic_against_consensus. offset_reviews is the n behind
-- harshness: filter on it, not on scored_reviews, to rank critics by harshness.
-- anonymous: the name names nobody ("Anonymous", "Guest", "[deleted]": names_nobody in macros.sql), so
--   the row holds many people's reviews (one row per site for users, per outlet for critics): its
--   figures are not one person's, and rankings of critics leave it out.
-- outlets: every outlet of critics sharing this critic's name_key and audience (the same person
--   writing for several outlets), or just the critic's own outlet (always, for an anonymous row).
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

against_consensus as (
    select * from int_critic_against_consensus
),

per_critic as (
    select
        critic_id,
        count(*) as reviews,
        count(score) as scored_reviews,
        settled(avg(exact_score(score))) as mean_score,
        min(published_on) as first_review,
        max(published_on) as last_review
    from reviews
    group by critic_id
),

outlets_by_person as (
    select
        name_key,
        audience,
        list_sort(list_distinct(list(outlet))) as outlets
    from critics
    -- a critic is a name wherever published; a user is an account on one site, so only its own outlet
    where not names_nobody(name_key) and audience = 'critic'
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
        names_nobody(critics.name_key) as anonymous,
        -- volume
        coalesce(per_critic.reviews, 0) as reviews,
        coalesce(per_critic.scored_reviews, 0) as scored_reviews,
        -- scores
        per_critic.mean_score,
        against_consensus.harshness,
        coalesce(against_consensus.offset_reviews, 0) as offset_reviews,
        -- agreement with consensus
        against_consensus.agreement_rate,
        coalesce(against_consensus.agreement_verdicts, 0) as agreement_verdicts,
        -- active period
        per_critic.first_review,
        per_critic.last_review,
        -- outlets
        coalesce(
            outlets_by_person.outlets,
            case when critics.outlet is null then []::varchar[] else [critics.outlet] end
        ) as outlets
    from critics
    inner join per_critic using (critic_id)
    left join against_consensus using (critic_id)
    left join outlets_by_person using (name_key, audience)
)

select * from final
