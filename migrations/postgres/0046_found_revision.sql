-- Moves whenever a problem found before today (Beijing, by the database's clock) is added,
-- removed, or changes where, when, whose or what it is: the figures of a closed period (the
-- dashboard's previous week or month per category) are kept in memory by each instance while
-- this number holds. Filing today's problems and moving them through their states never moves
-- it. Moved once per transaction, at its commit (as the points' revision, 0041).
INSERT INTO revisions (name, n) VALUES ('problems_found', 1);
CREATE FUNCTION problems_found_revision() RETURNS trigger AS $$
BEGIN
    IF current_setting('chuangcheng.problems_found_revised', true) IS DISTINCT FROM '1' THEN
        PERFORM set_config('chuangcheng.problems_found_revised', '1', true);
        UPDATE revisions SET n = n + 1 WHERE name = 'problems_found';
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
CREATE CONSTRAINT TRIGGER problems_found_revision_insert AFTER INSERT ON problems
DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
WHEN (NEW.found_at < ((floor(extract(epoch FROM now()) * 1000)::bigint + 28800000) / 86400000) * 86400000 - 28800000)
EXECUTE FUNCTION problems_found_revision();
CREATE CONSTRAINT TRIGGER problems_found_revision_update AFTER UPDATE OF found_at, category, community_id, unit_id, point_id
ON problems DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
WHEN (OLD.found_at IS DISTINCT FROM NEW.found_at OR OLD.category IS DISTINCT FROM NEW.category
    OR OLD.community_id IS DISTINCT FROM NEW.community_id OR OLD.unit_id IS DISTINCT FROM NEW.unit_id
    OR OLD.point_id IS DISTINCT FROM NEW.point_id)
EXECUTE FUNCTION problems_found_revision();
CREATE CONSTRAINT TRIGGER problems_found_revision_delete AFTER DELETE ON problems
DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION problems_found_revision();
