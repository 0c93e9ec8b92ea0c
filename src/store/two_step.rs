//! Two-step sign-in: each account's authenticator secret, its one-time recovery codes and the
//! logins waiting for their second step.

use super::Db;
use sqlx::AnyConnection;

/// An account's authenticator: the base32 secret (empty when two-step sign-in is off), the last
/// time step accepted and since when it is on.
#[derive(Debug, Clone, Default, sqlx::FromRow)]
pub struct Authenticator {
    pub totp_secret: String,
    pub totp_step: i64,
    pub totp_enabled_at: Option<i64>,
}

impl Authenticator {
    pub fn enabled(&self) -> bool {
        !self.totp_secret.is_empty()
    }
}

pub async fn authenticator(db: &Db, user_id: &str) -> Result<Authenticator, sqlx::Error> {
    let found =
        sqlx::query_as::<_, Authenticator>("SELECT totp_secret, totp_step, totp_enabled_at FROM users WHERE id = $1")
            .bind(user_id)
            .fetch_optional(&db.pool)
            .await?;
    Ok(found.unwrap_or_default())
}

/// Turns two-step sign-in on with `secret` (or off with ""), replacing the recovery codes.
pub async fn set_secret(
    conn: &mut AnyConnection,
    user_id: &str,
    secret: &str,
    step: i64,
    now: i64,
) -> Result<(), sqlx::Error> {
    let enabled_at = (!secret.is_empty()).then_some(now);
    sqlx::query(
        "UPDATE users SET totp_secret = $1, totp_step = $2, totp_enabled_at = $3, updated_at = $4, \
         version = version + 1 WHERE id = $5",
    )
    .bind(secret)
    .bind(step)
    .bind(enabled_at)
    .bind(now)
    .bind(user_id)
    .execute(&mut *conn)
    .await?;
    sqlx::query("DELETE FROM recovery_codes WHERE user_id = $1").bind(user_id).execute(conn).await.map(|_| ())
}

/// Accepts time step `step` for the account once: false when it (or a later one) was used
/// already, by this instance or another.
pub async fn take_step(db: &Db, user_id: &str, step: i64) -> Result<bool, sqlx::Error> {
    let r = sqlx::query("UPDATE users SET totp_step = $1 WHERE id = $2 AND totp_step < $1 AND totp_secret <> ''")
        .bind(step)
        .bind(user_id)
        .execute(&db.pool)
        .await?;
    Ok(r.rows_affected() == 1)
}

pub async fn add_recovery_codes(
    conn: &mut AnyConnection,
    user_id: &str,
    hashes: &[String],
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM recovery_codes WHERE user_id = $1").bind(user_id).execute(&mut *conn).await?;
    for h in hashes {
        sqlx::query("INSERT INTO recovery_codes (user_id, code_hash, created_at) VALUES ($1, $2, $3)")
            .bind(user_id)
            .bind(h)
            .bind(now)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

/// Uses up a recovery code: true only the first time.
pub async fn take_recovery_code(db: &Db, user_id: &str, hash: &str, now: i64) -> Result<bool, sqlx::Error> {
    let r =
        sqlx::query("UPDATE recovery_codes SET used_at = $1 WHERE user_id = $2 AND code_hash = $3 AND used_at IS NULL")
            .bind(now)
            .bind(user_id)
            .bind(hash)
            .execute(&db.pool)
            .await?;
    Ok(r.rows_affected() == 1)
}

pub async fn recovery_codes_left(db: &Db, user_id: &str) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM recovery_codes WHERE user_id = $1 AND used_at IS NULL")
        .bind(user_id)
        .fetch_one(&db.pool)
        .await
}

/// A login (or an enrolment from the account page) waiting for its code.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Challenge {
    pub id_hash: String,
    pub user_id: String,
    /// "verify" or "enroll"
    pub purpose: String,
    /// The secret being enrolled
    pub secret: String,
    pub ip: String,
    pub failures: i64,
    pub created_at: i64,
    pub expires_at: i64,
}

pub async fn insert_challenge(db: &Db, c: &Challenge) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO login_challenges (id_hash, user_id, purpose, secret, ip, failures, created_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(&c.id_hash)
    .bind(&c.user_id)
    .bind(&c.purpose)
    .bind(&c.secret)
    .bind(&c.ip)
    .bind(c.failures)
    .bind(c.created_at)
    .bind(c.expires_at)
    .execute(&db.pool)
    .await
    .map(|_| ())
}

pub async fn challenge(db: &Db, id_hash: &str, now: i64) -> Result<Option<Challenge>, sqlx::Error> {
    sqlx::query_as::<_, Challenge>("SELECT * FROM login_challenges WHERE id_hash = $1 AND expires_at > $2")
        .bind(id_hash)
        .bind(now)
        .fetch_optional(&db.pool)
        .await
}

/// Counts a wrong code against the challenge; returns the failures so far.
pub async fn challenge_failed(db: &Db, id_hash: &str) -> Result<i64, sqlx::Error> {
    sqlx::query("UPDATE login_challenges SET failures = failures + 1 WHERE id_hash = $1")
        .bind(id_hash)
        .execute(&db.pool)
        .await?;
    let n = sqlx::query_scalar::<_, i64>("SELECT failures FROM login_challenges WHERE id_hash = $1")
        .bind(id_hash)
        .fetch_optional(&db.pool)
        .await?;
    Ok(n.unwrap_or(i64::MAX))
}

/// Ends a challenge; true when this call ended it (a code is spent by one request only).
pub async fn delete_challenge(db: &Db, id_hash: &str) -> Result<bool, sqlx::Error> {
    let r = sqlx::query("DELETE FROM login_challenges WHERE id_hash = $1").bind(id_hash).execute(&db.pool).await?;
    Ok(r.rows_affected() == 1)
}

/// Ends a challenge but keeps its row until the hourly purge (a binding's secret is reused).
pub async fn expire_challenge(db: &Db, id_hash: &str) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE login_challenges SET expires_at = 0 WHERE id_hash = $1")
        .bind(id_hash)
        .execute(&db.pool)
        .await
        .map(|_| ())
}

/// Ends every waiting challenge of an account.
pub async fn end_challenges(db: &Db, user_id: &str) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM login_challenges WHERE user_id = $1").bind(user_id).execute(&db.pool).await.map(|_| ())
}

/// The secret of the account's latest binding not yet finished, if any.
pub async fn pending_secret(db: &Db, user_id: &str) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar::<_, String>(
        "SELECT secret FROM login_challenges WHERE user_id = $1 AND purpose = 'enroll' AND secret <> '' \
         ORDER BY created_at DESC LIMIT 1",
    )
    .bind(user_id)
    .fetch_optional(&db.pool)
    .await
}

pub async fn purge_challenges(db: &Db, now: i64) -> Result<u64, sqlx::Error> {
    let r = sqlx::query("DELETE FROM login_challenges WHERE expires_at <= $1").bind(now).execute(&db.pool).await?;
    Ok(r.rows_affected())
}
