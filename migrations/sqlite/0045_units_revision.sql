-- Every change to the units moves this number (as 0041 does for the points), so that an
-- instance keeping the units' names in memory knows with one cheap read whether its copy still
-- holds. A weekly notice read the 10,000 names twice (its ranking and its interview list), a
-- ranking once: 7 to 12 ms each on PostgreSQL.
INSERT INTO revisions (name, n) VALUES ('units', 1);
CREATE TRIGGER units_revision_insert AFTER INSERT ON units BEGIN
    UPDATE revisions SET n = n + 1 WHERE name = 'units';
END;
CREATE TRIGGER units_revision_update AFTER UPDATE ON units BEGIN
    UPDATE revisions SET n = n + 1 WHERE name = 'units';
END;
CREATE TRIGGER units_revision_delete AFTER DELETE ON units BEGIN
    UPDATE revisions SET n = n + 1 WHERE name = 'units';
END;
