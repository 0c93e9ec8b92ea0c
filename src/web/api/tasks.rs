use super::{Created, ErrorBody, Id, JsonBody, record_endpoints};
use crate::service::tasks::{self as svc, TaskInput};
use crate::service::units::visible;
use crate::store::tasks::{self as store, Task, TaskRow};
use crate::web::auth::ApiUser;
use crate::web::error::ApiResult;
use axum::Json;
use axum::extract::Path;

/// A unit's task list (responsibility ledger).
#[utoipa::path(get, path = "/units/{id}/tasks", tag = "units", params(("id" = String, Path)),
    responses((status = 200, body = Vec<TaskRow>), (status = 404, body = ErrorBody)))]
pub async fn list(api: ApiUser, Path(id): Id) -> ApiResult<Json<Vec<TaskRow>>> {
    visible(&api.ctx(), &id).await?;
    Ok(Json(store::for_unit(&api.state.db, &id).await?))
}

/// Assign a task to a unit (admin).
#[utoipa::path(post, path = "/units/{id}/tasks", tag = "units", params(("id" = String, Path)), request_body = TaskInput,
    responses((status = 201, body = Task), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create(api: ApiUser, Path(id): Id, JsonBody(input): JsonBody<TaskInput>) -> ApiResult<Created<Task>> {
    Ok(Created(svc::create(&api.ctx(), &id, input).await?))
}

record_endpoints! {
    tag "units", input TaskInput, record Task;
    /// Update a task: the office changes anything; the unit's own user its status, owner and note.
    update update "/tasks/{id}" => svc::update;
}
