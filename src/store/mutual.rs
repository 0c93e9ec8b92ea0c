//! 互评互查 rounds, their point assignments (tasks) and the items checked at each point.

use super::Db;
use crate::domain::audit::ObjectType;
use crate::domain::mutual::{CheckResult, RoundState};
use crate::domain::window::Sector;
use serde::Serialize;
use sqlx::AnyConnection;

#[derive(Debug, Clone, sqlx::FromRow, Serialize, utoipa::ToSchema)]
pub struct Round {
    pub id: String,
    pub name: String,
    pub sector: Sector,
    /// The published standard the points are checked against
    pub standard_version_id: String,
    /// The assignment is reproducible from it
    pub seed: i64,
    pub starts_on: String,
    pub ends_on: String,
    pub state: RoundState,
    pub created_by: Option<String>,
    pub published_at: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
    pub version: i64,
}

crate::record! {
    Round in "mutual_rounds" as ObjectType::MutualRound,
    label |r| r.name.clone(),
    insert [id, name, sector, standard_version_id, seed, starts_on, ends_on, state, created_by, published_at,
        created_at, updated_at, version],
    update [state, published_at, updated_at],
}

#[derive(Debug, Clone, sqlx::FromRow, Serialize, utoipa::ToSchema)]
pub struct Task {
    pub id: String,
    pub round_id: String,
    pub point_id: String,
    /// The inspected unit (the point's)
    pub owner_unit_id: String,
    /// The unit that inspects it
    pub inspector_unit_id: String,
    /// todo | done
    pub state: String,
    pub passed: i64,
    pub failed: i64,
    pub applicable: i64,
    pub inspected_by: Option<String>,
    pub inspected_at: Option<i64>,
    pub version: i64,
}

crate::record! {
    Task in "mutual_tasks" as ObjectType::MutualRound,
    label |t| format!("互评互查点位 {}", t.point_id),
    insert [id, round_id, point_id, owner_unit_id, inspector_unit_id, state, passed, failed, applicable, inspected_by,
        inspected_at, version],
}

crate::listed! {
    /// A task as the round's page lists it.
    TaskRow: Task {
        point_code: String,
        point_name: String,
        type_code: String,
        owner_name: String,
        inspector_name: String,
    }
}

impl TaskRow {
    /// Passed over applicable, in percent.
    pub fn score(&self) -> Option<f64> {
        if self.state == "done" { crate::domain::mutual::score(self.passed, self.applicable) } else { None }
    }
}

pub async fn rounds(db: &Db) -> Result<Vec<Round>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, name, sector, standard_version_id, seed, starts_on, ends_on, state, created_by, published_at, \
         created_at, updated_at, version FROM mutual_rounds ORDER BY created_at DESC",
    )
    .fetch_all(&db.pool)
    .await
}

pub async fn round(db: &Db, id: &str) -> Result<Option<Round>, sqlx::Error> {
    super::record::find(db, id).await
}

const TASK_SELECT: &str = "SELECT t.*, p.code AS point_code, p.name AS point_name, y.code AS type_code, \
     o.name AS owner_name, i.name AS inspector_name FROM mutual_tasks t JOIN points p ON p.id = t.point_id \
     JOIN point_types y ON y.id = p.type_id JOIN units o ON o.id = t.owner_unit_id JOIN units i ON i.id = t.inspector_unit_id";

pub async fn tasks(db: &Db, round_id: &str) -> Result<Vec<TaskRow>, sqlx::Error> {
    sqlx::query_as(&format!("{TASK_SELECT} WHERE t.round_id = $1 ORDER BY p.code"))
        .bind(round_id)
        .fetch_all(&db.pool)
        .await
}

pub async fn task(db: &Db, id: &str) -> Result<Option<TaskRow>, sqlx::Error> {
    sqlx::query_as(&format!("{TASK_SELECT} WHERE t.id = $1")).bind(id).fetch_optional(&db.pool).await
}

/// Marks a task done with its counts if it is still at `version`; false when someone was first.
pub async fn finish(
    conn: &mut AnyConnection,
    id: &str,
    version: i64,
    (passed, failed, applicable): (i64, i64, i64),
    (by, at): (Option<&str>, i64),
) -> Result<bool, sqlx::Error> {
    Ok(sqlx::query(
        "UPDATE mutual_tasks SET state = 'done', passed = $1, failed = $2, applicable = $3, inspected_by = $4, \
         inspected_at = $5, version = version + 1 WHERE id = $6 AND version = $7 AND state = 'todo'",
    )
    .bind(passed)
    .bind(failed)
    .bind(applicable)
    .bind(by)
    .bind(at)
    .bind(id)
    .bind(version)
    .execute(conn)
    .await?
    .rows_affected()
        == 1)
}

pub async fn add_check(
    conn: &mut AnyConnection,
    task_id: &str,
    item_id: &str,
    (result, note, problem_id): (CheckResult, &str, Option<&str>),
) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO mutual_checks (task_id, item_id, result, note, problem_id) VALUES ($1, $2, $3, $4, $5)")
        .bind(task_id)
        .bind(item_id)
        .bind(result)
        .bind(note)
        .bind(problem_id)
        .execute(conn)
        .await?;
    Ok(())
}

/// The checks of a task: (item label, result, note, problem code).
pub async fn checks(db: &Db, task_id: &str) -> Result<Vec<(String, CheckResult, String, Option<String>)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT s.category || ' · ' || s.item, c.result, c.note, q.code FROM mutual_checks c \
         JOIN standard_items s ON s.id = c.item_id LEFT JOIN problems q ON q.id = c.problem_id \
         WHERE c.task_id = $1 ORDER BY s.major_code, s.minor_code",
    )
    .bind(task_id)
    .fetch_all(&db.pool)
    .await
}
