//! The signed-in user's own password and two-step sign-in.

use crate::domain::validate::FieldErrors;
use crate::service::two_step;
use crate::service::users::{self as svc, PasswordInput};
use crate::web::auth::{CsrfForm, Meta, PageUser};
use crate::web::error::PageResult;
use crate::web::query::Query;
use crate::web::ui::Layout;
use askama::Template;
use askama_web::WebTemplate;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

#[derive(Template, WebTemplate)]
#[template(path = "account/password.html")]
pub struct PasswordPage {
    l: Layout,
    errors: FieldErrors,
}

#[derive(Deserialize, Default)]
pub struct OkQuery {
    ok: Option<String>,
}

pub async fn form(page: PageUser, Query(q): Query<OkQuery>) -> PasswordPage {
    PasswordPage {
        l: Layout::new(&page.user, "password", "修改密码").with_flash(q.ok.as_deref()),
        errors: FieldErrors::default(),
    }
}

pub async fn submit(CsrfForm { page, form }: CsrfForm<PasswordInput>) -> PageResult<Response> {
    let saved = svc::change_own_password(&page.ctx(), form).await;
    super::posted(
        saved,
        |_| "/account/password?ok=password".into(),
        async |errors| {
            let l = Layout::new(&page.user, "password", "修改密码");
            Ok(PasswordPage { l, errors })
        },
    )
    .await
}

/// Two-step sign-in for the signed-in account: bind an authenticator, new recovery codes, off.
#[derive(Template, WebTemplate)]
#[template(path = "account/two_step.html")]
pub struct TwoStepPage {
    l: Layout,
    /// Since when it is on (Beijing time), None when off
    enabled_since: Option<String>,
    codes_left: i64,
    /// The deployment requires it of this account: it cannot be turned off
    mandatory: bool,
    enrolment: Option<two_step::Enrolment>,
    recovery_codes: Vec<String>,
    errors: FieldErrors,
    /// Whose codes they are, printed with them ("王建国（admin）")
    account: String,
    /// When they were made (Beijing time)
    codes_made: String,
}

impl TwoStepPage {
    async fn of(page: &PageUser, errors: FieldErrors) -> PageResult<TwoStepPage> {
        let s = two_step::status(&page.ctx()).await?;
        Ok(TwoStepPage {
            l: Layout::new(&page.user, "two_step", "两步验证"),
            enabled_since: s.enabled_at.map(crate::domain::time::fmt_local),
            codes_left: s.recovery_codes_left,
            mandatory: two_step::required(page.user.role, page.state.config.admins_two_step()),
            enrolment: None,
            recovery_codes: Vec::new(),
            errors,
            account: format!("{}（{}）", page.user.display_name, page.user.username),
            codes_made: crate::domain::time::fmt_local(crate::domain::time::now_ms())[..16].to_string(),
        })
    }
}

pub async fn two_step(page: PageUser, Query(q): Query<OkQuery>) -> PageResult<TwoStepPage> {
    let mut p = TwoStepPage::of(&page, FieldErrors::default()).await?;
    p.l = p.l.with_flash(q.ok.as_deref());
    Ok(p)
}

pub async fn two_step_start(meta: Meta, CsrfForm { page, form }: CsrfForm<CodeInput>) -> PageResult<Response> {
    match two_step::start_enrolment(&page.ctx(), &meta.ip, &form.code).await {
        Ok(enrolment) => {
            let mut p = TwoStepPage::of(&page, FieldErrors::default()).await?;
            p.enrolment = Some(enrolment);
            Ok(p.into_response())
        }
        Err(e) => {
            let errors = rename(code_errors(e)?, "code_new");
            Ok((StatusCode::UNPROCESSABLE_ENTITY, TwoStepPage::of(&page, errors).await?).into_response())
        }
    }
}

/// Errors of one of the page's several code fields, shown under that form.
fn rename(mut errors: FieldErrors, field: &str) -> FieldErrors {
    for f in &mut errors.0 {
        if f.field == "code" {
            f.field = field.to_string();
        }
    }
    errors
}

#[derive(Deserialize, Default)]
pub struct CodeInput {
    #[serde(default)]
    token: String,
    #[serde(default)]
    code: String,
}

/// A refusal shown next to the code field; anything else is a page error.
fn code_errors(e: crate::error::AppError) -> PageResult<FieldErrors> {
    let mut errors = super::form_errors(e)?;
    for f in &mut errors.0 {
        if f.field == "_form" && f.code == crate::error::Code::InvalidTwoStepCode {
            f.field = "code".into();
        }
    }
    Ok(errors)
}

pub async fn two_step_confirm(CsrfForm { page, form }: CsrfForm<CodeInput>) -> PageResult<Response> {
    match two_step::confirm_enrolment(&page.ctx(), &form.token, &form.code).await {
        Ok(codes) => {
            let mut p = TwoStepPage::of(&page, FieldErrors::default()).await?;
            p.l.flash = Some("两步验证已启用：请保存下面的恢复码");
            p.recovery_codes = codes;
            Ok(p.into_response())
        }
        Err(e) => {
            let mut p = TwoStepPage::of(&page, code_errors(e)?).await?;
            p.enrolment = two_step::enrolment_again(&page.ctx(), &form.token).await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, p).into_response())
        }
    }
}

pub async fn two_step_codes(meta: Meta, CsrfForm { page, form }: CsrfForm<CodeInput>) -> PageResult<Response> {
    match two_step::renew_recovery_codes(&page.ctx(), &form.code, &meta.ip).await {
        Ok(codes) => {
            let mut p = TwoStepPage::of(&page, FieldErrors::default()).await?;
            p.l.flash = Some("已生成新的恢复码，旧的恢复码全部作废");
            p.recovery_codes = codes;
            Ok(p.into_response())
        }
        Err(e) => {
            let errors = rename(code_errors(e)?, "code_off");
            Ok((StatusCode::UNPROCESSABLE_ENTITY, TwoStepPage::of(&page, errors).await?).into_response())
        }
    }
}

pub async fn two_step_disable(meta: Meta, CsrfForm { page, form }: CsrfForm<CodeInput>) -> PageResult<Response> {
    let admins_must = page.state.config.admins_two_step();
    match two_step::disable(&page.ctx(), &form.code, &meta.ip, admins_must).await {
        Ok(()) => Ok(axum::response::Redirect::to("/account/two-step?ok=two_step_off").into_response()),
        Err(e) => {
            let errors = rename(code_errors(e)?, "code_off");
            Ok((StatusCode::UNPROCESSABLE_ENTITY, TwoStepPage::of(&page, errors).await?).into_response())
        }
    }
}
