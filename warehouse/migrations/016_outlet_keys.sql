-- A critic's outlet is keyed without a leading "The" (flows/normalize/lookups.py outlet_key): "Jane Doe" at
-- "The Guardian" and at "Guardian" is one critic. The stored critics move to their new ids in the data fix
-- `outlet_keys` (flows/upgrades.py), which needs the normalizer's Python rules; this migration has no schema
-- change, and is here so that an older version, which would key such critics the old way again, refuses the
-- warehouse.
select 1;
