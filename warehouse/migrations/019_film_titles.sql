-- The other titles a film was met under with its external id ("La Cosa" for The Thing, tt0084787): the film
-- resolver (flows/normalize/films.py) finds the film by any of them, so a later mention of that title without the
-- id joins it. Only films.title_key was known before, and "The Thing" (1982) without an id became a second film
-- beside "La Cosa" with it (acceptance QA). Titles met before this migration are not known: a film already split
-- that way stays split.
create table film_titles (
    film_id    varchar not null,
    title_key  varchar not null,
    first_seen timestamp not null
);
