-- Derived figures of closed weeks: per class and week, each target's sum of entries and their
-- count, as scoring computes them from the records. A row is a cache, never a source: it is
-- used only while its rule version, calendar and validity hold, and the triggers below delete
-- it the moment a fact under it changes (a problem, a failed re-check, a reporter's verdict, an
-- award, a clean inspection, or who belongs to which unit or area). `reach_from` is the earliest
-- fact time the week depends on (its start less the repeat window). A builder first claims the
-- row with a fresh token and fills it only if the token is still there, so a change made while
-- it was computing is never hidden.
CREATE TABLE score_weeks (
    class TEXT NOT NULL,
    week_from INTEGER NOT NULL,
    week_to INTEGER NOT NULL,
    reach_from INTEGER NOT NULL,
    token TEXT NOT NULL,
    rules_version INTEGER,
    calendar TEXT,
    valid_until INTEGER,
    sums TEXT,
    built_at INTEGER NOT NULL,
    PRIMARY KEY (class, week_from)
);
CREATE INDEX score_weeks_to ON score_weeks(week_to);

CREATE TRIGGER score_weeks_problem_insert AFTER INSERT ON problems BEGIN
    DELETE FROM score_weeks WHERE week_to > MIN(NEW.found_at, COALESCE(NEW.deadline_at, NEW.found_at))
        AND reach_from <= MAX(NEW.found_at, COALESCE(NEW.deadline_at, NEW.found_at));
END;
CREATE TRIGGER score_weeks_problem_update
AFTER UPDATE OF state, found_at, deadline_at, closed_at, unit_id, point_id, category, source ON problems BEGIN
    DELETE FROM score_weeks
    WHERE week_to > MIN(OLD.found_at, COALESCE(OLD.deadline_at, OLD.found_at), NEW.found_at, COALESCE(NEW.deadline_at, NEW.found_at))
        AND reach_from <= MAX(OLD.found_at, COALESCE(OLD.deadline_at, OLD.found_at), NEW.found_at, COALESCE(NEW.deadline_at, NEW.found_at));
END;
CREATE TRIGGER score_weeks_problem_delete AFTER DELETE ON problems BEGIN
    DELETE FROM score_weeks WHERE week_to > MIN(OLD.found_at, COALESCE(OLD.deadline_at, OLD.found_at))
        AND reach_from <= MAX(OLD.found_at, COALESCE(OLD.deadline_at, OLD.found_at));
END;

CREATE TRIGGER score_weeks_event_insert AFTER INSERT ON problem_events WHEN NEW.action IN ('fail', 'reopen') BEGIN
    DELETE FROM score_weeks WHERE week_to > NEW.at AND reach_from <= NEW.at;
END;
CREATE TRIGGER score_weeks_event_delete AFTER DELETE ON problem_events WHEN OLD.action IN ('fail', 'reopen') BEGIN
    DELETE FROM score_weeks WHERE week_to > OLD.at AND reach_from <= OLD.at;
END;

CREATE TRIGGER score_weeks_report_insert AFTER INSERT ON reports WHEN NEW.feedback_at IS NOT NULL BEGIN
    DELETE FROM score_weeks WHERE week_to > NEW.feedback_at AND reach_from <= NEW.feedback_at;
END;
CREATE TRIGGER score_weeks_report_update AFTER UPDATE OF satisfaction, feedback_at, problem_id ON reports BEGIN
    DELETE FROM score_weeks
    WHERE (week_to > OLD.feedback_at AND reach_from <= OLD.feedback_at)
       OR (week_to > NEW.feedback_at AND reach_from <= NEW.feedback_at);
END;
CREATE TRIGGER score_weeks_report_delete AFTER DELETE ON reports WHEN OLD.feedback_at IS NOT NULL BEGIN
    DELETE FROM score_weeks WHERE week_to > OLD.feedback_at AND reach_from <= OLD.feedback_at;
END;

CREATE TRIGGER score_weeks_award_insert AFTER INSERT ON score_awards BEGIN
    DELETE FROM score_weeks WHERE week_to > NEW.at AND reach_from <= NEW.at;
END;
CREATE TRIGGER score_weeks_award_update AFTER UPDATE ON score_awards BEGIN
    DELETE FROM score_weeks
    WHERE week_to > MIN(OLD.at, NEW.at) AND reach_from <= MAX(OLD.at, NEW.at);
END;
CREATE TRIGGER score_weeks_award_delete AFTER DELETE ON score_awards BEGIN
    DELETE FROM score_weeks WHERE week_to > OLD.at AND reach_from <= OLD.at;
END;

CREATE TRIGGER score_weeks_inspection_insert AFTER INSERT ON point_inspections BEGIN
    DELETE FROM score_weeks WHERE week_to > NEW.at AND reach_from <= NEW.at;
END;
CREATE TRIGGER score_weeks_inspection_delete AFTER DELETE ON point_inspections BEGIN
    DELETE FROM score_weeks WHERE week_to > OLD.at AND reach_from <= OLD.at;
END;

-- Who a problem or an inspection counts for: a point's unit or community, a unit's kind (window
-- or not), a community's street. Rare changes; every kept week goes.
CREATE TRIGGER score_weeks_point_update AFTER UPDATE OF unit_id, community_id ON points BEGIN
    DELETE FROM score_weeks;
END;
CREATE TRIGGER score_weeks_unit_update AFTER UPDATE OF kind ON units BEGIN
    DELETE FROM score_weeks;
END;
CREATE TRIGGER score_weeks_node_update AFTER UPDATE OF parent_id ON org_nodes BEGIN
    DELETE FROM score_weeks;
END;
