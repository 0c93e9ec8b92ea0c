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
