//! Two-step sign-in (两步验证): a time-based code from an authenticator app (TOTP, RFC 6238:
//! SHA-1, six digits, 30 s, one step of clock drift either way) after the password; required
//! for the office's administrators unless the deployment says otherwise, open to every account.
//! Each code is accepted once (the last step used is kept per account, atomically, so two
//! instances cannot both accept it); ten one-time recovery codes stand in for a lost phone.

use super::{Ctx, auth};
use crate::domain::audit::{ObjectType, Verb};
use crate::domain::role::Role;
use crate::domain::time::now_ms;
use crate::error::{AppError, AppResult, Code};
use crate::store::two_step::{self as store, Authenticator, Challenge};
use crate::store::{Db, sessions, users};
use rand::RngCore;
use totp_rs::{Builder, Secret, Totp};

/// A login waits this long for its code.
pub const CHALLENGE_MS: i64 = 10 * 60 * 1000;
/// Wrong codes a waiting login may have before the password must be given again.
pub const MAX_CODE_FAILURES: i64 = 5;
pub const RECOVERY_CODES: usize = 10;
const ISSUER: &str = "创城通";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// The account has an authenticator: ask for its code.
    Verify,
    /// An administrator without one, where two-step sign-in is required: bind one now.
    Enroll,
}

impl Purpose {
    fn as_str(self) -> &'static str {
        match self {
            Purpose::Verify => "verify",
            Purpose::Enroll => "enroll",
        }
    }
}

/// Whether the deployment requires two-step sign-in of this account.
pub fn required(role: Role, admins_must: bool) -> bool {
    admins_must && role == Role::Admin
}

fn totp(secret: &str, account: &str) -> AppResult<Totp> {
    let secret =
        Secret::try_from_base32(secret).map_err(|e| anyhow::anyhow!("stored TOTP secret unreadable: {e:?}"))?;
    let account = account.replace(':', "_");
    Builder::new()
        .with_secret(secret)
        .with_account_name(if account.is_empty() { "user".to_string() } else { account })
        .with_issuer(Some(ISSUER))
        .build()
        .map_err(|e| AppError::Internal(anyhow::anyhow!("TOTP setup failed: {e:?}")))
}

/// A new random secret (160 bits, as RFC 4226 recommends), base32.
pub fn new_secret() -> String {
    let mut bytes = [0u8; 20];
    rand::rng().fill_bytes(&mut bytes);
    Secret::from(&bytes[..]).to_base32()
}

/// The code an authenticator shows for `secret` at `unix_s` (tests and the CLI check use it).
pub fn code_at(secret: &str, unix_s: u64) -> AppResult<String> {
    Ok(totp(secret, "user")?.generate(unix_s).to_string())
}

/// What the enrolment page shows: the otpauth:// link as a QR code (SVG) and the secret to type
/// in by hand, in groups of four.
pub struct Enrolment {
    pub token: String,
    pub secret_groups: String,
    pub qr_svg: String,
}

fn enrolment(token: String, secret: &str, username: &str) -> AppResult<Enrolment> {
    let url = totp(secret, username)?.to_url().map_err(|e| anyhow::anyhow!("otpauth url: {e:?}"))?;
    let qr = qrcode::QrCode::new(url.as_bytes()).map_err(|e| anyhow::anyhow!("QR code: {e}"))?;
    let qr_svg = qr.render::<qrcode::render::svg::Color>().min_dimensions(220, 220).quiet_zone(true).build();
    let chars: Vec<char> = secret.chars().collect();
    let secret_groups = chars.chunks(4).map(|c| c.iter().collect::<String>()).collect::<Vec<_>>().join(" ");
    Ok(Enrolment { token, secret_groups, qr_svg })
}

/// Opens a challenge for `user`, ending any other it had (one waiting login per account, so
/// opening many cannot multiply the guesses); the token goes to the browser (a cookie or a
/// hidden field), only its hash is kept. An authenticator being bound keeps its secret when
/// binding starts again, so what the person already scanned still works.
pub async fn begin(db: &Db, user_id: &str, purpose: Purpose, ip: &str) -> AppResult<String> {
    let token = auth::random_hex(32);
    let now = now_ms();
    let secret = match purpose {
        Purpose::Enroll => store::pending_secret(db, user_id).await?.unwrap_or_else(new_secret),
        Purpose::Verify => String::new(),
    };
    store::end_challenges(db, user_id).await?;
    let c = Challenge {
        id_hash: auth::token_hash(&token),
        user_id: user_id.to_string(),
        purpose: purpose.as_str().to_string(),
        secret,
        ip: ip.to_string(),
        failures: 0,
        created_at: now,
        expires_at: now + CHALLENGE_MS,
    };
    store::insert_challenge(db, &c).await?;
    Ok(token)
}

/// A waiting challenge and its account; None when it expired, was used or never existed.
pub async fn pending(db: &Db, token: &str) -> AppResult<Option<(Challenge, users::User)>> {
    let Some(c) = store::challenge(db, &auth::token_hash(token), now_ms()).await? else { return Ok(None) };
    Ok(users::get(db, &c.user_id).await?.filter(|u| u.active == 1).map(|u| (c, u)))
}

/// The enrolment page of a waiting "enroll" challenge.
pub fn enrolment_of(token: &str, c: &Challenge, user: &users::User) -> AppResult<Option<Enrolment>> {
    if c.purpose != Purpose::Enroll.as_str() {
        return Ok(None);
    }
    enrolment(token.to_string(), &c.secret, &user.username).map(Some)
}

fn normalise(code: &str) -> String {
    code.chars().filter(|c| c.is_ascii_alphanumeric()).collect::<String>().to_lowercase()
}

fn recovery_hash(user_id: &str, code: &str) -> String {
    auth::token_hash(&format!("{user_id}:{}", normalise(code)))
}

/// How the second step was passed, for the audit log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Passed {
    Code,
    RecoveryCode,
}

impl Passed {
    pub fn as_str(self) -> &'static str {
        match self {
            Passed::Code => "totp",
            Passed::RecoveryCode => "recovery_code",
        }
    }
}

fn wrong_code() -> AppError {
    AppError::refuse(Code::InvalidTwoStepCode, Code::InvalidTwoStepCode.message())
}

/// Checks `code` (six digits from the authenticator, or a recovery code) against an account's
/// authenticator; each is good once. A wrong code counts as a failed login for throttling.
pub async fn check(db: &Db, user: &users::User, a: &Authenticator, code: &str, ip: &str) -> AppResult<Passed> {
    auth::throttle(db, &user.username, ip).await?;
    let plain = normalise(code);
    let now = now_ms();
    let passed = if plain.len() == 6 && plain.bytes().all(|b| b.is_ascii_digit()) {
        let step = totp(&a.totp_secret, &user.username)?.check(&plain, (now / 1000) as u64);
        match step {
            Some(step) if store::take_step(db, &user.id, step as i64).await? => Some(Passed::Code),
            Some(_) => {
                let message = "该验证码刚刚已使用过，请等验证器显示下一个验证码（最多30秒）后再输入";
                return Err(AppError::refuse(Code::InvalidTwoStepCode, message));
            }
            None => None,
        }
    } else if plain.len() == 10
        && store::take_recovery_code(db, &user.id, &recovery_hash(&user.id, &plain), now).await?
    {
        Some(Passed::RecoveryCode)
    } else if plain.len() != 10 {
        sessions::record_attempt(db, &user.username, ip, now, false).await?;
        let message = "请输入验证器上显示的6位数字，或一个恢复码（形如 abcde-fghij）";
        return Err(AppError::refuse(Code::InvalidTwoStepCode, message));
    } else {
        None
    };
    match passed {
        Some(p) => Ok(p),
        None => {
            sessions::record_attempt(db, &user.username, ip, now, false).await?;
            Err(wrong_code())
        }
    }
}

/// The first code of a new authenticator: right now, and its step becomes the last one used.
fn first_step(secret: &str, username: &str, code: &str) -> AppResult<i64> {
    let plain = normalise(code);
    if plain.len() != 6 {
        return Err(AppError::field("code", Code::InvalidTwoStepCode, "请输入验证器上显示的6位数字"));
    }
    let step = totp(secret, username)?.check(&plain, (now_ms() / 1000) as u64);
    step.map(|s| s as i64).ok_or_else(|| {
        AppError::field(
            "code",
            Code::InvalidTwoStepCode,
            "验证码不正确：请确认手机时间准确，并输入验证器上最新的6位数字",
        )
    })
}

/// New recovery codes ("abcde-fghij"), returned once and kept only as hashes.
fn recovery_codes(user_id: &str) -> (Vec<String>, Vec<String>) {
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";
    let mut rng = rand::rng();
    let codes: Vec<String> = (0..RECOVERY_CODES)
        .map(|_| {
            let s: String = (0..10).map(|_| ALPHABET[(rng.next_u32() as usize) % ALPHABET.len()] as char).collect();
            format!("{}-{}", &s[..5], &s[5..])
        })
        .collect();
    let hashes = codes.iter().map(|c| recovery_hash(user_id, c)).collect();
    (codes, hashes)
}

/// Binds the secret of an "enroll" challenge to its account once its first code is right;
/// returns the recovery codes to show (once). Audited as the account's own change.
async fn bind(ctx: &Ctx<'_>, c: &Challenge, user: &users::User, code: &str) -> AppResult<Vec<String>> {
    let step = first_step(&c.secret, &user.username, code)?;
    if !store::delete_challenge(ctx.db, &c.id_hash).await? {
        return Err(Code::TwoStepExpired.into());
    }
    let (codes, hashes) = recovery_codes(&user.id);
    let mut w = ctx.write().await?;
    let now = w.now;
    store::set_secret(w.conn(), &user.id, &c.secret, step, now).await?;
    store::add_recovery_codes(w.conn(), &user.id, &hashes, now).await?;
    w.audit(Verb::TwoStepOn, ObjectType::User, &user.id, &user.username, None, None).await?;
    w.commit().await?;
    Ok(codes)
}

/// The outcome of a login's second step.
pub struct Completed {
    pub user: users::User,
    pub passed: Passed,
    /// Set when an authenticator was bound just now: show these once
    pub recovery_codes: Option<Vec<String>>,
}

/// The second step of a login: the code for a "verify" challenge, or the first code of the
/// authenticator being bound for an "enroll" one. Too many wrong codes end the challenge.
pub async fn complete(db: &Db, token: &str, code: &str, ip: &str, request_id: &str) -> AppResult<Completed> {
    let Some((c, user)) = pending(db, token).await? else { return Err(Code::TwoStepExpired.into()) };
    let outcome = if c.purpose == Purpose::Enroll.as_str() {
        let who = super::CurrentUser::signed_in(&user);
        let ctx = Ctx { db, user: &who, request_id };
        bind(&ctx, &c, &user, code).await.map(|codes| (Passed::Code, Some(codes)))
    } else {
        let a = store::authenticator(db, &user.id).await?;
        match check(db, &user, &a, code, ip).await {
            Ok(p) if store::delete_challenge(db, &c.id_hash).await? => Ok((p, None)),
            Ok(_) => Err(Code::TwoStepExpired.into()),
            Err(e) => Err(e),
        }
    };
    match outcome {
        Ok((passed, recovery_codes)) => Ok(Completed { user, passed, recovery_codes }),
        Err(e) if matches!(e.code(), Code::InvalidTwoStepCode) => {
            if c.purpose == Purpose::Enroll.as_str() {
                sessions::record_attempt(db, &user.username, ip, now_ms(), false).await?;
            }
            if store::challenge_failed(db, &c.id_hash).await? >= MAX_CODE_FAILURES {
                store::expire_challenge(db, &c.id_hash).await?;
                let message = format!("验证码错误次数过多，请{}分钟后重新登录", auth::FAILURE_WINDOW_MS / 60_000);
                return Err(AppError::refuse(Code::TwoStepExpired, message));
            }
            Err(e)
        }
        Err(e) => Err(e),
    }
}

/// The signed-in account's two-step status, for its account page.
pub struct Status {
    pub enabled_at: Option<i64>,
    pub recovery_codes_left: i64,
}

pub async fn status(ctx: &Ctx<'_>) -> AppResult<Status> {
    let a = store::authenticator(ctx.db, &ctx.user.id).await?;
    let left = if a.enabled() { store::recovery_codes_left(ctx.db, &ctx.user.id).await? } else { 0 };
    Ok(Status { enabled_at: a.totp_enabled_at.filter(|_| a.enabled()), recovery_codes_left: left })
}

/// Starts binding an authenticator from the account page: the first time, or a new phone, which
/// takes a current code (or a recovery code) from the old one, so an open session alone cannot
/// take the account's second step over.
pub async fn start_enrolment(ctx: &Ctx<'_>, ip: &str, code: &str) -> AppResult<Enrolment> {
    if store::authenticator(ctx.db, &ctx.user.id).await?.enabled() {
        reconfirm(ctx, code, ip).await?;
    }
    let token = begin(ctx.db, &ctx.user.id, Purpose::Enroll, ip).await?;
    let (c, user) = pending(ctx.db, &token).await?.ok_or(AppError::Unauthorized)?;
    enrolment_of(&token, &c, &user)?.ok_or_else(|| anyhow::anyhow!("enrol challenge lost").into())
}

/// The enrolment waiting under `token` again (after a wrong first code).
pub async fn enrolment_again(ctx: &Ctx<'_>, token: &str) -> AppResult<Option<Enrolment>> {
    match pending(ctx.db, token).await? {
        Some((c, user)) if user.id == ctx.user.id => enrolment_of(token, &c, &user),
        _ => Ok(None),
    }
}

/// Finishes binding from the account page; the recovery codes to show once.
pub async fn confirm_enrolment(ctx: &Ctx<'_>, token: &str, code: &str) -> AppResult<Vec<String>> {
    let Some((c, user)) = pending(ctx.db, token).await? else { return Err(Code::TwoStepExpired.into()) };
    if user.id != ctx.user.id || c.purpose != Purpose::Enroll.as_str() {
        return Err(Code::TwoStepExpired.into());
    }
    let bound = bind(ctx, &c, &user, code).await;
    if bound.is_err() && store::challenge_failed(ctx.db, &c.id_hash).await? >= MAX_CODE_FAILURES {
        store::delete_challenge(ctx.db, &c.id_hash).await?;
        return Err(AppError::refuse(Code::TwoStepExpired, "验证码错误次数过多，请重新开始绑定"));
    }
    bound
}

/// The signed-in account proves itself again with a current code (or recovery code).
async fn reconfirm(ctx: &Ctx<'_>, code: &str, ip: &str) -> AppResult<users::User> {
    let user = users::get(ctx.db, &ctx.user.id).await?.ok_or(AppError::Unauthorized)?;
    let a = store::authenticator(ctx.db, &user.id).await?;
    if !a.enabled() {
        return Err(Code::TwoStepNotEnabled.into());
    }
    check(ctx.db, &user, &a, code, ip).await.map_err(|e| match e {
        AppError::Refused(Code::InvalidTwoStepCode, message) => {
            AppError::field("code", Code::InvalidTwoStepCode, message)
        }
        other => other,
    })?;
    Ok(user)
}

/// New recovery codes replace the old ones (after a current code).
pub async fn renew_recovery_codes(ctx: &Ctx<'_>, code: &str, ip: &str) -> AppResult<Vec<String>> {
    let user = reconfirm(ctx, code, ip).await?;
    let (codes, hashes) = recovery_codes(&user.id);
    let mut w = ctx.write().await?;
    let now = w.now;
    store::add_recovery_codes(w.conn(), &user.id, &hashes, now).await?;
    let after = serde_json::json!({ "recovery_codes": RECOVERY_CODES });
    w.audit(Verb::Update, ObjectType::User, &user.id, &user.username, None, Some(after)).await?;
    w.commit().await?;
    Ok(codes)
}

/// Turns two-step sign-in off for the signed-in account (after a current code); refused where
/// the deployment requires it of the account.
pub async fn disable(ctx: &Ctx<'_>, code: &str, ip: &str, admins_must: bool) -> AppResult<()> {
    if required(ctx.user.role, admins_must) {
        return Err(Code::TwoStepMandatory.into());
    }
    let user = reconfirm(ctx, code, ip).await?;
    let mut w = ctx.write().await?;
    let now = w.now;
    store::set_secret(w.conn(), &user.id, "", 0, now).await?;
    w.audit(Verb::TwoStepOff, ObjectType::User, &user.id, &user.username, None, None).await?;
    w.commit().await
}

/// The office clears someone's authenticator (a lost phone and no recovery code left); that
/// account's sessions end and, if required, it binds a new one at its next login.
pub async fn reset(ctx: &Ctx<'_>, user_id: &str) -> AppResult<users::User> {
    super::access::require_admin(ctx.user)?;
    let user = users::get(ctx.db, user_id).await?.ok_or(AppError::NotFound)?;
    if user.id == ctx.user.id {
        return Err(AppError::refuse(Code::Forbidden, "不能重置自己的两步验证；换手机请在“两步验证”页用“更换验证器”"));
    }
    if !store::authenticator(ctx.db, &user.id).await?.enabled() {
        return Err(Code::TwoStepNotEnabled.into());
    }
    let mut w = ctx.write().await?;
    let now = w.now;
    store::set_secret(w.conn(), &user.id, "", 0, now).await?;
    sessions::delete_for_user(w.conn(), &user.id, Some(&ctx.user.session_id)).await?;
    w.audit(
        Verb::TwoStepOff,
        ObjectType::User,
        &user.id,
        &user.username,
        None,
        Some(serde_json::json!({"reset_by_office": true})),
    )
    .await?;
    w.commit().await?;
    Ok(user)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_follow_rfc_6238_and_recovery_codes_are_distinct() {
        // RFC 6238 appendix B, SHA-1 secret "12345678901234567890": 59 s → 94287082 (8 digits);
        // six digits are its last six.
        let secret = Secret::from(&b"12345678901234567890"[..]).to_base32();
        assert_eq!(code_at(&secret, 59).unwrap(), "287082");
        assert_eq!(code_at(&secret, 1_111_111_109).unwrap(), "081804");
        let (codes, hashes) = recovery_codes("u1");
        assert_eq!(codes.len(), RECOVERY_CODES);
        assert!(codes.iter().all(|c| c.len() == 11 && c.as_bytes()[5] == b'-'));
        assert_eq!(hashes[0], recovery_hash("u1", &codes[0].to_uppercase().replace('-', " ")));
        assert_ne!(recovery_hash("u1", &codes[0]), recovery_hash("u2", &codes[0]));
        let mut unique = codes.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), RECOVERY_CODES);
        assert_eq!(new_secret().len(), 32);
        let e = enrolment("t".into(), &new_secret(), "admin").unwrap();
        assert!(e.qr_svg.contains("<svg") && e.secret_groups.split(' ').count() == 8);
    }
}
