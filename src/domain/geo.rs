//! Coordinates: stored as WGS-84 (what phones and EXIF give); Chinese maps show GCJ-02, so input
//! and display convert. Grid polygons come as GeoJSON; point-in-polygon by ray casting.

use serde_json::{Value, json};

/// Longitude, latitude in degrees.
pub type LngLat = (f64, f64);

/// Rough bounds of China (the GCJ-02 offset is only applied inside them).
pub fn in_china((lng, lat): LngLat) -> bool {
    (73.66..=135.05).contains(&lng) && (3.86..=53.55).contains(&lat)
}

const A: f64 = 6_378_245.0;
const EE: f64 = 0.006_693_421_622_965_943;

fn transform_lat(x: f64, y: f64) -> f64 {
    use std::f64::consts::PI;
    let mut r = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * x.abs().sqrt();
    r += (20.0 * (6.0 * x * PI).sin() + 20.0 * (2.0 * x * PI).sin()) * 2.0 / 3.0;
    r += (20.0 * (y * PI).sin() + 40.0 * (y / 3.0 * PI).sin()) * 2.0 / 3.0;
    r += (160.0 * (y / 12.0 * PI).sin() + 320.0 * (y * PI / 30.0).sin()) * 2.0 / 3.0;
    r
}

fn transform_lng(x: f64, y: f64) -> f64 {
    use std::f64::consts::PI;
    let mut r = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * x.abs().sqrt();
    r += (20.0 * (6.0 * x * PI).sin() + 20.0 * (2.0 * x * PI).sin()) * 2.0 / 3.0;
    r += (20.0 * (x * PI).sin() + 40.0 * (x / 3.0 * PI).sin()) * 2.0 / 3.0;
    r += (150.0 * (x / 12.0 * PI).sin() + 300.0 * (x / 30.0 * PI).sin()) * 2.0 / 3.0;
    r
}

/// WGS-84 → GCJ-02 (the published "Mars coordinates" transform).
pub fn wgs84_to_gcj02((lng, lat): LngLat) -> LngLat {
    use std::f64::consts::PI;
    if !in_china((lng, lat)) {
        return (lng, lat);
    }
    let mut dlat = transform_lat(lng - 105.0, lat - 35.0);
    let mut dlng = transform_lng(lng - 105.0, lat - 35.0);
    let radlat = lat / 180.0 * PI;
    let magic = 1.0 - EE * radlat.sin() * radlat.sin();
    let sqrt_magic = magic.sqrt();
    dlat = (dlat * 180.0) / ((A * (1.0 - EE)) / (magic * sqrt_magic) * PI);
    dlng = (dlng * 180.0) / (A / sqrt_magic * radlat.cos() * PI);
    (lng + dlng, lat + dlat)
}

/// GCJ-02 → WGS-84 by iteration (better than a centimetre).
pub fn gcj02_to_wgs84(gcj: LngLat) -> LngLat {
    if !in_china(gcj) {
        return gcj;
    }
    let mut wgs = gcj;
    for _ in 0..30 {
        let back = wgs84_to_gcj02(wgs);
        let (dx, dy) = (back.0 - gcj.0, back.1 - gcj.1);
        wgs = (wgs.0 - dx, wgs.1 - dy);
        if dx.abs() < 1e-9 && dy.abs() < 1e-9 {
            break;
        }
    }
    wgs
}

/// Great-circle distance in metres.
/// A distance as people say it: "约80米", "约5.0公里".
pub fn fmt_distance(m: f64) -> String {
    if m >= 1000.0 { format!("约{:.1}公里", m / 1000.0) } else { format!("约{}米", m.round()) }
}

pub fn distance_m(a: LngLat, b: LngLat) -> f64 {
    let r = 6_371_000.0;
    let (la1, la2) = (a.1.to_radians(), b.1.to_radians());
    let dla = la2 - la1;
    let dlo = (b.0 - a.0).to_radians();
    let h = (dla / 2.0).sin().powi(2) + la1.cos() * la2.cos() * (dlo / 2.0).sin().powi(2);
    2.0 * r * h.sqrt().asin()
}

/// A polygon or multipolygon area (outer rings with holes).
#[derive(Debug, Clone, PartialEq)]
pub struct Area {
    polygons: Vec<Vec<Vec<LngLat>>>,
}

fn ring(v: &Value) -> Result<Vec<LngLat>, String> {
    let pts = v.as_array().ok_or("坐标环应为数组")?;
    let mut ring = Vec::with_capacity(pts.len());
    for p in pts {
        let xy = p.as_array().filter(|a| a.len() >= 2).ok_or("每个坐标应为[经度, 纬度]")?;
        let (Some(x), Some(y)) = (xy[0].as_f64(), xy[1].as_f64()) else {
            return Err("经纬度应为数字".into());
        };
        if !in_china((x, y)) {
            return Err(format!("坐标({x}, {y})不在中国境内，请确认经纬度顺序为[经度, 纬度]"));
        }
        ring.push((x, y));
    }
    if ring.len() < 4 || ring.first() != ring.last() {
        return Err("多边形的每个环至少4个点，且首尾相同（闭合）".into());
    }
    Ok(ring)
}

fn polygon(v: &Value) -> Result<Vec<Vec<LngLat>>, String> {
    let rings = v.as_array().filter(|r| !r.is_empty()).ok_or("多边形坐标不能为空")?;
    rings.iter().map(ring).collect()
}

/// Vertices one grid's boundary may have: a community grid traced street by street needs a few
/// hundred; every user's map downloads every boundary.
pub const MAX_VERTICES: usize = 5_000;

impl Area {
    /// From a GeoJSON geometry (Polygon or MultiPolygon).
    pub fn from_geojson(geometry: &Value) -> Result<Area, String> {
        let coords = &geometry["coordinates"];
        let polygons = match geometry["type"].as_str() {
            Some("Polygon") => vec![polygon(coords)?],
            Some("MultiPolygon") => {
                coords.as_array().ok_or("MultiPolygon坐标应为数组")?.iter().map(polygon).collect::<Result<_, _>>()?
            }
            Some(other) => return Err(format!("网格边界应为Polygon或MultiPolygon，不能是{other}")),
            None => return Err("缺少几何类型（geometry.type）".into()),
        };
        let vertices: usize = polygons.iter().flatten().map(Vec::len).sum();
        if vertices > MAX_VERTICES {
            return Err(format!(
                "网格边界有{vertices}个顶点，超过上限{MAX_VERTICES}个；请在GIS软件中简化边界（如容差1米）后再导入"
            ));
        }
        Ok(Area { polygons })
    }

    pub fn to_geojson(&self) -> Value {
        let poly = |p: &Vec<Vec<LngLat>>| {
            json!(p.iter().map(|r| r.iter().map(|(x, y)| json!([x, y])).collect::<Vec<_>>()).collect::<Vec<_>>())
        };
        if self.polygons.len() == 1 {
            json!({"type": "Polygon", "coordinates": poly(&self.polygons[0])})
        } else {
            json!({"type": "MultiPolygon", "coordinates": self.polygons.iter().map(poly).collect::<Vec<_>>()})
        }
    }

    /// (min_lng, min_lat, max_lng, max_lat)
    pub fn bbox(&self) -> (f64, f64, f64, f64) {
        let mut b = (f64::MAX, f64::MAX, f64::MIN, f64::MIN);
        for (x, y) in self.polygons.iter().flat_map(|p| p.first()).flatten() {
            b = (b.0.min(*x), b.1.min(*y), b.2.max(*x), b.3.max(*y));
        }
        b
    }

    /// Inside an outer ring and outside its holes (points on an edge may go either way).
    pub fn contains(&self, p: LngLat) -> bool {
        self.polygons.iter().any(|rings| {
            let mut it = rings.iter();
            it.next().is_some_and(|outer| ring_contains(outer, p)) && !it.any(|hole| ring_contains(hole, p))
        })
    }

    pub fn centroid(&self) -> LngLat {
        let b = self.bbox();
        ((b.0 + b.2) / 2.0, (b.1 + b.3) / 2.0)
    }
}

fn ring_contains(ring: &[LngLat], (x, y): LngLat) -> bool {
    let mut inside = false;
    let mut j = ring.len() - 1;
    for i in 0..ring.len() {
        let (xi, yi) = ring[i];
        let (xj, yj) = ring[j];
        if (yi > y) != (yj > y) && x < (xj - xi) * (y - yi) / (yj - yi) + xi {
            inside = !inside;
        }
        j = i;
    }
    inside
}

/// A rectangle as a closed ring, for generated grids.
pub fn rectangle(min: LngLat, max: LngLat) -> Area {
    Area { polygons: vec![vec![vec![min, (max.0, min.1), max, (min.0, max.1), min]]] }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn known_gcj02_offset_near_cangzhou() {
        // Around 116.84E 38.30N the GCJ-02 shift is roughly +0.006° lng, +0.001° lat.
        let (x, y) = wgs84_to_gcj02((116.84, 38.30));
        assert!((x - 116.84 - 0.0061).abs() < 0.0008, "{x}");
        assert!((y - 38.30 - 0.0011).abs() < 0.0008, "{y}");
        assert_eq!(wgs84_to_gcj02((2.35, 48.85)), (2.35, 48.85), "no shift outside China");
    }

    #[test]
    fn polygons_with_holes_and_multipolygons() {
        let g = json!({"type": "Polygon", "coordinates": [
            [[116.0, 38.0], [117.0, 38.0], [117.0, 39.0], [116.0, 39.0], [116.0, 38.0]],
            [[116.4, 38.4], [116.6, 38.4], [116.6, 38.6], [116.4, 38.6], [116.4, 38.4]]]});
        let a = Area::from_geojson(&g).unwrap();
        assert!(a.contains((116.2, 38.2)));
        assert!(!a.contains((116.5, 38.5)), "inside the hole");
        assert!(!a.contains((118.0, 38.5)));
        assert_eq!(a.bbox(), (116.0, 38.0, 117.0, 39.0));
        assert_eq!(Area::from_geojson(&a.to_geojson()).unwrap(), a);
        let m = json!({"type": "MultiPolygon", "coordinates": [
            [[[116.0, 38.0], [116.1, 38.0], [116.1, 38.1], [116.0, 38.0]]],
            [[[117.0, 38.0], [117.1, 38.0], [117.1, 38.1], [117.0, 38.0]]]]});
        let m = Area::from_geojson(&m).unwrap();
        assert!(m.contains((117.08, 38.02)) && !m.contains((116.5, 38.05)));
    }

    #[test]
    fn bad_geometry_is_explained() {
        let open =
            json!({"type": "Polygon", "coordinates": [[[116.0, 38.0], [117.0, 38.0], [117.0, 39.0], [116.0, 39.0]]]});
        assert!(Area::from_geojson(&open).unwrap_err().contains("闭合"));
        let swapped =
            json!({"type": "Polygon", "coordinates": [[[38.0, 116.0], [38.0, 117.0], [39.0, 117.0], [38.0, 116.0]]]});
        assert!(Area::from_geojson(&swapped).unwrap_err().contains("经度, 纬度"));
        assert!(
            Area::from_geojson(&json!({"type": "Point", "coordinates": [116.0, 38.0]})).unwrap_err().contains("Point")
        );
    }

    proptest! {
        #[test]
        fn gcj02_round_trips(lng in 100.0f64..125.0, lat in 20.0f64..45.0) {
            let back = gcj02_to_wgs84(wgs84_to_gcj02((lng, lat)));
            prop_assert!(distance_m(back, (lng, lat)) < 0.01);
        }

        #[test]
        fn rectangles_contain_their_inside(x in 0.0f64..1.0, y in 0.0f64..1.0) {
            let r = rectangle((116.0, 38.0), (117.0, 39.0));
            prop_assert!(r.contains((116.0 + x * 0.999 + 0.0005, 38.0 + y * 0.999 + 0.0005)));
            prop_assert!(!r.contains((117.0 + x + 0.001, 38.5)));
        }
    }
}
