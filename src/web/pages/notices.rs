//! 通报与简报: the list (and generation for the office), the print-friendly notice page with its
//! editing, publishing and reading confirmations, and the Word and Excel downloads.

use crate::domain::role::Role;
use crate::domain::score::Class;
use crate::domain::standard::Publication;
use crate::domain::time::fmt_local;
use crate::error::AppError;
use crate::service::notices::{self as svc, ListQuery, NoticeData};
use crate::service::scoring::{parse_class, parse_day};
use crate::store::notices::{Notice, ReadStatus};
use crate::web::auth::{CsrfForm, PageUser};
use crate::web::error::PageResult;
use crate::web::list::{self, Cell, Column, Input, Listed, Listing, Paging, options, sheet_col};
use crate::web::lists::Notices;
use crate::web::query::Query;
use crate::web::ui::{Layout, Opt};
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, RawQuery};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

#[derive(Template, WebTemplate)]
#[template(path = "notices/list.html")]
pub struct ListPage {
    l: Layout,
    list: Listing,
    classes: Vec<Opt>,
    is_admin: bool,
    today: String,
    error: Option<String>,
    /// The document number prefix, 抄送 and 印发机关 in the settings form (as typed, after a
    /// refused save; its section then open)
    settings: svc::NoticeSettings,
    /// The settings as stored (the form's `seen_*`)
    seen: svc::NoticeSettings,
    settings_refused: bool,
}

async fn list_page(
    page: &PageUser,
    raw: Option<&str>,
    q: &ListQuery,
    paging: &Paging,
    error: Option<String>,
    typed: Option<svc::NoticeSettings>,
) -> PageResult<Response> {
    let list = match list::page::<Notices>(page, raw, q, paging).await? {
        Listed::Export(r) => return Ok(r),
        Listed::View(v) => v,
    };
    let status = if error.is_some() { StatusCode::UNPROCESSABLE_ENTITY } else { list.status() };
    let seen = svc::settings(&page.state.db).await?;
    let p = ListPage {
        l: Layout::new(&page.user, "notices", "通报简报"),
        list,
        classes: options(&Class::ALL, Class::as_str, Class::label),
        is_admin: page.user.role == Role::Admin,
        // A week's notice is written once the week is over: the form opens on last week.
        today: (crate::domain::time::to_local(crate::domain::time::now_ms()).date_naive() - chrono::Days::new(7))
            .format("%Y-%m-%d")
            .to_string(),
        error,
        settings_refused: typed.is_some(),
        seen: seen.clone(),
        settings: typed.unwrap_or(seen),
    };
    Ok((status, p).into_response())
}

/// The office's notice settings: document number prefix, 抄送, 印发机关.
pub async fn save_settings(
    crate::web::auth::CsrfForm { page, form }: crate::web::auth::CsrfForm<svc::SettingsInput>,
) -> PageResult<Response> {
    match svc::save_settings(&page.ctx(), &form).await {
        Ok(_) => Ok(axum::response::Redirect::to("/notices?ok=saved").into_response()),
        Err(e @ (AppError::Validation(_) | AppError::Refused(..))) => {
            let msg = crate::web::error::message_of(&e);
            let typed = svc::NoticeSettings { number_prefix: form.number_prefix, cc: form.cc, issuer: form.issuer };
            list_page(&page, None, &ListQuery::default(), &Paging::default(), Some(msg), Some(typed)).await
        }
        Err(e) => Err(e.into()),
    }
}

/// The notices (declared in `web::lists::campaign`) with the office's form generating a draft.
pub async fn list(
    page: PageUser,
    RawQuery(raw): RawQuery,
    Query(q): Query<ListQuery>,
    Query(paging): Query<Paging>,
) -> PageResult<Response> {
    list_page(&page, raw.as_deref(), &q, &paging, None, None).await
}

#[derive(Deserialize, Default)]
pub struct GenerateForm {
    #[serde(default)]
    kind: String,
    #[serde(default)]
    class: String,
    #[serde(default)]
    date: String,
}

pub async fn generate(CsrfForm { page, form }: CsrfForm<GenerateForm>) -> PageResult<Response> {
    let run = async {
        let kind = svc::parse_kind(&form.kind)?;
        let class = parse_class(&form.class)?;
        let day = parse_day(Some(&form.date))?;
        svc::generate(&page.ctx(), kind, class, day).await
    };
    match run.await {
        Ok(n) => Ok(Redirect::to(&format!("/notices/{}", n.id)).into_response()),
        Err(e @ AppError::Refused(..)) => {
            list_page(&page, None, &ListQuery::default(), &Paging::default(), Some(e.to_string()), None).await
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "notices/detail.html")]
pub struct DetailPage {
    l: Layout,
    n: Notice,
    d: NoticeData,
    paragraphs: Vec<String>,
    date: String,
    is_admin: bool,
    can_confirm: bool,
    confirmed: bool,
    reads: Vec<(ReadStatus, String)>,
    unread: usize,
    error: Option<String>,
    /// The corrections of this notice (number, id), or for a correction the notice it corrects
    corrections: Vec<(String, String)>,
    corrects: Option<(String, String)>,
    /// The ledger of the period's late problems, under an overdue table that lists only some
    late_link: String,
}

async fn detail_page(page: &PageUser, id: &str, error: Option<String>) -> PageResult<DetailPage> {
    let ctx = page.ctx();
    let n = svc::visible(&ctx, id).await?;
    let d = svc::data_of(&n)?;
    let is_admin = page.user.role == Role::Admin;
    let reads = if matches!(page.user.role, Role::Admin | Role::Discipline) && n.status == Publication::Published {
        svc::reads(&ctx, id)
            .await?
            .into_iter()
            .map(|r| {
                let at = r.read_at.map(|t| fmt_local(t)[..16].to_string()).unwrap_or_default();
                (r, at)
            })
            .collect()
    } else {
        Vec::new()
    };
    let unread = reads.iter().filter(|(r, _)| r.read_at.is_none()).count();
    let can_confirm = page.user.role.needs_unit() && n.status == Publication::Published;
    let confirmed = match (&page.user.unit_id, can_confirm) {
        (Some(u), true) => {
            crate::store::notices::reads(ctx.db, id).await?.iter().any(|r| &r.unit_id == u && r.read_at.is_some())
        }
        _ => false,
    };
    let corrections =
        crate::store::notices::corrections(ctx.db, id).await?.into_iter().map(|c| (c.number, c.id)).collect();
    let corrects = match &n.corrects_id {
        Some(o) => crate::store::notices::get(ctx.db, o).await?.map(|o| (o.number, o.id)),
        None => None,
    };
    Ok(DetailPage {
        late_link: svc::late_ledger_link(&n),
        corrections,
        corrects,
        l: Layout::new(&page.user, "notices", n.number.clone()),
        paragraphs: n.body.split("\n\n").map(|p| p.trim().to_string()).filter(|p| !p.is_empty()).collect(),
        date: crate::domain::time::to_local(n.published_at.unwrap_or(n.created_at))
            .format("%Y年%-m月%-d日")
            .to_string(),
        n,
        d,
        is_admin,
        can_confirm,
        confirmed,
        reads,
        unread,
        error,
    })
}

pub async fn detail(page: PageUser, Path(id): Path<String>) -> PageResult<DetailPage> {
    detail_page(&page, &id, None).await
}

#[derive(Deserialize, Default)]
pub struct EditForm {
    #[serde(default)]
    title: String,
    #[serde(default)]
    body: String,
    version: Option<i64>,
}

pub async fn edit(Path(id): Path<String>, CsrfForm { page, form }: CsrfForm<EditForm>) -> PageResult<Response> {
    match svc::edit(&page.ctx(), &id, &form.title, &form.body.replace("\r\n", "\n"), form.version).await {
        Ok(_) => Ok(Redirect::to(&format!("/notices/{id}")).into_response()),
        Err(e @ AppError::Validation(_)) => {
            let m = crate::web::error::message_of(&e);
            Ok((StatusCode::UNPROCESSABLE_ENTITY, detail_page(&page, &id, Some(m)).await?).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

pub async fn publish(
    Path(id): Path<String>,
    CsrfForm { page, form }: CsrfForm<Vec<(String, String)>>,
) -> PageResult<Response> {
    let early = form.iter().any(|(k, v)| k == "early" && v == "1");
    match svc::publish(&page.ctx(), &id, early).await {
        Ok(_) => Ok(Redirect::to(&format!("/notices/{id}")).into_response()),
        Err(AppError::Refused(crate::error::Code::PeriodNotEnded | crate::error::Code::NoticeOutdated, m)) => {
            Ok((StatusCode::CONFLICT, detail_page(&page, &id, Some(m)).await?).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize, Default)]
pub struct RefreshForm {
    #[serde(default)]
    version: Option<i64>,
}

/// 按最新数据重新生成 a draft.
pub async fn refresh(Path(id): Path<String>, CsrfForm { page, form }: CsrfForm<RefreshForm>) -> PageResult<Response> {
    match svc::refresh(&page.ctx(), &id, form.version).await {
        Ok(_) => Ok(Redirect::to(&format!("/notices/{id}?ok=saved")).into_response()),
        Err(e @ AppError::Refused(..)) => {
            let m = crate::web::error::message_of(&e);
            Ok((e.status(), detail_page(&page, &id, Some(m)).await?).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize, Default)]
pub struct CorrectForm {
    #[serde(default)]
    body: String,
}

/// 发布更正: the office puts a published notice right; the original is kept as published.
pub async fn correct(Path(id): Path<String>, CsrfForm { page, form }: CsrfForm<CorrectForm>) -> PageResult<Response> {
    match svc::correct(&page.ctx(), &id, &form.body.replace("\r\n", "\n")).await {
        Ok(c) => Ok(Redirect::to(&format!("/notices/{}", c.id)).into_response()),
        Err(e @ (AppError::Validation(_) | AppError::Refused(..))) => {
            let m = crate::web::error::message_of(&e);
            Ok((StatusCode::UNPROCESSABLE_ENTITY, detail_page(&page, &id, Some(m)).await?).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

pub async fn confirm(
    Path(id): Path<String>,
    CsrfForm { page, .. }: CsrfForm<Vec<(String, String)>>,
) -> PageResult<Response> {
    svc::confirm_read(&page.ctx(), &id).await?;
    Ok(Redirect::to(&format!("/notices/{id}")).into_response())
}

/// A notice's file name: its title, then its document number in brackets (a draft has none).
fn filename(n: &Notice) -> String {
    let name = if n.number.is_empty() { n.title.clone() } else { format!("{}（{}）", n.title, n.number) };
    name.replace(['/', '\\', '"'], "")
}

pub async fn docx(page: PageUser, Path(id): Path<String>) -> PageResult<Response> {
    let n = svc::visible(&page.ctx(), &id).await?;
    let bytes = svc::docx(&page.state.db, &page.state.storage, &n).await?;
    let disposition = format!(
        "attachment; filename=\"notice.docx\"; filename*=UTF-8''{}",
        crate::web::auth::urlencode(&format!("{}.docx", filename(&n)))
    );
    Ok((
        [
            (
                header::CONTENT_TYPE,
                "application/vnd.openxmlformats-officedocument.wordprocessingml.document".to_string(),
            ),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        bytes,
    )
        .into_response())
}

pub async fn xlsx(page: PageUser, Path(id): Path<String>) -> PageResult<Response> {
    let n = svc::visible(&page.ctx(), &id).await?;
    let d = svc::data_of(&n)?;
    let ranking: Vec<Column<svc::RankRow>> = vec![
        sheet_col("名次", |r: &svc::RankRow| Cell::Int(r.rank)),
        sheet_col("名称", |r: &svc::RankRow| Cell::text(&r.name)),
        sheet_col("得分", |r: &svc::RankRow| Cell::number(&r.score)),
        sheet_col("上期名次", |r: &svc::RankRow| {
            r.prev_rank.map(Cell::Int).unwrap_or_else(|| Cell::Muted(String::new()))
        }),
        sheet_col("备注", |r: &svc::RankRow| Cell::text(r.note())),
    ];
    let overdue: Vec<Column<svc::OverdueRow>> = vec![
        sheet_col("编号", |o: &svc::OverdueRow| Cell::text(&o.code)),
        sheet_col("点位", |o: &svc::OverdueRow| Cell::text(&o.point)),
        sheet_col("责任单位", |o: &svc::OverdueRow| Cell::text(&o.unit)),
        sheet_col("问题", |o: &svc::OverdueRow| Cell::text(&o.category)),
        sheet_col("整改期限", |o: &svc::OverdueRow| Cell::text(&o.deadline)),
        sheet_col("超期工时", |o: &svc::OverdueRow| Cell::Decimal(o.hours, 1)),
        sheet_col("状态", |o: &svc::OverdueRow| Cell::text(if o.open { "未整改" } else { "逾期后整改" })),
    ];
    let interviews: Vec<Column<(String, i64)>> = vec![
        sheet_col("单位", |(u, _): &(String, i64)| Cell::text(u)),
        sheet_col("逾期问题数", |(_, c): &(String, i64)| Cell::Int(*c)),
    ];
    Ok(list::xlsx(
        &filename(&n),
        vec![
            list::sheet("排名", &ranking, &d.ranking),
            list::sheet("逾期问题", &overdue, &d.overdue),
            list::sheet("拟约谈单位", &interviews, &d.interviews),
        ],
    ))
}

/// A typical problem's photo as the notice shows it: readable by whoever may read the notice.
pub async fn photo(page: PageUser, Path((id, photo)): Path<(String, String)>) -> PageResult<Response> {
    let n = svc::visible(&page.ctx(), &id).await?;
    let d = svc::data_of(&n)?;
    let listed =
        d.typical.iter().any(|t| t.before_photo.as_deref() == Some(&photo) || t.after_photo.as_deref() == Some(&photo));
    if !listed {
        return Err(AppError::NotFound.into());
    }
    let ph = crate::store::photos::get(&page.state.db, &photo).await?.ok_or(AppError::NotFound)?;
    let bytes = page.state.storage.get(&ph.thumb_key).await.map_err(|e| anyhow::anyhow!("reading photo: {e}"))?;
    Ok(([(header::CONTENT_TYPE, "image/jpeg")], bytes).into_response())
}

/// A record, the links to its facts (href, label) and when it was made.
type InterviewRow = (crate::service::interviews::Interview, Vec<(String, String)>, String);

#[derive(Template, WebTemplate)]
#[template(path = "notices/interviews.html")]
pub struct InterviewsPage {
    l: Layout,
    rows: Vec<InterviewRow>,
    units: Vec<Opt>,
    is_admin: bool,
    unit_id: String,
    reason: String,
    problems: String,
    error: Option<String>,
    /// Today (Beijing), the default date of an outcome
    today: String,
    /// The filter as asked (unit, kind, recorded or pending, year), the page and how many pages
    q: InterviewQuery,
    all_units: Vec<Opt>,
    page_no: usize,
    pages: usize,
    total: usize,
    /// The query string without the page, for the paging and export links
    query: String,
}

#[derive(Deserialize, Default, Clone)]
pub struct InterviewQuery {
    /// Prefills the office's form from a unit's overdue problems
    #[serde(default)]
    unit_id: Option<String>,
    /// Filter: one unit
    #[serde(default)]
    unit: String,
    /// interview or accountability
    #[serde(default)]
    kind: String,
    /// recorded (结果已记录) or pending (待记录)
    #[serde(default)]
    status: String,
    #[serde(default)]
    year: String,
    #[serde(default)]
    page: Option<usize>,
    /// xlsx: the filtered list as an Excel workbook
    #[serde(default)]
    export: String,
}

const INTERVIEWS_PER_PAGE: usize = 20;

/// The interviews the caller may see, narrowed by the filter.
async fn filtered_interviews(
    ctx: &crate::service::Ctx<'_>,
    q: &InterviewQuery,
) -> PageResult<Vec<crate::service::interviews::Interview>> {
    let year = crate::service::scoring::year_filter(Some(&q.year))?;
    Ok(crate::service::interviews::list(ctx)
        .await?
        .into_iter()
        .filter(|i| q.unit.is_empty() || i.unit_id == q.unit)
        .filter(|i| q.kind.is_empty() || i.kind.as_str() == q.kind)
        .filter(|i| match q.status.as_str() {
            "recorded" => !i.outcome.is_empty(),
            "pending" => i.outcome.is_empty(),
            _ => true,
        })
        .filter(|i| year.as_ref().is_none_or(|y| i.created_at >= y.from && i.created_at < y.to))
        .collect())
}

async fn interviews_page(page: &PageUser, form: InterviewForm, error: Option<String>) -> PageResult<InterviewsPage> {
    interviews_listed(page, form, error, InterviewQuery::default()).await
}

async fn interviews_listed(
    page: &PageUser,
    form: InterviewForm,
    error: Option<String>,
    q: InterviewQuery,
) -> PageResult<InterviewsPage> {
    let ctx = page.ctx();
    let all = filtered_interviews(&ctx, &q).await?;
    let total = all.len();
    let pages = total.div_ceil(INTERVIEWS_PER_PAGE).max(1);
    let page_no = q.page.unwrap_or(1).clamp(1, pages);
    let rows = all
        .into_iter()
        .skip((page_no - 1) * INTERVIEWS_PER_PAGE)
        .take(INTERVIEWS_PER_PAGE)
        .map(|i| {
            let facts: Vec<serde_json::Value> = serde_json::from_str(&i.facts).unwrap_or_default();
            let links = facts
                .iter()
                .map(|f| match f["type"].as_str() {
                    Some("notice") => (
                        format!("/notices/{}", f["id"].as_str().unwrap_or("")),
                        f["number"].as_str().unwrap_or("").to_string(),
                    ),
                    // A 模拟测评 round whose last place is to be interviewed.
                    Some("eval_round") => (
                        format!("/evaluations/{}", f["id"].as_str().unwrap_or("")),
                        f["name"].as_str().unwrap_or("").to_string(),
                    ),
                    _ => (
                        format!("/problems/{}", f["id"].as_str().unwrap_or("")),
                        f["code"].as_str().unwrap_or("").to_string(),
                    ),
                })
                .collect();
            let at = fmt_local(i.created_at)[..16].to_string();
            (i, links, at)
        })
        .collect();
    let is_admin = page.user.role == Role::Admin;
    let units = if is_admin {
        crate::store::units::all_names(ctx.db).await?.into_iter().map(|(id, n)| Opt::new(id, n)).collect()
    } else {
        Vec::new()
    };
    let enc = crate::domain::urlencode;
    let query = format!("unit={}&kind={}&status={}&year={}", enc(&q.unit), enc(&q.kind), enc(&q.status), enc(&q.year));
    let all_units = if page.user.role.needs_unit() {
        Vec::new()
    } else {
        crate::store::units::all_names(ctx.db).await?.into_iter().map(|(id, n)| Opt::new(id, n)).collect()
    };
    Ok(InterviewsPage {
        l: Layout::new(&page.user, "interviews", "约谈问责"),
        q,
        all_units,
        page_no,
        pages,
        total,
        query,
        rows,
        units,
        is_admin,
        unit_id: form.unit_id,
        reason: form.reason,
        problems: form.problems,
        error,
        today: crate::domain::time::to_local(crate::domain::time::now_ms()).format("%Y-%m-%d").to_string(),
    })
}

#[derive(Deserialize, Default)]
pub struct OutcomeForm {
    #[serde(default)]
    held_on: String,
    #[serde(default)]
    outcome: String,
    #[serde(default, deserialize_with = "crate::service::version")]
    version: Option<i64>,
}

/// The office records when an interview was held and what came of it.
pub async fn interview_outcome(
    axum::extract::Path(id): axum::extract::Path<String>,
    CsrfForm { page, form }: CsrfForm<OutcomeForm>,
) -> PageResult<Response> {
    match crate::service::interviews::record_outcome(&page.ctx(), &id, &form.held_on, &form.outcome, form.version).await
    {
        Ok(()) => Ok(Redirect::to("/interviews").into_response()),
        Err(e @ AppError::Validation(_)) => {
            let m = crate::web::error::message_of(&e);
            let again = interviews_page(&page, InterviewForm::default(), Some(m)).await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, again).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

/// The records, and for the office a form prefilled from 督办问责: the unit and its overdue problems.
pub async fn interviews(
    page: PageUser,
    crate::web::query::Query(q): crate::web::query::Query<InterviewQuery>,
) -> PageResult<Response> {
    let mut form = InterviewForm::default();
    if let Some(unit) = q.unit_id.clone().filter(|u| !u.is_empty()) {
        let f = crate::store::problems::ProblemFilter {
            unit_id: Some(unit.clone()),
            overdue_at: Some(crate::domain::time::now_ms()),
            ..Default::default()
        };
        let (rows, _) =
            crate::store::problems::list(&page.state.db, &f, crate::store::PageReq::new(Some(1), Some(50))).await?;
        form.problems = rows.iter().map(|r| r.code.clone()).collect::<Vec<_>>().join(",");
        form.reason = format!("逾期未整改问题{}件", rows.len());
        form.unit_id = unit;
    }
    if q.export == "xlsx" {
        let rows = filtered_interviews(&page.ctx(), &q).await?;
        let cols: Vec<Column<crate::service::interviews::Interview>> = vec![
            sheet_col("类型", |i: &crate::service::interviews::Interview| Cell::text(i.kind.label())),
            sheet_col("单位", |i: &crate::service::interviews::Interview| Cell::text(&i.unit_name)),
            sheet_col("事由", |i: &crate::service::interviews::Interview| Cell::text(&i.reason)),
            sheet_col("登记时间", |i: &crate::service::interviews::Interview| Cell::Time(Some(i.created_at))),
            sheet_col("约谈/问责日期", |i: &crate::service::interviews::Interview| Cell::Time(i.held_at)),
            sheet_col("结果", |i: &crate::service::interviews::Interview| Cell::text(&i.outcome)),
        ];
        return Ok(list::xlsx("约谈问责", vec![list::sheet("约谈问责", &cols, &rows)]));
    }
    Ok(interviews_listed(&page, form, None, q).await?.into_response())
}

#[derive(Deserialize, Default, Clone)]
pub struct InterviewForm {
    #[serde(default)]
    kind: String,
    #[serde(default)]
    unit_id: String,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    problems: String,
}

pub async fn create_interview(CsrfForm { page, form }: CsrfForm<InterviewForm>) -> PageResult<Response> {
    let input = crate::service::interviews::InterviewInput {
        kind: form.kind.clone(),
        unit_id: form.unit_id.clone(),
        reason: form.reason.clone(),
        problems: form.problems.split([',', '，', ' ']).map(str::to_string).filter(|s| !s.is_empty()).collect(),
        notice_id: None,
    };
    match crate::service::interviews::create(&page.ctx(), input).await {
        Ok(_) => Ok(Redirect::to("/interviews").into_response()),
        Err(e @ AppError::Validation(_)) => {
            let m = crate::web::error::message_of(&e);
            Ok((StatusCode::UNPROCESSABLE_ENTITY, interviews_page(&page, form, Some(m)).await?).into_response())
        }
        Err(e) => Err(e.into()),
    }
}
