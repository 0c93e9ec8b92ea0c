//! Query strings parsed like axum's `Query`, but a malformed one (`?page=abc`) is answered in
//! Chinese: a page for people, `{"error": {"code": "invalid_query"}}` for the API.

use super::error::{ApiError, error_page};
use crate::error::AppError;
use axum::extract::FromRequestParts;
use axum::http::{StatusCode, request::Parts};
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;

pub struct Query<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for Query<T> {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let raw = parts.uri.query().unwrap_or("");
        serde_html_form::from_str(raw).map(Query).map_err(|e| {
            tracing::info!(error = %e, "unreadable query string");
            let message = "查询条件格式不正确，请检查页码、数字和日期后重试".to_string();
            // Inside the nested API router the path has lost its /api/v1 prefix; the original has it.
            let path = parts
                .extensions
                .get::<axum::extract::OriginalUri>()
                .map(|u| u.0.path().to_string())
                .unwrap_or_else(|| parts.uri.path().to_string());
            if path.starts_with("/api/") {
                ApiError(AppError::BadRequest("invalid_query", message)).into_response()
            } else {
                error_page(StatusCode::BAD_REQUEST, message)
            }
        })
    }
}
