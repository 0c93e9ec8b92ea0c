//! The responsibility ledger's task list (任务清单).

use super::Db;
use crate::domain::unit::TaskStatus;
use serde::Serialize;
use sqlx::AnyConnection;

#[derive(Debug, Clone, sqlx::FromRow, Serialize, utoipa::ToSchema)]
pub struct Task {
    pub id: String,
    pub unit_id: String,
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

#[derive(Debug, Clone, sqlx::FromRow, Serialize, utoipa::ToSchema)]
pub struct TaskRow {
    pub id: String,
    pub unit_id: String,
    pub unit_name: String,
    pub point_id: Option<String>,
    pub point_name: Option<String>,
    pub title: String,
    pub owner_name: String,
    pub due_date: String,
    pub status: TaskStatus,
    pub note: String,
    pub version: i64,
}

const COLS: &str = "id, unit_id, point_id, title, owner_name, due_date, status, note, created_at, updated_at, version";
const ROW: &str = "SELECT t.id, t.unit_id, u.name AS unit_name, t.point_id, p.name AS point_name, t.title, t.owner_name, t.due_date, \
     t.status, t.note, t.version FROM tasks t JOIN units u ON u.id = t.unit_id LEFT JOIN points p ON p.id = t.point_id";

pub async fn get(db: &Db, id: &str) -> Result<Option<Task>, sqlx::Error> {
    sqlx::query_as::<_, Task>(&format!("SELECT {COLS} FROM tasks WHERE id = $1"))
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

pub async fn insert(conn: &mut AnyConnection, t: &Task) -> Result<(), sqlx::Error> {
    sqlx::query(&format!("INSERT INTO tasks ({COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"))
        .bind(&t.id)
        .bind(&t.unit_id)
        .bind(&t.point_id)
        .bind(&t.title)
        .bind(&t.owner_name)
        .bind(&t.due_date)
        .bind(t.status)
        .bind(&t.note)
        .bind(t.created_at)
        .bind(t.updated_at)
        .bind(t.version)
        .execute(conn)
        .await
        .map(|_| ())
}

pub async fn update(conn: &mut AnyConnection, t: &Task, expected_version: i64) -> Result<bool, sqlx::Error> {
    let r = sqlx::query(
        "UPDATE tasks SET point_id = $1, title = $2, owner_name = $3, due_date = $4, status = $5, note = $6, updated_at = $7, \
         version = version + 1 WHERE id = $8 AND version = $9",
    )
    .bind(&t.point_id)
    .bind(&t.title)
    .bind(&t.owner_name)
    .bind(&t.due_date)
    .bind(t.status)
    .bind(&t.note)
    .bind(t.updated_at)
    .bind(&t.id)
    .bind(expected_version)
    .execute(conn)
    .await?;
    Ok(r.rows_affected() == 1)
}

pub async fn delete(conn: &mut AnyConnection, id: &str) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM tasks WHERE id = $1").bind(id).execute(conn).await.map(|_| ())
}
