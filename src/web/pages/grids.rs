//! Grids: the list (declared in `web::lists::registry`), the GeoJSON import (all or nothing)
//! and its report.

use crate::domain::role::Role;
use crate::error::{AppError, RowError};
use crate::service::access::require_admin;
use crate::service::grids as svc;
use crate::web::auth::{CsrfMultipart, PageUser};
use crate::web::error::PageResult;
use crate::web::list::{self, Listed, Listing, Paging};
use crate::web::list::{Cell, Input};
use crate::web::lists::registry::{GridQuery, Grids};
use crate::web::query::Query;
use crate::web::ui::Layout;
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::RawQuery;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

#[derive(Template, WebTemplate)]
#[template(path = "points/grids.html")]
pub struct GridPage {
    l: Layout,
    list: Listing,
    is_admin: bool,
    errors: Vec<RowError>,
    summary: Option<String>,
}

/// What the import reports back after its redirect.
#[derive(Deserialize, Default)]
pub struct Imported {
    created: Option<usize>,
    updated: Option<usize>,
    moved: Option<usize>,
}

async fn render(
    page: &PageUser,
    raw: Option<&str>,
    q: &GridQuery,
    paging: &Paging,
    errors: Vec<RowError>,
    summary: Option<String>,
) -> PageResult<Response> {
    let list = match list::page::<Grids>(page, raw, q, paging).await? {
        Listed::Export(r) => return Ok(r),
        Listed::View(v) => v,
    };
    let status = if errors.is_empty() { list.status() } else { StatusCode::UNPROCESSABLE_ENTITY };
    let is_admin = page.user.role == Role::Admin;
    let l = Layout::new(&page.user, "grids", "网格");
    Ok((status, GridPage { l, list, is_admin, errors, summary }).into_response())
}

pub async fn list(
    page: PageUser,
    RawQuery(raw): RawQuery,
    Query(q): Query<GridQuery>,
    Query(paging): Query<Paging>,
    Query(done): Query<Imported>,
) -> PageResult<Response> {
    let summary = done.created.map(|c| {
        let (u, m) = (done.updated.unwrap_or(0), done.moved.unwrap_or(0));
        format!("导入完成：新增网格 {c} 个，更新 {u} 个，{m} 个点位重新归入网格")
    });
    render(&page, raw.as_deref(), &q, &paging, Vec::new(), summary).await
}

pub async fn import(form: CsrfMultipart) -> PageResult<Response> {
    let page = &form.page;
    require_admin(&page.user)?;
    let (q, paging) = (GridQuery::default(), Paging::default());
    let Some(file) = form.file("file") else {
        let e = RowError::new("", 0, "file", "请选择GeoJSON文件");
        return render(page, None, &q, &paging, vec![e], None).await;
    };
    match svc::import(&page.ctx(), &file.bytes).await {
        Ok(r) => {
            Ok(Redirect::to(&format!("/grids?created={}&updated={}&moved={}", r.created, r.updated, r.points_moved))
                .into_response())
        }
        Err(AppError::Rejected(_, _, rows)) => render(page, None, &q, &paging, rows, None).await,
        Err(e) => Err(e.into()),
    }
}
