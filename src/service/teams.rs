//! Supervision teams (督导组): a leader and members who are supervisors.

use super::access::require_admin;
use super::write::expected;
use super::{Ctx, non_empty};
use crate::domain::role::Role;
use crate::domain::validate::{FieldErrors, optional_text, required_text};
use crate::domain::{ids::new_id, time::now_ms};
use crate::error::{AppError, AppResult, Code};
use crate::store::teams::{self, Team};
use crate::store::{org, users};
use serde::Deserialize;
use utoipa::ToSchema;

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct TeamInput {
    #[serde(default)]
    pub name: String,
    /// Theme, e.g. 主次干道 or 窗口单位
    #[serde(default)]
    pub theme: String,
    #[serde(default)]
    pub area_id: Option<String>,
    /// Must be one of the members
    #[serde(default)]
    pub leader_id: Option<String>,
    /// Supervisor account ids
    #[serde(default)]
    pub member_ids: Vec<String>,
    #[serde(default, deserialize_with = "super::version")]
    pub version: Option<i64>,
}

pub fn require_read(ctx: &Ctx<'_>) -> AppResult<()> {
    if ctx.user.role.sees_teams() { Ok(()) } else { Err(AppError::Forbidden) }
}

async fn validate(ctx: &Ctx<'_>, input: &TeamInput, base: Team) -> AppResult<Team> {
    let mut e = FieldErrors::default();
    let name = required_text(&mut e, "name", "督导组名称", &input.name, 40);
    let theme = optional_text(&mut e, "theme", "督导主题", &input.theme, 60, false);
    let area_id = non_empty(&input.area_id);
    if let Some(a) = &area_id
        && org::get(ctx.db, a).await?.is_none()
    {
        e.add("area_id", Code::UnknownArea, "负责区域不存在");
    }
    let mut members: Vec<String> =
        input.member_ids.iter().map(|m| m.trim().to_string()).filter(|m| !m.is_empty()).collect();
    members.sort();
    members.dedup();
    if members.len() > 50 {
        e.add("member_ids", Code::TooMany, "每个督导组最多50名成员");
    }
    for m in &members {
        match users::get(ctx.db, m).await? {
            Some(u) if u.role == Role::Supervisor => {}
            _ => {
                e.add("member_ids", Code::InvalidMember, "成员必须是已有的督导员账号");
                break;
            }
        }
    }
    let leader_id = non_empty(&input.leader_id);
    if let Some(l) = &leader_id
        && !members.contains(l)
    {
        e.add("leader_id", Code::LeaderNotMember, "组长必须是本组成员");
    }
    if !e.is_empty() {
        return Err(AppError::Validation(e));
    }
    Ok(Team { name, theme, area_id, leader_id, member_ids: members, ..base })
}

pub async fn create(ctx: &Ctx<'_>, input: TeamInput) -> AppResult<Team> {
    require_admin(ctx.user)?;
    let now = now_ms();
    let blank = Team {
        id: new_id(),
        name: String::new(),
        theme: String::new(),
        area_id: None,
        leader_id: None,
        created_at: now,
        updated_at: now,
        version: 1,
        member_ids: Vec::new(),
    };
    let team = validate(ctx, &input, blank).await?;
    let mut w = ctx.write().await?;
    w.create(&team).await?;
    teams::set_members(w.conn(), &team.id, &team.member_ids).await?;
    w.commit().await?;
    Ok(team)
}

pub async fn update(ctx: &Ctx<'_>, id: &str, input: TeamInput) -> AppResult<Team> {
    require_admin(ctx.user)?;
    let old = teams::get(ctx.db, id).await?.ok_or(AppError::NotFound)?;
    let expected = expected(input.version)?;
    let mut team = validate(ctx, &input, Team { updated_at: now_ms(), ..old.clone() }).await?;
    let mut w = ctx.write().await?;
    w.update(&old, &mut team, expected).await?;
    teams::set_members(w.conn(), id, &team.member_ids).await?;
    w.commit().await?;
    Ok(team)
}

pub async fn delete(ctx: &Ctx<'_>, id: &str) -> AppResult<()> {
    require_admin(ctx.user)?;
    let old = teams::get(ctx.db, id).await?.ok_or(AppError::NotFound)?;
    let mut w = ctx.write().await?;
    teams::set_members(w.conn(), id, &[]).await?;
    w.delete(&old).await?;
    w.commit().await
}
