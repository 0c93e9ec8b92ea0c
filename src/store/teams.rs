//! Supervision teams (督导组) and their members.

use super::{Db, PageReq, Where, bind_args_as, like_pattern};
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
}

#[derive(Debug, Clone, sqlx::FromRow, Serialize, utoipa::ToSchema)]
pub struct TeamRow {
    pub id: String,
    pub name: String,
    pub theme: String,
    pub area_name: Option<String>,
    pub leader_name: Option<String>,
    pub member_count: i64,
}

#[derive(Debug, Clone, sqlx::FromRow, Serialize, utoipa::ToSchema)]
pub struct Member {
    pub user_id: String,
    pub username: String,
    pub display_name: String,
    pub phone: String,
}

const COLS: &str = "id, name, theme, area_id, leader_id, created_at, updated_at, version";

pub async fn get(db: &Db, id: &str) -> Result<Option<Team>, sqlx::Error> {
    sqlx::query_as::<_, Team>(&format!("SELECT {COLS} FROM teams WHERE id = $1"))
        .bind(id)
        .fetch_optional(&db.pool)
        .await
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
         (SELECT COUNT(*) FROM team_members m WHERE m.team_id = t.id) AS member_count \
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

pub async fn insert(conn: &mut AnyConnection, t: &Team) -> Result<(), sqlx::Error> {
    sqlx::query(&format!("INSERT INTO teams ({COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"))
        .bind(&t.id)
        .bind(&t.name)
        .bind(&t.theme)
        .bind(&t.area_id)
        .bind(&t.leader_id)
        .bind(t.created_at)
        .bind(t.updated_at)
        .bind(t.version)
        .execute(conn)
        .await
        .map(|_| ())
}

pub async fn update(conn: &mut AnyConnection, t: &Team, expected_version: i64) -> Result<bool, sqlx::Error> {
    let r = sqlx::query(
        "UPDATE teams SET name = $1, theme = $2, area_id = $3, leader_id = $4, updated_at = $5, \
         version = version + 1 WHERE id = $6 AND version = $7",
    )
    .bind(&t.name)
    .bind(&t.theme)
    .bind(&t.area_id)
    .bind(&t.leader_id)
    .bind(t.updated_at)
    .bind(&t.id)
    .bind(expected_version)
    .execute(conn)
    .await?;
    Ok(r.rows_affected() == 1)
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

pub async fn delete(conn: &mut AnyConnection, id: &str) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM team_members WHERE team_id = $1").bind(id).execute(&mut *conn).await?;
    sqlx::query("DELETE FROM teams WHERE id = $1").bind(id).execute(conn).await.map(|_| ())
}
