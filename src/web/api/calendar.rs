use super::{ErrorBody, JsonBody};
use crate::domain::calendar::YearData;
use crate::domain::time::shanghai;
use crate::error::AppError;
use crate::error::Code;
use crate::service::calendar as svc;
use crate::store::calendar::{self as store, DayRow, YearRow};
use crate::web::auth::ApiUser;
use crate::web::error::ApiResult;
use crate::web::query::Query;
use axum::Json;
use axum::extract::Path;
use axum::http::StatusCode;
use chrono::{DateTime, Datelike, NaiveDateTime, TimeZone};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// Loaded years.
#[utoipa::path(get, path = "/calendar", tag = "calendar", responses((status = 200, body = Vec<YearRow>)))]
pub async fn years(api: ApiUser) -> ApiResult<Json<Vec<YearRow>>> {
    Ok(Json(store::years(&api.state.db).await?))
}

/// A year's days off and swapped working days.
#[utoipa::path(get, path = "/calendar/{year}", tag = "calendar", params(("year" = i64, Path)), responses((status = 200, body = Vec<DayRow>)))]
pub async fn year(api: ApiUser, Path(year): Path<i64>) -> ApiResult<Json<Vec<DayRow>>> {
    Ok(Json(store::days(&api.state.db, Some(year)).await?))
}

#[derive(Deserialize, ToSchema)]
#[allow(dead_code)]
pub struct YearDoc {
    year: i32,
    source: String,
    /// [{"date": "2026-10-01", "name": "国庆节"}]
    holidays: Vec<serde_json::Value>,
    /// [{"date": "2026-10-10", "name": "国庆节调休上班"}]
    workdays: Vec<serde_json::Value>,
}

/// Replace a year's data (admin), all or nothing; a refusal lists every bad entry in `rows`.
#[utoipa::path(put, path = "/calendar/{year}", tag = "calendar", params(("year" = i64, Path)), request_body = YearDoc,
    responses((status = 204), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody, description = "import_rejected")))]
pub async fn put_year(
    api: ApiUser,
    Path(year): Path<i32>,
    JsonBody(data): JsonBody<YearData>,
) -> ApiResult<StatusCode> {
    if data.year != year {
        return Err(AppError::refuse(
            Code::YearMismatch,
            format!("路径中的年份{year}与数据中的年份{}不一致", data.year),
        )
        .into());
    }
    svc::import_year(&api.ctx(), data).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, IntoParams)]
pub struct DeadlineQuery {
    /// Start, RFC 3339 or local "2026-02-13T10:00" (Beijing time)
    from: String,
    /// Working days to add
    days: Option<u32>,
    /// Working hours to add
    hours: Option<u32>,
}

#[derive(Serialize, ToSchema)]
pub struct Deadline {
    /// RFC 3339, +08:00
    deadline: String,
    /// UTC epoch milliseconds
    deadline_ms: i64,
    /// Whether official holiday data covers the deadline's year
    calendar_covered: bool,
}

/// Compute a deadline in working days or working hours.
#[utoipa::path(get, path = "/calendar/deadline", tag = "calendar", params(DeadlineQuery),
    responses((status = 200, body = Deadline), (status = 400, body = ErrorBody)))]
pub async fn deadline(api: ApiUser, Query(q): Query<DeadlineQuery>) -> ApiResult<Json<Deadline>> {
    let start = DateTime::parse_from_rfc3339(&q.from)
        .ok()
        .or_else(|| {
            let naive = NaiveDateTime::parse_from_str(&q.from, "%Y-%m-%dT%H:%M").ok()?;
            shanghai().from_local_datetime(&naive).single()
        })
        .ok_or_else(|| AppError::refuse(Code::InvalidTime, "开始时间格式应为2026-02-13T10:00或RFC 3339"))?
        .with_timezone(&shanghai());
    let cal = svc::load(&api.state.db).await?;
    let end = match (q.days, q.hours) {
        (Some(d), None) if d <= 1000 => cal.add_working_days(start, d),
        (None, Some(h)) if h <= 10_000 => cal.add_working_minutes(start, h as i64 * 60),
        _ => {
            return Err(AppError::refuse(Code::InvalidAmount, "请给出days或hours其中之一（不超过1000个工作日）").into());
        }
    };
    Ok(Json(Deadline {
        deadline: end.to_rfc3339(),
        deadline_ms: end.timestamp_millis(),
        calendar_covered: cal.covers(end.year()),
    }))
}
