//! Daily work: 督办问责 (proposed notices and interviews) and the daily rounds (晨扫描, 回头看,
//! 今日必须办结), one-handed on a phone.

use super::opt;
use crate::domain::role::Role;
use crate::domain::time::{DAY_MS, fmt_local, now_ms, parse_local_day_start, to_local};
use crate::service::escalation::{self as esc, ProposedInterview, ProposedNotice};
use crate::store::points::PointRow;
use crate::store::problems::ProblemRow;
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
    /// The threshold as typed, after a refused save
    typed_threshold: Option<String>,
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
        typed_threshold: None,
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
    /// The threshold the page showed
    #[serde(default)]
    seen_threshold: Option<String>,
}

pub async fn set_threshold(CsrfForm { page, form }: CsrfForm<ThresholdForm>) -> PageResult<Response> {
    match esc::set_threshold(&page.ctx(), &form.threshold, form.seen_threshold.as_deref()).await {
        Ok(_) => Ok(Redirect::to("/escalation").into_response()),
        Err(e @ (crate::error::AppError::Validation(_) | crate::error::AppError::Refused(..))) => {
            let msg = Some(crate::web::error::message_of(&e));
            let mut p = escalation_page(&page, &EscQuery::default(), msg).await?;
            p.typed_threshold = Some(form.threshold.clone());
            Ok((StatusCode::UNPROCESSABLE_ENTITY, p).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "problems/rounds.html")]
pub struct RoundsPage {
    l: Layout,
    scan: Vec<PointRow>,
    inspected: Vec<String>,
    scan_total: i64,
    scan_remaining: i64,
    recheck: Vec<ProblemRow>,
    /// Of `recheck`, the fixes whose after-photo carries an evidence warning
    recheck_warned: Vec<String>,
    due_today: Vec<ProblemRow>,
    shows_scan: bool,
    shows_recheck: bool,
    shows_due: bool,
}

pub async fn rounds(page: PageUser) -> PageResult<RoundsPage> {
    let r = crate::service::rounds::today(&page.ctx()).await?;
    Ok(RoundsPage {
        l: Layout::new(&page.user, "rounds", "今日工作"),
        scan: r.scan,
        inspected: r.inspected,
        scan_total: r.scan_total,
        scan_remaining: r.scan_remaining,
        recheck: r.recheck,
        recheck_warned: r.recheck_warned,
        due_today: r.due_today,
        shows_scan: r.shows_scan,
        shows_recheck: r.shows_recheck,
        shows_due: r.shows_due,
    })
}
