-- The standard ledger (标准台账): versioned catalogues of requirements, and the responsibility
-- ledger's task list (任务清单).

CREATE TABLE standard_versions (
    id TEXT PRIMARY KEY,
    version_no BIGINT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    status TEXT NOT NULL,
    note TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL,
    published_at BIGINT,
    updated_at BIGINT NOT NULL
);

CREATE TABLE standard_items (
    id TEXT PRIMARY KEY,
    version_id TEXT NOT NULL REFERENCES standard_versions(id),
    seq BIGINT NOT NULL,
    category TEXT NOT NULL,
    item TEXT NOT NULL,
    major_code TEXT NOT NULL,
    minor_code TEXT NOT NULL,
    requirement TEXT NOT NULL,
    point_types TEXT NOT NULL,
    time_limit BIGINT NOT NULL,
    time_unit TEXT NOT NULL,
    severity TEXT NOT NULL,
    deduction DOUBLE PRECISION NOT NULL,
    closing_standard TEXT NOT NULL DEFAULT ''
);
CREATE UNIQUE INDEX standard_items_code ON standard_items(version_id, major_code, minor_code);

CREATE TABLE tasks (
    id TEXT PRIMARY KEY,
    unit_id TEXT NOT NULL REFERENCES units(id),
    point_id TEXT REFERENCES points(id),
    title TEXT NOT NULL,
    owner_name TEXT NOT NULL DEFAULT '',
    due_date TEXT NOT NULL,
    status TEXT NOT NULL,
    note TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    version BIGINT NOT NULL DEFAULT 1
);
CREATE INDEX tasks_unit ON tasks(unit_id);
