//! 千分制 pages: the ranking of a class for a period, a target's ledger entry by entry, and the
//! rules (draft, what-if preview, publish) for the office.

use super::opt;
use crate::domain::role::Role;
use crate::domain::score::{Class, Entry, FoundRule, RuleSet};
use crate::domain::time::fmt_local;
use crate::error::AppError;
use crate::service::scoring::{self as svc, Ledger, RankLine, SpanKind, WhatIf, parse_class, parse_day};
use crate::store::scoring as store;
use crate::web::auth::{CsrfForm, PageUser};
use crate::web::error::PageResult;
use crate::web::query::Query;
use crate::web::ui::{Layout, Opt, xlsx};
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::Path;
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
    if q.export.as_deref() == Some("xlsx") {
        let rows = r
            .lines
            .iter()
            .map(|l| {
                vec![
                    l.now.rank.to_string(),
                    l.now.name.clone(),
                    pts(&l.now.score),
                    l.prev_rank.map(|p| p.to_string()).unwrap_or_default(),
                    l.prev_score.map(|p| pts(&p)).unwrap_or_default(),
                    if l.last { "末位" } else { "" }.into(),
                    if l.red_flag { "流动红旗" } else { "" }.into(),
                ]
            })
            .collect();
        let name = format!("{}千分制排名（{}）", class.label(), r.span.label);
        return Ok(xlsx(&name, "排名", &["名次", "名称", "得分", "上期名次", "上期得分", "末位", "红旗"], rows));
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
        lines: r.lines,
        is_admin: page.user.role == Role::Admin,
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

/// The rules form: scalar values, and the found-rules as lines "名称|来源,来源|分值".
#[derive(Deserialize, Default, Clone)]
pub struct RulesForm {
    #[serde(default)]
    class: String,
    #[serde(default)]
    base: String,
    #[serde(default)]
    found: String,
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
}

impl RulesForm {
    fn from_rules(class: Class, r: &RuleSet) -> RulesForm {
        let n = |v: f64| if v.fract() == 0.0 { format!("{v:.0}") } else { v.to_string() };
        RulesForm {
            class: class.as_str().into(),
            base: n(r.base),
            found: r
                .found
                .iter()
                .map(|f| format!("{}|{}|{}", f.label, f.sources.join(","), n(f.points)))
                .collect::<Vec<_>>()
                .join("\n"),
            on_spot_minutes: r.on_spot_minutes.to_string(),
            on_spot_factor: n(r.on_spot_factor),
            overdue_points: n(r.overdue_points),
            overdue_per_day_points: n(r.overdue_per_day_points),
            rework_points: n(r.rework_points),
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
        }
    }

    /// The rule set, or the first field that is not a number.
    fn to_rules(&self) -> Result<RuleSet, String> {
        let f = |v: &str, what: &str| v.trim().parse::<f64>().map_err(|_| format!("“{what}”应为数字"));
        let i = |v: &str, what: &str| v.trim().parse::<i64>().map_err(|_| format!("“{what}”应为整数"));
        let mut found = Vec::new();
        for (n, line) in self.found.lines().map(str::trim).filter(|l| !l.is_empty()).enumerate() {
            let parts: Vec<&str> = line.split('|').collect();
            if parts.len() != 3 {
                return Err(format!("发现问题规则第{}行应为“名称|来源,来源|分值”", n + 1));
            }
            found.push(FoundRule {
                label: parts[0].trim().into(),
                sources: parts[1].split([',', '，']).map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect(),
                points: f(parts[2], &format!("发现问题规则第{}行的分值", n + 1))?,
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
    errors: Vec<String>,
    preview: Vec<WhatIf>,
}

async fn rules_page(
    page: &PageUser,
    class: Class,
    form: Option<RulesForm>,
    errors: Vec<String>,
) -> PageResult<RulesPage> {
    if page.user.role != Role::Admin {
        return Err(AppError::Forbidden.into());
    }
    let db = &page.state.db;
    let (published, rules) = svc::published(db, class).await?;
    let draft = store::scheme_in(db, class.as_str(), "draft").await?;
    let shown = match (&form, &draft) {
        (Some(f), _) => f.clone(),
        (None, Some(d)) => RulesForm::from_rules(class, &serde_json::from_str(&d.rules).unwrap_or(rules)),
        (None, None) => RulesForm::from_rules(class, &rules),
    };
    let preview = if draft.is_some() {
        svc::preview(&page.ctx(), class, SpanKind::Week, parse_day(None)?).await?
    } else {
        Vec::new()
    };
    Ok(RulesPage {
        l: Layout::new(&page.user, "score_rules", "评分规则"),
        classes: Class::ALL.iter().map(|c| Opt::new(c.as_str(), c.label())).collect(),
        class: class.as_str().into(),
        published_no: published.version_no,
        draft_no: draft.map(|d| d.version_no),
        f: shown,
        errors,
        preview,
    })
}

pub async fn rules(page: PageUser, Query(q): Query<RankQuery>) -> PageResult<RulesPage> {
    let class = parse_class(opt(&q.class).as_deref().unwrap_or("unit"))?;
    rules_page(&page, class, None, Vec::new()).await
}

pub async fn save_rules(CsrfForm { page, form }: CsrfForm<RulesForm>) -> PageResult<Response> {
    let class = parse_class(&form.class)?;
    let rules = match form.to_rules() {
        Ok(r) => r,
        Err(m) => {
            return Ok((StatusCode::UNPROCESSABLE_ENTITY, rules_page(&page, class, Some(form), vec![m]).await?)
                .into_response());
        }
    };
    match svc::save_draft(&page.ctx(), class, rules, None).await {
        Ok(_) => Ok(Redirect::to(&format!("/scores/rules?class={}", class.as_str())).into_response()),
        Err(AppError::Validation(e)) => {
            let msgs = e.0.iter().map(|x| x.message.clone()).collect();
            Ok((StatusCode::UNPROCESSABLE_ENTITY, rules_page(&page, class, Some(form), msgs).await?).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize, Default)]
pub struct ClassForm {
    #[serde(default)]
    class: String,
}

pub async fn publish_rules(CsrfForm { page, form }: CsrfForm<ClassForm>) -> PageResult<Response> {
    let class = parse_class(&form.class)?;
    svc::publish(&page.ctx(), class).await?;
    Ok(Redirect::to(&format!("/scores?class={}", class.as_str())).into_response())
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
