//! Passwords, login with throttling, sessions and tokens.

use super::{Ctx, CurrentUser};
use crate::domain::audit::{ObjectType, Verb};
use crate::domain::{time::now_ms, validate::FieldErrors};
use crate::error::{AppError, AppResult, Code};
use crate::store::{Db, sessions, users};
use argon2::Argon2;
use argon2::password_hash::{PasswordHasher, PasswordVerifier, phc::PasswordHash};
use rand::RngCore;
use sha2::{Digest, Sha256};

/// After this many failures for one username inside the window, further tries are refused
/// until the window has passed since the last failure.
pub const MAX_FAILURES: i64 = 5;
pub const FAILURE_WINDOW_MS: i64 = 15 * 60 * 1000;
/// One address guessing many usernames is stopped too.
pub const MAX_IP_FAILURES: i64 = 50;

pub use crate::domain::role::SessionKind;

/// Password policy: 8 to 64 characters with at least one letter and one digit.
pub fn check_password(errors: &mut FieldErrors, field: &str, pw: &str) {
    let n = pw.chars().count();
    if !(8..=64).contains(&n) || !pw.chars().any(|c| c.is_ascii_alphabetic()) || !pw.chars().any(|c| c.is_ascii_digit())
    {
        errors.add(field, Code::WeakPassword, "密码须为8至64位，且同时包含字母和数字");
    }
}

pub async fn hash_password(pw: &str) -> AppResult<String> {
    let pw = pw.to_string();
    tokio::task::spawn_blocking(move || {
        Argon2::default()
            .hash_password(pw.as_bytes())
            .map(|h| h.to_string())
            .map_err(|e| anyhow::anyhow!("password hashing failed: {e}"))
    })
    .await
    .map_err(|e| anyhow::anyhow!(e))?
    .map_err(AppError::Internal)
}

pub async fn verify_password(pw: &str, hash: &str) -> bool {
    let (pw, hash) = (pw.to_string(), hash.to_string());
    tokio::task::spawn_blocking(move || {
        PasswordHash::new(&hash).is_ok_and(|parsed| Argon2::default().verify_password(pw.as_bytes(), &parsed).is_ok())
    })
    .await
    .unwrap_or(false)
}

pub fn random_hex(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rand::rng().fill_bytes(&mut buf);
    hex::encode(buf)
}

/// Sessions are stored by the SHA-256 of their token, so a leaked table cannot be replayed.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

pub struct LoginOutcome {
    pub token: String,
    pub expires_at: i64,
    pub user: users::User,
}

/// Checks throttling, then the password; on success opens a session and audits the login.
pub async fn login(
    db: &Db,
    username: &str,
    password: &str,
    ip: &str,
    kind: SessionKind,
    ttl_ms: i64,
    request_id: &str,
) -> AppResult<LoginOutcome> {
    let username = username.trim();
    let now = now_ms();
    let since = now - FAILURE_WINDOW_MS;
    let (failures, last) = sessions::recent_failures(db, username, since).await?;
    if failures >= MAX_FAILURES {
        let wait_ms = last.unwrap_or(now) + FAILURE_WINDOW_MS - now;
        return Err(AppError::Throttled((wait_ms + 59_999) / 60_000));
    }
    if sessions::recent_ip_failures(db, ip, since).await? >= MAX_IP_FAILURES {
        return Err(AppError::Throttled(FAILURE_WINDOW_MS / 60_000));
    }
    let user = users::by_username(db, username).await?.filter(|u| u.active == 1);
    let ok = match &user {
        Some(u) => verify_password(password, &u.password_hash).await,
        None => {
            // Spend the same time as a real check so usernames cannot be probed by timing.
            let _ = hash_password(password).await;
            false
        }
    };
    sessions::record_attempt(db, username, ip, now, ok).await?;
    let (true, Some(user)) = (ok, user) else {
        return Err(AppError::BadCredentials);
    };
    let token = random_hex(32);
    let expires_at = now + ttl_ms;
    let who = CurrentUser::signed_in(&user);
    let ctx = Ctx { db, user: &who, request_id };
    let mut w = ctx.write().await?;
    sessions::insert(w.conn(), &token_hash(&token), &user.id, kind, &random_hex(16), now, expires_at).await?;
    let after = serde_json::json!({ "kind": kind.as_str(), "ip": ip });
    w.audit(Verb::Login, ObjectType::Session, &user.id, &user.username, None, Some(after)).await?;
    w.commit().await?;
    Ok(LoginOutcome { token, expires_at, user })
}

/// Resolves a session token (cookie or bearer) to the signed-in user.
pub async fn authenticate(db: &Db, token: &str, kind: SessionKind) -> AppResult<Option<CurrentUser>> {
    let Some(s) = sessions::find(db, &token_hash(token), now_ms()).await? else {
        return Ok(None);
    };
    if s.kind != kind {
        return Ok(None);
    }
    let role = s.role;
    Ok(Some(CurrentUser {
        id: s.user_id,
        username: s.username,
        display_name: s.display_name,
        role,
        unit_id: s.unit_id,
        area_id: s.area_id,
        session_id: s.session_id,
        csrf: s.csrf_token,
    }))
}

pub async fn logout(db: &Db, user: &CurrentUser, request_id: &str) -> AppResult<()> {
    let ctx = Ctx { db, user, request_id };
    let mut w = ctx.write().await?;
    sessions::delete_in(w.conn(), &user.session_id).await?;
    w.audit(Verb::Logout, ObjectType::Session, &user.id, &user.username, None, None).await?;
    w.commit().await
}

/// Constant-time comparison for CSRF tokens.
pub fn same_token(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn password_policy() {
        let mut e = FieldErrors::default();
        check_password(&mut e, "a", "abcdefg1");
        assert!(e.is_empty());
        for bad in ["short1", "onlyletters", "12345678", &"a1".repeat(40)] {
            let mut e = FieldErrors::default();
            check_password(&mut e, "p", bad);
            assert_eq!(e.0[0].code, crate::error::Code::WeakPassword, "{bad}");
        }
    }

    #[tokio::test]
    async fn hashes_verify_and_differ_per_salt() {
        let a = hash_password("Secret123").await.unwrap();
        let b = hash_password("Secret123").await.unwrap();
        assert_ne!(a, b);
        assert!(verify_password("Secret123", &a).await);
        assert!(!verify_password("Secret124", &a).await);
        assert!(!verify_password("Secret123", "not a hash").await);
    }

    #[test]
    fn tokens() {
        assert!(same_token("abc", "abc") && !same_token("abc", "abd") && !same_token("abc", "ab"));
        assert_eq!(token_hash("x").len(), 64);
    }
}
