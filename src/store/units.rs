//! Responsible units, the contact-book levels and each unit's contacts.

use super::{Db, PageReq, Where, bind_args_as};
use crate::domain::audit::ObjectType;
use crate::domain::code::Code;
use crate::domain::unit::UnitKind;
use serde::Serialize;
use sqlx::AnyConnection;

#[derive(Debug, Clone, sqlx::FromRow, Serialize, utoipa::ToSchema)]
pub struct Unit {
    pub id: String,
    pub name: String,
    pub kind: UnitKind,
    /// The trade of a window unit (银行, 政务, …): its figures are compared within it
    pub sector: Option<crate::domain::window::Sector>,
    pub area_id: Option<String>,
    pub address: String,
    pub phone: String,
    pub note: String,
    pub active: i64,
    pub created_at: i64,
    pub updated_at: i64,
    pub version: i64,
}

crate::listed! {
    /// A unit as listed, with its area's name and how many contacts and accounts it has.
    UnitRow: Unit { area_name: Option<String>, contact_count: i64, user_count: i64 }
}

#[derive(Debug, Default, Clone)]
pub struct UnitFilter {
    pub kind: Option<UnitKind>,
    pub area_ids: Option<Vec<String>>,
    pub keyword: Option<String>,
    pub active: Option<bool>,
    /// Only this unit (a unit user's own).
    pub only_id: Option<String>,
}

const COLS: &str = "id, name, kind, sector, area_id, address, phone, note, active, created_at, updated_at, version";

crate::record! {
    Unit in "units" as ObjectType::Unit,
    label |u| u.name.clone(),
    insert [id, name, kind, sector, area_id, address, phone, note, active, created_at, updated_at, version],
    update [name, kind, sector, area_id, address, phone, note, active, updated_at],
    unique ("name", Code::DuplicateName, "已有同名单位"),
}

pub async fn get(db: &Db, id: &str) -> Result<Option<Unit>, sqlx::Error> {
    super::record::find(db, id).await
}

/// Every unit, active or not (the units a notice asks to confirm reading).
/// Units that have not confirmed reading a notice: (id, name), by name.
pub async fn not_confirmed(db: &Db, notice_id: &str) -> Result<Vec<(String, String)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT u.id, u.name FROM units u WHERE NOT EXISTS \
         (SELECT 1 FROM notice_reads r WHERE r.notice_id = $1 AND r.unit_id = u.id) ORDER BY u.name",
    )
    .bind(notice_id)
    .fetch_all(&db.pool)
    .await
}

pub async fn count_all(db: &Db) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("SELECT COUNT(*) FROM units").fetch_one(&db.pool).await
}

/// Every unit (imports match rows to them by name).
pub async fn all(db: &Db) -> Result<Vec<Unit>, sqlx::Error> {
    sqlx::query_as::<_, Unit>(&format!("SELECT {COLS} FROM units ORDER BY name")).fetch_all(&db.pool).await
}

/// Every contact of every unit, in book order (exports).
pub async fn all_contacts(db: &Db) -> Result<Vec<Contact>, sqlx::Error> {
    sqlx::query_as::<_, Contact>(&format!("{CONTACT_SELECT} ORDER BY u.name, l.seq, c.name")).fetch_all(&db.pool).await
}

/// Empties a unit's contact book (an import then writes the new one).
pub async fn clear_contacts(conn: &mut AnyConnection, unit_id: &str) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM unit_contacts WHERE unit_id = $1").bind(unit_id).execute(conn).await.map(|_| ())
}

/// The names of these units, by id.
pub async fn names_of(db: &Db, ids: &[String]) -> Result<std::collections::HashMap<String, String>, sqlx::Error> {
    if ids.is_empty() {
        return Ok(Default::default());
    }
    // One JSON array (a notice names some 2,600 units at ten million problems: 24 ms as rows),
    // and past a few hundred ids every unit: binding the long list cost as much again.
    let mut w = Where::default();
    if ids.len() <= 200 {
        w.within("id", Some(ids));
    }
    let (agg, row, cast) = super::json_aggregate(db);
    let sql = format!("SELECT {agg}({row}(id, name)){cast} FROM units{}", w.sql());
    let (text,) = bind_args_as(sqlx::query_as::<_, (Option<String>,)>(&sql), &w.args).fetch_one(&db.pool).await?;
    let wanted: std::collections::HashSet<&str> = ids.iter().map(String::as_str).collect();
    Ok(super::from_json::<(String, String)>(text)?.into_iter().filter(|(id, _)| wanted.contains(id.as_str())).collect())
}

pub async fn all_names(db: &Db) -> Result<Vec<(String, String)>, sqlx::Error> {
    sqlx::query_as::<_, (String, String)>("SELECT id, name FROM units ORDER BY name").fetch_all(&db.pool).await
}

fn filter_sql(db: &Db, f: &UnitFilter) -> Where {
    let mut w = Where::default();
    w.eq("u.kind", f.kind.map(UnitKind::as_str));
    w.within("u.area_id", f.area_ids.as_deref());
    w.contains(db, &["u.name", "u.address"], f.keyword.as_deref());
    w.flag("u.active", f.active);
    w.eq("u.id", f.only_id.as_deref());
    w
}

pub async fn list(db: &Db, f: &UnitFilter, page: PageReq) -> Result<(Vec<UnitRow>, i64), sqlx::Error> {
    let w = filter_sql(db, f);
    let total = super::count(db, "units u", &w).await?;
    let sql = format!(
        "SELECT u.*, a.name AS area_name, \
         (SELECT COUNT(*) FROM unit_contacts c WHERE c.unit_id = u.id) AS contact_count, \
         (SELECT COUNT(*) FROM users s WHERE s.unit_id = u.id) AS user_count \
         FROM units u LEFT JOIN org_nodes a ON a.id = u.area_id{} ORDER BY u.name{}",
        w.sql(),
        page.limit_offset()
    );
    let rows = bind_args_as(sqlx::query_as::<_, UnitRow>(&sql), &w.args).fetch_all(&db.pool).await?;
    Ok((rows, total))
}

#[derive(Debug, Clone, sqlx::FromRow, Serialize, utoipa::ToSchema)]
pub struct ContactLevel {
    pub id: String,
    pub seq: i64,
    pub name: String,
    pub created_at: i64,
    pub updated_at: i64,
    pub version: i64,
}

crate::record! {
    ContactLevel in "contact_levels" as ObjectType::ContactLevel,
    label |l| l.name.clone(),
    insert [id, seq, name, created_at, updated_at, version],
    update [seq, name, updated_at],
    unique ("name", Code::DuplicateName, "已有同名层级"),
    in_use "仍有联系人使用该层级，不能删除",
}

pub async fn contact_levels(db: &Db) -> Result<Vec<ContactLevel>, sqlx::Error> {
    sqlx::query_as::<_, ContactLevel>(
        "SELECT id, seq, name, created_at, updated_at, version FROM contact_levels ORDER BY seq, name",
    )
    .fetch_all(&db.pool)
    .await
}

#[derive(Debug, Clone, sqlx::FromRow, Serialize, utoipa::ToSchema)]
pub struct Contact {
    pub id: String,
    pub unit_id: String,
    pub unit_name: String,
    pub level_id: String,
    pub level_name: String,
    pub level_seq: i64,
    pub name: String,
    pub position: String,
    pub phone: String,
    pub note: String,
    pub created_at: i64,
    pub updated_at: i64,
    pub version: i64,
}

crate::record! {
    Contact in "unit_contacts" as ObjectType::UnitContact,
    label |c| format!("{} · {}", c.unit_name, c.name),
    insert [id, unit_id, level_id, name, position, phone, note, created_at, updated_at, version],
    update [level_id, name, position, phone, note, updated_at],
}

const CONTACT_SELECT: &str = "SELECT c.id, c.unit_id, u.name AS unit_name, c.level_id, l.name AS level_name, \
     l.seq AS level_seq, c.name, c.position, c.phone, c.note, c.created_at, c.updated_at, c.version \
     FROM unit_contacts c JOIN contact_levels l ON l.id = c.level_id JOIN units u ON u.id = c.unit_id";

pub async fn contacts(db: &Db, unit_id: &str) -> Result<Vec<Contact>, sqlx::Error> {
    sqlx::query_as::<_, Contact>(&format!("{CONTACT_SELECT} WHERE c.unit_id = $1 ORDER BY l.seq, c.name"))
        .bind(unit_id)
        .fetch_all(&db.pool)
        .await
}

pub async fn contact(db: &Db, id: &str) -> Result<Option<Contact>, sqlx::Error> {
    sqlx::query_as::<_, Contact>(&format!("{CONTACT_SELECT} WHERE c.id = $1")).bind(id).fetch_optional(&db.pool).await
}

pub async fn id_by_name(db: &Db, name: &str) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar::<_, String>("SELECT id FROM units WHERE name = $1").bind(name).fetch_optional(&db.pool).await
}

pub async fn contacts_in(conn: &mut AnyConnection, unit_id: &str) -> Result<Vec<Contact>, sqlx::Error> {
    sqlx::query_as::<_, Contact>(&format!("{CONTACT_SELECT} WHERE c.unit_id = $1 ORDER BY l.seq, c.name"))
        .bind(unit_id)
        .fetch_all(conn)
        .await
}
