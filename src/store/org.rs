//! The administrative tree (org_nodes).

use super::{Db, PageReq, Where, bind_args_as};
use crate::domain::audit::ObjectType;
use crate::domain::code::Code;
use crate::domain::org::OrgLevel;
use serde::Serialize;
use sqlx::AnyConnection;

#[derive(Debug, Clone, sqlx::FromRow, Serialize, utoipa::ToSchema)]
pub struct OrgNode {
    pub id: String,
    pub parent_id: Option<String>,
    pub level: OrgLevel,
    pub code: String,
    pub name: String,
    pub created_at: i64,
    pub updated_at: i64,
    pub version: i64,
}

/// A node as listed: with its parent's name and how many children it has.
#[derive(Debug, Clone, sqlx::FromRow, Serialize, utoipa::ToSchema)]
pub struct OrgNodeRow {
    pub id: String,
    pub parent_id: Option<String>,
    pub level: OrgLevel,
    pub code: String,
    pub name: String,
    pub parent_name: Option<String>,
    pub child_count: i64,
    pub updated_at: i64,
    pub version: i64,
}

#[derive(Debug, Default, Clone)]
pub struct OrgFilter {
    pub level: Option<OrgLevel>,
    pub parent_id: Option<String>,
    pub keyword: Option<String>,
    /// Restrict to these ids (a grid worker's area).
    pub within: Option<Vec<String>>,
}

const COLS: &str = "id, parent_id, level, code, name, created_at, updated_at, version";

crate::record! {
    OrgNode in "org_nodes" as ObjectType::OrgNode,
    label |n| n.name.clone(),
    insert [id, parent_id, level, code, name, created_at, updated_at, version],
    update [code, name, updated_at],
    unique ("code", Code::DuplicateCode, "该编码已被使用"),
}

pub async fn get(db: &Db, id: &str) -> Result<Option<OrgNode>, sqlx::Error> {
    super::record::find(db, id).await
}

pub async fn all(db: &Db) -> Result<Vec<OrgNode>, sqlx::Error> {
    sqlx::query_as::<_, OrgNode>(&format!("SELECT {COLS} FROM org_nodes ORDER BY code")).fetch_all(&db.pool).await
}

fn filter_sql(db: &Db, f: &OrgFilter) -> Where {
    let mut w = Where::default();
    w.eq("n.level", f.level.map(OrgLevel::as_str));
    w.eq("n.parent_id", f.parent_id.as_deref());
    w.contains(db, &["n.name", "n.code"], f.keyword.as_deref());
    w.within("n.id", f.within.as_deref());
    w
}

pub async fn list(db: &Db, f: &OrgFilter, page: PageReq) -> Result<(Vec<OrgNodeRow>, i64), sqlx::Error> {
    let w = filter_sql(db, f);
    let total = super::count(db, "org_nodes n", &w).await?;
    let sql = format!(
        "SELECT n.id, n.parent_id, n.level, n.code, n.name, p.name AS parent_name, \
         (SELECT COUNT(*) FROM org_nodes c WHERE c.parent_id = n.id) AS child_count, n.updated_at, n.version \
         FROM org_nodes n LEFT JOIN org_nodes p ON p.id = n.parent_id{} ORDER BY n.code{}",
        w.sql(),
        page.limit_offset()
    );
    let rows = bind_args_as(sqlx::query_as::<_, OrgNodeRow>(&sql), &w.args).fetch_all(&db.pool).await?;
    Ok((rows, total))
}

/// The ids of a node and everything below it.
pub async fn subtree_ids(db: &Db, root: &str) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar::<_, String>(
        "WITH RECURSIVE t(id) AS (SELECT id FROM org_nodes WHERE id = $1 \
         UNION ALL SELECT n.id FROM org_nodes n JOIN t ON n.parent_id = t.id) SELECT id FROM t",
    )
    .bind(root)
    .fetch_all(&db.pool)
    .await
}

/// Counts what still refers to a node (children, units, users, teams).
pub async fn references(conn: &mut AnyConnection, id: &str) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar::<_, i64>(
        "SELECT (SELECT COUNT(*) FROM org_nodes WHERE parent_id = $1) \
         + (SELECT COUNT(*) FROM units WHERE area_id = $1) \
         + (SELECT COUNT(*) FROM users WHERE area_id = $1) \
         + (SELECT COUNT(*) FROM teams WHERE area_id = $1)",
    )
    .bind(id)
    .fetch_one(conn)
    .await
}

pub async fn child_count(conn: &mut AnyConnection, id: &str) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM org_nodes WHERE parent_id = $1").bind(id).fetch_one(conn).await
}

pub async fn id_by_code(db: &Db, code: &str) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar::<_, String>("SELECT id FROM org_nodes WHERE code = $1")
        .bind(code)
        .fetch_optional(&db.pool)
        .await
}
