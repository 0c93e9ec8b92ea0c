-- Daily sequence numbers for codes (problem Q202611220001, notices later): one row per scope.
CREATE TABLE code_sequences (
    scope TEXT PRIMARY KEY,
    n BIGINT NOT NULL
);

-- Chinese keyword search: search_text holds the problem's words as space-separated tokens (CJK
-- bigrams and lower-cased Latin words, built by the application). A GIN index over the token
-- array answers "contains all of these tokens" without depending on the database's locale.
ALTER TABLE problems ADD COLUMN search_text TEXT NOT NULL DEFAULT '';
CREATE INDEX problems_search ON problems USING GIN (string_to_array(search_text, ' '));

-- The ledger's "most urgent first" order.
CREATE INDEX problems_deadline ON problems(COALESCE(deadline_at, 0));
