//! The registry's lists: points (点位台账) and grids (网格).

use crate::domain::role::Role;
use crate::error::AppResult;
use crate::service::access::{area_scope, narrow_to_area};
use crate::service::points::{can_edit, scope};
use crate::service::{Ctx, CurrentUser};
use crate::store::points::{self as store, GridFilter, GridRow, PointFilter, PointRow};
use crate::store::{PageReq, units};
use crate::web::list::*;
use crate::web::pages::{area_filter_options, scoped_area_options};
use crate::web::ui::Opt;
use serde::Deserialize;
use utoipa::IntoParams;

/// 点位台账: the points a role may see (a unit its own, a grid worker its area).
pub struct Points;

#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(default)]
pub struct PointQuery {
    pub type_id: String,
    /// Points in this area or below
    pub area_id: String,
    pub unit_id: String,
    pub grid_id: String,
    /// 1 fixed points, 0 random points
    pub fixed: String,
    /// 1 in use, 0 withdrawn
    pub active: String,
    /// 1: only points outside every grid
    pub outside_grids: String,
    /// Keyword in name, code, address or person in charge
    pub q: String,
}

fn in_use(active: i64) -> Cell {
    if active == 1 { Cell::Tag("在用".into(), "") } else { Cell::Tag("已撤销".into(), "off") }
}

fn fixed_label(fixed: i64) -> &'static str {
    if fixed == 1 { "固定" } else { "随机" }
}

fn coordinate(v: Option<f64>) -> Cell {
    match v {
        Some(v) => Cell::Decimal(v, 6),
        None => Cell::Text(String::new()),
    }
}

impl ListSpec for Points {
    type Query = PointQuery;
    type Row = PointRow;
    const META: Meta = Meta::new("点位台账", "/points", "points", "没有符合条件的点位");

    /// The table, and for the export the import's 18 columns in its order (an exported list
    /// can be edited and imported again).
    fn columns(_user: &CurrentUser) -> Vec<Column<PointRow>> {
        vec![
            col("点位编码", |r: &PointRow| Cell::text(&r.code)).nowrap(),
            table_col("点位名称", |r: &PointRow| Cell::link(&r.name, format!("/points/{}", r.id))),
            sheet_col("点位名称", |r: &PointRow| Cell::text(&r.name)),
            table_col("类型", |r: &PointRow| Cell::Swatch(r.type_name.clone(), r.type_color.clone())),
            sheet_col("点位类型", |r: &PointRow| Cell::text(&r.type_name)),
            col("固定/随机", |r: &PointRow| Cell::text(fixed_label(r.fixed))),
            sheet_col("地址", |r: &PointRow| Cell::text(&r.address)),
            sheet_col("经度", |r: &PointRow| coordinate(r.lng)),
            sheet_col("纬度", |r: &PointRow| coordinate(r.lat)),
            sheet_col("坐标系", |_: &PointRow| Cell::text("WGS-84")),
            table_col("所属社区", |r: &PointRow| Cell::or_dash(r.community_name.as_deref())),
            sheet_col("所属社区编码", |r: &PointRow| Cell::text(r.community_code.clone().unwrap_or_default())),
            table_col("网格", |r: &PointRow| match &r.grid_code {
                Some(g) => Cell::text(g),
                None => Cell::Tag("未入格".into(), "off"),
            }),
            col("责任单位", |r: &PointRow| Cell::text(&r.unit_name)),
            table_col("负责人", |r: &PointRow| Cell::Phone(r.lead_name.clone(), r.lead_phone.clone())),
            sheet_col("负责人", |r: &PointRow| Cell::text(&r.lead_name)),
            sheet_col("负责人电话", |r: &PointRow| Cell::text(&r.lead_phone)),
            sheet_col("备用负责人", |r: &PointRow| Cell::text(&r.backup_name)),
            sheet_col("备用负责人电话", |r: &PointRow| Cell::text(&r.backup_phone)),
            sheet_col("包保领导", |r: &PointRow| Cell::text(&r.guarantor_name)),
            sheet_col("包保领导电话", |r: &PointRow| Cell::text(&r.guarantor_phone)),
            table_col("状态", |r: &PointRow| in_use(r.active)),
            sheet_col("状态", |r: &PointRow| Cell::text(if r.active == 1 { "在用" } else { "已撤销" })),
            sheet_col("备注", |r: &PointRow| Cell::text(&r.note)),
        ]
    }

    async fn load(ctx: &Ctx<'_>, q: &PointQuery, page: PageReq) -> AppResult<(Vec<PointRow>, i64)> {
        let mut f: PointFilter = scope(ctx).await?;
        f.area_ids = narrow_to_area(ctx.db, f.area_ids.take(), given(&q.area_id).map(str::to_string)).await?;
        if f.unit_id.is_none() {
            f.unit_id = given(&q.unit_id).map(str::to_string);
        }
        f.type_id = given(&q.type_id).map(str::to_string);
        f.grid_id = given(&q.grid_id).map(str::to_string);
        f.fixed = flag(&q.fixed, "固定/随机")?;
        f.active = flag(&q.active, "状态")?;
        f.outside_grids = flag(&q.outside_grids, "仅看未入格")?.unwrap_or(false);
        f.keyword = given(&q.q).map(str::to_string);
        Ok(store::list(ctx.db, &f, page).await?)
    }

    async fn filters(ctx: &Ctx<'_>, q: &PointQuery) -> AppResult<Vec<Field>> {
        let types = store::types(ctx.db).await?.into_iter().map(|t| Opt::new(t.id, t.name)).collect();
        // The grids of the reader's area only (a grid worker is offered its own community's).
        let scope = area_scope(ctx).await?;
        let grids = store::grids(ctx.db).await?;
        let grids = grids
            .into_iter()
            .filter(|g| scope.as_ref().is_none_or(|s| g.community_id.as_ref().is_some_and(|c| s.contains(c))))
            .map(|g| Opt::new(g.id, format!("{} {}", g.code, g.name)))
            .collect();
        let mut f = vec![
            Field::select("type_id", "点位类型", types, &q.type_id),
            Field::select("area_id", "所属区域", scoped_area_options(ctx.db, scope.as_ref()).await?, &q.area_id),
        ];
        if !ctx.user.role.needs_unit() {
            let units = units::all_names(ctx.db).await?.into_iter().map(|(id, n)| Opt::new(id, n)).collect();
            f.push(Field::select("unit_id", "责任单位", units, &q.unit_id));
        }
        f.extend([
            Field::select("grid_id", "网格", grids, &q.grid_id),
            Field::select("fixed", "固定/随机", vec![Opt::new("1", "固定点位"), Opt::new("0", "随机点位")], &q.fixed),
            Field::select("active", "状态", vec![Opt::new("1", "在用"), Opt::new("0", "已撤销")], &q.active),
            Field::text("q", "名称/编码/地址/负责人", "输入关键字", &q.q),
            Field::check("outside_grids", "仅看未入格", &q.outside_grids),
        ]);
        Ok(f)
    }

    fn buttons(user: &CurrentUser) -> Vec<Button> {
        let mut b = Vec::new();
        if can_edit(user.role) {
            b.push(Button::link("新增点位", "/points/new"));
            b.push(Button::link("导入Excel", "/points/import"));
        }
        b.push(Button::link("地图查看", "/map"));
        b
    }

    /// Points in use that no grid takes in, for the office to fix.
    async fn notes(ctx: &Ctx<'_>, _q: &PointQuery) -> AppResult<Vec<Note>> {
        let outside = PointFilter { outside_grids: true, active: Some(true), ..scope(ctx).await? };
        let count = store::list(ctx.db, &outside, PageReq::new(Some(1), Some(1))).await?.1;
        if count == 0 {
            return Ok(Vec::new());
        }
        Ok(vec![Note {
            text: format!("有 {count} 个在用点位不在任何网格内（未入格），请核对坐标或补充网格。"),
            link: Some(("查看".into(), "/points?outside_grids=1".into())),
            warn: true,
        }])
    }
}

/// 网格: the grids with their community, unit, grid worker and number of points.
pub struct Grids;

#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(default)]
pub struct GridQuery {
    /// Grids in this area or below
    pub area_id: String,
    pub unit_id: String,
    /// 1: only grids without a grid worker
    pub no_worker: String,
    /// Keyword in code or name
    pub q: String,
}

impl ListSpec for Grids {
    type Query = GridQuery;
    type Row = GridRow;
    const META: Meta = Meta::new("网格", "/grids", "grids", "没有符合条件的网格（尚无网格时请导入网格边界）");

    /// The export is the attribute import's format first (编码, 名称, 责任单位, 网格员账号).
    fn columns(_user: &CurrentUser) -> Vec<Column<GridRow>> {
        vec![
            col("网格编码", |r: &GridRow| Cell::text(&r.code)).nowrap(),
            col("网格名称", |r: &GridRow| Cell::text(&r.name)),
            sheet_col("责任单位", |r: &GridRow| Cell::text(r.unit_name.clone().unwrap_or_default())),
            sheet_col("网格员账号", |r: &GridRow| Cell::text(r.worker_username.clone().unwrap_or_default())),
            col("所属社区", |r: &GridRow| Cell::or_dash(r.community_name.as_deref())),
            table_col("责任单位", |r: &GridRow| match &r.unit_name {
                Some(u) => Cell::text(u),
                None => Cell::Muted("未指定".into()),
            }),
            table_col("网格员", |r: &GridRow| match &r.worker_name {
                Some(w) => Cell::Phone(w.clone(), r.worker_phone.clone().unwrap_or_default()),
                None => Cell::Muted("未指定".into()),
            }),
            sheet_col("网格员", |r: &GridRow| Cell::text(r.worker_name.clone().unwrap_or_default())),
            sheet_col("网格员电话", |r: &GridRow| Cell::text(r.worker_phone.clone().unwrap_or_default())),
            table_col("点位数", |r: &GridRow| {
                Cell::link(r.point_count.to_string(), format!("/points?grid_id={}", r.id))
            }),
            sheet_col("点位数", |r: &GridRow| Cell::Int(r.point_count)),
        ]
    }

    async fn load(ctx: &Ctx<'_>, q: &GridQuery, page: PageReq) -> AppResult<(Vec<GridRow>, i64)> {
        let f = GridFilter {
            area_ids: narrow_to_area(ctx.db, area_scope(ctx).await?, given(&q.area_id).map(str::to_string)).await?,
            unit_id: given(&q.unit_id).map(str::to_string),
            no_worker: flag(&q.no_worker, "仅看未配网格员")?.unwrap_or(false),
            keyword: given(&q.q).map(str::to_string),
        };
        Ok(store::grid_rows(ctx.db, &f, page).await?)
    }

    async fn filters(ctx: &Ctx<'_>, q: &GridQuery) -> AppResult<Vec<Field>> {
        let units = units::all_names(ctx.db).await?.into_iter().map(|(id, n)| Opt::new(id, n)).collect();
        Ok(vec![
            Field::select("area_id", "所属区域", area_filter_options(ctx).await?, &q.area_id),
            Field::select("unit_id", "责任单位", units, &q.unit_id),
            Field::text("q", "网格编码/名称", "输入关键字", &q.q),
            Field::check("no_worker", "仅看未配网格员", &q.no_worker),
        ])
    }

    fn buttons(user: &CurrentUser) -> Vec<Button> {
        let mut b = vec![Button::link("地图查看", "/map"), Button::link("位置责任查询", "/lookup")];
        if user.role == Role::Admin {
            b.push(Button::link("导入网格属性(Excel)", "/grids/attributes"));
        }
        b
    }
}
