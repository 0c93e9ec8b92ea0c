use super::{Created, ErrorBody, Id, JsonBody, Page};
use crate::domain::photo::PhotoOwner;
use crate::domain::problem::Action;
use crate::domain::time::{DAY_MS, now_ms, parse_local_day_start};
use crate::error::AppError;
use crate::error::Code;
use crate::service::problems::{self as svc, ActInput, FileInput};
use crate::store::photos::{self as photo_store, Photo};
use crate::store::problems::{self as store, Event, Problem, ProblemRow};
use crate::web::auth::ApiUser;
use crate::web::error::ApiResult;
use crate::web::list::{self, Cursors, Paging};
use crate::web::lists::problems::{ProblemQuery, Problems};
use crate::web::query::Query;
use axum::Json;
use axum::extract::Path;
use base64::Engine;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

fn decode_photos(list: &[String]) -> Result<Vec<Vec<u8>>, AppError> {
    list.iter()
        .map(|b| base64::engine::general_purpose::STANDARD.decode(b.trim()))
        .collect::<Result<_, _>>()
        .map_err(|_| AppError::refuse(Code::InvalidPhotoEncoding, "照片应为base64编码"))
}

#[derive(Deserialize, ToSchema)]
pub struct FileRequest {
    #[serde(flatten)]
    problem: FileInput,
    /// Before-photos, base64 (JPEG, PNG or WebP, up to 20 MB each, at most 9)
    #[serde(default)]
    photos: Vec<String>,
}

/// File a problem at a point (supervisors, grid workers, evaluators, the office; units for
/// self-checks). It is routed to the point's unit and lead with a deadline from the rules.
#[utoipa::path(post, path = "/problems", tag = "problems", request_body = FileRequest,
    responses((status = 201, body = Problem), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn file(api: ApiUser, JsonBody(req): JsonBody<FileRequest>) -> ApiResult<Created<Problem>> {
    let photos = decode_photos(&req.photos)?;
    let p = svc::file(&api.ctx(), &api.state.storage, req.problem, photos).await?;
    Ok(Created(p))
}

/// The problem ledger, newest first (or as `sort` asks), scoped to the caller, paged by keyset:
/// follow `next_cursor` / `prev_cursor` with `after` / `before`.
#[utoipa::path(get, path = "/problems", tag = "problems", params(ProblemQuery, Paging, Cursors),
    responses((status = 200, body = Page<ProblemRow>), (status = 400, body = ErrorBody)))]
pub async fn list(
    api: ApiUser,
    Query(q): Query<ProblemQuery>,
    Query(p): Query<Paging>,
) -> ApiResult<Json<Page<ProblemRow>>> {
    list::api::<Problems>(&api, &q, &p).await
}

#[derive(Serialize, ToSchema)]
pub struct ProblemDetail {
    problem: Problem,
    overdue: bool,
    events: Vec<Event>,
    photos: Vec<Photo>,
    /// Actions the caller may take now
    allowed_actions: Vec<String>,
}

/// One problem with its history, photos and the actions open to the caller.
#[utoipa::path(get, path = "/problems/{id}", tag = "problems", params(("id" = String, Path)),
    responses((status = 200, body = ProblemDetail), (status = 404, body = ErrorBody)))]
pub async fn get(api: ApiUser, Path(id): Id) -> ApiResult<Json<ProblemDetail>> {
    let ctx = api.ctx();
    let problem = svc::visible(&ctx, &id).await?;
    let overdue = problem.state.clock_running() && problem.deadline_at.is_some_and(|d| d < now_ms());
    Ok(Json(ProblemDetail {
        allowed_actions: svc::allowed(&ctx, &problem).await?.into_iter().map(|a| a.as_str().to_string()).collect(),
        events: store::events(ctx.db, &id).await?,
        photos: photo_store::of(ctx.db, PhotoOwner::Problem, &id).await?,
        overdue,
        problem,
    }))
}

#[derive(Deserialize, ToSchema)]
pub struct ActRequest {
    #[serde(flatten)]
    input: ActInput,
    /// After-photos for submit_fix, base64
    #[serde(default)]
    photos: Vec<String>,
}

/// Move a problem on: verify, void, acknowledge, submit_fix, pass, fail, request_extension,
/// approve_extension, refuse_extension, postpone, resume, reassign, request_transfer, transfer,
/// refuse_transfer.
#[utoipa::path(post, path = "/problems/{id}/actions/{action}", tag = "problems", params(("id" = String, Path), ("action" = String, Path)),
    request_body = ActRequest,
    responses((status = 200, body = Problem), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn act(
    api: ApiUser,
    Path((id, action)): Path<(String, String)>,
    JsonBody(req): JsonBody<ActRequest>,
) -> ApiResult<Json<Problem>> {
    let action = Action::parse(&action).ok_or(AppError::NotFound)?;
    let photos = decode_photos(&req.photos)?;
    Ok(Json(svc::act(&api.ctx(), &api.state.storage, &id, action, req.input, photos).await?))
}

#[derive(Deserialize, IntoParams)]
pub struct KpiQuery {
    /// First dispatch day, YYYY-MM-DD
    from: String,
    /// Last dispatch day, inclusive
    to: String,
    /// unit (default) or community
    by: Option<String>,
    /// Only the problems at points in this street or community (an org node id)
    area_id: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct KpiReport {
    lines: Vec<crate::service::kpi::KpiLine>,
    total: crate::domain::kpi::Kpi,
}

/// 结案率, 按期结案率, 处置率, 返工率, 延期率 and mean hours to close for problems dispatched in a period.
#[utoipa::path(get, path = "/kpi", tag = "problems", params(KpiQuery), responses((status = 200, body = KpiReport), (status = 400, body = ErrorBody)))]
pub async fn kpi(api: ApiUser, Query(q): Query<KpiQuery>) -> ApiResult<Json<KpiReport>> {
    let (Some(from), Some(to)) = (parse_local_day_start(&q.from), parse_local_day_start(&q.to)) else {
        return Err(AppError::refuse(Code::InvalidDate, "日期格式应为YYYY-MM-DD").into());
    };
    let by_community = q.by.as_deref() == Some("community");
    let (lines, total) =
        crate::service::kpi::report(&api.ctx(), (from, to + DAY_MS), by_community, q.area_id.as_deref()).await?;
    Ok(Json(KpiReport { lines, total }))
}

#[derive(Deserialize, ToSchema)]
pub struct MergeRequest {
    /// Code of the problem that stays
    into: String,
}

/// Merge a duplicate into another open problem at the same point (admin).
#[utoipa::path(post, path = "/problems/{id}/merge", tag = "problems", params(("id" = String, Path)), request_body = MergeRequest,
    responses((status = 200, body = Problem), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn merge(api: ApiUser, Path(id): Id, JsonBody(req): JsonBody<MergeRequest>) -> ApiResult<Json<Problem>> {
    Ok(Json(svc::merge(&api.ctx(), &api.state.storage, &id, &req.into).await?))
}
