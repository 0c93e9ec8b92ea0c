//! Account management pages: the office manages all; a unit user sees its own unit's accounts.

use super::area_options;
use crate::domain::role::Role;
use crate::domain::validate::FieldErrors;
use crate::error::AppError;
use crate::service::access::require_admin;
use crate::service::users::{self as svc, PasswordInput, UserInput};
use crate::store::units;
use crate::store::users::{self as store, User};
use crate::web::auth::{CsrfForm, PageUser};
use crate::web::error::PageResult;
use crate::web::ui::{Layout, Opt};
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::Path;
use axum::response::Response;

fn role_options() -> Vec<Opt> {
    Role::ALL.iter().map(|r| Opt::new(r.as_str(), r.label())).collect()
}

async fn unit_options(db: &crate::store::Db) -> Result<Vec<Opt>, sqlx::Error> {
    Ok(units::all_names(db).await?.into_iter().map(|(id, name)| Opt::new(id, name)).collect())
}

#[derive(Template, WebTemplate)]
#[template(path = "users/form.html")]
pub struct UserForm {
    l: Layout,
    f: UserInput,
    errors: FieldErrors,
    editing: Option<User>,
    roles: Vec<Opt>,
    units: Vec<Opt>,
    areas: Vec<Opt>,
}

async fn form_page(page: &PageUser, f: UserInput, errors: FieldErrors, editing: Option<User>) -> PageResult<UserForm> {
    let db = &page.state.db;
    let title = if editing.is_some() { "编辑用户" } else { "新增用户" };
    Ok(UserForm {
        l: Layout::new(&page.user, "users", title),
        f,
        errors,
        editing,
        roles: role_options(),
        units: unit_options(db).await?,
        areas: area_options(db, true).await?,
    })
}

pub async fn new_form(page: PageUser) -> PageResult<UserForm> {
    require_admin(&page.user)?;
    form_page(&page, UserInput::default(), FieldErrors::default(), None).await
}

pub async fn create(CsrfForm { page, mut form }: CsrfForm<UserInput>) -> PageResult<Response> {
    let saved = svc::create(&page.ctx(), form.clone()).await;
    super::posted(
        saved,
        |_| "/users?ok=created".into(),
        async |errors| {
            form.password.clear();
            form_page(&page, form, errors, None).await
        },
    )
    .await
}

pub async fn edit_form(page: PageUser, Path(id): Path<String>) -> PageResult<UserForm> {
    require_admin(&page.user)?;
    let u = store::get(&page.state.db, &id).await?.ok_or(AppError::NotFound)?;
    let f = UserInput {
        username: u.username.clone(),
        display_name: u.display_name.clone(),
        role: u.role.as_str().into(),
        unit_id: u.unit_id.clone(),
        area_id: u.area_id.clone(),
        phone: u.phone.clone(),
        password: String::new(),
        active: Some(u.active == 1),
        version: Some(u.version),
    };
    form_page(&page, f, FieldErrors::default(), Some(u)).await
}

pub async fn update(Path(id): Path<String>, CsrfForm { page, mut form }: CsrfForm<UserInput>) -> PageResult<Response> {
    form.active = Some(form.active.unwrap_or(false));
    let saved = svc::update(&page.ctx(), &id, form.clone()).await;
    super::posted(
        saved,
        |_| "/users?ok=saved".into(),
        async |errors| {
            let u = store::get(&page.state.db, &id).await?;
            form_page(&page, form, errors, u).await
        },
    )
    .await
}

#[derive(Template, WebTemplate)]
#[template(path = "users/password.html")]
pub struct ResetForm {
    l: Layout,
    target: User,
    errors: FieldErrors,
}

pub async fn password_form(page: PageUser, Path(id): Path<String>) -> PageResult<ResetForm> {
    require_admin(&page.user)?;
    let target = store::get(&page.state.db, &id).await?.ok_or(AppError::NotFound)?;
    Ok(ResetForm { l: Layout::new(&page.user, "users", "重置密码"), target, errors: FieldErrors::default() })
}

pub async fn reset_two_step(
    Path(id): Path<String>,
    CsrfForm { page, .. }: CsrfForm<Vec<(String, String)>>,
) -> PageResult<Response> {
    crate::service::two_step::reset(&page.ctx(), &id).await?;
    Ok(axum::response::IntoResponse::into_response(axum::response::Redirect::to("/users?ok=two_step_reset")))
}

pub async fn reset_password(
    Path(id): Path<String>,
    CsrfForm { page, form }: CsrfForm<PasswordInput>,
) -> PageResult<Response> {
    let saved = svc::reset_password(&page.ctx(), &id, form).await;
    super::posted(
        saved,
        |_| "/users?ok=password".into(),
        async |errors| {
            let target = store::get(&page.state.db, &id).await?.ok_or(AppError::NotFound)?;
            let l = Layout::new(&page.user, "users", "重置密码");
            Ok(ResetForm { l, target, errors })
        },
    )
    .await
}
