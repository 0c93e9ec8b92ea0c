//! 文明单位 pages: the year's applications (a unit's own, the office all) with the unit's
//! application form; an application's page with the eight criteria, files, the campaign record,
//! the office's scoring or return, publication of the named list and revocation.

use crate::domain::community::{ApplicationState, CRITERIA, PASS_MARK};
use crate::domain::role::Role;
use crate::domain::time::{now_ms, to_local};
use crate::domain::validate::FieldErrors;
use crate::error::AppError;
use crate::service::civilized::{
    self as svc, AppFile, ApplicationQuery, ApplicationRow, Campaign, ReviewInput, RevokeInput,
};
use crate::web::auth::{CsrfForm, CsrfMultipart, PageUser};
use crate::web::error::PageResult;
use crate::web::list::{self, Cell, Input, Listed, Listing, Paging};
use crate::web::lists::CivilizedUnits;
use crate::web::query::Query;
use crate::web::ui::Layout;
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, RawQuery};
use axum::response::{IntoResponse, Redirect, Response};

fn this_year() -> i64 {
    to_local(now_ms()).format("%Y").to_string().parse().unwrap_or(2026)
}

#[derive(Template, WebTemplate)]
#[template(path = "community/civilized.html")]
pub struct ListPage {
    l: Layout,
    /// The year listed (the publish form's and the public list's)
    year: i64,
    /// The applications (declared in `web::lists::community`): filters, paging, 导出Excel
    list: Listing,
    criteria: Vec<(usize, &'static str, i64)>,
    /// The unit may apply (none yet this year, or returned)
    may_apply: bool,
    admin: bool,
    /// The year's applications passed and waiting to be named (the office's publish button)
    to_name: usize,
    statements: Vec<String>,
    version: Option<i64>,
    /// Why the office returned the unit's application
    returned: Option<String>,
    errors: FieldErrors,
}

impl ListPage {
    fn typed(&self, i: &usize) -> String {
        self.statements.get(*i).cloned().unwrap_or_default()
    }
}

/// The page as a user sees it: the list, the office's publish form, a unit's application form
/// (with what it typed after a refusal).
async fn list_page(
    page: &PageUser,
    (raw, q, paging): (Option<&str>, &ApplicationQuery, &Paging),
    ok: Option<&str>,
    statements: Vec<String>,
    errors: FieldErrors,
) -> PageResult<Response> {
    let list = match list::page::<CivilizedUnits>(page, raw, q, paging).await? {
        Listed::Export(r) => return Ok(r),
        Listed::View(v) => v,
    };
    let year = svc::year_of(q).unwrap_or_else(|_| this_year());
    // A unit's own application of the year decides its form.
    let mine = match page.user.role.needs_unit() {
        true => svc::list(&page.ctx(), year).await?.into_iter().next(),
        false => None,
    };
    let to_name = match page.user.role == Role::Admin {
        true => {
            let passed = ApplicationQuery { year: year.to_string(), state: "passed".into(), ..Default::default() };
            svc::lines(&page.ctx(), &passed, crate::store::PageReq::new(Some(1), Some(1))).await?.1 as usize
        }
        false => 0,
    };
    let may_apply = page.user.role == Role::UnitUser
        && year == this_year()
        && mine.as_ref().is_none_or(|r| r.a.state == ApplicationState::Returned);
    let statements = if statements.is_empty() {
        mine.as_ref().map(|r| r.a.statement_list()).unwrap_or_default()
    } else {
        statements
    };
    let status = if errors.is_empty() { list.status() } else { axum::http::StatusCode::UNPROCESSABLE_ENTITY };
    Ok((
        status,
        ListPage {
            l: Layout::new(&page.user, "civilized", "文明单位").with_flash(ok),
            version: mine.as_ref().map(|r| r.a.version),
            returned: mine.as_ref().filter(|r| r.a.state == ApplicationState::Returned).map(|r| r.a.note.clone()),
            year,
            list,
            criteria: CRITERIA.iter().enumerate().map(|(i, c)| (i, c.0, c.1)).collect(),
            may_apply,
            admin: page.user.role == Role::Admin,
            to_name,
            statements,
            errors,
        },
    )
        .into_response())
}

pub async fn list(
    page: PageUser,
    RawQuery(raw): RawQuery,
    Query(q): Query<ApplicationQuery>,
    Query(paging): Query<Paging>,
    Query(flash): Query<list::Flash>,
) -> PageResult<Response> {
    list_page(&page, (raw.as_deref(), &q, &paging), flash.ok.as_deref(), Vec::new(), FieldErrors::default()).await
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
            // Applying twice in a year is a conflict (409), a form mistake 422.
            let status = e.status();
            let errors = crate::web::pages::form_errors(e)?;
            let q = ApplicationQuery::default();
            let mut answer = list_page(page, (None, &q, &Paging::default()), None, statements, errors).await?;
            *answer.status_mut() = status;
            Ok(answer)
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
    match svc::publish(&page.ctx(), form.year).await {
        Ok(_) => Ok(Redirect::to(&format!("/civilized-units?year={}&ok=published", form.year)).into_response()),
        Err(e @ (AppError::Validation(_) | AppError::Refused(..))) => {
            let errors = crate::web::pages::form_errors(e)?;
            let q = ApplicationQuery { year: form.year.to_string(), ..Default::default() };
            list_page(&page, (None, &q, &Paging::default()), None, Vec::new(), errors).await
        }
        Err(e) => Err(e.into()),
    }
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
        svc::percent_text(*x)
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
