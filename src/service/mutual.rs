//! 互评互查 rounds: the office schedules a round for the window units of one sector; every point of
//! those units is assigned to another unit of the sector (never its own, balanced, reproducible
//! from the seed); the inspecting unit scores each applicable item of the latest published
//! standard on a phone, with a photo for each failure; failures are filed as problems of source
//! 互评互查 for the inspected unit; the round's report ranks the points (Word and Excel).

use super::Ctx;
use super::access::require_admin;
use crate::domain::code::Code;
use crate::domain::ids::new_id;
use crate::domain::mutual::{self as rules, CheckResult, RoundState};
use crate::domain::problem::Source;
use crate::domain::role::Role;
use crate::domain::standard::applies;
use crate::domain::time::{now_ms, parse_local_day_start};
use crate::domain::validate::{FieldErrors, optional_text, required_text};
use crate::domain::window::Sector;
use crate::error::{AppError, AppResult};
use crate::media::storage::Storage;
use crate::store::mutual::{self as store, Round, Task, TaskRow};
use crate::store::photos::Photo;
use crate::store::record::Insert;
use crate::store::standards::{self as standards, Item};
use crate::store::{Held, Hold};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use utoipa::ToSchema;

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct RoundInput {
    /// e.g. 2026年第四季度银行网点互评互查
    #[serde(default)]
    pub name: String,
    /// bank | government | telecom | …
    #[serde(default)]
    pub sector: String,
    /// YYYY-MM-DD
    #[serde(default)]
    pub starts_on: String,
    #[serde(default)]
    pub ends_on: String,
    /// The draw's seed (default: from the clock); the same seed gives the same assignment
    #[serde(default, deserialize_with = "crate::domain::validate::number")]
    pub seed: Option<i64>,
    /// At most this many points of each unit (drawn by the seed); default all
    #[serde(default, deserialize_with = "crate::domain::validate::number")]
    pub points_per_unit: Option<i64>,
}

/// A round with its tasks, as its page and the API show it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RoundView {
    pub round: Round,
    pub tasks: Vec<TaskRow>,
    /// Done points, best first: (task, score in percent)
    pub ranking: Vec<(TaskRow, f64)>,
    pub done: i64,
    /// Per inspected unit: (unit, points done, mean score)
    pub units: Vec<(String, i64, f64)>,
}

fn may_read_all(role: Role) -> bool {
    matches!(role, Role::Admin | Role::Supervisor | Role::Discipline | Role::Evaluator)
}

/// Schedules a round: the sector's active units, their active points (a seeded draw of at most
/// `points_per_unit` each), each assigned to another unit.
pub async fn create(ctx: &Ctx<'_>, input: RoundInput) -> AppResult<RoundView> {
    require_admin(ctx.user)?;
    let mut e = FieldErrors::default();
    let name = required_text(&mut e, "name", "名称", &input.name, 60);
    let sector = Sector::parse(input.sector.trim());
    if sector.is_none() {
        e.add("sector", Code::InvalidKind, "请选择行业");
    }
    for (field, value) in [("starts_on", &input.starts_on), ("ends_on", &input.ends_on)] {
        if parse_local_day_start(value.trim()).is_none() {
            e.add(field, Code::InvalidDate, "日期格式应为2026-12-01");
        }
    }
    if input.starts_on.trim() > input.ends_on.trim() {
        e.add("ends_on", Code::DateOutOfRange, "结束日期不能早于开始日期");
    }
    let per_unit = input.points_per_unit.filter(|n| *n > 0);
    if input.points_per_unit.is_some_and(|n| n <= 0 || n > 1000) {
        e.add("points_per_unit", Code::TooMany, "每单位点位数应为1至1000");
    }
    let version = super::standards::published(ctx.db).await?;
    if version.is_none() {
        e.add("_form", Code::UnknownItem, "还没有发布的标准台账，不能开展互评互查");
    }
    let (Some(sector), Some(version), true) = (sector, version, e.is_empty()) else {
        return Err(AppError::Validation(e));
    };
    let units: Vec<String> = sqlx::query_scalar("SELECT id FROM units WHERE sector = $1 AND active = 1 ORDER BY name")
        .bind(sector)
        .fetch_all(&ctx.db.pool)
        .await?;
    if units.len() < 2 {
        return Err(AppError::field("sector", Code::InvalidKind, "该行业的在用单位不足两个，无法互评互查"));
    }
    let seed = input.seed.unwrap_or_else(|| now_ms() % 1_000_000_007);
    let points = draw_points(ctx, &units, per_unit, seed as u64).await?;
    if points.is_empty() {
        return Err(AppError::field("sector", Code::UnknownPoint, "该行业的单位还没有在用点位"));
    }
    let now = now_ms();
    let round = Round {
        id: new_id(),
        name,
        sector,
        standard_version_id: version.id.clone(),
        seed,
        starts_on: input.starts_on.trim().into(),
        ends_on: input.ends_on.trim().into(),
        state: RoundState::Open,
        created_by: Some(ctx.user.id.clone()).filter(|u| !u.is_empty()),
        published_at: None,
        created_at: now,
        updated_at: now,
        version: 1,
    };
    let mut w = ctx.write().await?;
    w.create(&round).await?;
    for ((point, owner), (_, inspector)) in points.iter().zip(rules::assign(&points, &units, seed as u64)) {
        let Some(inspector) = inspector else { continue };
        let t = Task {
            id: new_id(),
            round_id: round.id.clone(),
            point_id: point.clone(),
            owner_unit_id: owner.clone(),
            inspector_unit_id: inspector,
            state: "todo".into(),
            passed: 0,
            failed: 0,
            applicable: 0,
            inspected_by: None,
            inspected_at: None,
            version: 1,
        };
        t.insert(w.conn()).await?;
    }
    w.commit().await?;
    view(ctx, &round.id).await
}

/// The round's points: every active point of its units, or a seeded draw of `per_unit` each.
async fn draw_points(
    ctx: &Ctx<'_>,
    units: &[String],
    per_unit: Option<i64>,
    seed: u64,
) -> AppResult<Vec<(String, String)>> {
    let mut out = Vec::new();
    let mut rng = rules::Seeded::new(seed ^ 0x5EED);
    for u in units {
        let mut ids: Vec<String> =
            sqlx::query_scalar("SELECT id FROM points WHERE unit_id = $1 AND active = 1 ORDER BY code")
                .bind(u)
                .fetch_all(&ctx.db.pool)
                .await?;
        if let Some(n) = per_unit.filter(|n| (*n as usize) < ids.len()) {
            rng.shuffle(&mut ids);
            ids.truncate(n as usize);
            ids.sort();
        }
        out.extend(ids.into_iter().map(|p| (p, u.clone())));
    }
    Ok(out)
}

/// A round the caller may see: the office and its inspectors every round, a unit the rounds it
/// takes part in.
pub async fn view(ctx: &Ctx<'_>, id: &str) -> AppResult<RoundView> {
    let round = store::round(ctx.db, id).await?.ok_or(AppError::NotFound)?;
    let tasks = store::tasks(ctx.db, id).await?;
    if !may_read_all(ctx.user.role) {
        let unit = ctx.user.unit_id.clone().ok_or(AppError::NotFound)?;
        if !tasks.iter().any(|t| t.owner_unit_id == unit || t.inspector_unit_id == unit) {
            return Err(AppError::NotFound);
        }
    }
    let mut ranking: Vec<(TaskRow, f64)> = tasks.iter().filter_map(|t| t.score().map(|s| (t.clone(), s))).collect();
    ranking.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.point_code.cmp(&b.0.point_code)));
    let mut per_unit: HashMap<String, (i64, f64)> = HashMap::new();
    for (t, s) in &ranking {
        let e = per_unit.entry(t.owner_name.clone()).or_default();
        e.0 += 1;
        e.1 += s;
    }
    let mut units: Vec<(String, i64, f64)> =
        per_unit.into_iter().map(|(u, (n, sum))| (u, n, (sum * 10.0 / n as f64).round() / 10.0)).collect();
    units.sort_by(|a, b| b.2.total_cmp(&a.2).then(a.0.cmp(&b.0)));
    Ok(RoundView { done: ranking.len() as i64, round, tasks, ranking, units })
}

pub async fn list(ctx: &Ctx<'_>) -> AppResult<Vec<Round>> {
    let all = store::rounds(ctx.db).await?;
    if may_read_all(ctx.user.role) {
        return Ok(all);
    }
    let Some(unit) = ctx.user.unit_id.clone() else { return Ok(Vec::new()) };
    let mine: Vec<String> = sqlx::query_scalar(
        "SELECT DISTINCT round_id FROM mutual_tasks WHERE owner_unit_id = $1 OR inspector_unit_id = $1",
    )
    .bind(&unit)
    .fetch_all(&ctx.db.pool)
    .await?;
    Ok(all.into_iter().filter(|r| mine.contains(&r.id)).collect())
}

/// A task and the items to check at its point (those of the round's standard for its type).
pub async fn task(ctx: &Ctx<'_>, id: &str) -> AppResult<(Round, TaskRow, Vec<Item>)> {
    let t = store::task(ctx.db, id).await?.ok_or(AppError::NotFound)?;
    let round = store::round(ctx.db, &t.round_id).await?.ok_or(AppError::NotFound)?;
    let own = ctx.user.unit_id.as_deref() == Some(t.inspector_unit_id.as_str());
    if !own && !may_read_all(ctx.user.role) {
        return Err(AppError::NotFound);
    }
    let items = standards::items(ctx.db, &round.standard_version_id)
        .await?
        .into_iter()
        .filter(|i| applies(&i.point_types, &t.type_code))
        .collect();
    Ok((round, t, items))
}

/// One item as the inspector scored it.
#[derive(Debug, Clone, Default)]
pub struct Scored {
    pub result: String,
    pub note: String,
    pub photos: Vec<Vec<u8>>,
}

/// The inspector's checklist of a point: every item scored (a failure with a note and a photo);
/// failures filed as problems of source 互评互查 for the inspected unit; the task done.
pub async fn inspect(
    ctx: &Ctx<'_>,
    storage: &Storage,
    id: &str,
    version: Option<i64>,
    scored: HashMap<String, Scored>,
) -> AppResult<TaskRow> {
    let (round, t, items) = task(ctx, id).await?;
    let inspector = matches!(ctx.user.role, Role::UnitUser | Role::PointLead)
        && ctx.user.unit_id.as_deref() == Some(t.inspector_unit_id.as_str());
    if !inspector {
        return Err(AppError::Forbidden);
    }
    if round.state != RoundState::Open || t.state != "todo" {
        return Err(AppError::refuse(Code::CaseNotOpen, "该点位已检查或本轮互评互查已结束"));
    }
    let version = super::write::expected(version)?;
    let mut plan = check_scores(&items, scored)?;
    // Photos are checked and stored before anything is written; refused or failed before its
    // commit, the check leaves no photo files behind.
    let mut files = crate::media::storage::Unkept::new(storage);
    let photos = plan.iter_mut().map(|p| std::mem::take(&mut p.3)).collect();
    let prepared = super::photos::prepare_per_item(ctx, storage, photos, &mut files).await?;
    let point = crate::store::points::get(ctx.db, &t.point_id).await?.ok_or(AppError::NotFound)?;
    let mut w = ctx.write().await?;
    // Still open when the check is written (the report may have been published meanwhile).
    if !crate::store::hold(w.conn(), Held::MutualRounds, (&round.id, Some(RoundState::Open.as_str())), Hold::Shared)
        .await?
    {
        return Err(AppError::refuse(Code::CaseNotOpen, "本轮互评互查已结束"));
    }
    let (mut passed, mut failed) = (0, 0);
    for ((item, result, note), photos) in plan.into_iter().map(|(i, r, n, _)| (i, r, n)).zip(prepared) {
        let mut problem_id = None;
        match result {
            CheckResult::Pass => passed += 1,
            CheckResult::NotApplicable => {}
            CheckResult::Fail => {
                failed += 1;
                problem_id = Some(file_finding(&mut w, (&round, &t, &point), item, &note, photos).await?);
            }
        }
        store::add_check(w.conn(), &t.id, &item.id, (result, &note, problem_id.as_deref())).await?;
    }
    let now = w.now;
    let by = Some(ctx.user.id.as_str()).filter(|u| !u.is_empty());
    if !store::finish(w.conn(), &t.id, version, (passed, failed, passed + failed), (by, now)).await? {
        return Err(AppError::stale());
    }
    let after = serde_json::json!({"point": t.point_code, "passed": passed, "failed": failed});
    let label = format!("{} · {} {}", round.name, t.point_code, t.point_name);
    w.audit(
        crate::domain::audit::Verb::Update,
        crate::domain::audit::ObjectType::MutualRound,
        &round.id,
        &label,
        None,
        Some(after),
    )
    .await?;
    let committed = w.commit().await;
    files.keep();
    committed?;
    store::task(ctx.db, id).await?.ok_or(AppError::NotFound)
}

/// An item as scored and checked: the item, its result, the note and the photos.
type Planned<'a> = (&'a Item, CheckResult, String, Vec<Vec<u8>>);

/// Every item of the checklist scored, a failure with its photo; all mistakes at once.
fn check_scores(items: &[Item], mut scored: HashMap<String, Scored>) -> AppResult<Vec<Planned<'_>>> {
    let mut e = FieldErrors::default();
    let mut plan: Vec<Planned<'_>> = Vec::new();
    for i in items {
        let s = scored.remove(&i.id).unwrap_or_default();
        let field = format!("result_{}", i.id);
        let Some(result) = CheckResult::parse(s.result.trim()) else {
            e.add(&field, Code::Required, format!("请评定“{}”", i.item));
            continue;
        };
        let note = optional_text(&mut e, &format!("note_{}", i.id), "说明", &s.note, 200, true);
        if result == CheckResult::Fail && s.photos.is_empty() {
            e.add(&format!("photo_{}", i.id), Code::PhotoRequired, format!("“{}”不合格，请拍照留证", i.item));
        }
        if s.photos.len() > 3 {
            e.add(&format!("photo_{}", i.id), Code::TooManyPhotos, "每项最多3张照片");
        }
        plan.push((i, result, note, s.photos));
    }
    if items.is_empty() {
        e.add("_form", Code::UnknownItem, "该点位类型在标准中没有检查项目");
    }
    if e.is_empty() { Ok(plan) } else { Err(AppError::Validation(e)) }
}

/// A failed item filed as a problem of source 互评互查 for the inspected unit, with its photos
/// as before-photos; the problem's id.
async fn file_finding(
    w: &mut super::write::Write<'_>,
    (round, t, point): (&Round, &TaskRow, &crate::store::points::Point),
    item: &Item,
    note: &str,
    photos: Vec<Photo>,
) -> AppResult<String> {
    let description = if note.is_empty() { item.requirement.clone() } else { note.to_string() };
    let filing = super::problems::Verified {
        point: point.clone(),
        item: Some(item.clone()),
        category: item.category.clone(),
        severity: item.severity,
        description: format!("{}：{}（{}互评互查）", item.item, description, t.inspector_name),
        found_at: w.now,
        note: format!("{} 发现", round.name),
    };
    let limit = super::problems::limit_of(item);
    let p = super::problems::file_dispatched(w, filing, Source::MutualInspection, limit).await?;
    for ph in photos {
        Photo { owner_id: p.id.clone(), ..ph }.insert(w.conn()).await?;
    }
    Ok(p.id)
}

/// Publishes the round's report to its units (the office).
pub async fn publish(ctx: &Ctx<'_>, id: &str) -> AppResult<Round> {
    require_admin(ctx.user)?;
    let old = store::round(ctx.db, id).await?.ok_or(AppError::NotFound)?;
    if old.state == RoundState::Published {
        return Ok(old);
    }
    let now = now_ms();
    let mut new = Round { state: RoundState::Published, published_at: Some(now), updated_at: now, ..old.clone() };
    let mut w = ctx.write().await?;
    w.update_as(crate::domain::audit::Verb::Publish, &old, &mut new, old.version).await?;
    w.commit().await?;
    Ok(new)
}

/// The round's report as rows: (名次, 点位编码, 点位, 被查单位, 检查单位, 合格, 不合格, 得分率).
pub fn report_rows(v: &RoundView) -> Vec<Vec<String>> {
    v.ranking
        .iter()
        .enumerate()
        .map(|(i, (t, s))| {
            vec![
                (i + 1).to_string(),
                t.point_code.clone(),
                t.point_name.clone(),
                t.owner_name.clone(),
                t.inspector_name.clone(),
                t.passed.to_string(),
                t.failed.to_string(),
                format!("{s:.1}%"),
            ]
        })
        .collect()
}

pub const REPORT_HEAD: [&str; 8] = ["名次", "点位编码", "点位", "被查单位", "检查单位", "合格项", "不合格项", "得分率"];

/// The round's report as a Word document: the summary, the units' mean scores, the points ranked.
pub fn docx(v: &RoundView) -> AppResult<Vec<u8>> {
    let letter = super::notices::Letter::new();
    let title = docx_rs::Run::new().add_text(&v.round.name).size(44).fonts(letter.title_fonts());
    let summary = format!(
        "{}至{}，{}行业{}个单位交叉检查{}个点位，已完成{}个。检查依据：最新发布的标准台账。",
        v.round.starts_on,
        v.round.ends_on,
        v.round.sector.label(),
        v.tasks.iter().map(|t| &t.owner_unit_id).collect::<std::collections::HashSet<_>>().len(),
        v.tasks.len(),
        v.done
    );
    let unit_rows: Vec<Vec<String>> = v
        .units
        .iter()
        .enumerate()
        .map(|(i, (u, n, s))| vec![(i + 1).to_string(), u.clone(), n.to_string(), format!("{s:.1}%")])
        .collect();
    let doc = docx_rs::Docx::new()
        .page_size(11906, 16838)
        .add_paragraph(super::notices::Letter::center(title))
        .add_paragraph(docx_rs::Paragraph::new().add_run(letter.text(&summary, 32)))
        .add_paragraph(letter.heading("一、各单位平均得分率"))
        .add_table(letter.table(&["名次", "单位", "检查点位", "平均得分率"], unit_rows))
        .add_paragraph(letter.heading("二、点位排名"))
        .add_table(letter.table(&REPORT_HEAD, report_rows(v)));
    let mut out = std::io::Cursor::new(Vec::new());
    doc.build().pack(&mut out).map_err(|e| AppError::Internal(anyhow::anyhow!("docx: {e}")))?;
    Ok(out.into_inner())
}
