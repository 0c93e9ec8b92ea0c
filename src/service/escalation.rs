//! Escalation (督办问责): an overdue problem proposes a notice (拟通报); a unit with at least N
//! overdue cases in a period is proposed for an interview (拟约谈). Both are derived from the
//! stored facts every time, so they can never disagree with the ledger.

use super::Ctx;
use super::problems::scope;
use crate::domain::time::{now_ms, to_local};
use crate::error::{AppError, AppResult, Code};
use crate::store::PageReq;
use crate::store::calendar as settings;
use crate::store::problems::{self as store, ProblemRow};
use serde::Serialize;
use utoipa::ToSchema;

pub const THRESHOLD_KEY: &str = "interview_threshold";
pub const DEFAULT_THRESHOLD: i64 = 3;

#[derive(Debug, Serialize, ToSchema)]
pub struct ProposedNotice {
    pub problem: ProblemRow,
    /// Working hours past the deadline
    pub overdue_hours: f64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ProposedInterview {
    pub unit_id: String,
    pub unit_name: String,
    pub overdue_cases: i64,
}

fn may_read(ctx: &Ctx<'_>) -> AppResult<()> {
    use crate::domain::role::Role;
    if matches!(ctx.user.role, Role::Admin | Role::Discipline | Role::Supervisor) {
        Ok(())
    } else {
        Err(AppError::Forbidden)
    }
}

pub async fn threshold(db: &crate::store::Db) -> AppResult<i64> {
    Ok(threshold_of(settings::setting(db, THRESHOLD_KEY).await?.as_deref()))
}

/// The threshold a stored setting (None: never set) stands for.
fn threshold_of(stored: Option<&str>) -> i64 {
    stored.and_then(|v| v.parse().ok()).unwrap_or(DEFAULT_THRESHOLD)
}

/// Every problem overdue now, most overdue first.
pub async fn proposed_notices(ctx: &Ctx<'_>) -> AppResult<Vec<ProposedNotice>> {
    may_read(ctx)?;
    let now = now_ms();
    let mut f = scope(ctx).await?;
    f.overdue_at = Some(now);
    let (rows, _) = store::list(ctx.db, &f, PageReq::all()).await?;
    let cal = super::calendar::load(ctx.db).await?;
    let mut out: Vec<ProposedNotice> = rows
        .into_iter()
        .map(|r| ProposedNotice { overdue_hours: hours_past(&cal, r.deadline_at, now), problem: r })
        .collect();
    out.sort_by(|a, b| b.overdue_hours.total_cmp(&a.overdue_hours));
    Ok(out)
}

/// Working hours from a deadline to `until`, to one decimal (0 without a deadline).
pub fn hours_past(cal: &crate::domain::calendar::Calendar, deadline: Option<i64>, until: i64) -> f64 {
    let minutes = cal.working_minutes_between(to_local(deadline.unwrap_or(until)), to_local(until));
    (minutes as f64 / 6.0).round() / 10.0
}

/// Units with at least the threshold of overdue cases among the problems found in [from, to):
/// still open past the deadline, or closed after it. The week's notice proposes the same units
/// for the same week (both count through `late_per_unit`'s filter), and the ledger's 曾逾期
/// filter over the same found dates lists the cases.
pub async fn proposed_interviews(ctx: &Ctx<'_>, from: i64, to: i64) -> AppResult<(i64, Vec<ProposedInterview>)> {
    may_read(ctx)?;
    let n = threshold(ctx.db).await?;
    let counts = store::late_per_unit(ctx.db, (from, to), now_ms(), n).await?;
    let ids: Vec<String> = counts.iter().map(|(u, _)| u.clone()).collect();
    let names = crate::store::units::names_of(ctx.db, &ids).await?;
    let mut out: Vec<ProposedInterview> = counts
        .into_iter()
        .map(|(unit_id, overdue_cases)| ProposedInterview {
            unit_name: names.get(&unit_id).cloned().unwrap_or_default(),
            unit_id,
            overdue_cases,
        })
        .collect();
    out.sort_by(|a, b| b.overdue_cases.cmp(&a.overdue_cases).then_with(|| a.unit_name.cmp(&b.unit_name)));
    Ok((n, out))
}

/// Sets the threshold from `seen`, the one the page showed (see `Write::setting`).
pub async fn set_threshold(ctx: &Ctx<'_>, value: &str, seen: Option<&str>) -> AppResult<i64> {
    super::access::require_admin(ctx.user)?;
    let n: i64 = value
        .trim()
        .parse()
        .ok()
        .filter(|n| (1..=100).contains(n))
        .ok_or_else(|| AppError::field("threshold", Code::InvalidThreshold, "约谈门槛应为1至100之间的整数"))?;
    let mut w = ctx.write().await?;
    let shown = |s: Option<&str>| threshold_of(s).to_string();
    w.setting((THRESHOLD_KEY, "约谈门槛（逾期问题数）"), shown, seen.map(str::trim), &n.to_string()).await?;
    w.commit().await?;
    Ok(n)
}
