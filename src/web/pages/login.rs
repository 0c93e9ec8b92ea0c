//! Login and logout pages.

use crate::error::AppError;
use crate::service::auth::{self, SessionKind, random_hex, same_token};
use crate::web::AppState;
use crate::web::auth::{Auth, CsrfForm, LOGIN_CSRF_COOKIE, Meta, SESSION_COOKIE, cookie, parse_form, set_cookie};
use crate::web::query::Query;
use askama::Template;
use askama_web::WebTemplate;
use axum::Extension;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

#[derive(Template, WebTemplate)]
#[template(path = "login.html")]
struct LoginPage {
    csrf: String,
    next: String,
    username: String,
    error: Option<String>,
}

#[derive(Deserialize, Default)]
pub struct NextQuery {
    next: Option<String>,
}

/// Only local paths are followed after login (no open redirects).
fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.starts_with("/\\") => n.to_string(),
        _ => "/".to_string(),
    }
}

fn render(state: &AppState, status: StatusCode, next: String, username: String, error: Option<String>) -> Response {
    // Double-submit token: the login form has no session yet, so the token lives in a cookie.
    let csrf = random_hex(16);
    let c = set_cookie(LOGIN_CSRF_COOKIE, &csrf, 3600, state.config.secure_cookies);
    (status, [(header::SET_COOKIE, c)], LoginPage { csrf, next, username, error }).into_response()
}

pub async fn form(
    State(state): State<AppState>,
    Extension(auth): Extension<Auth>,
    Query(q): Query<NextQuery>,
) -> Response {
    if auth.0.is_some() {
        return Redirect::to(&safe_next(q.next.as_deref())).into_response();
    }
    render(&state, StatusCode::OK, safe_next(q.next.as_deref()), String::new(), None)
}

#[derive(Deserialize, Default)]
pub struct LoginForm {
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
    #[serde(default, rename = "_csrf")]
    csrf: String,
    #[serde(default)]
    next: Option<String>,
}

pub async fn submit(State(state): State<AppState>, meta: Meta, headers: HeaderMap, body: Bytes) -> Response {
    let f: LoginForm = match parse_form(&body) {
        Ok(f) => f,
        Err(r) => return r,
    };
    let next = safe_next(f.next.as_deref());
    let expected = cookie(&headers, LOGIN_CSRF_COOKIE).unwrap_or_default();
    if expected.is_empty() || !same_token(&f.csrf, &expected) {
        let msg = AppError::Csrf.to_string();
        return render(&state, StatusCode::FORBIDDEN, next, f.username, Some(msg));
    }
    if f.username.trim().is_empty() || f.password.is_empty() {
        return render(&state, StatusCode::UNPROCESSABLE_ENTITY, next, f.username, Some("请输入用户名和密码".into()));
    }
    let ttl = state.config.session_hours * 3600 * 1000;
    match auth::login(&state.db, &f.username, &f.password, &meta.ip, SessionKind::Web, ttl, &meta.request_id).await {
        Ok(out) => {
            let secure = state.config.secure_cookies;
            let session = set_cookie(SESSION_COOKIE, &out.token, state.config.session_hours * 3600, secure);
            let clear = set_cookie(LOGIN_CSRF_COOKIE, "", 0, secure);
            let mut res = Redirect::to(&next).into_response();
            res.headers_mut().append(header::SET_COOKIE, session.parse().expect("cookie is ASCII"));
            res.headers_mut().append(header::SET_COOKIE, clear.parse().expect("cookie is ASCII"));
            res
        }
        Err(e) => {
            if let AppError::Internal(cause) = &e {
                tracing::error!(error = ?cause, "login failed internally");
            }
            render(&state, e.status(), next, f.username, Some(e.to_string()))
        }
    }
}

pub async fn logout(form: CsrfForm<Vec<(String, String)>>) -> Response {
    let page = form.page;
    if let Err(e) = auth::logout(&page.state.db, &page.user, &page.request_id).await {
        return crate::web::error::PageError(e).into_response();
    }
    let clear = set_cookie(SESSION_COOKIE, "", 0, page.state.config.secure_cookies);
    ([(header::SET_COOKIE, clear)], Redirect::to("/login")).into_response()
}
