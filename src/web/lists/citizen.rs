//! 市民反映: the triage queue of residents' reports (随手拍, Open311).

use crate::domain::citizen::{self, ReportState};
use crate::domain::code::Code;
use crate::error::AppResult;
use crate::service::{Ctx, CurrentUser};
use crate::store::PageReq;
use crate::store::reports::{PublicRow, ReportFilter};
use crate::web::list::*;
use crate::web::pages::area_filter_options;
use serde::Deserialize;
use utoipa::IntoParams;

pub struct Reports;

#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(default)]
pub struct ReportQuery {
    /// received (待核实, the default) | verified | voided | all
    pub state: String,
    /// A street or community: reports in it and below
    pub area_id: String,
    /// Code, category, description or address contains
    pub q: String,
    /// First day, YYYY-MM-DD (Beijing time)
    pub from: String,
    /// Last day, inclusive
    pub to: String,
}

fn state_cell(r: &PublicRow) -> Cell {
    let s = citizen::public_state(r.state, r.problem_state);
    let style = match r.state {
        ReportState::Received => "",
        ReportState::Voided => "off",
        ReportState::Verified => "win",
    };
    Cell::Tag(s.into(), style)
}

impl ListSpec for Reports {
    type Query = ReportQuery;
    type Row = PublicRow;
    const META: Meta = Meta::new("市民反映", "/reports", "reports", "没有符合条件的市民反映");

    fn columns(_user: &CurrentUser) -> Vec<Column<PublicRow>> {
        vec![
            table_col("受理编号", |r: &PublicRow| Cell::link(&r.code, format!("/reports/{}", r.id))),
            sheet_col("受理编号", |r: &PublicRow| Cell::text(&r.code)),
            col("状态", state_cell),
            col("问题类别", |r: &PublicRow| Cell::text(&r.category)),
            col("问题描述", |r: &PublicRow| Cell::text(&r.description)),
            col("位置", |r: &PublicRow| {
                Cell::Hint(r.address.clone(), r.community_name.clone().unwrap_or_else(|| "未入格".into()))
            }),
            col("也遇到", |r: &PublicRow| Cell::Int(r.supporters)),
            col("反映时间", |r: &PublicRow| Cell::Time(Some(r.created_at))),
            col("责任单位", |r: &PublicRow| Cell::text(r.unit_name.clone().unwrap_or_default())),
            table_col("操作", |r: &PublicRow| {
                let label = if r.state == ReportState::Received { "核实" } else { "查看" };
                Cell::Actions(vec![Button::link(label, format!("/reports/{}", r.id))])
            }),
        ]
    }

    async fn load(ctx: &Ctx<'_>, q: &ReportQuery, page: PageReq) -> AppResult<(Vec<PublicRow>, i64)> {
        let state = match q.state.trim() {
            "" => Some(ReportState::Received),
            "all" => None,
            s => Some(one_of(s, ReportState::parse, Code::InvalidStatus, "状态")?.unwrap_or(ReportState::Received)),
        };
        let mut f = ReportFilter { state, keyword: given(&q.q).map(str::to_string), ..Default::default() };
        if let Some(a) = given(&q.area_id) {
            f.community_ids = Some(crate::store::org::subtree_ids(ctx.db, a).await?);
        }
        f.since = day(&q.from, false)?;
        f.until = day(&q.to, true)?;
        crate::service::reports::queue(ctx, f, page).await
    }

    async fn filters(ctx: &Ctx<'_>, q: &ReportQuery) -> AppResult<Vec<Field>> {
        let mut states = vec![crate::web::ui::Opt::new("all", "全部")];
        states.extend(ReportState::ALL.iter().map(|s| crate::web::ui::Opt::new(s.as_str(), s.label())));
        let state = if q.state.is_empty() { "received" } else { q.state.as_str() };
        Ok(vec![
            Field::choice("state", "状态", states, state),
            Field::select("area_id", "街道/社区", area_filter_options(ctx).await?, &q.area_id),
            Field::text("q", "关键字", "编号/类别/描述/地址", &q.q),
            Field::date("from", "反映日期自", &q.from),
            Field::date("to", "至", &q.to),
        ])
    }

    fn buttons(user: &CurrentUser) -> Vec<Button> {
        let mut b = vec![Button::link("公示页", "/public"), Button::link("随手拍二维码海报", "/public/report/poster")];
        if user.role == crate::domain::role::Role::Admin {
            b.push(Button::link("Open311接口密钥", "/open311/keys"));
        }
        b
    }
}
