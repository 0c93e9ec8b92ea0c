use crate::both;
use crate::helpers::*;
use reqwest::StatusCode;
use serde_json::json;

async fn entries_for(
    app: &TestApp,
    object_id: &str,
) -> Vec<(String, String, Option<String>, Option<String>, Option<String>)> {
    sqlx::query_as::<_, (String, String, Option<String>, Option<String>, Option<String>)>(
        "SELECT action, actor_name, actor_id, before_json, after_json FROM audit_log WHERE object_id = $1 ORDER BY at, id",
    )
    .bind(object_id)
    .fetch_all(&app.db.pool)
    .await
    .unwrap()
}

both!(every_change_is_audited_with_actor_time_and_before_after, |app: TestApp| async move {
    let admin = app.api_login("admin").await;
    let admin_id = app.id_of("SELECT id FROM users WHERE username = 'admin'").await;
    let street = app.id_of("SELECT id FROM org_nodes WHERE name = '公园街道'").await;
    let t0 = chuangcheng::domain::time::now_ms();

    // Area: create, rename, delete.
    let (s, node) = admin
        .post(
            "/api/v1/org/nodes",
            json!({"level": "community", "parent_id": street, "code": "130903005015", "name": "新建社区"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{node}");
    let nid = node["id"].as_str().unwrap().to_string();
    let (s, _) = admin
        .put(
            &format!("/api/v1/org/nodes/{nid}"),
            json!({"code": "130903005015", "name": "新建社区（更名）", "version": node["version"]}),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(admin.delete(&format!("/api/v1/org/nodes/{nid}")).await.0, StatusCode::NO_CONTENT);
    let e = entries_for(&app, &nid).await;
    assert_eq!(e.iter().map(|x| x.0.as_str()).collect::<Vec<_>>(), ["create", "update", "delete"]);
    assert!(e.iter().all(|x| x.1 == "文明办管理员" && x.2.as_deref() == Some(admin_id.as_str())));
    assert!(e[0].3.is_none() && e[0].4.as_deref().unwrap().contains("新建社区"));
    assert!(
        e[1].3.as_deref().unwrap().contains("\"新建社区\"") && e[1].4.as_deref().unwrap().contains("新建社区（更名）")
    );
    assert!(e[2].3.is_some() && e[2].4.is_none());
    let at: i64 = sqlx::query_scalar("SELECT MIN(at) FROM audit_log WHERE object_id = $1")
        .bind(&nid)
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
    assert!(at >= t0 && at <= chuangcheng::domain::time::now_ms());

    // Unit, contact, team, user, contact level: each change leaves its entry.
    let unit = admin.created("/api/v1/units", json!({"name": "运河区应急管理局", "kind": "government"})).await;
    let uid = unit["id"].as_str().unwrap().to_string();
    let (_, c) = admin
        .post(
            &format!("/api/v1/units/{uid}/contacts"),
            json!({"level_id": "00000000-0000-7000-8000-000000000001", "name": "郑局长", "phone": "13700000001"}),
        )
        .await;
    let cid = c["id"].as_str().unwrap().to_string();
    assert_eq!(admin.delete(&format!("/api/v1/contacts/{cid}")).await.0, StatusCode::NO_CONTENT);
    let user = admin.created("/api/v1/users", json!({"username": "yingji", "display_name": "应急联络员", "role": "unit_user", "unit_id": uid, "password": "Hotline-2026"})).await;
    let user_id = user["id"].as_str().unwrap().to_string();
    let sup = app.id_of("SELECT id FROM users WHERE username = 'duban02'").await;
    let (_, team) =
        admin.post("/api/v1/teams", json!({"name": "第五督导组", "member_ids": [sup], "leader_id": sup})).await;
    let tid = team["id"].as_str().unwrap().to_string();
    let level = admin.created("/api/v1/contact-levels", json!({"name": "网格联络人", "seq": 6})).await;
    let lid = level["id"].as_str().unwrap().to_string();
    for (id, actions) in [
        (&uid, vec!["create"]),
        (&cid, vec!["create", "delete"]),
        (&user_id, vec!["create"]),
        (&tid, vec!["create"]),
        (&lid, vec!["create"]),
    ] {
        let got: Vec<String> = entries_for(&app, id).await.into_iter().map(|x| x.0).collect();
        assert_eq!(got, actions, "audit of {id}");
    }
    // The user snapshot never carries the password hash.
    let e = entries_for(&app, &user_id).await;
    assert!(!e[0].4.as_deref().unwrap().contains("argon2"));

    // A refused change leaves no entry.
    let total = app.scalar("SELECT COUNT(*) FROM audit_log").await;
    let (s, _) = admin.post("/api/v1/units", json!({"name": "", "kind": "government"})).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(app.scalar("SELECT COUNT(*) FROM audit_log").await, total);
});

both!(the_audit_log_cannot_be_altered_through_any_route, |app: TestApp| async move {
    let admin = app.api_login("admin").await;
    let b = app.login("admin").await;
    let (status, page) = admin.get("/api/v1/audit?size=1").await;
    assert_eq!(status, StatusCode::OK);
    let entry = page["items"][0].clone();
    let id = entry["id"].as_str().unwrap().to_string();
    let total = app.scalar("SELECT COUNT(*) FROM audit_log").await;
    // No write method exists on the audit routes, for the API or the pages.
    for path in ["/api/v1/audit".to_string(), format!("/api/v1/audit/{id}")] {
        assert!(
            matches!(
                admin.put(&path, json!({"actor_name": "x"})).await.0,
                StatusCode::METHOD_NOT_ALLOWED | StatusCode::NOT_FOUND
            ),
            "{path}"
        );
        assert!(
            matches!(admin.delete(&path).await.0, StatusCode::METHOD_NOT_ALLOWED | StatusCode::NOT_FOUND),
            "{path}"
        );
        assert!(
            matches!(admin.post(&path, json!({})).await.0, StatusCode::METHOD_NOT_ALLOWED | StatusCode::NOT_FOUND),
            "{path}"
        );
    }
    for path in
        ["/audit".to_string(), format!("/audit/{id}"), format!("/audit/{id}/delete"), format!("/audit/{id}/edit")]
    {
        let (status, _, _) = b.post(&path, &[("actor_name", "x")]).await;
        assert!(matches!(status, StatusCode::METHOD_NOT_ALLOWED | StatusCode::NOT_FOUND), "{path}: {status}");
    }
    let (status, page2) = admin.get("/api/v1/audit?size=1").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(page2["items"][0], entry, "entry unchanged");
    // Even SQL against the database is refused by the append-only triggers.
    assert!(sqlx::query("UPDATE audit_log SET actor_name = 'x'").execute(&app.db.pool).await.is_err());
    assert!(sqlx::query("DELETE FROM audit_log").execute(&app.db.pool).await.is_err());
    assert_eq!(app.scalar("SELECT COUNT(*) FROM audit_log WHERE actor_name = 'x'").await, 0);
    assert!(app.scalar("SELECT COUNT(*) FROM audit_log").await >= total);
});

both!(the_audit_page_filters_and_shows_changes_in_chinese, |app: TestApp| async move {
    let b = app.login("admin").await;
    let unit = app.id_of("SELECT id FROM units WHERE name = '运河区教育局'").await;
    let (status, html) = b.get(&format!("/units/{unit}/edit")).await;
    assert_eq!(status, StatusCode::OK);
    let version = html.split("name=\"version\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_string();
    let (status, _, _) = b
        .post(
            &format!("/units/{unit}/edit"),
            &[("name", "运河区教育体育局"), ("kind", "government"), ("active", "1"), ("version", &version)],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (status, html) = b.get(&format!("/audit?object_id={unit}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains("修改")
            && html.contains("运河区教育局")
            && html.contains("运河区教育体育局")
            && html.contains("名称")
    );
    // The filter names the object, not its internal id.
    assert!(html.contains("仅显示责任单位“运河区教育体育局”的记录"), "the object by its name");
    assert!(!html.contains(&format!("仅显示对象 {unit}")));
    let (_, html) = b.get("/audit?object_type=unit&action=update&actor=文明办").await;
    assert!(html.contains("运河区教育体育局"));
    let (_, html) = b.get("/audit?object_type=team&action=update").await;
    assert!(html.contains("没有符合条件的记录"));
    let (_, html) = b.get("/audit?from=2000-01-01&to=2000-01-02").await;
    assert!(html.contains("没有符合条件的记录"), "a date range with nothing in it");
});
