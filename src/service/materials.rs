//! Online material submission (网上申报): a drive splits the published evaluation system's
//! material indicators among their lead units with a due date; each unit uploads documents,
//! photos and a written account per indicator (every version kept); the office accepts or
//! returns each with a reason; progress by indicator and unit with overdue marks; the accepted
//! package exported as a zip with a folder per indicator and an index sheet.

use super::Ctx;
use super::access::require_admin;
use crate::domain::audit::{ObjectType, Verb};
use crate::domain::code::Code;
use crate::domain::evaluation::{Leg, MaterialState};
use crate::domain::ids::new_id;
use crate::domain::role::Role;
use crate::domain::time::{now_ms, parse_local_day_start};
use crate::domain::validate::{FieldErrors, optional_text, required_text};
use crate::error::{AppError, AppResult};
use crate::media::storage::Storage;
use serde::{Deserialize, Serialize};
use serde_json::json;

/// A material drive (申报批次).
#[derive(Debug, Clone, sqlx::FromRow, Serialize)]
pub struct Drive {
    pub id: String,
    pub name: String,
    pub system_id: String,
    pub due_on: String,
    pub created_by: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
    pub version: i64,
}

crate::record! {
    Drive in "material_drives" as ObjectType::MaterialTask,
    label |d| d.name.clone(),
    insert [id, name, system_id, due_on, created_by, created_at, updated_at, version],
}

/// One indicator's submission by its unit.
#[derive(Debug, Clone, sqlx::FromRow, Serialize, utoipa::ToSchema)]
pub struct Task {
    pub id: String,
    pub drive_id: String,
    pub item_id: String,
    pub unit_id: String,
    pub due_on: String,
    pub state: MaterialState,
    /// The latest submitted version (0: none yet)
    pub revision: i64,
    pub account: String,
    /// Why it was last returned
    pub reason: String,
    pub submitted_at: Option<i64>,
    pub reviewed_by: Option<String>,
    pub reviewed_at: Option<i64>,
    pub updated_at: i64,
    pub version: i64,
}

crate::record! {
    Task in "material_tasks" as ObjectType::MaterialTask,
    label |t| t.item_id.clone(),
    insert [id, drive_id, item_id, unit_id, due_on, state, revision, account, reason, submitted_at, reviewed_by,
        reviewed_at, updated_at, version],
    update [unit_id, due_on, state, revision, account, reason, submitted_at, reviewed_by, reviewed_at, updated_at],
}

crate::listed! {
    /// A task with its indicator and unit.
    TaskRow: Task { code: String, project: String, content: String, standard: String, unit_name: String, files: i64 }
}

const TSELECT: &str = "SELECT t.id, t.drive_id, t.item_id, t.unit_id, t.due_on, t.state, t.revision, t.account, t.reason, \
     t.submitted_at, t.reviewed_by, t.reviewed_at, t.updated_at, t.version, i.code, i.project, i.content, i.standard, \
     u.name AS unit_name, (SELECT COUNT(*) FROM material_files f WHERE f.task_id = t.id AND f.revision = t.revision) AS files \
     FROM material_tasks t JOIN eval_items i ON i.id = t.item_id JOIN units u ON u.id = t.unit_id";

impl TaskRow {
    /// Not yet handed in (or handed back) after its due date.
    pub fn overdue(&self, today: &str) -> bool {
        matches!(self.state, MaterialState::Assigned | MaterialState::Returned) && today > self.due_on.as_str()
    }

    pub fn label(&self) -> String {
        format!("{} {}", self.code, self.standard.chars().take(30).collect::<String>())
    }
}

/// A stored file of a version.
#[derive(Debug, Clone, sqlx::FromRow, Serialize)]
pub struct MaterialFile {
    pub id: String,
    pub task_id: String,
    pub revision: i64,
    pub filename: String,
    pub kind: String,
    pub size: i64,
    pub storage_key: String,
    pub uploaded_at: i64,
}

/// A version as handed in and reviewed.
#[derive(Debug, Clone, sqlx::FromRow, Serialize)]
pub struct Revision {
    pub revision: i64,
    pub account: String,
    pub submitted_by: Option<String>,
    pub submitted_at: i64,
    pub decision: String,
    pub reason: String,
    pub reviewed_at: Option<i64>,
}

fn may_read_all(role: Role) -> bool {
    matches!(role, Role::Admin | Role::Supervisor | Role::Discipline)
}

pub async fn drives(ctx: &Ctx<'_>) -> AppResult<Vec<Drive>> {
    if ctx.user.role == Role::GridWorker || ctx.user.role == Role::Evaluator {
        return Err(AppError::Forbidden);
    }
    Ok(sqlx::query_as(
        "SELECT id, name, system_id, due_on, created_by, created_at, updated_at, version FROM material_drives \
         ORDER BY created_at DESC",
    )
    .fetch_all(&ctx.db.pool)
    .await?)
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct DriveInput {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub due_on: String,
}

/// Starts a drive: every material indicator of the published system to its lead unit.
pub async fn create_drive(ctx: &Ctx<'_>, input: DriveInput) -> AppResult<Drive> {
    require_admin(ctx.user)?;
    let mut e = FieldErrors::default();
    let name = required_text(&mut e, "name", "名称", &input.name, 60);
    if parse_local_day_start(input.due_on.trim()).is_none() {
        e.add("due_on", Code::InvalidDate, "日期格式应为2026-12-01");
    }
    let system = super::evaluations::published(ctx.db).await?;
    let items: Vec<(String, String, Option<String>)> = match &system {
        Some(s) => {
            sqlx::query_as(
                "SELECT id, code, lead_unit_id FROM eval_items WHERE system_id = $1 AND leg = $2 ORDER BY seq",
            )
            .bind(&s.id)
            .bind(Leg::Material)
            .fetch_all(&ctx.db.pool)
            .await?
        }
        None => Vec::new(),
    };
    if items.is_empty() {
        e.add("_form", Code::UnknownItem, "现行测评体系中没有网上材料指标");
    }
    let orphans: Vec<&str> = items.iter().filter(|i| i.2.is_none()).map(|i| i.1.as_str()).collect();
    if !orphans.is_empty() {
        e.add(
            "_form",
            Code::UnitRequired,
            format!("以下材料指标未指定牵头单位，请先在测评体系中指定：{}", orphans.join("、")),
        );
    }
    let (Some(system), true) = (system, e.is_empty()) else { return Err(AppError::Validation(e)) };
    let now = now_ms();
    let drive = Drive {
        id: new_id(),
        name,
        system_id: system.id,
        due_on: input.due_on.trim().into(),
        created_by: Some(ctx.user.id.clone()).filter(|u| !u.is_empty()),
        created_at: now,
        updated_at: now,
        version: 1,
    };
    let mut w = ctx.write().await?;
    w.create(&drive).await?;
    for (item, _, unit) in items {
        let t = Task {
            id: new_id(),
            drive_id: drive.id.clone(),
            item_id: item,
            unit_id: unit.expect("checked"),
            due_on: drive.due_on.clone(),
            state: MaterialState::Assigned,
            revision: 0,
            account: String::new(),
            reason: String::new(),
            submitted_at: None,
            reviewed_by: None,
            reviewed_at: None,
            updated_at: now,
            version: 1,
        };
        crate::store::record::Insert::insert(&t, w.conn()).await?;
    }
    w.commit().await?;
    Ok(drive)
}

/// A drive's tasks the caller may see: the office all, a unit its own.
pub async fn tasks(ctx: &Ctx<'_>, drive_id: &str) -> AppResult<Vec<TaskRow>> {
    let rows: Vec<TaskRow> = if may_read_all(ctx.user.role) {
        sqlx::query_as(&format!("{TSELECT} WHERE t.drive_id = $1 ORDER BY i.seq"))
            .bind(drive_id)
            .fetch_all(&ctx.db.pool)
            .await?
    } else if ctx.user.role.needs_unit() {
        sqlx::query_as(&format!("{TSELECT} WHERE t.drive_id = $1 AND t.unit_id = $2 ORDER BY i.seq"))
            .bind(drive_id)
            .bind(ctx.user.unit_id.clone().unwrap_or_default())
            .fetch_all(&ctx.db.pool)
            .await?
    } else {
        return Err(AppError::Forbidden);
    };
    Ok(rows)
}

/// Progress of one unit: (unit, all, accepted, waiting for review, returned, overdue).
#[derive(Debug, Clone, Serialize)]
pub struct UnitProgress {
    pub unit: String,
    pub all: i64,
    pub accepted: i64,
    pub submitted: i64,
    pub returned: i64,
    pub overdue: i64,
}

pub fn progress(tasks: &[TaskRow], today: &str) -> Vec<UnitProgress> {
    let mut out: Vec<UnitProgress> = Vec::new();
    for t in tasks {
        let i = match out.iter().position(|p| p.unit == t.unit_name) {
            Some(i) => i,
            None => {
                out.push(UnitProgress {
                    unit: t.unit_name.clone(),
                    all: 0,
                    accepted: 0,
                    submitted: 0,
                    returned: 0,
                    overdue: 0,
                });
                out.len() - 1
            }
        };
        let p = &mut out[i];
        p.all += 1;
        match t.state {
            MaterialState::Accepted => p.accepted += 1,
            MaterialState::Submitted => p.submitted += 1,
            MaterialState::Returned => p.returned += 1,
            MaterialState::Assigned => {}
        }
        if t.overdue(today) {
            p.overdue += 1;
        }
    }
    out.sort_by(|a, b| {
        b.overdue.cmp(&a.overdue).then((a.accepted * b.all).cmp(&(b.accepted * a.all))).then(a.unit.cmp(&b.unit))
    });
    out
}

pub async fn task(ctx: &Ctx<'_>, id: &str) -> AppResult<(TaskRow, Vec<Revision>, Vec<MaterialFile>)> {
    let t: TaskRow = sqlx::query_as(&format!("{TSELECT} WHERE t.id = $1"))
        .bind(id)
        .fetch_optional(&ctx.db.pool)
        .await?
        .ok_or(AppError::NotFound)?;
    let own = ctx.user.role.needs_unit() && ctx.user.unit_id.as_deref() == Some(t.unit_id.as_str());
    if !own && !may_read_all(ctx.user.role) {
        return Err(AppError::NotFound);
    }
    let revisions = sqlx::query_as(
        "SELECT revision, account, submitted_by, submitted_at, decision, reason, reviewed_at FROM material_revisions \
         WHERE task_id = $1 ORDER BY revision DESC",
    )
    .bind(id)
    .fetch_all(&ctx.db.pool)
    .await?;
    let files = files_of(ctx.db, id, None).await?;
    Ok((t, revisions, files))
}

async fn files_of(db: &crate::store::Db, task: &str, revision: Option<i64>) -> AppResult<Vec<MaterialFile>> {
    Ok(sqlx::query_as(
        "SELECT id, task_id, revision, filename, kind, size, storage_key, uploaded_at FROM material_files \
         WHERE task_id = $1 AND ($2 < 0 OR revision = $2) ORDER BY revision DESC, filename",
    )
    .bind(task)
    .bind(revision.unwrap_or(-1))
    .fetch_all(&db.pool)
    .await?)
}

pub use super::documents::MAX_TOTAL;

/// The unit hands in a version: its written account and files (checked by their bytes, off
/// the async threads); stored before anything is written; the task waits for review.
pub async fn submit(
    ctx: &Ctx<'_>,
    storage: &Storage,
    id: &str,
    version: Option<i64>,
    account: &str,
    files: Vec<(String, Vec<u8>)>,
) -> AppResult<Task> {
    let (t, _, _) = task(ctx, id).await?;
    if !(ctx.user.role.needs_unit() && ctx.user.unit_id.as_deref() == Some(t.unit_id.as_str())) {
        return Err(AppError::Forbidden);
    }
    if !matches!(t.state, MaterialState::Assigned | MaterialState::Returned) {
        return Err(Code::MaterialNotOpen.into());
    }
    let version = super::write::expected(version)?;
    let mut e = FieldErrors::default();
    let account = required_text(&mut e, "account", "情况说明", account, 5000);
    if files.is_empty() {
        e.add("files", Code::Required, "请上传至少一份佐证材料（PDF、Word、Excel或图片）");
    }
    super::documents::check_counts(&mut e, &files);
    if !e.is_empty() {
        return Err(AppError::Validation(e));
    }
    let revision = t.revision + 1;
    let now = now_ms();
    let stored = store_files(storage, &t.id, (revision, now), files).await?;
    // Refused (a stale page) or failed before its commit, the submission leaves no file behind.
    let mut kept = crate::media::storage::Unkept::new(storage);
    stored.iter().for_each(|f| kept.add_key(&f.storage_key));
    let old = t.record.clone();
    let mut new = Task {
        state: MaterialState::Submitted,
        revision,
        account: account.clone(),
        submitted_at: Some(now),
        updated_at: now,
        ..old.clone()
    };
    let mut w = ctx.write().await?;
    w.update(&old, &mut new, version).await?;
    sqlx::query(
        "INSERT INTO material_revisions (task_id, revision, account, submitted_by, submitted_at) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(&t.id)
    .bind(revision)
    .bind(&account)
    .bind(Some(ctx.user.id.as_str()).filter(|u| !u.is_empty()))
    .bind(now)
    .execute(w.conn())
    .await?;
    for f in &stored {
        sqlx::query(
            "INSERT INTO material_files (id, task_id, revision, filename, kind, size, storage_key, uploaded_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(&f.id)
        .bind(&f.task_id)
        .bind(f.revision)
        .bind(&f.filename)
        .bind(&f.kind)
        .bind(f.size)
        .bind(&f.storage_key)
        .bind(f.uploaded_at)
        .execute(w.conn())
        .await?;
    }
    let committed = w.commit().await;
    kept.keep();
    committed?;
    Ok(new)
}

/// A version's files checked and stored (`documents::store`), as rows to insert.
async fn store_files(
    storage: &Storage,
    task: &str,
    (revision, now): (i64, i64),
    files: Vec<(String, Vec<u8>)>,
) -> AppResult<Vec<MaterialFile>> {
    let stored = super::documents::store(storage, &format!("materials/{task}/{revision}"), files).await?;
    Ok(stored
        .into_iter()
        .map(|f| MaterialFile {
            id: f.id,
            task_id: task.to_string(),
            revision,
            filename: f.filename,
            kind: f.kind,
            size: f.size,
            storage_key: f.storage_key,
            uploaded_at: now,
        })
        .collect())
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct ReviewInput {
    /// accept | return
    #[serde(default)]
    pub decision: String,
    #[serde(default)]
    pub reason: String,
    #[serde(default, deserialize_with = "crate::domain::validate::number")]
    pub version: Option<i64>,
}

/// The office accepts the submitted version or returns it with the reason.
pub async fn review(ctx: &Ctx<'_>, id: &str, input: ReviewInput) -> AppResult<Task> {
    require_admin(ctx.user)?;
    let (t, _, _) = task(ctx, id).await?;
    if t.state != MaterialState::Submitted {
        return Err(Code::MaterialNotOpen.into());
    }
    let version = super::write::expected(input.version)?;
    let mut e = FieldErrors::default();
    let accept = match input.decision.trim() {
        "accept" => true,
        "return" => false,
        _ => {
            e.add("decision", Code::InvalidKind, "请选择通过或退回");
            true
        }
    };
    let reason = optional_text(&mut e, "reason", "退回原因", &input.reason, 500, true);
    if !accept && reason.chars().count() < 4 {
        e.add("reason", Code::Required, "退回时请写明原因（至少4个字），便于单位修改");
    }
    if !e.is_empty() {
        return Err(AppError::Validation(e));
    }
    let now = now_ms();
    let old = t.record.clone();
    let mut new = Task {
        state: if accept { MaterialState::Accepted } else { MaterialState::Returned },
        reason: if accept { String::new() } else { reason.clone() },
        reviewed_by: Some(ctx.user.id.clone()).filter(|u| !u.is_empty()),
        reviewed_at: Some(now),
        updated_at: now,
        ..old.clone()
    };
    let mut w = ctx.write().await?;
    w.update(&old, &mut new, version).await?;
    sqlx::query(
        "UPDATE material_revisions SET decision = $1, reason = $2, reviewed_by = $3, reviewed_at = $4 \
         WHERE task_id = $5 AND revision = $6",
    )
    .bind(if accept { "accept" } else { "return" })
    .bind(&reason)
    .bind(Some(ctx.user.id.as_str()).filter(|u| !u.is_empty()))
    .bind(now)
    .bind(&t.id)
    .bind(t.revision)
    .execute(w.conn())
    .await?;
    w.commit().await?;
    Ok(new)
}

/// A file the caller may read: (name, bytes).
pub async fn file(ctx: &Ctx<'_>, storage: &Storage, id: &str) -> AppResult<(String, Vec<u8>)> {
    let f: MaterialFile = sqlx::query_as(
        "SELECT id, task_id, revision, filename, kind, size, storage_key, uploaded_at FROM material_files WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(&ctx.db.pool)
    .await?
    .ok_or(AppError::NotFound)?;
    task(ctx, &f.task_id).await?;
    let bytes = storage.get(&f.storage_key).await.map_err(|_| AppError::NotFound)?;
    Ok((f.filename, bytes))
}

/// Folder-safe text: no path separators or characters Windows refuses.
fn safe(s: &str, max: usize) -> String {
    s.chars().map(|c| if "/\\:*?\"<>|".contains(c) || c.is_control() { '_' } else { c }).take(max).collect()
}

/// The drive's package: a folder per indicator with the accepted version's files and its
/// account (情况说明.txt), and 目录.xlsx listing every indicator with its state.
pub async fn package(ctx: &Ctx<'_>, storage: &Storage, drive_id: &str) -> AppResult<(String, Vec<u8>)> {
    require_admin(ctx.user)?;
    let drive: Drive = crate::store::record::find(ctx.db, drive_id).await?.ok_or(AppError::NotFound)?;
    let tasks = tasks(ctx, drive_id).await?;
    let mut entries: Vec<(String, Vec<u8>)> = Vec::new();
    let mut index = Vec::new();
    for t in &tasks {
        let folder = format!("{} {}", safe(&t.code, 20), safe(&t.standard, 24));
        let mut names = Vec::new();
        if t.state == MaterialState::Accepted {
            for f in files_of(ctx.db, &t.id, Some(t.revision)).await? {
                let bytes = storage.get(&f.storage_key).await.map_err(|e| AppError::Internal(e.into()))?;
                let mut name = safe(&f.filename, 100);
                while names.contains(&name) {
                    name = format!("副本_{name}");
                }
                entries.push((format!("{folder}/{name}"), bytes));
                names.push(name);
            }
            entries.push((format!("{folder}/情况说明.txt"), t.account.clone().into_bytes()));
        }
        index.push(vec![
            t.code.clone(),
            t.project.clone(),
            t.content.clone(),
            t.standard.clone(),
            t.unit_name.clone(),
            t.state.label().to_string(),
            if t.state == MaterialState::Accepted { format!("第{}版", t.revision) } else { String::new() },
            if t.state == MaterialState::Accepted { folder.clone() } else { String::new() },
            names.join("、"),
        ]);
    }
    let head = ["编码", "测评项目", "测评内容", "测评标准", "牵头单位", "状态", "采用版本", "文件夹", "文件"];
    let index_xlsx = super::sheet::simple("目录", &head, &index)?;
    entries.insert(0, ("目录.xlsx".into(), index_xlsx));
    let bytes = tokio::task::spawn_blocking(move || -> Result<Vec<u8>, zip::result::ZipError> {
        use std::io::Write;
        let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        let opts = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
        for (name, bytes) in entries {
            zip.start_file(name, opts)?;
            zip.write_all(&bytes)?;
        }
        Ok(zip.finish()?.into_inner())
    })
    .await
    .map_err(|e| AppError::Internal(e.into()))?
    .map_err(|e| AppError::Internal(anyhow::anyhow!("zip: {e}")))?;
    let label = drive.name.clone();
    let mut w = ctx.write().await?;
    w.audit(Verb::Export, ObjectType::MaterialTask, &drive.id, &label, None, Some(json!({"export": "申报材料包"})))
        .await?;
    w.commit().await?;
    Ok((drive.name, bytes))
}
