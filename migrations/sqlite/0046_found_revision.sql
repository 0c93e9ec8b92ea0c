-- Moves whenever a problem found before today (Beijing, by the database's clock) is added,
-- removed, or changes where, when, whose or what it is: the figures of a closed period (the
-- dashboard's previous week or month per category) are kept in memory by each instance while
-- this number holds. Filing today's problems and moving them through their states never moves
-- it. The previous month's categories walked 270,000 problems at ten million (80 to 100 ms).
INSERT INTO revisions (name, n) VALUES ('problems_found', 1);
CREATE TRIGGER problems_found_revision_insert AFTER INSERT ON problems
WHEN NEW.found_at < ((CAST(strftime('%s', 'now') AS INTEGER) * 1000 + 28800000) / 86400000) * 86400000 - 28800000
BEGIN
    UPDATE revisions SET n = n + 1 WHERE name = 'problems_found';
END;
CREATE TRIGGER problems_found_revision_update AFTER UPDATE OF found_at, category, community_id, unit_id, point_id ON problems
WHEN OLD.found_at IS NOT NEW.found_at OR OLD.category IS NOT NEW.category OR OLD.community_id IS NOT NEW.community_id
    OR OLD.unit_id IS NOT NEW.unit_id OR OLD.point_id IS NOT NEW.point_id
BEGIN
    UPDATE revisions SET n = n + 1 WHERE name = 'problems_found';
END;
CREATE TRIGGER problems_found_revision_delete AFTER DELETE ON problems BEGIN
    UPDATE revisions SET n = n + 1 WHERE name = 'problems_found';
END;
