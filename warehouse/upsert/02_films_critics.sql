-- New films and critics first, so every review row points at an existing one.
create or replace temp view batch_kept as
select b.*
from batch_rows as b
semi join batch_classified as k using (row_no);

insert into films
select
    film_id,
    any_value(imdb_id) as imdb_id,
    any_value(tmdb_id) as tmdb_id,
    arg_min(film_title, row_no) as title,
    arg_min(film_year, row_no) as year,
    arg_min(title_key, row_no) as title_key,
    min(fetched_at) as first_seen
from batch_kept
where film_id not in (select film_id from films)
group by film_id;

-- A film first met without an external id gains it when another source publishes one.
update films
set imdb_id = found.imdb_id
from (
    select film_id, any_value(imdb_id) as imdb_id
    from batch_kept where imdb_id is not null group by film_id
) as found
where films.film_id = found.film_id and films.imdb_id is null;

insert into critics
select
    critic_id,
    arg_min(critic_name, row_no) as name,
    arg_min(name_key, row_no) as name_key,
    arg_min(outlet, row_no) as outlet,
    arg_min(audience, row_no) as audience,
    arg_min(critic_url, row_no) as profile_url,
    min(fetched_at) as first_seen
from batch_kept
where critic_id not in (select critic_id from critics)
group by critic_id;
