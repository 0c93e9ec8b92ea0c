use super::{Created, ErrorBody, Id, JsonBody, Page, list_endpoint, record_endpoints};
use crate::domain::geo::{gcj02_to_wgs84, in_china};
use crate::error::AppError;
use crate::error::Code;
use crate::service::grids::{self as grid_svc, GridImport, Responsible};
use crate::service::points::{self as svc, PointInput};
use crate::store::points::{self as store, GridRow, Point, PointRow, PointType};
use crate::web::auth::ApiUser;
use crate::web::error::ApiResult;
use crate::web::lists::registry::{GridQuery, Grids, PointQuery, Points};
use crate::web::query::Query;
use axum::Json;
use axum::body::Bytes;
use axum::extract::Path;
use serde::Deserialize;
use utoipa::IntoParams;

list_endpoint! {
    /// List the points the caller may see (a unit only its own, a grid worker its area).
    list: Points, PointQuery, PointRow, "/points", "points"
}

record_endpoints! {
    tag "points", input PointInput, record Point;
    /// Register a point (admin). Its grid (and community, if not given) follow from its position.
    create create "/points" => svc::create;
    /// Update a point (admin).
    update update "/points/{id}" => svc::update;
}

/// One point (404 when outside the caller's scope).
#[utoipa::path(get, path = "/points/{id}", tag = "points", params(("id" = String, Path)), responses((status = 200, body = PointRow), (status = 404, body = ErrorBody)))]
pub async fn get(api: ApiUser, Path(id): Id) -> ApiResult<Json<PointRow>> {
    svc::visible(&api.ctx(), &id).await?;
    Ok(Json(store::row(&api.state.db, &id).await?.ok_or(AppError::NotFound)?))
}

/// The point types.
#[utoipa::path(get, path = "/point-types", tag = "points", responses((status = 200, body = Vec<PointType>)))]
pub async fn types(api: ApiUser) -> ApiResult<Json<Vec<PointType>>> {
    Ok(Json(store::types(&api.state.db).await?))
}

list_endpoint! {
    /// Grids the caller may see, with their unit, grid worker and number of points.
    grids: Grids, GridQuery, GridRow, "/grids", "points"
}

/// Import grid boundaries (admin): a GeoJSON FeatureCollection with properties code, name, unit,
/// worker. All or nothing; a refusal lists every bad feature in `rows`.
#[utoipa::path(post, path = "/grids/import", tag = "points", request_body(content = String, content_type = "application/geo+json"),
    responses((status = 200, body = GridImport), (status = 422, body = ErrorBody, description = "import_rejected")))]
pub async fn import_grids(api: ApiUser, body: Bytes) -> ApiResult<Json<GridImport>> {
    Ok(Json(grid_svc::import(&api.ctx(), &body).await?))
}

#[derive(Deserialize, IntoParams)]
pub struct LookupQuery {
    lng: f64,
    lat: f64,
    /// wgs84 (default) or gcj02
    crs: Option<String>,
}

/// Who is responsible at a position: grid, community, unit, grid worker and the nearest points.
#[utoipa::path(get, path = "/lookup", tag = "points", params(LookupQuery),
    responses((status = 200, body = Responsible), (status = 400, body = ErrorBody)))]
pub async fn lookup(api: ApiUser, Query(q): Query<LookupQuery>) -> ApiResult<Json<Responsible>> {
    let p = if q.crs.as_deref() == Some("gcj02") { gcj02_to_wgs84((q.lng, q.lat)) } else { (q.lng, q.lat) };
    if !in_china(p) {
        return Err(AppError::refuse(Code::InvalidPosition, "坐标不在中国境内，请检查经纬度").into());
    }
    Ok(Json(grid_svc::lookup(&api.state.db, p).await?))
}

/// Import points from an .xlsx in the template's columns (admin). All or nothing; a refusal lists
/// every bad cell in `rows` as {row, column, message}.
#[utoipa::path(post, path = "/points/import", tag = "points",
    request_body(content = String, content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    responses((status = 200, body = crate::service::points_import::ImportSummary), (status = 422, body = ErrorBody, description = "import_rejected")))]
pub async fn import_points(api: ApiUser, body: Bytes) -> ApiResult<Json<crate::service::points_import::ImportSummary>> {
    Ok(Json(crate::service::points_import::import(&api.ctx(), &body).await?))
}

/// Add a point type (admin).
#[utoipa::path(post, path = "/point-types", tag = "points", request_body = crate::service::point_types::TypeInput,
    responses((status = 201, body = PointType), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_type(
    api: ApiUser,
    JsonBody(input): JsonBody<crate::service::point_types::TypeInput>,
) -> ApiResult<Created<PointType>> {
    Ok(Created(crate::service::point_types::create(&api.ctx(), input).await?))
}

/// Rename, reorder or recolour a point type (admin); its code stays.
#[utoipa::path(put, path = "/point-types/{id}", tag = "points", params(("id" = String, Path)), request_body = crate::service::point_types::TypeInput,
    responses((status = 200, body = PointType), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update_type(
    api: ApiUser,
    Path(id): Id,
    JsonBody(input): JsonBody<crate::service::point_types::TypeInput>,
) -> ApiResult<Json<PointType>> {
    Ok(Json(crate::service::point_types::update(&api.ctx(), &id, input).await?))
}
