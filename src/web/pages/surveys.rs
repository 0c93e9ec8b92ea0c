//! 问卷调查 pages: the surveys (a new one, the office), a survey (its builder while a draft, its
//! link and QR code while open), the staff's answer form (a surveyor at the door, a unit for a
//! thematic survey), and the analysis with its Word report and Excel export.

use crate::domain::evaluation::{Answers, Metric, Question, QuestionKind, SurveyKind};
use crate::domain::role::Role;
use crate::domain::time::fmt_local;
use crate::domain::validate::FieldErrors;
use crate::error::AppError;
use crate::service::surveys::{self as svc, Analysis, QuestionInput, Survey, SurveyInput};
use crate::web::auth::{CsrfForm, PageUser};
use crate::web::error::PageResult;
use crate::web::ui::{Layout, Opt};
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::Path;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use std::collections::HashSet;

#[derive(Template, WebTemplate)]
#[template(path = "surveys/list.html")]
pub struct ListPage {
    l: Layout,
    surveys: Vec<(Survey, i64)>,
    admin: bool,
    f: SurveyInput,
    errors: FieldErrors,
    kinds: [SurveyKind; 2],
}

async fn list_page(page: &PageUser, f: SurveyInput, errors: FieldErrors) -> PageResult<ListPage> {
    let ctx = page.ctx();
    let mut surveys = Vec::new();
    for s in svc::list(&ctx).await? {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM survey_responses WHERE survey_id = $1")
            .bind(&s.id)
            .fetch_one(&ctx.db.pool)
            .await?;
        surveys.push((s, n));
    }
    Ok(ListPage {
        l: Layout::new(&page.user, "surveys", "问卷调查"),
        surveys,
        admin: page.user.role == Role::Admin,
        f,
        errors,
        kinds: SurveyKind::ALL,
    })
}

pub async fn list(page: PageUser) -> PageResult<ListPage> {
    list_page(&page, SurveyInput { kind: "resident".into(), ..Default::default() }, FieldErrors::default()).await
}

pub async fn create(CsrfForm { page, form }: CsrfForm<SurveyInput>) -> PageResult<Response> {
    let saved = svc::create(&page.ctx(), form.clone()).await;
    crate::web::pages::posted(
        saved,
        |s| format!("/surveys/{}?ok=created", s.id),
        async |e| list_page(&page, form, e).await,
    )
    .await
}

#[derive(Template, WebTemplate)]
#[template(path = "surveys/show.html")]
pub struct ShowPage {
    l: Layout,
    s: Survey,
    questions: Vec<Question>,
    responses: i64,
    admin: bool,
    may_answer: bool,
    may_analyse: bool,
    link: String,
    qr: String,
    qf: QuestionInput,
    errors: FieldErrors,
    qkinds: [QuestionKind; 5],
    metrics: [Metric; 4],
    /// The caller's unit's answer to a thematic survey: when (and who entered it last), and the
    /// answers in words
    own: Option<(String, String)>,
}

/// When a unit's answer was entered, and corrected: "2026-12-08 09:10 张三填报（12-08 10:02 修改）".
fn own_when(a: &svc::OwnAnswer) -> String {
    let by = a.by_name.clone().unwrap_or_default();
    match a.updated_at {
        Some(at) => format!("{}填报，{} {}修改", fmt_local(a.created_at), fmt_local(at), by),
        None => format!("{} {}填报", fmt_local(a.created_at), by),
    }
}

async fn show_page(
    page: &PageUser,
    headers: &HeaderMap,
    id: &str,
    qf: QuestionInput,
    errors: FieldErrors,
    ok: Option<&str>,
) -> PageResult<ShowPage> {
    let ctx = page.ctx();
    let s = svc::visible(&ctx, id).await?;
    let responses: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM survey_responses WHERE survey_id = $1")
        .bind(&s.id)
        .fetch_one(&ctx.db.pool)
        .await?;
    let role = page.user.role;
    let own = svc::own_answer(&ctx, &s).await?.map(|a| (own_when(&a), svc::readable(&s, &a.parsed())));
    let (link, qr) = if s.kind == SurveyKind::Resident && s.state.as_str() == "open" && role != Role::UnitUser {
        let link = format!("{}/public/surveys/{}", crate::web::public::base_url(&page.state, headers), s.token);
        let qr = crate::web::public::qr_svg(&link)?;
        (link, qr)
    } else {
        (String::new(), String::new())
    };
    Ok(ShowPage {
        l: Layout::new(&page.user, "surveys", s.name.clone()).with_flash(ok),
        questions: s.parsed(),
        responses,
        admin: role == Role::Admin,
        may_answer: svc::may_answer(role, s.kind),
        may_analyse: matches!(role, Role::Admin | Role::Supervisor | Role::Discipline | Role::Evaluator),
        link,
        qr,
        qf,
        errors,
        qkinds: QuestionKind::ALL,
        metrics: Metric::ALL,
        own,
        s,
    })
}

pub async fn show(
    page: PageUser,
    headers: HeaderMap,
    Path(id): Path<String>,
    crate::web::query::Query(flash): crate::web::query::Query<crate::web::list::Flash>,
) -> PageResult<ShowPage> {
    let qf = QuestionInput {
        kind: "single".into(),
        required: Some("1".into()),
        metric: "none".into(),
        ..Default::default()
    };
    show_page(&page, &headers, &id, qf, FieldErrors::default(), flash.ok.as_deref()).await
}

pub async fn add_question(
    headers: HeaderMap,
    Path(id): Path<String>,
    CsrfForm { page, form }: CsrfForm<QuestionInput>,
) -> PageResult<Response> {
    match svc::add_question(&page.ctx(), &id, form.clone()).await {
        Ok(_) => Ok(Redirect::to(&format!("/surveys/{id}?ok=saved#add-question")).into_response()),
        Err(e @ (AppError::Validation(_) | AppError::Refused(..))) => {
            let status = e.status();
            let errors = crate::web::pages::form_errors(e)?;
            Ok((status, show_page(&page, &headers, &id, form, errors, None).await?).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(serde::Deserialize, Default)]
pub struct VersionForm {
    #[serde(default, deserialize_with = "crate::domain::validate::number")]
    version: Option<i64>,
}

pub async fn delete_question(
    Path((id, qid)): Path<(String, String)>,
    CsrfForm { page, form }: CsrfForm<VersionForm>,
) -> PageResult<Response> {
    svc::delete_question(&page.ctx(), &id, &qid, form.version).await?;
    Ok(Redirect::to(&format!("/surveys/{id}?ok=deleted")).into_response())
}

/// Opens the survey; a questionnaire that cannot open comes back with why, above its questions.
pub async fn open(
    headers: HeaderMap,
    Path(id): Path<String>,
    CsrfForm { page, .. }: CsrfForm<VersionForm>,
) -> PageResult<Response> {
    match svc::set_state(&page.ctx(), &id, true).await {
        Ok(_) => Ok(Redirect::to(&format!("/surveys/{id}?ok=published")).into_response()),
        Err(e @ AppError::Refused(..)) => {
            let status = e.status();
            let errors = crate::web::pages::form_errors(e)?;
            let qf = QuestionInput { kind: "single".into(), metric: "none".into(), ..Default::default() };
            Ok((status, show_page(&page, &headers, &id, qf, errors, None).await?).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

pub async fn close(Path(id): Path<String>, CsrfForm { page, .. }: CsrfForm<VersionForm>) -> PageResult<Response> {
    svc::set_state(&page.ctx(), &id, false).await?;
    Ok(Redirect::to(&format!("/surveys/{id}?ok=saved")).into_response())
}

/// The answers of a posted questionnaire (`a_q1=2&a_q4=1&a_q4=3`), and what was typed as
/// "q1=2" markers and texts to show it again after a refusal.
pub fn answers_of(pairs: &[(String, String)]) -> Answers {
    let mut a = Answers::new();
    for (k, v) in pairs {
        if let Some(q) = k.strip_prefix("a_") {
            a.entry(q.to_string()).or_default().push(v.clone());
        }
    }
    a
}

pub fn typed_of(a: &Answers) -> HashSet<String> {
    a.iter().flat_map(|(q, vs)| vs.iter().map(move |v| format!("{q}={v}"))).collect()
}

#[derive(Template, WebTemplate)]
#[template(path = "surveys/respond.html")]
pub struct RespondPage {
    l: Layout,
    s: Survey,
    questions: Vec<Question>,
    communities: Vec<Opt>,
    community: String,
    household: String,
    typed: HashSet<String>,
    answers: Answers,
    errors: FieldErrors,
    /// Correcting the unit's answer: the version read, and when it was entered
    own: Option<(i64, String)>,
}

impl RespondPage {
    fn is_typed(&self, q: &str, option: impl std::fmt::Display) -> bool {
        self.typed.contains(&format!("{q}={option}"))
    }

    fn text_of(&self, q: &str) -> String {
        self.answers.get(q).and_then(|v| v.first()).cloned().unwrap_or_default()
    }
}

pub async fn communities(db: &crate::store::Db) -> Result<Vec<Opt>, sqlx::Error> {
    let rows: Vec<(String, String, Option<String>)> = sqlx::query_as(
        "SELECT c.id, c.name, s.name FROM org_nodes c LEFT JOIN org_nodes s ON s.id = c.parent_id WHERE c.level = 'community' \
         ORDER BY s.code, c.code",
    )
    .fetch_all(&db.pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(id, c, s)| Opt::new(id, format!("{}{}", s.map(|s| format!("{s} · ")).unwrap_or_default(), c)))
        .collect())
}

/// The answer form; a unit that has answered a thematic survey gets its answer to correct (what
/// it typed instead, after a refusal).
async fn respond_page(
    page: &PageUser,
    id: &str,
    (community, household, answers): (String, String, Option<Answers>),
    errors: FieldErrors,
) -> PageResult<RespondPage> {
    let ctx = page.ctx();
    let s = svc::visible(&ctx, id).await?;
    if !svc::may_answer(page.user.role, s.kind) {
        return Err(AppError::Forbidden.into());
    }
    let stored = svc::own_answer(&ctx, &s).await?;
    let own = stored.as_ref().map(|a| (a.version, own_when(a)));
    let answers = answers.or_else(|| stored.map(|a| a.parsed())).unwrap_or_default();
    Ok(RespondPage {
        own,
        l: Layout::new(&page.user, "surveys", s.name.clone()),
        questions: s.parsed(),
        communities: if s.kind == SurveyKind::Resident { communities(ctx.db).await? } else { Vec::new() },
        community,
        household,
        typed: typed_of(&answers),
        answers,
        errors,
        s,
    })
}

#[derive(serde::Deserialize, Default)]
pub struct RespondQuery {
    #[serde(default)]
    ok: Option<String>,
    #[serde(default)]
    community: String,
}

pub async fn respond_form(
    page: PageUser,
    Path(id): Path<String>,
    crate::web::query::Query(q): crate::web::query::Query<RespondQuery>,
) -> PageResult<RespondPage> {
    let mut p = respond_page(&page, &id, (q.community, String::new(), None), FieldErrors::default()).await?;
    if q.ok.is_some() {
        p.l = p.l.with_flash(Some("saved"));
    }
    Ok(p)
}

pub async fn respond(
    Path(id): Path<String>,
    CsrfForm { page, form }: CsrfForm<Vec<(String, String)>>,
) -> PageResult<Response> {
    let field = |k: &str| form.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone()).unwrap_or_default();
    let (community, household) = (field("community_id"), field("household"));
    let answers = answers_of(&form);
    let version = field("version").trim().parse().ok();
    match svc::answer_staff(&page.ctx(), &id, (&household, &community), answers.clone(), version).await {
        // At the door: a fresh form for the next household, in the same community.
        Ok(()) if !community.is_empty() => Ok(Redirect::to(&format!(
            "/surveys/{id}/respond?ok=saved&community={}",
            crate::web::auth::urlencode(&community)
        ))
        .into_response()),
        Ok(()) => Ok(Redirect::to(&format!("/surveys/{id}?ok=saved")).into_response()),
        Err(e @ (AppError::Validation(_) | AppError::Refused(..))) => {
            let status = e.status();
            let errors = crate::web::pages::form_errors(e)?;
            // A household already answered: start a fresh form for the next door.
            Ok((status, respond_page(&page, &id, (community, household, Some(answers)), errors).await?).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "surveys/analysis.html")]
pub struct AnalysisPage {
    l: Layout,
    a: Analysis,
}

pub async fn analysis(page: PageUser, Path(id): Path<String>) -> PageResult<AnalysisPage> {
    let a = svc::analyse(&page.ctx(), &id).await?;
    Ok(AnalysisPage { l: Layout::new(&page.user, "surveys", format!("{} · 统计分析", a.survey.name)), a })
}

pub async fn report_docx(page: PageUser, Path(id): Path<String>) -> PageResult<Response> {
    let a = svc::analyse(&page.ctx(), &id).await?;
    let bytes = svc::docx(&a)?;
    Ok(super::evaluations::download(&format!("{}分析报告", a.survey.name), "docx", super::evaluations::DOCX, bytes))
}

pub async fn responses_xlsx(page: PageUser, Path(id): Path<String>) -> PageResult<Response> {
    let ctx = page.ctx();
    let s = svc::visible(&ctx, &id).await?;
    let (head, rows) = svc::response_rows(&ctx, &s).await?;
    svc::audit_export(&ctx, &s).await?;
    let head: Vec<&str> = head.iter().map(String::as_str).collect();
    let bytes = crate::service::sheet::simple("答卷", &head, &rows)?;
    let ct = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
    Ok(super::evaluations::download(&format!("{}答卷", s.name), "xlsx", ct, bytes))
}
