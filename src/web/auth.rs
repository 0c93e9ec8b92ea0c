//! Who is calling: the session cookie for pages, a bearer token for the API; CSRF for forms.

use super::AppState;
use super::error::{ApiError, code_page};
use crate::error::{AppError, Code};
use crate::service::auth::{SessionKind, authenticate, same_token};
use crate::service::{Ctx, CurrentUser};
use axum::body::Bytes;
use axum::extract::{ConnectInfo, FromRef, FromRequest, FromRequestParts, Request, State};
use axum::http::{HeaderMap, StatusCode, header, request::Parts};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use serde::de::DeserializeOwned;
use std::net::SocketAddr;
use tower_http::request_id::RequestId;

pub const SESSION_COOKIE: &str = "cc_session";
pub const LOGIN_CSRF_COOKIE: &str = "cc_login_csrf";
/// A login whose password was right, waiting for its second step (the token of the challenge).
pub const SECOND_STEP_COOKIE: &str = "cc_second_step";
pub const CSRF_FIELD: &str = "_csrf";

/// Set by the middleware on every request.
#[derive(Clone)]
pub struct Auth(pub Option<CurrentUser>);

#[derive(Clone)]
pub struct ReqId(pub String);

pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
}

fn bearer(headers: &HeaderMap) -> Option<String> {
    let v = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = v.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim().to_string())
}

/// Pages authenticate by cookie only and the API by bearer token only, so a browser's cookie
/// can never drive the API from another site.
pub async fn load_user(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let is_api = req.uri().path().starts_with("/api/");
    let token = if is_api { bearer(req.headers()) } else { cookie(req.headers(), SESSION_COOKIE) };
    let kind = if is_api { SessionKind::Api } else { SessionKind::Web };
    let user = match token {
        Some(t) if !t.is_empty() => match authenticate(&state.db, &t, kind).await {
            Ok(u) => u,
            Err(e) => return ApiError(e).into_response(),
        },
        _ => None,
    };
    let rid = req
        .extensions()
        .get::<RequestId>()
        .and_then(|r| r.header_value().to_str().ok())
        .unwrap_or_default()
        .to_string();
    req.extensions_mut().insert(Auth(user));
    req.extensions_mut().insert(ReqId(rid));
    next.run(req).await
}

/// The client's address: the socket's, or, when the socket is a configured trusted proxy, the
/// nearest address in X-Forwarded-For that is not one of those proxies (a client cannot forge
/// its way past the proxy, which appends what it saw).
pub fn client_ip(parts: &Parts, trusted: &[String]) -> String {
    let peer = parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip().to_string());
    let Some(peer) = peer else { return "unknown".into() };
    if !trusted.contains(&peer) {
        return peer;
    }
    let forwarded = parts.headers.get_all("x-forwarded-for").iter().filter_map(|v| v.to_str().ok());
    let hops: Vec<String> = forwarded.flat_map(|v| v.split(',')).map(|h| h.trim().to_string()).collect();
    hops.into_iter().rev().find(|h| !trusted.contains(h) && h.parse::<std::net::IpAddr>().is_ok()).unwrap_or(peer)
}

fn request_id(parts: &Parts) -> String {
    parts.extensions.get::<ReqId>().map(|r| r.0.clone()).unwrap_or_default()
}

fn current(parts: &Parts) -> Option<CurrentUser> {
    parts.extensions.get::<Auth>().and_then(|a| a.0.clone())
}

/// A signed-in page user; anyone else is sent to the login page.
pub struct PageUser {
    pub user: CurrentUser,
    pub request_id: String,
    pub state: AppState,
}

impl PageUser {
    pub fn ctx(&self) -> Ctx<'_> {
        Ctx { db: &self.state.db, user: &self.user, request_id: &self.request_id }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for PageUser
where
    AppState: FromRef<S>,
{
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match current(parts) {
            Some(mut user) => {
                let state = AppState::from_ref(state);
                // A unit without windows is spared the window service menu (one indexed read).
                if let Some(unit) = user.unit_id.as_deref().filter(|_| user.role.needs_unit()) {
                    let serves = crate::store::windows::unit_serves_windows(&state.db, unit)
                        .await
                        .map_err(|e| crate::web::error::PageError::from(AppError::from(e)).into_response())?;
                    user.no_windows = !serves;
                }
                Ok(PageUser { user, request_id: request_id(parts), state })
            }
            None => {
                let next = parts.uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
                let target = format!("/login?next={}", urlencode(next));
                Err(Redirect::to(&target).into_response())
            }
        }
    }
}

/// A signed-in API client; anyone else gets 401 JSON.
pub struct ApiUser {
    pub user: CurrentUser,
    pub request_id: String,
    pub state: AppState,
}

impl ApiUser {
    pub fn ctx(&self) -> Ctx<'_> {
        Ctx { db: &self.state.db, user: &self.user, request_id: &self.request_id }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for ApiUser
where
    AppState: FromRef<S>,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match current(parts) {
            Some(user) => Ok(ApiUser { user, request_id: request_id(parts), state: AppState::from_ref(state) }),
            None => Err(ApiError(AppError::Unauthorized)),
        }
    }
}

/// Request metadata for handlers that work without a signed-in user (login).
pub struct Meta {
    pub ip: String,
    pub request_id: String,
}

impl<S: Send + Sync> FromRequestParts<S> for Meta
where
    AppState: FromRef<S>,
{
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let state = AppState::from_ref(state);
        Ok(Meta { ip: client_ip(parts, &state.config.trusted_proxies), request_id: request_id(parts) })
    }
}

/// Parses an urlencoded body (repeated keys become lists).
pub fn parse_form<T: DeserializeOwned>(body: &[u8]) -> Result<T, Response> {
    serde_html_form::from_bytes(body).map_err(|e| {
        tracing::info!(error = %e, "unreadable form");
        code_page(Code::InvalidForm)
    })
}

#[derive(serde::Deserialize)]
struct CsrfOnly {
    #[serde(rename = "_csrf", default)]
    csrf: String,
}

/// A form posted by a signed-in user, accepted only with the session's CSRF token.
pub struct CsrfForm<T> {
    pub page: PageUser,
    pub form: T,
}

impl<S, T> FromRequest<S> for CsrfForm<T>
where
    S: Send + Sync,
    AppState: FromRef<S>,
    T: DeserializeOwned,
{
    type Rejection = Response;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let (mut parts, body) = req.into_parts();
        let page = PageUser::from_request_parts(&mut parts, state).await?;
        let bytes =
            Bytes::from_request(Request::from_parts(parts, body), state).await.map_err(IntoResponse::into_response)?;
        let token: CsrfOnly = parse_form(&bytes)?;
        if !same_token(&token.csrf, &page.user.csrf) {
            tracing::warn!(user = %page.user.username, "form refused: CSRF token missing or wrong");
            return Err(code_page(Code::CsrfFailed));
        }
        let form = parse_form(&bytes)?;
        Ok(CsrfForm { page, form })
    }
}

pub use crate::domain::urlencode;

/// Builds a Set-Cookie value.
pub fn set_cookie(name: &str, value: &str, max_age_s: i64, secure: bool) -> String {
    format!(
        "{name}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age_s}{}",
        if secure { "; Secure" } else { "" }
    )
}

/// A file posted in a multipart form.
pub struct Upload {
    pub field: String,
    pub filename: String,
    pub bytes: Vec<u8>,
}

/// A multipart form (file upload) posted by a signed-in user, accepted only with the CSRF token.
pub struct CsrfMultipart {
    pub page: PageUser,
    pub fields: std::collections::HashMap<String, String>,
    pub files: Vec<Upload>,
}

impl CsrfMultipart {
    pub fn file(&self, field: &str) -> Option<&Upload> {
        self.files.iter().find(|f| f.field == field && !f.bytes.is_empty())
    }
}

impl<S> FromRequest<S> for CsrfMultipart
where
    S: Send + Sync,
    AppState: FromRef<S>,
{
    type Rejection = Response;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let unreadable = |status: StatusCode, e: String| {
            tracing::info!(error = %e, "unreadable upload");
            code_page(if status == StatusCode::PAYLOAD_TOO_LARGE { Code::PayloadTooLarge } else { Code::InvalidUpload })
        };
        let (mut parts, body) = req.into_parts();
        let page = PageUser::from_request_parts(&mut parts, state).await?;
        let mut mp = axum::extract::Multipart::from_request(Request::from_parts(parts, body), state)
            .await
            .map_err(|e| unreadable(e.status(), e.body_text()))?;
        let mut fields = std::collections::HashMap::new();
        let mut files = Vec::new();
        while let Some(field) = mp.next_field().await.map_err(|e| unreadable(e.status(), e.body_text()))? {
            let name = field.name().unwrap_or_default().to_string();
            match field.file_name().map(str::to_string) {
                Some(filename) => {
                    let bytes = field.bytes().await.map_err(|e| unreadable(e.status(), e.body_text()))?.to_vec();
                    files.push(Upload { field: name, filename, bytes });
                }
                None => {
                    let text = field.text().await.map_err(|e| unreadable(e.status(), e.body_text()))?;
                    fields.insert(name, text);
                }
            }
        }
        let token = fields.get(CSRF_FIELD).map(String::as_str).unwrap_or_default();
        if !same_token(token, &page.user.csrf) {
            tracing::warn!(user = %page.user.username, "upload refused: CSRF token missing or wrong");
            return Err(code_page(Code::CsrfFailed));
        }
        Ok(CsrfMultipart { page, fields, files })
    }
}
