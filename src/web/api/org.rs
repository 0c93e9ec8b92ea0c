use super::{Created, ErrorBody, Id, JsonBody, Page, list_endpoint};
use crate::error::AppError;
use crate::service::access::area_scope;
use crate::service::org::{self as svc, NodeInput};
use crate::store::org::{self as store, OrgNode, OrgNodeRow};
use crate::web::auth::ApiUser;
use crate::web::error::ApiResult;
use crate::web::lists::admin::{AreaQuery, Areas};
use axum::Json;
use axum::extract::Path;
use axum::http::StatusCode;

list_endpoint! {
    /// List areas of the administrative tree (a grid worker: its own area).
    list: Areas, AreaQuery, OrgNodeRow, "/org/nodes", "org"
}

/// Create an area (admin).
#[utoipa::path(post, path = "/org/nodes", tag = "org", request_body = NodeInput,
    responses((status = 201, body = OrgNode), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create(api: ApiUser, JsonBody(input): JsonBody<NodeInput>) -> ApiResult<Created<OrgNode>> {
    Ok(Created(svc::create(&api.ctx(), input).await?))
}

/// One area.
#[utoipa::path(get, path = "/org/nodes/{id}", tag = "org", params(("id" = String, Path)), responses((status = 200, body = OrgNode), (status = 404, body = ErrorBody)))]
pub async fn get(api: ApiUser, Path(id): Id) -> ApiResult<Json<OrgNode>> {
    let ctx = api.ctx();
    let node = store::get(ctx.db, &id).await?.ok_or(AppError::NotFound)?;
    if let Some(scope) = area_scope(&ctx).await?
        && !scope.contains(&node.id)
    {
        return Err(AppError::NotFound.into());
    }
    Ok(Json(node))
}

/// Rename or recode an area (admin). Send the `version` you read to avoid overwriting others' changes.
#[utoipa::path(put, path = "/org/nodes/{id}", tag = "org", params(("id" = String, Path)), request_body = NodeInput,
    responses((status = 200, body = OrgNode), (status = 409, body = ErrorBody, description = "stale_version"), (status = 422, body = ErrorBody)))]
pub async fn update(api: ApiUser, Path(id): Id, JsonBody(input): JsonBody<NodeInput>) -> ApiResult<Json<OrgNode>> {
    Ok(Json(svc::update(&api.ctx(), &id, input).await?))
}

/// Delete an area that nothing refers to (admin).
#[utoipa::path(delete, path = "/org/nodes/{id}", tag = "org", params(("id" = String, Path)),
    responses((status = 204), (status = 409, body = ErrorBody, description = "in_use")))]
pub async fn delete(api: ApiUser, Path(id): Id) -> ApiResult<StatusCode> {
    svc::delete(&api.ctx(), &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
