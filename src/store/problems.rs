//! The problem ledger and each problem's history.

use super::{Db, PageReq, Where, bind_args_as, like_pattern};
use serde::Serialize;
use sqlx::AnyConnection;

#[derive(Debug, Clone, sqlx::FromRow, Serialize, utoipa::ToSchema)]
pub struct Problem {
    pub id: String,
    pub code: String,
    pub point_id: String,
    pub unit_id: String,
    pub lead_name: String,
    /// The standard item judged against (it belongs to one version for good)
    pub standard_item_id: Option<String>,
    pub category: String,
    pub severity: String,
    pub source: String,
    pub description: String,
    pub state: String,
    pub extension_pending: i64,
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
}

const COLS: &str = "id, code, point_id, unit_id, lead_name, standard_item_id, category, severity, source, description, state, \
     extension_pending, extension_days, extensions, postponed, rework_count, reported_by, reporter_name, found_at, filed_at, \
     dispatched_at, acknowledged_at, submitted_at, closed_at, voided_at, deadline_at, fix_note, created_at, updated_at, version";

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
    pub severity: String,
    pub source: String,
    pub description: String,
    pub state: String,
    pub rework_count: i64,
    pub found_at: i64,
    pub deadline_at: Option<i64>,
    pub closed_at: Option<i64>,
}

#[derive(Debug, Default, Clone)]
pub struct ProblemFilter {
    pub states: Option<Vec<String>>,
    pub unit_id: Option<String>,
    pub area_ids: Option<Vec<String>>,
    pub type_id: Option<String>,
    pub source: Option<String>,
    pub severity: Option<String>,
    pub from_ms: Option<i64>,
    pub to_ms: Option<i64>,
    /// Overdue at this moment
    pub overdue_at: Option<i64>,
    pub reworked: bool,
    pub keyword: Option<String>,
    /// Dispatched within [from, to) (the KPI period)
    pub dispatched_from: Option<i64>,
    pub dispatched_to: Option<i64>,
    pub closed_only: bool,
    pub closed_on_time: bool,
    pub extended: bool,
    /// Open (clock running) with a deadline before this moment
    pub due_before: Option<i64>,
}

const ROW: &str = "SELECT q.id, q.code, q.point_id, p.name AS point_name, t.name AS type_name, q.unit_id, u.name AS unit_name, \
     q.lead_name, q.category, q.severity, q.source, q.description, q.state, q.rework_count, q.found_at, q.deadline_at, q.closed_at \
     FROM problems q JOIN points p ON p.id = q.point_id JOIN point_types t ON t.id = p.type_id JOIN units u ON u.id = q.unit_id";

fn filter_sql(db: &Db, f: &ProblemFilter) -> Where {
    let mut w = Where::default();
    if let Some(states) = &f.states {
        let ps: Vec<String> = states.iter().map(|s| w.text(s)).collect();
        w.and(if ps.is_empty() { "1 = 0".into() } else { format!("q.state IN ({})", ps.join(",")) });
    }
    for (col, v) in
        [("q.unit_id", &f.unit_id), ("p.type_id", &f.type_id), ("q.source", &f.source), ("q.severity", &f.severity)]
    {
        if let Some(v) = v {
            let p = w.text(v);
            w.and(format!("{col} = {p}"));
        }
    }
    if let Some(ids) = &f.area_ids {
        let ps: Vec<String> = ids.iter().map(|i| w.text(i)).collect();
        w.and(if ps.is_empty() { "1 = 0".into() } else { format!("p.community_id IN ({})", ps.join(",")) });
    }
    if let Some(from) = f.from_ms {
        let p = w.int(from);
        w.and(format!("q.found_at >= {p}"));
    }
    if let Some(to) = f.to_ms {
        let p = w.int(to);
        w.and(format!("q.found_at < {p}"));
    }
    if let Some(now) = f.overdue_at {
        let p = w.int(now);
        w.and(format!("q.state IN ('dispatched', 'acknowledged', 'submitted') AND q.deadline_at < {p}"));
    }
    if f.reworked {
        w.and("q.rework_count > 0".into());
    }
    if let Some(from) = f.dispatched_from {
        let p = w.int(from);
        w.and(format!("q.dispatched_at >= {p}"));
    }
    if let Some(to) = f.dispatched_to {
        let p = w.int(to);
        w.and(format!("q.dispatched_at < {p}"));
    }
    if f.closed_only {
        w.and("q.state = 'closed'".into());
    }
    if f.closed_on_time {
        w.and("q.state = 'closed' AND q.closed_at <= q.deadline_at".into());
    }
    if f.extended {
        w.and("q.extensions > 0".into());
    }
    if let Some(t) = f.due_before {
        let p = w.int(t);
        w.and(format!("q.state IN ('dispatched', 'acknowledged') AND q.deadline_at < {p}"));
    }
    if let Some(k) = &f.keyword {
        let p = w.text(like_pattern(k));
        w.and(format!(
            "(q.description {op} {p} ESCAPE '\\' OR q.code {op} {p} ESCAPE '\\' OR q.category {op} {p} ESCAPE '\\' OR p.name {op} {p} ESCAPE '\\')",
            op = db.ilike()
        ));
    }
    w
}

pub async fn list(db: &Db, f: &ProblemFilter, page: PageReq) -> Result<(Vec<ProblemRow>, i64), sqlx::Error> {
    let w = filter_sql(db, f);
    // The count joins points only when a filter needs them (area, point type, keyword).
    let needs_points = f.area_ids.is_some() || f.type_id.is_some() || f.keyword.is_some();
    let from = if needs_points { "problems q JOIN points p ON p.id = q.point_id" } else { "problems q" };
    let total = super::count(db, from, &w).await?;
    let sql = format!("{ROW}{} ORDER BY q.found_at DESC, q.id DESC{}", w.sql(), page.limit_offset());
    let rows = bind_args_as(sqlx::query_as::<_, ProblemRow>(&sql), &w.args).fetch_all(&db.pool).await?;
    Ok((rows, total))
}

pub async fn get(db: &Db, id: &str) -> Result<Option<Problem>, sqlx::Error> {
    sqlx::query_as::<_, Problem>(&format!("SELECT {COLS} FROM problems WHERE id = $1"))
        .bind(id)
        .fetch_optional(&db.pool)
        .await
}

pub async fn insert(conn: &mut AnyConnection, p: &Problem) -> Result<(), sqlx::Error> {
    let placeholders: Vec<String> = (1..=30).map(|i| format!("${i}")).collect();
    sqlx::query(&format!("INSERT INTO problems ({COLS}) VALUES ({})", placeholders.join(", ")))
        .bind(&p.id)
        .bind(&p.code)
        .bind(&p.point_id)
        .bind(&p.unit_id)
        .bind(&p.lead_name)
        .bind(&p.standard_item_id)
        .bind(&p.category)
        .bind(&p.severity)
        .bind(&p.source)
        .bind(&p.description)
        .bind(&p.state)
        .bind(p.extension_pending)
        .bind(p.extension_days)
        .bind(p.extensions)
        .bind(p.postponed)
        .bind(p.rework_count)
        .bind(&p.reported_by)
        .bind(&p.reporter_name)
        .bind(p.found_at)
        .bind(p.filed_at)
        .bind(p.dispatched_at)
        .bind(p.acknowledged_at)
        .bind(p.submitted_at)
        .bind(p.closed_at)
        .bind(p.voided_at)
        .bind(p.deadline_at)
        .bind(&p.fix_note)
        .bind(p.created_at)
        .bind(p.updated_at)
        .bind(p.version)
        .execute(conn)
        .await
        .map(|_| ())
}

/// Writes the changeable fields if the row is still at `expected_version`; false on a conflict.
pub async fn update(conn: &mut AnyConnection, p: &Problem, expected_version: i64) -> Result<bool, sqlx::Error> {
    let r = sqlx::query(
        "UPDATE problems SET unit_id = $1, lead_name = $2, state = $3, extension_pending = $4, extension_days = $5, extensions = $6, \
         postponed = $7, rework_count = $8, filed_at = $9, dispatched_at = $10, acknowledged_at = $11, submitted_at = $12, \
         closed_at = $13, voided_at = $14, deadline_at = $15, fix_note = $16, updated_at = $17, version = version + 1 \
         WHERE id = $18 AND version = $19",
    )
    .bind(&p.unit_id)
    .bind(&p.lead_name)
    .bind(&p.state)
    .bind(p.extension_pending)
    .bind(p.extension_days)
    .bind(p.extensions)
    .bind(p.postponed)
    .bind(p.rework_count)
    .bind(p.filed_at)
    .bind(p.dispatched_at)
    .bind(p.acknowledged_at)
    .bind(p.submitted_at)
    .bind(p.closed_at)
    .bind(p.voided_at)
    .bind(p.deadline_at)
    .bind(&p.fix_note)
    .bind(p.updated_at)
    .bind(&p.id)
    .bind(expected_version)
    .execute(conn)
    .await?;
    Ok(r.rows_affected() == 1)
}

#[derive(Debug, Clone, sqlx::FromRow, Serialize, utoipa::ToSchema)]
pub struct Event {
    pub id: String,
    pub problem_id: String,
    pub at: i64,
    pub actor_id: Option<String>,
    pub actor_name: String,
    pub action: String,
    pub from_state: Option<String>,
    pub to_state: String,
    pub note: String,
}

pub async fn insert_event(conn: &mut AnyConnection, e: &Event) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO problem_events (id, problem_id, at, actor_id, actor_name, action, from_state, to_state, note) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(&e.id)
    .bind(&e.problem_id)
    .bind(e.at)
    .bind(&e.actor_id)
    .bind(&e.actor_name)
    .bind(&e.action)
    .bind(&e.from_state)
    .bind(&e.to_state)
    .bind(&e.note)
    .execute(conn)
    .await
    .map(|_| ())
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

/// The timestamps and flags the KPIs need, for problems dispatched in [from, to), with the unit
/// and community they count for.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct KpiRow {
    pub unit_id: String,
    pub unit_name: String,
    pub community_id: Option<String>,
    pub community_name: Option<String>,
    pub state: String,
    pub dispatched_at: Option<i64>,
    pub submitted_at: Option<i64>,
    pub closed_at: Option<i64>,
    pub deadline_at: Option<i64>,
    pub rework_count: i64,
    pub extensions: i64,
    pub postponed: i64,
}

pub async fn kpi_rows(db: &Db, f: &ProblemFilter) -> Result<Vec<KpiRow>, sqlx::Error> {
    let w = filter_sql(db, f);
    let sql = format!(
        "SELECT q.unit_id, u.name AS unit_name, p.community_id, c.name AS community_name, q.state, q.dispatched_at, \
         q.submitted_at, q.closed_at, q.deadline_at, q.rework_count, q.extensions, q.postponed \
         FROM problems q JOIN points p ON p.id = q.point_id JOIN units u ON u.id = q.unit_id \
         LEFT JOIN org_nodes c ON c.id = p.community_id{}",
        w.sql()
    );
    bind_args_as(sqlx::query_as::<_, KpiRow>(&sql), &w.args).fetch_all(&db.pool).await
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
    let sql = format!("{ROW}{} ORDER BY q.found_at DESC", w.sql());
    bind_args_as(sqlx::query_as::<_, ProblemRow>(&sql), &w.args).fetch_all(&db.pool).await
}
