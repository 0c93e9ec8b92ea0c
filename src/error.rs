//! One error type for the application layer. The web layer maps it to HTML pages or JSON once.

use crate::domain::validate::FieldErrors;
use axum::http::StatusCode;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("提交的内容有误，请按提示修改")]
    Validation(FieldErrors),
    #[error("记录不存在或无权查看")]
    NotFound,
    #[error("您没有权限进行此操作")]
    Forbidden,
    #[error("请先登录")]
    Unauthorized,
    #[error("{1}")]
    Conflict(&'static str, String),
    #[error("用户名或密码错误")]
    BadCredentials,
    #[error("登录失败次数过多，请{0}分钟后再试")]
    Throttled(i64),
    #[error("页面已过期或来源不明，请刷新页面后重新提交")]
    Csrf,
    #[error("{1}")]
    BadRequest(&'static str, String),
    /// An all-or-nothing import refused: a message and one entry per bad row.
    #[error("{1}")]
    Rejected(&'static str, String, serde_json::Value),
    #[error("系统内部错误，请稍后重试")]
    Internal(#[from] anyhow::Error),
}

impl From<sqlx::Error> for AppError {
    fn from(e: sqlx::Error) -> Self {
        AppError::Internal(anyhow::Error::new(e).context("database error"))
    }
}

impl AppError {
    /// Stable English code for API clients.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Validation(_) => "validation_failed",
            Self::NotFound => "not_found",
            Self::Forbidden => "forbidden",
            Self::Unauthorized => "unauthorized",
            Self::Conflict(code, _) => code,
            Self::BadCredentials => "invalid_credentials",
            Self::Throttled(_) => "too_many_attempts",
            Self::Csrf => "csrf_failed",
            Self::BadRequest(code, _) => code,
            Self::Rejected(code, ..) => code,
            Self::Internal(_) => "internal_error",
        }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            Self::Validation(_) | Self::Rejected(..) => StatusCode::UNPROCESSABLE_ENTITY,
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::Forbidden | Self::Csrf => StatusCode::FORBIDDEN,
            Self::Unauthorized | Self::BadCredentials => StatusCode::UNAUTHORIZED,
            Self::Conflict(..) => StatusCode::CONFLICT,
            Self::Throttled(_) => StatusCode::TOO_MANY_REQUESTS,
            Self::BadRequest(..) => StatusCode::BAD_REQUEST,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn field(field: &str, code: &'static str, message: impl Into<String>) -> Self {
        AppError::Validation(FieldErrors::single(field, code, message))
    }

    /// The row changed under us (optimistic locking): someone else saved first.
    pub fn stale() -> Self {
        AppError::Conflict("stale_version", "该记录已被他人修改，请刷新页面后重新编辑".into())
    }
}

pub type AppResult<T> = Result<T, AppError>;
