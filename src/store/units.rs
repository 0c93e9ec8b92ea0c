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
    /// Units registered in these areas or answering for an active point in them (what a grid
    /// or street worker's area holds)
    pub serving_area_ids: Option<Vec<String>>,
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

/// A unit as every instance keeps it in memory.
#[derive(Debug, Clone)]
pub struct IndexedUnit {
    pub id: String,
    pub name: String,
    pub kind: UnitKind,
    pub area_id: Option<String>,
}

/// Every unit's name, kind and area, as an instance keeps them (see [`index`]).
#[derive(Debug, Default)]
pub struct UnitIndex {
    /// The units' revision it was read at
    pub revision: i64,
    /// Ordered by name, then id
    pub by_name: Vec<IndexedUnit>,
    /// Position in `by_name`, by id
    pub at: std::collections::HashMap<String, usize>,
}

impl UnitIndex {
    pub fn name(&self, id: &str) -> Option<&str> {
        self.at.get(id).map(|&i| self.by_name[i].name.as_str())
    }
}

/// Every unit's name, kind and area. Kept per database and read again only when the units'
/// revision (moved by a trigger on every change, by any instance) has moved: a weekly notice
/// needs the 10,000 names twice and a ranking once, 7 to 12 ms each on PostgreSQL.
pub async fn index(db: &Db) -> Result<std::sync::Arc<UnitIndex>, sqlx::Error> {
    let now: i64 = sqlx::query_scalar("SELECT n FROM revisions WHERE name = 'units'").fetch_one(&db.pool).await?;
    if let Some(kept) = db.unit_index.lock().expect("unit index").as_ref()
        && kept.revision == now
    {
        return Ok(kept.clone());
    }
    // The revision and the units from one statement, so that they agree.
    let (agg, row, cast) = super::json_aggregate(db);
    let sql = format!(
        "SELECT (SELECT n FROM revisions WHERE name = 'units'), \
         (SELECT {agg}({row}(id, name, kind, area_id)){cast} FROM units)"
    );
    let (revision, text): (i64, Option<String>) = sqlx::query_as(&sql).fetch_one(&db.pool).await?;
    let mut by_name: Vec<IndexedUnit> = super::from_json::<(String, String, String, Option<String>)>(text)?
        .into_iter()
        .map(|(id, name, kind, area_id)| {
            let kind = UnitKind::parse(&kind)
                .ok_or_else(|| sqlx::Error::Decode(format!("unit {id}: unknown kind {kind}").into()))?;
            Ok(IndexedUnit { id, name, kind, area_id })
        })
        .collect::<Result<_, sqlx::Error>>()?;
    // Names compare by their characters (code points), on either database.
    by_name.sort_by(|a, b| a.name.cmp(&b.name).then_with(|| a.id.cmp(&b.id)));
    let at = by_name.iter().enumerate().map(|(i, u)| (u.id.clone(), i)).collect();
    let index = std::sync::Arc::new(UnitIndex { revision, by_name, at });
    let mut kept = db.unit_index.lock().expect("unit index");
    // A read that raced with a newer one does not replace it.
    if kept.as_ref().is_none_or(|was| was.revision <= revision) {
        *kept = Some(index.clone());
    }
    Ok(index)
}

/// The names of these units, by id.
pub async fn names_of(db: &Db, ids: &[String]) -> Result<std::collections::HashMap<String, String>, sqlx::Error> {
    if ids.is_empty() {
        return Ok(Default::default());
    }
    let units = index(db).await?;
    Ok(ids.iter().filter_map(|id| Some((id.clone(), units.name(id)?.to_string()))).collect())
}

/// Every unit as (id, name), ordered by name.
pub async fn all_names(db: &Db) -> Result<Vec<(String, String)>, sqlx::Error> {
    Ok(index(db).await?.by_name.iter().map(|u| (u.id.clone(), u.name.clone())).collect())
}

fn filter_sql(db: &Db, f: &UnitFilter) -> Where {
    let mut w = Where::default();
    w.eq("u.kind", f.kind.map(UnitKind::as_str));
    w.within("u.area_id", f.area_ids.as_deref());
    if let Some(ids) = &f.serving_area_ids {
        if ids.is_empty() {
            w.and("1 = 0".into());
        } else {
            let here: Vec<String> = ids.iter().map(|v| w.text(v)).collect();
            let points: Vec<String> = ids.iter().map(|v| w.text(v)).collect();
            w.and(format!(
                "(u.area_id IN ({}) OR EXISTS (SELECT 1 FROM points p WHERE p.unit_id = u.id AND p.active = 1 \
                 AND p.community_id IN ({})))",
                here.join(","),
                points.join(",")
            ));
        }
    }
    w.contains(db, &["u.name", "u.address"], f.keyword.as_deref());
    w.flag("u.active", f.active);
    w.eq("u.id", f.only_id.as_deref());
    w
}

/// How many units a filter admits.
pub async fn count(db: &Db, f: &UnitFilter) -> Result<i64, sqlx::Error> {
    super::count(db, "units u", &filter_sql(db, f)).await
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
