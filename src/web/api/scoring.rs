//! 千分制 over the API: rules (draft, preview, publish), rankings, ledgers, red flags,
//! commendations and clean inspections.

use super::{Created, ErrorBody, Id, InClass, JsonBody, Page};
use crate::domain::score::RuleSet;
use crate::service::scoring::{self as svc, AwardQuery, Ledger, Ranking, SpanKind, WhatIf, YearAssessment, parse_day};
use crate::store::scoring::{self as store, Award, Scheme};
use crate::web::auth::ApiUser;
use crate::web::error::ApiResult;
use crate::web::list::{self, Paging};
use crate::web::lists::Awards;
use crate::web::query::Query;
use axum::Json;
use axum::extract::Path;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

#[derive(Deserialize, IntoParams, Default)]
pub struct PeriodQuery {
    /// week (default), month, quarter or year
    period: Option<String>,
    /// A day inside the period, YYYY-MM-DD (default: today)
    date: Option<String>,
}

impl PeriodQuery {
    fn parse(&self) -> Result<(SpanKind, chrono::NaiveDate), crate::error::AppError> {
        Ok((SpanKind::parse(self.period.as_deref().unwrap_or(""))?, parse_day(self.date.as_deref())?))
    }
}

#[derive(Serialize, ToSchema)]
pub struct Rules {
    published: Scheme,
    published_rules: RuleSet,
    draft: Option<Scheme>,
    draft_rules: Option<RuleSet>,
    /// Every version, newest first
    versions: Vec<Scheme>,
}

/// The rules of a class: published, draft and history.
#[utoipa::path(get, path = "/scoring/{class}/rules", tag = "scoring", params(("class" = String, Path, description = "community, street, unit or window")),
    responses((status = 200, body = Rules), (status = 400, body = ErrorBody)))]
pub async fn rules(api: ApiUser, InClass(class): InClass) -> ApiResult<Json<Rules>> {
    let db = &api.state.db;
    let (published, published_rules) = svc::published(db, class).await?;
    let draft = store::scheme_in(db, class, crate::domain::standard::Publication::Draft).await?;
    let draft_rules = draft.as_ref().and_then(|d| serde_json::from_str(&d.rules).ok());
    Ok(Json(Rules { published, published_rules, draft, draft_rules, versions: store::schemes(db, class).await? }))
}

#[derive(Deserialize, ToSchema)]
pub struct RulesDraft {
    rules: RuleSet,
    /// The draft's version when it was read (optimistic locking)
    version: Option<i64>,
}

/// Saves the draft rules of a class (admin). Invalid rules are refused whole.
#[utoipa::path(put, path = "/scoring/{class}/draft", tag = "scoring", params(("class" = String, Path)), request_body = RulesDraft,
    responses((status = 200, body = Scheme), (status = 422, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn save_draft(
    api: ApiUser,
    InClass(class): InClass,
    JsonBody(req): JsonBody<RulesDraft>,
) -> ApiResult<Json<Scheme>> {
    Ok(Json(svc::save_draft(&api.ctx(), class, req.rules, req.version).await?))
}

#[derive(Deserialize, IntoParams, Default)]
pub struct PreviewQuery {
    /// week (default), month, quarter or year
    period: Option<String>,
    /// A day inside the period, YYYY-MM-DD (default: today)
    date: Option<String>,
    /// A day of the week the draft would take effect in, YYYY-MM-DD (default: the current week)
    effective_from: Option<String>,
}

/// A day, or None when the field is empty.
fn optional_day(s: Option<&str>) -> Result<Option<chrono::NaiveDate>, crate::error::AppError> {
    match s.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(d) => parse_day(Some(d)).map(Some),
    }
}

/// What-if: every target's score and rank under the published rules and with the draft
/// published from the given week (admin).
#[utoipa::path(get, path = "/scoring/{class}/preview", tag = "scoring", params(("class" = String, Path), PreviewQuery),
    responses((status = 200, body = Vec<WhatIf>), (status = 409, body = ErrorBody)))]
pub async fn preview(
    api: ApiUser,
    InClass(class): InClass,
    Query(q): Query<PreviewQuery>,
) -> ApiResult<Json<Vec<WhatIf>>> {
    let kind = SpanKind::parse(q.period.as_deref().unwrap_or(""))?;
    let day = parse_day(q.date.as_deref())?;
    let effective = optional_day(q.effective_from.as_deref())?;
    Ok(Json(svc::preview(&api.ctx(), class, kind, day, effective).await?))
}

#[derive(Deserialize, ToSchema, Default)]
pub struct PublishRequest {
    /// A day of the first week the rules score, YYYY-MM-DD (default: the current week; not
    /// before the end of a period whose notice or red flags are published)
    #[serde(default)]
    effective_from: Option<String>,
}

/// Publishes the draft rules (admin): they score every week from the effective week on.
#[utoipa::path(post, path = "/scoring/{class}/publish", tag = "scoring", params(("class" = String, Path)), request_body = PublishRequest,
    responses((status = 200, body = Scheme), (status = 409, body = ErrorBody)))]
pub async fn publish(
    api: ApiUser,
    InClass(class): InClass,
    JsonBody(req): JsonBody<PublishRequest>,
) -> ApiResult<Json<Scheme>> {
    let effective = optional_day(req.effective_from.as_deref())?;
    Ok(Json(svc::publish(&api.ctx(), class, effective).await?))
}

#[derive(Deserialize, IntoParams, Default)]
pub struct YearQuery {
    /// The year, e.g. 2026 (default: this year)
    year: Option<String>,
}

/// The year-end assessment (年度考核) of a class: the quarter scores combined by the weights
/// of the rules.
#[utoipa::path(get, path = "/scoring/{class}/annual", tag = "scoring", params(("class" = String, Path), YearQuery),
    responses((status = 200, body = YearAssessment), (status = 400, body = ErrorBody)))]
pub async fn annual(
    api: ApiUser,
    InClass(class): InClass,
    Query(q): Query<YearQuery>,
) -> ApiResult<Json<YearAssessment>> {
    let year = svc::parse_year(q.year.as_deref())?;
    Ok(Json(svc::year_assessment(&api.state.db, class, year).await?))
}

/// The ranking of a class for a period, with the previous period's ranks, the last place and red flags.
#[utoipa::path(get, path = "/scoring/{class}/ranking", tag = "scoring", params(("class" = String, Path), PeriodQuery),
    responses((status = 200, body = Ranking), (status = 400, body = ErrorBody)))]
pub async fn ranking(api: ApiUser, InClass(class): InClass, Query(q): Query<PeriodQuery>) -> ApiResult<Json<Ranking>> {
    let (kind, day) = q.parse()?;
    Ok(Json(svc::ranking(&api.state.db, class, kind, day).await?))
}

/// One target's score ledger: base + every entry with its cause.
#[utoipa::path(get, path = "/scoring/{class}/ledger/{target}", tag = "scoring", params(("class" = String, Path), ("target" = String, Path), PeriodQuery),
    responses((status = 200, body = Ledger), (status = 404, body = ErrorBody)))]
pub async fn ledger(
    api: ApiUser,
    InClass(class): InClass,
    Path((_class, target)): Path<(String, String)>,
    Query(q): Query<PeriodQuery>,
) -> ApiResult<Json<Ledger>> {
    let (kind, day) = q.parse()?;
    Ok(Json(svc::ledger(&api.ctx(), class, &target, kind, day).await?))
}

#[derive(Deserialize, ToSchema)]
pub struct RedFlagRequest {
    /// A day of the week to award, YYYY-MM-DD
    date: String,
}

/// Awards a finished week's mobile red flags to the best of the class (admin, once per week).
#[utoipa::path(post, path = "/scoring/{class}/red-flags", tag = "scoring", params(("class" = String, Path)), request_body = RedFlagRequest,
    responses((status = 201, body = Vec<Award>), (status = 409, body = ErrorBody)))]
pub async fn red_flags(
    api: ApiUser,
    InClass(class): InClass,
    JsonBody(req): JsonBody<RedFlagRequest>,
) -> ApiResult<Created<Vec<Award>>> {
    let day = parse_day(Some(&req.date))?;
    Ok(Created(svc::award_red_flags(&api.ctx(), class, day).await?))
}

/// Red flags and commendations of a class, newest first, filtered and paged: their history.
/// (`class` in the query is the path's.)
#[utoipa::path(get, path = "/scoring/{class}/awards", tag = "scoring", params(("class" = String, Path), AwardQuery, Paging),
    responses((status = 200, body = Page<Award>), (status = 400, body = ErrorBody)))]
pub async fn awards(
    api: ApiUser,
    InClass(class): InClass,
    Query(mut q): Query<AwardQuery>,
    Query(p): Query<Paging>,
) -> ApiResult<Json<Page<Award>>> {
    q.class = class.as_str().into();
    list::api::<Awards>(&api, &q, &p).await
}

#[derive(Deserialize, ToSchema)]
pub struct CommendRequest {
    target_id: String,
    note: String,
    /// The day of the commended deed, YYYY-MM-DD (default today; up to 90 days back)
    #[serde(default)]
    date: Option<String>,
}

/// Records a commendation (admin).
#[utoipa::path(post, path = "/scoring/{class}/commendations", tag = "scoring", params(("class" = String, Path)), request_body = CommendRequest,
    responses((status = 201, body = Award), (status = 422, body = ErrorBody)))]
pub async fn commend(
    api: ApiUser,
    InClass(class): InClass,
    JsonBody(req): JsonBody<CommendRequest>,
) -> ApiResult<Created<Award>> {
    Ok(Created(svc::commend(&api.ctx(), class, &req.target_id, &req.note, req.date.as_deref()).await?))
}

#[derive(Deserialize, ToSchema, Default)]
pub struct CleanRequest {
    #[serde(default)]
    note: String,
}

/// The id of the record made.
#[derive(Serialize, ToSchema)]
pub struct CreatedId {
    id: String,
}

/// Records that an inspected point was found clean (检查无问题).
#[utoipa::path(post, path = "/points/{id}/clean", tag = "scoring", params(("id" = String, Path)), request_body = CleanRequest,
    responses((status = 201, body = CreatedId), (status = 403, body = ErrorBody)))]
pub async fn clean(api: ApiUser, Path(id): Id, JsonBody(req): JsonBody<CleanRequest>) -> ApiResult<Created<CreatedId>> {
    let id = svc::record_clean(&api.ctx(), &id, &req.note).await?;
    Ok(Created(CreatedId { id }))
}
