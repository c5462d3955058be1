-- The two hashes a review is deduplicated on, written once: the normalizer computes them for every
-- landed row, and rehash.sql recomputes stored rows with them. Temp macros: each connection that
-- hashes defines them (warehouse.hashing.define_hash_macros).
--
-- DuckDB's hash(): about ten times cheaper than md5 over a million bodies. It is not promised to stay
-- the same between DuckDB releases, so the warehouse keeps a fingerprint of it (hash_scheme) and
-- rehashes its rows when an upgrade changes it. Only hashes made by the same DuckDB are ever compared.

-- The body alone: identical text by one critic for one film is one review. Null body, null hash.
create or replace temp macro text_hash_of(body) as
    case when body is not null then hash(body) end;

-- Title, body (through its hash, so each body is read once) and rating: a change means an edit.
-- A missing title or rating hashes as an empty one, so a source that sends "" one week and leaves
-- the field out the next is not read as an edit.
create or replace temp macro content_hash_of(title, body_hash, rating_raw) as
    hash(coalesce(title, ''), body_hash, coalesce(rating_raw, ''));
