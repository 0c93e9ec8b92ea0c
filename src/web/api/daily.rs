//! Daily work over the API (the field app): rounds, escalation lists, the inbox and, for the
//! office, the robot delivery log.

use super::ErrorBody;
use crate::domain::notify::DeliveryStatus;
use crate::domain::role::Role;
use crate::domain::time::{DAY_MS, now_ms, parse_local_day_start, to_local};
use crate::error::AppError;
use crate::error::Code;
use crate::service::escalation::{self as esc, ProposedInterview, ProposedNotice};
use crate::service::rounds::{self, Rounds};
use crate::store::notifications::{self as store, DeliveryRow, Notification};
use crate::web::auth::ApiUser;
use crate::web::error::ApiResult;
use crate::web::query::Query;
use axum::Json;
use chrono::Datelike;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// Today's rounds for the caller: 晨扫描, 回头看 and 今日必须办结, as the role has them.
#[utoipa::path(get, path = "/rounds", tag = "problems", responses((status = 200, body = Rounds)))]
pub async fn rounds(api: ApiUser) -> ApiResult<Json<Rounds>> {
    Ok(Json(rounds::today(&api.ctx()).await?))
}

#[derive(Deserialize, IntoParams, Default)]
pub struct EscalationQuery {
    /// First day of the interview period by the day problems were found, YYYY-MM-DD (default: the
    /// first of this month)
    from: Option<String>,
    /// Last day, inclusive (default: today)
    to: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct Escalation {
    /// Overdue problems proposed for a notice (通报), longest overdue first
    notices: Vec<ProposedNotice>,
    /// Overdue cases in the period that put a unit on the interview (约谈) list
    threshold: i64,
    interviews: Vec<ProposedInterview>,
}

/// Proposed notices and interviews (the office, supervisors and the discipline office).
#[utoipa::path(get, path = "/escalation", tag = "problems", params(EscalationQuery),
    responses((status = 200, body = Escalation), (status = 403, body = ErrorBody)))]
pub async fn escalation(api: ApiUser, Query(q): Query<EscalationQuery>) -> ApiResult<Json<Escalation>> {
    let today = to_local(now_ms()).date_naive();
    let day = |s: &Option<String>, default: chrono::NaiveDate| -> Result<i64, AppError> {
        match s.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            Some(s) => parse_local_day_start(s)
                .ok_or_else(|| AppError::refuse(Code::InvalidDate, format!("日期格式应为2026-11-23：{s}"))),
            None => Ok(parse_local_day_start(&default.format("%Y-%m-%d").to_string()).unwrap_or(0)),
        }
    };
    let from = day(&q.from, today.with_day(1).unwrap_or(today))?;
    let to = day(&q.to, today)? + DAY_MS;
    if to <= from {
        return Err(AppError::refuse(Code::InvalidPeriod, "结束日期不能早于开始日期").into());
    }
    let ctx = api.ctx();
    let notices = esc::proposed_notices(&ctx).await?;
    let (threshold, interviews) = esc::proposed_interviews(&ctx, from, to).await?;
    Ok(Json(Escalation { notices, threshold, interviews }))
}

/// The caller's inbox, newest first (up to 200).
#[utoipa::path(get, path = "/inbox", tag = "problems", responses((status = 200, body = Vec<Notification>)))]
pub async fn inbox(api: ApiUser) -> ApiResult<Json<Vec<Notification>>> {
    Ok(Json(store::inbox(&api.state.db, &api.user.id).await?))
}

/// Marks every message of the caller as read.
#[utoipa::path(post, path = "/inbox/read", tag = "problems", responses((status = 204)))]
pub async fn read_all(api: ApiUser) -> ApiResult<axum::http::StatusCode> {
    store::mark_read(&api.state.db, &api.user.id, now_ms()).await?;
    Ok(axum::http::StatusCode::NO_CONTENT)
}

#[derive(Deserialize, IntoParams, Default)]
pub struct DeliveryQuery {
    /// pending, sent or failed
    status: Option<String>,
}

/// Robot (WeCom/DingTalk) deliveries with their attempts and last error, naming the unit, the
/// robot and the problem (the office).
#[utoipa::path(get, path = "/deliveries", tag = "problems", params(DeliveryQuery),
    responses((status = 200, body = Vec<DeliveryRow>), (status = 403, body = ErrorBody)))]
pub async fn deliveries(api: ApiUser, Query(q): Query<DeliveryQuery>) -> ApiResult<Json<Vec<DeliveryRow>>> {
    if api.user.role != Role::Admin {
        return Err(AppError::Forbidden.into());
    }
    let status = match q.status.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => None,
        Some(s) => Some(
            DeliveryStatus::parse(s)
                .ok_or_else(|| AppError::refuse(Code::InvalidStatus, "状态应为 pending、sent 或 failed"))?,
        ),
    };
    Ok(Json(store::deliveries(&api.state.db, status).await?))
}
