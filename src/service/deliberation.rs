//! Residents' deliberation (居民议事亭): meetings with who attended, residents' suggestions
//! raised at a meeting or online, each answered on the spot or routed to a unit with a deadline;
//! answers go back publicly (without the resident's name or phone); closure rate and time per
//! community; minutes as a Word document.

use super::{Ctx, CurrentUser};
use crate::domain::audit::ObjectType;
use crate::domain::code::Code;
use crate::domain::community::{Channel, SuggestionState, percent};
use crate::domain::ids::new_id;
use crate::domain::role::Role;
use crate::domain::time::{now_ms, to_local};
use crate::domain::validate::{FieldErrors, optional_text, required_text};
use crate::error::{AppError, AppResult};
use crate::store::record::Insert;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// The longest a unit may be given to answer a routed suggestion, in days.
pub const MAX_ROUTED_DAYS: u64 = 90;

/// The latest answer deadline of a suggestion routed at `now`.
fn latest_due_at(now: i64) -> NaiveDate {
    to_local(now).date_naive() + chrono::Days::new(MAX_ROUTED_DAYS)
}

/// The latest answer deadline a suggestion routed now may have (the form's `max`).
pub fn latest_due() -> String {
    latest_due_at(crate::domain::time::now_ms()).format("%Y-%m-%d").to_string()
}

#[derive(Debug, Clone, sqlx::FromRow, Serialize)]
pub struct Meeting {
    pub id: String,
    pub community_id: String,
    pub held_on: String,
    pub place: String,
    pub topic: String,
    pub residents: i64,
    pub party_members: i64,
    pub property: String,
    pub partners: String,
    pub minutes: String,
    pub created_by: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
    pub version: i64,
}

crate::record! {
    Meeting in "meetings" as ObjectType::Meeting,
    label |m| format!("{} {}", m.held_on, m.topic),
    insert [id, community_id, held_on, place, topic, residents, party_members, property, partners, minutes, created_by,
        created_at, updated_at, version],
}

#[derive(Debug, Clone, sqlx::FromRow, Serialize)]
pub struct Suggestion {
    pub id: String,
    pub community_id: String,
    pub meeting_id: Option<String>,
    pub channel: Channel,
    pub content: String,
    pub raised_by: String,
    pub phone: String,
    pub state: SuggestionState,
    pub unit_id: Option<String>,
    pub due_on: Option<String>,
    pub answer: String,
    pub answered_by: Option<String>,
    pub answered_at: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
    pub version: i64,
}

crate::record! {
    Suggestion in "suggestions" as ObjectType::Suggestion,
    label |s| s.content.chars().take(30).collect::<String>(),
    insert [id, community_id, meeting_id, channel, content, raised_by, phone, state, unit_id, due_on, answer, answered_by,
        answered_at, created_at, updated_at, version],
    update [state, unit_id, due_on, answer, answered_by, answered_at, updated_at],
    snapshot |s| serde_json::json!({"state": s.state, "unit_id": s.unit_id, "due_on": s.due_on, "answer": s.answer}),
}

/// A suggestion as lists show it.
#[derive(Debug, Clone, sqlx::FromRow, Serialize)]
pub struct SuggestionRow {
    pub id: String,
    pub community_id: String,
    pub community: String,
    pub meeting_id: Option<String>,
    pub channel: Channel,
    pub content: String,
    pub raised_by: String,
    pub state: SuggestionState,
    pub unit_id: Option<String>,
    pub unit: Option<String>,
    pub due_on: Option<String>,
    pub answer: String,
    pub answered_at: Option<i64>,
    pub created_at: i64,
    pub version: i64,
}

impl SuggestionRow {
    pub fn overdue(&self, today: &str) -> bool {
        self.state == SuggestionState::Routed && self.due_on.as_deref().is_some_and(|d| d < today)
    }
}

const SSELECT: &str = "SELECT s.id, s.community_id, c.name AS community, s.meeting_id, s.channel, s.content, s.raised_by, \
     s.state, s.unit_id, u.name AS unit, s.due_on, s.answer, s.answered_at, s.created_at, s.version \
     FROM suggestions s JOIN org_nodes c ON c.id = s.community_id LEFT JOIN units u ON u.id = s.unit_id";

/// Who reads deliberation: the office and its watchers, community staff, and units (their own
/// routed suggestions only).
fn reads(role: Role) -> bool {
    matches!(role, Role::Admin | Role::Supervisor | Role::Discipline | Role::GridWorker) || role.needs_unit()
}

async fn manages(ctx: &Ctx<'_>, community: &str) -> AppResult<bool> {
    Ok(match ctx.user.role {
        Role::Admin => true,
        Role::GridWorker => super::access::area_scope(ctx).await?.is_some_and(|s| s.iter().any(|c| c == community)),
        _ => false,
    })
}

pub async fn suggestions(ctx: &Ctx<'_>, area: Option<String>, meeting: Option<&str>) -> AppResult<Vec<SuggestionRow>> {
    if !reads(ctx.user.role) {
        return Err(AppError::Forbidden);
    }
    let all: Vec<SuggestionRow> =
        sqlx::query_as(&format!("{SSELECT} ORDER BY s.created_at DESC")).fetch_all(&ctx.db.pool).await?;
    let scope = super::access::narrow_to_area(ctx.db, super::access::area_scope(ctx).await?, area).await?;
    Ok(all
        .into_iter()
        .filter(|s| {
            if ctx.user.role.needs_unit() {
                return s.unit_id.is_some() && s.unit_id == ctx.user.unit_id;
            }
            scope.as_ref().is_none_or(|sc| sc.contains(&s.community_id))
        })
        .filter(|s| meeting.is_none_or(|m| s.meeting_id.as_deref() == Some(m)))
        .collect())
}

/// The meetings the caller may read, within `area` (a street or a community) when given.
pub async fn meetings(ctx: &Ctx<'_>, area: Option<String>) -> AppResult<Vec<(Meeting, String)>> {
    if !reads(ctx.user.role) || ctx.user.role.needs_unit() {
        return Err(AppError::Forbidden);
    }
    let scope = super::access::narrow_to_area(ctx.db, super::access::area_scope(ctx).await?, area).await?;
    let rows: Vec<Meeting> =
        sqlx::query_as(&format!("SELECT {} FROM meetings ORDER BY held_on DESC", Meeting::COLUMNS.join(", ")))
            .fetch_all(&ctx.db.pool)
            .await?;
    let names: Vec<(String, String)> =
        sqlx::query_as("SELECT id, name FROM org_nodes WHERE level = 'community'").fetch_all(&ctx.db.pool).await?;
    Ok(rows
        .into_iter()
        .filter(|m| scope.as_ref().is_none_or(|s| s.contains(&m.community_id)))
        .map(|m| {
            let n = names.iter().find(|n| n.0 == m.community_id).map(|n| n.1.clone()).unwrap_or_default();
            (m, n)
        })
        .collect())
}

pub async fn meeting(ctx: &Ctx<'_>, id: &str) -> AppResult<(Meeting, String)> {
    meetings(ctx, None).await?.into_iter().find(|m| m.0.id == id).ok_or(AppError::NotFound)
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct MeetingInput {
    #[serde(default)]
    pub community_id: String,
    #[serde(default)]
    pub held_on: String,
    #[serde(default)]
    pub place: String,
    #[serde(default)]
    pub topic: String,
    #[serde(default)]
    pub residents: String,
    #[serde(default)]
    pub party_members: String,
    #[serde(default)]
    pub property: String,
    #[serde(default)]
    pub partners: String,
    #[serde(default)]
    pub minutes: String,
}

fn count(e: &mut FieldErrors, field: &str, label: &str, s: &str) -> i64 {
    match s.trim() {
        "" => 0,
        s => s.parse::<i64>().ok().filter(|n| (0..=10_000).contains(n)).unwrap_or_else(|| {
            e.add(field, Code::InvalidValue, format!("{label}应为0–10000的整数"));
            0
        }),
    }
}

pub async fn create_meeting(ctx: &Ctx<'_>, input: MeetingInput) -> AppResult<Meeting> {
    let mut e = FieldErrors::default();
    let community_id = input.community_id.trim().to_string();
    let is_community = crate::store::org::get(ctx.db, &community_id)
        .await?
        .is_some_and(|n| n.level == crate::domain::org::OrgLevel::Community);
    if !is_community || !manages(ctx, &community_id).await? {
        e.add("community_id", Code::UnknownArea, "请选择本辖区的社区");
    }
    let today = to_local(now_ms()).date_naive();
    match NaiveDate::parse_from_str(input.held_on.trim(), "%Y-%m-%d") {
        Ok(d) if d > today => e.add("held_on", Code::InvalidDate, "议事会日期不能晚于今天（记录已经召开的会议）"),
        Ok(_) => {}
        Err(_) => e.add("held_on", Code::InvalidDate, "日期格式应为2026-12-01"),
    }
    let place = required_text(&mut e, "place", "地点", &input.place, 60);
    let topic = required_text(&mut e, "topic", "议题", &input.topic, 100);
    let residents = count(&mut e, "residents", "参会居民人数", &input.residents);
    let party_members = count(&mut e, "party_members", "党员人数", &input.party_members);
    let property = optional_text(&mut e, "property", "物业企业", &input.property, 60, false);
    let partners = optional_text(&mut e, "partners", "共建单位", &input.partners, 200, false);
    let minutes = optional_text(&mut e, "minutes", "会议记录", &input.minutes, 5000, true);
    if !e.is_empty() {
        return Err(AppError::Validation(e));
    }
    let now = now_ms();
    let m = Meeting {
        id: new_id(),
        community_id,
        held_on: input.held_on.trim().into(),
        place,
        topic,
        residents,
        party_members,
        property,
        partners,
        minutes,
        created_by: Some(ctx.user.id.clone()).filter(|u| !u.is_empty()),
        created_at: now,
        updated_at: now,
        version: 1,
    };
    ctx.create(&m).await?;
    Ok(m)
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct SuggestionInput {
    #[serde(default)]
    pub community_id: String,
    #[serde(default)]
    pub content: String,
    #[serde(default)]
    pub raised_by: String,
    #[serde(default)]
    pub phone: String,
    /// Honeypot on the public form: people leave it empty
    #[serde(default)]
    pub website: String,
}

fn check_suggestion(e: &mut FieldErrors, input: &SuggestionInput) -> (String, String, String) {
    let content = crate::domain::validate::required_lines(e, "content", "建议内容", &input.content, 1000);
    let raised_by = optional_text(e, "raised_by", "姓名", &input.raised_by, 30, false);
    let phone = crate::domain::validate::phone(e, "phone", "联系电话", &input.phone, false);
    (content, raised_by, phone)
}

fn new_suggestion(
    community_id: String,
    meeting_id: Option<String>,
    channel: Channel,
    fields: (String, String, String),
) -> Suggestion {
    let now = now_ms();
    Suggestion {
        id: new_id(),
        community_id,
        meeting_id,
        channel,
        content: fields.0,
        raised_by: fields.1,
        phone: fields.2,
        state: SuggestionState::Open,
        unit_id: None,
        due_on: None,
        answer: String::new(),
        answered_by: None,
        answered_at: None,
        created_at: now,
        updated_at: now,
        version: 1,
    }
}

/// A suggestion recorded at a meeting by the community staff.
pub async fn add_at_meeting(ctx: &Ctx<'_>, meeting_id: &str, input: SuggestionInput) -> AppResult<Suggestion> {
    let (m, _) = meeting(ctx, meeting_id).await?;
    if !manages(ctx, &m.community_id).await? {
        return Err(AppError::Forbidden);
    }
    let mut e = FieldErrors::default();
    let fields = check_suggestion(&mut e, &input);
    if !e.is_empty() {
        return Err(AppError::Validation(e));
    }
    let s = new_suggestion(m.community_id.clone(), Some(m.id.clone()), Channel::Meeting, fields);
    ctx.create(&s).await?;
    Ok(s)
}

/// A resident's suggestion from the public page.
pub async fn add_online(db: &crate::store::Db, input: SuggestionInput) -> AppResult<Suggestion> {
    let mut e = FieldErrors::default();
    if !input.website.is_empty() {
        return Err(AppError::refuse(Code::InvalidValue, "提交未成功，请刷新页面后重试"));
    }
    let fields = check_suggestion(&mut e, &input);
    let cid = input.community_id.trim().to_string();
    if crate::store::org::get(db, &cid).await?.is_none_or(|n| n.level != crate::domain::org::OrgLevel::Community) {
        e.add("community_id", Code::UnknownArea, "请选择您所在的社区");
    }
    if !e.is_empty() {
        return Err(AppError::Validation(e));
    }
    let s = new_suggestion(cid, None, Channel::Online, fields);
    let user = CurrentUser {
        display_name: "居民（网上议事）".into(),
        username: "citizen".into(),
        role: Role::PointLead,
        ..CurrentUser::system()
    };
    Ctx { db, user: &user, request_id: "" }.create(&s).await?;
    Ok(s)
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct HandleInput {
    /// answer | route
    #[serde(default)]
    pub action: String,
    #[serde(default)]
    pub answer: String,
    #[serde(default)]
    pub unit_id: String,
    #[serde(default)]
    pub due_on: String,
    #[serde(default, deserialize_with = "crate::domain::validate::number")]
    pub version: Option<i64>,
}

/// The community answers an open suggestion on the spot, or routes it to a unit with a
/// deadline; the unit answers what was routed to it.
pub async fn handle(ctx: &Ctx<'_>, id: &str, input: HandleInput) -> AppResult<Suggestion> {
    let old: Suggestion = crate::store::record::find(ctx.db, id).await?.ok_or(AppError::NotFound)?;
    let staff = manages(ctx, &old.community_id).await?;
    let own_unit = ctx.user.role.needs_unit() && old.unit_id.is_some() && old.unit_id == ctx.user.unit_id;
    if !staff && !own_unit {
        return Err(if reads(ctx.user.role) { AppError::Forbidden } else { AppError::NotFound });
    }
    let open = match old.state {
        SuggestionState::Open => staff,
        SuggestionState::Routed => own_unit || staff,
        SuggestionState::Answered => false,
    };
    if !open {
        return Err(Code::SuggestionNotOpen.into());
    }
    let mut e = FieldErrors::default();
    let now = now_ms();
    let mut new = Suggestion { updated_at: now, ..old.clone() };
    match (input.action.as_str(), old.state) {
        ("route", SuggestionState::Open) => {
            let unit = input.unit_id.trim();
            if unit.is_empty() || crate::store::units::get(ctx.db, unit).await?.is_none() {
                e.add("unit_id", Code::UnitRequired, "请选择承办单位");
            }
            let today = to_local(now).date_naive();
            // A resident waits for an answer: within a quarter, not "next year" on the public page.
            let latest = latest_due_at(now);
            match NaiveDate::parse_from_str(input.due_on.trim(), "%Y-%m-%d") {
                Ok(d) if d > latest => e.add(
                    "due_on",
                    Code::InvalidDate,
                    format!("办理时限最长{MAX_ROUTED_DAYS}天，最晚{}", latest.format("%Y-%m-%d")),
                ),
                Ok(d) if d >= today => {}
                _ => e.add("due_on", Code::InvalidDate, "办理时限应为今天或以后的日期，如2026-12-31"),
            }
            new.state = SuggestionState::Routed;
            new.unit_id = Some(unit.to_string());
            new.due_on = Some(input.due_on.trim().to_string());
        }
        ("answer", _) => {
            let answer = crate::domain::validate::required_lines(&mut e, "answer", "答复内容", &input.answer, 1000);
            if answer.chars().count() < 5 && e.is_empty() {
                e.add("answer", Code::Required, "答复请写清楚怎么解决、何时解决（至少5个字）");
            }
            new.state = SuggestionState::Answered;
            new.answer = answer;
            new.answered_by = Some(ctx.user.id.clone()).filter(|u| !u.is_empty());
            new.answered_at = Some(now);
        }
        _ => e.add("action", Code::InvalidKind, "请选择当场答复或转交单位办理"),
    }
    if !e.is_empty() {
        return Err(AppError::Validation(e));
    }
    ctx.update(&old, &mut new, input.version).await?;
    Ok(new)
}

/// Closure per community: suggestions, answered, closure rate, average days to answer, overdue.
#[derive(Debug, Clone, Serialize)]
pub struct Closure {
    pub community: String,
    pub all: i64,
    pub answered: i64,
    pub rate: Option<f64>,
    pub avg_days: Option<f64>,
    pub overdue: i64,
}

pub fn closure(rows: &[SuggestionRow], today: &str) -> Vec<Closure> {
    let mut names: Vec<&str> = rows.iter().map(|r| r.community.as_str()).collect();
    names.sort_unstable();
    names.dedup();
    names
        .into_iter()
        .map(|c| {
            let ours: Vec<&SuggestionRow> = rows.iter().filter(|r| r.community == c).collect();
            let answered: Vec<&&SuggestionRow> = ours.iter().filter(|r| r.state == SuggestionState::Answered).collect();
            let days: Vec<f64> = answered
                .iter()
                .filter_map(|r| r.answered_at.map(|a| (a - r.created_at) as f64 / crate::domain::time::DAY_MS as f64))
                .collect();
            Closure {
                community: c.to_string(),
                all: ours.len() as i64,
                answered: answered.len() as i64,
                rate: percent(answered.len() as i64, ours.len() as i64),
                avg_days: (!days.is_empty())
                    .then(|| (days.iter().sum::<f64>() / days.len() as f64 * 10.0).round() / 10.0),
                overdue: ours.iter().filter(|r| r.overdue(today)).count() as i64,
            }
        })
        .collect()
}

/// The public list: content and answers, never who raised it.
pub async fn public(db: &crate::store::Db, community: Option<&str>) -> AppResult<Vec<SuggestionRow>> {
    let mut rows: Vec<SuggestionRow> =
        sqlx::query_as(&format!("{SSELECT} ORDER BY s.created_at DESC LIMIT 200")).fetch_all(&db.pool).await?;
    rows.retain(|r| community.is_none_or(|c| r.community_id == c));
    for r in &mut rows {
        r.raised_by = String::new();
        r.content = crate::domain::citizen::mask_personal(&r.content);
        r.answer = crate::domain::citizen::mask_personal(&r.answer);
    }
    Ok(rows)
}

/// The meeting's minutes as a Word document.
pub async fn minutes_docx(ctx: &Ctx<'_>, id: &str) -> AppResult<(String, Vec<u8>)> {
    let (m, community) = meeting(ctx, id).await?;
    let items = suggestions(ctx, None, Some(id)).await?;
    let letter = super::notices::Letter::new();
    let title =
        docx_rs::Run::new().add_text(format!("{community}居民议事会会议纪要")).size(44).fonts(letter.title_fonts());
    let para = |s: &str| docx_rs::Paragraph::new().add_run(letter.text(s, 32));
    let mut doc = docx_rs::Docx::new()
        .page_size(11906, 16838)
        .add_paragraph(super::notices::Letter::center(title))
        .add_paragraph(para(&format!("时间：{}    地点：{}", m.held_on, m.place)))
        .add_paragraph(para(&format!("议题：{}", m.topic)));
    let mut who = format!("参会：居民{}人，党员{}人", m.residents, m.party_members);
    if !m.property.is_empty() {
        who.push_str(&format!("，物业企业：{}", m.property));
    }
    if !m.partners.is_empty() {
        who.push_str(&format!("，共建单位：{}", m.partners));
    }
    doc = doc.add_paragraph(para(&who));
    if !m.minutes.is_empty() {
        doc = doc.add_paragraph(letter.heading("一、会议记录"));
        for line in m.minutes.lines().filter(|l| !l.trim().is_empty()) {
            doc = doc.add_paragraph(para(line));
        }
    }
    doc = doc.add_paragraph(letter.heading(if m.minutes.is_empty() {
        "一、居民意见建议及办理情况"
    } else {
        "二、居民意见建议及办理情况"
    }));
    for (i, s) in items.iter().enumerate() {
        let how = match s.state {
            SuggestionState::Open => "待答复".to_string(),
            SuggestionState::Routed => {
                format!("已转{}办理，时限{}", s.unit.clone().unwrap_or_default(), s.due_on.clone().unwrap_or_default())
            }
            SuggestionState::Answered => format!("答复：{}", s.answer),
        };
        doc = doc.add_paragraph(para(&format!("{}. {}（{}）", i + 1, s.content, how)));
    }
    let mut out = std::io::Cursor::new(Vec::new());
    doc.build().pack(&mut out).map_err(|e| AppError::Internal(anyhow::anyhow!("docx: {e}")))?;
    Ok((format!("{community}{}议事会纪要", m.held_on), out.into_inner()))
}
