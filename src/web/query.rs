//! Query strings parsed like axum's `Query`, but a malformed one (`?page=abc`) is answered in
//! Chinese: a page for people, `{"error": {"code": "invalid_query"}}` for the API.

use super::error::{ApiError, code_page};
use crate::error::Code;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;

pub struct Query<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for Query<T> {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let raw = parts.uri.query().unwrap_or("");
        serde_html_form::from_str(raw).map(Query).map_err(|e| {
            tracing::info!(error = %e, "unreadable query string");
            // Inside the nested API router the path has lost its /api/v1 prefix; the original has it.
            let path = parts
                .extensions
                .get::<axum::extract::OriginalUri>()
                .map(|u| u.0.path().to_string())
                .unwrap_or_else(|| parts.uri.path().to_string());
            if path.starts_with("/api/") {
                ApiError(Code::InvalidQuery.into()).into_response()
            } else {
                code_page(Code::InvalidQuery)
            }
        })
    }
}
