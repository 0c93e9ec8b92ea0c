-- PostgreSQL's migration 0053 adds a function for a filing's first step (its point held, then
-- the day's number, in one round trip). SQLite has no stored functions and needs none: its
-- single writer orders filings and hands out the day's numbers from memory.
SELECT 1;
