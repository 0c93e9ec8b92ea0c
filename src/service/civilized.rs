//! Civilized-unit applications (文明单位申报): a unit applies each year with an account and
//! materials against the eight criteria; the office reviews and scores each criterion beside the
//! unit's campaign record (problems, overdue cases, window ratings), publishes the named list,
//! and can revoke a title after a serious failure.

use super::Ctx;
use crate::domain::audit::{ObjectType, Verb};
use crate::domain::code::Code;
use crate::domain::community::{ApplicationState, CRITERIA, PASS_MARK, percent, total};
use crate::domain::ids::new_id;
use crate::domain::role::Role;
use crate::domain::time::{now_ms, parse_local_day_start};
use crate::domain::validate::{FieldErrors, optional_text};
use crate::error::{AppError, AppResult};
use crate::media::storage::Storage;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, sqlx::FromRow, Serialize)]
pub struct Application {
    pub id: String,
    pub year: i64,
    pub unit_id: String,
    pub state: ApplicationState,
    /// The unit's account per criterion (JSON array of eight texts)
    pub statements: String,
    /// The office's score per criterion (JSON array of eight numbers; empty before review)
    pub scores: String,
    pub total: Option<f64>,
    /// The campaign record seen at review (JSON)
    pub record: String,
    pub note: String,
    pub submitted_at: i64,
    pub reviewed_by: Option<String>,
    pub reviewed_at: Option<i64>,
    pub named_at: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
    pub version: i64,
}

crate::record! {
    Application in "civilized_applications" as ObjectType::CivilizedApplication,
    label |a| format!("{}年度文明单位申报", a.year),
    insert [id, year, unit_id, state, statements, scores, total, record, note, submitted_at, reviewed_by, reviewed_at,
        named_at, created_at, updated_at, version],
    update [state, statements, scores, total, record, note, submitted_at, reviewed_by, reviewed_at, named_at, updated_at],
    unique ("", Code::AlreadyApplied, "本单位今年已经提交过文明单位申报，可在原申报上补充"),
}

impl Application {
    pub fn statement_list(&self) -> Vec<String> {
        serde_json::from_str(&self.statements).unwrap_or_default()
    }

    pub fn score_list(&self) -> Vec<f64> {
        serde_json::from_str(&self.scores).unwrap_or_default()
    }

    pub fn campaign(&self) -> Option<Campaign> {
        serde_json::from_str(&self.record).ok()
    }
}

#[derive(Debug, Clone, sqlx::FromRow, Serialize)]
pub struct ApplicationRow {
    #[sqlx(flatten)]
    #[serde(flatten)]
    pub a: Application,
    pub unit_name: String,
}

/// A unit's campaign record in a year, seen beside its application.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Campaign {
    pub problems: i64,
    pub closed_on_time: i64,
    pub overdue: i64,
    pub on_time_rate: Option<f64>,
    pub ratings: i64,
    pub bad_ratings: i64,
    pub satisfaction: Option<f64>,
}

/// A rate as the application shows it: "86.7%", or "—" when there is none.
pub fn percent_text(x: Option<f64>) -> String {
    x.map(|v| format!("{v}%")).unwrap_or_else(|| "—".into())
}

impl Campaign {
    /// "问题51个（按期整改13个，逾期2个），窗口评价40次（差评1次，满意率97.5%）".
    pub fn describe(&self) -> String {
        let mut s = format!(
            "问题{}个（按期整改{}个，逾期{}个，按期整改率{}）",
            self.problems,
            self.closed_on_time,
            self.overdue,
            percent_text(self.on_time_rate)
        );
        if self.ratings > 0 {
            s.push_str(&format!(
                "，窗口评价{}次（差评{}次，满意率{}）",
                self.ratings,
                self.bad_ratings,
                percent_text(self.satisfaction)
            ));
        }
        s
    }
}

#[derive(Debug, Clone, sqlx::FromRow, Serialize)]
pub struct AppFile {
    pub id: String,
    pub application_id: String,
    pub filename: String,
    pub kind: String,
    pub size: i64,
    pub storage_key: String,
    pub uploaded_at: i64,
}

crate::record! {
    AppFile in "civilized_files" as ObjectType::CivilizedApplication,
    label |f| f.filename.clone(),
    insert [id, application_id, filename, kind, size, storage_key, uploaded_at],
}

fn office(role: Role) -> bool {
    matches!(role, Role::Admin | Role::Supervisor | Role::Discipline)
}

/// The list's filters: the year (this year when empty), the state, a word of the unit's name.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(default)]
pub struct ApplicationQuery {
    /// The year, e.g. 2026 (this year when empty)
    pub year: String,
    /// submitted | returned | passed | failed | named | revoked
    pub state: String,
    /// A word of the unit's name
    pub q: String,
}

/// One application as the list and its export show it.
#[derive(Debug, Clone, sqlx::FromRow, Serialize, utoipa::ToSchema)]
pub struct ApplicationLine {
    pub id: String,
    pub year: i64,
    pub unit_id: String,
    pub unit_name: String,
    pub state: ApplicationState,
    /// The office's total (of 100) once reviewed
    pub total: Option<f64>,
    /// Why the office returned, failed or revoked it
    pub note: String,
    /// UTC epoch ms
    pub submitted_at: i64,
    pub reviewed_at: Option<i64>,
    pub named_at: Option<i64>,
}

/// The year asked for (this year when empty).
pub fn year_of(q: &ApplicationQuery) -> AppResult<i64> {
    let year = super::scoring::parse_year(Some(&q.year))?;
    if !(2000..=2100).contains(&year) {
        return Err(AppError::refuse(Code::InvalidYear, format!("年度应在2000至2100之间：{year}")));
    }
    Ok(year as i64)
}

/// A year's applications the caller may read (the office all, a unit its own), filtered and
/// paged: reviewed ones by total, highest first, then the rest by unit name.
pub async fn lines(
    ctx: &Ctx<'_>,
    q: &ApplicationQuery,
    page: crate::store::PageReq,
) -> AppResult<(Vec<ApplicationLine>, i64)> {
    use crate::store::{Where, bind_args_as, count};
    let year = year_of(q)?;
    let mut w = Where::default();
    let p = w.int(year);
    w.and(format!("a.year = {p}"));
    let state = Some(q.state.trim()).filter(|s| !s.is_empty());
    if let Some(s) = state {
        let Some(s) = ApplicationState::parse_any(s) else {
            let all: Vec<&str> = ApplicationState::ALL.iter().map(|s| s.label()).collect();
            return Err(AppError::refuse(Code::InvalidStatus, format!("状态“{s}”无效，应为{}", all.join("、"))));
        };
        w.eq("a.state", Some(s.as_str()));
    }
    if !office(ctx.user.role) {
        if !ctx.user.role.needs_unit() {
            return Err(AppError::Forbidden);
        }
        w.eq("a.unit_id", Some(ctx.user.unit_id.as_deref().unwrap_or_default()));
    }
    w.contains(ctx.db, &["u.name"], Some(q.q.trim()).filter(|k| !k.is_empty()));
    let from = "civilized_applications a JOIN units u ON u.id = a.unit_id";
    let total = count(ctx.db, from, &w).await?;
    let sql = format!(
        "SELECT a.id, a.year, a.unit_id, u.name AS unit_name, a.state, a.total, a.note, a.submitted_at, \
         a.reviewed_at, a.named_at FROM {from}{} \
         ORDER BY CASE WHEN a.total IS NULL THEN 1 ELSE 0 END, a.total DESC, u.name, a.id{}",
        w.sql(),
        page.limit_offset()
    );
    let rows = bind_args_as(sqlx::query_as::<_, ApplicationLine>(&sql), &w.args).fetch_all(&ctx.db.pool).await?;
    Ok((rows, total))
}

pub async fn list(ctx: &Ctx<'_>, year: i64) -> AppResult<Vec<ApplicationRow>> {
    let cols = <Application as crate::store::record::Insert>::COLUMNS
        .iter()
        .map(|c| format!("a.{c}"))
        .collect::<Vec<_>>()
        .join(", ");
    let sql = format!(
        "SELECT {cols}, u.name AS unit_name FROM civilized_applications a JOIN units u ON u.id = a.unit_id WHERE a.year = $1 ORDER BY a.total DESC, u.name"
    );
    let all: Vec<ApplicationRow> = sqlx::query_as(&sql).bind(year).fetch_all(&ctx.db.pool).await?;
    if office(ctx.user.role) {
        Ok(all)
    } else if ctx.user.role.needs_unit() {
        Ok(all.into_iter().filter(|r| ctx.user.unit_id.as_deref() == Some(r.a.unit_id.as_str())).collect())
    } else {
        Err(AppError::Forbidden)
    }
}

pub async fn get(ctx: &Ctx<'_>, id: &str) -> AppResult<(ApplicationRow, Vec<AppFile>)> {
    let a: Application = crate::store::record::find(ctx.db, id).await?.ok_or(AppError::NotFound)?;
    let row = list(ctx, a.year).await?.into_iter().find(|r| r.a.id == id).ok_or(AppError::NotFound)?;
    let files = sqlx::query_as(
        "SELECT id, application_id, filename, kind, size, storage_key, uploaded_at FROM civilized_files WHERE application_id = $1 ORDER BY uploaded_at, filename",
    )
    .bind(id)
    .fetch_all(&ctx.db.pool)
    .await?;
    Ok((row, files))
}

/// The unit's campaign record of a year from the problem ledger and window ratings.
pub async fn campaign(db: &crate::store::Db, unit_id: &str, year: i64) -> AppResult<Campaign> {
    let from = parse_local_day_start(&format!("{year}-01-01")).unwrap_or(0);
    let to = parse_local_day_start(&format!("{}-01-01", year + 1)).unwrap_or(i64::MAX);
    let now = now_ms();
    let (problems, closed_on_time, overdue): (i64, i64, i64) = sqlx::query_as(
        "SELECT COUNT(*), \
         COALESCE(SUM(CASE WHEN state = 'closed' AND (deadline_at IS NULL OR closed_at <= deadline_at) THEN 1 ELSE 0 END), 0), \
         COALESCE(SUM(CASE WHEN (state = 'closed' AND closed_at > deadline_at) OR (state NOT IN ('closed', 'voided', 'reported', 'postponed') AND deadline_at < $4) THEN 1 ELSE 0 END), 0) \
         FROM problems WHERE unit_id = $1 AND found_at >= $2 AND found_at < $3 AND state NOT IN ('voided', 'reported')",
    )
    .bind(unit_id)
    .bind(from)
    .bind(to)
    .bind(now)
    .fetch_one(&db.pool)
    .await?;
    let (ratings, bad, good): (i64, i64, i64) = sqlx::query_as(
        "SELECT COUNT(*), COALESCE(SUM(CASE WHEN level <= 2 THEN 1 ELSE 0 END), 0), COALESCE(SUM(CASE WHEN level >= 4 THEN 1 ELSE 0 END), 0) \
         FROM ratings WHERE unit_id = $1 AND rated_at >= $2 AND rated_at < $3 AND excluded = 0",
    )
    .bind(unit_id)
    .bind(from)
    .bind(to)
    .fetch_one(&db.pool)
    .await?;
    Ok(Campaign {
        problems,
        closed_on_time,
        overdue,
        on_time_rate: percent(closed_on_time, problems),
        ratings,
        bad_ratings: bad,
        satisfaction: percent(good, ratings),
    })
}

/// The unit applies (or, returned, applies again) with its account per criterion and files.
pub async fn apply(
    ctx: &Ctx<'_>,
    storage: &Storage,
    statements: Vec<String>,
    files: Vec<(String, Vec<u8>)>,
    version: Option<i64>,
) -> AppResult<Application> {
    if ctx.user.role != Role::UnitUser {
        return Err(AppError::Forbidden);
    }
    let unit = ctx.user.unit_id.clone().ok_or(AppError::Forbidden)?;
    let year = crate::domain::time::to_local(now_ms()).format("%Y").to_string().parse::<i64>().unwrap_or(2026);
    let old: Option<Application> = sqlx::query_as(&format!(
        "SELECT {} FROM civilized_applications WHERE year = $1 AND unit_id = $2",
        <Application as crate::store::record::Insert>::COLUMNS.join(", ")
    ))
    .bind(year)
    .bind(&unit)
    .fetch_optional(&ctx.db.pool)
    .await?;
    if old.as_ref().is_some_and(|o| o.state != ApplicationState::Returned) {
        return Err(Code::AlreadyApplied.into());
    }
    let texts = check_application(&statements, &files)?;
    let now = now_ms();
    let id = old.as_ref().map(|o| o.id.clone()).unwrap_or_else(new_id);
    let stored = store_files(storage, &id, now, files).await?;
    // Refused (a stale page, an application sent meanwhile) or failed before its commit, the
    // application leaves no file behind.
    let mut kept = crate::media::storage::Unkept::new(storage);
    stored.iter().for_each(|f| kept.add_key(&f.storage_key));
    let statements = serde_json::to_string(&texts).map_err(|e| AppError::Internal(e.into()))?;
    let mut w = ctx.write().await?;
    let a = match old {
        Some(old) => {
            let mut new = Application {
                state: ApplicationState::Submitted,
                statements,
                submitted_at: now,
                updated_at: now,
                ..old.clone()
            };
            w.update(&old, &mut new, super::write::expected(version)?).await?;
            new
        }
        None => {
            let a = Application {
                id: id.clone(),
                year,
                unit_id: unit,
                state: ApplicationState::Submitted,
                statements,
                scores: String::new(),
                total: None,
                record: String::new(),
                note: String::new(),
                submitted_at: now,
                reviewed_by: None,
                reviewed_at: None,
                named_at: None,
                created_at: now,
                updated_at: now,
                version: 1,
            };
            w.create(&a).await?;
            a
        }
    };
    for f in &stored {
        crate::store::record::Insert::insert(f, w.conn()).await?;
    }
    let committed = w.commit().await;
    kept.keep();
    committed?;
    Ok(a)
}

/// The application's files checked and stored (`documents::store`), as rows to insert.
async fn store_files(storage: &Storage, id: &str, now: i64, files: Vec<(String, Vec<u8>)>) -> AppResult<Vec<AppFile>> {
    let stored = super::documents::store(storage, &format!("civilized/{id}"), files).await?;
    Ok(stored
        .into_iter()
        .map(|f| AppFile {
            id: f.id,
            application_id: id.to_string(),
            filename: f.filename,
            kind: f.kind,
            size: f.size,
            storage_key: f.storage_key,
            uploaded_at: now,
        })
        .collect())
}

/// The eight accounts (each at least a sentence) and the files' count and size.
fn check_application(statements: &[String], files: &[(String, Vec<u8>)]) -> AppResult<Vec<String>> {
    let mut e = FieldErrors::default();
    let texts: Vec<String> = (0..CRITERIA.len())
        .map(|i| {
            let s = statements.get(i).cloned().unwrap_or_default();
            let t = optional_text(&mut e, &format!("s{i}"), CRITERIA[i].0, &s, 2000, true);
            if t.chars().count() < 10 {
                e.add(
                    &format!("s{i}"),
                    Code::Required,
                    format!("请简要说明“{}”的做法和成效（至少10个字）", CRITERIA[i].0),
                );
            }
            t
        })
        .collect();
    super::documents::check_counts(&mut e, files);
    if e.is_empty() { Ok(texts) } else { Err(AppError::Validation(e)) }
}

pub async fn file(ctx: &Ctx<'_>, storage: &Storage, id: &str) -> AppResult<(String, Vec<u8>)> {
    let f: AppFile = sqlx::query_as(
        "SELECT id, application_id, filename, kind, size, storage_key, uploaded_at FROM civilized_files WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(&ctx.db.pool)
    .await?
    .ok_or(AppError::NotFound)?;
    get(ctx, &f.application_id).await?;
    let bytes = storage.get(&f.storage_key).await.map_err(|_| AppError::NotFound)?;
    Ok((f.filename, bytes))
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct ReviewInput {
    /// score | return
    #[serde(default)]
    pub decision: String,
    #[serde(default)]
    pub scores: Vec<String>,
    #[serde(default)]
    pub note: String,
    #[serde(default, deserialize_with = "crate::domain::validate::number")]
    pub version: Option<i64>,
}

/// The office scores each criterion (the total decides: at least the pass mark, and no overdue
/// problem left open decides nothing by itself — the reviewer sees the record and writes why),
/// or returns the application for more material.
pub async fn review(ctx: &Ctx<'_>, id: &str, input: ReviewInput) -> AppResult<Application> {
    super::access::require_admin(ctx.user)?;
    let (row, _) = get(ctx, id).await?;
    let old = row.a;
    if old.state != ApplicationState::Submitted {
        return Err(Code::ApplicationNotOpen.into());
    }
    let mut e = FieldErrors::default();
    let note = optional_text(&mut e, "note", "评审意见", &input.note, 1000, true);
    let record = campaign(ctx.db, &old.unit_id, old.year).await?;
    let now = now_ms();
    let mut new = Application {
        record: serde_json::to_string(&record).map_err(|e| AppError::Internal(e.into()))?,
        note: note.clone(),
        reviewed_by: Some(ctx.user.id.clone()),
        reviewed_at: Some(now),
        updated_at: now,
        ..old.clone()
    };
    match input.decision.as_str() {
        "return" => {
            if note.chars().count() < 4 {
                e.add("note", Code::Required, "退回时请写明需补充的内容（至少4个字）");
            }
            new.state = ApplicationState::Returned;
        }
        "score" => {
            let scores: Vec<f64> = (0..CRITERIA.len())
                .map(|i| input.scores.get(i).and_then(|s| s.trim().parse::<f64>().ok()).unwrap_or(f64::NAN))
                .collect();
            match total(&scores) {
                Some(t) => {
                    new.total = Some(t);
                    new.scores = serde_json::to_string(&scores).map_err(|e| AppError::Internal(e.into()))?;
                    new.state = if t >= PASS_MARK { ApplicationState::Passed } else { ApplicationState::Failed };
                }
                None => e.add("scores", Code::InvalidValue, "请为八项标准逐项打分，每项在0与该项满分之间"),
            }
        }
        _ => e.add("decision", Code::InvalidKind, "请选择打分或退回补充"),
    }
    if !e.is_empty() {
        return Err(AppError::Validation(e));
    }
    ctx.update(&old, &mut new, input.version).await?;
    Ok(new)
}

/// Publishes a year's named list: every passed application is named.
pub async fn publish(ctx: &Ctx<'_>, year: i64) -> AppResult<usize> {
    super::access::require_admin(ctx.user)?;
    let passed: Vec<Application> =
        list(ctx, year).await?.into_iter().map(|r| r.a).filter(|a| a.state == ApplicationState::Passed).collect();
    if passed.is_empty() {
        return Err(AppError::refuse(
            Code::ApplicationNotOpen,
            format!("{year}年度还没有评审通过（待命名）的申报，不能发布命名名单"),
        ));
    }
    let mut w = ctx.write().await?;
    let now = w.now;
    for old in &passed {
        let mut new =
            Application { state: ApplicationState::Named, named_at: Some(now), updated_at: now, ..old.clone() };
        w.update_as(Verb::Publish, old, &mut new, old.version).await?;
    }
    w.commit().await?;
    Ok(passed.len())
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct RevokeInput {
    #[serde(default)]
    pub note: String,
    #[serde(default, deserialize_with = "crate::domain::validate::number")]
    pub version: Option<i64>,
}

/// A named unit loses the title after a serious failure during the year, with the reason.
pub async fn revoke(ctx: &Ctx<'_>, id: &str, input: RevokeInput) -> AppResult<Application> {
    super::access::require_admin(ctx.user)?;
    let (row, _) = get(ctx, id).await?;
    let old = row.a;
    if old.state != ApplicationState::Named {
        return Err(Code::ApplicationNotOpen.into());
    }
    let mut e = FieldErrors::default();
    let note = optional_text(&mut e, "note", "撤销原因", &input.note, 1000, true);
    if note.chars().count() < 6 {
        e.add("note", Code::Required, "请写明撤销称号的原因（至少6个字），将记入审计日志");
    }
    if !e.is_empty() {
        return Err(AppError::Validation(e));
    }
    let now = now_ms();
    let mut new = Application { state: ApplicationState::Revoked, note, updated_at: now, ..old.clone() };
    ctx.update(&old, &mut new, input.version).await?;
    Ok(new)
}

/// The public named list of a year.
pub async fn named(db: &crate::store::Db, year: i64) -> AppResult<Vec<String>> {
    Ok(sqlx::query_scalar(
        "SELECT u.name FROM civilized_applications a JOIN units u ON u.id = a.unit_id WHERE a.year = $1 AND a.state = 'named' ORDER BY u.name",
    )
    .bind(year)
    .fetch_all(&db.pool)
    .await?)
}
