use super::{Created, ErrorBody, Id, JsonBody, Page, list_endpoint};
use crate::service::users::{self as svc, PasswordInput, UserInput};
use crate::store::users::{User, UserRow};
use crate::web::auth::ApiUser;
use crate::web::error::ApiResult;
use crate::web::lists::admin::{AccountQuery, Accounts};
use axum::Json;
use axum::extract::Path;
use axum::http::StatusCode;

list_endpoint! {
    /// List accounts: all for the office, the own unit's for a unit user, 403 for others.
    list: Accounts, AccountQuery, UserRow, "/users", "users"
}

/// Create an account (admin).
#[utoipa::path(post, path = "/users", tag = "users", request_body = UserInput,
    responses((status = 201, body = User), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create(api: ApiUser, JsonBody(input): JsonBody<UserInput>) -> ApiResult<Created<User>> {
    Ok(Created(svc::create(&api.ctx(), input).await?))
}

/// One account.
#[utoipa::path(get, path = "/users/{id}", tag = "users", params(("id" = String, Path)), responses((status = 200, body = User), (status = 404, body = ErrorBody)))]
pub async fn get(api: ApiUser, Path(id): Id) -> ApiResult<Json<User>> {
    Ok(Json(svc::visible(&api.ctx(), &id).await?))
}

/// Update an account (admin). Changing role, scope or deactivating ends its sessions.
#[utoipa::path(put, path = "/users/{id}", tag = "users", params(("id" = String, Path)), request_body = UserInput,
    responses((status = 200, body = User), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update(api: ApiUser, Path(id): Id, JsonBody(input): JsonBody<UserInput>) -> ApiResult<Json<User>> {
    Ok(Json(svc::update(&api.ctx(), &id, input).await?))
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
