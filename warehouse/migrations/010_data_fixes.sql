-- Repairs of stored rows that need the normalizer's Python rules (flows/upgrades.py), each applied once
-- and recorded here by name, as migrations are in schema_migrations.
create table data_fixes (
    name        varchar not null,
    applied_at  timestamp not null
);
