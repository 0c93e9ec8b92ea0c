//! The rectification loop: file a problem at a point, route it to the point's unit and lead with a
//! deadline from the rules, and move it through the state machine. Every step writes a history
//! event and an audit entry in the same transaction.

use super::Ctx;
use super::access::area_scope;
pub use super::problem_actions::{ActInput, act, allowed, merge};
use super::write::Write;
use crate::domain::ids::new_id;
use crate::domain::notify::NotifyEvent;
use crate::domain::photo::{
    CaptureFacts, DeviceWitness, EvidenceFlag, FlagCode, PhotoKind, PhotoOwner, time_place_flags,
};
use crate::domain::problem::{self as rules, IronRule, Limit, Source, State, Step};
use crate::domain::role::Role;
use crate::domain::standard::{Publication, Severity, TimeUnit, applies};
use crate::domain::time::{now_ms, shanghai};
use crate::domain::validate::{FieldErrors, required_text};
use crate::error::{AppError, AppResult, Code, RowError};
use crate::media::storage::Storage;
use crate::store::batch::Batch;
use crate::store::photos::Photo;
use crate::store::points as point_store;
use crate::store::points::Point;
use crate::store::problems::{self as store, Event, Problem, ProblemFilter};
use crate::store::record::Insert;
use crate::store::standards::{self, Item};
use chrono::{DateTime, NaiveDateTime, TimeZone};
use serde::Deserialize;
use sqlx::AnyConnection;
use utoipa::ToSchema;

pub const MAX_PHOTOS: usize = 9;

/// What a role may see of the ledger: a unit its own problems, a grid worker its area.
pub async fn scope(ctx: &Ctx<'_>) -> AppResult<ProblemFilter> {
    let mut f = ProblemFilter::default();
    if ctx.user.role.needs_unit() {
        f.unit_id = Some(ctx.user.unit_id.clone().unwrap_or_default());
    }
    f.area_ids = area_scope(ctx).await?;
    Ok(f)
}

/// Narrows a filter to the supervisor's teams' areas, where it files and re-checks; no change
/// for a supervisor not held to an area, or for other roles. Whether it narrowed.
pub async fn within_teams(ctx: &Ctx<'_>, f: &mut ProblemFilter) -> AppResult<bool> {
    let Some(teams) = super::access::team_scope(ctx).await? else {
        return Ok(false);
    };
    within_areas(f, teams);
    Ok(true)
}

/// Narrows a filter to these org nodes (within what it already holds).
pub fn within_areas(f: &mut ProblemFilter, areas: Vec<String>) {
    f.area_ids = Some(match f.area_ids.take() {
        Some(scope) => scope.into_iter().filter(|i| areas.contains(i)).collect(),
        None => areas,
    });
}

pub async fn visible(ctx: &Ctx<'_>, id: &str) -> AppResult<Problem> {
    let p = store::get(ctx.db, id).await?.ok_or(AppError::NotFound)?;
    if ctx.user.role.needs_unit() && ctx.user.unit_id.as_deref() != Some(p.unit_id.as_str()) {
        return Err(AppError::NotFound);
    }
    if let Some(area) = area_scope(ctx).await?
        && !p.community_id.as_ref().is_some_and(|c| area.contains(c))
    {
        return Err(AppError::NotFound);
    }
    Ok(p)
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct FileInput {
    #[serde(default)]
    pub point_id: String,
    /// An item of the published standard that applies to the point; or leave empty and give `category`
    #[serde(default)]
    pub standard_item_id: Option<String>,
    /// Free category when no standard item fits
    #[serde(default)]
    pub category: String,
    /// minor | normal | major (defaults to the item's)
    #[serde(default)]
    pub severity: String,
    #[serde(default)]
    pub description: String,
    /// supervision | grid_patrol | citizen | window_rating | evaluation | self_check | assigned
    #[serde(default)]
    pub source: String,
    /// When it was found, Beijing time "2026-11-23T07:05" or RFC 3339; default now
    #[serde(default)]
    pub found_at: String,
    /// File even though an open problem exists at this point for the same standard item
    #[serde(default)]
    pub allow_duplicate: bool,
    /// The phone's position and clock when it sent the photos (a second witness beside EXIF)
    #[serde(default)]
    pub device: Option<DeviceWitness>,
    /// The client's own reference for this filing (an offline draft, a retry): sent again by the
    /// same account, it answers with the problem already filed instead of filing it twice
    #[serde(default)]
    pub client_ref: Option<String>,
}

/// A client reference as given: letters, digits and hyphens, at most 64 (a UUID fits).
pub fn client_ref(given: &Option<String>) -> AppResult<Option<String>> {
    match given.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(r) if r.len() <= 64 && r.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') => Ok(Some(r.into())),
        Some(_) => Err(AppError::Refused(Code::InvalidClientRef, Code::InvalidClientRef.message().into())),
    }
}

/// The problem a client reference of this account already produced, if it did.
pub async fn already_done(ctx: &Ctx<'_>, client_ref: Option<&str>) -> AppResult<Option<Problem>> {
    let Some(r) = client_ref else { return Ok(None) };
    match store::by_client_ref(ctx.db, &ctx.user.id, r).await? {
        Some(id) => Ok(Some(store::get(ctx.db, &id).await?.ok_or(AppError::NotFound)?)),
        None => Ok(None),
    }
}

/// Marks a client reference used inside the write; `Ok(false)` when another request used it
/// first (the caller answers with what that one did).
pub async fn use_client_ref(w: &mut Write<'_>, client_ref: Option<&str>, problem_id: &str) -> AppResult<bool> {
    let Some(r) = client_ref else { return Ok(true) };
    let (user, now) = (w.user().id.clone(), w.now);
    match store::use_client_ref(w.conn(), &user, r, problem_id, now).await {
        Ok(()) => Ok(true),
        Err(e) if crate::store::is_unique_violation(&e) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

fn parse_time(s: &str) -> Option<i64> {
    let s = s.trim();
    DateTime::parse_from_rfc3339(s).ok().map(|d| d.timestamp_millis()).or_else(|| {
        let n = NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M").ok()?;
        Some(shanghai().from_local_datetime(&n).single()?.timestamp_millis())
    })
}

/// Who may file from which source.
pub fn may_file(role: Role, source: Source, own_unit: bool) -> bool {
    match role {
        Role::Admin => true,
        Role::Supervisor => matches!(source, Source::Supervision | Source::Assigned),
        Role::GridWorker => source == Source::GridPatrol,
        Role::Evaluator => source == Source::Evaluation,
        Role::UnitUser | Role::PointLead => source == Source::SelfCheck && own_unit,
        Role::Discipline => false,
    }
}

/// A filing checked against the point, the standard and the rules.
struct Filing {
    point: Point,
    source: Source,
    item: Option<Item>,
    category: String,
    severity: Severity,
    description: String,
    found_at: i64,
}

/// Files a problem with its before-photos, all or nothing.
pub async fn file(ctx: &Ctx<'_>, storage: &Storage, input: FileInput, photos: Vec<Vec<u8>>) -> AppResult<Problem> {
    let reference = client_ref(&input.client_ref)?;
    if let Some(p) = already_done(ctx, reference.as_deref()).await? {
        return Ok(p);
    }
    let filed = file_once(ctx, storage, input, photos, reference.as_deref()).await;
    or_what_the_first_did(ctx, reference.as_deref(), filed).await
}

/// A write sent again with its client reference that failed: when the same request, sent
/// through another instance at the same moment (a phone's retry), was done first, the answer is
/// what that one did, not the refusal this copy met (a stale version, a state moved on, a
/// duplicate of itself).
pub async fn or_what_the_first_did(
    ctx: &Ctx<'_>,
    reference: Option<&str>,
    result: AppResult<Problem>,
) -> AppResult<Problem> {
    match result {
        Err(e) if reference.is_some() => Ok(already_done(ctx, reference).await?.ok_or(e)?),
        other => other,
    }
}

async fn file_once(
    ctx: &Ctx<'_>,
    storage: &Storage,
    input: FileInput,
    photos: Vec<Vec<u8>>,
    reference: Option<&str>,
) -> AppResult<Problem> {
    let now = now_ms();
    let f = check_filing(ctx, &input, photos.len(), now).await?;
    if !input.allow_duplicate {
        refuse_duplicate(ctx, &f).await?;
    }
    let deadline = deadline_of(ctx, &f, now).await?;
    // Photos are checked and stored before anything is written; a bad photo refuses the filing.
    let id = new_id();
    let mut stored = prepare_photos(ctx, storage, (&id, PhotoKind::Before), photos, input.device).await?;
    // A before-photo taken days before the find, or far from the point, carries a warning.
    let at = f.point.lng.zip(f.point.lat);
    for ph in &mut stored {
        let facts = crate::domain::photo::CaptureFacts {
            found_at: f.found_at,
            point: at,
            taken_at: ph.taken_at,
            exif_position: ph.lng.zip(ph.lat),
            received_at: ph.uploaded_at,
            device: ph.device(),
        };
        let flags = crate::domain::photo::before_photo_flags(&facts);
        ph.flags = serde_json::to_string(&flags).unwrap_or_else(|_| "[]".into());
    }
    let files = crate::media::storage::Unkept::of(storage, &stored);
    let mut p = new_problem(ctx, &f, id, deadline, now);
    let note = format!("{}，{}张照片", f.source.label(), stored.len());
    // Filings arrive in numbers and all take the day's number: they share commits.
    let mut w = ctx.write_grouped().await?;
    // The problem, the day's number, its audit entry, photos, history step, the unit's notices
    // and the client's reference are sent together with the commit: on SQLite the single
    // writer is held for one hand-off.
    let step = history_step(&w, &p.id, Step::File, (None, p.state), &note);
    let mut b = Batch::default();
    // None of them reads another's row (the notices read the unit's people and robots).
    b.together();
    // The point first (PostgreSQL), then the day's number: see `store::hold_point`.
    let (held, n) = w.hold_point_and_number(&mut b, &p.point_id, &code_scope(now)).await?;
    p.code = code_of(now, n);
    p.search_text = store::search_text(&p, &f.point.name);
    w.stage_create(&mut b, &p);
    store::stage_point_check(&mut b, &p.point_id, (&f.point.name, f.point.community_id.as_deref()), &held);
    for ph in &stored {
        ph.stage(&mut b);
    }
    store::stage_event(&mut b, &step);
    if p.state == State::Dispatched {
        stage_announce(&mut b, &p, now);
    }
    if let Some(r) = reference {
        // After the problem it refers to; taken by another request, it refuses the whole write.
        store::stage_client_ref(&mut b, &w.user().id, r, &p.id, w.now);
    }
    let written = w.try_commit_batch(b).await;
    // A statement refused undoes the whole filing; after any other failure it may be on disk.
    if !matches!(written, Err(sqlx::Error::Database(_))) {
        files.keep();
    }
    match written {
        Ok(()) => {}
        // Another request with the same reference filed first: answer with what it did.
        Err(e) if reference.is_some() && store::is_client_ref_taken(&e) => {
            // Taken by a filing of this instance's open group, it is on disk once the group is.
            ctx.db.settle().await;
            return already_done(ctx, reference).await?.ok_or(AppError::NotFound);
        }
        Err(e) => return Err(super::write::refusal::<Problem>(e)),
    }
    Ok(p)
}

/// A citizen's report as verified by the office or the grid worker: filed at the chosen point.
pub struct Verified {
    pub point: Point,
    pub item: Option<Item>,
    pub category: String,
    pub severity: Severity,
    pub description: String,
    /// When the resident sent it
    pub found_at: i64,
    /// What the history says
    pub note: String,
}

/// Files a verified citizen report inside the caller's write: dispatched at once to the point's
/// unit with its deadline counted from now (the clock starts at verification).
pub async fn file_verified(w: &mut Write<'_>, v: Verified) -> AppResult<Problem> {
    let limit = v.item.as_ref().map(limit_of).unwrap_or(Limit::WorkingDays(1));
    file_dispatched(w, v, Source::Citizen, limit).await
}

/// Files a problem someone has verified already (a citizen's report, a bad window rating)
/// inside the caller's write: dispatched at once to the point's unit, due `limit` from now.
pub async fn file_dispatched(w: &mut Write<'_>, v: Verified, source: Source, limit: Limit) -> AppResult<Problem> {
    let now = w.now;
    let cal = super::calendar::load(w.db()).await?;
    let deadline = rules::deadline(&cal, IronRule::default(), crate::domain::time::to_local(now), source, limit);
    let f = Filing {
        point: v.point,
        source,
        item: v.item,
        category: v.category,
        severity: v.severity,
        description: v.description,
        found_at: v.found_at,
    };
    let user = w.user().clone();
    let ctx = Ctx { db: w.db(), user: &user, request_id: "" };
    let mut p = new_problem(&ctx, &f, new_id(), Some(deadline.timestamp_millis()), now);
    // Verified already: dispatched now, whoever reported it.
    (p.state, p.filed_at, p.dispatched_at) = (State::Dispatched, Some(now), Some(now));
    p.reporter_name = match source {
        Source::WindowRating => "好差评".into(),
        Source::Citizen => "市民".into(),
        _ if !user.display_name.is_empty() => user.display_name.clone(),
        _ => "市民".into(),
    };
    p.reported_by = None;
    let held = store::hold_point(w.conn(), &p.point_id).await?;
    p.code = next_code(w, now).await?;
    p.search_text = store::search_text(&p, &f.point.name);
    let step = history_step(w, &p.id, Step::File, (None, p.state), &v.note);
    let mut b = Batch::default();
    w.stage_create(&mut b, &p);
    store::stage_point_check(&mut b, &p.point_id, (&f.point.name, f.point.community_id.as_deref()), &held);
    store::stage_event(&mut b, &step);
    stage_announce(&mut b, &p, now);
    w.run::<Problem>(b).await?;
    Ok(p)
}

/// Every field of a filing, checked; all mistakes at once.
async fn check_filing(ctx: &Ctx<'_>, input: &FileInput, photos: usize, now: i64) -> AppResult<Filing> {
    let mut e = FieldErrors::default();
    if let Some(d) = &input.device {
        d.check(&mut e, now);
    }
    let point = check_point(ctx, input, &mut e).await?;
    let source = Source::parse(input.source.trim());
    if source.is_none() {
        e.add("source", Code::InvalidSource, "请选择问题来源");
    }
    let own_unit = point.as_ref().is_some_and(|p| ctx.user.unit_id.as_deref() == Some(p.unit_id.as_str()));
    if let Some(s) = source
        && !may_file(ctx.user.role, s, own_unit)
    {
        return Err(AppError::Forbidden);
    }
    let item = check_item(ctx, input, point.as_ref(), &mut e).await?;
    let category = match &item {
        Some(i) => format!("{}·{}", i.category, i.item),
        // A refused item is reported once; the free category is asked for only when no item was chosen.
        None if super::non_empty(&input.standard_item_id).is_some() => String::new(),
        None => required_text(&mut e, "category", "问题类别", &input.category, 30),
    };
    let severity = match (input.severity.trim(), &item) {
        ("", Some(i)) => i.severity,
        ("", None) => Severity::Normal,
        (s, _) => Severity::parse_any(s).unwrap_or_else(|| {
            e.add("severity", Code::InvalidSeverity, "严重程度应为轻微、一般或严重");
            Severity::Normal
        }),
    };
    let description = required_text(&mut e, "description", "问题描述", &input.description, 500);
    let found_at = check_found_at(&input.found_at, now, &mut e);
    if photos > MAX_PHOTOS {
        e.add("photos", Code::TooManyPhotos, format!("最多上传{MAX_PHOTOS}张照片"));
    }
    // What an inspection found is charged to the unit: its photo is the evidence.
    if photos == 0 && source.is_some_and(Source::is_inspection) {
        e.add("photos", Code::PhotoRequired, "督导检查、网格巡查和测评发现的问题须附至少1张现场照片");
    }
    match (point, source) {
        (Some(point), Some(source)) if e.is_empty() => {
            Ok(Filing { point, source, item, category, severity, description, found_at })
        }
        _ => Err(AppError::Validation(e)),
    }
}

/// The point filed at: it exists, is in use and is within the user's scope.
async fn check_point(ctx: &Ctx<'_>, input: &FileInput, e: &mut FieldErrors) -> AppResult<Option<Point>> {
    let point = match point_store::get(ctx.db, input.point_id.trim()).await? {
        Some(p) if p.active == 1 => p,
        Some(_) => {
            e.add("point_id", Code::PointRetired, "该点位已撤销，不能再登记问题");
            return Ok(None);
        }
        None => {
            e.add("point_id", Code::UnknownPoint, "请选择存在的点位");
            return Ok(None);
        }
    };
    let visible = super::points::check_visible(ctx, point)
        .await
        .map_err(|_| AppError::field("point_id", Code::UnknownPoint, "请选择存在的点位"))?;
    // An inspector files within its own round (a supervisor, its teams' areas).
    if let Some(why) = super::access::outside_inspection(ctx, visible.community_id.as_deref()).await? {
        e.add("point_id", Code::OutsideTeamArea, why);
        return Ok(None);
    }
    Ok(Some(visible))
}

/// The standard item judged against, if one was chosen: it belongs to the published standard and
/// applies to the point's type.
async fn check_item(
    ctx: &Ctx<'_>,
    input: &FileInput,
    point: Option<&Point>,
    e: &mut FieldErrors,
) -> AppResult<Option<Item>> {
    let Some(id) = super::non_empty(&input.standard_item_id) else { return Ok(None) };
    let Some(item) = standards::item(ctx.db, &id).await? else {
        e.add("standard_item_id", Code::UnknownItem, "标准条目不存在");
        return Ok(None);
    };
    let published =
        standards::version(ctx.db, &item.version_id).await?.is_some_and(|v| v.status == Publication::Published);
    if !published {
        e.add("standard_item_id", Code::ItemNotCurrent, "该标准条目不属于现行标准，请刷新后重选");
        return Ok(None);
    }
    if let Some(p) = point {
        let types = point_store::types(ctx.db).await?;
        let type_code = types.into_iter().find(|t| t.id == p.type_id).map(|t| t.code).unwrap_or_default();
        if !applies(&item.point_types, &type_code) {
            e.add("standard_item_id", Code::ItemNotApplicable, "该标准条目不适用于此类点位");
            return Ok(None);
        }
    }
    Ok(Some(item))
}

/// How far back a find may be entered (the filing form's picker stops there too).
pub const FOUND_MAX_AGE_MS: i64 = 30 * crate::domain::time::DAY_MS;

/// When it was found: now when not given; never in the future nor more than 30 days ago.
fn check_found_at(given: &str, now: i64, e: &mut FieldErrors) -> i64 {
    if given.trim().is_empty() {
        return now;
    }
    match parse_time(given) {
        Some(t) if t > now + 5 * 60_000 => e.add("found_at", Code::FoundInFuture, "发现时间不能晚于现在"),
        Some(t) if t < now - FOUND_MAX_AGE_MS => {
            e.add("found_at", Code::FoundTooOld, "发现时间不能早于30天前，请按实际时间登记")
        }
        Some(t) => return t,
        None => e.add("found_at", Code::InvalidTime, "发现时间格式应为2026-11-23T07:05"),
    }
    now
}

/// Refuses a second open problem for the same standard item at the same point (the filer may
/// confirm it is a new one with `allow_duplicate`).
async fn refuse_duplicate(ctx: &Ctx<'_>, f: &Filing) -> AppResult<()> {
    let Some(item) = &f.item else { return Ok(()) };
    let open = store::open_at_point(ctx.db, &f.point.id, Some(&item.id)).await?;
    if open.is_empty() {
        return Ok(());
    }
    let codes: Vec<String> = open.iter().map(|p| p.code.clone()).collect();
    // The report names each open problem in the way: its code and state.
    let rows =
        open.iter().enumerate().map(|(i, p)| RowError::new("未办结问题", i + 1, &p.code, p.state.label())).collect();
    Err(AppError::Rejected(
        Code::DuplicateOpenProblem,
        format!("该点位已有同一标准条目的未办结问题：{}。如确属新问题，请确认后再登记", codes.join("、")),
        rows,
    ))
}

/// The deadline: none while a citizen report waits for verification; else the iron rule or the
/// item's limit on the working-day calendar, from the find (from the filing if that has passed).
async fn deadline_of(ctx: &Ctx<'_>, f: &Filing, now: i64) -> AppResult<Option<i64>> {
    if f.source.needs_verification() {
        return Ok(None);
    }
    let cal = super::calendar::load(ctx.db).await?;
    let limit = match &f.item {
        Some(i) => limit_of(i),
        None => Limit::WorkingDays(1),
    };
    let (found, filed) = (crate::domain::time::to_local(f.found_at), crate::domain::time::to_local(now));
    Ok(Some(rules::deadline_at_filing(&cal, IronRule::default(), (found, filed), f.source, limit).timestamp_millis()))
}

/// A standard item's time limit.
pub fn limit_of(i: &Item) -> Limit {
    match i.time_unit {
        TimeUnit::WorkingHours => Limit::WorkingHours(i.time_limit),
        TimeUnit::WorkingDays => Limit::WorkingDays(i.time_limit as u32),
    }
}

/// Checks and stores photos (originals and thumbnails) before anything is written.
pub async fn prepare_photos(
    ctx: &Ctx<'_>,
    storage: &Storage,
    (problem_id, kind): (&str, PhotoKind),
    photos: Vec<Vec<u8>>,
    device: Option<DeviceWitness>,
) -> AppResult<Vec<Photo>> {
    let (mut stored, mut files) = (Vec::with_capacity(photos.len()), crate::media::storage::Unkept::new(storage));
    for bytes in photos {
        let owner = (PhotoOwner::Problem, problem_id, kind);
        stored.push(super::photos::prepare(storage, owner, bytes, device, ctx).await?);
        // One bad photo refuses them all: the ones stored before it go.
        files.add(stored.last().expect("just stored"));
    }
    // From here the caller's write decides.
    files.keep();
    Ok(stored)
}

/// The new problem: routed to the point's unit and lead, dispatched at once unless a citizen
/// report waits for verification.
fn new_problem(ctx: &Ctx<'_>, f: &Filing, id: String, deadline: Option<i64>, now: i64) -> Problem {
    let verify_first = f.source.needs_verification();
    Problem {
        id,
        code: String::new(),
        point_id: f.point.id.clone(),
        community_id: f.point.community_id.clone(),
        unit_id: f.point.unit_id.clone(),
        lead_name: f.point.lead_name.clone(),
        standard_item_id: f.item.as_ref().map(|i| i.id.clone()),
        category: f.category.clone(),
        severity: f.severity,
        source: f.source,
        description: f.description.clone(),
        state: if verify_first { State::Reported } else { State::Dispatched },
        extension_pending: 0,
        transfer_pending: 0,
        extension_days: 0,
        extensions: 0,
        postponed: 0,
        rework_count: 0,
        reported_by: (!ctx.user.id.is_empty()).then(|| ctx.user.id.clone()),
        reporter_name: ctx.user.display_name.clone(),
        found_at: f.found_at,
        filed_at: (!verify_first).then_some(now),
        dispatched_at: (!verify_first).then_some(now),
        acknowledged_at: None,
        submitted_at: None,
        closed_at: None,
        voided_at: None,
        deadline_at: deadline,
        fix_note: String::new(),
        created_at: now,
        updated_at: now,
        version: 1,
        search_text: String::new(),
    }
}

/// The day's next problem code: Q + date + sequence (Q202611220001).
async fn next_code(w: &mut Write<'_>, now: i64) -> AppResult<String> {
    Ok(code_of(now, w.next_in_sequence(&code_scope(now)).await?))
}

/// The sequence a problem's number is taken from: the day it is filed (Beijing).
fn code_scope(now: i64) -> String {
    format!("problem:{}", crate::domain::time::to_local(now).format("%Y%m%d"))
}

/// A problem's number: the day it is filed and its place in that day.
fn code_of(now: i64, n: i64) -> String {
    format!("Q{}{n:04}", crate::domain::time::to_local(now).format("%Y%m%d"))
}

/// A step of the problem's history, written with the change.
pub async fn event(
    w: &mut Write<'_>,
    problem_id: &str,
    step: Step,
    from: Option<State>,
    to: State,
    note: &str,
) -> AppResult<()> {
    let e = history_step(w, problem_id, step, (from, to), note);
    store::insert_event(w.conn(), &e).await?;
    Ok(())
}

/// A step of the problem's history by the writer, at the write's time.
fn history_step(w: &Write<'_>, problem_id: &str, step: Step, (from, to): (Option<State>, State), note: &str) -> Event {
    let user = w.user();
    Event {
        id: new_id(),
        problem_id: problem_id.into(),
        at: w.now,
        actor_id: (!user.id.is_empty()).then(|| user.id.clone()),
        actor_name: user.display_name.clone(),
        action: step,
        from_state: from,
        to_state: to,
        note: note.into(),
    }
}

/// Tells the unit about a newly dispatched problem: inbox entries and its group-chat robots.
pub async fn announce(conn: &mut AnyConnection, p: &Problem, now: i64) -> AppResult<()> {
    let mut b = Batch::default();
    stage_announce(&mut b, p, now);
    b.run(conn).await?;
    Ok(())
}

/// The same announcement, added to a batch of statements sent together.
fn stage_announce(b: &mut Batch<'_>, p: &Problem, now: i64) {
    use crate::store::notifications::{Inboxes, stage_enqueue, stage_notify};
    let title = format!("新问题待签收：{}", p.category);
    let body = format!(
        "{}，整改期限 {}",
        p.description,
        p.deadline_at.map(crate::domain::time::fmt_local).unwrap_or_default()
    );
    stage_notify(b, Inboxes::Unit(&p.unit_id), &p.id, NotifyEvent::New, (&title, &body), now);
    stage_enqueue(b, &p.unit_id, &p.id, NotifyEvent::New, now);
}

/// At the photo's own point another photo counts as the same picture only this close.
const SAME_POINT_BITS: u32 = 4;

/// Warnings about an after-photo, for the supervisor at the re-check, each with its evidence:
/// it repeats the problem's before-photo or any photo already on the platform (found by
/// signature, confirmed by aligning the two pictures: see `media::evidence`), was taken before
/// the problem was found, far from the point, or carries no capture data at all.
pub async fn evidence_flags(ctx: &Ctx<'_>, storage: &Storage, p: &Problem, ph: &Photo) -> AppResult<Vec<EvidenceFlag>> {
    let mut flags = reused(ctx, storage, p, ph).await?;
    let point = point_store::get(ctx.db, &p.point_id).await?;
    let facts = CaptureFacts {
        found_at: p.found_at,
        point: point.and_then(|pt| Some((pt.lng?, pt.lat?))),
        taken_at: ph.taken_at,
        exif_position: ph.lng.zip(ph.lat),
        received_at: ph.uploaded_at,
        device: ph.device(),
    };
    flags.extend(time_place_flags(&facts));
    Ok(flags)
}

/// Re-use: the problem's before-photos are always compared; any other photo of the platform
/// only when its signature is near. A comparison aligns the two thumbnails (off the async
/// threads) and calls it a copy only when nothing stands out between them.
async fn reused(ctx: &Ctx<'_>, storage: &Storage, p: &Problem, ph: &Photo) -> AppResult<Vec<EvidenceFlag>> {
    use crate::media::evidence::{Features, Signature, align};
    let befores = crate::store::photos::of(ctx.db, PhotoOwner::Problem, &p.id).await?;
    let mut candidates: Vec<String> =
        befores.iter().filter(|b| b.kind == PhotoKind::Before).map(|b| b.id.clone()).collect();
    if let Some(sig) = Signature::parse(&ph.signature) {
        crate::store::photos::refresh_index(ctx.db).await?;
        let near = ctx.db.photo_index.lock().await.near(&sig, 8);
        for (id, _) in near {
            if id != ph.id && !candidates.contains(&id) {
                candidates.push(id);
            }
        }
    }
    let thumb = |key: String| async move { storage.get(&key).await.ok() };
    let Some(own) = thumb(ph.thumb_key.clone()).await else { return Ok(Vec::new()) };
    let sig = Signature::parse(&ph.signature).unwrap_or_default();
    let mut others = Vec::new();
    for (other, code, point) in crate::store::photos::with_problem_codes(ctx.db, &candidates).await? {
        // At the same point a genuine fix looks like every other clean shot of the place: only
        // the problem's own before-photos, or a near-identical picture, count there.
        let own_before = other.owner_id == p.id && other.kind == PhotoKind::Before;
        let same_picture = Signature::parse(&other.signature).is_some_and(|s| s.distance(&sig) <= SAME_POINT_BITS);
        if point == p.point_id && !own_before && !same_picture {
            continue;
        }
        if let Some(bytes) = thumb(other.thumb_key.clone()).await {
            others.push((other, code, bytes));
        }
    }
    let copies = tokio::task::spawn_blocking(move || {
        let features = |b: &[u8]| image::load_from_memory(b).ok().map(|i| Features::of(&i));
        let Some(own) = features(&own) else { return Vec::new() };
        // The image library must not take the filing down: a panic counts as "not a copy".
        let copy = |bytes: &[u8]| {
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                features(bytes).and_then(|f| align(&own, &f)).is_some_and(|a| a.is_copy())
            }))
            .unwrap_or(false)
        };
        others.into_iter().filter(|(_, _, bytes)| copy(bytes)).map(|(photo, code, _)| (photo, code)).collect::<Vec<_>>()
    })
    .await
    .map_err(|e| anyhow::anyhow!(e))?;
    let mut flags = Vec::new();
    for (other, code) in copies {
        let own_before = other.owner_id == p.id && other.kind == PhotoKind::Before;
        let (flag_code, message) = match (&code, own_before) {
            (_, true) => {
                (FlagCode::ReusedBefore, "与整改前照片是同一张（经裁剪、缩放、调色或重新压缩），疑似未整改".to_string())
            }
            (Some(c), false) if other.owner_id == p.id => {
                (FlagCode::ReusedOther, format!("与本问题（{c}）之前提交的整改照片是同一张"))
            }
            (Some(c), false) => (FlagCode::ReusedOther, format!("与问题{c}的照片是同一张，疑似挪用其他问题的照片")),
            (None, false) => (FlagCode::ReusedOther, "与平台上已有的点位照片是同一张".to_string()),
        };
        if flags.iter().any(|f: &EvidenceFlag| f.code == flag_code) {
            continue;
        }
        flags.push(EvidenceFlag {
            photo_id: Some(other.id),
            problem_code: code,
            ..EvidenceFlag::new(flag_code, message)
        });
    }
    Ok(flags)
}

/// The deadline a problem's find would have given it, when that had passed by its filing (a
/// find entered late, whose clock started at filing instead). None otherwise, and for problems
/// whose clock starts at verification (citizen reports, bad window ratings).
pub async fn passed_at_filing(ctx: &Ctx<'_>, p: &Problem) -> AppResult<Option<i64>> {
    let (Some(filed), Some(_)) = (p.filed_at, p.deadline_at) else { return Ok(None) };
    if p.source.needs_verification() || p.source == Source::WindowRating || filed <= p.found_at {
        return Ok(None);
    }
    let cal = super::calendar::load(ctx.db).await?;
    let limit = item_limit(ctx, p).await?;
    let found = crate::domain::time::to_local(p.found_at);
    let from_find = rules::deadline(&cal, IronRule::default(), found, p.source, limit).timestamp_millis();
    Ok((from_find <= filed).then_some(from_find))
}

pub async fn item_limit(ctx: &Ctx<'_>, p: &Problem) -> AppResult<Limit> {
    Ok(match &p.standard_item_id {
        Some(id) => standards::item(ctx.db, id).await?.map(|i| limit_of(&i)).unwrap_or(Limit::WorkingDays(1)),
        None => Limit::WorkingDays(1),
    })
}
