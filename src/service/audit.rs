//! Reading the audit log: its entries with what changed in each, in Chinese, ids shown by name.

use super::Ctx;
use crate::domain::org::OrgLevel;
use crate::domain::role::{Role, SessionKind};
use crate::domain::unit::UnitKind;
use crate::error::{AppError, AppResult};
use crate::store::PageReq;
use crate::store::audit::{self, AuditEntry, AuditFilter};
use serde::Serialize;
use serde_json::Value;
use std::collections::HashMap;
use utoipa::ToSchema;

/// An entry of the log with its changes spelled out.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditLine {
    #[serde(flatten)]
    pub entry: AuditEntry,
    /// The fields that changed, in Chinese
    pub changes: Vec<FieldChange>,
}

/// The entries matching a filter, newest first (the office and the discipline office only).
pub async fn lines(ctx: &Ctx<'_>, f: &AuditFilter, page: PageReq) -> AppResult<(Vec<AuditLine>, i64)> {
    if !ctx.user.role.reads_audit() {
        return Err(AppError::Forbidden);
    }
    let (entries, total) = audit::list(ctx.db, f, page).await?;
    let names = audit::names_of(ctx.db, &referenced_ids(&entries)).await?;
    let lines = entries
        .into_iter()
        .map(|e| AuditLine { changes: diff(e.before_json.as_deref(), e.after_json.as_deref(), &names), entry: e })
        .collect();
    Ok((lines, total))
}

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
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
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
            "kind" => UnitKind::parse(s)
                .map(UnitKind::label)
                .or_else(|| SessionKind::parse(s).map(SessionKind::label))
                .unwrap_or(s)
                .to_string(),
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
pub fn describe(c: &FieldChange) -> String {
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
