-- A point's, a unit's or an area's edit forgets kept score weeks only when it changes whom
-- facts count for, and only for the classes that read it. Before, any edit that wrote these
-- columns (every point or unit form does, changed or not: a new lead phone number, a unit's
-- address) forgot every kept week of every class, and the next ranking or year-end assessment
-- was computed from the records (seconds at ten million problems).
DROP TRIGGER score_weeks_point_update;
DROP TRIGGER score_weeks_unit_update;
DROP TRIGGER score_weeks_node_update;

-- Areas are scored by the point's community (and its street), whatever the problem's unit.
CREATE TRIGGER score_weeks_point_community AFTER UPDATE OF community_id ON points
WHEN NEW.community_id IS NOT OLD.community_id BEGIN
    DELETE FROM score_weeks WHERE class IN ('community', 'street');
END;
-- Units are scored by the problem's own unit; only the point's clean inspections
-- (检查无问题) count for the point's unit of the moment: the weeks holding one go.
CREATE TRIGGER score_weeks_point_unit AFTER UPDATE OF unit_id ON points
WHEN NEW.unit_id IS NOT OLD.unit_id BEGIN
    DELETE FROM score_weeks WHERE class IN ('unit', 'window') AND EXISTS (
        SELECT 1 FROM point_inspections i
        WHERE i.point_id = NEW.id AND i.at >= score_weeks.week_from AND i.at < score_weeks.week_to);
END;
-- A unit's kind decides whether it is ranked as a responsible unit or as a window.
CREATE TRIGGER score_weeks_unit_kind AFTER UPDATE OF kind ON units
WHEN NEW.kind IS NOT OLD.kind BEGIN
    DELETE FROM score_weeks WHERE class IN ('unit', 'window');
END;
-- A community's street.
CREATE TRIGGER score_weeks_node_parent AFTER UPDATE OF parent_id ON org_nodes
WHEN NEW.parent_id IS NOT OLD.parent_id BEGIN
    DELETE FROM score_weeks WHERE class = 'street';
END;
