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

/// A unit's group-chat robot as the API shows it: the key shortened, the secret never.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct WebhookView {
    pub id: String,
    pub unit_id: String,
    /// wecom (企业微信) or dingtalk (钉钉)
    pub kind: crate::domain::notify::WebhookKind,
    /// The address with its key shortened
    pub url: String,
    /// A signing secret (加签) is set
    pub signed: bool,
    pub active: bool,
    pub created_at: i64,
}

impl From<crate::store::notifications::Webhook> for WebhookView {
    fn from(w: crate::store::notifications::Webhook) -> WebhookView {
        WebhookView {
            url: crate::store::notifications::masked_url(&w.url),
            signed: !w.secret.is_empty(),
            active: w.active == 1,
            id: w.id,
            unit_id: w.unit_id,
            kind: w.kind,
            created_at: w.created_at,
        }
    }
}

#[derive(serde::Deserialize, utoipa::ToSchema)]
pub struct WebhookInput {
    /// wecom or dingtalk
    kind: String,
    /// The robot's full address from the group's settings
    url: String,
    /// The signing secret (加签, SEC…) when the robot has one
    #[serde(default)]
    secret: String,
}

/// A unit's group-chat robots (the office).
#[utoipa::path(get, path = "/units/{id}/webhooks", tag = "units", params(("id" = String, Path)),
    responses((status = 200, body = Vec<WebhookView>), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn webhooks(api: ApiUser, Path(id): Id) -> ApiResult<Json<Vec<WebhookView>>> {
    crate::service::access::require_admin(&api.user)?;
    store::get(&api.state.db, &id).await?.ok_or(crate::error::AppError::NotFound)?;
    let hooks = crate::store::notifications::webhooks(&api.state.db, &id).await?;
    Ok(Json(hooks.into_iter().filter(|h| h.active == 1).map(WebhookView::from).collect()))
}

/// Connect a group-chat robot to a unit (the office): new problems, reminders and overdue notices
/// go to the group, @-mentioning the point's lead; signed when a secret is given.
#[utoipa::path(post, path = "/units/{id}/webhooks", tag = "units", params(("id" = String, Path)), request_body = WebhookInput,
    responses((status = 201, body = WebhookView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn add_webhook(
    api: ApiUser,
    Path(id): Id,
    JsonBody(input): JsonBody<WebhookInput>,
) -> ApiResult<Created<WebhookView>> {
    let allow = &api.state.config.webhook_allow_hosts;
    let hook = crate::service::notify::HookInput { kind: &input.kind, url: &input.url, secret: &input.secret };
    let w = crate::service::notify::add_webhook(&api.ctx(), &id, hook, allow).await?;
    Ok(Created(WebhookView::from(w)))
}

/// Disconnect a robot (the office); its past deliveries stay in the log.
#[utoipa::path(delete, path = "/webhooks/{id}", tag = "units", params(("id" = String, Path)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn remove_webhook(api: ApiUser, Path(id): Id) -> ApiResult<axum::http::StatusCode> {
    crate::service::notify::remove_webhook(&api.ctx(), &id).await?;
    Ok(axum::http::StatusCode::NO_CONTENT)
}
