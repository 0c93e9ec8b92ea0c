//! 数据看板: this week or this month at a glance, for the office (the whole city or one street)
//! and for the big screen. Every figure is a count of records and carries the link that lists
//! exactly those records in the ledger (or the ranking, or the KPI page).

use super::Ctx;
use super::access::area_scope;
use super::problems::scope;
use super::scoring::{self, Span, SpanKind, span_of};
use crate::domain::geo::wgs84_to_gcj02;
use crate::domain::kpi::{Counts as KpiCounts, Kpi, from_counts};
use crate::domain::problem::State;
use crate::domain::role::Role;
use crate::domain::score::{Class, fmt_points};
use crate::domain::time::{fmt_local, now_ms, to_local};
use crate::error::{AppError, AppResult, Code};
use crate::store::dashboard::{self as store, PerPoint, PointCount};
use crate::store::problems::ProblemFilter;
use crate::store::{org, units};
use chrono::NaiveDate;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap, HashSet};
use utoipa::ToSchema;

crate::vocab! {
    /// The dashboard's period.
    pub enum Period: "看板周期" {
        Week("week", "本周"),
        Month("month", "本月"),
    }
}

impl Period {
    fn span_kind(self) -> SpanKind {
        match self {
            Period::Week => SpanKind::Week,
            Period::Month => SpanKind::Month,
        }
    }

    /// 上周 / 上月
    fn previous_label(self) -> &'static str {
        match self {
            Period::Week => "上周",
            Period::Month => "上月",
        }
    }
}

/// Who may open the dashboard: the office and those who watch it.
pub fn may_view(role: Role) -> bool {
    matches!(role, Role::Admin | Role::Discipline | Role::Supervisor | Role::GridWorker)
}

/// One counter: its value as shown, what it is compared with, and the records behind it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Card {
    pub key: &'static str,
    pub label: &'static str,
    /// As shown: 128, 86.5%
    pub value: String,
    /// The number itself (a rate in percent)
    pub number: f64,
    /// "上周同期 97" / "上周 91.2%"; None when there is nothing to compare with
    pub compare: Option<String>,
    /// +1 better than the comparison, -1 worse, 0 the same or not compared
    pub better: i8,
    pub href: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TrendDay {
    /// 2026-12-01
    pub day: String,
    /// 12-01
    pub label: String,
    pub found: i64,
    pub closed: i64,
    pub found_href: String,
    pub closed_href: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CategoryFigure {
    pub name: String,
    pub count: i64,
    /// The same category in the previous period
    pub previous: i64,
    pub href: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PointFigure {
    pub id: String,
    pub name: String,
    pub unit: String,
    pub count: i64,
    pub open: i64,
    pub overdue: i64,
    pub href: String,
    /// Where it is, in display coordinates
    pub lat: Option<f64>,
    pub lng: Option<f64>,
}

/// A cell of the heat layer, in display coordinates (GCJ-02 when the tiles are).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct HeatCell {
    pub lat: f64,
    pub lng: f64,
    pub count: i64,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RankFigure {
    pub target: String,
    pub name: String,
    pub rank: i64,
    /// 986.5
    pub score: String,
    /// Places gained since the previous period (negative: lost); None when new
    pub movement: Option<i64>,
    pub red_flag: bool,
    pub last: bool,
    pub href: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RankingFigure {
    /// 责任单位千分制排名
    pub title: String,
    /// The period ranked: 2026年11月30日至12月06日
    pub period: String,
    /// How many are ranked (in the area)
    pub total: usize,
    /// The first ten
    pub top: Vec<RankFigure>,
    /// The last five (when more than fifteen are ranked)
    pub bottom: Vec<RankFigure>,
    /// Holders of this period's red flag
    pub red_flags: Vec<RankFigure>,
    pub href: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AreaChoice {
    pub id: String,
    pub name: String,
    /// street or community
    pub level: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Dashboard {
    pub period: Period,
    /// 2026年11月30日至12月06日
    pub period_label: String,
    /// The street (or other area) the figures are limited to; None for the whole city
    pub area: Option<AreaChoice>,
    /// The areas the viewer may choose from (streets)
    pub areas: Vec<AreaChoice>,
    /// The viewer is held to one area (a grid worker)
    pub area_fixed: bool,
    /// When the figures were read, Beijing time
    pub generated_at: String,
    pub cards: Vec<Card>,
    pub trend: Vec<TrendDay>,
    pub categories: Vec<CategoryFigure>,
    /// The points with the most problems in the period (最差点位)
    pub points: Vec<PointFigure>,
    pub heat: Vec<HeatCell>,
    pub heat_total: i64,
    pub ranking: RankingFigure,
}

/// What the dashboard was asked for.
#[derive(Debug, Clone, Default)]
pub struct Request {
    pub period: Option<String>,
    pub area_id: Option<String>,
    /// Display the heat layer in GCJ-02 (the tiles are)
    pub gcj: bool,
}

/// Cells of the heat layer at most: finer cells merge until the layer fits.
const MAX_CELLS: usize = 2000;
const CATEGORIES: usize = 8;
const POINTS: usize = 10;

fn fmt_pct(p: Option<f64>) -> String {
    p.map(|p| format!("{p:.1}%")).unwrap_or_else(|| "—".into())
}

fn day_of(ms: i64) -> NaiveDate {
    to_local(ms).date_naive()
}

fn ymd(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

/// `higher_is_better`: compares a figure with its comparison.
fn better(now: f64, before: Option<f64>, higher_is_better: bool) -> i8 {
    match before {
        Some(b) if (now - b).abs() > 1e-9 => {
            if (now > b) == higher_is_better {
                1
            } else {
                -1
            }
        }
        _ => 0,
    }
}

/// The area the figures are limited to, checked against what the viewer may see.
async fn resolve_area(
    ctx: &Ctx<'_>,
    asked: Option<&str>,
) -> AppResult<(Option<AreaChoice>, Option<Vec<String>>, bool)> {
    let held = area_scope(ctx).await?;
    let asked = asked.map(str::trim).filter(|s| !s.is_empty());
    // A grid worker without an area given sees its own; a supervisor with an area starts there.
    let default = match (&held, ctx.user.role) {
        (Some(_), _) | (None, Role::Supervisor) => ctx.user.area_id.clone(),
        _ => None,
    };
    let Some(id) = asked.map(str::to_string).or(default) else {
        return Ok((None, None, false));
    };
    let (node, ids) = super::access::asked_area(ctx, held.as_ref(), &id, "只能查看本人负责区域的看板").await?;
    Ok((
        Some(AreaChoice { id: node.id, name: node.name, level: node.level.as_str().into() }),
        Some(ids),
        held.is_some(),
    ))
}

impl Card {
    /// A count, compared (when given) with (its text, the number, whether more is better).
    fn count(
        (key, label): (&'static str, &'static str),
        n: i64,
        compare: Option<(String, i64, bool)>,
        href: String,
    ) -> Card {
        let (compare, better) = match compare {
            Some((text, before, more_is_better)) => (Some(text), better(n as f64, Some(before as f64), more_is_better)),
            None => (None, 0),
        };
        Card { key, label, value: n.to_string(), number: n as f64, compare, better, href }
    }

    /// A rate in percent (higher is better) against the previous period's (上周 91.2%).
    fn rate(
        (key, label): (&'static str, &'static str),
        (now, before): (Option<f64>, Option<f64>),
        last: &str,
        href: String,
    ) -> Card {
        Card {
            key,
            label,
            value: fmt_pct(now),
            number: now.unwrap_or(0.0),
            compare: before.map(|p| format!("{last} {}", fmt_pct(Some(p)))),
            better: now.map(|r| better(r, before, true)).unwrap_or(0),
            href,
        }
    }
}

/// One entry per day of the period up to today: found and closed, each opening its records.
fn trend(
    span: &Span,
    today: NaiveDate,
    (found, closed): (&[store::DayCount], &[store::DayCount]),
    links: &Links,
) -> Vec<TrendDay> {
    let found_by: BTreeMap<i64, i64> = found.iter().map(|d| (d.day, d.n)).collect();
    let closed_by: BTreeMap<i64, i64> = closed.iter().map(|d| (d.day, d.n)).collect();
    let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).expect("epoch");
    let mut out = Vec::new();
    let mut d = day_of(span.from);
    while d <= today && d < day_of(span.to) {
        let n = (d - epoch).num_days();
        let s = ymd(d);
        out.push(TrendDay {
            label: d.format("%m-%d").to_string(),
            found: found_by.get(&n).copied().unwrap_or(0),
            closed: closed_by.get(&n).copied().unwrap_or(0),
            found_href: links.ledger(&format!("from={s}&to={s}")),
            closed_href: links.ledger(&format!("cfrom={s}&cto={s}")),
            day: s,
        });
        d += chrono::Duration::days(1);
    }
    out
}

/// The ledger's link for a filter: the query string the ledger page reads.
struct Links {
    area: String,
}

impl Links {
    fn ledger(&self, q: &str) -> String {
        format!("/problems?{q}{}", self.area)
    }
}

/// Everything the dashboard shows, read from the records now.
pub async fn read(ctx: &Ctx<'_>, req: &Request) -> AppResult<Dashboard> {
    read_at(ctx, req, now_ms()).await
}

/// The dashboard as it read at time `now` (the bench reads it at a month's last evening).
pub async fn read_at(ctx: &Ctx<'_>, req: &Request, now: i64) -> AppResult<Dashboard> {
    if !may_view(ctx.user.role) {
        return Err(AppError::Forbidden);
    }
    let period = period_of(req.period.as_deref())?;
    let (area, area_ids, area_fixed) = resolve_area(ctx, req.area_id.as_deref()).await?;
    let today = day_of(now);
    let span = span_of(period.span_kind(), today);
    let prev = scoring::previous(&span);
    // The previous period up to the same moment (上周同期), for counts.
    let prev_same = (prev.from + (now - span.from)).min(prev.to);
    let mut base = scope(ctx).await?;
    if let Some(ids) = &area_ids {
        base.area_ids = Some(super::access::within(base.area_ids.take(), ids.clone()));
    }
    let links = Links { area: area.as_ref().map(|a| format!("&area_id={}", a.id)).unwrap_or_default() };
    // The ranking, the dearest read, runs beside the counts.
    let sql = gather(ctx.db, &base, (&span, &prev, prev_same), now);
    let (ranking, g) = tokio::try_join!(ranking(ctx, &span, area_ids.as_deref()), sql)?;

    let (from_day, to_day) = (ymd(day_of(span.from)), ymd(day_of(span.to - 1)));
    let period_q = format!("from={from_day}&to={to_day}");
    let c = Counts {
        found: g.found_days.iter().map(|d| d.n).sum(),
        closed: g.closed_days.iter().map(|d| d.n).sum(),
        prev_found: g.prev_found,
        prev_closed: g.prev_closed,
        handling: g.handling,
        prev_handling: g.prev_handling,
        overdue: g.overdue_now,
        recheck: g.to_recheck,
        pending: g.waiting,
    };
    let cards = cards(&c, period, (&from_day, &to_day), &links);
    let trend = trend(&span, today, (&g.found_days, &g.closed_days), &links);

    let categories = category_figures(&g.categories, &g.prev_categories, &links, &period_q);
    let (heat, heat_total) = heat_cells(&g.points.heat, req.gcj);
    let worst = worst_points(g.points.worst);
    let units = units::names_of(ctx.db, &worst.iter().map(|p| p.unit_id.clone()).collect::<Vec<_>>()).await?;
    let points = point_figures(&worst, &units, &links, &period_q, req.gcj);
    let areas = if area_fixed { Vec::new() } else { area_choices(ctx.db).await? };
    Ok(Dashboard {
        period,
        period_label: span.label.clone(),
        area,
        areas,
        area_fixed,
        generated_at: fmt_local(now),
        cards,
        trend,
        categories,
        points,
        heat,
        heat_total,
        ranking,
    })
}

/// The dashboard's counts of a period (see `gather`).
struct Gathered {
    points: PerPoint,
    categories: Vec<store::CategoryCount>,
    prev_categories: Vec<store::CategoryCount>,
    handling: Kpi,
    prev_handling: Kpi,
    found_days: Vec<store::DayCount>,
    closed_days: Vec<store::DayCount>,
    /// Found and closed in the previous period up to the same moment
    prev_found: i64,
    prev_closed: i64,
    overdue_now: i64,
    to_recheck: i64,
    waiting: i64,
}

/// Every count the dashboard reads for a period, side by side (each query on its own
/// connection): per point, per category (and the previous period's), the handling of this and
/// the previous period, per day found and closed, the same part of the previous period, and the
/// open queues now.
async fn gather(
    db: &crate::store::Db,
    base: &ProblemFilter,
    (span, prev, prev_same): (&Span, &Span, i64),
    now: i64,
) -> AppResult<Gathered> {
    let found = |from: i64, to: i64| ProblemFilter { from_ms: Some(from), to_ms: Some(to), ..base.clone() };
    let closed = |from: i64, to: i64| ProblemFilter { closed_from: Some(from), closed_to: Some(to), ..base.clone() };
    let overdue = ProblemFilter { overdue_at: Some(now), ..base.clone() };
    let recheck = ProblemFilter { states: Some(vec![State::Submitted]), ..base.clone() };
    let pending = ProblemFilter { pending: true, ..base.clone() };
    let (this_found, this_closed) = (found(span.from, span.to), closed(span.from, span.to));
    let prev_closed_all = closed(prev.from, prev.to);
    let prev_found_all = found(prev.from, prev.to);
    let (
        points,
        this,
        (prev_categories, prev_found),
        handling,
        prev_handling,
        closed_days,
        prev_closed,
        overdue_now,
        to_recheck,
        waiting,
    ) = tokio::try_join!(
        db_err(store::per_point(db, &this_found, now, POINTS)),
        found_per_day_category(db, &this_found, now),
        previous_found(db, &prev_found_all, prev_same, now),
        handling(db, base, (span.from, span.to), now),
        handling(db, base, (prev.from, prev.to), now),
        closed_per_day(db, &this_closed, now),
        previous_closed(db, &prev_closed_all, prev_same, now),
        db_err(store::count(db, &overdue)),
        db_err(store::count(db, &recheck)),
        db_err(store::count(db, &pending)),
    )?;
    Ok(Gathered {
        points,
        categories: store::categories_of(&this),
        prev_categories,
        handling,
        prev_handling,
        found_days: store::days_of(&this),
        closed_days,
        prev_found,
        prev_closed,
        overdue_now,
        to_recheck,
        waiting,
    })
}

/// The start of today (Beijing) at `now`.
fn today_start(now: i64) -> i64 {
    crate::store::kpi_days::day_start(crate::store::kpi_days::day_of(now))
}

/// The previous period's categories, and its problems found up to the same moment of it as
/// `now` is of this period (`same`, 上期同期): kept per day while nothing under them changes once
/// the period has ended before today (a previous week always has; the previous day not before
/// midnight), so that only the part of the day holding `same` is counted now.
pub async fn previous_found(
    db: &crate::store::Db,
    f: &ProblemFilter,
    same: i64,
    now: i64,
) -> AppResult<(Vec<store::CategoryCount>, i64)> {
    let upto = |to: i64| ProblemFilter { to_ms: Some(to), ..f.clone() };
    if f.to_ms.is_none_or(|to| to > today_start(now)) {
        let same_part = upto(same);
        let (categories, found) = tokio::try_join!(store::per_category(db, f), store::count(db, &same_part))?;
        return Ok((categories, found));
    }
    let same_day = today_start(same);
    let part = ProblemFilter { from_ms: Some(same_day.max(f.from_ms.unwrap_or(same_day))), ..upto(same) };
    let (days, in_part) = tokio::try_join!(store::per_day_category_closed(db, f), async {
        if same > same_day { store::count(db, &part).await } else { Ok(0) }
    })?;
    let same_day_no = crate::store::kpi_days::day_of(same);
    let before: i64 = days.iter().filter(|r| r.day < same_day_no).map(|r| r.n).sum();
    Ok((store::categories_of(&days), before + in_part))
}

/// The period's closures per day (`f` gives the closing range): its days before today kept
/// while nothing under them changes (`store::closed_per_day_closed`), today's read now.
pub async fn closed_per_day(db: &crate::store::Db, f: &ProblemFilter, now: i64) -> AppResult<Vec<store::DayCount>> {
    let kept = |to: i64| {
        let past = ProblemFilter { closed_to: Some(to), ..f.clone() };
        async move { store::closed_per_day_closed(db, &past).await }
    };
    let live = |from: Option<i64>| {
        let part = ProblemFilter { closed_from: from.or(f.closed_from), ..f.clone() };
        async move { store::closed_per_day(db, &part).await }
    };
    past_kept_today_live((f.closed_from, f.closed_to), now, kept, live).await
}

/// The previous period's closures up to the same moment of it as `now` is of this period
/// (`same`): its days before that moment's day kept (the period has ended before today), that
/// day's part counted now.
pub async fn previous_closed(db: &crate::store::Db, f: &ProblemFilter, same: i64, now: i64) -> AppResult<i64> {
    let upto = ProblemFilter { closed_to: Some(same), ..f.clone() };
    if f.closed_to.is_none_or(|to| to > today_start(now)) {
        return Ok(store::count(db, &upto).await?);
    }
    let same_day = today_start(same);
    let part = ProblemFilter { closed_from: Some(same_day.max(f.closed_from.unwrap_or(same_day))), ..upto };
    let (days, in_part) = tokio::try_join!(store::closed_per_day_closed(db, f), async {
        if same > same_day { store::count(db, &part).await } else { Ok(0) }
    })?;
    let same_day_no = crate::store::kpi_days::day_of(same);
    Ok(days.iter().filter(|d| d.day < same_day_no).map(|d| d.n).sum::<i64>() + in_part)
}

/// The period's problems per day and category (`f` gives the found range): its days before
/// today kept while nothing under them changes (`store::per_day_category_closed`), today's read
/// now. The whole period is read when its range is not given.
pub async fn found_per_day_category(
    db: &crate::store::Db,
    f: &ProblemFilter,
    now: i64,
) -> AppResult<Vec<store::DayCategoryCount>> {
    let kept = |to: i64| {
        let past = ProblemFilter { to_ms: Some(to), ..f.clone() };
        async move { store::per_day_category_closed(db, &past).await }
    };
    let live = |from: Option<i64>| {
        let part = ProblemFilter { from_ms: from.or(f.from_ms), ..f.clone() };
        async move { store::per_day_category(db, &part).await }
    };
    past_kept_today_live((f.from_ms, f.to_ms), now, kept, live).await
}

/// Counts per day over the range [from, to): the days before today from `kept` (given the
/// range's end cut at today's start), today's on from `live` (given today's start); the whole
/// range from `live` (given nothing) when it starts today or later or an end is not given.
async fn past_kept_today_live<T, K, L>(
    (from, to): (Option<i64>, Option<i64>),
    now: i64,
    kept: impl FnOnce(i64) -> K,
    live: impl FnOnce(Option<i64>) -> L,
) -> AppResult<Vec<T>>
where
    T: Clone,
    K: std::future::Future<Output = Result<std::sync::Arc<Vec<T>>, sqlx::Error>>,
    L: std::future::Future<Output = Result<Vec<T>, sqlx::Error>>,
{
    let today = today_start(now);
    let (Some(from), Some(to)) = (from, to) else { return Ok(live(None).await?) };
    if from >= today {
        return Ok(live(None).await?);
    }
    let (kept, live) = tokio::try_join!(kept(to.min(today)), async {
        if to > today { live(Some(today)).await } else { Ok(Vec::new()) }
    })?;
    let mut out = kept.as_ref().clone();
    out.extend(live);
    Ok(out)
}

/// A store read as the dashboard's result (so that the reads join with the KPI page's).
async fn db_err<T>(read: impl std::future::Future<Output = Result<T, sqlx::Error>>) -> AppResult<T> {
    Ok(read.await?)
}

/// The period's handling (结案率, 按期结案率 of the problems dispatched in [from, to)): the KPI
/// page's total for the same problems, which the cards link to, read from its kept days where
/// they hold and summed over the communities in view.
async fn handling(db: &crate::store::Db, base: &ProblemFilter, (from, to): (i64, i64), now: i64) -> AppResult<Kpi> {
    let f = ProblemFilter { dispatched_from: Some(from), dispatched_to: Some(to), ..base.clone() };
    let mut total = KpiCounts::default();
    for line in super::kpi::counts(db, &f, true, now).await? {
        total += line.counts;
    }
    Ok(from_counts(total))
}

/// The counts behind the cards.
struct Counts {
    found: i64,
    closed: i64,
    /// The same part of the previous period (上期同期)
    prev_found: i64,
    prev_closed: i64,
    handling: Kpi,
    /// The whole previous period
    prev_handling: Kpi,
    overdue: i64,
    recheck: i64,
    pending: i64,
}

/// The counters, each against its comparison and opening its records.
fn cards(c: &Counts, period: Period, (from_day, to_day): (&str, &str), links: &Links) -> Vec<Card> {
    let last = period.previous_label();
    let kpi = format!("/kpi?from={from_day}&to={to_day}{}", links.area);
    let same = |n: i64| format!("{last}同期 {n}");
    let (h, p) = (&c.handling, &c.prev_handling);
    vec![
        Card::count(
            ("found", "发现问题"),
            c.found,
            Some((same(c.prev_found), c.prev_found, false)),
            links.ledger(&format!("from={from_day}&to={to_day}")),
        ),
        Card::count(
            ("closed", "销号"),
            c.closed,
            Some((same(c.prev_closed), c.prev_closed, true)),
            links.ledger(&format!("cfrom={from_day}&cto={to_day}")),
        ),
        Card::rate(("closure_rate", "结案率"), (h.closure_rate, p.closure_rate), last, kpi.clone()),
        Card::rate(("on_time_rate", "按期结案率"), (h.on_time_closure_rate, p.on_time_closure_rate), last, kpi),
        Card::count(("overdue", "当前逾期"), c.overdue, None, links.ledger("overdue=1&sort=deadline_asc")),
        Card::count(("recheck", "待核查"), c.recheck, None, links.ledger("state=submitted&sort=deadline_asc")),
        Card::count(("pending", "待审批申请"), c.pending, None, links.ledger("pending=1&sort=deadline_asc")),
    ]
}

/// The period asked for: this week by default.
fn period_of(asked: Option<&str>) -> AppResult<Period> {
    match asked.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(Period::Week),
        Some(p) => Period::parse(p)
            .ok_or_else(|| AppError::refuse(Code::InvalidPeriod, format!("看板周期“{p}”无效，应为 week 或 month"))),
    }
}

/// The recurring categories, most first, with the previous period's count beside each.
fn category_figures(
    now: &[store::CategoryCount],
    before: &[store::CategoryCount],
    links: &Links,
    period_q: &str,
) -> Vec<CategoryFigure> {
    let before: BTreeMap<&str, i64> = before.iter().map(|c| (c.category.as_str(), c.n)).collect();
    now.iter()
        .take(CATEGORIES)
        .map(|c| CategoryFigure {
            name: c.category.clone(),
            count: c.n,
            previous: before.get(c.category.as_str()).copied().unwrap_or(0),
            href: links.ledger(&format!("{period_q}&category={}", encode(&c.category))),
        })
        .collect()
}

/// The `POINTS` points with most problems (then most overdue, then by name), most first. The
/// database picked them in this order (names by their bytes); its JSON is not trusted to keep it.
fn worst_points(mut points: Vec<PointCount>) -> Vec<PointCount> {
    let order = |a: &PointCount, b: &PointCount| {
        b.n.cmp(&a.n)
            .then(b.overdue.cmp(&a.overdue))
            .then_with(|| a.name.cmp(&b.name))
            .then_with(|| a.point_id.cmp(&b.point_id))
    };
    points.sort_unstable_by(order);
    points
}

/// The points with most problems, each opening its problems of the period.
fn point_figures(
    points: &[PointCount],
    units: &HashMap<String, String>,
    links: &Links,
    period_q: &str,
    gcj: bool,
) -> Vec<PointFigure> {
    points
        .iter()
        .map(|p| (p, display(p, gcj)))
        .map(|(p, at)| PointFigure {
            id: p.point_id.clone(),
            name: p.name.clone(),
            unit: units.get(&p.unit_id).cloned().unwrap_or_default(),
            count: p.n,
            open: p.open,
            overdue: p.overdue,
            href: links.ledger(&format!("{period_q}&point_id={}", p.point_id)),
            lat: at.map(|d| d.1),
            lng: at.map(|d| d.0),
        })
        .collect()
}

/// The streets, each followed by its communities.
async fn area_choices(db: &crate::store::Db) -> AppResult<Vec<AreaChoice>> {
    use crate::domain::org::OrgLevel;
    let nodes = org::all(db).await?;
    let choice =
        |n: &org::OrgNode| AreaChoice { id: n.id.clone(), name: n.name.clone(), level: n.level.as_str().into() };
    let mut out = Vec::new();
    for s in nodes.iter().filter(|n| n.level == OrgLevel::Street) {
        out.push(choice(s));
        out.extend(
            nodes
                .iter()
                .filter(|c| c.level == OrgLevel::Community && c.parent_id.as_deref() == Some(s.id.as_str()))
                .map(choice),
        );
    }
    Ok(out)
}

/// Percent-encodes a query value (slashes too).
fn encode(s: &str) -> String {
    crate::domain::urlencode(s).replace('/', "%2F")
}

/// A point's position for the map: (lng, lat), GCJ-02 when the tiles are.
fn display(p: &PointCount, gcj: bool) -> Option<(f64, f64)> {
    let at = (p.lng?, p.lat?);
    Some(if gcj { wgs84_to_gcj02(at) } else { at })
}

/// The heat layer: problems per point, merged into cells (doubling their size) until at most
/// `MAX_CELLS` remain; each cell sits at its problems' weighted centre.
fn heat_cells(points: &[(f64, f64, i64)], gcj: bool) -> (Vec<HeatCell>, i64) {
    let placed: Vec<(f64, f64, i64)> = points.iter().copied().filter(|(_, _, n)| *n > 0).collect();
    let total = placed.iter().map(|p| p.2).sum();
    let mut step = 0.0005_f64;
    loop {
        // Counted by cell until there are too many (then a grid twice as coarse), in the
        // points' order, so that each cell's sums are the same whatever the grid tried before.
        let mut cells: rustc_hash::FxHashMap<(i64, i64), (f64, f64, i64)> = Default::default();
        let mut over = false;
        for (lat, lng, n) in &placed {
            let key = ((lat / step).floor() as i64, (lng / step).floor() as i64);
            let c = cells.entry(key).or_insert((0.0, 0.0, 0));
            c.0 += lat * *n as f64;
            c.1 += lng * *n as f64;
            c.2 += n;
            if cells.len() > MAX_CELLS && step <= 1.0 {
                over = true;
                break;
            }
        }
        if !over {
            let mut cells: Vec<_> = cells.into_iter().collect();
            cells.sort_unstable_by_key(|(key, _)| *key);
            let out = cells
                .into_iter()
                .map(|(_, (lat, lng, n))| {
                    let (lat, lng) = (lat / n as f64, lng / n as f64);
                    let (lng, lat) = if gcj { wgs84_to_gcj02((lng, lat)) } else { (lng, lat) };
                    HeatCell { lat, lng, count: n }
                })
                .collect();
            return (out, total);
        }
        step *= 2.0;
    }
}

/// How long a computed ranking serves the dashboard: scoring every unit is the dearest figure,
/// and the big screens of a city all ask for the same one every minute.
const RANKING_FRESH: std::time::Duration = std::time::Duration::from_secs(60);

/// Forgets the computed rankings (the bench measures a cold dashboard with it).
pub fn forget_rankings(db: &crate::store::Db) {
    if let Ok(mut c) = db.memo.lock() {
        c.retain(|(k, _, _)| !k.starts_with("ranking:"));
    }
}

/// The ranking of a class for a span, computed at most once a minute per instance.
async fn ranking_cached(ctx: &Ctx<'_>, class: Class, span: &Span) -> AppResult<std::sync::Arc<scoring::Ranking>> {
    let key = format!("ranking:{}:{}:{}", class.as_str(), span.from, span.to);
    let poisoned = || AppError::Internal(anyhow::anyhow!("memo poisoned"));
    let hit = ctx
        .db
        .memo
        .lock()
        .map_err(|_| poisoned())?
        .iter()
        .find(|(k, at, _)| *k == key && at.elapsed() < RANKING_FRESH)
        .and_then(|(_, _, r)| r.clone().downcast::<scoring::Ranking>().ok());
    if let Some(r) = hit {
        return Ok(r);
    }
    let r = std::sync::Arc::new(scoring::ranking_of(ctx.db, class, span.clone()).await?);
    let mut memo = ctx.db.memo.lock().map_err(|_| poisoned())?;
    memo.retain(|(k, at, _)| *k != key && at.elapsed() < RANKING_FRESH);
    memo.push((key, std::time::Instant::now(), r.clone()));
    Ok(r)
}

/// The period's ranking of responsible units (limited to the area's units), with movement.
async fn ranking(ctx: &Ctx<'_>, span: &Span, area_ids: Option<&[String]>) -> AppResult<RankingFigure> {
    let class = Class::Unit;
    let r = ranking_cached(ctx, class, span).await?;
    let within: Option<HashSet<String>> = match area_ids {
        None => None,
        Some(ids) => Some(
            units::index(ctx.db)
                .await?
                .by_name
                .iter()
                .filter(|u| u.area_id.as_ref().is_some_and(|a| ids.contains(a)))
                .map(|u| u.id.clone())
                .collect(),
        ),
    };
    let kind = match span.kind {
        SpanKind::Month => "month",
        _ => "week",
    };
    let day = ymd(day_of(span.from));
    let lines: Vec<RankFigure> = r
        .lines
        .iter()
        .filter(|l| within.as_ref().is_none_or(|w| w.contains(&l.now.target)))
        .map(|l| RankFigure {
            target: l.now.target.clone(),
            name: l.now.name.clone(),
            rank: l.now.rank,
            score: fmt_points(l.now.score),
            movement: l.prev_rank.map(|p| p - l.now.rank),
            red_flag: l.red_flag,
            last: l.last,
            href: format!("/scores/{}/{}?period={kind}&date={day}", class.as_str(), l.now.target),
        })
        .collect();
    let total = lines.len();
    let top = lines.iter().take(10).cloned().collect();
    let bottom = if total > 15 { lines[total - 5..].to_vec() } else { Vec::new() };
    let red_flags = lines.iter().filter(|l| l.red_flag).cloned().collect();
    Ok(RankingFigure {
        title: format!("{}千分制排名", class.label()),
        period: span.label.clone(),
        total,
        top,
        bottom,
        red_flags,
        href: format!("/scores?class={}&period={kind}&date={day}", class.as_str()),
    })
}
