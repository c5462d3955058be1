-- New reviews; a review met twice in the batch was first seen at its first fetch.
insert into reviews
select
    review_id, film_id, critic_id, source, source_review_id, coalesce(repeat_urls, [url]) as urls, audience,
    rating_raw, score, is_positive, score_source, rating_problem,
    title, body, language, content_hash, text_hash,
    published_on, date_problem, first_fetch as first_seen, fetched_at as last_seen, run_id, run_id as first_run_id
from batch_rows
inner join (
    select row_no, review_id, first_fetch, list_sort(repeat_urls) as repeat_urls
    from batch_classified
    where outcome = 'new'
) as new_reviews using (row_no);

-- A re-crawl read as changed whose only difference is a rating the review keeps (its page lost the rating
-- markup, or got it back): nothing to write, so it counts as a duplicate, not an update (warehouse/load.py),
-- and only extends last_seen below. Its key still records what it held (04_review_keys.sql). Its date is
-- not compared: "a month ago" read a week later is another day, and the first reading is kept.
create or replace temp table batch_kept_edits as
select k.row_no
from batch_classified as k
inner join batch_rows as b using (row_no)
inner join reviews as r on r.review_id = k.review_id
where k.outcome = 'changed'
    and r.score_source = 'explicit'
    and (b.score_source is distinct from 'explicit' or (b.score is null and r.score is not null)
         or (b.rating_raw is not distinct from r.rating_raw and b.score is not distinct from r.score))
    and content_hash_of(b.title, b.text_hash, r.rating_raw, r.score, r.score_source) = r.content_hash
    and b.language is not distinct from r.language
    and (not k.is_own_key or (b.film_id = r.film_id and b.critic_id = r.critic_id));

-- Re-crawled reviews whose content changed take the new content (one edit per review, see
-- 01_classify.sql), except that an explicit rating is never replaced by a weaker one: a copy without
-- a rating (a feed, a mirror), one with only a verdict ("Fresh") where the review has a score, or a
-- page that lost its rating markup must not erase the critic's score. Only the review's own key moves
-- it to another film or critic: a copy elsewhere resolves them its own way (another site's user, a
-- year the mirror got wrong). The review's content_hash is
-- then that of what it holds (new text, kept rating), so a rehash finds which keys match it.
update reviews
set
    rating_raw = case when c.keeps_rating then reviews.rating_raw else c.rating_raw end,
    score = case when c.keeps_rating then reviews.score else c.score end,
    is_positive = case when c.keeps_rating then reviews.is_positive else c.is_positive end,
    score_source = case when c.keeps_rating then reviews.score_source else c.score_source end,
    rating_problem = case when c.keeps_rating then reviews.rating_problem else c.rating_problem end,
    title = c.title, body = c.body, language = c.language,
    content_hash = case when c.keeps_rating
        then content_hash_of(c.title, c.text_hash, reviews.rating_raw, reviews.score, reviews.score_source)
        else c.content_hash end,
    -- Not the date: it stays as first read, and the date fills below give the one its own page adds (an edit
    -- from a copy elsewhere took that outlet's date, and one without a date erased it: fuzz QA).
    text_hash = c.text_hash,
    film_id = case when c.is_own_key then c.film_id else reviews.film_id end,
    critic_id = case when c.is_own_key then c.critic_id else reviews.critic_id end,
    first_seen = least(reviews.first_seen, c.first_fetch),
    last_seen = greatest(reviews.last_seen, c.fetched_at), run_id = c.run_id,
    urls = list_sort(list_distinct(list_concat(reviews.urls, coalesce(c.repeat_urls, [c.url]))))
from (
    select
        b.*,
        k.review_id,
        k.first_fetch,
        r.score_source = 'explicit'
            and (b.score_source is distinct from 'explicit' or (b.score is null and r.score is not null))
            as keeps_rating,
        k.is_own_key,
        k.repeat_urls
    from batch_rows as b
    inner join batch_classified as k using (row_no)
    inner join reviews as r on r.review_id = k.review_id
    where k.outcome = 'changed' and k.row_no not in (select row_no from batch_kept_edits)
) as c
where reviews.review_id = c.review_id;

-- Unchanged re-crawls and syndicated copies only extend last_seen (or first_seen, for a batch
-- crawled earlier and loaded late) and add their url: a copy's page, or the page a known review has
-- moved to (urls is every page it was published on; an edit adds its url above).
update reviews
set
    first_seen = least(reviews.first_seen, seen.first_fetch),
    last_seen = greatest(reviews.last_seen, seen.last_fetch),
    urls = list_sort(list_distinct(list_concat(reviews.urls, seen.new_urls)))
from (
    select
        review_id,
        min(first_fetch) as first_fetch,
        max(fetched_at) as last_fetch,
        list_distinct(flatten(list(coalesce(repeat_urls, [url])))) as new_urls
    from batch_classified
    where outcome in ('unchanged', 'syndicated') or row_no in (select row_no from batch_kept_edits)
    group by review_id
) as seen
where reviews.review_id = seen.review_id
    and (seen.last_fetch > reviews.last_seen or seen.first_fetch < reviews.first_seen
         or not list_has_all(reviews.urls, coalesce(seen.new_urls, [])));

-- A copy fills a rating the review lacks: a review first met without one (a mirror or feed loaded
-- before the original) takes the explicit rating a copy of it carries; the latest such copy decides.
-- That copy changed the review: the load counts it as updated, not as a duplicate, and the review's
-- run_id names its run.
create or replace temp table batch_rating_fills as
select
    k.review_id,
    arg_max({'rating_raw': b.rating_raw, 'score': b.score, 'is_positive': b.is_positive, 'run_id': b.run_id},
            (b.fetched_at, b.row_no)) as rated
from batch_classified as k
inner join batch_rows as b using (row_no)
inner join reviews as r on r.review_id = k.review_id
where k.outcome in ('unchanged', 'syndicated') and not k.is_stale and b.score_source = 'explicit'
    and r.score_source is distinct from 'explicit'
group by k.review_id;

update reviews
set
    rating_raw = c.rated.rating_raw, score = c.rated.score, is_positive = c.rated.is_positive,
    score_source = 'explicit', rating_problem = null, run_id = c.rated.run_id,
    content_hash = content_hash_of(reviews.title, reviews.text_hash, c.rated.rating_raw, c.rated.score, 'explicit')
from batch_rating_fills as c
where reviews.review_id = c.review_id;

-- A re-crawl of its own page, unchanged or edited, gives a review the date it lacks, or a clean date where it
-- holds a flagged one (a year in the future the site has since fixed); a clean date stays as first read, since
-- "3 days ago" read a week later is another day. Not a copy: its date is when another outlet republished it.
-- The latest fetch decides. The load counts it as updated, as a rating fill, unless the edit is counted.
create or replace temp table batch_date_fills as
select
    k.review_id,
    arg_max(b.published_on, (b.fetched_at, b.row_no)) as published_on,
    arg_max(b.run_id, (b.fetched_at, b.row_no)) as run_id
from batch_classified as k
inner join batch_rows as b using (row_no)
inner join reviews as r on r.review_id = k.review_id
where k.outcome in ('unchanged', 'changed')
    and k.is_own_key and not k.is_stale and b.published_on is not null and b.date_problem is null
    and (r.published_on is null or r.date_problem is not null)
group by k.review_id;

update reviews
set published_on = d.published_on, date_problem = null, run_id = d.run_id
from batch_date_fills as d
where reviews.review_id = d.review_id;
