//! Several instances on one database: problem intake from 16 clients through one instance, then
//! through three instances of this process on the same database (each with its own pool and,
//! on SQLite, its own writer), the clients spread over them without sticky sessions. Both rates
//! in the same run, and their ratio. On this 2-core machine the instances and the load generator
//! share the two cores, so the ratio says what the database allows, not what three machines do.

use crate::app::Application;
use crate::config::Config;
use crate::store::Db;
use serde_json::json;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

const CLIENTS: usize = 16;
const SECONDS: u64 = 8;

async fn start(config: &Config, db: Db) -> anyhow::Result<String> {
    let app = Application::with_db(config.clone(), db).await?;
    let base = format!("http://{}", app.local_addr());
    tokio::spawn(app.run_until_stopped());
    Ok(base)
}

/// Filings acknowledged per second by 16 clients, client i using instance i mod n.
async fn intake(db: &Db, bases: &[String], points: &[String]) -> anyhow::Result<f64> {
    let client = reqwest::Client::new();
    let tokens = super::supervisor_tokens(db, &client, &bases[0], CLIENTS).await?;
    let done = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..CLIENTS {
        let (client, token, done, points) = (client.clone(), tokens[c].clone(), done.clone(), points.to_vec());
        let base = bases[c % bases.len()].clone();
        tasks.push(tokio::spawn(async move {
            let mut i = c;
            while started.elapsed() < Duration::from_secs(SECONDS) {
                let body = json!({"point_id": points[i % points.len()], "category": "基准", "description": format!("多实例登记{i}"),
                    "source": "assigned", "allow_duplicate": true});
                let r = client.post(format!("{base}/api/v1/problems")).bearer_auth(&token).json(&body).send().await?;
                anyhow::ensure!(r.status().as_u16() == 201, "intake answered {}", r.status());
                done.fetch_add(1, Ordering::Relaxed);
                i += CLIENTS;
            }
            Ok::<_, anyhow::Error>(())
        }));
    }
    for t in tasks {
        t.await??;
    }
    Ok(done.load(Ordering::Relaxed) as f64 / started.elapsed().as_secs_f64())
}

pub async fn run(config: Config, db: &Db) -> anyhow::Result<()> {
    let points: Vec<String> =
        sqlx::query_scalar("SELECT id FROM points ORDER BY code LIMIT 2000").fetch_all(&db.pool).await?;
    let url = config.database_url();
    let one = vec![start(&config, db.clone()).await?];
    let rate_one = intake(db, &one, &points).await?;
    let mut three = one.clone();
    for _ in 0..2 {
        let other = Db::connect(&url, config.db_max_connections).await?;
        three.push(start(&config, other).await?);
    }
    let rate_three = intake(db, &three, &points).await?;
    println!(
        "{}",
        json!({
            "name": "intake_three_instances_vs_one",
            "backend": db.backend.name(),
            "one_instance_per_s": rate_one.round(),
            "three_instances_per_s": rate_three.round(),
            "ratio": (rate_three / rate_one * 100.0).round() / 100.0,
            "clients": CLIENTS,
        })
    );
    Ok(())
}
