-- Indexes for the ledger's common shapes at a million problems: a unit's newest first, a unit's
-- counts by source and state, and the KPI period by dispatch time.
CREATE INDEX problems_unit_found ON problems(unit_id, found_at);
CREATE INDEX problems_unit_source_state ON problems(unit_id, source, state);
CREATE INDEX problems_dispatched ON problems(dispatched_at);
