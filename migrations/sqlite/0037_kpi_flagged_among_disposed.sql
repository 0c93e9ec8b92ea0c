-- 证据警告率 counts a fix with a warned after-photo only while the fix stands (submitted or
-- closed): a fix the re-check failed left its photo behind, and was counted in the numerator but
-- not in the denominator (rates above 100%). The kept KPI figures were summed the old way:
-- forget them; the readers and the background jobs keep them again.
DELETE FROM kpi_day_counts;
DELETE FROM kpi_days;
