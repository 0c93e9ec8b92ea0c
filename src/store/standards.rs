//! Standard versions and their items.

use super::Db;
use crate::domain::standard::{Publication, Severity, TimeUnit};
use serde::Serialize;
use sqlx::AnyConnection;

#[derive(Debug, Clone, sqlx::FromRow, Serialize, utoipa::ToSchema)]
pub struct Version {
    pub id: String,
    pub version_no: i64,
    pub name: String,
    /// draft | published | archived
    pub status: Publication,
    pub note: String,
    pub created_at: i64,
    pub published_at: Option<i64>,
    pub updated_at: i64,
}

#[derive(Debug, Clone, sqlx::FromRow, Serialize, utoipa::ToSchema)]
pub struct Item {
    pub id: String,
    pub version_id: String,
    pub seq: i64,
    pub category: String,
    pub item: String,
    pub major_code: String,
    pub minor_code: String,
    pub requirement: String,
    pub point_types: String,
    pub time_limit: i64,
    pub time_unit: TimeUnit,
    pub severity: Severity,
    pub deduction: f64,
    pub closing_standard: String,
}

const VCOLS: &str = "id, version_no, name, status, note, created_at, published_at, updated_at";
const ICOLS: &str = "id, version_id, seq, category, item, major_code, minor_code, requirement, point_types, time_limit, \
     time_unit, severity, deduction, closing_standard";

pub async fn versions(db: &Db) -> Result<Vec<Version>, sqlx::Error> {
    sqlx::query_as::<_, Version>(&format!("SELECT {VCOLS} FROM standard_versions ORDER BY version_no DESC"))
        .fetch_all(&db.pool)
        .await
}

pub async fn version(db: &Db, id: &str) -> Result<Option<Version>, sqlx::Error> {
    sqlx::query_as::<_, Version>(&format!("SELECT {VCOLS} FROM standard_versions WHERE id = $1"))
        .bind(id)
        .fetch_optional(&db.pool)
        .await
}

pub async fn with_status(conn: &mut AnyConnection, status: &str) -> Result<Option<Version>, sqlx::Error> {
    sqlx::query_as::<_, Version>(&format!(
        "SELECT {VCOLS} FROM standard_versions WHERE status = $1 ORDER BY version_no DESC LIMIT 1"
    ))
    .bind(status)
    .fetch_optional(conn)
    .await
}

pub async fn items(db: &Db, version_id: &str) -> Result<Vec<Item>, sqlx::Error> {
    sqlx::query_as::<_, Item>(&format!(
        "SELECT {ICOLS} FROM standard_items WHERE version_id = $1 ORDER BY major_code, minor_code"
    ))
    .bind(version_id)
    .fetch_all(&db.pool)
    .await
}

pub async fn items_in(conn: &mut AnyConnection, version_id: &str) -> Result<Vec<Item>, sqlx::Error> {
    sqlx::query_as::<_, Item>(&format!(
        "SELECT {ICOLS} FROM standard_items WHERE version_id = $1 ORDER BY major_code, minor_code"
    ))
    .bind(version_id)
    .fetch_all(conn)
    .await
}

pub async fn item(db: &Db, id: &str) -> Result<Option<Item>, sqlx::Error> {
    sqlx::query_as::<_, Item>(&format!("SELECT {ICOLS} FROM standard_items WHERE id = $1"))
        .bind(id)
        .fetch_optional(&db.pool)
        .await
}

pub async fn max_version_no(conn: &mut AnyConnection) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar::<_, Option<i64>>("SELECT MAX(version_no) FROM standard_versions")
        .fetch_one(conn)
        .await
        .map(|v| v.unwrap_or(0))
}

pub async fn insert_version(conn: &mut AnyConnection, v: &Version) -> Result<(), sqlx::Error> {
    sqlx::query(&format!("INSERT INTO standard_versions ({VCOLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"))
        .bind(&v.id)
        .bind(v.version_no)
        .bind(&v.name)
        .bind(v.status)
        .bind(&v.note)
        .bind(v.created_at)
        .bind(v.published_at)
        .bind(v.updated_at)
        .execute(conn)
        .await
        .map(|_| ())
}

pub async fn set_status(
    conn: &mut AnyConnection,
    id: &str,
    status: &str,
    published_at: Option<i64>,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE standard_versions SET status = $1, published_at = COALESCE($2, published_at), updated_at = $3 WHERE id = $4")
        .bind(status)
        .bind(published_at)
        .bind(now)
        .bind(id)
        .execute(conn)
        .await
        .map(|_| ())
}

pub async fn delete_version(conn: &mut AnyConnection, id: &str) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM standard_items WHERE version_id = $1").bind(id).execute(&mut *conn).await?;
    sqlx::query("DELETE FROM standard_versions WHERE id = $1").bind(id).execute(conn).await.map(|_| ())
}

pub async fn insert_item(conn: &mut AnyConnection, i: &Item) -> Result<(), sqlx::Error> {
    sqlx::query(&format!(
        "INSERT INTO standard_items ({ICOLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)"
    ))
    .bind(&i.id)
    .bind(&i.version_id)
    .bind(i.seq)
    .bind(&i.category)
    .bind(&i.item)
    .bind(&i.major_code)
    .bind(&i.minor_code)
    .bind(&i.requirement)
    .bind(&i.point_types)
    .bind(i.time_limit)
    .bind(i.time_unit)
    .bind(i.severity)
    .bind(i.deduction)
    .bind(&i.closing_standard)
    .execute(conn)
    .await
    .map(|_| ())
}

pub async fn update_item(conn: &mut AnyConnection, i: &Item) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE standard_items SET category = $1, item = $2, major_code = $3, minor_code = $4, requirement = $5, point_types = $6, \
         time_limit = $7, time_unit = $8, severity = $9, deduction = $10, closing_standard = $11 WHERE id = $12",
    )
    .bind(&i.category)
    .bind(&i.item)
    .bind(&i.major_code)
    .bind(&i.minor_code)
    .bind(&i.requirement)
    .bind(&i.point_types)
    .bind(i.time_limit)
    .bind(i.time_unit)
    .bind(i.severity)
    .bind(i.deduction)
    .bind(&i.closing_standard)
    .bind(&i.id)
    .execute(conn)
    .await
    .map(|_| ())
}

pub async fn delete_item(conn: &mut AnyConnection, id: &str) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM standard_items WHERE id = $1").bind(id).execute(conn).await.map(|_| ())
}
