//! The rectification loop: file a problem at a point, route it to the point's unit and lead with a
//! deadline from the rules, and move it through the state machine. Every step writes a history
//! event and an audit entry in the same transaction.

use super::access::area_scope;
use super::{Ctx, snapshot};
use crate::domain::audit::{ObjectType, Verb};
use crate::domain::ids::new_id;
use crate::domain::notify::NotifyEvent;
use crate::domain::photo::{PhotoKind, PhotoOwner};
use crate::domain::problem::Step;
use crate::domain::problem::{self as rules, Action, Actor, Facts, IronRule, Limit, Source, State};
use crate::domain::role::Role;
use crate::domain::standard::Publication;
use crate::domain::standard::{Severity, TimeUnit, applies};
use crate::domain::time::{now_ms, shanghai};
use crate::domain::validate::{FieldErrors, optional_text, required_text};
use crate::error::RowError;
use crate::error::{AppError, AppResult, Code};
use crate::media::storage::Storage;
use crate::store::audit::Change;
use crate::store::photos as photo_store;
use crate::store::problems::{self as store, Event, Problem, ProblemFilter};
use crate::store::{points as point_store, standards, units};
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

pub async fn visible(ctx: &Ctx<'_>, id: &str) -> AppResult<Problem> {
    let p = store::get(ctx.db, id).await?.ok_or(AppError::NotFound)?;
    if ctx.user.role.needs_unit() && ctx.user.unit_id.as_deref() != Some(p.unit_id.as_str()) {
        return Err(AppError::NotFound);
    }
    if let Some(area) = area_scope(ctx).await? {
        let point = point_store::get(ctx.db, &p.point_id).await?.ok_or(AppError::NotFound)?;
        if !point.community_id.is_some_and(|c| area.contains(&c)) {
            return Err(AppError::NotFound);
        }
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
}

fn parse_time(s: &str) -> Option<i64> {
    let s = s.trim();
    DateTime::parse_from_rfc3339(s).ok().map(|d| d.timestamp_millis()).or_else(|| {
        let n = NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M").ok()?;
        Some(shanghai().from_local_datetime(&n).single()?.timestamp_millis())
    })
}

/// Who may file from which source.
fn may_file(role: Role, source: Source, own_unit: bool) -> bool {
    match role {
        Role::Admin => true,
        Role::Supervisor => matches!(source, Source::Supervision | Source::Assigned),
        Role::GridWorker => source == Source::GridPatrol,
        Role::Evaluator => source == Source::Evaluation,
        Role::UnitUser | Role::PointLead => source == Source::SelfCheck && own_unit,
        Role::Discipline => false,
    }
}

/// Files a problem with its before-photos, all or nothing.
pub async fn file(ctx: &Ctx<'_>, storage: &Storage, input: FileInput, photos: Vec<Vec<u8>>) -> AppResult<Problem> {
    let now = now_ms();
    let mut e = FieldErrors::default();
    let point = match point_store::get(ctx.db, input.point_id.trim()).await? {
        Some(p) if p.active == 1 => Some(p),
        Some(_) => {
            e.add("point_id", Code::PointRetired, "该点位已撤销，不能再登记问题");
            None
        }
        None => {
            e.add("point_id", Code::UnknownPoint, "请选择存在的点位");
            None
        }
    };
    let point = match point {
        Some(p) => Some(
            super::points::check_visible(ctx, p)
                .await
                .map_err(|_| AppError::field("point_id", Code::UnknownPoint, "请选择存在的点位"))?,
        ),
        None => None,
    };
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
    let item = match crate::service::non_empty(&input.standard_item_id) {
        Some(id) => match standards::item(ctx.db, &id).await? {
            Some(i) => {
                let published = standards::version(ctx.db, &i.version_id)
                    .await?
                    .is_some_and(|v| v.status == Publication::Published);
                let type_code = match &point {
                    Some(p) => point_store::types(ctx.db)
                        .await?
                        .into_iter()
                        .find(|t| t.id == p.type_id)
                        .map(|t| t.code)
                        .unwrap_or_default(),
                    None => String::new(),
                };
                if !published {
                    e.add("standard_item_id", Code::ItemNotCurrent, "该标准条目不属于现行标准，请刷新后重选");
                    None
                } else if point.is_some() && !applies(&i.point_types, &type_code) {
                    e.add("standard_item_id", Code::ItemNotApplicable, "该标准条目不适用于此类点位");
                    None
                } else {
                    Some(i)
                }
            }
            None => {
                e.add("standard_item_id", Code::UnknownItem, "标准条目不存在");
                None
            }
        },
        None => None,
    };
    let item_given = crate::service::non_empty(&input.standard_item_id).is_some();
    let category = match &item {
        Some(i) => format!("{}·{}", i.category, i.item),
        // A refused item is reported once; the free category is asked for only when no item was chosen.
        None if item_given => String::new(),
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
    let found_at = if input.found_at.trim().is_empty() {
        now
    } else {
        match parse_time(&input.found_at) {
            Some(t) if t > now + 5 * 60_000 => {
                e.add("found_at", Code::FoundInFuture, "发现时间不能晚于现在");
                now
            }
            Some(t) if t < now - 30 * crate::domain::time::DAY_MS => {
                e.add("found_at", Code::FoundTooOld, "发现时间不能早于30天前，请按实际时间登记");
                now
            }
            Some(t) => t,
            None => {
                e.add("found_at", Code::InvalidTime, "发现时间格式应为2026-11-23T07:05");
                now
            }
        }
    };
    if photos.len() > MAX_PHOTOS {
        e.add("photos", Code::TooManyPhotos, format!("最多上传{MAX_PHOTOS}张照片"));
    }
    if !e.is_empty() {
        return Err(AppError::Validation(e));
    }
    let (point, source) = (point.expect("checked"), source.expect("checked"));
    if let Some(i) = &item
        && !input.allow_duplicate
    {
        let open = store::open_at_point(ctx.db, &point.id, Some(&i.id)).await?;
        if !open.is_empty() {
            let codes: Vec<String> = open.iter().map(|p| p.code.clone()).collect();
            // The report names each open problem in the way: its code and state.
            let rows = open
                .iter()
                .enumerate()
                .map(|(i, p)| RowError {
                    sheet: "未办结问题".into(),
                    row: i + 1,
                    column: p.code.clone(),
                    key: String::new(),
                    message: p.state.label().into(),
                })
                .collect();
            return Err(AppError::Rejected(
                Code::DuplicateOpenProblem,
                format!("该点位已有同一标准条目的未办结问题：{}。如确属新问题，请确认后再登记", codes.join("、")),
                rows,
            ));
        }
    }
    let cal = super::calendar::load(ctx.db).await?;
    let limit = match &item {
        Some(i) if i.time_unit == TimeUnit::WorkingHours => Limit::WorkingHours(i.time_limit),
        Some(i) => Limit::WorkingDays(i.time_limit as u32),
        None => Limit::WorkingDays(1),
    };
    let found_local = crate::domain::time::to_local(found_at);
    let verify_first = source.needs_verification();
    let deadline = (!verify_first)
        .then(|| rules::deadline(&cal, IronRule::default(), found_local, source, limit).timestamp_millis());
    // Photos are checked and stored before anything is written; a bad photo refuses the filing.
    let id = new_id();
    let mut stored = Vec::new();
    for bytes in photos {
        stored.push(super::photos::prepare(storage, PhotoOwner::Problem, &id, PhotoKind::Before, bytes, ctx).await?);
    }
    let state = if verify_first { State::Reported } else { State::Dispatched };
    let mut p = Problem {
        id: id.clone(),
        code: String::new(),
        point_id: point.id.clone(),
        unit_id: point.unit_id.clone(),
        lead_name: point.lead_name.clone(),
        standard_item_id: item.as_ref().map(|i| i.id.clone()),
        category,
        severity,
        source,
        description,
        state,
        extension_pending: 0,
        extension_days: 0,
        extensions: 0,
        postponed: 0,
        rework_count: 0,
        reported_by: (!ctx.user.id.is_empty()).then(|| ctx.user.id.clone()),
        reporter_name: ctx.user.display_name.clone(),
        found_at,
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
    };
    let mut tx = ctx.db.begin().await?;
    // Codes number the day's problems: Q + date + sequence (Q202611220001).
    let day = crate::domain::time::to_local(now).format("%Y%m%d").to_string();
    let n = store::next_in_sequence(&mut tx, &format!("problem:{day}")).await?;
    p.code = format!("Q{day}{n:04}");
    store::insert(&mut tx, &p, &point.name).await?;
    for ph in &stored {
        photo_store::insert(&mut tx, ph).await?;
    }
    event(ctx, &mut tx, &p.id, Step::File, None, state, &format!("{}，{}张照片", source.label(), stored.len()), now)
        .await?;
    if state == State::Dispatched {
        announce(&mut tx, &p, now).await?;
    }
    let label = format!("{} {}", p.code, p.category);
    let change = Change {
        action: Verb::Create.into(),
        object_type: ObjectType::Problem,
        object_id: &p.id,
        object_label: &label,
        before: None,
        after: snapshot(&p),
    };
    ctx.audit(&mut tx, change, now).await?;
    tx.commit().await?;
    Ok(p)
}

#[allow(clippy::too_many_arguments)]
async fn event(
    ctx: &Ctx<'_>,
    conn: &mut AnyConnection,
    problem_id: &str,
    action: Step,
    from: Option<State>,
    to: State,
    note: &str,
    at: i64,
) -> AppResult<()> {
    let e = Event {
        id: new_id(),
        problem_id: problem_id.into(),
        at,
        actor_id: (!ctx.user.id.is_empty()).then(|| ctx.user.id.clone()),
        actor_name: ctx.user.display_name.clone(),
        action,
        from_state: from,
        to_state: to,
        note: note.into(),
    };
    store::insert_event(conn, &e).await?;
    Ok(())
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct ActInput {
    /// Required for void, fail, request_extension, refuse_extension, postpone, transfer
    #[serde(default)]
    pub reason: String,
    /// What was done (submit_fix)
    #[serde(default)]
    pub note: String,
    /// Working days asked for (request_extension)
    #[serde(default)]
    pub days: Option<u32>,
    /// New lead's name (reassign)
    #[serde(default)]
    pub lead_name: String,
    /// Receiving unit (transfer)
    #[serde(default)]
    pub unit_id: String,
    #[serde(default)]
    pub version: Option<i64>,
}

/// The actions the current user may take now, for buttons.
pub fn allowed(ctx: &Ctx<'_>, p: &Problem) -> Vec<Action> {
    let state = p.state;
    let actor = Actor { role: ctx.user.role, own_unit: ctx.user.unit_id.as_deref() == Some(p.unit_id.as_str()) };
    let facts = Facts { state, extension_pending: p.extension_pending == 1 };
    Action::ALL.into_iter().filter(|a| rules::transition(facts, *a, actor).is_ok()).collect()
}

/// Applies an action through the state machine; after-photos come with `submit_fix`.
pub async fn act(
    ctx: &Ctx<'_>,
    storage: &Storage,
    id: &str,
    action: Action,
    input: ActInput,
    photos: Vec<Vec<u8>>,
) -> AppResult<Problem> {
    let old = visible(ctx, id).await?;
    let state = old.state;
    let actor = Actor { role: ctx.user.role, own_unit: ctx.user.unit_id.as_deref() == Some(old.unit_id.as_str()) };
    let facts = Facts { state, extension_pending: old.extension_pending == 1 };
    let outcome = rules::transition(facts, action, actor).map_err(|r| {
        if r.code == Code::NotAllowed { AppError::Forbidden } else { AppError::Refused(r.code, r.message) }
    })?;
    let mut e = FieldErrors::default();
    let reason = optional_text(&mut e, "reason", "理由", &input.reason, 300, true);
    if action.needs_reason() && reason.is_empty() {
        e.add("reason", Code::Required, format!("请填写“{}”的理由", action.label()));
    }
    let now = now_ms();
    let mut p = Problem {
        state: outcome.state,
        extension_pending: outcome.extension_pending as i64,
        updated_at: now,
        ..old.clone()
    };
    let mut after_photos = Vec::new();
    let mut note = reason.clone();
    match action {
        Action::Verify => {
            let cal = super::calendar::load(ctx.db).await?;
            let limit = item_limit(ctx, &old).await?;
            let d =
                rules::deadline(&cal, IronRule::default(), crate::domain::time::to_local(now), Source::Citizen, limit);
            p.filed_at = Some(now);
            p.dispatched_at = Some(now);
            p.deadline_at = Some(d.timestamp_millis());
        }
        Action::Void => p.voided_at = Some(now),
        Action::Acknowledge => p.acknowledged_at = Some(now),
        Action::SubmitFix => {
            let fix = optional_text(&mut e, "note", "整改说明", &input.note, 500, true);
            if fix.is_empty() {
                e.add("note", Code::Required, "请填写整改说明");
            }
            if photos.is_empty() {
                e.add("photos", Code::PhotoRequired, "请上传至少一张整改后照片");
            } else if photos.len() > MAX_PHOTOS {
                e.add("photos", Code::TooManyPhotos, format!("最多上传{MAX_PHOTOS}张照片"));
            }
            if e.is_empty() {
                for bytes in photos {
                    let mut ph =
                        super::photos::prepare(storage, PhotoOwner::Problem, &old.id, PhotoKind::After, bytes, ctx)
                            .await?;
                    ph.flags =
                        serde_json::to_string(&evidence_flags(ctx, &old, &ph).await?).unwrap_or_else(|_| "[]".into());
                    after_photos.push(ph);
                }
            }
            p.submitted_at = Some(now);
            p.fix_note = fix.clone();
            note = fix;
        }
        Action::Pass => p.closed_at = Some(now),
        Action::Fail => {
            p.rework_count += 1;
            p.submitted_at = None;
        }
        Action::RequestExtension => {
            let days = input.days.unwrap_or(0);
            if !(1..=30).contains(&days) {
                e.add("days", Code::InvalidDays, "延期天数应为1至30个工作日");
            }
            p.extension_days = days as i64;
            note = format!("申请延期{days}个工作日：{reason}");
        }
        Action::ApproveExtension => {
            let cal = super::calendar::load(ctx.db).await?;
            let base = crate::domain::time::to_local(old.deadline_at.unwrap_or(now).max(now));
            p.deadline_at = Some(cal.add_working_days(base, old.extension_days as u32).timestamp_millis());
            p.extensions += 1;
            note = format!("批准延期{}个工作日", old.extension_days);
        }
        Action::RefuseExtension => {}
        Action::Postpone => p.postponed = 1,
        Action::Resume => {}
        Action::RequestTransfer => note = format!("申请转办：{reason}"),
        Action::Reassign => {
            let lead = required_text(&mut e, "lead_name", "新负责人", &input.lead_name, 30);
            note = format!("改派给{lead}");
            p.lead_name = lead;
        }
        Action::Transfer => match units::get(ctx.db, input.unit_id.trim()).await? {
            Some(u) if u.id != old.unit_id => {
                note = format!("转办至{}：{reason}", u.name);
                p.unit_id = u.id;
                p.lead_name = String::new();
                p.acknowledged_at = None;
            }
            _ => e.add("unit_id", Code::InvalidUnit, "请选择另一个存在的责任单位"),
        },
    }
    if !e.is_empty() {
        return Err(AppError::Validation(e));
    }
    let expected = input.version.unwrap_or(old.version);
    let mut tx = ctx.db.begin().await?;
    if !store::update(&mut tx, &p, expected).await? {
        return Err(AppError::stale());
    }
    p.version = expected + 1;
    for ph in &after_photos {
        photo_store::insert(&mut tx, ph).await?;
    }
    event(ctx, &mut tx, &p.id, Step::Act(action), Some(state), outcome.state, &note, now).await?;
    match action {
        Action::Verify | Action::Transfer => announce(&mut tx, &p, now).await?,
        Action::RequestTransfer => {
            // The office decides: every admin gets it in the inbox.
            let admins: Vec<String> = sqlx::query_scalar("SELECT id FROM users WHERE role = 'admin' AND active = 1")
                .fetch_all(&mut *tx)
                .await?;
            for a in admins {
                sqlx::query("INSERT INTO notifications (id, user_id, problem_id, kind, title, body, link, created_at) VALUES ($1, $2, $3, 'transfer_request', $4, $5, $6, $7)")
                    .bind(new_id())
                    .bind(&a)
                    .bind(&p.id)
                    .bind(format!("申请转办：{}", p.category))
                    .bind(&note)
                    .bind(format!("/problems/{}", p.id))
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
            }
        }
        Action::Fail => {
            let title = format!("核查未通过，请返工：{}", p.category);
            crate::store::notifications::notify_unit(
                &mut tx,
                &p.unit_id,
                &p.id,
                NotifyEvent::Rework,
                &title,
                &note,
                now,
            )
            .await?;
        }
        _ => {}
    }
    let label = format!("{} {}", p.code, p.category);
    let change = Change {
        action: action.into(),
        object_type: ObjectType::Problem,
        object_id: &p.id,
        object_label: &label,
        before: snapshot(&old),
        after: snapshot(&p),
    };
    ctx.audit(&mut tx, change, now).await?;
    tx.commit().await?;
    Ok(p)
}

/// Tells the unit about a newly dispatched problem: inbox entries and its group-chat robots.
async fn announce(conn: &mut AnyConnection, p: &Problem, now: i64) -> AppResult<()> {
    let title = format!("新问题待签收：{}", p.category);
    let body = format!(
        "{}，整改期限 {}",
        p.description,
        p.deadline_at.map(crate::domain::time::fmt_local).unwrap_or_default()
    );
    crate::store::notifications::notify_unit(conn, &p.unit_id, &p.id, NotifyEvent::New, &title, &body, now).await?;
    crate::store::notifications::enqueue(conn, &p.unit_id, &p.id, NotifyEvent::New, now).await?;
    Ok(())
}

/// How far from its point an after-photo may be taken before it is flagged.
pub const MAX_DISTANCE_M: f64 = 300.0;

/// Warnings about an after-photo, for the supervisor at the re-check: it shows the before-photo
/// again, repeats another problem's photo, was taken before the problem was found, far from the
/// point, or carries no capture data at all.
async fn evidence_flags(ctx: &Ctx<'_>, p: &Problem, ph: &photo_store::Photo) -> AppResult<Vec<String>> {
    use crate::media::{SAME_PICTURE, distance};
    let hash = |h: &str| u64::from_str_radix(h, 16).unwrap_or(0);
    let mut flags = Vec::new();
    let befores = photo_store::of(ctx.db, PhotoOwner::Problem, &p.id).await?;
    if befores.iter().any(|b| {
        b.kind == PhotoKind::Before
            && (b.sha256 == ph.sha256 || distance(hash(&b.phash), hash(&ph.phash)) <= SAME_PICTURE)
    }) {
        flags.push("与整改前照片几乎相同，疑似未整改或重复使用".to_string());
    }
    for (other, code) in photo_store::candidates_for_reuse(ctx.db, &p.id, &p.point_id, &ph.sha256).await? {
        if other.sha256 == ph.sha256 || distance(hash(&other.phash), hash(&ph.phash)) <= SAME_PICTURE {
            flags.push(format!("与问题{code}的照片相同或高度相似"));
            break;
        }
    }
    match ph.taken_at {
        Some(t) if t < p.found_at => flags.push(format!(
            "拍摄时间{}早于问题发现时间{}",
            crate::domain::time::fmt_local(t),
            crate::domain::time::fmt_local(p.found_at)
        )),
        Some(_) => {}
        None => flags.push("照片没有拍摄时间信息（可能不是原图）".to_string()),
    }
    if let (Some(lng), Some(lat)) = (ph.lng, ph.lat)
        && let Some(point) = point_store::get(ctx.db, &p.point_id).await?
        && let (Some(plng), Some(plat)) = (point.lng, point.lat)
    {
        let d = crate::domain::geo::distance_m((lng, lat), (plng, plat));
        if d > MAX_DISTANCE_M {
            flags.push(format!("拍摄位置距点位约{}米", d.round()));
        }
    }
    Ok(flags)
}

async fn item_limit(ctx: &Ctx<'_>, p: &Problem) -> AppResult<Limit> {
    Ok(match &p.standard_item_id {
        Some(id) => match standards::item(ctx.db, id).await? {
            Some(i) if i.time_unit == TimeUnit::WorkingHours => Limit::WorkingHours(i.time_limit),
            Some(i) => Limit::WorkingDays(i.time_limit as u32),
            None => Limit::WorkingDays(1),
        },
        None => Limit::WorkingDays(1),
    })
}

/// Merges a duplicate into another open problem at the same point (the office): the duplicate is
/// voided with a pointer to the one that stays, and both histories say so.
pub async fn merge(ctx: &Ctx<'_>, storage: &Storage, duplicate_id: &str, into_code: &str) -> AppResult<Problem> {
    super::access::require_admin(ctx.user)?;
    let dup = visible(ctx, duplicate_id).await?;
    let target_id: Option<String> = sqlx::query_scalar("SELECT id FROM problems WHERE code = $1")
        .bind(into_code.trim())
        .fetch_optional(&ctx.db.pool)
        .await?;
    let target = match target_id {
        Some(id) if id != dup.id => visible(ctx, &id).await?,
        _ => return Err(AppError::field("into", Code::UnknownProblem, "请填写要合并到的另一个问题编号")),
    };
    if target.point_id != dup.point_id || target.state.is_final() {
        return Err(AppError::field("into", Code::NotMergeable, "只能合并到同一点位未办结的问题"));
    }
    let input = ActInput { reason: format!("重复问题，合并至{}", target.code), ..Default::default() };
    let voided = act(ctx, storage, &dup.id, Action::Void, input, Vec::new()).await?;
    let mut tx = ctx.db.begin().await?;
    let state = target.state;
    event(ctx, &mut tx, &target.id, Step::Merge, Some(state), state, &format!("合并重复问题{}", dup.code), now_ms())
        .await?;
    tx.commit().await?;
    Ok(voided)
}
