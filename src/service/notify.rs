//! Unit group-chat robots (企业微信/钉钉): the office connects and removes them, audited.

use super::Ctx;
use super::access::require_admin;
use crate::domain::audit::{ObjectType, Verb};
use crate::domain::ids::new_id;
use crate::domain::notify::WebhookKind;
use crate::error::{AppError, AppResult, Code};
use crate::store::notifications::{self as store, Webhook};
use crate::store::record::Insert;

/// Connects a robot to a unit.
/// `allow`: hosts the configuration lets robots use although they are inside addresses.
/// A group robot: its kind, address and (optional) signing secret.
pub struct HookInput<'a> {
    pub kind: &'a str,
    pub url: &'a str,
    pub secret: &'a str,
}

pub async fn add_webhook(ctx: &Ctx<'_>, unit_id: &str, input: HookInput<'_>, allow: &[String]) -> AppResult<Webhook> {
    let (kind, url) = (input.kind, input.url);
    let secret = input.secret.trim();
    if secret.len() > 200 || secret.contains(char::is_whitespace) {
        return Err(AppError::refuse(
            Code::InvalidUrl,
            "加签密钥应为机器人设置中显示的一串字符（如 SEC 开头），不含空格",
        ));
    }
    require_admin(ctx.user)?;
    crate::store::units::get(ctx.db, unit_id).await?.ok_or(AppError::NotFound)?;
    let url = url.trim();
    let Some(kind) = WebhookKind::parse(kind.trim()) else {
        return Err(AppError::refuse(Code::InvalidKind, "机器人类型应为企业微信或钉钉"));
    };
    if !(url.starts_with("https://") || url.starts_with("http://"))
        || url.len() > 500
        || url.contains(char::is_whitespace)
    {
        return Err(AppError::refuse(Code::InvalidUrl, "机器人地址应为http(s)://开头的完整网址"));
    }
    if let Some(why) = super::outbound::refuse_target(url, allow).await {
        return Err(AppError::refuse(Code::InvalidUrl, why));
    }
    let mut w = ctx.write().await?;
    let hook = Webhook {
        id: new_id(),
        unit_id: unit_id.into(),
        kind,
        url: url.into(),
        active: 1,
        created_at: w.now,
        secret: secret.into(),
    };
    w.create(&hook).await?;
    w.commit().await?;
    Ok(hook)
}

/// Disconnects a robot (its deliveries stay in the record); the unit it belonged to.
pub async fn remove_webhook(ctx: &Ctx<'_>, id: &str) -> AppResult<String> {
    require_admin(ctx.user)?;
    let hook = store::webhook(ctx.db, id).await?.ok_or(AppError::NotFound)?;
    let mut w = ctx.write().await?;
    store::deactivate_webhook(w.conn(), id).await?;
    w.audit(Verb::Delete, ObjectType::Webhook, id, &hook.label(), hook.snapshot(), None).await?;
    w.commit().await?;
    Ok(hook.unit_id)
}
