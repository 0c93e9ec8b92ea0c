use super::{ErrorBody, Id, JsonBody, Page, list_endpoint};
use crate::service::reports::{self as svc, ForTriage, VerifyInput, VoidInput};
use crate::store::reports::{PublicRow, Report};
use crate::web::auth::ApiUser;
use crate::web::error::ApiResult;
use crate::web::lists::citizen::{ReportQuery, Reports};
use axum::Json;
use axum::extract::Path;

list_endpoint! {
    /// Residents' reports (随手拍, Open311) the caller may triage or read: the office all, a grid
    /// worker those in its area; 待核实 by default.
    list: Reports, ReportQuery, PublicRow, "/reports", "reports"
}

/// One report as the triage sees it (the reporter's phone masked), with its photos, the nearest
/// points and similar reports nearby.
#[utoipa::path(get, path = "/reports/{id}", tag = "reports", params(("id" = String, Path)),
    responses((status = 200, body = ForTriage), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get(api: ApiUser, Path(id): Id) -> ApiResult<Json<ForTriage>> {
    Ok(Json(svc::for_triage(&api.ctx(), &id).await?))
}

/// Verify a report (office or the grid's worker): it becomes a problem of source 市民上报 at the
/// chosen or nearest point, dispatched now with its deadline counted from now.
#[utoipa::path(post, path = "/reports/{id}/verify", tag = "reports", params(("id" = String, Path)), request_body = VerifyInput,
    responses((status = 200, body = Report), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
              (status = 409, body = ErrorBody, description = "report_not_received, stale_version"), (status = 422, body = ErrorBody)))]
pub async fn verify(api: ApiUser, Path(id): Id, JsonBody(input): JsonBody<VerifyInput>) -> ApiResult<Json<Report>> {
    let r = svc::verify(&api.ctx(), &id, input).await?;
    api.state.public.forget();
    Ok(Json(r))
}

/// Void a report with a public reason: nothing is charged to any unit.
#[utoipa::path(post, path = "/reports/{id}/void", tag = "reports", params(("id" = String, Path)), request_body = VoidInput,
    responses((status = 200, body = Report), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
              (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn void(api: ApiUser, Path(id): Id, JsonBody(input): JsonBody<VoidInput>) -> ApiResult<Json<Report>> {
    let r = svc::void(&api.ctx(), &id, input).await?;
    api.state.public.forget();
    Ok(Json(r))
}
