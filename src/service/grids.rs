//! Grids (网格): polygons with 15-digit unit-grid codes, imported from GeoJSON; points are placed
//! in them by position; "who is responsible here?" answers from them.

use super::access::require_admin;
use super::points::GridIndex;
use super::{Ctx, snapshot};
use crate::domain::audit::{ObjectType, Verb};
use crate::domain::geo::{Area, LngLat, distance_m};
use crate::domain::org::OrgLevel;
use crate::domain::role::Role;
use crate::domain::{ids::new_id, time::now_ms};
use crate::error::RowError;
use crate::error::{AppError, AppResult};
use crate::store::audit::Change;
use crate::store::points::{self as store, Grid};
use crate::store::{Db, org, units, users};
use serde::Serialize;
use serde_json::{Value, json};
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

fn prop(f: &Value, key: &str) -> String {
    match &f["properties"][key] {
        Value::String(s) => s.trim().to_string(),
        Value::Number(n) => n.to_string(),
        _ => String::new(),
    }
}

/// Imports a GeoJSON FeatureCollection, all or nothing. Properties: `code` (15 digits; its first
/// 12 are the community's code), `name`, `unit` (responsible unit's name), `worker` (a grid
/// worker's username). Existing codes are updated.
pub async fn import(ctx: &Ctx<'_>, geojson: &[u8]) -> Result<GridImport, AppError> {
    require_admin(ctx.user)?;
    let reject = |rows: Vec<RowError>| AppError::rejected("网格数据", rows);
    let doc: Value = serde_json::from_slice(geojson).map_err(|e| {
        reject(vec![RowError::new("", 0, "file", format!("不是有效的GeoJSON：第{}行附近有误", e.line()))])
    })?;
    let Some(features) = doc["features"].as_array().filter(|_| doc["type"] == "FeatureCollection") else {
        return Err(reject(vec![RowError::new("", 0, "file", "应为FeatureCollection")]));
    };
    let communities: HashMap<String, String> = org::all(ctx.db)
        .await?
        .into_iter()
        .filter(|n| n.level == OrgLevel::Community)
        .map(|n| (n.code, n.id))
        .collect();
    let unit_ids: HashMap<String, String> =
        units::all_names(ctx.db).await?.into_iter().map(|(id, n)| (n, id)).collect();
    let mut errors = Vec::new();
    let mut seen = HashSet::new();
    let mut parsed = Vec::new();
    for (i, f) in features.iter().enumerate() {
        let code = prop(f, "code");
        let mut err = |field: &str, message: String| {
            errors.push(RowError::new("", i + 1, field, message).with_key(code.clone()));
        };
        if code.len() != 15 || !code.bytes().all(|b| b.is_ascii_digit()) {
            err("code", "网格编码应为15位数字（县6+街道3+社区3+序号3）".into());
            continue;
        }
        if !seen.insert(code.clone()) {
            err("code", format!("网格编码{code}在文件中重复"));
            continue;
        }
        let Some(community) = communities.get(&code[..12]) else {
            err("code", format!("编码前12位{}不是已登记的社区", &code[..12]));
            continue;
        };
        let name = prop(f, "name");
        if name.is_empty() || name.chars().count() > 50 {
            err("name", "网格名称应为1至50个字".into());
        }
        let unit = prop(f, "unit");
        let unit_id = if unit.is_empty() {
            None
        } else if let Some(id) = unit_ids.get(&unit) {
            Some(id.clone())
        } else {
            err("unit", format!("责任单位“{unit}”不存在"));
            None
        };
        let worker = prop(f, "worker");
        let worker_id = if worker.is_empty() {
            None
        } else {
            match users::by_username(ctx.db, &worker).await? {
                Some(u) if u.role == Role::GridWorker => Some(u.id),
                _ => {
                    err("worker", format!("“{worker}”不是网格员账号"));
                    None
                }
            }
        };
        let area = match Area::from_geojson(&f["geometry"]) {
            Ok(a) => a,
            Err(m) => {
                err("geometry", m);
                continue;
            }
        };
        parsed.push((code, name, community.clone(), unit_id, worker_id, area));
    }
    if !errors.is_empty() {
        return Err(reject(errors));
    }
    let existing: HashMap<String, Grid> =
        store::grids(ctx.db).await?.into_iter().map(|g| (g.code.clone(), g)).collect();
    let now = now_ms();
    let mut tx = ctx.db.begin().await?;
    let (mut created, mut updated) = (0, 0);
    for (code, name, community, unit_id, worker_id, area) in parsed {
        let b = area.bbox();
        let geometry = area.to_geojson().to_string();
        let (min_lng, min_lat, max_lng, max_lat) = b;
        match existing.get(&code) {
            Some(old) => {
                let g = Grid {
                    name,
                    community_id: Some(community),
                    unit_id,
                    worker_id,
                    geometry,
                    min_lng,
                    min_lat,
                    max_lng,
                    max_lat,
                    updated_at: now,
                    version: old.version + 1,
                    ..old.clone()
                };
                store::update_grid(&mut tx, &g).await?;
                audit_grid(ctx, &mut tx, Verb::Update, Some(old), &g, now).await?;
                updated += 1;
            }
            None => {
                let g = Grid {
                    id: new_id(),
                    code,
                    name,
                    community_id: Some(community),
                    unit_id,
                    worker_id,
                    geometry,
                    min_lng,
                    min_lat,
                    max_lng,
                    max_lat,
                    created_at: now,
                    updated_at: now,
                    version: 1,
                };
                store::insert_grid(&mut tx, &g).await?;
                audit_grid(ctx, &mut tx, Verb::Create, None, &g, now).await?;
                created += 1;
            }
        }
    }
    let points_moved = place_points(&mut tx).await?;
    tx.commit().await?;
    Ok(GridImport { created, updated, points_moved })
}

async fn audit_grid(
    ctx: &Ctx<'_>,
    conn: &mut AnyConnection,
    action: Verb,
    old: Option<&Grid>,
    new: &Grid,
    now: i64,
) -> AppResult<()> {
    let label = format!("{} {}", new.code, new.name);
    let strip = |g: &Grid| {
        snapshot(
            &json!({"code": g.code, "name": g.name, "community_id": g.community_id, "unit_id": g.unit_id, "worker_id": g.worker_id, "bbox": [g.min_lng, g.min_lat, g.max_lng, g.max_lat]}),
        )
    };
    let change = Change {
        action: action.into(),
        object_type: ObjectType::Grid,
        object_id: &new.id,
        object_label: &label,
        before: old.and_then(strip),
        after: strip(new),
    };
    ctx.audit(conn, change, now).await
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
                id: p.id,
                code: p.code,
                name: p.name,
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
