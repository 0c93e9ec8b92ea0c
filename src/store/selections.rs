//! 十佳 selections, their nominations and votes, and the public voters' phone codes.

use super::Db;
use crate::domain::audit::ObjectType;
use crate::domain::mutual::{NominationState, SelectionKind, SelectionState};
use serde::Serialize;
use sqlx::AnyConnection;

#[derive(Debug, Clone, sqlx::FromRow, Serialize, utoipa::ToSchema)]
pub struct Selection {
    pub id: String,
    /// e.g. 2026年度十佳大堂经理
    pub title: String,
    pub kind: SelectionKind,
    /// How many are selected (10)
    pub winners: i64,
    pub state: SelectionState,
    pub staff_weight: f64,
    pub public_weight: f64,
    pub created_by: Option<String>,
    pub published_at: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
    pub version: i64,
}

crate::record! {
    Selection in "selections" as ObjectType::Selection,
    label |s| s.title.clone(),
    insert [id, title, kind, winners, state, staff_weight, public_weight, created_by, published_at, created_at,
        updated_at, version],
    update [state, published_at, updated_at],
}

#[derive(Debug, Clone, sqlx::FromRow, Serialize, utoipa::ToSchema)]
pub struct Nomination {
    pub id: String,
    pub selection_id: String,
    pub unit_id: String,
    pub staff_id: String,
    /// 事迹
    pub deeds: String,
    pub state: NominationState,
    pub staff_votes: i64,
    pub public_votes: i64,
    /// Place in the published result (1 = first)
    pub place: Option<i64>,
    pub created_by: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
    pub version: i64,
}

crate::record! {
    Nomination in "nominations" as ObjectType::Nomination,
    label |n| format!("十佳推荐 {}", n.staff_id),
    insert [id, selection_id, unit_id, staff_id, deeds, state, staff_votes, public_votes, place, created_by, created_at,
        updated_at, version],
    update [deeds, state, place, updated_at],
    unique ("staff_id", crate::domain::code::Code::Duplicate, "该人员已被推荐"),
}

crate::listed! {
    /// A nomination with the person and the unit.
    NominationRow: Nomination { staff_name: String, badge: String, post: String, unit_name: String }
}

pub async fn all(db: &Db) -> Result<Vec<Selection>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, title, kind, winners, state, staff_weight, public_weight, created_by, published_at, created_at, \
         updated_at, version FROM selections ORDER BY created_at DESC",
    )
    .fetch_all(&db.pool)
    .await
}

pub async fn get(db: &Db, id: &str) -> Result<Option<Selection>, sqlx::Error> {
    super::record::find(db, id).await
}

pub async fn nomination(db: &Db, id: &str) -> Result<Option<Nomination>, sqlx::Error> {
    super::record::find(db, id).await
}

const NOMINATIONS: &str = "SELECT n.*, s.name AS staff_name, s.badge, s.post, u.name AS unit_name FROM nominations n \
     JOIN window_staff s ON s.id = n.staff_id JOIN units u ON u.id = n.unit_id \
     WHERE n.selection_id = $1 ORDER BY n.place IS NULL, n.place, u.name, s.badge";

pub async fn nominations(db: &Db, selection_id: &str) -> Result<Vec<NominationRow>, sqlx::Error> {
    sqlx::query_as(NOMINATIONS).bind(selection_id).fetch_all(&db.pool).await
}

/// The nominations as a write sees them (after the votes committed before it).
pub async fn nominations_in(conn: &mut AnyConnection, selection_id: &str) -> Result<Vec<NominationRow>, sqlx::Error> {
    sqlx::query_as(NOMINATIONS).bind(selection_id).fetch_all(conn).await
}

/// Counts a vote unless this voter voted in this selection today; false when they did.
pub async fn vote(
    conn: &mut AnyConnection,
    (selection_id, nomination_id): (&str, &str),
    (voter_key, day, kind): (&str, &str, &str),
    now: i64,
) -> Result<bool, sqlx::Error> {
    let added = sqlx::query(
        "INSERT INTO selection_votes (selection_id, voter_key, day, nomination_id, kind, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
    )
    .bind(selection_id)
    .bind(voter_key)
    .bind(day)
    .bind(nomination_id)
    .bind(kind)
    .bind(now)
    .execute(&mut *conn)
    .await?
    .rows_affected()
        == 1;
    if added {
        let col = if kind == "staff" { "staff_votes" } else { "public_votes" };
        sqlx::query(&format!("UPDATE nominations SET {col} = {col} + 1 WHERE id = $1"))
            .bind(nomination_id)
            .execute(conn)
            .await?;
    }
    Ok(added)
}

/// A phone's pending code: (code hash, expires, attempts, sent).
pub async fn code(db: &Db, phone_hash: &str) -> Result<Option<(String, i64, i64, i64)>, sqlx::Error> {
    sqlx::query_as("SELECT code_hash, expires_at, attempts, sent_at FROM vote_codes WHERE phone_hash = $1")
        .bind(phone_hash)
        .fetch_optional(&db.pool)
        .await
}
