//! 千分制 pages: the ranking of a class for a period, a target's ledger entry by entry, and the
//! rules (draft, what-if preview, publish) for the office.

use super::opt;
use crate::domain::problem::Source;
use crate::domain::role::Role;
use crate::domain::score::CauseType;
use crate::domain::score::{Class, Entry, FoundRule, RuleSet};
use crate::domain::time::fmt_local;
use crate::error::AppError;
use crate::service::scoring::{
    self as svc, Ledger, RankLine, SpanKind, WhatIf, YearAssessment, parse_class, parse_day,
};
use crate::store::scoring as store;
use crate::web::auth::{CsrfForm, PageUser};
use crate::web::error::PageResult;
use crate::web::list::{self, Cell, Column, Flash, Input, Listed, Listing, Paging, sheet_col};
use crate::web::lists::Awards;
use crate::web::query::Query;
use crate::web::ui::{Layout, Opt};
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, RawQuery};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

/// Tenths of a point as the page shows them: 1000, 997.5.
pub fn pts(t: &i64) -> String {
    crate::domain::score::fmt_points(*t)
}

#[derive(Deserialize, Default)]
pub struct RankQuery {
    class: Option<String>,
    period: Option<String>,
    date: Option<String>,
    export: Option<String>,
    effective_from: Option<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "scores/ranking.html")]
pub struct RankingPage {
    l: Layout,
    classes: Vec<Opt>,
    periods: Vec<Opt>,
    class: String,
    period: String,
    date: String,
    label: String,
    lines: Vec<RankLine>,
    is_admin: bool,
    /// week or month: the period red flags of the class are awarded for, and its 周/月
    flag_period: String,
    flag_label: &'static str,
    /// open (the button), awarded or not_over
    flag_state: &'static str,
    /// The names whose ledger the reader opens (a unit its own): linked; the others are text
    opens: std::collections::HashSet<String>,
}

impl RankingPage {
    fn change(&self, l: &RankLine) -> String {
        match l.prev_rank {
            Some(p) if p > l.now.rank => format!("↑{}", p - l.now.rank),
            Some(p) if p < l.now.rank => format!("↓{}", l.now.rank - p),
            Some(_) => "—".into(),
            None => "".into(),
        }
    }
}

pub async fn ranking(page: PageUser, Query(q): Query<RankQuery>) -> PageResult<Response> {
    let class = parse_class(opt(&q.class).as_deref().unwrap_or("unit"))?;
    let kind = SpanKind::parse(q.period.as_deref().unwrap_or(""))?;
    let day = parse_day(q.date.as_deref())?;
    let r = svc::ranking(&page.state.db, class, kind, day).await?;
    let flag_span = svc::flag_span(&page.state.db, class, day).await?;
    let flag_kind = flag_span.kind;
    let flag_state = if flag_span.to > crate::domain::time::now_ms() {
        "not_over"
    } else if store::awards(&page.state.db, &svc::red_flags_of_period(class, flag_span.from)).await?.is_empty() {
        "open"
    } else {
        "awarded"
    };
    if q.export.as_deref() == Some("xlsx") {
        let columns: Vec<Column<svc::RankLine>> = vec![
            sheet_col("名次", |l: &svc::RankLine| Cell::Int(l.now.rank)),
            sheet_col("名称", |l: &svc::RankLine| Cell::text(&l.now.name)),
            sheet_col("得分", |l: &svc::RankLine| Cell::points(Some(l.now.score))),
            sheet_col("上期名次", |l: &svc::RankLine| {
                l.prev_rank.map(Cell::Int).unwrap_or_else(|| Cell::Muted(String::new()))
            }),
            sheet_col("上期得分", |l: &svc::RankLine| Cell::points(l.prev_score)),
            sheet_col("末位", |l: &svc::RankLine| Cell::text(if l.last { "末位" } else { "" })),
            sheet_col("红旗", |l: &svc::RankLine| Cell::text(if l.red_flag { "流动红旗" } else { "" })),
        ];
        let name = format!("{}千分制排名（{}）", class.label(), r.span.label);
        return Ok(list::xlsx(&name, vec![list::sheet("排名", &columns, &r.lines)]));
    }
    Ok(RankingPage {
        l: Layout::new(&page.user, "scores", "千分制排名"),
        classes: Class::ALL.iter().map(|c| Opt::new(c.as_str(), c.label())).collect(),
        periods: [SpanKind::Week, SpanKind::Month, SpanKind::Quarter, SpanKind::Year]
            .iter()
            .map(|k| Opt::new(serde_json::to_value(k).unwrap().as_str().unwrap_or(""), k.label()))
            .collect(),
        class: class.as_str().into(),
        period: serde_json::to_value(kind).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default(),
        date: day.format("%Y-%m-%d").to_string(),
        label: r.span.label.clone(),
        lines: r.lines.clone(),
        is_admin: page.user.role == Role::Admin,
        flag_period: serde_json::to_value(flag_kind)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default(),
        flag_label: flag_kind.label(),
        flag_state,
        opens: r
            .lines
            .iter()
            .filter(|l| svc::opens_ledger(&page.user, class, &l.now.target))
            .map(|l| l.now.target.clone())
            .collect(),
    }
    .into_response())
}

#[derive(Template, WebTemplate)]
#[template(path = "scores/ledger.html")]
pub struct LedgerPage {
    l: Layout,
    x: Ledger,
    rows: Vec<(Entry, String)>,
    period: String,
    date: String,
    flags: Vec<String>,
}

pub async fn ledger(
    page: PageUser,
    Path((class, target)): Path<(String, String)>,
    Query(q): Query<RankQuery>,
) -> PageResult<LedgerPage> {
    let class = parse_class(&class)?;
    let kind = SpanKind::parse(q.period.as_deref().unwrap_or(""))?;
    let day = parse_day(q.date.as_deref())?;
    let x = svc::ledger(&page.ctx(), class, &target, kind, day).await?;
    let flags = store::red_flags_of(&page.state.db, &target)
        .await?
        .into_iter()
        .map(|a| format!("{} {}", &fmt_local(a.period_start.unwrap_or(a.at))[..10], a.note))
        .collect();
    Ok(LedgerPage {
        l: Layout::new(&page.user, "scores", format!("{} 得分明细", x.name)),
        rows: x.entries.iter().map(|e| (e.clone(), fmt_local(e.at)[..16].to_string())).collect(),
        period: q.period.clone().unwrap_or_else(|| "week".into()),
        date: day.format("%Y-%m-%d").to_string(),
        flags,
        x,
    })
}

/// One row of the found-problem deductions as the form shows it.
#[derive(Clone, Default)]
pub struct FoundRow {
    pub label: String,
    pub points: String,
    /// Source codes ticked
    pub sources: Vec<String>,
}

/// Blank rows offered under the rules, for adding one.
const BLANK_FOUND_ROWS: usize = 2;

/// The rules form: scalar values, and the found-problem deductions as rows of a table (name,
/// the sources ticked, points); a ticked source is posted as "row:source".
#[derive(Deserialize, Default, Clone)]
pub struct RulesForm {
    #[serde(default)]
    class: String,
    /// The draft's version the form was read at (none before the first draft)
    #[serde(default, deserialize_with = "crate::service::version")]
    version: Option<i64>,
    #[serde(default)]
    base: String,
    #[serde(default)]
    found_label: Vec<String>,
    #[serde(default)]
    found_points: Vec<String>,
    #[serde(default)]
    found_src: Vec<String>,
    #[serde(default)]
    on_spot_minutes: String,
    #[serde(default)]
    on_spot_factor: String,
    #[serde(default)]
    overdue_points: String,
    #[serde(default)]
    overdue_per_day_points: String,
    #[serde(default)]
    rework_points: String,
    #[serde(default)]
    reopen_points: String,
    #[serde(default)]
    dissatisfied_points: String,
    #[serde(default)]
    repeat_points: String,
    #[serde(default)]
    repeat_days: String,
    #[serde(default)]
    commendation_points: String,
    #[serde(default)]
    red_flag_points: String,
    #[serde(default)]
    clean_point_points: String,
    #[serde(default)]
    deduction_cap: String,
    #[serde(default)]
    bonus_cap: String,
    #[serde(default)]
    red_flag_top_n: String,
    #[serde(default)]
    red_flag_min_score: String,
    #[serde(default)]
    w_closure: String,
    #[serde(default)]
    w_on_time: String,
    #[serde(default)]
    w_rework: String,
    #[serde(default)]
    w_extension: String,
    #[serde(default)]
    y_q1: String,
    #[serde(default)]
    y_q2: String,
    #[serde(default)]
    y_q3: String,
    #[serde(default)]
    y_q4: String,
    #[serde(default)]
    red_flag_period: String,
    #[serde(default)]
    rating_weight: String,
}

impl RulesForm {
    fn from_rules(class: Class, r: &RuleSet) -> RulesForm {
        let n = |v: f64| if v.fract() == 0.0 { format!("{v:.0}") } else { v.to_string() };
        RulesForm {
            class: class.as_str().into(),
            version: None,
            base: n(r.base),
            found_label: r.found.iter().map(|f| f.label.clone()).collect(),
            found_points: r.found.iter().map(|f| n(f.points)).collect(),
            found_src: r
                .found
                .iter()
                .enumerate()
                .flat_map(|(i, f)| f.sources.iter().map(move |s| format!("{i}:{}", s.as_str())))
                .collect(),
            on_spot_minutes: r.on_spot_minutes.to_string(),
            on_spot_factor: n(r.on_spot_factor),
            overdue_points: n(r.overdue_points),
            overdue_per_day_points: n(r.overdue_per_day_points),
            rework_points: n(r.rework_points),
            reopen_points: n(r.reopen_points),
            dissatisfied_points: n(r.dissatisfied_points),
            repeat_points: n(r.repeat_points),
            repeat_days: r.repeat_days.to_string(),
            commendation_points: n(r.commendation_points),
            red_flag_points: n(r.red_flag_points),
            clean_point_points: n(r.clean_point_points),
            deduction_cap: n(r.deduction_cap),
            bonus_cap: n(r.bonus_cap),
            red_flag_top_n: r.red_flag_top_n.to_string(),
            red_flag_min_score: n(r.red_flag_min_score),
            w_closure: n(r.composite.closure),
            w_on_time: n(r.composite.on_time),
            w_rework: n(r.composite.rework),
            w_extension: n(r.composite.extension),
            y_q1: n(r.year_weights.q1),
            y_q2: n(r.year_weights.q2),
            y_q3: n(r.year_weights.q3),
            y_q4: n(r.year_weights.q4),
            red_flag_period: r.red_flag_period.as_str().into(),
            rating_weight: n(r.rating_weight),
        }
    }

    /// The found-problem rows as posted, with `blank` empty rows after them.
    pub fn found_rows(&self, blank: usize) -> Vec<FoundRow> {
        let rows = self.found_label.len().max(self.found_points.len());
        let mut out: Vec<FoundRow> = (0..rows)
            .map(|i| FoundRow {
                label: self.found_label.get(i).cloned().unwrap_or_default(),
                points: self.found_points.get(i).cloned().unwrap_or_default(),
                sources: self
                    .found_src
                    .iter()
                    .filter_map(|v| v.split_once(':'))
                    .filter(|(r, _)| r.parse::<usize>() == Ok(i))
                    .map(|(_, s)| s.to_string())
                    .collect(),
            })
            .collect();
        out.extend(std::iter::repeat_n(FoundRow::default(), blank));
        out
    }

    /// The rule set, or the first field that is not a number or not a known source.
    fn to_rules(&self) -> Result<RuleSet, String> {
        let f = |v: &str, what: &str| v.trim().parse::<f64>().map_err(|_| format!("“{what}”应为数字"));
        let i = |v: &str, what: &str| v.trim().parse::<i64>().map_err(|_| format!("“{what}”应为整数"));
        let mut found = Vec::new();
        for (i, row) in self.found_rows(0).into_iter().enumerate() {
            let n = i + 1;
            if row.label.trim().is_empty() && row.points.trim().is_empty() && row.sources.is_empty() {
                continue; // a blank row left blank
            }
            if row.label.trim().is_empty() {
                return Err(format!("发现问题扣分第{n}行请填写名称"));
            }
            if row.sources.is_empty() {
                return Err(format!("发现问题扣分第{n}行（{}）请至少勾选一个问题来源", row.label.trim()));
            }
            found.push(FoundRule {
                label: row.label.trim().into(),
                sources: row
                    .sources
                    .iter()
                    .map(|s| Source::parse_any(s).ok_or_else(|| format!("发现问题扣分第{n}行的问题来源“{s}”不存在")))
                    .collect::<Result<_, _>>()?,
                points: f(&row.points, &format!("发现问题扣分第{n}行（{}）的分值", row.label.trim()))?,
            });
        }
        Ok(RuleSet {
            base: f(&self.base, "基础分")?,
            found,
            on_spot_minutes: i(&self.on_spot_minutes, "现场整改时限")?,
            on_spot_factor: f(&self.on_spot_factor, "现场整改系数")?,
            overdue_points: f(&self.overdue_points, "逾期扣分")?,
            overdue_per_day_points: f(&self.overdue_per_day_points, "逾期每日扣分")?,
            rework_points: f(&self.rework_points, "返工扣分")?,
            // Forms saved before these rules existed leave them out: the defaults then.
            reopen_points: if self.reopen_points.trim().is_empty() {
                crate::domain::score::default_reopen_points()
            } else {
                f(&self.reopen_points, "群众反映未解决扣分")?
            },
            dissatisfied_points: if self.dissatisfied_points.trim().is_empty() {
                crate::domain::score::default_dissatisfied_points()
            } else {
                f(&self.dissatisfied_points, "群众不满意扣分")?
            },
            repeat_points: f(&self.repeat_points, "重复问题扣分")?,
            repeat_days: i(&self.repeat_days, "重复认定天数")?,
            commendation_points: f(&self.commendation_points, "表扬加分")?,
            red_flag_points: f(&self.red_flag_points, "流动红旗加分")?,
            clean_point_points: f(&self.clean_point_points, "检查无问题加分")?,
            deduction_cap: f(&self.deduction_cap, "每周扣分上限")?,
            bonus_cap: f(&self.bonus_cap, "每周加分上限")?,
            red_flag_top_n: i(&self.red_flag_top_n, "流动红旗名额")?,
            red_flag_min_score: f(&self.red_flag_min_score, "流动红旗最低分")?,
            composite: crate::domain::score::CompositeWeights {
                closure: f(&self.w_closure, "结案率权重")?,
                on_time: f(&self.w_on_time, "按期结案率权重")?,
                rework: f(&self.w_rework, "返工率权重")?,
                extension: f(&self.w_extension, "延期率权重")?,
            },
            year_weights: crate::domain::score::YearWeights {
                q1: f(&self.y_q1, "第一季度权重")?,
                q2: f(&self.y_q2, "第二季度权重")?,
                q3: f(&self.y_q3, "第三季度权重")?,
                q4: f(&self.y_q4, "第四季度权重")?,
            },
            red_flag_period: match self.red_flag_period.trim() {
                // A form from before the field existed keeps the weekly default.
                "" => crate::domain::score::FlagPeriod::Week,
                p => crate::domain::score::FlagPeriod::parse(p).ok_or("流动红旗评定周期应为每周或每月")?,
            },
            rating_weight: match self.rating_weight.trim() {
                "" => 0.0,
                _ => f(&self.rating_weight, "群众评价权重")?,
            },
        })
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "scores/rules.html")]
pub struct RulesPage {
    l: Layout,
    classes: Vec<Opt>,
    class: String,
    published_no: i64,
    draft_no: Option<i64>,
    f: RulesForm,
    /// The found-problem deductions as rows, with blank rows to add one
    found_rows: Vec<FoundRow>,
    /// Every problem source a row can tick: code and Chinese name
    sources: Vec<Opt>,
    errors: Vec<String>,
    preview: Vec<WhatIf>,
    /// The week the draft would take effect in (YYYY-MM-DD), as chosen or by default
    effective: String,
    /// Every version: number, status, effective from, published at
    versions: Vec<(i64, String, String, String)>,
}

async fn rules_page(
    page: &PageUser,
    class: Class,
    form: Option<RulesForm>,
    mut errors: Vec<String>,
    effective: Option<&str>,
) -> PageResult<RulesPage> {
    if page.user.role != Role::Admin {
        return Err(AppError::Forbidden.into());
    }
    let db = &page.state.db;
    let (published, rules) = svc::published(db, class).await?;
    let draft = store::scheme_in(db, class, crate::domain::standard::Publication::Draft).await?;
    let shown = match (&form, &draft) {
        (Some(f), _) => f.clone(),
        (None, Some(d)) => RulesForm {
            version: Some(d.version),
            ..RulesForm::from_rules(class, &serde_json::from_str(&d.rules).unwrap_or(rules))
        },
        (None, None) => RulesForm::from_rules(class, &rules),
    };
    // The preview covers the week the draft would take effect in.
    let chosen = match effective.map(str::trim).filter(|d| !d.is_empty()) {
        Some(d) => Some(parse_day(Some(d))?),
        None => None,
    };
    let from = match svc::effective_from(db, class, chosen).await {
        Ok(t) => t,
        Err(e @ (AppError::Refused(..) | AppError::Validation(_))) => {
            errors.push(crate::web::error::message_of(&e));
            svc::effective_from(db, class, None).await?
        }
        Err(e) => return Err(e.into()),
    };
    let from_day =
        chrono::NaiveDate::parse_from_str(&fmt_local(from)[..10], "%Y-%m-%d").map_err(|_| AppError::NotFound)?;
    let preview = if draft.is_some() {
        svc::preview(&page.ctx(), class, SpanKind::Week, from_day, Some(from_day)).await?
    } else {
        Vec::new()
    };
    let versions = store::schemes(db, class)
        .await?
        .into_iter()
        .map(|v| {
            (
                v.version_no,
                v.status.label().to_string(),
                v.effective_from
                    .map(|t| fmt_local(t)[..10].to_string())
                    .unwrap_or_else(|| if v.published_at.is_some() { "启用之初".into() } else { String::new() }),
                v.published_at.map(|t| fmt_local(t)[..16].to_string()).unwrap_or_default(),
            )
        })
        .collect();
    Ok(RulesPage {
        l: Layout::new(&page.user, "score_rules", "评分规则"),
        classes: Class::ALL.iter().map(|c| Opt::new(c.as_str(), c.label())).collect(),
        class: class.as_str().into(),
        published_no: published.version_no,
        draft_no: draft.map(|d| d.version_no),
        found_rows: shown.found_rows(BLANK_FOUND_ROWS),
        sources: Source::ALL.iter().map(|s| Opt::new(s.as_str(), s.label())).collect(),
        f: shown,
        errors,
        preview,
        effective: from_day.format("%Y-%m-%d").to_string(),
        versions,
    })
}

pub async fn rules(page: PageUser, Query(q): Query<RankQuery>) -> PageResult<RulesPage> {
    let class = parse_class(opt(&q.class).as_deref().unwrap_or("unit"))?;
    rules_page(&page, class, None, Vec::new(), q.effective_from.as_deref()).await
}

pub async fn save_rules(CsrfForm { page, form }: CsrfForm<RulesForm>) -> PageResult<Response> {
    let class = parse_class(&form.class)?;
    let rules = match form.to_rules() {
        Ok(r) => r,
        Err(m) => {
            return Ok((StatusCode::UNPROCESSABLE_ENTITY, rules_page(&page, class, Some(form), vec![m], None).await?)
                .into_response());
        }
    };
    match svc::save_draft(&page.ctx(), class, rules, form.version).await {
        Ok(_) => Ok(Redirect::to(&format!("/scores/rules?class={}", class.as_str())).into_response()),
        Err(e @ (AppError::Validation(_) | AppError::Refused(..))) => {
            let msgs = vec![crate::web::error::message_of(&e)];
            Ok((StatusCode::UNPROCESSABLE_ENTITY, rules_page(&page, class, Some(form), msgs, None).await?)
                .into_response())
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize, Default)]
pub struct PublishForm {
    #[serde(default)]
    class: String,
    #[serde(default)]
    effective_from: String,
}

/// Publishes the draft from the chosen week; a week whose results are published is refused
/// on the rules page with the reason.
pub async fn publish_rules(CsrfForm { page, form }: CsrfForm<PublishForm>) -> PageResult<Response> {
    let class = parse_class(&form.class)?;
    let day = match form.effective_from.trim() {
        "" => None,
        d => Some(parse_day(Some(d))?),
    };
    match svc::publish(&page.ctx(), class, day).await {
        Ok(_) => Ok(Redirect::to(&format!("/scores?class={}", class.as_str())).into_response()),
        Err(e @ (AppError::Refused(..) | AppError::Validation(_))) => {
            let msg = crate::web::error::message_of(&e);
            Ok((StatusCode::CONFLICT, rules_page(&page, class, None, vec![msg], None).await?).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize, Default)]
pub struct YearPageQuery {
    class: Option<String>,
    year: Option<String>,
    export: Option<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "scores/annual.html")]
pub struct AnnualPage {
    l: Layout,
    classes: Vec<Opt>,
    class: String,
    year: i32,
    x: YearAssessment,
    /// "25%" per quarter
    weights: Vec<String>,
    /// 模拟测评末位拨付 of the year: (round, from, to, amount, date)
    transfers: Vec<(String, String, String, i64, String)>,
}

fn quarter_cell(q: &Option<svc::QuarterScore>) -> String {
    q.as_ref().map(|q| format!("{}（第{}名）", pts(&q.score), q.rank)).unwrap_or_else(|| "—".into())
}

/// 年度考核: the quarters combined by the weights of the rules, with Excel export.
pub async fn annual(page: PageUser, Query(q): Query<YearPageQuery>) -> PageResult<Response> {
    let class = parse_class(opt(&q.class).as_deref().unwrap_or("unit"))?;
    let year = svc::parse_year(q.year.as_deref())?;
    let x = svc::year_assessment(&page.state.db, class, year).await?;
    if q.export.as_deref() == Some("xlsx") {
        let quarter = |i: usize| {
            move |l: &svc::YearLine| Cell::points(l.quarters.get(i).and_then(|q| q.as_ref().map(|q| q.score)))
        };
        let columns: Vec<Column<svc::YearLine>> = vec![
            sheet_col("名次", |l: &svc::YearLine| Cell::Int(l.rank)),
            sheet_col("名称", |l: &svc::YearLine| Cell::text(&l.name)),
            sheet_col("第一季度", quarter(0)),
            sheet_col("第二季度", quarter(1)),
            sheet_col("第三季度", quarter(2)),
            sheet_col("第四季度", quarter(3)),
            sheet_col("年度得分", |l: &svc::YearLine| Cell::points(l.score)),
            sheet_col("流动红旗", |l: &svc::YearLine| Cell::Int(l.red_flags)),
            sheet_col("末位", |l: &svc::YearLine| Cell::text(if l.last { "末位" } else { "" })),
        ];
        let name = format!("{}{}年度考核", year, class.label());
        return Ok(list::xlsx(&name, vec![list::sheet("年度考核", &columns, &x.lines)]));
    }
    let total: f64 = x.weights.as_array().iter().sum();
    let weights = x.weights.as_array().iter().map(|w| format!("{}%", (w / total * 1000.0).round() / 10.0)).collect();
    Ok(AnnualPage {
        l: Layout::new(&page.user, "annual", "年度考核"),
        classes: Class::ALL.iter().map(|c| Opt::new(c.as_str(), c.label())).collect(),
        class: class.as_str().into(),
        year,
        weights,
        transfers: crate::store::evaluation::transfers_of_year(&page.state.db, year).await?,
        x,
    }
    .into_response())
}

impl AnnualPage {
    fn cell(&self, q: &Option<svc::QuarterScore>) -> String {
        quarter_cell(q)
    }

    fn quarter_name(&self, i: &usize) -> &'static str {
        ["第一季度", "第二季度", "第三季度", "第四季度"].get(*i).copied().unwrap_or("")
    }
}

#[derive(Deserialize, Default)]
pub struct FlagForm {
    #[serde(default)]
    class: String,
    #[serde(default)]
    date: String,
}

pub async fn award_flags(CsrfForm { page, form }: CsrfForm<FlagForm>) -> PageResult<Response> {
    let class = parse_class(&form.class)?;
    let day = parse_day(Some(&form.date))?;
    svc::award_red_flags(&page.ctx(), class, day).await?;
    Ok(Redirect::to(&format!("/scores?class={}&date={}", class.as_str(), form.date)).into_response())
}

#[derive(Template, WebTemplate)]
#[template(path = "scores/awards.html")]
pub struct AwardsPage {
    l: Layout,
    list: Listing,
    /// The commendation form (the office): targets of the filtered class (or of 责任单位)
    is_admin: bool,
    form_class: String,
    form_class_label: &'static str,
    targets: Vec<Opt>,
    form: CommendForm,
    error: Option<String>,
    today: String,
}

async fn awards_page(
    page: &PageUser,
    raw: Option<&str>,
    q: &svc::AwardQuery,
    paging: &Paging,
    form: CommendForm,
    outcome: Result<String, Option<&str>>,
) -> PageResult<Response> {
    let (error, flash) = match outcome {
        Ok(error) => (Some(error), None),
        Err(flash) => (None, flash),
    };
    let list = match list::page::<Awards>(page, raw, q, paging).await? {
        Listed::Export(r) => return Ok(r),
        Listed::View(v) => v,
    };
    let form_class = Class::parse(q.class.trim()).unwrap_or(Class::Unit);
    let is_admin = page.user.role == Role::Admin;
    let targets = if is_admin {
        store::targets(&page.state.db, form_class).await?.into_iter().map(|(id, name)| Opt::new(id, name)).collect()
    } else {
        Vec::new()
    };
    let status = if error.is_some() { StatusCode::UNPROCESSABLE_ENTITY } else { list.status() };
    let p = AwardsPage {
        l: Layout::new(&page.user, "awards", "红旗与表扬").with_flash(flash),
        list,
        is_admin,
        form_class: form_class.as_str().into(),
        form_class_label: form_class.label(),
        targets,
        form,
        error,
        today: crate::domain::time::to_local(crate::domain::time::now_ms()).format("%Y-%m-%d").to_string(),
    };
    Ok((status, p).into_response())
}

/// The history of red flags and commendations (declared in `web::lists::campaign`), with the
/// office's commendation form.
pub async fn awards(
    page: PageUser,
    RawQuery(raw): RawQuery,
    Query(q): Query<svc::AwardQuery>,
    Query(paging): Query<Paging>,
    Query(flash): Query<Flash>,
) -> PageResult<Response> {
    let flash = flash.ok.as_deref();
    awards_page(&page, raw.as_deref(), &q, &paging, CommendForm::default(), Err(flash)).await
}

#[derive(Deserialize, Default)]
pub struct CommendForm {
    #[serde(default)]
    class: String,
    #[serde(default)]
    target_id: String,
    #[serde(default)]
    date: String,
    #[serde(default)]
    note: String,
}

/// The office records a commendation (表扬); a mistake keeps what was typed.
pub async fn commend(CsrfForm { page, form }: CsrfForm<CommendForm>) -> PageResult<Response> {
    let class = parse_class(&form.class)?;
    match svc::commend(&page.ctx(), class, &form.target_id, &form.note, Some(&form.date)).await {
        Ok(_) => Ok(Redirect::to(&format!("/scores/awards?class={}&ok=created", class.as_str())).into_response()),
        Err(e @ AppError::Validation(_)) => {
            let message = crate::web::error::message_of(&e);
            let q = svc::AwardQuery { class: class.as_str().into(), ..Default::default() };
            awards_page(&page, None, &q, &Paging::default(), form, Ok(message)).await
        }
        Err(e) => Err(e.into()),
    }
}
