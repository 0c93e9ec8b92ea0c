//! Windows of window units (number, service, who is on duty, the public code of the QR link),
//! their staff (name, badge number, post), rating devices with their keys, monthly served
//! counts and visit tokens. The office manages every unit's windows; a unit user its own.

use super::access::require_admin;
use super::{Ctx, non_empty};
use crate::domain::audit::Verb;
use crate::domain::code::Code;
use crate::domain::ids::new_id;
use crate::domain::role::Role;
use crate::domain::time::now_ms;
use crate::domain::validate::{FieldErrors, optional_text, required_text};
use crate::domain::window as rules;
use crate::error::{AppError, AppResult};
use crate::store::Db;
use crate::store::windows::{self as store, Device, Staff, StaffRow, Window, WindowRow};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

/// Who reads windows, ratings and cases: the office and its inspectors all, a unit its own.
pub fn unit_scope(ctx: &Ctx<'_>) -> AppResult<Option<String>> {
    match ctx.user.role {
        Role::Admin | Role::Supervisor | Role::Evaluator | Role::Discipline => Ok(None),
        Role::UnitUser | Role::PointLead => ctx.user.unit_id.clone().map(Some).ok_or(AppError::Forbidden),
        Role::GridWorker => Err(AppError::Forbidden),
    }
}

/// Who changes a unit's windows, staff and devices: the office, or the unit's own unit user.
pub fn may_manage(ctx: &Ctx<'_>, unit_id: &str) -> bool {
    ctx.user.role == Role::Admin || (ctx.user.role == Role::UnitUser && ctx.user.unit_id.as_deref() == Some(unit_id))
}

pub async fn visible(ctx: &Ctx<'_>, id: &str) -> AppResult<WindowRow> {
    let w = store::window_row(ctx.db, id).await?.ok_or(AppError::NotFound)?;
    match unit_scope(ctx)? {
        Some(u) if u != w.unit_id => Err(AppError::NotFound),
        _ => Ok(w),
    }
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct WindowInput {
    /// The window unit (the office chooses; a unit user's own by default)
    #[serde(default)]
    pub unit_id: String,
    /// 窗口号, e.g. 3号窗口
    #[serde(default)]
    pub number: String,
    /// 业务, e.g. 个人业务
    #[serde(default)]
    pub service: String,
    /// The unit's point the window is at (default: the unit's first point)
    #[serde(default)]
    pub point_id: String,
    /// Who is on duty (a staff id of the unit); empty: nobody named
    #[serde(default)]
    pub staff_id: String,
    #[serde(default, deserialize_with = "super::flag")]
    pub active: Option<bool>,
    #[serde(default, deserialize_with = "super::version")]
    pub version: Option<i64>,
}

/// A new window's public code: 6 characters nobody confuses (no 0/O, 1/I).
fn new_code() -> String {
    const A: &[u8] = b"23456789ABCDEFGHJKLMNPQRSTUVWXYZ";
    rand::random::<[u8; 6]>().iter().map(|b| A[(*b as usize) % 32] as char).collect()
}

async fn check_window(ctx: &Ctx<'_>, input: &WindowInput, base: Window) -> AppResult<Window> {
    let mut e = FieldErrors::default();
    let number = required_text(&mut e, "number", "窗口号", &input.number, 20);
    let service = required_text(&mut e, "service", "办理业务", &input.service, 40);
    let unit = crate::store::units::get(ctx.db, &base.unit_id).await?;
    match &unit {
        Some(u) if u.kind.is_window() => {}
        Some(_) => {
            e.add("unit_id", Code::InvalidUnit, "只有窗口单位（银行网点、政务服务大厅、营业厅）可以设置服务窗口")
        }
        None => e.add("unit_id", Code::UnknownUnit, "请选择窗口单位"),
    }
    let point_id = match non_empty(&Some(input.point_id.clone())) {
        Some(p) => match crate::store::points::get(ctx.db, &p).await? {
            Some(pt) if pt.unit_id == base.unit_id => Some(p),
            _ => {
                e.add("point_id", Code::NotThisUnit, "所选点位不是该单位的点位");
                None
            }
        },
        None => base.point_id.clone().or(first_point(ctx.db, &base.unit_id).await?),
    };
    let staff_id = match non_empty(&Some(input.staff_id.clone())) {
        Some(s) => match store::staff(ctx.db, &s).await? {
            Some(st) if st.unit_id == base.unit_id && st.active == 1 => Some(s),
            _ => {
                e.add("staff_id", Code::NotThisUnit, "所选人员不是该单位的在岗人员");
                None
            }
        },
        None => None,
    };
    if !e.is_empty() {
        return Err(AppError::Validation(e));
    }
    Ok(Window {
        number,
        service,
        point_id,
        staff_id,
        active: input.active.map(i64::from).unwrap_or(base.active),
        ..base
    })
}

async fn first_point(db: &Db, unit_id: &str) -> AppResult<Option<String>> {
    Ok(sqlx::query_scalar("SELECT id FROM points WHERE unit_id = $1 AND active = 1 ORDER BY code LIMIT 1")
        .bind(unit_id)
        .fetch_optional(&db.pool)
        .await?)
}

fn unit_of_input(ctx: &Ctx<'_>, given: &str) -> AppResult<String> {
    let unit = match (ctx.user.role, given.trim()) {
        (Role::Admin, "") => return Err(AppError::field("unit_id", Code::UnitRequired, "请选择窗口单位")),
        (Role::Admin, u) => u.to_string(),
        _ => ctx.user.unit_id.clone().ok_or(AppError::Forbidden)?,
    };
    if !may_manage(ctx, &unit) {
        return Err(AppError::Forbidden);
    }
    Ok(unit)
}

pub async fn create(ctx: &Ctx<'_>, input: WindowInput) -> AppResult<WindowRow> {
    let unit_id = unit_of_input(ctx, &input.unit_id)?;
    let now = now_ms();
    let base = Window {
        id: new_id(),
        unit_id,
        point_id: None,
        number: String::new(),
        service: String::new(),
        code: new_code(),
        staff_id: None,
        active: 1,
        created_at: now,
        updated_at: now,
        version: 1,
    };
    let w = check_window(ctx, &input, base).await?;
    ctx.create(&w).await?;
    visible(ctx, &w.id).await
}

pub async fn update(ctx: &Ctx<'_>, id: &str, input: WindowInput) -> AppResult<WindowRow> {
    let old = store::window(ctx.db, id).await?.ok_or(AppError::NotFound)?;
    visible(ctx, id).await?;
    if !may_manage(ctx, &old.unit_id) {
        return Err(AppError::Forbidden);
    }
    let mut new = check_window(ctx, &input, Window { updated_at: now_ms(), ..old.clone() }).await?;
    ctx.update(&old, &mut new, input.version).await?;
    visible(ctx, id).await
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct StaffInput {
    #[serde(default)]
    pub unit_id: String,
    #[serde(default)]
    pub name: String,
    /// 工号
    #[serde(default)]
    pub badge: String,
    /// 岗位, e.g. 大堂经理
    #[serde(default)]
    pub post: String,
    #[serde(default, deserialize_with = "super::flag")]
    pub active: Option<bool>,
    #[serde(default, deserialize_with = "super::version")]
    pub version: Option<i64>,
}

fn check_staff(input: &StaffInput, base: Staff) -> AppResult<Staff> {
    let mut e = FieldErrors::default();
    let name = required_text(&mut e, "name", "姓名", &input.name, 20);
    let badge = required_text(&mut e, "badge", "工号", &input.badge, 20);
    let post = optional_text(&mut e, "post", "岗位", &input.post, 20, false);
    if !e.is_empty() {
        return Err(AppError::Validation(e));
    }
    Ok(Staff { name, badge, post, active: input.active.map(i64::from).unwrap_or(base.active), ..base })
}

pub async fn create_staff(ctx: &Ctx<'_>, input: StaffInput) -> AppResult<Staff> {
    let unit_id = unit_of_input(ctx, &input.unit_id)?;
    let unit = crate::store::units::get(ctx.db, &unit_id).await?;
    if !unit.is_some_and(|u| u.kind.is_window()) {
        return Err(AppError::field("unit_id", Code::InvalidUnit, "只有窗口单位可以登记窗口工作人员"));
    }
    let now = now_ms();
    let base = Staff {
        id: new_id(),
        unit_id,
        name: String::new(),
        badge: String::new(),
        post: String::new(),
        active: 1,
        created_at: now,
        updated_at: now,
        version: 1,
    };
    let s = check_staff(&input, base)?;
    ctx.create(&s).await?;
    Ok(s)
}

pub async fn update_staff(ctx: &Ctx<'_>, id: &str, input: StaffInput) -> AppResult<Staff> {
    let old = store::staff(ctx.db, id).await?.ok_or(AppError::NotFound)?;
    if !may_manage(ctx, &old.unit_id) {
        return Err(AppError::NotFound);
    }
    let mut new = check_staff(&input, Staff { updated_at: now_ms(), ..old.clone() })?;
    ctx.update(&old, &mut new, input.version).await?;
    Ok(new)
}

pub async fn staff_list(ctx: &Ctx<'_>, unit_id: Option<&str>) -> AppResult<Vec<StaffRow>> {
    let scope = unit_scope(ctx)?;
    let unit = scope.as_deref().or(unit_id);
    Ok(store::staff_rows(ctx.db, unit).await?)
}

// --- Rating devices -----------------------------------------------------------------------

pub fn hash_key(key: &str) -> String {
    hex::encode(Sha256::digest(format!("rating-device:{}", key.trim()).as_bytes()))
}

/// Issues a device key for a unit; the key is shown once, only its hash kept.
pub async fn issue_device(ctx: &Ctx<'_>, unit_id: &str, name: &str) -> AppResult<(Device, String)> {
    let unit_id = unit_of_input(ctx, unit_id)?;
    if !crate::store::units::get(ctx.db, &unit_id).await?.is_some_and(|u| u.kind.is_window()) {
        return Err(AppError::field("unit_id", Code::InvalidUnit, "只有窗口单位可以配置评价器"));
    }
    let mut e = FieldErrors::default();
    let name = required_text(&mut e, "name", "评价器名称", name, 40);
    if !e.is_empty() {
        return Err(AppError::Validation(e));
    }
    let key = format!("ccrd_{}", hex::encode(rand::random::<[u8; 20]>()));
    let d = Device {
        id: new_id(),
        unit_id,
        name,
        prefix: key[..10].to_string(),
        key_hash: hash_key(&key),
        created_at: now_ms(),
        created_by: Some(ctx.user.id.clone()).filter(|u| !u.is_empty()),
        revoked_at: None,
        last_used_at: None,
    };
    ctx.create(&d).await?;
    Ok((d, key))
}

pub async fn revoke_device(ctx: &Ctx<'_>, id: &str) -> AppResult<()> {
    let d = store::devices(ctx.db, None).await?.into_iter().find(|d| d.id == id).ok_or(AppError::NotFound)?;
    if !may_manage(ctx, &d.unit_id) {
        return Err(AppError::NotFound);
    }
    let mut w = ctx.write().await?;
    let now = w.now;
    let n = sqlx::query("UPDATE rating_devices SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
        .bind(now)
        .bind(id)
        .execute(w.conn())
        .await?
        .rows_affected();
    if n == 1 {
        let after = serde_json::json!({"name": d.name, "revoked": true});
        let label = crate::store::record::Insert::label(&d);
        w.audit(Verb::Delete, crate::domain::audit::ObjectType::RatingDevice, &d.id, &label, None, Some(after)).await?;
    }
    w.commit().await
}

// --- Served counts and visit tokens ---------------------------------------------------------

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct VolumeInput {
    /// 2026-12
    #[serde(default)]
    pub month: String,
    /// Services handled at the window that month (办件量): the month's total, replacing what
    /// was typed or sent by devices before
    #[serde(default, deserialize_with = "crate::domain::validate::number_text")]
    pub served: String,
}

/// Sets a window's served count for a month (the rating rate's base), audited.
pub async fn set_volume(ctx: &Ctx<'_>, id: &str, input: VolumeInput) -> AppResult<()> {
    let w = visible(ctx, id).await?;
    if !may_manage(ctx, &w.unit_id) {
        return Err(AppError::Forbidden);
    }
    let mut e = FieldErrors::default();
    let this_month = rules::month_of(now_ms());
    let month = rules::parse_month(&input.month);
    match month {
        None => e.add("month", Code::InvalidMonth, Code::InvalidMonth.message()),
        Some(m) if m > this_month => e.add("month", Code::DateOutOfRange, "不能填写以后月份的办件量"),
        Some(_) => {}
    }
    let served = input.served.trim().parse::<i64>().ok().filter(|n| (0..=1_000_000).contains(n));
    if served.is_none() {
        e.add("served", Code::TooMany, "办件量应为0至1000000的整数");
    }
    let (Some(month), Some(served), true) = (month, served, e.is_empty()) else { return Err(AppError::Validation(e)) };
    let mut wr = ctx.write().await?;
    let now = wr.now;
    store::set_volume(wr.conn(), id, month, served, now).await?;
    let label = format!("{} {} · {}办件量", w.number, w.service, rules::month_label(month));
    let after = serde_json::json!({"month": month, "served": served});
    wr.audit(Verb::Update, crate::domain::audit::ObjectType::Window, id, &label, None, Some(after)).await?;
    wr.commit().await
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct VisitToken {
    pub token: String,
    /// The rating link with the token (for a QR code on the ticket or the window's screen)
    pub url: String,
}

/// Visit tokens for a window (the queue ticket printer or the window's screen asks for them).
pub async fn visit_tokens(db: &Db, window: &WindowRow, count: usize, base_url: &str) -> AppResult<Vec<VisitToken>> {
    let key = super::ratings::token_key(db).await?;
    Ok((0..count.clamp(1, 200))
        .map(|_| {
            let token = rules::visit_token(&key, &window.id, rand::random());
            VisitToken { url: format!("{base_url}/rate/{}?v={token}", window.code), token }
        })
        .collect())
}

/// Requires the office (settings of the whole rating scheme).
pub fn require_office(ctx: &Ctx<'_>) -> AppResult<()> {
    require_admin(ctx.user)
}

/// A unit's window may be managed by the caller (for the visit-token page).
pub async fn managed(ctx: &Ctx<'_>, id: &str) -> AppResult<WindowRow> {
    let w = visible(ctx, id).await?;
    if !may_manage(ctx, &w.unit_id) && ctx.user.role != Role::PointLead {
        return Err(AppError::Forbidden);
    }
    Ok(w)
}
