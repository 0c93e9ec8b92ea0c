//! The standard ledger pages: the published catalogue, versions, drafts and publishing.

use super::{form_errors, opt};
use crate::domain::standard::Publication;
use crate::domain::standard::{ItemInput, applies};
use crate::domain::time::fmt_local;
use crate::domain::validate::FieldErrors;
use crate::error::AppError;
use crate::service::access::require_admin;
use crate::service::standards as svc;
use crate::store::points as point_store;
use crate::store::standards::{self as store, Item, Version};
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

pub struct ItemView {
    pub item: Item,
    pub severity: &'static str,
    pub unit: &'static str,
    pub types: String,
}

fn view(item: Item, type_names: &[(String, String)]) -> ItemView {
    let types = if item.point_types == "*" {
        "全部点位".to_string()
    } else {
        item.point_types
            .split(',')
            .map(|c| type_names.iter().find(|(code, _)| code == c).map(|(_, n)| n.as_str()).unwrap_or(c))
            .collect::<Vec<_>>()
            .join("、")
    };
    ItemView { severity: item.severity.label(), unit: item.time_unit.label(), types, item }
}

#[derive(Deserialize, Default)]
pub struct StdQuery {
    version: Option<String>,
    category: Option<String>,
    type_code: Option<String>,
    export: Option<String>,
    ok: Option<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "standards/list.html")]
pub struct StandardsPage {
    l: Layout,
    versions: Vec<(Version, &'static str, String)>,
    current: Option<Version>,
    items: Vec<ItemView>,
    categories: Vec<String>,
    types: Vec<Opt>,
    category: String,
    type_code: String,
    is_admin: bool,
    has_draft: bool,
    errors: FieldErrors,
}

async fn type_names(db: &crate::store::Db) -> Result<Vec<(String, String)>, sqlx::Error> {
    Ok(point_store::types(db).await?.into_iter().map(|t| (t.code, t.name)).collect())
}

async fn render(page: &PageUser, q: &StdQuery, errors: FieldErrors) -> PageResult<Response> {
    let db = &page.state.db;
    let versions = store::versions(db).await?;
    let current = match opt(&q.version) {
        Some(id) => Some(versions.iter().find(|v| v.id == id).cloned().ok_or(AppError::NotFound)?),
        None => versions.iter().find(|v| v.status == Publication::Published).cloned(),
    };
    let names = type_names(db).await?;
    let all = match &current {
        Some(v) => store::items(db, &v.id).await?,
        None => Vec::new(),
    };
    let mut categories: Vec<String> = all.iter().map(|i| i.category.clone()).collect();
    categories.dedup();
    let category = opt(&q.category).unwrap_or_default();
    let type_code = opt(&q.type_code).unwrap_or_default();
    let items: Vec<Item> = all
        .into_iter()
        .filter(|i| category.is_empty() || i.category == category)
        .filter(|i| type_code.is_empty() || applies(&i.point_types, &type_code))
        .collect();
    if q.export.as_deref() == Some("xlsx") {
        let Some(v) = &current else { return Err(AppError::NotFound.into()) };
        let keep: Vec<String> = items.iter().map(|i| format!("{}{}", i.major_code, i.minor_code)).collect();
        let rows = crate::service::exchange::standard_rows(db, &v.id)
            .await?
            .into_iter()
            .filter(|r| keep.contains(&format!("{}{}", r[0], r[1])))
            .collect();
        let headers: Vec<&str> = crate::service::exchange::STANDARD_COLUMNS.iter().map(|c| c.0).collect();
        let sheet = crate::web::list::Sheet::text("标准", headers, rows);
        return Ok(crate::web::list::xlsx(&format!("标准台账-第{}版", v.version_no), vec![sheet]));
    }
    let has_draft = versions.iter().any(|v| v.status == Publication::Draft);
    Ok(StandardsPage {
        l: Layout::new(&page.user, "standards", "标准台账").with_flash(q.ok.as_deref()),
        versions: versions
            .into_iter()
            .map(|v| {
                let published = v.published_at.filter(|t| *t > 0).map(fmt_local).unwrap_or_else(|| "随系统发布".into());
                let label = v.status.label();
                (v, label, published)
            })
            .collect(),
        items: items.into_iter().map(|i| view(i, &names)).collect(),
        current,
        categories,
        types: names.into_iter().map(|(c, n)| Opt::new(c, n)).collect(),
        category,
        type_code,
        is_admin: page.user.role == crate::domain::role::Role::Admin,
        has_draft,
        errors,
    }
    .into_response())
}

pub async fn list(page: PageUser, Query(q): Query<StdQuery>) -> PageResult<Response> {
    render(&page, &q, FieldErrors::default()).await
}

#[derive(Deserialize, Default)]
pub struct DraftForm {
    #[serde(default)]
    name: String,
}

pub async fn create_draft(CsrfForm { page, form }: CsrfForm<DraftForm>) -> PageResult<Response> {
    let saved = svc::create_draft(&page.ctx(), &form.name).await;
    super::posted(
        saved,
        |v| format!("/standards?version={}&ok=created", v.id),
        async |errors| {
            let r = render(&page, &StdQuery::default(), errors).await?;
            Ok(r)
        },
    )
    .await
}

pub async fn publish(
    Path(id): Path<String>,
    CsrfForm { page, .. }: CsrfForm<Vec<(String, String)>>,
) -> PageResult<Response> {
    match svc::publish(&page.ctx(), &id).await {
        Ok(_) => Ok(Redirect::to("/standards?ok=saved").into_response()),
        Err(e) => {
            let errors = form_errors(e)?;
            let q = StdQuery { version: Some(id), ..Default::default() };
            Ok((StatusCode::CONFLICT, render(&page, &q, errors).await?).into_response())
        }
    }
}

pub async fn discard(
    Path(id): Path<String>,
    CsrfForm { page, .. }: CsrfForm<Vec<(String, String)>>,
) -> PageResult<Response> {
    svc::discard(&page.ctx(), &id).await?;
    Ok(Redirect::to("/standards?ok=deleted").into_response())
}

#[derive(Template, WebTemplate)]
#[template(path = "standards/item_form.html")]
pub struct ItemForm {
    l: Layout,
    version: Version,
    f: ItemInput,
    editing: Option<Item>,
    errors: FieldErrors,
    types: Vec<Opt>,
}

impl ItemForm {
    fn type_checked(&self, code: &str) -> bool {
        self.f.point_types.split(',').any(|t| t.trim() == code)
    }

    fn limit(&self) -> String {
        value_text(&self.f.time_limit)
    }

    fn deduction(&self) -> String {
        value_text(&self.f.deduction)
    }
}

fn value_text(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// The form posts the type checkboxes as a list; the item keeps them comma-separated.
#[derive(Deserialize, Default)]
pub struct ItemPost {
    #[serde(default)]
    category: String,
    #[serde(default)]
    item: String,
    #[serde(default)]
    major_code: String,
    #[serde(default)]
    minor_code: String,
    #[serde(default)]
    requirement: String,
    #[serde(default)]
    point_types: Vec<String>,
    #[serde(default)]
    time_limit: String,
    #[serde(default)]
    time_unit: String,
    #[serde(default)]
    severity: String,
    #[serde(default)]
    deduction: String,
    #[serde(default)]
    closing_standard: String,
    #[serde(default, deserialize_with = "crate::service::version")]
    version: Option<i64>,
}

impl From<ItemPost> for ItemInput {
    fn from(p: ItemPost) -> Self {
        ItemInput {
            category: p.category,
            item: p.item,
            major_code: p.major_code,
            minor_code: p.minor_code,
            requirement: p.requirement,
            point_types: p.point_types.join(","),
            time_limit: serde_json::Value::String(p.time_limit),
            time_unit: p.time_unit,
            severity: p.severity,
            deduction: serde_json::Value::String(p.deduction),
            closing_standard: p.closing_standard,
            version: p.version,
        }
    }
}

async fn item_page(
    page: &PageUser,
    version: Version,
    f: ItemInput,
    editing: Option<Item>,
    errors: FieldErrors,
) -> PageResult<ItemForm> {
    let types = type_names(&page.state.db).await?.into_iter().map(|(c, n)| Opt::new(c, n)).collect();
    let title = if editing.is_some() { "编辑标准条目" } else { "新增标准条目" };
    Ok(ItemForm { l: Layout::new(&page.user, "standards", title), version, f, editing, errors, types })
}

pub async fn new_item_form(page: PageUser, Path(id): Path<String>) -> PageResult<ItemForm> {
    require_admin(&page.user)?;
    let v = store::version(&page.state.db, &id).await?.ok_or(AppError::NotFound)?;
    let f = ItemInput { time_unit: "days".into(), severity: "normal".into(), ..Default::default() };
    item_page(&page, v, f, None, FieldErrors::default()).await
}

pub async fn create_item(Path(id): Path<String>, CsrfForm { page, form }: CsrfForm<ItemPost>) -> PageResult<Response> {
    let input: ItemInput = form.into();
    let saved = svc::add_item(&page.ctx(), &id, input.clone()).await;
    super::posted(
        saved,
        |_| format!("/standards?version={id}&ok=created"),
        async |errors| {
            let v = store::version(&page.state.db, &id).await?.ok_or(AppError::NotFound)?;
            item_page(&page, v, input, None, errors).await
        },
    )
    .await
}

pub async fn edit_item_form(page: PageUser, Path(id): Path<String>) -> PageResult<ItemForm> {
    require_admin(&page.user)?;
    let i = store::item(&page.state.db, &id).await?.ok_or(AppError::NotFound)?;
    let v = store::version(&page.state.db, &i.version_id).await?.ok_or(AppError::NotFound)?;
    let f = ItemInput {
        category: i.category.clone(),
        item: i.item.clone(),
        major_code: i.major_code.clone(),
        minor_code: i.minor_code.clone(),
        requirement: i.requirement.clone(),
        point_types: i.point_types.clone(),
        time_limit: serde_json::json!(i.time_limit),
        time_unit: i.time_unit.as_str().into(),
        severity: i.severity.as_str().into(),
        deduction: serde_json::json!(i.deduction),
        closing_standard: i.closing_standard.clone(),
        version: Some(i.version),
    };
    item_page(&page, v, f, Some(i), FieldErrors::default()).await
}

pub async fn update_item(Path(id): Path<String>, CsrfForm { page, form }: CsrfForm<ItemPost>) -> PageResult<Response> {
    let input: ItemInput = form.into();
    let saved = svc::update_item(&page.ctx(), &id, input.clone()).await;
    super::posted(
        saved,
        |i| format!("/standards?version={}&ok=saved", i.version_id),
        async |errors| {
            let i = store::item(&page.state.db, &id).await?.ok_or(AppError::NotFound)?;
            let v = store::version(&page.state.db, &i.version_id).await?.ok_or(AppError::NotFound)?;
            item_page(&page, v, input, Some(i), errors).await
        },
    )
    .await
}

pub async fn delete_item(
    Path(id): Path<String>,
    CsrfForm { page, .. }: CsrfForm<Vec<(String, String)>>,
) -> PageResult<Response> {
    let version = svc::delete_item(&page.ctx(), &id).await?;
    Ok(Redirect::to(&format!("/standards?version={version}&ok=deleted")).into_response())
}
