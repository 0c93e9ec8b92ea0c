//! One error type for the application layer, every refusal carrying a code from the one
//! catalogue (`Code`). The web layer maps it to JSON or a Chinese page once.

pub use crate::domain::code::{Code, RowError};
use crate::domain::validate::FieldErrors;
use axum::http::StatusCode;

#[derive(Debug)]
pub enum AppError {
    /// Field errors, each with its own code (answered as `validation_failed`).
    Validation(FieldErrors),
    NotFound,
    Forbidden,
    Unauthorized,
    BadCredentials,
    /// Too many failed logins: minutes to wait.
    Throttled(i64),
    Csrf,
    /// Any other catalogued refusal, with the Chinese message that says exactly what is wrong.
    Refused(Code, String),
    /// An all-or-nothing import refused: a message and the first bad rows.
    Rejected(Code, String, Vec<RowError>),
    Internal(anyhow::Error),
}

/// An import reports at most this many bad rows (and says how many there were in all).
pub const MAX_REPORTED_ROWS: usize = 200;

impl std::fmt::Display for AppError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Throttled(min) => write!(f, "登录失败次数过多，请{min}分钟后再试"),
            Self::Refused(_, message) | Self::Rejected(_, message, _) => f.write_str(message),
            other => f.write_str(other.code().message()),
        }
    }
}

impl std::error::Error for AppError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Internal(e) => Some(e.as_ref()),
            _ => None,
        }
    }
}

impl From<anyhow::Error> for AppError {
    fn from(e: anyhow::Error) -> Self {
        AppError::Internal(e)
    }
}

impl From<sqlx::Error> for AppError {
    fn from(e: sqlx::Error) -> Self {
        AppError::Internal(anyhow::Error::new(e).context("database error"))
    }
}

impl From<Code> for AppError {
    /// A refusal with the code's own message.
    fn from(code: Code) -> Self {
        match code {
            Code::NotFound => AppError::NotFound,
            Code::Forbidden => AppError::Forbidden,
            Code::Unauthorized => AppError::Unauthorized,
            code => AppError::Refused(code, code.message().to_string()),
        }
    }
}

impl AppError {
    /// The stable code API clients match on.
    pub fn code(&self) -> Code {
        match self {
            Self::Validation(_) => Code::ValidationFailed,
            Self::NotFound => Code::NotFound,
            Self::Forbidden => Code::Forbidden,
            Self::Unauthorized => Code::Unauthorized,
            Self::BadCredentials => Code::InvalidCredentials,
            Self::Throttled(_) => Code::TooManyAttempts,
            Self::Csrf => Code::CsrfFailed,
            Self::Refused(code, _) | Self::Rejected(code, ..) => *code,
            Self::Internal(_) => Code::InternalError,
        }
    }

    pub fn status(&self) -> StatusCode {
        StatusCode::from_u16(self.code().status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    /// A catalogued refusal with a message saying more than the code's own.
    pub fn refuse(code: Code, message: impl Into<String>) -> Self {
        AppError::Refused(code, message.into())
    }

    pub fn field(field: &str, code: Code, message: impl Into<String>) -> Self {
        AppError::Validation(FieldErrors::single(field, code, message))
    }

    /// The row changed under us (optimistic locking): someone else saved first.
    pub fn stale() -> Self {
        Code::StaleVersion.into()
    }

    /// An import refused whole: `what` names the file ("导入文件", "网格数据"); the report keeps
    /// the first `MAX_REPORTED_ROWS` rows and the message says how many there were.
    pub fn rejected(what: &str, mut rows: Vec<RowError>) -> Self {
        let total = rows.len();
        rows.truncate(MAX_REPORTED_ROWS);
        let shown = if total > rows.len() { format!("（仅列出前{}处）", rows.len()) } else { String::new() };
        let message = format!("{what}有{total}处错误，已整份拒收，未导入任何数据{shown}");
        AppError::Rejected(Code::ImportRejected, message, rows)
    }
}

pub type AppResult<T> = Result<T, AppError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_report_is_capped_and_says_how_many_there_were() {
        let row = |i| RowError::new("", i, "名称", "请填写");
        let e = AppError::rejected("导入文件", (1..=500).map(row).collect());
        let AppError::Rejected(code, message, rows) = &e else { panic!("{e:?}") };
        assert_eq!((*code, rows.len()), (Code::ImportRejected, MAX_REPORTED_ROWS));
        assert_eq!(message, "导入文件有500处错误，已整份拒收，未导入任何数据（仅列出前200处）");
        assert_eq!(e.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(AppError::from(Code::StaleVersion).to_string(), Code::StaleVersion.message());
    }
}
