//! One-time text-message codes that prove a member of the public holds a mobile number (a 十佳
//! vote, a survey answered online): once a minute per phone, valid ten minutes, five tries (the right one included). The
//! number itself is never stored, only its hash, which also serves as the person's key (one
//! vote a day, one answer per survey).

use crate::domain::code::Code;
use crate::domain::time::now_ms;
use crate::error::{AppError, AppResult};
use crate::store::Db;
use sha2::{Digest, Sha256};

/// The stored key of a phone number.
pub fn key(phone: &str) -> String {
    hex::encode(Sha256::digest(format!("selection-vote:{phone}").as_bytes()))
}

/// The 11-digit mobile number typed, or the field error.
pub fn mobile(phone: &str) -> AppResult<String> {
    crate::domain::citizen::mobile(phone)
        .ok_or_else(|| AppError::field("phone", Code::InvalidPhone, "请输入11位手机号"))
}

/// Texts a code to the phone; `purpose` completes "【创城通】您正在…，验证码…". Returns the code
/// (shown only by a demo without a gateway, see `Config::sms_show_codes`).
pub async fn send(db: &Db, phone: &str, purpose: &str) -> AppResult<String> {
    let phone = mobile(phone)?;
    let key = key(&phone);
    let now = now_ms();
    if let Some((_, _, _, sent)) = crate::store::selections::code(db, &key).await?
        && now - sent < 60_000
    {
        return Err(AppError::refuse(Code::RateLimited, "验证码已发送，请一分钟后再试"));
    }
    let code = format!("{:06}", rand::random::<u32>() % 1_000_000);
    let mut tx = db.begin().await?;
    // The minute is checked again as the code is written: of two taps at once (two
    // instances), one sends.
    let written = sqlx::query(
        "INSERT INTO vote_codes (phone_hash, code_hash, expires_at, attempts, sent_at) VALUES ($1, $2, $3, 0, $4) \
         ON CONFLICT (phone_hash) DO UPDATE SET code_hash = excluded.code_hash, expires_at = excluded.expires_at, \
         attempts = 0, sent_at = excluded.sent_at WHERE vote_codes.sent_at <= $5",
    )
    .bind(&key)
    .bind(self::key(&format!("{key}:{code}")))
    .bind(now + 600_000)
    .bind(now)
    .bind(now - 60_000)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if written == 0 {
        return Err(AppError::refuse(Code::RateLimited, "验证码已发送，请一分钟后再试"));
    }
    let body = format!("【创城通】您正在{purpose}，验证码{code}，10分钟内有效。");
    crate::store::reports::queue_sms(&mut tx, (&phone, &body), None, now).await?;
    tx.commit().await?;
    Ok(code)
}

/// What the page says after a code was sent: where to find it, or, in a demo without a text
/// gateway, the code itself.
pub fn sent_message(config: &crate::config::Config, code: &str, then: &str) -> String {
    if config.shows_sms_codes() {
        format!("演示环境未接入短信平台，本次验证码为 {code}（10分钟内有效），{then}")
    } else {
        format!("验证码已发送，{then}")
    }
}

/// Checks the code sent to the phone; the phone's key when it is right.
pub async fn verify(db: &Db, phone: &str, code: &str) -> AppResult<String> {
    let wrong = || AppError::field("code", Code::InvalidTwoStepCode, "验证码不正确或已过期，请重新获取");
    let phone = mobile(phone)?;
    let key = key(&phone);
    // Every try is counted before the code is compared, in one statement: tries sent at once
    // (several instances) cannot get past the five.
    let code_hash: Option<String> = sqlx::query_scalar(
        "UPDATE vote_codes SET attempts = attempts + 1 WHERE phone_hash = $1 AND attempts < 5 AND expires_at >= $2 \
         RETURNING code_hash",
    )
    .bind(&key)
    .bind(now_ms())
    .fetch_optional(&db.pool)
    .await?;
    match code_hash {
        Some(h) if self::key(&format!("{key}:{}", code.trim())) == h => Ok(key),
        _ => Err(wrong()),
    }
}
