-- A filing or an action sent with the client's own reference (an offline draft replayed when the
-- signal returns, or an API client retrying): the same reference from the same account is done
-- once; a repeat answers with the problem as it already is.
CREATE TABLE client_refs (
    user_id TEXT NOT NULL,
    client_ref TEXT NOT NULL,
    problem_id TEXT NOT NULL REFERENCES problems(id),
    at BIGINT NOT NULL,
    PRIMARY KEY (user_id, client_ref)
);
