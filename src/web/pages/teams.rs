//! Pages for supervision teams.

use super::{area_options, form_errors, opt};
use crate::domain::role::Role;
use crate::domain::validate::FieldErrors;
use crate::error::AppError;
use crate::service::access::require_admin;
use crate::service::teams::{self as svc, TeamInput, require_read};
use crate::store::teams::{self, Member, Team, TeamRow};
use crate::store::{PageReq, org, users};
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
pub struct TeamQuery {
    q: Option<String>,
    page: Option<i64>,
    size: Option<i64>,
    export: Option<String>,
    ok: Option<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "teams/list.html")]
pub struct TeamList {
    l: Layout,
    rows: Vec<TeamRow>,
    pager: Pager,
    keyword: String,
    is_admin: bool,
}

pub async fn list(page: PageUser, RawQuery(raw): RawQuery, Query(q): Query<TeamQuery>) -> PageResult<Response> {
    let ctx = page.ctx();
    require_read(&ctx)?;
    let keyword = opt(&q.q);
    if q.export.as_deref() == Some("xlsx") {
        let (rows, _) = teams::list(ctx.db, keyword.as_deref(), PageReq::all()).await?;
        let data = rows
            .iter()
            .map(|r| {
                vec![
                    r.name.clone(),
                    r.theme.clone(),
                    r.area_name.clone().unwrap_or_default(),
                    r.leader_name.clone().unwrap_or_default(),
                    r.member_count.to_string(),
                ]
            })
            .collect();
        return Ok(xlsx("督导组", "督导组", &["名称", "督导主题", "负责区域", "组长", "成员数"], data));
    }
    let req = PageReq::new(q.page, q.size);
    let (rows, total) = teams::list(ctx.db, keyword.as_deref(), req).await?;
    Ok(TeamList {
        l: Layout::new(&page.user, "teams", "督导组").with_flash(q.ok.as_deref()),
        rows,
        pager: Pager::new(raw.as_deref(), req, total),
        keyword: keyword.unwrap_or_default(),
        is_admin: page.user.role == Role::Admin,
    }
    .into_response())
}

#[derive(Template, WebTemplate)]
#[template(path = "teams/detail.html")]
pub struct TeamDetail {
    l: Layout,
    team: Team,
    area_name: String,
    members: Vec<Member>,
    is_admin: bool,
}

#[derive(Deserialize, Default)]
pub struct OkQuery {
    ok: Option<String>,
}

pub async fn detail(page: PageUser, Path(id): Path<String>, Query(q): Query<OkQuery>) -> PageResult<TeamDetail> {
    let ctx = page.ctx();
    require_read(&ctx)?;
    let team = teams::get(ctx.db, &id).await?.ok_or(AppError::NotFound)?;
    let members = teams::members(ctx.db, &id).await?;
    let area_name = match &team.area_id {
        Some(a) => org::get(ctx.db, a).await?.map(|n| n.name).unwrap_or_default(),
        None => String::new(),
    };
    Ok(TeamDetail {
        l: Layout::new(&page.user, "teams", team.name.clone()).with_flash(q.ok.as_deref()),
        team,
        area_name,
        members,
        is_admin: page.user.role == Role::Admin,
    })
}

#[derive(Template, WebTemplate)]
#[template(path = "teams/form.html")]
pub struct TeamForm {
    l: Layout,
    f: TeamInput,
    errors: FieldErrors,
    editing: Option<Team>,
    areas: Vec<Opt>,
    supervisors: Vec<Opt>,
}

impl TeamForm {
    fn is_member(&self, id: &str) -> bool {
        self.f.member_ids.iter().any(|m| m == id)
    }
}

async fn form_page(page: &PageUser, f: TeamInput, errors: FieldErrors, editing: Option<Team>) -> PageResult<TeamForm> {
    let db = &page.state.db;
    let supervisors =
        users::by_role(db, Role::Supervisor).await?.into_iter().map(|(id, name, _)| Opt::new(id, name)).collect();
    let title = if editing.is_some() { "编辑督导组" } else { "新增督导组" };
    Ok(TeamForm {
        l: Layout::new(&page.user, "teams", title),
        f,
        errors,
        editing,
        areas: area_options(db, false).await?,
        supervisors,
    })
}

pub async fn new_form(page: PageUser) -> PageResult<TeamForm> {
    require_admin(&page.user)?;
    form_page(&page, TeamInput::default(), FieldErrors::default(), None).await
}

pub async fn create(CsrfForm { page, form }: CsrfForm<TeamInput>) -> PageResult<Response> {
    match svc::create(&page.ctx(), form.clone()).await {
        Ok(t) => Ok(Redirect::to(&format!("/teams/{}?ok=created", t.id)).into_response()),
        Err(e) => {
            let errors = form_errors(e)?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, form_page(&page, form, errors, None).await?).into_response())
        }
    }
}

pub async fn edit_form(page: PageUser, Path(id): Path<String>) -> PageResult<TeamForm> {
    require_admin(&page.user)?;
    let db = &page.state.db;
    let t = teams::get(db, &id).await?.ok_or(AppError::NotFound)?;
    let member_ids = teams::members(db, &id).await?.into_iter().map(|m| m.user_id).collect();
    let f = TeamInput {
        name: t.name.clone(),
        theme: t.theme.clone(),
        area_id: t.area_id.clone(),
        leader_id: t.leader_id.clone(),
        member_ids,
        version: Some(t.version),
    };
    form_page(&page, f, FieldErrors::default(), Some(t)).await
}

pub async fn update(Path(id): Path<String>, CsrfForm { page, form }: CsrfForm<TeamInput>) -> PageResult<Response> {
    match svc::update(&page.ctx(), &id, form.clone()).await {
        Ok(t) => Ok(Redirect::to(&format!("/teams/{}?ok=saved", t.id)).into_response()),
        Err(e) => {
            let errors = form_errors(e)?;
            let t = teams::get(&page.state.db, &id).await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, form_page(&page, form, errors, t).await?).into_response())
        }
    }
}

pub async fn delete(
    Path(id): Path<String>,
    CsrfForm { page, .. }: CsrfForm<Vec<(String, String)>>,
) -> PageResult<Response> {
    svc::delete(&page.ctx(), &id).await?;
    Ok(Redirect::to("/teams?ok=deleted").into_response())
}
