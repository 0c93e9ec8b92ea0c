//! The thousand-point system (千分制): every scored unit, community or street office starts each
//! week at the base score; rules (data, not code) add or deduct points on events. Every change of
//! score is an entry naming its cause, so a score is always base + the sum of its entries, and the
//! same facts under other rules give other entries (recomputation and what-if previews).
//!
//! Amounts are kept in tenths of a point (a halved 5-point deduction is −25), so sums are exact.

use super::problem::{Source, State};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

pub fn default_reopen_points() -> f64 {
    -5.0
}

pub fn default_dissatisfied_points() -> f64 {
    -2.0
}

crate::vocab! {
    /// Who is scored.
    pub enum Class: "评分对象类别" {
        /// By the community of the problem's point
        Community("community", "社区"),
        /// By the street office above that community
        Street("street", "街道"),
        /// The problem's unit, window units excepted
        Unit("unit", "责任单位"),
        /// Bank branches, service halls, business halls
        Window("window", "窗口单位"),
    }
}

crate::vocab! {
    /// What changed a score.
    pub enum EntryKind: "计分事项" {
        Found("found", "发现问题"),
        Overdue("overdue", "逾期"),
        Rework("rework", "返工"),
        Reopen("reopen", "群众反映未解决"),
        Dissatisfied("dissatisfied", "群众不满意"),
        Repeat("repeat", "重复问题"),
        Commendation("commendation", "表扬"),
        RedFlag("red_flag", "流动红旗"),
        CleanPoint("clean_point", "检查无问题"),
    }
}

crate::vocab! {
    /// What a score entry was caused by.
    pub enum CauseType: "计分依据" {
        Problem("problem", "问题"),
        Award("award", "奖励"),
    }
}

crate::vocab! {
    /// Awards the office records (clean inspections are scored like them).
    pub enum AwardKind: "奖励类型" {
        Commendation("commendation", "表扬"),
        RedFlag("red_flag", "流动红旗"),
        CleanPoint("clean_point", "检查无问题"),
    }
}

/// A deduction for a problem found by an inspection of some level, told apart by the problem's
/// source (e.g. 测评 and 上级交办 count as city level, 督导检查 as district level).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct FoundRule {
    /// What the entry says, e.g. "市级检查发现问题"
    pub label: String,
    /// Problem sources this rule applies to
    pub sources: Vec<Source>,
    /// Points (negative: a deduction)
    pub points: f64,
}

/// The rules of one class, as the office configures them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RuleSet {
    /// Score every target starts each week with (千分制: 1000)
    pub base: f64,
    pub found: Vec<FoundRule>,
    /// A problem closed within this many minutes of being found counts as fixed on the spot
    pub on_spot_minutes: i64,
    /// ...and its found-deduction is multiplied by this (0.5: halved)
    pub on_spot_factor: f64,
    /// Once when a problem passes its deadline unfixed
    pub overdue_points: f64,
    /// And for every further working day it stays open (counted up to the close or to now)
    pub overdue_per_day_points: f64,
    /// Each failed re-check (返工)
    pub rework_points: f64,
    /// Each time a reporter says a closed problem is not fixed and it is reopened (群众反映未解决)
    #[serde(default = "default_reopen_points")]
    pub reopen_points: f64,
    /// Each reporter who rates the handling 不满意 or 非常不满意 (群众不满意)
    #[serde(default = "default_dissatisfied_points")]
    pub dissatisfied_points: f64,
    /// A problem at a point where the same category was found within `repeat_days` before
    pub repeat_points: f64,
    pub repeat_days: i64,
    /// 表扬 (an award the office records)
    pub commendation_points: f64,
    /// 流动红旗 won
    pub red_flag_points: f64,
    /// An inspected point found clean (检查无问题)
    pub clean_point_points: f64,
    /// Most points deducted from one target in one week (≥ 0)
    pub deduction_cap: f64,
    /// Most points added to one target in one week (≥ 0)
    pub bonus_cap: f64,
    /// 流动红旗 go to the best N of the class each week, if their score reaches the minimum
    pub red_flag_top_n: i64,
    pub red_flag_min_score: f64,
    /// Weights of the composite index (综合指标值) shown beside the ranking
    #[serde(default)]
    pub composite: CompositeWeights,
    /// Weights of the four quarters in the year-end assessment (年度考核)
    #[serde(default)]
    pub year_weights: YearWeights,
    /// How often red flags are awarded: every week (default) or every month (e.g. 文明服务
    /// 流动红旗 for window units)
    #[serde(default)]
    pub red_flag_period: FlagPeriod,
    /// Window units: the share of the public's ratings (好差评 score, 0–100) in the monthly
    /// 文明服务流动红旗 index; the rest is the inspection score (千分制 scaled to 100)
    #[serde(default)]
    pub rating_weight: f64,
}

crate::vocab! {
    /// The period red flags are awarded for.
    #[derive(Default)]
    pub enum FlagPeriod: "流动红旗评定周期" {
        #[default]
        Week("week", "周"),
        Month("month", "月"),
    }
}

/// How the year-end assessment combines the quarters: the weighted mean of the quarter scores
/// (quarters not yet begun are left out and the weights of the others rescaled).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct YearWeights {
    pub q1: f64,
    pub q2: f64,
    pub q3: f64,
    pub q4: f64,
}

impl Default for YearWeights {
    fn default() -> Self {
        YearWeights { q1: 25.0, q2: 25.0, q3: 25.0, q4: 25.0 }
    }
}

impl YearWeights {
    pub fn as_array(&self) -> [f64; 4] {
        [self.q1, self.q2, self.q3, self.q4]
    }
}

/// Weights of the rates in the composite index; 返工率 and 延期率 enter as 100 − rate.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CompositeWeights {
    pub closure: f64,
    pub on_time: f64,
    pub rework: f64,
    pub extension: f64,
}

impl Default for CompositeWeights {
    fn default() -> Self {
        CompositeWeights { closure: 40.0, on_time: 30.0, rework: 15.0, extension: 15.0 }
    }
}

impl RuleSet {
    /// The defaults of a 千分制 scheme, in the proportions cities commonly publish.
    pub fn default_for(class: Class) -> RuleSet {
        let window = class == Class::Window;
        RuleSet {
            base: 1000.0,
            found: vec![
                FoundRule {
                    label: "市级测评/交办发现问题".into(),
                    sources: vec![Source::Evaluation, Source::Assigned],
                    points: -10.0,
                },
                FoundRule {
                    label: "区级督导检查发现问题".into(),
                    sources: vec![Source::Supervision, Source::MutualInspection],
                    points: -5.0,
                },
                FoundRule {
                    label: "街道网格巡查发现问题".into(), sources: vec![Source::GridPatrol], points: -2.0
                },
                FoundRule {
                    label: if window { "窗口服务差评" } else { "市民反映问题" }.into(),
                    sources: vec![Source::Citizen, Source::WindowRating],
                    points: -3.0,
                },
            ],
            on_spot_minutes: 60,
            on_spot_factor: 0.5,
            overdue_points: -5.0,
            overdue_per_day_points: -2.0,
            rework_points: -3.0,
            reopen_points: default_reopen_points(),
            dissatisfied_points: default_dissatisfied_points(),
            repeat_points: -5.0,
            repeat_days: 7,
            commendation_points: 10.0,
            red_flag_points: 20.0,
            clean_point_points: 1.0,
            deduction_cap: 300.0,
            bonus_cap: 100.0,
            red_flag_top_n: 3,
            // A flag goes only to a target that kept at least its base score.
            red_flag_min_score: 1000.0,
            composite: CompositeWeights::default(),
            year_weights: YearWeights::default(),
            // Window units' 文明服务流动红旗 go monthly, the others weekly.
            red_flag_period: if window { FlagPeriod::Month } else { FlagPeriod::Week },
            rating_weight: if window { 0.4 } else { 0.0 },
        }
    }

    /// Every mistake, in Chinese, with the field it concerns.
    pub fn validate(&self) -> Vec<(String, String)> {
        let mut e = Vec::new();
        let mut err = |f: &str, m: String| e.push((f.to_string(), m));
        let finite = [
            self.base,
            self.on_spot_factor,
            self.overdue_points,
            self.overdue_per_day_points,
            self.rework_points,
            self.repeat_points,
            self.commendation_points,
            self.red_flag_points,
            self.clean_point_points,
            self.deduction_cap,
            self.bonus_cap,
            self.red_flag_min_score,
        ];
        if finite.iter().any(|v| !v.is_finite()) {
            err("rules", "分值必须是有效数字".into());
        }
        if !(1.0..=100_000.0).contains(&self.base) {
            err("base", "基础分应在1至100000之间".into());
        }
        if self.deduction_cap < 0.0 {
            err("deduction_cap", "扣分上限不能为负数".into());
        }
        if self.bonus_cap < 0.0 {
            err("bonus_cap", "加分上限不能为负数".into());
        }
        if !(0.0..=1.0).contains(&self.rating_weight) {
            err("rating_weight", "群众评价权重应在0至1之间".into());
        }
        for (f, v, what) in [
            ("overdue_points", self.overdue_points, "逾期扣分"),
            ("overdue_per_day_points", self.overdue_per_day_points, "逾期每日扣分"),
            ("rework_points", self.rework_points, "返工扣分"),
            ("reopen_points", self.reopen_points, "群众反映未解决扣分"),
            ("dissatisfied_points", self.dissatisfied_points, "群众不满意扣分"),
            ("repeat_points", self.repeat_points, "重复问题扣分"),
        ] {
            if v > 0.0 {
                err(f, format!("{what}应为0或负数"));
            }
        }
        for (f, v, what) in [
            ("commendation_points", self.commendation_points, "表扬加分"),
            ("red_flag_points", self.red_flag_points, "流动红旗加分"),
            ("clean_point_points", self.clean_point_points, "点位检查无问题加分"),
        ] {
            if v < 0.0 {
                err(f, format!("{what}应为0或正数"));
            }
        }
        if !(0.0..=1.0).contains(&self.on_spot_factor) {
            err("on_spot_factor", "现场整改系数应在0至1之间（减半为0.5）".into());
        }
        if !(0..=1440).contains(&self.on_spot_minutes) {
            err("on_spot_minutes", "现场整改时限应在0至1440分钟之间".into());
        }
        if !(0..=365).contains(&self.repeat_days) {
            err("repeat_days", "重复问题的认定天数应在0至365之间".into());
        }
        self.validate_weights(&mut err);
        self.validate_found(&mut err);
        e
    }

    /// The composite weights, the year's quarter weights and the number of red flags.
    fn validate_weights(&self, err: &mut impl FnMut(&str, String)) {
        let w = self.composite;
        let ws = [w.closure, w.on_time, w.rework, w.extension];
        if ws.iter().any(|v| !v.is_finite() || *v < 0.0) || ws.iter().sum::<f64>() <= 0.0 {
            err("composite", "综合指标权重不能为负数，且至少有一项大于0".into());
        }
        let y = self.year_weights.as_array();
        if y.iter().any(|v| !v.is_finite() || *v < 0.0) || y.iter().sum::<f64>() <= 0.0 {
            err("year_weights", "年度考核的季度权重不能为负数，且至少有一个季度大于0".into());
        }
        if !(0..=100).contains(&self.red_flag_top_n) {
            err("red_flag_top_n", "流动红旗名额应在0至100之间".into());
        }
    }

    /// The found-problem rules: named, deducting, each source in one rule only.
    fn validate_found(&self, err: &mut impl FnMut(&str, String)) {
        let mut seen = std::collections::HashSet::new();
        for (i, r) in self.found.iter().enumerate() {
            let f = format!("found[{}]", i + 1);
            if r.label.trim().is_empty() || r.label.chars().count() > 30 {
                err(&f, format!("第{}条发现问题规则需要1至30字的名称", i + 1));
            }
            if !r.points.is_finite() || r.points > 0.0 {
                err(&f, format!("第{}条发现问题规则的分值应为0或负数", i + 1));
            }
            if r.sources.is_empty() {
                err(&f, format!("第{}条发现问题规则至少要选一个问题来源", i + 1));
            }
            for s in &r.sources {
                if !seen.insert(*s) {
                    err(&f, format!("问题来源“{}”出现在两条规则里，扣分会重复", s.label()));
                }
            }
        }
    }
}

/// To tenths of a point, rounded half away from zero.
pub fn tenths(points: f64) -> i64 {
    (points * 10.0).round() as i64
}

/// Tenths of a point as people read them: 1000, 997.5.
pub fn fmt_points(t: i64) -> String {
    if t % 10 == 0 { (t / 10).to_string() } else { format!("{:.1}", t as f64 / 10.0) }
}

/// One problem as scoring sees it.
#[derive(Debug, Clone)]
pub struct ProblemFact {
    pub id: String,
    pub code: String,
    pub target: String,
    pub point_id: String,
    pub category: String,
    pub source: Source,
    pub state: State,
    pub found_at: i64,
    pub deadline_at: Option<i64>,
    pub closed_at: Option<i64>,
    /// When each failed re-check happened
    pub reworks: Vec<i64>,
    /// When its reporter said it was not fixed (and it was reopened)
    pub reopens: Vec<i64>,
    /// When its reporter rated the handling 不满意 or worse
    pub dissatisfied: Vec<i64>,
    /// Working days the problem stayed open after its deadline (up to its close or now)
    pub overdue_working_days: i64,
}

/// An earlier find at a point, for recognising repeats (problems found before the facts' range).
#[derive(Debug, Clone, Deserialize)]
pub struct Earlier {
    pub point_id: String,
    pub category: String,
    pub found_at: i64,
}

/// An award (commendation, red flag) or a clean inspection, for one target.
#[derive(Debug, Clone)]
pub struct AwardFact {
    pub id: String,
    pub kind: AwardKind,
    pub target: String,
    pub at: i64,
    pub note: String,
}

/// One change of a target's score and its cause.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Entry {
    pub target: String,
    pub at: i64,
    pub kind: EntryKind,
    /// Tenths of a point
    pub amount: i64,
    pub cause_type: CauseType,
    pub cause_id: String,
    /// What happened, in Chinese, e.g. "区级督导检查发现问题 Q202611230001（现场整改减半）"
    pub note: String,
}

/// Earlier finds per (point, category), sorted, to recognise repeats in O(log n) each; built
/// once for all the weeks read together (the window is each week's rule).
pub struct Repeats<'a> {
    seen: rustc_hash::FxHashMap<(&'a str, &'a str), Vec<i64>>,
}

impl<'a> Repeats<'a> {
    pub fn new(history: &'a [Earlier]) -> Repeats<'a> {
        let mut seen: rustc_hash::FxHashMap<(&str, &str), Vec<i64>> = Default::default();
        for h in history {
            seen.entry((h.point_id.as_str(), h.category.as_str())).or_default().push(h.found_at);
        }
        for v in seen.values_mut() {
            v.sort_unstable();
        }
        Repeats { seen }
    }

    /// The same category was found at the same point within `repeat_days` before this find.
    fn repeated(&self, p: &ProblemFact, repeat_days: i64) -> bool {
        self.seen.get(&(p.point_id.as_str(), p.category.as_str())).is_some_and(|v| {
            // The latest find strictly before this one.
            let i = v.partition_point(|&t| t < p.found_at);
            i > 0 && p.found_at - v[i - 1] <= repeat_days * 86_400_000
        })
    }
}

fn problem_entry(p: &ProblemFact, at: i64, kind: EntryKind, amount: i64, note: String) -> Entry {
    Entry { target: p.target.clone(), at, kind, amount, cause_type: CauseType::Problem, cause_id: p.id.clone(), note }
}

/// The entries one problem causes inside the week: its find (halved when fixed on the spot)
/// and a repeat, its deadline passing unfixed, its failed re-checks.
fn problem_entries(
    rules: &RuleSet,
    inside: impl Fn(i64) -> bool,
    found_rule: Option<&FoundRule>,
    repeats: &Repeats<'_>,
    p: &ProblemFact,
    out: &mut Vec<Entry>,
    notes: bool,
) {
    // Notes only where someone reads them (a week's sums read the amounts alone).
    let say = |f: &dyn Fn() -> String| if notes { f() } else { String::new() };
    if inside(p.found_at)
        && let Some(r) = found_rule
    {
        let on_spot =
            p.state == State::Closed && p.closed_at.is_some_and(|c| c - p.found_at <= rules.on_spot_minutes * 60_000);
        let (amount, note) = if on_spot {
            (tenths(r.points * rules.on_spot_factor), say(&|| format!("{} {}（现场整改）", r.label, p.code)))
        } else {
            (tenths(r.points), say(&|| format!("{} {}", r.label, p.code)))
        };
        out.push(problem_entry(p, p.found_at, EntryKind::Found, amount, note));
        if rules.repeat_points != 0.0 && repeats.repeated(p, rules.repeat_days) {
            let note = say(&|| format!("{}天内同一点位重复出现“{}” {}", rules.repeat_days, p.category, p.code));
            out.push(problem_entry(p, p.found_at, EntryKind::Repeat, tenths(rules.repeat_points), note));
        }
    }
    if let Some(d) = p.deadline_at
        && inside(d)
        && p.closed_at.is_none_or(|c| c > d)
        && p.state != State::Postponed
    {
        let days = p.overdue_working_days.max(0);
        let amount = tenths(rules.overdue_points) + tenths(rules.overdue_per_day_points) * days;
        let note = say(&|| {
            if days > 0 {
                format!("问题 {} 逾期未整改，超期{}个工作日", p.code, days)
            } else {
                format!("问题 {} 逾期未整改", p.code)
            }
        });
        out.push(problem_entry(p, d, EntryKind::Overdue, amount, note));
    }
    for &at in p.reworks.iter().filter(|&&t| inside(t)) {
        let note = say(&|| format!("问题 {} 核查未通过，返工", p.code));
        out.push(problem_entry(p, at, EntryKind::Rework, tenths(rules.rework_points), note));
    }
    for &at in p.reopens.iter().filter(|&&t| inside(t) && rules.reopen_points != 0.0) {
        let note = say(&|| format!("问题 {} 销号后反映人表示未解决，重新办理", p.code));
        out.push(problem_entry(p, at, EntryKind::Reopen, tenths(rules.reopen_points), note));
    }
    for &at in p.dissatisfied.iter().filter(|&&t| inside(t) && rules.dissatisfied_points != 0.0) {
        let note = say(&|| format!("问题 {} 反映人对办理结果不满意", p.code));
        out.push(problem_entry(p, at, EntryKind::Dissatisfied, tenths(rules.dissatisfied_points), note));
    }
}

fn award_entry(rules: &RuleSet, a: &AwardFact) -> Entry {
    let (points, what, kind) = match a.kind {
        AwardKind::Commendation => (rules.commendation_points, "表扬", EntryKind::Commendation),
        AwardKind::RedFlag => (rules.red_flag_points, "获流动红旗", EntryKind::RedFlag),
        AwardKind::CleanPoint => (rules.clean_point_points, "点位检查无问题", EntryKind::CleanPoint),
    };
    Entry {
        target: a.target.clone(),
        at: a.at,
        kind,
        amount: tenths(points),
        cause_type: CauseType::Award,
        cause_id: a.id.clone(),
        note: if a.note.is_empty() { what.to_string() } else { format!("{what}：{}", a.note) },
    }
}

/// The weekly caps, per target, in time order: the entry that would cross a cap keeps only
/// what is left, and says so.
fn apply_caps(rules: &RuleSet, mut raw: Vec<Entry>) -> Vec<Entry> {
    raw.retain(|e| e.amount != 0);
    raw.sort_unstable_by(|a, b| (&a.target, a.at, &a.cause_id, a.kind).cmp(&(&b.target, b.at, &b.cause_id, b.kind)));
    let (dcap, bcap) = (tenths(rules.deduction_cap), tenths(rules.bonus_cap));
    let mut out: Vec<Entry> = Vec::with_capacity(raw.len());
    let (mut minus, mut plus) = (0i64, 0i64);
    let mut current: Option<String> = None;
    for mut e in raw {
        if current.as_deref() != Some(e.target.as_str()) {
            current = Some(e.target.clone());
            (minus, plus) = (0, 0);
        }
        let (used, cap, suffix) = if e.amount < 0 {
            (&mut minus, dcap, "（已达每周扣分上限）")
        } else {
            (&mut plus, bcap, "（已达每周加分上限）")
        };
        let left = cap - *used;
        let capped = e.amount.abs() > left;
        if capped {
            e.amount = left * e.amount.signum();
            e.note.push_str(suffix);
        }
        *used += e.amount.abs();
        // An entry the cap took whole stays, to say so.
        if e.amount != 0 || capped {
            out.push(e);
        }
    }
    out
}

/// The entries of one week for the given facts. `history` holds every find at any point (of any
/// unit) from `repeat_days` before the week to its end: a problem repeats when the same point
/// had the same category found within that window before it. Caps apply per target, in time
/// order.
pub fn week_entries(
    rules: &RuleSet,
    week: (i64, i64),
    problems: &[ProblemFact],
    history: &[Earlier],
    awards: &[AwardFact],
) -> Vec<Entry> {
    week_entries_with(rules, week, problems, &Repeats::new(history), awards, true)
}

/// `week_entries` with the earlier finds indexed already (several weeks of one read); the
/// entries' notes left empty unless `notes` (sums read only the amounts).
pub fn week_entries_with(
    rules: &RuleSet,
    week: (i64, i64),
    problems: &[ProblemFact],
    repeats: &Repeats<'_>,
    awards: &[AwardFact],
    notes: bool,
) -> Vec<Entry> {
    let inside = |t: i64| t >= week.0 && t < week.1;
    let by_source: HashMap<Source, &FoundRule> =
        rules.found.iter().flat_map(|r| r.sources.iter().map(move |s| (*s, r))).collect();
    let mut raw = Vec::new();
    for p in problems.iter().filter(|p| p.state != State::Voided) {
        problem_entries(rules, inside, by_source.get(&p.source).copied(), repeats, p, &mut raw, notes);
    }
    raw.extend(awards.iter().filter(|a| inside(a.at)).map(|a| award_entry(rules, a)));
    apply_caps(rules, raw)
}

/// A target's place in a ranking.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Ranked {
    pub target: String,
    pub name: String,
    /// Tenths of a point: base (per week in the span) + the sum of the entries
    pub score: i64,
    /// 1 = best; equal scores share a rank
    pub rank: i64,
    pub entries: i64,
}

/// Per target: the sum of its entries (tenths) and how many there are.
pub type Sums = HashMap<String, (i64, i64), rustc_hash::FxBuildHasher>;

/// The sums of a list of entries.
pub fn sums<'a>(entries: impl IntoIterator<Item = &'a Entry>) -> Sums {
    let mut out = Sums::default();
    for e in entries {
        let s = out.entry(e.target.clone()).or_default();
        s.0 += e.amount;
        s.1 += 1;
    }
    out
}

/// Ranks every target of a class over a span: base + the sum of the span's entries (targets
/// without entries keep the base). Equal scores share a rank.
pub fn rank(targets: &[(String, String)], sums: &Sums, base: f64) -> Vec<Ranked> {
    let mut out: Vec<Ranked> = targets
        .iter()
        .map(|(id, name)| {
            let (sum, n) = sums.get(id).copied().unwrap_or_default();
            Ranked { target: id.clone(), name: name.clone(), score: tenths(base) + sum, rank: 0, entries: n }
        })
        .collect();
    out.sort_by(|a, b| b.score.cmp(&a.score).then_with(|| a.name.cmp(&b.name)));
    let mut last = None;
    for i in 0..out.len() {
        if last != Some(out[i].score) {
            out[i].rank = i as i64 + 1;
            last = Some(out[i].score);
        } else {
            out[i].rank = out[i - 1].rank;
        }
    }
    out
}

/// A target's year-end assessment: the weighted mean of its quarter scores (tenths), over the
/// quarters that count (`counted[q]`: begun); None when no quarter with a weight counts.
pub fn year_score(quarters: &[i64; 4], weights: &YearWeights, counted: &[bool; 4]) -> Option<i64> {
    let w = weights.as_array();
    let total: f64 = (0..4).filter(|&q| counted[q]).map(|q| w[q]).sum();
    if total <= 0.0 {
        return None;
    }
    let sum: f64 = (0..4).filter(|&q| counted[q]).map(|q| w[q] * quarters[q] as f64).sum();
    Some((sum / total).round() as i64)
}

/// 综合指标值: a weighted mean of rates in percent (rates where less is better enter as
/// 100 − rate), graded A ≥ 90, B ≥ 75, C ≥ 60, D ≥ 40, E below.
pub fn composite(parts: &[(f64, f64)]) -> Option<(f64, char)> {
    let weight: f64 = parts.iter().map(|(_, w)| w).sum();
    if weight <= 0.0 {
        return None;
    }
    let v = parts.iter().map(|(r, w)| r * w).sum::<f64>() / weight;
    let v = (v * 10.0).round() / 10.0;
    let grade = match v {
        x if x >= 90.0 => 'A',
        x if x >= 75.0 => 'B',
        x if x >= 60.0 => 'C',
        x if x >= 40.0 => 'D',
        _ => 'E',
    };
    Some((v, grade))
}

#[cfg(test)]
mod tests {
    use super::*;

    const H: i64 = 3_600_000;

    fn problem(id: &str, target: &str, source: Source, found: i64) -> ProblemFact {
        ProblemFact {
            id: id.into(),
            code: format!("Q{id}"),
            target: target.into(),
            point_id: format!("pt-{id}"),
            category: "暴露垃圾".into(),
            source,
            state: State::Dispatched,
            found_at: found,
            deadline_at: None,
            closed_at: None,
            reworks: Vec::new(),
            reopens: Vec::new(),
            dissatisfied: Vec::new(),
            overdue_working_days: 0,
        }
    }

    #[test]
    fn levels_on_the_spot_overdue_rework_and_repeats() {
        let r = RuleSet::default_for(Class::Community);
        let week = (0, 7 * 24 * H);
        let mut a = problem("a", "c1", Source::Evaluation, H);
        a.state = State::Closed;
        a.closed_at = Some(H + 30 * 60_000); // fixed within the hour: halved
        let mut b = problem("b", "c1", Source::Supervision, 2 * H);
        b.deadline_at = Some(10 * H);
        b.overdue_working_days = 2;
        b.reworks = vec![5 * H];
        let mut c = problem("c", "c2", Source::GridPatrol, 3 * H);
        c.point_id = "same".into();
        let old = Earlier { point_id: "same".into(), category: c.category.clone(), found_at: -24 * H };
        let e = week_entries(&r, week, &[a, b, c], &[old], &[]);
        let of = |t: &str| e.iter().filter(|x| x.target == t).map(|x| (x.kind.as_str(), x.amount)).collect::<Vec<_>>();
        assert_eq!(of("c1"), [("found", -50), ("found", -50), ("rework", -30), ("overdue", -90)]);
        assert_eq!(of("c2"), [("found", -20), ("repeat", -50)]);
        assert!(e.iter().all(|x| !x.cause_id.is_empty() && !x.note.is_empty()));
        let ranked = rank(
            &[("c1".into(), "一社区".into()), ("c2".into(), "二社区".into()), ("c3".into(), "三社区".into())],
            &sums(&e),
            r.base,
        );
        assert_eq!(
            ranked.iter().map(|x| (x.target.as_str(), x.score, x.rank)).collect::<Vec<_>>(),
            [("c3", 10000, 1), ("c2", 9930, 2), ("c1", 9780, 3)]
        );
    }

    /// The rules name problem sources by the same codes problems are stored with: each source can
    /// be written into a rule (as the rules form and API send it) and a problem of it is charged.
    #[test]
    fn every_problem_source_can_be_named_in_a_rule_and_costs_points() {
        for source in Source::ALL {
            let mut r = RuleSet::default_for(Class::Window);
            r.found = serde_json::from_value(serde_json::json!([
                {"label": "按来源扣分", "sources": [source.as_str()], "points": -4}
            ]))
            .unwrap();
            assert!(r.validate().is_empty(), "{source:?}: {:?}", r.validate());
            let e = week_entries(&r, (0, 7 * 24 * H), &[problem("p", "w", source, H)], &[], &[]);
            assert_eq!(
                e.iter().map(|x| (x.kind, x.amount)).collect::<Vec<_>>(),
                [(EntryKind::Found, -40)],
                "{source:?}"
            );
        }
        let default = RuleSet::default_for(Class::Window);
        let e = week_entries(&default, (0, 7 * 24 * H), &[problem("p", "w", Source::WindowRating, H)], &[], &[]);
        assert_eq!(e.len(), 1, "a 窗口差评 costs points under the default window rules");
        assert_eq!(e[0].note, "窗口服务差评 Qp");
    }

    #[test]
    fn caps_cut_the_entry_that_crosses_them_and_say_so() {
        let mut r = RuleSet::default_for(Class::Unit);
        r.deduction_cap = 12.0;
        let week = (0, 7 * 24 * H);
        let ps: Vec<ProblemFact> =
            (0..3).map(|i| problem(&format!("p{i}"), "u", Source::Supervision, (i + 1) * H)).collect();
        let e = week_entries(&r, week, &ps, &[], &[]);
        assert_eq!(e.iter().map(|x| x.amount).collect::<Vec<_>>(), [-50, -50, -20]);
        assert!(e[2].note.contains("扣分上限"));
        assert_eq!(e.iter().map(|x| x.amount).sum::<i64>(), -120);
        // A fourth find past the cap costs nothing and is listed as taken by the cap; scored
        // without notes (as the ranking's sums are) the same entries come out.
        let ps: Vec<ProblemFact> =
            (0..4).map(|i| problem(&format!("p{i}"), "u", Source::Supervision, (i + 1) * H)).collect();
        let e = week_entries(&r, week, &ps, &[], &[]);
        assert_eq!(e.iter().map(|x| x.amount).collect::<Vec<_>>(), [-50, -50, -20, 0]);
        assert!(e[3].note.contains("扣分上限"), "{}", e[3].note);
        let lean = week_entries_with(&r, week, &ps, &Repeats::new(&[]), &[], false);
        let facts = |e: &[Entry]| e.iter().map(|x| (x.target.clone(), x.at, x.kind, x.amount)).collect::<Vec<_>>();
        assert_eq!(facts(&lean), facts(&e));
        assert_eq!(sums(&lean), sums(&e));
        assert!(lean[..2].iter().all(|x| x.note.is_empty()), "no note written where none is read");
    }

    #[test]
    fn bad_rules_are_named() {
        let mut r = RuleSet::default_for(Class::Unit);
        assert!(r.validate().is_empty());
        r.deduction_cap = -1.0;
        r.found[0].sources.push(Source::Supervision);
        let e = r.validate();
        assert!(e.iter().any(|(f, m)| f == "deduction_cap" && m.contains("不能为负数")));
        assert!(e.iter().any(|(_, m)| m.contains("出现在两条规则里")));
        let moon = r#"{"label": "x", "sources": ["moon"], "points": -1}"#;
        let refused = serde_json::from_str::<FoundRule>(moon).unwrap_err().to_string();
        assert!(refused.contains("“moon”不是有效的问题来源"), "{refused}");
    }

    #[test]
    fn the_year_weighs_the_quarters_that_have_begun() {
        let w = YearWeights { q1: 10.0, q2: 20.0, q3: 30.0, q4: 40.0 };
        let q = [9000, 9500, 10000, 8000];
        // (900×10 + 950×20 + 1000×30 + 800×40) / 100 = 900 points
        assert_eq!(year_score(&q, &w, &[true; 4]), Some(9000));
        // Only the first half: (900×10 + 950×20) / 30 = 933.3
        assert_eq!(year_score(&q, &w, &[true, true, false, false]), Some(9333));
        assert_eq!(year_score(&q, &YearWeights { q1: 0.0, ..w }, &[true, false, false, false]), None);
        let mut r = RuleSet::default_for(Class::Unit);
        r.year_weights.q2 = -1.0;
        assert!(r.validate().iter().any(|(f, _)| f == "year_weights"));
    }

    #[test]
    fn composite_grades() {
        assert_eq!(composite(&[(100.0, 2.0), (70.0, 1.0)]), Some((90.0, 'A')));
        assert_eq!(composite(&[(39.9, 1.0)]), Some((39.9, 'E')));
        assert_eq!(composite(&[]), None);
    }
}
