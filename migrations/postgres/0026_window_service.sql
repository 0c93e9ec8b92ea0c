-- Window service (文明服务窗口, 好差评 after GB/T 39734/39735): the windows of window units and
-- their staff, rating devices (评价器), the public's ratings with per-window monthly tallies (the
-- figures read these, not millions of rows), monthly served counts (办件量, for the rating
-- rate), and the bad-rating cases (差评工单): callback, verification, a fix at once or on the
-- ledger, the reply, the rater's rating of the fix, and appeals.

-- 行业: 银行, 政务, 通信, 供电, … (the figures are given per sector).
ALTER TABLE units ADD COLUMN sector TEXT;

CREATE TABLE window_staff (
    id TEXT PRIMARY KEY,
    unit_id TEXT NOT NULL REFERENCES units(id),
    name TEXT NOT NULL,
    badge TEXT NOT NULL,
    post TEXT NOT NULL DEFAULT '',
    active BIGINT NOT NULL DEFAULT 1,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    version BIGINT NOT NULL DEFAULT 1
);
CREATE UNIQUE INDEX window_staff_badge ON window_staff(unit_id, badge);

CREATE TABLE windows (
    id TEXT PRIMARY KEY,
    unit_id TEXT NOT NULL REFERENCES units(id),
    point_id TEXT REFERENCES points(id),
    number TEXT NOT NULL,
    service TEXT NOT NULL,
    -- The public code in the window's QR link (/rate/{code}).
    code TEXT NOT NULL UNIQUE,
    -- Who is on duty now (ratings remember who served).
    staff_id TEXT REFERENCES window_staff(id),
    active BIGINT NOT NULL DEFAULT 1,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    version BIGINT NOT NULL DEFAULT 1
);
CREATE UNIQUE INDEX windows_unit_number ON windows(unit_id, number);

-- Rating devices (评价器) and queue systems that send ratings in batches; only a key hash is kept.
CREATE TABLE rating_devices (
    id TEXT PRIMARY KEY,
    unit_id TEXT NOT NULL REFERENCES units(id),
    name TEXT NOT NULL,
    prefix TEXT NOT NULL,
    key_hash TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL,
    created_by TEXT,
    revoked_at BIGINT,
    last_used_at BIGINT
);

CREATE TABLE ratings (
    id TEXT PRIMARY KEY,
    window_id TEXT NOT NULL REFERENCES windows(id),
    unit_id TEXT NOT NULL REFERENCES units(id),
    staff_id TEXT REFERENCES window_staff(id),
    -- 5 非常满意 … 1 非常不满意
    level BIGINT NOT NULL,
    tags TEXT NOT NULL DEFAULT '',
    comment TEXT NOT NULL DEFAULT '',
    -- Private: the callback's number, never shown on a public page.
    phone TEXT NOT NULL DEFAULT '',
    channel TEXT NOT NULL,
    device_id TEXT REFERENCES rating_devices(id),
    -- One rating per visit: the visit token, the device's own sequence number, or the device
    -- cookie and day; a second rating with the same key is refused (or, from a device, ignored).
    once_key TEXT NOT NULL UNIQUE,
    -- Local month, e.g. 202612.
    month BIGINT NOT NULL,
    rated_at BIGINT NOT NULL,
    -- An appeal upheld: kept on record, left out of every figure.
    excluded BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX ratings_window_rated ON ratings(window_id, rated_at);
CREATE INDEX ratings_unit_month ON ratings(unit_id, month, level);

-- Counted ratings per month, window, staff member ('' for none) and level, kept in the rating's
-- own transaction (and lowered when an appeal is upheld).
CREATE TABLE rating_tallies (
    month BIGINT NOT NULL,
    window_id TEXT NOT NULL REFERENCES windows(id),
    staff_id TEXT NOT NULL,
    level BIGINT NOT NULL,
    n BIGINT NOT NULL,
    PRIMARY KEY (month, window_id, staff_id, level)
);

-- Services handled (办件量) per window and month: the base of the rating rate.
CREATE TABLE window_volumes (
    window_id TEXT NOT NULL REFERENCES windows(id),
    month BIGINT NOT NULL,
    served BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (window_id, month)
);

CREATE TABLE rating_cases (
    id TEXT PRIMARY KEY,
    code TEXT NOT NULL UNIQUE,
    rating_id TEXT NOT NULL UNIQUE REFERENCES ratings(id),
    -- The rater's private link to the case's progress and reply.
    token_hash TEXT UNIQUE,
    unit_id TEXT NOT NULL REFERENCES units(id),
    window_id TEXT NOT NULL REFERENCES windows(id),
    staff_id TEXT REFERENCES window_staff(id),
    level BIGINT NOT NULL,
    state TEXT NOT NULL,
    callback_due BIGINT NOT NULL,
    callback_result TEXT,
    callback_note TEXT NOT NULL DEFAULT '',
    called_at BIGINT,
    called_by TEXT REFERENCES users(id),
    finding TEXT NOT NULL DEFAULT '',
    verified_at BIGINT,
    problem_id TEXT REFERENCES problems(id),
    fix_due BIGINT,
    reply TEXT NOT NULL DEFAULT '',
    replied_at BIGINT,
    -- The reply in time: before the fix deadline (or at once).
    on_time BIGINT,
    appeal_reason TEXT NOT NULL DEFAULT '',
    appealed_at BIGINT,
    decision_note TEXT NOT NULL DEFAULT '',
    decided_by TEXT REFERENCES users(id),
    decided_at BIGINT,
    fix_level BIGINT,
    fix_rated_at BIGINT,
    month BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    version BIGINT NOT NULL DEFAULT 1
);
CREATE INDEX rating_cases_unit_state ON rating_cases(unit_id, state, created_at);
CREATE INDEX rating_cases_state_due ON rating_cases(state, callback_due);
CREATE INDEX rating_cases_problem ON rating_cases(problem_id);
CREATE INDEX rating_cases_month ON rating_cases(month, unit_id);
