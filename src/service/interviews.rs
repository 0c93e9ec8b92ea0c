//! Interviews (约谈) and accountability (问责): records of what the office did about a unit,
//! each linked to the facts that caused it (its overdue or failed problems, a notice).

use super::Ctx;
use super::access::require_admin;
use super::write::expected;
use crate::domain::audit::ObjectType;
use crate::domain::ids::new_id;
use crate::domain::notice::InterviewKind;
use crate::domain::role::Role;
use crate::domain::standard::Publication;
use crate::domain::time::{now_ms, parse_local_day_start};
use crate::domain::validate::FieldErrors;
use crate::error::{AppError, AppResult, Code};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Clone, sqlx::FromRow, Serialize, ToSchema)]
pub struct Interview {
    pub id: String,
    /// interview (约谈) or accountability (问责)
    pub kind: InterviewKind,
    pub unit_id: String,
    pub unit_name: String,
    pub reason: String,
    /// The facts as JSON: [{"type": "problem", "id", "code"}, {"type": "notice", "id", "number"}]
    pub facts: String,
    pub held_at: Option<i64>,
    pub outcome: String,
    pub created_by: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
    pub version: i64,
}

crate::record! {
    Interview in "interviews" as ObjectType::Interview,
    label |i| format!("{}：{}", i.kind.label(), i.unit_name),
    insert [id, kind, unit_id, reason, facts, held_at, outcome, created_by, created_at, updated_at, version],
    update [held_at, outcome, updated_at],
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct InterviewInput {
    /// interview or accountability
    #[serde(default)]
    pub kind: String,
    #[serde(default)]
    pub unit_id: String,
    #[serde(default)]
    pub reason: String,
    /// Problem codes or ids that caused it (at least one fact is required)
    #[serde(default)]
    pub problems: Vec<String>,
    /// A notice that named the unit
    #[serde(default)]
    pub notice_id: Option<String>,
}

const SELECT: &str = "SELECT i.id, i.kind, i.unit_id, u.name AS unit_name, i.reason, i.facts, i.held_at, i.outcome, \
     i.created_by, i.created_at, i.updated_at, i.version FROM interviews i JOIN units u ON u.id = i.unit_id";

pub async fn list(ctx: &Ctx<'_>) -> AppResult<Vec<Interview>> {
    let rows: Vec<Interview> = match ctx.user.role {
        Role::Admin | Role::Discipline | Role::Supervisor => {
            sqlx::query_as(&format!("{SELECT} ORDER BY i.created_at DESC LIMIT 500")).fetch_all(&ctx.db.pool).await?
        }
        r if r.needs_unit() => {
            sqlx::query_as(&format!("{SELECT} WHERE i.unit_id = $1 ORDER BY i.created_at DESC"))
                .bind(ctx.user.unit_id.clone().unwrap_or_default())
                .fetch_all(&ctx.db.pool)
                .await?
        }
        _ => return Err(AppError::Forbidden),
    };
    Ok(rows)
}

/// Records an interview or an accountability decision; refused whole unless every fact exists
/// and concerns that unit.
pub async fn create(ctx: &Ctx<'_>, input: InterviewInput) -> AppResult<Interview> {
    require_admin(ctx.user)?;
    let mut e = FieldErrors::default();
    let kind = InterviewKind::parse(input.kind.trim());
    if kind.is_none() {
        e.add("kind", Code::InvalidKind, "类型应为约谈或问责");
    }
    let unit = crate::store::units::get(ctx.db, input.unit_id.trim()).await?;
    if unit.is_none() {
        e.add("unit_id", Code::UnknownUnit, "请选择存在的责任单位");
    }
    let reason = input.reason.trim();
    if reason.is_empty() || reason.chars().count() > 500 {
        e.add("reason", Code::Required, "请填写事由（500字以内）");
    }
    let mut facts = Vec::new();
    for key in input.problems.iter().map(|s| s.trim()).filter(|s| !s.is_empty()) {
        let found: Option<(String, String, String)> =
            sqlx::query_as("SELECT id, code, unit_id FROM problems WHERE id = $1 OR code = $1")
                .bind(key)
                .fetch_optional(&ctx.db.pool)
                .await?;
        match found {
            Some((id, code, u)) if u == input.unit_id.trim() => {
                facts.push(serde_json::json!({"type": "problem", "id": id, "code": code}))
            }
            Some((_, code, _)) => e.add("problems", Code::NotThisUnit, format!("问题{code}不属于该单位")),
            None => e.add("problems", Code::UnknownProblem, format!("问题“{key}”不存在")),
        }
    }
    if let Some(nid) = input.notice_id.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        match crate::store::notices::get(ctx.db, nid).await? {
            Some(n) if n.status == Publication::Published => {
                facts.push(serde_json::json!({"type": "notice", "id": n.id, "number": n.number}))
            }
            _ => e.add("notice_id", Code::UnknownNotice, "通报不存在或尚未发布"),
        }
    }
    if facts.is_empty() && e.is_empty() {
        e.add("problems", Code::FactsRequired, "请至少关联一个问题或一份已发布的通报作为依据");
    }
    if !e.is_empty() {
        return Err(AppError::Validation(e));
    }
    let unit = unit.expect("checked");
    let now = now_ms();
    let interview = Interview {
        id: new_id(),
        kind: kind.unwrap_or(InterviewKind::Interview),
        unit_id: unit.id,
        unit_name: unit.name,
        reason: reason.into(),
        facts: serde_json::Value::Array(facts).to_string(),
        held_at: None,
        outcome: String::new(),
        created_by: Some(ctx.user.id.clone()),
        created_at: now,
        updated_at: now,
        version: 1,
    };
    ctx.create(&interview).await?;
    Ok(interview)
}

/// Records when it was held and what came of it.
pub async fn record_outcome(
    ctx: &Ctx<'_>,
    id: &str,
    held_on: &str,
    outcome: &str,
    version: Option<i64>,
) -> AppResult<()> {
    require_admin(ctx.user)?;
    let old: Interview = sqlx::query_as(&format!("{SELECT} WHERE i.id = $1"))
        .bind(id)
        .fetch_optional(&ctx.db.pool)
        .await?
        .ok_or(AppError::NotFound)?;
    let held = parse_local_day_start(held_on.trim())
        .filter(|t| *t <= now_ms())
        .ok_or_else(|| AppError::field("held_at", Code::InvalidDate, "请填写已经过去的日期，格式2026-11-23"))?;
    let outcome = outcome.trim();
    if outcome.is_empty() || outcome.chars().count() > 1000 {
        return Err(AppError::field("outcome", Code::Required, "请填写结果（1000字以内）"));
    }
    let expected = expected(version)?;
    let mut new = Interview { held_at: Some(held), outcome: outcome.into(), updated_at: now_ms(), ..old.clone() };
    let mut w = ctx.write().await?;
    w.update(&old, &mut new, expected).await?;
    w.commit().await?;
    Ok(())
}
