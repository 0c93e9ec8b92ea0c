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

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PointCount {
    pub point_id: String,
    pub name: String,
    pub lat: Option<f64>,
    pub lng: Option<f64>,
    pub unit_name: String,
    /// Problems found there in the range
    pub n: i64,
    /// Of which still open
    pub open: i64,
    /// Of which overdue now
    pub overdue: i64,
}

/// Problems per point with where the point is, most first.
pub async fn per_point(db: &Db, f: &ProblemFilter, now: i64) -> Result<Vec<PointCount>, sqlx::Error> {
    let mut w = filter_sql(db, f);
    let now = w.int(now);
    // The period's rows are read first (by the index on the time), then grouped: grouping
    // straight away would walk the whole table in point order.
    let sql = format!(
        "WITH r AS MATERIALIZED (SELECT q.point_id, q.state, q.deadline_at FROM {}{}), \
         g AS (SELECT point_id, COUNT(*) AS n, \
          SUM(CASE WHEN state IN ('reported', 'dispatched', 'acknowledged', 'submitted', 'postponed') THEN 1 ELSE 0 END) AS open, \
          SUM(CASE WHEN state IN ('dispatched', 'acknowledged', 'submitted') AND deadline_at < {now} THEN 1 ELSE 0 END) AS overdue \
          FROM r GROUP BY point_id) \
         SELECT g.point_id, pt.name, pt.lat, pt.lng, u.name AS unit_name, g.n, g.open, g.overdue FROM g \
         JOIN points pt ON pt.id = g.point_id JOIN units u ON u.id = pt.unit_id ORDER BY g.n DESC, g.overdue DESC, pt.name",
        f.from_sql(),
        w.sql()
    );
    bind_args_as(sqlx::query_as::<_, PointCount>(&sql), &w.args).fetch_all(&db.pool).await
}

/// How many problems match.
pub async fn count(db: &Db, f: &ProblemFilter) -> Result<i64, sqlx::Error> {
    super::count(db, f.from_sql(), &filter_sql(db, f)).await
}
