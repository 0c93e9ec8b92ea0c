//! Weekly community summaries (社区周汇总): drafted from the week's daily reports and problem
//! ledger (never retyped), edited and submitted by the community, acknowledged by the street
//! office; the street's roll-up of its communities; reporting rates per unit.

use super::Ctx;
use super::daily_reports::watches;
use crate::domain::audit::{ObjectType, Verb};
use crate::domain::code::Code;
use crate::domain::community::{SummaryState, percent, week_start};
use crate::domain::ids::new_id;
use crate::domain::org::OrgLevel;
use crate::domain::role::Role;
use crate::domain::time::{now_ms, parse_local_day_start, to_local};
use crate::domain::validate::{FieldErrors, optional_text};
use crate::error::{AppError, AppResult};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};

#[derive(Debug, Clone, sqlx::FromRow, Serialize)]
pub struct Summary {
    pub id: String,
    pub community_id: String,
    pub week_start: String,
    pub body: String,
    pub state: SummaryState,
    pub submitted_by: Option<String>,
    pub submitted_at: Option<i64>,
    pub acknowledged_by: Option<String>,
    pub acknowledged_at: Option<i64>,
    pub reply: String,
    pub created_at: i64,
    pub updated_at: i64,
    pub version: i64,
}

crate::record! {
    Summary in "weekly_summaries" as ObjectType::WeeklySummary,
    label |s| format!("{}周汇总", s.week_start),
    insert [id, community_id, week_start, body, state, submitted_by, submitted_at, acknowledged_by, acknowledged_at,
        reply, created_at, updated_at, version],
    update [body, state, submitted_by, submitted_at, acknowledged_by, acknowledged_at, reply, updated_at],
    unique ("", Code::SummaryNotOpen, "该社区本周汇总已经生成，请刷新后查看"),
}

/// A community's week in figures, from the records.
#[derive(Debug, Clone, Default, Serialize)]
pub struct WeekFigures {
    pub community_id: String,
    pub community: String,
    pub points: i64,
    pub working_days: i64,
    pub expected: i64,
    pub reported: i64,
    /// Reports filed on rest days (weekends, holidays): not expected, so outside the rate.
    pub rest_day: i64,
    pub rate: Option<f64>,
    pub found: i64,
    pub closed: i64,
    pub overdue: i64,
    pub help: Vec<(String, String, String)>,
    /// Points with the most days missing: (name, days missing)
    pub missing: Vec<(String, i64)>,
    pub summary: Option<Summary>,
}

fn day_text(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

pub fn today() -> NaiveDate {
    to_local(now_ms()).date_naive()
}

/// The working days of a week up to today (a week not yet over counts only what has passed).
async fn working_days(ctx: &Ctx<'_>, monday: NaiveDate) -> AppResult<Vec<NaiveDate>> {
    let cal = super::calendar::load(ctx.db).await?;
    let today = today();
    Ok((0..7).map(|i| monday + chrono::Days::new(i)).filter(|d| *d <= today && cal.is_working_day(*d)).collect())
}

/// (point, name, community)
type PointRow = (String, String, String);
/// (point, day, help, point name)
type ReportRow = (String, String, String, String);
/// (community, state, deadline)
type ProblemRow = (Option<String>, String, Option<i64>);

/// What a week's figures are computed from, read once for every community.
struct WeekRecords {
    communities: Vec<(String, String)>,
    points: Vec<PointRow>,
    reports: Vec<ReportRow>,
    problems: Vec<ProblemRow>,
    summaries: Vec<Summary>,
}

async fn load_week(db: &crate::store::Db, monday: NaiveDate) -> AppResult<WeekRecords> {
    let (first, last) = (day_text(monday), day_text(monday + chrono::Days::new(6)));
    let communities = sqlx::query_as("SELECT id, name FROM org_nodes WHERE level = 'community' ORDER BY code")
        .fetch_all(&db.pool)
        .await?;
    let points =
        sqlx::query_as("SELECT id, name, community_id FROM points WHERE active = 1 AND community_id IS NOT NULL")
            .fetch_all(&db.pool)
            .await?;
    let reports = sqlx::query_as(
        "SELECT r.point_id, r.day, r.help, p.name FROM daily_reports r JOIN points p ON p.id = r.point_id \
         WHERE r.day >= $1 AND r.day <= $2",
    )
    .bind(&first)
    .bind(&last)
    .fetch_all(&db.pool)
    .await?;
    let from = parse_local_day_start(&first).unwrap_or(0);
    let problems = sqlx::query_as(
        "SELECT p.community_id, pr.state, pr.deadline_at FROM problems pr JOIN points p ON p.id = pr.point_id \
         WHERE pr.found_at >= $1 AND pr.found_at < $2 AND pr.state NOT IN ('reported', 'voided')",
    )
    .bind(from)
    .bind(from + 7 * crate::domain::time::DAY_MS)
    .fetch_all(&db.pool)
    .await?;
    let summaries = sqlx::query_as(&format!(
        "SELECT {} FROM weekly_summaries WHERE week_start = $1",
        <Summary as crate::store::record::Insert>::COLUMNS.join(", ")
    ))
    .bind(&first)
    .fetch_all(&db.pool)
    .await?;
    Ok(WeekRecords { communities, points, reports, problems, summaries })
}

/// The week's figures of each community the caller watches (narrowed to an area).
pub async fn figures(ctx: &Ctx<'_>, monday: NaiveDate, area: Option<String>) -> AppResult<Vec<WeekFigures>> {
    if !watches(ctx.user.role) {
        return Err(AppError::Forbidden);
    }
    let scope = super::access::narrow_to_area(ctx.db, super::access::area_scope(ctx).await?, area).await?;
    let days = working_days(ctx, monday).await?;
    let week = load_week(ctx.db, monday).await?;
    // Grouped once, so that a city of many communities costs one pass over each list.
    let working: HashSet<String> = days.iter().map(|d| day_text(*d)).collect();
    let mut points_of: HashMap<&str, Vec<&PointRow>> = HashMap::new();
    for p in &week.points {
        points_of.entry(p.2.as_str()).or_default().push(p);
    }
    let mut reports_of: HashMap<&str, Vec<&ReportRow>> = HashMap::new();
    for r in &week.reports {
        reports_of.entry(r.0.as_str()).or_default().push(r);
    }
    let mut problems_of: HashMap<&str, Vec<(&str, Option<i64>)>> = HashMap::new();
    for (community, state, deadline) in &week.problems {
        if let Some(c) = community {
            problems_of.entry(c.as_str()).or_default().push((state.as_str(), *deadline));
        }
    }
    let now = now_ms();
    let mut out = Vec::new();
    for (cid, cname) in &week.communities {
        if scope.as_ref().is_some_and(|s| !s.contains(cid)) {
            continue;
        }
        let mut f = WeekFigures { community_id: cid.clone(), community: cname.clone(), ..Default::default() };
        f.working_days = days.len() as i64;
        let pts = points_of.get(cid.as_str()).cloned().unwrap_or_default();
        tally_reports(&mut f, &pts, &reports_of, &working);
        for (state, deadline) in problems_of.get(cid.as_str()).cloned().unwrap_or_default() {
            f.found += 1;
            if state == "closed" {
                f.closed += 1;
            } else if deadline.is_some_and(|d| d < now) {
                f.overdue += 1;
            }
        }
        f.summary = week.summaries.iter().find(|s| &s.community_id == cid).cloned();
        out.push(f);
    }
    Ok(out)
}

/// A community's reports of the week: expected and filed on working days, the points that
/// missed days (most first), and every help asked for (by day).
fn tally_reports(
    f: &mut WeekFigures,
    points: &[&PointRow],
    reports_of: &HashMap<&str, Vec<&ReportRow>>,
    working: &HashSet<String>,
) {
    f.points = points.len() as i64;
    f.expected = f.points * f.working_days;
    let mut missing = Vec::new();
    for p in points {
        let ours = reports_of.get(p.0.as_str()).cloned().unwrap_or_default();
        let on_working_days = ours.iter().filter(|r| working.contains(&r.1)).count() as i64;
        f.reported += on_working_days;
        f.rest_day += ours.len() as i64 - on_working_days;
        if on_working_days < f.working_days {
            missing.push((p.1.clone(), f.working_days - on_working_days));
        }
        f.help.extend(ours.iter().filter(|r| !r.2.is_empty()).map(|r| (r.3.clone(), r.1.clone(), r.2.clone())));
    }
    f.rate = percent(f.reported, f.expected);
    f.help.sort_by(|a, b| a.1.cmp(&b.1));
    missing.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    f.missing = missing;
}

/// The draft text of a community's week, from its figures.
pub fn draft_text(f: &WeekFigures, monday: NaiveDate) -> String {
    let sunday = monday + chrono::Days::new(6);
    let mut s = format!(
        "{}创城工作周汇总（{}至{}）\n\n一、点位每日汇报\n本周{}个点位、{}个工作日，应报{}次，实报{}次，汇报率{}。",
        f.community,
        monday.format("%m月%d日"),
        sunday.format("%m月%d日"),
        f.points,
        f.working_days,
        f.expected,
        f.reported,
        f.rate.map(|r| format!("{r}%")).unwrap_or_else(|| "—".into()),
    );
    if f.rest_day > 0 {
        s.push_str(&format!("另有休息日汇报{}次。", f.rest_day));
    }
    if !f.missing.is_empty() {
        // The five that missed most by name; the rest counted, so the figures still add up.
        const NAMED: usize = 5;
        let names: Vec<String> = f.missing.iter().take(NAMED).map(|(n, d)| format!("{n}（缺{d}天）")).collect();
        s.push_str(&format!("未按时汇报的点位{}个：{}", f.missing.len(), names.join("、")));
        let rest = &f.missing[f.missing.len().min(NAMED)..];
        if !rest.is_empty() {
            let days: i64 = rest.iter().map(|(_, d)| *d).sum();
            s.push_str(&format!("，另有{}个点位共缺{}天", rest.len(), days));
        }
        s.push('。');
    }
    s.push_str(&format!(
        "\n\n二、问题整改\n本周发现问题{}个，已销号{}个，逾期未整改{}个。",
        f.found, f.closed, f.overdue
    ));
    s.push_str("\n\n三、点位反映需协调解决的事项\n");
    if f.help.is_empty() {
        s.push_str("无。");
    }
    for (i, (point, day, help)) in f.help.iter().enumerate() {
        s.push_str(&format!("{}. {point}（{}）：{help}\n", i + 1, &day[5..]));
    }
    s.push_str("\n\n四、下周工作打算\n");
    s
}

pub fn parse_week(s: &str) -> AppResult<NaiveDate> {
    let d = super::daily_reports::parse_day(s)?;
    Ok(week_start(d))
}

async fn community_level(ctx: &Ctx<'_>, id: &str) -> AppResult<crate::store::org::OrgNode> {
    let node = crate::store::org::get(ctx.db, id).await?.ok_or(AppError::NotFound)?;
    if node.level != OrgLevel::Community {
        return Err(AppError::field("community_id", Code::UnknownArea, "请选择社区"));
    }
    Ok(node)
}

/// The community's staff: the office, or a grid worker whose area is the community.
fn is_community_staff(ctx: &Ctx<'_>, community: &str) -> bool {
    ctx.user.role == Role::Admin
        || (ctx.user.role == Role::GridWorker && ctx.user.area_id.as_deref() == Some(community))
}

/// The street office: the office, or a grid worker whose area is the community's street.
fn is_street_office(ctx: &Ctx<'_>, node: &crate::store::org::OrgNode) -> bool {
    ctx.user.role == Role::Admin
        || (ctx.user.role == Role::GridWorker && ctx.user.area_id.is_some() && ctx.user.area_id == node.parent_id)
}

/// Drafts (or returns the existing) summary of a community's week.
pub async fn draft(ctx: &Ctx<'_>, community: &str, monday: NaiveDate) -> AppResult<Summary> {
    let node = community_level(ctx, community).await?;
    if !is_community_staff(ctx, community) {
        return Err(AppError::Forbidden);
    }
    if monday > today() {
        return Err(Code::WeekNotStarted.into());
    }
    let figures = figures(ctx, monday, Some(node.id.clone())).await?;
    let f = figures.into_iter().find(|f| f.community_id == node.id).ok_or(AppError::NotFound)?;
    if let Some(s) = f.summary.clone() {
        return Ok(s);
    }
    let now = now_ms();
    let s = Summary {
        id: new_id(),
        community_id: node.id,
        week_start: day_text(monday),
        body: draft_text(&f, monday),
        state: SummaryState::Draft,
        submitted_by: None,
        submitted_at: None,
        acknowledged_by: None,
        acknowledged_at: None,
        reply: String::new(),
        created_at: now,
        updated_at: now,
        version: 1,
    };
    ctx.create(&s).await?;
    Ok(s)
}

pub async fn get(ctx: &Ctx<'_>, id: &str) -> AppResult<Summary> {
    let s: Summary = crate::store::record::find(ctx.db, id).await?.ok_or(AppError::NotFound)?;
    let visible = match super::access::area_scope(ctx).await? {
        Some(scope) => scope.contains(&s.community_id),
        None => watches(ctx.user.role),
    };
    if visible { Ok(s) } else { Err(AppError::NotFound) }
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct SummaryInput {
    #[serde(default)]
    pub body: String,
    /// save | submit
    #[serde(default)]
    pub action: String,
    #[serde(default)]
    pub reply: String,
    #[serde(default, deserialize_with = "crate::domain::validate::number")]
    pub version: Option<i64>,
}

/// The community edits its draft and submits it to the street office.
pub async fn save(ctx: &Ctx<'_>, id: &str, input: SummaryInput) -> AppResult<Summary> {
    let old = get(ctx, id).await?;
    if !is_community_staff(ctx, &old.community_id) {
        return Err(AppError::Forbidden);
    }
    if old.state != SummaryState::Draft {
        return Err(Code::SummaryNotOpen.into());
    }
    let mut e = FieldErrors::default();
    let body = crate::domain::validate::required_lines(&mut e, "body", "汇总内容", &input.body, 10_000);
    if !e.is_empty() {
        return Err(AppError::Validation(e));
    }
    let now = now_ms();
    let submit = input.action == "submit";
    let mut new = Summary {
        body,
        state: if submit { SummaryState::Submitted } else { SummaryState::Draft },
        submitted_by: submit.then(|| ctx.user.id.clone()),
        submitted_at: submit.then_some(now),
        updated_at: now,
        ..old.clone()
    };
    let expected = super::write::expected(input.version)?;
    let mut w = ctx.write().await?;
    w.update_as(if submit { Verb::Publish } else { Verb::Update }, &old, &mut new, expected).await?;
    w.commit().await?;
    Ok(new)
}

/// The street office acknowledges a submitted summary, with an optional reply.
pub async fn acknowledge(ctx: &Ctx<'_>, id: &str, input: SummaryInput) -> AppResult<Summary> {
    let old = get(ctx, id).await?;
    let node = community_level(ctx, &old.community_id).await?;
    if !is_street_office(ctx, &node) {
        return Err(AppError::Forbidden);
    }
    if old.state != SummaryState::Submitted {
        return Err(Code::SummaryNotOpen.into());
    }
    let mut e = FieldErrors::default();
    let reply = optional_text(&mut e, "reply", "街道意见", &input.reply, 1000, true);
    if !e.is_empty() {
        return Err(AppError::Validation(e));
    }
    let now = now_ms();
    let mut new = Summary {
        state: SummaryState::Acknowledged,
        acknowledged_by: Some(ctx.user.id.clone()),
        acknowledged_at: Some(now),
        reply,
        updated_at: now,
        ..old.clone()
    };
    ctx.update(&old, &mut new, input.version).await?;
    Ok(new)
}

/// Daily-report rates (percent over working days up to today) of every unit or community for
/// the days [from, to], keyed by unit or community id: the KPI page's 点位汇报率.
pub async fn rates_by(
    db: &crate::store::Db,
    from: NaiveDate,
    to: NaiveDate,
    by_community: bool,
) -> AppResult<std::collections::HashMap<String, f64>> {
    let cal = super::calendar::load(db).await?;
    let today = today();
    let days: Vec<String> = from
        .iter_days()
        .take_while(|d| *d <= to && *d <= today)
        .filter(|d| cal.is_working_day(*d))
        .map(day_text)
        .collect();
    let key = if by_community { "community_id" } else { "unit_id" };
    // The active points of each, from the points kept in memory (10,000 units' counts fetched as
    // rows took longer than the reports' count).
    let index = crate::store::points::index(db).await?;
    let mut per_key: HashMap<Option<&str>, i64> = HashMap::new();
    for p in index.by_id.values().filter(|p| p.active) {
        let k = if by_community { p.community_id.as_deref() } else { Some(p.unit_id.as_str()) };
        *per_key.entry(k).or_default() += 1;
    }
    let points: Vec<(Option<String>, i64)> = per_key.into_iter().map(|(k, n)| (k.map(str::to_string), n)).collect();
    // Counted in the database: a month's reports at 100,000 points are too many rows to fetch.
    let mut w = crate::store::Where::default();
    let list: Vec<String> = days.iter().map(|d| w.text(d.clone())).collect();
    let filed: HashMap<String, i64> = if list.is_empty() {
        HashMap::new()
    } else {
        let sql = format!(
            "SELECT {key}, COUNT(*) FROM daily_reports WHERE day IN ({}) AND {key} IS NOT NULL GROUP BY {key}",
            list.join(", ")
        );
        crate::store::bind_args_as(sqlx::query_as::<_, (String, i64)>(&sql), &w.args)
            .fetch_all(&db.pool)
            .await?
            .into_iter()
            .collect()
    };
    Ok(points
        .into_iter()
        .filter_map(|(k, n)| {
            let k = k?;
            let done = filed.get(&k).copied().unwrap_or(0);
            percent(done, n * days.len() as i64).map(|r| (k, r))
        })
        .collect())
}

/// Reporting rate of one unit over a period.
#[derive(Debug, Clone, Serialize)]
pub struct UnitRate {
    pub unit_id: String,
    pub unit: String,
    pub points: i64,
    pub expected: i64,
    pub reported: i64,
    pub rate: Option<f64>,
}

/// Each unit's reporting rate from `from` to `to` (inclusive, working days up to today).
pub async fn unit_rates(ctx: &Ctx<'_>, from: NaiveDate, to: NaiveDate) -> AppResult<Vec<UnitRate>> {
    if !matches!(ctx.user.role, Role::Admin | Role::Supervisor | Role::Discipline) && !ctx.user.role.needs_unit() {
        return Err(AppError::Forbidden);
    }
    let cal = super::calendar::load(ctx.db).await?;
    let today = today();
    let days: Vec<String> = from
        .iter_days()
        .take_while(|d| *d <= to && *d <= today)
        .filter(|d| cal.is_working_day(*d))
        .map(day_text)
        .collect();
    let units: Vec<(String, String, i64)> = sqlx::query_as(
        "SELECT u.id, u.name, COUNT(p.id) FROM units u JOIN points p ON p.unit_id = u.id AND p.active = 1 \
         GROUP BY u.id, u.name ORDER BY u.name",
    )
    .fetch_all(&ctx.db.pool)
    .await?;
    let reported: Vec<(String, String)> =
        sqlx::query_as("SELECT unit_id, day FROM daily_reports WHERE day >= $1 AND day <= $2")
            .bind(day_text(from))
            .bind(day_text(to))
            .fetch_all(&ctx.db.pool)
            .await?;
    let working: HashSet<&String> = days.iter().collect();
    let mut filed: HashMap<&str, i64> = HashMap::new();
    for r in reported.iter().filter(|r| working.contains(&r.1)) {
        *filed.entry(r.0.as_str()).or_default() += 1;
    }
    let mut out: Vec<UnitRate> = units
        .into_iter()
        .filter(|u| !ctx.user.role.needs_unit() || ctx.user.unit_id.as_deref() == Some(u.0.as_str()))
        .map(|(id, name, points)| {
            let n = filed.get(id.as_str()).copied().unwrap_or(0);
            let expected = points * days.len() as i64;
            UnitRate { unit_id: id, unit: name, points, expected, reported: n, rate: percent(n, expected) }
        })
        .collect();
    out.sort_by(|a, b| a.rate.partial_cmp(&b.rate).unwrap_or(std::cmp::Ordering::Equal).then(a.unit.cmp(&b.unit)));
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_draft_names_five_points_missing_and_counts_the_rest() {
        let missing: Vec<(String, i64)> = (1..=8).map(|i| (format!("点位{i}"), if i <= 2 { 2 } else { 1 })).collect();
        let f = WeekFigures {
            community: "金狮社区".into(),
            points: 14,
            working_days: 2,
            expected: 28,
            reported: 18,
            missing,
            ..WeekFigures::default()
        };
        let text = draft_text(&f, NaiveDate::from_ymd_opt(2026, 12, 7).unwrap());
        assert!(
            text.contains("未按时汇报的点位8个：点位1（缺2天）、点位2（缺2天）、点位3（缺1天）、点位4（缺1天）、点位5（缺1天），另有3个点位共缺3天。"),
            "{text}"
        );
        let few = WeekFigures { missing: vec![("点位1".into(), 1)], ..WeekFigures::default() };
        let text = draft_text(&few, NaiveDate::from_ymd_opt(2026, 12, 7).unwrap());
        assert!(text.contains("未按时汇报的点位1个：点位1（缺1天）。") && !text.contains("另有"), "{text}");
    }
}
