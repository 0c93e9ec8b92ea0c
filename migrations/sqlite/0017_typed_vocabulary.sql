-- Scoring rules name problem sources by the codes problems are stored with: the default rules
-- shipped before said "window_review" where problems say "window_rating", so a 窗口差评 never
-- cost points. Every stored rule set (draft, published, archived) is corrected.
UPDATE score_schemes SET rules = REPLACE(rules, '"window_review"', '"window_rating"')
WHERE rules LIKE '%"window_review"%';

-- A point's own photos had no kind ('') while problem photos were "before"/"after".
UPDATE photos SET kind = 'point' WHERE kind = '';
