//! Tasks of the responsibility ledger: the office assigns them to units; a unit keeps its own
//! tasks' status up to date.

use super::units::visible as visible_unit;
use super::{Ctx, non_empty};
use crate::domain::role::Role;
use crate::domain::unit::TaskStatus;
use crate::domain::validate::{FieldErrors, optional_text, required_text};
use crate::domain::{ids::new_id, time::now_ms};
use crate::error::{AppError, AppResult, Code};
use crate::store::points as point_store;
use crate::store::tasks::{self as store, Task};
use chrono::NaiveDate;
use serde::Deserialize;
use utoipa::ToSchema;

pub const STATUSES: [(&str, &str); 3] = [("todo", "未开始"), ("doing", "进行中"), ("done", "已完成")];

pub fn status_label(s: &str) -> &'static str {
    STATUSES.iter().find(|(k, _)| *k == s).map(|(_, v)| *v).unwrap_or("未知")
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct TaskInput {
    #[serde(default)]
    pub title: String,
    /// A point of the same unit, optional
    #[serde(default)]
    pub point_id: Option<String>,
    #[serde(default)]
    pub owner_name: String,
    /// YYYY-MM-DD
    #[serde(default)]
    pub due_date: String,
    /// todo | doing | done
    #[serde(default)]
    pub status: String,
    #[serde(default)]
    pub note: String,
    #[serde(default, deserialize_with = "super::version")]
    pub version: Option<i64>,
}

/// Who may change a unit's tasks: the office, or the unit's own unit user.
fn may_edit(ctx: &Ctx<'_>, unit_id: &str) -> bool {
    ctx.user.role == Role::Admin || (ctx.user.role == Role::UnitUser && ctx.user.unit_id.as_deref() == Some(unit_id))
}

async fn validate(ctx: &Ctx<'_>, unit_id: &str, input: &TaskInput, base: Task) -> AppResult<Task> {
    let mut e = FieldErrors::default();
    let title = required_text(&mut e, "title", "任务内容", &input.title, 100);
    let owner_name = optional_text(&mut e, "owner_name", "责任人", &input.owner_name, 30, false);
    let due = input.due_date.trim();
    if NaiveDate::parse_from_str(due, "%Y-%m-%d").is_err() {
        e.add("due_date", Code::InvalidDate, "完成时限应为有效日期，如2026-12-31");
    }
    let status = match input.status.trim() {
        "" => base.status,
        s => TaskStatus::parse_any(s).unwrap_or_else(|| {
            e.add("status", Code::InvalidStatus, "状态应为未开始、进行中或已完成");
            base.status
        }),
    };
    let point_id = non_empty(&input.point_id);
    if let Some(p) = &point_id {
        match point_store::get(ctx.db, p).await? {
            Some(point) if point.unit_id == unit_id => {}
            _ => e.add("point_id", Code::UnknownPoint, "所选点位不属于该单位"),
        }
    }
    let note = optional_text(&mut e, "note", "备注", &input.note, 300, true);
    if !e.is_empty() {
        return Err(AppError::Validation(e));
    }
    Ok(Task { title, owner_name, due_date: due.to_string(), status, point_id, note, ..base })
}

pub async fn create(ctx: &Ctx<'_>, unit_id: &str, input: TaskInput) -> AppResult<Task> {
    let unit = visible_unit(ctx, unit_id).await?;
    if ctx.user.role != Role::Admin {
        return Err(AppError::Forbidden);
    }
    let now = now_ms();
    let base = Task {
        id: new_id(),
        unit_id: unit.id.clone(),
        unit_name: unit.name.clone(),
        point_id: None,
        title: String::new(),
        owner_name: String::new(),
        due_date: String::new(),
        status: TaskStatus::Todo,
        note: String::new(),
        created_at: now,
        updated_at: now,
        version: 1,
    };
    let task = validate(ctx, &unit.id, &input, base).await?;
    ctx.create(&task).await?;
    Ok(task)
}

pub async fn update(ctx: &Ctx<'_>, id: &str, input: TaskInput) -> AppResult<Task> {
    let old = store::get(ctx.db, id).await?.ok_or(AppError::NotFound)?;
    let unit = visible_unit(ctx, &old.unit_id).await?;
    if !may_edit(ctx, &unit.id) {
        return Err(AppError::Forbidden);
    }
    let mut new = validate(ctx, &unit.id, &input, Task { updated_at: now_ms(), ..old.clone() }).await?;
    if ctx.user.role != Role::Admin
        && (new.title != old.title || new.due_date != old.due_date || new.point_id != old.point_id)
    {
        return Err(AppError::field(
            "title",
            Code::OfficeOnly,
            "任务内容、点位和完成时限由创城办确定，单位只能更新状态、责任人和备注",
        ));
    }
    ctx.update(&old, &mut new, input.version).await?;
    Ok(new)
}

pub async fn delete(ctx: &Ctx<'_>, id: &str) -> AppResult<String> {
    let old = store::get(ctx.db, id).await?.ok_or(AppError::NotFound)?;
    let unit = visible_unit(ctx, &old.unit_id).await?;
    if ctx.user.role != Role::Admin {
        return Err(AppError::Forbidden);
    }
    let mut w = ctx.write().await?;
    w.delete(&old).await?;
    w.commit().await?;
    Ok(unit.id)
}
