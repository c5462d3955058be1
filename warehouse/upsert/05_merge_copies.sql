-- Identical text by the same critic for the same film is one review with every url. A new key is matched
-- against the texts stored before the batch (01_classify.sql), but an edit can give a review the text another
-- review already holds: the outlet that republished the critic's revised text was crawled first, or both came
-- in one batch. Both stayed, for good, and every mart counted the review twice (idempotency QA). Such reviews
-- become one, as migration 008 merged them: the rated one, else the first seen, keeps the others' urls and
-- source keys; the same critic is author_key_of's (a name for critics, one account for users, nobody for
-- "Anonymous").
create or replace temp table batch_merged_copies as
with touched_texts as (
    select distinct author_key_of(c.audience, c.critic_id, c.name_key) as author_key, r.film_id, r.text_hash
    from reviews as r
    inner join critics as c using (critic_id)
    -- Edited reviews only: a new one was matched against the stored texts and the batch's other new ones.
    where r.review_id in (select review_id from batch_classified where outcome = 'changed')
        and r.text_hash is not null and nullif(trim(r.body), '') is not null
),

same_text as (
    select
        r.review_id,
        first_value(r.review_id) over (
            partition by t.author_key, t.film_id, t.text_hash
            order by r.score is null, r.is_positive is null, r.first_seen, r.review_id
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
    last_seen = greatest(reviews.last_seen, copies.last_seen)
from (
    select m.keep_id, flatten(list(r.urls)) as urls, min(r.first_seen) as first_seen, max(r.last_seen) as last_seen
    from batch_merged_copies as m
    inner join reviews as r using (review_id)
    group by m.keep_id
) as copies
where reviews.review_id = copies.keep_id;

update review_keys
set review_id = m.keep_id
from batch_merged_copies as m
where review_keys.review_id = m.review_id;

delete from reviews where review_id in (select review_id from batch_merged_copies);

-- A new review of this batch merged into another is a copy of it, counted as a duplicate (warehouse/load.py).
update batch_classified
set review_id = m.keep_id, outcome = 'syndicated'
from batch_merged_copies as m
where batch_classified.review_id = m.review_id and batch_classified.outcome = 'new';
