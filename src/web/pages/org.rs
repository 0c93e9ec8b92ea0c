//! Pages for the administrative tree.

use super::{area_options, form_errors, opt};
use crate::domain::org::OrgLevel;
use crate::domain::validate::FieldErrors;
use crate::service::org::{self as svc, NodeInput};
use crate::store::org::{self, OrgNode};
use crate::web::auth::{CsrfForm, PageUser};
use crate::web::error::PageResult;
use crate::web::query::Query;
use crate::web::ui::{Layout, Opt};
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

fn level_options() -> Vec<Opt> {
    OrgLevel::ALL.iter().map(|l| Opt::new(l.as_str(), l.label())).collect()
}

#[derive(Template, WebTemplate)]
#[template(path = "org/form.html")]
pub struct OrgForm {
    l: Layout,
    f: NodeInput,
    errors: FieldErrors,
    editing: Option<OrgNode>,
    levels: Vec<Opt>,
    parents: Vec<Opt>,
}

async fn form_page(
    page: &PageUser,
    f: NodeInput,
    errors: FieldErrors,
    editing: Option<OrgNode>,
) -> PageResult<OrgForm> {
    let title = if editing.is_some() { "编辑区域" } else { "新增区域" };
    Ok(OrgForm {
        l: Layout::new(&page.user, "org", title),
        f,
        errors,
        editing,
        levels: level_options(),
        parents: area_options(&page.state.db, false).await?,
    })
}

#[derive(Deserialize, Default)]
pub struct NewQuery {
    parent_id: Option<String>,
}

pub async fn new_form(page: PageUser, Query(q): Query<NewQuery>) -> PageResult<OrgForm> {
    crate::service::access::require_admin(&page.user)?;
    let mut f = NodeInput { parent_id: opt(&q.parent_id), ..Default::default() };
    if let Some(p) = &f.parent_id
        && let Some(node) = org::get(&page.state.db, p).await?
    {
        f.level = node.level.child().map(|l| l.as_str().to_string()).unwrap_or_default();
        f.code = node.code.clone();
    }
    form_page(&page, f, FieldErrors::default(), None).await
}

fn back_to_list(parent_id: Option<&str>, ok: &str) -> Response {
    match parent_id {
        Some(p) => Redirect::to(&format!("/org?parent_id={p}&ok={ok}")).into_response(),
        None => Redirect::to(&format!("/org?ok={ok}")).into_response(),
    }
}

pub async fn create(CsrfForm { page, form }: CsrfForm<NodeInput>) -> PageResult<Response> {
    match svc::create(&page.ctx(), form.clone()).await {
        Ok(n) => Ok(back_to_list(n.parent_id.as_deref(), "created")),
        Err(e) => {
            let errors = form_errors(e)?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, form_page(&page, form, errors, None).await?).into_response())
        }
    }
}

pub async fn edit_form(page: PageUser, Path(id): Path<String>) -> PageResult<OrgForm> {
    crate::service::access::require_admin(&page.user)?;
    let node = org::get(&page.state.db, &id).await?.ok_or(crate::error::AppError::NotFound)?;
    let f = NodeInput {
        level: node.level.as_str().into(),
        parent_id: node.parent_id.clone(),
        code: node.code.clone(),
        name: node.name.clone(),
        version: Some(node.version),
    };
    form_page(&page, f, FieldErrors::default(), Some(node)).await
}

pub async fn update(Path(id): Path<String>, CsrfForm { page, form }: CsrfForm<NodeInput>) -> PageResult<Response> {
    match svc::update(&page.ctx(), &id, form.clone()).await {
        Ok(n) => Ok(back_to_list(n.parent_id.as_deref(), "saved")),
        Err(e) => {
            let errors = form_errors(e)?;
            let node = org::get(&page.state.db, &id).await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, form_page(&page, form, errors, node).await?).into_response())
        }
    }
}

pub async fn delete(
    Path(id): Path<String>,
    CsrfForm { page, .. }: CsrfForm<Vec<(String, String)>>,
) -> PageResult<Response> {
    let node = org::get(&page.state.db, &id).await?;
    svc::delete(&page.ctx(), &id).await?;
    Ok(back_to_list(node.and_then(|n| n.parent_id).as_deref(), "deleted"))
}
