//! 好差评 rating intake beside the limit it is held to: a raw loop of single-row transactions,
//! each synced to disk (SQLite `synchronous = FULL` in WAL mode on the same disk as the bench
//! database, or single-row commits on the same PostgreSQL), then 16 clients sending ratings to
//! the device API (one rating per request, then batches of 50), every answer given only after
//! its rating's group commit is on disk. The ratio of the two is printed.

use crate::app::Application;
use crate::config::Config;
use crate::service::{Ctx, CurrentUser};
use crate::store::{Backend, Db};
use serde_json::json;
use sqlx::Executor;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

const CLIENTS: usize = 16;
const SECONDS: u64 = 8;

/// Single-row commits per second, each durable, for `SECONDS`.
pub(super) async fn raw_commits(config: &Config, db: &Db) -> anyhow::Result<f64> {
    let mut conn: sqlx::AnyConnection = match db.backend {
        Backend::Sqlite => {
            let path = config.data_dir.join("raw_commit.db");
            for suffix in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
            }
            let c = Db::connect(&format!("sqlite://{}?mode=rwc", path.display()), 1).await?;
            let mut conn = c.pool.acquire().await?.detach();
            conn.execute("PRAGMA synchronous = FULL").await?;
            conn
        }
        Backend::Postgres => db.pool.acquire().await?.detach(),
    };
    conn.execute("DROP TABLE IF EXISTS bench_raw_commit").await?;
    conn.execute("CREATE TABLE bench_raw_commit (id BIGINT PRIMARY KEY, v TEXT NOT NULL)").await?;
    let started = Instant::now();
    let mut n: i64 = 0;
    while started.elapsed() < Duration::from_secs(SECONDS) {
        conn.execute("BEGIN").await?;
        sqlx::query("INSERT INTO bench_raw_commit (id, v) VALUES ($1, $2)")
            .bind(n)
            .bind("x")
            .execute(&mut conn)
            .await?;
        conn.execute("COMMIT").await?;
        n += 1;
    }
    let rate = n as f64 / started.elapsed().as_secs_f64();
    conn.execute("DROP TABLE bench_raw_commit").await?;
    Ok(rate)
}

/// Ratings acknowledged per second by 16 clients sending `per_request` ratings a request.
async fn intake(base: &str, key: &str, codes: &[String], per_request: usize) -> anyhow::Result<(f64, Vec<Duration>)> {
    let client = reqwest::Client::new();
    let done = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..CLIENTS {
        let (client, base, key, codes, done) =
            (client.clone(), base.to_string(), key.to_string(), codes.to_vec(), done.clone());
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut i = 0usize;
            while started.elapsed() < Duration::from_secs(SECONDS) {
                let ratings: Vec<_> = (0..per_request)
                    .map(|k| {
                        i += 1;
                        // A busy hall's mix: mostly 非常满意, one in fifty bad (a case each).
                        let level = match i % 50 {
                            0 => 1,
                            1..=4 => 3,
                            5..=14 => 4,
                            _ => 5,
                        };
                        json!({"window": codes[(c + k + i) % codes.len()], "level": level, "seq": format!("b{per_request}-{c}-{i}")})
                    })
                    .collect();
                let t = Instant::now();
                let r = client
                    .post(format!("{base}/api/v1/ratings/batch"))
                    .header("x-device-key", &key)
                    .json(&json!({"ratings": ratings}))
                    .send()
                    .await?;
                anyhow::ensure!(r.status().is_success(), "batch answered {}: {}", r.status(), r.text().await?);
                let body: serde_json::Value = r.json().await?;
                done.fetch_add(body["stored"].as_u64().unwrap_or(0), Ordering::Relaxed);
                latencies.push(t.elapsed());
            }
            anyhow::Ok(latencies)
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await??);
    }
    Ok((done.load(Ordering::Relaxed) as f64 / started.elapsed().as_secs_f64(), all))
}

/// The HTTP ceiling of this machine: 16 clients fetching a small embedded file (no database,
/// no JSON) through the same server and middleware, requests per second.
pub(super) async fn bare_handler(base: &str) -> anyhow::Result<f64> {
    let client = reqwest::Client::new();
    let done = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..CLIENTS {
        let (client, url, done) = (client.clone(), format!("{base}/static/favicon.svg"), done.clone());
        tasks.push(tokio::spawn(async move {
            while started.elapsed() < Duration::from_secs(SECONDS / 2) {
                let r = client.get(&url).send().await?;
                anyhow::ensure!(r.status().is_success(), "{url} answered {}", r.status());
                r.bytes().await?;
                done.fetch_add(1, Ordering::Relaxed);
            }
            anyhow::Ok(())
        }));
    }
    for t in tasks {
        t.await??;
    }
    Ok(done.load(Ordering::Relaxed) as f64 / started.elapsed().as_secs_f64())
}

pub async fn run(config: Config, db: &Db) -> anyhow::Result<()> {
    let raw = raw_commits(&config, db).await?;
    println!(
        "{}",
        json!({"name": "raw_single_row_durable_commits", "backend": db.backend.name(), "commits_per_s": raw.round()})
    );
    if crate::store::windows::windows_of(db, None).await?.is_empty() {
        crate::demo::windows::seed(db).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    }
    let windows = crate::store::windows::windows_of(db, None).await?;
    let unit = windows[0].unit_id.clone();
    let codes: Vec<String> = windows.iter().filter(|w| w.unit_id == unit).map(|w| w.code.clone()).collect();
    let admin = crate::store::users::by_username(db, "admin").await?.ok_or_else(|| anyhow::anyhow!("admin"))?;
    let user = CurrentUser::signed_in(&admin);
    let ctx = Ctx { db, user: &user, request_id: "bench" };
    let (_, key) =
        crate::service::windows::issue_device(&ctx, &unit, &format!("基准评价器{}", crate::domain::time::now_ms()))
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
    let app = Application::with_db(config, db.clone()).await?;
    let base = format!("http://{}", app.local_addr());
    tokio::spawn(app.run_until_stopped());
    let bare = bare_handler(&base).await?;
    println!("{}", json!({"name": "bare_http_handler_16_clients", "requests_per_s": bare.round()}));
    use crate::service::ratings::{GROUPED, GROUPS};
    for per_request in [1usize, 10, 50] {
        let (g0, r0) = (GROUPS.load(Ordering::Relaxed), GROUPED.load(Ordering::Relaxed));
        let (rate, latencies) = intake(&base, &key, &codes, per_request).await?;
        let (g, r) = (GROUPS.load(Ordering::Relaxed) - g0, GROUPED.load(Ordering::Relaxed) - r0);
        let mean_group = if g == 0 { 0.0 } else { r as f64 / g as f64 };
        super::report(&format!("rating_intake_{CLIENTS}_clients_{per_request}_per_request"), latencies, Some(rate));
        println!(
            "{}",
            json!({
                "name": format!("rating_intake_vs_raw_durable_commits_{per_request}_per_request"),
                "backend": db.backend.name(),
                "ratings_per_s": rate.round(),
                "raw_commits_per_s": raw.round(),
                "ratio": (rate / raw * 100.0).round() / 100.0,
                "requests_per_s": (rate / per_request as f64).round(),
                "share_of_bare_http_handler": (rate / per_request as f64 / bare * 100.0).round() / 100.0,
                "group_commits": g,
                "mean_ratings_per_commit": (mean_group * 10.0).round() / 10.0,
                "target_ratio": 3.0,
            })
        );
    }
    Ok(())
}
