//! The public's 十佳 page (/public/selections/{id}): the shortlist with each person's deeds, a
//! vote with the phone's text-message code (one vote per phone a day), the published result.

use super::pages::{Posted, PublicLayout, form_token, layout, posted, with_cookie};
use crate::domain::mutual::SelectionState;
use crate::error::AppError;
use crate::service::selections as svc;
use crate::store::selections::{NominationRow, Selection};
use crate::web::AppState;
use crate::web::error::PageResult;
use crate::web::query::Query;
use askama::Template;
use askama_web::WebTemplate;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

#[derive(Template, WebTemplate)]
#[template(path = "public/selection.html")]
pub struct SelectionPage {
    p: PublicLayout,
    s: Selection,
    rows: Vec<NominationRow>,
    csrf: String,
    phone: String,
    message: Option<String>,
    errors: Vec<String>,
}

#[derive(Debug, Default, Deserialize)]
pub struct Flash {
    #[serde(default)]
    ok: Option<String>,
    #[serde(default)]
    phone: String,
}

async fn page(
    state: &AppState,
    headers: &HeaderMap,
    id: &str,
    (phone, message, errors): (String, Option<String>, Vec<String>),
) -> PageResult<Response> {
    let s = svc::get(&state.db, id).await?;
    let mut rows = svc::visible_nominations(&state.db, &s, None).await?;
    if s.state == SelectionState::Published {
        rows.retain(|n| n.place.is_some());
    }
    let (csrf, set) = form_token(headers, state.config.secure_cookies);
    let p = layout(&state.db, "selections", &s.title).await;
    Ok(with_cookie(SelectionPage { p, s, rows, csrf, phone, message, errors }, set))
}

pub async fn show(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(f): Query<Flash>,
) -> PageResult<Response> {
    let message = match f.ok.as_deref() {
        Some("code") => Some("验证码已发送，请查看短信后选择并投票".to_string()),
        Some("voted") => Some("投票成功，感谢参与！每个手机号每天可投一票。".to_string()),
        _ => None,
    };
    page(&state, &headers, &id, (f.phone, message, Vec::new())).await
}

#[derive(Debug, Default, Deserialize)]
pub struct VoteForm {
    #[serde(default, rename = "_csrf")]
    csrf: String,
    #[serde(default)]
    phone: String,
    #[serde(default)]
    code: String,
    #[serde(default)]
    nomination_id: String,
    /// "code": send a code; anything else: vote
    #[serde(default)]
    step: String,
}

impl Posted for VoteForm {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

pub async fn vote(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> PageResult<Response> {
    let f: VoteForm = match posted(&headers, &body, "页面已过期，请刷新后再试") {
        Ok(f) => f,
        Err(r) => return Ok(r),
    };
    let result = if f.step == "code" {
        match svc::send_code(&state.db, &id, &f.phone).await {
            // A demo without a text gateway shows the code on the page itself.
            Ok(code) if state.config.shows_sms_codes() => {
                let message = crate::service::phone_codes::sent_message(&state.config, &code, "请选择后投票");
                return page(&state, &headers, &id, (f.phone.clone(), Some(message), Vec::new())).await;
            }
            other => other.map(|_| "code"),
        }
    } else {
        svc::public_vote(&state.db, &id, &f.nomination_id, &f.phone, &f.code).await.map(|_| "voted")
    };
    match result {
        Ok(ok) => {
            let phone = crate::domain::urlencode(f.phone.trim());
            Ok(Redirect::to(&format!("/public/selections/{id}?ok={ok}&phone={phone}")).into_response())
        }
        Err(e @ (AppError::Validation(_) | AppError::Refused(..))) => {
            let status = e.status();
            let errors = crate::web::error::message_of(&e).split('；').map(str::to_string).collect();
            let res = page(&state, &headers, &id, (f.phone.clone(), None, errors)).await?;
            Ok((status, res).into_response())
        }
        Err(e) => Err(e.into()),
    }
}
