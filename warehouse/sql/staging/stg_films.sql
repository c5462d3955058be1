-- One row per film, renamed for the marts. Only columns the marts read are kept.
with

source as (
    select * from films
),

final as (
    select
        -- ids
        film_id,
        imdb_id,
        tmdb_id,
        -- what the film is called
        title,
        year::integer as year,
        -- lineage
        first_seen
    from source
)

select * from final
