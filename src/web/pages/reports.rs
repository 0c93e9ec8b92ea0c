//! Staff pages for residents' reports: the triage (verify or void) and the Open311 keys.

use crate::domain::citizen;
use crate::domain::time::fmt_local;
use crate::error::AppError;
use crate::service::access::require_admin;
use crate::service::reports::{self as svc, ForTriage, VerifyInput, VoidInput};
use crate::store::reports::{self as store, ApiKey};
use crate::web::auth::{CsrfForm, PageUser};
use crate::web::error::PageResult;
use crate::web::ui::Layout;
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

#[derive(Template, WebTemplate)]
#[template(path = "reports/detail.html")]
pub struct DetailPage {
    l: Layout,
    t: ForTriage,
    state: &'static str,
    created: String,
    feedback: String,
    errors: Vec<String>,
}

async fn detail_page(page: &PageUser, id: &str, errors: Vec<String>) -> PageResult<DetailPage> {
    let ctx = page.ctx();
    let t = svc::for_triage(&ctx, id).await?;
    let problem_state = match &t.report.problem_id {
        Some(p) => crate::store::problems::get(ctx.db, p).await?.map(|p| p.state),
        None => None,
    };
    let r = &t.report;
    let feedback = match r.satisfaction {
        Some(l) => format!(
            "{}，{}{}",
            if r.fixed == Some(1) { "已解决" } else { "未解决（已退回重办）" },
            citizen::satisfaction_label(l),
            if r.feedback_note.is_empty() { String::new() } else { format!("：{}", r.feedback_note) }
        ),
        None => String::new(),
    };
    Ok(DetailPage {
        l: Layout::new(&page.user, "reports", format!("市民反映 {}", t.report.code)),
        state: citizen::public_state(r.state, problem_state),
        created: fmt_local(r.created_at),
        feedback,
        errors,
        t,
    })
}

pub async fn detail(page: PageUser, Path(id): Path<String>) -> PageResult<DetailPage> {
    detail_page(&page, &id, Vec::new()).await
}

/// A refusal of the form shown on the page again; anything else as an error page.
async fn or_again(page: &PageUser, id: &str, e: AppError) -> PageResult<Response> {
    let message = match e {
        AppError::Validation(f) => f.0.iter().map(|x| x.message.clone()).collect(),
        AppError::Refused(_, m) => vec![m],
        other => return Err(other.into()),
    };
    Ok((StatusCode::UNPROCESSABLE_ENTITY, detail_page(page, id, message).await?).into_response())
}

pub async fn verify(Path(id): Path<String>, CsrfForm { page, form }: CsrfForm<VerifyInput>) -> PageResult<Response> {
    match svc::verify(&page.ctx(), &id, form).await {
        Ok(r) => {
            page.state.public.forget();
            Ok(Redirect::to(&format!("/problems/{}", r.problem_id.unwrap_or_default())).into_response())
        }
        Err(e) => or_again(&page, &id, e).await,
    }
}

pub async fn void(Path(id): Path<String>, CsrfForm { page, form }: CsrfForm<VoidInput>) -> PageResult<Response> {
    match svc::void(&page.ctx(), &id, form).await {
        Ok(_) => {
            page.state.public.forget();
            Ok(Redirect::to("/reports").into_response())
        }
        Err(e) => or_again(&page, &id, e).await,
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "reports/keys.html")]
pub struct KeysPage {
    l: Layout,
    /// key, issued, last used
    keys: Vec<(ApiKey, String, String)>,
    new_key: Option<String>,
    errors: Vec<String>,
}

async fn keys_page(page: &PageUser, new_key: Option<String>, errors: Vec<String>) -> PageResult<KeysPage> {
    require_admin(&page.user)?;
    let keys = store::keys(&page.state.db)
        .await?
        .into_iter()
        .map(|k| {
            let (a, b) = (fmt_local(k.created_at), k.last_used_at.map(fmt_local).unwrap_or_else(|| "从未".into()));
            (k, a, b)
        })
        .collect();
    Ok(KeysPage { l: Layout::new(&page.user, "open311_keys", "Open311接口密钥"), keys, new_key, errors })
}

pub async fn keys(page: PageUser) -> PageResult<KeysPage> {
    keys_page(&page, None, Vec::new()).await
}

#[derive(Deserialize, Default)]
pub struct KeyForm {
    #[serde(default)]
    name: String,
}

pub async fn issue(CsrfForm { page, form }: CsrfForm<KeyForm>) -> PageResult<Response> {
    match svc::issue_key(&page.ctx(), &form.name).await {
        Ok((_, key)) => Ok(keys_page(&page, Some(key), Vec::new()).await?.into_response()),
        Err(AppError::Validation(e)) => {
            let errors = e.0.iter().map(|x| x.message.clone()).collect();
            Ok((StatusCode::UNPROCESSABLE_ENTITY, keys_page(&page, None, errors).await?).into_response())
        }
        Err(AppError::Refused(code, message)) => {
            let status = StatusCode::from_u16(code.status()).unwrap_or(StatusCode::CONFLICT);
            Ok((status, keys_page(&page, None, vec![message]).await?).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

pub async fn revoke(Path(id): Path<String>, CsrfForm { page, .. }: CsrfForm<KeyForm>) -> PageResult<Response> {
    svc::revoke_key(&page.ctx(), &id).await?;
    Ok(Redirect::to("/open311/keys").into_response())
}
