-- 十佳 selections (十佳大堂经理, 十佳文明服务标兵): units nominate their window staff, the office
-- shortlists, staff and the public vote (one vote per person and day: an account, or a mobile
-- number confirmed by a text-message code), the office publishes the result and each winner's
-- unit is commended in the 千分制.
CREATE TABLE selections (
    id TEXT PRIMARY KEY,
    title TEXT NOT NULL,
    kind TEXT NOT NULL,
    winners BIGINT NOT NULL,
    state TEXT NOT NULL,
    staff_weight DOUBLE PRECISION NOT NULL,
    public_weight DOUBLE PRECISION NOT NULL,
    created_by TEXT REFERENCES users(id),
    published_at BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    version BIGINT NOT NULL DEFAULT 1
);

CREATE TABLE nominations (
    id TEXT PRIMARY KEY,
    selection_id TEXT NOT NULL REFERENCES selections(id),
    unit_id TEXT NOT NULL REFERENCES units(id),
    staff_id TEXT NOT NULL REFERENCES window_staff(id),
    deeds TEXT NOT NULL,
    state TEXT NOT NULL,
    staff_votes BIGINT NOT NULL DEFAULT 0,
    public_votes BIGINT NOT NULL DEFAULT 0,
    place BIGINT,
    created_by TEXT REFERENCES users(id),
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    version BIGINT NOT NULL DEFAULT 1
);
CREATE UNIQUE INDEX nominations_staff ON nominations(selection_id, staff_id);

-- One vote per voter (an account, or a confirmed phone's hash) per selection and day.
CREATE TABLE selection_votes (
    selection_id TEXT NOT NULL REFERENCES selections(id),
    voter_key TEXT NOT NULL,
    day TEXT NOT NULL,
    nomination_id TEXT NOT NULL REFERENCES nominations(id),
    kind TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (selection_id, voter_key, day)
);

-- Text-message codes confirming a public voter's phone (hashes only).
CREATE TABLE vote_codes (
    phone_hash TEXT PRIMARY KEY,
    code_hash TEXT NOT NULL,
    expires_at BIGINT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    sent_at BIGINT NOT NULL
);
