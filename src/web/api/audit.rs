use super::{ErrorBody, Page};
use crate::service::audit::AuditLine;
use crate::web::auth::ApiUser;
use crate::web::error::ApiResult;
use crate::web::list::{self, Paging};
use crate::web::lists::admin::{AuditLog, AuditQuery};
use crate::web::query::Query;
use axum::Json;

/// Read the audit log, newest first, with each change spelled out (admin and discipline office).
/// It cannot be changed.
#[utoipa::path(get, path = "/audit", tag = "audit", params(AuditQuery, Paging),
    responses((status = 200, body = Page<AuditLine>), (status = 403, body = ErrorBody)))]
pub async fn list(
    api: ApiUser,
    Query(q): Query<AuditQuery>,
    Query(p): Query<Paging>,
) -> ApiResult<Json<Page<AuditLine>>> {
    list::api::<AuditLog>(&api, &q, &p).await
}
