-- Points whose problems need to follow the point again (search tokens with its name, its
-- community): a problem filed with the point as read before a change that committed first. The
-- filing adds its point here in its own write (compared there); a background job rewrites the
-- point's problems and removes the row if no filing added it again meanwhile (`gen`).
CREATE TABLE point_followups (
    point_id TEXT PRIMARY KEY,
    gen BIGINT NOT NULL
);
