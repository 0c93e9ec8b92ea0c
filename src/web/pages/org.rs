//! Pages for the administrative tree.

use super::{area_options, opt};
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

/// The list the node is shown in (its parent's children, or the districts).
fn back_to_list(parent_id: Option<&str>, ok: &str) -> String {
    match parent_id {
        Some(p) => format!("/org?parent_id={p}&ok={ok}"),
        None => format!("/org?ok={ok}"),
    }
}

pub async fn create(CsrfForm { page, form }: CsrfForm<NodeInput>) -> PageResult<Response> {
    let saved = svc::create(&page.ctx(), form.clone()).await;
    super::posted(
        saved,
        |n| back_to_list(n.parent_id.as_deref(), "created"),
        async |errors| form_page(&page, form, errors, None).await,
    )
    .await
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
    let saved = svc::update(&page.ctx(), &id, form.clone()).await;
    super::posted(
        saved,
        |n| back_to_list(n.parent_id.as_deref(), "saved"),
        async |errors| {
            let node = org::get(&page.state.db, &id).await?;
            form_page(&page, form, errors, node).await
        },
    )
    .await
}

pub async fn delete(
    Path(id): Path<String>,
    CsrfForm { page, .. }: CsrfForm<Vec<(String, String)>>,
) -> PageResult<Response> {
    let node = org::get(&page.state.db, &id).await?;
    svc::delete(&page.ctx(), &id).await?;
    Ok(Redirect::to(&back_to_list(node.and_then(|n| n.parent_id).as_deref(), "deleted")).into_response())
}
