-- The most active reviewers (not the rows of many people named "Anonymous" or "Guest"), with how far they sit from the other reviewers of the same films
-- (critic_stats: harshness and agreement_rate against a leave-one-out consensus).
select
    name,
    coalesce(outlet, '') as outlet,
    audience,
    reviews,
    round(mean_score, 1) as mean_score,
    round(harshness, 1) + 0 as harshness,  -- + 0: a harshness of -0.04 printed as -0.0
    round(agreement_rate, 1) as agreement_rate
from critic_stats
where not anonymous
order by reviews desc, name, outlet, critic_id
limit 10
