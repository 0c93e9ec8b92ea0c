-- Evidence read from each photo: perceptual hash, EXIF time and position, and the flags raised
-- at submission (shown to the supervisor at the re-check).
ALTER TABLE photos ADD COLUMN phash TEXT NOT NULL DEFAULT '';
ALTER TABLE photos ADD COLUMN taken_at BIGINT;
ALTER TABLE photos ADD COLUMN lat DOUBLE PRECISION;
ALTER TABLE photos ADD COLUMN lng DOUBLE PRECISION;
ALTER TABLE photos ADD COLUMN flags TEXT NOT NULL DEFAULT '[]';
