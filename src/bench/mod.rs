//! `chuangcheng bench`: fills a fresh database with generated problems over the demo city and
//! prints one JSON object per measurement: {"name", "n", "p50_ms", "p95_ms", "ops_per_s"}.

use crate::app::{Application, open_db};
use crate::config::Config;
use crate::domain::ids::new_id;
use crate::domain::role::Role;
use crate::domain::time::{DAY_MS, now_ms};
use crate::service::{Ctx, CurrentUser};
use crate::store::problems::{self as store, Problem, ProblemFilter};
use crate::store::{Db, PageReq};
use anyhow::Context;
use serde_json::json;
use std::time::{Duration, Instant};

const WORDS: [&str; 8] =
    ["积存垃圾", "路面破损", "乱停放", "小广告", "绿化带黄土裸露", "井盖缺失", "占道经营", "楼道堆物"];
const STATES: [&str; 10] = [
    "closed",
    "closed",
    "closed",
    "closed",
    "acknowledged",
    "acknowledged",
    "dispatched",
    "dispatched",
    "submitted",
    "voided",
];
const SOURCES: [&str; 4] = ["supervision", "grid_patrol", "evaluation", "supervision"];

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

/// Generated problems: spread over the demo points, the last 90 days and every state.
async fn generate(db: &Db, n: u64) -> anyhow::Result<()> {
    let points: Vec<(String, String, String)> =
        sqlx::query_as("SELECT id, unit_id, lead_name FROM points").fetch_all(&db.pool).await?;
    let now = now_ms();
    let started = Instant::now();
    let mut done = 0u64;
    while done < n {
        let mut tx = db.begin().await?;
        for i in done..(done + 10_000).min(n) {
            let (point, unit, lead) = &points[(i as usize * 7919) % points.len()];
            let found = now - ((i * 7_777_777) % (90 * DAY_MS as u64)) as i64;
            let state = STATES[(i % 10) as usize];
            let deadline = found + 8 * 3_600_000;
            let closed = (state == "closed").then_some(found + ((i % 13) as i64) * 3_600_000);
            let id = new_id();
            let p = Problem {
                code: format!("B{i:09}"),
                point_id: point.clone(),
                unit_id: unit.clone(),
                lead_name: lead.clone(),
                standard_item_id: None,
                category: "市容环境·暴露垃圾".into(),
                severity: "normal".into(),
                source: SOURCES[(i % 4) as usize].into(),
                description: format!("{}（第{}号）", WORDS[(i % 8) as usize], i),
                state: state.into(),
                extension_pending: 0,
                extension_days: 0,
                extensions: (i % 17 == 0) as i64,
                postponed: 0,
                rework_count: (i % 11 == 0) as i64,
                reported_by: None,
                reporter_name: "基准测试".into(),
                found_at: found,
                filed_at: Some(found),
                dispatched_at: Some(found),
                acknowledged_at: (state != "dispatched").then_some(found + 600_000),
                submitted_at: matches!(state, "submitted" | "closed").then_some(found + 3_600_000),
                closed_at: closed,
                voided_at: (state == "voided").then_some(found + 60_000),
                deadline_at: Some(deadline),
                fix_note: String::new(),
                created_at: found,
                updated_at: found,
                version: 1,
                id,
            };
            store::insert(&mut tx, &p).await?;
        }
        tx.commit().await?;
        done = (done + 10_000).min(n);
    }
    let secs = started.elapsed().as_secs_f64();
    println!(
        "{}",
        json!({"name": "generate_problems", "n": n, "seconds": (secs * 10.0).round() / 10.0, "rows_per_s": (n as f64 / secs).round()})
    );
    Ok(())
}

pub async fn run(mut config: Config, problems: u64, intake: u64, reuse: bool) -> anyhow::Result<()> {
    let db_path = config.data_dir.join("bench.db");
    let reuse = reuse && db_path.exists();
    if config.database_url.trim().is_empty() && !reuse {
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", db_path.display()));
        }
    }
    if config.database_url.trim().is_empty() {
        config.database_url = format!("sqlite://{}?mode=rwc", db_path.display());
    }
    config.addr = "127.0.0.1:0".into();
    let db = open_db(&config).await?;
    crate::demo::seed_if_empty(&db, crate::demo::DEFAULT_PASSWORD, 1).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    if !reuse {
        generate(&db, problems).await?;
    }
    let admin = crate::store::users::by_username(&db, "admin").await?.context("admin account")?;
    let user = CurrentUser {
        id: admin.id,
        username: admin.username,
        display_name: admin.display_name,
        role: Role::Admin,
        unit_id: None,
        area_id: None,
        session_id: String::new(),
        csrf: String::new(),
    };
    let ctx = Ctx { db: &db, user: &user, request_id: "bench" };
    let unit: String = sqlx::query_scalar("SELECT unit_id FROM points GROUP BY unit_id ORDER BY COUNT(*) DESC LIMIT 1")
        .fetch_one(&db.pool)
        .await?;

    // The ledger's first page with three filters (open states, a unit, a source).
    let filter = ProblemFilter {
        states: Some(vec!["dispatched".into(), "acknowledged".into()]),
        unit_id: Some(unit.clone()),
        source: Some("supervision".into()),
        ..Default::default()
    };
    let samples = time(50, || async { Ok(store::list(&db, &filter, PageReq::new(Some(1), Some(20))).await?) }).await?;
    report("ledger_first_page_3_filters", samples, None);
    let kw = ProblemFilter { keyword: Some("井盖".into()), ..Default::default() };
    let samples = time(20, || async { Ok(store::list(&db, &kw, PageReq::new(Some(1), Some(20))).await?) }).await?;
    report("keyword_search", samples, None);
    let month = now_ms() - 30 * DAY_MS;
    let samples = time(5, || async { Ok(crate::service::kpi::report(&ctx, month, now_ms(), false).await?) }).await?;
    report("kpi_all_units_month", samples, None);

    // Intake over HTTP: 16 concurrent clients filing through the JSON API.
    let app = Application::with_db(config, db.clone()).await?;
    let base = format!("http://{}", app.local_addr());
    tokio::spawn(app.run_until_stopped());
    let client = reqwest::Client::new();
    let login: serde_json::Value = client
        .post(format!("{base}/api/v1/auth/login"))
        .json(&json!({"username": "supervisor", "password": crate::demo::DEFAULT_PASSWORD}))
        .send()
        .await?
        .json()
        .await?;
    let token = login["token"].as_str().context("login")?.to_string();
    let points: Vec<String> = sqlx::query_scalar("SELECT id FROM points").fetch_all(&db.pool).await?;
    let started = Instant::now();
    let mut tasks = Vec::new();
    for worker in 0..16u64 {
        let (client, base, token, points) = (client.clone(), base.clone(), token.clone(), points.clone());
        tasks.push(tokio::spawn(async move {
            let mut samples = Vec::new();
            let mut i = worker;
            while i < intake {
                let body = json!({"point_id": points[i as usize % points.len()], "category": "基准", "description": format!("并发登记{i}"),
                    "source": "supervision", "allow_duplicate": true});
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
    report("intake_http_16_clients", samples, Some(n / secs));
    Ok(())
}
