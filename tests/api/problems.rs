use crate::both;
use crate::evidence::flags_of;
use crate::fixtures::*;
use crate::helpers::*;
use base64::Engine;
use reqwest::StatusCode;
use serde_json::{Value, json};

both!(the_seeds_day_morning_scan_to_evening_check, |app: TestApp| async move {
    let supervisor = app.api_login("supervisor").await;
    let lead = app.api_login("lead").await;
    let (point, item) = road_point(&app).await;
    let day = last_working_day(&app).await;
    // 07:05: the supervisor files a problem with a photo.
    let (status, p) = file(
        &supervisor,
        json!({"point_id": point, "standard_item_id": item, "description": "路边绿化带内有积存垃圾",
        "source": "supervision", "found_at": format!("{day}T07:05"), "photos": [photo(1)]}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{p}");
    assert_eq!(p["state"], "dispatched");
    assert_eq!(p["category"], "市容环境·暴露垃圾");
    let id = p["id"].as_str().unwrap().to_string();
    // Entered after that day's 17:00: the unit could not know of it, so it is due from its filing
    // and not late yet.
    let filed = chuangcheng::domain::time::now_ms();
    let (_, d) = lead.get(&format!("/api/v1/problems/{id}")).await;
    assert!(d["problem"]["deadline_at"].as_i64().unwrap() > filed, "{d}");
    assert_eq!(d["overdue"], false);
    let page = app.login("lead").await;
    let (_, html) = page.get(&format!("/problems/{id}")).await;
    assert!(html.contains("id=\"late-entry\"") && html.contains(&format!("（{day} 17:00）在登记时已过")), "{html}");
    // Filed at the find (07:05 that day), the lead sees it with a 17:00 deadline, routed to the
    // point's unit and lead.
    app.filed_at_find(std::slice::from_ref(&id)).await;
    assert!(!page.get(&format!("/problems/{id}")).await.1.contains("id=\"late-entry\""), "filed in time");
    let (status, d) = lead.get(&format!("/api/v1/problems/{id}")).await;
    assert_eq!(status, StatusCode::OK);
    let deadline = chuangcheng::domain::time::fmt_local(d["problem"]["deadline_at"].as_i64().unwrap());
    assert_eq!(deadline, format!("{day} 17:00:00"));
    let lead_name = app.id_of(&format!("SELECT lead_name FROM points WHERE id = '{point}'")).await;
    assert_eq!(d["problem"]["lead_name"], lead_name.as_str());
    assert_eq!(d["photos"].as_array().unwrap().len(), 1);
    assert_eq!(d["allowed_actions"], json!(["acknowledge", "request_extension", "request_transfer"]));
    let (_, list) = lead.get("/api/v1/problems?state=dispatched").await;
    assert!(list["items"].as_array().unwrap().iter().any(|r| r["id"] == id.as_str()));
    // Another unit cannot see it.
    let bank = app.api_login("bank").await;
    assert_eq!(bank.get(&format!("/api/v1/problems/{id}")).await.0, StatusCode::NOT_FOUND);
    assert_eq!(bank.get("/api/v1/problems").await.1["total"], 0);
    // The lead cannot close it; says 收到; must attach an after-photo.
    assert_eq!(lead.act(&id, "pass", json!({})).await.0, StatusCode::FORBIDDEN);
    let (status, _) = lead.act(&id, "acknowledge", json!({})).await;
    assert_eq!(status, StatusCode::OK);
    let (status, e) = lead.act(&id, "submit_fix", json!({"note": "已清理"})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(field_codes(&e), [("photos".to_string(), "photo_required".to_string())]);
    let (status, p) = lead.act(&id, "submit_fix", json!({"note": "已清理并冲洗", "photos": [photo(2)]})).await;
    assert_eq!(status, StatusCode::OK, "{p}");
    assert_eq!(p["state"], "submitted");
    // 17:00: the supervisor re-checks and closes it (销号). A supervisor cannot void.
    assert_eq!(supervisor.act(&id, "void", json!({"reason": "x"})).await.0, StatusCode::FORBIDDEN);
    let today = chuangcheng::domain::time::to_local(chuangcheng::domain::time::now_ms()).format("%Y-%m-%d").to_string();
    let admin = app.api_login("admin").await;
    let unit_kpi = |k: &Value| {
        let unit = d["problem"]["unit_id"].as_str().unwrap().to_string();
        k["lines"].as_array().unwrap().iter().find(|l| l["key"] == unit.as_str()).cloned().unwrap()
    };
    let (_, k) = admin.get(&format!("/api/v1/kpi?from={day}&to={today}")).await;
    let before = unit_kpi(&k);
    assert_eq!((before["due"].as_i64(), before["closed"].as_i64()), (Some(1), Some(0)), "{before}");
    assert_eq!(before["closure_rate"], 0.0);
    let (status, p) = supervisor.act(&id, "pass", json!({})).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(p["state"], "closed");
    assert!(p["closed_at"].is_i64());
    // The KPIs move with the close: one of one closed.
    let (_, k) = admin.get(&format!("/api/v1/kpi?from={day}&to={today}")).await;
    let after = unit_kpi(&k);
    assert_eq!((after["due"].as_i64(), after["closed"].as_i64()), (Some(1), Some(1)), "{after}");
    assert_eq!(after["closure_rate"], 100.0);
    assert!(after["mean_hours_to_close"].is_number());
    let (_, d) = supervisor.get(&format!("/api/v1/problems/{id}")).await;
    let steps: Vec<&str> = d["events"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(steps, ["file", "acknowledge", "submit_fix", "pass"]);
    let kinds: Vec<&str> = d["photos"].as_array().unwrap().iter().map(|p| p["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["before", "after"]);
    assert_eq!(app.scalar(&format!("SELECT COUNT(*) FROM audit_log WHERE object_id = '{id}'")).await, 4);
    assert_eq!(lead.act(&id, "acknowledge", json!({})).await.0, StatusCode::CONFLICT);

    // A second problem fails its re-check and is reworked.
    let p2 = supervisor
        .file_ok(
            json!({"point_id": point, "standard_item_id": item, "description": "垃圾桶满溢", "source": "supervision"}),
        )
        .await;
    let id2 = p2["id"].as_str().unwrap().to_string();
    lead.act_ok(&id2, "acknowledge", json!({})).await;
    lead.act_ok(&id2, "submit_fix", json!({"note": "已清运", "photos": [photo(3)]})).await;
    let (status, e) = supervisor.act(&id2, "fail", json!({})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "a failed check needs a reason");
    assert_eq!(field_codes(&e)[0].0, "reason");
    let (status, p2) = supervisor.act(&id2, "fail", json!({"reason": "周边仍有散落垃圾"})).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!((p2["state"].as_str(), p2["rework_count"].as_i64()), (Some("acknowledged"), Some(1)));
    let (_, reworked) = supervisor.get("/api/v1/problems?reworked=true").await;
    assert_eq!(reworked["total"], 1);

    // A third, found at 07:05 and never fixed, is past its 17:00 deadline: a notice is proposed.
    let p3 = supervisor.file_ok(json!({"point_id": point, "standard_item_id": item, "description": "护栏破损未修复", "source": "supervision",
            "found_at": format!("{day}T07:05"), "allow_duplicate": true}))
    .await;
    let id3 = p3["id"].as_str().unwrap().to_string();
    app.filed_at_find(std::slice::from_ref(&id3)).await;
    let discipline = app.api_login("discipline").await;
    let (status, esc) = discipline.get("/api/v1/escalation").await;
    assert_eq!(status, StatusCode::OK, "{esc}");
    let proposed: Vec<&str> =
        esc["notices"].as_array().unwrap().iter().map(|n| n["problem"]["id"].as_str().unwrap()).collect();
    assert!(proposed.contains(&id3.as_str()) && !proposed.contains(&id.as_str()), "{proposed:?}");
    assert_eq!(lead.get("/api/v1/escalation").await.0, StatusCode::FORBIDDEN);
    // The lead answers it with the first problem's before-photo: the re-check sees the flag.
    lead.act_ok(&id3, "acknowledge", json!({})).await;
    let (status, _) = lead.act(&id3, "submit_fix", json!({"note": "已修复", "photos": [photo(1)]})).await;
    assert_eq!(status, StatusCode::OK);
    let (_, d3) = supervisor.get(&format!("/api/v1/problems/{id3}")).await;
    let code1 = d["problem"]["code"].as_str().unwrap();
    assert!(flags_of(&d3).iter().any(|f| f.contains(code1)), "{:?}", flags_of(&d3));
    let (_, rounds) = supervisor.get("/api/v1/rounds").await;
    assert!(rounds["recheck"].as_array().unwrap().iter().any(|r| r["id"] == id3.as_str()), "回头看 lists it");
});

both!(citizen_reports_are_verified_and_extensions_move_the_deadline, |app: TestApp| async move {
    let admin = app.api_login("admin").await;
    let lead = app.api_login("lead").await;
    let (point, item) = road_point(&app).await;
    let (status, p) = file(
        &admin,
        json!({"point_id": point, "standard_item_id": item, "description": "市民反映路边有垃圾", "source": "citizen"}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(p["state"], "reported");
    assert!(p["deadline_at"].is_null(), "the clock starts at dispatch");
    let id = p["id"].as_str().unwrap().to_string();
    assert_eq!(lead.get(&format!("/api/v1/problems/{id}")).await.1["allowed_actions"], json!([]));
    let p = admin.act_ok(&id, "verify", json!({})).await;
    assert_eq!(p["state"], "dispatched");
    let first = p["deadline_at"].as_i64().unwrap();
    let (status, e) = lead.act(&id, "request_extension", json!({"reason": "需采购设备", "days": 0})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(field_codes(&e)[0].0, "days");
    let (status, _) = lead.act(&id, "request_extension", json!({"reason": "需采购设备", "days": 3})).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(lead.act(&id, "request_extension", json!({"reason": "再次", "days": 1})).await.0, StatusCode::CONFLICT);
    let p = admin.act_ok(&id, "approve_extension", json!({})).await;
    assert_eq!((p["extension_pending"].as_i64(), p["extensions"].as_i64()), (Some(0), Some(1)));
    let cal = chuangcheng::service::calendar::load(&app.db).await.unwrap();
    let base = chuangcheng::domain::time::to_local(first.max(chuangcheng::domain::time::now_ms() - 60_000));
    let later = p["deadline_at"].as_i64().unwrap();
    assert!(
        later > first && later >= cal.add_working_days(base, 3).timestamp_millis() - 120_000,
        "three more working days"
    );
    let p = admin.act_ok(&id, "void", json!({"reason": "重复上报"})).await;
    assert_eq!(p["state"], "voided");
});

both!(bad_filings_are_refused_and_nothing_is_saved, |app: TestApp| async move {
    let supervisor = app.api_login("supervisor").await;
    let (point, item) = road_point(&app).await;
    let before = (app.scalar("SELECT COUNT(*) FROM problems").await, app.scalar("SELECT COUNT(*) FROM photos").await);
    let files = media_files(&app);
    let text_as_jpeg = base64::engine::general_purpose::STANDARD.encode(b"not a photo at all");
    let (status, e) = file(&supervisor, json!({"point_id": point, "standard_item_id": item, "description": "x", "source": "supervision", "photos": [photo(1), text_as_jpeg]})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(e["error"]["code"], "not_an_image");
    // The good photo before the bad one was stored, and is removed again with the refusal.
    assert_eq!(media_files_settled(&app, files).await, files, "no file of the refused filing is left");
    // A decompression bomb and a 30 MB photo are refused in Chinese before anything is stored.
    let b64 = |b: Vec<u8>| base64::engine::general_purpose::STANDARD.encode(b);
    let (status, e) = file(&supervisor, json!({"point_id": point, "standard_item_id": item, "description": "x", "source": "supervision", "photos": [b64(crate::photos::png_bomb())]})).await;
    assert_eq!((status, e["error"]["code"].as_str()), (StatusCode::BAD_REQUEST, Some("image_too_large")), "{e}");
    assert!(e["error"]["message"].as_str().unwrap().contains("30000×30000"), "{e}");
    let (status, e) = file(&supervisor, json!({"point_id": point, "standard_item_id": item, "description": "x", "source": "supervision", "photos": [b64(vec![0xFF; 30 * 1024 * 1024])]})).await;
    assert!(status.is_client_error(), "{status}");
    assert!(e["error"]["message"].as_str().unwrap().contains("20MB"), "{e}");
    // A found time long past (its deadline would already be over) is refused too.
    let (status, e) = file(&supervisor, json!({"point_id": point, "standard_item_id": item, "description": "x", "source": "supervision", "found_at": "2020-01-06T07:05"})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(field_codes(&e), [("found_at".to_string(), "found_too_old".to_string())]);
    let (status, e) = file(&supervisor, json!({"point_id": "no-such-point", "description": "", "source": "supervision", "found_at": "2999-01-01T07:00"})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let fields: Vec<String> = field_codes(&e).into_iter().map(|f| f.1).collect();
    assert!(
        fields.contains(&"unknown_point".to_string())
            && fields.contains(&"required".to_string())
            && fields.contains(&"found_in_future".to_string()),
        "{fields:?}"
    );
    let bank_item = app.id_of("SELECT i.id FROM standard_items i JOIN standard_versions v ON v.id = i.version_id WHERE v.status = 'published' AND i.item = '满意度评价器'").await;
    let (status, e) = file(
        &supervisor,
        json!({"point_id": point, "standard_item_id": bank_item, "description": "x", "source": "supervision"}),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(field_codes(&e), [("standard_item_id".to_string(), "item_not_applicable".to_string())]);
    // A unit may only file self-checks, and only at its own points.
    let unit = app.api_login("unit").await;
    assert_eq!(
        file(&unit, json!({"point_id": point, "category": "自查", "description": "x", "source": "supervision"}))
            .await
            .0,
        StatusCode::FORBIDDEN
    );
    let bank = app.api_login("bank").await;
    assert_eq!(
        file(&bank, json!({"point_id": point, "category": "自查", "description": "x", "source": "self_check"})).await.0,
        StatusCode::UNPROCESSABLE_ENTITY,
        "not its point"
    );
    assert_eq!(
        (app.scalar("SELECT COUNT(*) FROM problems").await, app.scalar("SELECT COUNT(*) FROM photos").await),
        before
    );
    assert_eq!(media_files(&app), files);
    // A fix sent from a page gone stale is refused after its photo was stored: the photo goes too.
    let p = supervisor.file_ok(json!({"point_id": point, "standard_item_id": item, "description": "过期页面的整改", "source": "supervision"})).await;
    let id = p["id"].as_str().unwrap();
    let lead = app.api_login("lead").await;
    let version = p["version"].as_i64().unwrap();
    lead.act_ok(id, "acknowledge", json!({"version": version})).await;
    let (files, photos) = (media_files(&app), app.scalar("SELECT COUNT(*) FROM photos").await);
    let (status, e) =
        lead.act(id, "submit_fix", json!({"version": version, "note": "已清理", "photos": [photo(61)]})).await;
    assert_eq!((status, e["error"]["code"].as_str()), (StatusCode::CONFLICT, Some("stale_version")), "{e}");
    assert_eq!(app.scalar("SELECT COUNT(*) FROM photos").await, photos);
    assert_eq!(media_files_settled(&app, files).await, files, "no file of the refused fix is left");
    // Sent again from the page as it is now, it is kept with its photo.
    lead.act_ok(id, "submit_fix", json!({"note": "已清理", "photos": [photo(61)]})).await;
    assert_eq!(media_files(&app), files + 2, "the photo and its thumbnail");
});

both!(the_loop_works_through_the_pages, |app: TestApp| async move {
    let sup = app.login("supervisor").await;
    let (point, item) = road_point(&app).await;
    let (status, html) = sup.get("/problems/new?q=解放西路").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("在此登记"));
    let before = chuangcheng::domain::time::now_ms();
    let (_, html) = sup.get(&format!("/problems/new?point_id={point}")).await;
    assert!(html.contains("暴露垃圾") && html.contains("登记并派遣"));
    // The find time's field offers only what the filing takes: not later than now, not more than
    // 30 days back (the phone's picker refuses the rest before anything is sent).
    let now = chuangcheng::domain::time::now_ms();
    let minute = |ms: i64| chuangcheng::domain::time::to_local(ms).format("%Y-%m-%dT%H:%M").to_string();
    let day = chuangcheng::domain::time::DAY_MS;
    let field = html.split("name=\"found_at\"").nth(1).and_then(|r| r.split('>').next()).unwrap_or_default();
    let bound =
        |name: &str| field.split(&format!("{name}=\"")).nth(1).and_then(|r| r.split('"').next()).map(String::from);
    let (min, max) = (bound("min").expect("min"), bound("max").expect("max"));
    assert!(max >= minute(before) && max <= minute(now), "max {max}");
    assert!(min > minute(before - 30 * day) && min <= minute(now - 30 * day + 60_000), "min {min}");
    assert!(field.contains("data-max-now"), "{field}");
    let (status, html, _) = post_multipart(
        &sup,
        "/problems/new",
        &[("point_id", &point), ("standard_item_id", &item), ("description", ""), ("source", "supervision")],
        vec![b"text".to_vec()],
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("请填写问题描述"), "field errors come first");
    let (status, html, _) = post_multipart(
        &sup,
        "/problems/new",
        &[("point_id", &point), ("standard_item_id", &item), ("description", "有积存垃圾"), ("source", "supervision")],
        vec![b"text".to_vec()],
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("上传的文件不是图片"));
    assert_eq!(app.scalar("SELECT COUNT(*) FROM problems").await, 0);
    let (status, _, location) = post_multipart(
        &sup,
        "/problems/new",
        &[("point_id", &point), ("standard_item_id", &item), ("description", "有积存垃圾"), ("source", "supervision")],
        vec![jpeg_bytes(4)],
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let path = location.unwrap();
    let id = path.trim_start_matches("/problems/").to_string();
    let (_, html) = sup.get(&path).await;
    assert!(
        html.contains("待签收")
            && html.contains("整改前")
            && html.contains("/thumb")
            && !html.contains("收到</button>"),
        "the supervisor has no 收到 button"
    );
    let lead = app.login("lead").await;
    let (_, html) = lead.get(&path).await;
    assert!(html.contains("收到</button>") && !html.contains("核查通过"));
    let (status, html, _) = act_on_page(&lead, &id, "acknowledge", &[], vec![]).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{html}");
    let (status, html, _) = act_on_page(&lead, &id, "submit_fix", &[("note", "已清理")], vec![]).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("请上传至少一张整改后照片"));
    let (status, _, _) = act_on_page(&lead, &id, "submit_fix", &[("note", "已清理")], vec![jpeg_bytes(9)]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (status, _, _) = act_on_page(&sup, &id, "pass", &[], vec![]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (_, html) = sup.get(&path).await;
    assert!(html.contains("已销号") && html.contains("整改后") && html.contains("核查通过"));
    let (_, html) = lead.get("/problems?state=closed").await;
    assert!(html.contains(&format!("/problems/{id}")));
    let res = lead.get_raw("/problems?export=xlsx").await;
    let rows = crate::helpers::xlsx_rows(&res.bytes().await.unwrap());
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[1][10], "已销号");
    let bank = app.login("bank").await;
    assert_eq!(bank.get(&path).await.0, StatusCode::NOT_FOUND);
    // A find time in the future is refused; the photo chosen is kept, so that fixing the time
    // does not mean taking it again.
    let fields = |found: &'static str| {
        vec![
            ("point_id", point.clone()),
            ("standard_item_id", item.clone()),
            ("description", "又有积存垃圾".to_string()),
            ("source", "supervision".to_string()),
            ("found_at", found.to_string()),
        ]
    };
    let form = fields("2099-01-01T07:00");
    let refs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let (status, html, _) = post_multipart(&sup, "/problems/new", &refs, vec![jpeg_bytes(5)]).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("发现时间不能晚于现在") && html.contains("已保留刚才选择的1张照片"), "{html}");
    let token = html.split("name=\"draft\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_string();
    let mut form = fields("");
    form.push(("draft", token));
    let refs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let (status, html, location) = post_multipart(&sup, "/problems/new", &refs, vec![]).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{html}");
    let id = location.unwrap().trim_start_matches("/problems/").to_string();
    assert_eq!(app.scalar(&format!("SELECT COUNT(*) FROM photos WHERE owner_id = '{id}'")).await, 1);
});

both!(an_open_problem_at_the_same_point_is_offered_and_duplicates_merge, |app: TestApp| async move {
    let sup = app.api_login("supervisor").await;
    let (point, item) = road_point(&app).await;
    let first = sup
        .file_ok(
            json!({"point_id": point, "standard_item_id": item, "description": "垃圾堆积", "source": "supervision"}),
        )
        .await;
    let code = first["code"].as_str().unwrap().to_string();
    let (status, e) = file(
        &sup,
        json!({"point_id": point, "standard_item_id": item, "description": "同一堆垃圾", "source": "supervision"}),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(e["error"]["code"], "duplicate_open_problem");
    assert!(e["error"]["message"].as_str().unwrap().contains(&code));
    assert_eq!(app.scalar("SELECT COUNT(*) FROM problems").await, 1);
    // The page shows the open problem before filing and asks for confirmation.
    let b = app.login("supervisor").await;
    let (_, html) = b.get(&format!("/problems/new?point_id={point}")).await;
    assert!(html.contains("该点位已有 1 个未办结问题") && html.contains(&code));
    let dup = sup.file_ok(json!({"point_id": point, "standard_item_id": item, "description": "同一堆垃圾", "source": "supervision", "allow_duplicate": true})).await;
    let dup_id = dup["id"].as_str().unwrap().to_string();
    // The office merges the duplicate into the first one.
    let admin = app.api_login("admin").await;
    let (status, e) = admin.post(&format!("/api/v1/problems/{dup_id}/merge"), json!({"into": "Q000"})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(field_codes(&e)[0].1, "unknown_problem");
    assert_eq!(
        sup.post(&format!("/api/v1/problems/{dup_id}/merge"), json!({"into": code})).await.0,
        StatusCode::FORBIDDEN
    );
    let (status, merged) = admin.post(&format!("/api/v1/problems/{dup_id}/merge"), json!({"into": code})).await;
    assert_eq!(status, StatusCode::OK, "{merged}");
    assert_eq!(merged["state"], "voided");
    let (_, d) = admin.get(&format!("/api/v1/problems/{}", first["id"].as_str().unwrap())).await;
    assert!(
        d["events"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["action"] == "merge" && e["note"].as_str().unwrap().contains(dup["code"].as_str().unwrap()))
    );
});

both!(filing_offers_the_nearest_points_first, |app: TestApp| async move {
    let b = app.login("supervisor").await;
    let (id, lng, lat): (String, f64, f64) =
        sqlx::query_as("SELECT id, lng, lat FROM points WHERE lng IS NOT NULL ORDER BY code DESC LIMIT 1")
            .fetch_one(&app.db.pool)
            .await
            .unwrap();
    let (status, html) = b.get(&format!("/problems/new?lng={}&lat={}", lng + 0.00001, lat)).await;
    assert_eq!(status, StatusCode::OK);
    let first = html.split("point_id=").nth(1).unwrap().split('"').next().unwrap();
    assert_eq!(first, id, "the point where the phone stands comes first");
    assert!(html.contains("按我的位置由近到远"));
});

both!(a_unit_asks_for_a_transfer_and_the_office_decides, |app: TestApp| async move {
    let sup = app.api_login("supervisor").await;
    let lead = app.api_login("lead").await;
    let (point, item) = road_point(&app).await;
    let p = sup.file_ok(json!({"point_id": point, "standard_item_id": item, "description": "属燃气公司管线", "source": "supervision"}))
    .await;
    let id = p["id"].as_str().unwrap().to_string();
    assert_eq!(
        lead.act(&id, "request_transfer", json!({})).await.0,
        StatusCode::UNPROCESSABLE_ENTITY,
        "a reason is required"
    );
    let (status, _) = lead.act(&id, "request_transfer", json!({"reason": "属住建局管辖"})).await;
    assert_eq!(status, StatusCode::OK);
    let admin_page = app.login("admin").await;
    let (_, html) = admin_page.get("/inbox").await;
    assert!(html.contains("申请转办") && html.contains("属住建局管辖"));
    // Only the office transfers.
    let target = app.id_of("SELECT id FROM units WHERE name = '运河区住房和城乡建设局'").await;
    assert_eq!(lead.act(&id, "transfer", json!({"reason": "x", "unit_id": target})).await.0, StatusCode::FORBIDDEN);
    let admin = app.api_login("admin").await;
    let (status, p) = admin.act(&id, "transfer", json!({"reason": "同意转办", "unit_id": target})).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!((p["unit_id"].as_str(), p["state"].as_str()), (Some(target.as_str()), Some("dispatched")));
    assert_eq!(lead.get(&format!("/api/v1/problems/{id}")).await.0, StatusCode::NOT_FOUND, "no longer its problem");
});

both!(the_office_refuses_a_transfer_request_and_the_unit_hears_it, |app: TestApp| async move {
    let sup = app.api_login("supervisor").await;
    let lead = app.api_login("lead").await;
    let admin = app.api_login("admin").await;
    let (point, item) = road_point(&app).await;
    let p = sup
        .file_ok(
            json!({"point_id": point, "standard_item_id": item, "description": "人行道垃圾", "source": "supervision"}),
        )
        .await;
    let id = p["id"].as_str().unwrap().to_string();
    // Nothing to refuse yet.
    let (status, body) = admin.act(&id, "refuse_transfer", json!({"reason": "属本单位职责"})).await;
    assert_eq!((status, body["error"]["code"].as_str()), (StatusCode::CONFLICT, Some("no_transfer")));
    lead.act_ok(&id, "request_transfer", json!({"reason": "属环卫处管辖"})).await;
    let (status, body) = lead.act(&id, "request_transfer", json!({"reason": "再次申请"})).await;
    assert_eq!((status, body["error"]["code"].as_str()), (StatusCode::CONFLICT, Some("transfer_pending")));
    let (_, d) = admin.get(&format!("/api/v1/problems/{id}")).await;
    assert_eq!(d["problem"]["transfer_pending"], 1);
    assert!(d["allowed_actions"].as_array().unwrap().contains(&json!("refuse_transfer")), "{d}");
    // The office decides on the problem's page: a reason is required, then the request is gone.
    let b = app.login("admin").await;
    let (_, html) = b.get(&format!("/problems/{id}")).await;
    assert!(html.contains("驳回转办"));
    let version = d["problem"]["version"].as_i64().unwrap().to_string();
    let post = format!("/problems/{id}/act/refuse_transfer");
    let (status, html, _) = post_multipart(&b, &post, &[("version", &version), ("reason", "")], vec![]).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("请填写“驳回转办”的理由"));
    let (status, _, _) =
        post_multipart(&b, &post, &[("version", &version), ("reason", "人行道保洁属本单位职责")], vec![]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (_, d) = admin.get(&format!("/api/v1/problems/{id}")).await;
    assert_eq!(d["problem"]["transfer_pending"], 0);
    assert_eq!(d["problem"]["unit_id"], p["unit_id"], "still the same unit's problem");
    let (_, page) = admin.get("/api/v1/problems?pending=1").await;
    assert!(page["items"].as_array().unwrap().iter().all(|r| r["id"] != id.as_str()), "off the queue");
    // The unit is told, with the office's reason; the audit log has the decision.
    let (_, html) = app.login("lead").await.get("/inbox").await;
    assert!(html.contains("驳回转办") && html.contains("人行道保洁属本单位职责"), "the lead's inbox");
    assert_eq!(
        app.scalar(&format!("SELECT COUNT(*) FROM audit_log WHERE object_id = '{id}' AND action = 'refuse_transfer'"))
            .await,
        1
    );
    // The unit may ask again after a refusal.
    lead.act_ok(&id, "request_transfer", json!({"reason": "补充材料：管线属燃气公司"})).await;
});

both!(a_draft_sent_again_is_done_once, |app: TestApp| async move {
    let sup = app.api_login("supervisor").await;
    let lead = app.api_login("lead").await;
    let (point, item) = road_point(&app).await;
    let body = json!({"point_id": point, "standard_item_id": item, "description": "离线登记：地下车库入口积存垃圾",
        "source": "supervision", "allow_duplicate": true, "client_ref": "0b7c6f0e-6a53-4b53-9d4e-1f1b2c3d4e5f",
        "found_at": chuangcheng::domain::time::to_local(chuangcheng::domain::time::now_ms() - 40 * 60_000)
            .format("%Y-%m-%dT%H:%M").to_string()});
    // The same draft three times (its first answers were lost). An account sends one upload at a
    // time (a second at once is told to wait), so repeats arrive one after another.
    let a = file(&sup, body.clone()).await;
    let b = file(&sup, body.clone()).await;
    let (c_status, c) = file(&sup, body.clone()).await;
    for (status, p) in [&a, &b, &(c_status, c.clone())] {
        assert!(status.is_success(), "{status}: {p}");
    }
    assert_eq!(a.1["id"], b.1["id"]);
    assert_eq!(a.1["id"], c["id"]);
    assert_eq!(
        app.scalar("SELECT COUNT(*) FROM problems WHERE description = '离线登记：地下车库入口积存垃圾'").await,
        1
    );
    // Another account's reference is its own.
    let admin = app.api_login("admin").await;
    let (status, other) = file(&admin, body.clone()).await;
    assert!(status.is_success());
    assert_ne!(other["id"], a.1["id"]);
    // An action replayed with its reference is done once, even though the version moved on.
    let id = a.1["id"].as_str().unwrap();
    let version = lead.version_of(&format!("/api/v1/problems/{id}")).await;
    let ack = json!({"version": version, "client_ref": "ack-1", "offline_at": chuangcheng::domain::time::now_ms() - 30 * 60_000});
    let (s1, p1) = lead.post(&format!("/api/v1/problems/{id}/actions/acknowledge"), ack.clone()).await;
    let (s2, p2) = lead.post(&format!("/api/v1/problems/{id}/actions/acknowledge"), ack.clone()).await;
    assert_eq!((s1, s2), (StatusCode::OK, StatusCode::OK), "{p1} {p2}");
    assert_eq!(p1["version"], p2["version"], "the second answer is the problem as the first left it");
    assert_eq!(
        app.scalar(&format!(
            "SELECT COUNT(*) FROM problem_events WHERE problem_id = '{id}' AND action = 'acknowledge'"
        ))
        .await,
        1
    );
    let note: String = app
        .id_of(&format!("SELECT note FROM problem_events WHERE problem_id = '{id}' AND action = 'acknowledge'"))
        .await;
    assert!(note.contains("离线记录于") && note.contains("送达"), "{note}");
    // A reference that is not one is refused in Chinese.
    let mut bad = body.clone();
    bad["client_ref"] = json!("../../etc/passwd");
    let (status, e) = file(&sup, bad).await;
    assert_eq!((status, e["error"]["code"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_client_ref")));
});
