-- The dashboard keeps how many problems were found at each point on days before today, and reads
-- which of them are open or overdue now from the open ones only: by the day they were found.
-- A month's end read all of the month's 270,000 problems per point at ten million.
CREATE INDEX problems_open_found ON problems (found_at, state, deadline_at, point_id)
    WHERE state IN ('reported', 'dispatched', 'acknowledged', 'submitted', 'postponed');
