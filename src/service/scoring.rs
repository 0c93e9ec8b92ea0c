//! The thousand-point system as the application runs it: rule sets per class (draft, preview,
//! publish), the score ledger computed from the stored facts, rankings per week, month, quarter
//! and year, mobile red flags, commendations and clean inspections.
//!
//! Scores are never a source: every entry is derived from problems, their events, awards and
//! inspections under the rules in force in its week (each published version applies from its
//! effective week on), so publishing re-scores the weeks from that date at once and a preview
//! under draft rules is the same computation. The per-target sums of closed weeks are kept
//! (`store::score_weeks`) so that rankings over months and years read them instead of every
//! problem; a kept week is used only under the rule version and calendar days it was computed with,
//! and the database deletes it when a fact under it changes. Ledgers always list the entries. Weeks whose results are already published (a
//! notice, red flags) cannot be re-scored: a version may not take effect before their end.

use super::Ctx;
use super::access::require_admin;
use super::write::expected;
use crate::domain::audit::Verb;
use crate::domain::calendar::Calendar;
use crate::domain::ids::new_id;
use crate::domain::role::Role;
use crate::domain::score::{self, AwardKind, Class, Entry, ProblemFact, Ranked, RuleSet};
use crate::domain::standard::Publication;
use crate::domain::time::{DAY_MS, fmt_local, now_ms, parse_local_day_start, to_local};
use crate::domain::validate::FieldErrors;
use crate::error::{AppError, AppResult, Code};
use crate::store::record::Insert;
use crate::store::score_weeks as weeks_store;
use crate::store::scoring::{self as store, Award, Scheme};
use crate::store::{Db, is_unique_violation};
use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use utoipa::ToSchema;

/// Installs the default published rules for every class that has none. Safe on several instances.
pub async fn install_defaults(db: &Db) -> anyhow::Result<()> {
    for class in Class::ALL {
        if store::scheme_in(db, class, Publication::Published).await?.is_some() {
            continue;
        }
        let now = now_ms();
        let s = Scheme {
            id: new_id(),
            class,
            status: Publication::Published,
            version_no: 1,
            rules: serde_json::to_string(&RuleSet::default_for(class))?,
            created_by: None,
            created_at: now,
            published_at: Some(now),
            updated_at: now,
            version: 1,
            effective_from: None,
        };
        let mut tx = db.begin().await?;
        match s.insert(&mut tx).await {
            Ok(()) => tx.commit().await?,
            Err(e) if is_unique_violation(&e) => continue, // another instance was first
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}

pub fn parse_class(s: &str) -> AppResult<Class> {
    Class::parse(s.trim()).ok_or_else(|| {
        AppError::refuse(Code::UnknownClass, format!("评分对象类别“{s}”不存在，应为社区、街道、责任单位或窗口单位"))
    })
}

fn rules_of(s: &Scheme) -> AppResult<RuleSet> {
    serde_json::from_str(&s.rules).map_err(|e| AppError::Internal(anyhow::anyhow!("stored rules unreadable: {e}")))
}

pub async fn published(db: &Db, class: Class) -> AppResult<(Scheme, RuleSet)> {
    let s = store::scheme_in(db, class, Publication::Published)
        .await?
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("no published scoring rules for {}", class.as_str())))?;
    let r = rules_of(&s)?;
    Ok((s, r))
}

/// The rules of a class over time: every published version (the current one and the archived
/// ones) from its effective week on; where versions overlap the one published last wins.
#[derive(Debug, Clone)]
pub struct Timeline {
    /// (effective from, version number, rules), in the order they were published
    versions: Vec<(i64, i64, RuleSet)>,
    /// Published rules only: the figures of closed weeks may be kept and reused (not under a
    /// draft being previewed)
    keep: bool,
}

impl Timeline {
    /// The rules that score the week starting at `t`.
    pub fn at(&self, t: i64) -> &RuleSet {
        self.version_at(t).1
    }

    /// The version number and rules in force at `t`.
    pub fn version_at(&self, t: i64) -> (i64, &RuleSet) {
        let (_, no, r) = self.versions.iter().rev().find(|(from, _, _)| *from <= t).unwrap_or(&self.versions[0]);
        (*no, r)
    }

    /// The longest repeat window of any version (how far back scoring looks for repeats).
    fn max_repeat_days(&self) -> i64 {
        self.versions.iter().map(|(_, _, r)| r.repeat_days).max().unwrap_or(0)
    }

    /// The timeline as it would be with `rules` published to take effect at `from`.
    fn with(mut self, from: i64, version_no: i64, rules: RuleSet) -> Timeline {
        self.versions.push((from, version_no, rules));
        self.keep = false;
        self
    }
}

/// The published versions of a class as a timeline.
pub async fn timeline(db: &Db, class: Class) -> AppResult<Timeline> {
    let mut all: Vec<Scheme> =
        store::schemes(db, class).await?.into_iter().filter(|s| s.published_at.is_some()).collect();
    all.sort_by_key(|s| (s.published_at, s.version_no));
    let mut versions = Vec::with_capacity(all.len());
    for s in &all {
        versions.push((s.effective_from.unwrap_or(i64::MIN), s.version_no, rules_of(s)?));
    }
    if versions.is_empty() {
        return Err(AppError::Internal(anyhow::anyhow!("no published scoring rules for {}", class.as_str())));
    }
    Ok(Timeline { versions, keep: true })
}

/// Periods rankings are made for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SpanKind {
    Week,
    Month,
    Quarter,
    Year,
}

impl SpanKind {
    pub fn parse(s: &str) -> AppResult<SpanKind> {
        match s.trim() {
            "" | "week" => Ok(SpanKind::Week),
            "month" => Ok(SpanKind::Month),
            "quarter" => Ok(SpanKind::Quarter),
            "year" => Ok(SpanKind::Year),
            other => Err(AppError::refuse(Code::InvalidPeriod, format!("统计周期“{other}”无效，应为周、月、季度或年"))),
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            SpanKind::Week => "周",
            SpanKind::Month => "月",
            SpanKind::Quarter => "季度",
            SpanKind::Year => "年",
        }
    }
}

/// A period: [from, to) in UTC ms, with its Chinese name.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Span {
    pub kind: SpanKind,
    pub from: i64,
    pub to: i64,
    pub label: String,
}

fn day_start(d: NaiveDate) -> i64 {
    parse_local_day_start(&d.format("%Y-%m-%d").to_string()).unwrap_or(0)
}

/// The period of a kind that contains the given day (weeks start on Monday).
pub fn span_of(kind: SpanKind, day: NaiveDate) -> Span {
    let (a, b) = match kind {
        SpanKind::Week => {
            let a = day - chrono::Duration::days(day.weekday().num_days_from_monday() as i64);
            (a, a + chrono::Duration::days(7))
        }
        SpanKind::Month => {
            let a = day.with_day(1).expect("day 1");
            let b = if a.month() == 12 {
                NaiveDate::from_ymd_opt(a.year() + 1, 1, 1)
            } else {
                NaiveDate::from_ymd_opt(a.year(), a.month() + 1, 1)
            };
            (a, b.expect("next month"))
        }
        SpanKind::Quarter => {
            let m = (day.month() - 1) / 3 * 3 + 1;
            let a = NaiveDate::from_ymd_opt(day.year(), m, 1).expect("quarter");
            let b = if m == 10 {
                NaiveDate::from_ymd_opt(day.year() + 1, 1, 1)
            } else {
                NaiveDate::from_ymd_opt(day.year(), m + 3, 1)
            };
            (a, b.expect("next quarter"))
        }
        SpanKind::Year => (
            NaiveDate::from_ymd_opt(day.year(), 1, 1).expect("year"),
            NaiveDate::from_ymd_opt(day.year() + 1, 1, 1).expect("year"),
        ),
    };
    let last = b - chrono::Duration::days(1);
    let label = match kind {
        SpanKind::Week => format!("{}至{}", a.format("%Y年%m月%d日"), last.format("%m月%d日")),
        SpanKind::Month => a.format("%Y年%m月").to_string(),
        SpanKind::Quarter => format!("{}年第{}季度", a.year(), (a.month() - 1) / 3 + 1),
        SpanKind::Year => format!("{}年", a.year()),
    };
    Span { kind, from: day_start(a), to: day_start(b), label }
}

/// The period before.
pub fn previous(s: &Span) -> Span {
    let day = to_local(s.from - DAY_MS).date_naive();
    span_of(s.kind, day)
}

/// A day given as YYYY-MM-DD, or today (Beijing) when empty.
pub fn parse_day(s: Option<&str>) -> AppResult<NaiveDate> {
    match s.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(to_local(now_ms()).date_naive()),
        Some(s) => NaiveDate::parse_from_str(s, "%Y-%m-%d")
            .map_err(|_| AppError::refuse(Code::InvalidDate, format!("日期格式应为2026-11-23：{s}"))),
    }
}

/// A year given as 2026, or this year (Beijing) when empty.
/// A list's optional year filter ("" or absent: every year) as the year's span.
pub fn year_filter(s: Option<&str>) -> AppResult<Option<Span>> {
    if s.is_none_or(|y| y.trim().is_empty()) {
        return Ok(None);
    }
    let year = parse_year(s)?;
    let day = NaiveDate::from_ymd_opt(year, 1, 1)
        .filter(|_| (1000..=9999).contains(&year))
        .ok_or_else(|| AppError::refuse(Code::InvalidYear, format!("年度应为四位数字，如2026：{year}")))?;
    Ok(Some(span_of(SpanKind::Year, day)))
}

pub fn parse_year(s: Option<&str>) -> AppResult<i32> {
    match s.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(to_local(now_ms()).year()),
        Some(y) => y.parse().map_err(|_| AppError::refuse(Code::InvalidYear, format!("年度应为四位数字，如2026：{y}"))),
    }
}

/// Working days a problem stayed open after its deadline, up to its close or `now`.
fn overdue_days(cal: &Calendar, deadline: i64, end: i64) -> i64 {
    if end <= deadline {
        return 0;
    }
    let (mut d, last) = (to_local(deadline).date_naive(), to_local(end).date_naive());
    let mut n = 0;
    while d < last && n < 366 {
        d = d.succ_opt().expect("date");
        if cal.is_working_day(d) {
            n += 1;
        }
    }
    n
}

/// Weeks whose facts are loaded together: a weekly ranking (the week and the one before) is
/// one load; a quarter or a year goes by in loads of this size, so memory stays bounded.
const WEEKS_PER_LOAD: i64 = 2;

/// The times of each problem's failed re-checks, reopenings and reporters' 不满意, in that order.
fn by_problem(events: Vec<(String, i64, String)>) -> [HashMap<String, Vec<i64>>; 3] {
    let mut out: [HashMap<String, Vec<i64>>; 3] = Default::default();
    for (id, at, what) in events {
        let slot = match what.as_str() {
            "reopen" => 1,
            "dissatisfied" => 2,
            _ => 0,
        };
        out[slot].entry(id).or_default().push(at);
    }
    out
}

/// A computed week as `each_entries` hands it on: its bounds, whether its figures will change
/// with time alone (a problem due in it is still open, so its overdue days grow), the stamp of
/// the calendar days its figures read (see `Calendar::stamp`), its entries.
struct WeekDone {
    from: i64,
    to: i64,
    live: bool,
    calendar: String,
    entries: Vec<Entry>,
}

/// The days whose working status the overdue days of `problems` read: from the earliest
/// deadline to the latest closing (or `now` for those still open), over the problems closed
/// after their deadline or still open past it. None when no problem reads any day.
fn calendar_days(problems: &[ProblemFact], now: i64) -> Option<(NaiveDate, NaiveDate)> {
    problems
        .iter()
        .filter_map(|p| {
            let (deadline, end) = (p.deadline_at?, p.closed_at.unwrap_or(now));
            (end > deadline).then(|| (to_local(deadline).date_naive(), to_local(end).date_naive()))
        })
        .reduce(|a, b| (a.0.min(b.0), a.1.max(b.1)))
}

/// The loads of weeks from `first` to `last`, each up to WEEKS_PER_LOAD weeks.
fn loads(first: i64, last: i64, next_week: impl Fn(i64) -> i64) -> Vec<(i64, i64)> {
    let mut out = Vec::new();
    let mut chunk = first;
    while chunk < last {
        let mut end = chunk;
        for _ in 0..WEEKS_PER_LOAD {
            if end < last {
                end = next_week(end);
            }
        }
        out.push((chunk, end));
        chunk = end;
    }
    out
}

/// A load's facts read as two halves [a, mid) and [mid, b) as one: a problem found in one
/// half and due (or failed) in the other comes back from both and is kept once; the finds
/// and failures of the halves are disjoint in time.
fn merge_halves(
    (mut facts, mut more, mut fails): store::Facts,
    (facts_b, more_b, fails_b): store::Facts,
) -> store::Facts {
    let seen: HashSet<&str> = facts.iter().map(|f| f.id.as_str()).collect();
    let extra: Vec<store::FactRow> = facts_b.into_iter().filter(|f| !seen.contains(f.id.as_str())).collect();
    facts.extend(extra);
    more.extend(more_b);
    fails.extend(fails_b);
    (facts, more, fails)
}

/// The problems as scoring reads them: each with its failed re-checks, reopenings and reporters'
/// 不满意, and its working days overdue at its closing (or `now`); those without a target left out.
fn problem_facts(
    facts: Vec<store::FactRow>,
    fails: Vec<(String, i64, String)>,
    cal: &Calendar,
    now: i64,
) -> Vec<ProblemFact> {
    let [reworks, reopens, dissatisfied] = by_problem(fails);
    let to_fact = |r: store::FactRow| -> Option<ProblemFact> {
        Some(ProblemFact {
            reworks: reworks.get(&r.id).cloned().unwrap_or_default(),
            reopens: reopens.get(&r.id).cloned().unwrap_or_default(),
            dissatisfied: dissatisfied.get(&r.id).cloned().unwrap_or_default(),
            overdue_working_days: r.deadline_at.map(|d| overdue_days(cal, d, r.closed_at.unwrap_or(now))).unwrap_or(0),
            id: r.id,
            code: r.code,
            target: r.target?,
            point_id: r.point_id,
            category: r.category,
            source: r.source,
            state: r.state,
            found_at: r.found_at,
            deadline_at: r.deadline_at,
            closed_at: r.closed_at,
        })
    };
    facts.into_iter().filter_map(to_fact).collect()
}

/// The score entries of a class over [from, to) (of one target only, when given), under the
/// rules in force in each week, with caps applied week by week (weeks that cross the span's
/// edges are computed whole, then cut). `f` receives them week by week.
async fn each_entries(
    db: &Db,
    class: Class,
    rules: &Timeline,
    (from, to): (i64, i64),
    target: Option<&str>,
    notes: bool,
    mut f: impl FnMut(WeekDone),
) -> AppResult<()> {
    let first = span_of(SpanKind::Week, to_local(from).date_naive()).from;
    let last = span_of(SpanKind::Week, to_local(to - 1).date_naive()).to;
    let lookback = rules.max_repeat_days() * DAY_MS;
    let next_week = |w: i64| span_of(SpanKind::Week, to_local(w).date_naive() + chrono::Duration::days(7)).from;
    let cal = super::calendar::load(db).await?;
    let chunks = loads(first, last, next_week);
    // Each load's facts are read while the one before is scored: the database (its own thread
    // or server) and the scoring share the cores instead of taking turns. At most two loads are
    // held at once. A load read alone (the cold weekly ranking: nothing to overlap with) reads
    // its weeks' facts side by side instead.
    let alone = chunks.len() == 1;
    let load = |(chunk, end): (i64, i64)| {
        let history_from = if chunk == first { chunk - lookback } else { chunk };
        let split = Some(next_week(chunk)).filter(|&mid| alone && mid < end);
        read_load(db, class, target, (chunk, end), history_from, split)
    };
    let mut next_load = chunks.first().map(|&c| load(c));
    // Finds already read for repeats (up to the previous load's end), kept for the next load.
    let mut earlier: Vec<score::Earlier> = Vec::new();
    for (i, &(chunk, end)) in chunks.iter().enumerate() {
        let Some(loading) = next_load.take() else { break };
        let ((facts, more, fails), mut awards) =
            loading.await.map_err(|e| AppError::Internal(anyhow::anyhow!("scoring load: {e}")))??;
        next_load = chunks.get(i + 1).map(|&c| load(c));
        if let Some(t) = target {
            awards.retain(|a| a.target == t);
        }
        let now = now_ms();
        let problems = problem_facts(facts, fails, &cal, now);
        // The chunk's weeks read the days of all its problems at most.
        let stamp = cal.stamp(calendar_days(&problems, now));
        earlier.retain(|e| e.found_at >= chunk - lookback);
        earlier.extend(more);
        let repeats = score::Repeats::new(&earlier);
        let mut weeks = Vec::new();
        let mut w = chunk;
        while w < end {
            weeks.push((w, next_week(w)));
            w = next_week(w);
        }
        let scored = score_weeks(&weeks, |(w, next)| {
            score::week_entries_with(rules.at(w), (w, next), &problems, &repeats, &awards, notes)
        });
        for ((w, next), mut week) in weeks.into_iter().zip(scored) {
            // Only what has happened: a deadline later today is not overdue yet.
            week.retain(|e| e.at >= from && e.at < to && e.at <= now);
            let live = problems.iter().any(|p| {
                p.closed_at.is_none()
                    && !matches!(
                        p.state,
                        crate::domain::problem::State::Voided | crate::domain::problem::State::Postponed
                    )
                    && p.deadline_at.is_some_and(|d| d >= w && d < next)
            });
            f(WeekDone { from: w, to: next, live, calendar: stamp.clone(), entries: week });
        }
    }
    Ok(())
}

/// The facts of one load [chunk, end) and its awards, read on a task of its own. With `split`,
/// the problems' facts are read as two halves at that time side by side, each on its own
/// connection and parsed on its own thread (`merge_halves`).
fn read_load(
    db: &Db,
    class: Class,
    target: Option<&str>,
    (chunk, end): (i64, i64),
    history_from: i64,
    split: Option<i64>,
) -> tokio::task::JoinHandle<Result<(store::Facts, Vec<score::AwardFact>), sqlx::Error>> {
    let (db, target) = (db.clone(), target.map(str::to_owned));
    tokio::spawn(async move {
        let Some(mid) = split else {
            return tokio::try_join!(
                store::problem_facts(&db, class, chunk, end, history_from, target.as_deref()),
                store::award_facts(&db, class, chunk, end),
            );
        };
        let half = |(a, b, h): (i64, i64, i64)| {
            let (db, target) = (db.clone(), target.clone());
            async move {
                tokio::spawn(async move { store::problem_facts(&db, class, a, b, h, target.as_deref()).await })
                    .await
                    .map_err(|e| sqlx::Error::Protocol(format!("scoring load: {e}")))?
            }
        };
        let (first_half, second_half, awards) = tokio::try_join!(
            half((chunk, mid, history_from)),
            half((mid, end, mid)),
            store::award_facts(&db, class, chunk, end),
        )?;
        Ok((merge_halves(first_half, second_half), awards))
    })
}

/// Scores the weeks of a load, each on a thread of its own (a big city's week is about 100 ms
/// of work), off the async workers; inline where the runtime has one thread (tests).
fn score_weeks(weeks: &[Week], score: impl Fn(Week) -> Vec<Entry> + Sync) -> Vec<Vec<Entry>> {
    let multi = tokio::runtime::Handle::try_current()
        .is_ok_and(|h| h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread);
    if !multi {
        return weeks.iter().map(|&w| score(w)).collect();
    }
    tokio::task::block_in_place(|| {
        if weeks.len() < 2 {
            return weeks.iter().map(|&w| score(w)).collect();
        }
        std::thread::scope(|s| {
            let score = &score;
            let running: Vec<_> = weeks.iter().map(|&w| s.spawn(move || score(w))).collect();
            running.into_iter().map(|t| t.join().expect("scoring a week")).collect()
        })
    })
}

/// Every entry of a class over [from, to), or of one target.
pub async fn entries(
    db: &Db,
    class: Class,
    rules: &Timeline,
    from: i64,
    to: i64,
    target: Option<&str>,
) -> AppResult<Vec<Entry>> {
    let mut out = Vec::new();
    each_entries(db, class, rules, (from, to), target, true, |week| out.extend(week.entries)).await?;
    Ok(out)
}

/// The sums of the entries per target in consecutive periods: `bounds` [b0, b1, …, bn] give
/// the periods [b0, b1), [b1, b2), …; the entries themselves are not kept. A closed week is
/// read from its kept figures when they still hold (same rule version and calendar days, no fact
/// changed since: see `store::score_weeks`), otherwise computed from the records and kept for
/// the next time. A week cut by a bound is read kept when the cut is the first of a month: a
/// kept week that crosses one also keeps its part before that day.
async fn period_sums(db: &Db, class: Class, rules: &Timeline, bounds: &[i64]) -> AppResult<Vec<score::Sums>> {
    let n = bounds.len().saturating_sub(1);
    let mut out: Vec<score::Sums> = vec![score::Sums::default(); n];
    if n == 0 {
        return Ok(out);
    }
    let (from, to, now) = (bounds[0], bounds[n], now_ms());
    let weeks = weeks_covering(from, to);
    let first = weeks.first().map_or(from, |w| w.0);
    let (kept, calendar) = if rules.keep {
        let (kept, calendar) = tokio::try_join!(
            async { Ok::<_, AppError>(weeks_store::read(db, class, first, to).await?) },
            super::calendar::load(db),
        )?;
        (kept, calendar)
    } else {
        (HashMap::new(), Calendar::default())
    };
    let (missing, to_keep) = add_kept(&mut out, &weeks, bounds, &kept, (rules, &calendar, now));
    if missing.is_empty() {
        return Ok(out);
    }
    // Claim the weeks to keep before reading their facts, so a change made meanwhile unclaims them.
    let lookback = rules.max_repeat_days() * DAY_MS;
    let claims: Vec<weeks_store::Claim> =
        to_keep.iter().map(|&(a, b)| weeks_store::Claim { from: a, to: b, reach_from: a - lookback }).collect();
    let token = new_id();
    let claimed = !claims.is_empty() && weeks_store::claim(db, class, &claims, &token, now).await?;
    let mut built = Vec::new();
    // Whole weeks are computed (caps apply week by week), then cut to [from, to).
    for (a, b) in runs(&missing) {
        each_entries(db, class, rules, (a, b), None, false, |week| {
            if claimed && to_keep.contains(&(week.from, week.to)) {
                let before =
                    month_split(week.from, week.to).map(|m| (m, score::sums(week.entries.iter().filter(|e| e.at < m))));
                built.push(weeks_store::Built {
                    from: week.from,
                    rules_version: rules.version_at(week.from).0,
                    calendar: week.calendar,
                    valid_until: week.live.then(|| crate::domain::time::end_of_local_day(now)),
                    sums: score::sums(&week.entries),
                    before,
                });
            }
            for e in week.entries.into_iter().filter(|e| e.at >= from && e.at < to) {
                let s = out[period_of(bounds, e.at)].entry(e.target).or_default();
                s.0 += e.amount;
                s.1 += 1;
            }
        })
        .await?;
    }
    if claimed && !built.is_empty() {
        weeks_store::fill(db, class, &token, &built).await?;
    }
    Ok(out)
}

/// A week as [Monday, next Monday).
type Week = (i64, i64);

/// The period of `bounds` holding time `t` (see `period_sums`).
fn period_of(bounds: &[i64], t: i64) -> usize {
    bounds[1..].partition_point(|&b| b <= t).min(bounds.len() - 2)
}

/// Adds to `out` the weeks whose kept figures answer for the periods of `bounds`; returns the
/// weeks left to compute, and those of them to keep: closed weeks not kept, or kept without the
/// part a cut at their first of the month needs.
fn add_kept(
    out: &mut [score::Sums],
    weeks: &[(i64, i64)],
    bounds: &[i64],
    kept: &HashMap<i64, weeks_store::Kept>,
    (rules, calendar, now): (&Timeline, &Calendar, i64),
) -> (Vec<Week>, Vec<Week>) {
    let (from, to) = (bounds[0], bounds[bounds.len() - 1]);
    let (mut missing, mut to_keep) = (Vec::new(), Vec::new());
    for &(a, b) in weeks {
        let cuts: Vec<i64> = bounds.iter().copied().filter(|&c| a < c && c < b).collect();
        let held = (rules.keep && b <= now)
            .then(|| kept.get(&a))
            .flatten()
            .filter(|k| holds(rules, calendar, now, a, (k.rules_version, &k.calendar, k.valid_until)));
        match held.and_then(|k| kept_parts(k, a, &cuts)) {
            Some(parts) => {
                for (start, sums) in parts {
                    if start >= from && start < to {
                        add_sums(&mut out[period_of(bounds, start)], &sums);
                    }
                }
            }
            None => {
                missing.push((a, b));
                if rules.keep && b <= now && (held.is_none() || cuts == [month_split(a, b).unwrap_or(a)]) {
                    to_keep.push((a, b));
                }
            }
        }
    }
    (missing, to_keep)
}

/// The first of a month inside the week [a, b), if it crosses one.
fn month_split(a: i64, b: i64) -> Option<i64> {
    Some(span_of(SpanKind::Month, to_local(b - 1).date_naive()).from).filter(|&m| m > a)
}

/// A kept week's sums as parts by start time, for a week cut at `cuts`: the whole week when
/// nothing cuts it, its parts before and after the first of a month when that is the one cut;
/// None when the kept figures cannot answer.
fn kept_parts<'a>(k: &'a weeks_store::Kept, a: i64, cuts: &[i64]) -> Option<Vec<(i64, Cow<'a, score::Sums>)>> {
    match (cuts, &k.before) {
        ([], _) => Some(vec![(a, Cow::Borrowed(&k.sums))]),
        ([cut], Some((split, before))) if cut == split => {
            let mut after = k.sums.clone();
            for (t, (amount, count)) in before {
                let s = after.entry(t.clone()).or_default();
                s.0 -= amount;
                s.1 -= count;
            }
            after.retain(|_, s| s.1 != 0);
            Some(vec![(a, Cow::Borrowed(before)), (*cut, Cow::Owned(after))])
        }
        _ => None,
    }
}

/// Whether a kept week starting at `week` still holds at `now`: computed under the rule version
/// in force for it, the calendar's days it read are worked as they were (loading next year's
/// holidays keeps this year's weeks), and not past its own validity.
fn holds(
    rules: &Timeline,
    calendar: &Calendar,
    now: i64,
    week: i64,
    (version, stamp, until): (i64, &str, Option<i64>),
) -> bool {
    version == rules.version_at(week).0 && calendar.holds(stamp) && until.is_none_or(|u| u > now)
}

/// How long a background rebuild of a week stays its builder's before another may take it.
const REBUILD_LEASE_MS: i64 = 10 * 60_000;

/// The background job's part of scoring: rebuilds up to `limit` closed weeks whose kept figures
/// a change forgot (or a new rule version or calendar outdated), newest first, from the start
/// of the year that held the day 90 days ago (so in January last year's assessment is warm
/// too). A reader then finds them kept instead of computing them in its request. Several
/// instances may run it at once: each week is rebuilt by the one that took it. Returns the
/// number of weeks rebuilt.
pub async fn keep_weeks(db: &Db, now: i64, limit: usize) -> AppResult<usize> {
    let from = span_of(SpanKind::Year, to_local(now - 90 * DAY_MS).date_naive()).from;
    let calendar = super::calendar::load(db).await?;
    let mut rebuilt = 0;
    for class in Class::ALL {
        let rules = timeline(db, class).await?;
        let weeks = weeks_covering(from, now);
        // The first week starts on the Monday on or before 1 January.
        let first = weeks.first().map_or(from, |w| w.0);
        let kept = weeks_store::filled(db, class, first, now).await?;
        let lookback = rules.max_repeat_days() * DAY_MS;
        let token = new_id();
        for (a, b) in weeks.into_iter().rev().filter(|&(_, b)| b <= now) {
            if rebuilt >= limit {
                return Ok(rebuilt);
            }
            // A week across the first of a month is kept with its part before that day.
            let whole = |split: bool| split || month_split(a, b).is_none();
            if kept
                .get(&a)
                .is_some_and(|(v, c, u, split)| holds(&rules, &calendar, now, a, (*v, c, *u)) && whole(*split))
            {
                continue;
            }
            let week = weeks_store::Claim { from: a, to: b, reach_from: a - lookback };
            if weeks_store::take(db, class, week, &token, now, REBUILD_LEASE_MS).await? {
                // Cut at its first of the month, so that part is computed and kept too.
                let bounds: Vec<i64> = std::iter::once(a).chain(month_split(a, b)).chain([b]).collect();
                period_sums(db, class, &rules, &bounds).await?;
                rebuilt += 1;
            }
        }
    }
    Ok(rebuilt)
}

fn add_sums(into: &mut score::Sums, from: &score::Sums) {
    for (t, (amount, n)) in from {
        let s = into.entry(t.clone()).or_default();
        s.0 += amount;
        s.1 += n;
    }
}

/// The weeks (Monday to Monday) that cover [from, to).
fn weeks_covering(from: i64, to: i64) -> Vec<(i64, i64)> {
    let mut out = Vec::new();
    let mut w = span_of(SpanKind::Week, to_local(from).date_naive());
    while w.from < to {
        let next = span_of(SpanKind::Week, to_local(w.to).date_naive());
        out.push((w.from, w.to));
        w = next;
    }
    out
}

/// Consecutive weeks joined into runs.
fn runs(weeks: &[(i64, i64)]) -> Vec<(i64, i64)> {
    let mut out: Vec<(i64, i64)> = Vec::new();
    for &(a, b) in weeks {
        match out.last_mut() {
            Some(last) if last.1 == a => last.1 = b,
            _ => out.push((a, b)),
        }
    }
    out
}

/// A line of a ranking.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RankLine {
    #[serde(flatten)]
    pub now: Ranked,
    /// The previous period's rank and score (tenths), for the change column
    pub prev_rank: Option<i64>,
    pub prev_score: Option<i64>,
    /// Last place in this period (末位)
    pub last: bool,
    /// Red flags won in this period
    pub red_flag: bool,
    /// 综合指标值 from the weighted case-loop rates of problems dispatched in the period, and its
    /// grade (A ≥ 90, B ≥ 75, C ≥ 60, D ≥ 40, E); None for street offices or without problems
    pub composite: Option<f64>,
    pub grade: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Ranking {
    pub class: Class,
    pub span: Span,
    pub base: f64,
    /// The rule version in force at the start of the period
    pub rules_version: i64,
    pub lines: Vec<RankLine>,
}

/// The ranking of a class for the period containing `day`, against the period before.
pub async fn ranking(db: &Db, class: Class, kind: SpanKind, day: NaiveDate) -> AppResult<Ranking> {
    let rules = timeline(db, class).await?;
    ranking_under(db, class, &rules, span_of(kind, day)).await
}

/// The ranking of a class over a given span (e.g. a week up to a day), against the period
/// before the span's kind.
pub async fn ranking_of(db: &Db, class: Class, span: Span) -> AppResult<Ranking> {
    let rules = timeline(db, class).await?;
    ranking_under(db, class, &rules, span).await
}

async fn ranking_under(db: &Db, class: Class, timeline: &Timeline, span: Span) -> AppResult<Ranking> {
    let prev = previous(&span);
    let (rules_version, rules) = timeline.version_at(span.from);
    // Red flags won for exactly this period (a week, or a month where flags go monthly).
    let red_flags = async {
        Ok::<_, AppError>(
            store::awards(db, &red_flags_of_period(class, span.from))
                .await?
                .into_iter()
                .filter(|a| a.period_end == Some(span.to))
                .map(|a| a.target_id)
                .collect::<std::collections::HashSet<String>>(),
        )
    };
    // Independent reads run side by side (each on its own connection).
    let bounds = [prev.from, span.from, span.to];
    let (targets, sums, composites, flags) = tokio::try_join!(
        async { Ok::<_, AppError>(store::targets(db, class).await?) },
        period_sums(db, class, timeline, &bounds),
        composite_index(db, class, rules, &span),
        red_flags,
    )?;
    let ranked = score::rank(&targets, &sums[1], rules.base);
    let prev_ranked: HashMap<String, Ranked> = score::rank(&targets, &sums[0], timeline.at(prev.from).base)
        .into_iter()
        .map(|r| (r.target.clone(), r))
        .collect();
    // The last place exists only when scores differ (all tied at the base: nobody is last).
    let worst = ranked.iter().map(|r| r.rank).max().unwrap_or(0);
    let many = worst > 1;
    let lines = ranked
        .into_iter()
        .map(|r| {
            let p = prev_ranked.get(&r.target);
            RankLine {
                prev_rank: p.map(|p| p.rank),
                prev_score: p.map(|p| p.score),
                last: many && r.rank == worst,
                red_flag: flags.contains(&r.target),
                composite: composites.get(&r.target).map(|c| c.0),
                grade: composites.get(&r.target).map(|c| c.1.to_string()),
                now: r,
            }
        })
        .collect();
    Ok(Ranking { class, span, base: rules.base, rules_version, lines })
}

/// A quarter's score and rank in the year-end assessment.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct QuarterScore {
    /// Tenths of a point
    pub score: i64,
    pub rank: i64,
}

/// One target's year-end assessment.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct YearLine {
    pub target: String,
    pub name: String,
    /// Q1..Q4; None for quarters not yet begun
    pub quarters: Vec<Option<QuarterScore>>,
    /// The weighted score (tenths), None when no counted quarter has a weight
    pub score: Option<i64>,
    pub rank: i64,
    pub last: bool,
    /// Mobile red flags won in the year
    pub red_flags: i64,
}

/// 年度考核: the quarters of a year combined with the configured weights.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct YearAssessment {
    pub class: Class,
    pub year: i32,
    pub weights: score::YearWeights,
    /// Which quarters count (have begun)
    pub counted: Vec<bool>,
    /// The year is not over: the assessment so far
    pub in_progress: bool,
    /// The rule version whose weights combine the quarters (in force at the end of the year, or now)
    pub rules_version: i64,
    pub lines: Vec<YearLine>,
}

/// The year-end assessment of a class: each quarter scored as in the quarterly ranking, then
/// combined by the weights of the rules in force at the year's end (or now, for this year).
pub async fn year_assessment(db: &Db, class: Class, year: i32) -> AppResult<YearAssessment> {
    let now = now_ms();
    let Some(jan1) = NaiveDate::from_ymd_opt(year, 1, 1).filter(|_| (2000..=2100).contains(&year)) else {
        return Err(AppError::refuse(Code::InvalidYear, format!("年度“{year}”无效")));
    };
    let span = span_of(SpanKind::Year, jan1);
    if span.from > now {
        return Err(AppError::refuse(Code::InvalidYear, format!("{year}年尚未开始，不能考核")));
    }
    let quarters: Vec<Span> = (0..4)
        .map(|q| span_of(SpanKind::Quarter, NaiveDate::from_ymd_opt(year, q * 3 + 1, 1).expect("quarter")))
        .collect();
    let counted: [bool; 4] = std::array::from_fn(|q| quarters[q].from <= now);
    let tl = timeline(db, class).await?;
    let targets = store::targets(db, class).await?;
    let mut per: HashMap<String, [Option<QuarterScore>; 4]> = HashMap::new();
    let mut bounds: Vec<i64> = quarters.iter().filter(|q| q.from <= now).map(|q| q.from).collect();
    bounds.push(quarters[bounds.len() - 1].to);
    let sums = period_sums(db, class, &tl, &bounds).await?;
    for (q, qs) in quarters.iter().enumerate().filter(|(q, _)| counted[*q]) {
        for r in score::rank(&targets, &sums[q], tl.at(qs.from).base) {
            per.entry(r.target).or_default()[q] = Some(QuarterScore { score: r.score, rank: r.rank });
        }
    }
    let end = span.to.min(now) - 1;
    let (rules_version, rules) = tl.version_at(span_of(SpanKind::Week, to_local(end).date_naive()).from);
    let weights = rules.year_weights;
    let flags = store::red_flag_counts(db, class, span.from, span.to).await?;
    let mut lines: Vec<YearLine> = targets
        .iter()
        .map(|(id, name)| {
            let qs = per.remove(id).unwrap_or_default();
            let scores: [i64; 4] = std::array::from_fn(|q| qs[q].as_ref().map(|x| x.score).unwrap_or(0));
            YearLine {
                target: id.clone(),
                name: name.clone(),
                score: score::year_score(&scores, &weights, &counted),
                quarters: qs.into_iter().collect(),
                rank: 0,
                last: false,
                red_flags: flags.get(id).copied().unwrap_or(0),
            }
        })
        .collect();
    lines.sort_by(|a, b| b.score.cmp(&a.score).then_with(|| a.name.cmp(&b.name)));
    for i in 0..lines.len() {
        lines[i].rank = if i > 0 && lines[i].score == lines[i - 1].score { lines[i - 1].rank } else { i as i64 + 1 };
    }
    let worst = lines.iter().map(|l| l.rank).max().unwrap_or(0);
    for l in lines.iter_mut() {
        l.last = worst > 1 && l.rank == worst;
    }
    Ok(YearAssessment {
        class,
        year,
        weights,
        counted: counted.to_vec(),
        in_progress: span.to > now,
        rules_version,
        lines,
    })
}

/// The composite index per unit or community for problems dispatched in the span.
async fn composite_index(
    db: &Db,
    class: Class,
    rules: &RuleSet,
    span: &Span,
) -> AppResult<HashMap<String, (f64, char)>> {
    if class == Class::Street {
        return Ok(HashMap::new());
    }
    let f = crate::store::problems::ProblemFilter {
        dispatched_from: Some(span.from),
        dispatched_to: Some(span.to),
        ..Default::default()
    };
    let rows = super::kpi::counts(db, &f, class == Class::Community, now_ms()).await?;
    let w = rules.composite;
    let mut out = HashMap::new();
    for r in rows {
        let Some(key) = r.key.clone() else { continue };
        let k = crate::domain::kpi::from_counts(r.counts());
        let mut parts = Vec::new();
        for (rate, weight, inverted) in [
            (k.closure_rate, w.closure, false),
            (k.on_time_closure_rate, w.on_time, false),
            (k.rework_rate, w.rework, true),
            (k.extension_rate, w.extension, true),
        ] {
            if let Some(v) = rate {
                parts.push((if inverted { 100.0 - v } else { v }, weight));
            }
        }
        if let Some(c) = score::composite(&parts) {
            out.insert(key, c);
        }
    }
    Ok(out)
}

/// Who may look at a target's ledger: the office, supervisors, the discipline office and
/// evaluators all of it; a unit only its own.
fn may_read_target(ctx: &Ctx<'_>, class: Class, target: &str) -> AppResult<()> {
    if opens_ledger(ctx.user, class, target) { Ok(()) } else { Err(AppError::NotFound) }
}

/// Whether a user opens a target's score ledger (得分明细): a unit its own only, the others every
/// one. Rankings link the names it opens and show the others as text.
pub fn opens_ledger(user: &super::CurrentUser, class: Class, target: &str) -> bool {
    match user.role {
        Role::Admin | Role::Supervisor | Role::Discipline | Role::Evaluator | Role::GridWorker => true,
        Role::UnitUser | Role::PointLead => {
            matches!(class, Class::Unit | Class::Window) && user.unit_id.as_deref() == Some(target)
        }
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Ledger {
    pub class: Class,
    pub target: String,
    pub name: String,
    pub span: Span,
    /// Tenths of a point
    pub base: i64,
    pub entries: Vec<Entry>,
    /// base + the sum of the entries (tenths)
    pub score: i64,
}

/// One target's entries over a period, in time order, and the score they sum to.
pub async fn ledger(ctx: &Ctx<'_>, class: Class, target: &str, kind: SpanKind, day: NaiveDate) -> AppResult<Ledger> {
    may_read_target(ctx, class, target)?;
    let name = store::targets(ctx.db, class)
        .await?
        .into_iter()
        .find(|(id, _)| id == target)
        .map(|(_, n)| n)
        .ok_or(AppError::NotFound)?;
    let rules = timeline(ctx.db, class).await?;
    let span = span_of(kind, day);
    let mut list: Vec<Entry> = entries(ctx.db, class, &rules, span.from, span.to, Some(target)).await?;
    list.sort_by(|a, b| (a.at, &a.cause_id).cmp(&(b.at, &b.cause_id)));
    let base = score::tenths(rules.at(span.from).base);
    let score = base + list.iter().map(|e| e.amount).sum::<i64>();
    Ok(Ledger { class, target: target.into(), name, span, base, entries: list, score })
}

/// Saves the draft rules of a class (creating the draft from nothing the first time). Refused
/// whole, with every mistake named, when the rules are not valid; the published rules never change here.
pub async fn save_draft(ctx: &Ctx<'_>, class: Class, rules: RuleSet, version: Option<i64>) -> AppResult<Scheme> {
    require_admin(ctx.user)?;
    let problems = rules.validate();
    if !problems.is_empty() {
        let mut e = FieldErrors::default();
        for (f, m) in problems {
            e.add(&f, Code::InvalidRule, m);
        }
        return Err(AppError::Validation(e));
    }
    let rules = serde_json::to_string(&rules).map_err(|e| AppError::Internal(e.into()))?;
    let mut w = ctx.write().await?;
    let draft = match store::scheme_in(ctx.db, class, Publication::Draft).await? {
        Some(old) => {
            let mut new = Scheme { rules, updated_at: w.now, ..old.clone() };
            w.update(&old, &mut new, expected(version)?).await?;
            new
        }
        None => {
            let s = Scheme {
                id: new_id(),
                class,
                status: Publication::Draft,
                version_no: store::next_version_no(w.conn(), class).await?,
                rules,
                created_by: Some(ctx.user.id.clone()),
                created_at: w.now,
                published_at: None,
                updated_at: w.now,
                version: 1,
                effective_from: None,
            };
            w.create(&s).await?;
            s
        }
    };
    w.commit().await?;
    Ok(draft)
}

/// How a rule change would move one target.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct WhatIf {
    pub target: String,
    pub name: String,
    pub score: i64,
    pub rank: i64,
    pub draft_score: i64,
    pub draft_rank: i64,
}

/// The start of the week containing `t`, or of the next week when `t` is inside one.
fn week_ceil(t: i64) -> i64 {
    let w = span_of(SpanKind::Week, to_local(t).date_naive());
    if w.from == t { t } else { w.to }
}

/// When a version published now would take effect: the Monday of the given day's week, by
/// default the current week. Refused before the end of the latest period whose results are
/// published (a notice or red flags: they must not change) and more than a year ahead.
pub async fn effective_from(db: &Db, class: Class, day: Option<NaiveDate>) -> AppResult<i64> {
    let now = now_ms();
    let this_week = span_of(SpanKind::Week, to_local(now).date_naive()).from;
    let open = match store::published_until(db, class).await? {
        Some(t) => week_ceil(t),
        None => i64::MIN,
    };
    let Some(day) = day else { return Ok(this_week.max(open)) };
    let from = span_of(SpanKind::Week, day).from;
    if from < open {
        return Err(AppError::refuse(
            Code::PeriodPublished,
            format!(
                "{day}之前的{}考核结果已发布（通报或流动红旗），已发布的结果不能改变；规则最早从{day}起生效",
                class.label(),
                day = &fmt_local(open)[..10],
            ),
        ));
    }
    if from > now + 366 * DAY_MS {
        return Err(AppError::field("effective_from", Code::DateOutOfRange, "生效日期不能晚于一年之后"));
    }
    Ok(from)
}

/// Every target's score and rank for the period under the published rules and as they would
/// be with the draft published to take effect from `effective` (default: the current week).
pub async fn preview(
    ctx: &Ctx<'_>,
    class: Class,
    kind: SpanKind,
    day: NaiveDate,
    effective: Option<NaiveDate>,
) -> AppResult<Vec<WhatIf>> {
    require_admin(ctx.user)?;
    let draft = store::scheme_in(ctx.db, class, Publication::Draft)
        .await?
        .ok_or_else(|| AppError::refuse(Code::NoDraft, "没有待发布的规则草稿"))?;
    let from = effective_from(ctx.db, class, effective).await?;
    let now_rules = timeline(ctx.db, class).await?;
    let with_draft = now_rules.clone().with(from, draft.version_no, rules_of(&draft)?);
    let span = span_of(kind, day);
    let a = ranking_under(ctx.db, class, &now_rules, span.clone()).await?;
    let b = ranking_under(ctx.db, class, &with_draft, span).await?;
    let by: HashMap<&str, &RankLine> = b.lines.iter().map(|l| (l.now.target.as_str(), l)).collect();
    Ok(a.lines
        .iter()
        .map(|l| {
            let d = by[l.now.target.as_str()];
            WhatIf {
                target: l.now.target.clone(),
                name: l.now.name.clone(),
                score: l.now.score,
                rank: l.now.rank,
                draft_score: d.now.score,
                draft_rank: d.now.rank,
            }
        })
        .collect())
}

/// Publishes the draft to take effect from the week of `effective` (default: the current week):
/// from then on it scores every week, earlier weeks keep the versions they had (the previous
/// current version is archived).
pub async fn publish(ctx: &Ctx<'_>, class: Class, effective: Option<NaiveDate>) -> AppResult<Scheme> {
    require_admin(ctx.user)?;
    let draft = store::scheme_in(ctx.db, class, Publication::Draft)
        .await?
        .ok_or_else(|| AppError::refuse(Code::NoDraft, "没有待发布的规则草稿"))?;
    let from = effective_from(ctx.db, class, effective).await?;
    let (old, _) = published(ctx.db, class).await?;
    let mut w = ctx.write().await?;
    let now = w.now;
    let mut archived = Scheme { status: Publication::Archived, updated_at: now, ..old.clone() };
    w.update(&old, &mut archived, old.version).await?;
    let mut new = Scheme {
        status: Publication::Published,
        published_at: Some(now),
        updated_at: now,
        effective_from: Some(from),
        ..draft.clone()
    };
    w.update_as(Verb::Publish, &draft, &mut new, draft.version).await?;
    w.commit().await?;
    Ok(new)
}

/// The period red flags of a class are awarded for that contains `day` (a week or a month, as
/// the rules in force that week say).
pub async fn flag_span(db: &Db, class: Class, day: NaiveDate) -> AppResult<Span> {
    let timeline = timeline(db, class).await?;
    let kind = match timeline.at(span_of(SpanKind::Week, day).from).red_flag_period {
        score::FlagPeriod::Week => SpanKind::Week,
        score::FlagPeriod::Month => SpanKind::Month,
    };
    Ok(span_of(kind, day))
}

/// Awards the period's mobile red flags (weekly or monthly, by the rules): the best N of the
/// class whose score reaches the minimum. A period is awarded once.
pub async fn award_red_flags(ctx: &Ctx<'_>, class: Class, day: NaiveDate) -> AppResult<Vec<Award>> {
    require_admin(ctx.user)?;
    let span = flag_span(ctx.db, class, day).await?;
    if span.to > now_ms() {
        let code = if span.kind == SpanKind::Week { Code::WeekNotOver } else { Code::PeriodNotOver };
        return Err(AppError::refuse(code, format!("{}尚未结束，不能评定流动红旗", span.label)));
    }
    if !store::awards(ctx.db, &red_flags_of_period(class, span.from)).await?.is_empty() {
        return Err(AppError::refuse(Code::AlreadyAwarded, format!("{}的{}流动红旗已评定", span.label, class.label())));
    }
    let timeline = timeline(ctx.db, class).await?;
    let r = ranking_under(ctx.db, class, &timeline, span.clone()).await?;
    let rules = timeline.at(span.from);
    let min = score::tenths(rules.red_flag_min_score);
    let now = now_ms();
    // Only targets assessed that week (with at least one entry) compete: a unit nobody
    // inspected has not earned a flag by keeping the base score.
    let mut lines: Vec<&RankLine> = r.lines.iter().filter(|l| l.now.entries > 0 && l.now.score >= min).collect();
    let blend = blended_index(ctx.db, class, rules, &r).await?;
    let mut notes: HashMap<String, String> = HashMap::new();
    if let Some(index) = &blend {
        let of = |l: &RankLine| index.get(&l.now.target).map(|x| x.0).unwrap_or(0.0);
        lines.sort_by(|a, b| of(b).total_cmp(&of(a)));
        for (t, (v, rating)) in index {
            let rating = rating.map(|x| format!("群众评价{x:.1}")).unwrap_or_else(|| "无群众评价".into());
            notes.insert(t.clone(), format!("综合指数{v:.1}（{rating}，权重{}）", rules.rating_weight));
        }
    }
    let winners: Vec<Award> = lines
        .into_iter()
        .enumerate()
        .take_while(|(i, _)| (*i as i64) < rules.red_flag_top_n)
        .map(|(_, l)| l)
        .map(|l| Award {
            id: new_id(),
            class,
            target_id: l.now.target.clone(),
            target_name: l.now.name.clone(),
            kind: AwardKind::RedFlag,
            period_start: Some(span.from),
            period_end: Some(span.to),
            at: now,
            note: format!(
                "{}第{}名，{}分{}",
                span.label,
                l.now.rank,
                l.now.score as f64 / 10.0,
                notes.get(&l.now.target).map(|n| format!("；{n}")).unwrap_or_default()
            ),
            created_by: Some(ctx.user.id.clone()),
            created_at: now,
        })
        .collect();
    let mut w = ctx.write().await?;
    // One award of the class's period at a time (its sequence row held to the end of this
    // write, on any instance), and none after one: two administrators at once whose rankings
    // differed (a score entered between them) would otherwise each award their own winners.
    w.next_in_sequence(&format!("red_flags:{}:{}", class.as_str(), span.from)).await?;
    if store::red_flags_awarded_in(w.conn(), class, span.from).await? {
        return Err(AppError::refuse(Code::AlreadyAwarded, format!("{}的{}流动红旗已评定", span.label, class.label())));
    }
    for a in &winners {
        w.create(a).await?;
    }
    w.commit().await?;
    Ok(winners)
}

/// Window units' monthly 文明服务流动红旗 index: the inspection score (千分制 over its base,
/// scaled to 100) and the public's rating score (0–100) weighted by the rules; None for other
/// classes or when the rules give ratings no weight. A unit without ratings that month counts
/// 0 for them. Per target: (index, rating score).
async fn blended_index(
    db: &Db,
    class: Class,
    rules: &RuleSet,
    r: &Ranking,
) -> AppResult<Option<HashMap<String, (f64, Option<f64>)>>> {
    if class != Class::Window || rules.rating_weight <= 0.0 {
        return Ok(None);
    }
    let month = crate::domain::window::month_of(r.span.from);
    let ratings = super::window_figures::unit_scores(db, month).await?;
    let w = rules.rating_weight;
    Ok(Some(
        r.lines
            .iter()
            .map(|l| {
                let inspection = l.now.score as f64 / 10.0 / rules.base * 100.0;
                let rating = ratings.get(&l.now.target).copied();
                let index = (1.0 - w) * inspection + w * rating.unwrap_or(0.0);
                (l.now.target.clone(), ((index * 10.0).round() / 10.0, rating))
            })
            .collect(),
    ))
}

/// Records a commendation (表扬) for a target of a class.
pub async fn commend(ctx: &Ctx<'_>, class: Class, target: &str, note: &str, day: Option<&str>) -> AppResult<Award> {
    require_admin(ctx.user)?;
    let now = now_ms();
    // The day of the commended deed (default today): it counts in that day's week.
    let at = match day.map(str::trim).filter(|d| !d.is_empty()) {
        None => now,
        Some(d) => match parse_local_day_start(d) {
            Some(t) if t <= now && t >= now - 90 * DAY_MS => (t + 12 * 3_600_000).min(now),
            Some(_) => return Err(AppError::field("date", Code::DateOutOfRange, "表扬日期应在今天及之前的90天内")),
            None => return Err(AppError::field("date", Code::InvalidDate, "日期格式应为2026-11-23")),
        },
    };
    let note = note.trim();
    if note.is_empty() || note.chars().count() > 200 {
        return Err(AppError::field("note", Code::Required, "请填写表扬事由（200字以内）"));
    }
    let name = store::targets(ctx.db, class)
        .await?
        .into_iter()
        .find(|(id, _)| id == target)
        .map(|(_, n)| n)
        .ok_or_else(|| AppError::field("target_id", Code::UnknownTarget, "被表扬的对象不存在"))?;
    let a = Award {
        id: new_id(),
        class,
        target_id: target.into(),
        target_name: name,
        kind: AwardKind::Commendation,
        period_start: None,
        period_end: None,
        at,
        note: note.into(),
        created_by: Some(ctx.user.id.clone()),
        created_at: now,
    };
    ctx.create(&a).await?;
    Ok(a)
}

/// The red flags of a class awarded for the period starting at `start`.
pub fn red_flags_of_period(class: Class, start: i64) -> store::AwardFilter {
    store::AwardFilter {
        class: Some(class),
        kind: Some(AwardKind::RedFlag),
        period_start: Some(start),
        ..Default::default()
    }
}

/// What the award list may be filtered by, as typed.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[serde(default)]
pub struct AwardQuery {
    /// community, street, unit or window (every class when empty)
    pub class: String,
    /// commendation or red_flag
    pub kind: String,
    /// Awarded in this year
    pub year: String,
}

/// Red flags and commendations of a class (or of every class), newest first: their history.
pub async fn award_list(db: &Db, q: &AwardQuery, page: crate::store::PageReq) -> AppResult<(Vec<Award>, i64)> {
    let class = Some(q.class.trim()).filter(|c| !c.is_empty()).map(parse_class).transpose()?;
    let mut f = store::AwardFilter { class, ..Default::default() };
    match Some(q.kind.trim()).filter(|k| !k.is_empty()) {
        None => {}
        Some(k) => match AwardKind::parse(k) {
            Some(kind @ (AwardKind::Commendation | AwardKind::RedFlag)) => f.kind = Some(kind),
            _ => {
                return Err(AppError::refuse(Code::InvalidKind, format!("奖励类型“{k}”无效，应为流动红旗或表扬")));
            }
        },
    }
    if let Some(y) = year_filter(Some(&q.year))? {
        (f.from, f.to) = (Some(y.from), Some(y.to));
    }
    Ok(store::award_page(db, &f, page).await?)
}

/// Supervisors, grid workers and the office record points found clean.
pub fn may_record_clean(role: Role) -> bool {
    matches!(role, Role::Admin | Role::Supervisor | Role::GridWorker)
}

/// A supervisor (or the office, or a grid worker) records an inspected point found clean: once
/// per point and day, and not on a day a problem was found there.
pub async fn record_clean(ctx: &Ctx<'_>, point_id: &str, note: &str) -> AppResult<String> {
    if !may_record_clean(ctx.user.role) {
        return Err(AppError::Forbidden);
    }
    let p = super::points::visible(ctx, point_id.trim())
        .await
        .map_err(|_| AppError::field("point_id", Code::UnknownPoint, "请选择存在的点位"))?;
    if let Some(why) = super::access::outside_inspection(ctx, p.community_id.as_deref()).await? {
        return Err(AppError::field("point_id", Code::OutsideTeamArea, why));
    }
    if note.chars().count() > 200 {
        return Err(AppError::field("note", Code::TooLong, "备注不能超过200字"));
    }
    let now = now_ms();
    // A point where a problem was found today was not found clean today.
    let day_start = parse_local_day_start(&to_local(now).format("%Y-%m-%d").to_string()).unwrap_or(now);
    let found_today: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM problems WHERE point_id = $1 AND found_at >= $2 AND voided_at IS NULL",
    )
    .bind(&p.id)
    .bind(day_start)
    .fetch_one(&ctx.db.pool)
    .await?;
    if found_today > 0 {
        return Err(AppError::refuse(
            Code::ProblemFoundToday,
            format!("{}今日已登记问题，不能再记为检查无问题", p.name),
        ));
    }
    let inspection = store::CleanInspection {
        id: new_id(),
        point_id: p.id.clone(),
        point_name: p.name.clone(),
        at: now,
        inspector_id: ctx.user.id.clone(),
        inspector_name: ctx.user.display_name.clone(),
        note: note.trim().into(),
        created_at: now,
        day: to_local(now).format("%Y-%m-%d").to_string(),
    };
    ctx.create(&inspection).await?;
    let id = inspection.id;
    Ok(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periods_start_on_monday_the_first_of_the_month_and_quarter() {
        let d = NaiveDate::from_ymd_opt(2026, 11, 22).unwrap(); // a Sunday
        let w = span_of(SpanKind::Week, d);
        assert_eq!(w.label, "2026年11月16日至11月22日");
        assert_eq!(fmt_local(w.from), "2026-11-16 00:00:00");
        assert_eq!(previous(&w).label, "2026年11月09日至11月15日");
        assert_eq!(span_of(SpanKind::Quarter, d).label, "2026年第4季度");
        assert_eq!(fmt_local(span_of(SpanKind::Month, d).to), "2026-12-01 00:00:00");
        assert_eq!(fmt_local(span_of(SpanKind::Quarter, d).to), "2027-01-01 00:00:00");
        assert_eq!(previous(&span_of(SpanKind::Year, d)).label, "2025年");
    }
}
