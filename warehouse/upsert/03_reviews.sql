-- New reviews.
insert into reviews
select
    review_id, film_id, critic_id, source, source_review_id, [url] as urls, audience,
    rating_raw, score, is_positive, score_source, rating_problem,
    title, body, language, content_hash, text_hash,
    published_on, date_problem, fetched_at as first_seen, fetched_at as last_seen, run_id
from batch_rows
inner join (select row_no, review_id from batch_classified where outcome = 'new') as new_reviews using (row_no);

-- Re-crawled reviews whose content changed take the new content.
update reviews
set
    rating_raw = c.rating_raw, score = c.score, is_positive = c.is_positive, score_source = c.score_source,
    rating_problem = c.rating_problem, title = c.title, body = c.body, language = c.language,
    content_hash = c.content_hash, text_hash = c.text_hash, published_on = c.published_on, date_problem = c.date_problem,
    film_id = c.film_id, critic_id = c.critic_id,
    last_seen = greatest(reviews.last_seen, c.fetched_at), run_id = c.run_id
from (
    select b.*, k.review_id
    from batch_rows as b
    inner join batch_classified as k using (row_no)
    where k.outcome = 'changed'
) as c
where reviews.review_id = c.review_id;

-- Unchanged re-crawls and syndicated copies only extend last_seen; copies add their url.
update reviews
set
    last_seen = greatest(reviews.last_seen, seen.last_fetch),
    urls = list_sort(list_distinct(list_concat(reviews.urls, seen.new_urls)))
from (
    select
        review_id,
        max(fetched_at) as last_fetch,
        list(url order by url) filter (where outcome = 'syndicated') as new_urls
    from batch_classified
    where outcome in ('unchanged', 'syndicated')
    group by review_id
) as seen
where reviews.review_id = seen.review_id
    and (seen.last_fetch > reviews.last_seen or not list_has_all(reviews.urls, coalesce(seen.new_urls, [])));
