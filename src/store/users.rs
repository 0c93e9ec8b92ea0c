//! Accounts.

use super::{Db, PageReq, Where, bind_args_as};
use crate::domain::audit::ObjectType;
use crate::domain::code::Code;
use crate::domain::role::Role;
use serde::Serialize;
use sqlx::AnyConnection;

#[derive(Debug, Clone, sqlx::FromRow, Serialize, utoipa::ToSchema)]
pub struct User {
    pub id: String,
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub unit_id: Option<String>,
    pub area_id: Option<String>,
    pub phone: String,
    #[serde(skip)]
    pub password_hash: String,
    pub active: i64,
    pub created_at: i64,
    pub updated_at: i64,
    pub version: i64,
}

crate::listed! {
    /// An account as listed, with the names of its unit and area.
    UserRow: User { unit_name: Option<String>, area_name: Option<String> }
}

#[derive(Debug, Default, Clone)]
pub struct UserFilter {
    pub role: Option<Role>,
    pub unit_id: Option<String>,
    pub keyword: Option<String>,
    pub active: Option<bool>,
}

const COLS: &str =
    "id, username, display_name, role, unit_id, area_id, phone, password_hash, active, created_at, updated_at, version";

crate::record! {
    User in "users" as ObjectType::User,
    label |u| u.username.clone(),
    insert [id, username, display_name, role, unit_id, area_id, phone, password_hash, active, created_at, updated_at, version],
    update [display_name, role, unit_id, area_id, phone, active, updated_at],
    unique ("username", Code::DuplicateUsername, "该用户名已被使用"),
}

pub async fn get(db: &Db, id: &str) -> Result<Option<User>, sqlx::Error> {
    super::record::find(db, id).await
}

pub async fn by_username(db: &Db, username: &str) -> Result<Option<User>, sqlx::Error> {
    sqlx::query_as::<_, User>(&format!("SELECT {COLS} FROM users WHERE username = $1"))
        .bind(username)
        .fetch_optional(&db.pool)
        .await
}

pub async fn list(db: &Db, f: &UserFilter, page: PageReq) -> Result<(Vec<UserRow>, i64), sqlx::Error> {
    let mut w = Where::default();
    w.eq("s.role", f.role.map(Role::as_str));
    w.eq("s.unit_id", f.unit_id.as_deref());
    w.contains(db, &["s.username", "s.display_name", "s.phone"], f.keyword.as_deref());
    w.flag("s.active", f.active);
    let total = super::count(db, "users s", &w).await?;
    let sql = format!(
        "SELECT s.*, u.name AS unit_name, a.name AS area_name \
         FROM users s LEFT JOIN units u ON u.id = s.unit_id LEFT JOIN org_nodes a ON a.id = s.area_id{} \
         ORDER BY s.username{}",
        w.sql(),
        page.limit_offset()
    );
    let rows = bind_args_as(sqlx::query_as::<_, UserRow>(&sql), &w.args).fetch_all(&db.pool).await?;
    Ok((rows, total))
}

/// Active accounts of a role: (id, display name, username).
pub async fn by_role(db: &Db, role: Role) -> Result<Vec<(String, String, String)>, sqlx::Error> {
    sqlx::query_as::<_, (String, String, String)>(
        "SELECT id, display_name, username FROM users WHERE role = $1 AND active = 1 ORDER BY display_name",
    )
    .bind(role)
    .fetch_all(&db.pool)
    .await
}

pub async fn set_password(conn: &mut AnyConnection, id: &str, hash: &str, now: i64) -> Result<bool, sqlx::Error> {
    let r = sqlx::query("UPDATE users SET password_hash = $1, updated_at = $2, version = version + 1 WHERE id = $3")
        .bind(hash)
        .bind(now)
        .bind(id)
        .execute(conn)
        .await?;
    Ok(r.rows_affected() == 1)
}

/// Whether the account is still open with this password hash, its row held (PostgreSQL: locked)
/// until the caller's write ends, so a password change waits for it or refuses it.
pub async fn hold_password(conn: &mut AnyConnection, id: &str, hash: &str) -> Result<bool, sqlx::Error> {
    let r = sqlx::query(
        "UPDATE users SET password_hash = password_hash WHERE id = $1 AND password_hash = $2 AND active = 1",
    )
    .bind(id)
    .bind(hash)
    .execute(conn)
    .await?;
    Ok(r.rows_affected() == 1)
}

pub async fn count_all(db: &Db) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM users").fetch_one(&db.pool).await
}
