//! 模拟测评 pages: the rounds (and a new one, the office), a round (progress, the 得分率 by area,
//! unit and type, the comparison with earlier rounds, the ranking, Word and Excel report), the
//! evaluator's checklist of a point on the phone; and the evaluation system (测评体系) tree with
//! its Excel export and import.

use crate::domain::evaluation::{EvalState, Leg};
use crate::domain::mutual::CheckResult;
use crate::domain::role::Role;
use crate::domain::standard::Publication;
use crate::domain::time::fmt_local;
use crate::domain::validate::FieldErrors;
use crate::error::AppError;
use crate::service::evaluations::{self as svc, RoundInput, RoundView, Scored};
use crate::store::evaluation::{EvalRound, ItemRow, System, VisitRow};
use crate::web::auth::{CsrfForm, CsrfMultipart, PageUser};
use crate::web::error::PageResult;
use crate::web::list::Sheet;
use crate::web::ui::{Layout, Opt};
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::Path;
use axum::http::header;
use axum::response::{IntoResponse, Redirect, Response};
use std::collections::HashMap;

#[derive(serde::Deserialize, Default)]
pub struct Empty {}

/// A download with a Chinese file name.
pub fn download(name: &str, ext: &str, content_type: &str, bytes: Vec<u8>) -> Response {
    let disposition = format!(
        "attachment; filename=\"download.{ext}\"; filename*=UTF-8''{}",
        crate::web::auth::urlencode(&format!("{name}.{ext}"))
    );
    ([(header::CONTENT_TYPE, content_type.to_string()), (header::CONTENT_DISPOSITION, disposition)], bytes)
        .into_response()
}

pub const DOCX: &str = "application/vnd.openxmlformats-officedocument.wordprocessingml.document";

#[derive(Template, WebTemplate)]
#[template(path = "evaluations/list.html")]
pub struct ListPage {
    l: Layout,
    rounds: Vec<EvalRound>,
    names: HashMap<String, String>,
    f: RoundInput,
    errors: FieldErrors,
    areas: Vec<Opt>,
    evaluators: Vec<Opt>,
    admin: bool,
    types: String,
}

async fn list_page(page: &PageUser, f: RoundInput, errors: FieldErrors) -> PageResult<ListPage> {
    let ctx = page.ctx();
    let rounds = svc::rounds(&ctx).await?;
    let admin = page.user.role == Role::Admin;
    let (areas, evaluators, types) = if admin {
        let nodes = crate::store::org::all(ctx.db).await?;
        let areas = nodes
            .into_iter()
            .filter(|n| {
                matches!(n.level, crate::domain::org::OrgLevel::District | crate::domain::org::OrgLevel::Street)
            })
            .map(|n| Opt::new(n.id, n.name))
            .collect();
        let people: Vec<(String, String, String)> = sqlx::query_as(
            "SELECT id, display_name, role FROM users WHERE role IN ('evaluator', 'supervisor') AND active = 1 \
             ORDER BY role, display_name",
        )
        .fetch_all(&ctx.db.pool)
        .await?;
        let evaluators = people
            .into_iter()
            .map(|(id, name, role)| Opt::new(id, if role == "evaluator" { format!("{name}（测评员）") } else { name }))
            .collect();
        let types =
            crate::store::points::types(ctx.db).await?.into_iter().map(|t| t.name).collect::<Vec<_>>().join("、");
        (areas, evaluators, types)
    } else {
        (Vec::new(), Vec::new(), String::new())
    };
    Ok(ListPage {
        l: Layout::new(&page.user, "evaluations", "模拟测评"),
        rounds,
        names: svc::type_name_map(ctx.db).await?,
        f,
        errors,
        areas,
        evaluators,
        admin,
        types,
    })
}

impl ListPage {
    fn quotas(&self, r: &EvalRound) -> String {
        svc::quota_text(&r.quotas, &self.names)
    }
}

pub async fn list(page: PageUser) -> PageResult<ListPage> {
    let f = RoundInput { quotas: "主次干道:5，背街小巷:5，居民小区:5".into(), ..Default::default() };
    list_page(&page, f, FieldErrors::default()).await
}

pub async fn create(CsrfForm { page, form }: CsrfForm<RoundInput>) -> PageResult<Response> {
    let saved = svc::create_round(&page.ctx(), form.clone()).await;
    crate::web::pages::posted(
        saved,
        |r| format!("/evaluations/{}?ok=created", r.id),
        async |e| list_page(&page, form, e).await,
    )
    .await
}

#[derive(Template, WebTemplate)]
#[template(path = "evaluations/round.html")]
pub struct RoundPage {
    l: Layout,
    v: RoundView,
    /// The caller's points to evaluate
    mine: Vec<VisitRow>,
    admin: bool,
    open: bool,
    published: String,
    tables: Vec<(&'static str, Vec<Vec<String>>)>,
    /// The report's one-paragraph summary (first and last places, the transfer)
    summary: String,
}

pub async fn round(
    page: PageUser,
    Path(id): Path<String>,
    crate::web::query::Query(flash): crate::web::query::Query<crate::web::list::Flash>,
) -> PageResult<RoundPage> {
    let v = svc::view(&page.ctx(), &id).await?;
    let mine = v.visits.iter().filter(|x| x.evaluator_id.as_deref() == Some(page.user.id.as_str())).cloned().collect();
    Ok(RoundPage {
        l: Layout::new(&page.user, "evaluations", v.round.name.clone()).with_flash(flash.ok.as_deref()),
        published: v.round.published_at.map(fmt_local).unwrap_or_default(),
        admin: page.user.role == Role::Admin,
        open: v.round.state == EvalState::Open,
        tables: svc::report_tables(&v),
        summary: if v.done > 0 { svc::summary(&v) } else { String::new() },
        mine,
        v,
    })
}

impl RoundPage {
    fn rate(&self, x: &VisitRow) -> String {
        if x.state == "done" {
            crate::domain::evaluation::Rate { earned: x.earned, possible: x.possible }.text()
        } else {
            "—".into()
        }
    }
}

pub async fn publish(Path(id): Path<String>, CsrfForm { page, .. }: CsrfForm<Empty>) -> PageResult<Response> {
    svc::publish_round(&page.ctx(), &id).await?;
    Ok(Redirect::to(&format!("/evaluations/{id}?ok=published")).into_response())
}

pub async fn report_docx(page: PageUser, Path(id): Path<String>) -> PageResult<Response> {
    let v = svc::view(&page.ctx(), &id).await?;
    let bytes = svc::docx(&v)?;
    Ok(download(&format!("{}报告", v.round.name), "docx", DOCX, bytes))
}

pub async fn report_xlsx(page: PageUser, Path(id): Path<String>) -> PageResult<Response> {
    let v = svc::view(&page.ctx(), &id).await?;
    let mut sheets = vec![Sheet::typed("点位明细", svc::VISIT_HEAD.to_vec(), svc::visit_rows(&v), (&[], &[8]))];
    for (title, rows) in svc::report_tables(&v) {
        sheets.push(Sheet::typed(title, svc::LINE_HEAD.to_vec(), rows, (&[0, 2, 3], &[4])));
    }
    let weak =
        v.weak_items.iter().map(|(c, s, f, n)| vec![c.clone(), s.clone(), f.to_string(), n.to_string()]).collect();
    sheets.push(Sheet::typed("失分项目", vec!["编码", "测评标准", "不达标", "检查"], weak, (&[2, 3], &[])));
    Ok(crate::web::list::xlsx(&format!("{}报告", v.round.name), sheets))
}

#[derive(Template, WebTemplate)]
#[template(path = "evaluations/visit.html")]
pub struct VisitPage {
    l: Layout,
    round: EvalRound,
    v: VisitRow,
    items: Vec<ItemRow>,
    results: [CheckResult; 3],
    errors: FieldErrors,
    checks: Vec<crate::store::evaluation::CheckLine>,
    /// The evidence of each failed item: its problem's before-photos (problem id → photo ids)
    evidence: HashMap<String, Vec<String>>,
    may_score: bool,
    /// What was typed before a refusal: (result, note) by item id
    typed: HashMap<String, (String, String)>,
}

impl VisitPage {
    fn chosen(&self, item: &str, r: &CheckResult) -> bool {
        self.typed.get(item).is_some_and(|t| t.0 == r.as_str())
    }

    fn note(&self, item: &str) -> String {
        self.typed.get(item).map(|t| t.1.clone()).unwrap_or_default()
    }

    fn evidence_of(&self, problem: &Option<String>) -> &[String] {
        problem.as_ref().and_then(|p| self.evidence.get(p)).map(Vec::as_slice).unwrap_or_default()
    }
}

async fn visit_page(
    page: &PageUser,
    id: &str,
    errors: FieldErrors,
    typed: HashMap<String, (String, String)>,
) -> PageResult<VisitPage> {
    let ctx = page.ctx();
    let (round, v, items) = svc::visit(&ctx, id).await?;
    let checks = crate::store::evaluation::checks(ctx.db, &v.id).await?;
    let problems: Vec<String> = checks.iter().filter_map(|c| c.5.clone()).collect();
    let mut evidence: HashMap<String, Vec<String>> = HashMap::new();
    for (owner, kind, photo) in
        crate::store::photos::kinds_of(ctx.db, crate::domain::photo::PhotoOwner::Problem, &problems).await?
    {
        if kind == crate::domain::photo::PhotoKind::Before {
            evidence.entry(owner).or_default().push(photo);
        }
    }
    let may_score =
        v.state == "todo" && round.state == EvalState::Open && v.evaluator_id.as_deref() == Some(page.user.id.as_str());
    Ok(VisitPage {
        l: Layout::new(&page.user, "evaluations", format!("测评 · {}", v.point_name)),
        round,
        v,
        items,
        results: CheckResult::ALL,
        errors,
        checks,
        evidence,
        may_score,
        typed,
    })
}

pub async fn visit(page: PageUser, Path(id): Path<String>) -> PageResult<VisitPage> {
    visit_page(&page, &id, FieldErrors::default(), HashMap::new()).await
}

pub async fn score(Path(id): Path<String>, form: CsrfMultipart) -> PageResult<Response> {
    let mut scored: HashMap<String, Scored> = HashMap::new();
    for (k, v) in &form.fields {
        if let Some(item) = k.strip_prefix("result_") {
            scored.entry(item.to_string()).or_default().result = v.clone();
        } else if let Some(item) = k.strip_prefix("note_") {
            scored.entry(item.to_string()).or_default().note = v.clone();
        }
    }
    for f in form.files.iter().filter(|f| !f.bytes.is_empty()) {
        if let Some(item) = f.field.strip_prefix("photo_") {
            scored.entry(item.to_string()).or_default().photos.push(f.bytes.clone());
        }
    }
    let typed: HashMap<String, (String, String)> =
        scored.iter().map(|(k, s)| (k.clone(), (s.result.clone(), s.note.clone()))).collect();
    let version = form.fields.get("version").and_then(|v| v.trim().parse().ok());
    let page = &form.page;
    match svc::score(&page.ctx(), &page.state.storage, &id, version, scored).await {
        Ok(v) => Ok(Redirect::to(&format!("/evaluations/{}?ok=saved", v.round_id)).into_response()),
        Err(e @ (AppError::Validation(_) | AppError::Refused(..))) => {
            let status = e.status();
            let errors = crate::web::pages::form_errors(e)?;
            Ok((status, visit_page(page, &id, errors, typed).await?).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

// ---------------------------------------------------------------------------------------------
// The evaluation system.

/// A 测评项目 with its 测评内容, each with its 测评标准.
type Project = (String, Vec<(String, Vec<ItemRow>)>);

#[derive(Template, WebTemplate)]
#[template(path = "evaluations/system.html")]
pub struct SystemPage {
    l: Layout,
    versions: Vec<System>,
    chosen: Option<System>,
    /// 测评项目 → 测评内容 → items
    tree: Vec<Project>,
    /// Points per leg: (leg, items, points)
    legs: Vec<(Leg, usize, f64)>,
    types: HashMap<String, String>,
    admin: bool,
}

impl SystemPage {
    fn types_of(&self, codes: &str) -> String {
        svc::type_names(codes, &self.types)
    }

    fn draft(&self) -> bool {
        self.chosen.as_ref().is_some_and(|c| c.status == Publication::Draft)
    }
}

#[derive(serde::Deserialize, Default)]
pub struct SystemQuery {
    v: Option<String>,
}

async fn system_page(page: &PageUser, v: Option<&str>) -> PageResult<SystemPage> {
    let ctx = page.ctx();
    let (versions, chosen, items) = svc::system(&ctx, v).await?;
    let mut tree: Vec<Project> = Vec::new();
    for i in items.iter() {
        if tree.last().is_none_or(|p| p.0 != i.project) {
            tree.push((i.project.clone(), Vec::new()));
        }
        let project = tree.last_mut().expect("pushed");
        if project.1.last().is_none_or(|c| c.0 != i.content) {
            project.1.push((i.content.clone(), Vec::new()));
        }
        project.1.last_mut().expect("pushed").1.push(i.clone());
    }
    let legs = Leg::ALL
        .iter()
        .map(|l| {
            let of: Vec<&ItemRow> = items.iter().filter(|i| i.leg == *l).collect();
            (*l, of.len(), of.iter().map(|i| i.points).sum())
        })
        .collect();
    let types = crate::store::points::types(ctx.db).await?.into_iter().map(|t| (t.code, t.name)).collect();
    Ok(SystemPage {
        l: Layout::new(&page.user, "indicators", "测评体系"),
        versions,
        chosen,
        tree,
        legs,
        types,
        admin: page.user.role == Role::Admin,
    })
}

pub async fn system(
    page: PageUser,
    crate::web::query::Query(q): crate::web::query::Query<SystemQuery>,
) -> PageResult<SystemPage> {
    system_page(&page, q.v.as_deref().filter(|s| !s.is_empty())).await
}

pub async fn system_xlsx(
    page: PageUser,
    crate::web::query::Query(q): crate::web::query::Query<SystemQuery>,
) -> PageResult<Response> {
    let ctx = page.ctx();
    let (_, chosen, _) = svc::system(&ctx, q.v.as_deref().filter(|s| !s.is_empty())).await?;
    let v = chosen.ok_or(AppError::NotFound)?;
    let rows = svc::system_rows(ctx.db, &v.id).await?;
    let head = svc::SYSTEM_COLUMNS.iter().map(|c| c.0).collect();
    Ok(crate::web::list::xlsx(&format!("测评体系第{}版", v.version_no), vec![Sheet::text("测评体系", head, rows)]))
}

pub async fn system_publish(Path(id): Path<String>, CsrfForm { page, .. }: CsrfForm<Empty>) -> PageResult<Response> {
    svc::publish_system(&page.ctx(), &id).await?;
    Ok(Redirect::to(&format!("/indicators?v={id}&ok=published")).into_response())
}
