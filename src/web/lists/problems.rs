//! 问题台账: the problem ledger, paged by keyset (a deep page costs what the first one does).

use crate::domain::problem::{Source, State};
use crate::domain::role::Role;
use crate::domain::standard::Severity;
use crate::domain::time::{fmt_local, now_ms};
use crate::error::{AppError, AppResult, Code};
use crate::service::problems::scope;
use crate::service::{Ctx, CurrentUser};
use crate::store::problems::{self as store, ProblemFilter, ProblemRow, Seek, Sort};
use crate::store::{PageReq, points, units};
use crate::web::list::*;
use crate::web::ui::Opt;
use serde::Deserialize;
use utoipa::IntoParams;

pub struct Problems;

#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(default)]
pub struct ProblemQuery {
    /// `open` (not yet closed or voided) or states separated by commas, e.g. dispatched,acknowledged
    pub state: String,
    /// supervision | grid_patrol | … (see Source)
    pub source: String,
    /// minor | normal | serious
    pub severity: String,
    /// The point's type
    pub type_id: String,
    pub unit_id: String,
    /// First day found, YYYY-MM-DD (Beijing time)
    pub from: String,
    /// Last day found, inclusive
    pub to: String,
    /// 1: only overdue problems
    pub overdue: String,
    /// 1: only problems sent back at least once; 0: only problems never sent back
    pub reworked: String,
    /// 1: only problems whose after-photos carry an evidence warning (有证据警告)
    pub flagged: String,
    /// Keyword in code, point, category or description
    pub q: String,
    /// found_desc (default), found_asc or deadline_asc
    pub sort: String,
    /// The KPI drill-down: dispatched from this day …
    pub dfrom: String,
    /// … to this day, inclusive
    pub dto: String,
    /// Problems at points of this community
    pub community_id: String,
    /// 1: only closed problems
    pub closed: String,
    /// 1: only problems closed within their deadline
    pub on_time: String,
    /// 1: only problems whose deadline was extended
    pub extended: String,
    /// Open problems not yet overdue: today, due by the end of today (今日到期); later, due after
    /// today; running, due now or later
    pub due: String,
    /// 1: only problems with an extension or transfer request awaiting the office (待审批申请)
    pub pending: String,
    /// Problems at points anywhere under this area (a street, a community)
    pub area_id: String,
    /// Exactly this category
    pub category: String,
    pub point_id: String,
    /// 1: only problems past their deadline, closed after it or still open after it (a notice's
    /// overdue problems)
    pub late: String,
    /// Closed from this day …
    pub cfrom: String,
    /// … to this day, inclusive
    pub cto: String,
    /// 1: only problems within the supervisor's teams' areas (本组督导区域; no effect for a
    /// supervisor not held to an area, or for other roles)
    pub team: String,
}

fn states(s: &str) -> AppResult<Option<Vec<State>>> {
    match given(s) {
        None => Ok(None),
        Some("open") => Ok(Some(State::OPEN.to_vec())),
        Some(list) => list
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| State::parse(s).ok_or_else(|| AppError::refuse(Code::InvalidStatus, format!("状态“{s}”无效"))))
            .collect::<AppResult<Vec<_>>>()
            .map(Some),
    }
}

fn sort(s: &str) -> AppResult<Sort> {
    match given(s) {
        None => Ok(Sort::default()),
        Some(s) => Sort::parse(s).ok_or_else(|| {
            AppError::refuse(
                Code::InvalidSort,
                format!(
                    "排序方式“{s}”无效，应为{}",
                    Sort::ALL.iter().map(|x| format!("{}（{}）", x.label(), x.as_str())).collect::<Vec<_>>().join("、")
                ),
            )
        }),
    }
}

/// The caller's scope narrowed by the filters.
async fn filter(ctx: &Ctx<'_>, q: &ProblemQuery) -> AppResult<ProblemFilter> {
    let mut f = scope(ctx).await?;
    f.states = states(&q.state)?;
    if f.unit_id.is_none() {
        f.unit_id = given(&q.unit_id).map(str::to_string);
    }
    f.type_id = given(&q.type_id).map(str::to_string);
    if let Some(t) = &f.type_id
        && !points::types(ctx.db).await?.iter().any(|x| &x.id == t)
    {
        return Err(AppError::refuse(Code::InvalidQuery, "所选点位类型不存在，请在“点位类型”中重新选择"));
    }
    f.source = one_of(&q.source, Source::parse, Code::InvalidSource, "来源")?;
    f.severity = one_of(&q.severity, Severity::parse, Code::InvalidSeverity, "严重程度")?;
    (f.from_ms, f.to_ms) = days(&q.from, &q.to, "发现时间")?;
    f.overdue_at = flag(&q.overdue, "仅看逾期")?.unwrap_or(false).then(now_ms);
    f.late_at = flag(&q.late, "曾逾期（含已整改）")?.unwrap_or(false).then(now_ms);
    f.reworked = flag(&q.reworked, "返工")?;
    f.flagged = flag(&q.flagged, "有证据警告")?.unwrap_or(false);
    f.keyword = given(&q.q).map(str::to_string);
    (f.dispatched_from, f.dispatched_to) = days(&q.dfrom, &q.dto, "交办时间")?;
    if let Some(c) = given(&q.community_id) {
        f.area_ids = Some(match f.area_ids {
            Some(scope) => scope.into_iter().filter(|i| i == c).collect(),
            None => vec![c.to_string()],
        });
    }
    f.closed_only = flag(&q.closed, "仅看已销号")?.unwrap_or(false);
    f.closed_on_time = flag(&q.on_time, "仅看按期销号")?.unwrap_or(false);
    f.extended = flag(&q.extended, "仅看延期")?.unwrap_or(false);
    f.pending = flag(&q.pending, "待审批申请")?.unwrap_or(false);
    if let Some(a) = given(&q.area_id) {
        let under = crate::store::org::subtree_ids(ctx.db, a).await?;
        f.area_ids = Some(match f.area_ids {
            Some(scope) => scope.into_iter().filter(|i| under.contains(i)).collect(),
            None => under,
        });
    }
    if flag(&q.team, "本组督导区域")?.unwrap_or(false) {
        crate::service::problems::within_teams(ctx, &mut f).await?;
    }
    f.category = given(&q.category).map(str::to_string);
    f.point_id = given(&q.point_id).map(str::to_string);
    (f.closed_from, f.closed_to) = days(&q.cfrom, &q.cto, "销号时间")?;
    match given(&q.due) {
        None => {}
        Some(due) => {
            let now = now_ms();
            let end_of_today = crate::domain::time::end_of_local_day(now);
            (f.due_from, f.due_before) = match due {
                "today" => (Some(now), Some(end_of_today)),
                "later" => (Some(end_of_today), None),
                "running" => (Some(now), None),
                other => {
                    return Err(AppError::refuse(
                        Code::InvalidQuery,
                        format!(
                            "到期条件“{other}”无效，应为 today（今日到期）、later（明日及以后）或 running（未逾期）"
                        ),
                    ));
                }
            };
        }
    }
    Ok(f)
}

fn overdue(r: &ProblemRow, now: i64) -> bool {
    r.state.clock_running() && r.deadline_at.is_some_and(|d| d < now)
}

/// Closed after its deadline (a notice counts it among the late ones).
fn closed_late(r: &ProblemRow) -> bool {
    r.state == State::Closed && matches!((r.closed_at, r.deadline_at), (Some(c), Some(d)) if c > d)
}

/// "11-23 07:05": the day and time, as a list shows them.
fn short(t: i64) -> String {
    fmt_local(t)[5..16].to_string()
}

impl ListSpec for Problems {
    type Query = ProblemQuery;
    type Row = ProblemRow;
    const META: Meta = Meta::new("问题台账", "/problems", "problems", "没有符合条件的问题");

    fn columns(_user: &CurrentUser) -> Vec<Column<ProblemRow>> {
        let now = now_ms();
        vec![
            table_col("编号", |r: &ProblemRow| Cell::link(&r.code, format!("/problems/{}", r.id))).nowrap(),
            sheet_col("问题编号", |r: &ProblemRow| Cell::text(&r.code)),
            table_col("发现时间", |r: &ProblemRow| Cell::Hint(short(r.found_at), r.source.label().into())).nowrap(),
            sheet_col("发现时间", |r: &ProblemRow| Cell::Time(Some(r.found_at))),
            table_col("点位", |r: &ProblemRow| Cell::Hint(r.point_name.clone(), r.type_name.clone())),
            sheet_col("点位", |r: &ProblemRow| Cell::text(&r.point_name)),
            sheet_col("点位类型", |r: &ProblemRow| Cell::text(&r.type_name)),
            table_col("问题", |r: &ProblemRow| Cell::Hint(r.category.clone(), r.description.clone())),
            sheet_col("问题类别", |r: &ProblemRow| Cell::text(&r.category)),
            sheet_col("问题描述", |r: &ProblemRow| Cell::text(&r.description)),
            sheet_col("来源", |r: &ProblemRow| Cell::text(r.source.label())),
            table_col("责任单位/负责人", |r: &ProblemRow| Cell::Hint(r.unit_name.clone(), r.lead_name.clone())),
            sheet_col("责任单位", |r: &ProblemRow| Cell::text(&r.unit_name)),
            sheet_col("负责人", |r: &ProblemRow| Cell::text(&r.lead_name)),
            table_col("整改期限", move |r: &ProblemRow| {
                let mark = if overdue(r, now) {
                    Some(("逾期".to_string(), "off"))
                } else {
                    closed_late(r).then(|| ("逾期办结".to_string(), "win"))
                };
                Cell::Marked(r.deadline_at.map(short).unwrap_or_default(), mark)
            }),
            sheet_col("整改期限", |r: &ProblemRow| Cell::Time(r.deadline_at)),
            table_col("状态", |r: &ProblemRow| {
                let mark = (r.rework_count > 0).then(|| (format!("返工{}", r.rework_count), "win"));
                Cell::Marked(r.state.label().into(), mark)
            }),
            sheet_col("状态", |r: &ProblemRow| Cell::text(r.state.label())),
            sheet_col("逾期", move |r: &ProblemRow| {
                Cell::text(if overdue(r, now) {
                    "是"
                } else if closed_late(r) {
                    "逾期办结"
                } else {
                    ""
                })
            }),
            sheet_col("返工次数", |r: &ProblemRow| Cell::Int(r.rework_count)),
            sheet_col("销号时间", |r: &ProblemRow| Cell::Time(r.closed_at)),
        ]
    }

    /// By offset: the Excel export (the whole filtered ledger, newest first).
    async fn load(ctx: &Ctx<'_>, q: &ProblemQuery, page: PageReq) -> AppResult<(Vec<ProblemRow>, i64)> {
        let f = filter(ctx, q).await?;
        sort(&q.sort)?;
        Ok(store::list(ctx.db, &f, page).await?)
    }

    /// By keyset, in the order asked for.
    async fn slice(ctx: &Ctx<'_>, q: &ProblemQuery, paging: &Paging) -> AppResult<Slice<ProblemRow>> {
        let f = filter(ctx, q).await?;
        let sort = sort(&q.sort)?;
        let seek = Seek::parse(paging.after.as_deref(), paging.before.as_deref())
            .ok_or_else(|| AppError::refuse(Code::InvalidCursor, "翻页参数无效，请回到首页重新查询"))?;
        let size = paging.req().size;
        let pg = store::list_keyset(ctx.db, &f, sort, &seek, size).await?;
        let page = if pg.prev.is_none() { 1 } else { paging.n.unwrap_or(1).max(1) };
        Ok(Slice {
            items: pg.rows,
            total: pg.total,
            total_exact: pg.total_exact,
            page,
            size,
            cursors: Some((pg.next, pg.prev)),
        })
    }

    async fn filters(ctx: &Ctx<'_>, q: &ProblemQuery) -> AppResult<Vec<Field>> {
        let states = std::iter::once(Opt::new("open", "未办结"))
            .chain(options(&State::ALL, State::as_str, State::label))
            .collect();
        let types = points::types(ctx.db).await?.into_iter().map(|t| Opt::new(t.id, t.name)).collect();
        let sorts = Sort::ALL.iter().map(|s| Opt::new(s.as_str(), s.label())).collect();
        let mut f = vec![
            Field::select("state", "状态", states, &q.state),
            Field::select("source", "来源", options(&Source::ALL, Source::as_str, Source::label), &q.source),
            Field::select(
                "severity",
                "严重程度",
                options(&Severity::ALL, Severity::as_str, Severity::label),
                &q.severity,
            ),
            Field::select("type_id", "点位类型", types, &q.type_id),
        ];
        if !ctx.user.role.needs_unit() {
            let mut units = units::all_names(ctx.db).await?;
            // A grid worker or a street offers the units with points in its area only.
            if let Some(areas) = crate::service::access::area_scope(ctx).await? {
                let present = points::units_in(ctx.db, &areas).await?;
                units.retain(|(id, _)| present.contains(id));
            }
            let units = units.into_iter().map(|(id, n)| Opt::new(id, n)).collect();
            f.push(Field::select("unit_id", "责任单位", units, &q.unit_id));
        }
        f.extend([
            Field::date("from", "发现日期起", &q.from),
            Field::date("to", "发现日期止", &q.to),
            Field::text("q", "关键字", "编号/点位/描述", &q.q),
            Field::choice("sort", "排序", sorts, &q.sort),
            Field::select(
                "reworked",
                "返工",
                vec![Opt::new("1", "返工过"), Opt::new("0", "未返工")],
                match flag(&q.reworked, "返工").ok().flatten() {
                    Some(true) => "1",
                    Some(false) => "0",
                    None => "",
                },
            ),
            Field::check("overdue", "仅看逾期", &q.overdue),
            Field::check("late", "曾逾期（含已整改）", &q.late),
            Field::check("flagged", "有证据警告", &q.flagged),
            Field::check("pending", "待审批申请", &q.pending),
        ]);
        if crate::service::access::team_areas(ctx).await?.is_some() {
            f.push(Field::check("team", "本组督导区域", &q.team));
        }
        for (name, value) in [
            ("dfrom", &q.dfrom),
            ("dto", &q.dto),
            ("community_id", &q.community_id),
            ("closed", &q.closed),
            ("on_time", &q.on_time),
            ("extended", &q.extended),
            ("due", &q.due),
            ("area_id", &q.area_id),
            ("category", &q.category),
            ("point_id", &q.point_id),
            ("cfrom", &q.cfrom),
            ("cto", &q.cto),
        ] {
            f.push(Field::hidden(name, value));
        }
        Ok(f)
    }

    fn buttons(user: &CurrentUser) -> Vec<Button> {
        if user.role == Role::Discipline { Vec::new() } else { vec![Button::link("登记问题", "/problems/new")] }
    }

    /// A drill-down from the KPI page or the dashboard says what it counts.
    async fn notes(ctx: &Ctx<'_>, q: &ProblemQuery) -> AppResult<Vec<Note>> {
        let all = || Some(("查看全部问题".to_string(), "/problems".to_string()));
        if let Some(due) = given(&q.due) {
            let text = match due {
                "today" => "今日到期：尚未逾期、今天24时前到期的问题",
                "later" => "明日及以后到期的问题",
                _ => "尚未逾期的问题",
            };
            return Ok(vec![Note { text: text.to_string(), link: all(), warn: false }]);
        }
        let mut said = Vec::new();
        if let Some(a) = given(&q.area_id) {
            let name =
                crate::store::org::get(ctx.db, a).await?.map(|n| n.name).unwrap_or_else(|| "（未知区域）".into());
            said.push(format!("区域：{name}"));
        }
        if let Some(p) = given(&q.point_id) {
            let name = points::get(ctx.db, p).await?.map(|p| p.name).unwrap_or_else(|| "（未知点位）".into());
            said.push(format!("点位：{name}"));
        }
        if let Some(c) = given(&q.category) {
            said.push(format!("问题类别：{c}"));
        }
        match (given(&q.cfrom), given(&q.cto)) {
            (Some(a), Some(b)) if a == b => said.push(format!("{a}销号")),
            (Some(a), Some(b)) => said.push(format!("{a}至{b}销号")),
            _ => {}
        }
        if !said.is_empty() {
            return Ok(vec![Note { text: format!("看板明细：{}", said.join("，")), link: all(), warn: false }]);
        }
        let (Some(from), Some(to)) = (given(&q.dfrom), given(&q.dto)) else { return Ok(Vec::new()) };
        let what = if given(&q.on_time).is_some() {
            "按期销号的"
        } else if given(&q.closed).is_some() {
            "已销号的"
        } else if given(&q.extended).is_some() {
            "延期的"
        } else {
            ""
        };
        Ok(vec![Note {
            text: format!("整改指标明细：{from}至{to}下派的{what}问题"),
            link: Some(("查看全部问题".into(), "/problems".into())),
            warn: false,
        }])
    }
}
