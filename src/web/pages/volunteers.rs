//! 志愿服务 pages: the figures per community for a month, activities with their on-site QR
//! code and the organiser's list, Lei Feng stations, teams, the roster with its import, and a
//! volunteer's printable certificate.

use crate::domain::role::Role;
use crate::domain::time::{fmt_local, now_ms, to_local};
use crate::domain::validate::FieldErrors;
use crate::service::volunteers::{
    self as svc, Activity, ActivityInput, ConfirmInput, Figures, RecordRow, Station, StationInput, Team, TeamInput,
    VolunteerInput, VolunteerRow,
};
use crate::web::auth::{CsrfForm, CsrfMultipart, PageUser};
use crate::web::error::PageResult;
use crate::web::list::Sheet;
use crate::web::ui::{Layout, Opt};
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::Path;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};

#[derive(serde::Deserialize, Default)]
pub struct ListQuery {
    month: Option<String>,
    area: Option<String>,
    q: Option<String>,
    export: Option<String>,
    ok: Option<String>,
    /// The roster's page (50 a page)
    page: Option<String>,
}

/// Volunteers a roster page shows.
const ROSTER_PAGE: usize = 50;

/// What was typed in the page's forms, shown again after a refusal.
#[derive(Default)]
pub struct Typed {
    v: VolunteerInput,
    a: ActivityInput,
    s: StationInput,
    t: TeamInput,
    r: ResidentsForm,
}

#[derive(Template, WebTemplate)]
#[template(path = "community/volunteers.html")]
pub struct ListPage {
    l: Layout,
    month: String,
    area: String,
    q: String,
    areas: Vec<Opt>,
    communities: Vec<Opt>,
    figures: Vec<Figures>,
    activities: Vec<Activity>,
    stations: Vec<Station>,
    teams: Vec<Team>,
    /// The roster's page shown, and how many volunteers match in all
    volunteers: Vec<VolunteerRow>,
    total: usize,
    page_no: usize,
    pages: usize,
    manager: bool,
    errors: FieldErrors,
    /// Which form was refused ("volunteer", "team", "station", "activity", "residents")
    form: String,
    v: VolunteerInput,
    a: ActivityInput,
    s: StationInput,
    t: TeamInput,
    r: ResidentsForm,
}

impl ListPage {
    fn pct(&self, x: &Option<f64>) -> String {
        x.map(|v| format!("{v}%")).unwrap_or_else(|| "—".into())
    }

    fn err(&self, form: &str, field: &str) -> Option<&str> {
        (self.form == form).then(|| self.errors.get(field)).flatten()
    }
}

fn this_month() -> String {
    to_local(now_ms()).format("%Y-%m").to_string()
}

/// The roster and the month's figures per community as an Excel file (every volunteer, not a page).
fn roster_xlsx(month: &str, volunteers: &[VolunteerRow], figures: &[Figures]) -> Response {
    let rows = volunteers
        .iter()
        .map(|v| {
            vec![
                v.name.clone(),
                v.phone.clone(),
                v.community.clone(),
                v.team.clone().unwrap_or_default(),
                v.skills.clone(),
                v.joined_on.clone(),
                format!("{:.1}", v.minutes as f64 / 60.0),
            ]
        })
        .collect();
    let head = vec!["姓名", "手机号", "社区", "服务队", "服务特长", "登记日期", "累计服务时长（小时）"];
    let fig = figures
        .iter()
        .map(|f| {
            vec![
                f.community.clone(),
                f.residents.to_string(),
                f.registered.to_string(),
                f.share.map(|s| format!("{s}%")).unwrap_or_default(),
                f.active.to_string(),
                format!("{}", f.hours()),
            ]
        })
        .collect();
    let fhead = vec!["社区", "常住人口", "注册志愿者", "占常住人口", "本月活跃", "本月服务时长（小时）"];
    crate::web::list::xlsx(
        &format!("志愿者名册{month}"),
        vec![
            Sheet::typed("志愿者名册", head, rows, (&[], &[])),
            Sheet::typed(&format!("{month}志愿服务"), fhead, fig, (&[1, 2, 4], &[3])),
        ],
    )
}

async fn list_page(
    page: &PageUser,
    q: ListQuery,
    errors: FieldErrors,
    form: &str,
    typed: Typed,
) -> PageResult<Response> {
    let ctx = page.ctx();
    let month = q.month.clone().filter(|m| !m.is_empty()).unwrap_or_else(this_month);
    let area = q.area.clone().unwrap_or_default();
    let area_opt = Some(area.clone()).filter(|a| !a.is_empty());
    let figures = svc::figures(&ctx, &month, area_opt.clone()).await?;
    let volunteers = svc::list(&ctx, area_opt, q.q.as_deref().unwrap_or_default()).await?;
    if q.export.as_deref() == Some("xlsx") {
        return Ok(roster_xlsx(&month, &volunteers, &figures));
    }
    let pages = volunteers.len().div_ceil(ROSTER_PAGE).max(1);
    let page_no = q.page.as_deref().and_then(|p| p.trim().parse::<usize>().ok()).unwrap_or(1).clamp(1, pages);
    let communities = crate::web::pages::surveys::communities(&page.state.db).await?;
    let scope = crate::service::access::area_scope(&ctx).await?;
    let communities = communities.into_iter().filter(|c| scope.as_ref().is_none_or(|s| s.contains(&c.value))).collect();
    Ok(ListPage {
        l: Layout::new(&page.user, "volunteers", "志愿服务").with_flash(q.ok.as_deref()),
        month,
        area,
        q: q.q.clone().unwrap_or_default(),
        areas: super::scoped_area_options(&page.state.db, scope.as_ref()).await?,
        communities,
        figures,
        activities: svc::activities(&ctx).await?,
        stations: svc::stations(&ctx).await?,
        teams: svc::teams(&ctx).await?,
        total: volunteers.len(),
        page_no,
        pages,
        volunteers: volunteers.into_iter().skip((page_no - 1) * ROSTER_PAGE).take(ROSTER_PAGE).collect(),
        manager: matches!(page.user.role, Role::Admin | Role::GridWorker),
        errors,
        form: form.into(),
        v: typed.v,
        a: typed.a,
        s: typed.s,
        t: typed.t,
        r: typed.r,
    }
    .into_response())
}

pub async fn list(
    page: PageUser,
    crate::web::query::Query(q): crate::web::query::Query<ListQuery>,
) -> PageResult<Response> {
    list_page(&page, q, FieldErrors::default(), "", Default::default()).await
}

async fn again(page: &PageUser, form: &str, errors: FieldErrors, typed: Typed) -> PageResult<Response> {
    list_page(page, ListQuery::default(), errors, form, typed).await
}

pub async fn create(CsrfForm { page, form }: CsrfForm<VolunteerInput>) -> PageResult<Response> {
    let r = svc::create_volunteer(&page.ctx(), form.clone()).await;
    crate::web::pages::posted(
        r,
        |_| "/volunteers?ok=created#roster".into(),
        async |e| again(&page, "volunteer", e, Typed { v: form, ..Default::default() }).await,
    )
    .await
}

pub async fn create_team(CsrfForm { page, form }: CsrfForm<TeamInput>) -> PageResult<Response> {
    let r = svc::create_team(&page.ctx(), form.clone()).await;
    crate::web::pages::posted(
        r,
        |_| "/volunteers?ok=created#teams".into(),
        async |e| again(&page, "team", e, Typed { t: form, ..Default::default() }).await,
    )
    .await
}

pub async fn create_station(CsrfForm { page, form }: CsrfForm<StationInput>) -> PageResult<Response> {
    let r = svc::create_station(&page.ctx(), form.clone()).await;
    crate::web::pages::posted(
        r,
        |_| "/volunteers?ok=created#stations".into(),
        async |e| again(&page, "station", e, Typed { s: form, ..Default::default() }).await,
    )
    .await
}

pub async fn create_activity(CsrfForm { page, form }: CsrfForm<ActivityInput>) -> PageResult<Response> {
    let r = svc::create_activity(&page.ctx(), form.clone()).await;
    crate::web::pages::posted(
        r,
        |a| format!("/volunteers/activities/{}?ok=created", a.id),
        async |e| again(&page, "activity", e, Typed { a: form, ..Default::default() }).await,
    )
    .await
}

#[derive(serde::Deserialize, Default, Clone)]
pub struct ResidentsForm {
    #[serde(default)]
    community_id: String,
    #[serde(default)]
    residents: String,
}

pub async fn residents(CsrfForm { page, form }: CsrfForm<ResidentsForm>) -> PageResult<Response> {
    let r = svc::set_residents(&page.ctx(), &form.community_id, &form.residents).await;
    let form = form.clone();
    crate::web::pages::posted(
        r,
        |_| "/volunteers?ok=saved".into(),
        async |e| again(&page, "residents", e, Typed { r: form, ..Default::default() }).await,
    )
    .await
}

#[derive(serde::Deserialize, Default)]
pub struct DayQuery {
    day: Option<String>,
    ok: Option<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "community/activity.html")]
pub struct ActivityPage {
    l: Layout,
    a: Activity,
    when: String,
    day: String,
    today: String,
    upcoming: Vec<String>,
    records: Vec<RecordRow>,
    /// The QR for signing in and out today (only on a day the activity takes place)
    qr: Option<(String, String)>,
    signup_url: String,
    manager: bool,
    errors: FieldErrors,
}

impl ActivityPage {
    fn at(&self, ms: &Option<i64>) -> String {
        ms.map(|m| fmt_local(m).chars().skip(11).collect()).unwrap_or_default()
    }

    /// Each state in its own colour: signed in (on site now) apart from signed out (waiting
    /// for the organiser) at a glance.
    fn state_class(&self, s: &crate::domain::community::ServiceState) -> &'static str {
        use crate::domain::community::ServiceState as S;
        match s {
            S::SignedUp => "state-void",
            S::SignedIn => "state-new",
            S::SignedOut => "state-open",
            S::Confirmed => "state-done",
        }
    }
}

async fn activity_page(
    page: &PageUser,
    headers: &HeaderMap,
    id: &str,
    q: DayQuery,
    errors: FieldErrors,
) -> PageResult<Response> {
    let today = to_local(now_ms()).date_naive();
    let day = q.day.clone().filter(|d| !d.is_empty()).unwrap_or_else(|| today.format("%Y-%m-%d").to_string());
    let (a, records) = svc::records(&page.ctx(), id, &day).await?;
    let base = crate::web::public::base_url(&page.state, headers);
    let today_s = today.format("%Y-%m-%d").to_string();
    let qr = if a.occurs_on(today) {
        let url = format!("{base}/public/serve/{}?c={}", a.id, a.sign_code(&today_s));
        Some((crate::web::public::qr_svg(&url)?, url))
    } else {
        None
    };
    Ok(ActivityPage {
        l: Layout::new(&page.user, "volunteers", a.title.clone()).with_flash(q.ok.as_deref()),
        when: a.when(),
        upcoming: a.upcoming(today).iter().map(|d| d.format("%Y-%m-%d").to_string()).collect(),
        signup_url: format!("{base}/public/volunteer/{}", a.id),
        day,
        today: today_s,
        records,
        qr,
        manager: matches!(page.user.role, Role::Admin | Role::GridWorker),
        errors,
        a,
    }
    .into_response())
}

pub async fn activity(
    page: PageUser,
    headers: HeaderMap,
    Path(id): Path<String>,
    crate::web::query::Query(q): crate::web::query::Query<DayQuery>,
) -> PageResult<Response> {
    activity_page(&page, &headers, &id, q, FieldErrors::default()).await
}

pub async fn confirm(
    headers: HeaderMap,
    Path(id): Path<String>,
    CsrfForm { page, form }: CsrfForm<ConfirmInput>,
) -> PageResult<Response> {
    let r = svc::confirm(&page.ctx(), &id, form).await;
    crate::web::pages::posted(
        r,
        |r| format!("/volunteers/activities/{}?day={}&ok=saved", r.activity_id, r.day),
        async |e| {
            let rec: svc::ServiceRecord =
                crate::store::record::find(&page.state.db, &id).await?.ok_or(crate::error::AppError::NotFound)?;
            activity_page(&page, &headers, &rec.activity_id, DayQuery { day: Some(rec.day), ok: None }, e).await
        },
    )
    .await
}

#[derive(Template, WebTemplate)]
#[template(path = "community/certificate.html")]
pub struct CertificatePage {
    name: String,
    community: String,
    rows: Vec<(String, String, i64)>,
    hours: f64,
    issued: String,
}

pub async fn certificate(page: PageUser, Path(id): Path<String>) -> PageResult<CertificatePage> {
    let (v, community, rows) = svc::certificate(&page.ctx(), &id).await?;
    let minutes: i64 = rows.iter().map(|r| r.2).sum();
    Ok(CertificatePage {
        name: v.name,
        community,
        hours: (minutes as f64 / 6.0).round() / 10.0,
        rows,
        issued: to_local(now_ms()).format("%Y年%m月%d日").to_string(),
    })
}

#[derive(Template, WebTemplate)]
#[template(path = "exchange/import.html")]
pub struct ImportPage {
    l: Layout,
    intro: &'static str,
    action: String,
    template: String,
    back: String,
    errors: Vec<crate::error::RowError>,
    message: Option<(bool, String)>,
}

fn import_page(page: &PageUser, errors: Vec<crate::error::RowError>, message: Option<(bool, String)>) -> ImportPage {
    ImportPage {
        l: Layout::new(&page.user, "volunteers", "导入志愿者名册"),
        intro: "按社区导入已有的志愿者名册：姓名、手机号、社区必填；手机号是签到时识别志愿者的依据，不会公开。",
        action: "/volunteers/import".into(),
        template: "/volunteers/import/template.xlsx".into(),
        back: "/volunteers#roster".into(),
        errors,
        message,
    }
}

pub async fn import_form(page: PageUser) -> PageResult<ImportPage> {
    if !matches!(page.user.role, Role::Admin | Role::GridWorker) {
        return Err(crate::error::AppError::Forbidden.into());
    }
    Ok(import_page(&page, Vec::new(), None))
}

pub async fn import(form: CsrfMultipart) -> PageResult<Response> {
    let bytes = form.file("file").map(|f| f.bytes.clone()).unwrap_or_default();
    let page = &form.page;
    match svc::import(&page.ctx(), &bytes).await {
        Ok(n) => Ok(import_page(page, Vec::new(), Some((true, format!("已导入{n}名志愿者")))).into_response()),
        Err(crate::error::AppError::Rejected(_, message, rows)) => {
            Ok((axum::http::StatusCode::UNPROCESSABLE_ENTITY, import_page(page, rows, Some((false, message))))
                .into_response())
        }
        Err(e) => Err(e.into()),
    }
}

pub async fn template() -> Response {
    let head: Vec<&str> = svc::ROSTER.iter().map(|c| c.0).collect();
    let example = vec![
        "张三".into(),
        "13800001111".into(),
        "（社区名称）".into(),
        String::new(),
        "理发、维修".into(),
        "2026-12-01".into(),
    ];
    crate::web::list::xlsx("志愿者名册模板", vec![Sheet::text("志愿者名册", head, vec![example])])
}
