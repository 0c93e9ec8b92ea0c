//! Moving a problem through the loop: every action goes through the state machine, changes the
//! problem, writes its history event, notifies who must act next and is audited, all at once.

use super::Ctx;
use super::problems::{MAX_PHOTOS, announce, event, evidence_flags, item_limit, prepare_photos, visible};
use super::write::{Write, expected};
use crate::domain::notify::NotifyEvent;
use crate::domain::photo::{DeviceWitness, PhotoKind};
use crate::domain::problem::{self as rules, Action, Actor, Facts, IronRule, Outcome, Source, Step};
use crate::domain::time::{fmt_local, now_ms, to_local};
use crate::domain::validate::{FieldErrors, optional_text, required_text};
use crate::error::{AppError, AppResult, Code};
use crate::media::storage::Storage;
use crate::store::notifications::{Inboxes, notify};
use crate::store::photos::Photo;
use crate::store::problems::Problem;
use crate::store::record::Insert;
use crate::store::units;
use serde::Deserialize;
use utoipa::ToSchema;

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
    /// The problem's version when it was read (required): an action on a problem that changed
    /// since is refused with 409 stale_version
    #[serde(default, deserialize_with = "super::version")]
    pub version: Option<i64>,
    /// The phone's position and clock when it sent the after-photos (submit_fix)
    #[serde(default)]
    pub device: Option<DeviceWitness>,
    /// The client's own reference for this action (an offline draft, a retry): sent again by the
    /// same account, it answers with the problem as the first one left it
    #[serde(default)]
    pub client_ref: Option<String>,
    /// When the action was recorded on a device without signal (UTC epoch ms); the history says
    /// so beside the time it arrived
    #[serde(default)]
    pub offline_at: Option<i64>,
}

/// The actions the current user may take now, for buttons: a supervisor re-checks only within
/// its teams' areas.
pub async fn allowed(ctx: &Ctx<'_>, p: &Problem) -> AppResult<Vec<Action>> {
    let mut allowed: Vec<Action> =
        Action::ALL.into_iter().filter(|a| rules::transition(facts(p), *a, actor(ctx, p)).is_ok()).collect();
    if allowed.iter().any(|a| a.is_recheck())
        && super::access::outside_recheck(ctx, p.community_id.as_deref()).await?.is_some()
    {
        allowed.retain(|a| !a.is_recheck());
    }
    Ok(allowed)
}

fn actor(ctx: &Ctx<'_>, p: &Problem) -> Actor {
    Actor { role: ctx.user.role, own_unit: ctx.user.unit_id.as_deref() == Some(p.unit_id.as_str()) }
}

fn facts(p: &Problem) -> Facts {
    Facts { state: p.state, extension_pending: p.extension_pending == 1, transfer_pending: p.transfer_pending == 1 }
}

/// The time an action was recorded without signal, when it is believable (within the last week,
/// not in the future) and worth saying (more than two minutes before it arrived).
fn recorded_offline(at: Option<i64>, now: i64) -> Option<i64> {
    at.filter(|t| *t <= now + 5 * 60_000 && now - *t <= 7 * 24 * 3_600_000 && now - *t > 2 * 60_000)
}

/// An action being applied: the problem as it will be, the history note, the after-photos.
struct Applied {
    p: Problem,
    note: String,
    photos: Vec<Photo>,
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
    let reference = super::problems::client_ref(&input.client_ref)?;
    if let Some(p) = super::problems::already_done(ctx, reference.as_deref()).await? {
        return Ok(p);
    }
    let done = act_once(ctx, storage, (id, action), input, photos, reference.as_deref()).await;
    super::problems::or_what_the_first_did(ctx, reference.as_deref(), done).await
}

async fn act_once(
    ctx: &Ctx<'_>,
    storage: &Storage,
    (id, action): (&str, Action),
    input: ActInput,
    photos: Vec<Vec<u8>>,
    reference: Option<&str>,
) -> AppResult<Problem> {
    let old = visible(ctx, id).await?;
    let outcome = rules::transition(facts(&old), action, actor(ctx, &old)).map_err(|r| {
        if r.code == Code::NotAllowed { AppError::Forbidden } else { AppError::Refused(r.code, r.message) }
    })?;
    if action.is_recheck()
        && let Some(why) = super::access::outside_recheck(ctx, old.community_id.as_deref()).await?
    {
        return Err(AppError::refuse(Code::OutsideTeamArea, why));
    }
    let expected = expected(input.version)?;
    let mut a = apply(ctx, &old, (action, outcome), &input, photos.len()).await?;
    if action == Action::SubmitFix {
        a.photos = after_photos(ctx, storage, &old, photos, input.device).await?;
    } else if matches!(action, Action::Pass | Action::Fail) && !photos.is_empty() {
        // The supervisor's own photo at the re-check (回头看照片), kept with the problem.
        a.photos = prepare_photos(ctx, storage, (&old.id, PhotoKind::Recheck), photos, input.device).await?;
    }
    // Refused or failed before its commit, the action leaves no photo files behind.
    let files = crate::media::storage::Unkept::of(storage, &a.photos);
    let mut w = ctx.write().await?;
    w.update_as(action, &old, &mut a.p, expected).await?;
    for ph in &a.photos {
        ph.insert(w.conn()).await?;
    }
    if !super::problems::use_client_ref(&mut w, reference, &a.p.id).await? {
        drop(w);
        return super::problems::already_done(ctx, reference).await?.ok_or(AppError::NotFound);
    }
    if let Some(at) = recorded_offline(input.offline_at, w.now) {
        a.note = format!("{}（离线记录于{}，{}送达）", a.note, &fmt_local(at)[5..16], &fmt_local(w.now)[11..16]);
    }
    event(&mut w, &a.p.id, Step::Act(action), Some(old.state), a.p.state, &a.note).await?;
    tell_who_acts_next(&mut w, action, &a.p, &a.note).await?;
    if a.p.source == crate::domain::problem::Source::WindowRating {
        super::rating_cases::problem_changed(&mut w, &a.p).await?;
    }
    let committed = w.commit().await;
    files.keep();
    committed?;
    Ok(a.p)
}

/// The problem as the action leaves it, and what its history says; every mistake in the input
/// is reported at once.
async fn apply(
    ctx: &Ctx<'_>,
    old: &Problem,
    (action, outcome): (Action, Outcome),
    input: &ActInput,
    photos: usize,
) -> AppResult<Applied> {
    let mut e = FieldErrors::default();
    if let Some(d) = &input.device {
        d.check(&mut e, now_ms());
    }
    let reason = optional_text(&mut e, "reason", "理由", &input.reason, 300, true);
    if action.needs_reason() && reason.is_empty() {
        e.add("reason", Code::Required, format!("请填写“{}”的理由", action.label()));
    }
    let now = now_ms();
    let mut p = Problem {
        state: outcome.state,
        extension_pending: outcome.extension_pending as i64,
        transfer_pending: outcome.transfer_pending as i64,
        updated_at: now,
        ..old.clone()
    };
    if matches!(action, Action::Pass | Action::Fail) && photos > MAX_PHOTOS {
        e.add("photos", Code::TooManyPhotos, format!("最多上传{MAX_PHOTOS}张照片"));
    }
    let note = match action {
        Action::Verify | Action::ApproveExtension => reschedule(ctx, old, action, &mut p, now).await?,
        Action::Reopen => {
            reschedule(ctx, old, action, &mut p, now).await?;
            reason
        }
        Action::SubmitFix => {
            let fix = optional_text(&mut e, "note", "整改说明", &input.note, 500, true);
            if fix.is_empty() {
                e.add("note", Code::Required, "请填写整改说明");
            }
            if photos == 0 {
                e.add("photos", Code::PhotoRequired, "请上传至少一张整改后照片");
            } else if photos > MAX_PHOTOS {
                e.add("photos", Code::TooManyPhotos, format!("最多上传{MAX_PHOTOS}张照片"));
            }
            p.submitted_at = Some(now);
            p.fix_note = fix.clone();
            fix
        }
        Action::RequestExtension => {
            let days = input.days.unwrap_or(0);
            if !(1..=30).contains(&days) {
                e.add("days", Code::InvalidDays, "延期天数应为1至30个工作日");
            }
            p.extension_days = days as i64;
            format!("申请延期{days}个工作日：{reason}")
        }
        Action::Reassign => {
            let lead = required_text(&mut e, "lead_name", "新负责人", &input.lead_name, 30);
            p.lead_name = lead.clone();
            format!("改派给{lead}")
        }
        Action::Transfer => transfer(ctx, old, input, &reason, &mut p, &mut e).await?,
        Action::RequestTransfer => format!("申请转办：{reason}"),
        Action::RefuseTransfer => format!("驳回转办申请：{reason}"),
        other => {
            stamp(other, &mut p, now);
            reason
        }
    };
    if e.is_empty() { Ok(Applied { p, note, photos: Vec::new() }) } else { Err(AppError::Validation(e)) }
}

/// The times and counters an action without input sets.
fn stamp(action: Action, p: &mut Problem, now: i64) {
    match action {
        Action::Void => p.voided_at = Some(now),
        Action::Acknowledge => p.acknowledged_at = Some(now),
        Action::Pass => p.closed_at = Some(now),
        Action::Fail => {
            p.rework_count += 1;
            p.submitted_at = None;
        }
        Action::Postpone => p.postponed = 1,
        _ => {}
    }
}

/// A new deadline: a verified citizen report starts its clock now; an approved extension adds
/// the working days asked for.
async fn reschedule(ctx: &Ctx<'_>, old: &Problem, action: Action, p: &mut Problem, now: i64) -> AppResult<String> {
    let cal = super::calendar::load(ctx.db).await?;
    if action == Action::Verify {
        let limit = item_limit(ctx, old).await?;
        let d = rules::deadline(&cal, IronRule::default(), to_local(now), Source::Citizen, limit);
        p.filed_at = Some(now);
        p.dispatched_at = Some(now);
        p.deadline_at = Some(d.timestamp_millis());
        return Ok(String::new());
    }
    if action == Action::Reopen {
        // Back to the unit as rework: a fresh deadline from now, nothing acknowledged or closed.
        let limit = item_limit(ctx, old).await?;
        let d = rules::deadline(&cal, IronRule::default(), to_local(now), Source::Citizen, limit);
        p.deadline_at = Some(d.timestamp_millis());
        p.dispatched_at = Some(now);
        (p.acknowledged_at, p.submitted_at, p.closed_at) = (None, None, None);
        p.rework_count += 1;
        p.lead_name = old.lead_name.clone();
        return Ok(String::new());
    }
    let base = to_local(old.deadline_at.unwrap_or(now).max(now));
    p.deadline_at = Some(cal.add_working_days(base, old.extension_days as u32).timestamp_millis());
    p.extensions += 1;
    Ok(format!("批准延期{}个工作日", old.extension_days))
}

/// Hands the problem to another unit: it starts over there, unacknowledged.
async fn transfer(
    ctx: &Ctx<'_>,
    old: &Problem,
    input: &ActInput,
    reason: &str,
    p: &mut Problem,
    e: &mut FieldErrors,
) -> AppResult<String> {
    match units::get(ctx.db, input.unit_id.trim()).await? {
        Some(u) if u.id != old.unit_id => {
            p.unit_id = u.id;
            p.lead_name = String::new();
            p.acknowledged_at = None;
            Ok(format!("转办至{}：{reason}", u.name))
        }
        _ => {
            e.add("unit_id", Code::InvalidUnit, "请选择另一个存在的责任单位");
            Ok(String::new())
        }
    }
}

/// The after-photos of a fix, checked, stored and flagged when they look like re-used evidence.
async fn after_photos(
    ctx: &Ctx<'_>,
    storage: &Storage,
    old: &Problem,
    photos: Vec<Vec<u8>>,
    device: Option<DeviceWitness>,
) -> AppResult<Vec<Photo>> {
    let mut stored = prepare_photos(ctx, storage, (&old.id, PhotoKind::After), photos, device).await?;
    let files = crate::media::storage::Unkept::of(storage, &stored);
    for ph in &mut stored {
        ph.flags = serde_json::to_string(&evidence_flags(ctx, storage, old, ph).await?).unwrap_or_else(|_| "[]".into());
    }
    files.keep();
    Ok(stored)
}

/// The inbox entries and robot messages an action calls for.
async fn tell_who_acts_next(w: &mut Write<'_>, action: Action, p: &Problem, note: &str) -> AppResult<()> {
    let now = w.now;
    match action {
        Action::Verify | Action::Transfer => announce(w.conn(), p, now).await,
        // The office decides: every administrator gets it in the inbox.
        Action::RequestTransfer => {
            let title = format!("申请转办：{}", p.category);
            Ok(notify(w.conn(), Inboxes::Office, &p.id, NotifyEvent::TransferRequest, (&title, note), now).await?)
        }
        Action::Reopen => {
            let title = format!("群众反映未解决，请重新整改：{}", p.category);
            notify(w.conn(), Inboxes::Unit(&p.unit_id), &p.id, NotifyEvent::Rework, (&title, note), now).await?;
            Ok(crate::store::notifications::enqueue(w.conn(), &p.unit_id, &p.id, NotifyEvent::Rework, now).await?)
        }
        Action::Fail => {
            let title = format!("核查未通过，请返工：{}", p.category);
            Ok(notify(w.conn(), Inboxes::Unit(&p.unit_id), &p.id, NotifyEvent::Rework, (&title, note), now).await?)
        }
        // The unit that asked hears the office's answer.
        Action::ApproveExtension | Action::RefuseExtension | Action::RefuseTransfer => {
            let title = format!("{}：{} {}", action.label(), p.code, p.category);
            Ok(notify(w.conn(), Inboxes::Unit(&p.unit_id), &p.id, NotifyEvent::Decision, (&title, note), now).await?)
        }
        _ => Ok(()),
    }
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
    let reason = format!("重复问题，合并至{}", target.code);
    let input = ActInput { reason, version: Some(dup.version), ..Default::default() };
    let voided = act(ctx, storage, &dup.id, Action::Void, input, Vec::new()).await?;
    let mut w = ctx.write().await?;
    let note = format!("合并重复问题{}", dup.code);
    event(&mut w, &target.id, Step::Merge, Some(target.state), target.state, &note).await?;
    w.commit().await?;
    Ok(voided)
}
