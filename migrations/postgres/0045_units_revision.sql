-- Every change to the units moves this number (as 0041 does for the points), so that an
-- instance keeping the units' names in memory knows with one cheap read whether its copy still
-- holds. A weekly notice read the 10,000 names twice (its ranking and its interview list), a
-- ranking once: 7 to 12 ms each on PostgreSQL. Moved once per transaction, at its commit.
INSERT INTO revisions (name, n) VALUES ('units', 1);
CREATE FUNCTION units_revision() RETURNS trigger AS $$
BEGIN
    IF current_setting('chuangcheng.units_revised', true) IS DISTINCT FROM '1' THEN
        PERFORM set_config('chuangcheng.units_revised', '1', true);
        UPDATE revisions SET n = n + 1 WHERE name = 'units';
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
CREATE CONSTRAINT TRIGGER units_revision AFTER INSERT OR UPDATE OR DELETE ON units
DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION units_revision();
