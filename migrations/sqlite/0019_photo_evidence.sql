-- Evidence checks: each photo's four perceptual hashes ("h1:h2:h3:h4", see media::evidence),
-- searched across the whole platform for re-used pictures.
ALTER TABLE photos ADD COLUMN signature TEXT NOT NULL DEFAULT '';
CREATE INDEX photos_uploaded ON photos(uploaded_at, id);
