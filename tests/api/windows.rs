//! Window service (好差评): rating a window from its QR page, the bad-rating case (callback,
//! ledger, reply, the rater's rating of the fix), appeals, device batches and the figures.

use crate::both;
use crate::fixtures::photo;
use crate::helpers::{Browser, TestApp, extract_csrf, field_codes};
use reqwest::StatusCode;
use serde_json::{Value, json};

/// A window of the demo's first bank branch (the `bank` account's unit): (id, code), after
/// the demo's window service (windows, staff, two months of ratings, cases) is seeded.
async fn bank_window(app: &TestApp) -> (String, String) {
    let stored = chuangcheng::demo::windows::seed(&app.db).await.expect("demo windows");
    assert!(stored > 500, "two months of demo ratings: {stored}");
    let bank = app.api_login("bank").await;
    let (status, page) = bank.get("/api/v1/windows").await;
    assert_eq!(status, StatusCode::OK, "{page}");
    let w = &page["items"][0];
    assert!(page["total"].as_i64().unwrap() >= 3, "the demo bank has windows: {page}");
    (w["id"].as_str().unwrap().to_string(), w["code"].as_str().unwrap().to_string())
}

/// Rates a window as a resident's phone would: the page first (cookies), then the form.
async fn rate(b: &Browser, code: &str, fields: &[(&str, &str)]) -> (StatusCode, String, Option<String>) {
    let (status, html) = b.get(&format!("/rate/{code}")).await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(html.contains("您对本次服务满意吗"), "the rating page asks");
    let csrf = extract_csrf(&html).expect("the rating form carries a token");
    let mut all = vec![("_csrf", csrf.as_str())];
    all.extend_from_slice(fields);
    b.post_raw(&format!("/rate/{code}"), &all).await
}

async fn month_figures(app: &TestApp) -> Value {
    let admin = app.api_login("admin").await;
    let (status, f) = admin.get("/api/v1/windows/figures").await;
    assert_eq!(status, StatusCode::OK, "{f}");
    f
}

fn line<'a>(lines: &'a Value, key: &str) -> &'a Value {
    lines.as_array().unwrap().iter().find(|l| l["key"] == key).unwrap_or_else(|| panic!("{key} in {lines}"))
}

both!(a_bad_rating_is_called_back_fixed_on_the_ledger_answered_and_the_fix_rated, |app: TestApp| async move {
    let (window_id, code) = bank_window(&app).await;
    let before = line(&month_figures(&app).await["windows"], &window_id)["tally"]["by_level"][0].as_i64().unwrap();

    let resident = app.browser();
    let fields = [
        ("level", "1"),
        ("tags", "推诿扯皮"),
        ("tags", "等候太久"),
        ("comment", "等了一个小时"),
        ("phone", "13800138000"),
    ];
    let (status, body, to) = rate(&resident, &code, &fields).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{body}");
    let to = to.expect("redirected to the rater's page");
    assert!(to.starts_with("/rate/r/"), "{to}");
    let token = to.trim_start_matches("/rate/r/").split('?').next().unwrap().to_string();
    let (_, page) = resident.get(&to).await;
    assert!(page.contains("差评工单号") && page.contains("待回访"), "{page}");
    assert!(!page.contains("13800138000"), "the phone is never shown");
    assert!(page.contains("<p class=\"pre-line\" id=\"rating-comment\">等了一个小时</p>"), "what they wrote: {page}");

    // One rating per browser, window and day.
    let (status, again, _) = rate(&resident, &code, &[("level", "5")]).await;
    assert_eq!(status, StatusCode::CONFLICT, "{again}");
    assert!(again.contains("今天已经评价过这个窗口了"), "{again}");
    // A tag of another level is refused in Chinese, nothing stored.
    let other = app.browser();
    let (status, wrong, _) = rate(&other, &code, &[("level", "5"), ("tags", "推诿扯皮")]).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(wrong.contains("不是“非常满意”可选的标签"), "{wrong}");
    // A good rating thanks the rater; the thanks page opened by itself leads to the form.
    let (status, _, to) = rate(&other, &code, &[("level", "5")]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let to = to.expect("thanks");
    let (status, thanks) = other.get(&to).await;
    assert_eq!(status, StatusCode::OK);
    assert!(thanks.contains("评价已提交") && thanks.contains("“非常满意”"), "{thanks}");
    let bare = other.get_raw(&format!("/rate/{code}/thanks")).await;
    assert_eq!(bare.status(), StatusCode::SEE_OTHER);
    assert_eq!(bare.headers()["location"], format!("/rate/{code}").as_str());

    let f = month_figures(&app).await;
    assert_eq!(
        line(&f["windows"], &window_id)["tally"]["by_level"][0].as_i64().unwrap(),
        before + 1,
        "counted at once"
    );

    // The unit's case: a real-name callback is required, then the ledger.
    let bank = app.api_login("bank").await;
    let (_, cases) = bank.get("/api/v1/rating-cases").await;
    let case = cases["items"].as_array().unwrap().iter().find(|c| c["tags"] == "推诿扯皮、等候太久").expect("the case");
    let id = case["id"].as_str().unwrap().to_string();
    assert_eq!(case["state"], "callback");
    let v = case["version"].as_i64().unwrap();
    let (status, e) =
        bank.post(&format!("/api/v1/rating-cases/{id}/callback"), json!({"result": "anonymous", "version": v})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    assert!(e.to_string().contains("须实名回访"), "{e}");
    let (status, c) = bank
        .post(
            &format!("/api/v1/rating-cases/{id}/callback"),
            json!({"result": "reached", "note": "已致歉", "version": v}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{c}");
    let body = json!({"outcome": "ledger", "finding": "高峰时段只开一个窗口", "version": c["version"]});
    let (status, c) = bank.post(&format!("/api/v1/rating-cases/{id}/resolve"), body).await;
    assert_eq!(status, StatusCode::OK, "{c}");
    assert_eq!(c["state"], "fixing");
    let pid = c["problem_id"].as_str().expect("a ledger problem").to_string();
    let (_, p) = bank.get(&format!("/api/v1/problems/{pid}")).await;
    assert_eq!(p["problem"]["source"], "window_rating", "{p}");
    assert!(p["problem"]["deadline_at"].as_i64().unwrap() > c["verified_at"].as_i64().unwrap() + 14 * 86_400_000);

    // Fixed on the ledger and passed: the case is answered, on time, and the rater told.
    bank.act_ok(&pid, "acknowledge", json!({})).await;
    bank.act_ok(&pid, "submit_fix", json!({"note": "增开高峰窗口", "photos": [photo(91)]})).await;
    let admin = app.api_login("admin").await;
    admin.act_ok(&pid, "pass", json!({})).await;
    let (_, c) = bank.get(&format!("/api/v1/rating-cases/{id}")).await;
    assert_eq!((c["state"].as_str(), c["on_time"].as_i64()), (Some("replied"), Some(1)), "{c}");
    let sms =
        app.scalar("SELECT COUNT(*) FROM sms_outbox WHERE phone = '13800138000' AND body LIKE '%增开高峰窗口%'").await;
    assert_eq!(sms, 1, "the reply goes to the rater by text message");

    // 查进度 finds the case by its number and the phone's last four digits.
    let case_code = c["code"].as_str().unwrap().to_string();
    let (_, lookup) = resident.get("/public/status").await;
    let lcsrf = extract_csrf(&lookup).unwrap();
    let (status, found, _) =
        resident.post_raw("/public/status", &[("_csrf", &lcsrf), ("code", &case_code), ("last4", "8000")]).await;
    assert_eq!(status, StatusCode::OK, "{found}");
    assert!(found.contains("增开高峰窗口") && !found.contains("13800138000"), "{found}");
    let (status, _, _) =
        resident.post_raw("/public/status", &[("_csrf", &lcsrf), ("code", &case_code), ("last4", "1234")]).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // The rater who lost the private link rates the fix from there (wrong digits refused),
    // once: the private link then shows the rating and refuses another.
    assert!(found.contains("action=\"/public/status/case-fix\""), "{found}");
    let fix_saying = |last4: &'static str, level: &'static str, comment: String| {
        let (resident, lcsrf, case_code) = (&resident, lcsrf.clone(), case_code.clone());
        async move {
            resident
                .post_raw(
                    "/public/status/case-fix",
                    &[
                        ("_csrf", &lcsrf),
                        ("code", &case_code),
                        ("last4", last4),
                        ("level", level),
                        ("comment", &comment),
                    ],
                )
                .await
        }
    };
    let fix = |last4: &'static str, level: &'static str| fix_saying(last4, level, String::new());
    assert_eq!(fix("1234", "1").await.0, StatusCode::NOT_FOUND);
    let (status, unchosen, _) = fix("8000", "").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(unchosen.contains("请选择对整改结果的评价"), "{unchosen}");
    assert!(unchosen.contains("name=\"comment\""), "the fix rating takes a comment: {unchosen}");
    // A comment too long is refused with what was chosen and typed kept; nothing is rated.
    let (status, long, _) = fix_saying("8000", "5", "等".repeat(201)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(long.contains("意见不能超过200个字") && long.contains(&"等".repeat(201)), "{long}");
    assert!(long.contains("value=\"5\" required checked"), "{long}");
    assert_eq!(
        app.scalar(&format!("SELECT COUNT(*) FROM rating_cases WHERE id = '{id}' AND fix_level IS NULL")).await,
        1
    );
    let said = "高峰时段已增开窗口，等候时间短多了";
    let (status, rated, _) = fix_saying("8000", "5", format!("  {said}\n")).await;
    assert_eq!(status, StatusCode::OK, "{rated}");
    assert!(rated.contains("感谢您对整改结果的评价") && rated.contains("id=\"fix-level\""), "{rated}");
    assert!(
        rated.contains(&format!("<p class=\"pre-line\" id=\"fix-comment\">{said}</p>")),
        "the rater sees what they said: {rated}"
    );
    // The unit reads it on the case.
    let b = app.login("bank").await;
    let (_, case) = b.get(&format!("/rating-cases/{id}")).await;
    assert!(case.contains(&format!("<div id=\"fix-comment\">{said}</div>")), "{case}");
    let (status, twice, _) = fix("8000", "1").await;
    assert_eq!(status, StatusCode::CONFLICT, "{twice}");
    let (_, page) = resident.get(&format!("/rate/r/{token}")).await;
    assert!(page.contains("已答复") && page.contains("增开高峰窗口") && page.contains("id=\"fix-level\""), "{page}");
    let (status, twice, _) = resident.post_raw(&format!("/rate/r/{token}"), &[("_csrf", &lcsrf), ("level", "1")]).await;
    assert_eq!(status, StatusCode::CONFLICT, "{twice}");
    assert_eq!(app.scalar(&format!("SELECT fix_level FROM rating_cases WHERE id = '{id}'")).await, 5);

    // The figures: callback, fix on time and callback satisfaction all counted.
    let f = month_figures(&app).await;
    let w = line(&f["windows"], &window_id);
    assert!(w["cases"].as_i64().unwrap() >= 1 && w["called"].as_i64().unwrap() >= 1, "{w}");
    assert!(w["fix_good"].as_i64().unwrap() >= 1, "{w}");

    // The unit's 千分制 ledger shows the problem; every step is in the audit log.
    let unit_id = c["unit_id"].as_str().unwrap();
    let (status, ledger) = admin.get(&format!("/api/v1/scoring/window/ledger/{unit_id}")).await;
    assert_eq!(status, StatusCode::OK, "{ledger}");
    assert!(ledger.to_string().contains(&pid), "the ledger entry cites the problem: {ledger}");
    let audited = app
        .scalar(&format!(
            "SELECT COUNT(*) FROM audit_log WHERE object_id = '{id}' AND action IN ('case_callback', 'case_to_ledger', 'case_replied', 'case_rate_fix')"
        ))
        .await;
    assert_eq!(audited, 4);
    // The office reads the case's history in Chinese: fields, states, people and times.
    let (_, log) = admin.get(&format!("/api/v1/audit?object_id={id}&size=50")).await;
    let changes: Vec<String> = log["items"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|e| e["changes"].as_array().unwrap().clone())
        .map(|c| format!("{}：{} → {}", c["label"].as_str().unwrap(), c["before"], c["after"]))
        .collect();
    let all = changes.join("\n");
    for said in ["回访结果", "工单状态", "评价人对整改", "评价人意见", "答复评价人", "台账问题"]
    {
        assert!(all.contains(said), "{said}: {all}");
    }
    assert!(!all.contains('_') && !all.contains("replied") && !all.contains("reached"), "{all}");
    let raw = |w: &str| {
        w.len() == 36 && w.matches('-').count() == 4 || w.len() >= 13 && w.chars().all(|c| c.is_ascii_digit())
    };
    let words: Vec<&str> = all.split(|c: char| !(c.is_ascii_alphanumeric() || c == '-')).collect();
    assert!(!words.iter().any(|w| raw(w)), "no raw times or ids: {all}");
});

both!(an_upheld_appeal_leaves_the_rating_out_of_the_figures_but_on_record, |app: TestApp| async move {
    let (window_id, code) = bank_window(&app).await;
    let device_key = issue_device(&app).await;
    let seq = "A-1";
    let batch = json!({"ratings": [{"window": code, "level": 2, "tags": ["态度生硬"], "seq": seq}]});
    let (status, r) = device_post(&app, &device_key, &batch).await;
    assert_eq!(status, StatusCode::OK, "{r}");
    let bad_before = line(&month_figures(&app).await["windows"], &window_id)["tally"]["by_level"][1].as_i64().unwrap();
    let rating_id = app.id_of("SELECT id FROM ratings WHERE once_key LIKE 'd:%:A-1'").await;
    let case_id = app.id_of(&format!("SELECT id FROM rating_cases WHERE rating_id = '{rating_id}'")).await;

    // The unit appeals with evidence on the case page.
    let bank = app.login("bank").await;
    let (_, html) = bank.get(&format!("/rating-cases/{case_id}")).await;
    assert!(html.contains("申诉（恶意差评）"), "{html}");
    let version = app.scalar(&format!("SELECT version FROM rating_cases WHERE id = '{case_id}'")).await.to_string();
    let form = reqwest::multipart::Form::new()
        .text("_csrf", bank.csrf.clone())
        .text("version", version)
        .text("reason", "监控显示该评价人未在本网点办理业务，系同行恶意评价")
        .part(
            "photos",
            reqwest::multipart::Part::bytes(crate::fixtures::jpeg_bytes(7))
                .file_name("a.jpg")
                .mime_str("image/jpeg")
                .unwrap(),
        );
    let res =
        bank.client.post(format!("{}/rating-cases/{case_id}/appeal", app.base)).multipart(form).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER, "{}", res.text().await.unwrap());

    let admin = app.api_login("admin").await;
    let v = admin.get(&format!("/api/v1/rating-cases/{case_id}")).await.1["version"].clone();
    let (status, c) = admin
        .post(
            &format!("/api/v1/rating-cases/{case_id}/decide"),
            json!({"uphold": true, "note": "证据充分", "version": v}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{c}");
    assert_eq!(c["state"], "upheld");
    let bad_after = line(&month_figures(&app).await["windows"], &window_id)["tally"]["by_level"][1].as_i64().unwrap();
    assert_eq!(bad_after, bad_before - 1, "left out of the figures");
    assert_eq!(
        app.scalar(&format!("SELECT excluded FROM ratings WHERE id = '{rating_id}'")).await,
        1,
        "kept on record"
    );
    let (_, list) = admin.get(&format!("/api/v1/ratings?window_id={window_id}&level=2")).await;
    assert!(
        list["items"].as_array().unwrap().iter().any(|r| r["id"] == rating_id.as_str() && r["excluded"] == 1),
        "{list}"
    );
    // The same device rating sent again is not counted twice.
    let (_, again) = device_post(&app, &device_key, &batch).await;
    assert_eq!((again["stored"].as_i64(), again["duplicates"].as_i64()), (Some(0), Some(1)), "{again}");
});

async fn issue_device(app: &TestApp) -> String {
    let bank = app.login("bank").await;
    let (status, html, _) = bank.post("/windows/devices", &[("name", "大堂评价器")]).await;
    assert_eq!(status, StatusCode::OK, "{html}");
    let start = html.find("<code id=\"new-key\">").expect("the key is shown once") + "<code id=\"new-key\">".len();
    html[start..start + html[start..].find('<').unwrap()].to_string()
}

async fn device_post(app: &TestApp, key: &str, body: &Value) -> (StatusCode, Value) {
    let res = reqwest::Client::new()
        .post(format!("{}/api/v1/ratings/batch", app.base))
        .header("x-device-key", key)
        .json(body)
        .send()
        .await
        .unwrap();
    let status = res.status();
    (status, res.json().await.unwrap_or(Value::Null))
}

both!(device_batches_are_checked_whole_and_refused_in_chinese, |app: TestApp| async move {
    let (window, code) = bank_window(&app).await;
    let key = issue_device(&app).await;
    let before = app.scalar("SELECT COUNT(*) FROM ratings").await;
    let (status, e) = device_post(&app, "ccrd_wrong", &json!({"ratings": []})).await;
    assert_eq!((status, e["error"]["code"].as_str()), (StatusCode::FORBIDDEN, Some("device_key_invalid")));
    let batch = json!({"ratings": [
        {"window": code, "level": 5, "seq": "1"},
        {"window": "NOPE00", "level": 5, "seq": "2"},
        {"window": code, "level": 9, "seq": "3"},
        {"window": code, "level": 4}
    ]});
    let (status, e) = device_post(&app, &key, &batch).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    let fields: Vec<String> = field_codes(&e).into_iter().map(|(f, _)| f).collect();
    assert!(fields.contains(&"ratings[1].window".into()) && fields.contains(&"ratings[2].level".into()), "{fields:?}");
    assert!(fields.contains(&"ratings[3].seq".into()), "{fields:?}");
    assert_eq!(app.scalar("SELECT COUNT(*) FROM ratings").await, before, "nothing half-saved");
    let many: Vec<Value> = (0..501).map(|i| json!({"window": code, "level": 5, "seq": i.to_string()})).collect();
    let (status, e) = device_post(&app, &key, &json!({"ratings": many})).await;
    assert_eq!((status, e["error"]["code"].as_str()), (StatusCode::PAYLOAD_TOO_LARGE, Some("batch_too_large")));
    let ok: Vec<Value> = (0..20).map(|i| json!({"window": code, "level": 5, "seq": format!("ok{i}")})).collect();
    // 办件量 without a batch id would be added again by a resend: refused whole.
    let (status, e) = device_post(&app, &key, &json!({"ratings": ok, "served": {code.clone(): 40}})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    assert_eq!(field_codes(&e), [("batch_id".to_string(), "required".to_string())]);
    assert!(e.to_string().contains("以免重发时重复计数"), "{e}");
    assert_eq!(app.scalar("SELECT COUNT(*) FROM ratings").await, before, "nothing half-saved");
    let (status, r) =
        device_post(&app, &key, &json!({"ratings": ok, "served": {code.clone(): 40}, "batch_id": "b6"})).await;
    assert_eq!((status, r["stored"].as_i64()), (StatusCode::OK, Some(20)), "{r}");
    assert_eq!(app.scalar("SELECT COUNT(*) FROM ratings").await, before + 20);
    // A batch sent again with its id (the first answer was lost): its ratings and its 办件量
    // are counted once; the next batch adds its own.
    let served =
        format!("SELECT CAST(COALESCE(SUM(served), 0) AS BIGINT) FROM window_volumes WHERE window_id = '{window}'");
    let volume = app.scalar(&served).await;
    let again: Vec<Value> = (0..5).map(|i| json!({"window": code, "level": 4, "seq": format!("b7-{i}")})).collect();
    let batch = json!({"ratings": again, "served": {code.clone(): 12}, "batch_id": "b7"});
    let (status, r) = device_post(&app, &key, &batch).await;
    assert_eq!((status, r["stored"].as_i64()), (StatusCode::OK, Some(5)), "{r}");
    let (status, r) = device_post(&app, &key, &batch).await;
    assert_eq!((status, r["stored"].as_i64(), r["duplicates"].as_i64()), (StatusCode::OK, Some(0), Some(5)), "{r}");
    assert_eq!(app.scalar(&served).await, volume + 12, "办件量 counted once");
    let next = json!({"ratings": [], "served": {code.clone(): 3}, "batch_id": "b8"});
    assert_eq!(device_post(&app, &key, &next).await.0, StatusCode::OK);
    assert_eq!(app.scalar(&served).await, volume + 15);
    let (status, e) =
        device_post(&app, &key, &json!({"ratings": [], "served": {code.clone(): -5}, "batch_id": "b10"})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(field_codes(&e), [(format!("served.{code}"), "invalid_value".to_string())]);
    let (status, e) = device_post(&app, &key, &json!({"ratings": [], "batch_id": "../b9"})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(field_codes(&e), [("batch_id".to_string(), "invalid_client_ref".to_string())]);
});

both!(units_see_only_their_own_windows_and_cases, |app: TestApp| async move {
    bank_window(&app).await;
    let bank = app.api_login("bank").await;
    let (_, mine) = bank.get("/api/v1/windows?size=200").await;
    let units: std::collections::HashSet<String> =
        mine["items"].as_array().unwrap().iter().map(|w| w["unit_id"].as_str().unwrap().to_string()).collect();
    assert_eq!(units.len(), 1, "a bank sees only its own windows");
    let other = app
        .id_of(&format!(
            "SELECT c.id FROM rating_cases c WHERE c.unit_id <> '{}' LIMIT 1",
            units.iter().next().unwrap()
        ))
        .await;
    let (status, _) = bank.get(&format!("/api/v1/rating-cases/{other}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // The bank's start page lists its open cases; a unit without windows has no such section.
    let (_, todo) = bank.get("/api/v1/me/todo").await;
    let section = todo.as_array().unwrap().iter().find(|s| s["key"] == "rating_cases").expect("the section");
    assert!(section["total"].as_i64().unwrap() >= 1, "{section}");
    let (_, todo) = app.api_login("lead").await.get("/api/v1/me/todo").await;
    assert!(!todo.to_string().contains("rating_cases"));
    // Its menu has window service; a unit without windows is spared it, the office keeps it.
    let menu = |html: &str| {
        html.split("id=\"sidemenu\"").nth(1).and_then(|m| m.split("</nav>").next()).unwrap_or("").to_string()
    };
    let (_, html) = app.login("bank").await.get("/").await;
    assert!(menu(&html).contains("href=\"/rating-cases?state=open\""), "{html}");
    // Its start page puts what waits (the cases) before the sections with nothing waiting.
    let cases = html.find("id=\"todo-rating_cases\"").expect("the cases' section");
    let empty = html.find("todo-empty").expect("sections with nothing waiting");
    assert!(cases < empty, "{html}");
    for user in ["lead", "unit"] {
        let (_, html) = app.login(user).await.get("/").await;
        let m = menu(&html);
        assert!(!m.is_empty() && !m.contains("窗口服务") && !m.contains("/rating-cases"), "{user}: {m}");
    }
    let (_, html) = app.login("admin").await.get("/").await;
    assert!(menu(&html).contains("窗口服务"));
    let grid = app.api_login("grid").await;
    let (status, _) = grid.get("/api/v1/rating-cases").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // The public cannot reach the staff pages, and an unknown window is a Chinese 404.
    let (status, page) = app.browser().get("/rate/ZZZZZZ").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(page.contains("该窗口不存在"), "{page}");
});

both!(
    review_fixes_multiline_comments_the_phone_to_call_one_appeal_and_a_voided_ledger_problem,
    |app: TestApp| async move {
        let (_, code) = bank_window(&app).await;
        // A comment typed over two lines (browsers send CRLF) is taken.
        let resident = app.browser();
        let (status, body, _) =
            rate(&resident, &code, &[("level", "2"), ("comment", "第一行\r\n第二行"), ("phone", "13600136000")]).await;
        assert_eq!(status, StatusCode::SEE_OTHER, "{body}");
        let bank = app.api_login("bank").await;
        let (_, cases) = bank.get("/api/v1/rating-cases?state=open").await;
        let case = cases["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["comment"] == "第一行\r\n第二行")
            .expect("the case")
            .clone();
        assert_eq!(case["rater_phone"], "13600136000", "the unit sees whom to call back");
        // The office reads it too; supervisors, evaluators and the discipline office are told
        // there is one, not the number (the rating form promised 仅用于回访).
        let case_id = case["id"].as_str().unwrap().to_string();
        let (_, c) = app.api_login("admin").await.get(&format!("/api/v1/rating-cases/{case_id}")).await;
        assert_eq!(c["rater_phone"], "13600136000");
        for role in ["supervisor", "evaluator", "discipline"] {
            let api = app.api_login(role).await;
            let (status, c) = api.get(&format!("/api/v1/rating-cases/{case_id}")).await;
            assert_eq!((status, c["rater_phone"].as_str()), (StatusCode::OK, Some("")), "{role}: {c}");
            let (_, listed) = api.get("/api/v1/rating-cases?size=100").await;
            assert!(!listed.to_string().contains("13600136000"), "{role}: {listed}");
            let b = app.login(role).await;
            let (status, html) = b.get(&format!("/rating-cases/{case_id}")).await;
            assert_eq!(status, StatusCode::OK, "{role}");
            assert!(!html.contains("13600136000") && html.contains("实名，须回访"), "{role}: {html}");
        }
        // An anonymous bad rating needs no callback: it waits for the verification at once.
        let other = app.browser();
        rate(&other, &code, &[("level", "1"), ("tags", "乱收费")]).await;
        let (_, cases) = bank.get("/api/v1/rating-cases?state=verify").await;
        let anon =
            cases["items"].as_array().unwrap().iter().find(|c| c["tags"] == "乱收费").expect("anonymous case").clone();
        assert_eq!(anon["callback_result"], "anonymous");
        // Put on the ledger, then the office voids the problem: the unit decides again.
        let id = anon["id"].as_str().unwrap();
        let body = json!({"outcome": "ledger", "finding": "核实情况属实", "version": anon["version"]});
        let (status, c) = bank.post(&format!("/api/v1/rating-cases/{id}/resolve"), body).await;
        assert_eq!(status, StatusCode::OK, "{c}");
        let pid = c["problem_id"].as_str().unwrap().to_string();
        let admin = app.api_login("admin").await;
        admin.act_ok(&pid, "void", json!({"reason": "重复登记"})).await;
        let (_, c) = bank.get(&format!("/api/v1/rating-cases/{id}")).await;
        assert_eq!((c["state"].as_str(), c["problem_id"].as_str()), (Some("verify"), None), "{c}");
        // One appeal per case: rejected, it goes back, and a second appeal is refused.
        let page = app.login("bank").await;
        let appeal = |version: i64| {
            let form = reqwest::multipart::Form::new()
                .text("_csrf", page.csrf.clone())
                .text("version", version.to_string())
                .text("reason", "监控显示评价时该窗口无人办理业务，系恶意差评")
                .part("photos", reqwest::multipart::Part::bytes(crate::fixtures::jpeg_bytes(5)).file_name("e.jpg"));
            page.client.post(format!("{}/rating-cases/{id}/appeal", app.base)).multipart(form).send()
        };
        assert_eq!(appeal(c["version"].as_i64().unwrap()).await.unwrap().status(), StatusCode::SEE_OTHER);
        let v = bank.get(&format!("/api/v1/rating-cases/{id}")).await.1["version"].clone();
        let (status, c) = admin
            .post(
                &format!("/api/v1/rating-cases/{id}/decide"),
                json!({"uphold": false, "note": "证据不足", "version": v}),
            )
            .await;
        assert_eq!((status, c["state"].as_str()), (StatusCode::OK, Some("verify")), "{c}");
        let res = appeal(c["version"].as_i64().unwrap()).await.unwrap();
        assert_eq!(res.status(), StatusCode::CONFLICT);
        assert!(res.text().await.unwrap().contains("只能申诉一次"));
    }
);

both!(window_red_flags_blend_the_publics_ratings_with_inspections, |app: TestApp| async move {
    use chrono::Datelike;
    bank_window(&app).await;
    let admin = app.api_login("admin").await;
    let today = crate::fixtures::today();
    let last_month = (today.with_day(1).unwrap() - chrono::Duration::days(1)).with_day(1).unwrap();
    let tenth = crate::fixtures::day(last_month + chrono::Duration::days(9));
    let month = format!("{}-{:02}", last_month.year(), last_month.month());
    let (_, f) = admin.get(&format!("/api/v1/windows/figures?month={month}")).await;
    let mut units: Vec<(String, f64)> = f["units"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|u| u["sector"] == "bank")
        .map(|u| {
            let t = &u["tally"]["by_level"];
            let points = [0.0, 30.0, 60.0, 80.0, 100.0];
            let (n, sum) = (0..5).fold((0.0, 0.0), |(n, s), i| {
                let c = t[i].as_f64().unwrap();
                (n + c, s + c * points[i])
            });
            (u["key"].as_str().unwrap().to_string(), sum / n)
        })
        .collect();
    units.sort_by(|a, b| a.1.total_cmp(&b.1));
    let (worse, better) = (units.first().unwrap().clone(), units.last().unwrap().clone());
    assert!(better.1 > worse.1, "{units:?}");
    // The same inspection record for both (one commendation each); the ratings decide.
    for (u, _) in [&worse, &better] {
        let (status, a) = admin
            .post("/api/v1/scoring/window/commendations", json!({"target_id": u, "note": "文明服务", "date": tenth}))
            .await;
        assert_eq!(status, StatusCode::CREATED, "{a}");
    }
    let (status, flags) = admin.post("/api/v1/scoring/window/red-flags", json!({"date": tenth})).await;
    assert_eq!(status, StatusCode::CREATED, "{flags}");
    let order: Vec<&str> = flags.as_array().unwrap().iter().map(|f| f["target_id"].as_str().unwrap()).collect();
    assert_eq!(order, [better.0.as_str(), worse.0.as_str()], "the better-rated unit first: {flags}");
    assert!(flags[0]["note"].as_str().unwrap().contains("综合指数"), "{flags}");
});

both!(a_case_form_refused_keeps_what_was_typed_and_a_late_callback_stays_marked, |app: TestApp| async move {
    let (_, code) = bank_window(&app).await;
    let resident = app.browser();
    let (status, body, _) =
        rate(&resident, &code, &[("level", "1"), ("tags", "态度恶劣"), ("phone", "13700137000")]).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{body}");
    let id = app
        .id_of(
            "SELECT c.id FROM rating_cases c JOIN ratings r ON r.id = c.rating_id WHERE r.phone = '13700137000' \
             AND r.tags = '态度恶劣'",
        )
        .await;
    // Its callback deadline passed yesterday: the page and the list say it is late.
    let yesterday = chuangcheng::domain::time::now_ms() - chuangcheng::domain::time::DAY_MS;
    sqlx::query(&format!("UPDATE rating_cases SET callback_due = {yesterday} WHERE id = '{id}'"))
        .execute(&app.db.pool)
        .await
        .unwrap();
    let bank = app.login("bank").await;
    let (_, html) = bank.get(&format!("/rating-cases/{id}")).await;
    assert!(html.contains("回访期限") && html.contains("已逾期"), "{html}");
    let (_, listed) = bank.get("/rating-cases?overdue=1").await;
    assert!(listed.contains(&format!("/rating-cases/{id}")) && listed.contains("回访逾期"), "{listed}");
    // The callback without a result: refused beside the field, the note kept, the address the case's.
    let (status, html, _) =
        bank.post(&format!("/rating-cases/{id}/callback"), &[("note", "电话致歉，说明情况"), ("version", "1")]).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("<div class=\"field-error\">请选择回访结果</div>"), "{html}");
    assert!(html.contains(">电话致歉，说明情况</textarea>"), "the note is kept: {html}");
    let res = bank.get_raw(&format!("/rating-cases/{id}/callback")).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER, "the step's address leads back to the case");
    assert_eq!(res.headers()["location"], format!("/rating-cases/{id}").as_str());
    let (status, _, _) = bank
        .post(
            &format!("/rating-cases/{id}/callback"),
            &[("result", "reached"), ("note", "电话致歉，说明情况"), ("version", "1")],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    // Made after its deadline, the callback stays marked on the case and in the list.
    let (_, html) = bank.get(&format!("/rating-cases/{id}")).await;
    assert!(html.contains("超期回访") && !html.contains("已逾期"), "{html}");
    let (_, listed) = bank.get("/rating-cases").await;
    let row = listed.split(&format!("/rating-cases/{id}\"")).nth(1).and_then(|r| r.split("</tr>").next()).unwrap();
    assert!(row.contains("超期回访"), "{row}");
    // 当场整改 without the answer: the finding and the choice are kept, the message is beside the answer.
    let (status, html, _) = bank
        .post(
            &format!("/rating-cases/{id}/resolve"),
            &[("finding", "窗口人员解释不耐心"), ("outcome", "fix_at_once"), ("reply", ""), ("version", "2")],
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains(">窗口人员解释不耐心</textarea>"), "{html}");
    assert!(html.contains("value=\"fix_at_once\" required checked"), "the choice is kept: {html}");
    let reply_field = html.split("id=\"reply\"").nth(1).unwrap();
    assert!(reply_field.contains("请填写给评价人的整改答复"), "beside the answer: {reply_field}");
    // An appeal too short: its reason kept, the photos chosen named as to be chosen again.
    let (status, html, _) = crate::fixtures::post_multipart(
        &bank,
        &format!("/rating-cases/{id}/appeal"),
        &[("reason", "恶意差评"), ("version", "2")],
        vec![crate::fixtures::jpeg_bytes(3)],
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains(">恶意差评</textarea>") && html.contains("请写明申诉理由"), "{html}");
    assert!(html.contains("刚才选择的1张证据照片未能保留，请重新选择"), "{html}");
    assert_eq!(app.scalar(&format!("SELECT version FROM rating_cases WHERE id = '{id}'")).await, 2, "nothing saved");
    // An anonymous rating needs no callback: its deadline is the verification's.
    let (status, _, _) = rate(&app.browser(), &code, &[("level", "1"), ("tags", "乱收费")]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let anon = app
        .id_of(
            "SELECT c.id FROM rating_cases c JOIN ratings r ON r.id = c.rating_id WHERE r.phone = '' \
             AND r.tags = '乱收费' ORDER BY c.created_at DESC LIMIT 1",
        )
        .await;
    let (_, html) = bank.get(&format!("/rating-cases/{anon}")).await;
    assert!(html.contains("匿名，无需回访") && html.contains("核实期限") && !html.contains("回访期限"), "{html}");
});
