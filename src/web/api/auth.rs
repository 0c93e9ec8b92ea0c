use super::{ErrorBody, JsonBody};
use crate::error::AppError;
use crate::error::Code;
use crate::service::auth::{self as svc, SessionKind};
use crate::service::users::{self as user_svc, PasswordInput};
use crate::store::users::{self as store, User};
use crate::web::AppState;
use crate::web::auth::{ApiUser, Meta};
use crate::web::error::ApiResult;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Deserialize, ToSchema)]
pub struct LoginRequest {
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
    /// The 6-digit code of the account's authenticator app (or a recovery code), for accounts
    /// with two-step sign-in
    #[serde(default)]
    code: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct LoginResponse {
    token: String,
    /// Always "Bearer"
    token_type: &'static str,
    /// UTC epoch milliseconds
    expires_at: i64,
    user: User,
}

/// Log in and receive a bearer token.
#[utoipa::path(post, path = "/auth/login", tag = "auth", request_body = LoginRequest, security(()),
    responses((status = 200, body = LoginResponse),
              (status = 401, body = ErrorBody, description = "invalid_credentials, two_step_required, invalid_two_step_code"),
              (status = 403, body = ErrorBody, description = "two_step_setup_required: an administrator binds an authenticator on the web first"),
              (status = 429, body = ErrorBody, description = "too_many_attempts")))]
pub async fn login(
    State(state): State<AppState>,
    meta: Meta,
    JsonBody(req): JsonBody<LoginRequest>,
) -> ApiResult<Json<LoginResponse>> {
    if req.username.trim().is_empty() || req.password.is_empty() {
        return Err(AppError::refuse(Code::MissingCredentials, "请输入用户名和密码").into());
    }
    let ttl = state.config.api_token_hours * 3600 * 1000;
    let attempt = svc::Attempt {
        username: &req.username,
        password: &req.password,
        code: req.code.as_deref(),
        ip: &meta.ip,
        kind: SessionKind::Api,
        ttl_ms: ttl,
        request_id: &meta.request_id,
        admins_two_step: state.config.admins_two_step(),
    };
    let svc::Login::Done(out) = svc::login(&state.db, &attempt).await? else {
        return Err(AppError::from(Code::TwoStepRequired).into());
    };
    Ok(Json(LoginResponse { token: out.token, token_type: "Bearer", expires_at: out.expires_at, user: out.user }))
}

/// End this token's session.
#[utoipa::path(post, path = "/auth/logout", tag = "auth", responses((status = 204), (status = 401, body = ErrorBody)))]
pub async fn logout(api: ApiUser) -> ApiResult<StatusCode> {
    svc::logout(&api.state.db, &api.user, &api.request_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The signed-in account.
#[utoipa::path(get, path = "/me", tag = "auth", responses((status = 200, body = User), (status = 401, body = ErrorBody)))]
pub async fn me(api: ApiUser) -> ApiResult<Json<User>> {
    let u = store::get(&api.state.db, &api.user.id).await?.ok_or(AppError::Unauthorized)?;
    Ok(Json(u))
}

/// Change the signed-in account's password (other sessions end).
#[utoipa::path(put, path = "/me/password", tag = "auth", request_body = PasswordInput,
    responses((status = 204), (status = 422, body = ErrorBody)))]
pub async fn change_password(api: ApiUser, JsonBody(input): JsonBody<PasswordInput>) -> ApiResult<StatusCode> {
    user_svc::change_own_password(&api.ctx(), input).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The signed-in person's work now (我的待办), most urgent first: each section with its total, the
/// ledger link behind it and its first items.
#[utoipa::path(get, path = "/me/todo", tag = "auth",
    responses((status = 200, body = Vec<crate::service::today::TodoSection>), (status = 401, body = ErrorBody)))]
pub async fn todo(api: ApiUser) -> ApiResult<Json<Vec<crate::service::today::TodoSection>>> {
    Ok(Json(crate::service::today::todo(&api.ctx()).await?))
}
