//! 每日汇报 pages: a point lead's points of today with a one-screen report form each; the
//! community's (and office's) view of who has and has not reported on a day, with help asked
//! for turned into problems; units' reporting rates; weekly summaries and the street roll-up.

use crate::domain::community::SummaryState;
use crate::domain::role::Role;
use crate::domain::time::fmt_local;
use crate::domain::validate::FieldErrors;
use crate::error::AppError;
use crate::service::daily_reports::{self as svc, PointDay, ReportInput};
use crate::service::weekly_summaries::{self as weekly, Summary, SummaryInput, UnitRate, WeekFigures};
use crate::web::auth::{CsrfForm, CsrfMultipart, PageUser};
use crate::web::error::PageResult;
use crate::web::list::Sheet;
use crate::web::ui::{Layout, Opt};
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::Path;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::Datelike;

#[derive(serde::Deserialize, Default)]
pub struct DayQuery {
    day: Option<String>,
    area: Option<String>,
    state: Option<String>,
    export: Option<String>,
    ok: Option<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "community/daily.html")]
pub struct DailyPage {
    l: Layout,
    day: String,
    today: String,
    reporter: bool,
    points: Vec<PointDay>,
    area: String,
    areas: Vec<Opt>,
    state: String,
    /// (reported, all)
    totals: (usize, usize),
    rates: Vec<UnitRate>,
    may_convert: bool,
    /// The office may also make help a task of the unit
    admin: bool,
    errors: FieldErrors,
    /// The point whose form was refused and what was typed
    typed: Option<ReportInput>,
}

impl DailyPage {
    fn when(&self, ms: &Option<i64>) -> String {
        ms.map(fmt_local).unwrap_or_default()
    }

    fn typed_for(&self, point: &str) -> Option<&ReportInput> {
        self.typed.as_ref().filter(|t| t.point_id == point)
    }
}

async fn daily_page(
    page: &PageUser,
    q: DayQuery,
    errors: FieldErrors,
    typed: Option<ReportInput>,
) -> PageResult<Response> {
    let ctx = page.ctx();
    let today = weekly::today().format("%Y-%m-%d").to_string();
    // A mistyped day in the address shows today rather than an error page.
    let day = q.day.clone().filter(|d| svc::parse_day(d).is_ok()).unwrap_or_else(|| today.clone());
    let reporter = svc::reports(page.user.role);
    let area = q.area.clone().unwrap_or_default();
    let all = if reporter {
        svc::my_points(&ctx, &day).await?
    } else {
        svc::watched(&ctx, &day, Some(area.clone()).filter(|a| !a.is_empty())).await?
    };
    let state = q.state.clone().unwrap_or_default();
    let totals = (all.iter().filter(|p| p.reported()).count(), all.len());
    let mut points: Vec<PointDay> = all
        .into_iter()
        .filter(|p| match state.as_str() {
            "missing" => !p.reported(),
            "reported" => p.reported(),
            "help" => p.needs_help(),
            _ => true,
        })
        .collect();
    if reporter {
        // What is still to do comes first.
        points.sort_by_key(PointDay::reported);
    }
    if q.export.as_deref() == Some("xlsx") {
        return Ok(export(&day, &points));
    }
    let rates = if matches!(page.user.role, Role::Admin | Role::Supervisor | Role::Discipline) {
        let d = weekly::today();
        weekly::unit_rates(&ctx, d.with_day(1).unwrap_or(d), d).await?
    } else {
        Vec::new()
    };
    let areas = if reporter {
        Vec::new()
    } else {
        let scope = crate::service::access::area_scope(&ctx).await?;
        super::scoped_area_options(&page.state.db, scope.as_ref()).await?
    };
    Ok(DailyPage {
        l: Layout::new(&page.user, "daily", "每日汇报").with_flash(q.ok.as_deref()),
        reporter,
        day,
        today,
        points,
        area,
        areas,
        state,
        totals,
        rates,
        may_convert: matches!(page.user.role, Role::Admin | Role::GridWorker),
        admin: page.user.role == Role::Admin,
        errors,
        typed,
    }
    .into_response())
}

/// A day's points and their reports as an Excel sheet.
fn export(day: &str, points: &[PointDay]) -> Response {
    let rows = points
        .iter()
        .map(|p| {
            vec![
                p.code.clone(),
                p.name.clone(),
                p.community_name.clone(),
                p.unit_name.clone(),
                p.lead_name.clone(),
                if p.reported() { "已汇报".into() } else { "未汇报".into() },
                p.done.clone().unwrap_or_default(),
                p.help.clone().unwrap_or_default(),
            ]
        })
        .collect();
    let head = vec!["点位编码", "点位", "社区", "责任单位", "点位负责人", "汇报情况", "今日工作", "需协调事项"];
    crate::web::list::xlsx(&format!("{day}点位汇报"), vec![Sheet::text("点位汇报", head, rows)])
}

pub async fn show(
    page: PageUser,
    crate::web::query::Query(q): crate::web::query::Query<DayQuery>,
) -> PageResult<Response> {
    daily_page(&page, q, FieldErrors::default(), None).await
}

pub async fn file(form: CsrfMultipart) -> PageResult<Response> {
    let get = |k: &str| form.fields.get(k).cloned().unwrap_or_default();
    let input = ReportInput {
        point_id: get("point_id"),
        done: get("done"),
        help: get("help"),
        version: get("version").trim().parse().ok(),
    };
    let photos: Vec<Vec<u8>> =
        form.files.iter().filter(|f| f.field == "photos" && !f.bytes.is_empty()).map(|f| f.bytes.clone()).collect();
    let page = &form.page;
    match svc::file(&page.ctx(), &page.state.storage, input.clone(), photos).await {
        Ok(_) => Ok(Redirect::to("/daily-reports?ok=saved").into_response()),
        Err(e @ (AppError::Validation(_) | AppError::Refused(..))) => {
            let status = e.status();
            let errors = crate::web::pages::form_errors(e)?;
            Ok((status, daily_page(page, DayQuery::default(), errors, Some(input)).await?).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(serde::Deserialize, Default)]
pub struct VersionForm {
    #[serde(default, deserialize_with = "crate::domain::validate::number")]
    version: Option<i64>,
}

pub async fn to_problem(
    Path(id): Path<String>,
    CsrfForm { page, form }: CsrfForm<VersionForm>,
) -> PageResult<Response> {
    let result = svc::to_problem(&page.ctx(), &id, form.version).await;
    crate::web::pages::posted(
        result,
        |p| format!("/problems/{p}"),
        async |errors| daily_page(&page, DayQuery::default(), errors, None).await,
    )
    .await
}

#[derive(serde::Deserialize, Default)]
pub struct TaskForm {
    #[serde(default)]
    due_date: String,
    #[serde(default, deserialize_with = "crate::domain::validate::number")]
    version: Option<i64>,
}

pub async fn to_task(Path(id): Path<String>, CsrfForm { page, form }: CsrfForm<TaskForm>) -> PageResult<Response> {
    let result = svc::to_task(&page.ctx(), &id, &form.due_date, form.version).await;
    crate::web::pages::posted(
        result,
        |_| "/daily-reports?state=help&ok=saved".to_string(),
        async |errors| {
            daily_page(&page, DayQuery { state: Some("help".into()), ..Default::default() }, errors, None).await
        },
    )
    .await
}

#[derive(serde::Deserialize, Default)]
pub struct WeekQuery {
    week: Option<String>,
    area: Option<String>,
    ok: Option<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "community/weekly.html")]
pub struct WeeklyPage {
    l: Layout,
    week: String,
    prev: String,
    /// The next week, while it has begun
    next: Option<String>,
    /// The week shown has begun (a summary may be drafted)
    started: bool,
    figures: Vec<WeekFigures>,
    area: String,
    areas: Vec<Opt>,
    /// The grid worker's own community (may draft)
    own_community: Option<String>,
    admin: bool,
    errors: FieldErrors,
}

impl WeeklyPage {
    fn rate(&self, r: &Option<f64>) -> String {
        r.map(|r| format!("{r}%")).unwrap_or_else(|| "—".into())
    }

    fn may_draft(&self, community: &str) -> bool {
        self.admin || self.own_community.as_deref() == Some(community)
    }
}

async fn weekly_page(page: &PageUser, q: WeekQuery, errors: FieldErrors) -> PageResult<Response> {
    let monday = q
        .week
        .as_deref()
        .and_then(|w| weekly::parse_week(w).ok())
        .unwrap_or_else(|| crate::domain::community::week_start(weekly::today()));
    let area = q.area.clone().unwrap_or_default();
    let figures = weekly::figures(&page.ctx(), monday, Some(area.clone()).filter(|a| !a.is_empty())).await?;
    let d = |n: i64| (monday + chrono::Duration::days(n)).format("%Y-%m-%d").to_string();
    Ok(WeeklyPage {
        l: Layout::new(&page.user, "daily", "社区周汇总").with_flash(q.ok.as_deref()),
        week: d(0),
        prev: d(-7),
        // No week ahead of today's: nothing to report or summarise there yet.
        next: (monday + chrono::Duration::days(7) <= weekly::today()).then(|| d(7)),
        started: monday <= weekly::today(),
        figures,
        area,
        areas: super::scoped_area_options(
            &page.state.db,
            crate::service::access::area_scope(&page.ctx()).await?.as_ref(),
        )
        .await?,
        own_community: (page.user.role == Role::GridWorker).then(|| page.user.area_id.clone()).flatten(),
        admin: page.user.role == Role::Admin,
        errors,
    }
    .into_response())
}

pub async fn weekly_list(
    page: PageUser,
    crate::web::query::Query(q): crate::web::query::Query<WeekQuery>,
) -> PageResult<Response> {
    weekly_page(&page, q, FieldErrors::default()).await
}

#[derive(serde::Deserialize, Default, Clone)]
pub struct DraftForm {
    #[serde(default)]
    community_id: String,
    #[serde(default)]
    week: String,
}

pub async fn draft(CsrfForm { page, form }: CsrfForm<DraftForm>) -> PageResult<Response> {
    let ctx = page.ctx();
    let result = async {
        let monday = weekly::parse_week(&form.week)?;
        weekly::draft(&ctx, &form.community_id, monday).await
    }
    .await;
    crate::web::pages::posted(
        result,
        |s: Summary| format!("/daily-reports/weekly/{}", s.id),
        async |errors| {
            weekly_page(&page, WeekQuery { week: Some(form.week.clone()), ..Default::default() }, errors).await
        },
    )
    .await
}

#[derive(Template, WebTemplate)]
#[template(path = "community/summary.html")]
pub struct SummaryPage {
    l: Layout,
    s: Summary,
    community: String,
    may_edit: bool,
    may_ack: bool,
    body: String,
    /// The street's reply as typed (shown again after a refusal)
    reply: String,
    errors: FieldErrors,
}

impl SummaryPage {
    fn when(&self, ms: &Option<i64>) -> String {
        ms.map(fmt_local).unwrap_or_default()
    }
}

async fn summary_page(page: &PageUser, id: &str, errors: FieldErrors, body: Option<String>) -> PageResult<SummaryPage> {
    let s = weekly::get(&page.ctx(), id).await?;
    let node = crate::store::org::get(&page.state.db, &s.community_id).await?.ok_or(AppError::NotFound)?;
    let admin = page.user.role == Role::Admin;
    let grid = page.user.role == Role::GridWorker;
    Ok(SummaryPage {
        l: Layout::new(&page.user, "daily", format!("{} · {}周汇总", node.name, s.week_start)),
        may_edit: s.state == SummaryState::Draft
            && (admin || (grid && page.user.area_id.as_deref() == Some(node.id.as_str()))),
        may_ack: s.state == SummaryState::Submitted
            && (admin || (grid && page.user.area_id.is_some() && page.user.area_id == node.parent_id)),
        body: body.unwrap_or_else(|| s.body.clone()),
        reply: String::new(),
        community: node.name,
        s,
        errors,
    })
}

pub async fn summary(
    page: PageUser,
    Path(id): Path<String>,
    crate::web::query::Query(q): crate::web::query::Query<WeekQuery>,
) -> PageResult<SummaryPage> {
    let mut p = summary_page(&page, &id, FieldErrors::default(), None).await?;
    p.l = p.l.with_flash(q.ok.as_deref());
    Ok(p)
}

pub async fn summary_save(
    Path(id): Path<String>,
    CsrfForm { page, form }: CsrfForm<SummaryInput>,
) -> PageResult<Response> {
    let result = weekly::save(&page.ctx(), &id, form.clone()).await;
    crate::web::pages::posted(
        result,
        |s| format!("/daily-reports/weekly/{}?ok=saved", s.id),
        async |errors| summary_page(&page, &id, errors, Some(form.body.clone())).await,
    )
    .await
}

pub async fn summary_ack(
    Path(id): Path<String>,
    CsrfForm { page, form }: CsrfForm<SummaryInput>,
) -> PageResult<Response> {
    let reply = form.reply.clone();
    let result = weekly::acknowledge(&page.ctx(), &id, form).await;
    crate::web::pages::posted(
        result,
        |s| format!("/daily-reports/weekly/{}?ok=saved", s.id),
        async |errors| Ok(SummaryPage { reply: reply.clone(), ..summary_page(&page, &id, errors, None).await? }),
    )
    .await
}
