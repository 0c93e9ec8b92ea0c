//! HTTP: server-rendered pages (Simplified Chinese) and the JSON API under /api/v1.

pub mod api;
pub mod assets;
pub mod auth;
pub mod error;
pub mod limits;
pub mod list;
pub mod lists;
pub mod metrics;
pub mod pages;
pub mod public;
pub mod query;
pub mod ui;

use crate::config::Config;
use crate::store::Db;
use axum::http::{HeaderName, HeaderValue, Request, header};
use axum::routing::get;
use axum::{Json, Router, extract::State, middleware};
use std::sync::Arc;
use std::time::Duration;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, RequestId, SetRequestIdLayer};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;

#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    pub config: Arc<Config>,
    pub storage: crate::media::storage::Storage,
    /// The public pages' limits and cache (per instance)
    pub public: Arc<public::gate::Gate>,
    /// This instance's group-commit queue of 好差评 ratings
    pub ratings: crate::service::ratings::Intake,
    /// This instance's request, job and queue counters (`/metrics`)
    pub metrics: Arc<metrics::Metrics>,
}

pub fn router(state: AppState) -> Router {
    let x_request_id = HeaderName::from_static("x-request-id");
    Router::new()
        .route("/healthz", get(healthz))
        .route("/static/{*path}", get(assets::serve))
        .route("/favicon.ico", get(|| assets::serve(axum::extract::Path("favicon.svg".to_string()))))
        // The service worker controls the whole site only when served from its root.
        .route("/sw.js", get(|| assets::serve(axum::extract::Path("sw.js".to_string()))))
        .merge(pages::routes())
        .merge(public::routes(state.clone()))
        .nest("/api/v1", api::routes())
        .route("/metrics", get(metrics::serve))
        .route_layer(middleware::from_fn_with_state(state.clone(), metrics::record))
        .fallback(pages::not_found)
        .layer(middleware::from_fn_with_state(state.clone(), auth::load_user))
        .layer(middleware::from_fn(error::normalize_rejections))
        .layer(axum::extract::DefaultBodyLimit::max(limits::SMALL))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")))
        .layer(SetResponseHeaderLayer::if_not_present(header::REFERRER_POLICY, HeaderValue::from_static("same-origin")))
        // Pages, JSON and documents are about named people and open cases: no cache keeps them
        // (static files and photos say otherwise themselves).
        .layer(SetResponseHeaderLayer::if_not_present(header::CACHE_CONTROL, HeaderValue::from_static("no-store")))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::STRICT_TRANSPORT_SECURITY,
            state.config.secure_cookies.then(|| HeaderValue::from_static("max-age=31536000")),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(header::CONTENT_SECURITY_POLICY, csp(&state.config)))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(|req: &Request<_>| {
                    let id =
                        req.extensions().get::<RequestId>().and_then(|r| r.header_value().to_str().ok()).unwrap_or("");
                    tracing::info_span!("http", method = %req.method(), path = %req.uri().path(), request_id = %id)
                })
                .on_response(|res: &axum::response::Response, latency: Duration, _span: &tracing::Span| {
                    tracing::info!(status = res.status().as_u16(), latency_ms = latency.as_millis() as u64, "request");
                }),
        )
        .layer(PropagateRequestIdLayer::new(x_request_id.clone()))
        .layer(SetRequestIdLayer::new(x_request_id, MakeRequestUuid))
        .with_state(state)
}

/// Only our own files run; images may also come from the configured intranet tile server.
fn csp(config: &Config) -> HeaderValue {
    let tiles = config.map_tile_url.trim();
    let origin = tiles.find("://").and_then(|s| tiles[s + 3..].find('/').map(|e| &tiles[..s + 3 + e])).unwrap_or("");
    let policy = format!(
        "default-src 'self'; img-src 'self' data: blob: {origin}; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'"
    );
    HeaderValue::from_str(&policy).unwrap_or_else(|_| HeaderValue::from_static("default-src 'self'"))
}

/// Liveness and database reachability, for load balancers and monitoring.
async fn healthz(State(state): State<AppState>) -> (axum::http::StatusCode, Json<serde_json::Value>) {
    match state.db.ping().await {
        Ok(()) => (
            axum::http::StatusCode::OK,
            Json(
                serde_json::json!({ "status": "ok", "database": state.db.backend.name(), "version": env!("CARGO_PKG_VERSION") }),
            ),
        ),
        Err(e) => {
            tracing::error!(error = %e, "health check: database unreachable");
            (
                axum::http::StatusCode::SERVICE_UNAVAILABLE,
                Json(serde_json::json!({ "status": "error", "database": state.db.backend.name() })),
            )
        }
    }
}
