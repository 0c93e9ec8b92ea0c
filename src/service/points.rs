//! The point registry (点位): who answers for which place, and where it is.

use super::access::{area_scope, require_admin};
use super::write::{Write, expected};
use super::{Ctx, non_empty};
use crate::domain::geo::{Area, gcj02_to_wgs84, in_china};
use crate::domain::org::OrgLevel;
use crate::domain::role::Role;
use crate::domain::validate::{FieldErrors, optional_text, phone, required_text};
use crate::domain::{ids::new_id, time::now_ms};
use crate::error::{AppError, AppResult, Code};
use crate::store::points::{self as store, Grid, Point, PointFilter, PointType};
use crate::store::{Db, org, units};
use serde::Deserialize;
use utoipa::ToSchema;

/// One grid ready for point-in-polygon tests: id, community, shape and bounding box.
type IndexedGrid = (String, Option<String>, Area, (f64, f64, f64, f64));

/// Grids in memory for point-in-polygon placement.
pub struct GridIndex {
    grids: Vec<IndexedGrid>,
}

impl GridIndex {
    pub fn new(grids: &[Grid]) -> GridIndex {
        let grids = grids
            .iter()
            .filter_map(|g| {
                let v: serde_json::Value = serde_json::from_str(&g.geometry).ok()?;
                let area = Area::from_geojson(&v).ok()?;
                Some((g.id.clone(), g.community_id.clone(), area, (g.min_lng, g.min_lat, g.max_lng, g.max_lat)))
            })
            .collect();
        GridIndex { grids }
    }

    /// The grid (and its community) containing a WGS-84 position, if any.
    pub fn locate(&self, lng: f64, lat: f64) -> Option<(&str, Option<&str>)> {
        self.grids
            .iter()
            .find(|(_, _, area, b)| lng >= b.0 && lng <= b.2 && lat >= b.1 && lat <= b.3 && area.contains((lng, lat)))
            .map(|(id, community, _, _)| (id.as_str(), community.as_deref()))
    }
}

/// What a role may see of the registry: a unit its own points, a grid worker its area.
pub async fn scope(ctx: &Ctx<'_>) -> AppResult<PointFilter> {
    let mut f = PointFilter::default();
    if ctx.user.role.needs_unit() {
        f.unit_id = Some(ctx.user.unit_id.clone().unwrap_or_default());
    }
    f.area_ids = area_scope(ctx).await?;
    Ok(f)
}

pub async fn visible(ctx: &Ctx<'_>, id: &str) -> AppResult<Point> {
    let p = store::get(ctx.db, id).await?.ok_or(AppError::NotFound)?;
    check_visible(ctx, p).await
}

/// The point back if the current user may see it, NotFound otherwise.
pub async fn check_visible(ctx: &Ctx<'_>, p: Point) -> AppResult<Point> {
    let s = scope(ctx).await?;
    let unit_ok = s.unit_id.as_deref().is_none_or(|u| u == p.unit_id);
    let area_ok = s.area_ids.as_ref().is_none_or(|ids| p.community_id.as_ref().is_some_and(|c| ids.contains(c)));
    if unit_ok && area_ok { Ok(p) } else { Err(AppError::NotFound) }
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct PointInput {
    /// Unique code; generated when empty
    #[serde(default)]
    pub code: String,
    #[serde(default)]
    pub name: String,
    /// Point type id or code (e.g. main_road)
    #[serde(default)]
    pub type_id: String,
    /// Fixed point (固定点位) or random (随机点位)
    #[serde(default, deserialize_with = "super::flag")]
    pub fixed: Option<bool>,
    #[serde(default)]
    pub address: String,
    /// Longitude (decimal degrees, a number or its text)
    #[serde(default, deserialize_with = "crate::domain::validate::number_text")]
    pub lng: String,
    /// Latitude (decimal degrees, a number or its text)
    #[serde(default, deserialize_with = "crate::domain::validate::number_text")]
    pub lat: String,
    /// wgs84 (GPS, default) or gcj02 (高德/腾讯地图); stored as WGS-84
    #[serde(default)]
    pub coord_system: String,
    /// Community (or compound) org-node id; taken from the grid when empty
    #[serde(default)]
    pub community_id: Option<String>,
    #[serde(default)]
    pub unit_id: String,
    #[serde(default)]
    pub lead_name: String,
    #[serde(default)]
    pub lead_phone: String,
    #[serde(default)]
    pub backup_name: String,
    #[serde(default)]
    pub backup_phone: String,
    #[serde(default)]
    pub guarantor_name: String,
    #[serde(default)]
    pub guarantor_phone: String,
    #[serde(default, deserialize_with = "super::flag")]
    pub active: Option<bool>,
    #[serde(default)]
    pub note: String,
    #[serde(default, deserialize_with = "super::version")]
    pub version: Option<i64>,
}

/// Reference data a point is checked against, loaded once (an import checks thousands of rows).
pub struct Lookups {
    pub types: Vec<PointType>,
    pub units: Vec<(String, String)>,
    pub areas: Vec<(String, String, String, OrgLevel)>,
    pub grids: GridIndex,
}

impl Lookups {
    pub async fn load(db: &Db) -> AppResult<Lookups> {
        let areas = org::all(db).await?.into_iter().map(|n| (n.id, n.code, n.name, n.level)).collect();
        Ok(Lookups {
            types: store::types(db).await?,
            units: units::all_names(db).await?,
            areas,
            grids: GridIndex::new(&store::grids(db).await?),
        })
    }

    pub fn type_by(&self, key: &str) -> Option<&PointType> {
        self.types.iter().find(|t| t.id == key || t.code == key || t.name == key)
    }

    pub fn unit_by(&self, key: &str) -> Option<&(String, String)> {
        self.units.iter().find(|(id, name)| id == key || name == key)
    }

    /// A community or compound by id or code.
    pub fn area_by(&self, key: &str) -> Option<&(String, String, String, OrgLevel)> {
        self.areas.iter().find(|(id, code, _, level)| {
            (id == key || code == key) && matches!(level, OrgLevel::Community | OrgLevel::Compound)
        })
    }
}

/// A typed coordinate; `label` names it and gives an example ("经度", "116.8386").
fn coordinate(e: &mut FieldErrors, field: &str, (label, example): (&str, &str), v: &str) -> Option<f64> {
    let v = v.trim();
    if v.is_empty() {
        return None;
    }
    match v.parse::<f64>() {
        Ok(x) if x.is_finite() => Some(x),
        _ => {
            e.add(field, Code::InvalidCoordinate, format!("{label}应为数字，如{example}"));
            None
        }
    }
}

/// The position in WGS-84 from the typed coordinates and their system; a missing half, an
/// unknown system or a place outside China is a field error.
fn position(e: &mut FieldErrors, input: &PointInput, lng: Option<f64>, lat: Option<f64>) -> Option<(f64, f64)> {
    match (lng, lat) {
        (Some(x), Some(y)) => {
            let p = match input.coord_system.trim() {
                "" | "wgs84" => Some((x, y)),
                "gcj02" => Some(gcj02_to_wgs84((x, y))),
                _ => {
                    e.add("coord_system", Code::InvalidCoordSystem, "坐标系应为WGS-84或GCJ-02");
                    None
                }
            };
            if let Some(p) = p
                && !in_china(p)
            {
                e.add("lng", Code::OutsideChina, "坐标不在中国境内，请检查经纬度是否填反");
            }
            p
        }
        (Some(_), None) if input.lat.trim().is_empty() => {
            e.add("lat", Code::Required, "填写经度时也请填写纬度");
            None
        }
        (None, Some(_)) if input.lng.trim().is_empty() => {
            e.add("lng", Code::Required, "填写纬度时也请填写经度");
            None
        }
        _ => None,
    }
}

/// Checks an input against the lookups and fills `base`; every problem is reported by field.
pub fn validate(l: &Lookups, input: &PointInput, base: Point) -> Result<Point, FieldErrors> {
    let mut e = FieldErrors::default();
    let code = input.code.trim().to_string();
    if code.chars().count() > 30 || code.chars().any(|c| c.is_whitespace() || c.is_control()) {
        e.add("code", Code::InvalidCode, "点位编码不超过30个字符，且不含空格");
    }
    let name = required_text(&mut e, "name", "点位名称", &input.name, 60);
    let kind = l.type_by(input.type_id.trim());
    if kind.is_none() {
        e.add("type_id", Code::InvalidType, "请选择点位类型");
    }
    let unit = l.unit_by(input.unit_id.trim());
    if unit.is_none() {
        e.add(
            "unit_id",
            if input.unit_id.trim().is_empty() { Code::Required } else { Code::UnknownUnit },
            "请选择存在的责任单位",
        );
    }
    let address = optional_text(&mut e, "address", "地址", &input.address, 120, false);
    let lng = coordinate(&mut e, "lng", ("经度", "116.8386"), &input.lng);
    let lat = coordinate(&mut e, "lat", ("纬度", "38.3037"), &input.lat);
    let position = position(&mut e, input, lng, lat);
    let located = position.and_then(|(x, y)| l.grids.locate(x, y));
    let community = match non_empty(&input.community_id) {
        Some(c) => match l.area_by(&c) {
            Some(a) => Some(a.0.clone()),
            None => {
                e.add("community_id", Code::UnknownArea, "所属社区不存在（应为社区或小区）");
                None
            }
        },
        None => located.and_then(|(_, c)| c.map(str::to_string)),
    };
    let lead_name = required_text(&mut e, "lead_name", "点位负责人", &input.lead_name, 30);
    let lead_phone = phone(&mut e, "lead_phone", "负责人电话", &input.lead_phone, true);
    let backup_name = optional_text(&mut e, "backup_name", "备用负责人", &input.backup_name, 30, false);
    let backup_phone = phone(&mut e, "backup_phone", "备用负责人电话", &input.backup_phone, false);
    let guarantor_name = optional_text(&mut e, "guarantor_name", "包保领导", &input.guarantor_name, 30, false);
    let guarantor_phone = phone(&mut e, "guarantor_phone", "包保领导电话", &input.guarantor_phone, false);
    let note = optional_text(&mut e, "note", "备注", &input.note, 500, true);
    if !e.is_empty() {
        return Err(e);
    }
    Ok(Point {
        code: if code.is_empty() { base.code.clone() } else { code },
        name,
        type_id: kind.map(|t| t.id.clone()).unwrap_or_default(),
        fixed: input.fixed.map(i64::from).unwrap_or(base.fixed),
        address,
        lng: position.map(|p| p.0),
        lat: position.map(|p| p.1),
        community_id: community,
        grid_id: located.map(|(g, _)| g.to_string()),
        unit_id: unit.map(|u| u.0.clone()).unwrap_or_default(),
        lead_name,
        lead_phone,
        backup_name,
        backup_phone,
        guarantor_name,
        guarantor_phone,
        active: input.active.map(i64::from).unwrap_or(base.active),
        note,
        ..base
    })
}

/// A fresh point with a generated code such as P3F9A21C0.
pub fn blank(now: i64) -> Point {
    let id = new_id();
    let code = format!("P{}", id.replace('-', "")[24..].to_uppercase());
    Point {
        id,
        code,
        name: String::new(),
        type_id: String::new(),
        fixed: 1,
        address: String::new(),
        lng: None,
        lat: None,
        community_id: None,
        grid_id: None,
        unit_id: String::new(),
        lead_name: String::new(),
        lead_phone: String::new(),
        backup_name: String::new(),
        backup_phone: String::new(),
        guarantor_name: String::new(),
        guarantor_phone: String::new(),
        active: 1,
        note: String::new(),
        created_at: now,
        updated_at: now,
        version: 1,
    }
}

pub async fn create(ctx: &Ctx<'_>, input: PointInput) -> AppResult<Point> {
    require_admin(ctx.user)?;
    let lookups = Lookups::load(ctx.db).await?;
    let point = validate(&lookups, &input, blank(now_ms())).map_err(AppError::Validation)?;
    ctx.create(&point).await?;
    Ok(point)
}

pub async fn update(ctx: &Ctx<'_>, id: &str, input: PointInput) -> AppResult<Point> {
    require_admin(ctx.user)?;
    let old = store::get(ctx.db, id).await?.ok_or(AppError::NotFound)?;
    let lookups = Lookups::load(ctx.db).await?;
    let expected = expected(input.version)?;
    let mut new =
        validate(&lookups, &input, Point { updated_at: now_ms(), ..old.clone() }).map_err(AppError::Validation)?;
    let mut w = ctx.write().await?;
    save(&mut w, &old, &mut new, expected).await?;
    w.commit().await?;
    Ok(new)
}

/// Saves a changed point (the problems at it are found by its new name too).
pub async fn save(w: &mut Write<'_>, old: &Point, new: &mut Point, expected: i64) -> AppResult<()> {
    w.update(old, new, expected).await?;
    if new.name != old.name {
        crate::store::problems::reindex_point(w.conn(), &new.id, &new.name).await?;
    }
    Ok(())
}

/// Who may change a point: the office only (units propose changes through it).
pub fn can_edit(role: Role) -> bool {
    role == Role::Admin
}
