//! Maps application errors to responses: JSON with a stable code for the API, a Chinese page
//! for people. Internal causes are logged, never shown.

use crate::error::AppError;
use askama::Template;
use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde_json::json;

fn log_internal(e: &AppError) {
    if let AppError::Internal(cause) = e {
        tracing::error!(error = ?cause, "internal error");
    }
}

/// An error answered as JSON: `{"error": {"code", "message", "fields"?}}`.
#[derive(Debug)]
pub struct ApiError(pub AppError);

impl<E: Into<AppError>> From<E> for ApiError {
    fn from(e: E) -> Self {
        ApiError(e.into())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let e = self.0;
        log_internal(&e);
        let mut body = json!({ "error": { "code": e.code(), "message": e.to_string() } });
        match &e {
            AppError::Validation(fields) => body["error"]["fields"] = json!(fields.0),
            AppError::Rejected(_, _, rows) => body["error"]["rows"] = rows.clone(),
            _ => {}
        }
        let mut res = (e.status(), Json(body)).into_response();
        if let AppError::Throttled(min) = e
            && let Ok(v) = HeaderValue::from_str(&(min * 60).to_string())
        {
            res.headers_mut().insert(header::RETRY_AFTER, v);
        }
        res
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    status: u16,
    message: String,
}

/// An error answered as a page.
#[derive(Debug)]
pub struct PageError(pub AppError);

impl<E: Into<AppError>> From<E> for PageError {
    fn from(e: E) -> Self {
        PageError(e.into())
    }
}

/// What a person reads for an error shown inside a form: the field messages of a validation
/// error, the message otherwise.
pub fn message_of(e: &AppError) -> String {
    match e {
        AppError::Validation(f) => f.0.iter().map(|x| x.message.clone()).collect::<Vec<_>>().join("；"),
        e => e.to_string(),
    }
}

pub fn error_page(status: StatusCode, message: String) -> Response {
    let page = ErrorPage { status: status.as_u16(), message };
    match page.render() {
        Ok(html) => (status, Html(html)).into_response(),
        Err(_) => (status, page.message).into_response(),
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let e = self.0;
        log_internal(&e);
        if matches!(e, AppError::Unauthorized) {
            return Redirect::to("/login").into_response();
        }
        error_page(e.status(), e.to_string())
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
pub type PageResult<T> = Result<T, PageError>;
