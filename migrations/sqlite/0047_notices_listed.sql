-- The notice list, its counts (the start pages' 待确认通报) and the public page read a notice
-- without its text. SQLite keeps a row's columns in order, and `status`, `published_at` and
-- `version` come after `body` and `data` (a weekly notice's figures are about 1 MB at ten
-- thousand units): each count walked every notice's overflow pages, 2.6 ms per query at 72
-- notices and growing by a notice a day. This index holds what those reads need.
CREATE INDEX notices_listed ON notices (period_start, created_at, status, kind, class, period_end, number, title,
    published_at, version, id);
-- Figures for it beside the other notice indexes' (otherwise the list scanned by period index).
ANALYZE notices;
