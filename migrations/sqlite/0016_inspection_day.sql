-- A point found clean counts once a day (Beijing date), however many inspectors record it or
-- however often the button is pressed, on one instance or several.
ALTER TABLE point_inspections ADD COLUMN day TEXT;
CREATE UNIQUE INDEX point_inspections_once_a_day ON point_inspections(point_id, day);
