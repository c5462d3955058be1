-- Most active critics of the week (audience 'critic'; users are counted in the week's numbers).
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
)

select * from final
order by reviews desc, name, outlet
limit 8
