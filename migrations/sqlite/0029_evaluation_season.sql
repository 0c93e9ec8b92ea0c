-- The evaluation season: the evaluation system (测评体系) as versioned data, simulated evaluation
-- rounds (模拟测评) with their stratified sample and the evaluators' checks, online material
-- submission (网上申报), surveys (问卷调查, 专题调研) and the city's yearly indicator values.

CREATE TABLE eval_systems (
    id TEXT PRIMARY KEY,
    version_no INTEGER NOT NULL,
    name TEXT NOT NULL,
    status TEXT NOT NULL,
    note TEXT NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL,
    published_at INTEGER,
    updated_at INTEGER NOT NULL,
    version INTEGER NOT NULL DEFAULT 1
);

-- One 测评标准 per row, with its 测评项目 and 测评内容 (the tree's upper levels).
CREATE TABLE eval_items (
    id TEXT PRIMARY KEY,
    system_id TEXT NOT NULL REFERENCES eval_systems(id),
    seq INTEGER NOT NULL,
    code TEXT NOT NULL,
    project TEXT NOT NULL,
    content TEXT NOT NULL,
    standard TEXT NOT NULL,
    leg TEXT NOT NULL,
    points REAL NOT NULL,
    point_types TEXT NOT NULL DEFAULT '',
    lead_unit_id TEXT REFERENCES units(id),
    coop_units TEXT NOT NULL DEFAULT '',
    version INTEGER NOT NULL DEFAULT 1
);
CREATE UNIQUE INDEX eval_items_code ON eval_items(system_id, code);

CREATE TABLE eval_rounds (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    system_id TEXT NOT NULL REFERENCES eval_systems(id),
    seed INTEGER NOT NULL,
    starts_on TEXT NOT NULL,
    ends_on TEXT NOT NULL,
    areas TEXT NOT NULL DEFAULT '',
    quotas TEXT NOT NULL,
    fixed_points TEXT NOT NULL DEFAULT '',
    state TEXT NOT NULL,
    last_place_interview INTEGER NOT NULL DEFAULT 0,
    transfer_amount INTEGER NOT NULL DEFAULT 0,
    created_by TEXT REFERENCES users(id),
    published_at INTEGER,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    version INTEGER NOT NULL DEFAULT 1
);

-- A sampled point with the areas and unit it had when drawn (history does not move).
CREATE TABLE eval_visits (
    id TEXT PRIMARY KEY,
    round_id TEXT NOT NULL REFERENCES eval_rounds(id),
    point_id TEXT NOT NULL REFERENCES points(id),
    unit_id TEXT NOT NULL REFERENCES units(id),
    type_code TEXT NOT NULL,
    community_id TEXT REFERENCES org_nodes(id),
    street_id TEXT REFERENCES org_nodes(id),
    district_id TEXT REFERENCES org_nodes(id),
    fixed INTEGER NOT NULL DEFAULT 0,
    evaluator_id TEXT REFERENCES users(id),
    state TEXT NOT NULL,
    earned REAL NOT NULL DEFAULT 0,
    possible REAL NOT NULL DEFAULT 0,
    passed INTEGER NOT NULL DEFAULT 0,
    failed INTEGER NOT NULL DEFAULT 0,
    visited_at INTEGER,
    version INTEGER NOT NULL DEFAULT 1
);
CREATE UNIQUE INDEX eval_visits_point ON eval_visits(round_id, point_id);
CREATE INDEX eval_visits_evaluator ON eval_visits(evaluator_id, state);

CREATE TABLE eval_checks (
    visit_id TEXT NOT NULL REFERENCES eval_visits(id),
    item_id TEXT NOT NULL REFERENCES eval_items(id),
    result TEXT NOT NULL,
    points REAL NOT NULL,
    note TEXT NOT NULL DEFAULT '',
    problem_id TEXT REFERENCES problems(id),
    PRIMARY KEY (visit_id, item_id)
);

-- 末位拨付: the last place's recorded transfer to the first (and the interview proposed).
CREATE TABLE eval_transfers (
    id TEXT PRIMARY KEY,
    round_id TEXT NOT NULL UNIQUE REFERENCES eval_rounds(id),
    from_unit_id TEXT NOT NULL REFERENCES units(id),
    to_unit_id TEXT NOT NULL REFERENCES units(id),
    amount INTEGER NOT NULL,
    interview_id TEXT REFERENCES interviews(id),
    created_by TEXT REFERENCES users(id),
    created_at INTEGER NOT NULL
);

CREATE TABLE material_drives (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    system_id TEXT NOT NULL REFERENCES eval_systems(id),
    due_on TEXT NOT NULL,
    created_by TEXT REFERENCES users(id),
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    version INTEGER NOT NULL DEFAULT 1
);

CREATE TABLE material_tasks (
    id TEXT PRIMARY KEY,
    drive_id TEXT NOT NULL REFERENCES material_drives(id),
    item_id TEXT NOT NULL REFERENCES eval_items(id),
    unit_id TEXT NOT NULL REFERENCES units(id),
    due_on TEXT NOT NULL,
    state TEXT NOT NULL,
    revision INTEGER NOT NULL DEFAULT 0,
    account TEXT NOT NULL DEFAULT '',
    reason TEXT NOT NULL DEFAULT '',
    submitted_at INTEGER,
    reviewed_by TEXT REFERENCES users(id),
    reviewed_at INTEGER,
    updated_at INTEGER NOT NULL,
    version INTEGER NOT NULL DEFAULT 1
);
CREATE UNIQUE INDEX material_tasks_item ON material_tasks(drive_id, item_id);
CREATE INDEX material_tasks_unit ON material_tasks(unit_id, state);

-- Every submitted version's files and account are kept.
CREATE TABLE material_revisions (
    task_id TEXT NOT NULL REFERENCES material_tasks(id),
    revision INTEGER NOT NULL,
    account TEXT NOT NULL,
    submitted_by TEXT REFERENCES users(id),
    submitted_at INTEGER NOT NULL,
    decision TEXT NOT NULL DEFAULT '',
    reason TEXT NOT NULL DEFAULT '',
    reviewed_by TEXT REFERENCES users(id),
    reviewed_at INTEGER,
    PRIMARY KEY (task_id, revision)
);

CREATE TABLE material_files (
    id TEXT PRIMARY KEY,
    task_id TEXT NOT NULL REFERENCES material_tasks(id),
    revision INTEGER NOT NULL,
    filename TEXT NOT NULL,
    kind TEXT NOT NULL,
    size INTEGER NOT NULL,
    storage_key TEXT NOT NULL,
    uploaded_at INTEGER NOT NULL
);
CREATE INDEX material_files_task ON material_files(task_id, revision);

CREATE TABLE surveys (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    state TEXT NOT NULL,
    intro TEXT NOT NULL DEFAULT '',
    questions TEXT NOT NULL,
    token TEXT NOT NULL UNIQUE,
    created_by TEXT REFERENCES users(id),
    opened_at INTEGER,
    closed_at INTEGER,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    version INTEGER NOT NULL DEFAULT 1
);

-- One response per person (the respondent key: a keyed hash of the phone) per survey.
CREATE TABLE survey_responses (
    id TEXT PRIMARY KEY,
    survey_id TEXT NOT NULL REFERENCES surveys(id),
    respondent TEXT NOT NULL,
    community_id TEXT REFERENCES org_nodes(id),
    unit_id TEXT REFERENCES units(id),
    via TEXT NOT NULL,
    surveyor_id TEXT REFERENCES users(id),
    answers TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE UNIQUE INDEX survey_responses_person ON survey_responses(survey_id, respondent);

CREATE TABLE city_indicator_values (
    id TEXT PRIMARY KEY,
    code TEXT NOT NULL,
    year INTEGER NOT NULL,
    value REAL NOT NULL,
    source TEXT NOT NULL,
    entered_by TEXT REFERENCES users(id),
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    version INTEGER NOT NULL DEFAULT 1
);
CREATE UNIQUE INDEX city_indicator_values_year ON city_indicator_values(code, year);
