//! Supervision teams (督导组): a leader and members who are supervisors.

use super::access::require_admin;
use super::{Ctx, non_empty, snapshot};
use crate::domain::audit::{ObjectType, Verb};
use crate::domain::role::Role;
use crate::domain::validate::{FieldErrors, optional_text, required_text};
use crate::domain::{ids::new_id, time::now_ms};
use crate::error::{AppError, AppResult, Code};
use crate::store::audit::Change;
use crate::store::teams::{self, Team};
use crate::store::{self, org, users};
use serde::{Deserialize, Serialize};
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

#[derive(Serialize)]
struct Snapshot<'a> {
    #[serde(flatten)]
    team: &'a Team,
    member_ids: &'a [String],
}

async fn validate(ctx: &Ctx<'_>, input: &TeamInput, base: Team) -> AppResult<(Team, Vec<String>)> {
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
    Ok((Team { name, theme, area_id, leader_id, ..base }, members))
}

fn duplicate(e: sqlx::Error) -> AppError {
    if store::is_unique_violation(&e) {
        AppError::field("name", Code::DuplicateName, "已有同名督导组")
    } else {
        e.into()
    }
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
    };
    let (team, members) = validate(ctx, &input, blank).await?;
    let mut tx = ctx.db.begin().await?;
    teams::insert(&mut tx, &team).await.map_err(duplicate)?;
    teams::set_members(&mut tx, &team.id, &members).await?;
    let after = snapshot(&Snapshot { team: &team, member_ids: &members });
    let change = Change {
        action: Verb::Create.into(),
        object_type: ObjectType::Team,
        object_id: &team.id,
        object_label: &team.name,
        before: None,
        after,
    };
    ctx.audit(&mut tx, change, now).await?;
    tx.commit().await?;
    Ok(team)
}

pub async fn update(ctx: &Ctx<'_>, id: &str, input: TeamInput) -> AppResult<Team> {
    require_admin(ctx.user)?;
    let old = teams::get(ctx.db, id).await?.ok_or(AppError::NotFound)?;
    let old_members: Vec<String> = teams::members(ctx.db, id).await?.into_iter().map(|m| m.user_id).collect();
    let expected = input.version.unwrap_or(old.version);
    let now = now_ms();
    let (mut team, members) = validate(ctx, &input, Team { updated_at: now, ..old.clone() }).await?;
    let mut tx = ctx.db.begin().await?;
    if !teams::update(&mut tx, &team, expected).await.map_err(duplicate)? {
        return Err(AppError::stale());
    }
    teams::set_members(&mut tx, id, &members).await?;
    team.version = expected + 1;
    let before = snapshot(&Snapshot { team: &old, member_ids: &old_members });
    let after = snapshot(&Snapshot { team: &team, member_ids: &members });
    let change = Change {
        action: Verb::Update.into(),
        object_type: ObjectType::Team,
        object_id: id,
        object_label: &team.name,
        before,
        after,
    };
    ctx.audit(&mut tx, change, now).await?;
    tx.commit().await?;
    Ok(team)
}

pub async fn delete(ctx: &Ctx<'_>, id: &str) -> AppResult<()> {
    require_admin(ctx.user)?;
    let old = teams::get(ctx.db, id).await?.ok_or(AppError::NotFound)?;
    let mut tx = ctx.db.begin().await?;
    teams::delete(&mut tx, id).await?;
    let change = Change {
        action: Verb::Delete.into(),
        object_type: ObjectType::Team,
        object_id: id,
        object_label: &old.name,
        before: snapshot(&old),
        after: None,
    };
    ctx.audit(&mut tx, change, now_ms()).await?;
    tx.commit().await?;
    Ok(())
}
