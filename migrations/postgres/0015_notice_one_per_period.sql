-- One notice per kind, class and period (periods are whole weeks or days, so the same start is
-- the same period): two offices generating at once, on one instance or two, make one draft.
CREATE UNIQUE INDEX notices_one_per_period ON notices(kind, class, period_start);
