//! The responsibility ledger's task list (任务清单).

use super::Db;
use crate::domain::audit::ObjectType;
use crate::domain::unit::TaskStatus;
use serde::Serialize;

#[derive(Debug, Clone, sqlx::FromRow, Serialize, utoipa::ToSchema)]
pub struct Task {
    pub id: String,
    pub unit_id: String,
    pub unit_name: String,
    pub point_id: Option<String>,
    pub title: String,
    pub owner_name: String,
    /// YYYY-MM-DD (Beijing date)
    pub due_date: String,
    /// todo | doing | done
    pub status: TaskStatus,
    pub note: String,
    pub created_at: i64,
    pub updated_at: i64,
    pub version: i64,
}

crate::listed! {
    /// A task as listed, with its point's name.
    TaskRow: Task { point_name: Option<String> }
}

const COLS: &str = "id, unit_id, point_id, title, owner_name, due_date, status, note, created_at, updated_at, version";

crate::record! {
    Task in "tasks" as ObjectType::Task,
    label |t| format!("{} · {}", t.unit_name, t.title),
    insert [id, unit_id, point_id, title, owner_name, due_date, status, note, created_at, updated_at, version],
    update [point_id, title, owner_name, due_date, status, note, updated_at],
}
const ROW: &str = "SELECT t.*, u.name AS unit_name, p.name AS point_name FROM tasks t JOIN units u ON u.id = t.unit_id LEFT JOIN points p ON p.id = t.point_id";

pub async fn get(db: &Db, id: &str) -> Result<Option<Task>, sqlx::Error> {
    sqlx::query_as::<_, Task>(&format!(
        "SELECT {COLS}, (SELECT u.name FROM units u WHERE u.id = tasks.unit_id) AS unit_name FROM tasks WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(&db.pool)
    .await
}

pub async fn for_unit(db: &Db, unit_id: &str) -> Result<Vec<TaskRow>, sqlx::Error> {
    sqlx::query_as::<_, TaskRow>(&format!("{ROW} WHERE t.unit_id = $1 ORDER BY t.status = 'done', t.due_date, t.title"))
        .bind(unit_id)
        .fetch_all(&db.pool)
        .await
}

pub async fn for_point(db: &Db, point_id: &str) -> Result<Vec<TaskRow>, sqlx::Error> {
    sqlx::query_as::<_, TaskRow>(&format!("{ROW} WHERE t.point_id = $1 ORDER BY t.due_date"))
        .bind(point_id)
        .fetch_all(&db.pool)
        .await
}
