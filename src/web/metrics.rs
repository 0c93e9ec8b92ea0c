//! Prometheus metrics for the office's operators at `/metrics` (text format 0.0.4): requests
//! and their latency per route, background job rounds and failures, the webhook queue, the
//! SQLite writer's queue and group commits, and the database pool. Per instance: a scraper asks
//! each instance. Never public: a bearer token (`metrics_token`) or, without one, loopback only.

use super::AppState;
use axum::extract::{ConnectInfo, MatchedPath, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::net::SocketAddr;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Instant;

/// Upper bounds of the latency histogram, in seconds.
const BUCKETS: [f64; 12] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0];

#[derive(Debug, Default, Clone)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

impl Histogram {
    fn observe(&mut self, seconds: f64) {
        for (i, le) in BUCKETS.iter().enumerate() {
            if seconds <= *le {
                self.counts[i] += 1;
            }
        }
        self.count += 1;
        self.sum += seconds;
    }
}

/// This instance's counters.
#[derive(Debug, Default)]
pub struct Metrics {
    /// (method, route template, status) → latency histogram
    http: Mutex<BTreeMap<(String, String, u16), Histogram>>,
    pub job_rounds: AtomicU64,
    pub job_failures: AtomicU64,
}

/// A route's template (`/problems/{id}`), never the raw path: ids must not multiply the series.
fn route_of(req: &Request) -> String {
    match req.extensions().get::<MatchedPath>() {
        Some(p) => p.as_str().to_string(),
        None => "unmatched".into(),
    }
}

/// Counts every request and its latency under its route.
pub async fn record(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let method = req.method().as_str().to_string();
    let route = route_of(&req);
    let started = Instant::now();
    let res = next.run(req).await;
    let seconds = started.elapsed().as_secs_f64();
    let key = (method, route, res.status().as_u16());
    if let Ok(mut http) = state.metrics.http.lock() {
        http.entry(key).or_default().observe(seconds);
    }
    res
}

fn escape(v: &str) -> String {
    v.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

impl Metrics {
    fn render_http(&self, out: &mut String) {
        let http = match self.http.lock() {
            Ok(h) => h.clone(),
            Err(_) => return,
        };
        out.push_str("# HELP chuangcheng_http_requests_total Requests answered, by method, route and status.\n");
        out.push_str("# TYPE chuangcheng_http_requests_total counter\n");
        for ((m, r, s), h) in &http {
            let _ = writeln!(
                out,
                "chuangcheng_http_requests_total{{method=\"{m}\",route=\"{}\",status=\"{s}\"}} {}",
                escape(r),
                h.count
            );
        }
        out.push_str("# HELP chuangcheng_http_request_duration_seconds Time to answer, by method and route.\n");
        out.push_str("# TYPE chuangcheng_http_request_duration_seconds histogram\n");
        let mut by_route: BTreeMap<(String, String), Histogram> = BTreeMap::new();
        for ((m, r, _), h) in http {
            let e = by_route.entry((m, r)).or_default();
            for i in 0..BUCKETS.len() {
                e.counts[i] += h.counts[i];
            }
            e.count += h.count;
            e.sum += h.sum;
        }
        for ((m, r), h) in by_route {
            let labels = format!("method=\"{m}\",route=\"{}\"", escape(&r));
            for (i, le) in BUCKETS.iter().enumerate() {
                let _ = writeln!(
                    out,
                    "chuangcheng_http_request_duration_seconds_bucket{{{labels},le=\"{le}\"}} {}",
                    h.counts[i]
                );
            }
            let _ =
                writeln!(out, "chuangcheng_http_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {}", h.count);
            let _ = writeln!(out, "chuangcheng_http_request_duration_seconds_sum{{{labels}}} {}", h.sum);
            let _ = writeln!(out, "chuangcheng_http_request_duration_seconds_count{{{labels}}} {}", h.count);
        }
    }
}

/// Whether the caller may read the metrics: the configured bearer token, or a loopback peer
/// when no token is configured (a proxy in front forwards from loopback too, so a deployment
/// behind a proxy sets the token).
fn allowed(state: &AppState, headers: &HeaderMap, peer: Option<SocketAddr>) -> bool {
    let token = state.config.metrics_token.trim();
    if token.is_empty() {
        return peer.is_some_and(|p| p.ip().is_loopback()) && headers.get("x-forwarded-for").is_none();
    }
    let given =
        headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).and_then(|v| v.strip_prefix("Bearer "));
    given.is_some_and(|g| constant_time_eq(g.as_bytes(), token.as_bytes()))
}

pub async fn serve(State(state): State<AppState>, parts: axum::http::request::Parts) -> Response {
    let peer = parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0);
    if !allowed(&state, &parts.headers, peer) {
        return (StatusCode::FORBIDDEN, "forbidden\n").into_response();
    }
    let mut out = String::new();
    state.metrics.render_http(&mut out);
    let (m, db, s) = (&state.metrics, &state.db, &state.db.writer_stats);
    let pending: Result<i64, _> =
        sqlx::query_scalar("SELECT COUNT(*) FROM outbox WHERE status = 'pending'").fetch_one(&db.pool).await;
    // (name, type, help, value)
    let figures: [(&str, &str, &str, String); 10] = [
        (
            "chuangcheng_job_rounds_total",
            "counter",
            "Background job rounds run by this instance.",
            m.job_rounds.load(Relaxed).to_string(),
        ),
        (
            "chuangcheng_job_failures_total",
            "counter",
            "Background job rounds that failed.",
            m.job_failures.load(Relaxed).to_string(),
        ),
        (
            "chuangcheng_webhook_queue_depth",
            "gauge",
            "Robot messages waiting to be sent (all instances).",
            pending.unwrap_or(-1).to_string(),
        ),
        (
            "chuangcheng_writer_queue_depth",
            "gauge",
            "Writes waiting for the SQLite writer (0 on PostgreSQL).",
            db.writer_queue().to_string(),
        ),
        (
            "chuangcheng_group_commits_total",
            "counter",
            "SQLite group commits (one disk sync each).",
            s.commits.load(Relaxed).to_string(),
        ),
        (
            "chuangcheng_group_committed_writes_total",
            "counter",
            "Writes carried by the group commits.",
            s.writes.load(Relaxed).to_string(),
        ),
        (
            "chuangcheng_group_failed_writes_total",
            "counter",
            "Writes whose group commit failed.",
            s.failed.load(Relaxed).to_string(),
        ),
        (
            "chuangcheng_db_pool_connections",
            "gauge",
            "Open database connections of this instance.",
            db.pool.size().to_string(),
        ),
        (
            "chuangcheng_db_pool_idle",
            "gauge",
            "Idle database connections of this instance.",
            db.pool.num_idle().to_string(),
        ),
        (
            "chuangcheng_db_pool_max",
            "gauge",
            "Most database connections this instance opens.",
            state.config.db_max_connections.to_string(),
        ),
    ];
    for (name, kind, help, value) in figures {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}");
    }
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], out).into_response()
}

/// Compares without returning at the first difference (a token is not guessed byte by byte).
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
