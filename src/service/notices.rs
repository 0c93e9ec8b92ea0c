//! Notices (通报) and work briefs (工作简报): generated from the data as a draft (headline figures,
//! the ranking, red flags, overdue problems, typical problems with before/after photos, units
//! proposed for interview), edited by the office, published; units confirm reading. Output as a
//! Word document in the usual red-header layout, an Excel workbook of the tables and a print page.

use super::Ctx;
use super::access::require_admin;
use super::write::expected;
use crate::domain::audit::{ObjectType, Verb};
use crate::domain::ids::new_id;
use crate::domain::notice::NoticeKind;
use crate::domain::photo::{PhotoKind, PhotoOwner};
use crate::domain::role::Role;
use crate::domain::score::Class;
use crate::domain::standard::Publication;
use crate::domain::time::{DAY_MS, fmt_local, now_ms, to_local};
use crate::error::{AppError, AppResult, Code};
use crate::media::storage::Storage;
use crate::store::notices::{self as store, Notice, NoticeFilter, NoticeRow, ReadStatus};
use crate::store::problems as problem_store;
use crate::store::{Db, photos as photo_store};
use crate::store::{Held, Hold};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct RankRow {
    pub rank: i64,
    pub name: String,
    pub score: String,
    pub prev_rank: Option<i64>,
    pub last: bool,
    pub red_flag: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct OverdueRow {
    pub code: String,
    pub point: String,
    pub unit: String,
    pub category: String,
    pub deadline: String,
    /// Working hours past the deadline (until closed, or until the notice was generated)
    pub hours: f64,
    /// Still open when the notice was generated (otherwise closed after its deadline)
    #[serde(default)]
    pub open: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Typical {
    pub problem_id: String,
    pub code: String,
    pub point: String,
    pub unit: String,
    pub description: String,
    pub before_photo: Option<String>,
    pub after_photo: Option<String>,
}

/// What a notice reports, frozen when it is generated.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
pub struct NoticeData {
    pub district: String,
    pub office: String,
    pub period_label: String,
    pub class_label: String,
    pub found: i64,
    pub closed: i64,
    pub closure_rate: Option<f64>,
    /// Of the problems found in the period and past their deadline (the overdue table),
    /// how many were still open when the notice was generated
    pub overdue_open: i64,
    /// Problems found in the period and past their deadline (the overdue table lists the first
    /// `OVERDUE_LISTED` of them)
    #[serde(default)]
    pub late_total: i64,
    pub ranking: Vec<RankRow>,
    /// The period the ranking covers: the week, or for a daily brief the week up to that day
    #[serde(default)]
    pub ranking_label: String,
    pub first_place: Vec<String>,
    pub last_place: Vec<String>,
    pub red_flags: Vec<String>,
    pub overdue: Vec<OverdueRow>,
    pub typical: Vec<Typical>,
    /// Units proposed for an interview (约谈) and their overdue cases
    pub interviews: Vec<(String, i64)>,
    /// 抄送 of the 版记, as set when the notice was generated
    #[serde(default)]
    pub cc: String,
    /// 印发机关 of the 版记
    #[serde(default)]
    pub issuer: String,
}

/// How the office numbers and distributes its notices (系统设置, audited): the prefix of the
/// document number (运创城办〔2026〕7号), 抄送 and the issuing office of the 版记.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct NoticeSettings {
    pub number_prefix: String,
    pub cc: String,
    pub issuer: String,
}

const PREFIX_KEY: &str = "notice_number_prefix";
const CC_KEY: &str = "notice_cc";
const ISSUER_KEY: &str = "notice_issuer";

/// The settings, or defaults made from the district's name (运河区 → 运创城办, 运河区创城办).
pub async fn settings(db: &Db) -> AppResult<NoticeSettings> {
    use crate::store::calendar::setting;
    let d = default_settings(db).await?;
    Ok(NoticeSettings {
        number_prefix: setting(db, PREFIX_KEY).await?.unwrap_or(d.number_prefix),
        cc: setting(db, CC_KEY).await?.unwrap_or(d.cc),
        issuer: setting(db, ISSUER_KEY).await?.unwrap_or(d.issuer),
    })
}

async fn default_settings(db: &Db) -> AppResult<NoticeSettings> {
    let district = district_of(db).await?;
    let first: String = district.chars().take(1).collect();
    Ok(NoticeSettings {
        number_prefix: format!("{first}创城办"),
        cc: "市创城办，区委、区政府主要领导".into(),
        issuer: format!("{district}创城办"),
    })
}

/// The settings form: the new values and those the page showed (`seen_*`, see
/// `Write::setting`: a field left as it was keeps what someone else saved meanwhile).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct SettingsInput {
    #[serde(default)]
    pub number_prefix: String,
    #[serde(default)]
    pub cc: String,
    #[serde(default)]
    pub issuer: String,
    #[serde(default)]
    pub seen_number_prefix: Option<String>,
    #[serde(default)]
    pub seen_cc: Option<String>,
    #[serde(default)]
    pub seen_issuer: Option<String>,
}

/// Changes the settings (the office); each change is in the audit log. New notices use them;
/// notices already generated keep what they were generated with.
pub async fn save_settings(ctx: &Ctx<'_>, new: &SettingsInput) -> AppResult<NoticeSettings> {
    require_admin(ctx.user)?;
    let mut e = crate::domain::validate::FieldErrors::default();
    let prefix =
        crate::domain::validate::required_text(&mut e, "number_prefix", "发文字号前缀", &new.number_prefix, 20);
    let cc = crate::domain::validate::optional_text(&mut e, "cc", "抄送", &new.cc, 300, false);
    let issuer = crate::domain::validate::required_text(&mut e, "issuer", "印发机关", &new.issuer, 40);
    if !e.is_empty() {
        return Err(AppError::Validation(e));
    }
    let d = default_settings(ctx.db).await?;
    let mut w = ctx.write().await?;
    for (key, label, default, seen, after) in [
        (PREFIX_KEY, "通报发文字号前缀", &d.number_prefix, &new.seen_number_prefix, &prefix),
        (CC_KEY, "通报抄送", &d.cc, &new.seen_cc, &cc),
        (ISSUER_KEY, "通报印发机关", &d.issuer, &new.seen_issuer, &issuer),
    ] {
        let shown = |s: Option<&str>| s.unwrap_or(default).to_string();
        w.setting((key, label), shown, seen.as_deref().map(str::trim), after).await?;
    }
    w.commit().await?;
    settings(ctx.db).await
}

async fn district_of(db: &Db) -> AppResult<String> {
    Ok(sqlx::query_scalar("SELECT name FROM org_nodes WHERE level = 'district' ORDER BY code LIMIT 1")
        .fetch_optional(&db.pool)
        .await?
        .unwrap_or_else(|| "本区".into()))
}

/// A notice kind from a form or query, refused in Chinese when unknown.
pub fn parse_kind(s: &str) -> AppResult<NoticeKind> {
    NoticeKind::parse(s.trim())
        .ok_or_else(|| AppError::refuse(Code::InvalidKind, format!("通报类型“{}”无效，应为周通报或工作日报", s.trim())))
}

pub fn data_of(n: &Notice) -> AppResult<NoticeData> {
    serde_json::from_str(&n.data).map_err(|e| AppError::Internal(anyhow::anyhow!("notice data unreadable: {e}")))
}

fn rate(v: Option<f64>) -> String {
    v.map(|x| format!("{x:.1}%")).unwrap_or_else(|| "—".into())
}

/// The headings of a notice's sections, numbered 一、二、… over the sections it has (a section
/// without rows is left out and does not take a number).
#[derive(Debug, Default)]
pub struct Headings {
    pub ranking: Option<String>,
    pub overdue: Option<String>,
    pub typical: Option<String>,
    pub interviews: Option<String>,
}

impl NoticeData {
    pub fn headings(&self) -> Headings {
        const NUMERALS: [&str; 4] = ["一", "二", "三", "四"];
        let mut n = 0;
        let mut next = |present: bool, title: String| {
            present.then(|| {
                n += 1;
                format!("{}、{title}", NUMERALS[n - 1])
            })
        };
        Headings {
            ranking: next(
                !self.ranking.is_empty(),
                format!("{}千分制排名{}", self.class_label, paren(&self.ranking_label)),
            ),
            overdue: next(!self.overdue.is_empty(), "逾期问题（本期发现、超过整改期限）".into()),
            typical: next(!self.typical.is_empty(), "典型问题整改前后对比".into()),
            interviews: next(!self.interviews.is_empty(), "拟约谈单位".into()),
        }
    }
}

/// "（…）" around a label, or nothing when it is empty (notices generated before it existed).
pub fn paren(label: &str) -> String {
    if label.is_empty() { String::new() } else { format!("（{label}）") }
}

fn default_body(k: NoticeKind, d: &NoticeData) -> String {
    let mut first = format!(
        "{}，全区共发现各类问题{}个，已整改销号{}个，结案率{}。",
        d.period_label,
        d.found,
        d.closed,
        rate(d.closure_rate)
    );
    if d.late_total > 0 {
        first.push_str(&format!(
            "其中{}个超过整改期限（见逾期问题表），{}",
            d.late_total,
            if d.overdue_open > 0 {
                format!("截至通报生成时仍有{}个未整改。", d.overdue_open)
            } else {
                "截至通报生成时均已整改。".into()
            }
        ));
    } else {
        first.push_str("上述问题均在整改期限内办理。");
    }
    let mut p = vec![first];
    if !d.ranking.is_empty() && d.first_place.len() == d.ranking.len() {
        p.push(format!(
            "{}千分制考核{}中，各{}均无加减分，保持基础分。",
            d.class_label,
            paren(&d.ranking_label),
            d.class_label
        ));
    } else if !d.ranking.is_empty() {
        let mut s =
            format!("{}千分制考核{}中，{}位列第一", d.class_label, paren(&d.ranking_label), d.first_place.join("、"));
        if !d.last_place.is_empty() {
            s.push_str(&format!("，{}排名末位", d.last_place.join("、")));
        }
        s.push('。');
        if !d.red_flags.is_empty() {
            s.push_str(&format!("{}获得本周“流动红旗”。", d.red_flags.join("、")));
        }
        p.push(s);
    }
    if !d.interviews.is_empty() {
        let names: Vec<String> = d.interviews.iter().map(|(n, c)| format!("{n}（逾期{c}件）")).collect();
        p.push(format!("{}逾期问题较多（见逾期问题表），拟由区创城办约谈其主要负责人。", names.join("、")));
    }
    p.push(match k {
        NoticeKind::Weekly => "请各单位对照通报问题举一反三、立行立改，于下周一前将整改情况报区创城办。".into(),
        NoticeKind::Daily => "请相关单位今日内整改到位，区创城办将于17:00回头看。".into(),
    });
    p.join("\n\n")
}

/// Generates a draft notice for the week (or the day) containing `day`. A kind and class has
/// one notice per period: an overlapping one is refused, published ones never change.
/// The period a notice of `kind` covers that contains `day`.
fn span_for(kind: NoticeKind, day: chrono::NaiveDate) -> super::scoring::Span {
    match kind {
        NoticeKind::Weekly => super::scoring::span_of(super::scoring::SpanKind::Week, day),
        NoticeKind::Daily => {
            let from = crate::domain::time::parse_local_day_start(&day.format("%Y-%m-%d").to_string()).unwrap_or(0);
            super::scoring::Span {
                kind: super::scoring::SpanKind::Week,
                from,
                to: from + DAY_MS,
                label: day.format("%Y年%m月%d日").to_string(),
            }
        }
    }
}

fn title_of(kind: NoticeKind, class: Class, span: &super::scoring::Span) -> String {
    match kind {
        // The class in the title: the units' and the communities' notices of one week are
        // told apart in a list.
        NoticeKind::Weekly => format!("关于{}各{}创建全国文明城市工作情况的通报", span.label, class.label()),
        NoticeKind::Daily => format!("创城工作简报（{}）", span.label),
    }
}

/// The figures a notice states, without what moves with the clock alone (an open overdue
/// problem's hours): two collections of one period that give the same say the same.
fn figures(d: &NoticeData) -> String {
    let ranking: Vec<_> = d.ranking.iter().map(|r| (r.rank, &r.name, &r.score, r.red_flag, r.last)).collect();
    let overdue: Vec<_> = d.overdue.iter().map(|o| (&o.code, o.open)).collect();
    serde_json::json!([d.found, d.closed, d.overdue_open, d.late_total, ranking, d.red_flags, d.interviews, overdue])
        .to_string()
}

/// A draft's figures collected again now; the new data, and whether they differ from the draft's.
async fn collect_again(ctx: &Ctx<'_>, n: &Notice) -> AppResult<(NoticeData, bool)> {
    let day = to_local(n.period_start).date_naive();
    let set = settings(ctx.db).await?;
    let fresh = collect(ctx, n.kind, n.class, &span_for(n.kind, day), &set).await?;
    let changed = data_of(n).map(|old| figures(&old) != figures(&fresh)).unwrap_or(true);
    Ok((fresh, changed))
}

/// 按最新数据重新生成: a draft's figures, title and text written again from the records as they
/// are now (what the office typed into the text is replaced; it is in the audit log).
pub async fn refresh(ctx: &Ctx<'_>, id: &str, version: Option<i64>) -> AppResult<Notice> {
    require_admin(ctx.user)?;
    let old = store::get(ctx.db, id).await?.ok_or(AppError::NotFound)?;
    if old.status != Publication::Draft {
        return Err(AppError::refuse(Code::Published, "通报已发布，不能再修改"));
    }
    let (data, _) = collect_again(ctx, &old).await?;
    let span = span_for(old.kind, to_local(old.period_start).date_naive());
    let mut new = Notice {
        title: title_of(old.kind, old.class, &span),
        body: default_body(old.kind, &data),
        data: serde_json::to_string(&data).map_err(|e| AppError::Internal(e.into()))?,
        updated_at: now_ms(),
        ..old.clone()
    };
    let mut w = ctx.write().await?;
    w.update(&old, &mut new, expected(version)?).await?;
    w.commit().await?;
    Ok(new)
}

pub async fn generate(ctx: &Ctx<'_>, kind: NoticeKind, class: Class, day: chrono::NaiveDate) -> AppResult<Notice> {
    require_admin(ctx.user)?;
    let span = span_for(kind, day);
    if span.from > now_ms() {
        return Err(AppError::refuse(Code::FuturePeriod, "不能为尚未开始的周期生成通报"));
    }
    if let Some((number, status)) = store::overlapping(ctx.db, kind, class, span.from, span.to).await?.first() {
        let what = if *status == Publication::Published { "已发布" } else { "已有草稿" };
        return Err(AppError::refuse(
            Code::OverlappingPeriod,
            format!("{}的通报{what}（{number}），周期不能重叠", span.label),
        ));
    }
    let set = settings(ctx.db).await?;
    let data = collect(ctx, kind, class, &span, &set).await?;
    let mut w = ctx.write().await?;
    let now = w.now;
    // The year of a document number is the year it is issued in (GB/T 9704 发文字号): the
    // notice of the week from 28 December, issued in January, is numbered in the new year.
    let year = to_local(now).format("%Y").to_string();
    let seq = w.next_in_sequence(&format!("notice:{}:{year}", kind.as_str())).await?;
    let prefix = set.number_prefix;
    let n = Notice {
        id: new_id(),
        kind,
        class,
        period_start: span.from,
        period_end: span.to,
        // 通报 carry the office's document number; 简报 are numbered by issue.
        number: match kind {
            NoticeKind::Weekly => format!("{prefix}〔{year}〕{seq}号"),
            NoticeKind::Daily => format!("〔{year}〕第{seq}期"),
        },
        title: title_of(kind, class, &span),
        body: default_body(kind, &data),
        data: serde_json::to_string(&data).map_err(|e| AppError::Internal(e.into()))?,
        status: Publication::Draft,
        created_by: Some(ctx.user.id.clone()),
        created_at: now,
        published_at: None,
        updated_at: now,
        version: 1,
        corrects_id: None,
    };
    w.create(&n).await?;
    w.commit().await?;
    Ok(n)
}

async fn collect(
    ctx: &Ctx<'_>,
    kind: NoticeKind,
    class: Class,
    span: &super::scoring::Span,
    set: &NoticeSettings,
) -> AppResult<NoticeData> {
    let db = ctx.db;
    // The parts read side by side (each is its own read of the records).
    let headline = async { Ok::<_, AppError>(problem_store::found_and_closed(db, span.from, span.to).await?) };
    // The overdue table, the counts in the text and the units proposed for an interview all come
    // from one set of records: the problems found in the period that went past their deadline.
    let (district, (found, closed), (ranking_label, ranking), late, typical) = tokio::try_join!(
        district_of(db),
        headline,
        ranking_rows(db, kind, class, span),
        late_rows(ctx, span),
        typical(db, span)
    )?;
    let closure_rate = (found > 0).then(|| (closed as f64 * 1000.0 / found as f64).round() / 10.0);
    let first_place = ranking.iter().filter(|x| x.rank == 1).map(|x| x.name.clone()).collect();
    let last_place = ranking.iter().filter(|x| x.last).map(|x| x.name.clone()).collect();
    let red_flags = if kind == NoticeKind::Weekly {
        ranking.iter().filter(|x| x.red_flag).map(|x| x.name.clone()).collect()
    } else {
        Vec::new()
    };
    Ok(NoticeData {
        office: format!("{district}创建全国文明城市工作指挥部办公室"),
        district,
        period_label: span.label.clone(),
        class_label: class.label().into(),
        found,
        closed,
        closure_rate,
        overdue_open: late.open,
        late_total: late.total,
        ranking,
        ranking_label,
        first_place,
        last_place,
        red_flags,
        overdue: late.listed,
        typical,
        interviews: late.interviews,
        cc: set.cc.clone(),
        issuer: set.issuer.clone(),
    })
}

/// The ranking of the week the period lies in (a daily brief ranks the week up to its day), and
/// that week's label.
async fn ranking_rows(
    db: &Db,
    kind: NoticeKind,
    class: Class,
    span: &super::scoring::Span,
) -> AppResult<(String, Vec<RankRow>)> {
    let day = to_local(span.from).date_naive();
    let r = match kind {
        NoticeKind::Weekly => super::scoring::ranking(db, class, super::scoring::SpanKind::Week, day).await?,
        NoticeKind::Daily => {
            let mut week = super::scoring::span_of(super::scoring::SpanKind::Week, day);
            week.to = week.to.min(span.to);
            let monday = to_local(week.from).date_naive();
            week.label = format!("本周{}至{}累计", monday.format("%m月%d日"), day.format("%m月%d日"));
            super::scoring::ranking_of(db, class, week).await?
        }
    };
    let rows = r
        .lines
        .iter()
        .map(|l| RankRow {
            rank: l.now.rank,
            name: l.now.name.clone(),
            score: crate::domain::score::fmt_points(l.now.score),
            prev_rank: l.prev_rank,
            last: l.last,
            red_flag: l.red_flag,
        })
        .collect();
    Ok((r.span.label, rows))
}

/// The problems found in a period that went past their deadline: every one counted, the
/// longest past it listed.
struct Late {
    /// Still open first, then longest past the deadline; at most `NoticeData::OVERDUE_LISTED`
    listed: Vec<OverdueRow>,
    total: i64,
    open: i64,
    /// The units with at least the interview threshold of late problems, as (name, count), most
    /// first
    interviews: Vec<(String, i64)>,
}

/// The problems found in the period that went past their deadline (closed late, or still open
/// after it). All are counted; the table lists those still open first, then the longest past
/// the deadline, up to `NoticeData::OVERDUE_LISTED` (a week of the 90-day stress case holds
/// 480,000 and a document listing them took 28 s and 1.6 GB).
async fn late_rows(ctx: &Ctx<'_>, span: &super::scoring::Span) -> AppResult<Late> {
    let now = now_ms();
    let db = ctx.db;
    // Found in the period, like the headline's count.
    let facts = async { Ok::<_, AppError>(problem_store::late_facts(db, span.from, span.to, now).await?) };
    let (facts, cal, threshold) = tokio::try_join!(facts, super::calendar::load(db), super::escalation::threshold(db))?;
    // Ranking the closed ones reads the calendar for each: off the async threads.
    let (chosen, total, open, per_unit) = tokio::task::spawn_blocking(move || {
        let open = facts.iter().filter(|f| f.open).count() as i64;
        let mut per_unit: std::collections::HashMap<String, i64> = Default::default();
        for f in &facts {
            *per_unit.entry(f.unit_id.clone()).or_default() += 1;
        }
        (longest_late(&facts, &cal, now), facts.len() as i64, open, per_unit)
    })
    .await
    .map_err(|e| AppError::Internal(e.into()))?;
    let ids: Vec<String> = chosen.iter().map(|(id, _, _)| id.clone()).collect();
    let proposed: Vec<(String, i64)> = per_unit.into_iter().filter(|(_, n)| *n >= threshold).collect();
    let unit_ids: Vec<String> = proposed.iter().map(|(u, _)| u.clone()).collect();
    let (rows, names) =
        tokio::try_join!(problem_store::rows_by_ids(db, &ids), crate::store::units::names_of(db, &unit_ids))?;
    let mut rows: std::collections::HashMap<String, _> = rows.into_iter().map(|r| (r.id.clone(), r)).collect();
    let mut interviews: Vec<(String, i64)> =
        proposed.into_iter().filter_map(|(u, n)| Some((names.get(&u)?.clone(), n))).collect();
    interviews.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    let listed = chosen
        .into_iter()
        .filter_map(|(id, open, hours)| {
            let r = rows.remove(&id)?;
            Some(OverdueRow {
                code: r.code,
                point: r.point_name,
                unit: r.unit_name,
                category: r.category,
                deadline: r.deadline_at.map(fmt_local).map(|s| s[..16].to_string()).unwrap_or_default(),
                hours,
                open,
            })
        })
        .collect();
    Ok(Late { listed, total, open, interviews })
}

/// The late problems a notice lists, as (id, open, working hours past the deadline): those still
/// open first, then those closed late, each longest past the deadline first, at most
/// `NoticeData::OVERDUE_LISTED`. An open problem's clock runs to `now`, so the earliest deadline
/// is the longest past it; a closed one's runs to its closing, so each is measured.
fn longest_late(
    facts: &[problem_store::LateFact],
    cal: &crate::domain::calendar::Calendar,
    now: i64,
) -> Vec<(String, bool, f64)> {
    let cap = NoticeData::OVERDUE_LISTED;
    let hours = |f: &problem_store::LateFact| {
        super::escalation::hours_past(cal, Some(f.deadline_at), if f.open { now } else { f.closed_at.unwrap_or(now) })
    };
    let mut open: Vec<&problem_store::LateFact> = facts.iter().filter(|f| f.open).collect();
    open.sort_by(|a, b| a.deadline_at.cmp(&b.deadline_at).then_with(|| a.id.cmp(&b.id)));
    open.truncate(cap);
    let mut closed: Vec<(f64, &problem_store::LateFact)> =
        if open.len() < cap { facts.iter().filter(|f| !f.open).map(|f| (hours(f), f)).collect() } else { Vec::new() };
    closed.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.1.id.cmp(&b.1.id)));
    closed.truncate(cap - open.len());
    open.into_iter()
        .map(|f| (f.id.clone(), true, hours(f)))
        .chain(closed.into_iter().map(|(h, f)| (f.id.clone(), false, h)))
        .collect()
}

/// Up to three typical problems: the last closed in the period with a before and an after
/// photo (among its last hundred closings).
async fn typical(db: &Db, span: &super::scoring::Span) -> AppResult<Vec<Typical>> {
    let last = problem_store::closed_last(db, span.from, span.to, 100).await?;
    let ids: Vec<String> = last.iter().map(|p| p.id.clone()).collect();
    // Each problem's first before and first after photo.
    let mut photos: std::collections::HashMap<(String, PhotoKind), String> = Default::default();
    for (owner, kind, id) in photo_store::kinds_of(db, PhotoOwner::Problem, &ids).await? {
        photos.entry((owner, kind)).or_insert(id);
    }
    let photo = |p: &problem_store::ProblemRow, kind| photos.get(&(p.id.clone(), kind)).cloned();
    Ok(last
        .iter()
        .filter_map(|p| {
            let (before, after) = (photo(p, PhotoKind::Before)?, photo(p, PhotoKind::After)?);
            Some(Typical {
                problem_id: p.id.clone(),
                code: p.code.clone(),
                point: p.point_name.clone(),
                unit: p.unit_name.clone(),
                description: p.description.clone(),
                before_photo: Some(before),
                after_photo: Some(after),
            })
        })
        .take(3)
        .collect())
}

/// The office edits a draft's title and text. Published notices never change.
pub async fn edit(ctx: &Ctx<'_>, id: &str, title: &str, body: &str, version: Option<i64>) -> AppResult<Notice> {
    require_admin(ctx.user)?;
    let old = store::get(ctx.db, id).await?.ok_or(AppError::NotFound)?;
    if old.status != Publication::Draft {
        return Err(AppError::refuse(Code::Published, "通报已发布，不能再修改"));
    }
    let (title, body) = (title.trim(), body.trim());
    let mut e = crate::domain::validate::FieldErrors::default();
    if title.is_empty() || title.chars().count() > 100 {
        e.add("title", Code::Required, "标题为1至100字");
    }
    if body.is_empty() || body.chars().count() > 20_000 {
        e.add("body", Code::Required, "正文为1至20000字");
    }
    if !e.is_empty() {
        return Err(AppError::Validation(e));
    }
    let mut new = Notice { title: title.into(), body: body.into(), updated_at: now_ms(), ..old.clone() };
    let mut w = ctx.write().await?;
    w.update(&old, &mut new, expected(version)?).await?;
    w.commit().await?;
    Ok(new)
}

/// Publishes a draft. A weekly notice whose week has not ended freezes that week's ranking with
/// the figures so far and locks its scoring rules: that takes an explicit `early` choice (a
/// daily brief is published the evening of its day, as offices do).
pub async fn publish(ctx: &Ctx<'_>, id: &str, early: bool) -> AppResult<Notice> {
    require_admin(ctx.user)?;
    let old = store::get(ctx.db, id).await?.ok_or(AppError::NotFound)?;
    if old.status != Publication::Draft {
        return Err(AppError::refuse(Code::Published, "通报已发布"));
    }
    let now = now_ms();
    if old.kind == NoticeKind::Weekly && old.period_end > now && !early {
        let message = format!(
            "本期截至{}尚未结束：现在发布将按目前的数据冻结本期排名，并锁定本期的评分规则。确需提前发布，请勾选“提前发布”后再发布",
            &fmt_local(old.period_end - 1)[..16]
        );
        return Err(AppError::refuse(Code::PeriodNotEnded, message));
    }
    let mut new = Notice { status: Publication::Published, published_at: Some(now), updated_at: now, ..old.clone() };
    // A notice states the figures as they are when it goes out, not as they were when the draft
    // was made: a draft whose text the office left as written is brought up to date; one whose
    // text was edited is refused, so that nobody's wording is lost unseen.
    let (fresh, changed) = collect_again(ctx, &old).await?;
    if changed {
        if let Ok(was) = data_of(&old)
            && default_body(old.kind, &was).trim() != old.body.trim()
        {
            let message = format!(
                "草稿生成后本期数据已有变化（发现问题{}→{}个，已整改销号{}→{}个），而正文已修改过：请点“按最新数据重新生成”，核对正文后再发布",
                was.found, fresh.found, was.closed, fresh.closed
            );
            return Err(AppError::refuse(Code::NoticeOutdated, message));
        }
        new.body = default_body(old.kind, &fresh);
        new.data = serde_json::to_string(&fresh).map_err(|e| AppError::Internal(e.into()))?;
    }
    let mut w = ctx.write().await?;
    w.update_as(Verb::Publish, &old, &mut new, old.version).await?;
    w.commit().await?;
    Ok(new)
}

/// The office, supervisors and the discipline office see drafts and every unit's confirmation;
/// the others see published notices only.
/// Puts a published notice right (更正): a numbered correction of its own, published at once
/// and read by the units like any notice; the original stays exactly as it was published.
pub async fn correct(ctx: &Ctx<'_>, id: &str, text: &str) -> AppResult<Notice> {
    require_admin(ctx.user)?;
    let original = store::get(ctx.db, id).await?.ok_or(AppError::NotFound)?;
    if original.status != Publication::Published {
        return Err(AppError::refuse(Code::NotPublished, "草稿可以直接修改，发布后才需要更正"));
    }
    if original.corrects_id.is_some() {
        return Err(AppError::refuse(Code::NotPublished, "请对原通报发布更正，不能更正一份更正"));
    }
    let mut e = crate::domain::validate::FieldErrors::default();
    let text = crate::domain::validate::required_text(&mut e, "body", "更正内容", text, 2000);
    if !e.is_empty() {
        return Err(AppError::Validation(e));
    }
    let mut w = ctx.write().await?;
    // Numbered inside the write with the original held: two corrections sent at once get 1 and 2.
    let published = Publication::Published.as_str();
    if !crate::store::hold(w.conn(), Held::Notices, (&original.id, Some(published)), Hold::Alone).await? {
        return Err(AppError::NotFound);
    }
    let k = store::correction_count(w.conn(), id).await? + 1;
    let now = w.now;
    let c = Notice {
        id: new_id(),
        number: format!("{}（更正{k}）", original.number),
        title: format!("关于《{}》的更正", original.title),
        body: text,
        status: Publication::Published,
        created_by: Some(ctx.user.id.clone()),
        created_at: now,
        published_at: Some(now),
        updated_at: now,
        version: 1,
        corrects_id: Some(original.id.clone()),
        ..original
    };
    w.create(&c).await?;
    w.commit().await?;
    Ok(c)
}

pub fn sees_drafts(role: Role) -> bool {
    matches!(role, Role::Admin | Role::Supervisor | Role::Discipline)
}

/// A notice the caller may see: staff all; others only published ones.
pub async fn visible(ctx: &Ctx<'_>, id: &str) -> AppResult<Notice> {
    let n = store::get(ctx.db, id).await?.ok_or(AppError::NotFound)?;
    if n.status == Publication::Published || sees_drafts(ctx.user.role) { Ok(n) } else { Err(AppError::NotFound) }
}

/// What the notice list may be filtered by, as typed (query strings of the page and the API).
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[serde(default)]
pub struct ListQuery {
    /// weekly or daily
    pub kind: String,
    /// community, street, unit or window
    pub class: String,
    /// draft or published (drafts only for the office, supervisors and the discipline office)
    pub status: String,
    /// Periods starting in this year
    pub year: String,
    /// 1: only notices the caller's unit has not confirmed
    pub unread: String,
}

/// The list of notices the caller may read, newest period first: staff see drafts too, a unit
/// sees published ones with its own confirmation.
pub async fn list(ctx: &Ctx<'_>, q: &ListQuery, page: crate::store::PageReq) -> AppResult<(Vec<NoticeRow>, i64)> {
    let text = |v: &str| Some(v.trim()).filter(|v| !v.is_empty()).map(str::to_string);
    let mut f = NoticeFilter {
        kind: text(&q.kind).map(|k| parse_kind(&k)).transpose()?,
        class: text(&q.class).map(|c| super::scoring::parse_class(&c)).transpose()?,
        status: match text(&q.status).as_deref() {
            None => None,
            Some(s) => match Publication::parse(s) {
                Some(p @ (Publication::Draft | Publication::Published)) => Some(p),
                _ => {
                    return Err(AppError::refuse(Code::InvalidStatus, format!("状态“{s}”无效，应为草稿或已发布")));
                }
            },
        },
        reader: ctx.user.unit_id.clone().filter(|_| ctx.user.role.needs_unit()),
        unread: match text(&q.unread).as_deref() {
            None | Some("0" | "false") => false,
            Some("1" | "true") => true,
            Some(other) => {
                return Err(AppError::refuse(Code::InvalidQuery, format!("“阅读确认”应为1（未确认）：{other}")));
            }
        },
        ..Default::default()
    };
    if let Some(y) = super::scoring::year_filter(Some(&q.year))? {
        (f.from, f.to) = (Some(y.from), Some(y.to));
    }
    if !sees_drafts(ctx.user.role) {
        if f.status == Some(Publication::Draft) {
            return Ok((Vec::new(), 0));
        }
        f.status = Some(Publication::Published);
    }
    Ok(store::list(ctx.db, &f, page).await?)
}

/// A unit's account confirms its unit has read a published notice (once per unit).
pub async fn confirm_read(ctx: &Ctx<'_>, id: &str) -> AppResult<bool> {
    let n = visible(ctx, id).await?;
    if n.status != Publication::Published {
        return Err(AppError::refuse(Code::NotPublished, "通报尚未发布"));
    }
    let Some(unit) = ctx.user.unit_id.clone().filter(|_| ctx.user.role.needs_unit()) else {
        return Err(AppError::refuse(Code::NotAUnit, "只有责任单位的账号需要确认阅读"));
    };
    let mut w = ctx.write().await?;
    let now = w.now;
    let first = store::confirm(w.conn(), &n.id, &unit, (&ctx.user.id, &ctx.user.display_name), now).await?;
    if first {
        let label = format!("{} 已阅", n.number);
        let after = serde_json::json!({"unit_id": unit});
        w.audit(Verb::Read, ObjectType::Notice, &n.id, &label, None, Some(after)).await?;
    }
    w.commit().await?;
    Ok(first)
}

/// Which units have confirmed reading (the office).
pub async fn reads(ctx: &Ctx<'_>, id: &str) -> AppResult<Vec<ReadStatus>> {
    if !matches!(ctx.user.role, Role::Admin | Role::Discipline) {
        return Err(AppError::Forbidden);
    }
    let n = visible(ctx, id).await?;
    Ok(store::reads(ctx.db, &n.id).await?)
}

/// The fonts and shapes of an official notice (公文): 仿宋 body, 小标宋 title, 黑体 headings.
pub(crate) struct Letter {
    song: docx_rs::RunFonts,
    title: docx_rs::RunFonts,
    hei: docx_rs::RunFonts,
}

impl Letter {
    pub(crate) fn new() -> Letter {
        use docx_rs::RunFonts;
        Letter {
            song: RunFonts::new().east_asia("仿宋_GB2312").ascii("Times New Roman").hi_ansi("Times New Roman"),
            title: RunFonts::new().east_asia("方正小标宋简体").ascii("Times New Roman"),
            hei: RunFonts::new().east_asia("黑体"),
        }
    }

    /// The title's fonts (小标宋).
    pub(crate) fn title_fonts(&self) -> docx_rs::RunFonts {
        self.title.clone()
    }

    pub(crate) fn text(&self, s: &str, size: usize) -> docx_rs::Run {
        docx_rs::Run::new().add_text(s).size(size).fonts(self.song.clone())
    }

    pub(crate) fn center(r: docx_rs::Run) -> docx_rs::Paragraph {
        docx_rs::Paragraph::new().add_run(r).align(docx_rs::AlignmentType::Center)
    }

    pub(crate) fn heading(&self, s: &str) -> docx_rs::Paragraph {
        docx_rs::Paragraph::new().add_run(docx_rs::Run::new().add_text(s).size(32).fonts(self.hei.clone()))
    }

    /// A table across the text width, each column as wide as its longest cell needs (CJK
    /// characters count double), so that unit names do not wrap into three lines.
    pub(crate) fn table(&self, head: &[&str], rows: Vec<Vec<String>>) -> docx_rs::Table {
        use docx_rs::{TableCell, TableRow, WidthType};
        let widths = column_widths(head, &rows, TEXT_WIDTH);
        let cell = |s: &str, bold: bool, w: usize| {
            let r = self.text(s, 21);
            TableCell::new().width(w, WidthType::Dxa).add_paragraph(Self::center(if bold { r.bold() } else { r }))
        };
        let row = |cells: Vec<&str>, bold: bool| {
            TableRow::new(cells.into_iter().zip(&widths).map(|(c, w)| cell(c, bold, *w)).collect())
        };
        let mut trs = vec![row(head.to_vec(), true)];
        trs.extend(rows.iter().map(|r| row(r.iter().map(String::as_str).collect(), false)));
        docx_rs::Table::new(trs).set_grid(widths.clone()).width(TEXT_WIDTH, WidthType::Dxa)
    }

    /// A full-width paragraph rule in red (the 红线 under the issuing office, and the 版记 lines).
    fn rule(color: &str, size: usize) -> docx_rs::Paragraph {
        use docx_rs::{BorderType, ParagraphBorder, ParagraphBorderPosition, ParagraphBorders};
        let border =
            ParagraphBorder::new(ParagraphBorderPosition::Bottom).val(BorderType::Single).size(size).color(color);
        docx_rs::Paragraph::new().set_borders(ParagraphBorders::with_empty().set(border))
    }

    /// The red header (office, number, a full-width red rule), the title and the body paragraphs;
    /// page numbers ("— 1 —") in the footer.
    fn head(&self, doc: docx_rs::Docx, n: &Notice, d: &NoticeData) -> docx_rs::Docx {
        use docx_rs::{Footer, PageMargin, PageNum, Paragraph, Run, SpecialIndentType};
        let size = header_size(&d.office);
        let office = Run::new().add_text(&d.office).size(size).color("FF0000").bold().fonts(self.title.clone());
        let page = Paragraph::new()
            .add_run(self.text("— ", 28))
            .add_page_num(PageNum::new())
            .add_run(self.text(" —", 28))
            .align(docx_rs::AlignmentType::Center);
        let mut doc = doc
            .page_size(11906, 16838)
            .page_margin(PageMargin::new().top(2098).bottom(1984).left(1587).right(1474))
            .footer(Footer::new().add_paragraph(page))
            .add_paragraph(Self::center(office))
            .add_paragraph(Self::center(self.text(&n.number, 32)))
            .add_paragraph(Self::rule("FF0000", 24))
            .add_paragraph(Self::center(Run::new().add_text(&n.title).size(44).fonts(self.title.clone())))
            .add_paragraph(Self::center(self.text(&format!("（{}）", d.period_label), 32)));
        for para in n.body.split("\n\n").map(str::trim).filter(|p| !p.is_empty()) {
            let indent = Some(SpecialIndentType::FirstLine(640));
            doc = doc.add_paragraph(Paragraph::new().add_run(self.text(para, 32)).indent(None, indent, None, None));
        }
        doc
    }

    /// The typical problems, each with its before and after photos side by side.
    async fn typical(
        &self,
        mut doc: docx_rs::Docx,
        db: &Db,
        storage: &Storage,
        d: &NoticeData,
    ) -> AppResult<docx_rs::Docx> {
        use docx_rs::{Paragraph, Pic, Run};
        for t in &d.typical {
            let line = format!("{} {}（{}）：{}", t.code, t.point, t.unit, t.description);
            doc = doc.add_paragraph(Paragraph::new().add_run(self.text(&line, 28)));
            let mut row = Paragraph::new();
            for id in [&t.before_photo, &t.after_photo].into_iter().flatten() {
                if let Some(ph) = photo_store::get(db, id).await?
                    && let Ok(bytes) = storage.get(&ph.thumb_key).await
                {
                    // 7 cm wide, height by the photo's proportions (EMU: 360000 per cm).
                    let w = 2_520_000u32;
                    let h = (w as f64 * ph.height as f64 / ph.width.max(1) as f64) as u32;
                    row = row
                        .add_run(Run::new().add_image(Pic::new(&bytes).size(w, h)))
                        .add_run(Run::new().add_text("  "));
                }
            }
            doc = doc.add_paragraph(row).add_paragraph(Self::center(self.text("整改前（左） 整改后（右）", 24)));
        }
        Ok(doc)
    }
}

/// A CJK character of the tables' 10.5 pt (五号) text, in twentieths of a point.
const CHAR: usize = 210;

/// The text width of an A4 page with the 公文 margins, in twentieths of a point.
const TEXT_WIDTH: usize = 11906 - 1587 - 1474;

/// The issuing office's size (half-points) so that its name fits on one line: 26 pt at most.
fn header_size(office: &str) -> usize {
    let chars = office.chars().count().max(1);
    // A CJK character is as wide as the font is high; TEXT_WIDTH / 20 points are available.
    let fits = (TEXT_WIDTH / 20) / chars;
    (fits.min(26) * 2).max(20)
}

/// Column widths (twips) summing to `total`: every column at least as wide as its heading (so
/// no heading breaks character by character), the rest shared in proportion to how much more
/// each column's longest cell needs. 12 pt text: a CJK character is 240 twips, a digit 120.
fn column_widths(head: &[&str], rows: &[Vec<String>], total: usize) -> Vec<usize> {
    const PAD: usize = 200;
    let width = |s: &str| s.chars().map(|c| if c.is_ascii() { CHAR / 2 } else { CHAR }).sum::<usize>() + PAD;
    let floor: Vec<usize> = head.iter().map(|h| width(h).max(2 * CHAR + PAD)).collect();
    let need: Vec<usize> = (0..head.len())
        .map(|i| rows.iter().filter_map(|r| r.get(i)).map(|s| width(s)).chain([floor[i]]).max().unwrap_or(floor[i]))
        .collect();
    let need_sum = need.iter().sum::<usize>();
    // Short columns (numbers, dates, states) keep their whole width; the long ones (names)
    // share what is left in proportion to their length, each at least its heading.
    let short = |i: usize| need[i] <= 8 * CHAR + PAD;
    let short_sum: usize = (0..head.len()).filter(|i| short(*i)).map(|i| need[i]).sum();
    let long_need: usize = (0..head.len()).filter(|i| !short(*i)).map(|i| need[i]).sum();
    let mut out: Vec<usize> = if need_sum <= total {
        // Everything fits on one line: widen each in proportion to its need.
        need.iter().map(|n| total * n / need_sum.max(1)).collect()
    } else if short_sum < total && long_need > 0 {
        let left = total - short_sum;
        (0..head.len()).map(|i| if short(i) { need[i] } else { (left * need[i] / long_need).max(floor[i]) }).collect()
    } else {
        need.iter().map(|n| total * n / need_sum.max(1)).collect()
    };
    let sum = out.iter().sum::<usize>();
    if sum > total {
        // The floors took more than there was: scale everything down to the page.
        out = out.iter().map(|w| w * total / sum).collect();
    }
    let rest = total.saturating_sub(out.iter().sum::<usize>());
    if let Some(widest) = out.iter_mut().max() {
        *widest += rest;
    }
    out
}

/// The notice's tables as text rows, for the Word document: ranking, overdue problems, interviews.
impl NoticeData {
    pub const RANKING_HEAD: [&str; 5] = ["名次", "名称", "得分", "上期名次", "备注"];
    /// The overdue table in the Word document: five columns, so that the names have the room
    pub const OVERDUE_HEAD: [&str; 5] = ["点位", "责任单位", "问题（编号）", "整改期限", "超期·状态"];
    pub const INTERVIEWS_HEAD: [&str; 2] = ["单位", "逾期问题数"];
    /// The overdue table lists still open problems first, then the longest past the deadline, up
    /// to this many; the text and the interviews count them all.
    pub const OVERDUE_LISTED: usize = 100;

    /// Under the overdue table when it does not list every late problem: how many there are and
    /// which are listed.
    pub fn overdue_note(&self) -> Option<String> {
        let listed = self.overdue.len() as i64;
        (self.late_total > listed).then(|| {
            format!(
                "本期逾期问题共{}个，上表列出其中未整改的和超期最久的{listed}个；全部逾期问题见系统问题台账（按发现日期筛选并勾选“曾逾期（含已整改）”）。",
                self.late_total
            )
        })
    }

    fn ranking_rows(&self) -> Vec<Vec<String>> {
        let prev = |r: &RankRow| r.prev_rank.map(|p| p.to_string()).unwrap_or_default();
        self.ranking
            .iter()
            .map(|r| vec![r.rank.to_string(), r.name.clone(), r.score.clone(), prev(r), r.note()])
            .collect()
    }

    fn overdue_rows(&self) -> Vec<Vec<String>> {
        let row = |o: &OverdueRow| {
            let state = if o.open { "未整改" } else { "已整改" };
            let deadline = o.deadline.get(5..).unwrap_or(&o.deadline).to_string();
            vec![
                o.point.clone(),
                o.unit.clone(),
                format!("{}（{}）", o.category, o.code),
                deadline,
                format!("{:.1}工时·{state}", o.hours),
            ]
        };
        self.overdue.iter().map(row).collect()
    }

    fn interview_rows(&self) -> Vec<Vec<String>> {
        self.interviews.iter().map(|(n, c)| vec![n.clone(), c.to_string()]).collect()
    }
}

/// The ledger of the problems found in the notice's period that went past their deadline: every
/// one, where the notice's table lists the longest past it.
pub fn late_ledger_link(n: &Notice) -> String {
    let day = |ms: i64| to_local(ms).format("%Y-%m-%d").to_string();
    format!("/problems?from={}&to={}&late=1", day(n.period_start), day(n.period_end - 1))
}

impl RankRow {
    /// 流动红旗、末位
    pub fn note(&self) -> String {
        [self.red_flag.then_some("流动红旗"), self.last.then_some("末位")]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join("、")
    }
}

/// The notice as a Word document: red header with the issuing office and number, title, date,
/// body, then the tables and the typical problems' before/after photos.
pub async fn docx(db: &Db, storage: &Storage, n: &Notice) -> AppResult<Vec<u8>> {
    use docx_rs::{AlignmentType, Docx, Paragraph};
    let d = data_of(n)?;
    let letter = Letter::new();
    let mut doc = letter.head(Docx::new(), n, &d);
    // A correction says what was wrong and what is right; the tables stay in the original.
    let headings = if n.corrects_id.is_some() { Headings::default() } else { d.headings() };
    if let Some(h) = &headings.ranking {
        doc = doc.add_paragraph(letter.heading(h)).add_table(letter.table(&NoticeData::RANKING_HEAD, d.ranking_rows()));
    }
    if let Some(h) = &headings.overdue {
        doc = doc.add_paragraph(letter.heading(h)).add_table(letter.table(&NoticeData::OVERDUE_HEAD, d.overdue_rows()));
        if let Some(note) = d.overdue_note() {
            doc = doc.add_paragraph(Paragraph::new().add_run(letter.text(&note, 24)));
        }
    }
    if let Some(h) = &headings.typical {
        doc = letter.typical(doc.add_paragraph(letter.heading(h)), db, storage, &d).await?;
    }
    if let Some(h) = &headings.interviews {
        let table = letter.table(&NoticeData::INTERVIEWS_HEAD, d.interview_rows());
        doc = doc.add_paragraph(letter.heading(h)).add_table(table);
    }
    let date_cn = to_local(n.published_at.unwrap_or(n.created_at)).format("%Y年%-m月%-d日").to_string();
    let sign = |s: &str| Paragraph::new().add_run(letter.text(s, 32)).align(AlignmentType::Right);
    doc = doc.add_paragraph(Paragraph::new()).add_paragraph(sign(&d.office)).add_paragraph(sign(&date_cn));
    // 版记: 抄送 and the issuing office with the date, between rules.
    let issuer = if d.issuer.is_empty() { d.office.clone() } else { d.issuer.clone() };
    doc = doc.add_paragraph(Paragraph::new()).add_paragraph(Letter::rule("000000", 12));
    if !d.cc.is_empty() {
        doc = doc
            .add_paragraph(
                Paragraph::new().add_run(letter.text(&format!("抄送：{}。", d.cc.trim_end_matches('。')), 28)),
            )
            .add_paragraph(Letter::rule("000000", 4));
    }
    let issued = Paragraph::new()
        .add_run(letter.text(&issuer, 28))
        .add_tab(docx_rs::Tab::new().val(docx_rs::TabValueType::Right).pos(TEXT_WIDTH))
        .add_run(docx_rs::Run::new().add_tab())
        .add_run(letter.text(&format!("{date_cn}印发"), 28));
    doc = doc.add_paragraph(issued).add_paragraph(Letter::rule("000000", 12));
    let mut out = std::io::Cursor::new(Vec::new());
    doc.build().pack(&mut out).map_err(|e| AppError::Internal(anyhow::anyhow!("docx: {e}")))?;
    Ok(out.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sections_are_numbered_over_those_a_notice_has() {
        let overdue = OverdueRow {
            code: "Q202611230001".into(),
            point: "解放西路".into(),
            unit: "运河区城市管理综合行政执法局".into(),
            category: "暴露垃圾".into(),
            deadline: "2026-11-23 12:00".into(),
            hours: 2.0,
            open: true,
        };
        let d = NoticeData {
            class_label: "责任单位".into(),
            ranking_label: "2026年11月23日至11月29日".into(),
            ranking: vec![RankRow {
                rank: 1,
                name: "运河区教育局".into(),
                score: "1000".into(),
                prev_rank: None,
                last: false,
                red_flag: false,
            }],
            overdue: vec![overdue],
            interviews: vec![("运河区城市管理综合行政执法局".into(), 3)],
            ..Default::default()
        };
        let h = d.headings();
        assert_eq!(h.ranking.as_deref(), Some("一、责任单位千分制排名（2026年11月23日至11月29日）"));
        assert_eq!(h.overdue.as_deref(), Some("二、逾期问题（本期发现、超过整改期限）"));
        assert_eq!(h.typical, None);
        assert_eq!(h.interviews.as_deref(), Some("三、拟约谈单位"), "no typical problems: the next section is 三");
        assert!(NoticeData::default().headings().ranking.is_none());
    }
}

#[cfg(test)]
mod widths {
    use super::*;

    #[test]
    fn headings_never_break_and_long_names_get_the_room() {
        let head = NoticeData::OVERDUE_HEAD;
        let d = NoticeData {
            overdue: vec![OverdueRow {
                code: "Q202611250003".into(),
                point: "公园路沿街商铺（141号-159号）".into(),
                unit: "运河区城市管理综合行政执法局".into(),
                category: "门前责任·出店经营".into(),
                deadline: "2026-11-25 17:00".into(),
                hours: 15.5,
                open: false,
            }],
            ..Default::default()
        };
        let rows = d.overdue_rows();
        let w = column_widths(&head, &rows, TEXT_WIDTH);
        assert_eq!(w.iter().sum::<usize>(), TEXT_WIDTH);
        let width = |s: &str| s.chars().map(|c| if c.is_ascii() { CHAR / 2 } else { CHAR }).sum::<usize>();
        // Every heading fits its column; the date and the state keep one line.
        for (h, col) in head.iter().zip(&w) {
            assert!(width(h) < *col, "{h} in {col}: {w:?}");
        }
        assert!(width(&rows[0][3]) < w[3] && width(&rows[0][4]) < w[4], "{w:?} {rows:?}");
        // A unit's name takes at most two lines.
        assert!(width(&rows[0][1]) < 2 * (w[1] - 200), "{w:?}");
    }
}
