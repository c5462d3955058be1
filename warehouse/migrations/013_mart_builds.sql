-- Which SQL built the marts: a fingerprint of sql/macros.sql and every model (warehouse/marts.py). After an
-- upgrade that changed a model, the stored one differs, and a report rebuilds the marts before reading them
-- (a report read the old tables, and a query naming a new column failed, until the next run).
create table mart_builds (
    fingerprint varchar not null,
    built_at    timestamp not null
);
