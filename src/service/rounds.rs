//! The daily rounds: 晨扫描 (points a supervisor's teams inspect today), 回头看 (fixes waiting for
//! a re-check) and 今日必须办结 (a unit's open problems due by the end of today, overdue first).

use super::Ctx;
use super::problems::scope;
use crate::domain::role::Role;
use crate::domain::time::{DAY_MS, now_ms, parse_local_day_start, to_local};
use crate::error::AppResult;
use crate::store::points::{self as point_store, PointRow};
use crate::store::problems::{self as store, ProblemRow};
use crate::store::{PageReq, org};
use serde::Serialize;
use utoipa::ToSchema;

#[derive(Debug, Serialize, ToSchema)]
pub struct Rounds {
    /// 晨扫描 (supervisors and the office; empty for others)
    pub scan: Vec<PointRow>,
    /// 回头看 (supervisors and the office)
    pub recheck: Vec<ProblemRow>,
    /// 今日必须办结 (units and the office)
    pub due_today: Vec<ProblemRow>,
    pub shows_scan: bool,
    pub shows_recheck: bool,
    pub shows_due: bool,
}

pub async fn today(ctx: &Ctx<'_>) -> AppResult<Rounds> {
    let role = ctx.user.role;
    let inspector = matches!(role, Role::Admin | Role::Supervisor);
    let unit_side = role.needs_unit() || role == Role::Admin;
    // 晨扫描: the points of the supervisor's team areas (everything for the office).
    let scan = if inspector {
        let mut f = point_store::PointFilter { active: Some(true), ..Default::default() };
        if role == Role::Supervisor {
            let areas: Vec<Option<String>> = sqlx::query_scalar(
                "SELECT t.area_id FROM teams t JOIN team_members m ON m.team_id = t.id WHERE m.user_id = $1",
            )
            .bind(&ctx.user.id)
            .fetch_all(&ctx.db.pool)
            .await?;
            let mut ids = Vec::new();
            for a in areas.into_iter().flatten() {
                ids.extend(org::subtree_ids(ctx.db, &a).await?);
            }
            f.area_ids = Some(ids);
        }
        point_store::list(ctx.db, &f, PageReq::new(Some(1), Some(50))).await?.0
    } else {
        Vec::new()
    };
    let recheck = if inspector {
        let mut f = scope(ctx).await?;
        f.states = Some(vec![crate::domain::problem::State::Submitted]);
        store::list(ctx.db, &f, PageReq::new(Some(1), Some(100))).await?.0
    } else {
        Vec::new()
    };
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
    Ok(Rounds { scan, recheck, due_today, shows_scan: inspector, shows_recheck: inspector, shows_due: unit_side })
}
