//! The JSON API (`/api/v1`), authenticated by bearer tokens from `POST /api/v1/auth/login`.
//! Errors are `{"error": {"code", "message", "fields"?}}` with a stable English `code` and a
//! Chinese `message`. Times are UTC epoch milliseconds.

mod audit;
mod auth;
mod calendar;
mod daily;
mod notices;
mod org;
mod points;
mod problems;
mod scoring;
mod standards;
mod tasks;
mod teams;
mod units;
mod users;

use super::AppState;
use super::error::ApiError;
use crate::error::AppError;
use crate::error::Code;
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use axum::routing::{get, post, put};
use axum::{Json, Router};
use serde::Serialize;
use serde::de::DeserializeOwned;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi, ToSchema};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/openapi.json", get(openapi_json))
        .route("/auth/login", post(auth::login))
        .route("/auth/logout", post(auth::logout))
        .route("/me", get(auth::me))
        .route("/me/password", put(auth::change_password))
        .route("/org/nodes", get(org::list).post(org::create))
        .route("/org/nodes/{id}", get(org::get).put(org::update).delete(org::delete))
        .route("/units", get(units::list).post(units::create))
        .route("/units/{id}", get(units::get).put(units::update))
        .route("/units/{id}/contacts", get(units::contacts).post(units::add_contact))
        .route("/contacts/{id}", put(units::update_contact).delete(units::delete_contact))
        .route("/units/{id}/tasks", get(tasks::list).post(tasks::create))
        .route("/tasks/{id}", put(tasks::update))
        .route("/contact-levels", get(units::levels).post(units::add_level))
        .route("/contact-levels/{id}", put(units::update_level).delete(units::delete_level))
        .route("/teams", get(teams::list).post(teams::create))
        .route("/teams/{id}", get(teams::get).put(teams::update).delete(teams::delete))
        .route("/users", get(users::list).post(users::create))
        .route("/users/{id}", get(users::get).put(users::update))
        .route("/users/{id}/password", put(users::reset_password))
        .route("/audit", get(audit::list))
        .route("/points", get(points::list).post(points::create))
        .route("/points/import", post(points::import_points))
        .route("/points/{id}", get(points::get).put(points::update))
        .route("/point-types", get(points::types).post(points::create_type))
        .route("/point-types/{id}", put(points::update_type))
        .route("/grids", get(points::grids))
        .route("/grids/import", post(points::import_grids))
        .route("/lookup", get(points::lookup))
        .route("/points/{id}/checklist", get(standards::checklist))
        .route("/standards", get(standards::versions).post(standards::create_draft))
        .route("/standards/{id}/items", get(standards::items).post(standards::add_item))
        .route("/standards/{id}/publish", post(standards::publish))
        .route("/standard-items/{id}", put(standards::update_item))
        .route(
            "/problems",
            get(problems::list).post(problems::file).layer(axum::extract::DefaultBodyLimit::max(256 * 1024 * 1024)),
        )
        .route("/problems/{id}", get(problems::get))
        .route("/kpi", get(problems::kpi))
        .route("/rounds", get(daily::rounds))
        .route("/escalation", get(daily::escalation))
        .route("/inbox", get(daily::inbox))
        .route("/inbox/read", post(daily::read_all))
        .route("/deliveries", get(daily::deliveries))
        .route("/scoring/{class}/rules", get(scoring::rules))
        .route("/scoring/{class}/draft", put(scoring::save_draft))
        .route("/scoring/{class}/preview", get(scoring::preview))
        .route("/scoring/{class}/publish", post(scoring::publish))
        .route("/scoring/{class}/ranking", get(scoring::ranking))
        .route("/scoring/{class}/annual", get(scoring::annual))
        .route("/scoring/{class}/ledger/{target}", get(scoring::ledger))
        .route("/scoring/{class}/red-flags", post(scoring::red_flags))
        .route("/scoring/{class}/awards", get(scoring::awards))
        .route("/scoring/{class}/commendations", post(scoring::commend))
        .route("/points/{id}/clean", post(scoring::clean))
        .route("/notices", get(notices::list).post(notices::generate))
        .route("/notices/{id}", get(notices::get).put(notices::edit))
        .route("/notices/{id}/publish", post(notices::publish))
        .route("/notices/{id}/read", post(notices::confirm))
        .route("/notices/{id}/reads", get(notices::reads))
        .route("/notices/{id}/docx", get(notices::docx))
        .route("/interviews", get(notices::interviews).post(notices::create_interview))
        .route("/interviews/{id}", put(notices::interview_outcome))
        .route("/problems/{id}/merge", post(problems::merge))
        .route(
            "/problems/{id}/actions/{action}",
            post(problems::act).layer(axum::extract::DefaultBodyLimit::max(256 * 1024 * 1024)),
        )
        .route("/calendar", get(calendar::years))
        .route("/calendar/deadline", get(calendar::deadline))
        .route("/calendar/{year}", get(calendar::year).put(calendar::put_year))
        .fallback(api_not_found)
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
                _ => AppError::refuse(
                    Code::InvalidJson,
                    format!("{}：{}", Code::InvalidJson.message(), rejection.body_text()),
                ),
            })),
        }
    }
}

/// One page of a list. Keyset lists (the problem ledger) also give the cursors to follow with
/// `after` / `before`; `page` is then the page number the caller carried along.
#[derive(Serialize, ToSchema)]
pub struct Page<T: ToSchema> {
    pub items: Vec<T>,
    pub total: i64,
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
    paths(
        auth::login, auth::logout, auth::me, auth::change_password,
        org::list, org::create, org::get, org::update, org::delete,
        units::list, units::create, units::get, units::update, units::contacts, units::add_contact,
        units::update_contact, units::delete_contact, units::levels, units::add_level, units::update_level, units::delete_level,
        teams::list, teams::create, teams::get, teams::update, teams::delete,
        users::list, users::create, users::get, users::update, users::reset_password,
        audit::list,
        calendar::years, calendar::year, calendar::put_year, calendar::deadline,
        points::list, points::create, points::get, points::update, points::types, points::grids, points::import_grids, points::lookup, points::import_points, points::create_type, points::update_type,
        standards::versions, standards::items, standards::create_draft, standards::add_item, standards::update_item, standards::publish, standards::checklist,
        tasks::list, tasks::create, tasks::update,
        problems::file, problems::list, problems::get, problems::act, problems::kpi, problems::merge,
        daily::rounds, daily::escalation, daily::inbox, daily::read_all, daily::deliveries,
        scoring::rules, scoring::save_draft, scoring::preview, scoring::publish, scoring::ranking, scoring::annual, scoring::ledger,
        scoring::red_flags, scoring::awards, scoring::commend, scoring::clean,
        notices::list, notices::generate, notices::get, notices::edit, notices::publish, notices::confirm, notices::reads, notices::docx,
        notices::interviews, notices::create_interview, notices::interview_outcome,
    ),
    components(schemas(ErrorBody, ErrorDetail)),
    tags((name = "auth", description = "登录与会话"), (name = "org", description = "区域"), (name = "units", description = "责任单位与通讯录"),
         (name = "teams", description = "督导组"), (name = "users", description = "用户"), (name = "audit", description = "审计日志"),
         (name = "calendar", description = "工作日历"), (name = "points", description = "点位与网格"),
         (name = "standards", description = "标准台账"), (name = "problems", description = "问题台账与整改闭环"), (name = "scoring", description = "千分制考核、排名与流动红旗"))
)]
pub struct ApiDoc;

/// The OpenAPI document of this API.
async fn openapi_json() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}
