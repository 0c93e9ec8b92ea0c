//! `chuangcheng bench`: fills a fresh database with generated problems over the demo city and
//! prints one JSON object per measurement: {"name", "n", "p50_ms", "p95_ms", "ops_per_s"}.

pub mod evidence;
mod instances;
mod public;
mod ratings;

use crate::app::{Application, open_db};
use crate::config::Config;
use crate::domain::ids::new_id;
use crate::domain::problem::{Source, State};
use crate::domain::standard::Severity;
use crate::domain::time::{DAY_MS, now_ms};
use crate::service::{Ctx, CurrentUser};
use crate::store::Db;
use crate::store::problems::{self as store, Problem, ProblemFilter, Seek, Sort};
use anyhow::Context;
use chrono::Datelike;
use serde_json::json;
use std::time::{Duration, Instant};

const WORDS: [&str; 8] =
    ["积存垃圾", "路面破损", "乱停放", "小广告", "绿化带黄土裸露", "井盖缺失", "占道经营", "楼道堆物"];
const STATES: [State; 10] = [
    State::Closed,
    State::Closed,
    State::Closed,
    State::Closed,
    State::Acknowledged,
    State::Acknowledged,
    State::Dispatched,
    State::Dispatched,
    State::Submitted,
    State::Voided,
];
const SOURCES: [Source; 4] = [Source::Supervision, Source::GridPatrol, Source::Evaluation, Source::Supervision];

fn report(name: &str, mut samples: Vec<Duration>, ops_per_s: Option<f64>) {
    samples.sort();
    let q = |p: f64| {
        samples
            .get(((samples.len() as f64 - 1.0) * p).round() as usize)
            .map(|d| d.as_secs_f64() * 1000.0)
            .unwrap_or(0.0)
    };
    let line = json!({
        "name": name,
        "n": samples.len(),
        "p50_ms": (q(0.50) * 100.0).round() / 100.0,
        "p95_ms": (q(0.95) * 100.0).round() / 100.0,
        "ops_per_s": ops_per_s.map(|o| o.round()),
        // The process's peak so far: where it grows tells which measurement needs the memory.
        "peak_rss_mb": evidence::peak_rss_mb(),
        // Of which the process's own memory now (the rest is the mapped database file).
        "anon_rss_mb": evidence::anon_rss_mb(),
    });
    println!("{line}");
}

async fn time<F, Fut, T>(runs: usize, mut f: F) -> anyhow::Result<Vec<Duration>>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = anyhow::Result<T>>,
{
    let mut out = Vec::with_capacity(runs);
    for _ in 0..runs {
        let t = Instant::now();
        f().await?;
        out.push(t.elapsed());
    }
    Ok(out)
}

/// Units the ranking benchmark scores: 10,000 responsible units in all.
const BENCH_UNITS: usize = 10_000;

/// A point as the generator files at it: id, unit, lead, name, community.
type BenchPoint = (String, String, String, String, Option<String>);

/// Generated problems: spread over 100,000 points (the demo's and generated ones, each generated
/// point charged to one of the generated units, so 10,000 responsible units are ranked), over
/// the last 90 days or years and every state; each problem is charged to its point's unit.
async fn generate(db: &Db, n: u64, years: u32) -> anyhow::Result<()> {
    let extra = bench_units(db).await?;
    bench_points(db, &extra).await?;
    let points: Vec<BenchPoint> =
        sqlx::query_as("SELECT id, unit_id, lead_name, name, community_id FROM points ORDER BY code")
            .fetch_all(&db.pool)
            .await?;
    let now = now_ms();
    let started = Instant::now();
    // A bulk load of millions of rows into a table with 18 secondary indexes spends most of its
    // time on random index pages; the indexes are set aside and built once after the load, by
    // sorting (as a restored dump or a REINDEX lays them out). The server's own writes keep them.
    let indexes = set_aside_problem_indexes(db).await?;
    let filled = async {
        let mut done = 0u64;
        while done < n {
            let rows: Vec<Problem> = (done..(done + 10_000).min(n))
                .map(|i| bench_problem(i, (n, years), now, &points[(i as usize * 7919) % points.len()]))
                .collect();
            let mut tx = db.begin().await?;
            crate::store::record::insert_rows(&mut tx, &rows).await?;
            tx.commit().await?;
            done = (done + 10_000).min(n);
        }
        anyhow::Ok(())
    }
    .await;
    let loaded = started.elapsed().as_secs_f64();
    // Built again even when the load failed, so a kept database is never left without them.
    rebuild_indexes(db, &indexes).await?;
    filled?;
    let secs = started.elapsed().as_secs_f64();
    println!(
        "{}",
        json!({"name": "generate_problems", "n": n, "years": years, "points": points.len(), "seconds": (secs * 10.0).round() / 10.0, "rows_per_s": (n as f64 / secs).round(), "load_seconds": loaded.round(), "index_seconds": (secs - loaded).round(), "indexes": indexes.len()})
    );
    Ok(())
}

/// Drops the secondary indexes of `problems` (not those behind its keys and unique
/// constraints); their definitions, to build them again.
async fn set_aside_problem_indexes(db: &Db) -> anyhow::Result<Vec<(String, String)>> {
    let sql = match db.backend {
        crate::store::Backend::Sqlite => {
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'problems' AND sql IS NOT NULL ORDER BY name"
        }
        crate::store::Backend::Postgres => {
            "SELECT indexname::text, indexdef FROM pg_indexes WHERE schemaname = current_schema() AND tablename = 'problems' \
             AND indexname NOT IN (SELECT conname::text FROM pg_constraint) ORDER BY indexname"
        }
    };
    let indexes: Vec<(String, String)> = sqlx::query_as(sql).fetch_all(&db.pool).await?;
    for (name, _) in &indexes {
        sqlx::query(&format!("DROP INDEX {name}")).execute(&db.pool).await?;
    }
    Ok(indexes)
}

/// Builds the set-aside indexes again, PostgreSQL's with room to sort in memory.
async fn rebuild_indexes(db: &Db, indexes: &[(String, String)]) -> anyhow::Result<()> {
    let mut conn = db.pool.acquire().await?;
    let (room, back): (&[&str], &[&str]) = match db.backend {
        // A 1 GB page cache for the sorter, and a second thread to sort with.
        crate::store::Backend::Sqlite => (
            &["PRAGMA cache_size = -1000000", "PRAGMA threads = 2"],
            &["PRAGMA cache_size = -2000", "PRAGMA threads = 0"],
        ),
        crate::store::Backend::Postgres => (&["SET maintenance_work_mem = '2GB'"], &["RESET maintenance_work_mem"]),
    };
    let built = indexes.iter().map(|(_, sql)| sql.as_str());
    for sql in room.iter().copied().chain(built).chain(back.iter().copied()) {
        sqlx::query(sql).execute(&mut *conn).await?;
    }
    Ok(())
}

/// Points of a province-sized city: 100,000 in all.
const BENCH_POINTS: usize = 100_000;

/// Adds generated points until 100,000 exist: copies of the demo's points (type, lead) a little
/// apart, each charged to a generated unit in turn and placed in each community in turn (with
/// that community's first grid), so that every street holds its share of the city.
async fn bench_points(db: &Db, units: &[String]) -> anyhow::Result<()> {
    let communities: Vec<(String, Option<String>)> = sqlx::query_as(
        "SELECT c.id, (SELECT g.id FROM grids g WHERE g.community_id = c.id ORDER BY g.code LIMIT 1) \
         FROM org_nodes c WHERE c.level = 'community' ORDER BY c.code",
    )
    .fetch_all(&db.pool)
    .await?;
    type Demo = (String, String, Option<String>, Option<String>, String, String, Option<f64>, Option<f64>);
    let demo: Vec<Demo> = sqlx::query_as(
        "SELECT name, type_id, community_id, grid_id, lead_name, lead_phone, lng, lat FROM points ORDER BY code",
    )
    .fetch_all(&db.pool)
    .await?;
    if demo.is_empty() || units.is_empty() {
        return Ok(());
    }
    let now = now_ms();
    let mut tx = db.begin().await?;
    for i in demo.len()..BENCH_POINTS {
        let (name, type_id, community, grid, lead, phone, lng, lat) = &demo[i % demo.len()];
        let (community, grid) = match communities.get(i % communities.len().max(1)) {
            Some((c, g)) => (Some(c), g.as_ref()),
            None => (community.as_ref(), grid.as_ref()),
        };
        let step = (i / demo.len()) as f64 * 0.00001;
        sqlx::query(
            "INSERT INTO points (id, code, name, type_id, fixed, lng, lat, community_id, grid_id, unit_id, lead_name, lead_phone, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, 1, $5, $6, $7, $8, $9, $10, $11, $12, $12)",
        )
        .bind(new_id())
        .bind(format!("B{i:06}"))
        .bind(format!("{name}{}号", i / demo.len()))
        .bind(type_id)
        .bind(lng.map(|x| x + step))
        .bind(lat.map(|y| y + step))
        .bind(community)
        .bind(grid)
        .bind(&units[i % units.len()])
        .bind(lead)
        .bind(phone)
        .bind(now)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Adds generated units until 10,000 responsible units exist; their ids.
async fn bench_units(db: &Db) -> anyhow::Result<Vec<String>> {
    let existing: i64 = sqlx::query_scalar(&format!(
        "SELECT COUNT(*) FROM units WHERE kind NOT IN {}",
        crate::store::scoring::window_kinds()
    ))
    .fetch_one(&db.pool)
    .await?;
    let now = now_ms();
    let mut extra = Vec::new();
    let mut tx = db.begin().await?;
    for i in existing as usize..BENCH_UNITS {
        let id = new_id();
        sqlx::query("INSERT INTO units (id, name, kind, created_at, updated_at) VALUES ($1, $2, 'government', $3, $3)")
            .bind(&id)
            .bind(format!("基准单位{i:05}"))
            .bind(now)
            .execute(&mut *tx)
            .await?;
        extra.push(id);
    }
    tx.commit().await?;
    Ok(extra)
}

/// What became of a problem filed a month ago and more in a city that works: nearly all
/// closed, some voided, a few postponed (long-term works); never left open.
const SETTLED: [State; 20] = {
    let mut s = [State::Closed; 20];
    s[0] = State::Voided;
    s[1] = State::Voided;
    s[2] = State::Postponed;
    s
};

/// The `i`-th of `n` generated problems. Problems arrive roughly in the order they are found:
/// spread evenly in insertion order over the last 90 days (`years` = 0: the stress case, every
/// state at every age) or the last `years` years (the realistic case: problems older than 30
/// days are settled), each up to 12 hours off.
fn bench_problem(
    i: u64,
    (n, years): (u64, u32),
    now: i64,
    (point, unit, lead, point_name, community): &BenchPoint,
) -> Problem {
    let span = if years == 0 { 90 * DAY_MS } else { i64::from(years) * 365 * DAY_MS };
    let jitter = ((i * 7_777_777) % (12 * 3_600_000)) as i64;
    let found = now - span + (i as i64 * span / n.max(1) as i64) - jitter;
    let settled = years > 0 && found < now - 30 * DAY_MS;
    let state = if settled { SETTLED[((i * 7) % 20) as usize] } else { STATES[(i % 10) as usize] };
    let p = Problem {
        code: format!("B{i:09}"),
        point_id: point.clone(),
        community_id: community.clone(),
        unit_id: unit.to_string(),
        lead_name: lead.clone(),
        standard_item_id: None,
        category: "市容环境·暴露垃圾".into(),
        severity: Severity::Normal,
        source: SOURCES[(i % 4) as usize],
        description: format!("{}（第{}号）", WORDS[(i % 8) as usize], i),
        state,
        extension_pending: 0,
        transfer_pending: 0,
        extension_days: 0,
        extensions: i.is_multiple_of(17) as i64,
        postponed: 0,
        rework_count: i.is_multiple_of(11) as i64,
        reported_by: None,
        reporter_name: "基准测试".into(),
        found_at: found,
        filed_at: Some(found),
        dispatched_at: Some(found),
        acknowledged_at: (state != State::Dispatched).then_some(found + 600_000),
        submitted_at: matches!(state, State::Submitted | State::Closed).then_some(found + 3_600_000),
        closed_at: (state == State::Closed).then_some(found + ((i % 13) as i64) * 3_600_000),
        voided_at: (state == State::Voided).then_some(found + 60_000),
        deadline_at: Some(found + 8 * 3_600_000),
        fix_note: String::new(),
        created_at: found,
        updated_at: found,
        version: 1,
        id: new_id(),
        search_text: String::new(),
    };
    Problem { search_text: store::search_text(&p, point_name), ..p }
}

/// Runs the benchmark; `only` (a substring of measurement names, e.g. "ranking") skips the rest.
pub async fn run(
    config: Config,
    problems: u64,
    years: u32,
    intake: u64,
    reuse: bool,
    only: Option<String>,
) -> anyhow::Result<()> {
    let want = |name: &str| only.as_deref().is_none_or(|o| name.contains(o));
    if want("imports") {
        evidence::imports(config.clone()).await?;
    }
    if want("evidence") {
        tokio::task::spawn_blocking(evidence::bench).await?;
        evidence::bench_time_place();
    }
    if matches!(only.as_deref(), Some("evidence" | "imports")) {
        return Ok(());
    }
    let (config, db) = open_bench_db(config, (problems, years), reuse).await?;
    let admin = crate::store::users::by_username(&db, "admin").await?.context("admin account")?;
    let user = CurrentUser::signed_in(&admin);
    let ctx = Ctx { db: &db, user: &user, request_id: "bench" };
    let unit: String = sqlx::query_scalar("SELECT unit_id FROM points GROUP BY unit_id ORDER BY COUNT(*) DESC LIMIT 1")
        .fetch_one(&db.pool)
        .await?;
    if want("ledger") {
        ledger_pages(&db, &unit).await?;
    }
    if want("keyword_search") {
        keyword_search(&db, &unit, problems).await?;
    }
    scoring(&ctx, &want).await?;
    if want("dashboard") {
        dashboard(&ctx).await?;
    }
    if want("start_page") {
        start_pages(&db).await?;
    }
    if want("notice") {
        notices(&ctx, years).await?;
    }
    if want("public") {
        public::run(config.clone(), &db).await?;
    }
    if want("rating") {
        ratings::run(config.clone(), &db).await?;
    }
    if want("instances") {
        instances::run(config.clone(), &db).await?;
    }
    if !want("intake") {
        return Ok(());
    }
    intake_and_durability(config, &db, intake).await
}

/// The bench database: the SQLite bench.db (fresh, or kept with `reuse`) or the given database,
/// seeded with the demo city, `problems` generated and the search index caught up.
async fn open_bench_db(mut config: Config, (problems, years): (u64, u32), reuse: bool) -> anyhow::Result<(Config, Db)> {
    let db_path = config.data_dir.join("bench.db");
    // Reuse the SQLite bench.db when it exists, or whatever a given database URL holds.
    let reuse = reuse && (!config.database_url.trim().is_empty() || db_path.exists());
    if config.database_url.trim().is_empty() && !reuse {
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", db_path.display()));
        }
    }
    if config.database_url.trim().is_empty() {
        config.database_url = format!("sqlite://{}?mode=rwc", db_path.display());
    }
    config.addr = "127.0.0.1:0".into();
    // Cold readings are taken as a reader meets them: no background rebuild of kept weeks.
    config.keep_weeks_interval_ms = 0;
    let opened = std::time::Instant::now();
    let db = open_db(&config).await?;
    if reuse {
        // What a restart costs before the server answers: migrations and the start-up checks.
        let secs = opened.elapsed().as_secs_f64();
        println!("{}", json!({"name": "open_existing_database", "seconds": (secs * 100.0).round() / 100.0}));
    }
    crate::demo::seed_if_empty(&db, crate::demo::DEFAULT_PASSWORD, 1).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    if !reuse {
        generate(&db, problems, years).await?;
    }
    index_backlog(&db).await?;
    Ok((config, db))
}

/// The background job indexes new problems for keyword search; in production it keeps up round
/// by round, here the whole generated backlog is indexed once before measuring.
async fn index_backlog(db: &Db) -> anyhow::Result<()> {
    let started = Instant::now();
    let mut indexed = 0;
    loop {
        let n = store::index_pending(db).await?;
        if n == 0 {
            break;
        }
        indexed += n;
    }
    // In production the background job checkpoints the write-ahead log every round; after a
    // bulk load the bench does it once, so reads do not search a huge log.
    if db.backend == crate::store::Backend::Sqlite {
        sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)").execute(&db.pool).await?;
    }
    // The planner's statistics, as the background job refreshes them every hour (PostgreSQL:
    // as autovacuum would after a bulk load); then again, as the next hour finds them, with a
    // write timed beside it (SQLite's ANALYZE holds the writer).
    let refreshed = Instant::now();
    let analyzed = db.refresh_statistics().await?;
    println!(
        "{}",
        json!({"name": "statistics_refresh_after_load", "seconds": refreshed.elapsed().as_secs_f64(), "tables_analyzed": analyzed.len()})
    );
    statistics_refresh_beside_writes(db).await?;
    if db.backend == crate::store::Backend::Postgres {
        sqlx::query("ANALYZE").execute(&db.pool).await?;
    }
    if indexed > 0 {
        let secs = started.elapsed().as_secs_f64();
        println!("{}", json!({"name": "search_index_backlog", "n": indexed, "seconds": (secs * 10.0).round() / 10.0}));
    }
    Ok(())
}

/// The weekly 千分制 ranking of every responsible unit (10,000), the year-end assessment (every
/// quarter scored and weighed; the generated problems fall in one or two quarters) and a month's KPIs.
async fn scoring(ctx: &Ctx<'_>, want: &impl Fn(&str) -> bool) -> anyhow::Result<()> {
    use crate::domain::score::Class;
    let db = ctx.db;
    // Cold: no closed week kept (the first reading after a change under it); warm: the closed
    // weeks read from their kept figures, as every reading after the first.
    let forget = || async { sqlx::query("DELETE FROM score_weeks").execute(&db.pool).await };
    if want("ranking") {
        let last_week = crate::domain::time::to_local(now_ms() - 7 * DAY_MS).date_naive();
        for (name, cold) in [("ranking_week_10000_units_cold", true), ("ranking_week_10000_units", false)] {
            let samples = time(5, || async {
                if cold {
                    forget().await?;
                }
                let week = crate::service::scoring::SpanKind::Week;
                let r = crate::service::scoring::ranking(db, Class::Unit, week, last_week).await?;
                anyhow::ensure!(r.lines.len() >= BENCH_UNITS, "ranked {} units", r.lines.len());
                Ok(r)
            })
            .await?;
            report(name, samples, None);
        }
        // The background jobs' rebuild of forgotten weeks (one round of 8, newest first).
        forget().await?;
        let started = Instant::now();
        let weeks = crate::service::scoring::keep_weeks(db, now_ms(), 8).await?;
        let secs = started.elapsed().as_secs_f64();
        println!(
            "{}",
            json!({"name": "keep_weeks_one_job_round", "weeks": weeks, "seconds": (secs * 100.0).round() / 100.0,
                   "ms_per_week": (secs * 1000.0 / weeks.max(1) as f64).round()})
        );
    }
    if want("annual") {
        let year = crate::domain::time::to_local(now_ms()).year();
        for (name, cold) in [("annual_assessment_10000_units_cold", true), ("annual_assessment_10000_units", false)] {
            let samples = time(3, || async {
                if cold {
                    forget().await?;
                }
                let y = crate::service::scoring::year_assessment(db, Class::Unit, year).await?;
                anyhow::ensure!(y.lines.len() >= BENCH_UNITS, "assessed {} units", y.lines.len());
                Ok(y)
            })
            .await?;
            report(name, samples, None);
        }
        annual_after_changes(ctx, year).await?;
    }
    if want("kpi") {
        kpis(ctx, db).await?;
    }
    Ok(())
}

/// The year-end assessment as readers meet it between the jobs' rounds: after one fact changed
/// under a closed week (it forgets the weeks whose figures reach that fact: its own and those
/// whose repeat look-back holds it), and after next year's holidays are loaded in December
/// (they forget no week of this year). Each change is made untimed; the read after it is timed.
async fn annual_after_changes(ctx: &Ctx<'_>, year: i32) -> anyhow::Result<()> {
    use crate::domain::calendar::{SpecialDay, YearData};
    use crate::domain::score::Class;
    let db = ctx.db;
    let kept = || async {
        sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM score_weeks WHERE class = 'unit' AND sums IS NOT NULL")
            .fetch_one(&db.pool)
            .await
    };
    let assess = || async {
        let y = crate::service::scoring::year_assessment(db, Class::Unit, year).await?;
        anyhow::ensure!(y.lines.len() >= BENCH_UNITS, "assessed {} units", y.lines.len());
        Ok(())
    };
    assess().await?;
    let (mut samples, mut forgotten) = (Vec::new(), Vec::new());
    for i in 0..3i64 {
        // A problem found 90, 83 and 76 days ago has its category corrected.
        let at = now_ms() - (90 - 7 * i) * DAY_MS;
        let id: String = sqlx::query_scalar(
            "SELECT id FROM problems WHERE found_at >= $1 AND found_at < $2 ORDER BY found_at LIMIT 1",
        )
        .bind(at)
        .bind(at + DAY_MS)
        .fetch_one(&db.pool)
        .await?;
        let before = kept().await?;
        sqlx::query("UPDATE problems SET category = category || '' WHERE id = $1").bind(&id).execute(&db.pool).await?;
        forgotten.push(before - kept().await?);
        let t = Instant::now();
        assess().await?;
        samples.push(t.elapsed());
    }
    report("annual_assessment_after_one_change", samples, None);
    println!("{}", json!({"name": "annual_assessment_weeks_forgotten_per_change", "weeks": forgotten}));
    let next = year + 1;
    let data = YearData {
        year: next,
        source: "bench".into(),
        holidays: vec![SpecialDay { date: format!("{next}-01-01"), name: "元旦".into() }],
        workdays: vec![],
    };
    let before = kept().await?;
    crate::service::calendar::import_year(ctx, data).await?;
    let left = kept().await?;
    let samples = time(3, assess).await?;
    report("annual_assessment_after_next_years_holidays", samples, None);
    println!(
        "{}",
        json!({"name": "annual_assessment_weeks_kept_after_next_years_holidays", "before": before, "after": left})
    );
    Ok(())
}

/// The KPI page of all units: a month read cold, kept and after one day changed, the last
/// calendar month (the monthly report) with its parts, and the writer held to keep a month.
async fn kpis(ctx: &Ctx<'_>, db: &Db) -> anyhow::Result<()> {
    // The last 30 days as the page and the API ask for them: whole days, today the last (both
    // take dates; an earlier bench read from this minute 30 days ago, which no request can).
    // Cold: no past day is kept (the first reader after a change to every day, or after the
    // upgrade); the reading computes and keeps them. Warm: the past days are read kept, today
    // is computed.
    let today = crate::store::kpi_days::day_of(now_ms());
    let days_30 = || (crate::store::kpi_days::day_start(today - 29), crate::store::kpi_days::day_start(today + 1));
    for (name, cold) in [("kpi_all_units_month_cold", true), ("kpi_all_units_month", false)] {
        let samples = time(5, || async {
            if cold {
                crate::store::kpi_days::forget_all(db).await?;
            }
            Ok(crate::service::kpi::report(ctx, days_30(), false, None).await?)
        })
        .await?;
        report(name, samples, None);
    }
    // The office's usual reading: one past day changed since the last reader (a problem of
    // yesterday closed), so that day and its week are computed again.
    let yesterday = crate::store::kpi_days::day_of(now_ms()) - 1;
    let samples = time(5, || async {
        sqlx::query("DELETE FROM kpi_days WHERE (day = $1 AND span = 1) OR (day = $2 AND span = 7)")
            .bind(yesterday)
            .bind(crate::store::kpi_days::monday_of(yesterday))
            .execute(&db.pool)
            .await?;
        Ok(crate::service::kpi::report(ctx, days_30(), false, None).await?)
    })
    .await?;
    report("kpi_all_units_month_one_day_changed", samples, None);
    // The monthly report (月度): the last calendar month, read as one kept month once the
    // background jobs (here the first reading) kept its days.
    use crate::store::kpi_days::{day_of, day_start, fill_month, month_of};
    let (first, span) = month_of(month_of(today).0 - 1);
    crate::service::kpi::report(ctx, (day_start(first), day_start(first + span)), false, None).await?;
    let samples = time(5, || async {
        Ok(crate::service::kpi::report(ctx, (day_start(first), day_start(first + span)), false, None).await?)
    })
    .await?;
    report("kpi_all_units_last_calendar_month", samples, None);
    // The KPI page as it opens: this month's whole days, up to the end of today.
    let this_month = month_of(day_of(now_ms())).0;
    let samples = time(5, || async {
        Ok(crate::service::kpi::report(ctx, (day_start(this_month), day_start(day_of(now_ms()) + 1)), false, None)
            .await?)
    })
    .await?;
    report("kpi_all_units_this_month_page_default", samples, None);
    // Its parts: the kept month's 10,000 lines, and the reporting rate beside them.
    let samples = time(5, || async {
        let valid = crate::store::kpi_days::valid_blocks(db, first, first + span, now_ms()).await?;
        anyhow::ensure!(valid.contains(&(first, span)), "the month is kept");
        Ok(crate::store::kpi_days::read(db, &[(first, span)], None, false).await?)
    })
    .await?;
    report("kpi_part_kept_month_read", samples, None);
    let month_days = |d: i64| crate::domain::time::to_local(day_start(d)).date_naive();
    let samples = time(5, || async {
        Ok(crate::service::weekly_summaries::rates_by(db, month_days(first), month_days(first + span - 1), false)
            .await?)
    })
    .await?;
    report("kpi_part_reporting_rate", samples, None);
    // Summing a month from its kept weeks and days, inside one write (the writer is held).
    let samples = time(3, || async {
        anyhow::ensure!(fill_month(db, first, now_ms()).await?, "the month's days are kept");
        Ok(())
    })
    .await?;
    report("kpi_keep_one_month_writer_held", samples, None);
    Ok(())
}

/// The hourly refresh of the planner's statistics when the tables have not moved much, and
/// the longest a write waited for the writer meanwhile.
async fn statistics_refresh_beside_writes(db: &Db) -> anyhow::Result<()> {
    let refresh = {
        let db = db.clone();
        tokio::spawn(async move {
            let started = Instant::now();
            let analyzed = db.refresh_statistics().await;
            (started.elapsed(), analyzed)
        })
    };
    let mut longest = Duration::ZERO;
    while !refresh.is_finished() {
        let started = Instant::now();
        let tx = db.begin().await?;
        tx.commit().await?;
        longest = longest.max(started.elapsed());
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let (took, analyzed) = refresh.await?;
    println!(
        "{}",
        json!({"name": "statistics_refresh_hourly", "seconds": took.as_secs_f64(), "tables_analyzed": analyzed?.len(),
               "longest_write_wait_ms": longest.as_secs_f64() * 1000.0})
    );
    Ok(())
}

/// The office's dashboard (数据看板, the big screen reads the same figures) for this week and this
/// month, for the whole city and for one street: every figure read from the records, and the
/// ranking part alone, since it is the dearest.
async fn dashboard(ctx: &Ctx<'_>) -> anyhow::Result<()> {
    use crate::service::dashboard::{Request, forget_rankings, read};
    let street = busiest_street(ctx.db).await?;
    // Warm: the ranking was computed in the last minute (every view after the first); cold: it
    // is computed with the rest.
    for (name, period, area, cold) in [
        ("dashboard_week_city", "week", None, false),
        ("dashboard_week_city_cold", "week", None, true),
        ("dashboard_month_city", "month", None, false),
        ("dashboard_month_city_cold", "month", None, true),
        ("dashboard_week_street", "week", street.clone(), false),
    ] {
        let req = Request { period: Some(period.into()), area_id: area, gcj: false };
        read(ctx, &req).await?;
        let samples = time(5, || async {
            if cold {
                forget_rankings(ctx.db);
            }
            let d = read(ctx, &req).await?;
            anyhow::ensure!(!d.trend.is_empty(), "no days on the dashboard");
            Ok(d)
        })
        .await?;
        report(name, samples, None);
    }
    // The month at its last evening (22:00 on the last day of the previous month): its whole
    // month read, 29 past days and that day; the dates of this run cannot show it otherwise.
    let month = crate::service::scoring::span_of(
        crate::service::scoring::SpanKind::Month,
        crate::domain::time::to_local(now_ms()).date_naive(),
    );
    let evening = month.from - 2 * 3_600_000;
    let req = Request { period: Some("month".into()), area_id: None, gcj: false };
    crate::service::dashboard::read_at(ctx, &req, evening).await?;
    let samples = time(5, || async {
        let d = crate::service::dashboard::read_at(ctx, &req, evening).await?;
        anyhow::ensure!(d.trend.len() >= 28, "a whole month on the dashboard: {} days", d.trend.len());
        Ok(d)
    })
    .await?;
    report("dashboard_month_city_at_months_end", samples, None);
    let week = crate::service::scoring::span_of(
        crate::service::scoring::SpanKind::Week,
        crate::domain::time::to_local(now_ms()).date_naive(),
    );
    let samples = time(5, || async {
        Ok(crate::service::scoring::ranking_of(ctx.db, crate::domain::score::Class::Unit, week.clone()).await?)
    })
    .await?;
    report("dashboard_part_ranking_this_week", samples, None);
    // The week's other reads, one at a time (the page runs them side by side).
    let this_week = ProblemFilter { from_ms: Some(week.from), to_ms: Some(week.to), ..Default::default() };
    let samples =
        time(5, || async { Ok(crate::store::dashboard::per_point(ctx.db, &this_week, now_ms(), 10).await?) }).await?;
    report("dashboard_part_per_point_week", samples, None);
    let samples = time(5, || async { Ok(crate::store::dashboard::per_category(ctx.db, &this_week).await?) }).await?;
    report("dashboard_part_per_category_week", samples, None);
    let dispatched =
        ProblemFilter { dispatched_from: Some(week.from), dispatched_to: Some(week.to), ..Default::default() };
    let samples =
        time(5, || async { Ok(crate::service::kpi::counts(ctx.db, &dispatched, true, now_ms()).await?) }).await?;
    report("dashboard_part_handling_week", samples, None);
    Ok(())
}

/// The start page (今日待办) of each kind of user: what they see first after signing in.
async fn start_pages(db: &Db) -> anyhow::Result<()> {
    for who in ["admin", "supervisor", "unit", "lead", "grid"] {
        let account = crate::store::users::by_username(db, who).await?.context("demo account")?;
        let user = CurrentUser::signed_in(&account);
        let ctx = Ctx { db, user: &user, request_id: "bench" };
        let samples = time(10, || async { Ok(crate::service::today::todo(&ctx).await?) }).await?;
        report(&format!("start_page_{who}"), samples, None);
    }
    Ok(())
}

/// Generating the weekly notice (周通报) of a past week: its figures, ranking and overdue table
/// from the records. A week has one notice: each reading takes a past week without one. Cold:
/// the week's KPI days are computed in the request (a week no reading or background job has
/// kept since a deadline under it passed); kept: as on a Monday, when the background jobs have
/// kept last week's scores and days, here by a reading of the week's ranking before the timing.
async fn notices(ctx: &Ctx<'_>, years: u32) -> anyhow::Result<()> {
    use crate::domain::notice::NoticeKind;
    use crate::domain::score::Class;
    use crate::service::scoring::{SpanKind, span_of};
    // The most recent past weeks without a weekly notice (a period has one: the demo's and
    // earlier runs' took some), inside the generated span, so that a notice lists what the
    // generator filed (a week before the 90 days of the stress case would be empty).
    let today = crate::domain::time::to_local(now_ms()).date_naive();
    let span_days = if years == 0 { 90 } else { 365 * i64::from(years) };
    let mut free = Vec::new();
    for weeks_ago in 1..=span_days / 7 {
        let day = today - chrono::Duration::days(7 * weeks_ago);
        let week = span_of(SpanKind::Week, day);
        if week.from < now_ms() - span_days * DAY_MS || free.len() == 6 {
            break;
        }
        let taken =
            crate::store::notices::overlapping(ctx.db, NoticeKind::Weekly, Class::Unit, week.from, week.to).await?;
        if taken.is_empty() {
            free.push(day);
        }
    }
    anyhow::ensure!(
        free.len() >= 3,
        "fewer than three past weeks inside the generated span have no weekly notice: generate the bench database again"
    );
    let generate = |day: chrono::NaiveDate| async move {
        crate::service::notices::generate(ctx, NoticeKind::Weekly, Class::Unit, day)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))
    };
    let kept: Vec<chrono::NaiveDate> = free.split_off(3);
    let mut days = free.into_iter();
    let samples = time(3, || generate(days.next().expect("three free weeks"))).await?;
    report("notice_weekly_generate", samples, None);
    if kept.len() < 3 {
        println!(
            "{}",
            json!({"name": "notice_weekly_generate_kept", "skipped": "fewer than six past weeks without a notice"})
        );
        return Ok(());
    }
    for day in &kept {
        // The week's ranking read once keeps its scores and its KPI days, as the background
        // jobs (`scoring::keep_weeks`, `kpi::keep_recent`) keep last week's.
        crate::service::scoring::ranking(ctx.db, Class::Unit, SpanKind::Week, *day)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
    }
    let mut days = kept.into_iter();
    let samples = time(3, || generate(days.next().expect("three kept weeks"))).await?;
    report("notice_weekly_generate_kept", samples, None);
    Ok(())
}

/// The ledger's first page with three filters (open states, a unit, a source), deep paging and
/// the most-urgent-first sort.
async fn ledger_pages(db: &Db, unit: &str) -> anyhow::Result<()> {
    let filter = ProblemFilter {
        states: Some(vec![crate::domain::problem::State::Dispatched, crate::domain::problem::State::Acknowledged]),
        unit_id: Some(unit.to_string()),
        source: Some(crate::domain::problem::Source::Supervision),
        ..Default::default()
    };
    let samples = first_pages(db, &filter, Sort::FoundDesc, 50).await?;
    report("ledger_first_page_3_filters", samples, None);
    // Walking 50 pages deep by cursor: each page costs what the first does.
    let everything = ProblemFilter::default();
    let mut seek = Seek::First;
    let mut samples = Vec::new();
    for _ in 0..50 {
        let t = Instant::now();
        let page = store::list_keyset(db, &everything, Sort::FoundDesc, &seek, 20).await?;
        samples.push(t.elapsed());
        let Some(next) = page.next else { break };
        let (k, id) = next.split_once('_').context("cursor")?;
        seek = Seek::After(k.parse()?, id.to_string());
    }
    report("ledger_next_pages_keyset_unfiltered", samples, None);
    let samples = first_pages(db, &filter, Sort::DeadlineAsc, 20).await?;
    report("ledger_first_page_3_filters_by_deadline", samples, None);
    let samples = first_pages(db, &filter, Sort::FoundAsc, 20).await?;
    report("ledger_first_page_3_filters_oldest_first", samples, None);
    // The office's ledger as it opens: everything, newest first, counted up to the cap.
    let samples = first_pages(db, &everything, Sort::FoundDesc, 20).await?;
    report("ledger_first_page_unfiltered", samples, None);
    // Overdue now (the 超期 quick filter), most urgent first.
    let overdue = ProblemFilter { overdue_at: Some(now_ms()), ..Default::default() };
    let samples = first_pages(db, &overdue, Sort::DeadlineAsc, 20).await?;
    report("ledger_first_page_overdue_by_deadline", samples, None);
    // Last month, one source, oldest first (a month's review).
    let month = ProblemFilter {
        from_ms: Some(now_ms() - 60 * DAY_MS),
        to_ms: Some(now_ms() - 30 * DAY_MS),
        source: Some(crate::domain::problem::Source::GridPatrol),
        ..Default::default()
    };
    let samples = first_pages(db, &month, Sort::FoundAsc, 20).await?;
    report("ledger_first_page_a_month_one_source", samples, None);
    // One point's history (the point's page).
    let point: String =
        sqlx::query_scalar("SELECT point_id FROM problems ORDER BY found_at DESC LIMIT 1").fetch_one(&db.pool).await?;
    let at_point = ProblemFilter { point_id: Some(point), ..Default::default() };
    let samples = first_pages(db, &at_point, Sort::FoundDesc, 20).await?;
    report("ledger_first_page_one_point", samples, None);
    // The street holding most points (all its communities), newest first and overdue by deadline.
    if let Some(street) = busiest_street(db).await? {
        let area = Some(crate::store::org::subtree_ids(db, &street).await?);
        let in_street = ProblemFilter { area_ids: area.clone(), ..Default::default() };
        let samples = first_pages(db, &in_street, Sort::FoundDesc, 20).await?;
        report("ledger_first_page_one_street", samples, None);
        let overdue = ProblemFilter { area_ids: area, overdue_at: Some(now_ms()), ..Default::default() };
        let samples = first_pages(db, &overdue, Sort::DeadlineAsc, 20).await?;
        report("ledger_first_page_one_street_overdue_by_deadline", samples, None);
    }
    other_lists(db).await
}

/// The street holding the most points (the generated city spreads its points over every
/// community; a database generated before that holds them all in one street).
async fn busiest_street(db: &Db) -> anyhow::Result<Option<String>> {
    Ok(sqlx::query_scalar(
        "SELECT s.id FROM org_nodes s JOIN org_nodes c ON c.parent_id = s.id JOIN points p ON p.community_id = c.id \
         WHERE s.level = 'street' GROUP BY s.id, s.code ORDER BY COUNT(*) DESC, s.code LIMIT 1",
    )
    .fetch_optional(&db.pool)
    .await?)
}

/// The other lists an office opens: points (100,000), units (10,000) and the audit log, each
/// first page with its count.
async fn other_lists(db: &Db) -> anyhow::Result<()> {
    use crate::store::{audit, points, units};
    let page = crate::store::PageReq { page: 1, size: 20 };
    let samples = time(20, || async { Ok(points::list(db, &points::PointFilter::default(), page).await?) }).await?;
    report("points_first_page", samples, None);
    let f = points::PointFilter { keyword: Some("解放".into()), ..Default::default() };
    let samples = time(20, || async { Ok(points::list(db, &f, page).await?) }).await?;
    report("points_first_page_keyword", samples, None);
    let samples = time(20, || async { Ok(units::list(db, &units::UnitFilter::default(), page).await?) }).await?;
    report("units_first_page", samples, None);
    let samples = time(20, || async { Ok(audit::list(db, &audit::AuditFilter::default(), page).await?) }).await?;
    report("audit_first_page", samples, None);
    Ok(())
}

/// Times the first page of the ledger under a filter and a sort, `runs` times.
async fn first_pages(db: &Db, f: &ProblemFilter, sort: Sort, runs: usize) -> anyhow::Result<Vec<Duration>> {
    time(runs, || async { Ok(store::list_keyset(db, f, sort, &Seek::First, 20).await?) }).await
}

/// Keyword search: a common word over everything, two words inside one unit.
async fn keyword_search(db: &Db, unit: &str, problems: u64) -> anyhow::Result<()> {
    let kw = ProblemFilter { keyword: Some("井盖".into()), ..Default::default() };
    let samples = first_pages(db, &kw, Sort::FoundDesc, 20).await?;
    report("keyword_search", samples, None);
    let kw = ProblemFilter {
        keyword: Some("黄土裸露 绿化带".into()),
        unit_id: Some(unit.to_string()),
        ..Default::default()
    };
    let samples = first_pages(db, &kw, Sort::FoundDesc, 20).await?;
    report("keyword_search_two_terms_one_unit", samples, None);
    // A rare word: one problem's number (a caller quoting it). The digits stand between two
    // characters of the term, so they are a whole word of the token index.
    // (第4321987号 at ten million, the same place in the numbering at other sizes.)
    let number = problems.max(1) * 4_321_987 / 10_000_000;
    let kw = ProblemFilter { keyword: Some(format!("第{number}号")), ..Default::default() };
    let samples = first_pages(db, &kw, Sort::FoundDesc, 3).await?;
    report("keyword_search_rare", samples, None);
    Ok(())
}

/// Intake over HTTP: 16 concurrent clients filing through the JSON API, then the kill -9 check.
/// API tokens of `n` supervisors (`bench-sup-0`, …; created once): a server takes one upload
/// at a time per account, so concurrent clients are different people, as in the field.
pub(crate) async fn supervisor_tokens(
    db: &Db,
    client: &reqwest::Client,
    base: &str,
    n: usize,
) -> anyhow::Result<Vec<String>> {
    const PASSWORD: &str = "Bench-Intake-2026";
    let admin = crate::store::users::by_username(db, "admin").await?.context("admin account")?;
    let user = CurrentUser::signed_in(&admin);
    let ctx = Ctx { db, user: &user, request_id: "bench" };
    let mut tokens = Vec::with_capacity(n);
    for i in 0..n {
        let username = format!("bench-sup-{i}");
        if crate::store::users::by_username(db, &username).await?.is_none() {
            let input = crate::service::users::UserInput {
                username: username.clone(),
                display_name: format!("基准督查员{i}"),
                role: "supervisor".into(),
                password: PASSWORD.into(),
                ..Default::default()
            };
            crate::service::users::create(&ctx, input).await.map_err(|e| anyhow::anyhow!("{e}"))?;
        }
        tokens.push(api_token(client, base, &username, PASSWORD).await?);
    }
    Ok(tokens)
}

/// An API token of `username`, signed in over the API.
pub(crate) async fn api_token(
    client: &reqwest::Client,
    base: &str,
    username: &str,
    password: &str,
) -> anyhow::Result<String> {
    let login: serde_json::Value = client
        .post(format!("{base}/api/v1/auth/login"))
        .json(&json!({"username": username, "password": password}))
        .send()
        .await?
        .json()
        .await?;
    Ok(login["token"].as_str().context("login")?.to_string())
}

/// An API token of the demo supervisor (who sees the whole ledger and the reports; the bench's
/// server requires two-step sign-in of administrators).
pub(crate) async fn supervisor_token(client: &reqwest::Client, base: &str) -> anyhow::Result<String> {
    api_token(client, base, "supervisor", crate::demo::DEFAULT_PASSWORD).await
}

async fn intake_and_durability(config: Config, db: &Db, intake: u64) -> anyhow::Result<()> {
    let config_for_child = config.clone();
    let app = Application::with_db(config, db.clone()).await?;
    let base = format!("http://{}", app.local_addr());
    tokio::spawn(app.run_until_stopped());
    let client = reqwest::Client::new();
    let tokens = supervisor_tokens(db, &client, &base, 16).await?;
    let points: Vec<String> = sqlx::query_scalar("SELECT id FROM points").fetch_all(&db.pool).await?;
    // The limit intake is held to, on the same disk in the same run: single-row commits, each
    // synced (SQLite FULL in WAL mode; PostgreSQL's synchronous_commit = on).
    let raw = ratings::raw_commits(&config_for_child, db).await?;
    // The ceiling of this machine for any request: the same server and its 16 clients fetching
    // a small embedded file (no database, no JSON), in the same run.
    let bare = ratings::bare_handler(&base).await?;
    let (commits0, writes0) = writer_counts(db);
    let cpu0 = process_cpu_seconds();
    let started = Instant::now();
    let mut tasks = Vec::new();
    // 上级交办 filings: an inspection's filing needs a photo, and photo intake is measured by
    // `bench --only evidence`; this measures the ledger's write path.
    for worker in 0..16u64 {
        let (client, base, token, points) =
            (client.clone(), base.clone(), tokens[worker as usize].clone(), points.clone());
        tasks.push(tokio::spawn(async move {
            let mut samples = Vec::new();
            let mut i = worker;
            while i < intake {
                let body = json!({"point_id": points[i as usize % points.len()], "category": "基准", "description": format!("并发登记{i}"),
                    "source": "assigned", "allow_duplicate": true});
                let t = Instant::now();
                let r = client.post(format!("{base}/api/v1/problems")).bearer_auth(&token).json(&body).send().await?;
                anyhow::ensure!(r.status().as_u16() == 201, "intake answered {}", r.status());
                samples.push(t.elapsed());
                i += 16;
            }
            Ok::<_, anyhow::Error>(samples)
        }));
    }
    let mut samples = Vec::new();
    for t in tasks {
        samples.extend(t.await??);
    }
    let secs = started.elapsed().as_secs_f64();
    let n = samples.len() as f64;
    let cpu = process_cpu_seconds() - cpu0;
    let (commits, writes) = writer_counts(db);
    report("intake_http_16_clients", samples, Some(n / secs));
    println!(
        "{}",
        json!({
            "name": "intake_vs_raw_durable_commits",
            "backend": db.backend.name(),
            "filings_per_s": (n / secs).round(),
            "raw_commits_per_s": raw.round(),
            "ratio": (n / secs / raw * 100.0).round() / 100.0,
            "target_ratio": 2.0,
            "bare_http_handler_per_s": bare.round(),
            // What even an empty request reaches against the raw commits: the most any
            // filing could reach on this machine with the clients beside the server.
            "bare_http_handler_vs_raw": (bare / raw * 100.0).round() / 100.0,
            "share_of_bare_http_handler": (n / secs / bare * 100.0).round() / 100.0,
            // The whole bench process: the server and its 16 HTTP clients.
            "cpu_ms_per_filing": (cpu * 1000.0 / n * 100.0).round() / 100.0,
            "group_commits": commits - commits0,
            "mean_writes_per_commit": if commits > commits0 { ((writes - writes0) as f64 / (commits - commits0) as f64 * 10.0).round() / 10.0 } else { 0.0 },
        })
    );
    kill9_durability(&config_for_child, db, &points).await
}

/// The writer's group commits and the writes they carried so far.
fn writer_counts(db: &Db) -> (u64, u64) {
    use std::sync::atomic::Ordering::Relaxed;
    (db.writer_stats.commits.load(Relaxed), db.writer_stats.writes.load(Relaxed))
}

/// CPU time (user + system) this process has used, from /proc (0 where there is none).
fn process_cpu_seconds() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else { return 0.0 };
    // Fields after the command name (which may hold spaces) in parentheses; utime and stime
    // are the 14th and 15th fields, in clock ticks (100 a second on Linux).
    let Some(rest) = stat.rsplit(')').next() else { return 0.0 };
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    (ticks(11) + ticks(12)) / 100.0
}

/// Files problems into a separate server process from 16 clients, kills it with SIGKILL in the
/// middle, and checks that every problem it acknowledged (201) is in the database.
async fn kill9_durability(config: &Config, db: &Db, points: &[String]) -> anyhow::Result<()> {
    let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    let base = format!("http://127.0.0.1:{port}");
    let mut child = tokio::process::Command::new(std::env::current_exe()?)
        .arg("serve")
        .args(["--database-url", &config.database_url])
        .args(["--data-dir", &config.data_dir.display().to_string()])
        .args(["--addr", &format!("127.0.0.1:{port}")])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .context("start the server process")?;
    let client = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    while client.get(format!("{base}/healthz")).send().await.map(|r| !r.status().is_success()).unwrap_or(true) {
        anyhow::ensure!(Instant::now() < deadline, "the server process did not start");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let tokens = supervisor_tokens(db, &client, &base, 16).await?;
    let acknowledged = std::sync::Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let mut tasks = Vec::new();
    for (worker, token) in tokens.into_iter().enumerate() {
        let (client, base, points, acked) = (client.clone(), base.clone(), points.to_vec(), acknowledged.clone());
        tasks.push(tokio::spawn(async move {
            for i in (worker..).step_by(16) {
                let body = json!({"point_id": points[i % points.len()], "category": "断电测试", "description": format!("强杀前登记{i}"),
                    "source": "assigned", "allow_duplicate": true});
                let Ok(r) = client.post(format!("{base}/api/v1/problems")).bearer_auth(&token).json(&body).send().await else {
                    return; // the server is gone
                };
                if r.status().as_u16() != 201 {
                    return;
                }
                let Ok(v) = r.json::<serde_json::Value>().await else { return };
                if let Some(id) = v["id"].as_str() {
                    acked.lock().expect("ids").push(id.to_string());
                }
            }
        }));
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    child.start_kill()?; // SIGKILL: no shutdown code runs
    child.wait().await?;
    for t in tasks {
        let _ = t.await;
    }
    let ids = acknowledged.lock().expect("ids").clone();
    let mut found = 0i64;
    for chunk in ids.chunks(500) {
        let sql = format!("SELECT COUNT(*) FROM problems WHERE id IN ({})", crate::store::marks(1, chunk.len()));
        let mut q = sqlx::query_scalar::<_, i64>(&sql);
        for id in chunk {
            q = q.bind(id);
        }
        found += q.fetch_one(&db.pool).await?;
    }
    let missing = ids.len() as i64 - found;
    println!("{}", json!({"name": "intake_kill9_durability", "acknowledged": ids.len(), "missing": missing}));
    anyhow::ensure!(!ids.is_empty(), "no problem was acknowledged before the kill");
    anyhow::ensure!(missing == 0, "{missing} acknowledged problems were lost by kill -9");
    Ok(())
}
