-- Moves whenever a problem closed before today (Beijing, by the database's clock) is added,
-- removed, or changes its state, its closing time, or where, whose or what it is: the
-- dashboard's closures per day of the days before today (this period's and the previous
-- one's) are kept in memory by each instance while this number holds. Closing a problem today,
-- and everything else done with today's closures, never moves it. Moved once per transaction,
-- at its commit (as the found problems' revision, 0046).
INSERT INTO revisions (name, n) VALUES ('problems_closed', 1);
CREATE FUNCTION problems_closed_revision() RETURNS trigger AS $$
BEGIN
    IF current_setting('chuangcheng.problems_closed_revised', true) IS DISTINCT FROM '1' THEN
        PERFORM set_config('chuangcheng.problems_closed_revised', '1', true);
        UPDATE revisions SET n = n + 1 WHERE name = 'problems_closed';
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
CREATE FUNCTION problems_today_start() RETURNS bigint AS $$
    SELECT ((floor(extract(epoch FROM now()) * 1000)::bigint + 28800000) / 86400000) * 86400000 - 28800000
$$ LANGUAGE sql STABLE;
CREATE CONSTRAINT TRIGGER problems_closed_revision_insert AFTER INSERT ON problems
DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
WHEN (NEW.closed_at < problems_today_start())
EXECUTE FUNCTION problems_closed_revision();
CREATE CONSTRAINT TRIGGER problems_closed_revision_update
AFTER UPDATE OF state, closed_at, community_id, unit_id, point_id, category, source
ON problems DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
WHEN ((OLD.closed_at < problems_today_start() OR NEW.closed_at < problems_today_start())
    AND (OLD.state IS DISTINCT FROM NEW.state OR OLD.closed_at IS DISTINCT FROM NEW.closed_at
    OR OLD.community_id IS DISTINCT FROM NEW.community_id OR OLD.unit_id IS DISTINCT FROM NEW.unit_id
    OR OLD.point_id IS DISTINCT FROM NEW.point_id OR OLD.category IS DISTINCT FROM NEW.category
    OR OLD.source IS DISTINCT FROM NEW.source))
EXECUTE FUNCTION problems_closed_revision();
CREATE CONSTRAINT TRIGGER problems_closed_revision_delete AFTER DELETE ON problems
DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
WHEN (OLD.closed_at < problems_today_start())
EXECUTE FUNCTION problems_closed_revision();
