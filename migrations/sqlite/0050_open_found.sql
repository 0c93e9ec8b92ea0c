-- The open problems by the day they were found, with their place, state and deadline: the
-- dashboard counts a period's problems per point from its past days kept in memory and today's
-- read now, and marks each point's open and overdue ones through this index alone (a month of
-- ten million problems held 270,000 to walk for those marks; its open ones are the part that
-- changes).
CREATE INDEX problems_open_found ON problems (found_at, point_id, state, deadline_at)
    WHERE state IN ('reported', 'dispatched', 'acknowledged', 'submitted', 'postponed');
