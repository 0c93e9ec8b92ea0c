//! Grids: the list, the GeoJSON import (all or nothing) and its report.

use crate::error::AppError;
use crate::error::RowError;
use crate::service::access::{area_scope, require_admin};
use crate::service::grids as svc;
use crate::store::points::{self as store, GridRow};
use crate::web::auth::{CsrfMultipart, PageUser};
use crate::web::error::PageResult;
use crate::web::query::Query;
use crate::web::ui::{Layout, xlsx};
use askama::Template;
use askama_web::WebTemplate;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

#[derive(Template, WebTemplate)]
#[template(path = "points/grids.html")]
pub struct GridList {
    l: Layout,
    rows: Vec<GridRow>,
    is_admin: bool,
    errors: Vec<RowError>,
    summary: Option<String>,
}

#[derive(Deserialize, Default)]
pub struct GridQuery {
    export: Option<String>,
    created: Option<usize>,
    updated: Option<usize>,
    moved: Option<usize>,
}

async fn render(page: &PageUser, errors: Vec<RowError>, summary: Option<String>) -> PageResult<GridList> {
    let scope = area_scope(&page.ctx()).await?;
    Ok(GridList {
        l: Layout::new(&page.user, "grids", "网格"),
        rows: store::grid_rows(&page.state.db, scope.as_deref()).await?,
        is_admin: page.user.role == crate::domain::role::Role::Admin,
        errors,
        summary,
    })
}

pub async fn list(page: PageUser, Query(q): Query<GridQuery>) -> PageResult<Response> {
    if q.export.as_deref() == Some("xlsx") {
        let scope = area_scope(&page.ctx()).await?;
        let rows = store::grid_rows(&page.state.db, scope.as_deref()).await?;
        let data = rows
            .into_iter()
            .map(|r| {
                vec![
                    r.code,
                    r.name,
                    r.unit_name.unwrap_or_default(),
                    r.worker_username.unwrap_or_default(),
                    r.community_name.unwrap_or_default(),
                    r.worker_name.unwrap_or_default(),
                    r.worker_phone.unwrap_or_default(),
                    r.point_count.to_string(),
                ]
            })
            .collect();
        let headers = ["网格编码", "网格名称", "责任单位", "网格员账号", "所属社区", "网格员", "网格员电话", "点位数"];
        return Ok(xlsx("网格", "网格", &headers, data));
    }
    let summary = q.created.map(|c| {
        format!(
            "导入完成：新增网格 {} 个，更新 {} 个，{} 个点位重新归入网格",
            c,
            q.updated.unwrap_or(0),
            q.moved.unwrap_or(0)
        )
    });
    Ok(render(&page, Vec::new(), summary).await?.into_response())
}

pub async fn import(form: CsrfMultipart) -> PageResult<Response> {
    let page = &form.page;
    require_admin(&page.user)?;
    let Some(file) = form.file("file") else {
        let e = RowError::new("", 0, "file", "请选择GeoJSON文件");
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, render(page, vec![e], None).await?).into_response());
    };
    match svc::import(&page.ctx(), &file.bytes).await {
        Ok(r) => {
            Ok(Redirect::to(&format!("/grids?created={}&updated={}&moved={}", r.created, r.updated, r.points_moved))
                .into_response())
        }
        Err(AppError::Rejected(_, _, rows)) => {
            Ok((StatusCode::UNPROCESSABLE_ENTITY, render(page, rows, None).await?).into_response())
        }
        Err(e) => Err(e.into()),
    }
}
