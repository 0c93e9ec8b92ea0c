-- A filing's first step on PostgreSQL in one round trip instead of two, in the order a change
-- of the point takes its locks (see `store::hold_point`): the point's row held (shared) and read,
-- then the next number of the day. Filings of one instance share a group transaction, one
-- statement after another on one connection, so every round trip saved is the group's.
CREATE FUNCTION filing_start(p_point TEXT, p_scope TEXT,
                             OUT point_name TEXT, OUT point_community TEXT, OUT n BIGINT)
LANGUAGE plpgsql AS $$
BEGIN
    SELECT p.name, p.community_id INTO point_name, point_community
      FROM points p WHERE p.id = p_point FOR SHARE;
    INSERT INTO code_sequences AS s (scope, n) VALUES (p_scope, 1)
        ON CONFLICT (scope) DO UPDATE SET n = s.n + 1
        RETURNING s.n INTO n;
END
$$;
