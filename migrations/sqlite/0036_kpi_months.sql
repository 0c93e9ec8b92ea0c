-- Kept KPI months: a calendar month (span = its number of days, 28 to 31, starting on its first
-- day) kept as the sum of its kept days. The triggers of 0035 do not know months: a month holds
-- only while each of its days is still kept from the very fill it summed, which `parts` records
-- (the days' claim tokens, in order; a change deletes a day's row and a rebuild claims it with
-- a new token).
ALTER TABLE kpi_days ADD COLUMN parts TEXT;
