-- Film title keys and critic name keys read a Turkish dotless ı as i (flows/normalize/keys.py _folded): "IŞIL İNCE",
-- "Işıl İnce" and "ışıl ince" are one critic. Stored critics and films are rekeyed by the data fix `dotless_i_keys`
-- (flows/upgrades.py), which needs the normalizer's Python rules; this migration has no schema change, and is here
-- so that an older version, which would key them the old way again, refuses the warehouse.
select 1;
