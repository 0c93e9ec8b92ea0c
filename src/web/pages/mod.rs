//! Server-rendered pages in Simplified Chinese.

mod account;
mod calendar;
mod civilized;
mod daily;
mod dashboard;
mod deliberation;
mod evaluations;
mod exchange;
mod grids;
mod home;
mod indicators;
pub mod kpi;
mod levels;
mod login;
mod map;
mod materials;
mod mutual;
mod notices;
mod notify;
mod org;
mod photos;
mod point_types;
mod points;
mod problems;
mod reports;
mod rounds;
mod scores;
mod selections;
pub mod standards;
pub mod surveys;
mod tasks;
mod teams;
mod units;
mod users;
mod volunteers;
mod windows;

use super::AppState;
use super::error::{PageResult, error_page};
use super::limits;
use super::list;
use super::lists;
use crate::domain::org::OrgLevel;
use axum::Router;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};

pub fn routes() -> Router<AppState> {
    Router::new()
        .merge(session_routes())
        .merge(org_routes())
        .merge(points_routes())
        .merge(problems_routes())
        .merge(campaign_routes())
        .merge(window_routes())
        .merge(evaluation_routes())
        .merge(community_routes())
}

/// Community work: daily reports and weekly summaries, volunteers, deliberation, civilized units.
fn community_routes() -> Router<AppState> {
    Router::new()
        .route("/daily-reports", get(daily::show).merge(limits::photos(post(daily::file))))
        .route("/daily-reports/{id}/problem", post(daily::to_problem))
        .route("/daily-reports/{id}/task", post(daily::to_task))
        .route("/daily-reports/weekly", get(daily::weekly_list).post(daily::draft))
        .route("/daily-reports/weekly/{id}", get(daily::summary).post(daily::summary_save))
        .route("/daily-reports/weekly/{id}/acknowledge", post(daily::summary_ack))
        .route("/volunteers", get(volunteers::list).post(volunteers::create))
        .route("/volunteers/teams", post(volunteers::create_team))
        .route("/volunteers/stations", post(volunteers::create_station))
        .route("/volunteers/activities", post(volunteers::create_activity))
        .route("/volunteers/activities/{id}", get(volunteers::activity))
        .route("/volunteers/residents", post(volunteers::residents))
        .route("/volunteers/records/{id}/confirm", post(volunteers::confirm))
        .route("/volunteers/{id}/certificate", get(volunteers::certificate))
        .route("/volunteers/import", get(volunteers::import_form).merge(limits::import(post(volunteers::import))))
        .route("/volunteers/import/template.xlsx", get(volunteers::template))
        .route("/deliberation", get(deliberation::list))
        .route("/deliberation/meetings", post(deliberation::create_meeting))
        .route("/deliberation/meetings/{id}", get(deliberation::meeting))
        .route("/deliberation/meetings/{id}/suggestions", post(deliberation::add_suggestion))
        .route("/deliberation/meetings/{id}/minutes.docx", get(deliberation::minutes))
        .route("/deliberation/suggestions/{id}", post(deliberation::handle))
        .route("/civilized-units", get(civilized::list).merge(limits::materials(post(civilized::apply))))
        .route("/civilized-units/publish", post(civilized::publish))
        .route("/civilized-units/{id}", get(civilized::show))
        .route("/civilized-units/{id}/review", post(civilized::review))
        .route("/civilized-units/{id}/revoke", post(civilized::revoke))
        .route("/civilized-units/files/{id}", get(civilized::file))
}

/// The evaluation season: the evaluation system, simulated rounds, materials, surveys and the
/// city's indicators.
fn evaluation_routes() -> Router<AppState> {
    Router::new()
        .route("/evaluations", get(evaluations::list).post(evaluations::create))
        .route("/evaluations/{id}", get(evaluations::round))
        .route("/evaluations/{id}/publish", post(evaluations::publish))
        .route("/evaluations/{id}/report.docx", get(evaluations::report_docx))
        .route("/evaluations/{id}/report.xlsx", get(evaluations::report_xlsx))
        .route("/evaluations/visits/{id}", get(evaluations::visit).merge(limits::photos(post(evaluations::score))))
        .route("/indicators", get(evaluations::system))
        .route("/indicators/export.xlsx", get(evaluations::system_xlsx))
        .route(
            "/indicators/import",
            get(exchange::eval_system_form).merge(limits::import(post(exchange::eval_system_import))),
        )
        .route("/indicators/{id}/publish", post(evaluations::system_publish))
        .route("/indicators/city", get(indicators::city).post(indicators::enter))
        .route("/indicators/city/region", post(indicators::region))
        .route("/materials", get(materials::list).post(materials::create))
        .route("/materials/tasks/{id}", get(materials::task).merge(limits::materials(post(materials::submit))))
        .route("/materials/tasks/{id}/review", post(materials::review))
        .route("/materials/files/{id}", get(materials::file))
        .route("/materials/{id}/package.zip", get(materials::package))
        .route("/surveys", get(surveys::list).post(surveys::create))
        .route("/surveys/{id}", get(surveys::show))
        .route("/surveys/{id}/questions", post(surveys::add_question))
        .route("/surveys/{id}/questions/{qid}/delete", post(surveys::delete_question))
        .route("/surveys/{id}/open", post(surveys::open))
        .route("/surveys/{id}/close", post(surveys::close))
        .route("/surveys/{id}/respond", get(surveys::respond_form).post(surveys::respond))
        .route("/surveys/{id}/analysis", get(surveys::analysis))
        .route("/surveys/{id}/report.docx", get(surveys::report_docx))
        .route("/surveys/{id}/responses.xlsx", get(surveys::responses_xlsx))
}

/// Window service: windows, staff, devices, ratings, bad-rating cases and the monthly figures.
fn window_routes() -> Router<AppState> {
    Router::new()
        .route("/windows", get(list::show::<lists::windows::Windows>))
        .route("/windows/new", get(windows::new_form).post(windows::create))
        .route("/windows/qr", get(windows::qr_sheet))
        .route("/windows/staff", get(windows::staff).post(windows::add_staff))
        .route("/windows/devices", get(windows::devices).post(windows::issue_device))
        .route("/windows/devices/{id}/revoke", post(windows::revoke_device))
        .route("/windows/settings", post(windows::save_rules))
        .route("/windows/figures", get(list::show::<lists::windows::WindowRanking>))
        .route("/windows/{id}", get(windows::detail))
        .route("/windows/{id}/edit", post(windows::update))
        .route("/windows/{id}/volume", post(windows::volume))
        .route("/windows/{id}/token", post(windows::token))
        .route("/ratings", get(list::show::<lists::windows::Ratings>))
        .route("/rating-cases", get(list::show::<lists::windows::RatingCases>))
        .route("/rating-cases/{id}", get(windows::case))
        .route("/rating-cases/{id}/callback", get(windows::case_step).post(windows::callback))
        .route("/rating-cases/{id}/resolve", get(windows::case_step).post(windows::resolve))
        .route("/rating-cases/{id}/decide", get(windows::case_step).post(windows::decide))
        .route("/rating-cases/{id}/appeal", limits::photos(post(windows::appeal)).get(windows::case_step))
        .route("/selections", get(selections::list).post(selections::create))
        .route("/selections/{id}", get(selections::detail))
        .route("/selections/{id}/nominate", post(selections::nominate))
        .route("/selections/{id}/shortlist", post(selections::shortlist))
        .route("/selections/{id}/open", post(selections::open_vote))
        .route("/selections/{id}/vote", post(selections::vote))
        .route("/selections/{id}/publish", post(selections::publish))
        .route("/mutual", get(mutual::list).post(mutual::create))
        .route("/mutual/{id}", get(mutual::round))
        .route("/mutual/{id}/publish", post(mutual::publish))
        .route("/mutual/{id}/report.docx", get(mutual::report_docx))
        .route("/mutual/{id}/report.xlsx", get(mutual::report_xlsx))
        .route("/mutual/tasks/{id}", get(mutual::task).merge(limits::photos(post(mutual::inspect))))
}

/// Signing in and out, the start page, one's own password.
fn session_routes() -> Router<AppState> {
    Router::new()
        .route("/login", get(login::form).post(login::submit))
        .route("/login/verify", get(login::second_step_form).post(login::second_step_submit))
        .route("/account/two-step", get(account::two_step).post(account::two_step_start))
        .route("/account/two-step/confirm", post(account::two_step_confirm))
        .route("/account/two-step/codes", post(account::two_step_codes))
        .route("/account/two-step/disable", post(account::two_step_disable))
        .route("/logout", post(login::logout))
        .route("/", get(home::index))
        .route("/account/password", get(account::form).post(account::submit))
}

/// The organisation: areas, units and their contacts and tasks, teams, accounts, settings, the audit log.
fn org_routes() -> Router<AppState> {
    Router::new()
        .route("/org", get(list::show::<lists::Areas>))
        .route("/org/new", get(org::new_form).post(org::create))
        .route("/org/{id}/edit", get(org::edit_form).post(org::update))
        .route("/org/{id}/delete", post(org::delete))
        .route("/units", get(list::show::<lists::Units>))
        .route("/units/new", get(units::new_form).post(units::create))
        .route("/units/import", get(exchange::units_form).merge(limits::import(post(exchange::units_import))))
        .route("/units/template.xlsx", get(exchange::units_template))
        .route("/units/{id}", get(units::detail))
        .route("/units/{id}/edit", get(units::edit_form).post(units::update))
        .route("/units/{id}/contacts/new", get(units::new_contact_form).post(units::create_contact))
        .route("/contacts/{id}/edit", get(units::edit_contact_form).post(units::update_contact))
        .route("/contacts/{id}/delete", post(units::delete_contact))
        .route("/units/{id}/tasks", post(tasks::create))
        .route("/tasks/{id}/edit", get(tasks::edit_form).post(tasks::update))
        .route("/tasks/{id}/delete", post(tasks::delete))
        .route("/teams", get(list::show::<lists::Teams>))
        .route("/teams/new", get(teams::new_form).post(teams::create))
        .route("/teams/{id}", get(teams::detail))
        .route("/teams/{id}/edit", get(teams::edit_form).post(teams::update))
        .route("/teams/{id}/delete", post(teams::delete))
        .route("/users", get(list::show::<lists::Accounts>))
        .route("/users/new", get(users::new_form).post(users::create))
        .route("/users/{id}/edit", get(users::edit_form).post(users::update))
        .route("/users/{id}/password", get(users::password_form).post(users::reset_password))
        .route("/users/{id}/two-step/reset", post(users::reset_two_step))
        .route("/settings/contact-levels", get(levels::list).post(levels::create))
        .route("/settings/contact-levels/{id}", post(levels::update))
        .route("/settings/contact-levels/{id}/delete", post(levels::delete))
        .route("/settings/point-types", get(point_types::list).post(point_types::create))
        .route("/settings/point-types/{id}", post(point_types::update))
        .route("/audit", get(list::show::<lists::AuditLog>))
        .route("/settings/calendar", get(calendar::show))
        .route("/settings/calendar/template.json", get(calendar::template))
        .route("/settings/calendar/upload", limits::import(post(calendar::upload)))
        .route("/settings/calendar/hours", post(calendar::set_hours))
}

/// Points, photos, the map, grids and the standard ledger.
fn points_routes() -> Router<AppState> {
    Router::new()
        .route("/points", get(list::show::<lists::Points>))
        .route("/points/new", get(points::new_form).post(points::create))
        .route("/points/import", get(points::import_form).merge(limits::import(post(points::import))))
        .route("/points/template.xlsx", get(points::template))
        .route("/points/{id}", get(points::detail))
        .route("/points/{id}/clean", post(points::clean))
        .route("/points/{id}/edit", get(points::edit_form).post(points::update))
        .route("/points/{id}/photos", limits::photos(post(photos::upload)))
        .route("/photos/{id}", get(photos::original))
        .route("/photos/{id}/thumb", get(photos::thumbnail))
        .route("/photos/{id}/delete", post(photos::delete))
        .route("/map", get(map::page))
        .route("/map/data.json", get(map::data))
        .route("/map/lookup.json", get(map::lookup_json))
        .route("/lookup", get(map::lookup_page))
        .route("/grids", get(grids::list))
        .route("/grids/import", limits::import(post(grids::import)))
        .route("/grids/attributes", get(exchange::grids_form).merge(limits::import(post(exchange::grids_import))))
        .route("/standards", get(standards::list))
        .route("/standards/draft", post(standards::create_draft))
        .route("/standards/{id}/publish", post(standards::publish))
        .route("/standards/{id}/discard", post(standards::discard))
        .route(
            "/standards/{id}/import",
            get(exchange::standards_form).merge(limits::import(post(exchange::standards_import))),
        )
        .route("/standards/{id}/items/new", get(standards::new_item_form).post(standards::create_item))
        .route("/standards/items/{id}/edit", get(standards::edit_item_form).post(standards::update_item))
        .route("/standards/items/{id}/delete", post(standards::delete_item))
}

/// The problem ledger and its daily loop: filing, actions, KPIs, rounds, escalation.
fn problems_routes() -> Router<AppState> {
    Router::new()
        .route("/reports", get(list::show::<lists::Reports>))
        .route("/reports/{id}", get(reports::detail))
        .route("/reports/{id}/verify", post(reports::verify))
        .route("/reports/{id}/void", post(reports::void))
        .route("/open311/keys", get(reports::keys).post(reports::issue))
        .route("/open311/keys/{id}/revoke", post(reports::revoke))
        .route("/problems", get(list::show::<lists::Problems>))
        .route("/kpi", get(kpi::page))
        .route("/dashboard", get(dashboard::page))
        .route("/dashboard/screen", get(dashboard::screen))
        .route("/dashboard/data.json", get(dashboard::data))
        .route("/escalation", get(rounds::escalation))
        .route("/escalation/threshold", post(rounds::set_threshold))
        .route("/rounds", get(rounds::rounds))
        .route("/problems/new", get(problems::new_form).merge(limits::photos(post(problems::create))))
        .route("/problems/{id}", get(problems::detail))
        .route("/problems/{id}/merge", post(problems::merge))
        // A form refused renders at its action's address: reloading it (easy on a phone) goes
        // back to the problem instead of a 405.
        .route(
            "/problems/{id}/act/{action}",
            get(|axum::extract::Path((id, _)): axum::extract::Path<(String, String)>| async move {
                axum::response::Redirect::to(&format!("/problems/{}", crate::domain::urlencode(&id)))
            })
            .merge(limits::photos(post(problems::act))),
        )
}

/// Notices, interviews, scores and awards, the inbox and message deliveries.
fn campaign_routes() -> Router<AppState> {
    Router::new()
        .route("/interviews", get(notices::interviews).post(notices::create_interview))
        .route("/interviews/{id}/outcome", post(notices::interview_outcome))
        .route("/notices", get(notices::list).post(notices::generate))
        .route("/notices/settings", post(notices::save_settings))
        .route("/notices/{id}", get(notices::detail))
        .route("/notices/{id}/edit", post(notices::edit))
        .route("/notices/{id}/publish", post(notices::publish))
        .route("/notices/{id}/refresh", post(notices::refresh))
        .route("/notices/{id}/correct", post(notices::correct))
        .route("/notices/{id}/read", post(notices::confirm))
        .route("/notices/{id}/docx", get(notices::docx))
        .route("/notices/{id}/xlsx", get(notices::xlsx))
        .route("/notices/{id}/photos/{photo}", get(notices::photo))
        .route("/scores", get(scores::ranking))
        .route("/scores/annual", get(scores::annual))
        .route("/scores/rules", get(scores::rules).post(scores::save_rules))
        .route("/scores/rules/publish", post(scores::publish_rules))
        .route("/scores/red-flags", post(scores::award_flags))
        .route("/scores/awards", get(scores::awards))
        .route("/scores/commendations", post(scores::commend))
        .route("/scores/{class}/{target}", get(scores::ledger))
        .route("/inbox", get(notify::inbox))
        .route("/inbox/read", post(notify::read_all))
        .route("/units/{id}/webhooks", post(notify::add_webhook))
        .route("/webhooks/{id}/delete", post(notify::remove_webhook))
        .route("/deliveries", get(notify::deliveries))
        .route("/deliveries/{id}/retry", post(notify::retry))
}

pub async fn not_found() -> Response {
    error_page(StatusCode::NOT_FOUND, "您访问的页面不存在".into())
}

/// Empty query values mean "no filter".
pub fn opt(s: &Option<String>) -> Option<String> {
    crate::service::non_empty(s)
}

/// What a form post answers: on success a redirect to `to(saved)` (a `?ok=…` page); when the
/// input is refused, the form again with its field errors (422), drawn by `again`; any other
/// error is an error page. Every form handler answers through it.
pub async fn posted<T, P: axum::response::IntoResponse>(
    result: crate::error::AppResult<T>,
    to: impl FnOnce(T) -> String,
    again: impl AsyncFnOnce(crate::domain::validate::FieldErrors) -> PageResult<P>,
) -> PageResult<Response> {
    use axum::response::IntoResponse;
    match result {
        Ok(saved) => Ok(axum::response::Redirect::to(&to(saved)).into_response()),
        Err(e) => Ok((StatusCode::UNPROCESSABLE_ENTITY, again(form_errors(e)?).await?).into_response()),
    }
}

/// Errors a form can show next to its fields (or at its top, as `_form`); anything else is a
/// page error.
pub fn form_errors(e: crate::error::AppError) -> Result<crate::domain::validate::FieldErrors, crate::error::AppError> {
    use crate::domain::validate::FieldErrors;
    use crate::error::AppError;
    match e {
        AppError::Validation(f) => Ok(f),
        AppError::Refused(code, msg) => Ok(FieldErrors::single("_form", code, msg)),
        other => Err(other),
    }
}

/// Area options within a role's scope (None: every area): a community worker is offered only
/// its own community.
pub async fn scoped_area_options(
    db: &crate::store::Db,
    scope: Option<&Vec<String>>,
) -> Result<Vec<crate::web::ui::Opt>, sqlx::Error> {
    let all = area_options(db, false).await?;
    Ok(all.into_iter().filter(|o| scope.is_none_or(|s| s.contains(&o.value))).collect())
}

/// The areas a list's filter offers the reader: those within its scope (a grid worker's or street
/// worker's own area and what lies under it; every area for the others).
pub async fn area_filter_options(ctx: &crate::service::Ctx<'_>) -> crate::error::AppResult<Vec<crate::web::ui::Opt>> {
    let scope = crate::service::access::area_scope(ctx).await?;
    Ok(scoped_area_options(ctx.db, scope.as_ref()).await?)
}

/// Options for choosing an area: every node, indented by level under its parent (the name alone:
/// the division code means nothing to the reader, and the indentation tells same-named places apart).
pub async fn area_options(
    db: &crate::store::Db,
    include_compounds: bool,
) -> Result<Vec<crate::web::ui::Opt>, sqlx::Error> {
    let nodes = crate::store::org::all(db).await?;
    Ok(nodes
        .into_iter()
        .filter(|n| include_compounds || n.level != OrgLevel::Compound)
        .map(|n| {
            let depth = (n.code.len().saturating_sub(6)) / 3;
            crate::web::ui::Opt::new(n.id, format!("{}{}", "　".repeat(depth), n.name))
        })
        .collect())
}
