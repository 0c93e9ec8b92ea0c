-- Derived figures of closed weeks: per class and week, each target's sum of entries and their
-- count, as scoring computes them from the records. A row is a cache, never a source: it is
-- used only while its rule version, calendar and validity hold, and the triggers below delete
-- it the moment a fact under it changes (a problem, a failed re-check, a reporter's verdict, an
-- award, a clean inspection, or who belongs to which unit or area). `reach_from` is the earliest
-- fact time the week depends on (its start less the repeat window). A builder first claims the
-- row with a fresh token, waits for the transactions already running to end, and fills it only
-- if the token is still there, so a change made while it was computing is never hidden.
CREATE TABLE score_weeks (
    class TEXT NOT NULL,
    week_from BIGINT NOT NULL,
    week_to BIGINT NOT NULL,
    reach_from BIGINT NOT NULL,
    token TEXT NOT NULL,
    rules_version BIGINT,
    calendar TEXT,
    valid_until BIGINT,
    sums TEXT,
    built_at BIGINT NOT NULL,
    PRIMARY KEY (class, week_from)
);
CREATE INDEX score_weeks_to ON score_weeks(week_to);

-- Forgets the kept weeks that depend on a fact at any time in [lo, hi].
CREATE FUNCTION score_weeks_forget(lo BIGINT, hi BIGINT) RETURNS void AS $$
    DELETE FROM score_weeks WHERE week_to > lo AND reach_from <= hi;
$$ LANGUAGE sql;

CREATE FUNCTION score_weeks_problems() RETURNS trigger AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        PERFORM score_weeks_forget(LEAST(OLD.found_at, OLD.deadline_at), GREATEST(OLD.found_at, OLD.deadline_at));
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        PERFORM score_weeks_forget(LEAST(NEW.found_at, NEW.deadline_at), GREATEST(NEW.found_at, NEW.deadline_at));
    END IF;
    RETURN NULL;
END $$ LANGUAGE plpgsql;
CREATE TRIGGER score_weeks_problems
AFTER INSERT OR DELETE OR UPDATE OF state, found_at, deadline_at, closed_at, unit_id, point_id, category, source ON problems
FOR EACH ROW EXECUTE FUNCTION score_weeks_problems();

CREATE FUNCTION score_weeks_events() RETURNS trigger AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.action IN ('fail', 'reopen') THEN
        PERFORM score_weeks_forget(OLD.at, OLD.at);
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') AND NEW.action IN ('fail', 'reopen') THEN
        PERFORM score_weeks_forget(NEW.at, NEW.at);
    END IF;
    RETURN NULL;
END $$ LANGUAGE plpgsql;
CREATE TRIGGER score_weeks_events AFTER INSERT OR UPDATE OR DELETE ON problem_events
FOR EACH ROW EXECUTE FUNCTION score_weeks_events();

CREATE FUNCTION score_weeks_reports() RETURNS trigger AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.feedback_at IS NOT NULL THEN
        PERFORM score_weeks_forget(OLD.feedback_at, OLD.feedback_at);
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') AND NEW.feedback_at IS NOT NULL THEN
        PERFORM score_weeks_forget(NEW.feedback_at, NEW.feedback_at);
    END IF;
    RETURN NULL;
END $$ LANGUAGE plpgsql;
CREATE TRIGGER score_weeks_reports
AFTER INSERT OR DELETE OR UPDATE OF satisfaction, feedback_at, problem_id ON reports
FOR EACH ROW EXECUTE FUNCTION score_weeks_reports();

-- Awards and clean inspections: their time.
CREATE FUNCTION score_weeks_at() RETURNS trigger AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        PERFORM score_weeks_forget(OLD.at, OLD.at);
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        PERFORM score_weeks_forget(NEW.at, NEW.at);
    END IF;
    RETURN NULL;
END $$ LANGUAGE plpgsql;
CREATE TRIGGER score_weeks_awards AFTER INSERT OR UPDATE OR DELETE ON score_awards
FOR EACH ROW EXECUTE FUNCTION score_weeks_at();
CREATE TRIGGER score_weeks_inspections AFTER INSERT OR UPDATE OR DELETE ON point_inspections
FOR EACH ROW EXECUTE FUNCTION score_weeks_at();

-- Who a problem or an inspection counts for: a point's unit or community, a unit's kind (window
-- or not), a community's street. Rare changes; every kept week goes.
CREATE FUNCTION score_weeks_all() RETURNS trigger AS $$
BEGIN
    DELETE FROM score_weeks;
    RETURN NULL;
END $$ LANGUAGE plpgsql;
CREATE TRIGGER score_weeks_points AFTER UPDATE OF unit_id, community_id ON points
FOR EACH STATEMENT EXECUTE FUNCTION score_weeks_all();
CREATE TRIGGER score_weeks_units AFTER UPDATE OF kind ON units
FOR EACH STATEMENT EXECUTE FUNCTION score_weeks_all();
CREATE TRIGGER score_weeks_nodes AFTER UPDATE OF parent_id ON org_nodes
FOR EACH STATEMENT EXECUTE FUNCTION score_weeks_all();
