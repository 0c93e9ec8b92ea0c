//! The append-only audit log. There is no update or delete function here on purpose, and the
//! migrations add triggers that refuse both at the database.

use super::batch::Batch;
use super::{Db, PageReq, Where, bind_args_as};
use crate::domain::audit::{AuditAction, ObjectType};
use crate::domain::ids::new_id;
use serde::Serialize;
use sqlx::AnyConnection;
use sqlx::Arguments;

#[derive(Debug, Clone, sqlx::FromRow, Serialize, utoipa::ToSchema)]
pub struct AuditEntry {
    pub id: String,
    pub at: i64,
    pub actor_id: Option<String>,
    pub actor_name: String,
    pub action: AuditAction,
    pub object_type: ObjectType,
    pub object_id: String,
    pub object_label: String,
    pub before_json: Option<String>,
    pub after_json: Option<String>,
    pub request_id: String,
}

/// What a change did, as the caller describes it; `record` adds the id and time.
pub struct Change<'a> {
    pub action: AuditAction,
    pub object_type: ObjectType,
    pub object_id: &'a str,
    pub object_label: &'a str,
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
}

pub struct Actor<'a> {
    pub id: Option<&'a str>,
    pub name: &'a str,
    pub request_id: &'a str,
}

pub async fn record(conn: &mut AnyConnection, actor: &Actor<'_>, c: Change<'_>, now: i64) -> Result<(), sqlx::Error> {
    let mut b = Batch::default();
    stage(&mut b, actor, c, now);
    b.run(conn).await
}

/// The same entry, added to a batch of statements sent together.
pub fn stage(b: &mut Batch<'_>, actor: &Actor<'_>, c: Change<'_>, now: i64) {
    let (actor_id, actor_name, request_id) =
        (actor.id.map(str::to_string), actor.name.to_string(), actor.request_id.to_string());
    let (object_id, object_label) = (c.object_id.to_string(), c.object_label.to_string());
    let (before, after) = (c.before.map(|v| v.to_string()), c.after.map(|v| v.to_string()));
    let (action, object_type) = (c.action, c.object_type);
    b.push(
        "INSERT INTO audit_log (id, at, actor_id, actor_name, action, object_type, object_id, object_label, \
         before_json, after_json, request_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        move |a| {
            a.add(new_id())?;
            a.add(now)?;
            a.add(actor_id)?;
            a.add(actor_name)?;
            a.add(action)?;
            a.add(object_type)?;
            a.add(object_id)?;
            a.add(object_label)?;
            a.add(before)?;
            a.add(after)?;
            a.add(request_id)?;
            Ok(())
        },
    );
}

#[derive(Debug, Default, Clone)]
pub struct AuditFilter {
    pub actor: Option<String>,
    pub object_type: Option<ObjectType>,
    pub object_id: Option<String>,
    pub action: Option<AuditAction>,
    pub from_ms: Option<i64>,
    pub to_ms: Option<i64>,
}

pub async fn list(db: &Db, f: &AuditFilter, page: PageReq) -> Result<(Vec<AuditEntry>, i64), sqlx::Error> {
    let mut w = Where::default();
    w.contains(db, &["actor_name"], f.actor.as_deref());
    w.eq("object_type", f.object_type.map(ObjectType::as_str));
    w.eq("object_id", f.object_id.as_deref());
    w.eq("action", f.action.map(AuditAction::as_str));
    w.range("at", f.from_ms, f.to_ms);
    let total = super::count(db, "audit_log", &w).await?;
    let sql = format!(
        "SELECT id, at, actor_id, actor_name, action, object_type, object_id, object_label, before_json, \
         after_json, request_id FROM audit_log{} ORDER BY at DESC, id DESC{}",
        w.sql(),
        page.limit_offset()
    );
    let rows = bind_args_as(sqlx::query_as::<_, AuditEntry>(&sql), &w.args).fetch_all(&db.pool).await?;
    Ok((rows, total))
}

/// Display names of org nodes, units, users and contact levels by id, for showing snapshots.
pub async fn names_of(db: &Db, ids: &[String]) -> Result<std::collections::HashMap<String, String>, sqlx::Error> {
    if ids.is_empty() {
        return Ok(Default::default());
    }
    let mut w = Where::default();
    let list = ids.iter().map(|i| w.text(i.clone())).collect::<Vec<_>>().join(",");
    let sql = format!(
        "SELECT id, name FROM org_nodes WHERE id IN ({list}) UNION ALL SELECT id, name FROM units WHERE id IN ({list}) \
         UNION ALL SELECT id, display_name FROM users WHERE id IN ({list}) \
         UNION ALL SELECT id, name FROM points WHERE id IN ({list}) UNION ALL SELECT id, name FROM point_types WHERE id IN ({list}) \
         UNION ALL SELECT id, item FROM standard_items WHERE id IN ({list}) \
         UNION ALL SELECT id, number || ' ' || service FROM windows WHERE id IN ({list}) \
         UNION ALL SELECT id, name FROM window_staff WHERE id IN ({list}) \
         UNION ALL SELECT id, code FROM problems WHERE id IN ({list}) \
         UNION ALL SELECT id, title FROM tasks WHERE id IN ({list}) \
         UNION ALL SELECT id, name FROM eval_systems WHERE id IN ({list}) \
         UNION ALL SELECT id, name FROM eval_rounds WHERE id IN ({list}) \
         UNION ALL SELECT id, name FROM volunteer_teams WHERE id IN ({list}) \
         UNION ALL SELECT id, name FROM lei_feng_stations WHERE id IN ({list}) \
         UNION ALL SELECT id, held_on || ' ' || topic FROM meetings WHERE id IN ({list}) \
         UNION ALL SELECT code, name FROM point_types WHERE code IN ({list})"
    );
    let rows = bind_args_as(sqlx::query_as::<_, (String, String)>(&sql), &w.args).fetch_all(&db.pool).await?;
    Ok(rows.into_iter().collect())
}
