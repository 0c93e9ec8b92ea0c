-- A published rule version applies from the Monday of its effective week on; versions published
-- later win where they overlap. NULL (the first version): since the beginning.
ALTER TABLE score_schemes ADD COLUMN effective_from BIGINT;
