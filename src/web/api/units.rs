use super::{Created, ErrorBody, Id, JsonBody, Page, list_endpoint};
use crate::service::units::{self as svc, ContactInput, LevelInput, UnitInput};
use crate::store::units::{self as store, Contact, ContactLevel, Unit, UnitRow};
use crate::web::auth::ApiUser;
use crate::web::error::ApiResult;
use crate::web::lists::admin::{UnitQuery, Units};
use axum::Json;
use axum::extract::Path;
use axum::http::StatusCode;

list_endpoint! {
    /// List the units the caller may see (a unit's own users see only their unit).
    list: Units, UnitQuery, UnitRow, "/units", "units"
}

/// Create a unit (admin).
#[utoipa::path(post, path = "/units", tag = "units", request_body = UnitInput,
    responses((status = 201, body = Unit), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create(api: ApiUser, JsonBody(input): JsonBody<UnitInput>) -> ApiResult<Created<Unit>> {
    Ok(Created(svc::create(&api.ctx(), input).await?))
}

/// One unit (404 when the caller may not see it).
#[utoipa::path(get, path = "/units/{id}", tag = "units", params(("id" = String, Path)), responses((status = 200, body = Unit), (status = 404, body = ErrorBody)))]
pub async fn get(api: ApiUser, Path(id): Id) -> ApiResult<Json<Unit>> {
    Ok(Json(svc::visible(&api.ctx(), &id).await?))
}

/// Update a unit (admin).
#[utoipa::path(put, path = "/units/{id}", tag = "units", params(("id" = String, Path)), request_body = UnitInput,
    responses((status = 200, body = Unit), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update(api: ApiUser, Path(id): Id, JsonBody(input): JsonBody<UnitInput>) -> ApiResult<Json<Unit>> {
    Ok(Json(svc::update(&api.ctx(), &id, input).await?))
}

/// A unit's contact book.
#[utoipa::path(get, path = "/units/{id}/contacts", tag = "units", params(("id" = String, Path)),
    responses((status = 200, body = Vec<Contact>), (status = 404, body = ErrorBody)))]
pub async fn contacts(api: ApiUser, Path(id): Id) -> ApiResult<Json<Vec<Contact>>> {
    Ok(Json(svc::contacts(&api.ctx(), &id).await?))
}

/// Add a contact (admin, or the unit's own unit user).
#[utoipa::path(post, path = "/units/{id}/contacts", tag = "units", params(("id" = String, Path)), request_body = ContactInput,
    responses((status = 201, body = Contact), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn add_contact(
    api: ApiUser,
    Path(id): Id,
    JsonBody(input): JsonBody<ContactInput>,
) -> ApiResult<Created<Contact>> {
    Ok(Created(svc::add_contact(&api.ctx(), &id, input).await?))
}

/// Update a contact.
#[utoipa::path(put, path = "/contacts/{id}", tag = "units", params(("id" = String, Path)), request_body = ContactInput,
    responses((status = 200, body = Contact), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update_contact(
    api: ApiUser,
    Path(id): Id,
    JsonBody(input): JsonBody<ContactInput>,
) -> ApiResult<Json<Contact>> {
    Ok(Json(svc::update_contact(&api.ctx(), &id, input).await?))
}

/// Delete a contact.
#[utoipa::path(delete, path = "/contacts/{id}", tag = "units", params(("id" = String, Path)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn delete_contact(api: ApiUser, Path(id): Id) -> ApiResult<StatusCode> {
    svc::delete_contact(&api.ctx(), &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The contact-book levels, in order.
#[utoipa::path(get, path = "/contact-levels", tag = "units", responses((status = 200, body = Vec<ContactLevel>)))]
pub async fn levels(api: ApiUser) -> ApiResult<Json<Vec<ContactLevel>>> {
    Ok(Json(store::contact_levels(&api.state.db).await?))
}

/// Add a contact-book level (admin).
#[utoipa::path(post, path = "/contact-levels", tag = "units", request_body = LevelInput,
    responses((status = 201, body = ContactLevel), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn add_level(api: ApiUser, JsonBody(input): JsonBody<LevelInput>) -> ApiResult<Created<ContactLevel>> {
    Ok(Created(svc::add_level(&api.ctx(), input).await?))
}

/// Rename or reorder a contact-book level (admin); `version` is required.
#[utoipa::path(put, path = "/contact-levels/{id}", tag = "units", params(("id" = String, Path)), request_body = LevelInput,
    responses((status = 200, body = ContactLevel), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update_level(
    api: ApiUser,
    Path(id): Id,
    JsonBody(input): JsonBody<LevelInput>,
) -> ApiResult<Json<ContactLevel>> {
    Ok(Json(svc::update_level(&api.ctx(), &id, input).await?))
}

/// Remove a contact-book level no contact uses (admin).
#[utoipa::path(delete, path = "/contact-levels/{id}", tag = "units", params(("id" = String, Path)),
    responses((status = 204), (status = 409, body = ErrorBody, description = "in_use")))]
pub async fn delete_level(api: ApiUser, Path(id): Id) -> ApiResult<StatusCode> {
    svc::delete_level(&api.ctx(), &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
