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

both!(problem_numbers_stay_gapless_and_unique_across_instances_and_undone_writes, |app: TestApp| async move {
    // On SQLite each instance has its own writer, which hands out the day's numbers from
    // memory while no other connection writes: these filings go through two of them.
    let second = app.second_instance().await;
    // A server takes one upload at a time per account: concurrent filings are different people.
    let admin = app.api_login("admin").await;
    let mut people = Vec::new();
    for i in 0..16 {
        let name = format!("bianhao{i}");
        admin
            .created(
                "/api/v1/users",
                json!({"username": name, "display_name": format!("编号督查员{i}"), "role": "supervisor", "password": "Numbers-2026"}),
            )
            .await;
        let (status, login) =
            admin.post("/api/v1/auth/login", json!({"username": name, "password": "Numbers-2026"})).await;
        assert_eq!(status, StatusCode::OK, "{login}");
        people.push(login["token"].as_str().expect("token").to_string());
    }
    let a = app.api_login("supervisor").await;
    let b = Api { client: reqwest::Client::new(), base: second.clone(), token: a.token.clone() };
    let point = app.id_of("SELECT id FROM points WHERE active = 1 ORDER BY code LIMIT 1").await;
    let body = |text: String| json!({"point_id": point, "category": "编号", "description": text, "source": "assigned", "allow_duplicate": true});
    let today =
        || chuangcheng::domain::time::to_local(chuangcheng::domain::time::now_ms()).format("%Y%m%d").to_string();
    let day = today();
    let counted = format!("SELECT COALESCE(MAX(n), 0) FROM code_sequences WHERE scope = 'problem:{day}'");
    let first = app.scalar(&counted).await;
    let code = |p: &serde_json::Value| p["code"].as_str().expect("code").to_string();
    let mut codes = Vec::new();
    // Sixteen people at once, half through each instance.
    let mut sends = Vec::new();
    for (i, token) in people.iter().enumerate() {
        let base = if i % 2 == 0 { app.base.clone() } else { second.clone() };
        let api = Api { client: reqwest::Client::new(), base, token: token.clone() };
        let body = body(format!("并发编号{i}"));
        sends.push(tokio::spawn(async move { api.post("/api/v1/problems", body).await }));
    }
    for send in sends {
        let (status, p) = send.await.expect("filing task");
        assert_eq!(status, StatusCode::CREATED, "{p}");
        codes.push(code(&p));
    }
    // One after another, alternating: each writer must see the number the other took.
    for i in 0..6 {
        let api = if i % 2 == 0 { &a } else { &b };
        let (status, p) = api.post("/api/v1/problems", body(format!("交替编号{i}"))).await;
        assert_eq!(status, StatusCode::CREATED, "{p}");
        codes.push(code(&p));
    }
    // A write that fails after its number was taken gives the number back.
    let inject = match app.backend {
        Backend::Sqlite => vec![
            "CREATE TRIGGER fail_injected BEFORE INSERT ON problems WHEN NEW.description = '注入故障' \
             BEGIN SELECT RAISE(ABORT, 'injected failure'); END"
                .to_string(),
        ],
        Backend::Postgres => vec![
            "CREATE FUNCTION fail_injected() RETURNS trigger AS $$ BEGIN \
             IF NEW.description = '注入故障' THEN RAISE EXCEPTION 'injected failure'; END IF; RETURN NEW; END $$ \
             LANGUAGE plpgsql"
                .to_string(),
            "CREATE TRIGGER fail_injected BEFORE INSERT ON problems FOR EACH ROW EXECUTE FUNCTION fail_injected()"
                .to_string(),
        ],
    };
    for sql in inject {
        sqlx::query(&sql).execute(&app.db.pool).await.expect("trigger");
    }
    let (status, p) = a.post("/api/v1/problems", body("注入前".into())).await;
    assert_eq!(status, StatusCode::CREATED, "{p}");
    codes.push(code(&p));
    let (status, e) = a.post("/api/v1/problems", body("注入故障".into())).await;
    assert!(status.is_server_error(), "{status}: {e}");
    let (status, p) = a.post("/api/v1/problems", body("注入后".into())).await;
    assert_eq!(status, StatusCode::CREATED, "{p}");
    codes.push(code(&p));
    // Failing and good writes at once: a failure undoes its own write alone, inside a group
    // commit whose other writes (and the savepoint opened for the next one) stay.
    let mut sends = Vec::new();
    for (i, token) in people.iter().enumerate() {
        let base = if i % 2 == 0 { app.base.clone() } else { second.clone() };
        let api = Api { client: reqwest::Client::new(), base, token: token.clone() };
        let body = body(if i % 3 == 0 { "注入故障".to_string() } else { format!("混合编号{i}") });
        sends.push(tokio::spawn(async move { api.post("/api/v1/problems", body).await }));
    }
    for (i, send) in sends.into_iter().enumerate() {
        let (status, p) = send.await.expect("filing task");
        if i % 3 == 0 {
            assert!(status.is_server_error(), "{status}: {p}");
        } else {
            assert_eq!(status, StatusCode::CREATED, "{p}");
            codes.push(code(&p));
        }
    }
    assert_eq!(app.scalar("SELECT COUNT(*) FROM problems WHERE description = '注入故障'").await, 0);
    assert_eq!(app.scalar("SELECT COUNT(*) FROM problems WHERE description LIKE '混合编号%'").await, 10);

    let mut unique = codes.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), codes.len(), "every number once: {codes:?}");
    if today() != day {
        eprintln!("the run crossed Beijing midnight: numbers checked for uniqueness only");
        return;
    }
    let expected: Vec<String> = (first + 1..=first + codes.len() as i64).map(|n| format!("Q{day}{n:04}")).collect();
    assert_eq!(unique, expected, "the day's numbers follow on without a gap");
    assert_eq!(app.scalar(&counted).await, first + codes.len() as i64, "the sequence holds the last number");
    // The alternating and the later filings were numbered in the order they were answered.
    let tail = &codes[16..24];
    assert!(tail.windows(2).all(|w| w[0] < w[1]), "{tail:?}");
    // The audit entry of each filing records the number it was given.
    let audited = app
        .scalar(&format!(
            "SELECT COUNT(*) FROM audit_log l JOIN problems p ON p.id = l.object_id \
             WHERE l.action = 'create' AND p.code LIKE 'Q{day}%' AND p.category = '编号' AND l.after_json LIKE '%' || p.code || '%'"
        ))
        .await;
    assert_eq!(audited, codes.len() as i64);
});

// Two administrators on two instances save settings forms they opened at the same time: a
// field one left as it was keeps what the other saved; the same field changed by both at once
// is saved once and the other is told, with the value now stored; the audit log's "before" is
// what was really replaced.
both!(settings_forms_keep_what_another_admin_saved_meanwhile, |app: TestApp| async move {
    let second = app.second_instance().await;
    let a = app.login("admin").await;
    let mut b = Browser::new(&second);
    assert_eq!(b.login("admin", PW).await.status(), StatusCode::SEE_OTHER);
    b.refresh_csrf().await;
    let (_, page_a) = a.get("/notices").await;
    let (_, page_b) = b.get("/notices").await;
    let seen = |html: &str| {
        ["number_prefix", "cc", "issuer"].map(|f| (format!("seen_{f}"), field_value(html, &format!("seen_{f}"))))
    };
    let (seen_a, seen_b) = (seen(&page_a), seen(&page_b));
    assert_eq!(seen_a, seen_b, "both opened the same settings");
    let [(_, prefix), (_, cc), (_, issuer)] = seen_a.clone();
    let form = |seen: &[(String, String); 3], values: [&str; 3]| {
        let mut f: Vec<(String, String)> = seen.to_vec();
        f.extend(["number_prefix", "cc", "issuer"].iter().zip(values).map(|(k, v)| (k.to_string(), v.to_string())));
        f
    };
    let post = async |br: &Browser, path: &str, f: &[(String, String)]| {
        let f: Vec<(&str, &str)> = f.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        br.post(path, &f).await
    };
    // A changes 抄送, B changes 印发机关 from the same page: both kept.
    let (status, _, _) = post(&a, "/notices/settings", &form(&seen_a, [&prefix, "市文明办", &issuer])).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (status, html, _) = post(&b, "/notices/settings", &form(&seen_b, [&prefix, &cc, "运河区文明办"])).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{html}");
    let (_, page) = a.get("/notices").await;
    assert_eq!(field_value(&page, "cc"), "市文明办", "B's save left A's 抄送 as A saved it");
    assert_eq!(field_value(&page, "issuer"), "运河区文明办");
    let pool = app.db.pool.clone();
    let audited = |key: &'static str| {
        let pool = pool.clone();
        async move {
            let rows: Vec<(String, String)> =
                sqlx::query_as("SELECT before_json, after_json FROM audit_log WHERE object_id = $1 ORDER BY at, id")
                    .bind(key)
                    .fetch_all(&pool)
                    .await
                    .unwrap();
            rows
        }
    };
    let cc_changes = audited("notice_cc").await;
    assert_eq!(cc_changes.len(), 1, "B's save wrote no 抄送: {cc_changes:?}");
    assert!(cc_changes[0].0.contains(&cc) && cc_changes[0].1.contains("市文明办"), "{cc_changes:?}");

    // Both change the prefix at the same moment from the page they opened: one is saved.
    let (_, page) = a.get("/notices").await;
    let now = seen(&page);
    let (fa, fb) =
        (form(&now, ["甲创城办", "市文明办", "运河区文明办"]), form(&now, ["乙创城办", "市文明办", "运河区文明办"]));
    let (ra, rb) = tokio::join!(post(&a, "/notices/settings", &fa), post(&b, "/notices/settings", &fb));
    let mut statuses = [ra.0, rb.0];
    statuses.sort();
    assert_eq!(statuses, [StatusCode::SEE_OTHER, StatusCode::UNPROCESSABLE_ENTITY], "{} {}", ra.1, rb.1);
    let (winner, loser) = if ra.0 == StatusCode::SEE_OTHER { ("甲创城办", &rb.1) } else { ("乙创城办", &ra.1) };
    assert!(loser.contains(&format!("“通报发文字号前缀”已被他人改为“{winner}”，请核对后重新保存")), "{loser}");
    // The loser's form is open again with what was typed, over the values now stored.
    let typed = if winner == "甲创城办" { "乙创城办" } else { "甲创城办" };
    assert!(loser.contains("id=\"notice-settings\" open"), "{loser}");
    assert_eq!(
        (field_value(loser, "number_prefix"), field_value(loser, "seen_number_prefix")),
        (typed.into(), winner.into())
    );
    let (_, page) = b.get("/notices").await;
    assert_eq!(field_value(&page, "number_prefix"), winner);
    let prefix_changes = audited("notice_number_prefix").await;
    assert_eq!(prefix_changes.len(), 1, "{prefix_changes:?}");
    assert!(prefix_changes[0].0.contains(&prefix), "the audit's before is what was replaced: {prefix_changes:?}");

    // The working hours, saved at once from one page on both instances.
    let (_, cal) = a.get("/settings/calendar").await;
    let seen_hours = field_value(&cal, "seen_working_hours");
    let hours = |h: &'static str| {
        vec![("seen_working_hours".to_string(), seen_hours.clone()), ("working_hours".into(), h.into())]
    };
    let (ha, hb) = (hours("08:00-12:00,14:00-18:00"), hours("09:00-12:00,13:00-17:00"));
    let (ra, rb) = tokio::join!(post(&a, "/settings/calendar/hours", &ha), post(&b, "/settings/calendar/hours", &hb));
    let mut statuses = [ra.0, rb.0];
    statuses.sort();
    assert_eq!(statuses, [StatusCode::SEE_OTHER, StatusCode::UNPROCESSABLE_ENTITY]);
    let loser = if ra.0 == StatusCode::SEE_OTHER { &rb.1 } else { &ra.1 };
    assert!(loser.contains("“工作时间”已被他人改为"), "{loser}");
    assert_eq!(app.scalar("SELECT COUNT(*) FROM audit_log WHERE object_id = 'working_hours'").await, 1);
    // Sent again after reading the page, the loser's hours are saved.
    let (_, cal) = b.get("/settings/calendar").await;
    let again = [
        ("seen_working_hours", field_value(&cal, "seen_working_hours")),
        ("working_hours", "09:00-12:00,13:00-17:00".into()),
    ];
    let again: Vec<(&str, &str)> = again.iter().map(|(k, v)| (*k, v.as_str())).collect();
    assert_eq!(b.post("/settings/calendar/hours", &again).await.0, StatusCode::SEE_OTHER);
    let (_, cal) = a.get("/settings/calendar").await;
    assert_eq!(field_value(&cal, "seen_working_hours"), "09:00-12:00,13:00-17:00");
});

// Filings under way while the office renames a point and moves it to another community: each
// was checked against the point as it was, and some are written after the change. Every one of
// them is found by the point's new name and counted in its new community (a background round
// brings the late ones in line). Before, those written after the change kept the old name's
// search tokens and the old community.
both!(problems_filed_while_their_point_changes_follow_the_point, |app: TestApp| async move {
    let admin = app.api_login("admin").await;
    let jinshi = app.id_of("SELECT id FROM org_nodes WHERE name = '金狮社区'").await;
    let baihe = app.id_of("SELECT id FROM org_nodes WHERE name = '百合社区'").await;
    let point =
        app.id_of(&format!("SELECT id FROM points WHERE community_id = '{jinshi}' ORDER BY code LIMIT 1")).await;
    // One filing with photos at a time per account: four accounts.
    let mut filers = Vec::new();
    for (who, source) in
        [("admin", "supervision"), ("supervisor", "supervision"), ("duban02", "supervision"), ("grid", "grid_patrol")]
    {
        filers.push((app.api_login(who).await, source));
    }
    let filing = |i: usize| {
        let (api, source) = &filers[i];
        let photos: Vec<String> = (0..3).map(|_| crate::fixtures::field_photo()).collect();
        let body = json!({"point_id": point, "category": "市容环境·暴露垃圾", "description": format!("改点位时上报{i}"),
            "source": source, "allow_duplicate": true, "photos": photos});
        api.client.post(format!("{}/api/v1/problems", api.base)).bearer_auth(&api.token).json(&body).send()
    };
    let change = async {
        tokio::time::sleep(std::time::Duration::from_millis(30)).await;
        let (_, mut body) = admin.get(&format!("/api/v1/points/{point}")).await;
        body["name"] = json!("白鹭湖东门广场");
        body["community_id"] = json!(baihe);
        body["grid_id"] = serde_json::Value::Null;
        admin.put(&format!("/api/v1/points/{point}"), body).await.0
    };
    let (filed, changed) = tokio::join!(futures::future::join_all((0..4).map(filing)), change);
    assert_eq!(changed, StatusCode::OK);
    for r in filed {
        assert_eq!(r.unwrap().status(), StatusCode::CREATED);
    }
    let filed = "SELECT COUNT(*) FROM problems WHERE description LIKE '改点位时上报%'";
    assert_eq!(app.scalar(filed).await, 4);
    // The ledger's keyword search also reads the point's current name; what the token index
    // holds (FTS5 on SQLite, the GIN array on PostgreSQL) is each problem's search tokens.
    let in_line = async || {
        let tokens = app.scalar(&format!("{filed} AND search_text LIKE '%鹭湖%'")).await;
        let moved = app.scalar(&format!("{filed} AND community_id = '{baihe}'")).await;
        let left = app.scalar("SELECT COUNT(*) FROM point_followups").await;
        (tokens, moved, left)
    };
    let started = std::time::Instant::now();
    while in_line().await != (4, 4, 0) && started.elapsed() < std::time::Duration::from_secs(10) {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(in_line().await, (4, 4, 0), "every filing found by the new name and in the new community");
});

// PostgreSQL alone: the filings' group writer keeps a connection of its own, and a server
// restart or a proxy's idle timeout closes it. The next filing must open a new one, not fail
// until the instance is restarted. (SQLite has no connection to lose.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn filings_go_on_after_postgres_closed_every_connection() {
    let Some(app) = AppBuilder::new(Backend::Postgres).demo(true).spawn().await else {
        return skipped(
            "concurrency::filings_go_on_after_postgres_closed_every_connection",
            "CHUANGCHENG_TEST_PG is not set",
        );
    };
    app.run(|app: TestApp| async move {
        let api = app.api_login("supervisor").await;
        let point = app.id_of("SELECT id FROM points WHERE active = 1 ORDER BY code LIMIT 1").await;
        let body = |text: &str| json!({"point_id": point, "category": "重连", "description": text, "source": "assigned", "allow_duplicate": true});
        let (status, p) = api.post("/api/v1/problems", body("断开前")).await;
        assert_eq!(status, StatusCode::CREATED, "{p}");
        let closed: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
             WHERE datname = current_database() AND pid <> pg_backend_pid()) t",
        )
        .fetch_one(&app.db.pool)
        .await
        .expect("terminate");
        assert!(closed >= 1, "the server's connections were closed");
        for text in ["断开后", "断开后再登记"] {
            let (status, p) = api.post("/api/v1/problems", body(text)).await;
            assert_eq!(status, StatusCode::CREATED, "{text}: {p}");
            let kept = app.scalar(&format!("SELECT count(*) FROM problems WHERE description = '{text}'")).await;
            assert_eq!(kept, 1, "{text} is in the database");
        }
    })
    .await;
}
