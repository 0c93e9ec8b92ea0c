//! 城市指标: the city's quantitative indicators of a year, weakest first, with the grade each
//! reaches, the thresholds it is judged by, the trend and the source; the office enters values
//! and sets the region; Excel export.

use crate::domain::evaluation::{CITY_INDICATORS, Region};
use crate::domain::role::Role;
use crate::domain::time::{now_ms, to_local};
use crate::domain::validate::FieldErrors;
use crate::service::indicators::{self as svc, Board, ValueInput};
use crate::web::auth::{CsrfForm, PageUser};
use crate::web::error::PageResult;
use crate::web::list::Sheet;
use crate::web::ui::{Layout, Opt};
use askama::Template;
use askama_web::WebTemplate;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::Datelike;

#[derive(serde::Deserialize, Default)]
pub struct Query {
    year: Option<String>,
    export: Option<String>,
    ok: Option<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "indicators/city.html")]
pub struct CityPage {
    l: Layout,
    b: Board,
    admin: bool,
    options: Vec<Opt>,
    regions: [Region; 2],
    f: ValueInput,
    errors: FieldErrors,
}

fn this_year() -> i64 {
    i64::from(to_local(now_ms()).year())
}

async fn city_page(page: &PageUser, q: Query, f: ValueInput, errors: FieldErrors) -> PageResult<Response> {
    // A year that is not one (typed into the filter) shows this year and says so.
    let mut errors = errors;
    let asked = crate::domain::validate::IntText(q.year.clone().unwrap_or_default());
    let year = asked.get(&mut errors, "_form", "查询的年度", 1990..=2100).unwrap_or_else(this_year);
    let b = svc::board(&page.ctx(), year).await?;
    if q.export.as_deref() == Some("xlsx") {
        let rows = b
            .lines
            .iter()
            .map(|l| {
                vec![
                    l.def.group.to_string(),
                    l.def.name.to_string(),
                    l.def.unit.to_string(),
                    l.rule.clone(),
                    l.value.as_ref().map(|v| v.value.to_string()).unwrap_or_default(),
                    l.grade.map(|g| g.0.to_string()).unwrap_or_else(|| "未填报".into()),
                    l.trend.to_string(),
                    l.value.as_ref().map(|v| v.source.clone()).unwrap_or_default(),
                ]
            })
            .collect();
        let head = vec!["类别", "指标", "单位", "分档标准", "数值", "等级", "趋势", "数据来源"];
        return Ok(crate::web::list::xlsx(&format!("{year}年城市指标"), vec![Sheet::text("城市指标", head, rows)]));
    }
    Ok(CityPage {
        l: Layout::new(&page.user, "city_indicators", "城市指标").with_flash(q.ok.as_deref()),
        admin: page.user.role == Role::Admin,
        options: CITY_INDICATORS.iter().map(|i| Opt::new(i.code, format!("{}（{}）", i.name, i.unit))).collect(),
        regions: Region::ALL,
        f,
        errors,
        b,
    }
    .into_response())
}

pub async fn city(
    page: PageUser,
    crate::web::query::Query(q): crate::web::query::Query<Query>,
) -> PageResult<Response> {
    // The entry form is for the year shown (its values are what the form compares with).
    let shown =
        q.year.as_deref().and_then(|y| y.trim().parse::<i64>().ok()).filter(|y| (1990..=this_year()).contains(y));
    let f = ValueInput { year: shown.unwrap_or_else(this_year).into(), ..Default::default() };
    city_page(&page, q, f, FieldErrors::default()).await
}

pub async fn enter(CsrfForm { page, form }: CsrfForm<ValueInput>) -> PageResult<Response> {
    match svc::enter(&page.ctx(), form.clone()).await {
        Ok(v) => Ok(Redirect::to(&format!("/indicators/city?year={}&ok=saved", v.year)).into_response()),
        Err(e) => {
            let errors = crate::web::pages::form_errors(e)?;
            let q = Query {
                year: Some(form.year.to_string()).filter(|_| errors.get("year").is_none()),
                ..Default::default()
            };
            let res = city_page(&page, q, form, errors).await?;
            Ok((axum::http::StatusCode::UNPROCESSABLE_ENTITY, res).into_response())
        }
    }
}

#[derive(serde::Deserialize, Default)]
pub struct RegionForm {
    #[serde(default)]
    region: String,
    /// The region the page showed
    #[serde(default)]
    seen_region: Option<String>,
}

pub async fn region(CsrfForm { page, form }: CsrfForm<RegionForm>) -> PageResult<Response> {
    match svc::set_region(&page.ctx(), &form.region, form.seen_region.as_deref()).await {
        Ok(_) => Ok(Redirect::to("/indicators/city?ok=saved").into_response()),
        Err(e) => {
            let errors = crate::web::pages::form_errors(e)?;
            let f = ValueInput { year: this_year().into(), ..Default::default() };
            let res = city_page(&page, Query::default(), f, errors).await?;
            Ok((axum::http::StatusCode::UNPROCESSABLE_ENTITY, res).into_response())
        }
    }
}
