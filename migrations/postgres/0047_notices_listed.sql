-- SQLite only (an index holding what the notice list reads, so that a count does not walk each
-- notice's 1 MB of figures). PostgreSQL keeps large values out of line (TOAST): a row's other
-- columns are read without them.
SELECT 1;
