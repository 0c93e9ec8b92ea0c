//! The signed-in user's own password.

use crate::domain::validate::FieldErrors;
use crate::service::users::{self as svc, PasswordInput};
use crate::web::auth::{CsrfForm, PageUser};
use crate::web::error::PageResult;
use crate::web::query::Query;
use crate::web::ui::Layout;
use askama::Template;
use askama_web::WebTemplate;
use axum::response::Response;
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
