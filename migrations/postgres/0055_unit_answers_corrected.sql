-- A unit's answer to a thematic survey may be corrected while the survey is open: when, by
-- whom, and a version so that two people of the unit cannot overwrite each other unseen.
ALTER TABLE survey_responses ADD COLUMN updated_at BIGINT;
ALTER TABLE survey_responses ADD COLUMN updated_by TEXT REFERENCES users(id);
ALTER TABLE survey_responses ADD COLUMN version BIGINT NOT NULL DEFAULT 1;
