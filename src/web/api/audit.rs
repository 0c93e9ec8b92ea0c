use super::{ErrorBody, Page};
use crate::domain::time::{DAY_MS, parse_local_day_start};
use crate::error::AppError;
use crate::error::Code;
use crate::service::non_empty;
use crate::store::PageReq;
use crate::store::audit::{self as store, AuditEntry, AuditFilter};
use crate::web::auth::ApiUser;
use crate::web::error::ApiResult;
use crate::web::query::Query;
use axum::Json;
use serde::Deserialize;
use utoipa::IntoParams;

#[derive(Deserialize, IntoParams, Default)]
pub struct AuditQuery {
    /// Actor name contains
    actor: Option<String>,
    object_type: Option<String>,
    object_id: Option<String>,
    action: Option<String>,
    /// First day, YYYY-MM-DD (Beijing time)
    from: Option<String>,
    /// Last day, inclusive, YYYY-MM-DD (Beijing time)
    to: Option<String>,
    page: Option<i64>,
    size: Option<i64>,
}

/// Read the audit log, newest first (admin and discipline office). It cannot be changed.
#[utoipa::path(get, path = "/audit", tag = "audit", params(AuditQuery), responses((status = 200, body = Page<AuditEntry>), (status = 403, body = ErrorBody)))]
pub async fn list(api: ApiUser, Query(q): Query<AuditQuery>) -> ApiResult<Json<Page<AuditEntry>>> {
    if !api.user.role.reads_audit() {
        return Err(AppError::Forbidden.into());
    }
    let bad_date = |s: &Option<String>| non_empty(s).is_some_and(|d| parse_local_day_start(&d).is_none());
    if bad_date(&q.from) || bad_date(&q.to) {
        return Err(AppError::refuse(Code::InvalidDate, "日期格式应为YYYY-MM-DD").into());
    }
    let f = AuditFilter {
        actor: non_empty(&q.actor),
        object_type: non_empty(&q.object_type),
        object_id: non_empty(&q.object_id),
        action: non_empty(&q.action),
        from_ms: q.from.as_deref().and_then(parse_local_day_start),
        to_ms: q.to.as_deref().and_then(parse_local_day_start).map(|t| t + DAY_MS),
    };
    let req = PageReq::new(q.page, q.size);
    let (items, total) = store::list(&api.state.db, &f, req).await?;
    Ok(Json(Page { items, total, page: req.page, size: req.size }))
}
