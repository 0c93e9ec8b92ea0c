use super::{Created, ErrorBody, Id, JsonBody, Page, list_endpoint};
use crate::error::AppError;
use crate::service::teams::{self as svc, TeamInput, require_read};
use crate::store::teams::{self as store, Member, Team, TeamRow};
use crate::web::auth::ApiUser;
use crate::web::error::ApiResult;
use crate::web::lists::admin::{TeamQuery, Teams};
use axum::Json;
use axum::extract::Path;
use axum::http::StatusCode;
use serde::Serialize;
use utoipa::ToSchema;

#[derive(Serialize, ToSchema)]
pub struct TeamDetail {
    #[serde(flatten)]
    team: Team,
    members: Vec<Member>,
}

list_endpoint! {
    /// List supervision teams.
    list: Teams, TeamQuery, TeamRow, "/teams", "teams"
}

async fn detail(api: &ApiUser, id: &str) -> ApiResult<TeamDetail> {
    let db = &api.state.db;
    let team = store::get(db, id).await?.ok_or(AppError::NotFound)?;
    Ok(TeamDetail { members: store::members(db, id).await?, team })
}

/// Create a team (admin); members must be supervisors and the leader one of them.
#[utoipa::path(post, path = "/teams", tag = "teams", request_body = TeamInput,
    responses((status = 201, body = TeamDetail), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create(api: ApiUser, JsonBody(input): JsonBody<TeamInput>) -> ApiResult<Created<TeamDetail>> {
    let t = svc::create(&api.ctx(), input).await?;
    Ok(Created(detail(&api, &t.id).await?))
}

/// One team with its members.
#[utoipa::path(get, path = "/teams/{id}", tag = "teams", params(("id" = String, Path)), responses((status = 200, body = TeamDetail), (status = 404, body = ErrorBody)))]
pub async fn get(api: ApiUser, Path(id): Id) -> ApiResult<Json<TeamDetail>> {
    require_read(&api.ctx())?;
    Ok(Json(detail(&api, &id).await?))
}

/// Update a team and replace its members (admin).
#[utoipa::path(put, path = "/teams/{id}", tag = "teams", params(("id" = String, Path)), request_body = TeamInput,
    responses((status = 200, body = TeamDetail), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update(api: ApiUser, Path(id): Id, JsonBody(input): JsonBody<TeamInput>) -> ApiResult<Json<TeamDetail>> {
    svc::update(&api.ctx(), &id, input).await?;
    Ok(Json(detail(&api, &id).await?))
}

/// Delete a team (admin).
#[utoipa::path(delete, path = "/teams/{id}", tag = "teams", params(("id" = String, Path)), responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn delete(api: ApiUser, Path(id): Id) -> ApiResult<StatusCode> {
    svc::delete(&api.ctx(), &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
