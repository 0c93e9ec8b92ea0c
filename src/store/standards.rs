//! Standard versions and their items.

use super::Db;
use crate::domain::audit::ObjectType;
use crate::domain::code::Code;
use crate::domain::standard::{Publication, ValidItem};
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
    pub version: i64,
}

#[derive(Debug, Clone, sqlx::FromRow, Serialize, utoipa::ToSchema)]
pub struct Item {
    pub id: String,
    pub version_id: String,
    pub seq: i64,
    /// What the item requires, as checked
    #[sqlx(flatten)]
    #[serde(flatten)]
    pub spec: ValidItem,
    pub version: i64,
}

impl std::ops::Deref for Item {
    type Target = ValidItem;
    fn deref(&self) -> &ValidItem {
        &self.spec
    }
}

const VCOLS: &str = "id, version_no, name, status, note, created_at, published_at, updated_at, version";

crate::record! {
    Version in "standard_versions" as ObjectType::StandardVersion,
    label |v| format!("第{}版 {}", v.version_no, v.name),
    insert [id, version_no, name, status, note, created_at, published_at, updated_at, version],
    update [name, status, note, published_at, updated_at],
    unique ("", Code::DraftExists, "另一位管理员刚刚创建了草稿，请刷新"),
    persistent = false,
}

crate::record! {
    Item in "standard_items" as ObjectType::StandardItem,
    label |i| format!("{}{} {}·{}", i.major_code, i.minor_code, i.category, i.item),
    insert [id, version_id, seq, category, item, major_code, minor_code, requirement, point_types, time_limit,
        time_unit, severity, deduction, closing_standard, version],
    update [category, item, major_code, minor_code, requirement, point_types, time_limit, time_unit, severity,
        deduction, closing_standard],
    unique ("minor_code", Code::DuplicateCode, "本版本中已有相同的大类/小类编码"),
}
const ICOLS: &str = "id, version_id, seq, category, item, major_code, minor_code, requirement, point_types, time_limit, \
     time_unit, severity, deduction, closing_standard, version";

pub async fn versions(db: &Db) -> Result<Vec<Version>, sqlx::Error> {
    sqlx::query_as::<_, Version>(&format!("SELECT {VCOLS} FROM standard_versions ORDER BY version_no DESC"))
        .fetch_all(&db.pool)
        .await
}

pub async fn version(db: &Db, id: &str) -> Result<Option<Version>, sqlx::Error> {
    super::record::find(db, id).await
}

pub async fn with_status(conn: &mut AnyConnection, status: Publication) -> Result<Option<Version>, sqlx::Error> {
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
    super::record::find(db, id).await
}

pub async fn max_version_no(conn: &mut AnyConnection) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar::<_, Option<i64>>("SELECT MAX(version_no) FROM standard_versions")
        .fetch_one(conn)
        .await
        .map(|v| v.unwrap_or(0))
}

/// Removes a version's items (a discarded draft).
pub async fn delete_items_of(conn: &mut AnyConnection, version_id: &str) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM standard_items WHERE version_id = $1").bind(version_id).execute(conn).await.map(|_| ())
}
