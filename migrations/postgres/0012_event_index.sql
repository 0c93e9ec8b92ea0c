-- Failed re-checks (返工) by time, for the score ledger.
CREATE INDEX IF NOT EXISTS problem_events_action_at ON problem_events(action, at);
