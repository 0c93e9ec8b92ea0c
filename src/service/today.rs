//! 我的待办: what each person must do now, most urgent first, each item one tap from its action.
//! A point lead and a unit: overdue, sent back for rework, to acknowledge, due today, notices to
//! confirm. A supervisor and a grid worker: fixes to re-check (with their photos and evidence
//! warnings) and today's round (points not yet inspected today). The office: extension and
//! transfer requests awaiting a decision, overdue problems, units that have not confirmed the
//! latest notice, drafts to publish, a year's holidays not loaded yet. The discipline office:
//! problems overdue past the threshold and reworked again and again, interviews. Each section's
//! total opens the records behind it.

use super::Ctx;
use super::notices::{self, ListQuery};
use super::problems::scope;
use crate::domain::photo::{EvidenceFlag, PhotoKind, PhotoOwner};
use crate::domain::problem::State;
use crate::domain::role::Role;
use crate::domain::time::{DAY_MS, end_of_local_day, now_ms, to_local};
use crate::error::AppResult;
use crate::store::problems::{self as store, ProblemFilter, ProblemRow, Seek, Sort};
use crate::store::{PageReq, photos, units};
use serde::Serialize;
use utoipa::ToSchema;

/// Items shown per section; the total says how many there are.
pub const SHOWN: i64 = 8;

/// A one-tap action on an item: a form posted with the record's version.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct QuickAction {
    pub label: &'static str,
    /// Where the form posts
    pub post: String,
    pub version: i64,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TodoItem {
    /// The record's page
    pub href: String,
    pub title: String,
    pub detail: String,
    /// A short urgent mark: 逾期3天, 今日17:00到期, 第2次返工
    pub badge: Option<String>,
    /// An after-photo to look at (its id)
    pub photo_id: Option<String>,
    /// Evidence warnings on that photo
    pub warnings: Vec<String>,
    pub action: Option<QuickAction>,
}

impl TodoItem {
    /// An item that opens its record (no photo, no one-tap action).
    fn link(href: String, title: String, detail: String, badge: Option<String>) -> TodoItem {
        TodoItem { href, title, detail, badge, photo_id: None, warnings: Vec::new(), action: None }
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TodoSection {
    pub key: &'static str,
    pub title: &'static str,
    pub total: i64,
    /// False when counting stopped at a cap: more than `total`
    pub total_exact: bool,
    /// The full list behind the total
    pub more: String,
    pub items: Vec<TodoItem>,
    pub empty: &'static str,
    /// The label of each item's button when it has no one-tap action (处理, 核查, 登记, 查看)
    pub go: &'static str,
}

/// "逾期3天" / "逾期5小时" / "今日17:00到期" / "11-25 17:00到期".
pub fn deadline_badge(deadline: Option<i64>, now: i64) -> Option<String> {
    let d = deadline?;
    if d < now {
        let late = now - d;
        return Some(if late >= DAY_MS {
            format!("逾期{}天", late / DAY_MS)
        } else {
            format!("逾期{}小时", (late / 3_600_000).max(1))
        });
    }
    let when = to_local(d);
    if d < end_of_local_day(now) {
        Some(format!("今日{}到期", when.format("%H:%M")))
    } else {
        Some(format!("{}到期", when.format("%m-%d %H:%M")))
    }
}

fn item(r: &ProblemRow, now: i64) -> TodoItem {
    TodoItem::link(
        format!("/problems/{}", r.id),
        format!("{} · {}", r.category, r.point_name),
        format!("{} {} · {}", r.code, r.unit_name, r.description),
        deadline_badge(r.deadline_at, now),
    )
}

/// A section of problems: the filter in the caller's scope, the first items by `sort`.
async fn problems(
    ctx: &Ctx<'_>,
    (key, title, empty): (&'static str, &'static str, &'static str),
    narrow: impl FnOnce(&mut ProblemFilter),
    sort: Sort,
    more: &str,
) -> AppResult<(TodoSection, Vec<ProblemRow>)> {
    let mut f = scope(ctx).await?;
    narrow(&mut f);
    let page = store::list_keyset(ctx.db, &f, sort, &Seek::First, SHOWN).await?;
    let now = now_ms();
    let items = page.rows.iter().map(|r| item(r, now)).collect();
    // Readers (纪委) look; the others act.
    let go = match key {
        "recheck" => "核查",
        _ if ctx.user.role == crate::domain::role::Role::Discipline => "查看",
        _ => "处理",
    };
    let section = TodoSection {
        key,
        title,
        total: page.total,
        total_exact: page.total_exact,
        more: more.to_string(),
        items,
        empty,
        go,
    };
    Ok((section, page.rows))
}

fn quick(rows: &[ProblemRow], section: &mut TodoSection, label: &'static str, action: &str) {
    for (it, r) in section.items.iter_mut().zip(rows) {
        it.action = Some(QuickAction { label, post: format!("/problems/{}/act/{action}", r.id), version: r.version });
    }
}

/// The unit side: overdue, rework, to acknowledge, due today, in hand, then notices to confirm.
/// Each open problem is listed once, in the first section that holds it.
async fn unit_side(ctx: &Ctx<'_>, out: &mut Vec<TodoSection>) -> AppResult<()> {
    let now = now_ms();
    let end_of_today = end_of_local_day(now);
    let deadline = Sort::DeadlineAsc;
    let (mut s, rows) = problems(
        ctx,
        ("overdue", "已逾期", "没有逾期的问题"),
        |f| f.overdue_at = Some(now),
        deadline,
        "/problems?overdue=1&sort=deadline_asc",
    )
    .await?;
    // An overdue problem not yet received is received from here: it is not listed again below.
    for (it, r) in s.items.iter_mut().zip(&rows) {
        if r.state == State::Dispatched {
            let post = format!("/problems/{}/act/acknowledge", r.id);
            it.action = Some(QuickAction { label: "收到", post, version: r.version });
        }
    }
    out.push(s);
    let (mut s, rows) = problems(
        ctx,
        ("rework", "被退回返工", "没有被退回的问题"),
        |f| {
            f.states = Some(vec![State::Acknowledged]);
            f.reworked = Some(true);
            f.due_from = Some(now);
        },
        deadline,
        "/problems?state=acknowledged&reworked=1&due=running&sort=deadline_asc",
    )
    .await?;
    for (it, r) in s.items.iter_mut().zip(&rows) {
        it.badge = Some(format!("第{}次返工", r.rework_count));
    }
    out.push(s);
    let (mut s, rows) = problems(
        ctx,
        ("to_acknowledge", "待签收", "没有待签收的问题"),
        |f| {
            f.states = Some(vec![State::Dispatched]);
            f.due_from = Some(now);
        },
        deadline,
        "/problems?state=dispatched&due=running&sort=deadline_asc",
    )
    .await?;
    quick(&rows, &mut s, "收到", "acknowledge");
    out.push(s);
    let (s, _) = problems(
        ctx,
        ("due_today", "今日到期", "今天没有到期的问题"),
        |f| {
            f.states = Some(vec![State::Acknowledged]);
            f.reworked = Some(false);
            f.due_from = Some(now);
            f.due_before = Some(end_of_today);
        },
        deadline,
        "/problems?state=acknowledged&reworked=0&due=today&sort=deadline_asc",
    )
    .await?;
    out.push(s);
    // Received and being fixed, due after today (a problem found in the afternoon is due the
    // next working day): still the unit's to-do, nearest deadline first.
    let (s, _) = problems(
        ctx,
        ("in_hand", "处置中（明日及以后到期）", "没有其他处置中的问题"),
        |f| {
            f.states = Some(vec![State::Acknowledged]);
            f.reworked = Some(false);
            f.due_from = Some(end_of_today);
        },
        deadline,
        "/problems?state=acknowledged&reworked=0&due=later&sort=deadline_asc",
    )
    .await?;
    out.push(s);
    notices_to_confirm(ctx, out).await
}

/// The published notices the unit has not confirmed reading.
async fn notices_to_confirm(ctx: &Ctx<'_>, out: &mut Vec<TodoSection>) -> AppResult<()> {
    let unread = ListQuery { unread: "1".into(), ..Default::default() };
    let (rows, total) = notices::list(ctx, &unread, PageReq::new(Some(1), Some(SHOWN))).await?;
    let items = rows
        .into_iter()
        .map(|n| TodoItem::link(format!("/notices/{}", n.id), n.title.clone(), n.number.clone(), Some("待确认".into())))
        .collect();
    out.push(TodoSection {
        key: "notices",
        title: "通报待确认",
        total,
        total_exact: true,
        more: "/notices?unread=1".into(),
        items,
        empty: "没有待确认的通报",
        go: "查看",
    });
    Ok(())
}

/// Fixes waiting for the re-check, each with its after-photo and evidence warnings: a
/// supervisor's within its teams' areas (where it re-checks), the office's all.
async fn rechecks(ctx: &Ctx<'_>, out: &mut Vec<TodoSection>) -> AppResult<()> {
    let teams = super::access::team_scope(ctx).await?;
    let more = match teams {
        Some(_) => "/problems?state=submitted&team=1&sort=deadline_asc",
        None => "/problems?state=submitted&sort=deadline_asc",
    };
    let (mut s, rows) = problems(
        ctx,
        ("recheck", "待核查（回头看）", "没有待核查的问题"),
        |f| {
            f.states = Some(vec![State::Submitted]);
            if let Some(areas) = teams {
                super::problems::within_areas(f, areas);
            }
        },
        Sort::DeadlineAsc,
        more,
    )
    .await?;
    for (it, r) in s.items.iter_mut().zip(&rows) {
        let after = photos::of(ctx.db, PhotoOwner::Problem, &r.id).await?;
        if let Some(ph) = after.iter().rev().find(|p| p.kind == PhotoKind::After) {
            it.photo_id = Some(ph.id.clone());
            it.warnings = EvidenceFlag::list(&ph.flags).into_iter().map(|f| f.code.label().to_string()).collect();
        }
        it.badge = Some(if it.warnings.is_empty() { "待核查".into() } else { "有证据警告".into() });
    }
    out.push(s);
    Ok(())
}

/// Today's round: the points of the inspector's area not yet inspected today (no problem filed
/// there and no clean inspection recorded since midnight).
async fn round(ctx: &Ctx<'_>, out: &mut Vec<TodoSection>) -> AppResult<()> {
    let r = super::rounds::scan(ctx, PageReq::new(Some(1), Some(SHOWN))).await?;
    let items = r
        .points
        .iter()
        .map(|p| {
            TodoItem::link(
                format!("/problems/new?point_id={}", p.id),
                p.name.clone(),
                format!("{} · {}", p.type_name, p.unit_name),
                None,
            )
        })
        .collect();
    out.push(TodoSection {
        key: "round",
        title: "晨扫描：尚未检查的点位",
        total: r.remaining,
        total_exact: true,
        more: "/rounds".into(),
        items,
        empty: "今天负责的点位都已检查",
        go: "登记",
    });
    Ok(())
}

/// The office's queue: requests to decide, overdue problems, notices.
async fn office(ctx: &Ctx<'_>, out: &mut Vec<TodoSection>) -> AppResult<()> {
    let now = now_ms();
    let (mut s, rows) = problems(
        ctx,
        ("requests", "延期/转办申请待审批", "没有待审批的申请"),
        |f| f.pending = true,
        Sort::DeadlineAsc,
        "/problems?pending=1&sort=deadline_asc",
    )
    .await?;
    let full = store::pending_requests(ctx.db, &rows.iter().map(|r| r.id.clone()).collect::<Vec<_>>()).await?;
    for (it, r) in s.items.iter_mut().zip(&rows) {
        if let Some((kind, note)) = full.iter().find(|x| x.0 == r.id).map(|x| (&x.1, &x.2)) {
            it.badge = Some(kind.clone());
            it.detail = format!("{} {}：{}", r.code, r.unit_name, note);
        }
        if r.state.clock_running() && full.iter().any(|x| x.0 == r.id && x.1 == "申请延期") {
            it.action = Some(QuickAction {
                label: "批准延期",
                post: format!("/problems/{}/act/approve_extension", r.id),
                version: r.version,
            });
        }
    }
    out.push(s);
    let (s, _) = problems(
        ctx,
        ("overdue", "已逾期", "没有逾期的问题"),
        |f| f.overdue_at = Some(now),
        Sort::DeadlineAsc,
        "/problems?overdue=1&sort=deadline_asc",
    )
    .await?;
    out.push(s);
    let published = ListQuery { status: "published".into(), ..Default::default() };
    if let Some(latest) = notices::list(ctx, &published, PageReq::new(Some(1), Some(1))).await?.0.first() {
        let missing = units::not_confirmed(ctx.db, &latest.id).await?;
        let items = missing
            .iter()
            .take(SHOWN as usize)
            .map(|(id, name)| {
                TodoItem::link(format!("/units/{id}"), name.clone(), latest.title.clone(), Some("未确认".into()))
            })
            .collect();
        out.push(TodoSection {
            key: "unconfirmed",
            title: "最新通报未确认的单位",
            total: missing.len() as i64,
            total_exact: true,
            more: format!("/notices/{}", latest.id),
            items,
            empty: "各单位均已确认最新通报",
            go: "查看",
        });
    }
    failed_messages(ctx, out).await?;
    holidays_missing(ctx, out).await?;
    let drafts = ListQuery { status: "draft".into(), ..Default::default() };
    let (rows, total) = notices::list(ctx, &drafts, PageReq::new(Some(1), Some(SHOWN))).await?;
    let items = rows
        .into_iter()
        .map(|n| TodoItem::link(format!("/notices/{}", n.id), n.title, n.number, Some("草稿".into())))
        .collect();
    out.push(TodoSection {
        key: "drafts",
        title: "待发布的通报",
        total,
        total_exact: true,
        more: "/notices?status=draft".into(),
        items,
        empty: "没有待发布的通报",
        go: "查看",
    });
    Ok(())
}

/// Group-chat messages that never arrived: the units did not hear of their problems.
async fn failed_messages(ctx: &Ctx<'_>, out: &mut Vec<TodoSection>) -> AppResult<()> {
    let (failed, total) = crate::store::notifications::failed_deliveries(ctx.db, SHOWN).await?;
    if total > 0 {
        let items = failed
            .into_iter()
            .map(|(unit, kind, error, at)| {
                TodoItem::link(
                    "/deliveries?status=failed".into(),
                    format!("{unit} · {}", kind.label()),
                    format!("{} {error}", to_local(at).format("%m-%d %H:%M")),
                    Some("推送失败".into()),
                )
            })
            .collect();
        out.push(TodoSection {
            key: "failed_deliveries",
            title: "工作群消息推送失败",
            total,
            total_exact: true,
            more: "/deliveries?status=failed".into(),
            items,
            empty: "",
            go: "查看",
        });
    }
    Ok(())
}

/// The years whose official holidays the deadlines need and nobody has loaded: this year, and
/// in December the next (the State Council publishes it in the autumn). Without them a
/// deadline counts only weekends as days off, so units fall overdue over the Spring Festival.
async fn holidays_missing(ctx: &Ctx<'_>, out: &mut Vec<TodoSection>) -> AppResult<()> {
    use chrono::Datelike;
    let cal = super::calendar::load(ctx.db).await?;
    let today = to_local(now_ms()).date_naive();
    let mut items = Vec::new();
    for (year, why) in [
        (today.year(), "截止时间和逾期天数现仅按周末计算：法定节假日照常计入，调休上班日不计入"),
        (today.year() + 1, "跨入该年的截止时间仅按周末计算；国务院办公厅通知发布后请导入"),
    ] {
        if (year == today.year() || today.month() == 12) && !cal.covers(year) {
            items.push(TodoItem::link(
                format!("/settings/calendar?year={year}"),
                format!("尚未导入{year}年节假日安排"),
                why.into(),
                Some("影响截止时间".into()),
            ));
        }
    }
    if !items.is_empty() {
        out.push(TodoSection {
            key: "holidays_missing",
            title: "节假日数据待导入",
            total: items.len() as i64,
            total_exact: true,
            more: "/settings/calendar".into(),
            items,
            empty: "",
            go: "导入",
        });
    }
    Ok(())
}

/// The discipline office: what is overdue longest and what keeps failing the re-check.
async fn discipline(ctx: &Ctx<'_>, out: &mut Vec<TodoSection>) -> AppResult<()> {
    let now = now_ms();
    let (s, _) = problems(
        ctx,
        ("overdue", "逾期未办结", "没有逾期的问题"),
        |f| f.overdue_at = Some(now),
        Sort::DeadlineAsc,
        "/problems?overdue=1&sort=deadline_asc",
    )
    .await?;
    out.push(s);
    let (mut s, rows) = problems(
        ctx,
        ("reworked", "被退回返工过的问题", "没有返工的问题"),
        |f| f.reworked = Some(true),
        Sort::FoundDesc,
        "/problems?reworked=1",
    )
    .await?;
    for (it, r) in s.items.iter_mut().zip(&rows) {
        it.badge = Some(format!("返工{}次 · {}", r.rework_count, r.state.label()));
    }
    out.push(s);
    Ok(())
}

/// Residents' reports waiting to be verified (the office everywhere, a grid worker in its area).
async fn reports(ctx: &Ctx<'_>, out: &mut Vec<TodoSection>) -> AppResult<()> {
    use crate::domain::citizen::ReportState;
    let f = crate::store::reports::ReportFilter { state: Some(ReportState::Received), ..Default::default() };
    let (rows, total) = crate::service::reports::queue(ctx, f, PageReq::new(Some(1), Some(SHOWN))).await?;
    let now = now_ms();
    let items = rows
        .into_iter()
        .map(|r| {
            let waited = (now - r.created_at) / 3_600_000;
            let badge = (waited >= 4).then(|| format!("已等{waited}小时"));
            let place = r.community_name.clone().unwrap_or_default();
            TodoItem::link(
                format!("/reports/{}", r.id),
                format!("{} {}", r.category, r.description),
                format!("{place} {}", r.address),
                badge,
            )
        })
        .collect();
    out.push(TodoSection {
        key: "reports",
        title: "市民反映待核实",
        total,
        total_exact: true,
        more: "/reports".into(),
        items,
        empty: "没有待核实的市民反映",
        go: "核实",
    });
    Ok(())
}

/// A window unit's bad-rating cases waiting for the callback or the verification (the office
/// sees every unit's), overdue callbacks marked.
async fn rating_cases(ctx: &Ctx<'_>, out: &mut Vec<TodoSection>) -> AppResult<()> {
    if ctx.user.role.needs_unit() {
        let unit = match &ctx.user.unit_id {
            Some(u) => crate::store::units::get(ctx.db, u).await?,
            None => None,
        };
        if !unit.is_some_and(|u| u.kind.is_window()) {
            return Ok(());
        }
    }
    let (rows, total) = crate::service::rating_cases::open_for(ctx).await?;
    let now = now_ms();
    let items = rows
        .into_iter()
        .map(|c| {
            let overdue = c.state == crate::domain::window::CaseState::Callback && c.callback_due < now;
            let badge = if overdue { Some("回访逾期".to_string()) } else { Some(c.state.label().to_string()) };
            TodoItem::link(
                format!("/rating-cases/{}", c.id),
                format!("{} {}：{}", c.window_number, crate::domain::window::level_label(c.level), c.tags),
                format!("{} · {}", c.code, c.unit_name),
                badge,
            )
        })
        .collect();
    out.push(TodoSection {
        key: "rating_cases",
        title: "窗口差评待处理",
        total,
        total_exact: true,
        more: "/rating-cases?state=open".into(),
        items,
        empty: "没有待处理的差评",
        go: "处理",
    });
    Ok(())
}

/// The evaluator's points still to score in running simulated rounds, in walking order.
async fn evaluation_visits(ctx: &Ctx<'_>, out: &mut Vec<TodoSection>) -> AppResult<()> {
    let rows: Vec<(String, String, String, String, Option<String>, String)> = sqlx::query_as(
        "SELECT v.id, p.code, p.name, r.name, c.name, t.name FROM eval_visits v JOIN eval_rounds r ON r.id = v.round_id \
         JOIN points p ON p.id = v.point_id JOIN point_types t ON t.code = v.type_code \
         LEFT JOIN org_nodes c ON c.id = v.community_id WHERE v.evaluator_id = $1 AND v.state = 'todo' AND r.state = 'open' \
         ORDER BY r.starts_on, v.street_id, v.community_id, p.code",
    )
    .bind(&ctx.user.id)
    .fetch_all(&ctx.db.pool)
    .await?;
    let total = rows.len() as i64;
    let items = rows
        .into_iter()
        .take(20)
        .map(|(id, code, name, round, community, kind)| {
            let detail = format!("{round} · {}", community.unwrap_or_default());
            TodoItem::link(format!("/evaluations/visits/{id}"), format!("{code} {name}"), detail, Some(kind))
        })
        .collect();
    out.push(TodoSection {
        key: "evaluation_visits",
        title: "模拟测评待测点位",
        total,
        total_exact: true,
        more: "/evaluations".into(),
        items,
        empty: "没有待测评的点位",
        go: "测评",
    });
    Ok(())
}

/// 网上申报: a unit's indicators to upload (returned ones and overdue ones marked); the office's
/// submissions waiting for review.
async fn materials(ctx: &Ctx<'_>, out: &mut Vec<TodoSection>) -> AppResult<()> {
    let office = ctx.user.role == Role::Admin;
    let sql = if office {
        "SELECT t.id, i.code, i.standard, u.name, t.state, t.due_on FROM material_tasks t JOIN eval_items i ON i.id = t.item_id \
         JOIN units u ON u.id = t.unit_id WHERE t.state = 'submitted' ORDER BY t.submitted_at"
    } else {
        "SELECT t.id, i.code, i.standard, u.name, t.state, t.due_on FROM material_tasks t JOIN eval_items i ON i.id = t.item_id \
         JOIN units u ON u.id = t.unit_id WHERE t.unit_id = $1 AND t.state IN ('assigned', 'returned') ORDER BY t.due_on, i.seq"
    };
    let q = sqlx::query_as::<_, (String, String, String, String, String, String)>(sql);
    let q = if office { q } else { q.bind(ctx.user.unit_id.clone().unwrap_or_default()) };
    let rows = q.fetch_all(&ctx.db.pool).await?;
    if rows.is_empty() && !office {
        return Ok(());
    }
    let today = crate::domain::time::to_local(now_ms()).format("%Y-%m-%d").to_string();
    let total = rows.len() as i64;
    let items = rows
        .into_iter()
        .take(20)
        .map(|(id, code, standard, unit, state, due)| {
            let badge = match state.as_str() {
                "returned" => "已退回".to_string(),
                _ if !office && today > due => "逾期".to_string(),
                "submitted" => "待审核".to_string(),
                _ => format!("{due}截止"),
            };
            let title: String = format!("{code} {}", standard.chars().take(40).collect::<String>());
            TodoItem::link(format!("/materials/tasks/{id}"), title, unit, Some(badge))
        })
        .collect();
    out.push(TodoSection {
        key: "materials",
        title: if office { "网上申报待审核" } else { "网上申报待上传" },
        total,
        total_exact: true,
        more: "/materials".into(),
        items,
        empty: "没有待审核的申报材料",
        go: if office { "审核" } else { "上传" },
    });
    Ok(())
}

/// The signed-in person's sections, most urgent first.
pub async fn todo(ctx: &Ctx<'_>) -> AppResult<Vec<TodoSection>> {
    let mut out = Vec::new();
    match ctx.user.role {
        Role::UnitUser | Role::PointLead => {
            unit_side(ctx, &mut out).await?;
            rating_cases(ctx, &mut out).await?;
            materials(ctx, &mut out).await?;
        }
        Role::Supervisor => {
            rechecks(ctx, &mut out).await?;
            round(ctx, &mut out).await?;
        }
        Role::GridWorker => {
            reports(ctx, &mut out).await?;
            round(ctx, &mut out).await?;
        }
        Role::Admin => {
            office(ctx, &mut out).await?;
            reports(ctx, &mut out).await?;
            rating_cases(ctx, &mut out).await?;
            rechecks(ctx, &mut out).await?;
            materials(ctx, &mut out).await?;
        }
        Role::Discipline => discipline(ctx, &mut out).await?,
        Role::Evaluator => {
            evaluation_visits(ctx, &mut out).await?;
            round(ctx, &mut out).await?;
        }
    }
    Ok(out)
}
