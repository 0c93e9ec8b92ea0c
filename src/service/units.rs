//! Responsible units, their contact books and the configurable contact levels.

use super::access::{can_edit_contacts, can_read_unit, require_admin};
use super::{Ctx, non_empty};
use crate::domain::unit::UnitKind;
use crate::domain::validate::{FieldErrors, optional_text, phone, required_text};
use crate::domain::window::Sector;
use crate::domain::{ids::new_id, time::now_ms};
use crate::error::{AppError, AppResult, Code};
use crate::store::org;
use crate::store::units::{self, Contact, ContactLevel, Unit};
use serde::Deserialize;
use utoipa::ToSchema;

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct UnitInput {
    #[serde(default)]
    pub name: String,
    /// government | institution | bank_branch | service_hall | business_hall | property | enterprise | community | other
    #[serde(default)]
    pub kind: String,
    /// Window units: bank | government | telecom | power | water | gas | medical | transport | postal | other
    /// (default from the kind; null as empty, as the unit is read back)
    #[serde(default, deserialize_with = "crate::domain::validate::text_or_null")]
    pub sector: String,
    #[serde(default)]
    pub area_id: Option<String>,
    #[serde(default)]
    pub address: String,
    #[serde(default)]
    pub phone: String,
    #[serde(default)]
    pub note: String,
    #[serde(default, deserialize_with = "super::flag")]
    pub active: Option<bool>,
    #[serde(default, deserialize_with = "super::version")]
    pub version: Option<i64>,
}

/// Loads a unit the current user may see; others get "not found" so ids cannot be probed.
pub async fn visible(ctx: &Ctx<'_>, id: &str) -> AppResult<Unit> {
    let unit = units::get(ctx.db, id).await?.ok_or(AppError::NotFound)?;
    if can_read_unit(ctx, &unit).await? { Ok(unit) } else { Err(AppError::NotFound) }
}

pub(crate) async fn validate(ctx: &Ctx<'_>, input: &UnitInput, base: Unit) -> AppResult<Unit> {
    let mut e = FieldErrors::default();
    let name = required_text(&mut e, "name", "单位名称", &input.name, 60);
    let kind = UnitKind::parse(input.kind.trim());
    if kind.is_none() {
        e.add("kind", Code::InvalidKind, "请选择单位类型");
    }
    let sector = match input.sector.trim() {
        "" => kind.and_then(Sector::default_for),
        s => Sector::parse_any(s).or_else(|| {
            e.add("sector", Code::InvalidKind, "请从列表中选择行业");
            None
        }),
    };
    let area_id = non_empty(&input.area_id);
    if let Some(a) = &area_id
        && org::get(ctx.db, a).await?.is_none()
    {
        e.add("area_id", Code::UnknownArea, "所属区域不存在");
    }
    let address = optional_text(&mut e, "address", "地址", &input.address, 120, false);
    let phone = phone(&mut e, "phone", "联系电话", &input.phone, false);
    let note = optional_text(&mut e, "note", "备注", &input.note, 500, true);
    if !e.is_empty() {
        return Err(AppError::Validation(e));
    }
    Ok(Unit {
        name,
        kind: kind.unwrap_or(UnitKind::Other),
        sector,
        area_id,
        address,
        phone,
        note,
        active: input.active.map(i64::from).unwrap_or(base.active),
        ..base
    })
}

/// A new, empty unit.
pub fn blank(now: i64) -> Unit {
    Unit {
        id: new_id(),
        name: String::new(),
        kind: UnitKind::Other,
        sector: None,
        area_id: None,
        address: String::new(),
        phone: String::new(),
        note: String::new(),
        active: 1,
        created_at: now,
        updated_at: now,
        version: 1,
    }
}

pub async fn create(ctx: &Ctx<'_>, input: UnitInput) -> AppResult<Unit> {
    require_admin(ctx.user)?;
    let unit = validate(ctx, &input, blank(now_ms())).await?;
    ctx.create(&unit).await?;
    Ok(unit)
}

pub async fn update(ctx: &Ctx<'_>, id: &str, input: UnitInput) -> AppResult<Unit> {
    require_admin(ctx.user)?;
    let old = units::get(ctx.db, id).await?.ok_or(AppError::NotFound)?;
    let mut new = validate(ctx, &input, Unit { updated_at: now_ms(), ..old.clone() }).await?;
    ctx.update(&old, &mut new, input.version).await?;
    Ok(new)
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct ContactInput {
    #[serde(default)]
    pub level_id: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub position: String,
    #[serde(default)]
    pub phone: String,
    #[serde(default)]
    pub note: String,
    #[serde(default, deserialize_with = "super::version")]
    pub version: Option<i64>,
}

async fn validate_contact(ctx: &Ctx<'_>, input: &ContactInput, base: Contact) -> AppResult<Contact> {
    let mut e = FieldErrors::default();
    let levels = units::contact_levels(ctx.db).await?;
    let level = levels.iter().find(|l| l.id == input.level_id.trim());
    if level.is_none() {
        e.add("level_id", Code::InvalidLevel, "请选择联系人层级");
    }
    let name = required_text(&mut e, "name", "姓名", &input.name, 30);
    let position = optional_text(&mut e, "position", "职务", &input.position, 40, false);
    let phone = phone(&mut e, "phone", "联系电话", &input.phone, true);
    let note = optional_text(&mut e, "note", "备注", &input.note, 200, true);
    if !e.is_empty() {
        return Err(AppError::Validation(e));
    }
    let level = level.expect("checked");
    Ok(Contact {
        level_id: level.id.clone(),
        level_name: level.name.clone(),
        level_seq: level.seq,
        name,
        position,
        phone,
        note,
        ..base
    })
}

/// The contact book of a unit the user may see.
pub async fn contacts(ctx: &Ctx<'_>, unit_id: &str) -> AppResult<Vec<Contact>> {
    visible(ctx, unit_id).await?;
    Ok(units::contacts(ctx.db, unit_id).await?)
}

pub async fn add_contact(ctx: &Ctx<'_>, unit_id: &str, input: ContactInput) -> AppResult<Contact> {
    let unit = visible(ctx, unit_id).await?;
    if !can_edit_contacts(ctx.user, &unit.id) {
        return Err(AppError::Forbidden);
    }
    let now = now_ms();
    let base = Contact {
        id: new_id(),
        unit_id: unit.id.clone(),
        unit_name: unit.name.clone(),
        level_id: String::new(),
        level_name: String::new(),
        level_seq: 0,
        name: String::new(),
        position: String::new(),
        phone: String::new(),
        note: String::new(),
        created_at: now,
        updated_at: now,
        version: 1,
    };
    let c = validate_contact(ctx, &input, base).await?;
    ctx.create(&c).await?;
    Ok(c)
}

/// Loads a contact whose unit the user may see.
pub async fn visible_contact(ctx: &Ctx<'_>, id: &str) -> AppResult<(Unit, Contact)> {
    let c = units::contact(ctx.db, id).await?.ok_or(AppError::NotFound)?;
    let unit = visible(ctx, &c.unit_id).await?;
    Ok((unit, c))
}

pub async fn update_contact(ctx: &Ctx<'_>, id: &str, input: ContactInput) -> AppResult<Contact> {
    let (unit, old) = visible_contact(ctx, id).await?;
    if !can_edit_contacts(ctx.user, &unit.id) {
        return Err(AppError::Forbidden);
    }
    let mut new = validate_contact(ctx, &input, Contact { updated_at: now_ms(), ..old.clone() }).await?;
    ctx.update(&old, &mut new, input.version).await?;
    Ok(new)
}

pub async fn delete_contact(ctx: &Ctx<'_>, id: &str) -> AppResult<Unit> {
    let (unit, old) = visible_contact(ctx, id).await?;
    if !can_edit_contacts(ctx.user, &unit.id) {
        return Err(AppError::Forbidden);
    }
    let mut w = ctx.write().await?;
    w.delete(&old).await?;
    w.commit().await?;
    Ok(unit)
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct LevelInput {
    #[serde(default)]
    pub name: String,
    #[serde(default, deserialize_with = "super::version")]
    pub seq: Option<i64>,
    /// Required when changing a level
    #[serde(default, deserialize_with = "super::version")]
    pub version: Option<i64>,
}

fn validate_level(input: &LevelInput) -> AppResult<(String, i64)> {
    let mut e = FieldErrors::default();
    let name = required_text(&mut e, "name", "层级名称", &input.name, 20);
    let seq = input.seq.unwrap_or(0);
    if !(1..=99).contains(&seq) {
        e.add("seq", Code::InvalidSeq, "排序号应为1至99的整数");
    }
    if !e.is_empty() {
        return Err(AppError::Validation(e));
    }
    Ok((name, seq))
}

pub async fn add_level(ctx: &Ctx<'_>, input: LevelInput) -> AppResult<ContactLevel> {
    require_admin(ctx.user)?;
    let (name, seq) = validate_level(&input)?;
    let now = now_ms();
    let l = ContactLevel { id: new_id(), seq, name, created_at: now, updated_at: now, version: 1 };
    ctx.create(&l).await?;
    Ok(l)
}

async fn level(ctx: &Ctx<'_>, id: &str) -> AppResult<ContactLevel> {
    let levels = units::contact_levels(ctx.db).await?;
    levels.into_iter().find(|l| l.id == id).ok_or(AppError::NotFound)
}

pub async fn update_level(ctx: &Ctx<'_>, id: &str, input: LevelInput) -> AppResult<ContactLevel> {
    require_admin(ctx.user)?;
    let old = level(ctx, id).await?;
    let (name, seq) = validate_level(&input)?;
    let mut new = ContactLevel { seq, name, updated_at: now_ms(), ..old.clone() };
    ctx.update(&old, &mut new, input.version).await?;
    Ok(new)
}

pub async fn delete_level(ctx: &Ctx<'_>, id: &str) -> AppResult<()> {
    require_admin(ctx.user)?;
    let old = level(ctx, id).await?;
    let mut w = ctx.write().await?;
    w.delete(&old).await?;
    w.commit().await
}
