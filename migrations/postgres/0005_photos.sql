-- Photos (of points now; of problems later). Files live in the storage; rows describe them.
CREATE TABLE photos (
    id TEXT PRIMARY KEY,
    owner_type TEXT NOT NULL,
    owner_id TEXT NOT NULL,
    content_type TEXT NOT NULL,
    width BIGINT NOT NULL,
    height BIGINT NOT NULL,
    size BIGINT NOT NULL,
    sha256 TEXT NOT NULL,
    original_key TEXT NOT NULL,
    thumb_key TEXT NOT NULL,
    uploaded_by TEXT,
    uploaded_at BIGINT NOT NULL
);
CREATE INDEX photos_owner ON photos(owner_type, owner_id);
CREATE INDEX photos_sha ON photos(sha256);
