use super::{ErrorBody, JsonBody, Page};
use crate::service::access::users_scope;
use crate::service::non_empty;
use crate::service::users::{self as svc, PasswordInput, UserInput};
use crate::store::PageReq;
use crate::store::users::{self as store, User, UserFilter, UserRow};
use crate::web::auth::ApiUser;
use crate::web::error::ApiResult;
use crate::web::query::Query;
use axum::Json;
use axum::extract::Path;
use axum::http::StatusCode;
use serde::Deserialize;
use utoipa::IntoParams;

#[derive(Deserialize, IntoParams, Default)]
pub struct UserQuery {
    role: Option<String>,
    unit_id: Option<String>,
    q: Option<String>,
    page: Option<i64>,
    size: Option<i64>,
}

/// List accounts: all for the office, the own unit's for a unit user, 403 for others.
#[utoipa::path(get, path = "/users", tag = "users", params(UserQuery), responses((status = 200, body = Page<UserRow>), (status = 403, body = ErrorBody)))]
pub async fn list(api: ApiUser, Query(q): Query<UserQuery>) -> ApiResult<Json<Page<UserRow>>> {
    let scope = users_scope(&api.user)?;
    let f = UserFilter {
        role: non_empty(&q.role),
        unit_id: scope.or_else(|| non_empty(&q.unit_id)),
        keyword: non_empty(&q.q),
        active: None,
    };
    let req = PageReq::new(q.page, q.size);
    let (items, total) = store::list(&api.state.db, &f, req).await?;
    Ok(Json(Page { items, total, page: req.page, size: req.size }))
}

/// Create an account (admin).
#[utoipa::path(post, path = "/users", tag = "users", request_body = UserInput,
    responses((status = 201, body = User), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create(api: ApiUser, JsonBody(input): JsonBody<UserInput>) -> ApiResult<(StatusCode, Json<User>)> {
    Ok((StatusCode::CREATED, Json(svc::create(&api.ctx(), input).await?)))
}

/// One account.
#[utoipa::path(get, path = "/users/{id}", tag = "users", params(("id" = String, Path)), responses((status = 200, body = User), (status = 404, body = ErrorBody)))]
pub async fn get(api: ApiUser, Path(id): Path<String>) -> ApiResult<Json<User>> {
    Ok(Json(svc::visible(&api.ctx(), &id).await?))
}

/// Update an account (admin). Changing role, scope or deactivating ends its sessions.
#[utoipa::path(put, path = "/users/{id}", tag = "users", params(("id" = String, Path)), request_body = UserInput,
    responses((status = 200, body = User), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update(
    api: ApiUser,
    Path(id): Path<String>,
    JsonBody(input): JsonBody<UserInput>,
) -> ApiResult<Json<User>> {
    Ok(Json(svc::update(&api.ctx(), &id, input).await?))
}

/// Set an account's password (admin); `old_password` is ignored.
#[utoipa::path(put, path = "/users/{id}/password", tag = "users", params(("id" = String, Path)), request_body = PasswordInput,
    responses((status = 204), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn reset_password(
    api: ApiUser,
    Path(id): Path<String>,
    JsonBody(input): JsonBody<PasswordInput>,
) -> ApiResult<StatusCode> {
    svc::reset_password(&api.ctx(), &id, input).await?;
    Ok(StatusCode::NO_CONTENT)
}
