-- Each problem carries its point's community, so that a street's or a community's problems are
-- found by their own index instead of through their points: a street holding every point read
-- the city's 135,000 overdue problems and looked up each one's point (1.1 s for the street's
-- dashboard at ten million). It follows the point: moving a point to another community moves
-- its problems with it (the trigger below), as the area filters have always read the point's.
ALTER TABLE problems ADD COLUMN community_id TEXT REFERENCES org_nodes(id);
UPDATE problems q SET community_id = p.community_id FROM points p WHERE p.id = q.point_id AND p.community_id IS NOT NULL;
-- A period's problems in an area (the dashboard, the ledger of a community by time), with the
-- columns the dashboard reads per point and per category, as problems_found_source carries them
-- for the city (a street's week per point at 3.3 million: 0.20 s fetching each row, 0.06 s read
-- from the index).
CREATE INDEX problems_area_found ON problems (community_id, found_at, point_id, category, state, deadline_at);
-- An area's open queues: overdue, to re-check. Only the open problems, as problems_open_deadline.
CREATE INDEX problems_area_open ON problems (community_id, state, deadline_at)
    WHERE state IN ('dispatched', 'acknowledged', 'submitted');
CREATE FUNCTION problems_follow_point() RETURNS trigger AS $$
BEGIN
    UPDATE problems SET community_id = NEW.community_id WHERE point_id = NEW.id;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER problems_follow_point AFTER UPDATE OF community_id ON points
FOR EACH ROW WHEN (NEW.community_id IS DISTINCT FROM OLD.community_id)
EXECUTE FUNCTION problems_follow_point();
