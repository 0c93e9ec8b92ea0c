//! Pages for responsible units and their contact books.

use super::area_options;
use crate::domain::notify::WebhookKind;
use crate::domain::role::Role;
use crate::domain::unit::TaskStatus;
use crate::domain::unit::UnitKind;
use crate::domain::validate::FieldErrors;
use crate::error::AppError;
use crate::service::access::{can_edit_contacts, require_admin};
use crate::service::units::{self as svc, ContactInput, UnitInput};
use crate::store::units::{self, Contact, Unit};
use crate::store::users::{self as user_store, UserFilter, UserRow};
use crate::store::{PageReq, org};
use crate::web::auth::{CsrfForm, PageUser};
use crate::web::error::PageResult;
use crate::web::query::Query;
use crate::web::ui::{Layout, Opt};
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::Path;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

fn kind_options() -> Vec<Opt> {
    UnitKind::ALL.iter().map(|k| Opt::new(k.as_str(), k.label())).collect()
}

#[derive(Template, WebTemplate)]
#[template(path = "units/detail.html")]
pub struct UnitDetail {
    l: Layout,
    unit: Unit,
    points: Vec<crate::store::points::PointRow>,
    tasks: Vec<TaskView>,
    edits_tasks: bool,
    task_errors: FieldErrors,
    webhooks: Vec<crate::store::notifications::Webhook>,
    /// 流动红旗 won, newest first
    red_flags: Vec<crate::store::scoring::Award>,
    area_name: String,
    contacts: Vec<Contact>,
    users: Vec<UserRow>,
    can_edit_unit: bool,
    can_edit_contacts: bool,
    shows_users: bool,
    reads_audit: bool,
}

#[derive(Deserialize, Default)]
pub struct OkQuery {
    ok: Option<String>,
}

pub async fn detail(page: PageUser, Path(id): Path<String>, Query(q): Query<OkQuery>) -> PageResult<UnitDetail> {
    let ctx = page.ctx();
    let unit = svc::visible(&ctx, &id).await?;
    let contacts = units::contacts(ctx.db, &unit.id).await?;
    let area_name = match &unit.area_id {
        Some(a) => org::get(ctx.db, a).await?.map(|n| n.name).unwrap_or_default(),
        None => String::new(),
    };
    let shows_users = page.user.role == Role::Admin
        || (page.user.role == Role::UnitUser && page.user.unit_id.as_deref() == Some(unit.id.as_str()));
    let users = if shows_users {
        user_store::list(ctx.db, &UserFilter { unit_id: Some(unit.id.clone()), ..Default::default() }, PageReq::all())
            .await?
            .0
    } else {
        Vec::new()
    };
    let filter = crate::store::points::PointFilter { unit_id: Some(unit.id.clone()), ..Default::default() };
    let points = crate::store::points::list(ctx.db, &filter, PageReq::all()).await?.0;
    let tasks = task_views(ctx.db, &unit.id).await?;
    Ok(UnitDetail {
        l: Layout::new(&page.user, "units", unit.name.clone()).with_flash(q.ok.as_deref()),
        points,
        tasks,
        edits_tasks: page.user.role == Role::Admin
            || (page.user.role == Role::UnitUser && page.user.unit_id.as_deref() == Some(unit.id.as_str())),
        task_errors: FieldErrors::default(),
        red_flags: crate::store::scoring::red_flags_of(ctx.db, &unit.id).await?,
        webhooks: if page.user.role == Role::Admin {
            crate::store::notifications::webhooks(ctx.db, &unit.id)
                .await?
                .into_iter()
                .filter(|w| w.active == 1)
                .collect()
        } else {
            Vec::new()
        },
        can_edit_unit: page.user.role == Role::Admin,
        reads_audit: page.user.role.reads_audit(),
        can_edit_contacts: can_edit_contacts(&page.user, &unit.id),
        unit,
        area_name,
        contacts,
        users,
        shows_users,
    })
}

/// A task as the unit page shows it, with its status in Chinese and an overdue flag.
pub struct TaskView {
    pub t: crate::store::tasks::TaskRow,
    pub status: &'static str,
    pub overdue: bool,
}

pub async fn task_views(db: &crate::store::Db, unit_id: &str) -> Result<Vec<TaskView>, sqlx::Error> {
    let today = crate::domain::time::to_local(crate::domain::time::now_ms()).format("%Y-%m-%d").to_string();
    Ok(crate::store::tasks::for_unit(db, unit_id)
        .await?
        .into_iter()
        .map(|t| TaskView { status: t.status.label(), overdue: t.status != TaskStatus::Done && t.due_date < today, t })
        .collect())
}

#[derive(Template, WebTemplate)]
#[template(path = "units/form.html")]
pub struct UnitForm {
    l: Layout,
    f: UnitInput,
    errors: FieldErrors,
    editing: Option<Unit>,
    kinds: Vec<Opt>,
    sectors: Vec<Opt>,
    areas: Vec<Opt>,
}

async fn form_page(page: &PageUser, f: UnitInput, errors: FieldErrors, editing: Option<Unit>) -> PageResult<UnitForm> {
    let title = if editing.is_some() { "编辑责任单位" } else { "新增责任单位" };
    Ok(UnitForm {
        l: Layout::new(&page.user, "units", title),
        f,
        errors,
        editing,
        kinds: kind_options(),
        sectors: crate::domain::window::Sector::ALL.iter().map(|s| Opt::new(s.as_str(), s.label())).collect(),
        areas: area_options(&page.state.db, false).await?,
    })
}

pub async fn new_form(page: PageUser) -> PageResult<UnitForm> {
    require_admin(&page.user)?;
    form_page(&page, UnitInput { active: Some(true), ..Default::default() }, FieldErrors::default(), None).await
}

pub async fn create(CsrfForm { page, form }: CsrfForm<UnitInput>) -> PageResult<Response> {
    let saved = svc::create(&page.ctx(), form.clone()).await;
    super::posted(
        saved,
        |u| format!("/units/{}?ok=created", u.id),
        async |errors| form_page(&page, form, errors, None).await,
    )
    .await
}

pub async fn edit_form(page: PageUser, Path(id): Path<String>) -> PageResult<UnitForm> {
    require_admin(&page.user)?;
    let u = units::get(&page.state.db, &id).await?.ok_or(AppError::NotFound)?;
    let f = UnitInput {
        name: u.name.clone(),
        kind: u.kind.as_str().into(),
        sector: u.sector.map(|s| s.as_str().to_string()).unwrap_or_default(),
        area_id: u.area_id.clone(),
        address: u.address.clone(),
        phone: u.phone.clone(),
        note: u.note.clone(),
        active: Some(u.active == 1),
        version: Some(u.version),
    };
    form_page(&page, f, FieldErrors::default(), Some(u)).await
}

pub async fn update(Path(id): Path<String>, CsrfForm { page, mut form }: CsrfForm<UnitInput>) -> PageResult<Response> {
    // An unticked checkbox sends nothing: on this form that means "inactive".
    form.active = Some(form.active.unwrap_or(false));
    let saved = svc::update(&page.ctx(), &id, form.clone()).await;
    super::posted(
        saved,
        |u| format!("/units/{}?ok=saved", u.id),
        async |errors| {
            let u = units::get(&page.state.db, &id).await?;
            form_page(&page, form, errors, u).await
        },
    )
    .await
}

#[derive(Template, WebTemplate)]
#[template(path = "units/contact_form.html")]
pub struct ContactForm {
    l: Layout,
    unit: Unit,
    f: ContactInput,
    errors: FieldErrors,
    editing: Option<Contact>,
    levels: Vec<Opt>,
}

async fn contact_page(
    page: &PageUser,
    unit: Unit,
    f: ContactInput,
    errors: FieldErrors,
    editing: Option<Contact>,
) -> PageResult<ContactForm> {
    let levels = units::contact_levels(&page.state.db).await?.into_iter().map(|l| Opt::new(l.id, l.name)).collect();
    let title = if editing.is_some() { "编辑联系人" } else { "新增联系人" };
    Ok(ContactForm { l: Layout::new(&page.user, "units", title), unit, f, errors, editing, levels })
}

pub async fn new_contact_form(page: PageUser, Path(id): Path<String>) -> PageResult<ContactForm> {
    let unit = svc::visible(&page.ctx(), &id).await?;
    if !can_edit_contacts(&page.user, &unit.id) {
        return Err(AppError::Forbidden.into());
    }
    contact_page(&page, unit, ContactInput::default(), FieldErrors::default(), None).await
}

pub async fn create_contact(
    Path(id): Path<String>,
    CsrfForm { page, form }: CsrfForm<ContactInput>,
) -> PageResult<Response> {
    let saved = svc::add_contact(&page.ctx(), &id, form.clone()).await;
    super::posted(
        saved,
        |c| format!("/units/{}?ok=created", c.unit_id),
        async |errors| {
            let unit = svc::visible(&page.ctx(), &id).await?;
            contact_page(&page, unit, form, errors, None).await
        },
    )
    .await
}

pub async fn edit_contact_form(page: PageUser, Path(id): Path<String>) -> PageResult<ContactForm> {
    let (unit, c) = svc::visible_contact(&page.ctx(), &id).await?;
    if !can_edit_contacts(&page.user, &unit.id) {
        return Err(AppError::Forbidden.into());
    }
    let f = ContactInput {
        level_id: c.level_id.clone(),
        name: c.name.clone(),
        position: c.position.clone(),
        phone: c.phone.clone(),
        note: c.note.clone(),
        version: Some(c.version),
    };
    contact_page(&page, unit, f, FieldErrors::default(), Some(c)).await
}

pub async fn update_contact(
    Path(id): Path<String>,
    CsrfForm { page, form }: CsrfForm<ContactInput>,
) -> PageResult<Response> {
    let saved = svc::update_contact(&page.ctx(), &id, form.clone()).await;
    super::posted(
        saved,
        |c| format!("/units/{}?ok=saved", c.unit_id),
        async |errors| {
            let (unit, c) = svc::visible_contact(&page.ctx(), &id).await?;
            contact_page(&page, unit, form, errors, Some(c)).await
        },
    )
    .await
}

pub async fn delete_contact(
    Path(id): Path<String>,
    CsrfForm { page, .. }: CsrfForm<Vec<(String, String)>>,
) -> PageResult<Response> {
    let unit = svc::delete_contact(&page.ctx(), &id).await?;
    Ok(Redirect::to(&format!("/units/{}?ok=deleted", unit.id)).into_response())
}
