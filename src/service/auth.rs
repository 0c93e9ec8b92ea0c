//! Passwords, login with throttling, sessions and tokens.

use super::{Ctx, CurrentUser, two_step};
use crate::domain::audit::{ObjectType, Verb};
use crate::domain::{time::now_ms, validate::FieldErrors};
use crate::error::{AppError, AppResult, Code};
use crate::store::{Db, sessions, users};
use argon2::Argon2;
use argon2::password_hash::{PasswordHasher, PasswordVerifier, phc::PasswordHash};
use rand::RngCore;
use sha2::{Digest, Sha256};

/// After this many failures for one username from one client inside the window, that client's
/// further tries for it are refused until the window has passed since the last failure. Others
/// (the account's owner at their own desk) are not affected, so a stranger cannot lock anyone out.
pub const MAX_FAILURES: i64 = 5;
pub const FAILURE_WINDOW_MS: i64 = 15 * 60 * 1000;
/// One client guessing many usernames is stopped too.
pub const MAX_IP_FAILURES: i64 = 50;
/// Beyond this many failures for one account from all clients in the window, the account is
/// tried at most once per `BACKOFF_MS`: guessing from many addresses slows to a crawl, while the
/// owner waits seconds, never a lockout.
pub const ACCOUNT_FAILURES: i64 = 20;
pub const BACKOFF_MS: i64 = 10_000;
/// The "client" of a signed-in user re-entering their password (to change it).
pub const REAUTH: &str = "reauth";

pub use crate::domain::role::SessionKind;

const COMMON_PASSWORDS: &str = include_str!("common_passwords.txt");
/// Words that make a password guessable wherever they stand in it (read without leetspeak).
const WEAK_STEMS: [&str; 12] = [
    "password", "passwort", "qwerty", "asdfgh", "zxcvbn", "iloveyou", "woaini", "admin", "welcome", "letmein",
    "abcdef", "123456",
];

/// A password that is one short piece said twice or more, with maybe a number after it
/// ("thr3thr31", "abc1abc1").
fn repeats(pw: &str) -> bool {
    let chars: Vec<char> = pw.chars().collect();
    (0..=3.min(chars.len())).any(|tail| {
        let (body, end) = chars.split_at(chars.len() - tail);
        end.iter().all(char::is_ascii_digit)
            && body.len() >= 6
            && (1..=body.len() / 2).any(|n| body.len() % n == 0 && body.chunks(n).all(|c| c == &body[..n]))
    })
}

/// A password read without leetspeak, lower case: p@ssw0rd → password.
fn unleet(pw: &str) -> String {
    pw.to_lowercase()
        .chars()
        .map(|c| match c {
            '0' => 'o',
            '1' | '!' => 'i',
            '3' => 'e',
            '4' | '@' => 'a',
            '5' | '$' => 's',
            '7' => 't',
            other => other,
        })
        .collect()
}

/// Password policy: 8 to 64 characters with a letter and a digit, at least 4 different
/// characters, not a common password or built on one, and not the username (also written in
/// leetspeak, repeated or reversed).
pub fn check_password(errors: &mut FieldErrors, field: &str, pw: &str, username: &str) {
    let n = pw.chars().count();
    let weak = |errors: &mut FieldErrors, why: &str| errors.add(field, Code::WeakPassword, why);
    if !(8..=64).contains(&n) || !pw.chars().any(|c| c.is_ascii_alphabetic()) || !pw.chars().any(|c| c.is_ascii_digit())
    {
        return weak(errors, "密码须为8至64位，且同时包含字母和数字");
    }
    let lower = pw.to_lowercase();
    let plain = unleet(pw);
    if lower.chars().collect::<std::collections::HashSet<_>>().len() < 4 || repeats(&lower) {
        return weak(errors, "密码过于简单（重复的字符或片段太多），请换一个");
    }
    let common = COMMON_PASSWORDS.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#'));
    if common.clone().any(|c| c == lower || unleet(c) == plain) || WEAK_STEMS.iter().any(|s| plain.contains(s)) {
        return weak(errors, "这是常见的弱密码，容易被猜中，请换一个");
    }
    let name = unleet(username.trim());
    let reversed: String = name.chars().rev().collect();
    if name.chars().count() >= 3 && (plain.contains(&name) || plain.contains(&reversed)) {
        weak(errors, "密码不能包含用户名");
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

/// One login: who, with what, from where, for what kind of session.
pub struct Attempt<'a> {
    pub username: &'a str,
    pub password: &'a str,
    /// The authenticator's code (or a recovery code) given with the password (API clients)
    pub code: Option<&'a str>,
    pub ip: &'a str,
    pub kind: SessionKind,
    pub ttl_ms: i64,
    pub request_id: &'a str,
    /// The deployment requires two-step sign-in of administrators
    pub admins_two_step: bool,
}

/// Where a login stands after the password.
pub enum Login {
    Done(Box<LoginOutcome>),
    /// The password was right; the code comes next on its own page (web logins).
    SecondStep {
        token: String,
        purpose: two_step::Purpose,
    },
}

/// Checks throttling, the password and, for accounts with an authenticator, its code; then
/// opens a session and audits the login. A web login without a code gets a second step.
pub async fn login(db: &Db, a: &Attempt<'_>) -> AppResult<Login> {
    let user = verify_login(db, a.username, a.password, a.ip).await?;
    let authenticator = crate::store::two_step::authenticator(db, &user.id).await?;
    let web = a.kind == SessionKind::Web;
    let mut passed = None;
    if authenticator.enabled() {
        match a.code.filter(|c| !c.trim().is_empty()) {
            Some(code) => passed = Some(two_step::check(db, &user, &authenticator, code, a.ip).await?),
            None if web => {
                let token = two_step::begin(db, &user.id, two_step::Purpose::Verify, a.ip).await?;
                return Ok(Login::SecondStep { token, purpose: two_step::Purpose::Verify });
            }
            None => return Err(Code::TwoStepRequired.into()),
        }
    } else if two_step::required(user.role, a.admins_two_step) {
        if !web {
            return Err(Code::TwoStepSetupRequired.into());
        }
        let token = two_step::begin(db, &user.id, two_step::Purpose::Enroll, a.ip).await?;
        return Ok(Login::SecondStep { token, purpose: two_step::Purpose::Enroll });
    }
    let out = open_session(db, user, (a.ip, a.kind, a.ttl_ms), passed, a.request_id).await?;
    Ok(Login::Done(Box::new(out)))
}

/// The second step of a web login (see `two_step::complete`), then the session; the recovery
/// codes come back when an authenticator was bound just now.
pub async fn finish_login(
    db: &Db,
    token: &str,
    code: &str,
    (ip, ttl_ms): (&str, i64),
    request_id: &str,
) -> AppResult<(LoginOutcome, Option<Vec<String>>)> {
    let done = two_step::complete(db, token, code, ip, request_id).await?;
    let out = open_session(db, done.user, (ip, SessionKind::Web, ttl_ms), Some(done.passed), request_id).await?;
    Ok((out, done.recovery_codes))
}

async fn open_session(
    db: &Db,
    user: users::User,
    (ip, kind, ttl_ms): (&str, SessionKind, i64),
    second_step: Option<two_step::Passed>,
    request_id: &str,
) -> AppResult<LoginOutcome> {
    let now = now_ms();
    sessions::record_attempt(db, &user.username, ip, now, true).await?;
    let token = random_hex(32);
    let expires_at = now + ttl_ms;
    let who = CurrentUser::signed_in(&user);
    let ctx = Ctx { db, user: &who, request_id };
    let mut w = ctx.write().await?;
    // The password checked is still the account's: a password changed (or the account closed)
    // while this login was checked refuses it, instead of a session outliving the change.
    if !users::hold_password(w.conn(), &user.id, &user.password_hash).await? {
        return Err(AppError::BadCredentials);
    }
    sessions::insert(w.conn(), &token_hash(&token), &user.id, kind, &random_hex(16), now, expires_at).await?;
    let mut after = serde_json::json!({ "kind": kind.as_str(), "ip": ip });
    if let Some(p) = second_step {
        after["second_step"] = p.as_str().into();
    }
    w.audit(Verb::Login, ObjectType::Session, &user.id, &user.username, None, Some(after)).await?;
    w.commit().await?;
    Ok(LoginOutcome { token, expires_at, user })
}

/// Throttling, then the password. A failure is recorded at once (before the check, see
/// below); a success only when the whole login succeeds, so a known password does not reset
/// the count of wrong codes.
async fn verify_login(db: &Db, username: &str, password: &str, ip: &str) -> AppResult<users::User> {
    let username = username.trim();
    throttle(db, username, ip).await?;
    let now = now_ms();
    // Counted as a failure before the password is checked, then counted again: attempts sent
    // at once (parallel requests, several instances) all passed the check above, and only as
    // many as the limit allows go on. The record goes when the attempt is refused here or
    // turns out right.
    let attempt = crate::domain::ids::new_id();
    sessions::record_attempt_as(db, &attempt, (username, ip), now, false).await?;
    let since = now - FAILURE_WINDOW_MS;
    let (mine, _) = sessions::recent_failures(db, username, ip, since).await?;
    if mine > MAX_FAILURES || sessions::recent_ip_failures(db, ip, since).await? > MAX_IP_FAILURES {
        sessions::forget_attempt(db, &attempt).await?;
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
    match (ok, user) {
        (true, Some(user)) => {
            sessions::forget_attempt(db, &attempt).await?;
            Ok(user)
        }
        // The failure is the attempt recorded above.
        _ => Err(AppError::BadCredentials),
    }
}

/// The limits on guessing, checked before every password and every second-step code: this
/// client's failures for the account, its failures over all accounts, and the account's
/// backoff once many clients failed.
pub async fn throttle(db: &Db, username: &str, ip: &str) -> AppResult<()> {
    let now = now_ms();
    let since = now - FAILURE_WINDOW_MS;
    let (failures, last) = sessions::recent_failures(db, username, ip, since).await?;
    if failures >= MAX_FAILURES {
        let wait_ms = last.unwrap_or(now) + FAILURE_WINDOW_MS - now;
        return Err(AppError::Throttled((wait_ms + 59_999) / 60_000));
    }
    if sessions::recent_ip_failures(db, ip, since).await? >= MAX_IP_FAILURES {
        return Err(AppError::Throttled(FAILURE_WINDOW_MS / 60_000));
    }
    let (all, last) = sessions::recent_failures(db, username, "", since).await?;
    if all >= ACCOUNT_FAILURES
        && let Some(wait_ms) = last.map(|t| t + BACKOFF_MS - now).filter(|w| *w > 0)
    {
        let message = format!("该账号近期登录失败较多，请{}秒后再试", (wait_ms + 999) / 1000);
        return Err(AppError::refuse(Code::TooManyAttempts, message));
    }
    Ok(())
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
        no_windows: false,
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
        check_password(&mut e, "a", "Cangzhou-Yunhe7", "wangli");
        check_password(&mut e, "a", "Secret123", "admin");
        assert!(e.is_empty(), "{e:?}");
        let weak = [
            ("short1", "wangli"),
            ("onlyletters", "wangli"),
            ("12345678", "wangli"),
            (&*"a1".repeat(40), "wangli"),
            ("password1", "wangli"),
            ("P@ssw0rd2026", "wangli"),
            ("aaaaaaa1", "wangli"),
            ("woaini1314", "wangli"),
            ("thr3thr31", "three"),
            ("wangli2026", "wangli"),
            ("ilgnaw99x", "wangli"),
        ];
        for (bad, username) in weak {
            let mut e = FieldErrors::default();
            check_password(&mut e, "p", bad, username);
            assert_eq!(e.0.first().map(|f| f.code), Some(crate::error::Code::WeakPassword), "{bad}");
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
