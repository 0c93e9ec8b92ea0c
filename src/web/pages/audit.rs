//! The audit log, read-only: filter, page, export. There is no route that changes it.

use super::opt;
use crate::domain::time::{DAY_MS, fmt_local, parse_local_day_start};
use crate::error::AppError;
use crate::store::PageReq;
use crate::store::audit::{self, AuditEntry, AuditFilter};
use crate::web::auth::PageUser;
use crate::web::error::PageResult;
use crate::web::ui::{Layout, Opt, Pager, xlsx};
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Query, RawQuery};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::Value;

pub const OBJECT_TYPES: [(&str, &str); 7] = [
    ("org_node", "区域"),
    ("unit", "责任单位"),
    ("unit_contact", "单位联系人"),
    ("contact_level", "联系人层级"),
    ("team", "督导组"),
    ("user", "用户"),
    ("session", "登录"),
];

pub const ACTIONS: [(&str, &str); 6] = [
    ("create", "新增"),
    ("update", "修改"),
    ("delete", "删除"),
    ("password", "修改密码"),
    ("login", "登录"),
    ("logout", "退出"),
];

fn label(table: &[(&'static str, &'static str)], key: &str) -> String {
    table.iter().find(|(k, _)| *k == key).map(|(_, v)| v.to_string()).unwrap_or_else(|| key.to_string())
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
        other => other,
    }
}

fn show(v: Option<&Value>) -> String {
    match v {
        None | Some(Value::Null) => "（空）".into(),
        Some(Value::String(s)) if s.is_empty() => "（空）".into(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    }
}

/// The fields that changed between two snapshots, as (field, before, after).
pub fn diff(before: Option<&str>, after: Option<&str>) -> Vec<(String, String, String)> {
    let parse = |s: Option<&str>| s.and_then(|s| serde_json::from_str::<Value>(s).ok()).unwrap_or(Value::Null);
    let (b, a) = (parse(before), parse(after));
    let mut keys: Vec<&String> = b.as_object().into_iter().chain(a.as_object()).flat_map(|o| o.keys()).collect();
    keys.sort();
    keys.dedup();
    const HIDDEN: [&str; 5] = ["id", "created_at", "updated_at", "version", "level_seq"];
    keys.into_iter()
        .filter(|k| !HIDDEN.contains(&k.as_str()))
        .map(|k| (field_label(k).to_string(), show(b.get(k.as_str())), show(a.get(k.as_str()))))
        .filter(|(_, before, after)| before != after)
        .collect()
}

pub struct Row {
    pub at: String,
    pub actor: String,
    pub action: String,
    pub object_type: String,
    pub object_label: String,
    pub object_id: String,
    pub changes: Vec<(String, String, String)>,
    pub request_id: String,
}

fn to_row(e: AuditEntry) -> Row {
    Row {
        at: fmt_local(e.at),
        actor: e.actor_name,
        action: label(&ACTIONS, &e.action),
        object_type: label(&OBJECT_TYPES, &e.object_type),
        object_label: e.object_label,
        object_id: e.object_id,
        changes: diff(e.before_json.as_deref(), e.after_json.as_deref()),
        request_id: e.request_id,
    }
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
        let data = rows
            .into_iter()
            .map(to_row)
            .map(|r| {
                let changes =
                    r.changes.iter().map(|(f, b, a)| format!("{f}: {b} → {a}")).collect::<Vec<_>>().join("；");
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
        rows: rows.into_iter().map(to_row).collect(),
        pager: Pager::new(raw.as_deref(), req, total),
        actor: filter.actor.unwrap_or_default(),
        object_type: filter.object_type.unwrap_or_default(),
        object_id: filter.object_id.unwrap_or_default(),
        action: filter.action.unwrap_or_default(),
        from: q.from.unwrap_or_default(),
        to: q.to.unwrap_or_default(),
        types: OBJECT_TYPES.iter().map(|(k, v)| Opt::new(*k, *v)).collect(),
        actions: ACTIONS.iter().map(|(k, v)| Opt::new(*k, *v)).collect(),
    }
    .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diff_lists_only_changed_fields_in_chinese() {
        let before = r#"{"id":"1","name":"运河区","code":"130903","version":1,"updated_at":5}"#;
        let after = r#"{"id":"1","name":"运河区（新）","code":"130903","version":2,"updated_at":9}"#;
        assert_eq!(
            diff(Some(before), Some(after)),
            vec![("名称".to_string(), "运河区".to_string(), "运河区（新）".to_string())]
        );
    }

    #[test]
    fn diff_of_a_creation_lists_the_fields_it_set() {
        let after = r#"{"id":"1","name":"A","phone":""}"#;
        let d = diff(None, Some(after));
        assert_eq!(d, vec![("名称".to_string(), "（空）".to_string(), "A".to_string())]);
    }
}
