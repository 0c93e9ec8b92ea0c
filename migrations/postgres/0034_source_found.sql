-- A month's review of one source (网格巡查 last month, oldest first). The time index now also
-- holds each problem's source, so the month's problems of other sources are passed over in the
-- index instead of being read from the table (about 40,000 rows to reach the list's count cap at
-- ten million). It replaces the time index it extends: every plan that read that one reads the
-- same order here. A separate (source, found) index was tried and refused: SQLite's sampled
-- statistics take a source for a narrow condition and then walk all of one source's problems
-- to list a unit's (0.3 ms → 1.1 s).
CREATE INDEX problems_found_source ON problems (found_at, source);
DROP INDEX problems_found;
