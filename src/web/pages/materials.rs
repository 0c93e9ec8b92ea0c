//! 网上申报 pages: the drives (a new one, the office), a drive's progress by unit and by
//! indicator with overdue marks, Excel export and the package zip; an indicator's page where the
//! unit uploads its account and files and the office accepts or returns it.

use crate::domain::evaluation::MaterialState;
use crate::domain::role::Role;
use crate::domain::time::{fmt_local, now_ms, to_local};
use crate::domain::validate::FieldErrors;
use crate::error::AppError;
use crate::service::materials::{
    self as svc, Drive, DriveInput, MaterialFile, ReviewInput, Revision, TaskRow, UnitProgress,
};
use crate::web::auth::{CsrfForm, CsrfMultipart, PageUser};
use crate::web::error::PageResult;
use crate::web::list::Sheet;
use crate::web::ui::Layout;
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::Path;
use axum::response::{IntoResponse, Redirect, Response};

fn today() -> String {
    to_local(now_ms()).format("%Y-%m-%d").to_string()
}

#[derive(serde::Deserialize, Default)]
pub struct ListQuery {
    drive: Option<String>,
    state: Option<String>,
    export: Option<String>,
    ok: Option<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "materials/list.html")]
pub struct ListPage {
    l: Layout,
    drives: Vec<Drive>,
    drive: Option<Drive>,
    tasks: Vec<TaskRow>,
    progress: Vec<UnitProgress>,
    state: String,
    states: [MaterialState; 4],
    today: String,
    admin: bool,
    f: DriveInput,
    errors: FieldErrors,
    /// (all, accepted) of the drive
    totals: (usize, usize),
}

async fn list_page(page: &PageUser, q: ListQuery, f: DriveInput, errors: FieldErrors) -> PageResult<Response> {
    let ctx = page.ctx();
    let drives = svc::drives(&ctx).await?;
    let drive = match q.drive.as_deref().filter(|d| !d.is_empty()) {
        Some(id) => Some(drives.iter().find(|d| d.id == id).cloned().ok_or(AppError::NotFound)?),
        None => drives.first().cloned(),
    };
    let all = match &drive {
        Some(d) => svc::tasks(&ctx, &d.id).await?,
        None => Vec::new(),
    };
    let today = today();
    let state = q.state.clone().unwrap_or_default();
    let tasks: Vec<TaskRow> = all
        .iter()
        .filter(|t| match state.as_str() {
            "" => true,
            "overdue" => t.overdue(&today),
            s => t.state.as_str() == s,
        })
        .cloned()
        .collect();
    if q.export.as_deref() == Some("xlsx") {
        let rows = tasks
            .iter()
            .map(|t| {
                vec![
                    t.code.clone(),
                    t.standard.clone(),
                    t.unit_name.clone(),
                    t.due_on.clone(),
                    t.state.label().to_string(),
                    if t.overdue(&today) { "逾期".into() } else { String::new() },
                    t.revision.to_string(),
                    t.reason.clone(),
                ]
            })
            .collect();
        let head = vec!["编码", "测评标准", "牵头单位", "截止日期", "状态", "逾期", "版本", "退回原因"];
        let name = drive.as_ref().map(|d| d.name.clone()).unwrap_or_default();
        return Ok(crate::web::list::xlsx(&format!("{name}申报进度"), vec![Sheet::text("申报进度", head, rows)]));
    }
    let progress = svc::progress(&all, &today);
    let totals = (all.len(), all.iter().filter(|t| t.state == MaterialState::Accepted).count());
    Ok(ListPage {
        l: Layout::new(&page.user, "materials", "网上申报").with_flash(q.ok.as_deref()),
        drives,
        drive,
        tasks,
        progress,
        state,
        states: MaterialState::ALL,
        today,
        admin: page.user.role == Role::Admin,
        f,
        errors,
        totals,
    }
    .into_response())
}

pub async fn list(
    page: PageUser,
    crate::web::query::Query(q): crate::web::query::Query<ListQuery>,
) -> PageResult<Response> {
    list_page(&page, q, DriveInput::default(), FieldErrors::default()).await
}

pub async fn create(CsrfForm { page, form }: CsrfForm<DriveInput>) -> PageResult<Response> {
    match svc::create_drive(&page.ctx(), form.clone()).await {
        Ok(d) => Ok(Redirect::to(&format!("/materials?drive={}&ok=created", d.id)).into_response()),
        Err(e) => {
            let errors = crate::web::pages::form_errors(e)?;
            let res = list_page(&page, ListQuery::default(), form, errors).await?;
            Ok((axum::http::StatusCode::UNPROCESSABLE_ENTITY, res).into_response())
        }
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "materials/task.html")]
pub struct TaskPage {
    l: Layout,
    t: TaskRow,
    revisions: Vec<Revision>,
    files: Vec<MaterialFile>,
    may_submit: bool,
    may_review: bool,
    overdue: bool,
    errors: FieldErrors,
    account: String,
    /// The review as typed (shown again after a refusal)
    review: ReviewInput,
}

impl TaskPage {
    fn when(&self, ms: &i64) -> String {
        fmt_local(*ms)
    }

    fn files_of(&self, revision: &i64) -> Vec<&MaterialFile> {
        self.files.iter().filter(|f| f.revision == *revision).collect()
    }

    fn size(&self, f: &MaterialFile) -> String {
        if f.size >= 1024 * 1024 {
            format!("{:.1}MB", f.size as f64 / 1048576.0)
        } else {
            format!("{}KB", (f.size + 1023) / 1024)
        }
    }
}

async fn task_page(page: &PageUser, id: &str, errors: FieldErrors, account: String) -> PageResult<TaskPage> {
    let (t, revisions, files) = svc::task(&page.ctx(), id).await?;
    let own = page.user.role.needs_unit() && page.user.unit_id.as_deref() == Some(t.unit_id.as_str());
    let account = if account.is_empty() { t.account.clone() } else { account };
    Ok(TaskPage {
        l: Layout::new(&page.user, "materials", format!("网上申报 · {}", t.code)),
        may_submit: own && matches!(t.state, MaterialState::Assigned | MaterialState::Returned),
        may_review: page.user.role == Role::Admin && t.state == MaterialState::Submitted,
        overdue: t.overdue(&today()),
        t,
        revisions,
        files,
        errors,
        account,
        review: ReviewInput::default(),
    })
}

pub async fn task(page: PageUser, Path(id): Path<String>) -> PageResult<TaskPage> {
    task_page(&page, &id, FieldErrors::default(), String::new()).await
}

pub async fn submit(Path(id): Path<String>, form: CsrfMultipart) -> PageResult<Response> {
    let account = form.fields.get("account").cloned().unwrap_or_default();
    let files: Vec<(String, Vec<u8>)> = form
        .files
        .iter()
        .filter(|f| f.field == "files" && !f.bytes.is_empty())
        .map(|f| (f.filename.clone(), f.bytes.clone()))
        .collect();
    let version = form.fields.get("version").and_then(|v| v.trim().parse().ok());
    let page = &form.page;
    match svc::submit(&page.ctx(), &page.state.storage, &id, version, &account, files).await {
        Ok(_) => Ok(Redirect::to(&format!("/materials/tasks/{id}?ok=saved")).into_response()),
        Err(e @ (AppError::Validation(_) | AppError::Refused(..))) => {
            let status = e.status();
            let errors = crate::web::pages::form_errors(e)?;
            Ok((status, task_page(page, &id, errors, account).await?).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

pub async fn review(Path(id): Path<String>, CsrfForm { page, form }: CsrfForm<ReviewInput>) -> PageResult<Response> {
    match svc::review(&page.ctx(), &id, form.clone()).await {
        Ok(_) => Ok(Redirect::to(&format!("/materials/tasks/{id}?ok=saved")).into_response()),
        Err(e @ (AppError::Validation(_) | AppError::Refused(..))) => {
            let status = e.status();
            let errors = crate::web::pages::form_errors(e)?;
            let shown = TaskPage { review: form, ..task_page(&page, &id, errors, String::new()).await? };
            Ok((status, shown).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

pub async fn file(page: PageUser, Path(id): Path<String>) -> PageResult<Response> {
    let (name, bytes) = svc::file(&page.ctx(), &page.state.storage, &id).await?;
    let (stem, ext) = name.rsplit_once('.').unwrap_or((name.as_str(), "bin"));
    Ok(super::evaluations::download(stem, ext, crate::media::document_content_type(ext), bytes))
}

pub async fn package(page: PageUser, Path(id): Path<String>) -> PageResult<Response> {
    let (name, bytes) = svc::package(&page.ctx(), &page.state.storage, &id).await?;
    Ok(super::evaluations::download(&format!("{name}申报材料包"), "zip", "application/zip", bytes))
}
