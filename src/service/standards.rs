//! The standard ledger: a published catalogue everyone reads, drafts the office edits and
//! publishes. Published items never change; publishing archives the previous version.

use super::Ctx;
use super::access::require_admin;
use crate::domain::audit::Verb;
use crate::domain::ids::new_id;
use crate::domain::standard::Publication;
use crate::domain::standard::{ItemInput, ValidItem, applies};
use crate::error::{AppError, AppResult, Code};
use crate::store::record::Insert;
use crate::store::standards::{self as store, Item, Version};
use crate::store::{Db, is_unique_violation, points};
use serde::Deserialize;

pub const DEFAULT_CATALOGUE: &str = include_str!("../../resources/standards/default.json");

#[derive(Deserialize)]
struct Catalogue {
    name: String,
    note: String,
    items: Vec<ItemInput>,
}

pub async fn type_codes(db: &Db) -> AppResult<Vec<String>> {
    Ok(points::types(db).await?.into_iter().map(|t| t.code).collect())
}

pub fn item_from(v: ValidItem, version_id: &str, seq: i64) -> Item {
    Item { id: new_id(), version_id: version_id.to_string(), seq, spec: v, version: 1 }
}

/// Publishes the shipped catalogue as version 1 when there is none. Safe on several instances.
pub async fn install_default(db: &Db) -> anyhow::Result<()> {
    let codes = type_codes(db).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    let c: Catalogue = serde_json::from_str(DEFAULT_CATALOGUE)?;
    let mut tx = db.begin().await?;
    if store::max_version_no(&mut tx).await? > 0 {
        return Ok(());
    }
    let v = Version {
        id: new_id(),
        version_no: 1,
        name: c.name,
        status: Publication::Published,
        note: c.note,
        created_at: 0,
        published_at: Some(0),
        updated_at: 0,
        version: 1,
    };
    if let Err(e) = v.insert(&mut tx).await {
        if is_unique_violation(&e) {
            return Ok(());
        }
        return Err(e.into());
    }
    for (i, input) in c.items.iter().enumerate() {
        let valid = input.validate(&codes).map_err(|e| anyhow::anyhow!("default catalogue item {}: {:?}", i + 1, e))?;
        item_from(valid, &v.id, i as i64 + 1).insert(&mut tx).await?;
    }
    tx.commit().await?;
    Ok(())
}

pub async fn published(db: &Db) -> AppResult<Option<Version>> {
    let mut conn = db.pool.acquire().await?;
    Ok(store::with_status(&mut conn, Publication::Published).await?)
}

/// The requirements a point of this type must meet under the published standard.
pub async fn checklist(db: &Db, type_code: &str) -> AppResult<(Option<Version>, Vec<Item>)> {
    let Some(v) = published(db).await? else { return Ok((None, Vec::new())) };
    let items = store::items(db, &v.id).await?.into_iter().filter(|i| applies(&i.point_types, type_code)).collect();
    Ok((Some(v), items))
}

/// Starts a draft as a copy of the published version (one draft at a time).
pub async fn create_draft(ctx: &Ctx<'_>, name: &str) -> AppResult<Version> {
    require_admin(ctx.user)?;
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 50 {
        return Err(AppError::field("name", Code::Required, "请填写新版本名称（不超过50个字）"));
    }
    let mut w = ctx.write().await?;
    if store::with_status(w.conn(), Publication::Draft).await?.is_some() {
        return Err(AppError::refuse(Code::DraftExists, "已有一个草稿版本，请先发布或删除它"));
    }
    let base = store::with_status(w.conn(), Publication::Published).await?;
    let v = Version {
        id: new_id(),
        version_no: store::max_version_no(w.conn()).await? + 1,
        name: name.to_string(),
        status: Publication::Draft,
        note: String::new(),
        created_at: w.now,
        published_at: None,
        updated_at: w.now,
        version: 1,
    };
    w.create(&v).await?;
    if let Some(base) = &base {
        for i in store::items_in(w.conn(), &base.id).await? {
            Item { id: new_id(), version_id: v.id.clone(), ..i }.insert(w.conn()).await?;
        }
    }
    w.commit().await?;
    Ok(v)
}

async fn draft(ctx: &Ctx<'_>, version_id: &str) -> AppResult<Version> {
    let v = store::version(ctx.db, version_id).await?.ok_or(AppError::NotFound)?;
    if v.status != Publication::Draft {
        return Err(AppError::refuse(Code::NotDraft, "已发布或已归档的标准版本不能修改，请新建草稿"));
    }
    Ok(v)
}

pub async fn add_item(ctx: &Ctx<'_>, version_id: &str, input: ItemInput) -> AppResult<Item> {
    require_admin(ctx.user)?;
    let v = draft(ctx, version_id).await?;
    let valid = input.validate(&type_codes(ctx.db).await?).map_err(AppError::Validation)?;
    let seq = store::items(ctx.db, &v.id).await?.len() as i64 + 1;
    let item = item_from(valid, &v.id, seq);
    ctx.create(&item).await?;
    Ok(item)
}

pub async fn update_item(ctx: &Ctx<'_>, item_id: &str, input: ItemInput) -> AppResult<Item> {
    require_admin(ctx.user)?;
    let old = store::item(ctx.db, item_id).await?.ok_or(AppError::NotFound)?;
    let v = draft(ctx, &old.version_id).await?;
    let valid = input.validate(&type_codes(ctx.db).await?).map_err(AppError::Validation)?;
    let mut new = Item { id: old.id.clone(), ..item_from(valid, &v.id, old.seq) };
    ctx.update(&old, &mut new, input.version).await?;
    Ok(new)
}

pub async fn delete_item(ctx: &Ctx<'_>, item_id: &str) -> AppResult<String> {
    require_admin(ctx.user)?;
    let old = store::item(ctx.db, item_id).await?.ok_or(AppError::NotFound)?;
    let v = draft(ctx, &old.version_id).await?;
    let mut w = ctx.write().await?;
    w.delete(&old).await?;
    w.commit().await?;
    Ok(v.id)
}

/// Publishes a draft; the previous published version is archived (its items stay as they were).
pub async fn publish(ctx: &Ctx<'_>, version_id: &str) -> AppResult<Version> {
    require_admin(ctx.user)?;
    let v = draft(ctx, version_id).await?;
    if store::items(ctx.db, &v.id).await?.is_empty() {
        return Err(AppError::refuse(Code::EmptyVersion, "草稿中没有任何标准条目，不能发布"));
    }
    let mut w = ctx.write().await?;
    let now = w.now;
    if let Some(p) = store::with_status(w.conn(), Publication::Published).await? {
        let mut archived = Version { status: Publication::Archived, updated_at: now, ..p.clone() };
        w.update(&p, &mut archived, p.version).await?;
    }
    let mut new = Version { status: Publication::Published, published_at: Some(now), updated_at: now, ..v.clone() };
    w.update_as(Verb::Publish, &v, &mut new, v.version).await?;
    w.commit().await?;
    Ok(new)
}

pub async fn discard(ctx: &Ctx<'_>, version_id: &str) -> AppResult<()> {
    require_admin(ctx.user)?;
    let v = draft(ctx, version_id).await?;
    let mut w = ctx.write().await?;
    store::delete_items_of(w.conn(), &v.id).await?;
    w.delete(&v).await?;
    w.commit().await
}
