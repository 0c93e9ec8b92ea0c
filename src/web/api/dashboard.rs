//! 数据看板 over the API: the same figures as the dashboard page and the big screen.

use super::ErrorBody;
use crate::service::dashboard::{self as svc, Dashboard, Request};
use crate::web::auth::ApiUser;
use crate::web::error::ApiResult;
use crate::web::query::Query;
use axum::Json;
use serde::Deserialize;
use utoipa::IntoParams;

#[derive(Deserialize, IntoParams, Default)]
pub struct DashboardQuery {
    /// week (default: this week) or month (this month)
    period: Option<String>,
    /// Limit the figures to an area (a street): its id. A grid worker sees its own area.
    area_id: Option<String>,
}

/// This week or month at a glance: counters with their comparison, found and closed per day,
/// recurring categories, the points with most problems, the heat layer and the ranking. Every
/// figure carries `href`, the page listing the records it counts.
#[utoipa::path(get, path = "/dashboard", tag = "dashboard", params(DashboardQuery),
    responses((status = 200, body = Dashboard), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn get(api: ApiUser, Query(q): Query<DashboardQuery>) -> ApiResult<Json<Dashboard>> {
    let req = Request { period: q.period, area_id: q.area_id, gcj: false };
    Ok(Json(svc::read(&api.ctx(), &req).await?))
}
