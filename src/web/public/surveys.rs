//! The public's questionnaire (/public/surveys/{token}, reached by the link or QR code): the
//! resident chooses their community, answers (skipped questions hidden), proves the phone with
//! a text-message code and submits; one answer per phone.

use super::pages::{PublicLayout, form_token, layout, posted, with_cookie};
use crate::domain::evaluation::{Answers, Question};
use crate::domain::validate::FieldErrors;
use crate::error::AppError;
use crate::service::surveys::{self as svc, Survey};
use crate::web::AppState;
use crate::web::error::PageResult;
use crate::web::pages::surveys::{answers_of, communities, typed_of};
use crate::web::query::Query;
use crate::web::ui::Opt;
use askama::Template;
use askama_web::WebTemplate;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use std::collections::HashSet;

#[derive(Template, WebTemplate)]
#[template(path = "public/survey.html")]
pub struct SurveyPage {
    p: PublicLayout,
    s: Survey,
    questions: Vec<Question>,
    communities: Vec<Opt>,
    csrf: String,
    community: String,
    phone: String,
    typed: HashSet<String>,
    answers: Answers,
    errors: FieldErrors,
    message: Option<String>,
    done: bool,
}

impl SurveyPage {
    fn is_typed(&self, q: &str, option: impl std::fmt::Display) -> bool {
        self.typed.contains(&format!("{q}={option}"))
    }

    fn text_of(&self, q: &str) -> String {
        self.answers.get(q).and_then(|v| v.first()).cloned().unwrap_or_default()
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct Flash {
    #[serde(default)]
    ok: Option<String>,
}

struct Typed {
    community: String,
    phone: String,
    answers: Answers,
    errors: FieldErrors,
    message: Option<String>,
}

async fn page(state: &AppState, headers: &HeaderMap, token: &str, t: Typed, done: bool) -> PageResult<Response> {
    let s = svc::by_token(&state.db, token).await?;
    let (csrf, set) = form_token(headers, state.config.secure_cookies);
    let p = layout(&state.db, "surveys", &s.name).await;
    let page = SurveyPage {
        p,
        questions: s.parsed(),
        communities: communities(&state.db).await?,
        csrf,
        community: t.community,
        phone: t.phone,
        typed: typed_of(&t.answers),
        answers: t.answers,
        errors: t.errors,
        message: t.message,
        done,
        s,
    };
    Ok(with_cookie(page, set))
}

pub async fn show(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(token): Path<String>,
    Query(f): Query<Flash>,
) -> PageResult<Response> {
    let done = f.ok.as_deref() == Some("done");
    let t = Typed {
        community: String::new(),
        phone: String::new(),
        answers: Answers::new(),
        errors: FieldErrors::default(),
        message: None,
    };
    page(&state, &headers, &token, t, done).await
}

pub async fn submit(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(token): Path<String>,
    body: Bytes,
) -> PageResult<Response> {
    let form: Vec<(String, String)> = match posted(&headers, &body, "页面已过期，请刷新后再试") {
        Ok(f) => f,
        Err(r) => return Ok(r),
    };
    let field = |k: &str| form.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone()).unwrap_or_default();
    let (community, phone) = (field("community_id"), field("phone"));
    let answers = answers_of(&form);
    let result = if field("step") == "code" {
        svc::send_code(&state.db, &token, &phone)
            .await
            .map(|code| Some(crate::service::phone_codes::sent_message(&state.config, &code, "请填入6位数字后提交")))
    } else {
        svc::answer_public(&state.db, &token, (&phone, &field("code"), &community), answers.clone()).await.map(|_| None)
    };
    match result {
        Ok(None) => Ok(axum::response::Redirect::to(&format!("/public/surveys/{token}?ok=done")).into_response()),
        Ok(Some(message)) => {
            let t = Typed { community, phone, answers, errors: FieldErrors::default(), message: Some(message) };
            page(&state, &headers, &token, t, false).await
        }
        Err(e @ (AppError::Validation(_) | AppError::Refused(..))) => {
            let status = e.status();
            let errors = crate::web::pages::form_errors(e)?;
            let t = Typed { community, phone, answers, errors, message: None };
            Ok((status, page(&state, &headers, &token, t, false).await?).into_response())
        }
        Err(e) => Err(e.into()),
    }
}
