-- Every record people edit carries a row version, so that a save from an outdated copy is
-- refused instead of overwriting someone else's change.
ALTER TABLE contact_levels ADD COLUMN version BIGINT NOT NULL DEFAULT 1;
ALTER TABLE point_types ADD COLUMN version BIGINT NOT NULL DEFAULT 1;
ALTER TABLE standard_versions ADD COLUMN version BIGINT NOT NULL DEFAULT 1;
ALTER TABLE standard_items ADD COLUMN version BIGINT NOT NULL DEFAULT 1;
