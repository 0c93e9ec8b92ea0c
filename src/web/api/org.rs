use super::{ErrorBody, Id, Page, list_endpoint, record_endpoints};
use crate::error::AppError;
use crate::service::access::area_scope;
use crate::service::org::{self as svc, NodeInput};
use crate::store::org::{self as store, OrgNode, OrgNodeRow};
use crate::web::auth::ApiUser;
use crate::web::error::ApiResult;
use crate::web::lists::admin::{AreaQuery, Areas};
use axum::Json;
use axum::extract::Path;

list_endpoint! {
    /// List areas of the administrative tree (a grid worker: its own area).
    list: Areas, AreaQuery, OrgNodeRow, "/org/nodes", "org"
}

record_endpoints! {
    tag "org", input NodeInput, record OrgNode;
    /// Create an area (admin).
    create create "/org/nodes" => svc::create;
    /// Rename or recode an area (admin). Send the `version` you read to avoid overwriting others' changes.
    update update "/org/nodes/{id}" => svc::update;
    /// Delete an area that nothing refers to (admin).
    delete delete "/org/nodes/{id}" => svc::delete;
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
