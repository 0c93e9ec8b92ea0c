//! Login and logout pages.

use crate::error::{AppError, Code};
use crate::service::auth::{self, Login, SessionKind, random_hex, same_token};
use crate::service::two_step;
use crate::web::AppState;
use crate::web::auth::{
    Auth, CsrfForm, LOGIN_CSRF_COOKIE, Meta, SECOND_STEP_COOKIE, SESSION_COOKIE, cookie, parse_form, set_cookie,
    urlencode,
};
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
    let attempt = auth::Attempt {
        username: &f.username,
        password: &f.password,
        code: None,
        ip: &meta.ip,
        kind: SessionKind::Web,
        ttl_ms: state.config.session_hours * 3600 * 1000,
        request_id: &meta.request_id,
        admins_two_step: state.config.admins_two_step(),
    };
    match auth::login(&state.db, &attempt).await {
        Ok(Login::Done(out)) => signed_in(&state, &out.token, Redirect::to(&next).into_response()),
        Ok(Login::SecondStep { token, .. }) => {
            let c = set_cookie(SECOND_STEP_COOKIE, &token, two_step::CHALLENGE_MS / 1000, state.config.secure_cookies);
            let to = format!("/login/verify?next={}", urlencode(&next));
            ([(header::SET_COOKIE, c)], Redirect::to(&to)).into_response()
        }
        Err(e) => {
            if let AppError::Internal(cause) = &e {
                tracing::error!(error = ?cause, "login failed internally");
            }
            render(&state, e.status(), next, f.username, Some(e.to_string()))
        }
    }
}

/// The answer that signs the browser in: the session cookie, the login's own cookies cleared.
fn signed_in(state: &AppState, token: &str, mut res: Response) -> Response {
    let secure = state.config.secure_cookies;
    let cookies = [
        set_cookie(SESSION_COOKIE, token, state.config.session_hours * 3600, secure),
        set_cookie(LOGIN_CSRF_COOKIE, "", 0, secure),
        set_cookie(SECOND_STEP_COOKIE, "", 0, secure),
    ];
    for c in cookies {
        res.headers_mut().append(header::SET_COOKIE, c.parse().expect("cookie is ASCII"));
    }
    res
}

/// The second step of a login: the authenticator's code, or binding one first.
#[derive(Template, WebTemplate)]
#[template(path = "login_two_step.html")]
struct SecondStepPage {
    csrf: String,
    /// Who is signing in ("王建国（admin）")
    account: String,
    next: String,
    error: Option<String>,
    /// Set when an authenticator is being bound
    enrolment: Option<two_step::Enrolment>,
    /// Set once bound: the recovery codes, shown this once
    recovery_codes: Vec<String>,
    /// When they were made (Beijing time), printed with them
    codes_made: String,
}

/// The second step keeps its own CSRF cookie, so opening the login page in another tab does not
/// spoil a code page left open.
const STEP_CSRF_COOKIE: &str = "cc_step_csrf";

fn render_second_step(state: &AppState, status: StatusCode, mut page: SecondStepPage) -> Response {
    page.csrf = random_hex(16);
    let c = set_cookie(STEP_CSRF_COOKIE, &page.csrf, 3600, state.config.secure_cookies);
    (status, [(header::SET_COOKIE, c)], page).into_response()
}

/// Back to the password, saying why.
fn start_again(state: &AppState, next: String, e: &AppError) -> Response {
    let mut res = render(state, e.status(), next, String::new(), Some(e.to_string()));
    let clear = set_cookie(SECOND_STEP_COOKIE, "", 0, state.config.secure_cookies);
    res.headers_mut().append(header::SET_COOKIE, clear.parse().expect("cookie is ASCII"));
    res
}

pub async fn second_step_form(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<NextQuery>,
) -> Response {
    let next = safe_next(q.next.as_deref());
    let token = cookie(&headers, SECOND_STEP_COOKIE).unwrap_or_default();
    let pending = match two_step::pending(&state.db, &token).await {
        Ok(p) => p,
        Err(e) => return crate::web::error::PageError(e).into_response(),
    };
    let Some((c, user)) = pending else { return start_again(&state, next, &Code::TwoStepExpired.into()) };
    let enrolment = match two_step::enrolment_of(&token, &c, &user) {
        Ok(e) => e,
        Err(e) => return crate::web::error::PageError(e).into_response(),
    };
    let account = format!("{}（{}）", user.display_name, user.username);
    let page = SecondStepPage {
        csrf: String::new(),
        account,
        next,
        error: None,
        enrolment,
        recovery_codes: Vec::new(),
        codes_made: String::new(),
    };
    render_second_step(&state, StatusCode::OK, page)
}

#[derive(Deserialize, Default)]
pub struct CodeForm {
    #[serde(default)]
    code: String,
    #[serde(default, rename = "_csrf")]
    csrf: String,
    #[serde(default)]
    next: Option<String>,
}

pub async fn second_step_submit(
    State(state): State<AppState>,
    meta: Meta,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let f: CodeForm = match parse_form(&body) {
        Ok(f) => f,
        Err(r) => return r,
    };
    let next = safe_next(f.next.as_deref());
    let expected = cookie(&headers, STEP_CSRF_COOKIE).unwrap_or_default();
    if expected.is_empty() || !same_token(&f.csrf, &expected) {
        return start_again(&state, next, &AppError::Csrf);
    }
    let token = cookie(&headers, SECOND_STEP_COOKIE).unwrap_or_default();
    let ttl = state.config.session_hours * 3600 * 1000;
    match auth::finish_login(&state.db, &token, &f.code, (&meta.ip, ttl), &meta.request_id).await {
        Ok((out, None)) => signed_in(&state, &out.token, Redirect::to(&next).into_response()),
        Ok((out, Some(codes))) => {
            let account = format!("{}（{}）", out.user.display_name, out.user.username);
            let page = SecondStepPage {
                csrf: String::new(),
                account,
                next,
                error: None,
                enrolment: None,
                recovery_codes: codes,
                codes_made: crate::domain::time::fmt_local(crate::domain::time::now_ms())[..16].to_string(),
            };
            signed_in(&state, &out.token, page.into_response())
        }
        Err(e) if e.code() == Code::InvalidTwoStepCode || e.code() == Code::ValidationFailed => {
            let pending = two_step::pending(&state.db, &token).await.ok().flatten();
            let account =
                pending.as_ref().map(|(_, u)| format!("{}（{}）", u.display_name, u.username)).unwrap_or_default();
            let enrolment = pending.and_then(|(c, u)| two_step::enrolment_of(&token, &c, &u).ok().flatten());
            let message = match &e {
                AppError::Validation(f) => f.0.first().map(|x| x.message.clone()).unwrap_or_default(),
                other => other.to_string(),
            };
            let page = SecondStepPage {
                csrf: String::new(),
                account,
                next,
                error: Some(message),
                enrolment,
                recovery_codes: Vec::new(),
                codes_made: String::new(),
            };
            render_second_step(&state, StatusCode::UNAUTHORIZED, page)
        }
        Err(AppError::Internal(cause)) => {
            tracing::error!(error = ?cause, "second step failed internally");
            crate::web::error::PageError(AppError::Internal(cause)).into_response()
        }
        Err(e) => start_again(&state, next, &e),
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
