//! The audit log, read-only: filter, page, export. There is no route that changes it.

use super::opt;
use crate::domain::audit::{AuditAction, ObjectType};
use crate::domain::org::OrgLevel;
use crate::domain::role::Role;
use crate::domain::time::{DAY_MS, fmt_local, parse_local_day_start};
use crate::domain::unit::UnitKind;
use crate::error::AppError;
use crate::store::PageReq;
use crate::store::audit::{self, AuditEntry, AuditFilter};
use crate::web::auth::PageUser;
use crate::web::error::PageResult;
use crate::web::query::Query;
use crate::web::ui::{Layout, Opt, Pager, xlsx};
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::RawQuery;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::Value;
use std::collections::HashMap;

/// Chinese names of the fields that appear in before/after snapshots.
fn field_label(key: &str) -> &str {
    match key {
        "name" => "名称",
        "code" => "编码",
        "level" => "层级",
        "parent_id" => "上级",
        "kind" => "类型",
        "area_id" => "区域",
        "address" => "地址",
        "phone" => "电话",
        "note" => "备注",
        "active" => "启用",
        "display_name" => "姓名",
        "username" => "用户名",
        "role" => "角色",
        "unit_id" => "单位",
        "level_id" | "level_name" => "联系人层级",
        "position" => "职务",
        "theme" => "督导主题",
        "leader_id" => "组长",
        "member_ids" => "成员",
        "seq" => "排序",
        "ip" => "IP地址",
        "days" => "日期",
        "source" => "来源",
        "value" => "设置值",
        other => other,
    }
}

/// Fields whose values are ids of other records, shown by name.
const ID_FIELDS: [&str; 5] = ["parent_id", "area_id", "unit_id", "leader_id", "member_ids"];
/// Bookkeeping fields that say nothing to a reader.
const HIDDEN: [&str; 6] = ["id", "created_at", "updated_at", "version", "level_seq", "level_id"];

/// One changed field: the value before (None for a creation) and after (None for a deletion).
pub struct FieldChange {
    pub label: String,
    pub before: Option<String>,
    pub after: Option<String>,
}

fn render(key: &str, v: &Value, names: &HashMap<String, String>) -> Option<String> {
    let name = |id: &str| names.get(id).cloned().unwrap_or_else(|| id.to_string());
    let text = match v {
        Value::Null => return None,
        Value::String(s) if s.is_empty() => return None,
        Value::Array(items) => items.iter().filter_map(Value::as_str).map(name).collect::<Vec<_>>().join("、"),
        Value::String(s) if ID_FIELDS.contains(&key) => name(s),
        Value::String(s) => match key {
            "kind" => match (UnitKind::parse(s), s.as_str()) {
                (Some(k), _) => k.label().to_string(),
                (None, "web") => "网页登录".to_string(),
                (None, "api") => "接口令牌".to_string(),
                _ => s.clone(),
            },
            "role" => Role::parse(s).map(|r| r.label().to_string()).unwrap_or_else(|| s.clone()),
            "level" => OrgLevel::parse(s).map(|l| l.label().to_string()).unwrap_or_else(|| s.clone()),
            _ => s.clone(),
        },
        Value::Number(n) if key == "active" => if n.as_i64() == Some(1) { "启用" } else { "停用" }.to_string(),
        other => other.to_string(),
    };
    Some(text)
}

fn parse(s: Option<&str>) -> Option<Value> {
    s.and_then(|s| serde_json::from_str::<Value>(s).ok()).filter(Value::is_object)
}

/// The fields that changed between two snapshots, in Chinese, with ids shown as names.
pub fn diff(before: Option<&str>, after: Option<&str>, names: &HashMap<String, String>) -> Vec<FieldChange> {
    let (b, a) = (parse(before), parse(after));
    let is_update = b.is_some() && a.is_some();
    let mut keys: Vec<&String> = b.iter().chain(a.iter()).filter_map(Value::as_object).flat_map(|o| o.keys()).collect();
    keys.sort();
    keys.dedup();
    let value = |snap: &Option<Value>, k: &str| -> Option<String> {
        let v = snap.as_ref()?.get(k)?;
        render(k, v, names).or_else(|| is_update.then(|| "（空）".to_string()))
    };
    keys.into_iter()
        .filter(|k| !HIDDEN.contains(&k.as_str()))
        .map(|k| FieldChange { label: field_label(k).to_string(), before: value(&b, k), after: value(&a, k) })
        .filter(|c| c.before != c.after)
        .collect()
}

/// One change as plain text, for the Excel export.
fn describe(c: &FieldChange) -> String {
    match (&c.before, &c.after) {
        (Some(b), Some(a)) => format!("{}：{b} → {a}", c.label),
        (None, Some(a)) => format!("{}：{a}", c.label),
        (Some(b), None) => format!("{}：{b}（已删除）", c.label),
        (None, None) => c.label.clone(),
    }
}

/// Every id that the snapshots on this page refer to, so they can be shown by name.
fn referenced_ids(entries: &[AuditEntry]) -> Vec<String> {
    let mut ids = Vec::new();
    for e in entries {
        for snap in [&e.before_json, &e.after_json] {
            let Some(obj) = parse(snap.as_deref()) else { continue };
            for key in ID_FIELDS {
                match obj.get(key) {
                    Some(Value::String(s)) => ids.push(s.clone()),
                    Some(Value::Array(items)) => ids.extend(items.iter().filter_map(Value::as_str).map(str::to_string)),
                    _ => {}
                }
            }
        }
    }
    ids.sort();
    ids.dedup();
    ids
}

pub struct Row {
    pub at: String,
    pub actor: String,
    pub action: String,
    pub object_type: String,
    pub object_label: String,
    pub object_id: String,
    pub changes: Vec<FieldChange>,
    pub request_id: String,
}

async fn to_rows(db: &crate::store::Db, entries: Vec<AuditEntry>) -> Result<Vec<Row>, sqlx::Error> {
    let names = audit::names_of(db, &referenced_ids(&entries)).await?;
    Ok(entries
        .into_iter()
        .map(|e| Row {
            at: fmt_local(e.at),
            actor: e.actor_name,
            action: e.action.label().into(),
            object_type: e.object_type.label().into(),
            changes: diff(e.before_json.as_deref(), e.after_json.as_deref(), &names),
            object_label: e.object_label,
            object_id: e.object_id,
            request_id: e.request_id,
        })
        .collect())
}

#[derive(Deserialize, Default)]
pub struct AuditQuery {
    actor: Option<String>,
    object_type: Option<String>,
    object_id: Option<String>,
    action: Option<String>,
    from: Option<String>,
    to: Option<String>,
    page: Option<i64>,
    size: Option<i64>,
    export: Option<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "audit/list.html")]
pub struct AuditList {
    l: Layout,
    rows: Vec<Row>,
    pager: Pager,
    actor: String,
    object_type: String,
    object_id: String,
    action: String,
    from: String,
    to: String,
    types: Vec<Opt>,
    actions: Vec<Opt>,
}

pub async fn list(page: PageUser, RawQuery(raw): RawQuery, Query(q): Query<AuditQuery>) -> PageResult<Response> {
    if !page.user.role.reads_audit() {
        return Err(AppError::Forbidden.into());
    }
    let db = &page.state.db;
    let filter = AuditFilter {
        actor: opt(&q.actor),
        object_type: opt(&q.object_type),
        object_id: opt(&q.object_id),
        action: opt(&q.action),
        from_ms: q.from.as_deref().and_then(parse_local_day_start),
        // "to" is inclusive of the whole day.
        to_ms: q.to.as_deref().and_then(parse_local_day_start).map(|t| t + DAY_MS),
    };
    if q.export.as_deref() == Some("xlsx") {
        let (rows, _) = audit::list(db, &filter, PageReq::all()).await?;
        let data = to_rows(db, rows)
            .await?
            .into_iter()
            .map(|r| {
                let changes = r.changes.iter().map(describe).collect::<Vec<_>>().join("；");
                vec![r.at, r.actor, r.action, r.object_type, r.object_label, changes, r.request_id]
            })
            .collect();
        return Ok(xlsx(
            "审计日志",
            "审计日志",
            &["时间", "操作人", "动作", "对象类型", "对象", "变更内容", "请求ID"],
            data,
        ));
    }
    let req = PageReq::new(q.page, q.size);
    let (rows, total) = audit::list(db, &filter, req).await?;
    Ok(AuditList {
        l: Layout::new(&page.user, "audit", "审计日志"),
        rows: to_rows(db, rows).await?,
        pager: Pager::new(raw.as_deref(), req, total),
        actor: filter.actor.unwrap_or_default(),
        object_type: filter.object_type.unwrap_or_default(),
        object_id: filter.object_id.unwrap_or_default(),
        action: filter.action.unwrap_or_default(),
        from: q.from.unwrap_or_default(),
        to: q.to.unwrap_or_default(),
        types: ObjectType::ALL.iter().map(|t| Opt::new(t.as_str(), t.label())).collect(),
        actions: AuditAction::all().into_iter().map(|a| Opt::new(a.as_str(), a.label())).collect(),
    }
    .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names() -> HashMap<String, String> {
        HashMap::from([("a1".to_string(), "公园街道".to_string()), ("u1".to_string(), "王建国".to_string())])
    }

    #[test]
    fn an_update_lists_only_changed_fields_in_chinese() {
        let before = r#"{"id":"1","name":"运河区","code":"130903","area_id":null,"version":1,"updated_at":5}"#;
        let after = r#"{"id":"1","name":"运河区（新）","code":"130903","area_id":"a1","version":2,"updated_at":9}"#;
        let d = diff(Some(before), Some(after), &names());
        let shown: Vec<(String, Option<String>, Option<String>)> =
            d.into_iter().map(|c| (c.label, c.before, c.after)).collect();
        assert_eq!(
            shown,
            vec![
                ("区域".to_string(), Some("（空）".to_string()), Some("公园街道".to_string())),
                ("名称".to_string(), Some("运河区".to_string()), Some("运河区（新）".to_string())),
            ]
        );
    }

    #[test]
    fn a_creation_lists_what_it_set_with_enums_and_ids_translated() {
        let after = r#"{"id":"1","name":"A","phone":"","kind":"bank_branch","active":1,"member_ids":["u1","zz"]}"#;
        let d = diff(None, Some(after), &names());
        let shown: Vec<(String, Option<String>)> = d.into_iter().map(|c| (c.label, c.after)).collect();
        assert_eq!(
            shown,
            vec![
                ("启用".to_string(), Some("启用".to_string())),
                ("类型".to_string(), Some("银行网点".to_string())),
                ("成员".to_string(), Some("王建国、zz".to_string())),
                ("名称".to_string(), Some("A".to_string())),
            ]
        );
    }

    #[test]
    fn a_deletion_lists_what_was_there() {
        let d = diff(Some(r#"{"name":"旧社区"}"#), None, &names());
        assert_eq!(d.len(), 1);
        assert_eq!((d[0].before.as_deref(), d[0].after.as_deref()), (Some("旧社区"), None));
    }
}
