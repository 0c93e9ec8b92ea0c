//! The daily rounds: 晨扫描 (points a supervisor's teams inspect today), 回头看 (fixes waiting for
//! a re-check) and 今日必须办结 (a unit's open problems due by the end of today, overdue first).

use super::Ctx;
use super::problems::scope;
use crate::domain::role::Role;
use crate::domain::time::{DAY_MS, now_ms, parse_local_day_start, to_local};
use crate::error::AppResult;
use crate::store::PageReq;
use crate::store::points::{self as point_store, PointRow};
use crate::store::problems::{self as store, ProblemRow};
use serde::Serialize;
use utoipa::ToSchema;

#[derive(Debug, Serialize, ToSchema)]
pub struct Rounds {
    /// 晨扫描 (supervisors and the office; empty for others): the area's points, those not yet
    /// inspected today first
    pub scan: Vec<PointRow>,
    /// Of `scan`, the points inspected today (a problem found or a clean inspection since midnight)
    pub inspected: Vec<String>,
    /// All points of the round, and how many are still to inspect today
    pub scan_total: i64,
    pub scan_remaining: i64,
    /// 回头看 (supervisors and the office)
    pub recheck: Vec<ProblemRow>,
    /// Of `recheck`, the problems whose latest after-photo carries an evidence warning
    pub recheck_warned: Vec<String>,
    /// 今日必须办结 (units and the office)
    pub due_today: Vec<ProblemRow>,
    pub shows_scan: bool,
    pub shows_recheck: bool,
    pub shows_due: bool,
}

/// The points of an inspector's round: a supervisor's team areas (the city for a supervisor in
/// no team or in a team without an area), a grid worker's area, everything for the office.
async fn round_filter(ctx: &Ctx<'_>) -> AppResult<point_store::PointFilter> {
    let area_ids = super::access::inspection_scope(ctx).await?;
    Ok(point_store::PointFilter { active: Some(true), area_ids, ..Default::default() })
}

fn midnight(now: i64) -> i64 {
    parse_local_day_start(&to_local(now).format("%Y-%m-%d").to_string()).unwrap_or(now)
}

/// Points of the round not yet inspected today (the first page) and how many there are.
pub struct Scan {
    pub points: Vec<PointRow>,
    pub remaining: i64,
}

pub async fn scan(ctx: &Ctx<'_>, page: PageReq) -> AppResult<Scan> {
    let mut f = round_filter(ctx).await?;
    f.not_inspected_since = Some(midnight(now_ms()));
    let (points, remaining) = point_store::list(ctx.db, &f, page).await?;
    Ok(Scan { points, remaining })
}

/// The most points the 晨扫描 list shows at once (the page says when there are more).
pub const SCAN_SHOWN: i64 = 500;

pub async fn today(ctx: &Ctx<'_>) -> AppResult<Rounds> {
    let role = ctx.user.role;
    let inspector = matches!(role, Role::Admin | Role::Supervisor | Role::GridWorker);
    let unit_side = role.needs_unit() || role == Role::Admin;
    // 晨扫描: every point of the round, those still to inspect today first.
    let (scan, inspected, scan_total, scan_remaining) = if inspector {
        let f = round_filter(ctx).await?;
        let (mut points, total) = point_store::list(ctx.db, &f, PageReq { page: 1, size: SCAN_SHOWN }).await?;
        let ids: Vec<String> = points.iter().map(|p| p.id.clone()).collect();
        let inspected = point_store::inspected_since(ctx.db, &ids, midnight(now_ms())).await?;
        points.sort_by_key(|p| inspected.contains(&p.id));
        let remaining = scan(ctx, PageReq::new(Some(1), Some(1))).await?.remaining;
        (points, inspected, total, remaining)
    } else {
        (Vec::new(), Vec::new(), 0, 0)
    };
    let rechecker = matches!(role, Role::Admin | Role::Supervisor);
    let recheck = if rechecker {
        let mut f = scope(ctx).await?;
        super::problems::within_teams(ctx, &mut f).await?;
        f.states = Some(vec![crate::domain::problem::State::Submitted]);
        store::list(ctx.db, &f, PageReq::new(Some(1), Some(100))).await?.0
    } else {
        Vec::new()
    };
    // A fix whose latest after-photo carries a warning is marked on the list, as on the start page.
    let mut latest: std::collections::HashMap<String, String> = std::collections::HashMap::new();
    let ids: Vec<String> = recheck.iter().map(|r| r.id.clone()).collect();
    for (id, flags) in crate::store::photos::after_flags(ctx.db, &ids).await? {
        latest.insert(id, flags);
    }
    let recheck_warned = ids
        .into_iter()
        .filter(|id| latest.get(id).is_some_and(|f| !crate::domain::photo::EvidenceFlag::list(f).is_empty()))
        .collect();
    let due_today = if unit_side {
        let end = parse_local_day_start(&to_local(now_ms()).format("%Y-%m-%d").to_string()).unwrap_or(0) + DAY_MS;
        let mut f = scope(ctx).await?;
        f.due_before = Some(end);
        let mut rows = store::list(ctx.db, &f, PageReq::new(Some(1), Some(100))).await?.0;
        rows.sort_by_key(|r| r.deadline_at);
        rows
    } else {
        Vec::new()
    };
    Ok(Rounds {
        scan,
        inspected,
        scan_total,
        scan_remaining,
        recheck,
        recheck_warned,
        due_today,
        shows_scan: inspector,
        shows_recheck: rechecker,
        shows_due: unit_side,
    })
}
