-- Daily sequence numbers for codes (problem Q202611220001, notices later): one row per scope.
CREATE TABLE code_sequences (
    scope TEXT PRIMARY KEY,
    n INTEGER NOT NULL
);

-- Chinese keyword search: search_text holds the problem's words as space-separated tokens (CJK
-- bigrams and lower-cased Latin words, built by the application); FTS5 indexes it by rowid.
-- (A manual VACUUM may renumber rowids: run INSERT INTO problems_fts(problems_fts) VALUES('rebuild') after one.)
ALTER TABLE problems ADD COLUMN search_text TEXT NOT NULL DEFAULT '';
CREATE VIRTUAL TABLE problems_fts USING fts5(search_text, content='problems', content_rowid='rowid');
-- New problems are indexed in batches by a background job (an FTS5 insert per filing would halve
-- the intake rate); rows above the watermark are not indexed yet, and searches scan them directly.
CREATE TABLE search_watermark (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    indexed_rowid INTEGER NOT NULL
);
INSERT INTO search_watermark (id, indexed_rowid) VALUES (1, 0);
CREATE TRIGGER problems_fts_update AFTER UPDATE OF search_text ON problems
WHEN old.rowid <= (SELECT indexed_rowid FROM search_watermark WHERE id = 1) BEGIN
    INSERT INTO problems_fts(problems_fts, rowid, search_text) VALUES ('delete', old.rowid, old.search_text);
    INSERT INTO problems_fts(rowid, search_text) VALUES (new.rowid, new.search_text);
END;
CREATE TRIGGER problems_fts_delete AFTER DELETE ON problems
WHEN old.rowid <= (SELECT indexed_rowid FROM search_watermark WHERE id = 1) BEGIN
    INSERT INTO problems_fts(problems_fts, rowid, search_text) VALUES ('delete', old.rowid, old.search_text);
END;

-- The ledger's "most urgent first" order.
CREATE INDEX problems_deadline ON problems(COALESCE(deadline_at, 0));
