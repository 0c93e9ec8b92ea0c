//! The configurable levels of a unit's contact book (default five).

use super::form_errors;
use crate::domain::validate::FieldErrors;
use crate::service::access::require_admin;
use crate::service::units::{self as svc, LevelInput};
use crate::store::units::{self, ContactLevel};
use crate::web::auth::{CsrfForm, PageUser};
use crate::web::error::PageResult;
use crate::web::query::Query;
use crate::web::ui::Layout;
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

#[derive(Template, WebTemplate)]
#[template(path = "settings/levels.html")]
pub struct Levels {
    l: Layout,
    levels: Vec<ContactLevel>,
    errors: FieldErrors,
    /// Which row the errors belong to ("" = the add form).
    error_row: String,
}

#[derive(Deserialize, Default)]
pub struct OkQuery {
    ok: Option<String>,
}

async fn page_with(page: &PageUser, errors: FieldErrors, error_row: String, ok: Option<&str>) -> PageResult<Levels> {
    let levels = units::contact_levels(&page.state.db).await?;
    Ok(Levels { l: Layout::new(&page.user, "levels", "联系人层级").with_flash(ok), levels, errors, error_row })
}

pub async fn list(page: PageUser, Query(q): Query<OkQuery>) -> PageResult<Levels> {
    require_admin(&page.user)?;
    page_with(&page, FieldErrors::default(), String::new(), q.ok.as_deref()).await
}

pub async fn create(CsrfForm { page, form }: CsrfForm<LevelInput>) -> PageResult<Response> {
    let saved = svc::add_level(&page.ctx(), form).await;
    super::posted(
        saved,
        |_| "/settings/contact-levels?ok=created".into(),
        async |errors| page_with(&page, errors, String::new(), None).await,
    )
    .await
}

pub async fn update(Path(id): Path<String>, CsrfForm { page, form }: CsrfForm<LevelInput>) -> PageResult<Response> {
    let saved = svc::update_level(&page.ctx(), &id, form).await;
    super::posted(
        saved,
        |_| "/settings/contact-levels?ok=saved".into(),
        async |errors| page_with(&page, errors, id, None).await,
    )
    .await
}

pub async fn delete(
    Path(id): Path<String>,
    CsrfForm { page, .. }: CsrfForm<Vec<(String, String)>>,
) -> PageResult<Response> {
    match svc::delete_level(&page.ctx(), &id).await {
        Ok(()) => Ok(Redirect::to("/settings/contact-levels?ok=deleted").into_response()),
        Err(e) => Ok((StatusCode::CONFLICT, page_with(&page, form_errors(e)?, id, None).await?).into_response()),
    }
}
