//! The campaign's published record: notices (通报简报) and awards (红旗与表扬).

use crate::domain::notice::NoticeKind;
use crate::domain::score::{AwardKind, Class};
use crate::domain::standard::Publication;
use crate::domain::time::fmt_period;
use crate::error::AppResult;
use crate::service::notices::{self, ListQuery, sees_drafts};
use crate::service::scoring::{AwardQuery, award_list};
use crate::service::{Ctx, CurrentUser};
use crate::store::PageReq;
use crate::store::notices::NoticeRow;
use crate::store::scoring::Award;
use crate::web::list::*;
use crate::web::ui::Opt;

fn classes() -> Vec<Opt> {
    options(&Class::ALL, Class::as_str, Class::label)
}

/// 通报简报: notices newest period first; the office's staff see drafts and how many units
/// confirmed, a unit its own confirmation.
pub struct Notices;

impl ListSpec for Notices {
    type Query = ListQuery;
    type Row = NoticeRow;
    const META: Meta = Meta::new("通报简报", "/notices", "notices", "暂无通报");

    fn columns(user: &CurrentUser) -> Vec<Column<NoticeRow>> {
        let mut c = vec![
            col("期号", |r: &NoticeRow| Cell::text(&r.number)).nowrap(),
            table_col("标题", |r: &NoticeRow| Cell::link(&r.title, format!("/notices/{}", r.id))),
            sheet_col("标题", |r: &NoticeRow| Cell::text(&r.title)),
            col("类型", |r: &NoticeRow| Cell::text(r.kind.label())).nowrap(),
            col("排名对象", |r: &NoticeRow| Cell::text(r.class.label())).nowrap(),
            col("周期", |r: &NoticeRow| Cell::text(fmt_period(r.period_start, r.period_end))),
            col("状态", |r: &NoticeRow| match r.status {
                Publication::Published => Cell::Tag("已发布".into(), "win"),
                _ => Cell::Tag("草稿".into(), ""),
            }),
            col("发布时间", |r: &NoticeRow| Cell::Time(r.published_at)),
        ];
        if sees_drafts(user.role) {
            c.push(
                table_col("阅读确认", |r: &NoticeRow| match r.status {
                    Publication::Published => Cell::text(format!("{}/{}个单位", r.reads, r.readers)),
                    _ => Cell::text(""),
                })
                .nowrap(),
            );
            c.push(sheet_col("已确认单位数", |r: &NoticeRow| Cell::Int(r.reads)));
        } else if user.role.needs_unit() {
            c.push(table_col("阅读确认", |r: &NoticeRow| match (r.status, r.own_read_at) {
                (Publication::Published, None) => Cell::Tag("未确认".into(), "off"),
                (_, at) => Cell::Time(at),
            }));
            c.push(sheet_col("本单位确认时间", |r: &NoticeRow| Cell::Time(r.own_read_at)));
        }
        c
    }

    async fn load(ctx: &Ctx<'_>, q: &ListQuery, page: PageReq) -> AppResult<(Vec<NoticeRow>, i64)> {
        notices::list(ctx, q, page).await
    }

    async fn filters(ctx: &Ctx<'_>, q: &ListQuery) -> AppResult<Vec<Field>> {
        let mut f = vec![
            Field::select("kind", "类型", options(&NoticeKind::ALL, NoticeKind::as_str, NoticeKind::label), &q.kind),
            Field::select("class", "排名对象", classes(), &q.class),
        ];
        if sees_drafts(ctx.user.role) {
            let states = vec![Opt::new("draft", "草稿"), Opt::new("published", "已发布")];
            f.push(Field::select("status", "状态", states, &q.status));
        }
        f.push(Field::year("year", "年度", &q.year));
        if ctx.user.role.needs_unit() {
            f.push(Field::select("unread", "阅读确认", vec![Opt::new("1", "本单位未确认")], &q.unread));
        }
        Ok(f)
    }
}

/// 红旗与表扬: the history of red flags and commendations, newest first.
pub struct Awards;

impl ListSpec for Awards {
    type Query = AwardQuery;
    type Row = Award;
    const META: Meta = Meta::new("红旗与表扬", "/scores/awards", "awards", "暂无记录");

    fn columns(user: &CurrentUser) -> Vec<Column<Award>> {
        let reader = user.clone();
        vec![
            col("时间", |r: &Award| Cell::Time(Some(r.at))),
            col("考核对象", |r: &Award| Cell::text(r.class.label())).nowrap(),
            // A name whose ledger the reader opens is a link (a unit its own).
            table_col("名称", move |r: &Award| {
                if !crate::service::scoring::opens_ledger(&reader, r.class, &r.target_id) {
                    return Cell::text(&r.target_name);
                }
                let day = crate::domain::time::to_local(r.at).format("%Y-%m-%d");
                Cell::link(&r.target_name, format!("/scores/{}/{}?date={day}", r.class.as_str(), r.target_id))
            }),
            sheet_col("名称", |r: &Award| Cell::text(&r.target_name)),
            col("类型", |r: &Award| match r.kind {
                AwardKind::RedFlag => Cell::Tag(r.kind.label().into(), "win"),
                _ => Cell::Tag(r.kind.label().into(), ""),
            }),
            col("周期", |r: &Award| match (r.period_start, r.period_end) {
                (Some(s), Some(e)) => Cell::text(fmt_period(s, e)),
                _ => Cell::text(""),
            }),
            col("说明", |r: &Award| Cell::text(&r.note)),
        ]
    }

    async fn load(ctx: &Ctx<'_>, q: &AwardQuery, page: PageReq) -> AppResult<(Vec<Award>, i64)> {
        award_list(ctx.db, q, page).await
    }

    async fn filters(_ctx: &Ctx<'_>, q: &AwardQuery) -> AppResult<Vec<Field>> {
        let kinds = vec![Opt::new("red_flag", "流动红旗"), Opt::new("commendation", "表扬")];
        Ok(vec![
            Field::select("class", "考核对象", classes(), &q.class),
            Field::select("kind", "类型", kinds, &q.kind),
            Field::year("year", "年度", &q.year),
        ])
    }

    async fn notes(_ctx: &Ctx<'_>, _q: &AwardQuery) -> AppResult<Vec<Note>> {
        Ok(vec![Note {
            text: "流动红旗在千分制排名页按周（窗口单位按月）评定；表扬按事迹日期计入当周得分。".into(),
            link: None,
            warn: false,
        }])
    }
}
