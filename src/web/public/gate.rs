//! What keeps anonymous traffic from slowing the office's pages: a per-client request limit
//! (429 with a Chinese message), a small number of anonymous requests allowed to work at once
//! (the rest wait briefly, then 503), and a short-lived cache of the public pages that everyone
//! sees alike, so that a crowd reading the 曝光台 costs one rendering every half minute.

use crate::domain::code::Code;
use crate::error::AppError;
use crate::web::AppState;
use crate::web::auth::client_ip;
use crate::web::error::{ApiError, error_page};
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;

/// A handler marks a response as the same for everyone with this header (seconds to keep it).
pub const CACHE_HEADER: &str = "x-cc-public-cache";
/// A client's photo requests a minute, per page request it is allowed.
const PHOTOS_PER_PAGE: u32 = 10;
/// Anonymous requests working at once; the others wait for a turn.
const WORKING: usize = 2;
const WAIT: Duration = Duration::from_secs(3);
/// Clients remembered for the limit, and pages remembered in the cache, at most.
const MAX_CLIENTS: usize = 100_000;
const MAX_PAGES: usize = 2_000;
const MAX_PAGE_BYTES: usize = 2 * 1024 * 1024;
/// All cached pages together hold at most this much (many distinct queries cannot fill memory).
const MAX_CACHE_BYTES: usize = 64 * 1024 * 1024;

struct Cached {
    at: Instant,
    keep: Duration,
    status: StatusCode,
    headers: HeaderMap,
    body: Bytes,
}

pub struct Gate {
    windows: Mutex<HashMap<String, (Instant, u32)>>,
    /// The cached pages and the bytes they hold
    pages: Mutex<(HashMap<String, Cached>, usize)>,
    working: Semaphore,
    /// Reports being filed at once (photo checks use the CPU), taken once the body is read
    filing: Semaphore,
}

impl Default for Gate {
    fn default() -> Self {
        Gate {
            windows: Mutex::default(),
            pages: Mutex::default(),
            working: Semaphore::new(WORKING),
            filing: Semaphore::new(WORKING),
        }
    }
}

impl Gate {
    /// A turn to file a report whose body has been read; None (answer 503) after a wait.
    pub async fn filing_turn(&self) -> Option<tokio::sync::SemaphorePermit<'_>> {
        tokio::time::timeout(Duration::from_secs(20), self.filing.acquire()).await.ok()?.ok()
    }

    /// Counts a request of a client in the current minute; false past the limit.
    fn admit(&self, client: &str, per_minute: u32) -> bool {
        let Ok(mut w) = self.windows.lock() else { return true };
        let now = Instant::now();
        if w.len() >= MAX_CLIENTS {
            w.retain(|_, (start, _)| now.duration_since(*start) < Duration::from_secs(60));
        }
        let e = w.entry(client.to_string()).or_insert((now, 0));
        if now.duration_since(e.0) >= Duration::from_secs(60) {
            *e = (now, 0);
        }
        e.1 += 1;
        e.1 <= per_minute.max(1)
    }

    fn cached(&self, key: &str) -> Option<Response> {
        let pages = self.pages.lock().ok()?;
        let c = pages.0.get(key).filter(|c| c.at.elapsed() < c.keep)?;
        let mut res = Response::new(Body::from(c.body.clone()));
        *res.status_mut() = c.status;
        *res.headers_mut() = c.headers.clone();
        res.headers_mut().insert("x-cache", HeaderValue::from_static("hit"));
        Some(res)
    }

    fn remember(&self, key: String, keep: Duration, status: StatusCode, headers: HeaderMap, body: Bytes) {
        let Ok(mut guard) = self.pages.lock() else { return };
        let (pages, bytes) = &mut *guard;
        if pages.len() >= MAX_PAGES || *bytes + body.len() > MAX_CACHE_BYTES {
            pages.retain(|_, c| c.at.elapsed() < c.keep);
            if pages.len() >= MAX_PAGES
                || pages.values().map(|c| c.body.len()).sum::<usize>() + body.len() > MAX_CACHE_BYTES
            {
                pages.clear();
            }
            *bytes = pages.values().map(|c| c.body.len()).sum();
        }
        *bytes += body.len();
        if let Some(old) = pages.insert(key, Cached { at: Instant::now(), keep, status, headers, body }) {
            *bytes -= old.body.len();
        }
    }

    /// Forgets every cached page (after a change the public should see at once, e.g. a new report).
    pub fn forget(&self) {
        if let Ok(mut p) = self.pages.lock() {
            *p = Default::default();
        }
    }
}

fn refuse(api: bool, code: Code, message: &str) -> Response {
    let status = StatusCode::from_u16(code.status()).unwrap_or(StatusCode::TOO_MANY_REQUESTS);
    let mut res = if api {
        ApiError(AppError::refuse(code, message)).into_response()
    } else {
        error_page(status, message.into())
    };
    res.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("60"));
    res
}

/// The middleware in front of every public page and the Open311 API.
pub async fn guard(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let (parts, body) = req.into_parts();
    let ip = client_ip(&parts, &state.config.trusted_proxies);
    let api = parts.uri.path().starts_with("/open311/") || parts.uri.path().ends_with(".json");
    // A page's photos (a list shows up to 40) are counted apart, with ten times the allowance:
    // counted with the pages, three pages of a list used up a resident's minute.
    let asset = parts.uri.path().starts_with("/public/photos/") || parts.uri.path() == "/public/report/qr.svg";
    let admitted = if asset {
        state.public.admit(&format!("{ip}#photos"), state.config.public_per_minute.saturating_mul(PHOTOS_PER_PAGE))
    } else {
        state.public.admit(&ip, state.config.public_per_minute)
    };
    if !admitted {
        let message = "您的访问过于频繁，请一分钟后再试";
        return open311_aware(api, &parts.uri, refuse(api, Code::RateLimited, message));
    }
    let key = format!("{}?{}", parts.uri.path(), parts.uri.query().unwrap_or(""));
    let get = parts.method == axum::http::Method::GET;
    if get && let Some(hit) = state.public.cached(&key) {
        return hit;
    }
    // Pages take a turn; a form sent (a report with its photos) is bounded by the upload gate
    // instead, so that two slow uploads cannot hold every turn.
    let _turn = if get {
        match tokio::time::timeout(WAIT, state.public.working.acquire()).await {
            Ok(Ok(turn)) => Some(turn),
            _ => {
                let message = "当前访问人数较多，请稍后再试";
                return open311_aware(api, &parts.uri, refuse(api, Code::Busy, message));
            }
        }
    } else {
        None
    };
    let res = next.run(Request::from_parts(parts, body)).await;
    let keep = res.headers().get(CACHE_HEADER).and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    let Some(keep) = keep.filter(|_| get && res.status() == StatusCode::OK) else { return res };
    let (mut parts, body) = res.into_parts();
    parts.headers.remove(CACHE_HEADER);
    parts.headers.insert(header::CACHE_CONTROL, HeaderValue::from_str(&format!("public, max-age={keep}")).unwrap());
    let Ok(bytes) = axum::body::to_bytes(body, MAX_PAGE_BYTES).await else {
        return (StatusCode::INTERNAL_SERVER_ERROR, "页面过大").into_response();
    };
    state.public.remember(key, Duration::from_secs(keep), parts.status, parts.headers.clone(), bytes.clone());
    Response::from_parts(parts, Body::from(bytes))
}

/// Open311 clients read errors in the spec's shape (a list of code and description) in the
/// format they asked for.
fn open311_aware(api: bool, uri: &axum::http::Uri, res: Response) -> Response {
    if !api || !uri.path().starts_with("/open311/") {
        return res;
    }
    let status = res.status();
    let (code, message) = if status == StatusCode::TOO_MANY_REQUESTS {
        (429, "您的访问过于频繁，请一分钟后再试")
    } else {
        (503, "当前访问人数较多，请稍后再试")
    };
    let mut out = super::open311::errors(uri.path().ends_with(".xml"), status, &[(code, message.to_string())]);
    out.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("60"));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cache_never_holds_more_than_its_budget() {
        let g = Gate::default();
        let page = Bytes::from(vec![b'x'; 1024 * 1024]);
        for i in 0..200 {
            g.remember(
                format!("/public?page={i}"),
                Duration::from_secs(30),
                StatusCode::OK,
                HeaderMap::new(),
                page.clone(),
            );
            let (pages, bytes) = &*g.pages.lock().unwrap();
            assert!(*bytes <= MAX_CACHE_BYTES, "{bytes} cached after {i} pages");
            assert_eq!(*bytes, pages.values().map(|c| c.body.len()).sum::<usize>(), "the running total is exact");
        }
        assert!(g.cached("/public?page=199").is_some(), "the newest page is served");
        // The same page again replaces, it does not add.
        g.remember("/public?page=199".into(), Duration::from_secs(30), StatusCode::OK, HeaderMap::new(), page.clone());
        let total = g.pages.lock().unwrap().1;
        assert_eq!(total, g.pages.lock().unwrap().0.len() * page.len());
    }

    #[test]
    fn a_client_past_its_minute_is_refused_and_others_are_not() {
        let g = Gate::default();
        assert!((0..5).all(|_| g.admit("10.0.0.1", 5)));
        assert!(!g.admit("10.0.0.1", 5));
        assert!(g.admit("10.0.0.2", 5));
    }
}
