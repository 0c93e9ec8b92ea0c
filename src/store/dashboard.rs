//! The dashboard's counts. Each is one aggregate query over the caller's scope narrowed to a
//! period, so that every figure on the screen is a count of the records its link opens.

use super::problems::{ProblemFilter, filter_sql};
use super::{Db, bind_args_as};

/// Beijing is UTC+8 all year: a local day number is (ms + 8 h) / 24 h.
const LOCAL_OFFSET_MS: i64 = 8 * 3_600_000;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DayCount {
    /// Days since 1970-01-01, Beijing time
    pub day: i64,
    pub n: i64,
}

/// Problems found (or, with `closed`, closed) per local day, within the filter's range.
pub async fn per_day(db: &Db, f: &ProblemFilter, closed: bool) -> Result<Vec<DayCount>, sqlx::Error> {
    let w = filter_sql(db, f);
    let col = if closed { "q.closed_at" } else { "q.found_at" };
    let sql = format!(
        "SELECT CAST(({col} + {LOCAL_OFFSET_MS}) / 86400000 AS BIGINT) AS day, COUNT(*) AS n FROM {}{} GROUP BY 1",
        f.from_sql(),
        w.sql()
    );
    bind_args_as(sqlx::query_as::<_, DayCount>(&sql), &w.args).fetch_all(&db.pool).await
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CategoryCount {
    pub category: String,
    pub n: i64,
}

/// Problems per category, most first.
pub async fn per_category(db: &Db, f: &ProblemFilter) -> Result<Vec<CategoryCount>, sqlx::Error> {
    let w = filter_sql(db, f);
    let sql = format!(
        "SELECT q.category, COUNT(*) AS n FROM {}{} GROUP BY q.category ORDER BY 2 DESC, 1",
        f.from_sql(),
        w.sql()
    );
    bind_args_as(sqlx::query_as::<_, CategoryCount>(&sql), &w.args).fetch_all(&db.pool).await
}

/// A point's problems in the range (deserialized from a JSON array of the columns in order).
#[derive(Debug, Clone, serde::Deserialize)]
pub struct PointCount {
    pub point_id: String,
    pub name: String,
    pub lat: Option<f64>,
    pub lng: Option<f64>,
    pub unit_id: String,
    /// Problems found there in the range
    pub n: i64,
    /// Of which still open
    pub open: i64,
    /// Of which overdue now
    pub overdue: i64,
}

/// The period's problems per point, as the dashboard shows them: where each point with problems
/// is and how many (for the heat layer), and the `worst` points with the most (then most
/// overdue, then by name and id), with their figures. A city's week has some 50,000 such
/// points: the heat list comes back as one JSON array of numbers in one row, because handing
/// rows one by one from the driver's thread took 0.5 s of a 0.1 s query at ten million problems,
/// and the points' names and units travel for the few shown only (half the text to build and
/// parse).
pub async fn per_point(db: &Db, f: &ProblemFilter, now: i64, worst: usize) -> Result<PerPoint, sqlx::Error> {
    let mut w = filter_sql(db, f);
    let now = w.int(now);
    let worst = w.int(worst as i64);
    let (agg, row, cast) = super::json_aggregate(db);
    // Names in byte order on both databases, as the caller orders them.
    let bytes = if db.backend == super::Backend::Postgres { " COLLATE \"C\"" } else { "" };
    // On SQLite the period's rows are read first (by the index on the time), then grouped:
    // grouping straight away would walk the whole table in point order. PostgreSQL plans the
    // rows as they come (held apart, it guessed 200 points and looked up 50,000 one by one:
    // 0.47 s against 0.29 s at ten million).
    let first = if db.backend == super::Backend::Sqlite { " MATERIALIZED" } else { "" };
    let sql = format!(
        "WITH r AS{first} (SELECT q.point_id, q.state, q.deadline_at FROM {}{}), \
         g AS MATERIALIZED (SELECT g.point_id, pt.name, pt.lat, pt.lng, pt.unit_id, g.n, g.open, g.overdue FROM \
          (SELECT point_id, COUNT(*) AS n, \
           SUM(CASE WHEN state IN ('reported', 'dispatched', 'acknowledged', 'submitted', 'postponed') THEN 1 ELSE 0 END) AS open, \
           SUM(CASE WHEN state IN ('dispatched', 'acknowledged', 'submitted') AND deadline_at < {now} THEN 1 ELSE 0 END) AS overdue \
           FROM r GROUP BY point_id) g JOIN points pt ON pt.id = g.point_id) \
         SELECT (SELECT {agg}({row}(lat, lng, n)){cast} FROM g WHERE lat IS NOT NULL AND lng IS NOT NULL), \
          (SELECT {agg}({row}(point_id, name, lat, lng, unit_id, n, open, overdue)){cast} FROM \
           (SELECT * FROM g ORDER BY n DESC, overdue DESC, name{bytes}, point_id{bytes} LIMIT {worst}) t)",
        f.from_sql(),
        w.sql()
    );
    let (heat, worst): (Option<String>, Option<String>) =
        bind_args_as(sqlx::query_as(&sql), &w.args).fetch_one(&db.pool).await?;
    Ok(PerPoint { heat: super::from_json(heat)?, worst: super::from_json(worst)? })
}

/// The period's problems per point (see `per_point`).
#[derive(Debug, Clone, Default)]
pub struct PerPoint {
    /// Each placed point with problems: latitude, longitude, problems
    pub heat: Vec<(f64, f64, i64)>,
    /// The points with most problems, with their figures
    pub worst: Vec<PointCount>,
}

/// How many problems match.
pub async fn count(db: &Db, f: &ProblemFilter) -> Result<i64, sqlx::Error> {
    super::count(db, f.from_sql(), &filter_sql(db, f)).await
}
