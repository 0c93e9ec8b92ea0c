//! Points (点位), point types and grids.

use super::{Db, PageReq, Where};
use crate::domain::audit::ObjectType;
use crate::domain::code::Code;
use serde::Serialize;
use sqlx::AnyConnection;

#[derive(Debug, Clone, sqlx::FromRow, Serialize, utoipa::ToSchema)]
pub struct PointType {
    pub id: String,
    pub code: String,
    pub name: String,
    pub seq: i64,
    pub color: String,
    pub created_at: i64,
    pub updated_at: i64,
    pub version: i64,
}

crate::record! {
    PointType in "point_types" as ObjectType::PointType,
    label |t| t.name.clone(),
    insert [id, code, name, seq, color, created_at, updated_at, version],
    update [name, seq, color, updated_at],
    unique ("name", Code::Duplicate, "已有相同编码或名称的点位类型"),
}

pub async fn types(db: &Db) -> Result<Vec<PointType>, sqlx::Error> {
    sqlx::query_as::<_, PointType>(
        "SELECT id, code, name, seq, color, created_at, updated_at, version FROM point_types ORDER BY seq",
    )
    .fetch_all(&db.pool)
    .await
}

#[derive(Debug, Clone, sqlx::FromRow, Serialize, utoipa::ToSchema)]
pub struct Point {
    pub id: String,
    pub code: String,
    pub name: String,
    pub type_id: String,
    /// 1 fixed point (固定点位), 0 random point (随机点位)
    pub fixed: i64,
    pub address: String,
    /// WGS-84
    pub lng: Option<f64>,
    pub lat: Option<f64>,
    pub community_id: Option<String>,
    pub grid_id: Option<String>,
    pub unit_id: String,
    pub lead_name: String,
    pub lead_phone: String,
    pub backup_name: String,
    pub backup_phone: String,
    /// 包保领导
    pub guarantor_name: String,
    pub guarantor_phone: String,
    pub active: i64,
    pub note: String,
    pub created_at: i64,
    pub updated_at: i64,
    pub version: i64,
}

const COLS: &str = "id, code, name, type_id, fixed, address, lng, lat, community_id, grid_id, unit_id, lead_name, lead_phone, \
     backup_name, backup_phone, guarantor_name, guarantor_phone, active, note, created_at, updated_at, version";

crate::record! {
    Point in "points" as ObjectType::Point,
    label |p| format!("{} {}", p.code, p.name),
    insert [id, code, name, type_id, fixed, address, lng, lat, community_id, grid_id, unit_id, lead_name, lead_phone,
        backup_name, backup_phone, guarantor_name, guarantor_phone, active, note, created_at, updated_at, version],
    update [code, name, type_id, fixed, address, lng, lat, community_id, grid_id, unit_id, lead_name, lead_phone,
        backup_name, backup_phone, guarantor_name, guarantor_phone, active, note, updated_at],
    unique ("code", Code::DuplicateCode, "该点位编码已被使用"),
    persistent = false,
}

crate::listed! {
    /// A point as listed, with the names of what it refers to.
    PointRow: Point {
        type_name: String,
        type_color: String,
        community_name: Option<String>,
        community_code: Option<String>,
        grid_code: Option<String>,
        unit_name: String,
    }
}

#[derive(Debug, Default, Clone)]
pub struct PointFilter {
    pub type_id: Option<String>,
    pub unit_id: Option<String>,
    pub area_ids: Option<Vec<String>>,
    pub grid_id: Option<String>,
    pub fixed: Option<bool>,
    pub active: Option<bool>,
    pub outside_grids: bool,
    pub keyword: Option<String>,
    /// Only points with no problem found and no clean inspection since this moment (the round)
    pub not_inspected_since: Option<i64>,
}

const ROW_SELECT: &str = "SELECT p.*, t.name AS type_name, t.color AS type_color, \
     c.name AS community_name, c.code AS community_code, g.code AS grid_code, u.name AS unit_name \
     FROM points p JOIN point_types t ON t.id = p.type_id JOIN units u ON u.id = p.unit_id \
     LEFT JOIN org_nodes c ON c.id = p.community_id LEFT JOIN grids g ON g.id = p.grid_id";

fn filter_sql(db: &Db, f: &PointFilter) -> Where {
    let mut w = Where::default();
    w.eq("p.type_id", f.type_id.as_deref());
    w.eq("p.unit_id", f.unit_id.as_deref());
    w.within("p.community_id", f.area_ids.as_deref());
    w.eq("p.grid_id", f.grid_id.as_deref());
    w.flag("p.fixed", f.fixed);
    w.flag("p.active", f.active);
    if f.outside_grids {
        w.and("p.grid_id IS NULL".into());
    }
    w.contains(db, &["p.name", "p.code", "p.address", "p.lead_name"], f.keyword.as_deref());
    if let Some(since) = f.not_inspected_since {
        let (a, b) = (w.int(since), w.int(since));
        if db.backend == super::Backend::Sqlite {
            // The day's inspected points read once (both columns are NOT NULL, so NOT IN is
            // exact): probing each of a community's 10,000 points twice took 50 ms of the
            // grid worker's start page at three million problems.
            w.and(format!("p.id NOT IN ({})", inspected_points_sql(db, &a, &b)));
        } else {
            w.and(format!(
                "NOT EXISTS (SELECT 1 FROM problems q WHERE q.point_id = p.id AND q.found_at >= {a}) \
                 AND NOT EXISTS (SELECT 1 FROM point_inspections i WHERE i.point_id = p.id AND i.at >= {b})"
            ));
        }
    }
    w
}

/// The points inspected since a moment: a problem found there (`found` binds the moment) or a
/// clean inspection recorded (`at` binds it). On SQLite the problems are read by the time of
/// their find: with the statistics of ten million problems (about 90 per point) the planner
/// otherwise skip-scans the (point, found) index through every point, which took 0.6–1.2 s of
/// the supervisor's and grid worker's start pages instead of 2 ms.
fn inspected_points_sql(db: &Db, found: &str, at: &str) -> String {
    let problems = match db.backend {
        super::Backend::Sqlite => "problems INDEXED BY problems_found_source",
        super::Backend::Postgres => "problems",
    };
    format!(
        "SELECT point_id FROM {problems} WHERE found_at >= {found} UNION SELECT point_id FROM point_inspections WHERE at >= {at}"
    )
}

/// Of these points, the ones inspected since `since` (a problem found there or a clean
/// inspection recorded).
pub async fn inspected_since(db: &Db, ids: &[String], since: i64) -> Result<Vec<String>, sqlx::Error> {
    let mut out = Vec::new();
    for chunk in ids.chunks(500) {
        let list = super::marks(2, chunk.len());
        let sql = format!(
            "SELECT point_id FROM problems WHERE found_at >= $1 AND point_id IN ({list}) \
             UNION SELECT point_id FROM point_inspections WHERE at >= $1 AND point_id IN ({list})"
        );
        let mut q = sqlx::query_scalar::<_, String>(&sql).bind(since);
        for id in chunk {
            q = q.bind(id);
        }
        out.extend(q.fetch_all(&db.pool).await?);
    }
    Ok(out)
}

pub async fn list(db: &Db, f: &PointFilter, page: PageReq) -> Result<(Vec<PointRow>, i64), sqlx::Error> {
    // On SQLite the points lead the join (`CROSS JOIN` fixes the order there), read in the
    // order of their codes: with planner statistics the first page was otherwise read type by
    // type and 100,000 points sorted (80 ms).
    let select = match db.backend {
        super::Backend::Sqlite => ROW_SELECT.replace(
            "p JOIN point_types t ON t.id = p.type_id JOIN units",
            "p CROSS JOIN point_types t ON t.id = p.type_id CROSS JOIN units",
        ),
        super::Backend::Postgres => ROW_SELECT.to_string(),
    };
    let Some(since) = f.not_inspected_since else {
        return super::paged(db, &select, "points p", &filter_sql(db, f), "p.code", page).await;
    };
    // Today's round: counted as the area's points less those inspected today (read from the
    // day's problems and inspections), not by probing every point of a large area (0.15 s at
    // 100,000 points).
    let base = PointFilter { not_inspected_since: None, ..f.clone() };
    let all = super::count(db, "points p", &filter_sql(db, &base)).await?;
    let mut w = filter_sql(db, &base);
    let (a, b) = (w.int(since), w.int(since));
    w.and(format!("p.id IN ({})", inspected_points_sql(db, &a, &b)));
    let remaining = all - super::count(db, "points p", &w).await?;
    if remaining <= 0 {
        return Ok((Vec::new(), 0));
    }
    let w = filter_sql(db, f);
    let sql = format!("{select}{} ORDER BY p.code{}", w.sql(), page.limit_offset());
    let rows = super::bind_args_as(sqlx::query_as::<_, PointRow>(&sql), &w.args).fetch_all(&db.pool).await?;
    Ok((rows, remaining))
}

pub async fn get(db: &Db, id: &str) -> Result<Option<Point>, sqlx::Error> {
    super::record::find(db, id).await
}

pub async fn row(db: &Db, id: &str) -> Result<Option<PointRow>, sqlx::Error> {
    sqlx::query_as::<_, PointRow>(&format!("{ROW_SELECT} WHERE p.id = $1")).bind(id).fetch_optional(&db.pool).await
}

/// Every point, for imports that match rows to existing codes.
pub async fn all(db: &Db) -> Result<Vec<Point>, sqlx::Error> {
    sqlx::query_as::<_, Point>(&format!("SELECT {COLS} FROM points")).fetch_all(&db.pool).await
}

/// Moves a point into another grid (a grid import placed it). Its version moves on too: a
/// point form opened before would otherwise write the old grid back when saved.
pub async fn set_grid(conn: &mut AnyConnection, id: &str, grid_id: Option<&str>) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE points SET grid_id = $1, version = version + 1 WHERE id = $2")
        .bind(grid_id)
        .bind(id)
        .execute(conn)
        .await
        .map(|_| ())
}

/// Every located point: (id, lng, lat, grid_id), for placing points in grids.
pub async fn located(conn: &mut AnyConnection) -> Result<Vec<(String, f64, f64, Option<String>)>, sqlx::Error> {
    sqlx::query_as::<_, (String, f64, f64, Option<String>)>(
        "SELECT id, lng, lat, grid_id FROM points WHERE lng IS NOT NULL AND lat IS NOT NULL",
    )
    .fetch_all(conn)
    .await
}

#[derive(Debug, Clone, sqlx::FromRow, Serialize, utoipa::ToSchema)]
pub struct Grid {
    pub id: String,
    /// 15-digit unit-grid code: county(6) + street(3) + community(3) + sequence(3)
    pub code: String,
    pub name: String,
    pub community_id: Option<String>,
    pub unit_id: Option<String>,
    pub worker_id: Option<String>,
    /// GeoJSON geometry (WGS-84)
    pub geometry: String,
    pub min_lng: f64,
    pub min_lat: f64,
    pub max_lng: f64,
    pub max_lat: f64,
    pub created_at: i64,
    pub updated_at: i64,
    pub version: i64,
}

const GRID_COLS: &str = "id, code, name, community_id, unit_id, worker_id, geometry, min_lng, min_lat, max_lng, max_lat, created_at, updated_at, version";

crate::record! {
    Grid in "grids" as ObjectType::Grid,
    label |g| format!("{} {}", g.code, g.name),
    insert [id, code, name, community_id, unit_id, worker_id, geometry, min_lng, min_lat, max_lng, max_lat, created_at,
        updated_at, version],
    update [name, community_id, unit_id, worker_id, geometry, min_lng, min_lat, max_lng, max_lat, updated_at],
    unique ("code", Code::DuplicateCode, "网格编码已被使用"),
    snapshot |g| serde_json::json!({"code": g.code, "name": g.name, "community_id": g.community_id, "unit_id": g.unit_id,
        "worker_id": g.worker_id, "bbox": [g.min_lng, g.min_lat, g.max_lng, g.max_lat]}),
}

pub async fn grids(db: &Db) -> Result<Vec<Grid>, sqlx::Error> {
    sqlx::query_as::<_, Grid>(&format!("SELECT {GRID_COLS} FROM grids ORDER BY code")).fetch_all(&db.pool).await
}

pub async fn grids_in(conn: &mut AnyConnection) -> Result<Vec<Grid>, sqlx::Error> {
    sqlx::query_as::<_, Grid>(&format!("SELECT {GRID_COLS} FROM grids ORDER BY code")).fetch_all(conn).await
}

#[derive(Debug, Clone, sqlx::FromRow, Serialize, utoipa::ToSchema)]
pub struct GridRow {
    pub id: String,
    pub code: String,
    pub name: String,
    pub community_name: Option<String>,
    pub unit_name: Option<String>,
    pub worker_name: Option<String>,
    pub worker_username: Option<String>,
    pub worker_phone: Option<String>,
    pub point_count: i64,
    pub version: i64,
}

/// Which grids a list shows.
#[derive(Debug, Default)]
pub struct GridFilter {
    /// Grids in these communities (a role's scope, narrowed to an area)
    pub area_ids: Option<Vec<String>>,
    pub unit_id: Option<String>,
    /// true: grids without a grid worker
    pub no_worker: bool,
    pub keyword: Option<String>,
}

const GRID_ROW_SELECT: &str = "SELECT g.id, g.code, g.name, c.name AS community_name, u.name AS unit_name, \
     s.display_name AS worker_name, s.username AS worker_username, s.phone AS worker_phone, \
     (SELECT COUNT(*) FROM points p WHERE p.grid_id = g.id) AS point_count, g.version \
     FROM grids g LEFT JOIN org_nodes c ON c.id = g.community_id LEFT JOIN units u ON u.id = g.unit_id \
     LEFT JOIN users s ON s.id = g.worker_id";

pub async fn grid_rows(db: &Db, f: &GridFilter, page: PageReq) -> Result<(Vec<GridRow>, i64), sqlx::Error> {
    let mut w = Where::default();
    w.within("g.community_id", f.area_ids.as_deref());
    w.eq("g.unit_id", f.unit_id.as_deref());
    if f.no_worker {
        w.and("g.worker_id IS NULL".into());
    }
    w.contains(db, &["g.code", "g.name"], f.keyword.as_deref());
    super::paged(db, GRID_ROW_SELECT, "grids g", &w, "g.code", page).await
}

/// A point as the dashboard's per-point figures need it.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct IndexedPoint {
    pub name: String,
    pub lat: Option<f64>,
    pub lng: Option<f64>,
    pub unit_id: String,
    pub community_id: Option<String>,
    pub active: bool,
    /// Its place among all points ordered by name, then id (byte order): lists of points
    /// with as many problems order by this number instead of comparing names
    pub rank: u32,
}

/// Every point by id: where it is, what it is called and whose it is.
#[derive(Debug, Default)]
pub struct PointIndex {
    /// The points' revision it was read at
    pub revision: i64,
    pub by_id: rustc_hash::FxHashMap<String, IndexedPoint>,
}

/// The points' revision: moved by a trigger on every change to the points, by any instance.
pub async fn revision(db: &Db) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("SELECT n FROM revisions WHERE name = 'points'").fetch_one(&db.pool).await
}

/// Every point by id (for a city's week the dashboard places 60,000 of them: looked up one by
/// one, that was half of its per-point read; the KPI page counts each unit's active points). Kept per database and read again only when the
/// points' revision has moved, so an edit through any instance shows on the next read.
pub async fn index(db: &Db) -> Result<std::sync::Arc<PointIndex>, sqlx::Error> {
    let now = revision(db).await?;
    if let Some(kept) = db.point_index.lock().expect("point index").as_ref()
        && kept.revision == now
    {
        return Ok(kept.clone());
    }
    // The revision and the points from one statement, so that they agree.
    let (agg, row, cast) = super::json_aggregate(db);
    let sql = format!(
        "SELECT (SELECT n FROM revisions WHERE name = 'points'), \
         (SELECT {agg}({row}(id, name, lat, lng, unit_id, community_id, active)){cast} FROM points)"
    );
    let (at, text): (i64, Option<String>) = sqlx::query_as(&sql).fetch_one(&db.pool).await?;
    #[derive(serde::Deserialize)]
    struct Row(String, String, Option<f64>, Option<f64>, String, Option<String>, i64);
    let mut rows = super::from_json::<Row>(text)?;
    rows.sort_unstable_by(|a, b| a.1.cmp(&b.1).then_with(|| a.0.cmp(&b.0)));
    let by_id = rows
        .into_iter()
        .enumerate()
        .map(|(rank, Row(id, name, lat, lng, unit_id, community_id, active))| {
            let rank = rank as u32;
            (id, IndexedPoint { name, lat, lng, unit_id, community_id, active: active == 1, rank })
        })
        .collect();
    let index = std::sync::Arc::new(PointIndex { revision: at, by_id });
    let mut kept = db.point_index.lock().expect("point index");
    // A read that raced with a newer one does not replace it.
    if kept.as_ref().is_none_or(|was| was.revision <= at) {
        *kept = Some(index.clone());
    }
    Ok(index)
}

/// The units with points in these communities.
pub async fn units_in(db: &Db, communities: &[String]) -> Result<std::collections::HashSet<String>, sqlx::Error> {
    let mut present = std::collections::HashSet::new();
    for chunk in communities.chunks(500) {
        let sql =
            format!("SELECT DISTINCT unit_id FROM points WHERE community_id IN ({})", super::marks(1, chunk.len()));
        let mut query = sqlx::query_scalar::<_, String>(&sql);
        for c in chunk {
            query = query.bind(c);
        }
        present.extend(query.fetch_all(&db.pool).await?);
    }
    Ok(present)
}
