//! The evaluation season's rows: the evaluation system's versions and items, simulated rounds,
//! their visits, checks and transfers.

use super::Db;
use crate::domain::audit::ObjectType;
use crate::domain::code::Code;
use crate::domain::evaluation::{EvalState, Leg};
use crate::domain::mutual::CheckResult;
use crate::domain::standard::Publication;
use serde::Serialize;
use sqlx::AnyConnection;

/// A version of the evaluation system (测评体系).
#[derive(Debug, Clone, sqlx::FromRow, Serialize, utoipa::ToSchema)]
pub struct System {
    pub id: String,
    pub version_no: i64,
    pub name: String,
    pub status: Publication,
    pub note: String,
    pub created_at: i64,
    pub published_at: Option<i64>,
    pub updated_at: i64,
    pub version: i64,
}

crate::record! {
    System in "eval_systems" as ObjectType::EvalSystem,
    label |v| format!("第{}版 {}", v.version_no, v.name),
    insert [id, version_no, name, status, note, created_at, published_at, updated_at, version],
    update [name, status, note, published_at, updated_at],
    unique ("", Code::DraftExists, "另一位管理员刚刚创建了草稿，请刷新"),
}

/// One 测评标准 with its 测评项目 and 测评内容, leg, points, point types and units (责任清单).
#[derive(Debug, Clone, sqlx::FromRow, Serialize, utoipa::ToSchema)]
pub struct EvalItem {
    pub id: String,
    pub system_id: String,
    pub seq: i64,
    pub code: String,
    pub project: String,
    pub content: String,
    pub standard: String,
    pub leg: Leg,
    pub points: f64,
    /// Point-type codes separated by commas, `*` for every type (field items)
    pub point_types: String,
    pub lead_unit_id: Option<String>,
    /// Cooperating units' names, separated by 、
    pub coop_units: String,
    pub version: i64,
}

crate::record! {
    EvalItem in "eval_items" as ObjectType::EvalSystem,
    label |i| format!("{} {}", i.code, i.standard),
    insert [id, system_id, seq, code, project, content, standard, leg, points, point_types, lead_unit_id, coop_units,
        version],
}

crate::listed! {
    /// An item with its lead unit's name.
    ItemRow: EvalItem { lead_name: Option<String> }
}

const SCOLS: &str = "id, version_no, name, status, note, created_at, published_at, updated_at, version";
const ICOLS: &str = "i.id, i.system_id, i.seq, i.code, i.project, i.content, i.standard, i.leg, i.points, \
     i.point_types, i.lead_unit_id, i.coop_units, i.version, u.name AS lead_name";

pub async fn systems(db: &Db) -> Result<Vec<System>, sqlx::Error> {
    sqlx::query_as(&format!("SELECT {SCOLS} FROM eval_systems ORDER BY version_no DESC")).fetch_all(&db.pool).await
}

pub async fn system_with(conn: &mut AnyConnection, status: Publication) -> Result<Option<System>, sqlx::Error> {
    sqlx::query_as(&format!("SELECT {SCOLS} FROM eval_systems WHERE status = $1 ORDER BY version_no DESC LIMIT 1"))
        .bind(status)
        .fetch_optional(conn)
        .await
}

pub async fn items(db: &Db, system_id: &str) -> Result<Vec<ItemRow>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT {ICOLS} FROM eval_items i LEFT JOIN units u ON u.id = i.lead_unit_id WHERE i.system_id = $1 ORDER BY i.seq"
    ))
    .bind(system_id)
    .fetch_all(&db.pool)
    .await
}

pub async fn max_version_no(conn: &mut AnyConnection) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar::<_, Option<i64>>("SELECT MAX(version_no) FROM eval_systems")
        .fetch_one(conn)
        .await
        .map(|v| v.unwrap_or(0))
}

/// A simulated evaluation round (模拟测评).
#[derive(Debug, Clone, sqlx::FromRow, Serialize, utoipa::ToSchema)]
pub struct EvalRound {
    pub id: String,
    pub name: String,
    pub system_id: String,
    pub seed: i64,
    pub starts_on: String,
    pub ends_on: String,
    /// Org-node ids (districts or streets) the draw covers, comma-separated; empty: the city
    pub areas: String,
    /// The draw's quotas as "type:count,…"
    pub quotas: String,
    /// Point codes always included, comma-separated
    pub fixed_points: String,
    pub state: EvalState,
    /// Whether the round's last place gets an interview proposal
    pub last_place_interview: i64,
    /// 末位拨付: yuan the last place pays the first (0: none)
    pub transfer_amount: i64,
    pub created_by: Option<String>,
    pub published_at: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
    pub version: i64,
}

crate::record! {
    EvalRound in "eval_rounds" as ObjectType::EvalRound,
    label |r| r.name.clone(),
    insert [id, name, system_id, seed, starts_on, ends_on, areas, quotas, fixed_points, state, last_place_interview,
        transfer_amount, created_by, published_at, created_at, updated_at, version],
    update [state, published_at, updated_at],
}

const RCOLS: &str = "id, name, system_id, seed, starts_on, ends_on, areas, quotas, fixed_points, state, \
     last_place_interview, transfer_amount, created_by, published_at, created_at, updated_at, version";

pub async fn rounds(db: &Db) -> Result<Vec<EvalRound>, sqlx::Error> {
    sqlx::query_as(&format!("SELECT {RCOLS} FROM eval_rounds ORDER BY starts_on DESC, created_at DESC"))
        .fetch_all(&db.pool)
        .await
}

pub async fn round(db: &Db, id: &str) -> Result<Option<EvalRound>, sqlx::Error> {
    super::record::find(db, id).await
}

/// A sampled point of a round with the names of what it refers to.
#[derive(Debug, Clone, sqlx::FromRow, Serialize, utoipa::ToSchema)]
pub struct Visit {
    pub id: String,
    pub round_id: String,
    pub point_id: String,
    pub unit_id: String,
    pub type_code: String,
    pub community_id: Option<String>,
    pub street_id: Option<String>,
    pub district_id: Option<String>,
    pub fixed: i64,
    pub evaluator_id: Option<String>,
    /// todo | done
    pub state: String,
    pub earned: f64,
    pub possible: f64,
    pub passed: i64,
    pub failed: i64,
    pub visited_at: Option<i64>,
    pub version: i64,
}

crate::record! {
    Visit in "eval_visits" as ObjectType::EvalRound,
    label |v| v.point_id.clone(),
    insert [id, round_id, point_id, unit_id, type_code, community_id, street_id, district_id, fixed, evaluator_id, state,
        earned, possible, passed, failed, visited_at, version],
}

crate::listed! {
    VisitRow: Visit {
        point_code: String,
        point_name: String,
        unit_name: String,
        type_name: String,
        community_name: Option<String>,
        street_name: Option<String>,
        district_name: Option<String>,
        evaluator_name: Option<String>,
    }
}

const VSELECT: &str = "SELECT v.id, v.round_id, v.point_id, v.unit_id, v.type_code, v.community_id, v.street_id, \
     v.district_id, v.fixed, v.evaluator_id, v.state, v.earned, v.possible, v.passed, v.failed, v.visited_at, v.version, \
     p.code AS point_code, p.name AS point_name, u.name AS unit_name, t.name AS type_name, c.name AS community_name, \
     s.name AS street_name, d.name AS district_name, e.display_name AS evaluator_name \
     FROM eval_visits v JOIN points p ON p.id = v.point_id JOIN units u ON u.id = v.unit_id \
     JOIN point_types t ON t.code = v.type_code LEFT JOIN org_nodes c ON c.id = v.community_id \
     LEFT JOIN org_nodes s ON s.id = v.street_id LEFT JOIN org_nodes d ON d.id = v.district_id \
     LEFT JOIN users e ON e.id = v.evaluator_id";

pub async fn visits(db: &Db, round_id: &str) -> Result<Vec<VisitRow>, sqlx::Error> {
    sqlx::query_as(&format!("{VSELECT} WHERE v.round_id = $1 ORDER BY s.name, c.name, p.code"))
        .bind(round_id)
        .fetch_all(&db.pool)
        .await
}

pub async fn visit(db: &Db, id: &str) -> Result<Option<VisitRow>, sqlx::Error> {
    sqlx::query_as(&format!("{VSELECT} WHERE v.id = $1")).bind(id).fetch_optional(&db.pool).await
}

/// Records a visit's result if it is still at `version` and waiting.
pub async fn finish_visit(
    conn: &mut AnyConnection,
    id: &str,
    version: i64,
    (earned, possible, passed, failed): (f64, f64, i64, i64),
    at: i64,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE eval_visits SET state = 'done', earned = $1, possible = $2, passed = $3, failed = $4, visited_at = $5, \
         version = version + 1 WHERE id = $6 AND version = $7 AND state = 'todo'",
    )
    .bind(earned)
    .bind(possible)
    .bind(passed)
    .bind(failed)
    .bind(at)
    .bind(id)
    .bind(version)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn add_check(
    conn: &mut AnyConnection,
    visit_id: &str,
    item_id: &str,
    (result, points, note, problem_id): (CheckResult, f64, &str, Option<&str>),
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO eval_checks (visit_id, item_id, result, points, note, problem_id) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(visit_id)
    .bind(item_id)
    .bind(result)
    .bind(points)
    .bind(note)
    .bind(problem_id)
    .execute(conn)
    .await
    .map(|_| ())
}

/// A visit's checks: (item code, standard, result, note, problem code).
/// A visit's checks: item code, standard, result, note, the problem filed (code, id).
pub type CheckLine = (String, String, CheckResult, String, Option<String>, Option<String>);

pub async fn checks(db: &Db, visit_id: &str) -> Result<Vec<CheckLine>, sqlx::Error> {
    sqlx::query_as(
        "SELECT i.code, i.standard, c.result, c.note, p.code, p.id FROM eval_checks c JOIN eval_items i ON i.id = c.item_id \
         LEFT JOIN problems p ON p.id = c.problem_id WHERE c.visit_id = $1 ORDER BY i.seq",
    )
    .bind(visit_id)
    .fetch_all(&db.pool)
    .await
}

/// Every check of a round: (item id, code, standard, result, points) for the item breakdown.
pub async fn round_checks(
    db: &Db,
    round_id: &str,
) -> Result<Vec<(String, String, String, CheckResult, f64)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT i.id, i.code, i.standard, c.result, c.points FROM eval_checks c JOIN eval_items i ON i.id = c.item_id \
         JOIN eval_visits v ON v.id = c.visit_id WHERE v.round_id = $1 ORDER BY i.seq",
    )
    .bind(round_id)
    .fetch_all(&db.pool)
    .await
}

/// 末位拨付 as recorded.
#[derive(Debug, Clone, sqlx::FromRow, Serialize, utoipa::ToSchema)]
pub struct Transfer {
    pub id: String,
    pub round_id: String,
    pub from_unit_id: String,
    pub to_unit_id: String,
    pub amount: i64,
    pub interview_id: Option<String>,
    pub created_by: Option<String>,
    pub created_at: i64,
}

crate::record! {
    Transfer in "eval_transfers" as ObjectType::EvalRound,
    label |t| format!("末位拨付 {}元", t.amount),
    insert [id, round_id, from_unit_id, to_unit_id, amount, interview_id, created_by, created_at],
}

/// A transfer with the names: (round name, from, to, amount, when).
pub async fn transfers_of_year(db: &Db, year: i32) -> Result<Vec<(String, String, String, i64, String)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT r.name, f.name, t.name, x.amount, r.ends_on FROM eval_transfers x JOIN eval_rounds r ON r.id = x.round_id \
         JOIN units f ON f.id = x.from_unit_id JOIN units t ON t.id = x.to_unit_id WHERE r.ends_on LIKE $1 \
         ORDER BY r.ends_on",
    )
    .bind(format!("{year}-%"))
    .fetch_all(&db.pool)
    .await
}

pub async fn transfer_of(db: &Db, round_id: &str) -> Result<Option<Transfer>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, round_id, from_unit_id, to_unit_id, amount, interview_id, created_by, created_at FROM eval_transfers \
         WHERE round_id = $1",
    )
    .bind(round_id)
    .fetch_optional(&db.pool)
    .await
}

/// How many visits of a round are done, as the caller's write sees it.
pub async fn done_visits(conn: &mut AnyConnection, round_id: &str) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("SELECT COUNT(*) FROM eval_visits WHERE round_id = $1 AND state = 'done'")
        .bind(round_id)
        .fetch_one(conn)
        .await
}
