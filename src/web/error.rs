//! Maps application errors to responses once: JSON with a stable code for the API, a Chinese
//! page for people. Internal causes are logged, never shown. Rejections made by the framework
//! itself (an over-limit body, a wrong method, an unknown content type) are caught on the way
//! out and answered in the same shapes.

use crate::error::{AppError, Code};
use askama::Template;
use axum::Json;
use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde_json::json;

fn log_internal(e: &AppError) {
    if let AppError::Internal(cause) = e {
        tracing::error!(error = ?cause, "internal error");
    }
}

/// An error answered as JSON: `{"error": {"code", "message", "fields"?, "rows"?}}`.
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
            AppError::Rejected(_, _, rows) => body["error"]["rows"] = json!(rows),
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
    /// Where 返回首页 leads: the public home on the citizens' side, the staff home elsewhere
    home: &'static str,
}

/// An error page's status and message, kept on the response so that the public side can show
/// it with its own way home (a citizen sent to the staff sign-in is lost).
#[derive(Debug, Clone)]
struct Shown {
    status: StatusCode,
    message: String,
}

fn render_error(status: StatusCode, message: String, home: &'static str) -> Response {
    let page = ErrorPage { status: status.as_u16(), message, home };
    let mut res = match page.render() {
        Ok(html) => (status, Html(html)).into_response(),
        Err(_) => (status, page.message.clone()).into_response(),
    };
    res.extensions_mut().insert(Shown { status, message: page.message });
    res
}

/// Paths a citizen meets (public pages, the window rating pages).
fn is_public(path: &str) -> bool {
    path == "/public" || path.starts_with("/public/") || path.starts_with("/rate/")
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
    render_error(status, message, "/")
}

/// A page error with the code's own message and status.
pub fn code_page(code: Code) -> Response {
    error_page(StatusCode::from_u16(code.status()).unwrap_or(StatusCode::BAD_REQUEST), code.message().into())
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

/// The catalogued code for an error status the framework answered with on its own.
fn code_for(status: StatusCode) -> Code {
    match status {
        StatusCode::PAYLOAD_TOO_LARGE => Code::PayloadTooLarge,
        StatusCode::METHOD_NOT_ALLOWED => Code::MethodNotAllowed,
        StatusCode::UNSUPPORTED_MEDIA_TYPE => Code::UnsupportedMediaType,
        StatusCode::NOT_FOUND => Code::NotFound,
        StatusCode::UNPROCESSABLE_ENTITY => Code::InvalidJson,
        s if s.is_server_error() => Code::InternalError,
        _ => Code::InvalidRequest,
    }
}

/// Answers every error response that did not come from our handlers (axum's plain-text 413,
/// an empty 405, …) in the catalogue's shapes: JSON under /api, a Chinese page elsewhere. Ours
/// are JSON or HTML; the framework's are plain text or empty.
pub async fn normalize_rejections(req: Request, next: Next) -> Response {
    let api = req.uri().path().starts_with("/api/");
    let open311 = req.uri().path().starts_with("/open311/");
    let xml = req.uri().path().ends_with(".xml");
    let public = is_public(req.uri().path());
    let home = if public { "/public" } else { "/" };
    let get = req.method() == axum::http::Method::GET;
    let res = next.run(req).await;
    let status = res.status();
    if public && let Some(shown) = res.extensions().get::<Shown>().cloned() {
        // The same page with the way back to the public home; the rest of the answer is kept.
        let (mut parts, _) = res.into_parts();
        let (page_parts, body) = render_error(shown.status, shown.message, home).into_parts();
        parts.headers.remove(header::CONTENT_LENGTH);
        if let Some(t) = page_parts.headers.get(header::CONTENT_TYPE) {
            parts.headers.insert(header::CONTENT_TYPE, t.clone());
        }
        return Response::from_parts(parts, body);
    }
    let ours = res.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|t| {
        t.starts_with("application/json")
            || t.starts_with("text/html")
            || t.starts_with("text/xml")
            || t.contains("+xml")
    });
    if !(status.is_client_error() || status.is_server_error()) || ours {
        return res;
    }
    let code = code_for(status);
    tracing::info!(status = status.as_u16(), code = code.as_str(), "framework rejection answered from the catalogue");
    let mut out = if api {
        ApiError(code.into()).into_response()
    } else if status == StatusCode::METHOD_NOT_ALLOWED && get {
        // A form's address opened again (a reload after a refusal, a shared link): said plainly.
        render_error(status, "这个地址用于提交表单，不能直接打开。请返回上一页重新操作。".into(), home)
    } else if open311 {
        crate::web::public::open311::errors(xml, status, &[(status.as_u16(), code.message().to_string())])
    } else {
        render_error(
            StatusCode::from_u16(code.status()).unwrap_or(StatusCode::BAD_REQUEST),
            code.message().into(),
            home,
        )
    };
    // Keep the framework's status (e.g. 405 with its Allow header) when the code has another.
    *out.status_mut() = status;
    if let Some(allow) = res.headers().get(header::ALLOW) {
        out.headers_mut().insert(header::ALLOW, allow.clone());
    }
    out
}
