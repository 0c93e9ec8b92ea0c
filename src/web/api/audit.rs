use super::{ErrorBody, Page, list_endpoint};
use crate::service::audit::AuditLine;
use crate::web::lists::admin::{AuditLog, AuditQuery};

list_endpoint! {
    /// Read the audit log, newest first, with each change spelled out (admin and discipline office).
    /// It cannot be changed.
    list: AuditLog, AuditQuery, AuditLine, "/audit", "audit"
}
