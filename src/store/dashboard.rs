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

/// Problems closed per local day, within the filter's closing range (found per day come with
/// their categories: `per_day_category`).
pub async fn closed_per_day(db: &Db, f: &ProblemFilter) -> Result<Vec<DayCount>, sqlx::Error> {
    let w = filter_sql(db, f);
    let sql = format!(
        "SELECT CAST((q.closed_at + {LOCAL_OFFSET_MS}) / 86400000 AS BIGINT) AS day, COUNT(*) AS n FROM {}{} GROUP BY 1",
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

/// Problems found on a local day in a category.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DayCategoryCount {
    /// Days since 1970-01-01, Beijing time
    pub day: i64,
    pub category: String,
    pub n: i64,
}

/// Problems found per local day and category within the filter's range: one walk of the
/// period's problems gives the dashboard's trend and its categories (each had walked them on its
/// own). The previous period's categories stay a read of their own, beside the others: merged
/// with its count up to the same moment, SQLite's month waited for one 80 to 100 ms read.
pub async fn per_day_category(db: &Db, f: &ProblemFilter) -> Result<Vec<DayCategoryCount>, sqlx::Error> {
    let w = filter_sql(db, f);
    let sql = format!(
        "SELECT CAST((q.found_at + {LOCAL_OFFSET_MS}) / 86400000 AS BIGINT) AS day, q.category, COUNT(*) AS n \
         FROM {}{} GROUP BY 1, 2",
        f.from_sql(),
        w.sql()
    );
    bind_args_as(sqlx::query_as::<_, DayCategoryCount>(&sql), &w.args).fetch_all(&db.pool).await
}

/// Problems found per local day and category over days that ended before today: kept in memory
/// by the filter while the found problems' revision holds (a trigger moves it whenever a problem
/// found before today is added, removed, or changes its day, category, place or unit; migration
/// 0046). The dashboard's previous period and the past days of its current one read them; only
/// today's problems are walked again (a month's end walked 270,000 problems at ten million, 40
/// to 100 ms; the 90-day stress week 780,000, 0.5 s).
pub async fn per_day_category_closed(
    db: &Db,
    f: &ProblemFilter,
) -> Result<std::sync::Arc<Vec<DayCategoryCount>>, sqlx::Error> {
    let w = filter_sql(db, f);
    kept(db, "problems_found", format!("found:{}{:?}", w.sql(), w.args), per_day_category(db, f)).await
}

/// Problems closed per local day over days that ended before today (`f` gives the closing
/// range), kept in memory by the filter while the closed problems' revision holds (a trigger
/// moves it whenever a problem closed before today is added, removed, or changes its state,
/// closing time, place, unit or category; migration 0049): the dashboard's closures of this
/// period's past days and of the previous period up to the same moment.
pub async fn closed_per_day_closed(db: &Db, f: &ProblemFilter) -> Result<std::sync::Arc<Vec<DayCount>>, sqlx::Error> {
    let w = filter_sql(db, f);
    let read = async {
        let days = closed_per_day(db, f).await?;
        Ok(days.into_iter().map(|d| DayCategoryCount { day: d.day, category: String::new(), n: d.n }).collect())
    };
    let days = kept(db, "problems_closed", format!("closed:{}{:?}", w.sql(), w.args), read).await?;
    Ok(std::sync::Arc::new(days.iter().map(|d| DayCount { day: d.day, n: d.n }).collect()))
}

/// Counts per day kept by `key` while the revision `name` holds; read by `read` otherwise.
async fn kept(
    db: &Db,
    name: &str,
    key: String,
    read: impl std::future::Future<Output = Result<Vec<DayCategoryCount>, sqlx::Error>>,
) -> Result<std::sync::Arc<Vec<DayCategoryCount>>, sqlx::Error> {
    let now: i64 = sqlx::query_scalar("SELECT n FROM revisions WHERE name = $1").bind(name).fetch_one(&db.pool).await?;
    if let Some((at, kept)) = db.closed_counts.lock().expect("closed counts").get(&key)
        && *at == now
    {
        return Ok(kept.clone());
    }
    // Read after the revision: a change committed in between moves it past `now`, and the next
    // reading reads again.
    let counts = std::sync::Arc::new(read.await?);
    let mut kept = db.closed_counts.lock().expect("closed counts");
    // A few areas and periods at a time (each a day's categories for a month at most); past
    // that, start again.
    if kept.len() >= 256 {
        kept.clear();
    }
    kept.insert(key, (now, counts.clone()));
    Ok(counts)
}

/// Per category, most first (then by name).
pub fn categories_of(rows: &[DayCategoryCount]) -> Vec<CategoryCount> {
    let mut by: std::collections::BTreeMap<&str, i64> = Default::default();
    for r in rows {
        *by.entry(&r.category).or_default() += r.n;
    }
    let mut out: Vec<CategoryCount> =
        by.into_iter().map(|(c, n)| CategoryCount { category: c.to_string(), n }).collect();
    out.sort_by(|a, b| b.n.cmp(&a.n).then_with(|| a.category.cmp(&b.category)));
    out
}

/// Per day, in day order.
pub fn days_of(rows: &[DayCategoryCount]) -> Vec<DayCount> {
    let mut by: std::collections::BTreeMap<i64, i64> = Default::default();
    for r in rows {
        *by.entry(r.day).or_default() += r.n;
    }
    by.into_iter().map(|(day, n)| DayCount { day, n }).collect()
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
/// overdue, then by name and id), with their figures. A city's month has some 93,000 such
/// points. Counted here against the points kept in memory (`points::index`):
/// - found per point: over the days before today kept in memory by the filter while the found
///   problems' revision holds (`found_per_point_closed`), today's read now;
/// - open and overdue now: the period's open problems alone, through their own index
///   (`problems_open_found`, migration 0050).
///
/// The database hands rows over as one string of point ids (each with a mark: 1 open, 2 overdue
/// now), since the driver hands rows over one by one, slowly. At a month's end (270,000
/// problems at ten million, 40% of them open in the bench's data) the whole walk with marks
/// took 100 ms of SQL and 50 ms of counting.
pub async fn per_point(db: &Db, f: &ProblemFilter, now: i64, worst: usize) -> Result<PerPoint, sqlx::Error> {
    let today = super::kpi_days::day_start(super::kpi_days::day_of(now));
    let past = match (f.from_ms, f.to_ms) {
        (Some(from), Some(_)) if from < today => {
            Some(ProblemFilter { to_ms: Some(f.to_ms.unwrap().min(today)), ..f.clone() })
        }
        _ => None,
    };
    let live = match &past {
        Some(_) => (f.to_ms > Some(today)).then(|| ProblemFilter { from_ms: Some(today), ..f.clone() }),
        None => Some(f.clone()),
    };
    let (kept, found, marks) = tokio::try_join!(
        async {
            match &past {
                Some(p) => found_per_point_closed(db, p).await.map(Some),
                None => Ok(None),
            }
        },
        async {
            match &live {
                Some(l) => point_ids(db, l, None).await,
                None => Ok(None),
            }
        },
        point_ids(db, f, Some(now)),
    )?;
    // Read after the problems: every point they name was there before this revision was.
    let index = super::points::index(db).await?;
    // Today's found and every open mark, by point; then the kept past days' points, each with
    // what today adds; then the points only today has.
    let mut live: rustc_hash::FxHashMap<&str, [i64; 3]> = Default::default();
    for id in found.as_deref().unwrap_or("").split(',').filter(|s| !s.is_empty()) {
        live.entry(id).or_default()[0] += 1;
    }
    for one in marks.as_deref().unwrap_or("").split(',').filter(|s| s.len() > 1) {
        let (id, mark) = one.split_at(one.len() - 1);
        let c = live.entry(id).or_default();
        c[1] += 1;
        c[2] += i64::from(mark == "2");
    }
    let mut counts: Vec<(&str, [i64; 3])> = Vec::with_capacity(kept.as_ref().map_or(0, |k| k.len()) + live.len());
    for (id, n) in kept.iter().flat_map(|k| k.iter()) {
        let [found, open, overdue] = live.remove(id.as_str()).unwrap_or_default();
        counts.push((id.as_str(), [n + found, open, overdue]));
    }
    counts.extend(live);
    Ok(ranked(&counts, &index, worst))
}

/// The period's problems' point ids, one string (UUIDs: never a comma); with `open_at`, only
/// its open ones, each id followed by its mark (1 open, 2 overdue at that time).
async fn point_ids(db: &Db, f: &ProblemFilter, open_at: Option<i64>) -> Result<Option<String>, sqlx::Error> {
    let mut w = filter_sql(db, f);
    let concat = if db.backend == super::Backend::Postgres { "string_agg" } else { "group_concat" };
    let what = match open_at {
        Some(now) => {
            let now = w.int(now);
            // The open states exactly as the partial index names them, so that it is used.
            w.when(true, "q.state IN ('reported', 'dispatched', 'acknowledged', 'submitted', 'postponed')");
            format!(
                "q.point_id || CASE WHEN q.state IN ('dispatched', 'acknowledged', 'submitted') \
                 AND q.deadline_at < {now} THEN '2' ELSE '1' END"
            )
        }
        None => "q.point_id".to_string(),
    };
    let sql = format!("SELECT {concat}({what}, ',') FROM {}{}", f.from_sql(), w.sql());
    let (ids,): (Option<String>,) = bind_args_as(sqlx::query_as(&sql), &w.args).fetch_one(&db.pool).await?;
    Ok(ids)
}

/// Problems found per point over days that ended before today (`f` gives the range), kept in
/// memory by the filter while the found problems' revision holds (as `per_day_category_closed`;
/// a few filters at a time: a city's month is some 93,000 points, 8 MB).
async fn found_per_point_closed(db: &Db, f: &ProblemFilter) -> Result<std::sync::Arc<Vec<(String, i64)>>, sqlx::Error> {
    let w = filter_sql(db, f);
    let key = format!("{}{:?}", w.sql(), w.args);
    let now: i64 =
        sqlx::query_scalar("SELECT n FROM revisions WHERE name = 'problems_found'").fetch_one(&db.pool).await?;
    if let Some((at, kept)) = db.point_counts.lock().expect("point counts").get(&key)
        && *at == now
    {
        return Ok(kept.clone());
    }
    let ids = point_ids(db, f, None).await?;
    let mut by: std::collections::HashMap<&str, i64> = std::collections::HashMap::new();
    for id in ids.as_deref().unwrap_or("").split(',').filter(|s| !s.is_empty()) {
        *by.entry(id).or_default() += 1;
    }
    let counts = std::sync::Arc::new(by.into_iter().map(|(id, n)| (id.to_string(), n)).collect::<Vec<_>>());
    let mut kept = db.point_counts.lock().expect("point counts");
    if kept.len() >= 8 {
        kept.clear();
    }
    kept.insert(key, (now, counts.clone()));
    Ok(counts)
}

/// The heat layer and the `worst` points of per-point counts [found, open, overdue].
fn ranked(counts: &[(&str, [i64; 3])], index: &super::points::PointIndex, worst: usize) -> PerPoint {
    let mut heat = Vec::with_capacity(counts.len());
    let mut known = Vec::with_capacity(counts.len());
    for (id, c) in counts {
        let Some(p) = index.by_id.get(*id) else { continue };
        if let (Some(lat), Some(lng)) = (p.lat, p.lng) {
            heat.push((lat, lng, c[0]));
        }
        known.push((*id, c, p));
    }
    // Most problems first, then most overdue, then by name and id (byte order: the index's
    // rank of each point).
    let order = |a: &(&str, &[i64; 3], &super::points::IndexedPoint),
                 b: &(&str, &[i64; 3], &super::points::IndexedPoint)| {
        (b.1[0], b.1[2], a.2.rank).cmp(&(a.1[0], a.1[2], b.2.rank))
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
    PerPoint { heat, worst }
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
