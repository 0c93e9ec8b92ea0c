//! Request-body limits per route, checked before a body is buffered: forms and JSON are small,
//! Excel imports get the import budget, photo forms the photo budget. Routes that take files also
//! pass the upload gate: the declared length is checked up front, each account uploads one
//! body at a time, and all uploads in flight share one memory budget, so no role can make the
//! server hold more than that however many requests it sends.

use super::auth::Auth;
use crate::domain::code::Code;
use crate::error::AppError;
use crate::web::error::{ApiError, error_page};
use axum::extract::{DefaultBodyLimit, Request};
use axum::http::StatusCode;
use axum::http::header::CONTENT_LENGTH;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::MethodRouter;
use std::collections::HashSet;
use std::sync::Mutex;
use std::time::Duration;
use tokio::sync::Semaphore;

const MB: usize = 1024 * 1024;

/// Forms and JSON bodies.
pub const SMALL: usize = MB;
/// An Excel or GeoJSON import: the file plus the form around it.
pub const IMPORT: usize = crate::service::sheet::limits::FILE_BYTES + MB;
/// A problem's photos (filing, fix, re-check) plus the form around them.
pub const PHOTOS: usize = crate::service::problems::MAX_PHOTOS * crate::media::MAX_BYTES + MB;

/// Megabytes that all uploads in flight may hold together.
const BUDGET_MB: u32 = 400;
static BUDGET: Semaphore = Semaphore::const_new(BUDGET_MB as usize);
/// Accounts with an upload in flight.
static UPLOADING: Mutex<Option<HashSet<String>>> = Mutex::new(None);
/// How long an upload waits for room in the budget before it is turned away.
const WAIT: Duration = Duration::from_secs(20);

/// A route that takes an Excel or GeoJSON file.
pub fn import<S: Clone + Send + Sync + 'static>(r: MethodRouter<S>) -> MethodRouter<S> {
    gated(r, IMPORT)
}

/// A public route that takes photos (随手拍, Open311): at most the report's photos; anonymous
/// senders pass the same gate, one upload per client address at a time.
pub const PUBLIC_PHOTOS: usize = crate::domain::citizen::MAX_PHOTOS * crate::media::MAX_BYTES + MB;

pub fn public_photos<S: Clone + Send + Sync + 'static>(r: MethodRouter<S>) -> MethodRouter<S> {
    r.layer::<_, std::convert::Infallible>(middleware::from_fn(|req: Request, next: Next| {
        gate(PUBLIC_PHOTOS, req, next)
    }))
    .layer(DefaultBodyLimit::max(PUBLIC_PHOTOS))
}

/// Material submissions (网上申报): the files of one version plus the form around them.
pub const MATERIALS: usize = crate::service::materials::MAX_TOTAL + MB;

pub fn materials<S: Clone + Send + Sync + 'static>(r: MethodRouter<S>) -> MethodRouter<S> {
    gated(r, MATERIALS)
}

/// A route that takes photos.
pub fn photos<S: Clone + Send + Sync + 'static>(r: MethodRouter<S>) -> MethodRouter<S> {
    gated(r, PHOTOS)
}

fn gated<S: Clone + Send + Sync + 'static>(r: MethodRouter<S>, limit: usize) -> MethodRouter<S> {
    r.layer::<_, std::convert::Infallible>(middleware::from_fn(move |req: Request, next: Next| gate(limit, req, next)))
        .layer(DefaultBodyLimit::max(limit))
}

/// Removes the account from `UPLOADING` when its upload ends, however it ends.
struct Uploading(String);

impl Drop for Uploading {
    fn drop(&mut self) {
        if let Ok(mut set) = UPLOADING.lock() {
            set.get_or_insert_default().remove(&self.0);
        }
    }
}

async fn gate(limit: usize, req: Request, next: Next) -> Response {
    // Inside the nested API router the path has lost its /api/v1 prefix; the original has it.
    let original = req.extensions().get::<axum::extract::OriginalUri>().map(|u| u.0.path().to_string());
    let api = original.as_deref().unwrap_or(req.uri().path()).starts_with("/api/");
    let refuse = |code: Code, message: &str| {
        let status = StatusCode::from_u16(code.status()).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
        if api { ApiError(AppError::refuse(code, message)).into_response() } else { error_page(status, message.into()) }
    };
    // Without an account the handler refuses before it reads the body, except on the public
    // routes, where the client's address stands for the account.
    let public = original.as_deref().unwrap_or(req.uri().path()).starts_with("/public/")
        || original.as_deref().unwrap_or(req.uri().path()).starts_with("/open311/");
    let account = req.extensions().get::<Auth>().and_then(|a| a.0.as_ref()).map(|u| u.id.clone());
    let peer = req.extensions().get::<axum::extract::ConnectInfo<std::net::SocketAddr>>().map(|c| c.0.ip().to_string());
    // The host keeps the servers of one process apart (tests run several side by side).
    let host = req.headers().get(axum::http::header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("").to_string();
    let Some(user) = account.or_else(|| public.then(|| format!("client:{host}:{}", peer.unwrap_or_default()))) else {
        return next.run(req).await;
    };
    let declared = req.headers().get(CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse::<usize>().ok());
    if declared.is_some_and(|n| n > limit) {
        let message = format!("上传内容过大（上限{}MB），请减少或压缩照片、文件后重试", limit / MB);
        return refuse(Code::PayloadTooLarge, &message);
    }
    let _one = {
        let Ok(mut set) = UPLOADING.lock() else { return refuse(Code::Busy, "服务器正忙，请稍后重试") };
        if !set.get_or_insert_default().insert(user.clone()) {
            return refuse(Code::Busy, "您有一个上传尚未完成，请等它完成后再试");
        }
        Uploading(user)
    };
    // A body of unknown length may grow to the route's limit.
    let megabytes = (declared.unwrap_or(limit).div_ceil(MB) as u32).clamp(1, BUDGET_MB);
    let Ok(Ok(_room)) = tokio::time::timeout(WAIT, BUDGET.acquire_many(megabytes)).await else {
        return refuse(Code::Busy, "当前上传的人较多，请稍后重试");
    };
    next.run(req).await
}
