-- One row per critic (users are critics with audience = 'user').
with

source as (
    select * from critics
),

final as (
    select
        -- ids
        critic_id,
        -- who
        name,
        name_key,
        outlet,
        audience,
        profile_url,
        -- lineage
        first_seen
    from source
)

select * from final
