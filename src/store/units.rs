//! Responsible units, the contact-book levels and each unit's contacts.

use super::{Db, PageReq, Where, bind_args_as, like_pattern};
use crate::domain::unit::UnitKind;
use serde::Serialize;
use sqlx::AnyConnection;

#[derive(Debug, Clone, sqlx::FromRow, Serialize, utoipa::ToSchema)]
pub struct Unit {
    pub id: String,
    pub name: String,
    pub kind: UnitKind,
    pub area_id: Option<String>,
    pub address: String,
    pub phone: String,
    pub note: String,
    pub active: i64,
    pub created_at: i64,
    pub updated_at: i64,
    pub version: i64,
}

#[derive(Debug, Clone, sqlx::FromRow, Serialize, utoipa::ToSchema)]
pub struct UnitRow {
    pub id: String,
    pub name: String,
    pub kind: UnitKind,
    pub area_id: Option<String>,
    pub area_name: Option<String>,
    pub phone: String,
    pub active: i64,
    pub contact_count: i64,
    pub user_count: i64,
}

#[derive(Debug, Default, Clone)]
pub struct UnitFilter {
    pub kind: Option<String>,
    pub area_ids: Option<Vec<String>>,
    pub keyword: Option<String>,
    pub active: Option<bool>,
    /// Only this unit (a unit user's own).
    pub only_id: Option<String>,
}

const COLS: &str = "id, name, kind, area_id, address, phone, note, active, created_at, updated_at, version";

pub async fn get(db: &Db, id: &str) -> Result<Option<Unit>, sqlx::Error> {
    sqlx::query_as::<_, Unit>(&format!("SELECT {COLS} FROM units WHERE id = $1"))
        .bind(id)
        .fetch_optional(&db.pool)
        .await
}

/// Every unit, active or not (the units a notice asks to confirm reading).
pub async fn count_all(db: &Db) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("SELECT COUNT(*) FROM units").fetch_one(&db.pool).await
}

pub async fn all_names(db: &Db) -> Result<Vec<(String, String)>, sqlx::Error> {
    sqlx::query_as::<_, (String, String)>("SELECT id, name FROM units ORDER BY name").fetch_all(&db.pool).await
}

fn filter_sql(db: &Db, f: &UnitFilter) -> Where {
    let mut w = Where::default();
    if let Some(k) = &f.kind {
        let p = w.text(k);
        w.and(format!("u.kind = {p}"));
    }
    if let Some(ids) = &f.area_ids {
        let ps: Vec<String> = ids.iter().map(|i| w.text(i)).collect();
        w.and(if ps.is_empty() { "1 = 0".into() } else { format!("u.area_id IN ({})", ps.join(",")) });
    }
    if let Some(k) = &f.keyword {
        let p = w.text(like_pattern(k));
        w.and(format!("(u.name {op} {p} ESCAPE '\\' OR u.address {op} {p} ESCAPE '\\')", op = db.ilike()));
    }
    if let Some(a) = f.active {
        let p = w.int(a as i64);
        w.and(format!("u.active = {p}"));
    }
    if let Some(id) = &f.only_id {
        let p = w.text(id);
        w.and(format!("u.id = {p}"));
    }
    w
}

pub async fn list(db: &Db, f: &UnitFilter, page: PageReq) -> Result<(Vec<UnitRow>, i64), sqlx::Error> {
    let w = filter_sql(db, f);
    let total = super::count(db, "units u", &w).await?;
    let sql = format!(
        "SELECT u.id, u.name, u.kind, u.area_id, a.name AS area_name, u.phone, u.active, \
         (SELECT COUNT(*) FROM unit_contacts c WHERE c.unit_id = u.id) AS contact_count, \
         (SELECT COUNT(*) FROM users s WHERE s.unit_id = u.id) AS user_count \
         FROM units u LEFT JOIN org_nodes a ON a.id = u.area_id{} ORDER BY u.name{}",
        w.sql(),
        page.limit_offset()
    );
    let rows = bind_args_as(sqlx::query_as::<_, UnitRow>(&sql), &w.args).fetch_all(&db.pool).await?;
    Ok((rows, total))
}

pub async fn insert(conn: &mut AnyConnection, u: &Unit) -> Result<(), sqlx::Error> {
    sqlx::query(&format!("INSERT INTO units ({COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"))
        .bind(&u.id)
        .bind(&u.name)
        .bind(u.kind)
        .bind(&u.area_id)
        .bind(&u.address)
        .bind(&u.phone)
        .bind(&u.note)
        .bind(u.active)
        .bind(u.created_at)
        .bind(u.updated_at)
        .bind(u.version)
        .execute(conn)
        .await
        .map(|_| ())
}

pub async fn update(conn: &mut AnyConnection, u: &Unit, expected_version: i64) -> Result<bool, sqlx::Error> {
    let r = sqlx::query(
        "UPDATE units SET name = $1, kind = $2, area_id = $3, address = $4, phone = $5, note = $6, \
         active = $7, updated_at = $8, version = version + 1 WHERE id = $9 AND version = $10",
    )
    .bind(&u.name)
    .bind(u.kind)
    .bind(&u.area_id)
    .bind(&u.address)
    .bind(&u.phone)
    .bind(&u.note)
    .bind(u.active)
    .bind(u.updated_at)
    .bind(&u.id)
    .bind(expected_version)
    .execute(conn)
    .await?;
    Ok(r.rows_affected() == 1)
}

#[derive(Debug, Clone, sqlx::FromRow, Serialize, utoipa::ToSchema)]
pub struct ContactLevel {
    pub id: String,
    pub seq: i64,
    pub name: String,
}

pub async fn contact_levels(db: &Db) -> Result<Vec<ContactLevel>, sqlx::Error> {
    sqlx::query_as::<_, ContactLevel>("SELECT id, seq, name FROM contact_levels ORDER BY seq, name")
        .fetch_all(&db.pool)
        .await
}

pub async fn insert_level(conn: &mut AnyConnection, l: &ContactLevel, now: i64) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO contact_levels (id, seq, name, created_at, updated_at) VALUES ($1, $2, $3, $4, $4)")
        .bind(&l.id)
        .bind(l.seq)
        .bind(&l.name)
        .bind(now)
        .execute(conn)
        .await
        .map(|_| ())
}

pub async fn update_level(conn: &mut AnyConnection, l: &ContactLevel, now: i64) -> Result<bool, sqlx::Error> {
    let r = sqlx::query("UPDATE contact_levels SET seq = $1, name = $2, updated_at = $3 WHERE id = $4")
        .bind(l.seq)
        .bind(&l.name)
        .bind(now)
        .bind(&l.id)
        .execute(conn)
        .await?;
    Ok(r.rows_affected() == 1)
}

pub async fn delete_level(conn: &mut AnyConnection, id: &str) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM contact_levels WHERE id = $1").bind(id).execute(conn).await.map(|_| ())
}

#[derive(Debug, Clone, sqlx::FromRow, Serialize, utoipa::ToSchema)]
pub struct Contact {
    pub id: String,
    pub unit_id: String,
    pub level_id: String,
    pub level_name: String,
    pub level_seq: i64,
    pub name: String,
    pub position: String,
    pub phone: String,
    pub note: String,
    pub updated_at: i64,
    pub version: i64,
}

const CONTACT_SELECT: &str = "SELECT c.id, c.unit_id, c.level_id, l.name AS level_name, l.seq AS level_seq, \
     c.name, c.position, c.phone, c.note, c.updated_at, c.version \
     FROM unit_contacts c JOIN contact_levels l ON l.id = c.level_id";

pub async fn contacts(db: &Db, unit_id: &str) -> Result<Vec<Contact>, sqlx::Error> {
    sqlx::query_as::<_, Contact>(&format!("{CONTACT_SELECT} WHERE c.unit_id = $1 ORDER BY l.seq, c.name"))
        .bind(unit_id)
        .fetch_all(&db.pool)
        .await
}

pub async fn contact(db: &Db, id: &str) -> Result<Option<Contact>, sqlx::Error> {
    sqlx::query_as::<_, Contact>(&format!("{CONTACT_SELECT} WHERE c.id = $1")).bind(id).fetch_optional(&db.pool).await
}

pub async fn insert_contact(conn: &mut AnyConnection, c: &Contact, now: i64) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO unit_contacts (id, unit_id, level_id, name, position, phone, note, created_at, updated_at, version) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8, 1)",
    )
    .bind(&c.id)
    .bind(&c.unit_id)
    .bind(&c.level_id)
    .bind(&c.name)
    .bind(&c.position)
    .bind(&c.phone)
    .bind(&c.note)
    .bind(now)
    .execute(conn)
    .await
    .map(|_| ())
}

pub async fn update_contact(
    conn: &mut AnyConnection,
    c: &Contact,
    expected_version: i64,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let r = sqlx::query(
        "UPDATE unit_contacts SET level_id = $1, name = $2, position = $3, phone = $4, note = $5, \
         updated_at = $6, version = version + 1 WHERE id = $7 AND version = $8",
    )
    .bind(&c.level_id)
    .bind(&c.name)
    .bind(&c.position)
    .bind(&c.phone)
    .bind(&c.note)
    .bind(now)
    .bind(&c.id)
    .bind(expected_version)
    .execute(conn)
    .await?;
    Ok(r.rows_affected() == 1)
}

pub async fn delete_contact(conn: &mut AnyConnection, id: &str) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM unit_contacts WHERE id = $1").bind(id).execute(conn).await.map(|_| ())
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
