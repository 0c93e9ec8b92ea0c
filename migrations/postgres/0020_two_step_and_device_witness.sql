-- Two-step sign-in (TOTP, RFC 6238): the authenticator's secret (base32, empty = off) and the
-- last time step accepted, so a code is good once.
ALTER TABLE users ADD COLUMN totp_secret TEXT NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN totp_step BIGINT NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN totp_enabled_at BIGINT;

-- One-time recovery codes for a lost phone, stored as SHA-256.
CREATE TABLE recovery_codes (
    user_id TEXT NOT NULL REFERENCES users(id),
    code_hash TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    used_at BIGINT,
    PRIMARY KEY (user_id, code_hash)
);

-- A password accepted, the second step not yet: "verify" an enrolled authenticator or
-- "enroll" a new one (the secret waits here until its first code is right).
CREATE TABLE login_challenges (
    id_hash TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users(id),
    purpose TEXT NOT NULL,
    secret TEXT NOT NULL DEFAULT '',
    ip TEXT NOT NULL DEFAULT '',
    failures BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX login_challenges_expires ON login_challenges(expires_at);

-- The second witness of a photo: where the uploading device was (browser geolocation, WGS-84)
-- and what its clock said when the form was sent. uploaded_at is the server's receipt time.
ALTER TABLE photos ADD COLUMN device_lat DOUBLE PRECISION;
ALTER TABLE photos ADD COLUMN device_lng DOUBLE PRECISION;
ALTER TABLE photos ADD COLUMN device_accuracy DOUBLE PRECISION;
ALTER TABLE photos ADD COLUMN device_clock BIGINT;
