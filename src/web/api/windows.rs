use super::{Created, ErrorBody, Id, JsonBody, Page, list_endpoint};
use crate::service::rating_cases::{self as cases, CallbackInput, DecideInput, ResolveInput};
use crate::service::ratings::{self as ratings, BatchResult, DeviceBatch};
use crate::service::window_figures::{self as figures, Figures};
use crate::service::windows::{self as svc, VisitToken, WindowInput};
use crate::store::windows::{Case, CaseRow, RatingRow, WindowRow};
use crate::web::AppState;
use crate::web::auth::ApiUser;
use crate::web::error::{ApiError, ApiResult};
use crate::web::lists::windows::{CaseQuery, FigureQuery, RatingCases, RatingQuery, Ratings, WindowQuery, Windows};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use serde::Deserialize;
use utoipa::ToSchema;

list_endpoint! {
    /// Service windows with their public `code` (the QR link is /rate/CODE), unit, sector and
    /// who is on duty; a unit sees its own.
    list: Windows, WindowQuery, WindowRow, "/windows", "windows"
}

/// Add a window to a window unit (the office, or the unit's own unit user).
#[utoipa::path(post, path = "/windows", tag = "windows", request_body = WindowInput,
    responses((status = 201, body = WindowRow), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create(api: ApiUser, JsonBody(input): JsonBody<WindowInput>) -> ApiResult<Created<WindowRow>> {
    Ok(Created(svc::create(&api.ctx(), input).await?))
}

/// Change a window (number, service, point, who is on duty, in use); `version` required.
#[utoipa::path(put, path = "/windows/{id}", tag = "windows", params(("id" = String, Path)), request_body = WindowInput,
    responses((status = 200, body = WindowRow), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
              (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update(api: ApiUser, Path(id): Id, JsonBody(input): JsonBody<WindowInput>) -> ApiResult<Json<WindowRow>> {
    Ok(Json(svc::update(&api.ctx(), &id, input).await?))
}

#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct TokenRequest {
    /// How many tokens (1–200), e.g. for a queue-ticket printer's next tickets
    #[serde(default)]
    pub count: Option<usize>,
}

/// Visit tokens for a window: one rating per visit (printed on the ticket or shown on screen).
#[utoipa::path(post, path = "/windows/{id}/visit-tokens", tag = "windows", params(("id" = String, Path)), request_body = TokenRequest,
    responses((status = 200, body = Vec<VisitToken>), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn visit_tokens(
    api: ApiUser,
    headers: HeaderMap,
    Path(id): Id,
    JsonBody(input): JsonBody<TokenRequest>,
) -> ApiResult<Json<Vec<VisitToken>>> {
    let ctx = api.ctx();
    let w = svc::managed(&ctx, &id).await?;
    let base = crate::web::public::base_url(&api.state, &headers);
    Ok(Json(svc::visit_tokens(ctx.db, &w, input.count.unwrap_or(1), &base).await?))
}

/// Ratings from a rating device (评价器) in a batch of at most 500, authenticated by the
/// device's key in the `X-Device-Key` header. Checked whole first (every bad entry named);
/// answered once the batch is on disk. A rating sent again with the same `seq` is not counted
/// twice. `served` adds services handled per window code to this month's count.
#[utoipa::path(post, path = "/ratings/batch", tag = "windows", request_body = DeviceBatch, security(()),
    params(("X-Device-Key" = String, Header, description = "The rating device's key")),
    responses((status = 200, body = BatchResult), (status = 401, body = ErrorBody, description = "no key"), (status = 403, body = ErrorBody, description = "device_key_invalid"),
              (status = 413, body = ErrorBody, description = "batch_too_large"), (status = 422, body = ErrorBody)))]
pub async fn batch(
    State(state): State<AppState>,
    headers: HeaderMap,
    JsonBody(input): JsonBody<DeviceBatch>,
) -> Result<Json<BatchResult>, ApiError> {
    let key = headers.get("x-device-key").and_then(|v| v.to_str().ok()).unwrap_or_default();
    if key.trim().is_empty() {
        let message = "请在请求头X-Device-Key中提供评价器密钥";
        return Err(ApiError(crate::error::AppError::refuse(crate::error::Code::Unauthorized, message)));
    }
    Ok(Json(ratings::device_batch(&state.db, &state.ratings, key, input).await?))
}

list_endpoint! {
    /// 好差评 ratings, newest first (never the rater's phone); a unit sees its own.
    ratings_list: Ratings, RatingQuery, RatingRow, "/ratings", "windows"
}

list_endpoint! {
    /// Bad-rating cases (差评工单); open ones (待回访, 待核实) by default.
    cases_list: RatingCases, CaseQuery, CaseRow, "/rating-cases", "windows"
}

/// One bad-rating case.
#[utoipa::path(get, path = "/rating-cases/{id}", tag = "windows", params(("id" = String, Path)),
    responses((status = 200, body = CaseRow), (status = 404, body = ErrorBody)))]
pub async fn case(api: ApiUser, Path(id): Id) -> ApiResult<Json<CaseRow>> {
    Ok(Json(cases::visible(&api.ctx(), &id).await?))
}

/// Record the callback of a bad rating (the unit): reached, unreached, or anonymous.
#[utoipa::path(post, path = "/rating-cases/{id}/callback", tag = "windows", params(("id" = String, Path)), request_body = CallbackInput,
    responses((status = 200, body = Case), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn callback(api: ApiUser, Path(id): Id, JsonBody(input): JsonBody<CallbackInput>) -> ApiResult<Json<Case>> {
    Ok(Json(cases::callback(&api.ctx(), &id, input).await?))
}

/// Verify a bad rating: `fix_at_once` with a reply to the rater, or `ledger` (a problem of
/// source 窗口差评 due in the configured working days).
#[utoipa::path(post, path = "/rating-cases/{id}/resolve", tag = "windows", params(("id" = String, Path)), request_body = ResolveInput,
    responses((status = 200, body = Case), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn resolve(api: ApiUser, Path(id): Id, JsonBody(input): JsonBody<ResolveInput>) -> ApiResult<Json<Case>> {
    Ok(Json(cases::resolve(&api.ctx(), &id, input).await?))
}

/// Decide an appeal (the office): upheld leaves the rating out of every figure (kept on record).
#[utoipa::path(post, path = "/rating-cases/{id}/decide", tag = "windows", params(("id" = String, Path)), request_body = DecideInput,
    responses((status = 200, body = Case), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn decide(api: ApiUser, Path(id): Id, JsonBody(input): JsonBody<DecideInput>) -> ApiResult<Json<Case>> {
    Ok(Json(cases::decide(&api.ctx(), &id, input).await?))
}

/// A month's figures: per window (ranked), unit (ranked, with at least 5 ratings), staff member
/// and sector, the totals, and units low two months in a row (an interview is proposed).
#[utoipa::path(get, path = "/windows/figures", tag = "windows", params(FigureQuery),
    responses((status = 200, body = Figures), (status = 400, body = ErrorBody)))]
pub async fn month_figures(
    api: ApiUser,
    crate::web::query::Query(q): crate::web::query::Query<FigureQuery>,
) -> ApiResult<Json<Figures>> {
    let month = match q.month.trim() {
        "" => crate::domain::window::month_of(crate::domain::time::now_ms()),
        m => crate::domain::window::parse_month(m).ok_or(crate::error::Code::InvalidMonth)?,
    };
    Ok(Json(figures::month(&api.ctx(), month, None).await?))
}

/// 互评互查 rounds the caller may see (a unit: those it takes part in).
#[utoipa::path(get, path = "/mutual-rounds", tag = "windows",
    responses((status = 200, body = Vec<crate::store::mutual::Round>)))]
pub async fn mutual_rounds(api: ApiUser) -> ApiResult<Json<Vec<crate::store::mutual::Round>>> {
    Ok(Json(crate::service::mutual::list(&api.ctx()).await?))
}

/// Schedule a 互评互查 round (the office): the sector's units and points, each point assigned to
/// another unit of the sector (never its own, balanced, reproducible from `seed`).
#[utoipa::path(post, path = "/mutual-rounds", tag = "windows", request_body = crate::service::mutual::RoundInput,
    responses((status = 201, body = crate::service::mutual::RoundView), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_mutual_round(
    api: ApiUser,
    JsonBody(input): JsonBody<crate::service::mutual::RoundInput>,
) -> ApiResult<Created<crate::service::mutual::RoundView>> {
    Ok(Created(crate::service::mutual::create(&api.ctx(), input).await?))
}

/// One round: its assignment, progress, the points ranked and the units' mean scores.
#[utoipa::path(get, path = "/mutual-rounds/{id}", tag = "windows", params(("id" = String, Path)),
    responses((status = 200, body = crate::service::mutual::RoundView), (status = 404, body = ErrorBody)))]
pub async fn mutual_round(api: ApiUser, Path(id): Id) -> ApiResult<Json<crate::service::mutual::RoundView>> {
    Ok(Json(crate::service::mutual::view(&api.ctx(), &id).await?))
}
