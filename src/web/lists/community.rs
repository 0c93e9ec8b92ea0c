//! Community work: the year's 文明单位 applications.

use crate::domain::community::ApplicationState;
use crate::error::AppResult;
use crate::service::civilized::{self as svc, ApplicationLine, ApplicationQuery};
use crate::service::{Ctx, CurrentUser};
use crate::store::PageReq;
use crate::web::list::*;

/// 文明单位: the year's applications (the office all, a unit its own), reviewed ones by total.
pub struct CivilizedUnits;

impl ListSpec for CivilizedUnits {
    type Query = ApplicationQuery;
    type Row = ApplicationLine;
    const META: Meta = Meta::new("文明单位", "/civilized-units", "civilized", "没有符合条件的申报");

    fn columns(_user: &CurrentUser) -> Vec<Column<ApplicationLine>> {
        vec![
            table_col("单位", |r: &ApplicationLine| Cell::link(&r.unit_name, format!("/civilized-units/{}", r.id))),
            sheet_col("单位", |r: &ApplicationLine| Cell::text(&r.unit_name)),
            col("年度", |r: &ApplicationLine| Cell::Int(r.year)).nowrap(),
            col("状态", |r: &ApplicationLine| match r.state {
                ApplicationState::Named | ApplicationState::Passed => Cell::Tag(r.state.label().into(), "win"),
                ApplicationState::Revoked | ApplicationState::Failed => Cell::Tag(r.state.label().into(), "off"),
                _ => Cell::Tag(r.state.label().into(), ""),
            })
            .nowrap(),
            col("总分", |r: &ApplicationLine| match r.total {
                Some(t) => Cell::Decimal(t, 1),
                None => Cell::Muted("—".into()),
            }),
            col("申报时间", |r: &ApplicationLine| Cell::Time(Some(r.submitted_at))),
            col("评审时间", |r: &ApplicationLine| Cell::Time(r.reviewed_at)),
            sheet_col("命名时间", |r: &ApplicationLine| Cell::Time(r.named_at)),
            sheet_col("文明办意见", |r: &ApplicationLine| Cell::text(&r.note)),
        ]
    }

    async fn load(ctx: &Ctx<'_>, q: &ApplicationQuery, page: PageReq) -> AppResult<(Vec<ApplicationLine>, i64)> {
        svc::lines(ctx, q, page).await
    }

    async fn filters(ctx: &Ctx<'_>, q: &ApplicationQuery) -> AppResult<Vec<Field>> {
        let states = options(&ApplicationState::ALL, ApplicationState::as_str, ApplicationState::label);
        let year = match q.year.trim() {
            "" => svc::year_of(q).map(|y| y.to_string()).unwrap_or_default(),
            y => y.to_string(),
        };
        let mut f = vec![Field::year("year", "年度", &year), Field::select("state", "状态", states, &q.state)];
        if !ctx.user.role.needs_unit() {
            f.push(Field::text("q", "单位名称", "输入单位名称", &q.q));
        }
        Ok(f)
    }
}
