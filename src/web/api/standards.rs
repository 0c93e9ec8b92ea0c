use super::{Created, ErrorBody, Id, JsonBody, record_endpoints};
use crate::domain::standard::ItemInput;
use crate::error::AppError;
use crate::service::points as point_svc;
use crate::service::standards as svc;
use crate::store::points as point_store;
use crate::store::standards::{self as store, Item, Version};
use crate::web::auth::ApiUser;
use crate::web::error::ApiResult;
use axum::Json;
use axum::extract::Path;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Every standard version, newest first (status draft, published or archived).
#[utoipa::path(get, path = "/standards", tag = "standards", responses((status = 200, body = Vec<Version>)))]
pub async fn versions(api: ApiUser) -> ApiResult<Json<Vec<Version>>> {
    Ok(Json(store::versions(&api.state.db).await?))
}

/// The items of one version. Items of a published or archived version never change.
#[utoipa::path(get, path = "/standards/{id}/items", tag = "standards", params(("id" = String, Path)), responses((status = 200, body = Vec<Item>), (status = 404, body = ErrorBody)))]
pub async fn items(api: ApiUser, Path(id): Id) -> ApiResult<Json<Vec<Item>>> {
    store::version(&api.state.db, &id).await?.ok_or(AppError::NotFound)?;
    Ok(Json(store::items(&api.state.db, &id).await?))
}

#[derive(Deserialize, ToSchema)]
pub struct NewStandardDraft {
    name: String,
}

/// Start a draft as a copy of the published version (admin; one draft at a time).
#[utoipa::path(post, path = "/standards", tag = "standards", request_body = NewStandardDraft,
    responses((status = 201, body = Version), (status = 409, body = ErrorBody, description = "draft_exists")))]
pub async fn create_draft(api: ApiUser, JsonBody(req): JsonBody<NewStandardDraft>) -> ApiResult<Created<Version>> {
    Ok(Created(svc::create_draft(&api.ctx(), &req.name).await?))
}

/// Add an item to a draft (admin).
#[utoipa::path(post, path = "/standards/{id}/items", tag = "standards", params(("id" = String, Path)), request_body = ItemInput,
    responses((status = 201, body = Item), (status = 409, body = ErrorBody, description = "not_draft"), (status = 422, body = ErrorBody)))]
pub async fn add_item(api: ApiUser, Path(id): Id, JsonBody(input): JsonBody<ItemInput>) -> ApiResult<Created<Item>> {
    Ok(Created(svc::add_item(&api.ctx(), &id, input).await?))
}

record_endpoints! {
    tag "standards", input ItemInput, record Item;
    /// Change an item of a draft (admin); published items are refused with `not_draft`.
    update update_item "/standard-items/{id}" => svc::update_item;
}

/// Publish a draft (admin); the published version before it is archived.
#[utoipa::path(post, path = "/standards/{id}/publish", tag = "standards", params(("id" = String, Path)),
    responses((status = 200, body = Version), (status = 409, body = ErrorBody)))]
pub async fn publish(api: ApiUser, Path(id): Id) -> ApiResult<Json<Version>> {
    Ok(Json(svc::publish(&api.ctx(), &id).await?))
}

#[derive(Serialize, ToSchema)]
pub struct Checklist {
    version: Option<Version>,
    items: Vec<Item>,
}

/// The checklist of a point: published items that apply to its type.
#[utoipa::path(get, path = "/points/{id}/checklist", tag = "standards", params(("id" = String, Path)),
    responses((status = 200, body = Checklist), (status = 404, body = ErrorBody)))]
pub async fn checklist(api: ApiUser, Path(id): Id) -> ApiResult<Json<Checklist>> {
    let p = point_svc::visible(&api.ctx(), &id).await?;
    let code = point_store::types(&api.state.db)
        .await?
        .into_iter()
        .find(|t| t.id == p.type_id)
        .map(|t| t.code)
        .unwrap_or_default();
    let (version, items) = svc::checklist(&api.state.db, &code).await?;
    Ok(Json(Checklist { version, items }))
}
