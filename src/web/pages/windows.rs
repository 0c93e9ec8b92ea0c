//! Staff pages of the window service: a window (edit, served counts, a visit token to show), the
//! printable QR sheet, staff, rating devices, the case page with its steps, and the settings.

use crate::domain::time::fmt_local;
use crate::domain::validate::FieldErrors;
use crate::domain::window::{self as rules, CallbackResult, CaseState};
use crate::error::{AppError, AppResult};
use crate::service::rating_cases::{self as cases, AppealInput, CallbackInput, DecideInput, ResolveInput};
use crate::service::windows::{self as svc, StaffInput, VisitToken, VolumeInput, WindowInput};
use crate::store::photos::Photo;
use crate::store::windows::{self as store, CaseRow, Device, StaffRow, WindowRow};
use crate::web::auth::{CsrfForm, CsrfMultipart, PageUser};
use crate::web::error::PageResult;
use crate::web::query::Query;
use crate::web::ui::{Layout, Opt};
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::Path;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

#[derive(Template, WebTemplate)]
#[template(path = "windows/form.html")]
pub struct WindowPage {
    l: Layout,
    editing: Option<WindowRow>,
    f: WindowInput,
    errors: FieldErrors,
    units: Vec<Opt>,
    points: Vec<Opt>,
    staff: Vec<Opt>,
    may_manage: bool,
    month: String,
    token: Option<(VisitToken, String)>,
}

async fn window_page(
    page: &PageUser,
    editing: Option<WindowRow>,
    f: WindowInput,
    errors: FieldErrors,
) -> PageResult<WindowPage> {
    let ctx = page.ctx();
    let unit = editing.as_ref().map(|w| w.unit_id.clone()).or(page.user.unit_id.clone()).or(Some(f.unit_id.clone()));
    let units = crate::store::units::all(ctx.db)
        .await?
        .into_iter()
        .filter(|u| {
            u.kind.is_window() && (page.user.role == crate::domain::role::Role::Admin || Some(&u.id) == unit.as_ref())
        })
        .map(|u| Opt::new(u.id, u.name))
        .collect();
    let unit = unit.filter(|u| !u.is_empty());
    let points = match &unit {
        Some(u) => sqlx::query_as::<_, (String, String, String)>(
            "SELECT id, code, name FROM points WHERE unit_id = $1 AND active = 1 ORDER BY code",
        )
        .bind(u)
        .fetch_all(&ctx.db.pool)
        .await?
        .into_iter()
        .map(|(id, c, n)| Opt::new(id, format!("{c} {n}")))
        .collect(),
        None => Vec::new(),
    };
    let staff = svc::staff_list(&ctx, unit.as_deref())
        .await?
        .into_iter()
        .filter(|s| s.active == 1 && unit.as_deref().is_none_or(|u| u == s.unit_id))
        .map(|s| Opt::new(s.id.clone(), format!("{}（{}）{}", s.name, s.badge, s.post)))
        .collect();
    let may_manage = match &editing {
        Some(w) => svc::may_manage(&ctx, &w.unit_id),
        None => true,
    };
    let title = match &editing {
        Some(w) => format!("{} {} · {}", w.number, w.service, w.unit_name),
        None => "新增服务窗口".into(),
    };
    let month = {
        let m = rules::month_of(crate::domain::time::now_ms());
        format!("{}-{:02}", m / 100, m % 100)
    };
    Ok(WindowPage {
        l: Layout::new(&page.user, "windows", title),
        editing,
        f,
        errors,
        units,
        points,
        staff,
        may_manage,
        month,
        token: None,
    })
}

fn input_of(w: &WindowRow) -> WindowInput {
    WindowInput {
        unit_id: w.unit_id.clone(),
        number: w.number.clone(),
        service: w.service.clone(),
        point_id: w.point_id.clone().unwrap_or_default(),
        staff_id: w.staff_id.clone().unwrap_or_default(),
        active: Some(w.active == 1),
        version: Some(w.version),
    }
}

pub async fn new_form(page: PageUser) -> PageResult<WindowPage> {
    if !matches!(page.user.role, crate::domain::role::Role::Admin | crate::domain::role::Role::UnitUser) {
        return Err(AppError::Forbidden.into());
    }
    window_page(&page, None, WindowInput { active: Some(true), ..Default::default() }, FieldErrors::default()).await
}

pub async fn create(CsrfForm { page, form }: CsrfForm<WindowInput>) -> PageResult<Response> {
    let saved = svc::create(&page.ctx(), form.clone()).await;
    crate::web::pages::posted(
        saved,
        |w| format!("/windows/{}?ok=created", w.id),
        async |e| window_page(&page, None, form, e).await,
    )
    .await
}

pub async fn detail(
    page: PageUser,
    Path(id): Path<String>,
    Query(flash): Query<crate::web::list::Flash>,
) -> PageResult<WindowPage> {
    let w = svc::visible(&page.ctx(), &id).await?;
    let f = input_of(&w);
    let mut p = window_page(&page, Some(w), f, FieldErrors::default()).await?;
    p.l = p.l.with_flash(flash.ok.as_deref());
    Ok(p)
}

pub async fn update(
    Path(id): Path<String>,
    CsrfForm { page, mut form }: CsrfForm<WindowInput>,
) -> PageResult<Response> {
    form.active = Some(form.active.unwrap_or(false));
    let saved = svc::update(&page.ctx(), &id, form.clone()).await;
    let w = svc::visible(&page.ctx(), &id).await?;
    crate::web::pages::posted(
        saved,
        |w| format!("/windows/{}?ok=saved", w.id),
        async |e| window_page(&page, Some(w), form, e).await,
    )
    .await
}

pub async fn volume(Path(id): Path<String>, CsrfForm { page, form }: CsrfForm<VolumeInput>) -> PageResult<Response> {
    let saved = svc::set_volume(&page.ctx(), &id, form).await;
    let w = svc::visible(&page.ctx(), &id).await?;
    let f = input_of(&w);
    crate::web::pages::posted(
        saved,
        |_| format!("/windows/{id}?ok=saved"),
        async |e| window_page(&page, Some(w), f, e).await,
    )
    .await
}

/// A fresh visit token for the rater in front of the window (shown as a QR code to scan).
pub async fn token(
    headers: HeaderMap,
    Path(id): Path<String>,
    CsrfForm { page, .. }: CsrfForm<Empty>,
) -> PageResult<Response> {
    let ctx = page.ctx();
    let w = svc::managed(&ctx, &id).await?;
    let base = crate::web::public::base_url(&page.state, &headers);
    let t = svc::visit_tokens(ctx.db, &w, 1, &base).await?.remove(0);
    let qr = crate::web::public::qr_svg(&t.url)?;
    let f = input_of(&w);
    let mut p = window_page(&page, Some(w), f, FieldErrors::default()).await?;
    p.token = Some((t, qr));
    Ok(p.into_response())
}

#[derive(Deserialize, Default)]
pub struct Empty {}

#[derive(Template, WebTemplate)]
#[template(path = "windows/qr.html")]
pub struct QrPage {
    l: Layout,
    /// window, its rating link, the QR code's SVG
    cards: Vec<(WindowRow, String, String)>,
}

/// One QR code per window, to print and put on each window (A4, three across).
pub async fn qr_sheet(headers: HeaderMap, page: PageUser) -> PageResult<QrPage> {
    let ctx = page.ctx();
    let scope = svc::unit_scope(&ctx)?;
    let base = crate::web::public::base_url(&page.state, &headers);
    let mut cards = Vec::new();
    for w in store::windows_of(ctx.db, scope.as_deref()).await? {
        let url = format!("{base}/rate/{}", w.code);
        let qr = crate::web::public::qr_svg(&url)?;
        cards.push((w, url, qr));
    }
    Ok(QrPage { l: Layout::new(&page.user, "windows", "服务窗口评价二维码"), cards })
}

#[derive(Template, WebTemplate)]
#[template(path = "windows/staff.html")]
pub struct StaffPage {
    l: Layout,
    rows: Vec<StaffRow>,
    f: StaffInput,
    errors: FieldErrors,
    units: Vec<Opt>,
    may_add: bool,
}

async fn staff_page(page: &PageUser, f: StaffInput, errors: FieldErrors) -> PageResult<StaffPage> {
    let ctx = page.ctx();
    let rows = svc::staff_list(&ctx, None).await?;
    let admin = page.user.role == crate::domain::role::Role::Admin;
    let units = if admin { crate::web::lists::windows::window_units(&ctx).await? } else { Vec::new() };
    let may_add = admin || page.user.role == crate::domain::role::Role::UnitUser;
    Ok(StaffPage { l: Layout::new(&page.user, "windows", "窗口工作人员"), rows, f, errors, units, may_add })
}

pub async fn staff(page: PageUser, Query(flash): Query<crate::web::list::Flash>) -> PageResult<StaffPage> {
    let mut p = staff_page(&page, StaffInput::default(), FieldErrors::default()).await?;
    p.l = p.l.with_flash(flash.ok.as_deref());
    Ok(p)
}

pub async fn add_staff(CsrfForm { page, form }: CsrfForm<StaffInput>) -> PageResult<Response> {
    let saved = svc::create_staff(&page.ctx(), form.clone()).await;
    crate::web::pages::posted(saved, |_| "/windows/staff?ok=created".into(), async |e| staff_page(&page, form, e).await)
        .await
}

#[derive(Template, WebTemplate)]
#[template(path = "windows/devices.html")]
pub struct DevicesPage {
    l: Layout,
    devices: Vec<(Device, String, String)>,
    units: Vec<Opt>,
    new_key: Option<String>,
    errors: Vec<String>,
    rules: crate::service::ratings::CaseRules,
    /// The deadlines as typed (callback, fix), after a refused save
    typed_rules: Option<(String, String)>,
    admin: bool,
}

async fn devices_page(page: &PageUser, new_key: Option<String>, errors: Vec<String>) -> PageResult<DevicesPage> {
    let ctx = page.ctx();
    let scope = svc::unit_scope(&ctx)?;
    let names: std::collections::HashMap<String, String> =
        crate::store::units::all(ctx.db).await?.into_iter().map(|u| (u.id, u.name)).collect();
    let devices = store::devices(ctx.db, scope.as_deref())
        .await?
        .into_iter()
        .map(|d| {
            let unit = names.get(&d.unit_id).cloned().unwrap_or_default();
            let used = d.last_used_at.map(fmt_local).unwrap_or_else(|| "从未".into());
            (d, unit, used)
        })
        .collect();
    let admin = page.user.role == crate::domain::role::Role::Admin;
    let units = if admin { crate::web::lists::windows::window_units(&ctx).await? } else { Vec::new() };
    let rules = crate::service::ratings::case_rules(ctx.db).await?;
    Ok(DevicesPage {
        l: Layout::new(&page.user, "windows", "评价器与好差评设置"),
        devices,
        units,
        new_key,
        errors,
        rules,
        typed_rules: None,
        admin,
    })
}

pub async fn devices(page: PageUser, Query(flash): Query<crate::web::list::Flash>) -> PageResult<DevicesPage> {
    let mut p = devices_page(&page, None, Vec::new()).await?;
    p.l = p.l.with_flash(flash.ok.as_deref());
    Ok(p)
}

#[derive(Deserialize, Default)]
pub struct DeviceForm {
    #[serde(default)]
    unit_id: String,
    #[serde(default)]
    name: String,
}

pub async fn issue_device(CsrfForm { page, form }: CsrfForm<DeviceForm>) -> PageResult<Response> {
    match svc::issue_device(&page.ctx(), &form.unit_id, &form.name).await {
        Ok((_, key)) => Ok(devices_page(&page, Some(key), Vec::new()).await?.into_response()),
        Err(e @ (AppError::Validation(_) | AppError::Refused(..))) => {
            let errors = vec![crate::web::error::message_of(&e)];
            Ok((StatusCode::UNPROCESSABLE_ENTITY, devices_page(&page, None, errors).await?).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

pub async fn revoke_device(Path(id): Path<String>, CsrfForm { page, .. }: CsrfForm<Empty>) -> PageResult<Response> {
    svc::revoke_device(&page.ctx(), &id).await?;
    Ok(Redirect::to("/windows/devices").into_response())
}

#[derive(Deserialize, Default)]
pub struct RulesForm {
    #[serde(default)]
    callback_days: String,
    #[serde(default)]
    fix_days: String,
    /// The deadlines the page showed
    #[serde(default)]
    seen_callback_days: Option<String>,
    #[serde(default)]
    seen_fix_days: Option<String>,
}

/// The office sets the callback and fix deadlines (working days), audited as settings.
pub async fn save_rules(CsrfForm { page, form }: CsrfForm<RulesForm>) -> PageResult<Response> {
    let ctx = page.ctx();
    svc::require_office(&ctx)?;
    let parse = |s: &str, max: u32| s.trim().parse::<u32>().ok().filter(|n| (1..=max).contains(n));
    let (Some(cb), Some(fix)) = (parse(&form.callback_days, 10), parse(&form.fix_days, 60)) else {
        let errors = vec!["回访期限应为1至10个工作日，整改期限应为1至60个工作日".to_string()];
        let mut p = devices_page(&page, None, errors).await?;
        p.typed_rules = Some((form.callback_days.clone(), form.fix_days.clone()));
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, p).into_response());
    };
    use crate::service::ratings::{CALLBACK_DAYS_KEY, FIX_DAYS_KEY, callback_days_of, fix_days_of};
    fn seen(s: &Option<String>) -> Option<&str> {
        s.as_deref().map(str::trim)
    }
    let save = async {
        let mut w = ctx.write().await?;
        let shown = |s: Option<&str>| callback_days_of(s).to_string();
        w.setting(
            (CALLBACK_DAYS_KEY, "差评回访期限（工作日）"),
            shown,
            seen(&form.seen_callback_days),
            &cb.to_string(),
        )
        .await?;
        let shown = |s: Option<&str>| fix_days_of(s).to_string();
        w.setting((FIX_DAYS_KEY, "差评整改期限（工作日）"), shown, seen(&form.seen_fix_days), &fix.to_string()).await?;
        w.commit().await
    };
    match save.await {
        Ok(()) => Ok(Redirect::to("/windows/devices?ok=saved").into_response()),
        Err(e @ AppError::Refused(..)) => {
            let errors = vec![crate::web::error::message_of(&e)];
            let mut p = devices_page(&page, None, errors).await?;
            p.typed_rules = Some((form.callback_days.clone(), form.fix_days.clone()));
            Ok((StatusCode::UNPROCESSABLE_ENTITY, p).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

// --- A bad-rating case -----------------------------------------------------------------------

#[derive(Template, WebTemplate)]
#[template(path = "windows/case.html")]
pub struct CasePage {
    l: Layout,
    c: CaseRow,
    photos: Vec<Photo>,
    rated: String,
    /// The callback's deadline; for an anonymous rating (no callback) the verification's
    callback_due: String,
    /// The deadline has passed with the step still waiting
    due_passed: bool,
    callback: String,
    /// The callback was made after its deadline (kept on the record: the callback is published)
    called_late: bool,
    fix_due: String,
    may_handle: bool,
    may_appeal: bool,
    may_decide: bool,
    /// A refusal not tied to one field (a stale version, a step no longer open)
    errors: Vec<String>,
    /// The mistakes of the form sent, shown beside their fields
    fields: FieldErrors,
    /// What was typed into the form sent, shown again with its mistakes
    typed: Typed,
    results: Vec<(CallbackResult, bool)>,
}

/// What was typed into one of the case's forms (`form` names it), kept when it is refused.
#[derive(Default)]
pub struct Typed {
    form: &'static str,
    fields: Vec<(&'static str, String)>,
    /// Photos chosen for an appeal: a refused form cannot keep them, the page says so
    photos: usize,
}

impl Typed {
    fn new<const N: usize>(form: &'static str, fields: [(&'static str, &str); N]) -> Typed {
        Typed { form, fields: fields.into_iter().map(|(k, v)| (k, v.to_string())).collect(), photos: 0 }
    }

    /// The text typed into `field` of `form`, empty for the other forms.
    fn of(&self, form: &str, field: &str) -> &str {
        let typed = self.fields.iter().find(|(k, _)| *k == field).filter(|_| self.form == form);
        typed.map_or("", |(_, v)| v.as_str())
    }
}

async fn case_page(page: &PageUser, id: &str) -> PageResult<CasePage> {
    let ctx = page.ctx();
    let c = cases::visible(&ctx, id).await?;
    let photos = cases::photos(&ctx, &c).await?;
    let unit_side = page.user.unit_id.as_deref() == Some(c.unit_id.as_str())
        && matches!(page.user.role, crate::domain::role::Role::UnitUser | crate::domain::role::Role::PointLead);
    let admin = page.user.role == crate::domain::role::Role::Admin;
    let callback = match (c.callback_result, c.called_at) {
        (Some(r), Some(at)) => format!("{}（{}）{}", r.label(), fmt_local(at), c.callback_note),
        _ => String::new(),
    };
    let results =
        CallbackResult::ALL.iter().map(|r| (*r, (*r == CallbackResult::Anonymous) == (c.has_phone == 0))).collect();
    Ok(CasePage {
        l: Layout::new(&page.user, "rating_cases", format!("差评工单 {}", c.code)),
        rated: fmt_local(c.rated_at),
        callback_due: fmt_local(c.callback_due),
        due_passed: c.waiting_past_due(crate::domain::time::now_ms()),
        called_late: c.called_late(),
        fix_due: c.fix_due.map(fmt_local).unwrap_or_default(),
        callback,
        may_handle: (unit_side || admin) && matches!(c.state, CaseState::Callback | CaseState::Verify),
        may_appeal: unit_side && matches!(c.state, CaseState::Callback | CaseState::Verify) && c.appealed_at.is_none(),
        may_decide: admin && c.state == CaseState::Appealed,
        photos,
        errors: Vec::new(),
        fields: FieldErrors::default(),
        typed: Typed::default(),
        results,
        c,
    })
}

pub async fn case(
    page: PageUser,
    Path(id): Path<String>,
    Query(flash): Query<crate::web::list::Flash>,
) -> PageResult<CasePage> {
    let mut p = case_page(&page, &id).await?;
    p.l = p.l.with_flash(flash.ok.as_deref());
    Ok(p)
}

/// A step's address opened in the browser (after a refused form, the address bar holds it): the
/// case itself.
pub async fn case_step(Path(id): Path<String>) -> Redirect {
    Redirect::to(&format!("/rating-cases/{id}"))
}

/// After a step: back to the case, or the case again with the form as typed and its mistakes
/// beside the fields (a refusal not tied to a field above the page).
async fn case_done<T>(page: &PageUser, id: &str, r: AppResult<T>, typed: Typed) -> PageResult<Response> {
    match r {
        Ok(_) => Ok(Redirect::to(&format!("/rating-cases/{id}?ok=saved")).into_response()),
        Err(AppError::Validation(f)) => {
            let mut p = case_page(page, id).await?;
            p.errors = vec!["提交的内容有误，请按提示修改".into()];
            if typed.photos > 0 && f.get("photos").is_none() {
                p.errors.push(format!("刚才选择的{}张证据照片未能保留，请重新选择", typed.photos));
            }
            (p.fields, p.typed) = (f, typed);
            Ok((StatusCode::UNPROCESSABLE_ENTITY, p).into_response())
        }
        Err(e @ AppError::Refused(..)) => {
            let status = e.status();
            let mut p = case_page(page, id).await?;
            p.errors = vec![crate::web::error::message_of(&e)];
            p.typed = typed;
            Ok((status, p).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

pub async fn callback(
    Path(id): Path<String>,
    CsrfForm { page, form }: CsrfForm<CallbackInput>,
) -> PageResult<Response> {
    let typed = Typed::new("callback", [("result", &form.result), ("note", &form.note)]);
    let r = cases::callback(&page.ctx(), &id, form).await;
    case_done(&page, &id, r, typed).await
}

pub async fn resolve(Path(id): Path<String>, CsrfForm { page, form }: CsrfForm<ResolveInput>) -> PageResult<Response> {
    let typed = Typed::new("resolve", [("finding", &form.finding), ("outcome", &form.outcome), ("reply", &form.reply)]);
    let r = cases::resolve(&page.ctx(), &id, form).await;
    case_done(&page, &id, r, typed).await
}

pub async fn decide(Path(id): Path<String>, CsrfForm { page, form }: CsrfForm<DecideInput>) -> PageResult<Response> {
    let uphold = form.uphold.map(|u| u.to_string()).unwrap_or_default();
    let typed = Typed::new("decide", [("note", &form.note), ("uphold", &uphold)]);
    let r = cases::decide(&page.ctx(), &id, form).await;
    case_done(&page, &id, r, typed).await
}

pub async fn appeal(Path(id): Path<String>, form: CsrfMultipart) -> PageResult<Response> {
    let photos: Vec<Vec<u8>> =
        form.files.iter().filter(|f| f.field == "photos" && !f.bytes.is_empty()).map(|f| f.bytes.clone()).collect();
    let input = AppealInput {
        reason: form.fields.get("reason").cloned().unwrap_or_default(),
        version: form.fields.get("version").and_then(|v| v.trim().parse().ok()),
    };
    let typed = Typed { photos: photos.len(), ..Typed::new("appeal", [("reason", &input.reason)]) };
    let page = &form.page;
    let r = cases::appeal(&page.ctx(), &page.state.storage, &id, input, photos).await;
    case_done(page, &id, r, typed).await
}
