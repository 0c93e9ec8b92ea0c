//! The inbox, the unit robots (WeCom/DingTalk webhooks) and the delivery log.

use crate::domain::notify::DeliveryStatus;
use crate::domain::role::Role;
use crate::domain::time::{fmt_local, now_ms};
use crate::error::AppError;
use crate::service::access::require_admin;
use crate::store::notifications::{self as store, DeliveryRow, Notification};
use crate::web::auth::{CsrfForm, PageUser};
use crate::web::error::PageResult;
use crate::web::query::Query;
use crate::web::ui::Layout;
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

#[derive(Template, WebTemplate)]
#[template(path = "problems/inbox.html")]
pub struct InboxPage {
    l: Layout,
    items: Vec<(Notification, String)>,
}

pub async fn inbox(page: PageUser) -> PageResult<InboxPage> {
    let items = store::inbox(&page.state.db, &page.user.id).await?.into_iter().map(|n| {
        let at = fmt_local(n.created_at);
        (n, at)
    });
    Ok(InboxPage { l: Layout::new(&page.user, "inbox", "消息"), items: items.collect() })
}

pub async fn read_all(CsrfForm { page, .. }: CsrfForm<Vec<(String, String)>>) -> PageResult<Response> {
    store::mark_read(&page.state.db, &page.user.id, now_ms()).await?;
    Ok(Redirect::to("/inbox").into_response())
}

#[derive(Deserialize, Default)]
pub struct HookForm {
    #[serde(default)]
    kind: String,
    #[serde(default)]
    url: String,
    #[serde(default)]
    secret: String,
}

pub async fn add_webhook(
    Path(unit_id): Path<String>,
    CsrfForm { page, form }: CsrfForm<HookForm>,
) -> PageResult<Response> {
    let allow = &page.state.config.webhook_allow_hosts;
    let input = crate::service::notify::HookInput { kind: &form.kind, url: &form.url, secret: &form.secret };
    crate::service::notify::add_webhook(&page.ctx(), &unit_id, input, allow).await?;
    Ok(Redirect::to(&format!("/units/{unit_id}?ok=created")).into_response())
}

pub async fn remove_webhook(
    Path(id): Path<String>,
    CsrfForm { page, .. }: CsrfForm<Vec<(String, String)>>,
) -> PageResult<Response> {
    let unit = crate::service::notify::remove_webhook(&page.ctx(), &id).await?;
    Ok(Redirect::to(&format!("/units/{unit}?ok=deleted")).into_response())
}

#[derive(Deserialize, Default)]
pub struct DeliveryQuery {
    status: Option<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "problems/deliveries.html")]
pub struct DeliveriesPage {
    l: Layout,
    rows: Vec<(DeliveryRow, String)>,
    status: String,
    failed: usize,
}

pub async fn deliveries(page: PageUser, Query(q): Query<DeliveryQuery>) -> PageResult<DeliveriesPage> {
    if page.user.role != Role::Admin {
        return Err(AppError::Forbidden.into());
    }
    let status = q.status.unwrap_or_default();
    let rows = store::deliveries(&page.state.db, DeliveryStatus::parse(&status)).await?;
    let failed = store::deliveries(&page.state.db, Some(DeliveryStatus::Failed)).await?.len();
    let rows = rows.into_iter().map(|d| {
        let at = fmt_local(d.delivery.created_at);
        (d, at)
    });
    Ok(DeliveriesPage {
        l: Layout::new(&page.user, "deliveries", "消息推送记录"),
        rows: rows.collect(),
        status,
        failed,
    })
}

pub async fn retry(
    Path(id): Path<String>,
    CsrfForm { page, .. }: CsrfForm<Vec<(String, String)>>,
) -> PageResult<Response> {
    require_admin(&page.user)?;
    if !store::retry(&page.state.db, &id, now_ms()).await? {
        return Ok(crate::web::error::error_page(StatusCode::CONFLICT, "只能重发失败的推送".into()));
    }
    Ok(Redirect::to("/deliveries?status=pending").into_response())
}
