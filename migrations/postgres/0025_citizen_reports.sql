-- Citizens' reports (随手拍, and Open311 GeoReport v2 clients): what a resident sent, kept apart
-- from the problem ledger until the office or the grid worker verifies it (nothing is charged to
-- a unit before). The name, phone and e-mail are private: no public page or feed shows them.
CREATE TABLE reports (
    id TEXT PRIMARY KEY,
    code TEXT NOT NULL UNIQUE,
    token_hash TEXT NOT NULL UNIQUE,
    channel TEXT NOT NULL,
    api_key_id TEXT,
    service_code TEXT NOT NULL,
    category TEXT NOT NULL,
    description TEXT NOT NULL,
    address TEXT NOT NULL DEFAULT '',
    lng DOUBLE PRECISION NOT NULL,
    lat DOUBLE PRECISION NOT NULL,
    community_id TEXT REFERENCES org_nodes(id),
    grid_id TEXT REFERENCES grids(id),
    point_id TEXT REFERENCES points(id),
    reporter_name TEXT NOT NULL DEFAULT '',
    reporter_phone TEXT NOT NULL DEFAULT '',
    reporter_email TEXT NOT NULL DEFAULT '',
    client TEXT NOT NULL,
    state TEXT NOT NULL,
    public_note TEXT NOT NULL DEFAULT '',
    problem_id TEXT REFERENCES problems(id),
    supporters BIGINT NOT NULL DEFAULT 0,
    triaged_by TEXT REFERENCES users(id),
    triaged_at BIGINT,
    asked_at BIGINT,
    feedback_at BIGINT,
    fixed BIGINT,
    satisfaction BIGINT,
    feedback_note TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    version BIGINT NOT NULL DEFAULT 1
);
CREATE INDEX reports_state_created ON reports(state, created_at);
CREATE INDEX reports_created ON reports(created_at);
CREATE INDEX reports_community ON reports(community_id, created_at);
CREATE INDEX reports_problem ON reports(problem_id);
CREATE INDEX reports_lat ON reports(lat, lng);
CREATE INDEX reports_client ON reports(client, created_at);
CREATE INDEX reports_feedback ON reports(feedback_at);

-- "我也遇到": one support per client and report.
CREATE TABLE report_supporters (
    report_id TEXT NOT NULL REFERENCES reports(id),
    client TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (report_id, client)
);

-- Keys of Open311 clients (civic apps), issued and revoked by the office; only a hash is kept.
CREATE TABLE open311_keys (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    prefix TEXT NOT NULL,
    key_hash TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL,
    created_by TEXT,
    revoked_at BIGINT,
    last_used_at BIGINT,
    requests BIGINT NOT NULL DEFAULT 0
);

-- Text messages to reporters ("解决了吗？满意吗？"), sent by the jobs through the configured gateway.
CREATE TABLE sms_outbox (
    id TEXT PRIMARY KEY,
    phone TEXT NOT NULL,
    body TEXT NOT NULL,
    report_id TEXT REFERENCES reports(id),
    state TEXT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    next_at BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    sent_at BIGINT,
    error TEXT NOT NULL DEFAULT ''
);
CREATE INDEX sms_outbox_due ON sms_outbox(state, next_at);
