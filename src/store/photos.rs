//! Photo records.

use super::Db;
use crate::domain::audit::ObjectType;
use crate::domain::photo::{DeviceWitness, EvidenceFlag, PhotoKind, PhotoOwner};
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
    /// Evidence warnings: each a code, a Chinese sentence and its evidence
    #[serde(serialize_with = "flag_list")]
    #[schema(value_type = Vec<EvidenceFlag>)]
    pub flags: String,
    /// The perceptual hashes the re-use search compares
    #[serde(skip)]
    pub signature: String,
    /// Where the uploading phone was (browser geolocation, WGS-84) and its accuracy in metres
    pub device_lat: Option<f64>,
    pub device_lng: Option<f64>,
    pub device_accuracy: Option<f64>,
    /// The uploading device's clock when it sent the photo (ms); `uploaded_at` is the server's
    pub device_clock: Option<i64>,
}

impl Photo {
    /// The phone's witness stored with the photo.
    pub fn device(&self) -> Option<DeviceWitness> {
        let w = DeviceWitness {
            lat: self.device_lat,
            lng: self.device_lng,
            accuracy_m: self.device_accuracy,
            clock_ms: self.device_clock,
        };
        (w != DeviceWitness::default()).then_some(w)
    }
}

fn flag_list<S: serde::Serializer>(v: &str, s: S) -> Result<S::Ok, S::Error> {
    use serde::Serialize;
    EvidenceFlag::list(v).serialize(s)
}

crate::record! {
    Photo in "photos" as ObjectType::Photo,
    label |p| format!("{} {}", p.kind.label(), p.id),
    insert [id, owner_type, owner_id, content_type, width, height, size, sha256, original_key, thumb_key, uploaded_by,
        uploaded_at, kind, phash, taken_at, lat, lng, flags, signature, device_lat, device_lng, device_accuracy,
        device_clock],
    persistent = false,
}

const COLS: &str = "id, owner_type, owner_id, content_type, width, height, size, sha256, original_key, thumb_key, uploaded_by, \
     uploaded_at, kind, phash, taken_at, lat, lng, flags, signature, device_lat, device_lng, device_accuracy, device_clock";

pub async fn of(db: &Db, owner_type: PhotoOwner, owner_id: &str) -> Result<Vec<Photo>, sqlx::Error> {
    sqlx::query_as::<_, Photo>(&format!(
        "SELECT {COLS} FROM photos WHERE owner_type = $1 AND owner_id = $2 ORDER BY uploaded_at, id"
    ))
    .bind(owner_type)
    .bind(owner_id)
    .fetch_all(&db.pool)
    .await
}

/// The photos of these owners as (owner id, kind, photo id), each owner's in upload order: one
/// read for a list (a notice looks through the hundred problems closed last for before and after
/// photos).
pub async fn kinds_of(
    db: &Db,
    owner_type: PhotoOwner,
    owner_ids: &[String],
) -> Result<Vec<(String, PhotoKind, String)>, sqlx::Error> {
    if owner_ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut w = super::Where::default();
    w.eq("owner_type", Some(owner_type.as_str()));
    w.within("owner_id", Some(owner_ids));
    let sql = format!("SELECT owner_id, kind, id FROM photos{} ORDER BY uploaded_at, id", w.sql());
    super::bind_args_as(sqlx::query_as(&sql), &w.args).fetch_all(&db.pool).await
}

/// The evidence flags of these problems' after-photos as (problem id, flags), each problem's in
/// upload order: one read for a list of fixes waiting for the re-check.
pub async fn after_flags(db: &Db, problem_ids: &[String]) -> Result<Vec<(String, String)>, sqlx::Error> {
    if problem_ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut w = super::Where::default();
    w.eq("owner_type", Some(PhotoOwner::Problem.as_str()));
    w.eq("kind", Some(PhotoKind::After.as_str()));
    w.within("owner_id", Some(problem_ids));
    let sql = format!("SELECT owner_id, flags FROM photos{} ORDER BY uploaded_at, id", w.sql());
    super::bind_args_as(sqlx::query_as(&sql), &w.args).fetch_all(&db.pool).await
}

pub async fn get(db: &Db, id: &str) -> Result<Option<Photo>, sqlx::Error> {
    super::record::find(db, id).await
}

/// Brings the re-use index up to date: the signatures of photos stored since a while before its
/// newest (by any instance, including those committed after newer ones: see
/// `evidence::OVERLAP_MS`), oldest first.
pub async fn refresh_index(db: &Db) -> Result<(), sqlx::Error> {
    let mut index = db.photo_index.lock().await;
    let from = index.overlap_from();
    let rows = sqlx::query_as::<_, (String, String, i64)>(
        "SELECT id, signature, uploaded_at FROM photos WHERE uploaded_at >= $1 ORDER BY uploaded_at, id",
    )
    .bind(from)
    .fetch_all(&db.pool)
    .await?;
    for (id, signature, at) in rows {
        if let Some(sig) = crate::media::evidence::Signature::parse(&signature) {
            index.add(id, sig, at);
        }
    }
    Ok(())
}

/// Photos by id, with the code of the problem each belongs to (None for a point's photo) and
/// the point it shows.
pub async fn with_problem_codes(db: &Db, ids: &[String]) -> Result<Vec<(Photo, Option<String>, String)>, sqlx::Error> {
    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        let cols: String = COLS.split(", ").map(|c| format!("f.{}", c.trim())).collect::<Vec<_>>().join(", ");
        let row = sqlx::query_as::<_, PhotoWithCode>(&format!(
            "SELECT {cols}, q.code AS problem_code, COALESCE(q.point_id, f.owner_id) AS point_id FROM photos f \
             LEFT JOIN problems q ON q.id = f.owner_id AND f.owner_type = 'problem' WHERE f.id = $1"
        ))
        .bind(id)
        .fetch_optional(&db.pool)
        .await?;
        out.extend(row.map(|r| (r.photo, r.problem_code, r.point_id)));
    }
    Ok(out)
}

#[derive(sqlx::FromRow)]
struct PhotoWithCode {
    #[sqlx(flatten)]
    photo: Photo,
    problem_code: Option<String>,
    point_id: String,
}
