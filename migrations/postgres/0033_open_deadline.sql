-- Open problems most urgent first (the 超期 quick filter, the office's overdue queue): only the
-- open ones by their deadline. The deadline index alone walks every settled problem of past
-- years before the first open one (5 s at 10 million).
CREATE INDEX problems_open_deadline ON problems (COALESCE(deadline_at, 0))
    WHERE state IN ('dispatched', 'acknowledged', 'submitted');
