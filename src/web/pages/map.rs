//! The point map: grids, community outlines and points coloured by type. Works with no tile
//! server (the default, since these networks reach none); uses `map_tile_url` when configured,
//! converting WGS-84 to GCJ-02 for display when the tiles are GCJ-02.

use super::opt;
use crate::domain::geo::{gcj02_to_wgs84, wgs84_to_gcj02};
use crate::error::AppError;
use crate::error::Code;
use crate::service::access::area_scope;
use crate::service::grids::{Responsible, lookup};
use crate::service::points as svc;
use crate::store::PageReq;
use crate::store::points::{self as store, GridFilter};
use crate::web::auth::PageUser;
use crate::web::error::PageResult;
use crate::web::query::Query;
use crate::web::ui::Layout;
use askama::Template;
use askama_web::WebTemplate;
use axum::Json;
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::BTreeMap;

#[derive(Template, WebTemplate)]
#[template(path = "points/map.html")]
pub struct MapPage {
    l: Layout,
}

pub async fn page(page: PageUser) -> MapPage {
    MapPage { l: Layout::new(&page.user, "map", "点位地图") }
}

/// Converts a stored WGS-84 position into the map's display system.
fn display(gcj: bool, p: (f64, f64)) -> (f64, f64) {
    if gcj { wgs84_to_gcj02(p) } else { p }
}

fn convert_geometry(gcj: bool, g: &mut Value) {
    match g {
        Value::Array(items) if items.len() >= 2 && items[0].is_number() && items[1].is_number() => {
            let (x, y) = display(gcj, (items[0].as_f64().unwrap_or(0.0), items[1].as_f64().unwrap_or(0.0)));
            *g = json!([x, y]);
        }
        Value::Array(items) => items.iter_mut().for_each(|i| convert_geometry(gcj, i)),
        _ => {}
    }
}

/// Everything the map draws, in display coordinates, scoped to the user.
pub async fn data(page: PageUser) -> PageResult<Json<Value>> {
    let ctx = page.ctx();
    let cfg = &page.state.config;
    let gcj = cfg.gcj_display();
    let scope = area_scope(&ctx).await?;
    let types = store::types(ctx.db).await?;
    let (points, _) = store::list(ctx.db, &svc::scope(&ctx).await?, PageReq::all()).await?;
    let (rows, _) =
        store::grid_rows(ctx.db, &GridFilter { area_ids: scope, ..Default::default() }, PageReq::all()).await?;
    let grids = store::grids(ctx.db).await?;
    let mut outlines: BTreeMap<String, (f64, f64, f64, f64)> = BTreeMap::new();
    let mut features = Vec::new();
    for r in &rows {
        let Some(g) = grids.iter().find(|g| g.id == r.id) else { continue };
        let mut geometry: Value = serde_json::from_str(&g.geometry).unwrap_or(Value::Null);
        convert_geometry(gcj, &mut geometry["coordinates"]);
        features.push(json!({"type": "Feature", "geometry": geometry, "properties": {
            "code": r.code, "name": r.name, "unit": r.unit_name, "worker": r.worker_name, "points": r.point_count}}));
        if let Some(c) = &r.community_name {
            let b = outlines.entry(c.clone()).or_insert((f64::MAX, f64::MAX, f64::MIN, f64::MIN));
            *b = (b.0.min(g.min_lng), b.1.min(g.min_lat), b.2.max(g.max_lng), b.3.max(g.max_lat));
        }
    }
    let areas: Vec<Value> = outlines
        .into_iter()
        .map(|(name, b)| {
            let (a, c) = (display(gcj, (b.0, b.1)), display(gcj, (b.2, b.3)));
            json!({"name": name, "bounds": [[a.1, a.0], [c.1, c.0]]})
        })
        .collect();
    let pts: Vec<Value> = points
        .iter()
        .filter_map(|p| {
            let (x, y) = display(gcj, (p.lng?, p.lat?));
            Some(json!({"id": p.id, "code": p.code, "name": p.name, "type": p.type_name, "color": p.type_color,
                "unit": p.unit_name, "lead": p.lead_name, "phone": p.lead_phone, "grid": p.grid_code, "active": p.active == 1,
                "lat": y, "lng": x}))
        })
        .collect();
    Ok(Json(json!({
        "tile_url": cfg.map_tile_url.trim(),
        "crs": if gcj { "gcj02" } else { "wgs84" },
        "types": types.iter().map(|t| json!({"name": t.name, "color": t.color})).collect::<Vec<_>>(),
        "grids": {"type": "FeatureCollection", "features": features},
        "areas": areas,
        "points": pts,
    })))
}

#[derive(Deserialize)]
pub struct LookupQuery {
    lng: Option<String>,
    lat: Option<String>,
    /// The system the coordinates are given in: wgs84 (default) or gcj02.
    crs: Option<String>,
}

fn parse_position(q: &LookupQuery) -> Option<(f64, f64)> {
    let x: f64 = opt(&q.lng)?.parse().ok()?;
    let y: f64 = opt(&q.lat)?.parse().ok()?;
    let p = if q.crs.as_deref() == Some("gcj02") { gcj02_to_wgs84((x, y)) } else { (x, y) };
    crate::domain::geo::in_china(p).then_some(p)
}

/// "Who is responsible here?" for a clicked map position.
pub async fn lookup_json(page: PageUser, Query(q): Query<LookupQuery>) -> PageResult<Json<Responsible>> {
    let p = parse_position(&q).ok_or(AppError::refuse(Code::InvalidPosition, "坐标无效"))?;
    Ok(Json(lookup(&page.state.db, p).await?))
}

#[derive(Template, WebTemplate)]
#[template(path = "points/lookup.html")]
pub struct LookupPage {
    l: Layout,
    lng: String,
    lat: String,
    crs: String,
    error: Option<String>,
    result: Option<Responsible>,
}

pub async fn lookup_page(page: PageUser, Query(q): Query<LookupQuery>) -> PageResult<LookupPage> {
    let asked = opt(&q.lng).is_some() || opt(&q.lat).is_some();
    let (result, error) = match (asked, parse_position(&q)) {
        (false, _) => (None, None),
        (true, None) => (None, Some("请填写中国境内的有效经纬度，如 116.8386, 38.3037".to_string())),
        (true, Some(p)) => (Some(lookup(&page.state.db, p).await?), None),
    };
    Ok(LookupPage {
        l: Layout::new(&page.user, "grids", "位置责任查询"),
        lng: q.lng.unwrap_or_default(),
        lat: q.lat.unwrap_or_default(),
        crs: q.crs.unwrap_or_else(|| "wgs84".into()),
        error,
        result,
    })
}
