-- The dashboard counts closures per day.
CREATE INDEX IF NOT EXISTS problems_closed ON problems(closed_at);

-- A transfer request the office has not decided yet (like extension_pending): the office's
-- queue reads it and the office can refuse it (驳回转办) as well as carry it out.
ALTER TABLE problems ADD COLUMN transfer_pending INTEGER NOT NULL DEFAULT 0;
UPDATE problems SET transfer_pending = 1
 WHERE state IN ('dispatched', 'acknowledged')
   AND EXISTS (SELECT 1 FROM problem_events e WHERE e.problem_id = problems.id AND e.action = 'request_transfer'
   AND NOT EXISTS (SELECT 1 FROM problem_events d WHERE d.problem_id = problems.id
   AND d.action IN ('transfer', 'refuse_transfer', 'void', 'postpone') AND d.at >= e.at));

-- The office's queue of requests (延期/转办申请) is read without walking every open problem.
CREATE INDEX problems_requests ON problems(state) WHERE extension_pending = 1 OR transfer_pending = 1;
