-- Whether a point was inspected today (the round's 晨扫描 and the supervisor's start page) asks
-- for a problem found at the point since midnight: by point and time, not every problem the
-- point ever had (tens of thousands over the years).
DROP INDEX problems_point;
CREATE INDEX problems_point_found ON problems(point_id, found_at);
