//! 十佳 selection pages for staff: the selections (a new one, the office), a selection with its
//! nominations (nominate, shortlist, open the vote, vote, publish).

use crate::domain::mutual::{SelectionKind, SelectionState, weighted};
use crate::domain::role::Role;
use crate::domain::validate::FieldErrors;
use crate::error::AppError;
use crate::service::selections::{self as svc, NominateInput, SelectionInput};
use crate::store::selections::{NominationRow, Selection};
use crate::web::auth::{CsrfForm, PageUser};
use crate::web::error::PageResult;
use crate::web::ui::{Layout, Opt};
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::Path;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

#[derive(Template, WebTemplate)]
#[template(path = "selections/list.html")]
pub struct ListPage {
    l: Layout,
    all: Vec<Selection>,
    f: SelectionInput,
    errors: FieldErrors,
    kinds: Vec<Opt>,
    admin: bool,
}

async fn list_page(page: &PageUser, f: SelectionInput, errors: FieldErrors) -> PageResult<ListPage> {
    Ok(ListPage {
        l: Layout::new(&page.user, "selections", "十佳评选"),
        all: crate::store::selections::all(&page.state.db).await?,
        f,
        errors,
        kinds: SelectionKind::ALL.iter().map(|k| Opt::new(k.as_str(), k.label())).collect(),
        admin: page.user.role == Role::Admin,
    })
}

pub async fn list(page: PageUser) -> PageResult<ListPage> {
    list_page(&page, SelectionInput { kind: "lobby_manager".into(), ..Default::default() }, FieldErrors::default())
        .await
}

pub async fn create(CsrfForm { page, form }: CsrfForm<SelectionInput>) -> PageResult<Response> {
    let saved = svc::create(&page.ctx(), form.clone()).await;
    crate::web::pages::posted(
        saved,
        |s| format!("/selections/{}?ok=created", s.id),
        async |e| list_page(&page, form, e).await,
    )
    .await
}

#[derive(Template, WebTemplate)]
#[template(path = "selections/detail.html")]
pub struct DetailPage {
    l: Layout,
    s: Selection,
    rows: Vec<(NominationRow, f64)>,
    staff: Vec<Opt>,
    errors: FieldErrors,
    admin: bool,
    may_nominate: bool,
}

async fn detail_page(page: &PageUser, id: &str, errors: FieldErrors) -> PageResult<DetailPage> {
    let db = &page.state.db;
    let s = svc::get(db, id).await?;
    let rows = svc::visible_nominations(db, &s, Some(&page.user))
        .await?
        .into_iter()
        .map(|n| {
            let w = weighted(n.staff_votes, n.public_votes, s.staff_weight, s.public_weight);
            (n, w)
        })
        .collect();
    let may_nominate = s.state == SelectionState::Nominating && matches!(page.user.role, Role::Admin | Role::UnitUser);
    let staff = if may_nominate {
        let unit = if page.user.role == Role::Admin { None } else { page.user.unit_id.as_deref() };
        crate::store::windows::staff_rows(db, unit)
            .await?
            .into_iter()
            .filter(|st| st.active == 1)
            .map(|st| Opt::new(st.id.clone(), format!("{}（{}，{}）", st.name, st.post, st.unit_name)))
            .collect()
    } else {
        Vec::new()
    };
    Ok(DetailPage {
        l: Layout::new(&page.user, "selections", s.title.clone()),
        admin: page.user.role == Role::Admin,
        may_nominate,
        s,
        rows,
        staff,
        errors,
    })
}

pub async fn detail(
    page: PageUser,
    Path(id): Path<String>,
    crate::web::query::Query(flash): crate::web::query::Query<crate::web::list::Flash>,
) -> PageResult<DetailPage> {
    let mut p = detail_page(&page, &id, FieldErrors::default()).await?;
    p.l = p.l.with_flash(flash.ok.as_deref());
    Ok(p)
}

async fn done<T>(page: &PageUser, id: &str, r: crate::error::AppResult<T>) -> PageResult<Response> {
    match r {
        Ok(_) => Ok(Redirect::to(&format!("/selections/{id}?ok=saved")).into_response()),
        Err(e @ (AppError::Validation(_) | AppError::Refused(..))) => {
            let status = e.status();
            let errors = crate::web::pages::form_errors(e)?;
            Ok((status, detail_page(page, id, errors).await?).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

pub async fn nominate(
    Path(id): Path<String>,
    CsrfForm { page, form }: CsrfForm<NominateInput>,
) -> PageResult<Response> {
    let r = svc::nominate(&page.ctx(), &id, form).await;
    done(&page, &id, r).await
}

#[derive(Deserialize, Default)]
pub struct ShortlistForm {
    #[serde(default)]
    nomination_id: String,
    #[serde(default)]
    on: String,
}

pub async fn shortlist(
    Path(id): Path<String>,
    CsrfForm { page, form }: CsrfForm<ShortlistForm>,
) -> PageResult<Response> {
    let r = svc::shortlist(&page.ctx(), &form.nomination_id, form.on == "1").await;
    done(&page, &id, r).await
}

pub async fn open_vote(Path(id): Path<String>, CsrfForm { page, .. }: CsrfForm<ShortlistForm>) -> PageResult<Response> {
    let r = svc::open_vote(&page.ctx(), &id).await;
    done(&page, &id, r).await
}

pub async fn vote(Path(id): Path<String>, CsrfForm { page, form }: CsrfForm<ShortlistForm>) -> PageResult<Response> {
    let r = svc::staff_vote(&page.ctx(), &id, &form.nomination_id).await;
    done(&page, &id, r).await
}

pub async fn publish(Path(id): Path<String>, CsrfForm { page, .. }: CsrfForm<ShortlistForm>) -> PageResult<Response> {
    let r = svc::publish(&page.ctx(), &id).await;
    done(&page, &id, r).await
}
