//! The point-type list (settings).

use crate::domain::validate::FieldErrors;
use crate::service::access::require_admin;
use crate::service::point_types::{self as svc, TypeInput};
use crate::store::points::{self as store, PointType};
use crate::web::auth::{CsrfForm, PageUser};
use crate::web::error::PageResult;
use crate::web::query::Query;
use crate::web::ui::Layout;
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::Path;
use axum::response::Response;
use serde::Deserialize;

#[derive(Template, WebTemplate)]
#[template(path = "settings/point_types.html")]
pub struct TypesPage {
    l: Layout,
    types: Vec<PointType>,
    errors: FieldErrors,
    error_row: String,
}

#[derive(Deserialize, Default)]
pub struct OkQuery {
    ok: Option<String>,
}

async fn render(page: &PageUser, errors: FieldErrors, error_row: String, ok: Option<&str>) -> PageResult<TypesPage> {
    let types = store::types(&page.state.db).await?;
    Ok(TypesPage { l: Layout::new(&page.user, "point_types", "点位类型").with_flash(ok), types, errors, error_row })
}

pub async fn list(page: PageUser, Query(q): Query<OkQuery>) -> PageResult<TypesPage> {
    require_admin(&page.user)?;
    render(&page, FieldErrors::default(), String::new(), q.ok.as_deref()).await
}

pub async fn create(CsrfForm { page, form }: CsrfForm<TypeInput>) -> PageResult<Response> {
    let saved = svc::create(&page.ctx(), form).await;
    super::posted(
        saved,
        |_| "/settings/point-types?ok=created".into(),
        async |errors| render(&page, errors, String::new(), None).await,
    )
    .await
}

pub async fn update(Path(id): Path<String>, CsrfForm { page, form }: CsrfForm<TypeInput>) -> PageResult<Response> {
    let saved = svc::update(&page.ctx(), &id, form).await;
    super::posted(
        saved,
        |_| "/settings/point-types?ok=saved".into(),
        async |errors| render(&page, errors, id, None).await,
    )
    .await
}
