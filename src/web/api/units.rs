use super::{Created, ErrorBody, Id, JsonBody, Page, list_endpoint, record_endpoints};
use crate::service::units::{self as svc, ContactInput, LevelInput, UnitInput};
use crate::store::units::{self as store, Contact, ContactLevel, Unit, UnitRow};
use crate::web::auth::ApiUser;
use crate::web::error::ApiResult;
use crate::web::lists::admin::{UnitQuery, Units};
use axum::Json;
use axum::extract::Path;

list_endpoint! {
    /// List the units the caller may see (a unit's own users see only their unit).
    list: Units, UnitQuery, UnitRow, "/units", "units"
}

record_endpoints! {
    tag "units", input UnitInput, record Unit;
    /// Create a unit (admin).
    create create "/units" => svc::create;
    /// One unit (404 when the caller may not see it).
    get get "/units/{id}" => svc::visible;
    /// Update a unit (admin).
    update update "/units/{id}" => svc::update;
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

record_endpoints! {
    tag "units", input ContactInput, record Contact;
    /// Update a contact.
    update update_contact "/contacts/{id}" => svc::update_contact;
    /// Delete a contact.
    delete delete_contact "/contacts/{id}" => svc::delete_contact;
}

/// The contact-book levels, in order.
#[utoipa::path(get, path = "/contact-levels", tag = "units", responses((status = 200, body = Vec<ContactLevel>)))]
pub async fn levels(api: ApiUser) -> ApiResult<Json<Vec<ContactLevel>>> {
    Ok(Json(store::contact_levels(&api.state.db).await?))
}

record_endpoints! {
    tag "units", input LevelInput, record ContactLevel;
    /// Add a contact-book level (admin).
    create add_level "/contact-levels" => svc::add_level;
    /// Rename or reorder a contact-book level (admin); `version` is required.
    update update_level "/contact-levels/{id}" => svc::update_level;
    /// Remove a contact-book level no contact uses (admin).
    delete delete_level "/contact-levels/{id}" => svc::delete_level;
}
