//! Pages for the administrative tree.

use super::{area_options, form_errors, opt};
use crate::domain::org::OrgLevel;
use crate::domain::role::Role;
use crate::domain::time::fmt_local;
use crate::domain::validate::FieldErrors;
use crate::service::access::area_scope;
use crate::service::org::{self as svc, NodeInput};
use crate::store::PageReq;
use crate::store::org::{self, OrgFilter, OrgNode, OrgNodeRow};
use crate::web::auth::{CsrfForm, PageUser};
use crate::web::error::PageResult;
use crate::web::query::Query;
use crate::web::ui::{Layout, Opt, Pager, xlsx};
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, RawQuery};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

#[derive(Deserialize, Default)]
pub struct OrgQuery {
    level: Option<String>,
    parent_id: Option<String>,
    q: Option<String>,
    page: Option<i64>,
    size: Option<i64>,
    export: Option<String>,
    ok: Option<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "org/list.html")]
pub struct OrgList {
    l: Layout,
    rows: Vec<OrgNodeRow>,
    pager: Pager,
    level: String,
    keyword: String,
    parent: Option<OrgNode>,
    levels: Vec<Opt>,
    is_admin: bool,
}

fn level_options() -> Vec<Opt> {
    OrgLevel::ALL.iter().map(|l| Opt::new(l.as_str(), l.label())).collect()
}

pub async fn list(page: PageUser, RawQuery(raw): RawQuery, Query(q): Query<OrgQuery>) -> PageResult<Response> {
    let ctx = page.ctx();
    let filter = OrgFilter {
        level: opt(&q.level),
        parent_id: opt(&q.parent_id),
        keyword: opt(&q.q),
        within: area_scope(&ctx).await?,
    };
    if q.export.as_deref() == Some("xlsx") {
        let (rows, _) = org::list(ctx.db, &filter, PageReq::all()).await?;
        let data = rows
            .iter()
            .map(|r| {
                vec![
                    r.code.clone(),
                    r.name.clone(),
                    r.level.label().into(),
                    r.parent_name.clone().unwrap_or_default(),
                    r.child_count.to_string(),
                    fmt_local(r.updated_at),
                ]
            })
            .collect();
        return Ok(xlsx("区域列表", "区域", &["编码", "名称", "层级", "上级", "下级数", "更新时间"], data));
    }
    let req = PageReq::new(q.page, q.size);
    let (rows, total) = org::list(ctx.db, &filter, req).await?;
    let parent = match &filter.parent_id {
        Some(p) => org::get(ctx.db, p).await?,
        None => None,
    };
    Ok(OrgList {
        l: Layout::new(&page.user, "org", "区域管理").with_flash(q.ok.as_deref()),
        rows,
        pager: Pager::new(raw.as_deref(), req, total),
        level: filter.level.unwrap_or_default(),
        keyword: filter.keyword.unwrap_or_default(),
        parent,
        levels: level_options(),
        is_admin: page.user.role == Role::Admin,
    }
    .into_response())
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
