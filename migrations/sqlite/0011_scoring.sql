-- Thousand-point scoring: one rule set per class of target (community, street, unit, window),
-- versioned like the standards: a draft is edited and previewed, publishing archives the previous.
CREATE TABLE score_schemes (
    id TEXT PRIMARY KEY,
    class TEXT NOT NULL,
    status TEXT NOT NULL,
    version_no INTEGER NOT NULL,
    rules TEXT NOT NULL,
    created_by TEXT,
    created_at INTEGER NOT NULL,
    published_at INTEGER,
    updated_at INTEGER NOT NULL,
    version INTEGER NOT NULL
);
CREATE UNIQUE INDEX score_schemes_one_published ON score_schemes(class) WHERE status = 'published';
CREATE UNIQUE INDEX score_schemes_one_draft ON score_schemes(class) WHERE status = 'draft';
CREATE UNIQUE INDEX score_schemes_number ON score_schemes(class, version_no);

-- Awards that add points: commendations (表扬) the office records and mobile red flags (流动红旗)
-- won in a week. A red flag is awarded once per class, week and target.
CREATE TABLE score_awards (
    id TEXT PRIMARY KEY,
    class TEXT NOT NULL,
    target_id TEXT NOT NULL,
    target_name TEXT NOT NULL,
    kind TEXT NOT NULL,
    period_start INTEGER,
    at INTEGER NOT NULL,
    note TEXT NOT NULL,
    created_by TEXT,
    created_at INTEGER NOT NULL
);
CREATE INDEX score_awards_at ON score_awards(class, at);
CREATE UNIQUE INDEX score_awards_red_flag ON score_awards(class, period_start, target_id) WHERE kind = 'red_flag';

-- An inspected point found clean (检查无问题): credits the point's community, street and unit.
CREATE TABLE point_inspections (
    id TEXT PRIMARY KEY,
    point_id TEXT NOT NULL REFERENCES points(id),
    at INTEGER NOT NULL,
    inspector_id TEXT,
    inspector_name TEXT NOT NULL,
    note TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX point_inspections_at ON point_inspections(at);

-- Notices (通报) and work briefs (工作简报): generated from the data, edited, then published.
CREATE TABLE notices (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    class TEXT NOT NULL,
    period_start INTEGER NOT NULL,
    period_end INTEGER NOT NULL,
    number TEXT NOT NULL,
    title TEXT NOT NULL,
    body TEXT NOT NULL,
    data TEXT NOT NULL,
    status TEXT NOT NULL,
    created_by TEXT,
    created_at INTEGER NOT NULL,
    published_at INTEGER,
    updated_at INTEGER NOT NULL,
    version INTEGER NOT NULL
);
CREATE INDEX notices_period ON notices(kind, period_start);

-- Which unit's account confirmed reading a published notice, and when.
CREATE TABLE notice_reads (
    notice_id TEXT NOT NULL REFERENCES notices(id),
    unit_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    user_name TEXT NOT NULL,
    read_at INTEGER NOT NULL,
    PRIMARY KEY (notice_id, unit_id)
);

-- Interviews (约谈) and accountability (问责), each linked to the facts that caused it.
CREATE TABLE interviews (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    unit_id TEXT NOT NULL REFERENCES units(id),
    reason TEXT NOT NULL,
    facts TEXT NOT NULL,
    held_at INTEGER,
    outcome TEXT NOT NULL,
    created_by TEXT,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    version INTEGER NOT NULL
);
CREATE INDEX interviews_unit ON interviews(unit_id);
