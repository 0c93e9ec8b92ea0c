//! What anonymous traffic costs and whether it slows the office: one public page rendered
//! (uncached, every time a different query) and served from the cache; then the staff ledger's
//! p95 alone and again while 16 anonymous clients (each its own address, through a trusted
//! proxy) read the public pages as fast as they can for 20 s; the ratio is printed.

use super::report;
use crate::app::Application;
use crate::config::Config;
use crate::store::Db;
use serde_json::json;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

const PAGES: [&str; 5] =
    ["/public", "/public/closed", "/public/exposure", "/public/feed.atom", "/open311/v2/requests.json"];

async fn staff_p95(client: &reqwest::Client, base: &str, token: &str, runs: usize) -> anyhow::Result<Vec<Duration>> {
    let mut out = Vec::with_capacity(runs);
    for i in 0..runs {
        // The ledger's first page and the start page's data, as an office user clicks around.
        let path = if i % 2 == 0 { "/api/v1/problems?size=20" } else { "/api/v1/reports" };
        let t = Instant::now();
        let r = client.get(format!("{base}{path}")).bearer_auth(token).send().await?;
        anyhow::ensure!(r.status().is_success(), "{path} answered {}", r.status());
        r.bytes().await?;
        out.push(t.elapsed());
    }
    Ok(out)
}

pub async fn run(config: Config, db: &Db) -> anyhow::Result<()> {
    // With the default per-client limit (most of a burst is turned away with 429), then with no
    // limit at all (every request served: the cache and the two working slots carry it).
    for (label, limit) in [("limited", crate::config::Config::load(None)?.public_per_minute), ("unlimited", u32::MAX)] {
        let mut c = config.clone();
        // The load comes through a proxy on loopback that names each client.
        c.trusted_proxies = vec!["127.0.0.1".into()];
        c.public_per_minute = limit;
        phase(c, db, label, label == "limited").await?;
    }
    Ok(())
}

async fn phase(config: Config, db: &Db, label: &str, pages: bool) -> anyhow::Result<()> {
    let app = Application::with_db(config, db.clone()).await?;
    let base = format!("http://{}", app.local_addr());
    tokio::spawn(app.run_until_stopped());
    let client = reqwest::Client::new();
    if pages {
        one_page(&client, &base).await?;
    }
    load(&client, &base, label).await
}

async fn one_page(client: &reqwest::Client, base: &str) -> anyhow::Result<()> {
    // One anonymous page: rendered (a new query each time defeats the cache) and cached.
    for page in PAGES {
        let mut cold = Vec::new();
        let mut warm = Vec::new();
        for i in 0..30 {
            let sep = if page.contains('?') { '&' } else { '?' };
            let url = format!("{base}{page}{sep}bench={i}");
            let t = Instant::now();
            let r = client.get(&url).header("x-forwarded-for", format!("10.1.0.{i}")).send().await?;
            anyhow::ensure!(r.status().is_success(), "{page} answered {}", r.status());
            r.bytes().await?;
            cold.push(t.elapsed());
            let t = Instant::now();
            let r = client.get(&url).header("x-forwarded-for", format!("10.2.0.{i}")).send().await?;
            r.bytes().await?;
            warm.push(t.elapsed());
        }
        let name = page.trim_start_matches('/').replace(['/', '.'], "_");
        report(&format!("public_page_rendered_{name}"), cold, None);
        report(&format!("public_page_cached_{name}"), warm, None);
    }
    Ok(())
}

async fn load(client: &reqwest::Client, base: &str, label: &str) -> anyhow::Result<()> {
    let token = super::supervisor_token(client, base).await?;
    let alone = staff_p95(client, base, &token, 200).await?;
    let p95 = |s: &mut Vec<Duration>| {
        s.sort();
        s.get(((s.len() as f64 - 1.0) * 0.95).round() as usize).copied().unwrap_or_default().as_secs_f64() * 1000.0
    };
    let mut alone_sorted = alone.clone();
    let alone_p95 = p95(&mut alone_sorted);
    report(&format!("staff_pages_alone_{label}"), alone, None);

    // 16 anonymous clients for 20 s, while the office works.
    let stop = Instant::now() + Duration::from_secs(20);
    let counts: Arc<[AtomicU64; 4]> = Arc::new(Default::default());
    let mut tasks = Vec::new();
    for c in 0..16u64 {
        let (client, base, counts) = (client.clone(), base.to_string(), counts.clone());
        tasks.push(tokio::spawn(async move {
            let mut i = 0u64;
            while Instant::now() < stop {
                // Mostly the pages everyone reads, sometimes a filtered or deeper page.
                let page = PAGES[(i % PAGES.len() as u64) as usize];
                let url =
                    if i % 10 == 9 { format!("{base}{page}?page={}", 2 + c % 3) } else { format!("{base}{page}") };
                i += 1;
                let Ok(r) = client.get(&url).header("x-forwarded-for", format!("10.9.0.{c}")).send().await else {
                    counts[3].fetch_add(1, Ordering::Relaxed);
                    continue;
                };
                let slot = match r.status().as_u16() {
                    200 => 0,
                    429 => 1,
                    503 => 2,
                    _ => 3,
                };
                counts[slot].fetch_add(1, Ordering::Relaxed);
                let _ = r.bytes().await;
            }
        }));
    }
    let started = Instant::now();
    let mut busy = Vec::new();
    while Instant::now() < stop {
        busy.extend(staff_p95(client, base, &token, 10).await?);
    }
    for t in tasks {
        t.await?;
    }
    let secs = started.elapsed().as_secs_f64();
    let mut busy_sorted = busy.clone();
    let busy_p95 = p95(&mut busy_sorted);
    report(&format!("staff_pages_under_anonymous_load_{label}"), busy, None);
    let [ok, limited, refused, failed] = [0, 1, 2, 3].map(|i| counts[i].load(Ordering::Relaxed));
    println!(
        "{}",
        json!({
            "name": format!("anonymous_load_16_clients_20s_{label}"),
            "requests_per_s": ((ok + limited + refused) as f64 / secs).round(),
            "ok": ok, "rate_limited_429": limited, "busy_503": refused, "failed": failed,
            "staff_p95_alone_ms": (alone_p95 * 100.0).round() / 100.0,
            "staff_p95_under_load_ms": (busy_p95 * 100.0).round() / 100.0,
            "ratio": ((busy_p95 / alone_p95.max(0.001)) * 100.0).round() / 100.0,
        })
    );
    Ok(())
}
