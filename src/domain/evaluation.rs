//! The evaluation season's rules: the legs of the national evaluation, the simulated rounds'
//! stratified draw and score rates, the city's quantitative indicators with their grade
//! thresholds (seed 004), and the questionnaires' skip logic.

use super::mutual::Seeded;
use std::collections::BTreeMap;

crate::vocab! {
    /// The three legs of the national evaluation (40 + 40 + 20).
    pub enum Leg: "测评方式" {
        Material("material", "网上材料"),
        Field("field", "实地考察"),
        Survey("survey", "问卷调查"),
    }
}

crate::vocab! {
    /// Where a simulated round stands.
    pub enum EvalState: "模拟测评状态" {
        Open("open", "测评中"),
        Published("published", "已发布"),
    }
}

crate::vocab! {
    /// A material indicator's submission.
    pub enum MaterialState: "申报状态" {
        Assigned("assigned", "待上传"),
        Submitted("submitted", "待审核"),
        Returned("returned", "已退回"),
        Accepted("accepted", "已通过"),
    }
}

crate::vocab! {
    /// What a survey is for.
    pub enum SurveyKind: "问卷类别" {
        /// Mirrors the national door-to-door survey: 知晓率, 支持率, 满意度 by area
        Resident("resident", "市民问卷"),
        /// 专题调研 of units or points
        Thematic("thematic", "专题调研"),
    }
}

crate::vocab! {
    pub enum SurveyState: "问卷状态" {
        Draft("draft", "编辑中"),
        Open("open", "收集中"),
        Closed("closed", "已结束"),
    }
}

crate::vocab! {
    pub enum QuestionKind: "题型" {
        Single("single", "单选"),
        Multi("multi", "多选"),
        Scale("scale", "量表（1-5分）"),
        Number("number", "数值"),
        Text("text", "填空"),
    }
}

crate::vocab! {
    /// The national survey's rates a question feeds.
    pub enum Metric: "统计口径" {
        None("none", "不计入"),
        Awareness("awareness", "知晓率"),
        Support("support", "支持率"),
        Satisfaction("satisfaction", "满意度"),
    }
}

crate::vocab! {
    /// The city's region, for the indicators whose thresholds differ (east and central vs west).
    pub enum Region: "城市所在地区" {
        East("east", "东部、中部、东北部"),
        West("west", "西部"),
    }
}

/// Earned over possible points.
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize, utoipa::ToSchema)]
pub struct Rate {
    pub earned: f64,
    pub possible: f64,
}

impl Rate {
    pub fn add(&mut self, earned: f64, possible: f64) {
        self.earned += earned;
        self.possible += possible;
    }

    /// 得分率 in percent, one decimal; None when nothing was possible.
    pub fn pct(&self) -> Option<f64> {
        (self.possible > 0.0).then(|| (self.earned * 1000.0 / self.possible).round() / 10.0)
    }

    pub fn text(&self) -> String {
        self.pct().map(|p| format!("{p:.1}%")).unwrap_or_else(|| "—".into())
    }
}

/// A point the draw may take: (id, type code).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    pub id: String,
    pub type_code: String,
}

/// The stratified draw of a round: for every point type with a quota, the fixed points of that
/// type first, then a seeded random choice among the others until the quota is met (all of them
/// when there are fewer). Fixed points of a type without a quota are still included. The result
/// is sorted by id so that the same candidates, quotas, fixed points and seed always give the
/// same sample, whatever order the database returned them in.
pub fn draw(candidates: &[Candidate], quotas: &BTreeMap<String, usize>, fixed: &[String], seed: u64) -> Vec<String> {
    let mut sorted: Vec<&Candidate> = candidates.iter().collect();
    sorted.sort_by(|a, b| a.id.cmp(&b.id));
    let mut out: Vec<String> = Vec::new();
    for (type_code, &quota) in quotas {
        // Each stratum has its own stream, so changing one type's quota leaves the others alone.
        let mut rng = Seeded::new(seed ^ fnv(type_code));
        let of_type: Vec<&&Candidate> = sorted.iter().filter(|c| &c.type_code == type_code).collect();
        let (pinned, mut rest): (Vec<&&Candidate>, Vec<&&Candidate>) =
            of_type.into_iter().partition(|c| fixed.contains(&c.id));
        rng.shuffle(&mut rest);
        let left = quota.saturating_sub(pinned.len());
        out.extend(pinned.iter().map(|c| c.id.clone()));
        out.extend(rest.iter().take(left).map(|c| c.id.clone()));
    }
    for c in &sorted {
        if fixed.contains(&c.id) && !quotas.contains_key(&c.type_code) {
            out.push(c.id.clone());
        }
    }
    out.sort();
    out.dedup();
    out
}

/// FNV-1a of a text (a stable hash across machines and releases).
pub fn fnv(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ b as u64).wrapping_mul(0x0000_0100_0000_01b3))
}

/// Parses quotas written as "社区:20，背街小巷:10" or one per line, by the point types' names
/// or codes; (type code → count) or the Chinese reason.
pub fn parse_quotas(text: &str, types: &[(String, String)]) -> Result<BTreeMap<String, usize>, String> {
    let mut out = BTreeMap::new();
    for part in text.split([',', '，', ';', '；', '\n']).map(str::trim).filter(|s| !s.is_empty()) {
        let (name, n) = part.split_once([':', '：', '=']).ok_or_else(|| format!("“{part}”应写成“点位类型:数量”"))?;
        let (name, n) = (name.trim(), n.trim());
        let code = types
            .iter()
            .find(|(c, l)| c == name || l == name)
            .map(|(c, _)| c.clone())
            .ok_or_else(|| format!("没有名为“{name}”的点位类型"))?;
        let n: usize =
            n.parse().ok().filter(|n| (1..=500).contains(n)).ok_or_else(|| format!("“{part}”的数量应为1至500"))?;
        if out.insert(code, n).is_some() {
            return Err(format!("点位类型“{name}”写了两次"));
        }
    }
    if out.is_empty() {
        return Err("请填写各类点位的抽取数量，如“社区:20，背街小巷:10”".into());
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------------
// The city's quantitative indicators (seed 004, 文明城市创建七大要求).

/// Strictly above (>) or at least (≥).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Gt,
    Ge,
}

impl Op {
    pub fn holds(self, value: f64, threshold: f64) -> bool {
        match self {
            Op::Gt => value > threshold,
            Op::Ge => value >= threshold,
        }
    }

    pub fn sign(self) -> &'static str {
        match self {
            Op::Gt => ">",
            Op::Ge => "≥",
        }
    }
}

/// One grade an indicator can reach: its name, level (3 best) and the condition.
#[derive(Debug, Clone, Copy)]
pub struct Tier {
    pub grade: &'static str,
    pub level: u8,
    pub op: Op,
    pub threshold: f64,
}

const fn tier(grade: &'static str, level: u8, op: Op, threshold: f64) -> Tier {
    Tier { grade, level, op, threshold }
}

/// A quantitative requirement: the tiers, best first, and the grade below them all.
#[derive(Debug, Clone, Copy)]
pub struct CityIndicator {
    pub code: &'static str,
    pub group: &'static str,
    pub name: &'static str,
    pub unit: &'static str,
    pub east: &'static [Tier],
    /// Western cities' tiers where they differ
    pub west: Option<&'static [Tier]>,
    /// The grade when no tier holds, and its level
    pub floor: (&'static str, u8),
}

use Op::{Ge, Gt};

/// The indicators of seed 004 with their thresholds, as the requirement text states them.
pub const CITY_INDICATORS: &[CityIndicator] = &[
    CityIndicator {
        code: "green_space_rate",
        group: "城市绿化",
        name: "建成区绿地率",
        unit: "%",
        east: &[tier("优秀", 3, Gt, 31.0), tier("良好", 2, Gt, 28.0)],
        west: Some(&[tier("优秀", 3, Gt, 21.0), tier("良好", 2, Gt, 18.0)]),
        floor: ("达标", 1),
    },
    CityIndicator {
        code: "park_green_per_person",
        group: "城市绿化",
        name: "人均公园绿地面积",
        unit: "平方米",
        east: &[tier("优秀", 3, Gt, 8.0), tier("良好", 2, Gt, 6.0)],
        west: None,
        floor: ("达标", 1),
    },
    CityIndicator {
        code: "garbage_treatment_rate",
        group: "环境管理与环境质量",
        name: "生活垃圾无害化处理率",
        unit: "%",
        east: &[tier("优秀", 3, Gt, 95.0), tier("良好", 2, Gt, 90.0)],
        west: None,
        floor: ("达标", 1),
    },
    CityIndicator {
        code: "air_good_days",
        group: "环境管理与环境质量",
        name: "全年空气质量优良天数比例",
        unit: "%",
        east: &[tier("优秀", 3, Ge, 80.0), tier("良好", 2, Ge, 70.0)],
        west: None,
        floor: ("达标（需完成省级下达的年度目标任务）", 1),
    },
    CityIndicator {
        code: "water_good_rate",
        group: "环境管理与环境质量",
        name: "市辖区水质优良（达到或优于III类）比例",
        unit: "%",
        east: &[tier("达标", 1, Ge, 70.0)],
        west: None,
        floor: ("未达标（需连续三年上升）", 0),
    },
    CityIndicator {
        code: "main_road_lamps_installed",
        group: "公共服务·街道设施",
        name: "主干道装灯率",
        unit: "%",
        east: &[tier("达标", 1, Ge, 100.0)],
        west: None,
        floor: ("未达标", 0),
    },
    CityIndicator {
        code: "main_road_lamps_lit",
        group: "公共服务·街道设施",
        name: "主干道亮灯率",
        unit: "%",
        east: &[tier("达标", 1, Ge, 99.0)],
        west: None,
        floor: ("未达标", 0),
    },
    CityIndicator {
        code: "back_street_lamps_installed",
        group: "公共服务·街道设施",
        name: "街巷道路装灯率",
        unit: "%",
        east: &[tier("达标", 1, Ge, 100.0)],
        west: None,
        floor: ("未达标", 0),
    },
    CityIndicator {
        code: "back_street_lamps_lit",
        group: "公共服务·街道设施",
        name: "街巷道路亮灯率",
        unit: "%",
        east: &[tier("达标", 1, Ge, 95.0)],
        west: None,
        floor: ("未达标", 0),
    },
    CityIndicator {
        code: "moral_class_rate",
        group: "学校教育",
        name: "中小学校德育课、少先队活动课落实率",
        unit: "%",
        east: &[tier("合格", 3, Ge, 100.0), tier("基本合格", 2, Ge, 80.0)],
        west: None,
        floor: ("不合格", 0),
    },
    CityIndicator {
        code: "sports_area_per_person",
        group: "基层文化设施",
        name: "人均体育场地面积",
        unit: "平方米",
        east: &[tier("达标", 1, Gt, 1.08)],
        west: None,
        floor: ("未达标", 0),
    },
    CityIndicator {
        code: "exercise_points_per_street",
        group: "基层文化设施",
        name: "每个街道晨晚练体育活动点",
        unit: "个",
        east: &[tier("达标", 1, Ge, 5.0)],
        west: None,
        floor: ("未达标", 0),
    },
];

impl CityIndicator {
    pub fn tiers(&self, region: Region) -> &'static [Tier] {
        match (region, self.west) {
            (Region::West, Some(w)) => w,
            _ => self.east,
        }
    }

    /// The grade of a value: the first tier whose condition holds, else the floor; (grade, level).
    pub fn grade(&self, region: Region, value: f64) -> (&'static str, u8) {
        self.tiers(region)
            .iter()
            .find(|t| t.op.holds(value, t.threshold))
            .map(|t| (t.grade, t.level))
            .unwrap_or(self.floor)
    }

    /// The best level the indicator can reach.
    pub fn top(&self) -> u8 {
        self.east.first().map(|t| t.level).unwrap_or(self.floor.1)
    }

    /// How far below the next better grade, relative to its threshold (0 at the top); orders
    /// the weakest indicators first among equal gaps.
    pub fn shortfall(&self, region: Region, value: f64) -> f64 {
        let tiers = self.tiers(region);
        let reached = tiers.iter().position(|t| t.op.holds(value, t.threshold)).unwrap_or(tiers.len());
        match reached.checked_sub(1).and_then(|i| tiers.get(i)) {
            Some(next) if next.threshold != 0.0 => ((next.threshold - value) / next.threshold).max(0.0),
            _ => 0.0,
        }
    }

    /// The thresholds as the requirement reads: "> 31% 优秀，> 28% 良好，其余 达标".
    pub fn rule_text(&self, region: Region) -> String {
        let mut parts: Vec<String> = self
            .tiers(region)
            .iter()
            .map(|t| format!("{}{}{} {}", t.op.sign(), t.threshold, self.unit, t.grade))
            .collect();
        parts.push(format!("其余 {}", self.floor.0));
        parts.join("，")
    }
}

pub fn city_indicator(code: &str) -> Option<&'static CityIndicator> {
    CITY_INDICATORS.iter().find(|i| i.code == code)
}

// ---------------------------------------------------------------------------------------------
// Questionnaires.

/// Where an answer sends the respondent: (option number from 1, target question id or "end").
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct Skip {
    pub option: usize,
    pub to: String,
}

/// One question of a questionnaire.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct Question {
    /// q1, q2, … (stable while the survey is edited)
    pub id: String,
    pub kind: QuestionKind,
    pub title: String,
    #[serde(default)]
    pub options: Vec<String>,
    #[serde(default)]
    pub required: bool,
    /// The national rate the question feeds (single choice only)
    #[serde(default = "no_metric")]
    pub metric: Metric,
    /// Option numbers (from 1) that count as aware / supporting / satisfied
    #[serde(default)]
    pub positive: Vec<usize>,
    #[serde(default)]
    pub skips: Vec<Skip>,
}

fn no_metric() -> Metric {
    Metric::None
}

impl Question {
    pub fn choice(&self) -> bool {
        matches!(self.kind, QuestionKind::Single | QuestionKind::Multi)
    }

    /// "选1→跳至q4；选2→结束"
    pub fn skip_text(&self) -> String {
        self.skips
            .iter()
            .map(|s| {
                if s.to == "end" {
                    format!("选{}→结束", s.option)
                } else {
                    format!("选{}→跳至{}", s.option, s.to)
                }
            })
            .collect::<Vec<_>>()
            .join("；")
    }
}

/// An answer as given: the chosen option numbers (from 1), a scale value or a text.
pub type Answers = BTreeMap<String, Vec<String>>;

/// The questions a respondent with these answers is asked, in order: a skip rule on a chosen
/// option jumps forward to its target (or ends the questionnaire).
pub fn path<'a>(questions: &'a [Question], answers: &Answers) -> Vec<&'a Question> {
    let mut out = Vec::new();
    let mut i = 0;
    while let Some(q) = questions.get(i) {
        out.push(q);
        let chosen: Vec<usize> =
            answers.get(&q.id).map(|v| v.iter().filter_map(|a| a.parse().ok()).collect()).unwrap_or_default();
        let jump = q.skips.iter().find(|s| q.choice() && chosen.contains(&s.option));
        match jump {
            Some(s) if s.to == "end" => break,
            Some(s) => match questions.iter().position(|x| x.id == s.to) {
                Some(j) if j > i => i = j,
                _ => i += 1,
            },
            None => i += 1,
        }
    }
    out
}

/// Checks a response against its questionnaire: every required question on the respondent's
/// path answered, choices among the options, scales 1-5, numbers numbers, texts at most 500
/// characters; answers to questions off the path are dropped. (kept answers, or the mistakes by
/// question id).
pub fn check_answers(questions: &[Question], answers: &Answers) -> Result<Answers, Vec<(String, String)>> {
    let mut errors = Vec::new();
    let mut kept = Answers::new();
    for q in path(questions, answers) {
        let mut given: Vec<String> = answers
            .get(&q.id)
            .map(|v| v.iter().map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect())
            .unwrap_or_default();
        if q.kind == QuestionKind::Multi {
            given.sort();
        }
        given.dedup();
        if given.len() > q.options.len().max(1) {
            errors.push((q.id.clone(), format!("“{}”：选项过多", q.title)));
            continue;
        }
        if given.is_empty() {
            if q.required {
                errors.push((q.id.clone(), format!("请回答“{}”", q.title)));
            }
            continue;
        }
        let ok = match q.kind {
            QuestionKind::Single => {
                given.len() == 1 && given[0].parse::<usize>().is_ok_and(|n| (1..=q.options.len()).contains(&n))
            }
            QuestionKind::Multi => {
                given.iter().all(|a| a.parse::<usize>().is_ok_and(|n| (1..=q.options.len()).contains(&n)))
            }
            QuestionKind::Scale => given.len() == 1 && given[0].parse::<u8>().is_ok_and(|n| (1..=5).contains(&n)),
            QuestionKind::Number => {
                given.len() == 1 && given[0].parse::<f64>().is_ok_and(|n| n.is_finite() && (0.0..1e12).contains(&n))
            }
            QuestionKind::Text => given.len() == 1 && given[0].chars().count() <= 500,
        };
        if ok {
            kept.insert(q.id.clone(), given);
        } else {
            let why = match q.kind {
                QuestionKind::Scale => "请选择1至5分",
                QuestionKind::Number => "请填写0至1万亿之间的数字",
                QuestionKind::Text => "请在500字以内作答",
                _ => "请从选项中选择",
            };
            errors.push((q.id.clone(), format!("“{}”：{why}", q.title)));
        }
    }
    if errors.is_empty() { Ok(kept) } else { Err(errors) }
}

/// A questionnaire's structure checked: at least one question, choices with 2-20 options, skip
/// targets forward and existing, metrics on single choices with positive options.
pub fn check_questions(questions: &[Question]) -> Result<(), String> {
    if questions.is_empty() {
        return Err("问卷至少需要一道题".into());
    }
    for (i, q) in questions.iter().enumerate() {
        let n = format!("{}（第{}题“{}”）", q.id, i + 1, q.title);
        if q.choice() && !(2..=20).contains(&q.options.len()) {
            return Err(format!("{n}应有2至20个选项"));
        }
        for s in &q.skips {
            if q.kind != QuestionKind::Single {
                return Err(format!("{n}：只有单选题可以设置跳题规则"));
            }
            if s.option == 0 || s.option > q.options.len() {
                return Err(format!("{n}的跳题规则引用了不存在的选项{}", s.option));
            }
            if s.to != "end" && !questions.iter().any(|x| x.id == s.to) {
                return Err(format!("{n}的跳题目标{}不存在，请先添加该题或删除本题后重新设置", s.to));
            }
            if s.to != "end" && !questions.iter().skip(i + 1).any(|x| x.id == s.to) {
                return Err(format!("{n}的跳题只能跳到后面的题目（{}在其前面）", s.to));
            }
        }
        if q.metric != Metric::None {
            if q.kind != QuestionKind::Single {
                return Err(format!("{n}：只有单选题可计入{}", q.metric.label()));
            }
            if q.positive.is_empty() || q.positive.iter().any(|p| *p == 0 || *p > q.options.len()) {
                return Err(format!("{n}：请指明哪些选项计为{}", q.metric.label()));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cands() -> Vec<Candidate> {
        (0..60)
            .map(|i| Candidate { id: format!("p{i:02}"), type_code: ["road", "community", "bank"][i % 3].into() })
            .collect()
    }

    #[test]
    fn the_draw_is_stratified_reproducible_and_keeps_fixed_points() {
        let quotas: BTreeMap<String, usize> = [("road".into(), 5), ("community".into(), 3)].into();
        let fixed = vec!["p00".to_string(), "p02".to_string()];
        let a = draw(&cands(), &quotas, &fixed, 42);
        let of = |t: &str| a.iter().filter(|id| cands().iter().any(|c| &c.id == *id && c.type_code == t)).count();
        assert_eq!((of("road"), of("community")), (5, 3));
        assert_eq!(of("bank"), 1, "a fixed point of a type without quota is still taken");
        assert!(a.contains(&"p00".to_string()) && a.contains(&"p02".to_string()));
        let mut shuffled = cands();
        shuffled.reverse();
        assert_eq!(a, draw(&shuffled, &quotas, &fixed, 42), "the order of the candidates does not matter");
        assert_ne!(a, draw(&cands(), &quotas, &fixed, 43));
        let big: BTreeMap<String, usize> = [("road".into(), 500)].into();
        assert_eq!(draw(&cands(), &big, &[], 1).len(), 20, "a quota above the stratum takes all of it");
    }

    #[test]
    fn quotas_read_names_and_codes() {
        let types = vec![("road".to_string(), "主次干道".to_string()), ("community".to_string(), "社区".to_string())];
        let q = parse_quotas("主次干道:5，community：3", &types).unwrap();
        assert_eq!(q.get("road"), Some(&5));
        assert_eq!(q.get("community"), Some(&3));
        assert!(parse_quotas("菜市场:2", &types).unwrap_err().contains("菜市场"));
        assert!(parse_quotas("社区:0", &types).is_err());
        assert!(parse_quotas("", &types).is_err());
    }

    #[test]
    fn green_space_grades_at_the_boundaries() {
        let g = city_indicator("green_space_rate").unwrap();
        assert_eq!(g.grade(Region::East, 31.01).0, "优秀");
        assert_eq!(g.grade(Region::East, 31.0).0, "良好", "31% is not above 31%");
        assert_eq!(g.grade(Region::East, 28.0).0, "达标");
        assert_eq!(g.grade(Region::West, 21.5).0, "优秀");
        assert_eq!(g.grade(Region::West, 18.0).0, "达标");
        let air = city_indicator("air_good_days").unwrap();
        assert_eq!(air.grade(Region::East, 80.0).0, "优秀", "≥80% includes 80%");
        assert_eq!(air.grade(Region::East, 79.9).0, "良好");
        let lit = city_indicator("main_road_lamps_lit").unwrap();
        assert_eq!(lit.grade(Region::East, 98.9), ("未达标", 0));
        assert!(lit.shortfall(Region::East, 98.0) > 0.0);
        assert_eq!(lit.shortfall(Region::East, 99.0), 0.0);
    }

    fn q(id: &str, kind: QuestionKind, options: usize, skips: Vec<Skip>) -> Question {
        Question {
            id: id.into(),
            kind,
            title: id.into(),
            options: (1..=options).map(|i| format!("选项{i}")).collect(),
            required: true,
            metric: Metric::None,
            positive: vec![],
            skips,
        }
    }

    #[test]
    fn skip_logic_drops_what_was_skipped() {
        let qs = vec![
            q("q1", QuestionKind::Single, 2, vec![Skip { option: 2, to: "q3".into() }]),
            q("q2", QuestionKind::Scale, 0, vec![]),
            q("q3", QuestionKind::Single, 2, vec![Skip { option: 1, to: "end".into() }]),
            q("q4", QuestionKind::Text, 0, vec![]),
        ];
        assert!(check_questions(&qs).is_ok());
        let a: Answers =
            [("q1".into(), vec!["2".into()]), ("q2".into(), vec!["5".into()]), ("q3".into(), vec!["1".into()])].into();
        let kept = check_answers(&qs, &a).unwrap();
        assert!(!kept.contains_key("q2"), "q2 was skipped");
        let a: Answers = [("q1".into(), vec!["1".into()]), ("q3".into(), vec!["2".into()])].into();
        let errs = check_answers(&qs, &a).unwrap_err();
        assert_eq!(errs.iter().map(|e| e.0.as_str()).collect::<Vec<_>>(), vec!["q2", "q4"]);
        let back = vec![
            q("q1", QuestionKind::Single, 2, vec![]),
            q("q2", QuestionKind::Single, 2, vec![Skip { option: 1, to: "q1".into() }]),
        ];
        assert!(check_questions(&back).is_err(), "no jumping back");
    }
}
