-- What the rater says about the fix of a window case (评价人对整改的意见), beside its level.
ALTER TABLE rating_cases ADD COLUMN fix_comment TEXT NOT NULL DEFAULT '';
