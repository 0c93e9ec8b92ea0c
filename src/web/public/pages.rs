//! The public pages (no login).

use super::gate::CACHE_HEADER;
use crate::domain::citizen::{self, ReportState, SATISFACTION};
use crate::domain::time::{fmt_local, now_ms};
use crate::error::{AppError, AppResult, Code};
use crate::service::reports::{self as service, Sender, Status, SubmitInput};
use crate::store::reports::{self as store, PublicKind, PublicProblem, PublicRow, ReportFilter};
use crate::store::{Db, PageReq};
use crate::web::AppState;
use crate::web::auth::{client_ip, cookie, parse_form, set_cookie};
use crate::web::error::{ApiError, PageResult, error_page};
use crate::web::query::Query;
use crate::web::ui::Pager;
use askama::Template;
use askama_web::WebTemplate;
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

/// The double-submit token of the public forms (there is no session to hold one).
const CSRF_COOKIE: &str = "cc_pub";
/// Public lists show this many per page.
const PAGE: i64 = 20;
/// Seconds a page that is the same for everyone is kept.
const FRESH: &str = "30";

pub struct PublicLayout {
    pub title: String,
    pub active: &'static str,
    pub city: String,
}

pub(super) async fn layout(db: &Db, active: &'static str, title: &str) -> PublicLayout {
    let city: Option<String> =
        sqlx::query_scalar("SELECT name FROM org_nodes WHERE parent_id IS NULL ORDER BY code LIMIT 1")
            .fetch_optional(&db.pool)
            .await
            .ok()
            .flatten();
    PublicLayout { title: title.into(), active, city: city.unwrap_or_else(|| "本市".into()) }
}

fn cached(page: impl IntoResponse) -> Response {
    let mut res = page.into_response();
    res.headers_mut().insert(CACHE_HEADER, header::HeaderValue::from_static(FRESH));
    res
}

/// The public form token: the cookie's when the browser has one, else a new one to set.
pub(super) fn form_token(headers: &HeaderMap, secure: bool) -> (String, Option<String>) {
    match cookie(headers, CSRF_COOKIE).filter(|t| t.len() == 32) {
        Some(t) => (t, None),
        None => {
            let t = crate::service::auth::random_hex(16);
            let c = set_cookie(CSRF_COOKIE, &t, 86_400, secure);
            (t, Some(c))
        }
    }
}

pub(super) fn token_ok(headers: &HeaderMap, given: &str) -> bool {
    cookie(headers, CSRF_COOKIE).is_some_and(|c| !c.is_empty() && crate::service::auth::same_token(&c, given))
}

/// A public form's page token (`_csrf`), for `posted`.
pub(super) trait Posted {
    fn csrf(&self) -> &str;
}

/// A form read as its fields in order.
impl Posted for Vec<(String, String)> {
    fn csrf(&self) -> &str {
        self.iter().find(|(k, _)| k == "_csrf").map(|(_, v)| v.as_str()).unwrap_or("")
    }
}

/// A public form as posted: read (an unreadable one answered with its page) and its page's
/// token checked (an expired page answered 403 with `expired`, which says what to do again).
pub(super) fn posted<T: serde::de::DeserializeOwned + Posted>(
    headers: &HeaderMap,
    body: &[u8],
    expired: &str,
) -> Result<T, Response> {
    let f: T = parse_form(body)?;
    if !token_ok(headers, f.csrf()) {
        return Err(error_page(StatusCode::FORBIDDEN, expired.into()));
    }
    Ok(f)
}

pub(super) fn with_cookie(res: impl IntoResponse, set: Option<String>) -> Response {
    let mut res = res.into_response();
    if let Some(c) = set
        && let Ok(v) = header::HeaderValue::from_str(&c)
    {
        res.headers_mut().append(header::SET_COOKIE, v);
    }
    res
}

/// The address links to this server start with: the configured `public_url`, else the host the
/// request was sent to.
pub(crate) fn base_url(state: &AppState, headers: &HeaderMap) -> String {
    match state.config.public_url.trim() {
        "" => {
            let host = headers.get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("localhost");
            format!("http://{host}")
        }
        url => url.trim_end_matches('/').to_string(),
    }
}

fn sender(state: &AppState, parts: &Parts) -> Sender {
    let ip = client_ip(parts, &state.config.trusted_proxies);
    Sender { client: service::client_of(&ip), channel: citizen::Channel::Web, api_key: None }
}

// --- Filters --------------------------------------------------------------------------------

#[derive(Debug, Default, Deserialize)]
pub struct PublicQuery {
    #[serde(default)]
    area: String,
    #[serde(default)]
    category: String,
    #[serde(default)]
    state: String,
    #[serde(default)]
    page: Option<i64>,
}

impl PublicQuery {
    pub fn for_feed(area: &str, category: &str, state: &str) -> PublicQuery {
        PublicQuery { area: area.into(), category: category.into(), state: state.into(), ..Default::default() }
    }
}

pub struct Filters {
    pub areas: Vec<(String, String)>,
    pub categories: Vec<String>,
    pub area: String,
    pub category: String,
    pub state: String,
    pub states: bool,
}

async fn filters(db: &Db, q: &PublicQuery, states: bool) -> AppResult<Filters> {
    use crate::domain::org::OrgLevel;
    let nodes = crate::store::org::all(db).await?;
    let mut areas = Vec::new();
    for s in nodes.iter().filter(|n| n.level == OrgLevel::Street) {
        areas.push((s.id.clone(), s.name.clone()));
        for c in nodes.iter().filter(|n| n.level == OrgLevel::Community && n.parent_id.as_deref() == Some(&s.id)) {
            areas.push((c.id.clone(), format!("　{}", c.name)));
        }
    }
    let mut categories: Vec<String> = Vec::new();
    for s in service::services(db).await? {
        if !categories.contains(&s.group) {
            categories.push(s.group);
        }
    }
    Ok(Filters {
        areas,
        categories,
        area: q.area.clone(),
        category: q.category.clone(),
        state: q.state.clone(),
        states,
    })
}

/// The communities of the chosen street or community (None: everywhere).
async fn communities(db: &Db, area: &str) -> AppResult<Option<Vec<String>>> {
    if area.trim().is_empty() {
        return Ok(None);
    }
    Ok(Some(crate::store::org::subtree_ids(db, area.trim()).await?))
}

fn category_of(q: &PublicQuery) -> Option<String> {
    Some(q.category.trim().to_string()).filter(|c| !c.is_empty() && c.chars().count() <= 30)
}

// --- Reports list and map --------------------------------------------------------------------

pub struct ReportLine {
    pub code: String,
    pub category: String,
    pub description: String,
    pub state: &'static str,
    pub state_class: &'static str,
    pub place: String,
    pub created: String,
    pub supporters: i64,
    pub unit: String,
    pub note: String,
}

fn line(r: &PublicRow) -> ReportLine {
    let r = &r.clone().for_public();
    let state = citizen::public_state(r.state, r.problem_state);
    let state_class = match state {
        "已办结" => "done",
        "不予立案" | "已作废" => "void",
        "待核实" => "new",
        _ => "open",
    };
    let place = [r.street_name.clone(), r.community_name.clone(), Some(r.address.clone())]
        .into_iter()
        .flatten()
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    ReportLine {
        code: r.code.clone(),
        category: r.category.clone(),
        description: r.description.clone(),
        state,
        state_class,
        place,
        created: fmt_local(r.created_at),
        supporters: r.supporters,
        unit: if r.state == ReportState::Verified { r.unit_name.clone().unwrap_or_default() } else { String::new() },
        note: r.public_note.clone(),
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "public/index.html")]
pub struct IndexPage {
    p: PublicLayout,
    f: Filters,
    rows: Vec<ReportLine>,
    pager: Pager,
    map_json: String,
    tile_url: String,
    feed_query: String,
}

/// A report filter from the public query (the state in the public's words).
pub async fn report_filter(db: &Db, q: &PublicQuery) -> AppResult<ReportFilter> {
    let mut f = ReportFilter { community_ids: communities(db, &q.area).await?, ..Default::default() };
    f.group = category_of(q);
    match q.state.trim() {
        "待核实" => f.state = Some(ReportState::Received),
        "不予立案" => f.state = Some(ReportState::Voided),
        "已办结" => (f.state, f.closed) = (Some(ReportState::Verified), Some(true)),
        "处置中" => (f.state, f.closed) = (Some(ReportState::Verified), Some(false)),
        _ => {}
    }
    Ok(f)
}

pub async fn index(
    State(state): State<AppState>,
    Query(q): Query<PublicQuery>,
    RawQuery(raw): RawQuery,
) -> PageResult<Response> {
    let db = &state.db;
    let f = report_filter(db, &q).await?;
    let page = PageReq::new(q.page, Some(PAGE));
    let (rows, total) = store::page(db, &f, page).await?;
    let gcj = state.config.gcj_display();
    let mut pins = Vec::new();
    for r in store::newest(db, &f, 300).await? {
        let (lng, lat) = if gcj { crate::domain::geo::wgs84_to_gcj02((r.lng, r.lat)) } else { (r.lng, r.lat) };
        let l = line(&r);
        pins.push(serde_json::json!({"lng": lng, "lat": lat, "state": l.state, "cls": l.state_class,
            "category": l.category, "code": l.code}));
    }
    let feed_query = format!(
        "area={}&category={}&state={}",
        crate::domain::urlencode(&q.area),
        crate::domain::urlencode(&q.category),
        crate::domain::urlencode(&q.state)
    );
    Ok(cached(IndexPage {
        p: layout(db, "reports", "群众反映").await,
        f: filters(db, &q, true).await?,
        rows: rows.iter().map(line).collect(),
        pager: Pager::new(raw.as_deref(), page, total),
        map_json: serde_json::Value::Array(pins).to_string(),
        tile_url: state.config.map_tile_url.clone(),
        feed_query,
    }))
}

// --- Closed problems and the 曝光台 -------------------------------------------------------------

pub struct ProblemLine {
    pub code: String,
    pub category: String,
    pub description: String,
    pub point: String,
    pub place: String,
    pub unit: String,
    pub found: String,
    pub deadline: String,
    pub closed: String,
    pub overdue: String,
    pub fix_note: String,
    pub before: Option<String>,
    pub after: Option<String>,
}

fn problem_line(p: PublicProblem, now: i64) -> ProblemLine {
    let overdue = match (p.deadline_at, p.closed_at) {
        (Some(d), None) if d < now => {
            let days = (now - d) / crate::domain::time::DAY_MS;
            if days >= 1 { format!("已逾期{days}天") } else { "已逾期".into() }
        }
        _ => String::new(),
    };
    use crate::domain::citizen::mask_personal;
    ProblemLine {
        code: p.code,
        category: p.category,
        description: mask_personal(&p.description),
        point: p.point_name,
        place: [p.street_name, p.community_name].into_iter().flatten().collect::<Vec<_>>().join(" "),
        unit: p.unit_name,
        found: fmt_local(p.found_at),
        deadline: p.deadline_at.map(fmt_local).unwrap_or_default(),
        closed: p.closed_at.map(fmt_local).unwrap_or_default(),
        overdue,
        fix_note: mask_personal(&p.fix_note),
        before: p.before_photo,
        after: if p.closed_at.is_some() { p.after_photo } else { None },
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "public/problems.html")]
pub struct ProblemsPage {
    p: PublicLayout,
    f: Filters,
    intro: &'static str,
    empty: &'static str,
    rows: Vec<ProblemLine>,
    pager: Pager,
    /// "1000+" past the cap, else the count
    count: String,
}

async fn problems_page(state: &AppState, q: PublicQuery, raw: Option<String>, closed: bool) -> PageResult<Response> {
    let db = &state.db;
    let now = now_ms();
    let kind = if closed { PublicKind::Closed } else { PublicKind::Overdue { now } };
    let page = PageReq::new(q.page, Some(PAGE));
    let area = communities(db, &q.area).await?;
    let (rows, total) = store::public_problems(db, kind, area.as_deref(), category_of(&q).as_deref(), page).await?;
    let (title, active, intro, empty) = if closed {
        ("整改公示", "closed", "已核查销号的问题及整改前后对比照片。", "暂无已整改的问题。")
    } else {
        (
            "曝光台",
            "exposure",
            "超过整改期限仍未整改到位的问题，按逾期时间排列，整改销号后自动移出。",
            "目前没有逾期未整改的问题。",
        )
    };
    Ok(cached(ProblemsPage {
        p: layout(db, active, title).await,
        f: filters(db, &q, false).await?,
        intro,
        empty,
        rows: rows.into_iter().map(|p| problem_line(p, now)).collect(),
        pager: Pager::new(raw.as_deref(), page, total.min(store::PUBLIC_CAP)),
        count: if total > store::PUBLIC_CAP { format!("{}+", store::PUBLIC_CAP) } else { total.to_string() },
    }))
}

pub async fn closed(
    State(state): State<AppState>,
    Query(q): Query<PublicQuery>,
    RawQuery(raw): RawQuery,
) -> PageResult<Response> {
    problems_page(&state, q, raw, true).await
}

pub async fn exposure(
    State(state): State<AppState>,
    Query(q): Query<PublicQuery>,
    RawQuery(raw): RawQuery,
) -> PageResult<Response> {
    problems_page(&state, q, raw, false).await
}

// --- Notices and the ranking ------------------------------------------------------------------

pub struct NoticeLine {
    pub id: String,
    pub number: String,
    pub title: String,
    pub published: String,
}

pub struct RankingTable {
    pub title: String,
    /// rank, unit, score, red flag
    pub lines: Vec<(i64, String, String, bool)>,
    /// Units ranked (more than the lines when the middle is left out)
    pub total: usize,
}

#[derive(Template, WebTemplate)]
#[template(path = "public/notices.html")]
pub struct NoticesPage {
    p: PublicLayout,
    notices: Vec<NoticeLine>,
    ranking: Option<RankingTable>,
}

/// The latest published week's unit ranking: top ten and last five.
async fn published_ranking(db: &Db) -> AppResult<Option<RankingTable>> {
    use crate::domain::score::Class;
    use crate::service::scoring::SpanKind;
    let Some(until) = crate::store::scoring::published_until(db, Class::Unit).await? else { return Ok(None) };
    let day = crate::domain::time::to_local(until - 1).date_naive();
    let r = crate::service::scoring::ranking(db, Class::Unit, SpanKind::Week, day).await?;
    let n = r.lines.len();
    let lines = r
        .lines
        .iter()
        .enumerate()
        .filter(|(i, _)| *i < 10 || *i + 5 >= n)
        .map(|(_, l)| (l.now.rank, l.now.name.clone(), format!("{:.1}", l.now.score as f64 / 10.0), l.red_flag))
        .collect();
    Ok(Some(RankingTable { title: format!("责任单位千分制排名（{}）", r.span.label), lines, total: n }))
}

pub async fn notices(State(state): State<AppState>) -> PageResult<Response> {
    let db = &state.db;
    let rows: Vec<(String, String, String, Option<i64>)> = sqlx::query_as(
        "SELECT id, number, title, published_at FROM notices WHERE status = 'published' ORDER BY published_at DESC LIMIT 50",
    )
    .fetch_all(&db.pool)
    .await
    .map_err(AppError::from)?;
    let notices = rows
        .into_iter()
        .map(|(id, number, title, at)| NoticeLine {
            id,
            number,
            title,
            published: at.map(fmt_local).unwrap_or_default(),
        })
        .collect();
    Ok(cached(NoticesPage {
        p: layout(db, "notices", "通报与排名").await,
        notices,
        ranking: published_ranking(db).await?,
    }))
}

#[derive(Template, WebTemplate)]
#[template(path = "public/notice.html")]
pub struct NoticePage {
    p: PublicLayout,
    id: String,
    number: String,
    published: String,
    paragraphs: Vec<String>,
}

async fn published_notice(db: &Db, id: &str) -> AppResult<crate::store::notices::Notice> {
    match crate::store::notices::get(db, id).await? {
        Some(n) if n.status == crate::domain::standard::Publication::Published => Ok(n),
        _ => Err(AppError::NotFound),
    }
}

pub async fn notice(State(state): State<AppState>, Path(id): Path<String>) -> PageResult<Response> {
    let n = published_notice(&state.db, &id).await?;
    Ok(cached(NoticePage {
        p: layout(&state.db, "notices", &n.title).await,
        id: n.id.clone(),
        number: n.number.clone(),
        published: n.published_at.map(fmt_local).unwrap_or_default(),
        paragraphs: n.body.split("\n\n").map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect(),
    }))
}

pub async fn notice_docx(State(state): State<AppState>, Path(id): Path<String>) -> PageResult<Response> {
    let n = published_notice(&state.db, &id).await?;
    let bytes = crate::service::notices::docx(&state.db, &state.storage, &n).await?;
    let name = format!("{}.docx", n.title);
    let disposition = format!("attachment; filename*=UTF-8''{}", crate::domain::urlencode(&name));
    let ct = "application/vnd.openxmlformats-officedocument.wordprocessingml.document";
    let mut res =
        ([(header::CONTENT_TYPE, ct.to_string()), (header::CONTENT_DISPOSITION, disposition)], bytes).into_response();
    res.headers_mut().insert(CACHE_HEADER, header::HeaderValue::from_static("300"));
    Ok(res)
}

// --- 随手拍 ----------------------------------------------------------------------------------

#[derive(Default, Deserialize)]
pub struct FormValues {
    #[serde(default)]
    service_code: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    lng: String,
    #[serde(default)]
    lat: String,
    #[serde(default)]
    address: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    phone: String,
}

/// A category of the standard and its items: (category, [(code, item, what it requires)]).
type Group = (String, Vec<(String, String, String)>);

#[derive(Template, WebTemplate)]
#[template(path = "public/report.html")]
pub struct ReportPage {
    p: PublicLayout,
    csrf: String,
    errors: Vec<String>,
    form: FormValues,
    groups: Vec<Group>,
    center: String,
    tile_url: String,
    gcj: bool,
}

async fn report_page(state: &AppState, csrf: String, errors: Vec<String>, form: FormValues) -> AppResult<ReportPage> {
    let db = &state.db;
    let mut groups: Vec<Group> = Vec::new();
    for s in service::services(db).await? {
        match groups.iter_mut().find(|g| g.0 == s.group) {
            Some(g) => g.1.push((s.code, s.name, s.description)),
            None => groups.push((s.group, vec![(s.code, s.name, s.description)])),
        }
    }
    // The map opens on the middle of the city's points.
    let c: (Option<f64>, Option<f64>) =
        sqlx::query_as("SELECT AVG(lng), AVG(lat) FROM points WHERE active = 1 AND lng IS NOT NULL")
            .fetch_one(&db.pool)
            .await?;
    let gcj = state.config.gcj_display();
    let center = match c {
        (Some(lng), Some(lat)) => {
            let (x, y) = if gcj { crate::domain::geo::wgs84_to_gcj02((lng, lat)) } else { (lng, lat) };
            format!("{y:.6},{x:.6}")
        }
        _ => "30.52,117.05".into(),
    };
    Ok(ReportPage {
        p: layout(db, "report", "随手拍").await,
        csrf,
        errors,
        form,
        groups,
        center,
        tile_url: state.config.map_tile_url.clone(),
        gcj,
    })
}

pub async fn report_form(State(state): State<AppState>, headers: HeaderMap) -> PageResult<Response> {
    let (csrf, set) = form_token(&headers, state.config.secure_cookies);
    Ok(with_cookie(report_page(&state, csrf, Vec::new(), FormValues::default()).await?, set))
}

/// Reads the 随手拍 form (fields and up to the limit's photos; the body size is bounded before).
async fn read_report(
    req: Request,
    state: &AppState,
) -> Result<(std::collections::HashMap<String, String>, Vec<Vec<u8>>), Response> {
    use axum::extract::FromRequest;
    let unreadable = |status: StatusCode| {
        let code = if status == StatusCode::PAYLOAD_TOO_LARGE { Code::PayloadTooLarge } else { Code::InvalidUpload };
        error_page(StatusCode::from_u16(code.status()).unwrap_or(StatusCode::BAD_REQUEST), code.message().into())
    };
    let mut mp = axum::extract::Multipart::from_request(req, state).await.map_err(|e| unreadable(e.status()))?;
    let mut fields = std::collections::HashMap::new();
    let mut photos = Vec::new();
    while let Some(field) = mp.next_field().await.map_err(|e| unreadable(e.status()))? {
        let name = field.name().unwrap_or_default().to_string();
        if field.file_name().is_some() {
            let bytes = field.bytes().await.map_err(|e| unreadable(e.status()))?;
            // The body's size is bounded before it is read; the count is the form's check.
            if !bytes.is_empty() && photos.len() < 64 {
                photos.push(bytes.to_vec());
            }
        } else if fields.len() < 32 {
            let text = field.text().await.map_err(|e| unreadable(e.status()))?;
            fields.insert(name, text);
        }
    }
    Ok((fields, photos))
}

pub async fn report_submit(State(state): State<AppState>, req: Request) -> PageResult<Response> {
    let (parts, body) = req.into_parts();
    let who = sender(&state, &parts);
    let headers = parts.headers.clone();
    let (fields, photos) = match read_report(Request::from_parts(parts, body), &state).await {
        Ok(x) => x,
        Err(res) => return Ok(res),
    };
    let Some(_turn) = state.public.filing_turn().await else {
        return Ok(error_page(StatusCode::SERVICE_UNAVAILABLE, "当前提交的人较多，请稍后再试".into()));
    };
    let get = |k: &str| fields.get(k).cloned().unwrap_or_default();
    let csrf = get("_csrf");
    if !token_ok(&headers, &csrf) {
        return Ok(error_page(StatusCode::FORBIDDEN, "页面已过期，请刷新“随手拍”页面后重新填写提交".into()));
    }
    let number = |k: &str| get(k).trim().parse::<f64>().ok();
    let input = SubmitInput {
        service_code: get("service_code"),
        description: get("description"),
        lng: number("lng"),
        lat: number("lat"),
        address: get("address"),
        name: get("name"),
        phone: get("phone"),
        email: String::new(),
        website: get("website"),
    };
    let gcj = state.config.gcj_display();
    let mut input = input;
    if gcj && let (Some(x), Some(y)) = (input.lng, input.lat) {
        // The map showed GCJ-02; positions are kept in WGS-84.
        let (lng, lat) = crate::domain::geo::gcj02_to_wgs84((x, y));
        (input.lng, input.lat) = (Some(lng), Some(lat));
    }
    match service::submit(&state.db, &state.storage, &state.config, &who, input, (photos, true)).await {
        Ok(s) => {
            state.public.forget();
            // The receipt is the private link's page itself: it survives a reload and Back.
            Ok(axum::response::Redirect::to(&format!("/public/s/{}?new=1", s.token)).into_response())
        }
        Err(e @ (AppError::Validation(_) | AppError::Refused(..))) => {
            let (status, errors) = match e {
                AppError::Validation(e) => {
                    (StatusCode::UNPROCESSABLE_ENTITY, e.0.iter().map(|f| f.message.clone()).collect())
                }
                AppError::Refused(code, m) => {
                    (StatusCode::from_u16(code.status()).unwrap_or(StatusCode::BAD_REQUEST), vec![m])
                }
                _ => unreachable!(),
            };
            let form = FormValues {
                service_code: get("service_code"),
                description: get("description"),
                lng: get("lng"),
                lat: get("lat"),
                address: get("address"),
                name: get("name"),
                phone: get("phone"),
            };
            let page = report_page(&state, csrf, errors, form).await?;
            Ok((status, page).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize)]
pub struct NearbyQuery {
    lng: f64,
    lat: f64,
    #[serde(default)]
    service_code: String,
}

/// "附近已有人反映": open reports near a position, the same category first.
pub async fn nearby(State(state): State<AppState>, Query(q): Query<NearbyQuery>) -> Result<Response, ApiError> {
    let gcj = state.config.gcj_display();
    let at = if gcj { crate::domain::geo::gcj02_to_wgs84((q.lng, q.lat)) } else { (q.lng, q.lat) };
    let similar = service::similar(&state.db, at, &q.service_code).await?;
    // Not kept by browsers or the gate: a resident who tapped 我也遇到 reads the new count
    // when the card is shown again (the key is a position, so a cache would rarely hit anyway).
    let mut res = Json(serde_json::json!({ "similar": similar })).into_response();
    res.headers_mut().insert(header::CACHE_CONTROL, header::HeaderValue::from_static("no-store"));
    Ok(res)
}

#[derive(Deserialize)]
pub struct PlacesQuery {
    lng: f64,
    lat: f64,
}

/// Public places (the campaign's points: roads, markets, stops) within 1 km, nearest first, to
/// pick the position from: names and positions only.
pub async fn places(State(state): State<AppState>, Query(q): Query<PlacesQuery>) -> Result<Response, ApiError> {
    let gcj = state.config.gcj_display();
    let at = if gcj { crate::domain::geo::gcj02_to_wgs84((q.lng, q.lat)) } else { (q.lng, q.lat) };
    if !citizen::in_china(at.0, at.1) {
        return Ok(cached(Json(serde_json::json!({ "places": [] }))));
    }
    let near = service::nearest_points(&state.db, at, 1000.0, None).await?;
    let places: Vec<serde_json::Value> = near
        .into_iter()
        .map(|p| {
            let (lng, lat) = if gcj { crate::domain::geo::wgs84_to_gcj02((p.lng, p.lat)) } else { (p.lng, p.lat) };
            serde_json::json!({"name": p.name, "lng": lng, "lat": lat, "distance_m": p.distance_m})
        })
        .collect();
    Ok(cached(Json(serde_json::json!({ "places": places }))))
}

#[derive(Deserialize)]
pub struct SupportForm {
    #[serde(default, rename = "_csrf")]
    csrf: String,
    #[serde(default)]
    code: String,
}

/// "我也遇到": answers JSON (the page's script) with the new count or a Chinese refusal.
pub async fn support(State(state): State<AppState>, req: Request) -> Result<Response, ApiError> {
    let (parts, body) = req.into_parts();
    let who = sender(&state, &parts);
    let bytes = axum::body::to_bytes(body, 4096).await.map_err(|_| AppError::from(Code::PayloadTooLarge))?;
    let f: SupportForm = serde_html_form::from_bytes(&bytes).map_err(|_| AppError::from(Code::InvalidForm))?;
    if !token_ok(&parts.headers, &f.csrf) {
        return Err(AppError::refuse(Code::CsrfFailed, "页面已过期，请刷新后再试").into());
    }
    let n = service::support(&state.db, &state.config, &who, &f.code).await?;
    state.public.forget();
    Ok(Json(serde_json::json!({"supporters": n, "message": format!("感谢！已记录您也遇到这个问题（共{n}人）")}))
        .into_response())
}

pub(crate) fn qr_svg(url: &str) -> AppResult<String> {
    let qr = qrcode::QrCode::new(url.as_bytes()).map_err(|e| anyhow::anyhow!("QR code: {e}"))?;
    Ok(qr.render::<qrcode::render::svg::Color>().min_dimensions(360, 360).quiet_zone(true).build())
}

#[derive(Template, WebTemplate)]
#[template(path = "public/poster.html")]
pub struct PosterPage {
    city: String,
    qr: String,
    url: String,
}

/// A printable poster with the 随手拍 page's QR code (for notice boards, bus stops, service halls).
pub async fn poster(State(state): State<AppState>, headers: HeaderMap) -> PageResult<Response> {
    let url = format!("{}/public/report", base_url(&state, &headers));
    let city = layout(&state.db, "report", "").await.city;
    Ok(cached(PosterPage { city, qr: qr_svg(&url)?, url }))
}

pub async fn qr(State(state): State<AppState>, headers: HeaderMap) -> PageResult<Response> {
    let url = format!("{}/public/report", base_url(&state, &headers));
    Ok(cached(([(header::CONTENT_TYPE, "image/svg+xml")], qr_svg(&url)?)))
}

// --- Status and feedback ---------------------------------------------------------------------

#[derive(Template, WebTemplate)]
#[template(path = "public/status_lookup.html")]
pub struct LookupPage {
    p: PublicLayout,
    csrf: String,
    code: String,
    error: Option<String>,
}

#[derive(Deserialize, Default)]
pub struct CodeQuery {
    #[serde(default)]
    code: String,
}

pub async fn status_form(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<CodeQuery>,
) -> PageResult<Response> {
    let (csrf, set) = form_token(&headers, state.config.secure_cookies);
    let code: String = q.code.chars().filter(char::is_ascii_alphanumeric).take(20).collect();
    let page = LookupPage { p: layout(&state.db, "status", "查询办理进度").await, csrf, code, error: None };
    Ok(with_cookie(page, set))
}

#[derive(Template, WebTemplate)]
#[template(path = "public/status.html")]
pub struct StatusPage {
    p: PublicLayout,
    s: Status,
    /// (time, label, note)
    stages: Vec<(String, &'static str, String)>,
    before: Vec<String>,
    csrf: String,
    token: String,
    last4: String,
    levels: Vec<(i64, &'static str)>,
    answered: Option<String>,
    message: Option<&'static str>,
    errors: Vec<String>,
    /// Just filed: the private link and whether a phone was given
    receipt: Option<(String, bool)>,
}

struct Lookup {
    token: String,
    last4: String,
}

async fn status_page(
    state: &AppState,
    r: &crate::store::reports::Report,
    csrf: String,
    how: Lookup,
    (message, errors): (Option<&'static str>, Vec<String>),
) -> AppResult<StatusPage> {
    let s = service::status(&state.db, r).await?;
    let answered = r.satisfaction.map(|l| {
        let fixed = if r.fixed == Some(1) { "已解决" } else { "未解决" };
        format!(
            "{fixed}，{}{}",
            citizen::satisfaction_label(l),
            if r.feedback_note.is_empty() { String::new() } else { format!("：{}", r.feedback_note) }
        )
    });
    Ok(StatusPage {
        p: layout(&state.db, "status", "办理进度").await,
        stages: s.stages.iter().map(|st| (fmt_local(st.at), st.label, st.note.clone())).collect(),
        before: if r.state == ReportState::Verified { s.before_photo_ids.clone() } else { Vec::new() },
        s,
        csrf,
        token: how.token,
        last4: how.last4,
        levels: SATISFACTION.to_vec(),
        answered,
        message,
        errors,
        receipt: None,
    })
}

#[derive(Deserialize, Default)]
pub struct LookupForm {
    #[serde(default, rename = "_csrf")]
    csrf: String,
    #[serde(default)]
    code: String,
    #[serde(default)]
    last4: String,
}

pub async fn status_lookup(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> PageResult<Response> {
    let mut f: LookupForm = match parse_form(&body) {
        Ok(f) => f,
        Err(r) => return Ok(r),
    };
    // As a Chinese input method types them (５６７８, Ｒ２０２６…).
    use crate::domain::validate::half_width;
    (f.code, f.last4) = (half_width(f.code.trim()), half_width(f.last4.trim()));
    if !token_ok(&headers, &f.csrf) {
        return Ok(error_page(StatusCode::FORBIDDEN, "页面已过期，请刷新后重新查询".into()));
    }
    // A window rating's case (工单号 C…) rather than a report (受理编号 R…).
    if f.code.trim().to_ascii_uppercase().starts_with('C') {
        if let Some(page) = super::rate::by_code(&state, &headers, &f.code, &f.last4).await? {
            return Ok(page);
        }
        let page = LookupPage {
            p: layout(&state.db, "status", "查询办理进度").await,
            csrf: f.csrf,
            code: f.code,
            error: Some("工单号或手机号后四位不正确，请核对后再查".into()),
        };
        return Ok((StatusCode::NOT_FOUND, page).into_response());
    }
    match service::by_code(&state.db, &f.code, &f.last4).await {
        Ok(r) => {
            let how = Lookup { token: String::new(), last4: f.last4.trim().to_string() };
            Ok(status_page(&state, &r, f.csrf, how, (None, Vec::new())).await?.into_response())
        }
        Err(AppError::Refused(code, message)) => {
            let page = LookupPage {
                p: layout(&state.db, "status", "查询办理进度").await,
                csrf: f.csrf,
                code: f.code,
                error: Some(message),
            };
            Ok((StatusCode::from_u16(code.status()).unwrap_or(StatusCode::NOT_FOUND), page).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize, Default)]
pub struct LinkQuery {
    /// Just filed: the page opens with the receipt
    #[serde(default)]
    new: Option<String>,
    /// Just answered: fixed | reopened
    #[serde(default)]
    ok: Option<String>,
}

pub async fn status_by_link(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(token): Path<String>,
    Query(q): Query<LinkQuery>,
) -> PageResult<Response> {
    let r = service::by_token(&state.db, &token).await?;
    let (csrf, set) = form_token(&headers, state.config.secure_cookies);
    let link = format!("{}/public/s/{token}", base_url(&state, &headers));
    let how = Lookup { token, last4: String::new() };
    let message = match q.ok.as_deref() {
        Some("reopened") => Some(REOPENED),
        Some(_) => Some(THANKS),
        None => None,
    };
    let mut page = status_page(&state, &r, csrf, how, (message, Vec::new())).await?;
    if q.new.is_some() {
        page.receipt = Some((link, !r.reporter_phone.is_empty()));
    }
    Ok(with_cookie(page, set))
}

const REOPENED: &str = "已收到您的评价。问题已退回责任单位重新整改，办结后会再请您评价。";
const THANKS: &str = "感谢您的评价！";

#[derive(Deserialize, Default)]
pub struct FeedbackForm {
    #[serde(default, rename = "_csrf")]
    csrf: String,
    #[serde(default)]
    token: String,
    #[serde(default)]
    code: String,
    #[serde(default)]
    last4: String,
    #[serde(default)]
    fixed: String,
    #[serde(default)]
    satisfaction: String,
    #[serde(default)]
    note: String,
}

impl Posted for FeedbackForm {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

pub async fn feedback(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> PageResult<Response> {
    let f: FeedbackForm = match posted(&headers, &body, "页面已过期，请刷新后重新评价") {
        Ok(f) => f,
        Err(r) => return Ok(r),
    };
    let r = if f.token.is_empty() {
        service::by_code(&state.db, &f.code, &f.last4).await?
    } else {
        service::by_token(&state.db, &f.token).await?
    };
    let input = service::FeedbackInput {
        fixed: match f.fixed.as_str() {
            "true" => Some(true),
            "false" => Some(false),
            _ => None,
        },
        satisfaction: f.satisfaction.trim().parse().ok(),
        note: f.note.clone(),
    };
    let how = Lookup { token: f.token.clone(), last4: f.last4.clone() };
    match service::feedback(&state.db, &state.storage, &r, input).await {
        Ok(new) => {
            state.public.forget();
            let reopened = new.fixed == Some(0);
            if !f.token.is_empty() {
                let ok = if reopened { "reopened" } else { "fixed" };
                return Ok(axum::response::Redirect::to(&format!("/public/s/{}?ok={ok}", f.token)).into_response());
            }
            let message = if reopened { REOPENED } else { THANKS };
            Ok(status_page(&state, &new, f.csrf, how, (Some(message), Vec::new())).await?.into_response())
        }
        // Sent again (a reload): the page as it is, saying so.
        Err(AppError::Refused(Code::FeedbackNotOpen, m)) => {
            let page = status_page(&state, &r, f.csrf, how, (None, vec![m])).await?;
            Ok((StatusCode::CONFLICT, page).into_response())
        }
        Err(AppError::Validation(e)) => {
            let errors = e.0.iter().map(|x| x.message.clone()).collect();
            let page = status_page(&state, &r, f.csrf, how, (None, errors)).await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "public/report_detail.html")]
pub struct ReportDetailPage {
    p: PublicLayout,
    s: Status,
    description: String,
    address: String,
    reply: String,
    stages: Vec<(String, &'static str, String)>,
    before: Vec<String>,
}

/// One report as anyone may read it (the feeds and the map link here): its public stages,
/// the unit and its reply, the photos once verified; typed phone and ID numbers masked.
pub async fn report_detail(State(state): State<AppState>, Path(code): Path<String>) -> PageResult<Response> {
    use crate::domain::citizen::mask_personal;
    let r = crate::store::reports::by_code(&state.db, code.trim()).await?.ok_or(AppError::NotFound)?;
    let s = service::status(&state.db, &r).await?;
    let page = ReportDetailPage {
        p: layout(&state.db, "reports", &format!("群众反映 {}", r.code)).await,
        description: mask_personal(&s.description),
        address: mask_personal(&s.address),
        reply: mask_personal(&s.reply),
        stages: s.stages.iter().map(|st| (fmt_local(st.at), st.label, mask_personal(&st.note))).collect(),
        before: if r.state == ReportState::Verified { s.before_photo_ids.clone() } else { Vec::new() },
        s,
    };
    Ok(cached(page))
}

/// A photo on a public page (the thumbnail only, and only of what the public pages show).
pub async fn photo(State(state): State<AppState>, Path(id): Path<String>) -> PageResult<Response> {
    if !store::photo_is_public(&state.db, &id).await? {
        return Err(AppError::NotFound.into());
    }
    let ph = crate::store::photos::get(&state.db, &id).await?.ok_or(AppError::NotFound)?;
    let bytes = state.storage.get(&ph.thumb_key).await.map_err(|e| anyhow::anyhow!("reading photo: {e}"))?;
    let mut res = ([(header::CONTENT_TYPE, "image/jpeg")], bytes).into_response();
    res.headers_mut().insert(CACHE_HEADER, header::HeaderValue::from_static("300"));
    Ok(res)
}
