//! The window's rating page (/rate/{code}, no login, phone first): five levels, the level's tags,
//! a comment and an optional phone; one rating per visit token, or per browser, window and day.
//! A bad rating gets a private page (/rate/r/{token}) showing the callback, the reply, and the
//! one rating of the fix.

use super::pages::{Posted, PublicLayout, base_url, form_token, layout, posted, token_ok, with_cookie};
use crate::domain::time::fmt_local;
use crate::domain::window::{self as rules, LEVELS, TAGS};
use crate::error::{AppError, Code};
use crate::service::ratings::{self as service, RateInput, RaterStatus};
use crate::store::windows::{self as store, WindowRow};
use crate::web::AppState;
use crate::web::auth::{client_ip, cookie, parse_form, set_cookie};
use crate::web::error::{PageResult, error_page};
use crate::web::query::Query;
use askama::Template;
use askama_web::WebTemplate;
use axum::body::Bytes;
use axum::extract::{Path, Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

/// The browser's own id for the one-rating-per-day limit (when the window gives no token).
const RATER_COOKIE: &str = "cc_rater";

#[derive(Template, WebTemplate)]
#[template(path = "public/rate.html")]
pub struct RatePage {
    p: PublicLayout,
    w: WindowRow,
    csrf: String,
    visit: String,
    levels: [(i64, &'static str); 5],
    tags: [(i64, &'static [&'static str]); 5],
    form: RateForm,
    errors: Vec<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct RateForm {
    #[serde(default, rename = "_csrf")]
    csrf: String,
    #[serde(default)]
    level: String,
    #[serde(default)]
    tags: Vec<String>,
    #[serde(default)]
    comment: String,
    #[serde(default)]
    phone: String,
    #[serde(default)]
    v: String,
    #[serde(default)]
    website: String,
}

impl RateForm {
    fn picked(&self, level: i64, tag: &str) -> bool {
        self.level == level.to_string() && self.tags.iter().any(|t| t == tag)
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct VisitQuery {
    #[serde(default)]
    v: String,
}

async fn window(state: &AppState, code: &str) -> PageResult<WindowRow> {
    let code = code.trim().to_ascii_uppercase();
    match store::window_by_code(&state.db, &code).await? {
        Some(w) => Ok(w),
        None => Err(AppError::refuse(Code::UnknownWindow, Code::UnknownWindow.message()).into()),
    }
}

pub async fn form(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(code): Path<String>,
    Query(q): Query<VisitQuery>,
) -> PageResult<Response> {
    let w = window(&state, &code).await?;
    let (csrf, set) = form_token(&headers, state.config.secure_cookies);
    let p = layout(&state.db, "rate", "服务评价").await;
    let form = RateForm { v: q.v.trim().to_string(), ..Default::default() };
    let page = RatePage { p, visit: form.v.clone(), w, csrf, levels: LEVELS, tags: TAGS, form, errors: Vec::new() };
    let mut res = with_cookie(page, set);
    if cookie(&headers, RATER_COOKIE).is_none() {
        let id = crate::service::auth::random_hex(16);
        if let Ok(v) = set_cookie(RATER_COOKIE, &id, 400 * 86_400, state.config.secure_cookies).parse() {
            res.headers_mut().append(axum::http::header::SET_COOKIE, v);
        }
    }
    Ok(res)
}

pub async fn submit(State(state): State<AppState>, Path(code): Path<String>, req: Request) -> PageResult<Response> {
    let (parts, body) = req.into_parts();
    let Ok(body) = axum::body::to_bytes(body, 64 * 1024).await else {
        return Ok(error_page(StatusCode::PAYLOAD_TOO_LARGE, "提交的内容过长".into()));
    };
    let f: RateForm = match parse_form(&body) {
        Ok(f) => f,
        Err(r) => return Ok(r),
    };
    let w = window(&state, &code).await?;
    if !token_ok(&parts.headers, &f.csrf) {
        return Ok(error_page(StatusCode::FORBIDDEN, "页面已过期，请重新扫码评价".into()));
    }
    // The browser's cookie when it keeps one, else its address (hashed, never stored as is).
    let browser = match cookie(&parts.headers, RATER_COOKIE).filter(|c| c.len() == 32) {
        Some(c) => format!("c{c}"),
        None => format!("a{}", crate::service::reports::client_of(&client_ip(&parts, &state.config.trusted_proxies))),
    };
    let input = RateInput {
        level: rules::parse_level(&f.level),
        tags: f.tags.clone(),
        comment: f.comment.clone(),
        phone: f.phone.clone(),
        visit: f.v.clone(),
        website: f.website.clone(),
    };
    match service::rate(&state.db, &state.ratings, &w, input, &browser).await {
        Ok(r) => {
            let to = match r.token {
                Some(t) => format!("/rate/r/{t}?new=1"),
                None => format!("/rate/{}/thanks?level={}", w.code, r.rating.level),
            };
            Ok(Redirect::to(&to).into_response())
        }
        Err(e @ (AppError::Validation(_) | AppError::Refused(..))) => {
            let status = e.status();
            let errors = crate::web::error::message_of(&e).split('；').map(str::to_string).collect();
            let p = layout(&state.db, "rate", "服务评价").await;
            let page = RatePage {
                p,
                visit: f.v.clone(),
                w,
                csrf: f.csrf.clone(),
                levels: LEVELS,
                tags: TAGS,
                form: f,
                errors,
            };
            Ok((status, page).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "public/rate_thanks.html")]
pub struct ThanksPage {
    p: PublicLayout,
    w: WindowRow,
    level: String,
}

#[derive(Debug, Default, Deserialize)]
pub struct ThanksQuery {
    #[serde(default)]
    level: String,
}

pub async fn thanks(
    State(state): State<AppState>,
    Path(code): Path<String>,
    Query(q): Query<ThanksQuery>,
) -> PageResult<Response> {
    let w = window(&state, &code).await?;
    // Reached only from a stored rating (which names its level): opened by itself, for
    // instance from the browser's history, it would thank for a rating never given.
    let Some(level) = rules::parse_level(&q.level).map(rules::level_label) else {
        return Ok(Redirect::to(&format!("/rate/{}", w.code)).into_response());
    };
    let level = level.to_string();
    let p = layout(&state.db, "rate", "感谢您的评价").await;
    Ok(ThanksPage { p, w, level }.into_response())
}

#[derive(Template, WebTemplate)]
#[template(path = "public/rate_status.html")]
pub struct StatusPage {
    p: PublicLayout,
    s: RaterStatus,
    csrf: String,
    token: String,
    /// Found by code and the phone's last four digits (查进度): the fix is rated with them
    lookup: Option<(String, String)>,
    link: Option<String>,
    rated: String,
    replied: String,
    fix_due: String,
    levels: [(i64, &'static str); 5],
    message: Option<&'static str>,
    errors: Vec<String>,
    /// What was chosen and typed into the fix rating before a refusal, shown again
    typed: Typed,
}

/// A fix rating as the rater filled it in.
#[derive(Debug, Default)]
pub struct Typed {
    level: String,
    comment: String,
}

#[derive(Debug, Default, Deserialize)]
pub struct StatusQuery {
    #[serde(default)]
    new: Option<String>,
    #[serde(default)]
    ok: Option<String>,
}

async fn status_page(
    state: &AppState,
    headers: &HeaderMap,
    token: &str,
    (message, errors, typed): (Option<&'static str>, Vec<String>, Typed),
) -> PageResult<(StatusPage, Option<String>)> {
    let (_, s) = service::status(&state.db, token).await?;
    let (csrf, set) = form_token(headers, state.config.secure_cookies);
    let p = layout(&state.db, "rate", "我的评价").await;
    Ok((
        StatusPage {
            p,
            rated: fmt_local(s.rated_at),
            replied: s.replied_at.map(fmt_local).unwrap_or_default(),
            fix_due: s.fix_due.map(|d| fmt_local(d)[..10].to_string()).unwrap_or_default(),
            s,
            csrf,
            token: token.to_string(),
            lookup: None,
            link: None,
            levels: LEVELS,
            message,
            errors,
            typed,
        },
        set,
    ))
}

pub async fn status(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(token): Path<String>,
    Query(q): Query<StatusQuery>,
) -> PageResult<Response> {
    let message = q.ok.as_ref().map(|_| "感谢您对整改结果的评价！");
    let (mut page, set) = status_page(&state, &headers, &token, (message, Vec::new(), Typed::default())).await?;
    if q.new.is_some() {
        page.link = Some(format!("{}/rate/r/{token}", base_url(&state, &headers)));
    }
    Ok(with_cookie(page, set))
}

/// 查进度 with a case code (C…) and the phone's last four digits: the case, read-only; None when
/// the code and digits do not match.
pub(super) async fn by_code(
    state: &AppState,
    headers: &HeaderMap,
    code: &str,
    last4: &str,
) -> PageResult<Option<Response>> {
    by_code_with(state, headers, (code, last4), (None, Vec::new(), Typed::default())).await
}

async fn by_code_with(
    state: &AppState,
    headers: &HeaderMap,
    (code, last4): (&str, &str),
    (message, errors, typed): (Option<&'static str>, Vec<String>, Typed),
) -> PageResult<Option<Response>> {
    let s = match service::status_by_code(&state.db, code, last4).await {
        Ok(s) => s,
        Err(AppError::Refused(..)) => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    let (csrf, set) = form_token(headers, state.config.secure_cookies);
    let p = layout(&state.db, "status", "我的评价").await;
    let page = StatusPage {
        p,
        rated: fmt_local(s.rated_at),
        replied: s.replied_at.map(fmt_local).unwrap_or_default(),
        fix_due: s.fix_due.map(|d| fmt_local(d)[..10].to_string()).unwrap_or_default(),
        s,
        csrf,
        token: String::new(),
        lookup: Some((code.trim().to_ascii_uppercase(), last4.trim().to_string())),
        link: None,
        levels: LEVELS,
        message,
        errors,
        typed,
    };
    Ok(Some(with_cookie(page, set)))
}

#[derive(Debug, Default, Deserialize)]
pub struct CodeFixForm {
    #[serde(default, rename = "_csrf")]
    csrf: String,
    #[serde(default)]
    code: String,
    #[serde(default)]
    last4: String,
    #[serde(default)]
    level: String,
    #[serde(default)]
    comment: String,
}

impl Posted for CodeFixForm {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

/// Rates a case's fix from the page 查进度 found it on (code and the phone's last four digits).
pub async fn rate_fix_by_code(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> PageResult<Response> {
    let f: CodeFixForm = match posted(&headers, &body, "页面已过期，请重新查询后评价") {
        Ok(f) => f,
        Err(r) => return Ok(r),
    };
    let (code, last4) = (f.code.as_str(), f.last4.as_str());
    let fix = service::FixRating { level: rules::parse_level(&f.level), comment: &f.comment };
    let (status, outcome) = match service::rate_fix_by_code(&state.db, (code, last4), fix).await {
        Ok(()) => (StatusCode::OK, (Some("感谢您对整改结果的评价！"), Vec::new(), Typed::default())),
        Err(e @ (AppError::Validation(_) | AppError::Refused(..))) if !matches!(e.code(), Code::WrongLookup) => {
            let typed = Typed { level: f.level.clone(), comment: f.comment.clone() };
            (e.status(), (None, vec![crate::web::error::message_of(&e)], typed))
        }
        Err(AppError::Refused(..)) => {
            return Ok(error_page(StatusCode::NOT_FOUND, "工单号或手机号后四位不正确，请重新查询".into()));
        }
        Err(e) => return Err(e.into()),
    };
    match by_code_with(&state, &headers, (code, last4), outcome).await? {
        Some(page) => Ok((status, page).into_response()),
        None => Ok(error_page(StatusCode::NOT_FOUND, "工单号或手机号后四位不正确，请重新查询".into())),
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct FixForm {
    #[serde(default, rename = "_csrf")]
    csrf: String,
    #[serde(default)]
    level: String,
    #[serde(default)]
    comment: String,
}

impl Posted for FixForm {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

pub async fn rate_fix(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(token): Path<String>,
    body: Bytes,
) -> PageResult<Response> {
    let f: FixForm = match posted(&headers, &body, "页面已过期，请刷新后重新评价") {
        Ok(f) => f,
        Err(r) => return Ok(r),
    };
    let fix = service::FixRating { level: rules::parse_level(&f.level), comment: &f.comment };
    match service::rate_fix(&state.db, &token, fix).await {
        Ok(()) => Ok(Redirect::to(&format!("/rate/r/{token}?ok=1")).into_response()),
        Err(e @ (AppError::Validation(_) | AppError::Refused(..))) => {
            let status = e.status();
            let errors = vec![crate::web::error::message_of(&e)];
            let typed = Typed { level: f.level.clone(), comment: f.comment.clone() };
            let (page, set) = status_page(&state, &headers, &token, (None, errors, typed)).await?;
            Ok(with_cookie((status, page), set))
        }
        Err(e) => Err(e.into()),
    }
}
