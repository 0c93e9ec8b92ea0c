-- A published notice is never changed: a mistake is put right by a numbered correction (更正),
-- a notice of its own that points at the one it corrects. Corrections share their original's
-- period, so "one notice per period" holds for originals only.
ALTER TABLE notices ADD COLUMN corrects_id TEXT REFERENCES notices(id);
DROP INDEX notices_one_per_period;
CREATE UNIQUE INDEX notices_one_per_period ON notices(kind, class, period_start) WHERE corrects_id IS NULL;
CREATE INDEX notices_corrects ON notices(corrects_id) WHERE corrects_id IS NOT NULL;
