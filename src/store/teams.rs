//! Supervision teams (督导组) and their members.

use super::{Db, PageReq, Where, bind_args_as, like_pattern};
use crate::domain::audit::ObjectType;
use crate::domain::code::Code;
use serde::Serialize;
use sqlx::AnyConnection;

#[derive(Debug, Clone, sqlx::FromRow, Serialize, utoipa::ToSchema)]
pub struct Team {
    pub id: String,
    pub name: String,
    pub theme: String,
    pub area_id: Option<String>,
    pub leader_id: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
    pub version: i64,
    /// The supervisors in the team (kept in team_members)
    #[sqlx(skip)]
    pub member_ids: Vec<String>,
}

#[derive(Debug, Clone, sqlx::FromRow, Serialize, utoipa::ToSchema)]
pub struct TeamRow {
    pub id: String,
    pub name: String,
    pub theme: String,
    pub area_name: Option<String>,
    pub leader_name: Option<String>,
    pub member_count: i64,
    pub version: i64,
}

#[derive(Debug, Clone, sqlx::FromRow, Serialize, utoipa::ToSchema)]
pub struct Member {
    pub user_id: String,
    pub username: String,
    pub display_name: String,
    pub phone: String,
}

const COLS: &str = "id, name, theme, area_id, leader_id, created_at, updated_at, version";

crate::record! {
    Team in "teams" as ObjectType::Team,
    label |t| t.name.clone(),
    insert [id, name, theme, area_id, leader_id, created_at, updated_at, version],
    update [name, theme, area_id, leader_id, updated_at],
    unique ("name", Code::DuplicateName, "已有同名督导组"),
}

/// A team with its members' ids.
pub async fn get(db: &Db, id: &str) -> Result<Option<Team>, sqlx::Error> {
    let team = sqlx::query_as::<_, Team>(&format!("SELECT {COLS} FROM teams WHERE id = $1"))
        .bind(id)
        .fetch_optional(&db.pool)
        .await?;
    let Some(team) = team else { return Ok(None) };
    let member_ids = members(db, id).await?.into_iter().map(|m| m.user_id).collect();
    Ok(Some(Team { member_ids, ..team }))
}

pub async fn list(db: &Db, keyword: Option<&str>, page: PageReq) -> Result<(Vec<TeamRow>, i64), sqlx::Error> {
    let mut w = Where::default();
    if let Some(k) = keyword {
        let p = w.text(like_pattern(k));
        w.and(format!("(t.name {op} {p} ESCAPE '\\' OR t.theme {op} {p} ESCAPE '\\')", op = db.ilike()));
    }
    let total = super::count(db, "teams t", &w).await?;
    let sql = format!(
        "SELECT t.id, t.name, t.theme, a.name AS area_name, l.display_name AS leader_name, \
         (SELECT COUNT(*) FROM team_members m WHERE m.team_id = t.id) AS member_count, t.version \
         FROM teams t LEFT JOIN org_nodes a ON a.id = t.area_id LEFT JOIN users l ON l.id = t.leader_id{} \
         ORDER BY t.name{}",
        w.sql(),
        page.limit_offset()
    );
    let rows = bind_args_as(sqlx::query_as::<_, TeamRow>(&sql), &w.args).fetch_all(&db.pool).await?;
    Ok((rows, total))
}

pub async fn members(db: &Db, team_id: &str) -> Result<Vec<Member>, sqlx::Error> {
    sqlx::query_as::<_, Member>(
        "SELECT u.id AS user_id, u.username, u.display_name, u.phone FROM team_members m \
         JOIN users u ON u.id = m.user_id WHERE m.team_id = $1 ORDER BY u.display_name",
    )
    .bind(team_id)
    .fetch_all(&db.pool)
    .await
}

/// Replaces the member list.
pub async fn set_members(conn: &mut AnyConnection, team_id: &str, user_ids: &[String]) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM team_members WHERE team_id = $1").bind(team_id).execute(&mut *conn).await?;
    for u in user_ids {
        sqlx::query("INSERT INTO team_members (team_id, user_id) VALUES ($1, $2)")
            .bind(team_id)
            .bind(u)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

/// The teams whose area holds a community (the community or one of its ancestors), by name.
pub async fn covering(db: &Db, community_id: Option<&str>) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar(
        "WITH RECURSIVE up(id, parent_id) AS (SELECT id, parent_id FROM org_nodes WHERE id = $1 \
         UNION ALL SELECT n.id, n.parent_id FROM org_nodes n JOIN up ON n.id = up.parent_id) \
         SELECT t.name FROM teams t WHERE t.area_id IN (SELECT id FROM up) ORDER BY t.name",
    )
    .bind(community_id)
    .fetch_all(&db.pool)
    .await
}

/// Whether a supervisor inspects in a community: in no team, in a team without an area (a theme
/// across the city), or in a team whose area is the community or holds it. One round trip: the
/// community and its ancestors against the supervisor's teams (a filing asks it every time).
pub async fn may_inspect(db: &Db, user_id: &str, community_id: Option<&str>) -> Result<bool, sqlx::Error> {
    let (teams, holding): (i64, i64) = sqlx::query_as(
        "WITH RECURSIVE up(id, parent_id) AS (SELECT id, parent_id FROM org_nodes WHERE id = $2 \
         UNION ALL SELECT n.id, n.parent_id FROM org_nodes n JOIN up ON n.id = up.parent_id) \
         SELECT COUNT(*), COALESCE(SUM(CASE WHEN t.area_id IS NULL OR t.area_id IN (SELECT id FROM up) THEN 1 ELSE 0 END), 0) \
         FROM teams t JOIN team_members m ON m.team_id = t.id WHERE m.user_id = $1",
    )
    .bind(user_id)
    .bind(community_id)
    .fetch_one(&db.pool)
    .await?;
    Ok(teams == 0 || holding > 0)
}
