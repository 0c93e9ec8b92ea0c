-- Moves whenever a problem closed before today (Beijing, by the database's clock) is added,
-- removed, or changes its state, its closing time, or where, whose or what it is: the
-- dashboard's closures per day of the days before today (this period's and the previous
-- one's) are kept in memory by each instance while this number holds. Closing a problem today,
-- and everything else done with today's closures, never moves it. A month's closures per day
-- walked some 230,000 problems at ten million (40 to 50 ms), and its previous month's up to
-- the same moment as many again.
INSERT INTO revisions (name, n) VALUES ('problems_closed', 1);
CREATE TRIGGER problems_closed_revision_insert AFTER INSERT ON problems
WHEN NEW.closed_at < ((CAST(strftime('%s', 'now') AS INTEGER) * 1000 + 28800000) / 86400000) * 86400000 - 28800000
BEGIN
    UPDATE revisions SET n = n + 1 WHERE name = 'problems_closed';
END;
CREATE TRIGGER problems_closed_revision_update
AFTER UPDATE OF state, closed_at, community_id, unit_id, point_id, category, source ON problems
WHEN (OLD.closed_at < ((CAST(strftime('%s', 'now') AS INTEGER) * 1000 + 28800000) / 86400000) * 86400000 - 28800000
    OR NEW.closed_at < ((CAST(strftime('%s', 'now') AS INTEGER) * 1000 + 28800000) / 86400000) * 86400000 - 28800000)
    AND (OLD.state IS NOT NEW.state OR OLD.closed_at IS NOT NEW.closed_at OR OLD.community_id IS NOT NEW.community_id
    OR OLD.unit_id IS NOT NEW.unit_id OR OLD.point_id IS NOT NEW.point_id OR OLD.category IS NOT NEW.category
    OR OLD.source IS NOT NEW.source)
BEGIN
    UPDATE revisions SET n = n + 1 WHERE name = 'problems_closed';
END;
CREATE TRIGGER problems_closed_revision_delete AFTER DELETE ON problems
WHEN OLD.closed_at < ((CAST(strftime('%s', 'now') AS INTEGER) * 1000 + 28800000) / 86400000) * 86400000 - 28800000
BEGIN
    UPDATE revisions SET n = n + 1 WHERE name = 'problems_closed';
END;
