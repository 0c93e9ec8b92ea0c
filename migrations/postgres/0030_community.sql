-- Community work: point leads' daily progress reports and the communities' weekly summaries;
-- volunteers, their teams, Lei Feng stations, recurring activities and service records;
-- residents' deliberation (meetings and suggestions); civilized-unit applications.

CREATE TABLE daily_reports (
    id TEXT PRIMARY KEY,
    point_id TEXT NOT NULL REFERENCES points(id),
    unit_id TEXT NOT NULL REFERENCES units(id),
    community_id TEXT REFERENCES org_nodes(id),
    day TEXT NOT NULL,
    done TEXT NOT NULL,
    help TEXT NOT NULL DEFAULT '',
    problem_id TEXT REFERENCES problems(id),
    task_id TEXT REFERENCES tasks(id),
    reported_by TEXT REFERENCES users(id),
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    version BIGINT NOT NULL DEFAULT 1
);
CREATE UNIQUE INDEX daily_reports_point_day ON daily_reports(point_id, day);
CREATE INDEX daily_reports_day ON daily_reports(day, community_id);

CREATE TABLE weekly_summaries (
    id TEXT PRIMARY KEY,
    community_id TEXT NOT NULL REFERENCES org_nodes(id),
    week_start TEXT NOT NULL,
    body TEXT NOT NULL,
    state TEXT NOT NULL,
    submitted_by TEXT REFERENCES users(id),
    submitted_at BIGINT,
    acknowledged_by TEXT REFERENCES users(id),
    acknowledged_at BIGINT,
    reply TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    version BIGINT NOT NULL DEFAULT 1
);
CREATE UNIQUE INDEX weekly_summaries_week ON weekly_summaries(community_id, week_start);

CREATE TABLE community_residents (
    community_id TEXT PRIMARY KEY REFERENCES org_nodes(id),
    residents BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE volunteer_teams (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    community_id TEXT NOT NULL REFERENCES org_nodes(id),
    leader TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    version BIGINT NOT NULL DEFAULT 1
);

CREATE TABLE volunteers (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    phone TEXT NOT NULL UNIQUE,
    community_id TEXT NOT NULL REFERENCES org_nodes(id),
    team_id TEXT REFERENCES volunteer_teams(id),
    skills TEXT NOT NULL DEFAULT '',
    joined_on TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    version BIGINT NOT NULL DEFAULT 1
);
CREATE INDEX volunteers_community ON volunteers(community_id);

CREATE TABLE lei_feng_stations (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    community_id TEXT NOT NULL REFERENCES org_nodes(id),
    address TEXT NOT NULL,
    lng DOUBLE PRECISION,
    lat DOUBLE PRECISION,
    hours TEXT NOT NULL,
    equipment TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    version BIGINT NOT NULL DEFAULT 1
);

-- A recurring activity: on the given weekdays (1 = Monday … 7 = Sunday) between two dates.
CREATE TABLE volunteer_activities (
    id TEXT PRIMARY KEY,
    title TEXT NOT NULL,
    community_id TEXT NOT NULL REFERENCES org_nodes(id),
    station_id TEXT REFERENCES lei_feng_stations(id),
    team_id TEXT REFERENCES volunteer_teams(id),
    weekdays TEXT NOT NULL,
    starts_at TEXT NOT NULL,
    ends_at TEXT NOT NULL,
    first_day TEXT NOT NULL,
    last_day TEXT NOT NULL,
    capacity BIGINT NOT NULL,
    organizer_id TEXT REFERENCES users(id),
    secret TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    version BIGINT NOT NULL DEFAULT 1
);

-- One volunteer at one occurrence of an activity: signed up, in, out, hours confirmed.
CREATE TABLE service_records (
    id TEXT PRIMARY KEY,
    activity_id TEXT NOT NULL REFERENCES volunteer_activities(id),
    day TEXT NOT NULL,
    volunteer_id TEXT NOT NULL REFERENCES volunteers(id),
    community_id TEXT NOT NULL REFERENCES org_nodes(id),
    state TEXT NOT NULL,
    signed_up_at BIGINT,
    signed_in_at BIGINT,
    signed_out_at BIGINT,
    minutes BIGINT NOT NULL DEFAULT 0,
    confirmed_by TEXT REFERENCES users(id),
    confirmed_at BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    version BIGINT NOT NULL DEFAULT 1
);
CREATE UNIQUE INDEX service_records_once ON service_records(activity_id, day, volunteer_id);
CREATE INDEX service_records_day ON service_records(community_id, day);

CREATE TABLE meetings (
    id TEXT PRIMARY KEY,
    community_id TEXT NOT NULL REFERENCES org_nodes(id),
    held_on TEXT NOT NULL,
    place TEXT NOT NULL,
    topic TEXT NOT NULL,
    residents BIGINT NOT NULL DEFAULT 0,
    party_members BIGINT NOT NULL DEFAULT 0,
    property TEXT NOT NULL DEFAULT '',
    partners TEXT NOT NULL DEFAULT '',
    minutes TEXT NOT NULL DEFAULT '',
    created_by TEXT REFERENCES users(id),
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    version BIGINT NOT NULL DEFAULT 1
);

-- A resident's suggestion: raised at a meeting or online; answered on the spot or routed to a
-- unit with a deadline. The resident's name and phone are never shown publicly.
CREATE TABLE suggestions (
    id TEXT PRIMARY KEY,
    community_id TEXT NOT NULL REFERENCES org_nodes(id),
    meeting_id TEXT REFERENCES meetings(id),
    channel TEXT NOT NULL,
    content TEXT NOT NULL,
    raised_by TEXT NOT NULL DEFAULT '',
    phone TEXT NOT NULL DEFAULT '',
    state TEXT NOT NULL,
    unit_id TEXT REFERENCES units(id),
    due_on TEXT,
    answer TEXT NOT NULL DEFAULT '',
    answered_by TEXT REFERENCES users(id),
    answered_at BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    version BIGINT NOT NULL DEFAULT 1
);
CREATE INDEX suggestions_community ON suggestions(community_id, created_at);
CREATE INDEX suggestions_unit ON suggestions(unit_id, state);

-- A unit's yearly application for the 文明单位 title against the eight criteria.
CREATE TABLE civilized_applications (
    id TEXT PRIMARY KEY,
    year BIGINT NOT NULL,
    unit_id TEXT NOT NULL REFERENCES units(id),
    state TEXT NOT NULL,
    statements TEXT NOT NULL,
    scores TEXT NOT NULL DEFAULT '',
    total DOUBLE PRECISION,
    record TEXT NOT NULL DEFAULT '',
    note TEXT NOT NULL DEFAULT '',
    submitted_at BIGINT NOT NULL,
    reviewed_by TEXT REFERENCES users(id),
    reviewed_at BIGINT,
    named_at BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    version BIGINT NOT NULL DEFAULT 1
);
CREATE UNIQUE INDEX civilized_applications_year ON civilized_applications(year, unit_id);

CREATE TABLE civilized_files (
    id TEXT PRIMARY KEY,
    application_id TEXT NOT NULL REFERENCES civilized_applications(id),
    filename TEXT NOT NULL,
    kind TEXT NOT NULL,
    size BIGINT NOT NULL,
    storage_key TEXT NOT NULL,
    uploaded_at BIGINT NOT NULL
);
CREATE INDEX civilized_files_application ON civilized_files(application_id);
