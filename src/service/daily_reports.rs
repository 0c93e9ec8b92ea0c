//! Daily progress reports (每日汇报): a point lead reports each of its points' day in a few taps
//! (what was done, optional photos, anything needing help); the community sees who has and has
//! not reported; help asked for becomes a problem at the point. Weekly summaries are in
//! `weekly_summaries`.

use super::Ctx;
use crate::domain::audit::ObjectType;
use crate::domain::code::Code;
use crate::domain::ids::new_id;
use crate::domain::photo::{PhotoKind, PhotoOwner};
use crate::domain::role::Role;
use crate::domain::validate::{FieldErrors, optional_text};
use crate::error::{AppError, AppResult};
use crate::media::storage::Storage;
use crate::store::photos::Photo;
use crate::store::record::Insert;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// A point's report of one day.
#[derive(Debug, Clone, sqlx::FromRow, Serialize)]
pub struct DailyReport {
    pub id: String,
    pub point_id: String,
    pub unit_id: String,
    pub community_id: Option<String>,
    pub day: String,
    pub done: String,
    pub help: String,
    pub problem_id: Option<String>,
    pub task_id: Option<String>,
    pub reported_by: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
    pub version: i64,
}

crate::record! {
    DailyReport in "daily_reports" as ObjectType::DailyReport,
    label |r| format!("{} 点位汇报", r.day),
    insert [id, point_id, unit_id, community_id, day, done, help, problem_id, task_id, reported_by, created_at, updated_at,
        version],
    update [done, help, problem_id, task_id, updated_at],
    unique ("", Code::AlreadyReported, "该点位今天已经汇报过了，请刷新后在原汇报上修改"),
}

/// A point on a day with its report, if any.
#[derive(Debug, Clone, sqlx::FromRow, Serialize)]
pub struct PointDay {
    pub point_id: String,
    pub code: String,
    pub name: String,
    pub unit_id: String,
    pub unit_name: String,
    pub community_id: Option<String>,
    pub community_name: String,
    pub lead_name: String,
    pub lead_phone: String,
    pub report_id: Option<String>,
    pub done: Option<String>,
    pub help: Option<String>,
    pub problem_id: Option<String>,
    pub task_id: Option<String>,
    pub reported_at: Option<i64>,
    pub report_version: Option<i64>,
    pub photos: i64,
}

impl PointDay {
    pub fn reported(&self) -> bool {
        self.report_id.is_some()
    }

    pub fn needs_help(&self) -> bool {
        self.help.as_deref().is_some_and(|h| !h.is_empty())
    }
}

const DAY_SELECT: &str = "SELECT p.id AS point_id, p.code, p.name, p.unit_id, u.name AS unit_name, p.community_id, \
     COALESCE(c.name, '') AS community_name, p.lead_name, p.lead_phone, r.id AS report_id, r.done, r.help, r.problem_id, r.task_id, \
     r.updated_at AS reported_at, r.version AS report_version, \
     (SELECT COUNT(*) FROM photos ph WHERE ph.owner_type = 'daily_report' AND ph.owner_id = r.id) AS photos \
     FROM points p JOIN units u ON u.id = p.unit_id LEFT JOIN org_nodes c ON c.id = p.community_id \
     LEFT JOIN daily_reports r ON r.point_id = p.id AND r.day = $1 WHERE p.active = 1";

pub fn parse_day(s: &str) -> AppResult<NaiveDate> {
    NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
        .map_err(|_| AppError::field("day", Code::InvalidDate, "日期格式应为2026-12-01"))
}

/// Who reports: unit roles, for their own unit's points.
pub fn reports(role: Role) -> bool {
    role.needs_unit()
}

/// Who watches the reports: the office, supervisors, discipline, and grid workers (community
/// and street staff) for their area.
pub fn watches(role: Role) -> bool {
    matches!(role, Role::Admin | Role::Supervisor | Role::Discipline | Role::GridWorker)
}

/// The caller's own points on a day: a point lead's points are those that name the lead's
/// phone (all the unit's points when none do); a unit user sees all the unit's points.
pub async fn my_points(ctx: &Ctx<'_>, day: &str) -> AppResult<Vec<PointDay>> {
    if !reports(ctx.user.role) {
        return Err(AppError::Forbidden);
    }
    let unit = ctx.user.unit_id.clone().ok_or(AppError::Forbidden)?;
    let all: Vec<PointDay> = sqlx::query_as(&format!("{DAY_SELECT} AND p.unit_id = $2 ORDER BY p.code"))
        .bind(day)
        .bind(&unit)
        .fetch_all(&ctx.db.pool)
        .await?;
    let phone: String = sqlx::query_scalar("SELECT phone FROM users WHERE id = $1")
        .bind(&ctx.user.id)
        .fetch_optional(&ctx.db.pool)
        .await?
        .unwrap_or_default();
    let mine: Vec<PointDay> = all.iter().filter(|p| !phone.is_empty() && p.lead_phone == phone).cloned().collect();
    Ok(if ctx.user.role == Role::PointLead && !mine.is_empty() { mine } else { all })
}

/// Every point the caller watches on a day, narrowed to an area picked in the filter.
pub async fn watched(ctx: &Ctx<'_>, day: &str, area: Option<String>) -> AppResult<Vec<PointDay>> {
    if !watches(ctx.user.role) {
        return Err(AppError::Forbidden);
    }
    let scope = super::access::narrow_to_area(ctx.db, super::access::area_scope(ctx).await?, area).await?;
    let all: Vec<PointDay> =
        sqlx::query_as(&format!("{DAY_SELECT} ORDER BY c.code, p.code")).bind(day).fetch_all(&ctx.db.pool).await?;
    Ok(match scope {
        Some(s) => all.into_iter().filter(|p| p.community_id.as_ref().is_some_and(|c| s.contains(c))).collect(),
        None => all,
    })
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct ReportInput {
    #[serde(default)]
    pub point_id: String,
    #[serde(default)]
    pub done: String,
    #[serde(default)]
    pub help: String,
    /// The report's version when it is corrected the same day
    #[serde(default, deserialize_with = "crate::domain::validate::number")]
    pub version: Option<i64>,
}

/// Files (or corrects, the same day) today's report of one point. Photos are optional: the
/// report is about the work, not proof of presence.
pub async fn file(
    ctx: &Ctx<'_>,
    storage: &Storage,
    input: ReportInput,
    photos: Vec<Vec<u8>>,
) -> AppResult<DailyReport> {
    let day = crate::domain::time::to_local(crate::domain::time::now_ms()).format("%Y-%m-%d").to_string();
    let point = my_points(ctx, &day)
        .await?
        .into_iter()
        .find(|p| p.point_id == input.point_id.trim())
        .ok_or_else(|| AppError::field("point_id", Code::UnknownPoint, "请选择本单位负责的点位"))?;
    let mut e = FieldErrors::default();
    let done = crate::domain::validate::required_lines(&mut e, "done", "今日工作", &input.done, 500);
    let help = optional_text(&mut e, "help", "需协调解决", &input.help, 500, true);
    if photos.len() + point.photos as usize > 6 {
        e.add("photos", Code::TooMany, "每个点位每天最多6张照片");
    }
    if point.report_id.is_some() && input.version.is_none() {
        // Filed meanwhile (another page, another phone): say so instead of a field error.
        return Err(Code::AlreadyReported.into());
    }
    if !e.is_empty() {
        return Err(AppError::Validation(e));
    }
    let (mut prepared, mut files) = (Vec::with_capacity(photos.len()), crate::media::storage::Unkept::new(storage));
    for bytes in photos {
        prepared.push(
            super::photos::prepare(storage, (PhotoOwner::DailyReport, "", PhotoKind::Before), bytes, None, ctx).await?,
        );
        files.add(prepared.last().expect("just stored"));
    }
    let mut w = ctx.write().await?;
    let report = match &point.report_id {
        Some(id) => {
            let old: DailyReport = crate::store::record::find(ctx.db, id).await?.ok_or(AppError::NotFound)?;
            let mut new = DailyReport { done, help, updated_at: w.now, ..old.clone() };
            let expected = super::write::expected(input.version)?;
            w.update(&old, &mut new, expected).await?;
            new
        }
        None => {
            let r = DailyReport {
                id: new_id(),
                point_id: point.point_id.clone(),
                unit_id: point.unit_id.clone(),
                community_id: point.community_id.clone(),
                day,
                done,
                help,
                problem_id: None,
                task_id: None,
                reported_by: Some(ctx.user.id.clone()).filter(|u| !u.is_empty()),
                created_at: w.now,
                updated_at: w.now,
                version: 1,
            };
            w.create(&r).await?;
            r
        }
    };
    for p in prepared {
        Photo { owner_id: report.id.clone(), ..p }.insert(w.conn()).await?;
    }
    let committed = w.commit().await;
    files.keep();
    committed?;
    Ok(report)
}

/// A report the caller may see: its own unit's, or one in the watched area.
pub async fn visible(ctx: &Ctx<'_>, id: &str) -> AppResult<DailyReport> {
    let r: DailyReport = crate::store::record::find(ctx.db, id).await?.ok_or(AppError::NotFound)?;
    let ok = if ctx.user.role.needs_unit() {
        ctx.user.unit_id.as_deref() == Some(r.unit_id.as_str())
    } else if watches(ctx.user.role) {
        match super::access::area_scope(ctx).await? {
            Some(s) => r.community_id.as_ref().is_some_and(|c| s.contains(c)),
            None => true,
        }
    } else {
        false
    };
    if ok { Ok(r) } else { Err(AppError::NotFound) }
}

pub async fn photos_of(ctx: &Ctx<'_>, id: &str) -> AppResult<Vec<Photo>> {
    visible(ctx, id).await?;
    Ok(crate::store::photos::of(ctx.db, PhotoOwner::DailyReport, id).await?)
}

/// A report whose help is still waiting to become a problem or a task, with the version the
/// caller read it at.
async fn open_help(ctx: &Ctx<'_>, id: &str, version: Option<i64>) -> AppResult<(DailyReport, i64)> {
    let old = visible(ctx, id).await?;
    if old.help.is_empty() || old.problem_id.is_some() || old.task_id.is_some() {
        return Err(AppError::refuse(Code::InvalidStatus, "该汇报没有需协调的事项，或已转为问题或任务"));
    }
    Ok((old, super::write::expected(version)?))
}

/// The help a point asked for becomes a problem at the point, dispatched at once to its unit
/// (网格巡查 by the community's grid worker, 交办 by the office): the report is the evidence, its
/// photos (if any) go with it, the deadline is one working day.
pub async fn to_problem(ctx: &Ctx<'_>, id: &str, version: Option<i64>) -> AppResult<String> {
    let source = match ctx.user.role {
        Role::Admin => crate::domain::problem::Source::Assigned,
        Role::GridWorker => crate::domain::problem::Source::GridPatrol,
        _ => return Err(AppError::Forbidden),
    };
    let (old, expected) = open_help(ctx, id, version).await?;
    let point = crate::store::points::get(ctx.db, &old.point_id).await?.ok_or(AppError::NotFound)?;
    let photos = crate::store::photos::of(ctx.db, PhotoOwner::DailyReport, id).await?;
    let mut w = ctx.write().await?;
    let filing = super::problems::Verified {
        point,
        item: None,
        category: "点位汇报需协调事项".into(),
        severity: crate::domain::standard::Severity::Normal,
        description: old.help.clone(),
        found_at: old.updated_at,
        note: format!("{} 点位每日汇报反映", old.day),
    };
    let limit = crate::domain::problem::Limit::WorkingDays(1);
    let problem = super::problems::file_dispatched(&mut w, filing, source, limit).await?;
    for p in photos {
        let copy = Photo {
            id: crate::domain::ids::new_id(),
            owner_type: PhotoOwner::Problem,
            owner_id: problem.id.clone(),
            ..p
        };
        copy.insert(w.conn()).await?;
    }
    let mut new = DailyReport { problem_id: Some(problem.id.clone()), updated_at: w.now, ..old.clone() };
    w.update(&old, &mut new, expected).await?;
    w.commit().await?;
    Ok(problem.id)
}

/// The office makes the help a point asked for a task of the point's unit in its
/// responsibility ledger (任务清单), due on the given day.
pub async fn to_task(ctx: &Ctx<'_>, id: &str, due_date: &str, version: Option<i64>) -> AppResult<String> {
    if ctx.user.role != Role::Admin {
        return Err(AppError::Forbidden);
    }
    let (old, expected) = open_help(ctx, id, version).await?;
    if expected != old.version {
        return Err(AppError::stale());
    }
    let today = crate::domain::time::to_local(crate::domain::time::now_ms()).format("%Y-%m-%d").to_string();
    if due_date.trim() < today.as_str() && NaiveDate::parse_from_str(due_date.trim(), "%Y-%m-%d").is_ok() {
        return Err(AppError::field("due_date", Code::InvalidDate, "完成时限不能早于今天"));
    }
    let input = super::tasks::TaskInput {
        title: format!("点位汇报需协调：{}", old.help).chars().take(100).collect(),
        point_id: Some(old.point_id.clone()),
        due_date: due_date.trim().to_string(),
        ..Default::default()
    };
    let task = super::tasks::create(ctx, &old.unit_id, input).await?;
    let mut new =
        DailyReport { task_id: Some(task.id.clone()), updated_at: crate::domain::time::now_ms(), ..old.clone() };
    ctx.update(&old, &mut new, version).await?;
    Ok(task.id)
}
