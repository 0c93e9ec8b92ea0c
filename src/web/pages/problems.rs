//! Problem ledger pages: the list, filing from a phone, and the problem page with its history,
//! before/after photos side by side and the actions open to the user.

use super::opt;
use crate::domain::photo::{DeviceWitness, PhotoKind, PhotoOwner};
use crate::domain::problem::{Action, Source};
use crate::domain::role::Role;
use crate::domain::time::{fmt_local, now_ms, to_local};
use crate::domain::validate::FieldErrors;
use crate::error::AppError;
use crate::error::Code;
use crate::service::problems::{self as svc, ActInput, FileInput};
use crate::store::photos::{self as photo_store, Photo};
use crate::store::points::{self as point_store, PointFilter};
use crate::store::problems::{self as store, Event, Problem, ProblemRow};
use crate::store::{PageReq, standards, units};
use crate::web::auth::{CsrfMultipart, PageUser};
use crate::web::error::PageResult;
use crate::web::query::Query;
use crate::web::ui::{Layout, Opt};
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

#[derive(Deserialize, Default)]
pub struct NewQuery {
    point_id: Option<String>,
    q: Option<String>,
    /// The phone's position (WGS-84, from the browser): candidates come nearest first.
    lng: Option<f64>,
    lat: Option<f64>,
    ok: Option<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "problems/new.html")]
pub struct NewPage {
    l: Layout,
    point: Option<point_store::PointRow>,
    candidates: Vec<point_store::PointRow>,
    keyword: String,
    items: Vec<Opt>,
    sources: Vec<Opt>,
    f: FileInput,
    errors: FieldErrors,
    now: String,
    /// The earliest 发现时间 the filing takes (30 days back), for the field's `min`
    earliest: String,
    /// Open problems at the point, each with its first before-photo
    open_here: Vec<(ProblemRow, Option<String>)>,
    duplicate: Option<String>,
    /// Photos kept from a filing refused as a possible duplicate: the draft's token and count
    draft: Option<(String, usize)>,
    /// The inspector may record the point found clean instead
    can_clean: bool,
    /// Why the chosen point is not the inspector's to inspect (a supervisor's team areas): said
    /// instead of the form
    outside: Option<&'static str>,
    /// How many points the search found (the list shows `CANDIDATES_SHOWN` of them), and whether
    /// they are the nearest ones
    candidates_total: i64,
    nearest: bool,
}

/// The most points the filing page lists at once: the search narrows them.
const CANDIDATES_SHOWN: i64 = 30;

fn default_source(role: Role) -> &'static str {
    match role {
        Role::GridWorker => "grid_patrol",
        Role::Evaluator => "evaluation",
        Role::UnitUser | Role::PointLead => "self_check",
        _ => "supervision",
    }
}

async fn new_page(
    page: &PageUser,
    point_id: Option<String>,
    keyword: String,
    near: Option<(f64, f64)>,
    f: FileInput,
    errors: FieldErrors,
) -> PageResult<NewPage> {
    let ctx = page.ctx();
    let mut open_here = Vec::new();
    if let Some(id) = &point_id {
        for p in store::open_at_point(ctx.db, id, None).await? {
            let photos = photo_store::of(ctx.db, PhotoOwner::Problem, &p.id).await?;
            let first = photos.into_iter().find(|ph| ph.kind == PhotoKind::Before).map(|ph| ph.id);
            open_here.push((p, first));
        }
    }
    let mut outside = None;
    let mut candidates_total = 0;
    let (point, items, candidates) = match point_id {
        Some(id) => {
            let p = crate::service::points::visible(&ctx, &id).await?;
            // Said before anything is typed: a supervisor files within its teams' areas.
            outside = crate::service::access::outside_inspection(&ctx, p.community_id.as_deref()).await?;
            (point_store::row(ctx.db, &id).await?, checklist_options(&ctx, &p.type_id).await?, Vec::new())
        }
        None => {
            let (candidates, total) = candidates(&ctx, &keyword, near).await?;
            candidates_total = total;
            (None, Vec::new(), candidates)
        }
    };
    Ok(NewPage {
        l: Layout::new(&page.user, "problems", "登记问题").on_bottom("file"),
        point,
        candidates,
        keyword,
        items,
        sources: sources_of(page.user.role).into_iter().map(|s| Opt::new(s.as_str(), s.label())).collect(),
        f,
        errors,
        now: to_local(now_ms()).format("%Y-%m-%dT%H:%M").to_string(),
        earliest: to_local(now_ms() - crate::service::problems::FOUND_MAX_AGE_MS + 60_000)
            .format("%Y-%m-%dT%H:%M")
            .to_string(),
        open_here,
        duplicate: None,
        draft: None,
        can_clean: crate::service::scoring::may_record_clean(page.user.role),
        outside,
        candidates_total,
        nearest: near.is_some(),
    })
}

/// The standard items that apply to a point type, as the filing form offers them.
async fn checklist_options(ctx: &crate::service::Ctx<'_>, type_id: &str) -> crate::error::AppResult<Vec<Opt>> {
    let code =
        point_store::types(ctx.db).await?.into_iter().find(|t| t.id == type_id).map(|t| t.code).unwrap_or_default();
    let (_, checklist) = crate::service::standards::checklist(ctx.db, &code).await?;
    Ok(checklist
        .into_iter()
        .map(|i| Opt::new(i.id.clone(), format!("{}·{}：{}", i.category, i.item, i.requirement)))
        .collect())
}

/// The points to file at: the reader's own (a supervisor's within its teams' areas) matching the
/// keyword, the first `CANDIDATES_SHOWN` or the nearest ones, and how many there are.
async fn candidates(
    ctx: &crate::service::Ctx<'_>,
    keyword: &str,
    near: Option<(f64, f64)>,
) -> crate::error::AppResult<(Vec<point_store::PointRow>, i64)> {
    let mut filter = PointFilter {
        keyword: (!keyword.is_empty()).then(|| keyword.to_string()),
        active: Some(true),
        ..crate::service::points::scope(ctx).await?
    };
    if let Some(ids) = crate::service::access::team_scope(ctx).await? {
        filter.area_ids = Some(ids);
    }
    Ok(match near {
        Some(here) => {
            // Nearest first: every visible point, sorted by distance, the closest ones.
            let (mut all, total) = point_store::list(ctx.db, &filter, PageReq::all()).await?;
            let d = |p: &point_store::PointRow| match (p.lng, p.lat) {
                (Some(x), Some(y)) => crate::domain::geo::distance_m(here, (x, y)),
                _ => f64::MAX,
            };
            all.sort_by(|a, b| d(a).total_cmp(&d(b)));
            all.truncate(CANDIDATES_SHOWN as usize);
            (all, total)
        }
        None => point_store::list(ctx.db, &filter, PageReq::new(Some(1), Some(CANDIDATES_SHOWN))).await?,
    })
}

/// The sources a role may file from (a unit's own self-checks: its points are the ones it sees).
fn sources_of(role: Role) -> Vec<Source> {
    Source::ALL.iter().copied().filter(|s| crate::service::problems::may_file(role, *s, true)).collect()
}

pub async fn new_form(page: PageUser, Query(q): Query<NewQuery>) -> PageResult<NewPage> {
    // A role that files nothing (纪委 reads) is told before it types anything.
    if sources_of(page.user.role).is_empty() {
        return Err(AppError::Forbidden.into());
    }
    let f = FileInput { source: default_source(page.user.role).into(), ..Default::default() };
    let near = q.lng.zip(q.lat).filter(|p| crate::domain::geo::in_china(*p));
    let mut p =
        new_page(&page, opt(&q.point_id), opt(&q.q).unwrap_or_default(), near, f, FieldErrors::default()).await?;
    p.l = p.l.with_flash(q.ok.as_deref());
    Ok(p)
}

fn photos_of(form: &CsrfMultipart, field: &str) -> Vec<Vec<u8>> {
    form.files.iter().filter(|f| f.field == field && !f.bytes.is_empty()).map(|f| f.bytes.clone()).collect()
}

/// The phone's position and clock, filled in by the page's script (static/app.js) when the
/// browser allows it; nothing when it does not.
fn device_of(form: &CsrfMultipart) -> Option<DeviceWitness> {
    let num = |k: &str| form.fields.get(k).and_then(|v| v.trim().parse::<f64>().ok()).filter(|v| v.is_finite());
    let w = DeviceWitness {
        lat: num("device_lat"),
        lng: num("device_lng"),
        accuracy_m: num("device_accuracy"),
        clock_ms: num("device_clock").map(|v| v as i64),
    }
    .usable(now_ms());
    (w != DeviceWitness::default()).then_some(w)
}

pub async fn create(form: CsrfMultipart) -> PageResult<Response> {
    let page = &form.page;
    let get = |k: &str| form.fields.get(k).cloned().unwrap_or_default();
    let input = FileInput {
        point_id: get("point_id"),
        standard_item_id: Some(get("standard_item_id")),
        category: get("category"),
        severity: get("severity"),
        description: get("description"),
        source: get("source"),
        found_at: get("found_at"),
        allow_duplicate: get("allow_duplicate") == "1",
        device: device_of(&form),
        client_ref: Some(get("client_ref")),
    };
    let mut photos = photos_of(&form, "photos");
    let draft = Some(get("draft")).filter(|t| t.len() == 32 && t.bytes().all(|b| b.is_ascii_hexdigit()));
    if let (true, Some(token)) = (photos.is_empty(), &draft) {
        photos = drafts::take(&page.state.storage, &page.user.id, token).await;
    }
    match svc::file(&page.ctx(), &page.state.storage, input.clone(), photos.clone()).await {
        Ok(p) => {
            if let Some(token) = &draft {
                drafts::clear(&page.state.storage, &page.user.id, token).await;
            }
            Ok(Redirect::to(&format!("/problems/{}", p.id)).into_response())
        }
        // The same item is already open here: keep everything typed and the photos, show the
        // open problems with their photos, and let the person choose.
        Err(AppError::Rejected(Code::DuplicateOpenProblem, message, _)) => {
            let token = drafts::kept(&page.state.storage, &page.user.id, draft, &photos).await?;
            let point = Some(input.point_id.clone()).filter(|p| !p.is_empty());
            let mut p = new_page(page, point, String::new(), None, input, FieldErrors::default()).await?;
            p.duplicate = Some(message);
            p.draft = Some((token, photos.len()));
            Ok((StatusCode::CONFLICT, p).into_response())
        }
        // A mistake in the form (the find's time, the description…): the photos chosen are kept
        // as a draft, so fixing the field does not mean taking them again.
        Err(AppError::Validation(errors)) => {
            let point = Some(input.point_id.clone()).filter(|p| !p.is_empty());
            let kept = match draft.is_some() || !(photos.is_empty() || errors.get("photos").is_some()) {
                true => Some(drafts::kept(&page.state.storage, &page.user.id, draft, &photos).await?),
                false => None,
            };
            let mut p = new_page(page, point, String::new(), None, input, errors).await?;
            p.draft = kept.map(|t| (t, photos.len()));
            Ok((StatusCode::UNPROCESSABLE_ENTITY, p).into_response())
        }
        Err(AppError::Refused(_, message)) => {
            let errors = FieldErrors::single("photos", Code::BadPhoto, message);
            let point = Some(input.point_id.clone()).filter(|p| !p.is_empty());
            Ok((StatusCode::UNPROCESSABLE_ENTITY, new_page(page, point, String::new(), None, input, errors).await?)
                .into_response())
        }
        Err(e) => Err(e.into()),
    }
}

/// Photos of a filing that was sent back to the person (a possible duplicate), kept in storage
/// under the account so that choosing "仍然登记" does not mean taking them again.
mod drafts {
    use crate::media::storage::Storage;

    fn key(user: &str, token: &str, i: usize) -> String {
        format!("drafts/{user}/{token}/{i}")
    }

    pub async fn keep(storage: &Storage, user: &str, photos: &[Vec<u8>]) -> crate::error::AppResult<String> {
        let token = crate::service::auth::random_hex(16);
        for (i, bytes) in photos.iter().enumerate() {
            storage
                .put(&key(user, &token, i), bytes)
                .await
                .map_err(|e| anyhow::anyhow!("keeping a draft photo: {e}"))?;
        }
        Ok(token)
    }

    /// The draft the photos came from, or a new one holding them.
    pub async fn kept(
        storage: &Storage,
        user: &str,
        draft: Option<String>,
        photos: &[Vec<u8>],
    ) -> crate::error::AppResult<String> {
        match draft {
            Some(token) => Ok(token),
            None => keep(storage, user, photos).await,
        }
    }

    pub async fn take(storage: &Storage, user: &str, token: &str) -> Vec<Vec<u8>> {
        let mut out = Vec::new();
        for i in 0..crate::service::problems::MAX_PHOTOS {
            match storage.get(&key(user, token, i)).await {
                Ok(bytes) => out.push(bytes),
                Err(_) => break,
            }
        }
        out
    }

    pub async fn clear(storage: &Storage, user: &str, token: &str) {
        for i in 0..crate::service::problems::MAX_PHOTOS {
            let _ = storage.delete(&key(user, token, i)).await;
        }
    }
}

/// The evidence warnings of a photo, for the page.
pub fn flags_of(ph: &Photo) -> Vec<crate::domain::photo::EvidenceFlag> {
    crate::domain::photo::EvidenceFlag::list(&ph.flags)
}

/// What each witness says about a photo, in one line: when the photo says it was taken, when
/// the server received it, and what the phone reported.
pub fn witnesses_of(ph: &Photo, point_at: &Option<(f64, f64)>) -> String {
    let short = |t: i64| to_local(t).format("%m-%d %H:%M").to_string();
    let mut parts = vec![
        format!("拍摄 {}", ph.taken_at.map(short).unwrap_or_else(|| "未知".into())),
        format!("上传 {}", short(ph.uploaded_at)),
    ];
    if ph.lat.is_some() {
        parts.push("照片含定位".into());
    }
    if let Some(d) = ph.device() {
        if let Some(pos) = d.position() {
            let accuracy = d.accuracy_m.unwrap_or(0.0).round();
            match point_at {
                Some(pt) => parts.push(format!(
                    "上传时手机距点位{}（定位精度±{accuracy}米）",
                    crate::domain::geo::fmt_distance(crate::domain::geo::distance_m(pos, *pt))
                )),
                None => parts.push(format!("手机定位±{accuracy}米")),
            }
        }
        if let Some(skew) = d.clock_ms.map(|c| c - ph.uploaded_at).filter(|s| s.abs() > 120_000) {
            parts.push(format!("手机时钟{}{}分钟", if skew > 0 { "快" } else { "慢" }, skew.abs() / 60_000));
        }
    }
    parts.join(" · ")
}

pub struct EventView {
    pub e: Event,
    pub at: String,
    pub action: &'static str,
}

#[derive(Template, WebTemplate)]
#[template(path = "problems/detail.html")]
pub struct DetailPage {
    l: Layout,
    p: Problem,
    state: &'static str,
    source: &'static str,
    point_name: String,
    /// The point's position (WGS-84), to say how far the phone was
    point_at: Option<(f64, f64)>,
    unit_name: String,
    standard: String,
    found: String,
    deadline: String,
    overdue: bool,
    /// Why this supervisor sees no re-check buttons on a fix waiting for one
    recheck_elsewhere: Option<String>,
    /// A find entered after the deadline it would have had: that deadline (the clock started at
    /// filing)
    late_entry: Option<String>,
    events: Vec<EventView>,
    before: Vec<Photo>,
    after: Vec<Photo>,
    /// Taken by the supervisor at the re-check
    recheck: Vec<Photo>,
    actions: Vec<(&'static str, &'static str, bool)>,
    /// Both outcomes of the re-check are open: one form with one photo picker and two buttons
    recheck_both: bool,
    units: Vec<Opt>,
    error: Option<String>,
    can_merge: bool,
    /// The office and the discipline office open the problem's audit entries
    reads_audit: bool,
    /// An after-photo carries an evidence warning: passing the re-check asks first
    after_warned: bool,
    /// What was typed into the action forms before a refusal, shown again
    typed_note: String,
    typed_reason: String,
}

async fn detail_page(page: &PageUser, id: &str, error: Option<String>) -> PageResult<DetailPage> {
    let ctx = page.ctx();
    let p = svc::visible(&ctx, id).await?;
    let now = now_ms();
    let st = Some(p.state);
    let point = point_store::get(ctx.db, &p.point_id).await?;
    let point_at = point.as_ref().and_then(|x| Some((x.lng?, x.lat?)));
    let point_name = point.map(|x| x.name).unwrap_or_default();
    let unit_name = units::get(ctx.db, &p.unit_id).await?.map(|u| u.name).unwrap_or_default();
    let standard = match &p.standard_item_id {
        Some(i) => match standards::item(ctx.db, i).await? {
            Some(item) => {
                let v = standards::version(ctx.db, &item.version_id)
                    .await?
                    .map(|v| format!("第{}版", v.version_no))
                    .unwrap_or_default();
                format!("{v} {}{} {}", item.major_code, item.minor_code, item.requirement)
            }
            None => String::new(),
        },
        None => String::new(),
    };
    let photos = photo_store::of(ctx.db, PhotoOwner::Problem, &p.id).await?;
    let (recheck, photos): (Vec<Photo>, Vec<Photo>) = photos.into_iter().partition(|ph| ph.kind == PhotoKind::Recheck);
    let (before, after): (Vec<Photo>, Vec<Photo>) = photos.into_iter().partition(|ph| ph.kind == PhotoKind::Before);
    let after_warned = after.iter().any(|ph| !flags_of(ph).is_empty());
    let events = store::events(ctx.db, &p.id)
        .await?
        .into_iter()
        .map(|e| EventView { at: fmt_local(e.at), action: e.action.label(), e })
        .collect();
    let allowed = svc::allowed(&ctx, &p).await?;
    let recheck_elsewhere = match p.state == crate::domain::problem::State::Submitted {
        true => crate::service::access::outside_recheck(&ctx, p.community_id.as_deref()).await?,
        false => None,
    };
    Ok(DetailPage {
        l: Layout::new(&page.user, "problems", format!("问题 {}", p.code)),
        state: st.map(|s| s.label()).unwrap_or(""),
        source: p.source.label(),
        point_name,
        point_at,
        unit_name,
        standard,
        found: fmt_local(p.found_at),
        deadline: p.deadline_at.map(fmt_local).unwrap_or_else(|| "待立案后确定".into()),
        overdue: st.is_some_and(|s| s.clock_running()) && p.deadline_at.is_some_and(|d| d < now),
        recheck_elsewhere,
        late_entry: crate::service::problems::passed_at_filing(&ctx, &p).await?.map(fmt_local),
        events,
        before,
        after,
        recheck,
        actions: allowed.iter().map(|a| (a.as_str(), a.label(), a.needs_reason())).collect(),
        recheck_both: allowed.contains(&Action::Pass) && allowed.contains(&Action::Fail),
        units: if allowed.contains(&Action::Transfer) {
            units::all_names(ctx.db).await?.into_iter().map(|(id, n)| Opt::new(id, n)).collect()
        } else {
            Vec::new()
        },
        error,
        can_merge: page.user.role == Role::Admin && st.is_some_and(|s| !s.is_final()),
        reads_audit: page.user.role.reads_audit(),
        after_warned,
        typed_note: String::new(),
        typed_reason: String::new(),
        p,
    })
}

pub async fn detail(page: PageUser, Path(id): Path<String>) -> PageResult<DetailPage> {
    detail_page(&page, &id, None).await
}

pub async fn act(Path((id, action)): Path<(String, String)>, form: CsrfMultipart) -> PageResult<Response> {
    let page = &form.page;
    let action = Action::parse(&action).ok_or(AppError::NotFound)?;
    let get = |k: &str| form.fields.get(k).cloned().unwrap_or_default();
    let input = ActInput {
        reason: get("reason"),
        note: get("note"),
        days: get("days").trim().parse().ok(),
        lead_name: get("lead_name"),
        unit_id: get("unit_id"),
        version: get("version").trim().parse().ok(),
        device: device_of(&form),
        client_ref: Some(get("client_ref")),
        offline_at: get("offline_at").trim().parse().ok(),
    };
    // A one-tap action from a list (the start page) goes back there; anything else shows the problem.
    let back = get("back");
    let to = if back.starts_with('/') && !back.starts_with("//") && !back.contains('\\') {
        back
    } else {
        format!("/problems/{id}")
    };
    let typed = (input.note.clone(), input.reason.clone());
    let photos = photos_of(&form, "photos");
    // Refused: the page again with the message and what was typed (a browser cannot be given
    // back the files it sent: it is told to choose them again).
    let photos_sent = photos.len();
    let again = async |msg: String| -> PageResult<Response> {
        let msg = if photos_sent > 0 {
            format!("{msg}（刚才选择的{photos_sent}张照片未保存，请重新选择）")
        } else {
            msg
        };
        let mut d = detail_page(page, &id, Some(msg)).await?;
        (d.typed_note, d.typed_reason) = typed;
        Ok((StatusCode::UNPROCESSABLE_ENTITY, d).into_response())
    };
    match svc::act(&page.ctx(), &page.state.storage, &id, action, input, photos).await {
        Ok(_) => Ok(Redirect::to(&to).into_response()),
        Err(e @ AppError::Validation(_)) => again(crate::web::error::message_of(&e)).await,
        Err(AppError::Refused(_, msg)) => again(msg).await,
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize, Default)]
pub struct MergeForm {
    #[serde(default)]
    into: String,
}

pub async fn merge(
    Path(id): Path<String>,
    crate::web::auth::CsrfForm { page, form }: crate::web::auth::CsrfForm<MergeForm>,
) -> PageResult<Response> {
    match svc::merge(&page.ctx(), &page.state.storage, &id, &form.into).await {
        Ok(_) => Ok(Redirect::to(&format!("/problems/{id}")).into_response()),
        Err(e @ AppError::Validation(_)) => {
            let msg = crate::web::error::message_of(&e);
            Ok((StatusCode::UNPROCESSABLE_ENTITY, detail_page(&page, &id, Some(msg)).await?).into_response())
        }
        Err(e) => Err(e.into()),
    }
}
