//! Pages for the point registry (点位).

use super::area_options;
use crate::domain::geo::wgs84_to_gcj02;
use crate::domain::photo::PhotoOwner;
use crate::domain::validate::FieldErrors;
use crate::error::AppError;
use crate::service::access::require_admin;
use crate::service::points::{self as svc, PointInput, can_edit};
use crate::store::points::{self as store, Point, PointRow};
use crate::store::units;
use crate::web::auth::{CsrfForm, PageUser};
use crate::web::error::PageResult;
use crate::web::query::Query;
use crate::web::ui::{Layout, Opt};
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

#[derive(Template, WebTemplate)]
#[template(path = "points/detail.html")]
pub struct PointDetail {
    l: Layout,
    p: PointRow,
    standard: Option<crate::store::standards::Version>,
    checklist: Vec<crate::store::standards::Item>,
    gcj: Option<(f64, f64)>,
    can_edit: bool,
    reads_audit: bool,
    photos: Vec<crate::store::photos::Photo>,
    can_add_photos: bool,
    /// Inspectors record "检查无问题" here
    can_clean: bool,
    /// Recent clean inspections with their Beijing times
    inspections: Vec<(crate::store::scoring::Inspection, String)>,
    error: Option<String>,
}

#[derive(Deserialize, Default)]
pub struct OkQuery {
    ok: Option<String>,
}

pub async fn detail(page: PageUser, Path(id): Path<String>, Query(q): Query<OkQuery>) -> PageResult<PointDetail> {
    detail_page(&page, &id, q.ok.as_deref(), None).await
}

async fn detail_page(page: &PageUser, id: &str, ok: Option<&str>, error: Option<String>) -> PageResult<PointDetail> {
    let id = id.to_string();
    let ctx = page.ctx();
    let point = svc::visible(&ctx, &id).await?;
    let p = store::row(ctx.db, &id).await?.ok_or(AppError::NotFound)?;
    let gcj = p.lng.zip(p.lat).map(wgs84_to_gcj02);
    let type_code =
        store::types(ctx.db).await?.into_iter().find(|t| t.id == point.type_id).map(|t| t.code).unwrap_or_default();
    let (standard, checklist) = crate::service::standards::checklist(ctx.db, &type_code).await?;
    let photos = crate::store::photos::of(ctx.db, PhotoOwner::Point, &point.id).await?;
    let can_add_photos = page.user.role == crate::domain::role::Role::Admin
        || (page.user.role == crate::domain::role::Role::UnitUser
            && page.user.unit_id.as_deref() == Some(point.unit_id.as_str()));
    let inspections = crate::store::scoring::inspections_of(ctx.db, &point.id, 10)
        .await?
        .into_iter()
        .map(|i| {
            let at = crate::domain::time::fmt_local(i.at)[..16].to_string();
            (i, at)
        })
        .collect();
    Ok(PointDetail {
        photos,
        can_add_photos,
        can_clean: point.active == 1 && crate::service::scoring::may_record_clean(page.user.role),
        inspections,
        error,
        standard,
        checklist,
        l: Layout::new(&page.user, "points", p.name.clone()).with_flash(ok),
        can_edit: can_edit(page.user.role),
        reads_audit: page.user.role.reads_audit(),
        gcj,
        p,
    })
}

#[derive(Deserialize, Default)]
pub struct CleanForm {
    #[serde(default)]
    note: String,
    /// "new": back to finding the next point (the field flow); otherwise the point's page
    #[serde(default)]
    back: String,
}

/// 检查无问题: the inspected point was found clean (counts once a day).
pub async fn clean(Path(id): Path<String>, CsrfForm { page, form }: CsrfForm<CleanForm>) -> PageResult<Response> {
    match crate::service::scoring::record_clean(&page.ctx(), &id, &form.note).await {
        Ok(_) if form.back == "new" => Ok(Redirect::to("/problems/new?ok=clean").into_response()),
        Ok(_) => Ok(Redirect::to(&format!("/points/{id}?ok=clean")).into_response()),
        Err(e @ (AppError::Refused(..) | AppError::Validation(..))) => {
            let message = crate::web::error::message_of(&e);
            Ok((e.status(), detail_page(&page, &id, None, Some(message)).await?).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "points/form.html")]
pub struct PointForm {
    l: Layout,
    f: PointInput,
    errors: FieldErrors,
    editing: Option<Point>,
    types: Vec<Opt>,
    units: Vec<Opt>,
    areas: Vec<Opt>,
}

impl PointForm {
    fn value(&self, field: &str) -> &str {
        match field {
            "lead_name" => &self.f.lead_name,
            "lead_phone" => &self.f.lead_phone,
            "backup_name" => &self.f.backup_name,
            "backup_phone" => &self.f.backup_phone,
            "guarantor_name" => &self.f.guarantor_name,
            "guarantor_phone" => &self.f.guarantor_phone,
            _ => "",
        }
    }
}

async fn form_page(
    page: &PageUser,
    f: PointInput,
    errors: FieldErrors,
    editing: Option<Point>,
) -> PageResult<PointForm> {
    let db = &page.state.db;
    let title = if editing.is_some() { "编辑点位" } else { "新增点位" };
    Ok(PointForm {
        l: Layout::new(&page.user, "points", title),
        f,
        errors,
        editing,
        types: store::types(db).await?.into_iter().map(|t| Opt::new(t.id, t.name)).collect(),
        units: units::all_names(db).await?.into_iter().map(|(id, n)| Opt::new(id, n)).collect(),
        areas: area_options(db, true).await?.into_iter().filter(|o| o.label.starts_with("　　")).collect(),
    })
}

pub async fn new_form(page: PageUser) -> PageResult<PointForm> {
    require_admin(&page.user)?;
    let f = PointInput { fixed: Some(true), coord_system: "wgs84".into(), ..Default::default() };
    form_page(&page, f, FieldErrors::default(), None).await
}

pub async fn create(CsrfForm { page, form }: CsrfForm<PointInput>) -> PageResult<Response> {
    let saved = svc::create(&page.ctx(), form.clone()).await;
    super::posted(
        saved,
        |p| format!("/points/{}?ok=created", p.id),
        async |errors| form_page(&page, form, errors, None).await,
    )
    .await
}

pub async fn edit_form(page: PageUser, Path(id): Path<String>) -> PageResult<PointForm> {
    require_admin(&page.user)?;
    let p = store::get(&page.state.db, &id).await?.ok_or(AppError::NotFound)?;
    let f = PointInput {
        code: p.code.clone(),
        name: p.name.clone(),
        type_id: p.type_id.clone(),
        fixed: Some(p.fixed == 1),
        address: p.address.clone(),
        lng: p.lng.map(|x| format!("{x:.6}")).unwrap_or_default(),
        lat: p.lat.map(|x| format!("{x:.6}")).unwrap_or_default(),
        coord_system: "wgs84".into(),
        community_id: p.community_id.clone(),
        unit_id: p.unit_id.clone(),
        lead_name: p.lead_name.clone(),
        lead_phone: p.lead_phone.clone(),
        backup_name: p.backup_name.clone(),
        backup_phone: p.backup_phone.clone(),
        guarantor_name: p.guarantor_name.clone(),
        guarantor_phone: p.guarantor_phone.clone(),
        active: Some(p.active == 1),
        note: p.note.clone(),
        version: Some(p.version),
    };
    form_page(&page, f, FieldErrors::default(), Some(p)).await
}

pub async fn update(Path(id): Path<String>, CsrfForm { page, mut form }: CsrfForm<PointInput>) -> PageResult<Response> {
    form.active = Some(form.active.unwrap_or(false));
    form.fixed = Some(form.fixed.unwrap_or(false));
    let saved = svc::update(&page.ctx(), &id, form.clone()).await;
    super::posted(
        saved,
        |p| format!("/points/{}?ok=saved", p.id),
        async |errors| {
            let p = store::get(&page.state.db, &id).await?;
            form_page(&page, form, errors, p).await
        },
    )
    .await
}

#[derive(Template, WebTemplate)]
#[template(path = "points/import.html")]
pub struct ImportPage {
    l: Layout,
    errors: Vec<crate::service::sheet::RowError>,
    message: Option<String>,
}

pub async fn import_form(page: PageUser) -> PageResult<ImportPage> {
    require_admin(&page.user)?;
    Ok(ImportPage { l: Layout::new(&page.user, "points", "导入点位"), errors: Vec::new(), message: None })
}

pub async fn template(page: PageUser) -> PageResult<Response> {
    require_admin(&page.user)?;
    let bytes = crate::service::points_import::template(&page.ctx()).await?;
    Ok((
        [
            (
                axum::http::header::CONTENT_TYPE,
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet".to_string(),
            ),
            (
                axum::http::header::CONTENT_DISPOSITION,
                format!(
                    "attachment; filename=\"points-template.xlsx\"; filename*=UTF-8''{}",
                    crate::web::auth::urlencode("点位导入模板.xlsx")
                ),
            ),
        ],
        bytes,
    )
        .into_response())
}

pub async fn import(form: crate::web::auth::CsrfMultipart) -> PageResult<Response> {
    let page = &form.page;
    require_admin(&page.user)?;
    let l = Layout::new(&page.user, "points", "导入点位");
    let Some(file) = form.file("file") else {
        let message = Some("请选择要导入的Excel文件".to_string());
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, ImportPage { l, errors: Vec::new(), message }).into_response());
    };
    match crate::service::points_import::import(&page.ctx(), &file.bytes).await {
        Ok(s) => Ok(ImportPage {
            l,
            errors: Vec::new(),
            message: Some(format!("导入成功：新增 {} 个点位，更新 {} 个点位", s.created, s.updated)),
        }
        .into_response()),
        Err(AppError::Rejected(_, message, rows)) => {
            let errors = rows;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, ImportPage { l, errors, message: Some(message) }).into_response())
        }
        Err(e) => Err(e.into()),
    }
}
