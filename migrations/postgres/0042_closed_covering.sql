-- A period's closed problems (the dashboard's 已结案 card and its days, the KPI page's closures)
-- counted from the index alone: the state is checked there instead of on each row. An area's
-- are read by its own index: a street's week read the city's 25,000 closures and looked up
-- each one's row for its community (42 ms of its dashboard at the weekly pace of ten million
-- problems). Only closed problems enter the area's index, so that filing does not pay for it.
DROP INDEX problems_closed;
CREATE INDEX problems_closed ON problems (closed_at, state);
CREATE INDEX problems_area_closed ON problems (community_id, closed_at, state) WHERE closed_at IS NOT NULL;
