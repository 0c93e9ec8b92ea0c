//! Citizens' reports (随手拍 and Open311): a resident sends what they saw; the office or the grid
//! worker of that grid verifies it (it becomes a problem on the nearest point, its clock starting
//! then) or voids it with a public reason; the reporter follows it by receipt code and is asked,
//! once it is closed, whether it is fixed and how satisfied they are. "Not fixed" sends the
//! problem back to its unit as rework.

use super::write::{Write, expected};
use super::{Ctx, CurrentUser};
use crate::config::Config;
use crate::domain::citizen::{self as rules, Channel, ReportState, Stage};
use crate::domain::ids::new_id;
use crate::domain::photo::{PhotoKind, PhotoOwner};
use crate::domain::problem::{Action, State, Step};
use crate::domain::role::Role;
use crate::domain::standard::{Publication, Severity};
use crate::domain::time::now_ms;
use crate::domain::validate::{FieldErrors, optional_text};
use crate::error::{AppError, AppResult, Code};
use crate::media::storage::Storage;
use crate::store::Db;
use crate::store::photos::{self as photo_store, Photo};
use crate::store::points as point_store;
use crate::store::problems as problem_store;
use crate::store::record::Insert;
use crate::store::reports::{self as store, PublicRow, Report, ReportFilter};
use crate::store::standards;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

/// A category residents choose (an Open311 service): one item of the published standard.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Service {
    /// The standard's 大类+小类 code, e.g. 0103
    pub code: String,
    /// The item, e.g. 乱扔垃圾
    pub name: String,
    /// The category above it, e.g. 环境卫生
    pub group: String,
    /// What the standard requires
    pub description: String,
    #[serde(skip)]
    pub item_id: String,
    #[serde(skip)]
    pub severity: Severity,
}

/// The citizen categories: the published standard's items, one per code, in the standard's order.
pub async fn services(db: &Db) -> AppResult<Vec<Service>> {
    let mut conn = db.pool.acquire().await?;
    let Some(v) = standards::with_status(&mut conn, Publication::Published).await? else { return Ok(Vec::new()) };
    drop(conn);
    let mut out: Vec<Service> = Vec::new();
    for i in standards::items(db, &v.id).await? {
        let code = format!("{}{}", i.major_code, i.minor_code);
        if out.iter().any(|s| s.code == code) {
            continue;
        }
        out.push(Service {
            code,
            name: i.item.clone(),
            group: i.category.clone(),
            description: i.requirement.clone(),
            item_id: i.id.clone(),
            severity: i.severity,
        });
    }
    Ok(out)
}

pub async fn service(db: &Db, code: &str) -> AppResult<Option<Service>> {
    Ok(services(db).await?.into_iter().find(|s| s.code == code.trim()))
}

/// Who sent a request from outside: a hash of their address (never the address itself), the
/// channel, and the Open311 key when there is one.
#[derive(Debug, Clone)]
pub struct Sender {
    pub client: String,
    pub channel: Channel,
    pub api_key: Option<store::ApiKey>,
}

/// A client's address as it is kept: a hash, so that limits work and no address is stored.
pub fn client_of(ip: &str) -> String {
    hex::encode(&Sha256::digest(format!("chuangcheng-client:{ip}").as_bytes())[..12])
}

fn hash_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.trim().as_bytes()))
}

/// What a resident sends.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct SubmitInput {
    /// A category code from the services list
    #[serde(default)]
    pub service_code: String,
    #[serde(default)]
    pub description: String,
    /// WGS-84
    #[serde(default)]
    pub lng: Option<f64>,
    #[serde(default)]
    pub lat: Option<f64>,
    #[serde(default)]
    pub address: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub phone: String,
    #[serde(default)]
    pub email: String,
    /// Left empty by people; robots fill every field (the honeypot)
    #[serde(default)]
    pub website: String,
}

/// A report as filed: its receipt code and the private link's token (shown once).
#[derive(Debug, Clone)]
pub struct Submitted {
    pub report: Report,
    pub token: String,
}

/// The acting "user" of an outside request, for the audit log and the photo rows.
pub fn citizen(sender: &Sender) -> CurrentUser {
    let name = match &sender.api_key {
        Some(k) => format!("Open311客户端：{}", k.name),
        None => "市民（随手拍）".into(),
    };
    CurrentUser {
        id: String::new(),
        username: "citizen".into(),
        display_name: name,
        // The narrowest role, without a unit: it can see nothing if anything ever asked.
        role: Role::PointLead,
        unit_id: None,
        area_id: None,
        session_id: String::new(),
        csrf: String::new(),
        no_windows: false,
    }
}

/// A report's fields, checked.
struct Checked {
    service: Service,
    at: (f64, f64),
    description: String,
    address: String,
    name: String,
    phone: String,
    email: String,
}

/// Every field of a report, checked; all mistakes at once.
async fn check(db: &Db, input: &SubmitInput, photos: usize, photos_required: bool) -> AppResult<Checked> {
    let mut e = FieldErrors::default();
    let service = service(db, &input.service_code).await?;
    if service.is_none() {
        e.add("service_code", Code::UnknownCategory, "请从列表中选择问题类别");
    }
    let description = optional_text(&mut e, "description", "问题描述", &input.description, 500, true);
    if description.chars().count() < 4 {
        e.add("description", Code::Required, "请用至少4个字描述看到的问题");
    }
    let address = optional_text(&mut e, "address", "地址", &input.address, 100, false);
    let bounds = city_bounds(db).await?;
    let at = match (input.lng, input.lat) {
        (Some(lng), Some(lat)) if rules::in_china(lng, lat) && !bounds.is_some_and(|b| b.contains(lng, lat)) => {
            e.add("location", Code::OutsideCity, Code::OutsideCity.message());
            None
        }
        (Some(lng), Some(lat)) if rules::in_china(lng, lat) => Some((lng, lat)),
        (Some(_), Some(_)) => {
            e.add("location", Code::OutsideChina, "位置不在中国境内，请重新定位或在地图上选点");
            None
        }
        _ => {
            e.add("location", Code::Required, "请定位或在地图上选择问题位置");
            None
        }
    };
    let (name, phone) = rules::check_contact(&mut e, &input.name, &input.phone);
    let email = input.email.trim().to_string();
    if email.len() > 100 || (!email.is_empty() && !email.contains('@')) {
        e.add("email", Code::InvalidChars, "电子邮箱格式不正确");
    }
    if photos > rules::MAX_PHOTOS {
        e.add("photos", Code::TooManyPhotos, format!("最多上传{}张照片", rules::MAX_PHOTOS));
    } else if photos == 0 && photos_required {
        e.add("photos", Code::PhotoRequired, "请至少拍摄或选择1张现场照片");
    }
    match (service, at) {
        (Some(service), Some(at)) if e.is_empty() => {
            Ok(Checked { service, at, description, address, name, phone, email })
        }
        _ => Err(AppError::Validation(e)),
    }
}

/// Checks and stores the photos before anything is written, each with the same warnings as an
/// inspector's before-photo (taken long before, far from where the resident says the problem
/// is) for the triage.
async fn report_photos(
    ctx: &Ctx<'_>,
    storage: &Storage,
    (id, at, now): (&str, (f64, f64), i64),
    photos: Vec<Vec<u8>>,
) -> AppResult<Vec<Photo>> {
    let (mut stored, mut files) = (Vec::with_capacity(photos.len()), crate::media::storage::Unkept::new(storage));
    for bytes in photos {
        let mut ph =
            super::photos::prepare(storage, (PhotoOwner::Report, id, PhotoKind::Before), bytes, None, ctx).await?;
        // One bad photo refuses them all: the ones stored before it go.
        files.add(&ph);
        let facts = crate::domain::photo::CaptureFacts {
            found_at: now,
            point: Some(at),
            taken_at: ph.taken_at,
            exif_position: ph.lng.zip(ph.lat),
            received_at: ph.uploaded_at,
            device: None,
        };
        ph.flags =
            serde_json::to_string(&crate::domain::photo::before_photo_flags(&facts)).unwrap_or_else(|_| "[]".into());
        stored.push(ph);
    }
    // From here the caller's write decides.
    files.keep();
    Ok(stored)
}

/// Files a report with its photos, all or nothing. Refused with a Chinese reason: a robot (the
/// honeypot), a client past its hourly limit, an unknown category, a position outside the
/// city, a bad photo, too many photos; `photos_required` for the 随手拍 page.
pub async fn submit(
    db: &Db,
    storage: &Storage,
    config: &Config,
    sender: &Sender,
    input: SubmitInput,
    (photos, photos_required): (Vec<Vec<u8>>, bool),
) -> AppResult<Submitted> {
    if !input.website.trim().is_empty() {
        return Err(AppError::refuse(Code::SpamSuspected, Code::SpamSuspected.message()));
    }
    let now = now_ms();
    if store::sent_by(db, &sender.client, now - 3_600_000).await? >= config.reports_per_hour as i64 {
        return Err(AppError::refuse(Code::ReportLimit, Code::ReportLimit.message()));
    }
    let c = check(db, &input, photos.len(), photos_required).await?;
    let who = citizen(sender);
    let ctx = Ctx { db, user: &who, request_id: "" };
    let id = new_id();
    let stored = report_photos(&ctx, storage, (&id, c.at, now), photos).await?;
    let files = crate::media::storage::Unkept::of(storage, &stored);
    let item = standards::item(db, &c.service.item_id).await?;
    let place = locate(db, c.at, item.as_ref().map(|i| i.point_types.as_str())).await?;
    let token = hex::encode(rand::random::<[u8; 16]>());
    let mut r = Report {
        id,
        code: String::new(),
        token_hash: hash_token(&token),
        channel: sender.channel,
        api_key_id: sender.api_key.as_ref().map(|k| k.id.clone()),
        service_code: c.service.code.clone(),
        category: format!("{}·{}", c.service.group, c.service.name),
        description: c.description,
        address: if c.address.is_empty() { place.address.clone() } else { c.address },
        lng: c.at.0,
        lat: c.at.1,
        community_id: place.community_id,
        grid_id: place.grid_id,
        point_id: place.point_id,
        reporter_name: c.name,
        reporter_phone: c.phone,
        reporter_email: c.email,
        client: sender.client.clone(),
        state: ReportState::Received,
        public_note: String::new(),
        problem_id: None,
        supporters: 0,
        triaged_by: None,
        triaged_at: None,
        asked_at: None,
        feedback_at: None,
        fixed: None,
        satisfaction: None,
        feedback_note: String::new(),
        created_at: now,
        updated_at: now,
        version: 1,
    };
    let mut w = ctx.write().await?;
    r.code = number_within_limit(&mut w, config, sender, now).await?;
    w.create(&r).await?;
    for ph in &stored {
        ph.insert(w.conn()).await?;
    }
    if let Some(k) = &sender.api_key {
        store::key_used(w.conn(), &k.id, now).await?;
    }
    tell_triage(&mut w, &r).await?;
    let committed = w.commit().await;
    files.keep();
    committed?;
    Ok(Submitted { report: r, token })
}

/// The report's number of its day (R202612070016), once the sender is within its hourly limit,
/// counted again inside the write holding the sender's lane: a row of 64 (picked by the sender's
/// hash) held to the end of the write, so reports sent at once by one sender, through any
/// instance and on either side of midnight, count each other. The lane comes before the day's
/// number in every report's write, so two writes cannot wait for each other.
async fn number_within_limit(w: &mut Write<'_>, config: &Config, sender: &Sender, now: i64) -> AppResult<String> {
    w.next_in_sequence(&format!("report-sender:{:02}", Sha256::digest(sender.client.as_bytes())[0] % 64)).await?;
    let day = crate::domain::time::to_local(now).format("%Y%m%d").to_string();
    let n = w.next_in_sequence(&format!("report:{day}")).await?;
    if store::sent_by_in(w.conn(), &sender.client, now - 3_600_000).await? >= config.reports_per_hour as i64 {
        return Err(AppError::refuse(Code::ReportLimit, Code::ReportLimit.message()));
    }
    Ok(format!("R{day}{n:04}"))
}

/// The city's extent: its points and grids with 3 km around them.
#[derive(Debug, Clone, Copy)]
pub struct Bounds {
    min: (f64, f64),
    max: (f64, f64),
}

impl Bounds {
    pub fn contains(&self, lng: f64, lat: f64) -> bool {
        (self.min.0..=self.max.0).contains(&lng) && (self.min.1..=self.max.1).contains(&lat)
    }
}

/// None when the city has no located point or grid yet (then anywhere in China is accepted).
pub async fn city_bounds(db: &Db) -> AppResult<Option<Bounds>> {
    type Box4 = (Option<f64>, Option<f64>, Option<f64>, Option<f64>);
    let p: Box4 = sqlx::query_as(
        "SELECT MIN(lng), MIN(lat), MAX(lng), MAX(lat) FROM points WHERE active = 1 AND lng IS NOT NULL AND lat IS NOT NULL",
    )
    .fetch_one(&db.pool)
    .await?;
    let g: Box4 = sqlx::query_as("SELECT MIN(min_lng), MIN(min_lat), MAX(max_lng), MAX(max_lat) FROM grids")
        .fetch_one(&db.pool)
        .await?;
    let pick = |a: Option<f64>, b: Option<f64>, f: fn(f64, f64) -> f64| match (a, b) {
        (Some(x), Some(y)) => Some(f(x, y)),
        (x, y) => x.or(y),
    };
    let (Some(x0), Some(y0), Some(x1), Some(y1)) =
        (pick(p.0, g.0, f64::min), pick(p.1, g.1, f64::min), pick(p.2, g.2, f64::max), pick(p.3, g.3, f64::max))
    else {
        return Ok(None);
    };
    const MARGIN: f64 = 0.03;
    Ok(Some(Bounds { min: (x0 - MARGIN, y0 - MARGIN), max: (x1 + MARGIN, y1 + MARGIN) }))
}

/// Where a position is: its grid and community, the nearest point within 500 m.
struct Place {
    grid_id: Option<String>,
    community_id: Option<String>,
    point_id: Option<String>,
    address: String,
}

/// `types`: the point types the category's standard item applies to; the nearest such point is
/// chosen before a nearer point of another type (a 占道经营 at a crossing, not the hospital
/// 100 m nearer).
async fn locate(db: &Db, at: (f64, f64), types: Option<&str>) -> AppResult<Place> {
    let grids = point_store::grids(db).await?;
    let index = super::points::GridIndex::new(&grids);
    let grid = index.locate(at.0, at.1).map(|(g, c)| (g.to_string(), c.map(str::to_string)));
    let near = nearest_points(db, at, 500.0, None).await?;
    let fits = |p: &&Nearby| types.is_none_or(|t| crate::domain::standard::applies(t, &p.type_code));
    let point = near.iter().find(fits).or(near.first());
    Ok(Place {
        grid_id: grid.as_ref().map(|g| g.0.clone()),
        community_id: grid.and_then(|g| g.1).or_else(|| point.and_then(|p| p.community_id.clone())),
        point_id: point.map(|p| p.id.clone()),
        address: point.map(|p| format!("{}附近", p.name)).unwrap_or_default(),
    })
}

/// A point near a position, for the triage's choice.
#[derive(Debug, Clone, Serialize, ToSchema, sqlx::FromRow)]
pub struct Nearby {
    pub id: String,
    pub code: String,
    pub name: String,
    pub unit_id: String,
    pub community_id: Option<String>,
    pub lng: f64,
    pub lat: f64,
    /// The point's type (main_road, market, …)
    pub type_code: String,
    #[sqlx(skip)]
    pub distance_m: f64,
}

/// Active points within `meters` of a position (of one unit when given), nearest first.
pub async fn nearest_points(
    db: &Db,
    (lng, lat): (f64, f64),
    meters: f64,
    unit: Option<&str>,
) -> AppResult<Vec<Nearby>> {
    let dlat = meters / 111_000.0;
    let dlng = meters / (111_000.0 * lat.to_radians().cos().max(0.1));
    let mut rows: Vec<Nearby> = sqlx::query_as(
        "SELECT p.id, p.code, p.name, p.unit_id, p.community_id, p.lng, p.lat, t.code AS type_code FROM points p \
         JOIN point_types t ON t.id = p.type_id WHERE p.active = 1 AND p.lat BETWEEN $1 AND $2 \
         AND p.lng BETWEEN $3 AND $4 AND ($5 = '' OR p.unit_id = $5) LIMIT 2000",
    )
    .bind(lat - dlat)
    .bind(lat + dlat)
    .bind(lng - dlng)
    .bind(lng + dlng)
    .bind(unit.unwrap_or(""))
    .fetch_all(&db.pool)
    .await?;
    for r in &mut rows {
        r.distance_m = crate::domain::geo::distance_m((lng, lat), (r.lng, r.lat)).round();
    }
    rows.retain(|r| r.distance_m <= meters);
    rows.sort_by(|a, b| a.distance_m.total_cmp(&b.distance_m));
    rows.truncate(10);
    Ok(rows)
}

/// A unit's active points nearest a position, whatever the distance (up to ten).
async fn nearest_points_of_unit(db: &Db, (lng, lat): (f64, f64), unit: &str) -> AppResult<Vec<Nearby>> {
    let mut rows: Vec<Nearby> = sqlx::query_as(
        "SELECT p.id, p.code, p.name, p.unit_id, p.community_id, p.lng, p.lat, t.code AS type_code FROM points p \
         JOIN point_types t ON t.id = p.type_id WHERE p.active = 1 AND p.unit_id = $1 \
         AND p.lng IS NOT NULL AND p.lat IS NOT NULL LIMIT 5000",
    )
    .bind(unit)
    .fetch_all(&db.pool)
    .await?;
    for r in &mut rows {
        r.distance_m = crate::domain::geo::distance_m((lng, lat), (r.lng, r.lat)).round();
    }
    rows.sort_by(|a, b| a.distance_m.total_cmp(&b.distance_m));
    rows.truncate(10);
    Ok(rows)
}

/// The grid worker of the report's grid and the office hear of a new report.
async fn tell_triage(w: &mut super::write::Write<'_>, r: &Report) -> AppResult<()> {
    use crate::domain::notify::NotifyEvent;
    let title = format!("市民反映待核实：{}", r.category);
    let body = format!("{} {}", r.code, r.description);
    let worker: Option<String> = match &r.grid_id {
        Some(g) => sqlx::query_scalar("SELECT worker_id FROM grids WHERE id = $1")
            .bind(g)
            .fetch_optional(&mut *w.conn())
            .await?
            .flatten(),
        None => None,
    };
    let who = if worker.is_some() { "id = $7" } else { "role = 'admin' AND $7 = ''" };
    let sql = format!(
        "INSERT INTO notifications (id, user_id, problem_id, kind, title, body, link, created_at) \
         SELECT $1 || '.' || id, id, NULL, $2, $3, $4, $5, $6 FROM users WHERE active = 1 AND {who}"
    );
    let q = sqlx::query(&sql)
        .bind(new_id())
        .bind(NotifyEvent::Citizen)
        .bind(title)
        .bind(body)
        .bind(format!("/reports/{}", r.id))
        .bind(w.now)
        .bind(worker.unwrap_or_default());
    q.execute(w.conn()).await?;
    Ok(())
}

/// A report nearby, as "附近已有人反映" shows it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Similar {
    pub code: String,
    pub category: String,
    pub description: String,
    pub state: String,
    pub supporters: i64,
    pub distance_m: f64,
    pub created_at: i64,
    pub same_category: bool,
}

/// Open reports within 150 m from the last 30 days, the same category first.
pub async fn similar(db: &Db, at: (f64, f64), service_code: &str) -> AppResult<Vec<Similar>> {
    if !rules::in_china(at.0, at.1) {
        return Ok(Vec::new());
    }
    let since = now_ms() - rules::NEAR_DAYS * crate::domain::time::DAY_MS;
    let rows = store::around(db, at, rules::NEAR_M, since).await?;
    let mut out: Vec<Similar> = rows
        .into_iter()
        .filter(|r| r.problem_state.is_none_or(|s| !s.is_final()))
        .filter_map(|r| {
            let d = crate::domain::geo::distance_m(at, (r.lng, r.lat));
            (d <= rules::NEAR_M).then(|| Similar {
                state: rules::public_state(r.state, r.problem_state).into(),
                same_category: r.service_code == service_code,
                code: r.code,
                category: r.category,
                description: rules::mask_personal(&r.description),
                supporters: r.supporters,
                distance_m: d.round(),
                created_at: r.created_at,
            })
        })
        .collect();
    out.sort_by(|a, b| b.same_category.cmp(&a.same_category).then(a.distance_m.total_cmp(&b.distance_m)));
    out.truncate(5);
    Ok(out)
}

/// "我也遇到": one more resident with the same problem, once per client; counts toward the
/// client's hourly limit like a report.
pub async fn support(db: &Db, config: &Config, sender: &Sender, code: &str) -> AppResult<i64> {
    let r = store::by_code(db, code.trim()).await?.ok_or(AppError::NotFound)?;
    if r.state == ReportState::Voided {
        return Err(AppError::refuse(Code::ReportNotReceived, "该反映未予立案，不能再表示遇到"));
    }
    let now = now_ms();
    let since = now - 3_600_000;
    let supported: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM report_supporters WHERE client = $1 AND created_at >= $2")
            .bind(&sender.client)
            .bind(since)
            .fetch_one(&db.pool)
            .await?;
    if supported + store::sent_by(db, &sender.client, since).await? >= 3 * config.reports_per_hour as i64 {
        return Err(AppError::refuse(Code::ReportLimit, Code::ReportLimit.message()));
    }
    let mut tx = db.begin().await?;
    if !store::support(&mut tx, &r.id, &sender.client, now).await? {
        return Err(AppError::refuse(Code::AlreadySupported, Code::AlreadySupported.message()));
    }
    tx.commit().await?;
    Ok(r.supporters + 1)
}

// --- Triage -------------------------------------------------------------------------------

/// Who triages: the office everywhere, a grid worker in its area; supervisors and the
/// discipline office read.
fn may_read(role: Role) -> bool {
    matches!(role, Role::Admin | Role::GridWorker | Role::Supervisor | Role::Discipline)
}

fn may_triage(role: Role) -> bool {
    matches!(role, Role::Admin | Role::GridWorker)
}

/// The reports a role may see: a grid worker those in its area's communities.
pub async fn scope(ctx: &Ctx<'_>) -> AppResult<ReportFilter> {
    if !may_read(ctx.user.role) {
        return Err(AppError::Forbidden);
    }
    Ok(ReportFilter { community_ids: super::access::area_scope(ctx).await?, ..Default::default() })
}

pub async fn queue(
    ctx: &Ctx<'_>,
    mut f: ReportFilter,
    page: crate::store::PageReq,
) -> AppResult<(Vec<PublicRow>, i64)> {
    let s = scope(ctx).await?;
    if s.community_ids.is_some() {
        f.community_ids = s.community_ids;
    }
    Ok(store::page(ctx.db, &f, page).await?)
}

/// A report as the triage sees it: everything, the phone masked.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ForTriage {
    #[serde(flatten)]
    pub report: Report,
    pub reporter_name: String,
    /// 138****8000
    pub reporter_phone: String,
    pub community_name: Option<String>,
    pub photos: Vec<Photo>,
    /// Warnings on the resident's photos (taken long before, far from the position)
    pub photo_warnings: Vec<String>,
    pub nearest_points: Vec<Nearby>,
    pub similar: Vec<Similar>,
    pub problem_code: Option<String>,
    pub may_triage: bool,
}

pub async fn visible(ctx: &Ctx<'_>, id: &str) -> AppResult<Report> {
    let s = scope(ctx).await?;
    let r = store::get(ctx.db, id).await?.ok_or(AppError::NotFound)?;
    if let Some(ids) = s.community_ids
        && !r.community_id.as_ref().is_some_and(|c| ids.contains(c))
    {
        return Err(AppError::NotFound);
    }
    Ok(r)
}

pub async fn for_triage(ctx: &Ctx<'_>, id: &str) -> AppResult<ForTriage> {
    let r = visible(ctx, id).await?;
    let photos = photo_store::of(ctx.db, PhotoOwner::Report, &r.id).await?;
    let mut nearest_points = nearest_points(ctx.db, (r.lng, r.lat), 1000.0, None).await?;
    // Nothing within 1 km: the grid's responsible unit answers; its nearest points are offered.
    if nearest_points.is_empty()
        && let Some(g) = &r.grid_id
        && let Some(unit) = point_store::grids(ctx.db).await?.into_iter().find(|x| &x.id == g).and_then(|x| x.unit_id)
    {
        nearest_points = nearest_points_of_unit(ctx.db, (r.lng, r.lat), &unit).await?;
    }
    let photo_warnings = photos
        .iter()
        .flat_map(|p| serde_json::from_str::<Vec<crate::domain::photo::EvidenceFlag>>(&p.flags).unwrap_or_default())
        .map(|f| f.message)
        .collect();
    let mut similar = similar(ctx.db, (r.lng, r.lat), &r.service_code).await?;
    similar.retain(|s| s.code != r.code);
    let community_name = match &r.community_id {
        Some(c) => crate::store::org::get(ctx.db, c).await?.map(|n| n.name),
        None => None,
    };
    let problem_code = match &r.problem_id {
        Some(p) => problem_store::get(ctx.db, p).await?.map(|p| p.code),
        None => None,
    };
    Ok(ForTriage {
        reporter_name: r.reporter_name.clone(),
        reporter_phone: if r.reporter_phone.is_empty() { String::new() } else { rules::masked(&r.reporter_phone) },
        may_triage: may_triage(ctx.user.role) && r.state == ReportState::Received,
        report: r,
        community_name,
        photos,
        photo_warnings,
        nearest_points,
        similar,
        problem_code,
    })
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct VerifyInput {
    /// The point the problem is filed at; default the nearest point
    #[serde(default)]
    pub point_id: String,
    /// minor | normal | major; default the standard item's
    #[serde(default)]
    pub severity: String,
    /// What the unit is told beside the resident's words
    #[serde(default)]
    pub note: String,
    #[serde(default, deserialize_with = "super::version")]
    pub version: Option<i64>,
}

/// A report the caller may verify or void now, and the version the change is made over.
async fn triageable(ctx: &Ctx<'_>, id: &str, version: Option<i64>) -> AppResult<(Report, i64)> {
    let old = visible(ctx, id).await?;
    if !may_triage(ctx.user.role) {
        return Err(AppError::Forbidden);
    }
    if old.state != ReportState::Received {
        return Err(AppError::refuse(Code::ReportNotReceived, Code::ReportNotReceived.message()));
    }
    Ok((old, expected(version)?))
}

/// Verifies a report: a problem of source 市民上报 at the chosen (or nearest) point, dispatched to
/// the point's unit with its clock starting now; the report's photos are its before-photos.
pub async fn verify(ctx: &Ctx<'_>, id: &str, input: VerifyInput) -> AppResult<Report> {
    let (old, expected) = triageable(ctx, id, input.version).await?;
    let mut e = FieldErrors::default();
    let note = optional_text(&mut e, "note", "核实说明", &input.note, 300, true);
    let point_id = super::non_empty(&Some(input.point_id.clone())).or_else(|| old.point_id.clone());
    let point = match point_id {
        Some(p) => point_store::get(ctx.db, &p).await?.filter(|p| p.active == 1),
        None => None,
    };
    if point.is_none() {
        e.add("point_id", Code::UnknownPoint, "附近没有点位，请选择问题所在的点位");
    }
    let service = service(ctx.db, &old.service_code).await?;
    let item = match &service {
        Some(s) => standards::item(ctx.db, &s.item_id).await?,
        None => None,
    };
    let severity = match input.severity.trim() {
        "" => service.as_ref().map(|s| s.severity).unwrap_or(Severity::Normal),
        s => Severity::parse_any(s).unwrap_or_else(|| {
            e.add("severity", Code::InvalidSeverity, "严重程度应为轻微、一般或严重");
            Severity::Normal
        }),
    };
    let (Some(point), true) = (point, e.is_empty()) else { return Err(AppError::Validation(e)) };
    let description =
        if note.is_empty() { old.description.clone() } else { format!("{}（核实：{note}）", old.description) };
    let filing = super::problems::Verified {
        point,
        item,
        category: old.category.clone(),
        severity,
        description,
        found_at: old.created_at,
        note: format!("市民反映 {} 核实立案", old.code),
    };
    let mut w = ctx.write().await?;
    let p = super::problems::file_verified(&mut w, filing).await?;
    for ph in photo_store::of(ctx.db, PhotoOwner::Report, &old.id).await? {
        let copy = Photo { id: new_id(), owner_type: PhotoOwner::Problem, owner_id: p.id.clone(), ..ph };
        copy.insert(w.conn()).await?;
    }
    let mut r = Report {
        state: ReportState::Verified,
        problem_id: Some(p.id.clone()),
        point_id: Some(p.point_id.clone()),
        triaged_by: Some(ctx.user.id.clone()).filter(|u| !u.is_empty()),
        triaged_at: Some(w.now),
        updated_at: w.now,
        ..old.clone()
    };
    w.update_as(Action::Verify, &old, &mut r, expected).await?;
    w.commit().await?;
    Ok(r)
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct VoidInput {
    /// Shown to the public and the reporter, e.g. "不属于本市管辖范围，已转12345热线"
    #[serde(default)]
    pub reason: String,
    #[serde(default, deserialize_with = "super::version")]
    pub version: Option<i64>,
}

/// Voids a report with a public reason: nothing is charged to anyone.
pub async fn void(ctx: &Ctx<'_>, id: &str, input: VoidInput) -> AppResult<Report> {
    let (old, expected) = triageable(ctx, id, input.version).await?;
    let mut e = FieldErrors::default();
    let reason = optional_text(&mut e, "reason", "不予立案理由", &input.reason, 200, true);
    if reason.is_empty() {
        e.add("reason", Code::Required, "请填写不予立案的理由（将向市民公开）");
    }
    if !e.is_empty() {
        return Err(AppError::Validation(e));
    }
    let mut w = ctx.write().await?;
    let mut r = Report {
        state: ReportState::Voided,
        public_note: reason,
        triaged_by: Some(ctx.user.id.clone()).filter(|u| !u.is_empty()),
        triaged_at: Some(w.now),
        updated_at: w.now,
        ..old.clone()
    };
    w.update_as(Action::Void, &old, &mut r, expected).await?;
    w.commit().await?;
    Ok(r)
}

// --- The reporter's status page and feedback -----------------------------------------------

/// What the reporter (and only they) sees: the public stages, the unit's reply, the photos, and
/// whether they are asked "解决了吗？满意吗？".
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Status {
    pub code: String,
    pub category: String,
    pub description: String,
    pub address: String,
    pub state: String,
    pub created_at: i64,
    #[schema(value_type = Vec<Object>)]
    pub stages: Vec<Stage>,
    pub unit_name: Option<String>,
    /// The unit's account of its fix, once submitted
    pub reply: String,
    pub before_photo_ids: Vec<String>,
    /// After-photos, once closed
    pub after_photo_ids: Vec<String>,
    pub supporters: i64,
    pub may_answer: bool,
    pub fixed: Option<i64>,
    pub satisfaction: Option<i64>,
    #[serde(skip)]
    pub report_id: String,
}

/// The report behind a private link.
pub async fn by_token(db: &Db, token: &str) -> AppResult<Report> {
    if token.len() != 32 || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(AppError::NotFound);
    }
    store::by_token_hash(db, &hash_token(token)).await?.ok_or(AppError::NotFound)
}

/// The report by its receipt code and the last four digits of the phone given with it.
pub async fn by_code(db: &Db, code: &str, last4: &str) -> AppResult<Report> {
    let wrong = || AppError::refuse(Code::WrongLookup, Code::WrongLookup.message());
    let r = store::by_code(db, &code.trim().to_uppercase()).await?.ok_or_else(wrong)?;
    if r.reporter_phone.is_empty() || rules::last4(&r.reporter_phone) != last4.trim() {
        return Err(wrong());
    }
    Ok(r)
}

pub async fn status(db: &Db, r: &Report) -> AppResult<Status> {
    let row = store::public_row(db, &r.id).await?.ok_or(AppError::NotFound)?;
    let mut stages = vec![Stage { at: r.created_at, label: "已受理", note: format!("受理编号 {}", r.code) }];
    match (r.state, r.triaged_at) {
        (ReportState::Voided, Some(at)) => {
            stages.push(Stage { at, label: "不予立案", note: r.public_note.clone() })
        }
        (ReportState::Verified, Some(at)) => stages.push(Stage { at, label: "已核实立案", note: String::new() }),
        _ => {}
    }
    let (mut before, mut after) = (Vec::new(), Vec::new());
    for ph in photo_store::of(db, PhotoOwner::Report, &r.id).await? {
        before.push(ph.id);
    }
    if let Some(pid) = &r.problem_id {
        for e in problem_store::events(db, pid).await? {
            let reopened = e.action == Step::Act(Action::Reopen);
            let visible =
                matches!(e.action, Step::Act(a) if a != Action::Verify) && e.from_state != Some(e.to_state) || reopened;
            if let (true, Some(label)) = (visible, rules::public_stage(e.to_state, reopened)) {
                let note = if reopened { e.note.clone() } else { String::new() };
                stages.push(Stage { at: e.at, label, note });
            }
        }
        if row.problem_state == Some(State::Closed) {
            for ph in photo_store::of(db, PhotoOwner::Problem, pid).await? {
                if ph.kind == PhotoKind::After {
                    after.push(ph.id);
                }
            }
        }
    }
    Ok(Status {
        code: r.code.clone(),
        category: r.category.clone(),
        description: r.description.clone(),
        address: r.address.clone(),
        state: rules::public_state(r.state, row.problem_state).into(),
        created_at: r.created_at,
        stages,
        unit_name: row.unit_name.clone(),
        reply: if matches!(row.problem_state, Some(State::Submitted | State::Closed)) {
            row.fix_note.clone().unwrap_or_default()
        } else {
            String::new()
        },
        before_photo_ids: before,
        after_photo_ids: after,
        supporters: r.supporters,
        may_answer: row.problem_state == Some(State::Closed) && r.feedback_at.is_none(),
        fixed: r.fixed,
        satisfaction: r.satisfaction,
        report_id: r.id.clone(),
    })
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct FeedbackInput {
    /// "解决了吗": true fixed, false not fixed (the problem goes back to its unit)
    #[serde(default, deserialize_with = "super::flag")]
    pub fixed: Option<bool>,
    /// 1 非常不满意 … 5 非常满意
    #[serde(default)]
    pub satisfaction: Option<i64>,
    #[serde(default)]
    pub note: String,
}

/// The reporter's answer, once per report after its problem closed. "Not fixed" reopens the
/// problem as rework for its unit (audited as the reporter's, through the office's rule book).
pub async fn feedback(db: &Db, storage: &Storage, r: &Report, input: FeedbackInput) -> AppResult<Report> {
    let status = status(db, r).await?;
    if !status.may_answer {
        return Err(AppError::refuse(Code::FeedbackNotOpen, Code::FeedbackNotOpen.message()));
    }
    let mut e = FieldErrors::default();
    let note = optional_text(&mut e, "note", "意见", &input.note, 300, true);
    if input.fixed.is_none() {
        e.add("fixed", Code::Required, "请选择问题是否已解决");
    }
    let level = input.satisfaction.unwrap_or(0);
    if !(1..=5).contains(&level) {
        e.add("satisfaction", Code::Required, "请选择满意程度");
    }
    let (Some(fixed), true) = (input.fixed, e.is_empty()) else { return Err(AppError::Validation(e)) };
    let sender = Sender { client: r.client.clone(), channel: r.channel, api_key: None };
    let mut who = citizen(&sender);
    who.display_name = format!("反映人（{}）", r.code);
    let ctx = Ctx { db, user: &who, request_id: "" };
    let mut w = ctx.write().await?;
    let mut new = Report {
        feedback_at: Some(w.now),
        fixed: Some(fixed as i64),
        satisfaction: Some(level),
        feedback_note: note.clone(),
        updated_at: w.now,
        ..r.clone()
    };
    w.update(r, &mut new, r.version).await?;
    w.commit().await?;
    if !fixed && let Some(pid) = &r.problem_id {
        // The office's rule book reopens it; the history and the audit name the reporter.
        let mut office = who.clone();
        office.role = Role::Admin;
        let ctx = Ctx { db, user: &office, request_id: "" };
        let p = problem_store::get(db, pid).await?.ok_or(AppError::NotFound)?;
        let reason = if note.is_empty() {
            format!("反映人 {} 表示问题未解决", r.code)
        } else {
            format!("反映人：{note}")
        };
        let input = super::problems::ActInput { reason, version: Some(p.version), ..Default::default() };
        super::problems::act(&ctx, storage, pid, Action::Reopen, input, Vec::new()).await?;
    }
    Ok(new)
}

/// Asks reporters of newly closed problems, by text message when they left a phone and a gateway
/// is configured (each report once, whichever instance gets there first).
pub async fn ask_reporters(db: &Db, config: &Config, base_url: &str) -> anyhow::Result<usize> {
    let mut asked = 0;
    for r in store::to_ask(db).await? {
        let mut tx = db.begin().await?;
        let now = now_ms();
        if !store::mark_asked(&mut tx, &r.id, now).await? {
            continue;
        }
        if !r.reporter_phone.is_empty() && !config.sms_url.trim().is_empty() {
            let body = format!(
                "【创城通】您反映的问题（受理编号{}）已办结。解决了吗？满意吗？请点击评价：{base_url}/public/status?code={}（需输入手机号后四位）",
                r.code, r.code
            );
            store::queue_sms(&mut tx, (&r.reporter_phone, &body), Some(&r.id), now).await?;
        }
        tx.commit().await?;
        asked += 1;
    }
    Ok(asked)
}

/// Messages one round of the job sends at most.
const SMS_PER_ROUND: usize = 50;
/// How long a claimed message stays its sender's (one send times out after 10 s).
const SMS_LEASE_MS: i64 = 60_000;

/// Sends due text messages through the gateway; a failure is retried with backoff, then given up.
pub async fn send_sms(db: &Db, config: &Config, client: &reqwest::Client) -> anyhow::Result<usize> {
    if config.sms_url.trim().is_empty() {
        return Ok(0);
    }
    let mut sent = 0;
    // One message claimed at a time, just before it is sent, so that a slow gateway cannot
    // outlast the leases of messages still waiting (another instance would send them too).
    for _ in 0..SMS_PER_ROUND {
        let Some(m) = store::claim_sms(db, now_ms(), SMS_LEASE_MS).await? else { break };
        let res = client
            .post(config.sms_url.trim())
            .json(&serde_json::json!({"phone": m.phone, "text": m.body}))
            .timeout(std::time::Duration::from_secs(10))
            .send()
            .await;
        let result = match res {
            Ok(r) if r.status().is_success() => {
                sent += 1;
                Ok(now_ms())
            }
            Ok(r) => Err(format!("短信网关返回{}", r.status().as_u16())),
            Err(e) => Err(format!("短信网关无法连接：{e}")),
        };
        let result = result.map_err(|err| {
            let attempts = m.attempts + 1;
            let retry = (attempts < config.webhook_max_attempts)
                .then(|| now_ms() + config.webhook_backoff_ms * (1 << attempts.min(10)));
            (err, retry)
        });
        store::sms_done(db, &m.id, result).await?;
    }
    Ok(sent)
}

// --- Open311 keys -------------------------------------------------------------------------

/// Issues a key for an Open311 client; the key itself is returned once and only its hash kept.
pub async fn issue_key(ctx: &Ctx<'_>, name: &str) -> AppResult<(store::ApiKey, String)> {
    super::access::require_admin(ctx.user)?;
    let mut e = FieldErrors::default();
    let name = optional_text(&mut e, "name", "客户端名称", name, 50, true);
    if name.is_empty() {
        e.add("name", Code::Required, "请填写使用该密钥的应用或单位名称");
    }
    if !e.is_empty() {
        return Err(AppError::Validation(e));
    }
    // A form sent twice (a reload) must not leave two keys nobody knows about.
    if store::keys(ctx.db).await?.iter().any(|k| k.revoked_at.is_none() && k.name == name) {
        return Err(AppError::refuse(Code::DuplicateKey, Code::DuplicateKey.message()));
    }
    let key = format!("cc311_{}", hex::encode(rand::random::<[u8; 20]>()));
    let k = store::ApiKey {
        id: new_id(),
        name,
        prefix: key[..10].to_string(),
        key_hash: hash_token(&key),
        created_at: now_ms(),
        created_by: Some(ctx.user.id.clone()).filter(|u| !u.is_empty()),
        revoked_at: None,
        last_used_at: None,
        requests: 0,
    };
    ctx.create(&k).await?;
    Ok((k, key))
}

pub async fn revoke_key(ctx: &Ctx<'_>, id: &str) -> AppResult<()> {
    super::access::require_admin(ctx.user)?;
    let k = store::key(ctx.db, id).await?.ok_or(AppError::NotFound)?;
    let mut w = ctx.write().await?;
    let now = w.now;
    if store::revoke_key(w.conn(), id, now).await? {
        let after = serde_json::json!({"name": k.name, "revoked": true});
        w.audit(
            crate::domain::audit::Verb::Delete,
            k_object(),
            &k.id,
            &crate::store::record::Insert::label(&k),
            None,
            Some(after),
        )
        .await?;
    }
    w.commit().await
}

fn k_object() -> crate::domain::audit::ObjectType {
    crate::domain::audit::ObjectType::ApiKey
}

/// The active key a client presented, or 403 api_key_invalid.
pub async fn check_key(db: &Db, key: &str) -> AppResult<store::ApiKey> {
    let invalid = || AppError::refuse(Code::ApiKeyInvalid, Code::ApiKeyInvalid.message());
    let k = store::key_by_hash(db, &hash_token(key)).await?.ok_or_else(invalid)?;
    if k.revoked_at.is_some() {
        return Err(invalid());
    }
    Ok(k)
}
