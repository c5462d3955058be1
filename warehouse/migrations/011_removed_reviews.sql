-- Reviews a site no longer publishes. A crawl that covered its whole site and did not see a source key marks
-- it gone; a review all of whose keys are gone is removed and left out of the current marts (film_scores,
-- critic_stats); seen again, both marks are cleared (warehouse/upsert/gone.sql, 04_review_keys.sql).
-- Tables of their own, so the reviews and review_keys rows keep their shape.
create table review_keys_gone (
    source              varchar not null,
    source_review_id    varchar not null,
    gone_since          timestamp not null,
    primary key (source, source_review_id)
);

create table reviews_removed (
    review_id   varchar primary key,
    removed_at  timestamp not null
);
