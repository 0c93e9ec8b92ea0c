//! Photos of points (现场照片): up to nine per point, added by the office or the point's unit.

use super::Ctx;
use super::points::visible;
use crate::domain::audit::{ObjectType, Verb};
use crate::domain::photo::{DeviceWitness, PhotoKind, PhotoOwner};
use crate::domain::role::Role;
use crate::domain::{ids::new_id, time::now_ms, time::to_local};
use crate::error::{AppError, AppResult, Code};
use crate::media::{self, storage::Storage, storage::Unkept};
use crate::store::photos::{self as store, Photo};
use crate::store::record::Insert;

pub const MAX_PER_POINT: usize = 9;

fn may_change(ctx: &Ctx<'_>, unit_id: &str) -> bool {
    ctx.user.role == Role::Admin || (ctx.user.role == Role::UnitUser && ctx.user.unit_id.as_deref() == Some(unit_id))
}

pub async fn add_to_point(ctx: &Ctx<'_>, storage: &Storage, point_id: &str, bytes: Vec<u8>) -> AppResult<Photo> {
    let point = visible(ctx, point_id).await?;
    if !may_change(ctx, &point.unit_id) {
        return Err(AppError::Forbidden);
    }
    if store::of(ctx.db, PhotoOwner::Point, &point.id).await?.len() >= MAX_PER_POINT {
        return Err(AppError::refuse(
            Code::TooManyPhotos,
            format!("每个点位最多保存{MAX_PER_POINT}张照片，请先删除旧照片"),
        ));
    }
    let photo = prepare(storage, (PhotoOwner::Point, &point.id, PhotoKind::Point), bytes, None, ctx).await?;
    let files = Unkept::of(storage, std::slice::from_ref(&photo));
    let mut w = ctx.write().await?;
    photo.insert(w.conn()).await?;
    let label = format!("{} {} · 照片", point.code, point.name);
    w.audit(Verb::Create, ObjectType::Photo, &photo.id, &label, None, photo.snapshot()).await?;
    let committed = w.commit().await;
    files.keep();
    committed?;
    Ok(photo)
}

/// The photos' files as files not kept yet (see `Unkept`).
impl Unkept {
    pub fn of(storage: &Storage, photos: &[Photo]) -> Unkept {
        let mut files = Unkept::new(storage);
        photos.iter().for_each(|p| files.add(p));
        files
    }

    pub fn add(&mut self, photo: &Photo) {
        self.add_key(&photo.original_key);
        self.add_key(&photo.thumb_key);
    }
}

/// The photos of a checklist's failed items, checked and stored before anything is written
/// (owned by the problems filed later), each item's in its own list; `files` tracks them so a
/// refused check leaves none behind.
pub async fn prepare_per_item(
    ctx: &Ctx<'_>,
    storage: &Storage,
    per_item: Vec<Vec<Vec<u8>>>,
    files: &mut Unkept,
) -> AppResult<Vec<Vec<Photo>>> {
    let mut prepared = Vec::with_capacity(per_item.len());
    for photos in per_item {
        let mut ps = Vec::with_capacity(photos.len());
        for bytes in photos {
            ps.push(prepare(storage, (PhotoOwner::Problem, "", PhotoKind::Before), bytes, None, ctx).await?);
            files.add(ps.last().expect("just stored"));
        }
        prepared.push(ps);
    }
    Ok(prepared)
}

/// Checks a photo, writes its original and thumbnail to storage, and returns the row to insert
/// (in the caller's transaction), with the uploading phone's witness when it sent one.
pub async fn prepare(
    storage: &Storage,
    (owner_type, owner_id, kind): (PhotoOwner, &str, PhotoKind),
    bytes: Vec<u8>,
    device: Option<DeviceWitness>,
    ctx: &Ctx<'_>,
) -> AppResult<Photo> {
    let processed = tokio::task::spawn_blocking(move || media::intake(&bytes))
        .await
        .map_err(|e| anyhow::anyhow!(e))?
        .map_err(|e| AppError::refuse(e.code(), e.message()))?;
    let now = now_ms();
    let id = new_id();
    let month = to_local(now).format("%Y/%m").to_string();
    let original_key = format!("photos/{month}/{id}.{}", processed.extension);
    let thumb_key = format!("photos/{month}/{id}.thumb.jpg");
    storage.put(&original_key, &processed.original).await.map_err(|e| anyhow::anyhow!("storing photo: {e}"))?;
    storage.put(&thumb_key, &processed.thumbnail).await.map_err(|e| anyhow::anyhow!("storing thumbnail: {e}"))?;
    Ok(Photo {
        id,
        owner_type,
        owner_id: owner_id.into(),
        content_type: processed.content_type.into(),
        width: processed.width as i64,
        height: processed.height as i64,
        size: processed.original.len() as i64,
        sha256: processed.sha256,
        original_key,
        thumb_key,
        uploaded_by: (!ctx.user.id.is_empty()).then(|| ctx.user.id.clone()),
        uploaded_at: now,
        kind,
        phash: format!("{:016x}", processed.phash),
        taken_at: processed.taken_at,
        lat: processed.gps.map(|g| g.1),
        lng: processed.gps.map(|g| g.0),
        flags: "[]".into(),
        signature: processed.signature.to_text(),
        device_lat: device.and_then(|d| d.lat),
        device_lng: device.and_then(|d| d.lng),
        device_accuracy: device.and_then(|d| d.accuracy_m),
        device_clock: device.and_then(|d| d.clock_ms),
    })
}

/// A photo the user may see (through its point or problem).
pub async fn visible_photo(ctx: &Ctx<'_>, id: &str) -> AppResult<Photo> {
    let photo = store::get(ctx.db, id).await?.ok_or(AppError::NotFound)?;
    match photo.owner_type {
        PhotoOwner::Point => visible(ctx, &photo.owner_id).await.map(|_| ())?,
        PhotoOwner::Problem => super::problems::visible(ctx, &photo.owner_id).await.map(|_| ())?,
        PhotoOwner::Report => super::reports::visible(ctx, &photo.owner_id).await.map(|_| ())?,
        PhotoOwner::RatingCase => super::rating_cases::visible(ctx, &photo.owner_id).await.map(|_| ())?,
        PhotoOwner::DailyReport => super::daily_reports::visible(ctx, &photo.owner_id).await.map(|_| ())?,
    }
    Ok(photo)
}

pub async fn delete(ctx: &Ctx<'_>, storage: &Storage, id: &str) -> AppResult<String> {
    let photo = visible_photo(ctx, id).await?;
    if photo.owner_type != PhotoOwner::Point {
        // Problem photos are evidence: they stay with the problem's history.
        return Err(AppError::Forbidden);
    }
    let point = visible(ctx, &photo.owner_id).await?;
    if !may_change(ctx, &point.unit_id) {
        return Err(AppError::Forbidden);
    }
    let mut w = ctx.write().await?;
    sqlx::query("DELETE FROM photos WHERE id = $1").bind(id).execute(w.conn()).await?;
    let label = format!("{} {} · 照片", point.code, point.name);
    w.audit(Verb::Delete, ObjectType::Photo, id, &label, photo.snapshot(), None).await?;
    w.commit().await?;
    // The row is gone first; a file left behind by a crash here is harmless.
    let _ = storage.delete(&photo.original_key).await;
    let _ = storage.delete(&photo.thumb_key).await;
    Ok(point.id)
}
