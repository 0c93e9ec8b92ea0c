use super::{ErrorBody, JsonBody, Page};
use crate::error::AppError;
use crate::service::access::area_scope;
use crate::service::non_empty;
use crate::service::org::{self as svc, NodeInput};
use crate::store::PageReq;
use crate::store::org::{self as store, OrgFilter, OrgNode, OrgNodeRow};
use crate::web::auth::ApiUser;
use crate::web::error::ApiResult;
use crate::web::query::Query;
use axum::Json;
use axum::extract::Path;
use axum::http::StatusCode;
use serde::Deserialize;
use utoipa::IntoParams;

#[derive(Deserialize, IntoParams, Default)]
pub struct OrgQuery {
    /// district | street | community | compound
    level: Option<String>,
    parent_id: Option<String>,
    /// Keyword in name or code
    q: Option<String>,
    page: Option<i64>,
    size: Option<i64>,
}

/// List areas of the administrative tree.
#[utoipa::path(get, path = "/org/nodes", tag = "org", params(OrgQuery), responses((status = 200, body = Page<OrgNodeRow>)))]
pub async fn list(api: ApiUser, Query(q): Query<OrgQuery>) -> ApiResult<Json<Page<OrgNodeRow>>> {
    let ctx = api.ctx();
    let f = OrgFilter {
        level: non_empty(&q.level),
        parent_id: non_empty(&q.parent_id),
        keyword: non_empty(&q.q),
        within: area_scope(&ctx).await?,
    };
    let req = PageReq::new(q.page, q.size);
    let (items, total) = store::list(ctx.db, &f, req).await?;
    Ok(Json(Page { items, total, page: req.page, size: req.size }))
}

/// Create an area (admin).
#[utoipa::path(post, path = "/org/nodes", tag = "org", request_body = NodeInput,
    responses((status = 201, body = OrgNode), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create(api: ApiUser, JsonBody(input): JsonBody<NodeInput>) -> ApiResult<(StatusCode, Json<OrgNode>)> {
    Ok((StatusCode::CREATED, Json(svc::create(&api.ctx(), input).await?)))
}

/// One area.
#[utoipa::path(get, path = "/org/nodes/{id}", tag = "org", params(("id" = String, Path)), responses((status = 200, body = OrgNode), (status = 404, body = ErrorBody)))]
pub async fn get(api: ApiUser, Path(id): Path<String>) -> ApiResult<Json<OrgNode>> {
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
pub async fn update(
    api: ApiUser,
    Path(id): Path<String>,
    JsonBody(input): JsonBody<NodeInput>,
) -> ApiResult<Json<OrgNode>> {
    Ok(Json(svc::update(&api.ctx(), &id, input).await?))
}

/// Delete an area that nothing refers to (admin).
#[utoipa::path(delete, path = "/org/nodes/{id}", tag = "org", params(("id" = String, Path)),
    responses((status = 204), (status = 409, body = ErrorBody, description = "in_use")))]
pub async fn delete(api: ApiUser, Path(id): Path<String>) -> ApiResult<StatusCode> {
    svc::delete(&api.ctx(), &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
