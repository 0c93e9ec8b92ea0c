-- A kept week that crosses the first of a month also keeps the part before that day, so a month,
-- quarter or year that starts inside the week reads both parts kept (the part after is the whole
-- less the part before) instead of computing the week again on every reading. The year-end
-- assessment read five weeks live each time at ten million problems (the year's first week, the
-- three that cross a quarter, and the current one). `split_at` is that first of the month,
-- `sums_before` the sums of the entries before it, in the form of `sums`.
ALTER TABLE score_weeks ADD COLUMN split_at INTEGER;
ALTER TABLE score_weeks ADD COLUMN sums_before TEXT;
