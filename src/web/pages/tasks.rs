//! Tasks of the responsibility ledger, on the unit page and their own edit page.

use super::form_errors;
use crate::domain::validate::FieldErrors;
use crate::error::AppError;
use crate::error::Code;
use crate::service::tasks::{self as svc, STATUSES, TaskInput};
use crate::store::tasks::{self as store, Task};
use crate::web::auth::{CsrfForm, PageUser};
use crate::web::error::PageResult;
use crate::web::ui::{Layout, Opt};
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::Path;
use axum::response::{IntoResponse, Redirect, Response};

pub async fn create(Path(unit_id): Path<String>, CsrfForm { page, form }: CsrfForm<TaskInput>) -> PageResult<Response> {
    match svc::create(&page.ctx(), &unit_id, form).await {
        Ok(_) => Ok(Redirect::to(&format!("/units/{unit_id}?ok=created")).into_response()),
        Err(e) => {
            let errors = form_errors(e)?;
            let messages: Vec<String> = errors.0.iter().map(|e| e.message.clone()).collect();
            let msg = format!("任务未下达：{}", messages.join("；"));
            Err(AppError::refuse(Code::InvalidTask, msg).into())
        }
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "units/task_form.html")]
pub struct TaskForm {
    l: Layout,
    task: Task,
    f: TaskInput,
    errors: FieldErrors,
    statuses: Vec<Opt>,
    is_admin: bool,
}

fn page_for(page: &PageUser, task: Task, f: TaskInput, errors: FieldErrors) -> TaskForm {
    TaskForm {
        l: Layout::new(&page.user, "units", "更新任务"),
        task,
        f,
        errors,
        statuses: STATUSES.iter().map(|(k, v)| Opt::new(*k, *v)).collect(),
        is_admin: page.user.role == crate::domain::role::Role::Admin,
    }
}

pub async fn edit_form(page: PageUser, Path(id): Path<String>) -> PageResult<TaskForm> {
    let task = store::get(&page.state.db, &id).await?.ok_or(AppError::NotFound)?;
    crate::service::units::visible(&page.ctx(), &task.unit_id).await?;
    let f = TaskInput {
        title: task.title.clone(),
        point_id: task.point_id.clone(),
        owner_name: task.owner_name.clone(),
        due_date: task.due_date.clone(),
        status: task.status.as_str().into(),
        note: task.note.clone(),
        version: Some(task.version),
    };
    Ok(page_for(&page, task, f, FieldErrors::default()))
}

pub async fn update(Path(id): Path<String>, CsrfForm { page, form }: CsrfForm<TaskInput>) -> PageResult<Response> {
    let saved = svc::update(&page.ctx(), &id, form.clone()).await;
    super::posted(
        saved,
        |t| format!("/units/{}?ok=saved", t.unit_id),
        async |errors| {
            let task = store::get(&page.state.db, &id).await?.ok_or(AppError::NotFound)?;
            Ok(page_for(&page, task, form, errors))
        },
    )
    .await
}

pub async fn delete(
    Path(id): Path<String>,
    CsrfForm { page, .. }: CsrfForm<Vec<(String, String)>>,
) -> PageResult<Response> {
    let unit = svc::delete(&page.ctx(), &id).await?;
    Ok(Redirect::to(&format!("/units/{unit}?ok=deleted")).into_response())
}
