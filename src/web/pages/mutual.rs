//! 互评互查 pages: the rounds (and a new one, the office), a round (assignment, progress, the
//! ranking, its Word and Excel report), and a point's checklist on the inspector's phone.

use crate::domain::mutual::CheckResult;
use crate::domain::time::fmt_local;
use crate::domain::validate::FieldErrors;
use crate::domain::window::Sector;
use crate::error::AppError;
use crate::service::mutual::{self as svc, RoundInput, RoundView, Scored};
use crate::store::mutual::{Round, TaskRow};
use crate::store::standards::Item;
use crate::web::auth::{CsrfForm, CsrfMultipart, PageUser};
use crate::web::error::PageResult;
use crate::web::list::Sheet;
use crate::web::ui::{Layout, Opt};
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::Path;
use axum::http::header;
use axum::response::{IntoResponse, Redirect, Response};
use std::collections::HashMap;

#[derive(Template, WebTemplate)]
#[template(path = "mutual/list.html")]
pub struct ListPage {
    l: Layout,
    rounds: Vec<Round>,
    f: RoundInput,
    errors: FieldErrors,
    sectors: Vec<Opt>,
    admin: bool,
}

async fn list_page(page: &PageUser, f: RoundInput, errors: FieldErrors) -> PageResult<ListPage> {
    let rounds = svc::list(&page.ctx()).await?;
    Ok(ListPage {
        l: Layout::new(&page.user, "mutual", "互评互查"),
        rounds,
        f,
        errors,
        sectors: Sector::ALL.iter().map(|s| Opt::new(s.as_str(), s.label())).collect(),
        admin: page.user.role == crate::domain::role::Role::Admin,
    })
}

pub async fn list(page: PageUser) -> PageResult<ListPage> {
    list_page(&page, RoundInput { sector: "bank".into(), ..Default::default() }, FieldErrors::default()).await
}

pub async fn create(CsrfForm { page, form }: CsrfForm<RoundInput>) -> PageResult<Response> {
    let saved = svc::create(&page.ctx(), form.clone()).await;
    crate::web::pages::posted(
        saved,
        |v| format!("/mutual/{}?ok=created", v.round.id),
        async |e| list_page(&page, form, e).await,
    )
    .await
}

#[derive(Template, WebTemplate)]
#[template(path = "mutual/round.html")]
pub struct RoundPage {
    l: Layout,
    v: RoundView,
    /// The caller's unit's tasks to inspect
    mine: Vec<TaskRow>,
    admin: bool,
    published: String,
}

pub async fn round(
    page: PageUser,
    Path(id): Path<String>,
    crate::web::query::Query(flash): crate::web::query::Query<crate::web::list::Flash>,
) -> PageResult<RoundPage> {
    let v = svc::view(&page.ctx(), &id).await?;
    let mine = match &page.user.unit_id {
        Some(u) => v.tasks.iter().filter(|t| &t.inspector_unit_id == u).cloned().collect(),
        None => Vec::new(),
    };
    Ok(RoundPage {
        l: Layout::new(&page.user, "mutual", v.round.name.clone()).with_flash(flash.ok.as_deref()),
        published: v.round.published_at.map(fmt_local).unwrap_or_default(),
        admin: page.user.role == crate::domain::role::Role::Admin,
        mine,
        v,
    })
}

pub async fn publish(Path(id): Path<String>, CsrfForm { page, .. }: CsrfForm<Empty>) -> PageResult<Response> {
    svc::publish(&page.ctx(), &id).await?;
    Ok(Redirect::to(&format!("/mutual/{id}?ok=published")).into_response())
}

#[derive(serde::Deserialize, Default)]
pub struct Empty {}

fn download(name: &str, ext: &str, content_type: &str, bytes: Vec<u8>) -> Response {
    let disposition = format!(
        "attachment; filename=\"report.{ext}\"; filename*=UTF-8''{}",
        crate::web::auth::urlencode(&format!("{name}.{ext}"))
    );
    ([(header::CONTENT_TYPE, content_type.to_string()), (header::CONTENT_DISPOSITION, disposition)], bytes)
        .into_response()
}

pub async fn report_docx(page: PageUser, Path(id): Path<String>) -> PageResult<Response> {
    let v = svc::view(&page.ctx(), &id).await?;
    let bytes = svc::docx(&v)?;
    let ct = "application/vnd.openxmlformats-officedocument.wordprocessingml.document";
    Ok(download(&format!("{}报告", v.round.name), "docx", ct, bytes))
}

pub async fn report_xlsx(page: PageUser, Path(id): Path<String>) -> PageResult<Response> {
    let v = svc::view(&page.ctx(), &id).await?;
    let rows: Vec<Vec<String>> = svc::report_rows(&v);
    let points = Sheet::text("点位排名", svc::REPORT_HEAD.to_vec(), rows);
    let units: Vec<Vec<String>> = v
        .units
        .iter()
        .enumerate()
        .map(|(i, (u, n, s))| vec![(i + 1).to_string(), u.clone(), n.to_string(), format!("{s:.1}%")])
        .collect();
    let units = Sheet::text("单位平均", vec!["名次", "单位", "检查点位", "平均得分率"], units);
    let assignment: Vec<Vec<String>> = v
        .tasks
        .iter()
        .map(|t| {
            let state = if t.state == "done" { "已检查" } else { "未检查" };
            vec![
                t.point_code.clone(),
                t.point_name.clone(),
                t.owner_name.clone(),
                t.inspector_name.clone(),
                state.into(),
            ]
        })
        .collect();
    let assignment = Sheet::text("分配表", vec!["点位编码", "点位", "被查单位", "检查单位", "状态"], assignment);
    Ok(crate::web::list::xlsx(&format!("{}报告", v.round.name), vec![points, units, assignment]))
}

#[derive(Template, WebTemplate)]
#[template(path = "mutual/task.html")]
pub struct TaskPage {
    l: Layout,
    round: Round,
    t: TaskRow,
    items: Vec<Item>,
    results: [CheckResult; 3],
    errors: FieldErrors,
    checks: Vec<(String, CheckResult, String, Option<String>)>,
    may_inspect: bool,
}

async fn task_page(page: &PageUser, id: &str, errors: FieldErrors) -> PageResult<TaskPage> {
    let ctx = page.ctx();
    let (round, t, items) = svc::task(&ctx, id).await?;
    let checks = crate::store::mutual::checks(ctx.db, &t.id).await?;
    let may_inspect = t.state == "todo"
        && round.state == crate::domain::mutual::RoundState::Open
        && page.user.unit_id.as_deref() == Some(t.inspector_unit_id.as_str());
    Ok(TaskPage {
        l: Layout::new(&page.user, "mutual", format!("互评互查 · {}", t.point_name)),
        round,
        t,
        items,
        results: CheckResult::ALL,
        errors,
        checks,
        may_inspect,
    })
}

pub async fn task(page: PageUser, Path(id): Path<String>) -> PageResult<TaskPage> {
    task_page(&page, &id, FieldErrors::default()).await
}

pub async fn inspect(Path(id): Path<String>, form: CsrfMultipart) -> PageResult<Response> {
    let mut scored: HashMap<String, Scored> = HashMap::new();
    for (k, v) in &form.fields {
        if let Some(item) = k.strip_prefix("result_") {
            scored.entry(item.to_string()).or_default().result = v.clone();
        } else if let Some(item) = k.strip_prefix("note_") {
            scored.entry(item.to_string()).or_default().note = v.clone();
        }
    }
    for f in form.files.iter().filter(|f| !f.bytes.is_empty()) {
        if let Some(item) = f.field.strip_prefix("photo_") {
            scored.entry(item.to_string()).or_default().photos.push(f.bytes.clone());
        }
    }
    let version = form.fields.get("version").and_then(|v| v.trim().parse().ok());
    let page = &form.page;
    match svc::inspect(&page.ctx(), &page.state.storage, &id, version, scored).await {
        Ok(t) => Ok(Redirect::to(&format!("/mutual/{}?ok=saved", t.round_id)).into_response()),
        Err(e @ (AppError::Validation(_) | AppError::Refused(..))) => {
            let status = e.status();
            let errors = crate::web::pages::form_errors(e)?;
            Ok((status, task_page(page, &id, errors).await?).into_response())
        }
        Err(e) => Err(e.into()),
    }
}
