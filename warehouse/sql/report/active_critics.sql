-- Most active critics of the week (audience 'critic'; users are counted in the week's numbers;
-- an "Anonymous" or "Guest" row of many people is no critic to name).
with

final as (
    select
        critic_id,
        name,
        outlet,
        reviews,
        scored_reviews,
        mean_score
    from weekly_critic_activity
    where week_start = $week_start::date
      and audience = 'critic'
      and not anonymous
)

select * from final
order by reviews desc, name, outlet, critic_id
limit 8
