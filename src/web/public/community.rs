//! The public side of community work: a volunteer signs up for an activity and signs in and
//! out on site by the day's QR code; residents read the suggestions and their answers (no names)
//! and send one online; the named list of civilized units.

use super::pages::{PublicLayout, form_token, layout, posted, with_cookie};
use crate::domain::validate::FieldErrors;
use crate::error::AppError;
use crate::service::deliberation::{self as delib, SuggestionInput, SuggestionRow};
use crate::service::volunteers as svc;
use crate::web::AppState;
use crate::web::error::PageResult;
use crate::web::query::Query;
use crate::web::ui::Opt;
use askama::Template;
use askama_web::WebTemplate;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

#[derive(Template, WebTemplate)]
#[template(path = "public/serve.html")]
pub struct ServePage {
    p: PublicLayout,
    title: String,
    when: String,
    /// The day's sign code (sign-in page) or None (sign-up page)
    code: Option<String>,
    days: Vec<String>,
    csrf: String,
    action: String,
    name: String,
    phone: String,
    day: String,
    message: Option<(bool, String)>,
}

#[derive(Debug, Default, Deserialize)]
pub struct CodeQuery {
    #[serde(default)]
    c: String,
}

async fn serve_page(
    state: &AppState,
    headers: &HeaderMap,
    id: &str,
    code: Option<String>,
    typed: (String, String, String),
    message: Option<(bool, String)>,
) -> PageResult<Response> {
    let a = svc::activity(&state.db, id).await?;
    let (csrf, set) = form_token(headers, state.config.secure_cookies);
    let today = crate::domain::time::to_local(crate::domain::time::now_ms()).date_naive();
    let title = if code.is_some() { "志愿服务签到签退" } else { "志愿服务报名" };
    // A page that cannot be used says so when it opens, not after the volunteer has typed.
    let message = message.or_else(|| {
        let c = code.as_deref()?;
        svc::sign_problem(&a, c).map(|p| (false, p.message().to_string()))
    });
    let page = ServePage {
        p: layout(&state.db, "serve", title).await,
        action: match &code {
            Some(c) => format!("/public/serve/{}?c={c}", a.id),
            None => format!("/public/volunteer/{}", a.id),
        },
        title: a.title.clone(),
        when: a.when(),
        days: a.upcoming(today).iter().map(|d| d.format("%Y-%m-%d").to_string()).collect(),
        code,
        csrf,
        name: typed.0,
        phone: typed.1,
        day: typed.2,
        message,
    };
    Ok(with_cookie(page, set))
}

pub async fn sign_form(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(q): Query<CodeQuery>,
) -> PageResult<Response> {
    serve_page(&state, &headers, &id, Some(q.c), Default::default(), None).await
}

pub async fn signup_form(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> PageResult<Response> {
    serve_page(&state, &headers, &id, None, Default::default(), None).await
}

fn get(form: &[(String, String)], k: &str) -> String {
    form.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone()).unwrap_or_default()
}

async fn answered(
    state: &AppState,
    headers: &HeaderMap,
    id: &str,
    code: Option<String>,
    typed: (String, String, String),
    result: Result<String, AppError>,
) -> PageResult<Response> {
    match result {
        Ok(m) => serve_page(state, headers, id, code, Default::default(), Some((true, m))).await,
        Err(e @ (AppError::Validation(_) | AppError::Refused(..))) => {
            let status = e.status();
            let msg = match &e {
                AppError::Validation(f) => f.0.iter().map(|x| x.message.clone()).collect::<Vec<_>>().join("；"),
                e => e.to_string(),
            };
            Ok((status, serve_page(state, headers, id, code, typed, Some((false, msg))).await?).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

pub async fn sign(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(q): Query<CodeQuery>,
    body: Bytes,
) -> PageResult<Response> {
    let form: Vec<(String, String)> = match posted(&headers, &body, "页面已过期，请刷新后再试") {
        Ok(f) => f,
        Err(r) => return Ok(r),
    };
    let (name, phone) = (get(&form, "name"), get(&form, "phone"));
    let repeat_scan_ms = i64::from(state.config.volunteer_repeat_scan_seconds) * 1000;
    let result = svc::sign(&state.db, &id, &q.c, &name, &phone, repeat_scan_ms).await.map(|r| match r.state {
        crate::domain::community::ServiceState::SignedOut => {
            format!("{}，签退成功！本次服务{}分钟，等待组织者确认后计入服务时长。", name.trim(), r.minutes)
        }
        _ => format!("{}，签到成功！活动结束时请再扫码签退。", name.trim()),
    });
    // A double tap is told, in the page's calm colour, that the first scan counted: shown as an
    // error, it sends the volunteer scanning again.
    let result = match result {
        Err(AppError::Refused(crate::error::Code::AlreadySignedIn, m)) => Ok(m),
        other => other,
    };
    answered(&state, &headers, &id, Some(q.c), (name, phone, String::new()), result).await
}

pub async fn signup(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> PageResult<Response> {
    let form: Vec<(String, String)> = match posted(&headers, &body, "页面已过期，请刷新后再试") {
        Ok(f) => f,
        Err(r) => return Ok(r),
    };
    let (name, phone, day) = (get(&form, "name"), get(&form, "phone"), get(&form, "day"));
    let result = svc::sign_up(&state.db, &id, &day, &name, &phone)
        .await
        .map(|r| format!("报名成功：{}，请按时到场扫码签到。", r.day));
    answered(&state, &headers, &id, None, (name, phone, day), result).await
}

#[derive(Template, WebTemplate)]
#[template(path = "public/deliberation.html")]
pub struct DeliberationPage {
    p: PublicLayout,
    rows: Vec<SuggestionRow>,
    communities: Vec<Opt>,
    community: String,
    csrf: String,
    f: SuggestionInput,
    errors: FieldErrors,
    done: bool,
}

impl DeliberationPage {
    fn day(&self, ms: &i64) -> String {
        crate::domain::time::fmt_local(*ms).chars().take(10).collect()
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct DelibQuery {
    #[serde(default)]
    community: String,
    #[serde(default)]
    ok: Option<String>,
}

async fn deliberation_page(
    state: &AppState,
    headers: &HeaderMap,
    q: DelibQuery,
    f: SuggestionInput,
    errors: FieldErrors,
) -> PageResult<Response> {
    let (csrf, set) = form_token(headers, state.config.secure_cookies);
    let community = q.community.clone();
    let page = DeliberationPage {
        p: layout(&state.db, "deliberation", "居民议事").await,
        rows: delib::public(&state.db, Some(community.as_str()).filter(|c| !c.is_empty())).await?,
        communities: crate::web::pages::surveys::communities(&state.db).await?,
        community,
        csrf,
        f,
        errors,
        done: q.ok.as_deref() == Some("sent"),
    };
    Ok(with_cookie(page, set))
}

pub async fn deliberation(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<DelibQuery>,
) -> PageResult<Response> {
    deliberation_page(&state, &headers, q, SuggestionInput::default(), FieldErrors::default()).await
}

pub async fn suggest(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> PageResult<Response> {
    let form: Vec<(String, String)> = match posted(&headers, &body, "页面已过期，请刷新后再试") {
        Ok(f) => f,
        Err(r) => return Ok(r),
    };
    let input = SuggestionInput {
        community_id: get(&form, "community_id"),
        content: get(&form, "content"),
        raised_by: get(&form, "raised_by"),
        phone: get(&form, "phone"),
        website: get(&form, "website"),
    };
    match delib::add_online(&state.db, input.clone()).await {
        Ok(_) => Ok(axum::response::Redirect::to("/public/deliberation?ok=sent").into_response()),
        Err(e @ (AppError::Validation(_) | AppError::Refused(..))) => {
            let status = e.status();
            let errors = crate::web::pages::form_errors(e)?;
            Ok((status, deliberation_page(&state, &headers, DelibQuery::default(), input, errors).await?)
                .into_response())
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "public/civilized.html")]
pub struct CivilizedPage {
    p: PublicLayout,
    year: i64,
    names: Vec<String>,
}

#[derive(Debug, Default, Deserialize)]
pub struct YearQuery {
    #[serde(default)]
    year: Option<i64>,
}

pub async fn civilized(State(state): State<AppState>, Query(q): Query<YearQuery>) -> PageResult<CivilizedPage> {
    let year = q.year.unwrap_or_else(|| {
        crate::domain::time::to_local(crate::domain::time::now_ms()).format("%Y").to_string().parse().unwrap_or(2026)
    });
    Ok(CivilizedPage {
        p: layout(&state.db, "civilized", &format!("{year}年度文明单位名单")).await,
        names: crate::service::civilized::named(&state.db, year).await?,
        year,
    })
}
