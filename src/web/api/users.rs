use super::{ErrorBody, Id, JsonBody, Page, list_endpoint, record_endpoints};
use crate::service::users::{self as svc, PasswordInput, UserInput};
use crate::store::users::{User, UserRow};
use crate::web::auth::ApiUser;
use crate::web::error::ApiResult;
use crate::web::lists::admin::{AccountQuery, Accounts};
use axum::extract::Path;
use axum::http::StatusCode;

list_endpoint! {
    /// List accounts: all for the office, the own unit's for a unit user, 403 for others.
    list: Accounts, AccountQuery, UserRow, "/users", "users"
}

record_endpoints! {
    tag "users", input UserInput, record User;
    /// Create an account (admin).
    create create "/users" => svc::create;
    /// One account.
    get get "/users/{id}" => svc::visible;
    /// Update an account (admin). Changing role, scope or deactivating ends its sessions.
    update update "/users/{id}" => svc::update;
}

/// Set an account's password (admin); `old_password` is ignored.
#[utoipa::path(put, path = "/users/{id}/password", tag = "users", params(("id" = String, Path)), request_body = PasswordInput,
    responses((status = 204), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn reset_password(
    api: ApiUser,
    Path(id): Id,
    JsonBody(input): JsonBody<PasswordInput>,
) -> ApiResult<StatusCode> {
    svc::reset_password(&api.ctx(), &id, input).await?;
    Ok(StatusCode::NO_CONTENT)
}
