-- Identical text by the same critic for the same film is one review with every url. A new key is matched
-- against the texts stored before the batch (01_classify.sql), but an edit can give a review the text another
-- review already holds: the outlet that republished the critic's revised text was crawled first, or both came
-- in one batch. Both stayed, for good, and every mart counted the review twice (idempotency QA). Such reviews
-- become one: the first stored keeps the others' urls, source keys and first run, and the explicit rating one of
-- them has when it has none (as a rated copy fills it: 03_reviews.sql). The same critic is author_key_of's (a
-- name for critics, one account for users, nobody for "Anonymous").
create or replace temp table batch_merged_copies as
with touched_texts as (
    select distinct author_key_of(c.audience, c.critic_id, c.name_key) as author_key, r.film_id, r.text_hash
    from reviews as r
    inner join critics as c using (critic_id)
    -- Edited reviews only: a new one was matched against the stored texts and the batch's other new ones. An
    -- empty body is no text to share (its hash, not the body: reading every stored body cost ~1 s a load).
    where r.review_id in (select review_id from batch_classified where outcome = 'changed')
        and r.text_hash is not null and r.text_hash <> md5_64('')
),

same_text as (
    select
        r.review_id,
        first_value(r.review_id) over (
            partition by t.author_key, t.film_id, t.text_hash order by r.first_seen, r.review_id
        ) as keep_id
    from reviews as r
    inner join critics as c using (critic_id)
    inner join touched_texts as t
        on t.author_key = author_key_of(c.audience, c.critic_id, c.name_key)
        and t.film_id = r.film_id and t.text_hash = r.text_hash
    where r.text_hash in (select text_hash from touched_texts)
)

select review_id, keep_id from same_text where review_id <> keep_id;

update reviews
set urls = list_sort(list_distinct(list_concat(reviews.urls, copies.urls))),
    first_seen = least(reviews.first_seen, copies.first_seen),
    last_seen = greatest(reviews.last_seen, copies.last_seen),
    first_run_id = case when copies.first_seen < reviews.first_seen then copies.first_run_id
        else reviews.first_run_id end,
    run_id = copies.batch_run_id,
    rating_raw = case when copies.fills then copies.rated.rating_raw else reviews.rating_raw end,
    score = case when copies.fills then copies.rated.score else reviews.score end,
    is_positive = case when copies.fills then copies.rated.is_positive else reviews.is_positive end,
    score_source = case when copies.fills then 'explicit' else reviews.score_source end,
    rating_problem = case when copies.fills then null else reviews.rating_problem end,
    content_hash = case when copies.fills
        then content_hash_of(reviews.title, reviews.text_hash, copies.rated.rating_raw, copies.rated.score, 'explicit')
        else reviews.content_hash end
from (
    select
        m.keep_id,
        flatten(list(r.urls)) as urls,
        min(r.first_seen) as first_seen,
        max(r.last_seen) as last_seen,
        arg_min(r.first_run_id, r.first_seen) as first_run_id,
        arg_max({'rating_raw': r.rating_raw, 'score': r.score, 'is_positive': r.is_positive}, r.last_seen)
            filter (where r.score_source = 'explicit') as rated,
        any_value(k.score_source) is distinct from 'explicit'
            and count(*) filter (where r.score_source = 'explicit') > 0 as fills,
        (select any_value(run_id) from batch_rows) as batch_run_id
    from batch_merged_copies as m
    inner join reviews as r using (review_id)
    inner join reviews as k on k.review_id = m.keep_id
    group by m.keep_id
) as copies
where reviews.review_id = copies.keep_id;

update review_keys
set review_id = m.keep_id
from batch_merged_copies as m
where review_keys.review_id = m.review_id;

delete from reviews where review_id in (select review_id from batch_merged_copies);

-- A new review of this batch merged into another is a copy of it, counted as a duplicate (warehouse/load.py); an
-- edit that merged is still the batch's update of the review.
update batch_classified
set review_id = m.keep_id, outcome = case when outcome = 'new' then 'syndicated' else outcome end
from batch_merged_copies as m
where batch_classified.review_id = m.review_id;
