-- Notifications: an in-app inbox per user, group-chat robots per unit, and the delivery outbox
-- (claimed row by row, so several instances never send the same message twice).
CREATE TABLE notifications (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users(id),
    problem_id TEXT REFERENCES problems(id),
    kind TEXT NOT NULL,
    title TEXT NOT NULL,
    body TEXT NOT NULL,
    link TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    read_at BIGINT
);
CREATE INDEX notifications_user ON notifications(user_id, created_at);

CREATE TABLE webhooks (
    id TEXT PRIMARY KEY,
    unit_id TEXT NOT NULL REFERENCES units(id),
    kind TEXT NOT NULL,
    url TEXT NOT NULL,
    active BIGINT NOT NULL DEFAULT 1,
    created_at BIGINT NOT NULL
);
CREATE INDEX webhooks_unit ON webhooks(unit_id);

CREATE TABLE outbox (
    id TEXT PRIMARY KEY,
    webhook_id TEXT NOT NULL REFERENCES webhooks(id),
    problem_id TEXT NOT NULL REFERENCES problems(id),
    event TEXT NOT NULL,
    payload TEXT NOT NULL,
    status TEXT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    claimed_until BIGINT,
    last_error TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL,
    sent_at BIGINT
);
CREATE UNIQUE INDEX outbox_once ON outbox(webhook_id, problem_id, event);
CREATE INDEX outbox_due ON outbox(status, next_attempt_at);

-- Which reminders and overdue alerts a problem has had (each once).
CREATE TABLE problem_alerts (
    problem_id TEXT NOT NULL REFERENCES problems(id),
    event TEXT NOT NULL,
    at BIGINT NOT NULL,
    PRIMARY KEY (problem_id, event)
);
