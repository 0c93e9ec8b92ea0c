use crate::both;
use crate::helpers::*;
use reqwest::StatusCode;
use serde_json::json;

both!(two_instances_share_sessions_and_do_not_lose_updates, |app: TestApp| async move {
    let second = app.second_instance().await;
    let a = app.api_login("admin").await;
    let b = Api { client: reqwest::Client::new(), base: second.clone(), token: a.token.clone() };
    let (status, me) = b.get("/api/v1/me").await;
    assert_eq!(status, StatusCode::OK, "a token from one instance works on the other");
    assert_eq!(me["username"], "admin");

    let unit = app.id_of("SELECT id FROM units WHERE name = '运河区交通运输局'").await;
    let (_, u) = a.get(&format!("/api/v1/units/{unit}")).await;
    let version = u["version"].as_i64().unwrap();
    // Two editors saw the same version; both save at once on different instances.
    let put = |api: &Api, phone: &str| {
        let body = json!({"name": "运河区交通运输局", "kind": "government", "phone": phone, "version": version});
        let url = format!("{}/api/v1/units/{unit}", api.base);
        api.client.put(url).bearer_auth(&api.token).json(&body).send()
    };
    let (r1, r2) = tokio::join!(put(&a, "0317-2000001"), put(&b, "0317-2000002"));
    let mut statuses = vec![r1.unwrap().status(), r2.unwrap().status()];
    statuses.sort();
    assert_eq!(statuses, [StatusCode::OK, StatusCode::CONFLICT], "exactly one wins, the other is told");
    let (_, after) = a.get(&format!("/api/v1/units/{unit}")).await;
    assert_eq!(after["version"].as_i64().unwrap(), version + 1);
    let updates =
        app.scalar(&format!("SELECT COUNT(*) FROM audit_log WHERE object_id = '{unit}' AND action = 'update'")).await;
    assert_eq!(updates, 1, "only the winning change is audited");
    // The loser's message is clear.
    let (status, body) = b
        .put(
            &format!("/api/v1/units/{unit}"),
            json!({"name": "运河区交通运输局", "kind": "government", "version": version}),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(body["error"]["code"], "stale_version");
    assert_eq!(body["error"]["message"], "该记录已被他人修改，请刷新页面后重新编辑");
});

both!(a_stale_form_shows_a_chinese_conflict_message, |app: TestApp| async move {
    let first = app.login("admin").await;
    let second = app.login("admin").await;
    let unit = app.id_of("SELECT id FROM units WHERE name = '运河区卫生健康局'").await;
    let (status, _, _) = first
        .post(
            &format!("/units/{unit}/edit"),
            &[
                ("name", "运河区卫生健康局"),
                ("kind", "government"),
                ("phone", "0317-2111111"),
                ("active", "1"),
                ("version", "1"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (status, html, _) = second
        .post(
            &format!("/units/{unit}/edit"),
            &[("name", "运河区卫健局"), ("kind", "government"), ("active", "1"), ("version", "1")],
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("该记录已被他人修改"));
    assert_eq!(app.scalar("SELECT COUNT(*) FROM units WHERE name = '运河区卫健局'").await, 0);
});

both!(two_instances_generating_the_same_notice_make_one, |app: TestApp| async move {
    let second = app.second_instance().await;
    let a = app.api_login("admin").await;
    let b = Api { client: reqwest::Client::new(), base: second.clone(), token: a.token.clone() };
    let today = chuangcheng::domain::time::to_local(chuangcheng::domain::time::now_ms()).format("%Y-%m-%d").to_string();
    let generate = |api: &Api| {
        let body = json!({"kind": "weekly", "class": "unit", "date": today});
        api.client.post(format!("{}/api/v1/notices", api.base)).bearer_auth(&api.token).json(&body).send()
    };
    // A double click on each of two instances.
    let (r1, r2, r3, r4) = tokio::join!(generate(&a), generate(&b), generate(&a), generate(&b));
    let mut statuses: Vec<StatusCode> = [r1, r2, r3, r4].into_iter().map(|r| r.unwrap().status()).collect();
    statuses.sort();
    assert_eq!(statuses, [StatusCode::CREATED, StatusCode::CONFLICT, StatusCode::CONFLICT, StatusCode::CONFLICT]);
    assert_eq!(app.scalar("SELECT COUNT(*) FROM notices").await, 1);
    assert_eq!(app.scalar("SELECT COUNT(*) FROM audit_log WHERE object_type = 'notice'").await, 1);
});

/// One record of each kind people edit: where to read it, where to save it, and a valid body.
async fn editable_records(app: &TestApp, admin: &Api) -> Vec<(String, String, serde_json::Value)> {
    let unit = app.id_of("SELECT id FROM units WHERE name = '运河区交通运输局'").await;
    let (point, _) = crate::fixtures::road_point(app).await;
    let user = app.id_of("SELECT id FROM users WHERE username = 'supervisor'").await;
    let node = app.id_of("SELECT id FROM org_nodes WHERE level = 'street' ORDER BY code LIMIT 1").await;
    let contact = app.id_of(&format!("SELECT id FROM unit_contacts WHERE unit_id = '{unit}' LIMIT 1")).await;
    let level = app.id_of("SELECT id FROM contact_levels ORDER BY seq LIMIT 1").await;
    let kind = app.id_of("SELECT id FROM point_types ORDER BY seq LIMIT 1").await;
    let (_, p) = admin.get(&format!("/api/v1/points/{point}")).await;
    let (_, u) = admin.get(&format!("/api/v1/users/{user}")).await;
    let (_, n) = admin.get(&format!("/api/v1/org/nodes/{node}")).await;
    let (_, c) = admin.get(&format!("/api/v1/units/{unit}/contacts")).await;
    let c = c.as_array().unwrap().iter().find(|x| x["id"] == contact.as_str()).unwrap().clone();
    let (_, types) = admin.get("/api/v1/point-types").await;
    let t = types.as_array().unwrap().iter().find(|x| x["id"] == kind.as_str()).unwrap().clone();
    let (_, levels) = admin.get("/api/v1/contact-levels").await;
    let l = levels.as_array().unwrap().iter().find(|x| x["id"] == level.as_str()).unwrap().clone();
    vec![
        (
            format!("/api/v1/units/{unit}"),
            format!("/api/v1/units/{unit}"),
            json!({"name": "运河区交通运输局", "kind": "government", "phone": "0317-2000009"}),
        ),
        (
            format!("/api/v1/points/{point}"),
            format!("/api/v1/points/{point}"),
            json!({"name": p["name"], "type_id": p["type_name"], "unit_id": p["unit_id"], "lead_name": p["lead_name"], "lead_phone": p["lead_phone"], "lng": p["lng"].to_string(), "lat": p["lat"].to_string()}),
        ),
        (
            format!("/api/v1/users/{user}"),
            format!("/api/v1/users/{user}"),
            json!({"display_name": u["display_name"], "role": "supervisor", "phone": u["phone"]}),
        ),
        (
            format!("/api/v1/org/nodes/{node}"),
            format!("/api/v1/org/nodes/{node}"),
            json!({"name": n["name"], "code": n["code"]}),
        ),
        (
            String::new(),
            format!("/api/v1/contacts/{contact}"),
            json!({"level_id": c["level_id"], "name": c["name"], "phone": c["phone"], "version": c["version"]}),
        ),
        (
            String::new(),
            format!("/api/v1/point-types/{kind}"),
            json!({"name": t["name"], "seq": t["seq"], "color": t["color"], "version": t["version"]}),
        ),
        (
            String::new(),
            format!("/api/v1/contact-levels/{level}"),
            json!({"name": l["name"], "seq": l["seq"], "version": l["version"]}),
        ),
    ]
}

both!(every_update_requires_the_version_it_was_read_at, |app: TestApp| async move {
    let admin = app.api_login("admin").await;
    for (read, write, body) in editable_records(&app, &admin).await {
        // Records read one by one carry their version; list rows carry theirs inline.
        let version = if read.is_empty() { body["version"].as_i64().unwrap() } else { admin.version_of(&read).await };
        let mut without = body.clone();
        without.as_object_mut().unwrap().remove("version");
        let (status, e) = admin.put(&write, without).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{write} without a version: {e}");
        assert_eq!(field_codes(&e), [("version".to_string(), "version_required".to_string())], "{write}");
        let mut with = body.clone();
        with["version"] = version.into();
        let (status, saved) = admin.put(&write, with.clone()).await;
        assert_eq!(status, StatusCode::OK, "{write}: {saved}");
        assert_eq!(saved["version"].as_i64(), Some(version + 1), "{write} answers with its new version");
        let (status, e) = admin.put(&write, with).await;
        assert_eq!((status, e["error"]["code"].as_str()), (StatusCode::CONFLICT, Some("stale_version")), "{write}");
    }
    // A problem's action likewise names the version it was taken on.
    let sup = app.api_login("supervisor").await;
    let (point, item) = crate::fixtures::road_point(&app).await;
    let p = sup.file_ok(json!({"point_id": point, "standard_item_id": item, "description": "积存垃圾", "source": "supervision", "allow_duplicate": true})).await;
    let id = p["id"].as_str().unwrap();
    let lead = app.api_login("lead").await;
    let (status, e) = lead.post(&format!("/api/v1/problems/{id}/actions/acknowledge"), json!({})).await;
    assert_eq!(
        (status, field_codes(&e)),
        (StatusCode::UNPROCESSABLE_ENTITY, vec![("version".into(), "version_required".into())])
    );
    let v = p["version"].as_i64().unwrap();
    let (status, _) = lead
        .post(
            &format!("/api/v1/problems/{id}/actions/request_extension"),
            json!({"reason": "需采购", "days": 2, "version": v}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, e) = lead.post(&format!("/api/v1/problems/{id}/actions/acknowledge"), json!({"version": v})).await;
    assert_eq!((status, e["error"]["code"].as_str()), (StatusCode::CONFLICT, Some("stale_version")), "{e}");
});
