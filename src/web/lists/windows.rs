//! 窗口服务: the windows, the 好差评 ratings, the bad-rating cases and the monthly figures.

use crate::domain::code::Code;
use crate::domain::role::Role;
use crate::domain::time::now_ms;
use crate::domain::window::{self as rules, CaseState, Sector, level_label, percent};
use crate::error::{AppError, AppResult};
use crate::service::window_figures::{self as figures, Line};
use crate::service::{Ctx, CurrentUser};
use crate::store::PageReq;
use crate::store::windows::{CaseFilter, CaseRow, RatingFilter, RatingRow, WindowFilter, WindowRow};
use crate::web::list::*;
use crate::web::ui::Opt;
use serde::Deserialize;
use utoipa::IntoParams;

fn unit_options_for(ctx: &Ctx<'_>) -> bool {
    !ctx.user.role.needs_unit()
}

/// The window units as choices (filters, and the office's forms for a unit's windows).
pub(crate) async fn window_units(ctx: &Ctx<'_>) -> AppResult<Vec<Opt>> {
    let units = crate::store::units::all(ctx.db).await?;
    Ok(units.into_iter().filter(|u| u.kind.is_window()).map(|u| Opt::new(u.id, u.name)).collect())
}

fn sector_options() -> Vec<Opt> {
    options(&Sector::ALL, Sector::as_str, Sector::label)
}

fn month_of_query(s: &str) -> AppResult<i64> {
    match given(s) {
        None => Ok(rules::month_of(now_ms())),
        Some(m) => {
            rules::parse_month(m).ok_or_else(|| AppError::refuse(Code::InvalidMonth, Code::InvalidMonth.message()))
        }
    }
}

fn month_text(m: i64) -> String {
    format!("{}-{:02}", m / 100, m % 100)
}

/// 服务窗口: every window with its unit, service, who is on duty and its QR code.
pub struct Windows;

#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(default)]
pub struct WindowQuery {
    pub unit_id: String,
    /// bank | government | telecom | …
    pub sector: String,
    /// 1 in use, 0 withdrawn
    pub active: String,
    /// Number, service, code or unit contains
    pub q: String,
}

impl ListSpec for Windows {
    type Query = WindowQuery;
    type Row = WindowRow;
    const META: Meta = Meta::new("服务窗口", "/windows", "windows", "没有符合条件的服务窗口");

    fn columns(_user: &CurrentUser) -> Vec<Column<WindowRow>> {
        vec![
            table_col("窗口", |r: &WindowRow| Cell::link(&r.number, format!("/windows/{}", r.id))),
            sheet_col("窗口", |r: &WindowRow| Cell::text(&r.number)),
            col("办理业务", |r: &WindowRow| Cell::text(&r.service)),
            col("窗口单位", |r: &WindowRow| Cell::text(&r.unit_name)),
            col("行业", |r: &WindowRow| Cell::or_dash(r.sector.map(|s| s.label()))),
            col("在岗人员", |r: &WindowRow| match (&r.staff_name, &r.staff_badge) {
                (Some(n), Some(b)) => Cell::text(format!("{n}（{b}）")),
                _ => Cell::Muted("未指定".into()),
            }),
            col("评价码", |r: &WindowRow| Cell::text(&r.code)).nowrap(),
            col("所在点位", |r: &WindowRow| Cell::or_dash(r.point_name.as_deref())),
            col("状态", |r: &WindowRow| {
                if r.active == 1 { Cell::Tag("在用".into(), "") } else { Cell::Tag("停用".into(), "off") }
            }),
            table_col("操作", |r: &WindowRow| {
                Cell::Actions(vec![
                    Button::link("查看", format!("/windows/{}", r.id)),
                    Button::link("评价页", format!("/rate/{}", r.code)),
                ])
            }),
        ]
    }

    async fn load(ctx: &Ctx<'_>, q: &WindowQuery, page: PageReq) -> AppResult<(Vec<WindowRow>, i64)> {
        let scope = crate::service::windows::unit_scope(ctx)?;
        let f = WindowFilter {
            unit_id: scope.or(given(&q.unit_id).map(str::to_string)),
            sector: one_of(&q.sector, Sector::parse, Code::InvalidKind, "行业")?,
            active: flag(&q.active, "状态")?,
            keyword: given(&q.q).map(str::to_string),
        };
        Ok(crate::store::windows::window_rows(ctx.db, &f, page).await?)
    }

    async fn filters(ctx: &Ctx<'_>, q: &WindowQuery) -> AppResult<Vec<Field>> {
        let mut f = Vec::new();
        if unit_options_for(ctx) {
            f.push(Field::select("unit_id", "窗口单位", window_units(ctx).await?, &q.unit_id));
            f.push(Field::select("sector", "行业", sector_options(), &q.sector));
        }
        f.push(Field::select("active", "状态", vec![Opt::new("1", "在用"), Opt::new("0", "停用")], &q.active));
        f.push(Field::text("q", "窗口/业务/评价码", "输入关键字", &q.q));
        Ok(f)
    }

    fn buttons(user: &CurrentUser) -> Vec<Button> {
        let mut b = Vec::new();
        if matches!(user.role, Role::Admin | Role::UnitUser) {
            b.push(Button::link("新增窗口", "/windows/new"));
            b.push(Button::link("工作人员", "/windows/staff"));
            b.push(Button::link("评价器", "/windows/devices"));
        }
        b.push(Button::link("打印二维码", "/windows/qr"));
        b.push(Button::link("评价统计与排名", "/windows/figures"));
        b
    }
}

/// 好差评记录: the ratings, newest first (the rater's phone is never listed).
pub struct Ratings;

#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(default)]
pub struct RatingQuery {
    pub unit_id: String,
    pub window_id: String,
    pub sector: String,
    /// 1–5
    pub level: String,
    /// 1: only 不满意 and 非常不满意
    pub bad: String,
    /// 2026-12
    pub month: String,
}

impl ListSpec for Ratings {
    type Query = RatingQuery;
    type Row = RatingRow;
    const META: Meta = Meta::new("好差评记录", "/ratings", "ratings", "没有符合条件的评价");

    fn columns(_user: &CurrentUser) -> Vec<Column<RatingRow>> {
        vec![
            col("评价时间", |r: &RatingRow| Cell::Time(Some(r.rated_at))),
            col("窗口单位", |r: &RatingRow| Cell::text(&r.unit_name)),
            col("窗口", |r: &RatingRow| Cell::text(format!("{} {}", r.window_number, r.window_service))),
            col("工作人员", |r: &RatingRow| Cell::or_dash(r.staff_name.as_deref())),
            col("评价", |r: &RatingRow| {
                let style = if rules::is_bad(r.level) {
                    "off"
                } else if rules::is_good(r.level) {
                    "win"
                } else {
                    ""
                };
                Cell::Tag(level_label(r.level).into(), style)
            }),
            col("标签", |r: &RatingRow| Cell::text(&r.tags)),
            col("意见建议", |r: &RatingRow| Cell::text(crate::domain::citizen::mask_personal(&r.comment))),
            col("渠道", |r: &RatingRow| Cell::text(r.channel.label())),
            col("计入统计", |r: &RatingRow| {
                if r.excluded == 1 { Cell::Tag("申诉成立，不计入".into(), "off") } else { Cell::text("是") }
            }),
            table_col("差评工单", |r: &RatingRow| match &r.case_id {
                Some(c) => Cell::link("查看", format!("/rating-cases/{c}")),
                None => Cell::Muted("—".into()),
            }),
        ]
    }

    async fn load(ctx: &Ctx<'_>, q: &RatingQuery, page: PageReq) -> AppResult<(Vec<RatingRow>, i64)> {
        let scope = crate::service::windows::unit_scope(ctx)?;
        let level = match given(&q.level) {
            None => None,
            Some(l) => {
                Some(rules::parse_level(l).ok_or_else(|| AppError::refuse(Code::InvalidQuery, "评价等级应为1至5"))?)
            }
        };
        let f = RatingFilter {
            unit_id: scope.or(given(&q.unit_id).map(str::to_string)),
            window_id: given(&q.window_id).map(str::to_string),
            staff_id: None,
            sector: one_of(&q.sector, Sector::parse, Code::InvalidKind, "行业")?,
            level,
            bad_only: flag(&q.bad, "仅看差评")?.unwrap_or(false),
            month: given(&q.month).map(|_| month_of_query(&q.month)).transpose()?,
        };
        Ok(crate::store::windows::rating_page(ctx.db, &f, page).await?)
    }

    async fn filters(ctx: &Ctx<'_>, q: &RatingQuery) -> AppResult<Vec<Field>> {
        let mut f = Vec::new();
        if unit_options_for(ctx) {
            f.push(Field::select("unit_id", "窗口单位", window_units(ctx).await?, &q.unit_id));
            f.push(Field::select("sector", "行业", sector_options(), &q.sector));
        }
        let levels = rules::LEVELS.iter().map(|(l, n)| Opt::new(l.to_string(), *n)).collect();
        f.push(Field::select("level", "评价", levels, &q.level));
        f.push(Field::text("month", "月份", "2026-12", &q.month));
        f.push(Field::check("bad", "仅看差评", &q.bad));
        if let Some(w) = given(&q.window_id) {
            f.push(Field::hidden("window_id", w));
        }
        Ok(f)
    }
}

/// 差评工单: bad ratings and where their handling stands.
pub struct RatingCases;

#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(default)]
pub struct CaseQuery {
    /// open (待回访, 待核实, and for the office 申诉中) | callback | verify | fixing | appealed | replied | upheld; empty: all
    pub state: String,
    pub unit_id: String,
    pub month: String,
    /// 1: callbacks past due
    pub overdue: String,
}

impl ListSpec for RatingCases {
    type Query = CaseQuery;
    type Row = CaseRow;
    const META: Meta = Meta::new("差评工单", "/rating-cases", "rating_cases", "没有符合条件的差评工单");

    fn columns(_user: &CurrentUser) -> Vec<Column<CaseRow>> {
        vec![
            table_col("工单号", |r: &CaseRow| Cell::link(&r.code, format!("/rating-cases/{}", r.id))),
            sheet_col("工单号", |r: &CaseRow| Cell::text(&r.code)),
            col("状态", |r: &CaseRow| {
                let mark = if r.waiting_past_due(now_ms()) {
                    let what = if r.has_phone == 1 { "回访逾期" } else { "核实逾期" };
                    Some((what.to_string(), "overdue"))
                } else {
                    r.called_late().then(|| ("超期回访".to_string(), "overdue"))
                };
                Cell::Marked(r.state.label().into(), mark)
            }),
            col("窗口单位", |r: &CaseRow| Cell::text(&r.unit_name)),
            col("窗口", |r: &CaseRow| Cell::text(format!("{} {}", r.window_number, r.window_service))),
            col("评价", |r: &CaseRow| Cell::Tag(level_label(r.level).into(), "off")),
            col("标签", |r: &CaseRow| Cell::text(&r.tags)),
            col("实名", |r: &CaseRow| Cell::text(if r.has_phone == 1 { "是" } else { "匿名" })),
            col("评价时间", |r: &CaseRow| Cell::Time(Some(r.rated_at))),
            col("回访期限", |r: &CaseRow| Cell::Time(Some(r.callback_due))),
            col("整改问题", |r: &CaseRow| Cell::or_dash(r.problem_code.as_deref())),
            table_col("操作", |r: &CaseRow| {
                let label = if r.state.open() { "处理" } else { "查看" };
                Cell::Actions(vec![Button::link(label, format!("/rating-cases/{}", r.id))])
            }),
        ]
    }

    async fn load(ctx: &Ctx<'_>, q: &CaseQuery, page: PageReq) -> AppResult<(Vec<CaseRow>, i64)> {
        let states = match q.state.trim() {
            "" => None,
            "open" => Some(crate::service::rating_cases::open_states(ctx.user.role)),
            s => Some(vec![
                one_of(s, CaseState::parse, Code::InvalidStatus, "状态")?
                    .map(|s| s.as_str().to_string())
                    .unwrap_or_default(),
            ]),
        };
        let f = CaseFilter {
            unit_id: given(&q.unit_id).map(str::to_string),
            states,
            month: given(&q.month).map(|_| month_of_query(&q.month)).transpose()?,
            overdue_at: flag(&q.overdue, "仅看逾期（回访或核实）")?.unwrap_or(false).then(now_ms),
        };
        crate::service::rating_cases::list(ctx, f, page).await
    }

    async fn filters(ctx: &Ctx<'_>, q: &CaseQuery) -> AppResult<Vec<Field>> {
        let mut states = vec![Opt::new("open", "待处理")];
        states.extend(CaseState::ALL.iter().map(|s| Opt::new(s.as_str(), s.label())));
        let mut f = vec![Field::select("state", "状态", states, &q.state)];
        if unit_options_for(ctx) {
            f.push(Field::select("unit_id", "窗口单位", window_units(ctx).await?, &q.unit_id));
        }
        f.push(Field::text("month", "月份", "2026-12", &q.month));
        f.push(Field::check("overdue", "仅看逾期（回访或核实）", &q.overdue));
        Ok(f)
    }
}

/// 评价统计与排名: a month's figures per window (ranked), with the units, staff and sectors in the
/// Excel download.
pub struct WindowRanking;

#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(default)]
pub struct FigureQuery {
    /// 2026-12 (default this month)
    pub month: String,
    pub sector: String,
    /// window (default) | unit | staff | sector
    pub by: String,
}

fn figure_columns(first: &'static str) -> Vec<Column<Line>> {
    vec![
        col("名次", |r: &Line| if r.rank > 0 { Cell::Int(r.rank) } else { Cell::Muted("—".into()) }),
        col(first, |r: &Line| Cell::text(&r.name)),
        col("窗口单位", |r: &Line| Cell::or_dash(Some(r.unit_name.as_str()))),
        col("评价数", |r: &Line| Cell::Int(r.tally.total())),
        col("评价率", |r: &Line| Cell::Percent(r.rating_rate().map(|x| x * 100.0))),
        col("满意率", |r: &Line| Cell::Percent(r.satisfaction().map(|x| x * 100.0))),
        col("差评率", |r: &Line| Cell::Percent(r.bad_rate().map(|x| x * 100.0))),
        col("差评数", |r: &Line| Cell::Int(r.tally.bad())),
        col("实名差评回访率", |r: &Line| Cell::Percent(r.callback_rate().map(|x| x * 100.0))),
        col("差评按时整改率", |r: &Line| Cell::Percent(r.fix_on_time_rate().map(|x| x * 100.0))),
        col("回访满意率", |r: &Line| Cell::Percent(r.callback_satisfaction().map(|x| x * 100.0))),
        col("评价得分", |r: &Line| Cell::decimal(r.score(), 1)),
    ]
}

impl ListSpec for WindowRanking {
    type Query = FigureQuery;
    type Row = Line;
    const META: Meta = Meta::new("好差评统计与月度排名", "/windows/figures", "window_figures", "本月还没有评价");

    fn columns(_user: &CurrentUser) -> Vec<Column<Line>> {
        figure_columns("名称")
    }

    async fn load(ctx: &Ctx<'_>, q: &FigureQuery, page: PageReq) -> AppResult<(Vec<Line>, i64)> {
        let f = figures::month(
            ctx,
            month_of_query(&q.month)?,
            one_of(&q.sector, Sector::parse, Code::InvalidKind, "行业")?,
        )
        .await?;
        let rows = match q.by.trim() {
            "" | "window" => f.windows,
            "unit" => f.units,
            "staff" => f.staff,
            "sector" => f.sectors,
            _ => return Err(AppError::refuse(Code::InvalidQuery, "统计口径应为窗口、单位、人员或行业")),
        };
        let total = rows.len() as i64;
        let start = ((page.page - 1) * page.size).min(total) as usize;
        let end = (start + page.size as usize).min(rows.len());
        Ok((rows[start..end].to_vec(), total))
    }

    async fn filters(_ctx: &Ctx<'_>, q: &FigureQuery) -> AppResult<Vec<Field>> {
        let month = month_of_query(&q.month).map(month_text).unwrap_or_else(|_| q.month.clone());
        let by = vec![
            Opt::new("window", "按窗口"),
            Opt::new("unit", "按单位"),
            Opt::new("staff", "按人员"),
            Opt::new("sector", "按行业"),
        ];
        Ok(vec![
            Field::text("month", "月份", "2026-12", &month),
            Field::select("by", "统计口径", by, &q.by),
            Field::select("sector", "行业", sector_options(), &q.sector),
        ])
    }

    async fn notes(ctx: &Ctx<'_>, q: &FigureQuery) -> AppResult<Vec<Note>> {
        let Ok(month) = month_of_query(&q.month) else { return Ok(Vec::new()) };
        let f = figures::month(ctx, month, None).await?;
        let t = &f.total;
        let mut notes = vec![Note {
            text: format!(
                "{}：评价{}条，满意率{}，差评率{}，实名差评回访率{}，差评按时整改率{}，回访满意率{}。单位须有{}条以上评价才参加排名。",
                f.label,
                t.tally.total(),
                percent(t.satisfaction()),
                percent(t.bad_rate()),
                percent(t.callback_rate()),
                percent(t.fix_on_time_rate()),
                percent(t.callback_satisfaction()),
                figures::MIN_RATINGS
            ),
            link: None,
            warn: false,
        }];
        for p in f.proposals {
            let link = (ctx.user.role == Role::Admin).then(|| ("去约谈".to_string(), "/interviews".to_string()));
            notes.push(Note { text: format!("{}：{}", p.unit_name, p.reason), link, warn: true });
        }
        Ok(notes)
    }

    async fn export(ctx: &Ctx<'_>, q: &FigureQuery) -> AppResult<Vec<Sheet>> {
        let f = figures::month(
            ctx,
            month_of_query(&q.month)?,
            one_of(&q.sector, Sector::parse, Code::InvalidKind, "行业")?,
        )
        .await?;
        let sheet = |name: &str, first: &'static str, rows: &[Line]| Sheet {
            name: name.into(),
            table: Table::of(&figure_columns(first), On::Sheet, rows, "无"),
        };
        Ok(vec![
            sheet("窗口排名", "窗口", &f.windows),
            sheet("单位排名", "单位", &f.units),
            sheet("人员", "人员", &f.staff),
            sheet("行业", "行业", &f.sectors),
        ])
    }

    fn buttons(_user: &CurrentUser) -> Vec<Button> {
        vec![Button::link("差评工单", "/rating-cases"), Button::link("好差评记录", "/ratings")]
    }
}
