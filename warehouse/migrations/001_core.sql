-- Core tables. Uniqueness (one row per film_id, critic_id, review_id, source key) is kept by
-- warehouse/load.py, not by PRIMARY KEY constraints: DuckDB's ART indexes slow bulk loads and
-- reject an update-then-insert of the same key inside one transaction.

create table films (
    -- ids
    film_id         varchar not null,
    imdb_id         varchar,
    tmdb_id         varchar,
    -- what the film is called
    title           varchar not null,
    year            integer,
    title_key       varchar not null,   -- normalized title used for matching
    -- lineage
    first_seen      timestamp not null
);

create table critics (
    critic_id       varchar not null,
    name            varchar not null,
    name_key        varchar not null,   -- normalized name used for matching
    outlet          varchar,
    audience        varchar not null check (audience in ('critic', 'user')),
    profile_url     varchar,
    first_seen      timestamp not null
);

create table reviews (
    -- ids
    review_id        varchar not null,
    film_id          varchar not null,
    critic_id        varchar not null,
    source           varchar not null,
    source_review_id varchar not null,
    urls             varchar[] not null, -- every page the review was published on (syndication)
    audience         varchar not null check (audience in ('critic', 'user')),
    -- rating
    rating_raw       varchar,
    score            double check (score between 0 and 100),
    is_positive      boolean,
    score_source     varchar check (score_source in ('explicit', 'inferred')),
    rating_problem   varchar,
    -- text
    title            varchar,
    body             varchar,
    language         varchar,
    content_hash     varchar not null,   -- title + body + rating: a change means the review was edited
    text_hash        varchar,            -- body alone: identical text by one critic is one review
    -- dates
    published_on     date,
    date_problem     varchar,
    first_seen       timestamp not null,
    last_seen        timestamp not null,
    run_id           varchar not null    -- the last run that changed this row
);

-- Every (source, source_review_id) ever loaded, pointing at the review it became.
create table review_keys (
    source           varchar not null,
    source_review_id varchar not null,
    review_id        varchar not null,
    url              varchar,
    content_hash     varchar not null,
    first_seen       timestamp not null,
    last_seen        timestamp not null
);

create table crawl_runs (
    run_id          varchar not null,
    source          varchar not null,
    spider          varchar,
    started         timestamp,
    finished        timestamp,
    pages           integer,
    scraped         integer not null,   -- raw items in the landing batch
    loaded          integer not null,   -- new reviews plus changed ones
    updated         integer not null,   -- of loaded: existing reviews whose content changed
    duplicates      integer not null,   -- re-crawled unchanged, syndicated copies, repeats in the batch
    rejected        integer not null,
    errors          integer,
    field_coverage  json,
    healthy         boolean,
    health_notes    varchar,
    batch_path      varchar,
    batch_sha1      varchar,
    loaded_at       timestamp not null
);

create table rejects (
    run_id          varchar not null,
    source          varchar not null,
    stage           varchar not null,   -- 'crawl' (item pipeline) or 'load'
    reason          varchar not null,
    raw             json not null,      -- the item exactly as landed
    rejected_at     timestamp not null
);

-- Parameters of the marts; reviews.toml or `reviews run --set` may change them.
create table mart_params (
    name            varchar not null,
    value           double not null,
    description     varchar not null
);
insert into mart_params values
    ('bayes_m', 10, 'Bayesian score: weight m of the prior, in reviews (IMDb-style v/(v+m)*R + m/(v+m)*C)'),
    ('positive_threshold', 60, 'a score at or above this is positive'),
    ('harshness_k', 5, 'critic harshness shrinkage: offsets are summed over n + k reviews'),
    ('min_reviews_top', 3, 'minimum scored reviews for a film to enter top lists');
