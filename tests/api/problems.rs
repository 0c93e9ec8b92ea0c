use crate::both;
use crate::helpers::*;
use base64::Engine;
use image::codecs::jpeg::JpegEncoder;
use image::{ImageBuffer, Rgb};
use reqwest::StatusCode;
use serde_json::{Value, json};

/// A test photo whose picture (not just its colour) depends on the seed: 40×30 blocks of
/// pseudo-random brightness.
pub fn photo(seed: u8) -> String {
    let block = |bx: u32, by: u32| {
        let mut z = (bx as u64) << 32 | (by as u64) << 8 | seed as u64;
        z = z.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ (z >> 29);
        z = z.wrapping_mul(0xBF58_476D_1CE4_E5B9);
        (z >> 56) as u8
    };
    let img = ImageBuffer::from_fn(640, 480, |x, y| {
        let v = block(x / 16, y / 16);
        Rgb([v, v / 2 + 40, 255 - v])
    });
    let mut out = Vec::new();
    JpegEncoder::new_with_quality(&mut out, 80).encode_image(&img).unwrap();
    base64::engine::general_purpose::STANDARD.encode(out)
}

/// The most recent working day before today (Beijing), as "YYYY-MM-DD".
async fn last_working_day(app: &TestApp) -> String {
    let cal = chuangcheng::service::calendar::load(&app.db).await.unwrap();
    let mut d = chuangcheng::domain::time::to_local(chuangcheng::domain::time::now_ms()).date_naive();
    loop {
        d -= chrono::Duration::days(1);
        if cal.is_working_day(d) {
            return d.format("%Y-%m-%d").to_string();
        }
    }
}

/// A main-road point of the city management bureau (the demo lead's unit) and its 暴露垃圾 item.
pub async fn road_point(app: &TestApp) -> (String, String) {
    let point = app
        .id_of(
            "SELECT p.id FROM points p JOIN point_types t ON t.id = p.type_id JOIN users u ON u.unit_id = p.unit_id \
        WHERE u.username = 'lead' AND t.code = 'main_road' ORDER BY p.code LIMIT 1",
        )
        .await;
    let item = app.id_of("SELECT i.id FROM standard_items i JOIN standard_versions v ON v.id = i.version_id WHERE v.status = 'published' AND i.item = '暴露垃圾'").await;
    (point, item)
}

pub async fn file(api: &Api, body: Value) -> (StatusCode, Value) {
    api.post("/api/v1/problems", body).await
}

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
    // The lead sees it with a 17:00 deadline, routed to the point's unit and lead.
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
    let (_, k) = admin.get(&format!("/api/v1/kpi?from={today}&to={today}")).await;
    let before = unit_kpi(&k);
    assert_eq!((before["due"].as_i64(), before["closed"].as_i64()), (Some(1), Some(0)), "{before}");
    assert_eq!(before["closure_rate"], 0.0);
    let (status, p) = supervisor.act(&id, "pass", json!({})).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(p["state"], "closed");
    assert!(p["closed_at"].is_i64());
    // The KPIs move with the close: one of one closed.
    let (_, k) = admin.get(&format!("/api/v1/kpi?from={today}&to={today}")).await;
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
    let (_, p2) = file(
        &supervisor,
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
    let (_, p3) = file(
        &supervisor,
        json!({"point_id": point, "standard_item_id": item, "description": "护栏破损未修复", "source": "supervision",
            "found_at": format!("{day}T07:05"), "allow_duplicate": true}),
    )
    .await;
    let id3 = p3["id"].as_str().unwrap().to_string();
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
    let (_, p) = admin.act(&id, "verify", json!({})).await;
    assert_eq!(p["state"], "dispatched");
    let first = p["deadline_at"].as_i64().unwrap();
    let (status, e) = lead.act(&id, "request_extension", json!({"reason": "需采购设备", "days": 0})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(field_codes(&e)[0].0, "days");
    let (status, _) = lead.act(&id, "request_extension", json!({"reason": "需采购设备", "days": 3})).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(lead.act(&id, "request_extension", json!({"reason": "再次", "days": 1})).await.0, StatusCode::CONFLICT);
    let (_, p) = admin.act(&id, "approve_extension", json!({})).await;
    assert_eq!((p["extension_pending"].as_i64(), p["extensions"].as_i64()), (Some(0), Some(1)));
    let cal = chuangcheng::service::calendar::load(&app.db).await.unwrap();
    let base = chuangcheng::domain::time::to_local(first.max(chuangcheng::domain::time::now_ms() - 60_000));
    let later = p["deadline_at"].as_i64().unwrap();
    assert!(
        later > first && later >= cal.add_working_days(base, 3).timestamp_millis() - 120_000,
        "three more working days"
    );
    let (_, p) = admin.act(&id, "void", json!({"reason": "重复上报"})).await;
    assert_eq!(p["state"], "voided");
});

both!(bad_filings_are_refused_and_nothing_is_saved, |app: TestApp| async move {
    let supervisor = app.api_login("supervisor").await;
    let (point, item) = road_point(&app).await;
    let before = (app.scalar("SELECT COUNT(*) FROM problems").await, app.scalar("SELECT COUNT(*) FROM photos").await);
    let text_as_jpeg = base64::engine::general_purpose::STANDARD.encode(b"not a photo at all");
    let (status, e) = file(&supervisor, json!({"point_id": point, "standard_item_id": item, "description": "x", "source": "supervision", "photos": [photo(1), text_as_jpeg]})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(e["error"]["code"], "not_an_image");
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
});

fn jpeg_bytes(seed: u8) -> Vec<u8> {
    base64::engine::general_purpose::STANDARD.decode(photo(seed)).unwrap()
}

async fn post_multipart(
    b: &Browser,
    path: &str,
    fields: &[(&str, &str)],
    photos: Vec<Vec<u8>>,
) -> (StatusCode, String, Option<String>) {
    let mut form = reqwest::multipart::Form::new().text("_csrf", b.csrf.clone());
    for (k, v) in fields {
        form = form.text(k.to_string(), v.to_string());
    }
    for (i, bytes) in photos.into_iter().enumerate() {
        form = form.part("photos", reqwest::multipart::Part::bytes(bytes).file_name(format!("p{i}.jpg")));
    }
    let res = b.client.post(format!("{}{path}", b.base)).multipart(form).send().await.unwrap();
    let status = res.status();
    let location = res.headers().get("location").and_then(|v| v.to_str().ok()).map(str::to_string);
    (status, res.text().await.unwrap_or_default(), location)
}

/// Submits an action's form as the problem page shows it: with the version the page was read at.
async fn act_on_page(
    b: &Browser,
    id: &str,
    action: &str,
    fields: &[(&str, &str)],
    photos: Vec<Vec<u8>>,
) -> (StatusCode, String, Option<String>) {
    let (_, html) = b.get(&format!("/problems/{id}")).await;
    let marker = "name=\"version\" value=\"";
    let at = html.find(marker).expect("the action forms carry the version") + marker.len();
    let version = html[at..].split('"').next().unwrap().to_string();
    let mut all = vec![("version", version.as_str())];
    all.extend_from_slice(fields);
    post_multipart(b, &format!("/problems/{id}/act/{action}"), &all, photos).await
}

both!(the_loop_works_through_the_pages, |app: TestApp| async move {
    let sup = app.login("supervisor").await;
    let (point, item) = road_point(&app).await;
    let (status, html) = sup.get("/problems/new?q=解放西路").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("在此登记"));
    let (_, html) = sup.get(&format!("/problems/new?point_id={point}")).await;
    assert!(html.contains("暴露垃圾") && html.contains("登记并派遣"));
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
    let rows = crate::units::xlsx_rows(&res.bytes().await.unwrap());
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[1][10], "已销号");
    let bank = app.login("bank").await;
    assert_eq!(bank.get(&path).await.0, StatusCode::NOT_FOUND);
});

both!(kpis_follow_the_stored_timestamps_and_link_to_their_problems, |app: TestApp| async move {
    let sup = app.api_login("supervisor").await;
    let lead = app.api_login("lead").await;
    let (point, item) = road_point(&app).await;
    let mut ids = Vec::new();
    for n in 0..3 {
        let (_, p) = file(&sup, json!({"point_id": point, "standard_item_id": item, "description": format!("问题{n}"), "source": "supervision", "allow_duplicate": true})).await;
        ids.push(p["id"].as_str().unwrap().to_string());
    }
    for id in &ids[..2] {
        lead.act_ok(id, "acknowledge", json!({})).await;
        lead.act_ok(id, "submit_fix", json!({"note": "已整改", "photos": [photo(5)]})).await;
    }
    sup.act_ok(&ids[0], "pass", json!({})).await;
    sup.act_ok(&ids[1], "fail", json!({"reason": "不彻底"})).await;
    let today = chuangcheng::domain::time::to_local(chuangcheng::domain::time::now_ms()).format("%Y-%m-%d").to_string();
    let admin = app.api_login("admin").await;
    let (status, k) = admin.get(&format!("/api/v1/kpi?from={today}&to={today}")).await;
    assert_eq!(status, StatusCode::OK, "{k}");
    let line = &k["lines"][0];
    assert_eq!(line["name"], "运河区城市管理综合行政执法局");
    assert_eq!((line["due"].as_i64(), line["closed"].as_i64(), line["reworked"].as_i64()), (Some(3), Some(1), Some(1)));
    assert_eq!(line["closure_rate"], 33.3);
    assert_eq!(line["rework_rate"], 33.3);
    assert_eq!(k["total"]["due"], 3);
    // The page's figures link to exactly those problems.
    let b = app.login("admin").await;
    let (_, html) = b.get(&format!("/kpi?from={today}&to={today}")).await;
    assert!(html.contains("33.3%"));
    // Its Excel export holds counts and rates as numbers (a rate as a percentage cell).
    let sheets = xlsx_sheets(b.get_raw(&format!("/kpi?from={today}&to={today}&export=xlsx")).await).await;
    let rows = &sheets[0].1;
    assert_eq!(rows[1][0].to_string(), "运河区城市管理综合行政执法局");
    assert_eq!((number(&rows[1][1]), number(&rows[1][2])), (3.0, 1.0));
    assert!((number(&rows[1][3]) - 0.333).abs() < 1e-9, "{:?}", rows[1][3]);
    assert_eq!(rows.last().unwrap()[0].to_string(), "合计");
    let unit = line["key"].as_str().unwrap();
    let (_, html) = b.get(&format!("/problems?dfrom={today}&dto={today}&unit_id={unit}&closed=1")).await;
    assert!(html.contains("共 1 条") && html.contains(&format!("/problems/{}", ids[0])));
    let (_, html) = b.get(&format!("/problems?dfrom={today}&dto={today}&unit_id={unit}&reworked=1")).await;
    assert!(html.contains("共 1 条") && html.contains(&format!("/problems/{}", ids[1])));
    // A unit sees only its own figures.
    let (_, k) = app.api_login("bank").await.get(&format!("/api/v1/kpi?from={today}&to={today}")).await;
    assert_eq!(k["total"]["due"], 0);
});

both!(overdue_problems_propose_notices_and_interviews_and_fill_the_rounds, |app: TestApp| async move {
    let sup = app.api_login("supervisor").await;
    let (point, item) = road_point(&app).await;
    let day = last_working_day(&app).await;
    // Found yesterday (a working day) at 07:05: the 17:00 deadline has passed.
    let (_, late) = file(&sup, json!({"point_id": point, "standard_item_id": item, "description": "昨日问题未整改", "source": "supervision", "found_at": format!("{day}T07:05")})).await;
    let late_id = late["id"].as_str().unwrap().to_string();
    let (_, fresh) = file(
        &sup,
        json!({"point_id": point, "standard_item_id": item, "description": "刚发现", "source": "supervision", "allow_duplicate": true}),
    )
    .await;
    let fresh_id = fresh["id"].as_str().unwrap().to_string();
    let (_, d) = sup.get(&format!("/api/v1/problems/{late_id}")).await;
    assert_eq!(d["overdue"], true);
    let discipline = app.login("discipline").await;
    let (status, html) = discipline.get("/escalation").await;
    assert_eq!(status, StatusCode::OK);
    let notices = html.split("id=\"notices\"").nth(1).unwrap().split("</table>").next().unwrap();
    assert!(notices.contains(&format!("/problems/{late_id}")) && !notices.contains(&format!("/problems/{fresh_id}")));
    assert!(html.contains("没有达到约谈门槛的单位"), "one late case is below the default threshold of 3");
    // The office lowers the threshold to 1: the unit is proposed for an interview.
    let admin = app.login("admin").await;
    let (status, html, _) = admin.post("/escalation/threshold", &[("threshold", "0")]).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("约谈门槛应为1至100"));
    let (status, _, _) = admin.post("/escalation/threshold", &[("threshold", "1")]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (_, html) = discipline.get(&format!("/escalation?from={day}")).await;
    let interviews = html.split("id=\"interviews\"").nth(1).unwrap();
    assert!(interviews.contains("运河区城市管理综合行政执法局"));
    let unit = app.login("unit").await;
    assert_eq!(unit.get("/escalation").await.0, StatusCode::FORBIDDEN);
    // Rounds: the unit's 今日必须办结 lists the late one and, when its deadline falls today (found
    // on a working day's morning), the fresh one after it; the supervisor's 回头看 fills when a fix
    // is submitted.
    let (_, html) = unit.get("/rounds").await;
    let due = html.split("id=\"due-today\"").nth(1).unwrap().split("</table>").next().unwrap();
    let a = due.find(&format!("/problems/{late_id}")).expect("the overdue problem is due today");
    let fresh_deadline = fresh["deadline_at"].as_i64().unwrap();
    let today = chuangcheng::domain::time::to_local(chuangcheng::domain::time::now_ms()).format("%Y-%m-%d");
    let end_of_today = chuangcheng::domain::time::parse_local_day_start(&today.to_string()).unwrap() + 86_400_000;
    match due.find(&format!("/problems/{fresh_id}")) {
        Some(b) => assert!(fresh_deadline < end_of_today && a < b, "due today, after the overdue one"),
        None => assert!(fresh_deadline >= end_of_today, "a problem due later is not on today's list"),
    }
    let lead = app.api_login("lead").await;
    lead.act_ok(&fresh_id, "acknowledge", json!({})).await;
    lead.act_ok(&fresh_id, "submit_fix", json!({"note": "已整改", "photos": [photo(7)]})).await;
    let supervisor = app.login("supervisor").await;
    let (_, html) = supervisor.get("/rounds").await;
    let recheck = html.split("id=\"recheck\"").nth(1).unwrap().split("</table>").next().unwrap();
    assert!(recheck.contains(&format!("/problems/{fresh_id}")) && !recheck.contains(&format!("/problems/{late_id}")));
    assert!(html.contains("晨扫描") && html.contains("登记问题"));
});

/// A JPEG carrying EXIF capture time and GPS, as a phone camera writes it.
fn jpeg_with_exif(seed: u8, taken: &str, lng: f64, lat: f64) -> String {
    use exif::{Field, In, Rational, Tag, Value};
    let dms = |v: f64| {
        let d = v.floor();
        let m = ((v - d) * 60.0).floor();
        let s = ((v - d) * 3600.0 - m * 60.0) * 1000.0;
        Value::Rational(vec![
            Rational { num: d as u32, denom: 1 },
            Rational { num: m as u32, denom: 1 },
            Rational { num: s.round() as u32, denom: 1000 },
        ])
    };
    let fields = [
        Field {
            tag: Tag::DateTimeOriginal,
            ifd_num: In::PRIMARY,
            value: Value::Ascii(vec![taken.as_bytes().to_vec()]),
        },
        Field { tag: Tag::GPSLatitudeRef, ifd_num: In::PRIMARY, value: Value::Ascii(vec![b"N".to_vec()]) },
        Field { tag: Tag::GPSLatitude, ifd_num: In::PRIMARY, value: dms(lat) },
        Field { tag: Tag::GPSLongitudeRef, ifd_num: In::PRIMARY, value: Value::Ascii(vec![b"E".to_vec()]) },
        Field { tag: Tag::GPSLongitude, ifd_num: In::PRIMARY, value: dms(lng) },
    ];
    let mut w = exif::experimental::Writer::new();
    for f in &fields {
        w.push_field(f);
    }
    let mut tiff = std::io::Cursor::new(Vec::new());
    w.write(&mut tiff, false).unwrap();
    let tiff = tiff.into_inner();
    let body = jpeg_bytes(seed);
    let mut out = vec![0xFF, 0xD8, 0xFF, 0xE1];
    out.extend_from_slice(&((tiff.len() + 8) as u16).to_be_bytes());
    out.extend_from_slice(b"Exif\0\0");
    out.extend_from_slice(&tiff);
    out.extend_from_slice(&body[2..]);
    base64::engine::general_purpose::STANDARD.encode(out)
}

fn flags_of(d: &Value) -> Vec<String> {
    d["photos"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["kind"] == "after")
        .flat_map(|p| p["flags"].as_array().unwrap().clone())
        .map(|f| f.as_str().unwrap().to_string())
        .collect()
}

both!(suspicious_after_photos_are_flagged_for_the_recheck, |app: TestApp| async move {
    let sup = app.api_login("supervisor").await;
    let lead = app.api_login("lead").await;
    let (point, item) = road_point(&app).await;
    let (plng, plat): (f64, f64) = sqlx::query_as(&format!("SELECT lng, lat FROM points WHERE id = '{point}'"))
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
    let before = photo(21);
    let submit = |id: String, after: String| {
        let lead = &lead;
        async move {
            lead.act_ok(&id, "acknowledge", json!({})).await;
            let (status, _) = lead.act(&id, "submit_fix", json!({"note": "已整改", "photos": [after]})).await;
            assert_eq!(status, StatusCode::OK);
            id
        }
    };
    // 1. The before-photo sent back as the after-photo.
    let (status, p1) = file(&sup, json!({"point_id": point, "standard_item_id": item, "description": "一", "source": "supervision", "photos": [before.clone()]})).await;
    assert_eq!(status, StatusCode::CREATED, "{p1}");
    let id1 = submit(p1["id"].as_str().unwrap().to_string(), before.clone()).await;
    let (_, d) = sup.get(&format!("/api/v1/problems/{id1}")).await;
    let f = flags_of(&d);
    assert!(f.iter().any(|x| x.contains("与整改前照片几乎相同")), "{f:?}");
    assert!(f.iter().any(|x| x.contains("没有拍摄时间信息")));
    // 2. Another problem at the same point re-uses that photo as its after-photo.
    let (_, p2) = file(&sup, json!({"point_id": point, "standard_item_id": item, "description": "二", "source": "supervision", "allow_duplicate": true, "photos": [photo(50)]})).await;
    let code1 = p1["code"].as_str().unwrap().to_string();
    let id2 = submit(p2["id"].as_str().unwrap().to_string(), before.clone()).await;
    let (_, d) = sup.get(&format!("/api/v1/problems/{id2}")).await;
    assert!(flags_of(&d).iter().any(|x| x.contains(&code1)), "{:?}", flags_of(&d));
    // 3. A genuine-looking photo taken before the problem was found, 2 km away.
    let (_, p3) = file(&sup, json!({"point_id": point, "standard_item_id": item, "description": "三", "source": "supervision", "allow_duplicate": true, "photos": [photo(60)]})).await;
    let id3 =
        submit(p3["id"].as_str().unwrap().to_string(), jpeg_with_exif(33, "2026:01:05 09:00:00", plng + 0.02, plat))
            .await;
    let (_, d) = sup.get(&format!("/api/v1/problems/{id3}")).await;
    let f = flags_of(&d);
    assert!(f.iter().any(|x| x.contains("早于问题发现时间")), "{f:?}");
    assert!(f.iter().any(|x| x.contains("拍摄位置距点位约")), "{f:?}");
    assert!(!f.iter().any(|x| x.contains("几乎相同") || x.contains("相同或高度相似")), "{f:?}");
    // 4. A fresh photo taken at the point after the problem was found raises nothing.
    let (_, p4) = file(&sup, json!({"point_id": point, "standard_item_id": item, "description": "四", "source": "supervision", "allow_duplicate": true, "photos": [photo(70)]})).await;
    let now = chuangcheng::domain::time::to_local(chuangcheng::domain::time::now_ms() + 60_000)
        .format("%Y:%m:%d %H:%M:%S")
        .to_string();
    let id4 = submit(p4["id"].as_str().unwrap().to_string(), jpeg_with_exif(34, &now, plng, plat)).await;
    let (_, d) = sup.get(&format!("/api/v1/problems/{id4}")).await;
    assert_eq!(flags_of(&d), Vec::<String>::new());
    // The supervisor sees the warnings on the page at the re-check.
    let b = app.login("supervisor").await;
    let (_, html) = b.get(&format!("/problems/{id1}")).await;
    assert!(html.contains("⚠ 与整改前照片几乎相同") && html.contains("核查通过"));
});

both!(an_open_problem_at_the_same_point_is_offered_and_duplicates_merge, |app: TestApp| async move {
    let sup = app.api_login("supervisor").await;
    let (point, item) = road_point(&app).await;
    let (_, first) = file(
        &sup,
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
    let (_, dup) = file(&sup, json!({"point_id": point, "standard_item_id": item, "description": "同一堆垃圾", "source": "supervision", "allow_duplicate": true})).await;
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
    let (_, p) = file(
        &sup,
        json!({"point_id": point, "standard_item_id": item, "description": "属燃气公司管线", "source": "supervision"}),
    )
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

both!(chinese_keyword_search_codes_and_keyset_paging, |app: TestApp| async move {
    let sup = app.api_login("supervisor").await;
    let admin = app.api_login("admin").await;
    let (point, _) = road_point(&app).await;
    let mut codes = Vec::new();
    let mut ids = Vec::new();
    for text in ["人行道井盖缺失", "路面井盖破损下沉", "绿化带积存垃圾"] {
        let (status, p) = file(
            &sup,
            json!({"point_id": point, "category": "市容环境", "description": text, "source": "supervision"}),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{p}");
        codes.push(p["code"].as_str().unwrap().to_string());
        ids.push(p["id"].as_str().unwrap().to_string());
    }
    // Codes number the day's problems one after another.
    let today = chuangcheng::domain::time::to_local(chuangcheng::domain::time::now_ms()).format("%Y%m%d").to_string();
    let seq: Vec<i64> = codes
        .iter()
        .map(|c| {
            assert!(c.starts_with(&format!("Q{today}")), "{c}");
            c[9..].parse().unwrap()
        })
        .collect();
    assert_eq!((seq[1] - seq[0], seq[2] - seq[1]), (1, 1), "{codes:?}");
    let search = |q: &str| {
        let sup = &sup;
        let q = q.to_string();
        async move {
            let (status, v) = sup.get(&format!("/api/v1/problems?q={}", urlencode(&q))).await;
            assert_eq!(status, StatusCode::OK, "{v}");
            let mut found: Vec<String> =
                v["items"].as_array().unwrap().iter().map(|r| r["id"].as_str().unwrap().to_string()).collect();
            found.sort();
            found
        }
    };
    let sorted = |mut v: Vec<String>| {
        v.sort();
        v
    };
    // Searched before and after the background indexer has seen them: the same answers.
    for round in 0..2 {
        if round == 1 {
            while chuangcheng::store::problems::index_pending(&app.db).await.unwrap() > 0 {}
        }
        assert_eq!(search("井盖").await, sorted(vec![ids[0].clone(), ids[1].clone()]), "round {round}");
        assert_eq!(search("井盖  破损").await, vec![ids[1].clone()], "every term must match");
        assert_eq!(search("盖破").await, vec![ids[1].clone()], "any substring");
        assert_eq!(search("井").await, sorted(vec![ids[0].clone(), ids[1].clone()]), "one character scans");
        assert_eq!(search(&codes[2].to_lowercase()).await, vec![ids[2].clone()], "a complete code");
        assert_eq!(search("井盖垃圾").await, Vec::<String>::new());
    }
    // Renaming the point re-indexes its problems: they are found by the new name.
    let (_, pt) = admin.get(&format!("/api/v1/points/{point}")).await;
    let type_id = app.id_of(&format!("SELECT type_id FROM points WHERE id = '{point}'")).await;
    let community = app.id_of(&format!("SELECT community_id FROM points WHERE id = '{point}'")).await;
    let version = app.scalar(&format!("SELECT version FROM points WHERE id = '{point}'")).await;
    let body = json!({"code": pt["code"], "name": "解放路龙凤桥段", "type_id": type_id, "fixed": pt["fixed"] == 1,
        "address": pt["address"], "lng": pt["lng"].to_string(), "lat": pt["lat"].to_string(), "community_id": community,
        "unit_id": pt["unit_id"], "lead_name": pt["lead_name"], "lead_phone": pt["lead_phone"], "backup_name": pt["backup_name"],
        "backup_phone": pt["backup_phone"], "guarantor_name": pt["guarantor_name"], "guarantor_phone": pt["guarantor_phone"],
        "active": true, "note": pt["note"], "version": version});
    let (status, v) = admin.put(&format!("/api/v1/points/{point}"), body).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(search("龙凤桥").await.len(), 3);

    // Keyset paging: two pages of two, newest first; back again; the other order.
    let (_, p1) = sup.get("/api/v1/problems?size=2").await;
    assert_eq!(p1["total"], 3);
    let first: Vec<&str> = p1["items"].as_array().unwrap().iter().map(|r| r["id"].as_str().unwrap()).collect();
    assert_eq!(first, [ids[2].as_str(), ids[1].as_str()]);
    assert!(p1["prev_cursor"].is_null());
    let next = p1["next_cursor"].as_str().unwrap().to_string();
    let (_, p2) = sup.get(&format!("/api/v1/problems?size=2&after={next}")).await;
    let second: Vec<&str> = p2["items"].as_array().unwrap().iter().map(|r| r["id"].as_str().unwrap()).collect();
    assert_eq!(second, [ids[0].as_str()]);
    assert!(p2["next_cursor"].is_null());
    let prev = p2["prev_cursor"].as_str().unwrap().to_string();
    let (_, back) = sup.get(&format!("/api/v1/problems?size=2&before={prev}")).await;
    assert_eq!(back["items"], p1["items"]);
    let (_, asc) = sup.get("/api/v1/problems?size=2&sort=found_asc").await;
    assert_eq!(asc["items"][0]["id"], ids[0].as_str());
    let (status, e) = sup.get("/api/v1/problems?after=garbage").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(e["error"]["code"], "invalid_cursor");
    assert!(e["error"]["message"].as_str().unwrap().contains("翻页参数无效"));
    // The page refuses the same bad filters with the same Chinese message (one query type for both).
    let b = app.login("supervisor").await;
    for bad in ["sort=sideways", "state=lost", "source=rumour", "overdue=maybe", "from=2026-13-01"] {
        let (status, e) = sup.get(&format!("/api/v1/problems?{bad}")).await;
        assert!(status.is_client_error() && e["error"]["code"].is_string(), "{bad}: {e}");
        let message = e["error"]["message"].as_str().unwrap().to_string();
        let (page_status, html) = b.get(&format!("/problems?{bad}")).await;
        assert_eq!(page_status, status, "{bad}");
        assert!(
            html.contains(&message) && html.contains("问题台账"),
            "{bad}: the page says “{message}” above its filter bar"
        );
    }
    let (status, e) = sup.get("/api/v1/problems?sort=sideways").await;
    assert_eq!((status, e["error"]["code"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_sort")));
    // The page walks the same way, with a page number for people.
    let (_, html) = b.get("/problems?size=2").await;
    assert!(html.contains("共 3 条，第 1/2 页"), "{html}");
    let href = html
        .split("href=\"?")
        .find(|s| s.contains("after="))
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .replace("&#38;", "&")
        .replace("&amp;", "&");
    let (_, html) = b.get(&format!("/problems?{href}")).await;
    assert!(
        html.contains("第 2/2 页") && html.contains(&format!("/problems/{}", ids[0])),
        "{href} {}",
        html.split("class=\"pager\"").nth(1).unwrap_or("")
    );
    assert!(!html.contains(&format!("/problems/{}\"", ids[2])));
});

fn urlencode(s: &str) -> String {
    s.bytes().map(|b| if b.is_ascii_alphanumeric() { (b as char).to_string() } else { format!("%{b:02X}") }).collect()
}
