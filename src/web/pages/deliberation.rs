//! 居民议事 pages: meetings (who attended, minutes as Word) with the suggestions raised there;
//! each suggestion answered on the spot or routed to a unit with a deadline; a unit's list of
//! what was routed to it; closure rate and time per community.

use crate::domain::role::Role;
use crate::domain::time::{now_ms, to_local};
use crate::domain::validate::FieldErrors;
use crate::service::deliberation::{
    self as svc, Closure, HandleInput, Meeting, MeetingInput, SuggestionInput, SuggestionRow,
};
use crate::web::auth::{CsrfForm, PageUser};
use crate::web::error::PageResult;
use crate::web::list::{self, Cell, On, Sheet, Table, col};
use crate::web::ui::{Layout, Opt};
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::Path;
use axum::response::{IntoResponse, Response};

#[derive(serde::Deserialize, Default)]
pub struct ListQuery {
    area: Option<String>,
    state: Option<String>,
    ok: Option<String>,
    /// `xlsx`: the page's Excel download
    export: Option<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "community/deliberation.html")]
pub struct ListPage {
    l: Layout,
    unit_view: bool,
    meetings: Vec<(Meeting, String)>,
    rows: Vec<SuggestionRow>,
    closure: Vec<Closure>,
    area: String,
    areas: Vec<Opt>,
    state: String,
    communities: Vec<Opt>,
    units: Vec<Opt>,
    today: String,
    manager: bool,
    f: MeetingInput,
    errors: FieldErrors,
    /// The suggestion whose handling was refused, and the answer typed
    failed: String,
    typed_answer: String,
    /// Why the filters were refused (the lists are then empty)
    filter_error: Option<String>,
}

fn today() -> String {
    to_local(now_ms()).format("%Y-%m-%d").to_string()
}

async fn units(db: &crate::store::Db) -> Result<Vec<Opt>, sqlx::Error> {
    let rows: Vec<(String, String)> =
        sqlx::query_as("SELECT id, name FROM units WHERE active = 1 ORDER BY name").fetch_all(&db.pool).await?;
    Ok(rows.into_iter().map(|(id, n)| Opt::new(id, n)).collect())
}

async fn list_page(
    page: &PageUser,
    q: ListQuery,
    f: MeetingInput,
    errors: FieldErrors,
    failed: (&str, &str),
) -> PageResult<Response> {
    let p = build(page, q, f, errors, failed).await?;
    let status =
        if p.filter_error.is_some() { axum::http::StatusCode::BAD_REQUEST } else { axum::http::StatusCode::OK };
    Ok((status, p).into_response())
}

async fn build(
    page: &PageUser,
    q: ListQuery,
    f: MeetingInput,
    errors: FieldErrors,
    failed: (&str, &str),
) -> PageResult<ListPage> {
    let ctx = page.ctx();
    let unit_view = page.user.role.needs_unit();
    let scope = crate::service::access::area_scope(&ctx).await?;
    let areas = if unit_view { Vec::new() } else { super::scoped_area_options(&page.state.db, scope.as_ref()).await? };
    let area = q.area.clone().unwrap_or_default();
    let state = q.state.clone().unwrap_or_default();
    let filter_error = if !matches!(state.as_str(), "" | "open" | "routed" | "answered" | "overdue") {
        Some(format!("状态“{state}”无效，应为待答复、已转单位办理、已答复或逾期未答复"))
    } else if !area.is_empty() && !areas.iter().any(|a| a.value == area) {
        Some("所选区域不存在或不在您的管辖范围内，请在“区域”中重新选择".to_string())
    } else {
        None
    };
    let chosen = Some(area.clone()).filter(|a| !a.is_empty() && filter_error.is_none());
    let all = match filter_error {
        None => svc::suggestions(&ctx, chosen.clone(), None).await?,
        Some(_) => Vec::new(),
    };
    let today = today();
    let closure = svc::closure(&all, &today);
    let rows = all
        .into_iter()
        .filter(|r| match state.as_str() {
            "" => true,
            "overdue" => r.overdue(&today),
            s => r.state.as_str() == s,
        })
        .collect();
    let meetings = match (unit_view, &filter_error) {
        (false, None) => svc::meetings(&ctx, chosen).await?,
        _ => Vec::new(),
    };
    Ok(ListPage {
        l: Layout::new(&page.user, "deliberation", if unit_view { "居民建议办理" } else { "居民议事" })
            .with_flash(q.ok.as_deref()),
        meetings,
        rows,
        closure,
        area,
        areas,
        state,
        communities: crate::web::pages::surveys::communities(&page.state.db)
            .await?
            .into_iter()
            .filter(|c| scope.as_ref().is_none_or(|s| s.contains(&c.value)))
            .collect(),
        units: units(&page.state.db).await?,
        today,
        manager: matches!(page.user.role, Role::Admin | Role::GridWorker),
        unit_view,
        f,
        errors,
        failed: failed.0.into(),
        typed_answer: failed.1.into(),
        filter_error,
    })
}

pub async fn list(
    page: PageUser,
    crate::web::query::Query(q): crate::web::query::Query<ListQuery>,
) -> PageResult<Response> {
    if q.export.as_deref() == Some("xlsx") {
        let p = build(&page, q, MeetingInput::default(), FieldErrors::default(), ("", "")).await?;
        if p.filter_error.is_none() {
            return Ok(list::xlsx(&p.l.title, workbook(&p)));
        }
        return Ok((axum::http::StatusCode::BAD_REQUEST, p).into_response());
    }
    list_page(&page, q, MeetingInput::default(), FieldErrors::default(), ("", "")).await
}

/// The page's Excel download: the suggestions as filtered, then (for the office and the
/// community) the closure per community and the meetings.
fn workbook(p: &ListPage) -> Vec<Sheet> {
    let today = p.today.clone();
    let mut suggestion_cols = vec![
        col("社区", |r: &SuggestionRow| Cell::text(&r.community)),
        col("建议", |r: &SuggestionRow| Cell::text(&r.content)),
    ];
    if !p.unit_view {
        suggestion_cols.push(col("提出人", |r: &SuggestionRow| Cell::text(&r.raised_by)));
    }
    suggestion_cols.extend([
        col("来源", |r: &SuggestionRow| Cell::text(r.channel.label())),
        col("状态", |r: &SuggestionRow| Cell::text(r.state.label())),
        col("逾期", move |r: &SuggestionRow| Cell::text(if r.overdue(&today) { "逾期" } else { "" })),
        col("承办单位", |r: &SuggestionRow| Cell::text(r.unit.clone().unwrap_or_default())),
        col("答复时限", |r: &SuggestionRow| Cell::text(r.due_on.clone().unwrap_or_default())),
        col("答复", |r: &SuggestionRow| Cell::text(&r.answer)),
        col("提出时间", |r: &SuggestionRow| Cell::Time(Some(r.created_at))),
        col("答复时间", |r: &SuggestionRow| Cell::Time(r.answered_at)),
    ]);
    let mut sheets = vec![Sheet {
        name: "居民建议".into(),
        table: Table::of(&suggestion_cols, On::Sheet, &p.rows, "没有居民建议"),
    }];
    if p.unit_view {
        return sheets;
    }
    let closure_cols = vec![
        col("社区", |c: &Closure| Cell::text(&c.community)),
        col("建议", |c: &Closure| Cell::Int(c.all)),
        col("已答复", |c: &Closure| Cell::Int(c.answered)),
        col("办结率", |c: &Closure| Cell::Percent(c.rate)),
        col("平均用时（天）", |c: &Closure| match c.avg_days {
            Some(d) => Cell::Decimal(d, 1),
            None => Cell::Muted("—".into()),
        }),
        col("逾期", |c: &Closure| Cell::Int(c.overdue)),
    ];
    sheets.push(Sheet {
        name: "各社区办结情况".into(),
        table: Table::of(&closure_cols, On::Sheet, &p.closure, "还没有居民建议"),
    });
    let meeting_cols = vec![
        col("日期", |m: &(Meeting, String)| Cell::Date(m.0.held_on.clone())),
        col("社区", |m: &(Meeting, String)| Cell::text(&m.1)),
        col("议题", |m: &(Meeting, String)| Cell::text(&m.0.topic)),
        col("地点", |m: &(Meeting, String)| Cell::text(&m.0.place)),
        col("参会居民（人）", |m: &(Meeting, String)| Cell::Int(m.0.residents)),
        col("参会党员（人）", |m: &(Meeting, String)| Cell::Int(m.0.party_members)),
        col("物业企业", |m: &(Meeting, String)| Cell::text(&m.0.property)),
        col("共建单位", |m: &(Meeting, String)| Cell::text(&m.0.partners)),
    ];
    sheets.push(Sheet {
        name: "居民议事会".into(),
        table: Table::of(&meeting_cols, On::Sheet, &p.meetings, "还没有议事会"),
    });
    sheets
}

pub async fn create_meeting(CsrfForm { page, form }: CsrfForm<MeetingInput>) -> PageResult<Response> {
    let r = svc::create_meeting(&page.ctx(), form.clone()).await;
    crate::web::pages::posted(
        r,
        |m| format!("/deliberation/meetings/{}?ok=created", m.id),
        async |e| list_page(&page, ListQuery::default(), form, e, ("", "")).await,
    )
    .await
}

#[derive(Template, WebTemplate)]
#[template(path = "community/meeting.html")]
pub struct MeetingPage {
    l: Layout,
    m: Meeting,
    community: String,
    rows: Vec<SuggestionRow>,
    units: Vec<Opt>,
    today: String,
    manager: bool,
    errors: FieldErrors,
    /// The suggestion whose handling was refused ("new": the new one), and what was typed
    failed: String,
    typed_answer: String,
    typed: SuggestionInput,
}

#[derive(serde::Deserialize, Default)]
pub struct Flash {
    ok: Option<String>,
}

async fn meeting_page(page: &PageUser, id: &str, errors: FieldErrors, failed: &str) -> PageResult<MeetingPage> {
    let ctx = page.ctx();
    let (m, community) = svc::meeting(&ctx, id).await?;
    Ok(MeetingPage {
        l: Layout::new(&page.user, "deliberation", format!("{community} · {} 居民议事会", m.held_on)),
        rows: svc::suggestions(&ctx, None, Some(id)).await?,
        units: units(&page.state.db).await?,
        today: today(),
        manager: matches!(page.user.role, Role::Admin | Role::GridWorker),
        m,
        community,
        errors,
        failed: failed.into(),
        typed_answer: String::new(),
        typed: SuggestionInput::default(),
    })
}

pub async fn meeting(
    page: PageUser,
    Path(id): Path<String>,
    crate::web::query::Query(q): crate::web::query::Query<Flash>,
) -> PageResult<MeetingPage> {
    let mut p = meeting_page(&page, &id, FieldErrors::default(), "").await?;
    p.l = p.l.with_flash(q.ok.as_deref());
    Ok(p)
}

pub async fn add_suggestion(
    Path(id): Path<String>,
    CsrfForm { page, form }: CsrfForm<SuggestionInput>,
) -> PageResult<Response> {
    let r = svc::add_at_meeting(&page.ctx(), &id, form.clone()).await;
    crate::web::pages::posted(
        r,
        |s| format!("/deliberation/meetings/{}?ok=created", s.meeting_id.unwrap_or_default()),
        async |e| Ok(MeetingPage { typed: form, ..meeting_page(&page, &id, e, "new").await? }),
    )
    .await
}

pub async fn handle(Path(id): Path<String>, CsrfForm { page, form }: CsrfForm<HandleInput>) -> PageResult<Response> {
    let answer = form.answer.clone();
    let r = svc::handle(&page.ctx(), &id, form).await;
    let s: Option<svc::Suggestion> = crate::store::record::find(&page.state.db, &id).await?;
    let back = match s.as_ref().and_then(|s| s.meeting_id.clone()) {
        Some(m) if !page.user.role.needs_unit() => format!("/deliberation/meetings/{m}"),
        _ => "/deliberation".into(),
    };
    let meeting = s.and_then(|s| s.meeting_id).filter(|_| !page.user.role.needs_unit());
    crate::web::pages::posted(
        r,
        |_| format!("{back}?ok=saved"),
        async |e| match meeting {
            Some(m) => {
                Ok(MeetingPage { typed_answer: answer, ..meeting_page(&page, &m, e, &id).await? }.into_response())
            }
            None => list_page(&page, ListQuery::default(), MeetingInput::default(), e, (&id, &answer)).await,
        },
    )
    .await
}

pub async fn minutes(page: PageUser, Path(id): Path<String>) -> PageResult<Response> {
    let (name, bytes) = svc::minutes_docx(&page.ctx(), &id).await?;
    Ok(super::evaluations::download(
        &name,
        "docx",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        bytes,
    ))
}
