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

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CategoryCount {
    pub category: String,
    pub n: i64,
}

/// Problems found in one category on one local day.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CategoryDay {
    pub category: String,
    /// Days since 1970-01-01, Beijing time
    pub day: i64,
    pub n: i64,
}

/// Problems found per category and local day, within the filter's range. The dashboard reads
/// its period and the previous one in one go, [previous start, end), and takes from these rows
/// the period's categories and days and the previous period's categories: one pass over the
/// rows instead of three (a street's week at ten million problems: 26 + 26 + 33 ms of reads).
pub async fn per_category_day(db: &Db, f: &ProblemFilter) -> Result<Vec<CategoryDay>, sqlx::Error> {
    let w = filter_sql(db, f);
    let sql = format!(
        "SELECT q.category, CAST((q.found_at + {LOCAL_OFFSET_MS}) / 86400000 AS BIGINT) AS day, COUNT(*) AS n \
         FROM {}{} GROUP BY 1, 2",
        f.from_sql(),
        w.sql()
    );
    bind_args_as(sqlx::query_as::<_, CategoryDay>(&sql), &w.args).fetch_all(&db.pool).await
}

/// The rows' problems per category over the days in `days`: most first, then by name (bytes).
pub fn categories_within(rows: &[CategoryDay], days: std::ops::Range<i64>) -> Vec<CategoryCount> {
    let mut by: std::collections::BTreeMap<&str, i64> = std::collections::BTreeMap::new();
    for r in rows.iter().filter(|r| days.contains(&r.day)) {
        *by.entry(r.category.as_str()).or_default() += r.n;
    }
    let mut out: Vec<CategoryCount> =
        by.into_iter().map(|(c, n)| CategoryCount { category: c.to_string(), n }).collect();
    out.sort_by(|a, b| b.n.cmp(&a.n).then_with(|| a.category.cmp(&b.category)));
    out
}

/// The rows' problems per day over the days in `days`, by day.
pub fn days_within(rows: &[CategoryDay], days: std::ops::Range<i64>) -> Vec<DayCount> {
    let mut by: std::collections::BTreeMap<i64, i64> = std::collections::BTreeMap::new();
    for r in rows.iter().filter(|r| days.contains(&r.day)) {
        *by.entry(r.day).or_default() += r.n;
    }
    by.into_iter().map(|(day, n)| DayCount { day, n }).collect()
}

/// The local day (days since 1970-01-01, Beijing time) of a moment, as `per_category_day` counts.
pub fn local_day(ms: i64) -> i64 {
    (ms + LOCAL_OFFSET_MS).div_euclid(86_400_000)
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
/// overdue, then by name and id), with their figures. A city's week has some 60,000 such
/// points. The database hands over the period's problems as one string of point ids, each with
/// a mark (0 closed, 1 open, 2 overdue now), and they are counted here against the points kept
/// in memory (`points::index`): grouping 67,000 rows and looking up 60,000 points took SQLite
/// 0.10 s of a 0.12 s read at the weekly pace of ten million problems; one row of a string
/// instead of rows (or JSON) because the driver hands rows over one by one, slowly.
pub async fn per_point(db: &Db, f: &ProblemFilter, now: i64, worst: usize) -> Result<PerPoint, sqlx::Error> {
    let mut w = filter_sql(db, f);
    let now = w.int(now);
    let concat = if db.backend == super::Backend::Postgres { "string_agg" } else { "group_concat" };
    // Point ids are UUIDs (`new_id`): never a comma.
    let sql = format!(
        "SELECT {concat}(q.point_id || CASE \
          WHEN q.state IN ('dispatched', 'acknowledged', 'submitted') AND q.deadline_at < {now} THEN '2' \
          WHEN q.state IN ('reported', 'dispatched', 'acknowledged', 'submitted', 'postponed') THEN '1' \
          ELSE '0' END, ',') FROM {}{}",
        f.from_sql(),
        w.sql()
    );
    let (found,): (Option<String>,) = bind_args_as(sqlx::query_as(&sql), &w.args).fetch_one(&db.pool).await?;
    // Read after the problems: every point they name was there before this revision was.
    let index = super::points::index(db).await?;
    let mut counts: std::collections::HashMap<&str, [i64; 3]> = std::collections::HashMap::new();
    for one in found.as_deref().unwrap_or("").split(',').filter(|s| s.len() > 1) {
        let (id, mark) = one.split_at(one.len() - 1);
        let c = counts.entry(id).or_default();
        c[0] += 1;
        c[1] += i64::from(mark != "0");
        c[2] += i64::from(mark == "2");
    }
    let mut heat = Vec::new();
    let mut known = Vec::with_capacity(counts.len());
    for (id, c) in &counts {
        let Some(p) = index.by_id.get(*id) else { continue };
        if let (Some(lat), Some(lng)) = (p.lat, p.lng) {
            heat.push((lat, lng, c[0]));
        }
        known.push((*id, c, p));
    }
    // Most problems first, then most overdue, then by name and id (byte order).
    let order = |a: &(&str, &[i64; 3], &super::points::IndexedPoint),
                 b: &(&str, &[i64; 3], &super::points::IndexedPoint)| {
        (b.1[0], b.1[2]).cmp(&(a.1[0], a.1[2])).then_with(|| a.2.name.cmp(&b.2.name)).then_with(|| a.0.cmp(b.0))
    };
    if known.len() > worst && worst > 0 {
        known.select_nth_unstable_by(worst - 1, order);
    }
    known.truncate(worst);
    known.sort_unstable_by(order);
    let worst = known
        .into_iter()
        .map(|(id, c, p)| PointCount {
            point_id: id.to_string(),
            name: p.name.clone(),
            lat: p.lat,
            lng: p.lng,
            unit_id: p.unit_id.clone(),
            n: c[0],
            open: c[1],
            overdue: c[2],
        })
        .collect();
    Ok(PerPoint { heat, worst })
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

#[cfg(test)]
mod tests {
    use super::*;

    fn row(category: &str, day: i64, n: i64) -> CategoryDay {
        CategoryDay { category: category.into(), day, n }
    }

    #[test]
    fn one_read_splits_into_the_periods_by_local_day() {
        // 2026-11-30 00:00 Beijing is 2026-11-29 16:00 UTC: day 20787 starts there.
        let monday = chrono::DateTime::parse_from_rfc3339("2026-11-30T00:00:00+08:00").unwrap().timestamp_millis();
        assert_eq!(local_day(monday), 20787);
        assert_eq!(local_day(monday - 1), 20786);
        let rows =
            [row("乱停放", 20786, 2), row("暴露垃圾", 20786, 1), row("暴露垃圾", 20787, 3), row("乱停放", 20793, 1)];
        let this_week = local_day(monday)..local_day(monday + 7 * 86_400_000 - 1) + 1;
        let last_week = local_day(monday - 7 * 86_400_000)..local_day(monday);
        let cat = |c: &str, n| CategoryCount { category: c.into(), n };
        assert_eq!(categories_within(&rows, this_week.clone()), [cat("暴露垃圾", 3), cat("乱停放", 1)]);
        assert_eq!(categories_within(&rows, last_week), [cat("乱停放", 2), cat("暴露垃圾", 1)]);
        let days: Vec<(i64, i64)> = days_within(&rows, this_week).iter().map(|d| (d.day, d.n)).collect();
        assert_eq!(days, [(20787, 3), (20793, 1)]);
        // Equal counts: by name (bytes).
        let tie = [row("b", 1, 1), row("a", 1, 1)];
        assert_eq!(categories_within(&tie, 0..2), [cat("a", 1), cat("b", 1)]);
    }
}
