//! Login sessions (web cookies and API bearer tokens) and login attempts for throttling.

use super::Db;
use crate::domain::ids::new_id;
use crate::domain::role::{Role, SessionKind};
use sqlx::AnyConnection;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SessionUser {
    pub session_id: String,
    pub kind: SessionKind,
    pub csrf_token: String,
    pub expires_at: i64,
    pub user_id: String,
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub unit_id: Option<String>,
    pub area_id: Option<String>,
}

pub async fn insert(
    conn: &mut AnyConnection,
    id_hash: &str,
    user_id: &str,
    kind: SessionKind,
    csrf: &str,
    now: i64,
    expires_at: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO sessions (id, user_id, kind, csrf_token, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(id_hash)
    .bind(user_id)
    .bind(kind)
    .bind(csrf)
    .bind(now)
    .bind(expires_at)
    .execute(conn)
    .await
    .map(|_| ())
}

/// The live session with this token hash, joined with its (still active) user.
pub async fn find(db: &Db, id_hash: &str, now: i64) -> Result<Option<SessionUser>, sqlx::Error> {
    sqlx::query_as::<_, SessionUser>(
        "SELECT s.id AS session_id, s.kind, s.csrf_token, s.expires_at, u.id AS user_id, u.username, \
         u.display_name, u.role, u.unit_id, u.area_id \
         FROM sessions s JOIN users u ON u.id = s.user_id \
         WHERE s.id = $1 AND s.expires_at > $2 AND u.active = 1",
    )
    .bind(id_hash)
    .bind(now)
    .fetch_optional(&db.pool)
    .await
}

pub async fn delete_in(conn: &mut AnyConnection, id_hash: &str) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM sessions WHERE id = $1").bind(id_hash).execute(conn).await.map(|_| ())
}

/// Ends every session of a user except `keep` (after a password change or deactivation).
pub async fn delete_for_user(conn: &mut AnyConnection, user_id: &str, keep: Option<&str>) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM sessions WHERE user_id = $1 AND id <> $2")
        .bind(user_id)
        .bind(keep.unwrap_or(""))
        .execute(conn)
        .await
        .map(|_| ())
}

pub async fn purge_expired(db: &Db, now: i64) -> Result<u64, sqlx::Error> {
    let r = sqlx::query("DELETE FROM sessions WHERE expires_at <= $1").bind(now).execute(&db.pool).await?;
    Ok(r.rows_affected())
}

pub async fn record_attempt(db: &Db, username: &str, ip: &str, now: i64, success: bool) -> Result<(), sqlx::Error> {
    record_attempt_as(db, &new_id(), (username, ip), now, success).await
}

/// Records an attempt under an id the caller keeps (see `forget_attempt`).
pub async fn record_attempt_as(
    db: &Db,
    id: &str,
    (username, ip): (&str, &str),
    now: i64,
    success: bool,
) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO login_attempts (id, username, ip, at, success) VALUES ($1, $2, $3, $4, $5)")
        .bind(id)
        .bind(username)
        .bind(ip)
        .bind(now)
        .bind(success as i64)
        .execute(&db.pool)
        .await
        .map(|_| ())
}

/// Removes an attempt recorded ahead of its outcome that turned out not to be a failure.
pub async fn forget_attempt(db: &Db, id: &str) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM login_attempts WHERE id = $1").bind(id).execute(&db.pool).await.map(|_| ())
}

/// Failures for a username from one client ("" for all clients) since `since`, counting only
/// those after the account's last success, and the time of the newest such failure.
pub async fn recent_failures(
    db: &Db,
    username: &str,
    client: &str,
    since: i64,
) -> Result<(i64, Option<i64>), sqlx::Error> {
    sqlx::query_as::<_, (i64, Option<i64>)>(
        "SELECT COUNT(*), MAX(at) FROM login_attempts WHERE username = $1 AND success = 0 AND at > $2 \
         AND ($3 = '' OR ip = $3) \
         AND at > COALESCE((SELECT MAX(at) FROM login_attempts WHERE username = $1 AND success = 1), 0)",
    )
    .bind(username)
    .bind(since)
    .bind(client)
    .fetch_one(&db.pool)
    .await
}

pub async fn recent_ip_failures(db: &Db, ip: &str, since: i64) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM login_attempts WHERE ip = $1 AND success = 0 AND at > $2")
        .bind(ip)
        .bind(since)
        .fetch_one(&db.pool)
        .await
}
