//! Notices (通报) and work briefs over the API.

use super::{Created, ErrorBody, Id, JsonBody, Page, list_endpoint};
use crate::service::notices::{self as svc, ListQuery, NoticeData};
use crate::service::scoring::{parse_class, parse_day};
use crate::store::notices::{Notice, NoticeRow, ReadStatus};
use crate::web::auth::ApiUser;
use crate::web::error::ApiResult;
use crate::web::lists::Notices;
use axum::Json;
use axum::extract::Path;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

list_endpoint! {
    /// Notices the caller may read, newest period first (drafts for the office, supervisors and the
    /// discipline office), filtered and paged; a unit's own confirmation in `own_read_at`.
    list: Notices, ListQuery, NoticeRow, "/notices", "scoring"
}

#[derive(Deserialize, ToSchema)]
pub struct GenerateRequest {
    /// weekly or daily
    kind: String,
    /// The class whose ranking the notice carries: community, street, unit or window
    class: String,
    /// A day inside the period, YYYY-MM-DD
    date: String,
}

/// Generates a draft notice from the data (admin). One notice per kind, class and period.
#[utoipa::path(post, path = "/notices", tag = "scoring", request_body = GenerateRequest,
    responses((status = 201, body = Notice), (status = 409, body = ErrorBody)))]
pub async fn generate(api: ApiUser, JsonBody(req): JsonBody<GenerateRequest>) -> ApiResult<Created<Notice>> {
    let kind = svc::parse_kind(&req.kind)?;
    let class = parse_class(&req.class)?;
    let day = parse_day(Some(&req.date))?;
    Ok(Created(svc::generate(&api.ctx(), kind, class, day).await?))
}

#[derive(Serialize, ToSchema)]
pub struct NoticeDetail {
    notice: Notice,
    data: NoticeData,
}

#[utoipa::path(get, path = "/notices/{id}", tag = "scoring", params(("id" = String, Path)),
    responses((status = 200, body = NoticeDetail), (status = 404, body = ErrorBody)))]
pub async fn get(api: ApiUser, Path(id): Id) -> ApiResult<Json<NoticeDetail>> {
    let notice = svc::visible(&api.ctx(), &id).await?;
    let data = svc::data_of(&notice)?;
    Ok(Json(NoticeDetail { notice, data }))
}

#[derive(Deserialize, ToSchema)]
pub struct EditRequest {
    title: String,
    body: String,
    version: Option<i64>,
}

/// Edits a draft's title and text (admin); published notices are refused.
#[utoipa::path(put, path = "/notices/{id}", tag = "scoring", params(("id" = String, Path)), request_body = EditRequest,
    responses((status = 200, body = Notice), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn edit(api: ApiUser, Path(id): Id, JsonBody(req): JsonBody<EditRequest>) -> ApiResult<Json<Notice>> {
    Ok(Json(svc::edit(&api.ctx(), &id, &req.title, &req.body, req.version).await?))
}

#[derive(Deserialize, Default, utoipa::IntoParams)]
pub struct PublishQuery {
    /// true: publish a weekly notice before its week has ended (freezes the ranking so far)
    #[serde(default)]
    early: bool,
}

#[derive(Deserialize, ToSchema)]
pub struct RefreshRequest {
    version: Option<i64>,
}

/// 按最新数据重新生成: a draft's figures, title and text written again from the records as they
/// are now (admin; text typed into the draft is replaced).
#[utoipa::path(post, path = "/notices/{id}/refresh", tag = "scoring", params(("id" = String, Path)), request_body = RefreshRequest,
    responses((status = 200, body = Notice), (status = 409, body = ErrorBody)))]
pub async fn refresh(api: ApiUser, Path(id): Id, JsonBody(req): JsonBody<RefreshRequest>) -> ApiResult<Json<Notice>> {
    Ok(Json(svc::refresh(&api.ctx(), &id, req.version).await?))
}

/// Publishes a draft with the figures as they are now; a weekly notice before its week ends
/// only with `early=true` (409 period_not_ended otherwise). A draft whose figures changed since
/// it was made is brought up to date, unless its text was edited (409 notice_outdated: refresh
/// it first).
#[utoipa::path(post, path = "/notices/{id}/publish", tag = "scoring", params(("id" = String, Path), PublishQuery),
    responses((status = 200, body = Notice), (status = 409, body = ErrorBody)))]
pub async fn publish(
    api: ApiUser,
    Path(id): Id,
    crate::web::query::Query(q): crate::web::query::Query<PublishQuery>,
) -> ApiResult<Json<Notice>> {
    Ok(Json(svc::publish(&api.ctx(), &id, q.early).await?))
}

#[derive(Serialize, ToSchema)]
pub struct Confirmed {
    /// False when the unit had already confirmed
    first: bool,
}

/// A unit's account confirms its unit has read a published notice.
#[utoipa::path(post, path = "/notices/{id}/read", tag = "scoring", params(("id" = String, Path)),
    responses((status = 200, body = Confirmed), (status = 400, body = ErrorBody)))]
pub async fn confirm(api: ApiUser, Path(id): Id) -> ApiResult<Json<Confirmed>> {
    Ok(Json(Confirmed { first: svc::confirm_read(&api.ctx(), &id).await? }))
}

/// Every unit and whether it has confirmed reading (the office and the discipline office).
#[utoipa::path(get, path = "/notices/{id}/reads", tag = "scoring", params(("id" = String, Path)),
    responses((status = 200, body = Vec<ReadStatus>), (status = 403, body = ErrorBody)))]
pub async fn reads(api: ApiUser, Path(id): Id) -> ApiResult<Json<Vec<ReadStatus>>> {
    Ok(Json(svc::reads(&api.ctx(), &id).await?))
}

/// The notice as a Word document (.docx).
#[utoipa::path(get, path = "/notices/{id}/docx", tag = "scoring", params(("id" = String, Path)),
    responses((status = 200, content_type = "application/vnd.openxmlformats-officedocument.wordprocessingml.document")))]
pub async fn docx(api: ApiUser, Path(id): Id) -> ApiResult<Response> {
    let n = svc::visible(&api.ctx(), &id).await?;
    let bytes = svc::docx(&api.state.db, &api.state.storage, &n).await?;
    Ok(([(header::CONTENT_TYPE, "application/vnd.openxmlformats-officedocument.wordprocessingml.document")], bytes)
        .into_response())
}

/// Interviews (约谈) and accountability (问责) records: all for the office, supervisors and the
/// discipline office; a unit sees its own.
#[utoipa::path(get, path = "/interviews", tag = "scoring", responses((status = 200, body = Vec<crate::service::interviews::Interview>)))]
pub async fn interviews(api: ApiUser) -> ApiResult<Json<Vec<crate::service::interviews::Interview>>> {
    Ok(Json(crate::service::interviews::list(&api.ctx()).await?))
}

/// Records an interview or accountability decision linked to its facts (admin).
#[utoipa::path(post, path = "/interviews", tag = "scoring", request_body = crate::service::interviews::InterviewInput,
    responses((status = 201, body = crate::service::interviews::Interview), (status = 422, body = ErrorBody)))]
pub async fn create_interview(
    api: ApiUser,
    JsonBody(input): JsonBody<crate::service::interviews::InterviewInput>,
) -> ApiResult<Created<crate::service::interviews::Interview>> {
    Ok(Created(crate::service::interviews::create(&api.ctx(), input).await?))
}

#[derive(Deserialize, ToSchema)]
pub struct OutcomeRequest {
    /// The day it was held, YYYY-MM-DD
    held_at: String,
    outcome: String,
    version: Option<i64>,
}

/// Records when an interview was held and its outcome (admin).
#[utoipa::path(put, path = "/interviews/{id}", tag = "scoring", params(("id" = String, Path)), request_body = OutcomeRequest,
    responses((status = 204), (status = 422, body = ErrorBody)))]
pub async fn interview_outcome(
    api: ApiUser,
    Path(id): Id,
    JsonBody(req): JsonBody<OutcomeRequest>,
) -> ApiResult<StatusCode> {
    crate::service::interviews::record_outcome(&api.ctx(), &id, &req.held_at, &req.outcome, req.version).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(serde::Deserialize, ToSchema)]
pub struct CorrectionInput {
    /// What was wrong and what is right
    body: String,
}

/// Puts a published notice right (更正): a numbered correction of its own, published at once;
/// the original stays as it was published.
#[utoipa::path(post, path = "/notices/{id}/corrections", tag = "scoring", params(("id" = String, Path)), request_body = CorrectionInput,
    responses((status = 201, body = Notice), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn correct(
    api: ApiUser,
    Path(id): Id,
    JsonBody(input): JsonBody<CorrectionInput>,
) -> ApiResult<Created<Notice>> {
    Ok(Created(svc::correct(&api.ctx(), &id, &input.body).await?))
}
