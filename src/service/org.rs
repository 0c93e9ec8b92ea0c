//! Managing the administrative tree.

use super::write::expected;
use super::{Ctx, access::require_admin, non_empty};
use crate::domain::org::{OrgLevel, check_code};
use crate::domain::validate::{FieldErrors, required_text};
use crate::domain::{ids::new_id, time::now_ms};
use crate::error::{AppError, AppResult, Code};
use crate::store::{org, org::OrgNode};
use serde::Deserialize;
use utoipa::ToSchema;

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct NodeInput {
    /// district | street | community | compound (ignored on update)
    #[serde(default)]
    pub level: String,
    /// Parent node id; required below district level (ignored on update)
    #[serde(default)]
    pub parent_id: Option<String>,
    #[serde(default)]
    pub code: String,
    #[serde(default)]
    pub name: String,
    /// The version the editor saw, for updates
    #[serde(default, deserialize_with = "super::version")]
    pub version: Option<i64>,
}

struct Valid {
    code: String,
    name: String,
}

fn validate(level: Option<OrgLevel>, parent: Option<&OrgNode>, input: &NodeInput) -> AppResult<Valid> {
    let mut e = FieldErrors::default();
    let name = required_text(&mut e, "name", "名称", &input.name, 50);
    let code = input.code.trim().to_string();
    match level {
        None => e.add("level", Code::InvalidLevel, "请选择层级（区县、街道、社区或小区）"),
        Some(level) => {
            let parent_level = parent.map(|p| p.level);
            if level.parent().is_some() && parent.is_none() {
                e.add(
                    "parent_id",
                    Code::ParentRequired,
                    format!("请选择上级{}", level.parent().map(|p| p.label()).unwrap_or("")),
                );
            } else if parent.is_some() && parent_level != level.parent() {
                e.add(
                    "parent_id",
                    Code::WrongParentLevel,
                    format!("{}的上级应为{}", level.label(), level.parent().map(|p| p.label()).unwrap_or("无")),
                );
            }
            if code.is_empty() {
                e.add("code", Code::Required, "请填写编码");
            } else if let Err(c) = check_code(level, &code, parent.map(|p| p.code.as_str())) {
                e.add("code", c.code, c.message);
            }
        }
    }
    if !e.is_empty() {
        return Err(AppError::Validation(e));
    }
    Ok(Valid { code, name })
}

async fn find_parent(ctx: &Ctx<'_>, id: Option<String>) -> AppResult<Option<OrgNode>> {
    let Some(id) = id else { return Ok(None) };
    match org::get(ctx.db, &id).await? {
        Some(p) => Ok(Some(p)),
        None => Err(AppError::field("parent_id", Code::UnknownParent, "上级区域不存在")),
    }
}

pub async fn create(ctx: &Ctx<'_>, input: NodeInput) -> AppResult<OrgNode> {
    require_admin(ctx.user)?;
    let level = OrgLevel::parse(input.level.trim());
    let parent = find_parent(ctx, non_empty(&input.parent_id)).await?;
    let v = validate(level, parent.as_ref(), &input)?;
    let now = now_ms();
    let node = OrgNode {
        id: new_id(),
        parent_id: parent.map(|p| p.id),
        level: level.ok_or_else(|| AppError::field("level", Code::InvalidLevel, "请选择层级"))?,
        code: v.code,
        name: v.name,
        created_at: now,
        updated_at: now,
        version: 1,
    };
    ctx.create(&node).await?;
    Ok(node)
}

pub async fn update(ctx: &Ctx<'_>, id: &str, input: NodeInput) -> AppResult<OrgNode> {
    require_admin(ctx.user)?;
    let old = org::get(ctx.db, id).await?.ok_or(AppError::NotFound)?;
    let parent = find_parent(ctx, old.parent_id.clone()).await?;
    let v = validate(Some(old.level), parent.as_ref(), &input)?;
    let expected = expected(input.version)?;
    let mut new = OrgNode { code: v.code, name: v.name, updated_at: now_ms(), ..old.clone() };
    let mut w = ctx.write().await?;
    if old.code != new.code && org::child_count(w.conn(), id).await? > 0 {
        return Err(AppError::field("code", Code::HasChildren, "该区域下已有下级区域，不能修改编码"));
    }
    w.update(&old, &mut new, expected).await?;
    w.commit().await?;
    Ok(new)
}

pub async fn delete(ctx: &Ctx<'_>, id: &str) -> AppResult<()> {
    require_admin(ctx.user)?;
    let old = org::get(ctx.db, id).await?.ok_or(AppError::NotFound)?;
    let mut w = ctx.write().await?;
    if org::references(w.conn(), id).await? > 0 {
        return Err(AppError::refuse(Code::InUse, "该区域下还有下级区域、单位、账号或督导组，不能删除"));
    }
    w.delete(&old).await?;
    w.commit().await?;
    Ok(())
}
