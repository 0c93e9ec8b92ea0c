-- The batches a rating device sent with its own batch id, kept for a week: a batch sent again
-- (its answer lost on the way back) does not add its services handled (办件量) twice. Ratings
-- are kept once already by their device sequence numbers.
CREATE TABLE device_batches (
    device_id TEXT NOT NULL,
    batch_id TEXT NOT NULL,
    at BIGINT NOT NULL,
    PRIMARY KEY (device_id, batch_id)
);
