//! Grids (网格): polygons with 15-digit unit-grid codes, imported from GeoJSON; points are placed
//! in them by position; "who is responsible here?" answers from them.

use super::Ctx;
use super::access::require_admin;
use super::points::GridIndex;
use super::write::Write;
use crate::domain::geo::{Area, LngLat, distance_m};
use crate::domain::ids::new_id;
use crate::domain::org::OrgLevel;
use crate::domain::role::Role;
use crate::error::RowError;
use crate::error::{AppError, AppResult};
use crate::store::points::{self as store, Grid};
use crate::store::{Db, org, units, users};
use serde::Serialize;
use serde_json::Value;
use sqlx::AnyConnection;
use std::collections::{HashMap, HashSet};
use utoipa::ToSchema;

#[derive(Debug, Serialize, ToSchema)]
pub struct GridImport {
    pub created: usize,
    pub updated: usize,
    /// Points whose grid changed because of the new boundaries
    pub points_moved: usize,
}

/// A GeoJSON file holds at most this many grids (a province's worth of a city's streets).
const MAX_FEATURES: usize = 20_000;

fn prop(f: &Value, key: &str) -> String {
    match &f["properties"][key] {
        Value::String(s) => s.trim().to_string(),
        Value::Number(n) => n.to_string(),
        _ => String::new(),
    }
}

/// A feature of the file as read: its position (1-based), properties and shape.
struct Feature {
    n: usize,
    code: String,
    name: String,
    unit: String,
    worker: String,
    area: Result<Area, String>,
}

/// A grid as it will be stored: code, name, community, unit, grid worker, shape.
struct GridPlan {
    code: String,
    name: String,
    community: String,
    unit_id: Option<String>,
    worker_id: Option<String>,
    area: Area,
}

/// What features name, looked up once: communities by code, units by name, grid workers by username.
struct References {
    communities: HashMap<String, String>,
    units: HashMap<String, String>,
    workers: HashMap<String, String>,
}

impl References {
    async fn load(db: &Db) -> AppResult<References> {
        let nodes = org::all(db).await?;
        Ok(References {
            communities: nodes.into_iter().filter(|n| n.level == OrgLevel::Community).map(|n| (n.code, n.id)).collect(),
            units: units::all_names(db).await?.into_iter().map(|(id, n)| (n, id)).collect(),
            workers: users::by_role(db, Role::GridWorker).await?.into_iter().map(|(id, _, u)| (u, id)).collect(),
        })
    }
}

/// Imports a GeoJSON FeatureCollection, all or nothing. Properties: `code` (15 digits; its first
/// 12 are the community's code), `name`, `unit` (responsible unit's name), `worker` (a grid
/// worker's username). Existing codes are updated.
pub async fn import(ctx: &Ctx<'_>, geojson: &[u8]) -> Result<GridImport, AppError> {
    require_admin(ctx.user)?;
    let reject = |rows: Vec<RowError>| AppError::rejected("网格数据", rows);
    let bytes = geojson.to_vec();
    let features = tokio::task::spawn_blocking(move || read_features(&bytes))
        .await
        .map_err(|e| anyhow::anyhow!(e))?
        .map_err(|m| reject(vec![RowError::new("", 0, "file", m)]))?;
    let refs = References::load(ctx.db).await?;
    let plans = check_features(features, &refs).map_err(reject)?;
    let mut w = ctx.write().await?;
    let (created, updated) = write_grids(&mut w, plans).await?;
    let points_moved = place_points(w.conn()).await?;
    w.commit().await?;
    Ok(GridImport { created, updated, points_moved })
}

/// Parses the file and every shape (off the async threads: a file may hold thousands of polygons).
fn read_features(bytes: &[u8]) -> Result<Vec<Feature>, String> {
    let doc: Value =
        serde_json::from_slice(bytes).map_err(|e| format!("不是有效的GeoJSON：第{}行附近有误", e.line()))?;
    let Some(features) = doc["features"].as_array().filter(|_| doc["type"] == "FeatureCollection") else {
        return Err("应为FeatureCollection".into());
    };
    if features.len() > MAX_FEATURES {
        return Err(format!("一个文件最多{MAX_FEATURES}个网格，本文件有{}个，请分批导入", features.len()));
    }
    Ok(features
        .iter()
        .enumerate()
        .map(|(i, f)| Feature {
            n: i + 1,
            code: prop(f, "code"),
            name: prop(f, "name"),
            unit: prop(f, "unit"),
            worker: prop(f, "worker"),
            area: Area::from_geojson(&f["geometry"]),
        })
        .collect())
}

/// Checks every feature against the references; every mistake is reported.
fn check_features(features: Vec<Feature>, refs: &References) -> Result<Vec<GridPlan>, Vec<RowError>> {
    let mut errors = Vec::new();
    let mut seen = HashSet::new();
    let mut plans = Vec::new();
    for f in features {
        let mut err = |field: &str, message: String| {
            errors.push(RowError::new("", f.n, field, message).with_key(f.code.clone()));
        };
        let code = &f.code;
        if code.len() != 15 || !code.bytes().all(|b| b.is_ascii_digit()) {
            err("code", "网格编码应为15位数字（县6+街道3+社区3+序号3）".into());
            continue;
        }
        if !seen.insert(code.clone()) {
            err("code", format!("网格编码{code}在文件中重复"));
            continue;
        }
        let Some(community) = refs.communities.get(&code[..12]) else {
            err("code", format!("编码前12位{}不是已登记的社区", &code[..12]));
            continue;
        };
        if f.name.is_empty() || f.name.chars().count() > 50 {
            err("name", "网格名称应为1至50个字".into());
        }
        let unit_id = refs.units.get(&f.unit).cloned();
        if unit_id.is_none() && !f.unit.is_empty() {
            err("unit", format!("责任单位“{}”不存在", f.unit));
        }
        let worker_id = refs.workers.get(&f.worker).cloned();
        if worker_id.is_none() && !f.worker.is_empty() {
            err("worker", format!("“{}”不是网格员账号", f.worker));
        }
        match f.area {
            Ok(area) => plans.push(GridPlan {
                code: f.code,
                name: f.name,
                community: community.clone(),
                unit_id,
                worker_id,
                area,
            }),
            Err(m) => err("geometry", m),
        }
    }
    if errors.is_empty() { Ok(plans) } else { Err(errors) }
}

/// Creates the new grids and updates the others; (created, updated).
async fn write_grids(w: &mut Write<'_>, plans: Vec<GridPlan>) -> AppResult<(usize, usize)> {
    let existing: HashMap<String, Grid> =
        store::grids_in(w.conn()).await?.into_iter().map(|g| (g.code.clone(), g)).collect();
    let (mut created, mut updated) = (0, 0);
    for p in plans {
        let (min_lng, min_lat, max_lng, max_lat) = p.area.bbox();
        let shape = Grid {
            id: new_id(),
            code: p.code,
            name: p.name,
            community_id: Some(p.community),
            unit_id: p.unit_id,
            worker_id: p.worker_id,
            geometry: p.area.to_geojson().to_string(),
            min_lng,
            min_lat,
            max_lng,
            max_lat,
            created_at: w.now,
            updated_at: w.now,
            version: 1,
        };
        match existing.get(&shape.code) {
            Some(old) => {
                let mut g = Grid { id: old.id.clone(), created_at: old.created_at, ..shape };
                w.update(old, &mut g, old.version).await?;
                updated += 1;
            }
            None => {
                w.create(&shape).await?;
                created += 1;
            }
        }
    }
    Ok((created, updated))
}

/// Puts every located point into the grid that contains it (or none); returns how many moved.
pub async fn place_points(conn: &mut AnyConnection) -> AppResult<usize> {
    let index = GridIndex::new(&store::grids_in(conn).await?);
    let mut moved = 0;
    for (id, lng, lat, grid) in store::located(conn).await? {
        let now_in = index.locate(lng, lat).map(|(g, _)| g.to_string());
        if now_in != grid {
            store::set_grid(conn, &id, now_in.as_deref()).await?;
            moved += 1;
        }
    }
    Ok(moved)
}

#[derive(Debug, Serialize, ToSchema)]
pub struct NearPoint {
    pub id: String,
    pub code: String,
    pub name: String,
    pub type_name: String,
    pub unit_name: String,
    pub distance_m: f64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Responsible {
    pub grid_code: Option<String>,
    pub grid_name: Option<String>,
    pub community: Option<String>,
    pub street: Option<String>,
    pub unit: Option<String>,
    pub grid_worker: Option<String>,
    pub grid_worker_phone: Option<String>,
    /// Up to five nearest active points within 1 km
    pub nearest_points: Vec<NearPoint>,
}

/// Who answers for a WGS-84 position: its grid, community, unit and worker, and the nearest points.
pub async fn lookup(db: &Db, at: LngLat) -> AppResult<Responsible> {
    let grids = store::grids(db).await?;
    let index = GridIndex::new(&grids);
    let grid = index.locate(at.0, at.1).and_then(|(id, _)| grids.iter().find(|g| g.id == id));
    let mut r = Responsible {
        grid_code: grid.map(|g| g.code.clone()),
        grid_name: grid.map(|g| g.name.clone()),
        community: None,
        street: None,
        unit: None,
        grid_worker: None,
        grid_worker_phone: None,
        nearest_points: Vec::new(),
    };
    if let Some(g) = grid {
        if let Some(c) = &g.community_id
            && let Some(node) = org::get(db, c).await?
        {
            r.community = Some(node.name.clone());
            if let Some(p) = &node.parent_id {
                r.street = org::get(db, p).await?.map(|s| s.name);
            }
        }
        if let Some(u) = &g.unit_id {
            r.unit = units::get(db, u).await?.map(|u| u.name);
        }
        if let Some(w) = &g.worker_id
            && let Some(u) = users::get(db, w).await?
        {
            r.grid_worker = Some(u.display_name);
            r.grid_worker_phone = Some(u.phone);
        }
    }
    let f = store::PointFilter { active: Some(true), ..Default::default() };
    let (all, _) = store::list(db, &f, crate::store::PageReq::all()).await?;
    let mut near: Vec<NearPoint> = all
        .into_iter()
        .filter_map(|p| {
            let d = distance_m(at, (p.lng?, p.lat?));
            (d <= 1000.0).then(|| NearPoint {
                id: p.record.id,
                code: p.record.code,
                name: p.record.name,
                type_name: p.type_name,
                unit_name: p.unit_name,
                distance_m: d.round(),
            })
        })
        .collect();
    near.sort_by(|a, b| a.distance_m.total_cmp(&b.distance_m));
    near.truncate(5);
    r.nearest_points = near;
    Ok(r)
}
