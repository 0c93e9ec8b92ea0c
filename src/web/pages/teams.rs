//! Pages for supervision teams.

use super::area_options;
use crate::domain::role::Role;
use crate::domain::validate::FieldErrors;
use crate::error::AppError;
use crate::service::access::require_admin;
use crate::service::teams::{self as svc, TeamInput, require_read};
use crate::store::teams::{self, Member, Team};
use crate::store::{org, users};
use crate::web::auth::{CsrfForm, PageUser};
use crate::web::error::PageResult;
use crate::web::query::Query;
use crate::web::ui::{Layout, Opt};
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::Path;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

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
    let saved = svc::create(&page.ctx(), form.clone()).await;
    super::posted(
        saved,
        |t| format!("/teams/{}?ok=created", t.id),
        async |errors| form_page(&page, form, errors, None).await,
    )
    .await
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
    let saved = svc::update(&page.ctx(), &id, form.clone()).await;
    super::posted(
        saved,
        |t| format!("/teams/{}?ok=saved", t.id),
        async |errors| {
            let t = teams::get(&page.state.db, &id).await?;
            form_page(&page, form, errors, t).await
        },
    )
    .await
}

pub async fn delete(
    Path(id): Path<String>,
    CsrfForm { page, .. }: CsrfForm<Vec<(String, String)>>,
) -> PageResult<Response> {
    svc::delete(&page.ctx(), &id).await?;
    Ok(Redirect::to("/teams?ok=deleted").into_response())
}
