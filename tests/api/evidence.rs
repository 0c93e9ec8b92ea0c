//! Evidence checks on after-photos (EXIF time and place, re-used photos).

use crate::both;
use crate::fixtures::*;
use crate::helpers::*;
use base64::Engine;
use reqwest::StatusCode;
use serde_json::{Value, json};

/// A JPEG carrying EXIF capture time and GPS, as a phone camera writes it.
pub fn jpeg_with_exif(seed: u8, taken: &str, lng: f64, lat: f64) -> String {
    let out = chuangcheng::media::with_exif(&jpeg_bytes(seed), taken, Some((lng, lat)));
    base64::engine::general_purpose::STANDARD.encode(out)
}

/// The after-photos' warnings as "code: message".
pub fn flags_of(d: &Value) -> Vec<String> {
    flag_objects(d)
        .iter()
        .map(|f| format!("{}: {}", f["code"].as_str().unwrap(), f["message"].as_str().unwrap()))
        .collect()
}

pub fn flag_objects(d: &Value) -> Vec<Value> {
    d["photos"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["kind"] == "after")
        .flat_map(|p| p["flags"].as_array().unwrap().clone())
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
    assert!(f.iter().any(|x| x.starts_with("reused_before: 与整改前照片是同一张")), "{f:?}");
    assert!(f.iter().any(|x| x.starts_with("no_capture_data: 照片没有拍摄时间信息")), "{f:?}");
    // 2. Another problem at the same point re-uses that photo as its after-photo.
    let p2 = sup.file_ok(json!({"point_id": point, "standard_item_id": item, "description": "二", "source": "supervision", "allow_duplicate": true, "photos": [photo(50)]})).await;
    let code1 = p1["code"].as_str().unwrap().to_string();
    let id2 = submit(p2["id"].as_str().unwrap().to_string(), before.clone()).await;
    let (_, d) = sup.get(&format!("/api/v1/problems/{id2}")).await;
    let reused: Vec<Value> = flag_objects(&d).into_iter().filter(|f| f["code"] == "reused_other").collect();
    assert_eq!(reused.len(), 1, "{:?}", flags_of(&d));
    assert_eq!(reused[0]["problem_code"], code1.as_str());
    assert!(reused[0]["photo_id"].as_str().is_some(), "the evidence names the photo");
    // 3. A genuine-looking photo taken before the problem was found, 2 km away.
    let p3 = sup.file_ok(json!({"point_id": point, "standard_item_id": item, "description": "三", "source": "supervision", "allow_duplicate": true, "photos": [photo(60)]})).await;
    let id3 =
        submit(p3["id"].as_str().unwrap().to_string(), jpeg_with_exif(33, "2026:01:05 09:00:00", plng + 0.02, plat))
            .await;
    let (_, d) = sup.get(&format!("/api/v1/problems/{id3}")).await;
    let f = flags_of(&d);
    assert!(f.iter().any(|x| x.starts_with("taken_before_found:") && x.contains("早于问题发现时间")), "{f:?}");
    assert!(f.iter().any(|x| x.starts_with("far_from_point: 照片的拍摄位置距点位约")), "{f:?}");
    assert!(!f.iter().any(|x| x.starts_with("reused")), "{f:?}");
    // 4. A fresh photo taken at the point after the problem was found raises nothing.
    let p4 = sup.file_ok(json!({"point_id": point, "standard_item_id": item, "description": "四", "source": "supervision", "allow_duplicate": true, "photos": [photo(70)]})).await;
    let now = chuangcheng::domain::time::to_local(chuangcheng::domain::time::now_ms() + 60_000)
        .format("%Y:%m:%d %H:%M:%S")
        .to_string();
    let id4 = submit(p4["id"].as_str().unwrap().to_string(), jpeg_with_exif(34, &now, plng, plat)).await;
    let (_, d) = sup.get(&format!("/api/v1/problems/{id4}")).await;
    assert_eq!(flags_of(&d), Vec::<String>::new());
    // The supervisor sees the warnings on the page at the re-check.
    let b = app.login("supervisor").await;
    let (_, html) = b.get(&format!("/problems/{id1}")).await;
    assert!(html.contains("重复使用整改前照片</b>：与整改前照片是同一张") && html.contains("核查通过"), "{html}");
    // The ledger filter 有证据警告 finds the problems with warnings, and only those.
    let (_, page) = sup.get("/api/v1/problems?flagged=1&size=100").await;
    let ids: Vec<&str> = page["items"].as_array().unwrap().iter().map(|p| p["id"].as_str().unwrap()).collect();
    for id in [&id1, &id2, &id3] {
        assert!(ids.contains(&id.as_str()), "{id} is in the 有证据警告 list");
    }
    assert!(!ids.contains(&id4.as_str()));
    let (_, html) = b.get("/problems?flagged=1").await;
    assert!(html.contains("有证据警告"), "the filter is on the page");
    // The KPIs give each unit its share of fixes with warnings (3 of the 4 fixes here).
    let today = chuangcheng::domain::time::to_local(chuangcheng::domain::time::now_ms()).format("%Y-%m-%d").to_string();
    let (_, k) = sup.get(&format!("/api/v1/kpi?from={today}&to={today}")).await;
    let unit = app.id_of("SELECT unit_id FROM users WHERE username = 'lead'").await;
    let line = k["lines"].as_array().unwrap().iter().find(|l| l["key"] == unit.as_str()).expect("the lead's unit");
    assert_eq!(line["flagged"], 3, "{line}");
    assert_eq!(line["evidence_warning_rate"], 75.0, "{line}");
    // The re-check fails the first fix: its photo stays on the record, but the fix no longer
    // stands, so it leaves the numerator as it left the denominator (never above 100%), and
    // the ledger's 有证据警告 (the rate's link) lists the standing ones.
    sup.act_ok(&id1, "fail", json!({"reason": "照片是整改前的"})).await;
    let (_, k) = sup.get(&format!("/api/v1/kpi?from={today}&to={today}")).await;
    let line = k["lines"].as_array().unwrap().iter().find(|l| l["key"] == unit.as_str()).expect("the lead's unit");
    assert_eq!((line["flagged"].as_i64(), line["disposed"].as_i64()), (Some(2), Some(3)), "{line}");
    assert_eq!(line["evidence_warning_rate"], 66.7, "{line}");
    let (_, page) = sup.get(&format!("/api/v1/problems?dfrom={today}&dto={today}&unit_id={unit}&flagged=1")).await;
    assert_eq!(page["total"], 2, "{page}");
    assert!(page["items"].as_array().unwrap().iter().all(|p| p["id"] != id1.as_str()), "{page}");
});

/// A street photo (a textured scene; the block pictures of `photo` repeat too much to align).
fn street(seed: u64) -> String {
    base64::engine::general_purpose::STANDARD.encode(chuangcheng::bench::evidence::street_jpeg(seed, true))
}

/// The street photo of `seed`, cropped, resized and re-saved: a copy with other bytes.
fn resaved(seed: u64) -> String {
    let img = image::load_from_memory(&chuangcheng::bench::evidence::street_jpeg(seed, true)).unwrap();
    let img = img.crop_imm(40, 30, 560, 420).resize(420, 315, image::imageops::FilterType::Triangle);
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 70).encode_image(&img.to_rgb8()).unwrap();
    base64::engine::general_purpose::STANDARD.encode(out)
}

both!(another_problems_photo_at_another_point_is_caught_after_resaving, |app: TestApp| async move {
    let sup = app.api_login("supervisor").await;
    let lead = app.api_login("lead").await;
    let (point, item) = road_point(&app).await;
    let elsewhere = app
        .id_of(&format!("SELECT id FROM points WHERE id <> '{point}' AND unit_id <> (SELECT unit_id FROM points WHERE id = '{point}') ORDER BY code LIMIT 1"))
        .await;
    let source = sup.file_ok(json!({"point_id": elsewhere, "category": "其他", "description": "别处的问题", "source": "supervision", "photos": [street(90)]})).await;
    let p = sup.file_ok(json!({"point_id": point, "standard_item_id": item, "description": "本处", "source": "supervision", "photos": [street(91)]})).await;
    let id = p["id"].as_str().unwrap().to_string();
    lead.act_ok(&id, "acknowledge", json!({})).await;
    lead.act_ok(&id, "submit_fix", json!({"note": "已整改", "photos": [resaved(90)]})).await;
    let (_, d) = sup.get(&format!("/api/v1/problems/{id}")).await;
    let reused: Vec<Value> = flag_objects(&d).into_iter().filter(|f| f["code"] == "reused_other").collect();
    assert_eq!(reused.len(), 1, "{:?}", flags_of(&d));
    assert_eq!(reused[0]["problem_code"], source["code"]);
    assert!(!flags_of(&d).iter().any(|f| f.starts_with("reused_before")), "its own before-photo is another picture");
    // A genuinely different after-photo of the same problem raises no re-use warning.
    let q = sup.file_ok(json!({"point_id": point, "standard_item_id": item, "description": "另一处", "source": "supervision", "allow_duplicate": true, "photos": [street(92)]})).await;
    let qid = q["id"].as_str().unwrap().to_string();
    lead.act_ok(&qid, "acknowledge", json!({})).await;
    lead.act_ok(&qid, "submit_fix", json!({"note": "已整改", "photos": [street(93)]})).await;
    let (_, d) = sup.get(&format!("/api/v1/problems/{qid}")).await;
    assert!(!flags_of(&d).iter().any(|f| f.starts_with("reused")), "{:?}", flags_of(&d));
    // A photo committed after the index last looked, but stamped before the newest photo it
    // had seen (another instance's slow filing: stamped when stored, committed after its other
    // photos), is still found.
    let late = sup.file_ok(json!({"point_id": elsewhere, "category": "其他", "description": "晚到的照片", "source": "supervision", "photos": [street(94)]})).await;
    let late_id = late["id"].as_str().unwrap();
    let moved = sqlx::query("UPDATE photos SET uploaded_at = uploaded_at - 60000 WHERE owner_id = $1")
        .bind(late_id)
        .execute(&app.db.pool)
        .await
        .unwrap();
    assert_eq!(moved.rows_affected(), 1);
    let r = sup.file_ok(json!({"point_id": point, "standard_item_id": item, "description": "第三处", "source": "supervision", "allow_duplicate": true, "photos": [street(95)]})).await;
    let rid = r["id"].as_str().unwrap().to_string();
    lead.act_ok(&rid, "acknowledge", json!({})).await;
    lead.act_ok(&rid, "submit_fix", json!({"note": "已整改", "photos": [resaved(94)]})).await;
    let (_, d) = sup.get(&format!("/api/v1/problems/{rid}")).await;
    let reused: Vec<Value> = flag_objects(&d).into_iter().filter(|f| f["code"] == "reused_other").collect();
    assert_eq!(reused.len(), 1, "{:?}", flags_of(&d));
    assert_eq!(reused[0]["problem_code"], late["code"]);
});

both!(the_phones_position_and_clock_are_a_second_witness, |app: TestApp| async move {
    let sup = app.api_login("supervisor").await;
    let lead = app.api_login("lead").await;
    let (point, item) = road_point(&app).await;
    let (plng, plat): (f64, f64) = sqlx::query_as(&format!("SELECT lng, lat FROM points WHERE id = '{point}'"))
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
    let now = chuangcheng::domain::time::now_ms();
    let new_problem = |n: u8| {
        let (sup, lead) = (&sup, &lead);
        let (point, item) = (point.clone(), item.clone());
        async move {
            let p = sup
                .file_ok(json!({"point_id": point, "standard_item_id": item, "description": format!("旁证{n}"),
                    "source": "supervision", "allow_duplicate": true, "photos": [photo(90 + n)]}))
                .await;
            let id = p["id"].as_str().unwrap().to_string();
            lead.act_ok(&id, "acknowledge", json!({})).await;
            id
        }
    };
    let after = |d: &Value| d["photos"].as_array().unwrap().iter().find(|p| p["kind"] == "after").unwrap().clone();

    // 1. The browser stripped the photo's EXIF; the phone was 2.5 km away when it sent it.
    let id = new_problem(1).await;
    let device = json!({"lat": plat, "lng": plng + 0.03, "accuracy_m": 15, "clock_ms": now});
    let (status, body) =
        lead.act(&id, "submit_fix", json!({"note": "已整改", "photos": [photo(101)], "device": device})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (_, d) = sup.get(&format!("/api/v1/problems/{id}")).await;
    let far: Vec<Value> = flag_objects(&d).into_iter().filter(|f| f["code"] == "far_from_point").collect();
    assert_eq!(far.len(), 1, "{:?}", flags_of(&d));
    assert_eq!(far[0]["witness"], "device");
    assert!(
        far[0]["distance_m"].as_f64().unwrap() > 2000.0
            && far[0]["message"].as_str().unwrap().contains("上传时手机距点位")
    );
    let ph = after(&d);
    assert_eq!((ph["device_accuracy"].as_f64(), ph["device_clock"].as_i64()), (Some(15.0), Some(now)));
    assert!(ph["uploaded_at"].as_i64().unwrap() >= now, "the server's receipt time is kept");

    // 2. The phone's clock runs five hours fast: its EXIF time looks later than the finding,
    //    corrected by the clock error it is earlier.
    let id = new_problem(2).await;
    let taken = chuangcheng::domain::time::to_local(now + 60_000).format("%Y:%m:%d %H:%M:%S").to_string();
    let device = json!({"lat": plat, "lng": plng, "accuracy_m": 10, "clock_ms": now + 5 * 3600 * 1000});
    let (status, _) = lead
        .act(
            &id,
            "submit_fix",
            json!({"note": "已整改", "photos": [jpeg_with_exif(41, &taken, plng, plat)], "device": device}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (_, d) = sup.get(&format!("/api/v1/problems/{id}")).await;
    let f = flag_objects(&d);
    assert_eq!(f.len(), 1, "{:?}", flags_of(&d));
    assert_eq!((f[0]["code"].as_str(), f[0]["witness"].as_str()), (Some("taken_before_found"), Some("device")));
    assert!(f[0]["message"].as_str().unwrap().contains("手机时钟快了5小时"), "{}", f[0]);

    // 3. A client sending a broken witness is told what is wrong; nothing is saved.
    let id = new_problem(3).await;
    let (status, body) =
        lead.act(&id, "submit_fix", json!({"note": "已整改", "photos": [photo(103)], "device": {"lat": plat}})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(field_codes(&body).contains(&("device".into(), "invalid_position".into())), "{body}");
    let (_, d) = sup.get(&format!("/api/v1/problems/{id}")).await;
    assert_eq!(d["problem"]["state"], "acknowledged");
    assert!(d["photos"].as_array().unwrap().iter().all(|p| p["kind"] != "after"), "no after-photo was kept");

    // 4. On the page: the form's hidden fields (filled by the page's script) reach the photo,
    //    and the re-check shows each witness.
    let id = new_problem(4).await;
    let b = app.login("lead").await;
    let clock = now.to_string();
    let (lat, lng) = (plat.to_string(), (plng + 0.0002).to_string());
    let fields = [
        ("note", "已清理"),
        ("device_lat", lat.as_str()),
        ("device_lng", lng.as_str()),
        ("device_accuracy", "12"),
        ("device_clock", clock.as_str()),
    ];
    let (status, _, _) = act_on_page(&b, &id, "submit_fix", &fields, vec![jpeg_bytes(104)]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (_, d) = sup.get(&format!("/api/v1/problems/{id}")).await;
    let ph = after(&d);
    assert_eq!((ph["device_accuracy"].as_f64(), ph["device_clock"].as_i64()), (Some(12.0), Some(now)));
    let f = flags_of(&d);
    assert_eq!(f.len(), 1, "{f:?}");
    assert!(f[0].starts_with("no_capture_data:") && f[0].contains("上传时手机在点位附近"), "{f:?}");
    let s = app.login("supervisor").await;
    let (_, html) = s.get(&format!("/problems/{id}")).await;
    assert!(
        html.contains("拍摄 未知 · 上传 ") && html.contains("上传时手机距点位约17米（定位精度±12米）"),
        "the witnesses are shown"
    );
    let (_, html) = s.get(&format!("/problems/new?point_id={point}")).await;
    assert!(
        html.contains("name=\"device_lat\"") && html.contains("data-device-status"),
        "the filing form has them too"
    );
    // A phone reporting from abroad, or a fix 150 km vague, never stops the fix being sent.
    let id = new_problem(5).await;
    let fields = [("note", "已清理"), ("device_lat", "35.68"), ("device_lng", "139.69"), ("device_accuracy", "150000")];
    let (status, html, _) = act_on_page(&b, &id, "submit_fix", &fields, vec![jpeg_bytes(105)]).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{html}");
    let (_, d) = sup.get(&format!("/api/v1/problems/{id}")).await;
    assert!(after(&d)["device_lat"].is_null(), "the unusable reading is not kept");
});

both!(a_before_photo_from_another_day_or_place_is_flagged, |app: TestApp| async move {
    let sup = app.api_login("supervisor").await;
    let (point, item) = road_point(&app).await;
    let (plng, plat): (f64, f64) = sqlx::query_as(&format!("SELECT lng, lat FROM points WHERE id = '{point}'"))
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
    let before = |d: &Value| -> Vec<Value> {
        d["photos"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|p| p["kind"] == "before")
            .flat_map(|p| p["flags"].as_array().unwrap().clone())
            .collect()
    };
    let now = chuangcheng::domain::time::to_local(chuangcheng::domain::time::now_ms());
    // Taken three days before the find, 2 km away: both said beside the before-photo.
    let old = (now - chrono::Duration::days(3)).format("%Y:%m:%d %H:%M:%S").to_string();
    let p = sup
        .file_ok(json!({"point_id": point, "standard_item_id": item, "description": "旧照片", "source": "supervision",
            "photos": [jpeg_with_exif(61, &old, plng + 0.02, plat)]}))
        .await;
    let (_, d) = sup.get(&format!("/api/v1/problems/{}", p["id"].as_str().unwrap())).await;
    let flags = before(&d);
    let codes: Vec<&str> = flags.iter().map(|f| f["code"].as_str().unwrap()).collect();
    assert!(codes.contains(&"taken_before_found") && codes.contains(&"far_from_point"), "{codes:?}");
    let msg =
        flags.iter().find(|f| f["code"] == "taken_before_found").unwrap()["message"].as_str().unwrap().to_string();
    assert!(msg.contains("早一天以上"), "{msg}");
    let (_, html) = app.login("supervisor").await.get(&format!("/problems/{}", p["id"].as_str().unwrap())).await;
    assert!(html.contains("可能不是本次发现时所拍"), "shown beside the before-photo");
    // Taken this morning at the point, or without any capture data: no warning.
    let fresh = (now - chrono::Duration::hours(2)).format("%Y:%m:%d %H:%M:%S").to_string();
    let q = sup
        .file_ok(json!({"point_id": point, "standard_item_id": item, "description": "新照片", "source": "supervision",
            "allow_duplicate": true, "photos": [jpeg_with_exif(62, &fresh, plng, plat), photo(63)]}))
        .await;
    let (_, d) = sup.get(&format!("/api/v1/problems/{}", q["id"].as_str().unwrap())).await;
    assert!(before(&d).is_empty(), "{:?}", before(&d));
    // The ledger's 有证据警告 stays about after-photos.
    let (_, page) = sup.get("/api/v1/problems?flagged=1").await;
    assert!(page["items"].as_array().unwrap().iter().all(|r| r["id"] != p["id"]), "{page}");
});
