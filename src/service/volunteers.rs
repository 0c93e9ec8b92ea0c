//! Volunteer service (志愿服务): volunteers (real name and phone, kept private), teams, Lei Feng
//! stations, recurring activities, sign-up, sign-in and sign-out on site by QR, hours confirmed by
//! the organiser, certificates, the figures the evaluation asks for, and roster imports.

use super::{Ctx, CurrentUser};
use crate::domain::audit::ObjectType;
use crate::domain::code::Code;
use crate::domain::community::{self as rules, ServiceState};
use crate::domain::ids::new_id;
use crate::domain::role::Role;
use crate::domain::time::{now_ms, to_local};
use crate::domain::validate::{FieldErrors, optional_text, required_text};
use crate::error::{AppError, AppResult};
use crate::store::record::Insert;
use crate::store::{Held, Hold};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use sha2::Digest;

#[derive(Debug, Clone, sqlx::FromRow, Serialize)]
pub struct Volunteer {
    pub id: String,
    pub name: String,
    pub phone: String,
    pub community_id: String,
    pub team_id: Option<String>,
    pub skills: String,
    pub joined_on: String,
    pub created_at: i64,
    pub updated_at: i64,
    pub version: i64,
}

crate::record! {
    Volunteer in "volunteers" as ObjectType::Volunteer,
    label |v| v.name.clone(),
    insert [id, name, phone, community_id, team_id, skills, joined_on, created_at, updated_at, version],
    update [name, phone, community_id, team_id, skills, updated_at],
    unique ("phone", Code::DuplicateVolunteer, "该手机号已登记为志愿者"),
    snapshot |v| serde_json::json!({"name": v.name, "phone": crate::domain::citizen::masked(&v.phone), "community_id": v.community_id, "team_id": v.team_id, "skills": v.skills}),
}

#[derive(Debug, Clone, sqlx::FromRow, Serialize)]
pub struct Team {
    pub id: String,
    pub name: String,
    pub community_id: String,
    pub leader: String,
    pub created_at: i64,
    pub updated_at: i64,
    pub version: i64,
}

crate::record! {
    Team in "volunteer_teams" as ObjectType::VolunteerTeam,
    label |t| t.name.clone(),
    insert [id, name, community_id, leader, created_at, updated_at, version],
    unique ("name", Code::DuplicateName, "已有同名的志愿服务队"),
}

#[derive(Debug, Clone, sqlx::FromRow, Serialize)]
pub struct Station {
    pub id: String,
    pub name: String,
    pub community_id: String,
    pub address: String,
    pub lng: Option<f64>,
    pub lat: Option<f64>,
    pub hours: String,
    pub equipment: String,
    pub created_at: i64,
    pub updated_at: i64,
    pub version: i64,
}

crate::record! {
    Station in "lei_feng_stations" as ObjectType::Station,
    label |s| s.name.clone(),
    insert [id, name, community_id, address, lng, lat, hours, equipment, created_at, updated_at, version],
    unique ("name", Code::DuplicateName, "已有同名的志愿服务站"),
}

#[derive(Debug, Clone, sqlx::FromRow, Serialize)]
pub struct Activity {
    pub id: String,
    pub title: String,
    pub community_id: String,
    pub station_id: Option<String>,
    pub team_id: Option<String>,
    pub weekdays: String,
    pub starts_at: String,
    pub ends_at: String,
    pub first_day: String,
    pub last_day: String,
    pub capacity: i64,
    pub organizer_id: Option<String>,
    #[serde(skip)]
    pub secret: String,
    pub created_at: i64,
    pub updated_at: i64,
    pub version: i64,
}

crate::record! {
    Activity in "volunteer_activities" as ObjectType::Activity,
    label |a| a.title.clone(),
    insert [id, title, community_id, station_id, team_id, weekdays, starts_at, ends_at, first_day, last_day, capacity,
        organizer_id, secret, created_at, updated_at, version],
    snapshot |a| serde_json::json!({"title": a.title, "weekdays": a.weekdays, "starts_at": a.starts_at, "ends_at": a.ends_at, "first_day": a.first_day, "last_day": a.last_day, "capacity": a.capacity}),
}

impl Activity {
    pub fn when(&self) -> String {
        format!("{} {}–{}", rules::weekdays_label(&self.weekdays), self.starts_at, self.ends_at)
    }

    pub fn planned_minutes(&self) -> i64 {
        match (rules::clock_minutes(&self.starts_at), rules::clock_minutes(&self.ends_at)) {
            (Some(a), Some(b)) if b > a => b - a,
            _ => 0,
        }
    }

    fn dates(&self) -> (NaiveDate, NaiveDate) {
        let p = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap_or_default();
        (p(&self.first_day), p(&self.last_day))
    }

    pub fn occurs_on(&self, day: NaiveDate) -> bool {
        let (a, b) = self.dates();
        rules::occurs_on(&self.weekdays, a, b, day)
    }

    /// The next occurrences from a day, within two weeks.
    pub fn upcoming(&self, from: NaiveDate) -> Vec<NaiveDate> {
        let (a, b) = self.dates();
        rules::occurrences(&self.weekdays, a, b, from, 14)
    }

    /// The sign code of a day, shown as a QR on site: it changes every day, so a photo of
    /// yesterday's code does not sign anyone in.
    pub fn sign_code(&self, day: &str) -> String {
        let d = sha2::Sha256::digest(format!("{}|{}|{}", self.secret, self.id, day).as_bytes());
        d.iter().take(5).map(|b| format!("{b:02x}")).collect()
    }
}

#[derive(Debug, Clone, sqlx::FromRow, Serialize)]
pub struct ServiceRecord {
    pub id: String,
    pub activity_id: String,
    pub day: String,
    pub volunteer_id: String,
    pub community_id: String,
    pub state: ServiceState,
    pub signed_up_at: Option<i64>,
    pub signed_in_at: Option<i64>,
    pub signed_out_at: Option<i64>,
    pub minutes: i64,
    pub confirmed_by: Option<String>,
    pub confirmed_at: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
    pub version: i64,
}

crate::record! {
    ServiceRecord in "service_records" as ObjectType::ServiceRecord,
    label |r| format!("{} 志愿服务", r.day),
    insert [id, activity_id, day, volunteer_id, community_id, state, signed_up_at, signed_in_at, signed_out_at, minutes,
        confirmed_by, confirmed_at, created_at, updated_at, version],
    update [state, signed_in_at, signed_out_at, minutes, confirmed_by, confirmed_at, updated_at],
    unique ("", Code::AlreadyOnList, "您已在本次活动的名单中，请刷新后查看"),
}

/// Who reads the volunteer pages: the office and its watchers, and the community staff.
pub fn reads(role: Role) -> bool {
    matches!(role, Role::Admin | Role::Supervisor | Role::Discipline | Role::Evaluator | Role::GridWorker)
}

/// Who manages a community's volunteers: the office, or a grid worker whose area holds it.
async fn manages(ctx: &Ctx<'_>, community: &str) -> AppResult<bool> {
    Ok(match ctx.user.role {
        Role::Admin => true,
        Role::GridWorker => super::access::area_scope(ctx).await?.is_some_and(|s| s.iter().any(|c| c == community)),
        _ => false,
    })
}

async fn scope(ctx: &Ctx<'_>, area: Option<String>) -> AppResult<Option<Vec<String>>> {
    if !reads(ctx.user.role) {
        return Err(AppError::Forbidden);
    }
    super::access::narrow_to_area(ctx.db, super::access::area_scope(ctx).await?, area).await
}

fn in_scope(scope: &Option<Vec<String>>, community: &str) -> bool {
    scope.as_ref().is_none_or(|s| s.iter().any(|c| c == community))
}

async fn community(ctx: &Ctx<'_>, e: &mut FieldErrors, id: &str) -> AppResult<String> {
    let ok = match crate::store::org::get(ctx.db, id.trim()).await? {
        Some(n) if n.level == crate::domain::org::OrgLevel::Community => manages(ctx, &n.id).await?,
        _ => false,
    };
    if !ok {
        e.add("community_id", Code::UnknownArea, "请选择本辖区的社区");
    }
    Ok(id.trim().to_string())
}

/// A volunteer as a list shows it: the phone masked unless the reader manages the community.
#[derive(Debug, Clone, sqlx::FromRow, Serialize)]
pub struct VolunteerRow {
    pub id: String,
    pub name: String,
    pub phone: String,
    pub community_id: String,
    pub community: String,
    pub team: Option<String>,
    pub skills: String,
    pub joined_on: String,
    pub minutes: i64,
}

pub async fn list(ctx: &Ctx<'_>, area: Option<String>, q: &str) -> AppResult<Vec<VolunteerRow>> {
    let scope = scope(ctx, area).await?;
    let rows: Vec<VolunteerRow> = sqlx::query_as(
        "SELECT v.id, v.name, v.phone, v.community_id, c.name AS community, t.name AS team, v.skills, v.joined_on, \
         CAST(COALESCE((SELECT SUM(r.minutes) FROM service_records r WHERE r.volunteer_id = v.id AND r.state = 'confirmed'), 0) AS BIGINT) AS minutes \
         FROM volunteers v JOIN org_nodes c ON c.id = v.community_id LEFT JOIN volunteer_teams t ON t.id = v.team_id \
         ORDER BY c.code, v.name",
    )
    .fetch_all(&ctx.db.pool)
    .await?;
    let q = q.trim();
    let mut out = Vec::new();
    for mut r in rows.into_iter().filter(|r| in_scope(&scope, &r.community_id)) {
        if !q.is_empty() && !r.name.contains(q) && !r.skills.contains(q) && !r.phone.ends_with(q) {
            continue;
        }
        if !manages(ctx, &r.community_id).await? {
            r.phone = crate::domain::citizen::masked(&r.phone);
        }
        out.push(r);
    }
    Ok(out)
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct VolunteerInput {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub phone: String,
    #[serde(default)]
    pub community_id: String,
    #[serde(default)]
    pub team_id: String,
    #[serde(default)]
    pub skills: String,
    #[serde(default)]
    pub joined_on: String,
}

fn check_volunteer(e: &mut FieldErrors, input: &VolunteerInput) -> (String, String, String, String) {
    let name = required_text(e, "name", "姓名", &input.name, 30);
    let phone = crate::domain::citizen::mobile(&input.phone).unwrap_or_else(|| {
        e.add("phone", Code::InvalidPhone, "手机号应为11位数字，签到时凭手机号识别志愿者");
        String::new()
    });
    let skills = optional_text(e, "skills", "服务特长", &input.skills, 100, false);
    let joined = match input.joined_on.trim() {
        "" => to_local(now_ms()).format("%Y-%m-%d").to_string(),
        s if NaiveDate::parse_from_str(s, "%Y-%m-%d").is_ok() => s.to_string(),
        _ => {
            e.add("joined_on", Code::InvalidDate, "登记日期格式应为2026-12-01");
            String::new()
        }
    };
    (name, phone, skills, joined)
}

pub async fn create_volunteer(ctx: &Ctx<'_>, input: VolunteerInput) -> AppResult<Volunteer> {
    if !reads(ctx.user.role) {
        return Err(AppError::Forbidden);
    }
    let mut e = FieldErrors::default();
    let (name, phone, skills, joined_on) = check_volunteer(&mut e, &input);
    let community_id = community(ctx, &mut e, &input.community_id).await?;
    let team_id = Some(input.team_id.trim().to_string()).filter(|t| !t.is_empty());
    if let Some(t) = &team_id
        && crate::store::record::find::<Team>(ctx.db, t).await?.is_none_or(|t| t.community_id != community_id)
    {
        e.add("team_id", Code::UnknownItem, "服务队不属于所选社区");
    }
    if !e.is_empty() {
        return Err(AppError::Validation(e));
    }
    let now = now_ms();
    let v = Volunteer {
        id: new_id(),
        name,
        phone,
        community_id,
        team_id,
        skills,
        joined_on,
        created_at: now,
        updated_at: now,
        version: 1,
    };
    ctx.create(&v).await?;
    Ok(v)
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct TeamInput {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub community_id: String,
    #[serde(default)]
    pub leader: String,
}

pub async fn create_team(ctx: &Ctx<'_>, input: TeamInput) -> AppResult<Team> {
    if !reads(ctx.user.role) {
        return Err(AppError::Forbidden);
    }
    let mut e = FieldErrors::default();
    let name = required_text(&mut e, "name", "服务队名称", &input.name, 40);
    let leader = optional_text(&mut e, "leader", "队长", &input.leader, 30, false);
    let community_id = community(ctx, &mut e, &input.community_id).await?;
    if !e.is_empty() {
        return Err(AppError::Validation(e));
    }
    let now = now_ms();
    let t = Team { id: new_id(), name, community_id, leader, created_at: now, updated_at: now, version: 1 };
    ctx.create(&t).await?;
    Ok(t)
}

pub async fn teams(ctx: &Ctx<'_>) -> AppResult<Vec<Team>> {
    let scope = scope(ctx, None).await?;
    let all: Vec<Team> = sqlx::query_as(
        "SELECT id, name, community_id, leader, created_at, updated_at, version FROM volunteer_teams ORDER BY name",
    )
    .fetch_all(&ctx.db.pool)
    .await?;
    Ok(all.into_iter().filter(|t| in_scope(&scope, &t.community_id)).collect())
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct StationInput {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub community_id: String,
    #[serde(default)]
    pub address: String,
    #[serde(default)]
    pub hours: String,
    #[serde(default)]
    pub equipment: String,
    #[serde(default)]
    pub lng: String,
    #[serde(default)]
    pub lat: String,
}

pub async fn create_station(ctx: &Ctx<'_>, input: StationInput) -> AppResult<Station> {
    if !reads(ctx.user.role) {
        return Err(AppError::Forbidden);
    }
    let mut e = FieldErrors::default();
    let name = required_text(&mut e, "name", "服务站名称", &input.name, 40);
    let address = required_text(&mut e, "address", "地址", &input.address, 100);
    let hours = required_text(&mut e, "hours", "开放时间", &input.hours, 60);
    let equipment = optional_text(&mut e, "equipment", "配备设施", &input.equipment, 300, true);
    let coord = |s: &str, lo: f64, hi: f64| s.trim().parse::<f64>().ok().filter(|v| (lo..=hi).contains(v));
    let (lng, lat) = (coord(&input.lng, 73.0, 136.0), coord(&input.lat, 3.0, 54.0));
    if (!input.lng.trim().is_empty() && lng.is_none())
        || (!input.lat.trim().is_empty() && lat.is_none())
        || lng.is_some() != lat.is_some()
    {
        e.add("lng", Code::InvalidValue, "经纬度应同时填写，且在中国境内（经度73–136，纬度3–54）");
    }
    let community_id = community(ctx, &mut e, &input.community_id).await?;
    if !e.is_empty() {
        return Err(AppError::Validation(e));
    }
    let now = now_ms();
    let s = Station {
        id: new_id(),
        name,
        community_id,
        address,
        lng,
        lat,
        hours,
        equipment,
        created_at: now,
        updated_at: now,
        version: 1,
    };
    ctx.create(&s).await?;
    Ok(s)
}

pub async fn stations(ctx: &Ctx<'_>) -> AppResult<Vec<Station>> {
    let scope = scope(ctx, None).await?;
    let all: Vec<Station> =
        sqlx::query_as(&format!("SELECT {} FROM lei_feng_stations ORDER BY name", Station::COLUMNS.join(", ")))
            .fetch_all(&ctx.db.pool)
            .await?;
    Ok(all.into_iter().filter(|s| in_scope(&scope, &s.community_id)).collect())
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct ActivityInput {
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub community_id: String,
    #[serde(default)]
    pub station_id: String,
    #[serde(default)]
    pub team_id: String,
    #[serde(default)]
    pub weekdays: String,
    #[serde(default)]
    pub starts_at: String,
    #[serde(default)]
    pub ends_at: String,
    #[serde(default)]
    pub first_day: String,
    #[serde(default)]
    pub last_day: String,
    #[serde(default)]
    pub capacity: String,
}

pub async fn create_activity(ctx: &Ctx<'_>, input: ActivityInput) -> AppResult<Activity> {
    if !reads(ctx.user.role) {
        return Err(AppError::Forbidden);
    }
    let mut e = FieldErrors::default();
    let title = required_text(&mut e, "title", "活动名称", &input.title, 60);
    let weekdays = rules::parse_weekdays(&input.weekdays).map(|d| rules::weekdays_text(&d)).unwrap_or_else(|| {
        e.add("weekdays", Code::InvalidValue, "请填写每周哪几天，如“二、五”“2,5”“一至五”或“每天”");
        String::new()
    });
    let (a, b) = (rules::clock_minutes(&input.starts_at), rules::clock_minutes(&input.ends_at));
    if a.is_none() || b.is_none() || a >= b {
        e.add("ends_at", Code::InvalidValue, "开始和结束时间应为如09:00、11:00，结束晚于开始");
    }
    let day = |s: &str| NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").ok();
    let (first, last) = (day(&input.first_day), day(&input.last_day));
    if first.is_none() || last.is_none() || first > last {
        e.add("last_day", Code::InvalidDate, "起止日期格式应为2026-12-01，结束不早于开始");
    }
    let capacity = match input.capacity.trim() {
        "" => 30,
        s => s.parse::<i64>().ok().filter(|n| (1..=1000).contains(n)).unwrap_or_else(|| {
            e.add("capacity", Code::InvalidValue, "人数上限应为1–1000的整数");
            0
        }),
    };
    let community_id = community(ctx, &mut e, &input.community_id).await?;
    let opt = |s: &str| Some(s.trim().to_string()).filter(|s| !s.is_empty());
    let (station_id, team_id) = (opt(&input.station_id), opt(&input.team_id));
    if let Some(s) = &station_id
        && crate::store::record::find::<Station>(ctx.db, s).await?.is_none()
    {
        e.add("station_id", Code::UnknownItem, "服务站不存在");
    }
    if !e.is_empty() {
        return Err(AppError::Validation(e));
    }
    let now = now_ms();
    let a = Activity {
        id: new_id(),
        title,
        community_id,
        station_id,
        team_id,
        weekdays,
        starts_at: input.starts_at.trim().to_string(),
        ends_at: input.ends_at.trim().to_string(),
        first_day: input.first_day.trim().to_string(),
        last_day: input.last_day.trim().to_string(),
        capacity,
        organizer_id: Some(ctx.user.id.clone()).filter(|u| !u.is_empty()),
        secret: crate::service::auth::random_hex(16),
        created_at: now,
        updated_at: now,
        version: 1,
    };
    ctx.create(&a).await?;
    Ok(a)
}

pub async fn activities(ctx: &Ctx<'_>) -> AppResult<Vec<Activity>> {
    let scope = scope(ctx, None).await?;
    Ok(all_activities(ctx.db).await?.into_iter().filter(|a| in_scope(&scope, &a.community_id)).collect())
}

async fn all_activities(db: &crate::store::Db) -> AppResult<Vec<Activity>> {
    Ok(sqlx::query_as(&format!("SELECT {} FROM volunteer_activities ORDER BY title", Activity::COLUMNS.join(", ")))
        .fetch_all(&db.pool)
        .await?)
}

pub async fn activity(db: &crate::store::Db, id: &str) -> AppResult<Activity> {
    crate::store::record::find(db, id).await?.ok_or(AppError::NotFound)
}

/// A record with its volunteer, for the organiser.
#[derive(Debug, Clone, sqlx::FromRow, Serialize)]
pub struct RecordRow {
    pub id: String,
    pub volunteer: String,
    pub phone: String,
    pub state: ServiceState,
    pub signed_in_at: Option<i64>,
    pub signed_out_at: Option<i64>,
    pub minutes: i64,
    pub version: i64,
}

/// The organiser's list of one occurrence.
pub async fn records(ctx: &Ctx<'_>, activity_id: &str, day: &str) -> AppResult<(Activity, Vec<RecordRow>)> {
    let a = activity(ctx.db, activity_id).await?;
    if !in_scope(&scope(ctx, None).await?, &a.community_id) {
        return Err(AppError::NotFound);
    }
    let mut rows: Vec<RecordRow> = sqlx::query_as(
        "SELECT r.id, v.name AS volunteer, v.phone, r.state, r.signed_in_at, r.signed_out_at, r.minutes, r.version \
         FROM service_records r JOIN volunteers v ON v.id = r.volunteer_id WHERE r.activity_id = $1 AND r.day = $2 ORDER BY v.name",
    )
    .bind(activity_id)
    .bind(day)
    .fetch_all(&ctx.db.pool)
    .await?;
    if !manages(ctx, &a.community_id).await? {
        for r in &mut rows {
            r.phone = crate::domain::citizen::masked(&r.phone);
        }
    }
    Ok((a, rows))
}

/// The acting "user" of a volunteer on the public pages, for the audit log.
fn volunteer_user(name: &str) -> CurrentUser {
    CurrentUser {
        display_name: format!("志愿者{name}"),
        username: "volunteer".into(),
        role: Role::PointLead,
        ..CurrentUser::system()
    }
}

/// Minutes after midnight now, Beijing time.
fn now_minutes() -> i64 {
    use chrono::Timelike;
    let t = to_local(now_ms());
    (t.hour() * 60 + t.minute()) as i64
}

/// Whether one may sign in or out now: from an hour before the start to three hours after the
/// end (a late sign-out still counts, capped by `service_minutes`).
pub fn sign_window_open(a: &Activity) -> bool {
    let now = now_minutes();
    match (rules::clock_minutes(&a.starts_at), rules::clock_minutes(&a.ends_at)) {
        (Some(s), Some(e)) => now >= s - 60 && now <= e + 180,
        _ => true,
    }
}

/// Why the day's sign page cannot be used, if it cannot: no activity today, a wrong code, or
/// outside the activity's hours.
pub fn sign_problem(a: &Activity, code: &str) -> Option<Code> {
    let today = to_local(now_ms()).date_naive();
    if !a.occurs_on(today) {
        return Some(Code::NoActivityToday);
    }
    if !crate::service::auth::same_token(code.trim(), &a.sign_code(&today.format("%Y-%m-%d").to_string())) {
        return Some(Code::InvalidSignCode);
    }
    (!sign_window_open(a)).then_some(Code::OutsideHours)
}

/// The registered volunteer with this phone and name (both must match).
async fn identify(db: &crate::store::Db, name: &str, phone: &str) -> AppResult<Volunteer> {
    let mut e = FieldErrors::default();
    required_text(&mut e, "name", "姓名", name, 30);
    let phone = crate::domain::citizen::mobile(phone).unwrap_or_else(|| {
        e.add("phone", Code::InvalidPhone, "手机号应为11位数字（登记志愿者时留的手机号）");
        String::new()
    });
    if !e.is_empty() {
        return Err(AppError::Validation(e));
    }
    let v: Option<Volunteer> =
        sqlx::query_as(&format!("SELECT {} FROM volunteers WHERE phone = $1", Volunteer::COLUMNS.join(", ")))
            .bind(&phone)
            .fetch_optional(&db.pool)
            .await?;
    v.filter(|v| v.name == name.trim()).ok_or_else(|| Code::UnknownVolunteer.into())
}

async fn record_of(
    db: &crate::store::Db,
    activity: &str,
    day: &str,
    volunteer: &str,
) -> AppResult<Option<ServiceRecord>> {
    Ok(sqlx::query_as(&format!(
        "SELECT {} FROM service_records WHERE activity_id = $1 AND day = $2 AND volunteer_id = $3",
        ServiceRecord::COLUMNS.join(", ")
    ))
    .bind(activity)
    .bind(day)
    .bind(volunteer)
    .fetch_optional(&db.pool)
    .await?)
}

fn new_record(a: &Activity, day: &str, v: &Volunteer, state: ServiceState, now: i64) -> ServiceRecord {
    ServiceRecord {
        id: new_id(),
        activity_id: a.id.clone(),
        day: day.into(),
        volunteer_id: v.id.clone(),
        community_id: a.community_id.clone(),
        state,
        signed_up_at: (state == ServiceState::SignedUp).then_some(now),
        signed_in_at: (state == ServiceState::SignedIn).then_some(now),
        signed_out_at: None,
        minutes: 0,
        confirmed_by: None,
        confirmed_at: None,
        created_at: now,
        updated_at: now,
        version: 1,
    }
}

async fn count_of(db: &crate::store::Db, activity: &str, day: &str) -> AppResult<i64> {
    Ok(sqlx::query_scalar("SELECT COUNT(*) FROM service_records WHERE activity_id = $1 AND day = $2")
        .bind(activity)
        .bind(day)
        .fetch_one(&db.pool)
        .await?)
}

/// Adds a volunteer to a day of an activity while there is room, counted inside the write with
/// the activity's row held (PostgreSQL: locked to the commit), so two residents taking the last
/// place at once cannot both have it.
async fn take_place(ctx: &Ctx<'_>, a: &Activity, r: &ServiceRecord) -> AppResult<()> {
    let mut w = ctx.write().await?;
    crate::store::hold(w.conn(), Held::VolunteerActivities, (&a.id, None), Hold::Alone).await?;
    let taken: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM service_records WHERE activity_id = $1 AND day = $2")
        .bind(&a.id)
        .bind(&r.day)
        .fetch_one(w.conn())
        .await?;
    if taken >= a.capacity {
        return Err(Code::ActivityFull.into());
    }
    w.create(r).await?;
    w.commit().await?;
    Ok(())
}

/// A registered volunteer signs up for an occurrence (public page).
pub async fn sign_up(
    db: &crate::store::Db,
    activity_id: &str,
    day: &str,
    name: &str,
    phone: &str,
) -> AppResult<ServiceRecord> {
    let a = activity(db, activity_id).await?;
    let d = NaiveDate::parse_from_str(day, "%Y-%m-%d").map_err(|_| AppError::from(Code::NoActivityToday))?;
    if !a.occurs_on(d) || d < to_local(now_ms()).date_naive() {
        return Err(Code::NoActivityToday.into());
    }
    if d == to_local(now_ms()).date_naive() && now_minutes() >= rules::clock_minutes(&a.ends_at).unwrap_or(24 * 60) {
        return Err(AppError::refuse(Code::NoActivityToday, "今天的活动已经结束，请选择以后的日期"));
    }
    let v = identify(db, name, phone).await?;
    if record_of(db, &a.id, day, &v.id).await?.is_some() {
        return Err(AppError::refuse(Code::AlreadyOnList, format!("您已报名{day}的活动，请按时到场扫码签到")));
    }
    if count_of(db, &a.id, day).await? >= a.capacity {
        return Err(Code::ActivityFull.into());
    }
    let user = volunteer_user(&v.name);
    let ctx = Ctx { db, user: &user, request_id: "" };
    let r = new_record(&a, day, &v, ServiceState::SignedUp, now_ms());
    take_place(&ctx, &a, &r).await?;
    Ok(r)
}

/// Signing on site with the day's QR code: the first scan signs in (signed up or not, while
/// there is room), the next one signs out and counts the minutes. A scan within `repeat_scan_ms`
/// of signing in is the same scan again (a double tap, a page sent twice, a volunteer unsure the
/// first one went through), not a sign-out after no service at all: it is refused, saying so.
/// Two scans at once (two taps, two instances) sign in or out once: the later one is answered
/// from the record the first one left.
pub async fn sign(
    db: &crate::store::Db,
    activity_id: &str,
    code: &str,
    name: &str,
    phone: &str,
    repeat_scan_ms: i64,
) -> AppResult<ServiceRecord> {
    let a = activity(db, activity_id).await?;
    let now = now_ms();
    let today = to_local(now).date_naive();
    let day = today.format("%Y-%m-%d").to_string();
    if !a.occurs_on(today) {
        return Err(Code::NoActivityToday.into());
    }
    if !crate::service::auth::same_token(code.trim(), &a.sign_code(&day)) {
        return Err(Code::InvalidSignCode.into());
    }
    if !sign_window_open(&a) {
        return Err(Code::OutsideHours.into());
    }
    let v = identify(db, name, phone).await?;
    let user = volunteer_user(&v.name);
    let ctx = Ctx { db, user: &user, request_id: "" };
    let mut tries = 0;
    loop {
        tries += 1;
        let old = record_of(db, &a.id, &day, &v.id).await?;
        match sign_step(&ctx, &a, &day, &v, old, now_ms(), repeat_scan_ms).await {
            // Another scan of the same volunteer saved first: answer from what it left.
            Err(AppError::Refused(Code::AlreadyOnList | Code::StaleVersion, _)) if tries < 3 => continue,
            done => return done,
        }
    }
}

/// One attempt at a scan over the record as read (`old`).
async fn sign_step(
    ctx: &Ctx<'_>,
    a: &Activity,
    day: &str,
    v: &Volunteer,
    old: Option<ServiceRecord>,
    now: i64,
    repeat_scan_ms: i64,
) -> AppResult<ServiceRecord> {
    match old {
        None => {
            if count_of(ctx.db, &a.id, day).await? >= a.capacity {
                return Err(Code::ActivityFull.into());
            }
            let r = new_record(a, day, v, ServiceState::SignedIn, now);
            take_place(ctx, a, &r).await?;
            Ok(r)
        }
        Some(old) if old.state == ServiceState::SignedUp => {
            let mut new = ServiceRecord {
                state: ServiceState::SignedIn,
                signed_in_at: Some(now),
                updated_at: now,
                ..old.clone()
            };
            ctx.update(&old, &mut new, Some(old.version)).await?;
            Ok(new)
        }
        Some(old) if old.state == ServiceState::SignedIn => {
            let signed_in = old.signed_in_at.unwrap_or(now);
            if now - signed_in <= repeat_scan_ms {
                let within = match repeat_scan_ms / 1000 {
                    s if s % 60 == 0 => format!("{}分钟", s / 60),
                    s => format!("{s}秒"),
                };
                return Err(AppError::refuse(
                    Code::AlreadySignedIn,
                    format!(
                        "您已于{}签到成功，活动结束时再扫码签退（签到后{within}内再次扫码不算签退）",
                        to_local(signed_in).format("%H:%M")
                    ),
                ));
            }
            let minutes = rules::service_minutes(signed_in, now, a.planned_minutes());
            let mut new = ServiceRecord {
                state: ServiceState::SignedOut,
                signed_out_at: Some(now),
                minutes,
                updated_at: now,
                ..old.clone()
            };
            ctx.update(&old, &mut new, Some(old.version)).await?;
            Ok(new)
        }
        Some(_) => Err(Code::AlreadySignedOut.into()),
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct ConfirmInput {
    #[serde(default)]
    pub minutes: String,
    #[serde(default, deserialize_with = "crate::domain::validate::number")]
    pub version: Option<i64>,
}

/// The organiser confirms a signed-out record's minutes (corrected if need be).
pub async fn confirm(ctx: &Ctx<'_>, id: &str, input: ConfirmInput) -> AppResult<ServiceRecord> {
    let old: ServiceRecord = crate::store::record::find(ctx.db, id).await?.ok_or(AppError::NotFound)?;
    if !manages(ctx, &old.community_id).await? {
        return Err(AppError::Forbidden);
    }
    if old.state != ServiceState::SignedOut {
        return Err(AppError::refuse(Code::NotSignedIn, "只能确认已签退的服务记录"));
    }
    let minutes = match input.minutes.trim() {
        "" => old.minutes,
        s => s
            .parse::<i64>()
            .ok()
            .filter(|m| (0..=24 * 60).contains(m))
            .ok_or_else(|| AppError::field("minutes", Code::InvalidValue, "服务时长应为0–1440分钟的整数"))?,
    };
    if minutes == 0 {
        return Err(AppError::field("minutes", Code::InvalidValue, "服务时长为0分钟，请填写实际服务的分钟数后再确认"));
    }
    let now = now_ms();
    let mut new = ServiceRecord {
        state: ServiceState::Confirmed,
        minutes,
        confirmed_by: Some(ctx.user.id.clone()),
        confirmed_at: Some(now),
        updated_at: now,
        ..old.clone()
    };
    ctx.update(&old, &mut new, input.version).await?;
    Ok(new)
}

/// One community's figures for a month.
#[derive(Debug, Clone, Serialize)]
pub struct Figures {
    pub community_id: String,
    pub community: String,
    pub residents: i64,
    /// Registered by the month's end
    pub registered: i64,
    /// Registered volunteers per 100 residents (two decimals: a few volunteers in a large
    /// community are not "0%")
    pub share: Option<f64>,
    /// Volunteers with confirmed service in the month
    pub active: i64,
    pub minutes: i64,
}

impl Figures {
    pub fn hours(&self) -> f64 {
        (self.minutes as f64 / 6.0).round() / 10.0
    }
}

/// The evaluation's volunteer figures per community for a month ("2026-12").
pub async fn figures(ctx: &Ctx<'_>, month: &str, area: Option<String>) -> AppResult<Vec<Figures>> {
    let scope = scope(ctx, area).await?;
    let first = NaiveDate::parse_from_str(&format!("{month}-01"), "%Y-%m-%d")
        .map_err(|_| AppError::from(Code::InvalidMonth))?;
    let last = first.checked_add_months(chrono::Months::new(1)).map(|d| d.pred_opt().unwrap_or(d)).unwrap_or(first);
    let (first, last) = (first.format("%Y-%m-%d").to_string(), last.format("%Y-%m-%d").to_string());
    let rows: Vec<(String, String, i64, i64, i64, i64)> = sqlx::query_as(
        "SELECT c.id, c.name, COALESCE(cr.residents, 0), \
         (SELECT COUNT(*) FROM volunteers v WHERE v.community_id = c.id AND v.joined_on <= $2), \
         (SELECT COUNT(DISTINCT r.volunteer_id) FROM service_records r WHERE r.community_id = c.id AND r.state = 'confirmed' AND r.day >= $1 AND r.day <= $2), \
         CAST(COALESCE((SELECT SUM(r.minutes) FROM service_records r WHERE r.community_id = c.id AND r.state = 'confirmed' AND r.day >= $1 AND r.day <= $2), 0) AS BIGINT) \
         FROM org_nodes c LEFT JOIN community_residents cr ON cr.community_id = c.id WHERE c.level = 'community' ORDER BY c.code",
    )
    .bind(&first)
    .bind(&last)
    .fetch_all(&ctx.db.pool)
    .await?;
    Ok(rows
        .into_iter()
        .filter(|r| in_scope(&scope, &r.0))
        .map(|(community_id, community, residents, registered, active, minutes)| Figures {
            share: (residents > 0).then(|| (registered as f64 * 10000.0 / residents as f64).round() / 100.0),
            community_id,
            community,
            residents,
            registered,
            active,
            minutes,
        })
        .collect())
}

/// The office (or the community) records a community's resident count.
pub async fn set_residents(ctx: &Ctx<'_>, community_id: &str, residents: &str) -> AppResult<()> {
    let mut e = FieldErrors::default();
    let id = community(ctx, &mut e, community_id).await?;
    let n = residents.trim().parse::<i64>().ok().filter(|n| (1..=10_000_000).contains(n));
    if n.is_none() {
        e.add("residents", Code::InvalidValue, "常住人口应为正整数");
    }
    let (Some(n), true) = (n, e.is_empty()) else { return Err(AppError::Validation(e)) };
    let old: Option<i64> = sqlx::query_scalar("SELECT residents FROM community_residents WHERE community_id = $1")
        .bind(&id)
        .fetch_optional(&ctx.db.pool)
        .await?;
    let mut w = ctx.write().await?;
    let now = w.now;
    sqlx::query("DELETE FROM community_residents WHERE community_id = $1").bind(&id).execute(w.conn()).await?;
    sqlx::query("INSERT INTO community_residents (community_id, residents, updated_at) VALUES ($1, $2, $3)")
        .bind(&id)
        .bind(n)
        .bind(now)
        .execute(w.conn())
        .await?;
    let label = crate::store::org::get(ctx.db, &id).await?.map(|n| n.name).unwrap_or_default();
    w.audit(
        crate::domain::audit::Verb::Update,
        ObjectType::OrgNode,
        &id,
        &format!("{label} 常住人口"),
        old.map(|o| serde_json::json!({"residents": o})),
        Some(serde_json::json!({"residents": n})),
    )
    .await?;
    w.commit().await
}

/// A volunteer with confirmed service, for the certificate.
pub async fn certificate(ctx: &Ctx<'_>, id: &str) -> AppResult<(Volunteer, String, Vec<(String, String, i64)>)> {
    let v: Volunteer = crate::store::record::find(ctx.db, id).await?.ok_or(AppError::NotFound)?;
    if !in_scope(&scope(ctx, None).await?, &v.community_id) {
        return Err(AppError::NotFound);
    }
    let community = crate::store::org::get(ctx.db, &v.community_id).await?.map(|n| n.name).unwrap_or_default();
    let rows: Vec<(String, String, i64)> = sqlx::query_as(
        "SELECT r.day, a.title, r.minutes FROM service_records r JOIN volunteer_activities a ON a.id = r.activity_id \
         WHERE r.volunteer_id = $1 AND r.state = 'confirmed' ORDER BY r.day",
    )
    .bind(id)
    .fetch_all(&ctx.db.pool)
    .await?;
    Ok((v, community, rows))
}

pub const ROSTER: [super::sheet::Column; 6] = [
    ("姓名", "name", true),
    ("手机号", "phone", true),
    ("社区", "community", true),
    ("服务队", "team", false),
    ("服务特长", "skills", false),
    ("登记日期", "joined_on", false),
];

/// What a roster row is checked against: the communities (id, name), the teams and the
/// importer's area (None: everywhere).
type RosterLookups<'a> = (&'a [(String, String)], &'a [Team], &'a Option<Vec<String>>);

/// One roster row as a volunteer, its mistakes in `e`: the community by name within the
/// importer's area, the team by name within that community.
fn roster_row(
    r: &super::sheet::Row,
    e: &mut FieldErrors,
    (communities, teams, scope): RosterLookups<'_>,
    now: i64,
) -> Volunteer {
    let input = VolunteerInput {
        name: r.get("name"),
        phone: r.get("phone"),
        skills: r.get("skills"),
        joined_on: r.get("joined_on"),
        ..Default::default()
    };
    let (name, phone, skills, joined_on) = check_volunteer(e, &input);
    let community = r.get("community");
    let cid = communities.iter().find(|c| c.1 == community).map(|c| c.0.clone());
    match &cid {
        None => e.add("community", Code::UnknownArea, format!("没有名为“{community}”的社区")),
        Some(c) if !in_scope(scope, c) => e.add("community", Code::UnknownArea, "该社区不在本辖区"),
        _ => {}
    }
    let team = r.get("team");
    let team_id = if team.is_empty() {
        None
    } else {
        let t = teams.iter().find(|t| t.name == team && Some(&t.community_id) == cid.as_ref()).map(|t| t.id.clone());
        if t.is_none() {
            e.add("team", Code::UnknownItem, format!("所选社区没有名为“{team}”的服务队"));
        }
        t
    };
    let community_id = cid.unwrap_or_default();
    Volunteer {
        id: new_id(),
        name,
        phone,
        community_id,
        team_id,
        skills,
        joined_on,
        created_at: now,
        updated_at: now,
        version: 1,
    }
}

/// Imports a roster sheet: all rows or none, with a row-by-row report.
pub async fn import(ctx: &Ctx<'_>, bytes: &[u8]) -> AppResult<usize> {
    if !matches!(ctx.user.role, Role::Admin | Role::GridWorker) {
        return Err(AppError::Forbidden);
    }
    if bytes.is_empty() {
        return Err(super::sheet::file_error("请选择要导入的Excel文件（.xlsx）"));
    }
    let rows = super::sheet::read(bytes, &[(None, &ROSTER)]).await?.pop().unwrap_or_default();
    if rows.is_empty() {
        return Err(super::sheet::file_error("文件中没有数据行"));
    }
    if rows.len() > 20_000 {
        return Err(super::sheet::file_error("一次最多导入20000名志愿者，请分批导入"));
    }
    let communities: Vec<(String, String)> =
        sqlx::query_as("SELECT id, name FROM org_nodes WHERE level = 'community'").fetch_all(&ctx.db.pool).await?;
    let teams: Vec<Team> = teams(ctx).await?;
    let phones: std::collections::HashSet<String> =
        sqlx::query_scalar("SELECT phone FROM volunteers").fetch_all(&ctx.db.pool).await?.into_iter().collect();
    let mut seen = std::collections::HashSet::new();
    let mut errors = Vec::new();
    let mut good = Vec::new();
    let now = now_ms();
    let scope = super::access::area_scope(ctx).await?;
    for r in rows {
        let mut e = FieldErrors::default();
        let v = roster_row(&r, &mut e, (&communities, &teams, &scope), now);
        if phones.contains(&v.phone) {
            e.add("phone", Code::DuplicateVolunteer, "该手机号已登记为志愿者");
        } else if !v.phone.is_empty() && !seen.insert(v.phone.clone()) {
            e.add("phone", Code::DuplicateVolunteer, "该手机号在文件中重复");
        }
        if e.is_empty() {
            good.push(v);
        } else {
            errors.extend(super::sheet::field_rows("", r.number, &ROSTER, e));
        }
    }
    if !errors.is_empty() {
        return Err(super::sheet::rejected(errors));
    }
    let mut w = ctx.write().await?;
    for v in &good {
        v.insert(w.conn()).await?;
    }
    w.audit(
        crate::domain::audit::Verb::Create,
        ObjectType::Volunteer,
        "",
        &format!("导入志愿者名册{}人", good.len()),
        None,
        None,
    )
    .await?;
    w.commit().await?;
    Ok(good.len())
}
