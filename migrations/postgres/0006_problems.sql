-- The problem ledger (问题台账): every problem found, its unit, person, deadline and per-stage
-- timestamps, and the history of every step.
CREATE TABLE problems (
    id TEXT PRIMARY KEY,
    code TEXT NOT NULL UNIQUE,
    point_id TEXT NOT NULL REFERENCES points(id),
    unit_id TEXT NOT NULL REFERENCES units(id),
    lead_name TEXT NOT NULL DEFAULT '',
    standard_item_id TEXT REFERENCES standard_items(id),
    category TEXT NOT NULL,
    severity TEXT NOT NULL,
    source TEXT NOT NULL,
    description TEXT NOT NULL,
    state TEXT NOT NULL,
    extension_pending BIGINT NOT NULL DEFAULT 0,
    extension_days BIGINT NOT NULL DEFAULT 0,
    extensions BIGINT NOT NULL DEFAULT 0,
    postponed BIGINT NOT NULL DEFAULT 0,
    rework_count BIGINT NOT NULL DEFAULT 0,
    reported_by TEXT REFERENCES users(id),
    reporter_name TEXT NOT NULL,
    found_at BIGINT NOT NULL,
    filed_at BIGINT,
    dispatched_at BIGINT,
    acknowledged_at BIGINT,
    submitted_at BIGINT,
    closed_at BIGINT,
    voided_at BIGINT,
    deadline_at BIGINT,
    fix_note TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    version BIGINT NOT NULL DEFAULT 1
);
CREATE INDEX problems_unit_state ON problems(unit_id, state);
CREATE INDEX problems_point ON problems(point_id);
CREATE INDEX problems_state_deadline ON problems(state, deadline_at);
CREATE INDEX problems_found ON problems(found_at);

CREATE TABLE problem_events (
    id TEXT PRIMARY KEY,
    problem_id TEXT NOT NULL REFERENCES problems(id),
    at BIGINT NOT NULL,
    actor_id TEXT,
    actor_name TEXT NOT NULL,
    action TEXT NOT NULL,
    from_state TEXT,
    to_state TEXT NOT NULL,
    note TEXT NOT NULL DEFAULT ''
);
CREATE INDEX problem_events_problem ON problem_events(problem_id, at);

ALTER TABLE photos ADD COLUMN kind TEXT NOT NULL DEFAULT '';
