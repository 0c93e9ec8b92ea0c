//! Accounts: created and edited by the office; everybody changes their own password.

use super::access::{require_admin, users_scope};
use super::auth::{FAILURE_WINDOW_MS, MAX_FAILURES, REAUTH, check_password, hash_password, verify_password};
use super::write::expected;
use super::{Ctx, non_empty};
use crate::domain::audit::{ObjectType, Verb};
use crate::domain::role::Role;
use crate::domain::validate::{FieldErrors, phone, required_text};
use crate::domain::{ids::new_id, time::now_ms};
use crate::error::{AppError, AppResult, Code};
use crate::store::users::{self, User};
use crate::store::{Db, org, sessions, units};
use serde::Deserialize;
use utoipa::ToSchema;

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct UserInput {
    /// Login name: 3-32 letters, digits, dot, dash or underscore (ignored on update)
    #[serde(default)]
    pub username: String,
    #[serde(default)]
    pub display_name: String,
    /// admin | supervisor | unit_user | point_lead | grid_worker | evaluator | discipline
    #[serde(default)]
    pub role: String,
    /// Required for unit_user and point_lead
    #[serde(default)]
    pub unit_id: Option<String>,
    /// Required for grid_worker
    #[serde(default)]
    pub area_id: Option<String>,
    #[serde(default)]
    pub phone: String,
    /// Initial password (create only)
    #[serde(default)]
    pub password: String,
    #[serde(default, deserialize_with = "super::flag")]
    pub active: Option<bool>,
    #[serde(default, deserialize_with = "super::version")]
    pub version: Option<i64>,
}

pub fn check_username(e: &mut FieldErrors, username: &str) -> String {
    let u = username.trim();
    let ok_chars = u.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'));
    if u.is_empty() {
        e.add("username", Code::Required, "请填写用户名");
    } else if !(3..=32).contains(&u.len()) || !ok_chars {
        e.add("username", Code::InvalidUsername, "用户名须为3至32位字母、数字、点、横线或下划线");
    }
    u.to_string()
}

async fn validate(db: &Db, input: &UserInput, base: User) -> AppResult<User> {
    let mut e = FieldErrors::default();
    let display_name = required_text(&mut e, "display_name", "姓名", &input.display_name, 30);
    let role = Role::parse(input.role.trim());
    if role.is_none() {
        e.add("role", Code::InvalidRole, "请选择角色");
    }
    let mut unit_id = non_empty(&input.unit_id);
    let mut area_id = non_empty(&input.area_id);
    if let Some(r) = role {
        if r.needs_unit() && unit_id.is_none() {
            e.add("unit_id", Code::UnitRequired, format!("{}必须指定所属单位", r.label()));
        }
        if r.needs_area() && area_id.is_none() {
            e.add("area_id", Code::AreaRequired, format!("{}必须指定负责区域", r.label()));
        }
        // Scope fields that do not apply to the role are cleared, so no stale scope lingers.
        if !r.needs_unit() {
            unit_id = None;
        }
        if !r.needs_area() && r != Role::Supervisor {
            area_id = None;
        }
    }
    if let Some(u) = &unit_id
        && units::get(db, u).await?.is_none()
    {
        e.add("unit_id", Code::UnknownUnit, "所属单位不存在");
    }
    if let Some(a) = &area_id
        && org::get(db, a).await?.is_none()
    {
        e.add("area_id", Code::UnknownArea, "负责区域不存在");
    }
    let phone = phone(&mut e, "phone", "手机号", &input.phone, false);
    if !e.is_empty() {
        return Err(AppError::Validation(e));
    }
    Ok(User {
        display_name,
        role: role.unwrap_or(Role::PointLead),
        unit_id,
        area_id,
        phone,
        active: input.active.map(i64::from).unwrap_or(base.active),
        ..base
    })
}

/// Creates an account. Used by the admin pages and API, by `user add` and by the demo.
pub async fn create(ctx: &Ctx<'_>, input: UserInput) -> AppResult<User> {
    require_admin(ctx.user)?;
    let user = prepare_new(ctx.db, &input, None).await?;
    ctx.create(&user).await?;
    Ok(user)
}

/// Validates a new account and hashes its password (or uses `hash`, for bulk demo accounts).
pub async fn prepare_new(db: &Db, input: &UserInput, hash: Option<&str>) -> AppResult<User> {
    let now = now_ms();
    let mut e = FieldErrors::default();
    let username = check_username(&mut e, &input.username);
    if hash.is_none() {
        check_password(&mut e, "password", &input.password, &input.username);
    }
    let base = User {
        id: new_id(),
        username,
        display_name: String::new(),
        role: Role::PointLead,
        unit_id: None,
        area_id: None,
        phone: String::new(),
        password_hash: String::new(),
        active: 1,
        created_at: now,
        updated_at: now,
        version: 1,
    };
    let user = match validate(db, input, base).await {
        Ok(u) if e.is_empty() => u,
        Ok(_) => return Err(AppError::Validation(e)),
        Err(AppError::Validation(mut more)) => {
            more.0.splice(0..0, e.0);
            return Err(AppError::Validation(more));
        }
        Err(other) => return Err(other),
    };
    if users::by_username(db, &user.username).await?.is_some() {
        return Err(AppError::field("username", Code::DuplicateUsername, "该用户名已被使用"));
    }
    let password_hash = match hash {
        Some(h) => h.to_string(),
        None => hash_password(&input.password).await?,
    };
    Ok(User { password_hash, ..user })
}

/// An account the current user may read: all for the office, own unit's for a unit user.
pub async fn visible(ctx: &Ctx<'_>, id: &str) -> AppResult<User> {
    let scope = users_scope(ctx.user)?;
    let user = users::get(ctx.db, id).await?.ok_or(AppError::NotFound)?;
    match scope {
        Some(unit) if user.unit_id.as_deref() != Some(unit.as_str()) => Err(AppError::NotFound),
        _ => Ok(user),
    }
}

pub async fn update(ctx: &Ctx<'_>, id: &str, input: UserInput) -> AppResult<User> {
    require_admin(ctx.user)?;
    let old = users::get(ctx.db, id).await?.ok_or(AppError::NotFound)?;
    let expected = expected(input.version)?;
    let mut new = validate(ctx.db, &input, User { updated_at: now_ms(), ..old.clone() }).await?;
    if id == ctx.user.id && (new.role != Role::Admin || new.active == 0) {
        return Err(AppError::field("role", Code::SelfLockout, "不能取消自己的管理员角色或停用自己的账号"));
    }
    let mut w = ctx.write().await?;
    w.update(&old, &mut new, expected).await?;
    if new.active == 0 || new.role != old.role || new.unit_id != old.unit_id || new.area_id != old.area_id {
        // A changed scope or a deactivation takes effect at once: end the account's sessions.
        sessions::delete_for_user(w.conn(), id, None).await?;
    }
    w.commit().await?;
    Ok(new)
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct PasswordInput {
    /// Current password (own change only)
    #[serde(default)]
    pub old_password: String,
    #[serde(default)]
    pub new_password: String,
    #[serde(default)]
    pub confirm_password: String,
}

async fn check_new_password(input: &PasswordInput, user: &User) -> AppResult<()> {
    let mut e = FieldErrors::default();
    check_password(&mut e, "new_password", &input.new_password, &user.username);
    if e.is_empty() && verify_password(&input.new_password, &user.password_hash).await {
        e.add("new_password", Code::WeakPassword, "新密码不能与当前密码相同");
    }
    if input.new_password != input.confirm_password {
        e.add("confirm_password", Code::Mismatch, "两次输入的新密码不一致");
    }
    if e.is_empty() { Ok(()) } else { Err(AppError::Validation(e)) }
}

/// Changes the signed-in user's own password; other sessions of the account end.
pub async fn change_own_password(ctx: &Ctx<'_>, input: PasswordInput) -> AppResult<()> {
    let user = users::get(ctx.db, &ctx.user.id).await?.ok_or(AppError::Unauthorized)?;
    // Guessing the current password from a signed-in session is throttled like a login.
    let now = now_ms();
    let (failures, last) = sessions::recent_failures(ctx.db, &user.username, REAUTH, now - FAILURE_WINDOW_MS).await?;
    if failures >= MAX_FAILURES {
        let wait_ms = last.unwrap_or(now) + FAILURE_WINDOW_MS - now;
        return Err(AppError::Throttled((wait_ms + 59_999) / 60_000));
    }
    let ok = verify_password(&input.old_password, &user.password_hash).await;
    sessions::record_attempt(ctx.db, &user.username, REAUTH, now, ok).await?;
    if !ok {
        return Err(AppError::field("old_password", Code::WrongPassword, "当前密码不正确"));
    }
    check_new_password(&input, &user).await?;
    set_password(ctx, &user, &input.new_password, Some(&ctx.user.session_id)).await
}

/// The office resets someone's password; all their sessions end.
pub async fn reset_password(ctx: &Ctx<'_>, id: &str, input: PasswordInput) -> AppResult<()> {
    require_admin(ctx.user)?;
    let user = users::get(ctx.db, id).await?.ok_or(AppError::NotFound)?;
    check_new_password(&input, &user).await?;
    set_password(ctx, &user, &input.new_password, None).await
}

async fn set_password(ctx: &Ctx<'_>, user: &User, pw: &str, keep_session: Option<&str>) -> AppResult<()> {
    let hash = hash_password(pw).await?;
    let mut w = ctx.write().await?;
    let now = w.now;
    users::set_password(w.conn(), &user.id, &hash, now).await?;
    sessions::delete_for_user(w.conn(), &user.id, keep_session).await?;
    w.audit(Verb::Password, ObjectType::User, &user.id, &user.username, None, None).await?;
    w.commit().await?;
    Ok(())
}
