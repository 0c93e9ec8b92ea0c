//! Bad-rating cases (差评工单): the unit calls the rater back (every rater who left a phone,
//! 100% real-name callback), verifies, then fixes at once with a reply or puts the fix on the
//! problem ledger (source 窗口差评, due in the configured working days, scored by the 千分制);
//! the reply goes back to the rater, who may rate the fix once. A unit may appeal a malicious
//! rating with evidence; the office upholds (the rating stays on record but leaves every figure)
//! or rejects. Every step is audited.

use super::Ctx;
use super::write::{Write, expected};
use crate::domain::code::Code;
use crate::domain::photo::{PhotoKind, PhotoOwner};
use crate::domain::problem::{Source, State};
use crate::domain::role::Role;
use crate::domain::standard::Severity;
use crate::domain::validate::{FieldErrors, optional_text};
use crate::domain::window::{CallbackResult, CaseAction, CaseState, level_label};
use crate::error::{AppError, AppResult};
use crate::media::storage::Storage;
use crate::store::photos::Photo;
use crate::store::record::Insert;
use crate::store::windows::{self as store, Case, CaseFilter, CaseRow};
use crate::store::{PageReq, points as point_store};
use serde::Deserialize;
use utoipa::ToSchema;

pub async fn visible(ctx: &Ctx<'_>, id: &str) -> AppResult<CaseRow> {
    let c = store::case(ctx.db, id).await?.ok_or(AppError::NotFound)?;
    match super::windows::unit_scope(ctx)? {
        Some(u) if u != c.unit_id => Err(AppError::NotFound),
        _ => Ok(phone_for(ctx, c)),
    }
}

pub async fn list(ctx: &Ctx<'_>, mut f: CaseFilter, page: PageReq) -> AppResult<(Vec<CaseRow>, i64)> {
    if let Some(u) = super::windows::unit_scope(ctx)? {
        f.unit_id = Some(u);
    }
    let (rows, total) = store::case_page(ctx.db, &f, page).await?;
    Ok((rows.into_iter().map(|c| phone_for(ctx, c)).collect(), total))
}

/// The rater left a phone for the callback only: those who handle the case (the unit that calls
/// back, the office) read it; every other reader (supervisors, evaluators, the discipline office)
/// is told there is one.
fn phone_for(ctx: &Ctx<'_>, mut c: CaseRow) -> CaseRow {
    if !handles(ctx, &c.unit_id) {
        c.rater_phone = String::new();
    }
    c
}

/// What waits for the caller: callbacks and verifications, and for the office the appeals too.
pub fn open_states(role: Role) -> Vec<String> {
    let mut s = vec!["callback".to_string(), "verify".to_string()];
    if role == Role::Admin {
        s.push("appealed".into());
    }
    s
}

/// The unit's own people (and the office on its behalf) handle a case.
fn may_handle(ctx: &Ctx<'_>, c: &Case) -> bool {
    handles(ctx, &c.unit_id)
}

/// Whether the caller handles the cases of a unit: its own people, and the office.
fn handles(ctx: &Ctx<'_>, unit_id: &str) -> bool {
    match ctx.user.role {
        Role::Admin => true,
        Role::UnitUser | Role::PointLead => ctx.user.unit_id.as_deref() == Some(unit_id),
        _ => false,
    }
}

/// A case the caller may move by `action` from one of `from`, at the version they read.
async fn movable(ctx: &Ctx<'_>, id: &str, from: &[CaseState], version: Option<i64>) -> AppResult<(Case, i64)> {
    let c = visible(ctx, id).await?.record;
    if !may_handle(ctx, &c) {
        return Err(AppError::Forbidden);
    }
    if !from.contains(&c.state) {
        return Err(AppError::refuse(Code::CaseNotOpen, Code::CaseNotOpen.message()));
    }
    Ok((c, expected(version)?))
}

pub fn actor(ctx: &Ctx<'_>) -> Option<String> {
    Some(ctx.user.id.clone()).filter(|u| !u.is_empty())
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct CallbackInput {
    /// reached (已联系评价人) | unreached (多次联系未接通) | anonymous (匿名评价，无需回访)
    #[serde(default)]
    pub result: String,
    /// What the rater said
    #[serde(default)]
    pub note: String,
    #[serde(default, deserialize_with = "super::version")]
    pub version: Option<i64>,
}

/// Records the callback: the case moves on to verification.
pub async fn callback(ctx: &Ctx<'_>, id: &str, input: CallbackInput) -> AppResult<Case> {
    let (old, expected) = movable(ctx, id, &[CaseState::Callback], input.version).await?;
    let rating = store::rating(ctx.db, &old.rating_id).await?.ok_or(AppError::NotFound)?;
    let mut e = FieldErrors::default();
    let note = optional_text(&mut e, "note", "回访情况", &input.note, 500, true);
    let result = CallbackResult::parse(input.result.trim());
    match result {
        None => e.add("result", Code::Required, "请选择回访结果"),
        Some(CallbackResult::Anonymous) if !rating.phone.is_empty() => {
            e.add("result", Code::InvalidRating, "评价人留了手机号，须实名回访")
        }
        Some(CallbackResult::Reached | CallbackResult::Unreached) if rating.phone.is_empty() => {
            e.add("result", Code::InvalidRating, "评价人未留手机号，请选择“匿名评价，无需回访”")
        }
        Some(_) => {}
    }
    if result != Some(CallbackResult::Anonymous) && note.is_empty() {
        e.add("note", Code::Required, "请填写回访情况");
    }
    let (Some(result), true) = (result, e.is_empty()) else { return Err(AppError::Validation(e)) };
    let mut w = ctx.write().await?;
    let mut new = Case {
        state: CaseState::Verify,
        callback_result: Some(result),
        callback_note: note,
        called_at: Some(w.now),
        called_by: actor(ctx),
        updated_at: w.now,
        ..old.clone()
    };
    w.update_as(CaseAction::Callback, &old, &mut new, expected).await?;
    w.commit().await?;
    Ok(new)
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct ResolveInput {
    /// fix_at_once (当场整改并答复) | ledger (纳入整改台账)
    #[serde(default)]
    pub outcome: String,
    /// 核实情况: what happened
    #[serde(default)]
    pub finding: String,
    /// The answer the rater reads (required for a fix at once)
    #[serde(default)]
    pub reply: String,
    #[serde(default, deserialize_with = "super::version")]
    pub version: Option<i64>,
}

/// Verifies the rating: fixed at once (answered now) or put on the ledger as a problem of source
/// 窗口差评 at the window's point, due in the configured working days.
pub async fn resolve(ctx: &Ctx<'_>, id: &str, input: ResolveInput) -> AppResult<Case> {
    let (old, expected) = movable(ctx, id, &[CaseState::Verify], input.version).await?;
    let mut e = FieldErrors::default();
    let finding = optional_text(&mut e, "finding", "核实情况", &input.finding, 500, true);
    if finding.is_empty() {
        e.add("finding", Code::Required, "请填写核实情况");
    }
    let reply = optional_text(&mut e, "reply", "答复内容", &input.reply, 500, true);
    let ledger = match input.outcome.trim() {
        "fix_at_once" => {
            if reply.is_empty() {
                e.add("reply", Code::Required, "请填写给评价人的整改答复");
            }
            false
        }
        "ledger" => true,
        _ => {
            e.add("outcome", Code::Required, "请选择处理方式：当场整改并答复，或纳入整改台账");
            false
        }
    };
    if !e.is_empty() {
        return Err(AppError::Validation(e));
    }
    let mut w = ctx.write().await?;
    let now = w.now;
    let mut new = Case { finding, verified_at: Some(now), updated_at: now, ..old.clone() };
    if ledger {
        let p = file_problem(&mut w, &old, &new.finding).await?;
        (new.state, new.problem_id, new.fix_due) = (CaseState::Fixing, Some(p.id.clone()), p.deadline_at);
        w.update_as(CaseAction::ToLedger, &old, &mut new, expected).await?;
    } else {
        (new.state, new.reply, new.replied_at, new.on_time) = (CaseState::Replied, reply, Some(now), Some(1));
        w.update_as(CaseAction::FixAtOnce, &old, &mut new, expected).await?;
        tell_rater(&mut w, &new).await?;
    }
    w.commit().await?;
    Ok(new)
}

/// The ledger problem of a bad rating: at the window's point, dispatched now to the unit.
async fn file_problem(w: &mut Write<'_>, c: &Case, finding: &str) -> AppResult<crate::store::problems::Problem> {
    let window = store::window(w.db(), &c.window_id).await?.ok_or(AppError::NotFound)?;
    let rating = store::rating(w.db(), &c.rating_id).await?.ok_or(AppError::NotFound)?;
    let point = match &window.point_id {
        Some(p) => point_store::get(w.db(), p).await?,
        None => None,
    };
    let Some(point) = point.filter(|p| p.active == 1) else {
        return Err(AppError::field("outcome", Code::UnknownPoint, "该窗口未关联点位，请先在窗口设置中选择所在点位"));
    };
    let rules = super::ratings::case_rules(w.db()).await?;
    let what = if rating.tags.is_empty() { level_label(rating.level).to_string() } else { rating.tags.clone() };
    let filing = super::problems::Verified {
        point,
        item: None,
        category: "窗口服务".into(),
        severity: if rating.level == 1 { Severity::Major } else { Severity::Normal },
        description: format!(
            "{} {}：群众评价“{}”（{}）。核实：{finding}",
            window.number,
            window.service,
            level_label(rating.level),
            what
        ),
        found_at: rating.rated_at,
        note: format!("差评工单 {} 纳入整改台账", c.code),
    };
    let limit = crate::domain::problem::Limit::WorkingDays(rules.fix_days);
    super::problems::file_dispatched(w, filing, Source::WindowRating, limit).await
}

/// The answer goes back to the rater: by text message when they left a phone (the page with
/// their private link shows it too).
async fn tell_rater(w: &mut Write<'_>, c: &Case) -> AppResult<()> {
    let rating = store::rating(w.db(), &c.rating_id).await?.ok_or(AppError::NotFound)?;
    if rating.phone.is_empty() {
        return Ok(());
    }
    let window = store::window(w.db(), &c.window_id).await?.ok_or(AppError::NotFound)?;
    let body = format!(
        "【创城通】您对{}的评价（工单{}）已整改答复：{}。欢迎通过评价后保存的链接，或在公示网站的“查进度”输入工单号和手机号后四位，对整改结果进行评价。",
        window.number,
        c.code,
        c.reply.chars().take(60).collect::<String>()
    );
    let now = w.now;
    Ok(crate::store::reports::queue_sms(w.conn(), (&rating.phone, &body), None, now).await?)
}

/// A ledger problem of a case closed (passed its re-check): the case is answered with the fix,
/// on time when it closed by its deadline. Called inside the problem action's write.
pub async fn problem_changed(w: &mut Write<'_>, p: &crate::store::problems::Problem) -> AppResult<()> {
    if !matches!(p.state, State::Closed | State::Voided) {
        return Ok(());
    }
    let Some(old) = store::case_of_problem(w.conn(), &p.id).await? else { return Ok(()) };
    if old.state != CaseState::Fixing {
        return Ok(());
    }
    let now = w.now;
    if p.state == State::Voided {
        // The office voided the ledger problem: the unit decides again how to answer the rater.
        let mut new = Case {
            state: CaseState::Verify,
            problem_id: None,
            fix_due: None,
            finding: format!("{}（整改问题{}已作废，请重新核实处理）", old.finding, p.code),
            updated_at: now,
            ..old.clone()
        };
        return w.update_as(crate::domain::audit::Verb::Update, &old, &mut new, old.version).await;
    }
    let on_time = p.deadline_at.is_none_or(|d| p.closed_at.unwrap_or(now) <= d);
    let mut new = Case {
        state: CaseState::Replied,
        reply: format!("已整改：{}", p.fix_note),
        replied_at: Some(now),
        on_time: Some(on_time as i64),
        updated_at: now,
        ..old.clone()
    };
    w.update_as(CaseAction::Replied, &old, &mut new, old.version).await?;
    tell_rater(w, &new).await
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct AppealInput {
    /// Why the rating is malicious (恶意差评), with the evidence as photos
    #[serde(default)]
    pub reason: String,
    #[serde(default, deserialize_with = "super::version")]
    pub version: Option<i64>,
}

/// The unit appeals a malicious rating with its reason and evidence photos (1–6); the office decides.
pub async fn appeal(
    ctx: &Ctx<'_>,
    storage: &Storage,
    id: &str,
    input: AppealInput,
    photos: Vec<Vec<u8>>,
) -> AppResult<Case> {
    let (old, expected) = movable(ctx, id, &[CaseState::Callback, CaseState::Verify], input.version).await?;
    if ctx.user.role == Role::Admin {
        // The office decides appeals; it does not file them.
        return Err(AppError::Forbidden);
    }
    if old.appealed_at.is_some() {
        return Err(AppError::refuse(Code::CaseNotOpen, "每个差评只能申诉一次"));
    }
    let mut e = FieldErrors::default();
    let reason = optional_text(&mut e, "reason", "申诉理由", &input.reason, 500, true);
    if reason.chars().count() < 10 {
        e.add("reason", Code::Required, "请写明申诉理由（至少10个字）");
    }
    if photos.is_empty() {
        e.add("photos", Code::PhotoRequired, "请上传证据（监控截图、业务记录照片等）");
    } else if photos.len() > 6 {
        e.add("photos", Code::TooManyPhotos, "证据最多6张");
    }
    if !e.is_empty() {
        return Err(AppError::Validation(e));
    }
    let (mut stored, mut files) = (Vec::<Photo>::new(), crate::media::storage::Unkept::new(storage));
    for bytes in photos {
        let owner = (PhotoOwner::RatingCase, old.id.as_str(), PhotoKind::Before);
        stored.push(super::photos::prepare(storage, owner, bytes, None, ctx).await?);
        files.add(stored.last().expect("just stored"));
    }
    let mut w = ctx.write().await?;
    let mut new = Case {
        state: CaseState::Appealed,
        appeal_reason: reason,
        appealed_at: Some(w.now),
        updated_at: w.now,
        ..old.clone()
    };
    w.update_as(CaseAction::Appeal, &old, &mut new, expected).await?;
    for ph in &stored {
        ph.insert(w.conn()).await?;
    }
    let committed = w.commit().await;
    files.keep();
    committed?;
    Ok(new)
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct DecideInput {
    /// true: upheld (the rating leaves the figures); false: rejected (back to verification)
    #[serde(default, deserialize_with = "super::flag")]
    pub uphold: Option<bool>,
    #[serde(default)]
    pub note: String,
    #[serde(default, deserialize_with = "super::version")]
    pub version: Option<i64>,
}

/// The office decides an appeal. Upheld: the rating is kept on record but counted nowhere (its
/// tally is lowered in the same transaction); rejected: the unit verifies and fixes it.
pub async fn decide(ctx: &Ctx<'_>, id: &str, input: DecideInput) -> AppResult<Case> {
    super::access::require_admin(ctx.user)?;
    let (old, expected) = movable(ctx, id, &[CaseState::Appealed], input.version).await?;
    let mut e = FieldErrors::default();
    let note = optional_text(&mut e, "note", "审核意见", &input.note, 300, true);
    if note.is_empty() {
        e.add("note", Code::Required, "请填写审核意见");
    }
    let Some(uphold) = input.uphold else {
        e.add("uphold", Code::Required, "请选择申诉成立或驳回");
        return Err(AppError::Validation(e));
    };
    if !e.is_empty() {
        return Err(AppError::Validation(e));
    }
    let mut w = ctx.write().await?;
    let now = w.now;
    // Rejected: back to the callback if it was not made yet, else to the verification.
    let back =
        if old.called_at.is_none() && old.callback_result.is_none() { CaseState::Callback } else { CaseState::Verify };
    let mut new = Case {
        state: if uphold { CaseState::Upheld } else { back },
        decision_note: note,
        decided_by: actor(ctx),
        decided_at: Some(now),
        updated_at: now,
        ..old.clone()
    };
    let action = if uphold { CaseAction::Uphold } else { CaseAction::Reject };
    w.update_as(action, &old, &mut new, expected).await?;
    if uphold {
        exclude_rating(&mut w, &old.rating_id).await?;
    }
    w.commit().await?;
    Ok(new)
}

/// Leaves a rating out of the figures: flagged, and taken off its month's tally.
async fn exclude_rating(w: &mut Write<'_>, rating_id: &str) -> AppResult<()> {
    let r = store::rating(w.db(), rating_id).await?.ok_or(AppError::NotFound)?;
    let n = sqlx::query("UPDATE ratings SET excluded = 1 WHERE id = $1 AND excluded = 0")
        .bind(rating_id)
        .execute(w.conn())
        .await?
        .rows_affected();
    if n == 1 {
        let key = (r.month, r.window_id.as_str(), r.staff_id.as_deref().unwrap_or(""), r.level);
        store::tally(w.conn(), key, -1).await?;
    }
    Ok(())
}

/// The evidence photos of an appeal.
pub async fn photos(ctx: &Ctx<'_>, c: &CaseRow) -> AppResult<Vec<Photo>> {
    Ok(crate::store::photos::of(ctx.db, PhotoOwner::RatingCase, &c.id).await?)
}

/// Cases waiting for the caller's unit: callbacks first (overdue first), then verifications.
pub async fn open_for(ctx: &Ctx<'_>) -> AppResult<(Vec<CaseRow>, i64)> {
    let f = CaseFilter { states: Some(open_states(ctx.user.role)), ..Default::default() };
    list(ctx, f, PageReq::new(Some(1), Some(5))).await
}
