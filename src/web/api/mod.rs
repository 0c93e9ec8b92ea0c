//! The JSON API (`/api/v1`), authenticated by bearer tokens from `POST /api/v1/auth/login`.
//! Errors are `{"error": {"code", "message", "fields"?}}` with a stable English `code` and a
//! Chinese `message`. Times are UTC epoch milliseconds.

mod audit;
mod auth;
mod calendar;
mod community;
mod daily;
mod dashboard;
mod notices;
mod org;
mod points;
mod problems;
mod reports;
mod scoring;
mod standards;
mod tasks;
mod teams;
mod units;
mod users;
mod windows;

use super::AppState;
use super::error::ApiError;
use crate::error::AppError;
use crate::error::Code;
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;
use serde::de::DeserializeOwned;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi, ToSchema};
use utoipa_axum::router::{OpenApiRouter, UtoipaMethodRouterExt};
use utoipa_axum::routes;

/// Every API route with its OpenAPI operation, from one list: a handler is routed at the path and
/// method its `#[utoipa::path]` documents, so the two cannot drift apart.
pub fn router() -> OpenApiRouter<AppState> {
    let r = OpenApiRouter::with_openapi(ApiDoc::openapi());
    window_units(scoring_and_notices(cases(people_and_places(r))))
}

/// Sign-in, the start page, citizens' reports, the organisation, units, teams, users, the audit
/// log and the points.
fn people_and_places(r: OpenApiRouter<AppState>) -> OpenApiRouter<AppState> {
    use crate::web::limits::import;
    r.routes(routes!(auth::login))
        .routes(routes!(auth::logout))
        .routes(routes!(auth::me))
        .routes(routes!(auth::todo))
        .routes(routes!(dashboard::get))
        .routes(routes!(reports::list))
        .routes(routes!(reports::get))
        .routes(routes!(reports::verify))
        .routes(routes!(reports::void))
        .routes(routes!(auth::change_password))
        .routes(routes!(org::list, org::create))
        .routes(routes!(org::get, org::update, org::delete))
        .routes(routes!(units::list, units::create))
        .routes(routes!(units::get, units::update))
        .routes(routes!(units::contacts, units::add_contact))
        .routes(routes!(units::update_contact, units::delete_contact))
        .routes(routes!(units::webhooks, units::add_webhook))
        .routes(routes!(units::remove_webhook))
        .routes(routes!(tasks::list, tasks::create))
        .routes(routes!(tasks::update))
        .routes(routes!(units::levels, units::add_level))
        .routes(routes!(units::update_level, units::delete_level))
        .routes(routes!(teams::list, teams::create))
        .routes(routes!(teams::get, teams::update, teams::delete))
        .routes(routes!(users::list, users::create))
        .routes(routes!(users::get, users::update))
        .routes(routes!(users::reset_password))
        .routes(routes!(audit::list))
        .routes(routes!(points::list, points::create))
        .routes(routes!(points::import_points).map(import))
        .routes(routes!(points::get, points::update))
        .routes(routes!(points::types, points::create_type))
        .routes(routes!(points::update_type))
        .routes(routes!(points::grids))
        .routes(routes!(points::import_grids).map(import))
        .routes(routes!(points::lookup))
}

/// Standards, problems, the daily rounds and messages.
fn cases(r: OpenApiRouter<AppState>) -> OpenApiRouter<AppState> {
    use crate::web::limits::photos;
    r.routes(routes!(standards::checklist))
        .routes(routes!(standards::versions, standards::create_draft))
        .routes(routes!(standards::items, standards::add_item))
        .routes(routes!(standards::publish))
        .routes(routes!(standards::update_item))
        .routes(routes!(problems::list, problems::file).map(photos))
        .routes(routes!(problems::get))
        .routes(routes!(problems::kpi))
        .routes(routes!(problems::merge))
        .routes(routes!(problems::act).map(photos))
        .routes(routes!(daily::rounds))
        .routes(routes!(daily::escalation))
        .routes(routes!(daily::inbox))
        .routes(routes!(daily::read_all))
        .routes(routes!(daily::deliveries))
}

/// Scoring, notices and interviews, the working calendar.
fn scoring_and_notices(r: OpenApiRouter<AppState>) -> OpenApiRouter<AppState> {
    r.routes(routes!(scoring::rules))
        .routes(routes!(scoring::save_draft))
        .routes(routes!(scoring::preview))
        .routes(routes!(scoring::publish))
        .routes(routes!(scoring::ranking))
        .routes(routes!(scoring::annual))
        .routes(routes!(scoring::ledger))
        .routes(routes!(scoring::red_flags))
        .routes(routes!(scoring::awards))
        .routes(routes!(scoring::commend))
        .routes(routes!(scoring::clean))
        .routes(routes!(notices::list, notices::generate))
        .routes(routes!(notices::get, notices::edit))
        .routes(routes!(notices::publish))
        .routes(routes!(notices::refresh))
        .routes(routes!(notices::correct))
        .routes(routes!(notices::confirm))
        .routes(routes!(notices::reads))
        .routes(routes!(notices::docx))
        .routes(routes!(notices::interviews, notices::create_interview))
        .routes(routes!(notices::interview_outcome))
        .routes(routes!(calendar::years))
        .routes(routes!(calendar::deadline))
        .routes(routes!(calendar::year, calendar::put_year))
}

/// Window units: figures, the public's ratings, cases and mutual rounds.
fn window_units(r: OpenApiRouter<AppState>) -> OpenApiRouter<AppState> {
    r.routes(routes!(windows::list, windows::create))
        .routes(routes!(windows::month_figures))
        .routes(routes!(windows::update))
        .routes(routes!(windows::visit_tokens))
        .routes(routes!(windows::batch))
        .routes(routes!(windows::ratings_list))
        .routes(routes!(windows::cases_list))
        .routes(routes!(windows::case))
        .routes(routes!(windows::callback))
        .routes(routes!(windows::resolve))
        .routes(routes!(windows::decide))
        .routes(routes!(windows::mutual_rounds, windows::create_mutual_round))
        .routes(routes!(windows::mutual_round))
        .routes(routes!(community::civilized_units))
}

/// The routes under `/api/v1`: the documented ones, the document itself and a JSON 404.
pub fn routes() -> Router<AppState> {
    let (router, _) = router().split_for_parts();
    router.route("/openapi.json", get(openapi_json)).fallback(api_not_found)
}

/// The OpenAPI document of this API, as `router()` builds it.
pub fn openapi() -> utoipa::openapi::OpenApi {
    router().into_openapi()
}

async fn api_not_found() -> ApiError {
    ApiError(AppError::NotFound)
}

/// A JSON body whose parse errors come back in our error format, in Chinese.
pub struct JsonBody<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match Json::<T>::from_request(req, state).await {
            Ok(Json(v)) => Ok(JsonBody(v)),
            Err(rejection) => Err(ApiError(match rejection.status() {
                StatusCode::PAYLOAD_TOO_LARGE => Code::PayloadTooLarge.into(),
                StatusCode::UNSUPPORTED_MEDIA_TYPE => Code::UnsupportedMediaType.into(),
                _ => AppError::refuse(Code::InvalidJson, json_problem(&rejection.body_text())),
            })),
        }
    }
}

/// The API of a declared list (`web::lists`): `GET path` answers one page of the rows the caller
/// may see, filtered by the list's query (the same names and refusals as its page). The calling
/// module imports `Page` and `ErrorBody` (the OpenAPI attribute names them).
macro_rules! list_endpoint {
    ($(#[doc = $doc:expr])* $name:ident: $list:ty, $query:ty, $row:ty, $path:literal, $tag:literal) => {
        $(#[doc = $doc])*
        #[utoipa::path(get, path = $path, tag = $tag, params($query, $crate::web::list::Paging),
            responses((status = 200, body = Page<$row>), (status = 400, body = ErrorBody),
                      (status = 403, body = ErrorBody)))]
        pub async fn $name(
            api: $crate::web::auth::ApiUser,
            $crate::web::query::Query(q): $crate::web::query::Query<$query>,
            $crate::web::query::Query(p): $crate::web::query::Query<$crate::web::list::Paging>,
        ) -> $crate::web::error::ApiResult<axum::Json<$crate::web::api::Page<$row>>> {
            $crate::web::list::api::<$list>(&api, &q, &p).await
        }
    };
}
pub(crate) use list_endpoint;

/// The API of a record people edit, declared by the use cases that serve it: `create` (POST, 201),
/// `get` (GET one, 404 outside the caller's scope), `update` (PUT, `version` required, 409 when
/// stale) and `delete` (DELETE, 204), each with its route, OpenAPI operation and handler. The
/// calling module imports `ErrorBody` (the OpenAPI attribute names it).
///
/// ```ignore
/// record_endpoints! {
///     tag "units", input UnitInput, record Unit;
///     /// Create a unit (admin).
///     create create "/units" => svc::create;
///     /// One unit.
///     get get "/units/{id}" => svc::visible;
/// }
/// ```
macro_rules! record_endpoints {
    (tag $tag:literal, input $input:ident, record $record:ident;) => {};
    (tag $tag:literal, input $input:ident, record $record:ident;
     $(#[doc = $doc:expr])* create $name:ident $path:literal => $svc:path; $($rest:tt)*) => {
        $(#[doc = $doc])*
        #[utoipa::path(post, path = $path, tag = $tag, request_body = $input,
            responses((status = 201, body = $record), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
        pub async fn $name(
            api: $crate::web::auth::ApiUser,
            $crate::web::api::JsonBody(input): $crate::web::api::JsonBody<$input>,
        ) -> $crate::web::error::ApiResult<$crate::web::api::Created<$record>> {
            Ok($crate::web::api::Created($svc(&api.ctx(), input).await?))
        }
        $crate::web::api::record_endpoints! { tag $tag, input $input, record $record; $($rest)* }
    };
    (tag $tag:literal, input $input:ident, record $record:ident;
     $(#[doc = $doc:expr])* get $name:ident $path:literal => $svc:path; $($rest:tt)*) => {
        $(#[doc = $doc])*
        #[utoipa::path(get, path = $path, tag = $tag, params(("id" = String, Path)),
            responses((status = 200, body = $record), (status = 404, body = ErrorBody)))]
        pub async fn $name(
            api: $crate::web::auth::ApiUser,
            axum::extract::Path(id): $crate::web::api::Id,
        ) -> $crate::web::error::ApiResult<axum::Json<$record>> {
            Ok(axum::Json($svc(&api.ctx(), &id).await?))
        }
        $crate::web::api::record_endpoints! { tag $tag, input $input, record $record; $($rest)* }
    };
    (tag $tag:literal, input $input:ident, record $record:ident;
     $(#[doc = $doc:expr])* update $name:ident $path:literal => $svc:path; $($rest:tt)*) => {
        $(#[doc = $doc])*
        #[utoipa::path(put, path = $path, tag = $tag, params(("id" = String, Path)), request_body = $input,
            responses((status = 200, body = $record), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
                      (status = 409, body = ErrorBody, description = "stale_version"), (status = 422, body = ErrorBody)))]
        pub async fn $name(
            api: $crate::web::auth::ApiUser,
            axum::extract::Path(id): $crate::web::api::Id,
            $crate::web::api::JsonBody(input): $crate::web::api::JsonBody<$input>,
        ) -> $crate::web::error::ApiResult<axum::Json<$record>> {
            Ok(axum::Json($svc(&api.ctx(), &id, input).await?))
        }
        $crate::web::api::record_endpoints! { tag $tag, input $input, record $record; $($rest)* }
    };
    (tag $tag:literal, input $input:ident, record $record:ident;
     $(#[doc = $doc:expr])* delete $name:ident $path:literal => $svc:path; $($rest:tt)*) => {
        $(#[doc = $doc])*
        #[utoipa::path(delete, path = $path, tag = $tag, params(("id" = String, Path)),
            responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
                      (status = 409, body = ErrorBody, description = "in_use")))]
        pub async fn $name(
            api: $crate::web::auth::ApiUser,
            axum::extract::Path(id): $crate::web::api::Id,
        ) -> $crate::web::error::ApiResult<axum::http::StatusCode> {
            $svc(&api.ctx(), &id).await?;
            Ok(axum::http::StatusCode::NO_CONTENT)
        }
        $crate::web::api::record_endpoints! { tag $tag, input $input, record $record; $($rest)* }
    };
}
pub(crate) use record_endpoints;

/// A path's `{id}`.
pub type Id = axum::extract::Path<String>;

/// A created record: 201 with the record.
pub struct Created<T>(pub T);

impl<T: Serialize> axum::response::IntoResponse for Created<T> {
    fn into_response(self) -> axum::response::Response {
        (StatusCode::CREATED, Json(self.0)).into_response()
    }
}

/// The `{class}` of a scoring path (community, street, unit or window), refused in Chinese when unknown.
pub struct InClass(pub crate::domain::score::Class);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for InClass {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut axum::http::request::Parts, state: &S) -> Result<Self, ApiError> {
        let axum::extract::Path(params) =
            axum::extract::Path::<std::collections::HashMap<String, String>>::from_request_parts(parts, state)
                .await
                .map_err(|_| ApiError(AppError::NotFound))?;
        let class = params.get("class").map(String::as_str).unwrap_or_default();
        Ok(InClass(crate::service::scoring::parse_class(class)?))
    }
}

/// Where a JSON body went wrong, in Chinese: the field (for a value of the wrong type, with our own
/// Chinese reason when a vocabulary refused it) and the line and column; the parser's own English
/// is not passed on.
fn json_problem(detail: &str) -> String {
    let mut message = Code::InvalidJson.message().to_string();
    if let Some(rest) = detail.split("into the target type: ").nth(1)
        && let Some((field, reason)) = rest.split_once(": ")
        && !field.contains(' ')
    {
        let reason = reason.split(" at line ").next().unwrap_or_default();
        if reason.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)) {
            message.push_str(&format!("：字段“{field}”：{reason}"));
        } else {
            message.push_str(&format!("：字段“{field}”的值类型不符"));
        }
    }
    if let Some(at) = detail.rsplit(" at line ").next().filter(|_| detail.contains(" at line "))
        && let Some((line, column)) = at.split_once(" column ")
    {
        message.push_str(&format!("（第{}行第{}列）", line.trim(), column.trim()));
    }
    message
}

/// One page of a list. Keyset lists (the problem ledger) also give the cursors to follow with
/// `after` / `before`; `page` is then the page number the caller carried along.
#[derive(Serialize, ToSchema)]
pub struct Page<T: ToSchema> {
    pub items: Vec<T>,
    pub total: i64,
    /// False when counting stopped at a cap: more than `total` items match (the problem ledger
    /// counts up to 10,000, or 1,000 under a keyword)
    pub total_exact: bool,
    pub page: i64,
    pub size: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prev_cursor: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

/// Every error has a code from the one catalogue (each code has one HTTP status) and a Chinese
/// message; a validation failure lists its fields, a refused import its first bad rows.
#[derive(Serialize, ToSchema)]
pub struct ErrorDetail {
    pub code: Code,
    /// Message in Chinese for people
    pub message: String,
    /// Field errors, for validation_failed
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fields: Option<Vec<crate::domain::validate::FieldError>>,
    /// The refused rows of an import (at most 200), for import_rejected and duplicate_open_problem
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rows: Option<Vec<crate::error::RowError>>,
}

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

#[derive(OpenApi)]
#[openapi(
    info(title = "创城通 API", description = "Civilized-city campaign platform: organisation, units, teams, accounts, audit."),
    servers((url = "/api/v1")),
    modifiers(&BearerAuth),
    security(("bearer" = [])),
    components(schemas(ErrorBody, ErrorDetail)),
    tags((name = "auth", description = "登录与会话"), (name = "org", description = "区域"), (name = "units", description = "责任单位与通讯录"),
         (name = "teams", description = "督导组"), (name = "users", description = "用户"), (name = "audit", description = "审计日志"),
         (name = "reports", description = "市民反映（随手拍、Open311）的核实"),
         (name = "calendar", description = "工作日历"), (name = "points", description = "点位与网格"),
         (name = "standards", description = "标准台账"), (name = "problems", description = "问题台账与整改闭环"), (name = "scoring", description = "千分制考核、排名与流动红旗"),
         (name = "dashboard", description = "数据看板"), (name = "windows", description = "窗口服务：服务窗口、好差评、差评工单与月度统计"),
         (name = "community", description = "社区工作：文明单位申报"))
)]
pub struct ApiDoc;

/// The OpenAPI document of this API.
async fn openapi_json() -> impl axum::response::IntoResponse {
    static DOC: std::sync::LazyLock<String> =
        std::sync::LazyLock::new(|| serde_json::to_string(&openapi()).expect("the OpenAPI document serializes"));
    ([(axum::http::header::CONTENT_TYPE, "application/json")], DOC.as_str())
}
