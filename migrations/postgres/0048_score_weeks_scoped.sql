-- A point's, a unit's or an area's edit forgets kept score weeks only when it changes whom
-- facts count for, and only for the classes that read it. Before, any edit that wrote these
-- columns (every point or unit form does, changed or not: a new lead phone number, a unit's
-- address) forgot every kept week of every class, and the next ranking or year-end assessment
-- was computed from the records (seconds at ten million problems).
DROP TRIGGER score_weeks_points ON points;
DROP TRIGGER score_weeks_units ON units;
DROP TRIGGER score_weeks_nodes ON org_nodes;
DROP FUNCTION score_weeks_all();

-- Areas are scored by the point's community (and its street), whatever the problem's unit;
-- units by the problem's own unit, and only the point's clean inspections (检查无问题) count
-- for the point's unit of the moment: the weeks holding one go.
CREATE FUNCTION score_weeks_point_moved() RETURNS trigger AS $$
BEGIN
    IF NEW.community_id IS DISTINCT FROM OLD.community_id THEN
        DELETE FROM score_weeks WHERE class IN ('community', 'street');
    END IF;
    IF NEW.unit_id IS DISTINCT FROM OLD.unit_id THEN
        DELETE FROM score_weeks w WHERE w.class IN ('unit', 'window') AND EXISTS (
            SELECT 1 FROM point_inspections i WHERE i.point_id = NEW.id AND i.at >= w.week_from AND i.at < w.week_to);
    END IF;
    RETURN NULL;
END $$ LANGUAGE plpgsql;
CREATE TRIGGER score_weeks_points AFTER UPDATE OF unit_id, community_id ON points
FOR EACH ROW WHEN (OLD.unit_id IS DISTINCT FROM NEW.unit_id OR OLD.community_id IS DISTINCT FROM NEW.community_id)
EXECUTE FUNCTION score_weeks_point_moved();

-- A unit's kind decides whether it is ranked as a responsible unit or as a window.
CREATE FUNCTION score_weeks_unit_kind() RETURNS trigger AS $$
BEGIN
    DELETE FROM score_weeks WHERE class IN ('unit', 'window');
    RETURN NULL;
END $$ LANGUAGE plpgsql;
CREATE TRIGGER score_weeks_units AFTER UPDATE OF kind ON units
FOR EACH ROW WHEN (OLD.kind IS DISTINCT FROM NEW.kind) EXECUTE FUNCTION score_weeks_unit_kind();

-- A community's street.
CREATE FUNCTION score_weeks_node_parent() RETURNS trigger AS $$
BEGIN
    DELETE FROM score_weeks WHERE class = 'street';
    RETURN NULL;
END $$ LANGUAGE plpgsql;
CREATE TRIGGER score_weeks_nodes AFTER UPDATE OF parent_id ON org_nodes
FOR EACH ROW WHEN (OLD.parent_id IS DISTINCT FROM NEW.parent_id) EXECUTE FUNCTION score_weeks_node_parent();
