-- Every change to the points (a new point, an edit, a removal) moves this number, so that an
-- instance keeping the points in memory knows with one cheap read whether its copy still holds,
-- whichever instance made the change. The dashboard reads where 60,000 points are for a city's
-- week: looking each one up took half of its per-point read.
CREATE TABLE revisions (
    name TEXT PRIMARY KEY,
    n BIGINT NOT NULL
);
INSERT INTO revisions (name, n) VALUES ('points', 1);
-- The number moves once per transaction, at its commit (a deferred trigger): the row's lock is
-- then the last one a transaction takes, so two transactions editing the same points cannot
-- deadlock on it, and a thousand-row import bumps it once.
CREATE FUNCTION points_revision() RETURNS trigger AS $$
BEGIN
    IF current_setting('chuangcheng.points_revised', true) IS DISTINCT FROM '1' THEN
        PERFORM set_config('chuangcheng.points_revised', '1', true);
        UPDATE revisions SET n = n + 1 WHERE name = 'points';
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
CREATE CONSTRAINT TRIGGER points_revision AFTER INSERT OR UPDATE OR DELETE ON points
DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION points_revision();
