//! Daily work: 督办问责 (proposed notices and interviews) and the daily rounds (晨扫描, 回头看,
//! 今日必须办结), one-handed on a phone.

use super::opt;
use crate::domain::role::Role;
use crate::domain::time::{DAY_MS, fmt_local, now_ms, parse_local_day_start, to_local};
use crate::service::escalation::{self as esc, ProposedInterview, ProposedNotice};
use crate::service::problems::scope;
use crate::store::points::{self as point_store, PointRow};
use crate::store::problems::{self as store, ProblemRow};
use crate::store::{PageReq, org};
use crate::web::auth::{CsrfForm, PageUser};
use crate::web::error::PageResult;
use crate::web::query::Query;
use crate::web::ui::Layout;
use askama::Template;
use askama_web::WebTemplate;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::Datelike;
use serde::Deserialize;

#[derive(Deserialize, Default)]
pub struct EscQuery {
    from: Option<String>,
    to: Option<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "problems/escalation.html")]
pub struct EscalationPage {
    l: Layout,
    notices: Vec<(ProposedNotice, String)>,
    interviews: Vec<ProposedInterview>,
    threshold: i64,
    from: String,
    to: String,
    is_admin: bool,
    error: Option<String>,
}

async fn escalation_page(page: &PageUser, q: &EscQuery, error: Option<String>) -> PageResult<EscalationPage> {
    let today = to_local(now_ms()).date_naive();
    let from = opt(&q.from)
        .filter(|s| parse_local_day_start(s).is_some())
        .unwrap_or_else(|| today.with_day(1).unwrap_or(today).format("%Y-%m-%d").to_string());
    let to = opt(&q.to)
        .filter(|s| parse_local_day_start(s).is_some())
        .unwrap_or_else(|| today.format("%Y-%m-%d").to_string());
    let ctx = page.ctx();
    let notices = esc::proposed_notices(&ctx)
        .await?
        .into_iter()
        .map(|n| {
            let d = n.problem.deadline_at.map(fmt_local).unwrap_or_default();
            (n, d)
        })
        .collect();
    let (threshold, interviews) = esc::proposed_interviews(
        &ctx,
        parse_local_day_start(&from).unwrap_or(0),
        parse_local_day_start(&to).unwrap_or(0) + DAY_MS,
    )
    .await?;
    Ok(EscalationPage {
        l: Layout::new(&page.user, "escalation", "督办问责"),
        notices,
        interviews,
        threshold,
        from,
        to,
        is_admin: page.user.role == Role::Admin,
        error,
    })
}

pub async fn escalation(page: PageUser, Query(q): Query<EscQuery>) -> PageResult<EscalationPage> {
    escalation_page(&page, &q, None).await
}

#[derive(Deserialize, Default)]
pub struct ThresholdForm {
    #[serde(default)]
    threshold: String,
}

pub async fn set_threshold(CsrfForm { page, form }: CsrfForm<ThresholdForm>) -> PageResult<Response> {
    match esc::set_threshold(&page.ctx(), &form.threshold).await {
        Ok(_) => Ok(Redirect::to("/escalation").into_response()),
        Err(crate::error::AppError::Validation(f)) => {
            let msg = f.0.first().map(|e| e.message.clone());
            Ok((StatusCode::UNPROCESSABLE_ENTITY, escalation_page(&page, &EscQuery::default(), msg).await?)
                .into_response())
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "problems/rounds.html")]
pub struct RoundsPage {
    l: Layout,
    scan: Vec<PointRow>,
    recheck: Vec<ProblemRow>,
    due_today: Vec<ProblemRow>,
    shows_scan: bool,
    shows_recheck: bool,
    shows_due: bool,
}

pub async fn rounds(page: PageUser) -> PageResult<RoundsPage> {
    let ctx = page.ctx();
    let role = page.user.role;
    let inspector = matches!(role, Role::Admin | Role::Supervisor);
    let unit_side = role.needs_unit() || role == Role::Admin;
    // 晨扫描: the points of the supervisor's team areas (everything for the office).
    let scan = if inspector {
        let mut f = point_store::PointFilter { active: Some(true), ..Default::default() };
        if role == Role::Supervisor {
            let areas: Vec<Option<String>> = sqlx::query_scalar(
                "SELECT t.area_id FROM teams t JOIN team_members m ON m.team_id = t.id WHERE m.user_id = $1",
            )
            .bind(&page.user.id)
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
    // 回头看: fixes waiting for a re-check.
    let recheck = if inspector {
        let mut f = scope(&ctx).await?;
        f.states = Some(vec!["submitted".into()]);
        store::list(ctx.db, &f, PageReq::new(Some(1), Some(100))).await?.0
    } else {
        Vec::new()
    };
    // 今日必须办结: open problems due by the end of today (overdue ones first).
    let due_today = if unit_side {
        let end = parse_local_day_start(&to_local(now_ms()).format("%Y-%m-%d").to_string()).unwrap_or(0) + DAY_MS;
        let mut f = scope(&ctx).await?;
        f.due_before = Some(end);
        let mut rows = store::list(ctx.db, &f, PageReq::new(Some(1), Some(100))).await?.0;
        rows.sort_by_key(|r| r.deadline_at);
        rows
    } else {
        Vec::new()
    };
    Ok(RoundsPage {
        l: Layout::new(&page.user, "rounds", "今日工作"),
        scan,
        recheck,
        due_today,
        shows_scan: inspector,
        shows_recheck: inspector,
        shows_due: unit_side,
    })
}
