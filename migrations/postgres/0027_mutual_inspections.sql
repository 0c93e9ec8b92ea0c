-- 互评互查: rounds in which the window units of one sector inspect each other's points against
-- the published standard. Each point of the round is assigned to one other unit of the sector
-- (never its own, balanced, reproducible from the round's seed); the inspector checks every item
-- that applies to the point's type (pass, fail, not applicable); failures are filed as problems
-- of source 互评互查 for the inspected unit. The round's report ranks the points.
CREATE TABLE mutual_rounds (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    sector TEXT NOT NULL,
    standard_version_id TEXT NOT NULL REFERENCES standard_versions(id),
    seed BIGINT NOT NULL,
    starts_on TEXT NOT NULL,
    ends_on TEXT NOT NULL,
    state TEXT NOT NULL,
    created_by TEXT REFERENCES users(id),
    published_at BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    version BIGINT NOT NULL DEFAULT 1
);

CREATE TABLE mutual_tasks (
    id TEXT PRIMARY KEY,
    round_id TEXT NOT NULL REFERENCES mutual_rounds(id),
    point_id TEXT NOT NULL REFERENCES points(id),
    owner_unit_id TEXT NOT NULL REFERENCES units(id),
    inspector_unit_id TEXT NOT NULL REFERENCES units(id),
    state TEXT NOT NULL,
    passed BIGINT NOT NULL DEFAULT 0,
    failed BIGINT NOT NULL DEFAULT 0,
    applicable BIGINT NOT NULL DEFAULT 0,
    inspected_by TEXT REFERENCES users(id),
    inspected_at BIGINT,
    version BIGINT NOT NULL DEFAULT 1
);
CREATE UNIQUE INDEX mutual_tasks_point ON mutual_tasks(round_id, point_id);
CREATE INDEX mutual_tasks_inspector ON mutual_tasks(inspector_unit_id, state);

CREATE TABLE mutual_checks (
    task_id TEXT NOT NULL REFERENCES mutual_tasks(id),
    item_id TEXT NOT NULL REFERENCES standard_items(id),
    result TEXT NOT NULL,
    note TEXT NOT NULL DEFAULT '',
    problem_id TEXT REFERENCES problems(id),
    PRIMARY KEY (task_id, item_id)
);
