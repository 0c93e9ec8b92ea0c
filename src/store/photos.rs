//! Photo records.

use super::Db;
use crate::domain::audit::ObjectType;
use crate::domain::photo::{PhotoKind, PhotoOwner};
use serde::Serialize;

#[derive(Debug, Clone, sqlx::FromRow, Serialize, utoipa::ToSchema)]
pub struct Photo {
    pub id: String,
    /// point (problem photos come later)
    pub owner_type: PhotoOwner,
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
    pub kind: PhotoKind,
    /// Perceptual hash, 16 hex digits
    pub phash: String,
    /// EXIF time the photo was taken
    pub taken_at: Option<i64>,
    /// EXIF position (WGS-84)
    pub lat: Option<f64>,
    pub lng: Option<f64>,
    /// Evidence warnings in Chinese, e.g. a re-used photo
    #[serde(serialize_with = "json_list")]
    #[schema(value_type = Vec<String>)]
    pub flags: String,
}

fn json_list<S: serde::Serializer>(v: &str, s: S) -> Result<S::Ok, S::Error> {
    use serde::Serialize;
    serde_json::from_str::<Vec<String>>(v).unwrap_or_default().serialize(s)
}

crate::record! {
    Photo in "photos" as ObjectType::Photo,
    label |p| format!("{} {}", p.kind.label(), p.id),
    insert [id, owner_type, owner_id, content_type, width, height, size, sha256, original_key, thumb_key, uploaded_by,
        uploaded_at, kind, phash, taken_at, lat, lng, flags],
    persistent = false,
}

const COLS: &str = "id, owner_type, owner_id, content_type, width, height, size, sha256, original_key, thumb_key, uploaded_by, \
     uploaded_at, kind, phash, taken_at, lat, lng, flags";

pub async fn of(db: &Db, owner_type: PhotoOwner, owner_id: &str) -> Result<Vec<Photo>, sqlx::Error> {
    sqlx::query_as::<_, Photo>(&format!(
        "SELECT {COLS} FROM photos WHERE owner_type = $1 AND owner_id = $2 ORDER BY uploaded_at, id"
    ))
    .bind(owner_type)
    .bind(owner_id)
    .fetch_all(&db.pool)
    .await
}

pub async fn get(db: &Db, id: &str) -> Result<Option<Photo>, sqlx::Error> {
    super::record::find(db, id).await
}

/// Photos that an after-photo could be a copy of: every photo of other problems at the same point,
/// and any problem photo anywhere with the same bytes.
pub async fn candidates_for_reuse(
    db: &Db,
    problem_id: &str,
    point_id: &str,
    sha256: &str,
) -> Result<Vec<(Photo, String)>, sqlx::Error> {
    let cols: String = COLS.split(", ").map(|c| format!("f.{}", c.trim())).collect::<Vec<_>>().join(", ");
    sqlx::query_as::<_, PhotoWithCode>(&format!(
        "SELECT {cols}, q.code AS problem_code FROM photos f JOIN problems q ON q.id = f.owner_id \
         WHERE f.owner_type = 'problem' AND q.id <> $1 AND (q.point_id = $2 OR f.sha256 = $3)"
    ))
    .bind(problem_id)
    .bind(point_id)
    .bind(sha256)
    .fetch_all(&db.pool)
    .await
    .map(|v| v.into_iter().map(|r| (r.photo, r.problem_code)).collect())
}

#[derive(sqlx::FromRow)]
struct PhotoWithCode {
    #[sqlx(flatten)]
    photo: Photo,
    problem_code: String,
}
