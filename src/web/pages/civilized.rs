//! 文明单位 pages: the year's applications (a unit's own, the office all) with the unit's
//! application form; an application's page with the eight criteria, files, the campaign record,
//! the office's scoring or return, publication of the named list and revocation.

use crate::domain::community::{ApplicationState, CRITERIA, PASS_MARK};
use crate::domain::role::Role;
use crate::domain::time::{now_ms, to_local};
use crate::domain::validate::FieldErrors;
use crate::error::AppError;
use crate::service::civilized::{self as svc, AppFile, ApplicationRow, Campaign, ReviewInput, RevokeInput};
use crate::web::auth::{CsrfForm, CsrfMultipart, PageUser};
use crate::web::error::PageResult;
use crate::web::ui::Layout;
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::Path;
use axum::response::{IntoResponse, Redirect, Response};

fn this_year() -> i64 {
    to_local(now_ms()).format("%Y").to_string().parse().unwrap_or(2026)
}

#[derive(serde::Deserialize, Default)]
pub struct ListQuery {
    year: Option<i64>,
    ok: Option<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "community/civilized.html")]
pub struct ListPage {
    l: Layout,
    year: i64,
    rows: Vec<ApplicationRow>,
    criteria: Vec<(usize, &'static str, i64)>,
    /// The unit may apply (none yet this year, or returned)
    may_apply: bool,
    admin: bool,
    statements: Vec<String>,
    version: Option<i64>,
    /// Why the office returned the unit's application
    returned: Option<String>,
    errors: FieldErrors,
}

impl ListPage {
    fn when(&self, ms: &i64) -> String {
        crate::domain::time::fmt_local(*ms)
    }

    fn typed(&self, i: &usize) -> String {
        self.statements.get(*i).cloned().unwrap_or_default()
    }
}

async fn list_page(
    page: &PageUser,
    q: ListQuery,
    statements: Vec<String>,
    errors: FieldErrors,
) -> PageResult<Response> {
    let year = q.year.unwrap_or_else(this_year);
    let rows = svc::list(&page.ctx(), year).await?;
    let mine = rows.iter().find(|r| page.user.unit_id.as_deref() == Some(r.a.unit_id.as_str()));
    let may_apply = page.user.role == Role::UnitUser
        && year == this_year()
        && mine.is_none_or(|r| r.a.state == ApplicationState::Returned);
    let statements =
        if statements.is_empty() { mine.map(|r| r.a.statement_list()).unwrap_or_default() } else { statements };
    Ok(ListPage {
        l: Layout::new(&page.user, "civilized", "文明单位").with_flash(q.ok.as_deref()),
        version: mine.map(|r| r.a.version),
        returned: mine.filter(|r| r.a.state == ApplicationState::Returned).map(|r| r.a.note.clone()),
        year,
        criteria: CRITERIA.iter().enumerate().map(|(i, c)| (i, c.0, c.1)).collect(),
        may_apply,
        admin: page.user.role == Role::Admin,
        statements,
        errors,
        rows,
    }
    .into_response())
}

pub async fn list(
    page: PageUser,
    crate::web::query::Query(q): crate::web::query::Query<ListQuery>,
) -> PageResult<Response> {
    list_page(&page, q, Vec::new(), FieldErrors::default()).await
}

pub async fn apply(form: CsrfMultipart) -> PageResult<Response> {
    let statements: Vec<String> =
        (0..CRITERIA.len()).map(|i| form.fields.get(&format!("s{i}")).cloned().unwrap_or_default()).collect();
    let files = form
        .files
        .iter()
        .filter(|f| f.field == "files" && !f.bytes.is_empty())
        .map(|f| (f.filename.clone(), f.bytes.clone()))
        .collect();
    let version = form.fields.get("version").and_then(|v| v.trim().parse().ok());
    let page = &form.page;
    match svc::apply(&page.ctx(), &page.state.storage, statements.clone(), files, version).await {
        Ok(a) => Ok(Redirect::to(&format!("/civilized-units/{}?ok=saved", a.id)).into_response()),
        Err(e @ (AppError::Validation(_) | AppError::Refused(..))) => {
            let status = e.status();
            let errors = crate::web::pages::form_errors(e)?;
            Ok((status, list_page(page, ListQuery::default(), statements, errors).await?).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(serde::Deserialize, Default)]
pub struct YearForm {
    #[serde(default)]
    year: i64,
}

pub async fn publish(CsrfForm { page, form }: CsrfForm<YearForm>) -> PageResult<Response> {
    let r = svc::publish(&page.ctx(), form.year).await;
    crate::web::pages::posted(
        r,
        |_| format!("/civilized-units?year={}&ok=published", form.year),
        async |e| list_page(&page, ListQuery { year: Some(form.year), ok: None }, Vec::new(), e).await,
    )
    .await
}

#[derive(Template, WebTemplate)]
#[template(path = "community/application.html")]
pub struct AppPage {
    l: Layout,
    r: ApplicationRow,
    files: Vec<AppFile>,
    criteria: Vec<(usize, &'static str, i64, String, String)>,
    campaign: Campaign,
    pass_mark: f64,
    admin: bool,
    errors: FieldErrors,
    /// The review as typed (shown again after a refusal)
    typed: ReviewInput,
}

impl AppPage {
    fn typed_score(&self, i: &usize) -> String {
        self.typed.scores.get(*i).cloned().unwrap_or_default()
    }

    fn pct(&self, x: &Option<f64>) -> String {
        x.map(|v| format!("{v}%")).unwrap_or_else(|| "—".into())
    }
}

async fn app_page(page: &PageUser, id: &str, errors: FieldErrors) -> PageResult<AppPage> {
    let (r, files) = svc::get(&page.ctx(), id).await?;
    let statements = r.a.statement_list();
    let scores = r.a.score_list();
    let campaign = match r.a.campaign() {
        Some(c) if r.a.state != ApplicationState::Submitted => c,
        _ => svc::campaign(&page.state.db, &r.a.unit_id, r.a.year).await?,
    };
    Ok(AppPage {
        l: Layout::new(&page.user, "civilized", format!("{} · {}年度文明单位申报", r.unit_name, r.a.year)),
        criteria: CRITERIA
            .iter()
            .enumerate()
            .map(|(i, c)| {
                (
                    i,
                    c.0,
                    c.1,
                    statements.get(i).cloned().unwrap_or_default(),
                    scores.get(i).map(|s| s.to_string()).unwrap_or_default(),
                )
            })
            .collect(),
        files,
        campaign,
        pass_mark: PASS_MARK,
        admin: page.user.role == Role::Admin,
        errors,
        typed: ReviewInput::default(),
        r,
    })
}

pub async fn show(page: PageUser, Path(id): Path<String>) -> PageResult<AppPage> {
    app_page(&page, &id, FieldErrors::default()).await
}

pub async fn review(
    Path(id): Path<String>,
    CsrfForm { page, form }: CsrfForm<Vec<(String, String)>>,
) -> PageResult<Response> {
    let get = |k: &str| form.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone()).unwrap_or_default();
    let input = ReviewInput {
        decision: get("decision"),
        scores: (0..CRITERIA.len()).map(|i| get(&format!("score{i}"))).collect(),
        note: get("note"),
        version: get("version").trim().parse().ok(),
    };
    let r = svc::review(&page.ctx(), &id, input.clone()).await;
    crate::web::pages::posted(
        r,
        |a| format!("/civilized-units/{}?ok=saved", a.id),
        async |e| Ok(AppPage { typed: input, ..app_page(&page, &id, e).await? }),
    )
    .await
}

pub async fn revoke(Path(id): Path<String>, CsrfForm { page, form }: CsrfForm<RevokeInput>) -> PageResult<Response> {
    let r = svc::revoke(&page.ctx(), &id, form).await;
    crate::web::pages::posted(
        r,
        |a| format!("/civilized-units/{}?ok=saved", a.id),
        async |e| app_page(&page, &id, e).await,
    )
    .await
}

pub async fn file(page: PageUser, Path(id): Path<String>) -> PageResult<Response> {
    let (name, bytes) = svc::file(&page.ctx(), &page.state.storage, &id).await?;
    let (stem, ext) = name.rsplit_once('.').unwrap_or((name.as_str(), "bin"));
    Ok(super::evaluations::download(stem, ext, crate::media::document_content_type(ext), bytes))
}
