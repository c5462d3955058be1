-- Stored hashes become DuckDB's hash() (warehouse/sql/hashing/macros.sql), ten times cheaper than md5
-- but not promised stable between DuckDB releases. This table records which hash() the stored rows
-- were made with: a fingerprint of the hashes of fixed probe values. warehouse.hashing compares it
-- with the running DuckDB's each time the warehouse is opened for writing and rehashes the rows when
-- it differs; the table starts empty, so the rows migration 003 hashed with md5 are rehashed then.
-- Later: DuckDB's hash() collides on near-identical text, so the hashes are md5 again; the table
-- fingerprints whatever formulas macros.sql holds, and the change rehashed the rows the same way.
create table hash_scheme (
    fingerprint     varchar not null,   -- sha1 of the probe values' hashes
    duckdb_version  varchar not null,   -- the DuckDB that made it, for people reading the table
    rehashed_at     timestamp not null
);
