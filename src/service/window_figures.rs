//! The 好差评 figures of a month: rating rate, satisfaction, bad-rating rate, callback rate,
//! bad-rating fix rate on time and callback satisfaction, per window, staff member, unit and
//! sector; the monthly window ranking; units low two months in a row (an interview is proposed);
//! and the rating score the monthly 文明服务流动红旗 blends with inspections. Everything is
//! computed from the monthly tallies and the month's cases, so a month of millions of ratings
//! costs a few thousand rows.

use super::Ctx;
use crate::domain::window::{self as rules, Sector, Tally};
use crate::error::AppResult;
use crate::store::Db;
use crate::store::windows::{self as store, CaseFacts, WindowFilter};
use serde::Serialize;
use std::collections::HashMap;
use utoipa::ToSchema;

/// Units with fewer counted ratings in a month are not ranked (nor called low).
pub const MIN_RATINGS: i64 = 5;

/// One line of the figures (a window, a staff member, a unit or a sector).
#[derive(Debug, Clone, Default, Serialize, ToSchema)]
pub struct Line {
    /// The window's, staff member's or unit's id, or the sector's code
    pub key: String,
    pub name: String,
    pub unit_id: String,
    pub unit_name: String,
    pub sector: Option<Sector>,
    pub tally: Tally,
    /// Services handled (办件量) when reported
    pub served: Option<i64>,
    pub cases: i64,
    /// Bad ratings with a phone whose callback is due (made, or past its deadline)
    pub real_name: i64,
    /// Cases whose fix is due (answered, or past the deadline)
    pub fixes_due: i64,
    pub called: i64,
    pub on_time: i64,
    pub fix_rated: i64,
    pub fix_good: i64,
    /// Place in the month's ranking (windows and units; 0: not ranked)
    pub rank: i64,
}

impl Line {
    fn add(&mut self, other: &Line) {
        self.tally.merge(&other.tally);
        self.served = match (self.served, other.served) {
            (None, None) => None,
            (a, b) => Some(a.unwrap_or(0) + b.unwrap_or(0)),
        };
        self.add_facts(&CaseFacts {
            cases: other.cases,
            real_name: other.real_name,
            fixes_due: other.fixes_due,
            called: other.called,
            on_time: other.on_time,
            fix_rated: other.fix_rated,
            fix_good: other.fix_good,
            ..Default::default()
        });
    }

    fn add_facts(&mut self, f: &CaseFacts) {
        self.cases += f.cases;
        self.real_name += f.real_name;
        self.fixes_due += f.fixes_due;
        self.called += f.called;
        self.on_time += f.on_time;
        self.fix_rated += f.fix_rated;
        self.fix_good += f.fix_good;
    }

    /// 评价率: ratings per service handled.
    pub fn rating_rate(&self) -> Option<f64> {
        self.served.and_then(|s| rules::ratio(self.tally.total(), s))
    }
    /// 满意率
    pub fn satisfaction(&self) -> Option<f64> {
        self.tally.satisfaction()
    }
    /// 差评率
    pub fn bad_rate(&self) -> Option<f64> {
        self.tally.bad_rate()
    }
    /// 实名差评回访率
    pub fn callback_rate(&self) -> Option<f64> {
        rules::ratio(self.called, self.real_name)
    }
    /// 差评按时整改率: answered in time over the fixes due
    pub fn fix_on_time_rate(&self) -> Option<f64> {
        rules::ratio(self.on_time, self.fixes_due)
    }
    /// 回访满意率: raters who rated the fix 满意 or better
    pub fn callback_satisfaction(&self) -> Option<f64> {
        rules::ratio(self.fix_good, self.fix_rated)
    }
    pub fn score(&self) -> Option<f64> {
        self.tally.score()
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Figures {
    /// 202612
    pub month: i64,
    pub label: String,
    /// Windows, best first (ranked ones numbered)
    pub windows: Vec<Line>,
    pub staff: Vec<Line>,
    /// Units, best first
    pub units: Vec<Line>,
    pub sectors: Vec<Line>,
    pub total: Line,
    /// Units low in this month and the one before: an interview is proposed
    pub proposals: Vec<Proposal>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Proposal {
    pub unit_id: String,
    pub unit_name: String,
    pub reason: String,
}

/// Sorts best first by score (then more ratings) and numbers those with enough ratings.
fn rank(lines: &mut [Line], min: i64) {
    lines.sort_by(|a, b| {
        let key = |l: &Line| (l.tally.total() >= min, l.score().unwrap_or(-1.0), l.tally.total());
        let (ka, kb) = (key(a), key(b));
        kb.0.cmp(&ka.0).then(kb.1.total_cmp(&ka.1)).then(kb.2.cmp(&ka.2)).then(a.name.cmp(&b.name))
    });
    let mut n = 0;
    for l in lines.iter_mut() {
        if l.tally.total() >= min {
            n += 1;
            l.rank = n;
        }
    }
}

/// The figures of a month, for every window the caller may see.
pub async fn month(ctx: &Ctx<'_>, month: i64, sector: Option<Sector>) -> AppResult<Figures> {
    let scope = super::windows::unit_scope(ctx)?;
    let mut f = compute(ctx.db, month, sector).await?;
    if f.units.len() > 1 {
        f.proposals = proposals(ctx.db, month, &f).await?;
    }
    if let Some(unit) = scope {
        f.windows.retain(|l| l.unit_id == unit);
        f.staff.retain(|l| l.unit_id == unit);
        f.units.retain(|l| l.key == unit);
        f.proposals.retain(|p| p.unit_id == unit);
    }
    Ok(f)
}

/// The figures of a month for everyone (no scope): what rankings and red flags use.
pub async fn compute(db: &Db, month: i64, sector: Option<Sector>) -> AppResult<Figures> {
    let (windows, staff) = window_and_staff_lines(db, month, sector).await?;
    let (units, sectors, total) = roll_up(&windows);
    let mut windows: Vec<Line> = windows.into_values().collect();
    let mut staff: Vec<Line> = staff.into_values().collect();
    let mut units: Vec<Line> = units.into_values().collect();
    let mut sectors: Vec<Line> = sectors.into_values().collect();
    rank(&mut windows, 1);
    rank(&mut staff, 1);
    rank(&mut units, MIN_RATINGS);
    rank(&mut sectors, 1);
    Ok(Figures {
        month,
        label: rules::month_label(month),
        windows,
        staff,
        units,
        sectors,
        total,
        proposals: Vec::new(),
    })
}

type Lines = HashMap<String, Line>;

/// Each window's and staff member's line of a month: the tallies, the served counts and the
/// cases' facts.
async fn window_and_staff_lines(db: &Db, month: i64, sector: Option<Sector>) -> AppResult<(Lines, Lines)> {
    let all =
        store::window_rows(db, &WindowFilter { sector, ..Default::default() }, crate::store::PageReq::all()).await?.0;
    let staff_names: HashMap<String, String> = store::staff_rows(db, None)
        .await?
        .into_iter()
        .map(|s| (s.id.clone(), format!("{}（{}）", s.name, s.badge)))
        .collect();
    let mut windows: HashMap<String, Line> = HashMap::new();
    for w in &all {
        windows.insert(
            w.id.clone(),
            Line {
                key: w.id.clone(),
                name: format!("{} {}", w.number, w.service),
                unit_id: w.unit_id.clone(),
                unit_name: w.unit_name.clone(),
                sector: w.sector,
                ..Default::default()
            },
        );
    }
    let mut staff: HashMap<String, Line> = HashMap::new();
    for (window, staff_id, level, n) in store::tallies(db, month).await? {
        let Some(wl) = windows.get_mut(&window) else { continue };
        wl.tally.add(level, n);
        if !staff_id.is_empty() {
            let s = staff.entry(staff_id.clone()).or_insert_with(|| Line {
                key: staff_id.clone(),
                name: staff_names.get(&staff_id).cloned().unwrap_or_default(),
                unit_id: wl.unit_id.clone(),
                unit_name: wl.unit_name.clone(),
                sector: wl.sector,
                ..Default::default()
            });
            s.tally.add(level, n);
        }
    }
    for (window, served) in store::volumes(db, month).await? {
        if let Some(w) = windows.get_mut(&window) {
            w.served = Some(served);
        }
    }
    for facts in store::case_facts(db, month, crate::domain::time::now_ms()).await? {
        if let Some(w) = windows.get_mut(&facts.window_id) {
            w.add_facts(&facts);
        }
        if let Some(s) = staff.get_mut(&facts.staff_id) {
            s.add_facts(&facts);
        }
    }
    Ok((windows, staff))
}

/// The windows' lines summed per unit, per sector and in all.
fn roll_up(windows: &Lines) -> (Lines, Lines, Line) {
    let mut units: HashMap<String, Line> = HashMap::new();
    let mut sectors: HashMap<String, Line> = HashMap::new();
    let mut total = Line { key: "all".into(), name: "合计".into(), ..Default::default() };
    for w in windows.values() {
        let u = units.entry(w.unit_id.clone()).or_insert_with(|| Line {
            key: w.unit_id.clone(),
            name: w.unit_name.clone(),
            unit_id: w.unit_id.clone(),
            unit_name: w.unit_name.clone(),
            sector: w.sector,
            ..Default::default()
        });
        u.add(w);
        let code = w.sector.map(|s| s.as_str()).unwrap_or("none");
        let s = sectors.entry(code.into()).or_insert_with(|| Line {
            key: code.into(),
            name: w.sector.map(|s| s.label()).unwrap_or("未分行业").into(),
            sector: w.sector,
            ..Default::default()
        });
        s.add(w);
        total.add(w);
    }
    (units, sectors, total)
}

/// The ranked units low in a month: the bottom fifth of those with enough ratings.
fn low_units(f: &Figures) -> Vec<String> {
    let ranked: Vec<String> = f.units.iter().filter(|u| u.rank > 0).map(|u| u.key.clone()).collect();
    rules::low_ones(&ranked)
}

/// Units low this month and the month before: the seeds' rule "two low months → interview".
async fn proposals(db: &Db, month: i64, now: &Figures) -> AppResult<Vec<Proposal>> {
    let before = compute(db, rules::previous_month(month), None).await?;
    let earlier = low_units(&before);
    let names: HashMap<&str, &Line> = now.units.iter().map(|u| (u.key.as_str(), u)).collect();
    Ok(low_units(now)
        .into_iter()
        .filter(|u| earlier.contains(u))
        .filter_map(|u| names.get(u.as_str()).map(|l| (u.clone(), *l)))
        .map(|(unit_id, l)| Proposal {
            reason: format!(
                "{}、{}连续两个月好差评排名靠后（本月第{}名，满意率{}），建议约谈",
                rules::month_label(rules::previous_month(month)),
                rules::month_label(month),
                l.rank,
                rules::percent(l.satisfaction())
            ),
            unit_name: l.unit_name.clone(),
            unit_id,
        })
        .collect())
}

/// The rating score (0–100) of each window unit in a month, for the red flags.
pub async fn unit_scores(db: &Db, month: i64) -> AppResult<HashMap<String, f64>> {
    let f = compute(db, month, None).await?;
    Ok(f.units.into_iter().filter_map(|u| u.score().map(|s| (u.key, s))).collect())
}
