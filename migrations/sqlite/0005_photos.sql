-- Photos (of points now; of problems later). Files live in the storage; rows describe them.
CREATE TABLE photos (
    id TEXT PRIMARY KEY,
    owner_type TEXT NOT NULL,
    owner_id TEXT NOT NULL,
    content_type TEXT NOT NULL,
    width INTEGER NOT NULL,
    height INTEGER NOT NULL,
    size INTEGER NOT NULL,
    sha256 TEXT NOT NULL,
    original_key TEXT NOT NULL,
    thumb_key TEXT NOT NULL,
    uploaded_by TEXT,
    uploaded_at INTEGER NOT NULL
);
CREATE INDEX photos_owner ON photos(owner_type, owner_id);
CREATE INDEX photos_sha ON photos(sha256);
