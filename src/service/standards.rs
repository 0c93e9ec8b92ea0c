//! The standard ledger: a published catalogue everyone reads, drafts the office edits and
//! publishes. Published items never change; publishing archives the previous version.

use super::access::require_admin;
use super::{Ctx, snapshot};
use crate::domain::audit::{ObjectType, Verb};
use crate::domain::standard::Publication;
use crate::domain::standard::{ItemInput, ValidItem, applies};
use crate::domain::{ids::new_id, time::now_ms};
use crate::error::{AppError, AppResult, Code};
use crate::store::audit::Change;
use crate::store::standards::{self as store, Item, Version};
use crate::store::{Db, is_unique_violation, points};
use serde::Deserialize;
use serde_json::json;

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
    Item {
        id: new_id(),
        version_id: version_id.to_string(),
        seq,
        category: v.category,
        item: v.item,
        major_code: v.major_code,
        minor_code: v.minor_code,
        requirement: v.requirement,
        point_types: v.point_types,
        time_limit: v.time_limit,
        time_unit: v.time_unit,
        severity: v.severity,
        deduction: v.deduction,
        closing_standard: v.closing_standard,
    }
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
    };
    if let Err(e) = store::insert_version(&mut tx, &v).await {
        if is_unique_violation(&e) {
            return Ok(());
        }
        return Err(e.into());
    }
    for (i, input) in c.items.iter().enumerate() {
        let valid = input.validate(&codes).map_err(|e| anyhow::anyhow!("default catalogue item {}: {:?}", i + 1, e))?;
        store::insert_item(&mut tx, &item_from(valid, &v.id, i as i64 + 1)).await?;
    }
    tx.commit().await?;
    Ok(())
}

pub async fn published(db: &Db) -> AppResult<Option<Version>> {
    let mut conn = db.pool.acquire().await?;
    Ok(store::with_status(&mut conn, "published").await?)
}

/// The requirements a point of this type must meet under the published standard.
pub async fn checklist(db: &Db, type_code: &str) -> AppResult<(Option<Version>, Vec<Item>)> {
    let Some(v) = published(db).await? else { return Ok((None, Vec::new())) };
    let items = store::items(db, &v.id).await?.into_iter().filter(|i| applies(&i.point_types, type_code)).collect();
    Ok((Some(v), items))
}

async fn audit_version(
    ctx: &Ctx<'_>,
    conn: &mut sqlx::AnyConnection,
    action: Verb,
    v: &Version,
    extra: serde_json::Value,
) -> AppResult<()> {
    let label = format!("第{}版 {}", v.version_no, v.name);
    let change = Change {
        action: action.into(),
        object_type: ObjectType::StandardVersion,
        object_id: &v.id,
        object_label: &label,
        before: None,
        after: Some(extra),
    };
    ctx.audit(conn, change, now_ms()).await
}

/// Starts a draft as a copy of the published version (one draft at a time).
pub async fn create_draft(ctx: &Ctx<'_>, name: &str) -> AppResult<Version> {
    require_admin(ctx.user)?;
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 50 {
        return Err(AppError::field("name", Code::Required, "请填写新版本名称（不超过50个字）"));
    }
    let now = now_ms();
    let mut tx = ctx.db.begin().await?;
    if store::with_status(&mut tx, "draft").await?.is_some() {
        return Err(AppError::refuse(Code::DraftExists, "已有一个草稿版本，请先发布或删除它"));
    }
    let base = store::with_status(&mut tx, "published").await?;
    let v = Version {
        id: new_id(),
        version_no: store::max_version_no(&mut tx).await? + 1,
        name: name.to_string(),
        status: Publication::Draft,
        note: String::new(),
        created_at: now,
        published_at: None,
        updated_at: now,
    };
    store::insert_version(&mut tx, &v).await.map_err(|e| {
        if is_unique_violation(&e) {
            AppError::refuse(Code::DraftExists, "另一位管理员刚刚创建了草稿，请刷新")
        } else {
            e.into()
        }
    })?;
    if let Some(base) = &base {
        for i in store::items_in(&mut tx, &base.id).await? {
            store::insert_item(&mut tx, &Item { id: new_id(), version_id: v.id.clone(), ..i }).await?;
        }
    }
    audit_version(
        ctx,
        &mut tx,
        Verb::Create,
        &v,
        json!({"name": v.name, "status": "draft", "copied_from": base.map(|b| b.version_no)}),
    )
    .await?;
    tx.commit().await?;
    Ok(v)
}

async fn draft(ctx: &Ctx<'_>, version_id: &str) -> AppResult<Version> {
    let v = store::version(ctx.db, version_id).await?.ok_or(AppError::NotFound)?;
    if v.status != Publication::Draft {
        return Err(AppError::refuse(Code::NotDraft, "已发布或已归档的标准版本不能修改，请新建草稿"));
    }
    Ok(v)
}

fn duplicate_code(e: sqlx::Error) -> AppError {
    if is_unique_violation(&e) {
        AppError::field("minor_code", Code::DuplicateCode, "本版本中已有相同的大类/小类编码")
    } else {
        e.into()
    }
}

pub async fn add_item(ctx: &Ctx<'_>, version_id: &str, input: ItemInput) -> AppResult<Item> {
    require_admin(ctx.user)?;
    let v = draft(ctx, version_id).await?;
    let valid = input.validate(&type_codes(ctx.db).await?).map_err(AppError::Validation)?;
    let seq = store::items(ctx.db, &v.id).await?.len() as i64 + 1;
    let item = item_from(valid, &v.id, seq);
    let mut tx = ctx.db.begin().await?;
    store::insert_item(&mut tx, &item).await.map_err(duplicate_code)?;
    let label = format!("第{}版 {} {}", v.version_no, item.category, item.item);
    let change = Change {
        action: Verb::Create.into(),
        object_type: ObjectType::StandardItem,
        object_id: &item.id,
        object_label: &label,
        before: None,
        after: snapshot(&item),
    };
    ctx.audit(&mut tx, change, now_ms()).await?;
    tx.commit().await?;
    Ok(item)
}

pub async fn update_item(ctx: &Ctx<'_>, item_id: &str, input: ItemInput) -> AppResult<Item> {
    require_admin(ctx.user)?;
    let old = store::item(ctx.db, item_id).await?.ok_or(AppError::NotFound)?;
    let v = draft(ctx, &old.version_id).await?;
    let valid = input.validate(&type_codes(ctx.db).await?).map_err(AppError::Validation)?;
    let new = Item { id: old.id.clone(), ..item_from(valid, &v.id, old.seq) };
    let mut tx = ctx.db.begin().await?;
    store::update_item(&mut tx, &new).await.map_err(duplicate_code)?;
    let label = format!("第{}版 {} {}", v.version_no, new.category, new.item);
    let change = Change {
        action: Verb::Update.into(),
        object_type: ObjectType::StandardItem,
        object_id: &new.id,
        object_label: &label,
        before: snapshot(&old),
        after: snapshot(&new),
    };
    ctx.audit(&mut tx, change, now_ms()).await?;
    tx.commit().await?;
    Ok(new)
}

pub async fn delete_item(ctx: &Ctx<'_>, item_id: &str) -> AppResult<String> {
    require_admin(ctx.user)?;
    let old = store::item(ctx.db, item_id).await?.ok_or(AppError::NotFound)?;
    let v = draft(ctx, &old.version_id).await?;
    let mut tx = ctx.db.begin().await?;
    store::delete_item(&mut tx, item_id).await?;
    let label = format!("第{}版 {} {}", v.version_no, old.category, old.item);
    let change = Change {
        action: Verb::Delete.into(),
        object_type: ObjectType::StandardItem,
        object_id: item_id,
        object_label: &label,
        before: snapshot(&old),
        after: None,
    };
    ctx.audit(&mut tx, change, now_ms()).await?;
    tx.commit().await?;
    Ok(v.id)
}

/// Publishes a draft; the previous published version is archived (its items stay as they were).
pub async fn publish(ctx: &Ctx<'_>, version_id: &str) -> AppResult<Version> {
    require_admin(ctx.user)?;
    let v = draft(ctx, version_id).await?;
    if store::items(ctx.db, &v.id).await?.is_empty() {
        return Err(AppError::refuse(Code::EmptyVersion, "草稿中没有任何标准条目，不能发布"));
    }
    let now = now_ms();
    let mut tx = ctx.db.begin().await?;
    let previous = store::with_status(&mut tx, "published").await?;
    if let Some(p) = &previous {
        store::set_status(&mut tx, &p.id, "archived", None, now).await?;
    }
    store::set_status(&mut tx, &v.id, "published", Some(now), now).await?;
    let extra = json!({"status": "published", "archived": previous.as_ref().map(|p| p.version_no)});
    audit_version(ctx, &mut tx, Verb::Publish, &v, extra).await?;
    tx.commit().await?;
    Ok(Version { status: Publication::Published, published_at: Some(now), updated_at: now, ..v })
}

pub async fn discard(ctx: &Ctx<'_>, version_id: &str) -> AppResult<()> {
    require_admin(ctx.user)?;
    let v = draft(ctx, version_id).await?;
    let mut tx = ctx.db.begin().await?;
    store::delete_version(&mut tx, &v.id).await?;
    audit_version(ctx, &mut tx, Verb::Delete, &v, json!({"status": "discarded"})).await?;
    tx.commit().await?;
    Ok(())
}
