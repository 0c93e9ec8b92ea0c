//! The problem ledger and each problem's history.

use super::batch::Batch;
use super::{Backend, Db, PageReq, Where, bind_args_as, like_pattern};
use crate::domain::audit::ObjectType;
use crate::domain::problem::{Source, State, Step};
use crate::domain::search;
use crate::domain::standard::Severity;
use serde::Serialize;
use sqlx::{AnyConnection, Arguments};

#[derive(Debug, Clone, sqlx::FromRow, Serialize, utoipa::ToSchema)]
pub struct Problem {
    pub id: String,
    pub code: String,
    pub point_id: String,
    /// The point's community (it follows the point when the point moves)
    pub community_id: Option<String>,
    pub unit_id: String,
    pub lead_name: String,
    /// The standard item judged against (it belongs to one version for good)
    pub standard_item_id: Option<String>,
    pub category: String,
    pub severity: Severity,
    pub source: Source,
    pub description: String,
    pub state: State,
    pub extension_pending: i64,
    pub transfer_pending: i64,
    pub extension_days: i64,
    pub extensions: i64,
    pub postponed: i64,
    pub rework_count: i64,
    pub reported_by: Option<String>,
    pub reporter_name: String,
    pub found_at: i64,
    pub filed_at: Option<i64>,
    pub dispatched_at: Option<i64>,
    pub acknowledged_at: Option<i64>,
    pub submitted_at: Option<i64>,
    pub closed_at: Option<i64>,
    pub voided_at: Option<i64>,
    pub deadline_at: Option<i64>,
    pub fix_note: String,
    pub created_at: i64,
    pub updated_at: i64,
    pub version: i64,
    /// Search tokens of its code, category, description and point name (written at filing)
    #[sqlx(skip)]
    #[serde(skip)]
    pub search_text: String,
}

crate::record! {
    Problem in "problems" as ObjectType::Problem,
    label |p| format!("{} {}", p.code, p.category),
    insert [id, code, point_id, community_id, unit_id, lead_name, standard_item_id, category, severity, source, description, state,
        extension_pending, transfer_pending, extension_days, extensions, postponed, rework_count, reported_by,
        reporter_name, found_at, filed_at, dispatched_at, acknowledged_at, submitted_at, closed_at, voided_at, deadline_at, fix_note, created_at,
        updated_at, version, search_text],
    update [unit_id, lead_name, state, extension_pending, transfer_pending, extension_days, extensions, postponed, rework_count, filed_at,
        dispatched_at, acknowledged_at, submitted_at, closed_at, voided_at, deadline_at, fix_note, updated_at],
}

/// A problem as the ledger lists it.
#[derive(Debug, Clone, sqlx::FromRow, Serialize, utoipa::ToSchema)]
pub struct ProblemRow {
    pub id: String,
    pub code: String,
    pub point_id: String,
    pub point_name: String,
    pub type_name: String,
    pub unit_id: String,
    pub unit_name: String,
    pub lead_name: String,
    pub category: String,
    pub severity: Severity,
    pub source: Source,
    pub description: String,
    pub state: State,
    pub rework_count: i64,
    pub found_at: i64,
    pub deadline_at: Option<i64>,
    pub closed_at: Option<i64>,
    pub version: i64,
}

#[derive(Debug, Default, Clone, PartialEq)]
pub struct ProblemFilter {
    pub states: Option<Vec<State>>,
    pub unit_id: Option<String>,
    pub area_ids: Option<Vec<String>>,
    pub type_id: Option<String>,
    pub source: Option<Source>,
    pub severity: Option<Severity>,
    pub from_ms: Option<i64>,
    pub to_ms: Option<i64>,
    /// Overdue at this moment
    pub overdue_at: Option<i64>,
    /// Some(true): sent back for rework at least once; Some(false): never
    pub reworked: Option<bool>,
    /// Only problems with an after-photo that carries an evidence warning
    pub flagged: bool,
    pub keyword: Option<String>,
    /// Dispatched within [from, to) (the KPI period)
    pub dispatched_from: Option<i64>,
    pub dispatched_to: Option<i64>,
    pub closed_only: bool,
    pub closed_on_time: bool,
    pub extended: bool,
    /// Open (clock running) with a deadline before this moment
    pub due_before: Option<i64>,
    /// Open (clock running) with a deadline at or after this moment
    pub due_from: Option<i64>,
    /// Waiting for the office's decision on an extension or transfer request
    pub pending: bool,
    /// Exactly this category (the dashboard's recurring categories)
    pub category: Option<String>,
    pub point_id: Option<String>,
    /// Past the deadline as of this moment: closed after it, or still open after it
    pub late_at: Option<i64>,
    /// Closed within [from, to) (the dashboard's daily closures)
    pub closed_from: Option<i64>,
    pub closed_to: Option<i64>,
    /// Set by `plan_keyword`: the keyword's words are common (or, on PostgreSQL, the unit asked
    /// for has few problems), so each row is tested directly instead of narrowing by the token
    /// index first (which would read every match)
    pub keyword_common: bool,
}

impl ProblemFilter {
    /// Whether a condition reads the point (point type, keyword; an area reads the problem's own
    /// community).
    pub fn needs_points(&self) -> bool {
        self.type_id.is_some() || self.keyword.is_some()
    }

    /// Whether every problem this filter admits is open (its clock running).
    fn open_only(&self) -> bool {
        use State::{Acknowledged, Dispatched, Submitted};
        self.overdue_at.is_some()
            || self
                .states
                .as_ref()
                .is_some_and(|s| !s.is_empty() && s.iter().all(|x| matches!(x, Dispatched | Acknowledged | Submitted)))
    }

    /// Whether it holds nothing but the clock (open states, overdue now): the whole city's open
    /// problems, which the partial index of open deadlines serves best in deadline order.
    fn clock_only(&self) -> bool {
        let clock = ProblemFilter { states: self.states.clone(), overdue_at: self.overdue_at, ..Default::default() };
        self.open_only() && *self == clock
    }

    /// The FROM clause its conditions need.
    pub fn from_sql(&self) -> &'static str {
        if self.needs_points() { "problems q JOIN points p ON p.id = q.point_id" } else { "problems q" }
    }

    /// Whether the keyword finds its few rows by the token index or the problem code, before any
    /// other condition is looked at.
    fn keyword_narrows(&self) -> bool {
        self.keyword.as_deref().is_some_and(|k| {
            search::as_problem_code(k).is_some()
                || (!self.keyword_common && search::required_tokens(&search::terms(k)).is_some())
        })
    }

    /// The FROM clause of a count. On SQLite a keyword that narrows leads with its problems: left
    /// to the planner, the count of 第1296596号 walked every point and its problems (0.57 s at
    /// three million, against 4 ms). Otherwise the planner picks.
    fn count_from_sql(&self, db: &Db) -> &'static str {
        if db.backend == Backend::Sqlite && self.keyword_narrows() {
            "problems q CROSS JOIN points p ON p.id = q.point_id"
        } else {
            self.from_sql()
        }
    }
}

/// The open states (the clock running), written as the partial index of open deadlines says them.
const OPEN_STATES: &str = "('dispatched', 'acknowledged', 'submitted')";

const ROW: &str = "SELECT q.id, q.code, q.point_id, p.name AS point_name, t.name AS type_name, q.unit_id, u.name AS unit_name, \
     q.lead_name, q.category, q.severity, q.source, q.description, q.state, q.rework_count, q.found_at, q.deadline_at, q.closed_at, \
     q.version \
     FROM problems q JOIN points p ON p.id = q.point_id JOIN point_types t ON t.id = p.type_id JOIN units u ON u.id = q.unit_id";

/// The ledger's row query. On SQLite the problems lead the join (`CROSS JOIN` fixes the order
/// there): with planner statistics a bare first page was otherwise read point type by point
/// type and every problem sorted, 0.1 s at 50,000 problems; walked in the sort's index it reads
/// one page of rows.
fn row_sql(db: &Db) -> std::borrow::Cow<'static, str> {
    match db.backend {
        super::Backend::Sqlite => ROW.replace(" JOIN ", " CROSS JOIN ").into(),
        super::Backend::Postgres => ROW.into(),
    }
}

pub(super) fn filter_sql(db: &Db, f: &ProblemFilter) -> Where {
    let mut w = Where::default();
    let states: Option<Vec<String>> = f.states.as_ref().map(|s| s.iter().map(|s| s.as_str().to_string()).collect());
    w.within("q.state", states.as_deref());
    w.eq("q.unit_id", f.unit_id.as_deref());
    w.eq("p.type_id", f.type_id.as_deref());
    w.eq("q.source", f.source.map(Source::as_str));
    w.eq("q.severity", f.severity.map(Severity::as_str));
    w.within("q.community_id", f.area_ids.as_deref());
    // An area's open queue (to re-check, say) is read by the partial index problems_area_open,
    // which SQLite takes only when the query repeats the index's condition word for word.
    if f.area_ids.is_some() && f.open_only() && f.overdue_at.is_none() {
        w.and(format!("q.state IN {OPEN_STATES}"));
    }
    w.range("q.found_at", f.from_ms, f.to_ms);
    w.eq("q.category", f.category.as_deref());
    if let Some(now) = f.late_at {
        let now = w.int(now);
        // On SQLite the state is written so that no index takes it (a unary plus): its planner
        // otherwise read every closed problem by the state index (a week's notice read 2.5
        // million rows for its 5,000 late ones at three million, 2.9 s). On PostgreSQL the
        // condition implies the partial index problems_found_late (migration 0044), which holds
        // what the notice reads of each late problem.
        let state = if db.backend == Backend::Sqlite { "+q.state" } else { "q.state" };
        w.and(format!(
            "q.deadline_at IS NOT NULL AND (({state} = 'closed' AND q.closed_at > q.deadline_at) \
             OR ({state} IN {OPEN_STATES} AND q.deadline_at < {now}))"
        ));
    }
    w.eq("q.point_id", f.point_id.as_deref());
    if f.closed_from.is_some() || f.closed_to.is_some() {
        w.range("q.closed_at", f.closed_from, f.closed_to);
        // Written so that no index on the state is preferred to the one on closed_at.
        w.and("(q.state || '') = 'closed'".into());
    }
    w.compare(&format!("q.state IN {OPEN_STATES} AND q.deadline_at <"), f.overdue_at);
    w.when(f.reworked == Some(true), "q.rework_count > 0");
    w.when(f.reworked == Some(false), "q.rework_count = 0");
    w.when(f.flagged, FLAGGED_FIX);
    w.range("q.dispatched_at", f.dispatched_from, f.dispatched_to);
    w.when(f.closed_only, "q.state = 'closed'");
    w.when(f.closed_on_time, "q.state = 'closed' AND q.closed_at <= q.deadline_at");
    w.when(f.extended, "q.extensions > 0");
    w.compare("q.state IN ('dispatched', 'acknowledged') AND q.deadline_at <", f.due_before);
    w.compare("q.state IN ('dispatched', 'acknowledged') AND q.deadline_at >=", f.due_from);
    // Written as the partial index problems_requests is declared, so that it serves the queue.
    w.when(
        f.pending,
        "q.state IN ('dispatched', 'acknowledged') AND (q.extension_pending = 1 OR q.transfer_pending = 1)",
    );
    if let Some(k) = &f.keyword {
        keyword_sql(db, &mut w, k, f.keyword_common);
    }
    w
}

/// The keyword box: a complete problem code is looked up exactly; otherwise every term must occur
/// in the description, category, code or point name. The token index (FTS5 on SQLite, a GIN array
/// index on PostgreSQL) narrows the rows first whenever a term has Chinese pairs to look for.
fn keyword_sql(db: &Db, w: &mut Where, keyword: &str, common: bool) {
    if let Some(code) = search::as_problem_code(keyword) {
        let p = w.text(&code);
        w.and(format!("q.code = {p}"));
        return;
    }
    let terms = search::terms(keyword);
    if let Some(tokens) = search::required_tokens(&terms).filter(|_| !common) {
        match db.backend {
            Backend::Sqlite => {
                let quoted: Vec<String> = tokens.iter().map(|t| format!("\"{t}\"")).collect();
                let p = w.text(quoted.join(" "));
                w.and(format!(
                    "(q.rowid IN (SELECT rowid FROM problems_fts WHERE problems_fts MATCH {p}) \
                     OR q.rowid > (SELECT indexed_rowid FROM search_watermark WHERE id = 1))"
                ));
            }
            Backend::Postgres => {
                let p = w.text(tokens.join(" "));
                w.and(format!("string_to_array(q.search_text, ' ') @> string_to_array({p}, ' ')"));
            }
        }
    }
    for term in terms {
        let p = w.text(like_pattern(&term));
        w.and(format!(
            "(q.description {op} {p} ESCAPE '\\' OR q.code {op} {p} ESCAPE '\\' OR q.category {op} {p} ESCAPE '\\' OR p.name {op} {p} ESCAPE '\\')",
            op = db.ilike()
        ));
    }
}

/// How many matches of the token index make a keyword common (SQLite).
const COMMON_MATCHES: i64 = 2_000;

/// Below this many problems a unit's keyword search tests each of its rows (PostgreSQL).
const UNIT_FIRST: i64 = 20_000;

/// Decides how a keyword is searched. A rare keyword is narrowed by the token index first (a
/// few rows to test). A common one (say 井盖 in a city's ten million problems) is tested row by
/// row in the list's order instead: the first page is among the newest rows, while narrowing
/// would read and sort every match first. On SQLite the index tells which (its matches are
/// counted up to a cap); PostgreSQL's planner weighs its own statistics, except within a unit
/// of few problems (below).
pub async fn plan_keyword(db: &Db, f: &ProblemFilter) -> Result<ProblemFilter, sqlx::Error> {
    let mut f = f.clone();
    let Some(k) = f.keyword.as_deref() else { return Ok(f) };
    if search::as_problem_code(k).is_some() {
        return Ok(f);
    }
    let Some(tokens) = search::required_tokens(&search::terms(k)) else { return Ok(f) };
    if db.backend == Backend::Postgres {
        // PostgreSQL cannot tell how many rows an array containment matches (it guessed 322 for
        // 1.25 million) and narrowed a unit's 3,000 problems by reading every match of the
        // common term: 0.45–0.6 s at ten million. A unit with few problems is read by its own
        // index and each row tested instead.
        if let Some(unit) = f.unit_id.as_deref() {
            let n: i64 =
                sqlx::query_scalar("SELECT COUNT(*) FROM (SELECT 1 FROM problems WHERE unit_id = $1 LIMIT $2) t")
                    .bind(unit)
                    .bind(UNIT_FIRST)
                    .fetch_one(&db.pool)
                    .await?;
            f.keyword_common = n < UNIT_FIRST;
        }
        return Ok(f);
    }
    let quoted: Vec<String> = tokens.iter().map(|t| format!("\"{t}\"")).collect();
    let matches: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM (SELECT rowid FROM problems_fts WHERE problems_fts MATCH $1 LIMIT $2) t",
    )
    .bind(quoted.join(" "))
    .bind(COMMON_MATCHES)
    .fetch_one(&db.pool)
    .await?;
    f.keyword_common = matches >= COMMON_MATCHES;
    Ok(f)
}

/// The search tokens stored with a problem.
pub fn search_text(p: &Problem, point_name: &str) -> String {
    search::index_tokens(&[&p.code, &p.category, &p.description, point_name])
}

/// The next number in a named sequence (e.g. the day's problem codes), safe under concurrent
/// writers on both databases: the upsert locks the sequence's row until the transaction ends.
pub async fn next_in_sequence(conn: &mut AnyConnection, scope: &str) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "INSERT INTO code_sequences (scope, n) VALUES ($1, 1) ON CONFLICT (scope) DO UPDATE SET n = code_sequences.n + 1 RETURNING n",
    )
    .bind(scope)
    .fetch_one(conn)
    .await
}

/// Rewrites the search tokens of a point's problems (after the point was renamed).
pub async fn reindex_point(conn: &mut AnyConnection, point_id: &str, point_name: &str) -> Result<u64, sqlx::Error> {
    use super::record::Insert;
    let cols = Problem::COLUMNS.join(", ");
    let rows: Vec<Problem> = sqlx::query_as(&format!("SELECT {cols} FROM problems WHERE point_id = $1"))
        .bind(point_id)
        .fetch_all(&mut *conn)
        .await?;
    for p in &rows {
        sqlx::query("UPDATE problems SET search_text = $1 WHERE id = $2")
            .bind(search_text(p, point_name))
            .bind(&p.id)
            .execute(&mut *conn)
            .await?;
    }
    Ok(rows.len() as u64)
}

/// A point as a filing read it: its name and community.
pub type PointAsRead<'a> = (&'a str, Option<&'a str>);

/// PostgreSQL: holds the point's row (shared) to the end of the filing's write and returns it as
/// it is now; taken first in the write, before the day's number row, in the order a change of
/// the point takes them. A change of the point then either waits for the filing (and its own
/// rewrite, or the trigger that moves problems with their point, finds the problem) or is
/// returned here. SQLite: `Unread` (the single writer orders them; see `stage_point_check`).
pub async fn hold_point(conn: &mut AnyConnection, point_id: &str) -> Result<PointNow, sqlx::Error> {
    if conn.backend_name() != "PostgreSQL" {
        return Ok(PointNow::Unread);
    }
    let now = sqlx::query_as("SELECT name, community_id FROM points WHERE id = $1 FOR SHARE")
        .bind(point_id)
        .fetch_optional(conn)
        .await?;
    Ok(PointNow::Held(now))
}

/// A filing's point as its write found it (`hold_point`).
pub enum PointNow {
    /// SQLite: compared by the batch itself
    Unread,
    /// PostgreSQL: held, its name and community (None: no such point)
    Held(Option<(String, Option<String>)>),
}

/// Adds to a filing's batch: the point is marked for `follow_marked_points` when its name or
/// community is no longer what the filing was made with (a change of the point committed in
/// between): on PostgreSQL as `hold_point` returned it, on SQLite as the batch reads it.
pub fn stage_point_check(b: &mut Batch<'_>, point_id: &str, read: PointAsRead<'_>, held: &PointNow) {
    // A new mark each time (the job removes only the mark it read).
    let mark = rand::random::<i64>();
    let point_id = point_id.to_string();
    match held {
        PointNow::Held(None) => {}
        PointNow::Held(Some((name, community))) => {
            if (name.as_str(), community.as_deref()) != read {
                b.push(
                    "INSERT INTO point_followups (point_id, gen) VALUES ($1, $2) \
                     ON CONFLICT (point_id) DO UPDATE SET gen = excluded.gen",
                    move |a| {
                        a.add(point_id)?;
                        a.add(mark)
                    },
                );
            }
        }
        PointNow::Unread => {
            let (name, community) = (read.0.to_string(), read.1.map(str::to_string));
            b.push(
                "INSERT INTO point_followups (point_id, gen) SELECT id, $4 FROM points \
                 WHERE id = $1 AND (name <> $2 OR community_id IS NOT $3) \
                 ON CONFLICT (point_id) DO UPDATE SET gen = excluded.gen",
                move |a| {
                    a.add(point_id)?;
                    a.add(name)?;
                    a.add(community)?;
                    a.add(mark)
                },
            );
        }
    }
}

/// Brings the problems of points marked by `stage_point_check` in line with their point (search
/// tokens with its name, its community), a few points per round. The point is held while its
/// problems are rewritten (a change of it waits, or is read here), and only the mark read is
/// removed: a point marked again meanwhile stays for the next round. Returns how many points
/// were done.
pub async fn follow_marked_points(db: &Db) -> Result<u64, sqlx::Error> {
    let marked: Vec<(String, i64)> =
        sqlx::query_as("SELECT point_id, gen FROM point_followups ORDER BY point_id LIMIT 20")
            .fetch_all(&db.pool)
            .await?;
    let (differs, hold) =
        if db.backend == Backend::Sqlite { ("IS NOT", "") } else { ("IS DISTINCT FROM", " FOR SHARE") };
    for (point_id, mark) in &marked {
        let mut tx = db.begin().await?;
        let point: Option<(String, Option<String>)> =
            sqlx::query_as(&format!("SELECT name, community_id FROM points WHERE id = $1{hold}"))
                .bind(point_id)
                .fetch_optional(&mut *tx)
                .await?;
        if let Some((name, community)) = point {
            reindex_point(&mut tx, point_id, &name).await?;
            sqlx::query(&format!(
                "UPDATE problems SET community_id = $2 WHERE point_id = $1 AND community_id {differs} $2"
            ))
            .bind(point_id)
            .bind(community)
            .execute(&mut *tx)
            .await?;
        }
        sqlx::query("DELETE FROM point_followups WHERE point_id = $1 AND gen = $2")
            .bind(point_id)
            .bind(mark)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
    }
    Ok(marked.len() as u64)
}

/// SQLite: adds problems filed since the last round to the full-text index, a batch at a time,
/// and moves the watermark past them. Returns how many were indexed.
pub async fn index_pending(db: &Db) -> Result<u64, sqlx::Error> {
    if db.backend != Backend::Sqlite {
        return Ok(0);
    }
    let mut tx = db.begin().await?;
    let mark: i64 =
        sqlx::query_scalar("SELECT indexed_rowid FROM search_watermark WHERE id = 1").fetch_one(&mut *tx).await?;
    let top: Option<i64> = sqlx::query_scalar(
        "SELECT MAX(rowid) FROM (SELECT rowid FROM problems WHERE rowid > $1 ORDER BY rowid LIMIT 20000)",
    )
    .bind(mark)
    .fetch_one(&mut *tx)
    .await?;
    let Some(top) = top else { return Ok(0) };
    let n = sqlx::query(
        "INSERT INTO problems_fts (rowid, search_text) SELECT rowid, search_text FROM problems WHERE rowid > $1 AND rowid <= $2",
    )
    .bind(mark)
    .bind(top)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    sqlx::query("UPDATE search_watermark SET indexed_rowid = $1 WHERE id = 1").bind(top).execute(&mut *tx).await?;
    tx.commit().await?;
    Ok(n)
}

/// Fills the search tokens of problems stored before the index existed, in batches.
pub async fn backfill_search(db: &Db) -> Result<u64, sqlx::Error> {
    let mut done = 0;
    loop {
        let rows: Vec<(String, String, String, String, String)> = sqlx::query_as(
            "SELECT q.id, q.code, q.category, q.description, p.name FROM problems q JOIN points p ON p.id = q.point_id \
             WHERE q.search_text = '' LIMIT 1000",
        )
        .fetch_all(&db.pool)
        .await?;
        if rows.is_empty() {
            return Ok(done);
        }
        let mut tx = db.begin().await?;
        for (id, code, category, description, point) in &rows {
            let text = search::index_tokens(&[code, category, description, point]);
            // A problem always has a code, so the tokens are never empty again.
            sqlx::query("UPDATE problems SET search_text = $1 WHERE id = $2")
                .bind(text)
                .bind(id)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        done += rows.len() as u64;
    }
}

pub async fn list(db: &Db, f: &ProblemFilter, page: PageReq) -> Result<(Vec<ProblemRow>, i64), sqlx::Error> {
    let w = filter_sql(db, f);
    // The count joins points only when a filter needs them (area, point type, keyword).
    super::paged(db, &row_sql(db), f.count_from_sql(db), &w, "q.found_at DESC, q.id DESC", page).await
}

/// These problems as ledger rows (in no particular order).
pub async fn rows_by_ids(db: &Db, ids: &[String]) -> Result<Vec<ProblemRow>, sqlx::Error> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut w = Where::default();
    w.within("q.id", Some(ids));
    let sql = format!("{}{}", row_sql(db), w.sql());
    bind_args_as(sqlx::query_as::<_, ProblemRow>(&sql), &w.args).fetch_all(&db.pool).await
}

/// The `limit` problems closed last within [from, to), last first: read backwards along the
/// closing time (sorted by when they were found, SQLite read and sorted a week's 63,000 closings
/// at ten million problems: 170 ms).
pub async fn closed_last(db: &Db, from: i64, to: i64, limit: i64) -> Result<Vec<ProblemRow>, sqlx::Error> {
    let f = ProblemFilter { closed_from: Some(from), closed_to: Some(to), ..Default::default() };
    let w = filter_sql(db, &f);
    let sql = format!("{}{} ORDER BY q.closed_at DESC, q.id DESC LIMIT {}", row_sql(db), w.sql(), limit.max(0));
    bind_args_as(sqlx::query_as::<_, ProblemRow>(&sql), &w.args).fetch_all(&db.pool).await
}

/// What a notice needs of a problem past its deadline to count it and rank it.
#[derive(Debug, Clone, PartialEq)]
pub struct LateFact {
    pub id: String,
    pub unit_id: String,
    /// Still open (clock running), otherwise closed after its deadline
    pub open: bool,
    pub deadline_at: i64,
    pub closed_at: Option<i64>,
}

/// The problems found in [from, to) that went past their deadline as of `now` (closed after it,
/// or still open after it), as bare facts. The database hands them over as one string (as
/// `dashboard::per_point` does): a week of the 90-day stress case holds some 480,000 of them,
/// and the driver hands rows over one by one, slowly.
pub async fn late_facts(db: &Db, from: i64, to: i64, now: i64) -> Result<Vec<LateFact>, sqlx::Error> {
    let f = ProblemFilter { from_ms: Some(from), to_ms: Some(to), late_at: Some(now), ..Default::default() };
    let w = filter_sql(db, &f);
    let concat = if db.backend == Backend::Postgres { "string_agg" } else { "group_concat" };
    // Ids are UUIDs (`new_id`): never a comma or a semicolon.
    let sql = format!(
        "SELECT {concat}(q.id || ',' || q.unit_id || ',' || CASE WHEN q.state = 'closed' THEN '0' ELSE '1' END \
         || ',' || CAST(q.deadline_at AS TEXT) || ',' || COALESCE(CAST(q.closed_at AS TEXT), ''), ';') FROM {}{}",
        f.from_sql(),
        w.sql()
    );
    let all: Option<String> =
        bind_args_as(sqlx::query_as::<_, (Option<String>,)>(&sql), &w.args).fetch_one(&db.pool).await?.0;
    let bad = |s: &str| sqlx::Error::Decode(format!("late problem: {s}").into());
    all.as_deref()
        .unwrap_or("")
        .split(';')
        .filter(|s| !s.is_empty())
        .map(|s| {
            let mut parts = s.split(',');
            let mut next = || parts.next().ok_or_else(|| bad(s));
            let (id, unit_id, open, deadline, closed) = (next()?, next()?, next()?, next()?, next()?);
            Ok(LateFact {
                id: id.to_string(),
                unit_id: unit_id.to_string(),
                open: open == "1",
                deadline_at: deadline.parse().map_err(|_| bad(s))?,
                closed_at: if closed.is_empty() { None } else { Some(closed.parse().map_err(|_| bad(s))?) },
            })
        })
        .collect()
}

/// The units with at least `min` problems found in [from, to) that went past their deadline as of
/// `now`: the same problems `late_facts` hands over (a notice's 拟约谈 counts those), counted
/// per unit by the database.
pub async fn late_per_unit(
    db: &Db,
    (from, to): (i64, i64),
    now: i64,
    min: i64,
) -> Result<Vec<(String, i64)>, sqlx::Error> {
    let f = ProblemFilter { from_ms: Some(from), to_ms: Some(to), late_at: Some(now), ..Default::default() };
    let w = filter_sql(db, &f);
    let sql = format!(
        "SELECT q.unit_id, COUNT(*) FROM {}{} GROUP BY q.unit_id HAVING COUNT(*) >= {}",
        f.from_sql(),
        w.sql(),
        min.max(1)
    );
    bind_args_as(sqlx::query_as::<_, (String, i64)>(&sql), &w.args).fetch_all(&db.pool).await
}

/// The ledger's orders. Each pairs a key with the id, so that a page can continue after a row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Sort {
    #[default]
    FoundDesc,
    FoundAsc,
    /// Most urgent first; problems without a deadline yet (待核实) lead.
    DeadlineAsc,
}

impl Sort {
    pub const ALL: [Sort; 3] = [Sort::FoundDesc, Sort::FoundAsc, Sort::DeadlineAsc];

    pub fn parse(s: &str) -> Option<Sort> {
        Self::ALL.into_iter().find(|x| x.as_str() == s)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Sort::FoundDesc => "found_desc",
            Sort::FoundAsc => "found_asc",
            Sort::DeadlineAsc => "deadline_asc",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Sort::FoundDesc => "发现时间（新→旧）",
            Sort::FoundAsc => "发现时间（旧→新）",
            Sort::DeadlineAsc => "整改期限（急→缓）",
        }
    }

    fn key_sql(self) -> &'static str {
        match self {
            Sort::FoundDesc | Sort::FoundAsc => "q.found_at",
            Sort::DeadlineAsc => "COALESCE(q.deadline_at, 0)",
        }
    }

    fn descending(self) -> bool {
        self == Sort::FoundDesc
    }

    fn key_of(self, r: &ProblemRow) -> i64 {
        match self {
            Sort::FoundDesc | Sort::FoundAsc => r.found_at,
            Sort::DeadlineAsc => r.deadline_at.unwrap_or(0),
        }
    }
}

/// Where a page starts: at the top, after the row a cursor names (next page) or before it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Seek {
    First,
    After(i64, String),
    Before(i64, String),
}

impl Seek {
    /// Reads `after` / `before` cursors ("key_id"); None when a cursor is malformed.
    pub fn parse(after: Option<&str>, before: Option<&str>) -> Option<Seek> {
        fn cursor(c: &str) -> Option<(i64, String)> {
            let (k, id) = c.split_once('_')?;
            let ok = !id.is_empty() && id.len() <= 64 && id.chars().all(|c| c.is_ascii_hexdigit() || c == '-');
            ok.then_some((k.parse().ok()?, id.to_string()))
        }
        match (after.filter(|s| !s.is_empty()), before.filter(|s| !s.is_empty())) {
            (None, None) => Some(Seek::First),
            (Some(a), None) => cursor(a).map(|(k, id)| Seek::After(k, id)),
            (None, Some(b)) => cursor(b).map(|(k, id)| Seek::Before(k, id)),
            (Some(_), Some(_)) => None,
        }
    }
}

/// One page of the ledger with the total and cursors to the neighbouring pages.
#[derive(Debug, Clone)]
pub struct KeysetPage {
    pub rows: Vec<ProblemRow>,
    /// Exact up to `count_cap(f)`; past it, the cap itself with `total_exact` false
    pub total: i64,
    pub total_exact: bool,
    pub next: Option<String>,
    pub prev: Option<String>,
}

/// A page by keyset: the cost does not grow with the depth of the page, unlike OFFSET.
pub async fn list_keyset(
    db: &Db,
    f: &ProblemFilter,
    sort: Sort,
    seek: &Seek,
    size: i64,
) -> Result<KeysetPage, sqlx::Error> {
    let f = &plan_keyword(db, f).await?;
    let mut w = filter_sql(db, f);
    // Counting every match of a broad filter in ten million rows costs more than the page: the
    // total is exact up to a cap, then shown as "more than".
    let cap = count_cap(f);
    let counted = super::count_sql(
        db,
        &format!("SELECT COUNT(*) FROM (SELECT 1 FROM {}{} LIMIT {}) t", f.count_from_sql(db), w.sql(), cap + 1),
        &w,
    )
    .await?;
    let (total, total_exact) = if counted > cap { (cap, false) } else { (counted, true) };
    // Open problems most urgent first: said in the words of the partial index of open
    // deadlines (migration 0033), so the planner walks the open problems in deadline order
    // instead of every settled problem of past years (5 s at 10 million on PostgreSQL).
    if sort == Sort::DeadlineAsc && f.open_only() {
        w.and(format!("q.state IN {OPEN_STATES}"));
    }
    let key = sort.key_sql();
    // Reading backwards (the previous page) flips the order and the comparison.
    let backwards = matches!(seek, Seek::Before(..));
    let desc = sort.descending() != backwards;
    if let Seek::After(k, id) | Seek::Before(k, id) = seek {
        let (pk, pid) = (w.int(*k), w.text(id));
        w.and(format!("({key}, q.id) {} ({pk}, {pid})", if desc { "<" } else { ">" }));
    }
    let dir = if desc { "DESC" } else { "ASC" };
    let sqlite = db.backend == Backend::Sqlite;
    // A large area (more problems than the count's cap) is walked in the page's order, passing
    // over other areas' problems. Read by the area's own index, SQLite sorted every problem of a
    // street to show twenty (4.8 s for a street holding half the city at 3.3 million).
    let walk_area = sqlite && !total_exact && f.area_ids.is_some();
    let rest = ProblemFilter { area_ids: None, ..f.clone() };
    let mut sql = format!("{}{} ORDER BY {key} {dir}, q.id {dir} LIMIT {}", row_sql(db), w.sql(), size + 1);
    if walk_area {
        sql = sql.replacen("q.community_id IN (", "+q.community_id IN (", 1);
    }
    // SQLite's planner reads the overdue problems by state and sorts them all (0.85 s for
    // 135,000 at ten million; 0.26 s for a large street's); walked in the partial index the
    // first page is the first rows. Only for the whole city or a large area: a unit or a point
    // is narrower by its own index.
    if sqlite && sort == Sort::DeadlineAsc && (f.clock_only() || (walk_area && rest.clock_only())) {
        sql = sql.replacen("FROM problems q ", "FROM problems q INDEXED BY problems_open_deadline ", 1);
    }
    let mut rows = bind_args_as(sqlx::query_as::<_, ProblemRow>(&sql), &w.args).fetch_all(&db.pool).await?;
    let more = rows.len() as i64 > size;
    rows.truncate(size as usize);
    if backwards {
        rows.reverse();
    }
    let cursor = |r: &ProblemRow| format!("{}_{}", sort.key_of(r), r.id);
    let (has_prev, has_next) = match seek {
        Seek::First => (false, more),
        Seek::After(..) => (true, more),
        Seek::Before(..) => (more, true),
    };
    Ok(KeysetPage {
        next: if has_next { rows.last().map(cursor) } else { None },
        prev: if has_prev { rows.first().map(cursor) } else { None },
        rows,
        total,
        total_exact,
    })
}

/// Where the ledger stops counting: 10,000 rows, or 1,000 under a keyword (every row counted
/// is tested for the words).
pub fn count_cap(f: &ProblemFilter) -> i64 {
    if f.keyword.is_some() { 1_000 } else { 10_000 }
}

/// The undecided requests of these problems: (problem id, 申请延期 / 申请转办, the request's note).
pub async fn pending_requests(db: &Db, ids: &[String]) -> Result<Vec<(String, String, String)>, sqlx::Error> {
    let mut out = Vec::new();
    for id in ids {
        let last: Option<(String, String)> = sqlx::query_as(
            "SELECT e.action, e.note FROM problem_events e WHERE e.problem_id = $1 \
             AND e.action IN ('request_extension', 'request_transfer') ORDER BY e.at DESC, e.id DESC LIMIT 1",
        )
        .bind(id)
        .fetch_optional(&db.pool)
        .await?;
        if let Some((action, note)) = last {
            let label = if action == "request_extension" { "申请延期" } else { "申请转办" };
            out.push((id.clone(), label.to_string(), note));
        }
    }
    Ok(out)
}

pub async fn get(db: &Db, id: &str) -> Result<Option<Problem>, sqlx::Error> {
    super::record::find(db, id).await
}

#[derive(Debug, Clone, sqlx::FromRow, Serialize, utoipa::ToSchema)]
pub struct Event {
    pub id: String,
    pub problem_id: String,
    pub at: i64,
    pub actor_id: Option<String>,
    pub actor_name: String,
    pub action: Step,
    pub from_state: Option<State>,
    pub to_state: State,
    pub note: String,
}

pub async fn insert_event(conn: &mut AnyConnection, e: &Event) -> Result<(), sqlx::Error> {
    let mut b = Batch::default();
    stage_event(&mut b, e);
    b.run(conn).await
}

/// The same history step, added to a batch of statements sent together.
pub fn stage_event<'q>(b: &mut Batch<'q>, e: &'q Event) {
    b.push(
        "INSERT INTO problem_events (id, problem_id, at, actor_id, actor_name, action, from_state, to_state, note) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        move |a| {
            a.add(&e.id)?;
            a.add(&e.problem_id)?;
            a.add(e.at)?;
            a.add(&e.actor_id)?;
            a.add(&e.actor_name)?;
            a.add(e.action)?;
            a.add(e.from_state)?;
            a.add(e.to_state)?;
            a.add(&e.note)?;
            Ok(())
        },
    );
}

pub async fn events(db: &Db, problem_id: &str) -> Result<Vec<Event>, sqlx::Error> {
    sqlx::query_as::<_, Event>(
        "SELECT id, problem_id, at, actor_id, actor_name, action, from_state, to_state, note FROM problem_events \
         WHERE problem_id = $1 ORDER BY at, id",
    )
    .bind(problem_id)
    .fetch_all(&db.pool)
    .await
}

/// The counts behind the case-loop metrics for one unit or community, aggregated in the database.
#[derive(Debug, Clone, Default, sqlx::FromRow)]
pub struct KpiCounts {
    pub key: Option<String>,
    pub name: Option<String>,
    #[sqlx(flatten)]
    pub counts: crate::domain::kpi::Counts,
    /// Cases past their deadline at `now`: still open, or closed late
    pub late: i64,
}

impl KpiCounts {
    /// The counts the case-loop metrics are ratios of.
    pub fn counts(&self) -> crate::domain::kpi::Counts {
        self.counts
    }
}

/// KPI counts for the problems the filter selects, grouped by unit or by the point's community.
pub async fn kpi_counts(
    db: &Db,
    f: &ProblemFilter,
    by_community: bool,
    now: i64,
) -> Result<Vec<KpiCounts>, sqlx::Error> {
    let mut w = filter_sql(db, f);
    let now = w.int(now);
    let from = f.from_sql();
    let (key, names) = if by_community {
        ("q.community_id", "LEFT JOIN org_nodes n ON n.id = g.key")
    } else {
        ("q.unit_id", "LEFT JOIN units n ON n.id = g.key")
    };
    // On SQLite a community's lines are grouped by an expression: grouped by the column, the
    // planner walked the area index in its order through every problem of a street to spare a
    // sort (2.8 s for a day at 3.3 million, against 0.03 s by the day's dispatch index).
    let group = if by_community && db.backend == Backend::Sqlite { "+q.community_id" } else { key };
    // The lines travel as one JSON array in one row, as the kept ones do: handed over one by one,
    // a day's 9,000 lines took SQLite's driver most of a 90 ms reading.
    let (agg, row, cast) = super::json_aggregate(db);
    let columns: Vec<String> = super::kpi_days::COLUMNS.iter().map(|c| format!("g.{c}")).collect();
    let sql = format!(
        "SELECT {agg}({row}(g.key, n.name, {row}({}))){cast} FROM (SELECT {key} AS key, {} FROM {from}{} GROUP BY {group}) g {names}",
        columns.join(", "),
        kpi_columns(&now),
        w.sql()
    );
    let (text,): (Option<String>,) = bind_args_as(sqlx::query_as(&sql), &w.args).fetch_one(&db.pool).await?;
    super::kpi_days::lines_from_json(text)
}

/// The problems found in [from, to) and how many of them are closed (a notice's headline).
pub async fn found_and_closed(db: &Db, from: i64, to: i64) -> Result<(i64, i64), sqlx::Error> {
    sqlx::query_as(
        "SELECT COUNT(*), CAST(COALESCE(SUM(CASE WHEN state = 'closed' THEN 1 ELSE 0 END), 0) AS BIGINT) \
         FROM problems WHERE found_at >= $1 AND found_at < $2",
    )
    .bind(from)
    .bind(to)
    .fetch_one(&db.pool)
    .await
}

/// A standing fix (submitted or closed, as `disposed` counts it) with an after-photo that
/// carries an evidence warning: 证据警告率's numerator and the ledger's 有证据警告. A fix the
/// re-check failed leaves its photo behind but no longer stands.
const FLAGGED_FIX: &str = "(q.submitted_at IS NOT NULL OR q.closed_at IS NOT NULL) AND EXISTS (SELECT 1 FROM photos f \
     WHERE f.owner_type = 'problem' AND f.owner_id = q.id AND f.kind = 'after' AND f.flags <> '[]')";

/// The aggregate columns of the case-loop counts over problems `q` (`due` … `reopened`, and
/// `late` as of the bound `now`), shared by the live counts and the kept days' builder.
pub(super) fn kpi_columns(now: &str) -> String {
    format!(
        "COUNT(*) AS due, \
         SUM(CASE WHEN q.state = 'closed' THEN 1 ELSE 0 END) AS closed, \
         SUM(CASE WHEN q.state = 'closed' AND q.closed_at IS NOT NULL AND (q.deadline_at IS NULL OR q.closed_at <= q.deadline_at) THEN 1 ELSE 0 END) AS closed_on_time, \
         SUM(CASE WHEN q.submitted_at IS NOT NULL OR q.closed_at IS NOT NULL THEN 1 ELSE 0 END) AS disposed, \
         SUM(CASE WHEN COALESCE(q.submitted_at, q.closed_at) IS NOT NULL AND (q.deadline_at IS NULL OR COALESCE(q.submitted_at, q.closed_at) <= q.deadline_at) THEN 1 ELSE 0 END) AS disposed_on_time, \
         SUM(CASE WHEN q.rework_count > 0 THEN 1 ELSE 0 END) AS reworked, \
         SUM(CASE WHEN q.extensions > 0 THEN 1 ELSE 0 END) AS extended, \
         SUM(CASE WHEN q.postponed = 1 THEN 1 ELSE 0 END) AS postponed, \
         SUM(CASE WHEN {FLAGGED_FIX} THEN 1 ELSE 0 END) AS flagged, \
         SUM(CASE WHEN q.state = 'closed' AND q.dispatched_at IS NOT NULL AND q.closed_at IS NOT NULL THEN 1 ELSE 0 END) AS timed, \
         CAST(SUM(CASE WHEN q.state = 'closed' AND q.dispatched_at IS NOT NULL AND q.closed_at IS NOT NULL \
              THEN (q.closed_at - q.dispatched_at) / 60000 ELSE 0 END) AS BIGINT) AS minutes_to_close, \
         SUM(CASE WHEN q.deadline_at IS NOT NULL AND ((q.state = 'closed' AND q.closed_at > q.deadline_at) \
              OR (q.state IN ('dispatched', 'acknowledged', 'submitted') AND {now} > q.deadline_at)) THEN 1 ELSE 0 END) AS late, \
         SUM(CASE WHEN q.source = 'citizen' AND EXISTS (SELECT 1 FROM reports r WHERE r.problem_id = q.id AND r.satisfaction IS NOT NULL) THEN 1 ELSE 0 END) AS rated, \
         SUM(CASE WHEN q.source = 'citizen' AND EXISTS (SELECT 1 FROM reports r WHERE r.problem_id = q.id AND r.satisfaction >= 4) THEN 1 ELSE 0 END) AS satisfied, \
         SUM(CASE WHEN q.rework_count > 0 AND EXISTS (SELECT 1 FROM problem_events e WHERE e.problem_id = q.id AND e.action = 'reopen') THEN 1 ELSE 0 END) AS reopened"
    )
}

/// Open problems at a point (optionally for one standard item), newest first.
pub async fn open_at_point(db: &Db, point_id: &str, item_id: Option<&str>) -> Result<Vec<ProblemRow>, sqlx::Error> {
    let mut w = Where::default();
    let p = w.text(point_id);
    w.and(format!("q.point_id = {p}"));
    w.and("q.state NOT IN ('closed', 'voided')".into());
    if let Some(i) = item_id {
        let p = w.text(i);
        w.and(format!("q.standard_item_id = {p}"));
    }
    let sql = format!("{}{} ORDER BY q.found_at DESC", row_sql(db), w.sql());
    bind_args_as(sqlx::query_as::<_, ProblemRow>(&sql), &w.args).fetch_all(&db.pool).await
}

/// The problem a client reference of this account was already used for.
pub async fn by_client_ref(db: &Db, user_id: &str, client_ref: &str) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar("SELECT problem_id FROM client_refs WHERE user_id = $1 AND client_ref = $2")
        .bind(user_id)
        .bind(client_ref)
        .fetch_optional(&db.pool)
        .await
}

/// The use of a client reference (unique per account).
const USE_CLIENT_REF: &str = "INSERT INTO client_refs (user_id, client_ref, problem_id, at) VALUES ($1, $2, $3, $4)";

/// Adds the use of a client reference to a batch (see `use_client_ref`).
pub fn stage_client_ref(b: &mut super::batch::Batch<'_>, user_id: &str, client_ref: &str, problem_id: &str, at: i64) {
    let (user_id, client_ref, problem_id) = (user_id.to_string(), client_ref.to_string(), problem_id.to_string());
    b.push(USE_CLIENT_REF, move |a| {
        use sqlx::Arguments;
        a.add(user_id)?;
        a.add(client_ref)?;
        a.add(problem_id)?;
        a.add(at)
    });
}

/// Whether a write was refused because the client reference was used already.
pub fn is_client_ref_taken(e: &sqlx::Error) -> bool {
    super::is_unique_violation(e)
        && matches!(e, sqlx::Error::Database(d) if d.message().contains("client_refs") || d.constraint().is_some_and(|c| c.contains("client_refs")))
}

/// Records a client reference as used (a unique violation: it was used meanwhile).
pub async fn use_client_ref(
    conn: &mut AnyConnection,
    user_id: &str,
    client_ref: &str,
    problem_id: &str,
    at: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(USE_CLIENT_REF).bind(user_id).bind(client_ref).bind(problem_id).bind(at).execute(conn).await.map(|_| ())
}
