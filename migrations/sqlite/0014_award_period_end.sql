-- Red flags can be awarded per week or per month (a rule of the class): each remembers the end
-- of the period it was won for. Flags awarded before were weekly.
ALTER TABLE score_awards ADD COLUMN period_end INTEGER;
UPDATE score_awards SET period_end = period_start + 604800000 WHERE kind = 'red_flag' AND period_end IS NULL;
