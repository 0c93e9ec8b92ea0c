//! Photo records.

use super::Db;
use serde::Serialize;
use sqlx::AnyConnection;

#[derive(Debug, Clone, sqlx::FromRow, Serialize, utoipa::ToSchema)]
pub struct Photo {
    pub id: String,
    /// point (problem photos come later)
    pub owner_type: String,
    pub owner_id: String,
    pub content_type: String,
    pub width: i64,
    pub height: i64,
    pub size: i64,
    pub sha256: String,
    #[serde(skip)]
    pub original_key: String,
    #[serde(skip)]
    pub thumb_key: String,
    pub uploaded_by: Option<String>,
    pub uploaded_at: i64,
    /// For problems: before | after
    pub kind: String,
}

const COLS: &str = "id, owner_type, owner_id, content_type, width, height, size, sha256, original_key, thumb_key, uploaded_by, uploaded_at, kind";

pub async fn of(db: &Db, owner_type: &str, owner_id: &str) -> Result<Vec<Photo>, sqlx::Error> {
    sqlx::query_as::<_, Photo>(&format!(
        "SELECT {COLS} FROM photos WHERE owner_type = $1 AND owner_id = $2 ORDER BY uploaded_at, id"
    ))
    .bind(owner_type)
    .bind(owner_id)
    .fetch_all(&db.pool)
    .await
}

pub async fn get(db: &Db, id: &str) -> Result<Option<Photo>, sqlx::Error> {
    sqlx::query_as::<_, Photo>(&format!("SELECT {COLS} FROM photos WHERE id = $1"))
        .bind(id)
        .fetch_optional(&db.pool)
        .await
}

pub async fn insert(conn: &mut AnyConnection, p: &Photo) -> Result<(), sqlx::Error> {
    sqlx::query(&format!("INSERT INTO photos ({COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)"))
        .bind(&p.id)
        .bind(&p.owner_type)
        .bind(&p.owner_id)
        .bind(&p.content_type)
        .bind(p.width)
        .bind(p.height)
        .bind(p.size)
        .bind(&p.sha256)
        .bind(&p.original_key)
        .bind(&p.thumb_key)
        .bind(&p.uploaded_by)
        .bind(p.uploaded_at)
        .bind(&p.kind)
        .execute(conn)
        .await
        .map(|_| ())
}

pub async fn delete(conn: &mut AnyConnection, id: &str) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM photos WHERE id = $1").bind(id).execute(conn).await.map(|_| ())
}
