//! The working-day calendar: yearly official data, working hours, and a deadline calculator.

use crate::domain::calendar::DayKind;
use crate::domain::calendar::YearData;
use crate::domain::time::{fmt_local, shanghai};
use crate::domain::validate::FieldErrors;
use crate::error::AppError;
use crate::error::RowError;
use crate::service::access::require_admin;
use crate::service::calendar as svc;
use crate::store::calendar::{self as store, DayRow, YearRow};
use crate::web::auth::{CsrfForm, CsrfMultipart, PageUser};
use crate::web::error::PageResult;
use crate::web::query::Query;
use crate::web::ui::Layout;
use askama::Template;
use askama_web::WebTemplate;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{Datelike, NaiveDate, NaiveDateTime, TimeZone};
use serde::Deserialize;

#[derive(Deserialize, Default)]
pub struct CalendarQuery {
    year: Option<i64>,
    from: Option<String>,
    amount: Option<String>,
    unit: Option<String>,
    ok: Option<String>,
}

pub struct DayView {
    pub day: String,
    pub weekday: &'static str,
    pub off: bool,
    pub name: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "settings/calendar.html")]
pub struct CalendarPage {
    l: Layout,
    years: Vec<YearRow>,
    year: i64,
    days: Vec<DayView>,
    /// The working hours in the form (what the user typed, after a refused save)
    hours: String,
    /// The stored working hours the form was rendered from (`Write::setting`)
    seen_hours: String,
    is_admin: bool,
    errors: FieldErrors,
    import_errors: Vec<RowError>,
    calc_from: String,
    calc_amount: String,
    calc_unit: String,
    calc_result: Option<String>,
    calc_error: Option<String>,
}

const WEEKDAYS: [&str; 7] = ["周一", "周二", "周三", "周四", "周五", "周六", "周日"];

fn view(d: DayRow) -> DayView {
    let weekday = NaiveDate::parse_from_str(&d.day, "%Y-%m-%d")
        .map(|n| WEEKDAYS[n.weekday().num_days_from_monday() as usize])
        .unwrap_or("");
    DayView { weekday, off: d.kind == DayKind::Holiday, name: d.name, day: d.day }
}

/// Runs the deadline calculator; returns (result, error).
async fn calculate(db: &crate::store::Db, q: &CalendarQuery) -> Result<(Option<String>, Option<String>), AppError> {
    let (Some(from), Some(amount)) = (q.from.as_deref().filter(|s| !s.is_empty()), q.amount.as_deref()) else {
        return Ok((None, None));
    };
    let Ok(start) = NaiveDateTime::parse_from_str(from, "%Y-%m-%dT%H:%M") else {
        return Ok((None, Some("开始时间格式不正确".into())));
    };
    let Ok(n) = amount.trim().parse::<u32>() else {
        return Ok((None, Some("时限应为0至1000之间的整数".into())));
    };
    if n > 1000 {
        return Ok((None, Some("时限应为0至1000之间的整数".into())));
    }
    let cal = svc::load(db).await?;
    let start = shanghai().from_local_datetime(&start).single().ok_or(AppError::NotFound)?;
    let (deadline, unit) = match q.unit.as_deref() {
        Some("hours") => (cal.add_working_minutes(start, n as i64 * 60), "个工作时"),
        _ => (cal.add_working_days(start, n), "个工作日"),
    };
    let mut text = format!(
        "{n}{unit}后截止：{}（{}）",
        fmt_local(deadline.timestamp_millis()),
        cal.describe(deadline.date_naive())
    );
    if !cal.covers(deadline.year()) {
        text.push_str(&format!("。注意：尚未导入{}年节假日数据，仅按周末计算", deadline.year()));
    }
    Ok((Some(text), None))
}

async fn render(
    page: &PageUser,
    q: &CalendarQuery,
    errors: FieldErrors,
    import_errors: Vec<RowError>,
    typed_hours: Option<&str>,
) -> PageResult<CalendarPage> {
    let db = &page.state.db;
    let seen_hours = svc::working_hours(db).await?.to_string();
    let years = store::years(db).await?;
    let this_year = chrono::Utc::now().with_timezone(&shanghai()).year() as i64;
    let year = q.year.unwrap_or_else(|| {
        years.iter().map(|y| y.year).find(|y| *y == this_year).or(years.last().map(|y| y.year)).unwrap_or(this_year)
    });
    let days = store::days(db, Some(year)).await?.into_iter().map(view).collect();
    let (calc_result, calc_error) = calculate(db, q).await?;
    Ok(CalendarPage {
        l: Layout::new(&page.user, "calendar", "工作日历").with_flash(q.ok.as_deref()),
        years,
        year,
        days,
        hours: typed_hours.map(str::to_string).unwrap_or_else(|| seen_hours.clone()),
        seen_hours,
        is_admin: page.user.role == crate::domain::role::Role::Admin,
        errors,
        import_errors,
        calc_from: q.from.clone().unwrap_or_default(),
        calc_amount: q.amount.clone().unwrap_or_default(),
        calc_unit: q.unit.clone().unwrap_or_else(|| "days".into()),
        calc_result,
        calc_error,
    })
}

pub async fn show(page: PageUser, Query(q): Query<CalendarQuery>) -> PageResult<CalendarPage> {
    render(&page, &q, FieldErrors::default(), Vec::new(), None).await
}

/// An example file to fill in for a new year.
pub async fn template() -> Response {
    (
        [
            (header::CONTENT_TYPE, "application/json; charset=utf-8"),
            (header::CONTENT_DISPOSITION, "attachment; filename=\"calendar-2026.json\""),
        ],
        svc::SHIPPED[1],
    )
        .into_response()
}

pub async fn upload(form: CsrfMultipart) -> PageResult<Response> {
    let page = &form.page;
    require_admin(&page.user)?;
    let refuse = |message: &str| RowError::new("file", 0, "file", message);
    let errors = match form.file("file") {
        None => vec![refuse("请选择要上传的年度数据文件（JSON）")],
        Some(f) => match serde_json::from_slice::<YearData>(&f.bytes) {
            Err(e) => vec![refuse(&format!("文件不是有效的年度数据JSON：第{}行第{}列附近有误", e.line(), e.column()))],
            Ok(data) => {
                let year = data.year;
                match svc::import_year(&page.ctx(), data).await {
                    Ok(()) => {
                        return Ok(Redirect::to(&format!("/settings/calendar?year={year}&ok=saved")).into_response());
                    }
                    Err(AppError::Rejected(_, _, errors)) => errors,
                    Err(e) => return Err(e.into()),
                }
            }
        },
    };
    let q = CalendarQuery::default();
    Ok((StatusCode::UNPROCESSABLE_ENTITY, render(page, &q, FieldErrors::default(), errors, None).await?)
        .into_response())
}

#[derive(Deserialize, Default)]
pub struct HoursForm {
    #[serde(default)]
    working_hours: String,
    /// The working hours the page showed
    #[serde(default)]
    seen_working_hours: Option<String>,
}

pub async fn set_hours(CsrfForm { page, form }: CsrfForm<HoursForm>) -> PageResult<Response> {
    let saved = svc::set_working_hours(&page.ctx(), &form.working_hours, form.seen_working_hours.as_deref()).await;
    super::posted(
        saved,
        |_| "/settings/calendar?ok=saved".into(),
        async |errors| {
            let q = CalendarQuery::default();
            render(&page, &q, errors, Vec::new(), Some(&form.working_hours)).await
        },
    )
    .await
}
