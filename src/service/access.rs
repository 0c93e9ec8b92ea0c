//! Who may see or change what. Every rule here is about scope: a unit sees only itself,
//! a grid worker only its area, the office everything.

use super::{Ctx, CurrentUser};
use crate::domain::role::Role;
use crate::error::{AppError, AppResult};
use crate::store::{org, units::Unit};

pub fn require_admin(user: &CurrentUser) -> AppResult<()> {
    if user.role == Role::Admin { Ok(()) } else { Err(AppError::Forbidden) }
}

/// The org-node ids a grid worker may see (their area and everything under it).
pub async fn area_scope(ctx: &Ctx<'_>) -> AppResult<Option<Vec<String>>> {
    if ctx.user.role != Role::GridWorker {
        return Ok(None);
    }
    match &ctx.user.area_id {
        Some(a) => Ok(Some(org::subtree_ids(ctx.db, a).await?)),
        None => Ok(Some(Vec::new())),
    }
}

/// The org-node ids an inspector's round covers: a grid worker its area (`area_scope`); a
/// supervisor the areas of its supervision teams (`team_scope`); the others the city (None).
pub async fn inspection_scope(ctx: &Ctx<'_>) -> AppResult<Option<Vec<String>>> {
    if ctx.user.role == Role::Supervisor { team_scope(ctx).await } else { area_scope(ctx).await }
}

/// The org-node ids of a supervisor's team areas (督导组) and what lies under them. A supervisor
/// in no team, or in a team without an area (a theme such as 窗口单位 across the city), and every
/// other role are not held to an area (None).
pub async fn team_scope(ctx: &Ctx<'_>) -> AppResult<Option<Vec<String>>> {
    let Some(areas) = team_areas(ctx).await? else { return Ok(None) };
    let mut ids = Vec::new();
    for a in areas {
        ids.extend(org::subtree_ids(ctx.db, &a).await?);
    }
    Ok(Some(ids))
}

/// The areas of a supervisor's teams themselves (one query), when it is held to them; None as
/// for `team_scope`.
pub async fn team_areas(ctx: &Ctx<'_>) -> AppResult<Option<Vec<String>>> {
    if ctx.user.role != Role::Supervisor {
        return Ok(None);
    }
    let areas: Vec<Option<String>> = sqlx::query_scalar(
        "SELECT t.area_id FROM teams t JOIN team_members m ON m.team_id = t.id WHERE m.user_id = $1",
    )
    .bind(&ctx.user.id)
    .fetch_all(&ctx.db.pool)
    .await?;
    if areas.is_empty() || areas.iter().any(Option::is_none) {
        return Ok(None);
    }
    Ok(Some(areas.into_iter().flatten().collect()))
}

/// Why a supervisor may not find problems at a point (by its community): outside its teams'
/// areas, refused with `Code::OutsideTeamArea`; None when it may. Other roles are held by what
/// they see (a grid worker does not see another area's points).
pub async fn outside_inspection(ctx: &Ctx<'_>, community_id: Option<&str>) -> AppResult<Option<&'static str>> {
    Ok(outside_teams(ctx, community_id).await?.then_some("该点位不在您所在督导组的督导区域内，请选择本组区域内的点位"))
}

/// Why a supervisor may not re-check (回头看) a problem: outside its teams' areas, where that
/// area's team re-checks; None when it may. The office re-checks anywhere.
pub async fn outside_recheck(ctx: &Ctx<'_>, community_id: Option<&str>) -> AppResult<Option<String>> {
    if !outside_teams(ctx, community_id).await? {
        return Ok(None);
    }
    let teams = crate::store::teams::covering(ctx.db, community_id).await?;
    let who = if teams.is_empty() { "所在区域的督导组或创城办".to_string() } else { teams.join("、") };
    Ok(Some(format!("该问题不在您所在督导组的督导区域内，由{who}核查（回头看）")))
}

/// A supervisor held to team areas that do not hold this community.
async fn outside_teams(ctx: &Ctx<'_>, community_id: Option<&str>) -> AppResult<bool> {
    Ok(ctx.user.role == Role::Supervisor
        && !crate::store::teams::may_inspect(ctx.db, &ctx.user.id, community_id).await?)
}

pub async fn can_read_unit(ctx: &Ctx<'_>, unit: &Unit) -> AppResult<bool> {
    let u = ctx.user;
    if u.role.sees_all_units() {
        return Ok(true);
    }
    if u.role.needs_unit() {
        return Ok(u.unit_id.as_deref() == Some(unit.id.as_str()));
    }
    // A grid or street worker reads the units registered in its area and those answering for a
    // point there.
    if let Some(scope) = area_scope(ctx).await? {
        if unit.area_id.as_ref().is_some_and(|a| scope.contains(a)) {
            return Ok(true);
        }
        let f = crate::store::units::UnitFilter {
            serving_area_ids: Some(scope),
            only_id: Some(unit.id.clone()),
            ..Default::default()
        };
        return Ok(crate::store::units::count(ctx.db, &f).await? > 0);
    }
    Ok(false)
}

/// The office edits every contact book; a unit user keeps its own up to date.
pub fn can_edit_contacts(user: &CurrentUser, unit_id: &str) -> bool {
    user.role == Role::Admin || (user.role == Role::UnitUser && user.unit_id.as_deref() == Some(unit_id))
}

/// The office reads all accounts; a unit user reads its own unit's accounts.
pub fn users_scope(user: &CurrentUser) -> AppResult<Option<String>> {
    match user.role {
        Role::Admin => Ok(None),
        Role::UnitUser => user.unit_id.clone().map(Some).ok_or(AppError::Forbidden),
        _ => Err(AppError::Forbidden),
    }
}

/// An area asked for in a filter that refuses what it cannot show: an area that does not exist
/// (`unknown_area`), or one outside the area a reader is held to (`forbidden`, with `outside`
/// saying what may not be seen). The area's node and its ids with everything below it.
pub async fn asked_area(
    ctx: &Ctx<'_>,
    held: Option<&Vec<String>>,
    id: &str,
    outside: &str,
) -> AppResult<(org::OrgNode, Vec<String>)> {
    use crate::error::Code;
    let node =
        org::get(ctx.db, id).await?.ok_or_else(|| AppError::refuse(Code::UnknownArea, format!("区域“{id}”不存在")))?;
    if held.is_some_and(|h| !h.iter().any(|a| a == id)) {
        return Err(AppError::refuse(Code::Forbidden, outside.to_string()));
    }
    Ok((node, org::subtree_ids(ctx.db, id).await?))
}

/// Narrows a role's area scope to an area picked in a filter (with everything below it):
/// the result never reaches outside the scope.
pub async fn narrow_to_area(
    db: &crate::store::Db,
    scope: Option<Vec<String>>,
    area: Option<String>,
) -> AppResult<Option<Vec<String>>> {
    let Some(a) = area else { return Ok(scope) };
    Ok(Some(within(scope, org::subtree_ids(db, &a).await?)))
}

/// The area ids `ids` that lie within a role's scope (all of them when it has none).
pub fn within(scope: Option<Vec<String>>, ids: Vec<String>) -> Vec<String> {
    match scope {
        Some(scope) => ids.into_iter().filter(|i| scope.contains(i)).collect(),
        None => ids,
    }
}
