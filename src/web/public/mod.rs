//! The public side (no login): 随手拍 reports, the reporter's status page and feedback, the 公示
//! pages (reports, closed problems with before/after photos, the 曝光台 of overdue problems,
//! notices and the ranking), Atom/RSS feeds and the Open311 GeoReport v2 API. Everything here
//! passes `gate::guard`: rate-limited per client, a few requests at work at once, and the pages
//! that are the same for everyone cached for half a minute. No personal data is ever shown.

mod community;
mod feeds;
pub mod gate;
pub mod open311;
mod pages;
mod rate;
mod selections;
mod surveys;

pub(crate) use pages::{base_url, qr_svg};

use super::AppState;
use super::limits;
use axum::Router;
use axum::routing::{get, post};

pub fn routes(state: AppState) -> Router<AppState> {
    Router::new()
        .route("/public", get(pages::index))
        .route("/public/closed", get(pages::closed))
        .route("/public/exposure", get(pages::exposure))
        .route("/public/notices", get(pages::notices))
        .route("/public/notices/{id}", get(pages::notice))
        .route("/public/notices/{id}/docx", get(pages::notice_docx))
        .route("/public/report", get(pages::report_form).merge(limits::public_photos(post(pages::report_submit))))
        .route("/public/report/nearby.json", get(pages::nearby))
        .route("/public/report/places.json", get(pages::places))
        .route("/public/report/support", post(pages::support))
        .route("/public/report/poster", get(pages::poster))
        .route("/public/report/qr.svg", get(pages::qr))
        .route("/public/status", get(pages::status_form).post(pages::status_lookup))
        .route("/public/s/{token}", get(pages::status_by_link))
        .route("/public/status/feedback", post(pages::feedback))
        .route("/public/photos/{id}", get(pages::photo))
        .route("/public/reports/{code}", get(pages::report_detail))
        .route("/public/feed.atom", get(feeds::atom))
        .route("/public/feed.rss", get(feeds::rss))
        .route("/rate/{code}", get(rate::form).post(rate::submit))
        .route("/rate/{code}/thanks", get(rate::thanks))
        .route("/rate/r/{token}", get(rate::status).post(rate::rate_fix))
        .route("/public/status/case-fix", post(rate::rate_fix_by_code))
        .route("/public/selections/{id}", get(selections::show).post(selections::vote))
        .route("/public/surveys/{token}", get(surveys::show).post(surveys::submit))
        .route("/public/serve/{id}", get(community::sign_form).post(community::sign))
        .route("/public/volunteer/{id}", get(community::signup_form).post(community::signup))
        .route("/public/deliberation", get(community::deliberation).post(community::suggest))
        .route("/public/civilized-units", get(community::civilized))
        .merge(open311::routes())
        .layer(axum::middleware::from_fn_with_state(state, gate::guard))
}
