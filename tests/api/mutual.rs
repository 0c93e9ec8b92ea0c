//! 互评互查: nine banks over twenty points — the assignment (never one's own point, balanced,
//! reproducible from the seed), a point scored on the inspector's phone page with a photo, the
//! finding filed as a problem of the inspected unit, and the round's report in Word and Excel.

use crate::both;
use crate::fixtures::jpeg_bytes;
use crate::helpers::{TestApp, xlsx_sheets};
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::collections::HashMap;

/// Nine bank branches (the demo's seven and two new ones) holding twenty points.
async fn nine_banks_twenty_points(app: &TestApp) -> Vec<String> {
    let admin = app.api_login("admin").await;
    for name in ["中国邮政储蓄银行沧州运河支行", "兴业银行沧州分行营业部"] {
        admin.created("/api/v1/units", json!({"name": name, "kind": "bank_branch"})).await;
    }
    let (_, units) = admin.get("/api/v1/units?kind=bank_branch&size=50").await;
    let banks: Vec<String> =
        units["items"].as_array().unwrap().iter().map(|u| u["id"].as_str().unwrap().to_string()).collect();
    assert_eq!(banks.len(), 9, "{units}");
    let (_, pts) = admin.get("/api/v1/points?size=200").await;
    let template = pts["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| banks.contains(&p["unit_id"].as_str().unwrap().to_string()))
        .expect("a bank point")
        .clone();
    let have = pts["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| banks.contains(&p["unit_id"].as_str().unwrap().to_string()))
        .count();
    for i in 0..(20 - have) {
        let mut p: Value = template.clone();
        p["code"] = format!("PB9{i:03}").into();
        p["name"] = format!("银行网点互查点{i}").into();
        p["unit_id"] = banks[i % 9].clone().into();
        let (status, body) = admin.post("/api/v1/points", p).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }
    banks
}

fn inspectors(round: &Value) -> HashMap<String, String> {
    round["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| (t["point_id"].as_str().unwrap().to_string(), t["inspector_unit_id"].as_str().unwrap().to_string()))
        .collect()
}

both!(nine_banks_inspect_each_other_and_the_round_reports, |app: TestApp| async move {
    let banks = nine_banks_twenty_points(&app).await;
    let admin = app.api_login("admin").await;
    let body = json!({"name": "2026年第四季度银行网点互评互查", "sector": "bank", "starts_on": "2026-12-01", "ends_on": "2026-12-20", "seed": 42});
    let round = admin.created("/api/v1/mutual-rounds", body.clone()).await;
    let tasks = round["tasks"].as_array().unwrap();
    assert_eq!(tasks.len(), 20);
    let mut loads: HashMap<&str, usize> = HashMap::new();
    for t in tasks {
        assert_ne!(t["owner_unit_id"], t["inspector_unit_id"], "never its own point: {t}");
        *loads.entry(t["inspector_unit_id"].as_str().unwrap()).or_default() += 1;
    }
    assert_eq!(loads.len(), 9, "every bank inspects: {loads:?}");
    assert!(loads.values().all(|n| (2..=3).contains(n)), "balanced: {loads:?}");
    assert!(banks.iter().all(|b| loads.contains_key(b.as_str())));
    let again = admin
        .created(
            "/api/v1/mutual-rounds",
            json!({"name": "复现", "sector": "bank", "starts_on": "2026-12-01", "ends_on": "2026-12-20", "seed": 42}),
        )
        .await;
    assert_eq!(inspectors(&round), inspectors(&again), "the same seed gives the same assignment");

    // The bank's inspector scores one of its points on the phone page: one failure with a photo.
    let rid = round["round"]["id"].as_str().unwrap();
    let bank_unit = app.id_of("SELECT unit_id FROM users WHERE username = 'bank'").await;
    let task = tasks.iter().find(|t| t["inspector_unit_id"] == bank_unit.as_str()).expect("a task for the bank");
    let tid = task["id"].as_str().unwrap();
    let bank = app.login("bank").await;
    let (status, html) = bank.get(&format!("/mutual/tasks/{tid}")).await;
    assert_eq!(status, StatusCode::OK);
    let items: Vec<String> = html
        .split("name=\"result_")
        .skip(1)
        .map(|s| s.split('"').next().unwrap().to_string())
        .fold(Vec::new(), |mut v, i| {
            if !v.contains(&i) {
                v.push(i);
            }
            v
        });
    assert!(items.len() >= 2, "the checklist of the point's type: {items:?}");
    let version = task["version"].as_i64().unwrap().to_string();
    let send = |with_photo: bool, all: bool| {
        let mut form =
            reqwest::multipart::Form::new().text("_csrf", bank.csrf.clone()).text("version", version.clone());
        for (k, item) in items.iter().enumerate() {
            if k == items.len() - 1 && !all {
                continue;
            }
            form = form.text(format!("result_{item}"), if k == 0 { "fail" } else { "pass" });
        }
        form = form.text(format!("note_{}", items[0]), "大堂地面有积水未清理");
        if with_photo {
            form = form.part(
                format!("photo_{}", items[0]),
                reqwest::multipart::Part::bytes(jpeg_bytes(31)).file_name("a.jpg"),
            );
        }
        bank.client.post(format!("{}/mutual/tasks/{tid}", app.base)).multipart(form).send()
    };
    let res = send(true, false).await.unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.text().await.unwrap().contains("请评定"), "an item left out is named");
    let res = send(false, true).await.unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.text().await.unwrap().contains("请拍照留证"), "a failure needs its photo");
    let res = send(true, true).await.unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER, "{}", res.text().await.unwrap());

    // The finding is a problem of source 互评互查 for the inspected unit, with the photo.
    let owner = task["owner_unit_id"].as_str().unwrap();
    let pid = app
        .id_of(&format!("SELECT c.problem_id FROM mutual_checks c WHERE c.task_id = '{tid}' AND c.result = 'fail'"))
        .await;
    assert_eq!(app.id_of(&format!("SELECT source FROM problems WHERE id = '{pid}'")).await, "mutual_inspection");
    assert_eq!(app.id_of(&format!("SELECT unit_id FROM problems WHERE id = '{pid}'")).await, owner);
    assert_eq!(app.scalar(&format!("SELECT COUNT(*) FROM photos WHERE owner_id = '{pid}'")).await, 1);
    let (_, v) = admin.get(&format!("/api/v1/mutual-rounds/{rid}")).await;
    assert_eq!(v["done"], 1);
    let n = items.len() as f64;
    let score = v["ranking"][0][1].as_f64().unwrap();
    assert!((score - ((n - 1.0) * 1000.0 / n).round() / 10.0).abs() < 0.01, "score {score} of {n} items");
    // Sent again (a reload): refused, nothing doubled.
    let res = send(true, true).await.unwrap();
    assert_eq!(res.status(), StatusCode::CONFLICT);

    // Published, with its Word and Excel report; a unit outside the round sees nothing.
    let office = app.login("admin").await;
    let (status, _, _) = office.post(&format!("/mutual/{rid}/publish"), &[]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (_, v) = admin.get(&format!("/api/v1/mutual-rounds/{rid}")).await;
    assert_eq!(v["round"]["state"], "published");
    let docx = office.get_raw(&format!("/mutual/{rid}/report.docx")).await;
    assert_eq!(docx.status(), StatusCode::OK);
    let bytes = docx.bytes().await.unwrap().to_vec();
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).expect("a real .docx");
    let mut xml = String::new();
    std::io::Read::read_to_string(&mut zip.by_name("word/document.xml").unwrap(), &mut xml).unwrap();
    assert!(xml.contains("2026年第四季度银行网点互评互查") && xml.contains("点位排名"), "the report's content");
    let sheets = xlsx_sheets(office.get_raw(&format!("/mutual/{rid}/report.xlsx")).await).await;
    let names: Vec<&str> = sheets.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["点位排名", "单位平均", "分配表"]);
    assert_eq!(sheets[2].1.len(), 21, "the assignment of twenty points under its header");
    let lead = app.api_login("lead").await;
    let (status, _) = lead.get(&format!("/api/v1/mutual-rounds/{rid}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
});

both!(a_ten_best_selection_nominates_votes_once_a_day_and_commends_the_winners, |app: TestApp| async move {
    chuangcheng::demo::windows::seed(&app.db).await.expect("demo windows");
    let office = app.login("admin").await;
    let (status, _, to) = office
        .post("/selections", &[("title", "2026年度十佳大堂经理"), ("kind", "lobby_manager"), ("winners", "1")])
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let id = to.unwrap().trim_start_matches("/selections/").split('?').next().unwrap().to_string();

    // The bank nominates its lobby manager; a two-word deed is refused.
    let bank = app.login("bank").await;
    let unit = app.id_of("SELECT unit_id FROM users WHERE username = 'bank'").await;
    let staff = app.id_of(&format!("SELECT id FROM window_staff WHERE unit_id = '{unit}' AND post = '大堂经理'")).await;
    let (status, html, _) =
        bank.post(&format!("/selections/{id}/nominate"), &[("staff_id", &staff), ("deeds", "很好")]).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("至少20字"), "{html}");
    let deeds = "坚持微笑服务，主动为老年客户提供上门服务，全年零投诉，多次获得客户书面表扬";
    let (status, _, _) =
        bank.post(&format!("/selections/{id}/nominate"), &[("staff_id", &staff), ("deeds", deeds)]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let nomination = app.id_of(&format!("SELECT id FROM nominations WHERE selection_id = '{id}'")).await;

    // Shortlisted and open; a staff vote once a day.
    office.post(&format!("/selections/{id}/shortlist"), &[("nomination_id", &nomination), ("on", "1")]).await;
    let (status, _, _) = office.post(&format!("/selections/{id}/open"), &[]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (status, _, _) = bank.post(&format!("/selections/{id}/vote"), &[("nomination_id", &nomination)]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (status, html, _) = bank.post(&format!("/selections/{id}/vote"), &[("nomination_id", &nomination)]).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(html.contains("今天已经投过票"));

    // The public: a code by text message, a wrong code refused, then one vote a day per phone.
    let resident = app.browser();
    let (_, page) = resident.get(&format!("/public/selections/{id}")).await;
    assert!(page.contains("入围名单") && page.contains("全年零投诉"), "{page}");
    let csrf = crate::helpers::extract_csrf(&page).unwrap();
    let path = format!("/public/selections/{id}");
    let phone = "13700001111";
    let (status, _, _) = resident.post_raw(&path, &[("_csrf", &csrf), ("step", "code"), ("phone", phone)]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let sms = app.id_of(&format!("SELECT body FROM sms_outbox WHERE phone = '{phone}'")).await;
    let code: String = sms.split("验证码").nth(1).unwrap().chars().take(6).collect();
    let vote = |code: String| {
        let (resident, path, csrf, nomination) = (&resident, path.clone(), csrf.clone(), nomination.clone());
        async move {
            resident
                .post_raw(
                    &path,
                    &[
                        ("_csrf", &csrf),
                        ("step", "vote"),
                        ("phone", phone),
                        ("code", &code),
                        ("nomination_id", &nomination),
                    ],
                )
                .await
        }
    };
    let wrong = if code == "000000" { "111111".to_string() } else { "000000".to_string() };
    let (status, html, _) = vote(wrong).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("验证码不正确"));
    let (status, _, _) = vote(code.clone()).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (status, _, _) = vote(code).await;
    assert_eq!(status, StatusCode::CONFLICT, "one vote per phone a day");
    // Eight guesses at once for another phone's code: five are tried, the code is then spent
    // (the right one refused too), and two taps on 获取验证码 at once text one code.
    let guesser = "13700002222";
    let ask = [("_csrf", csrf.as_str()), ("step", "code"), ("phone", guesser)];
    let sends = futures::future::join_all((0..2).map(|_| resident.post_raw(&path, &ask))).await;
    assert_eq!(
        sends.iter().filter(|s| s.0 == StatusCode::SEE_OTHER).count(),
        1,
        "{:?}",
        sends.iter().map(|s| s.0).collect::<Vec<_>>()
    );
    assert_eq!(app.scalar(&format!("SELECT COUNT(*) FROM sms_outbox WHERE phone = '{guesser}'")).await, 1);
    let sms = app.id_of(&format!("SELECT body FROM sms_outbox WHERE phone = '{guesser}'")).await;
    let right: String = sms.split("验证码").nth(1).unwrap().chars().take(6).collect();
    let guess = |code: String| {
        let (resident, path, csrf, nomination) = (&resident, path.clone(), csrf.clone(), nomination.clone());
        async move {
            let form = [
                ("_csrf", csrf.as_str()),
                ("step", "vote"),
                ("phone", guesser),
                ("code", &code),
                ("nomination_id", &nomination),
            ];
            resident.post_raw(&path, &form).await.0
        }
    };
    let wrong_codes = (0..8).map(|i| format!("{:06}", (right.parse::<u32>().unwrap() + 1 + i) % 1_000_000));
    let statuses = futures::future::join_all(wrong_codes.map(guess)).await;
    assert!(statuses.iter().all(|s| *s == StatusCode::UNPROCESSABLE_ENTITY), "{statuses:?}");
    let key = chuangcheng::service::phone_codes::key(guesser);
    assert_eq!(app.scalar(&format!("SELECT attempts FROM vote_codes WHERE phone_hash = '{key}'")).await, 5);
    assert_eq!(guess(right).await, StatusCode::UNPROCESSABLE_ENTITY, "the code is spent after five tries");
    assert_eq!(
        app.scalar(&format!("SELECT staff_votes + public_votes FROM nominations WHERE id = '{nomination}'")).await,
        2
    );

    // Published: the winner placed first, the unit commended in the 千分制.
    let (status, _, _) = office.post(&format!("/selections/{id}/publish"), &[]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(app.scalar(&format!("SELECT place FROM nominations WHERE id = '{nomination}'")).await, 1);
    let awarded = app
        .scalar(&format!(
            "SELECT COUNT(*) FROM score_awards WHERE target_id = '{unit}' AND kind = 'commendation' AND note LIKE '2026年度十佳大堂经理%'"
        ))
        .await;
    assert_eq!(awarded, 1);
    let (_, result) = resident.get(&format!("/public/selections/{id}")).await;
    assert!(result.contains("评选结果") && result.contains("全年零投诉"), "{result}");

    // Another selection is published while twelve staff vote: each vote is counted before the
    // result or refused as too late, and the counts never move after the result is out.
    let (_, _, to) =
        office.post("/selections", &[("title", "2026年度十佳柜员"), ("kind", "lobby_manager"), ("winners", "1")]).await;
    let second = to.unwrap().trim_start_matches("/selections/").split('?').next().unwrap().to_string();
    bank.post(&format!("/selections/{second}/nominate"), &[("staff_id", &staff), ("deeds", deeds)]).await;
    let pick = app.id_of(&format!("SELECT id FROM nominations WHERE selection_id = '{second}'")).await;
    office.post(&format!("/selections/{second}/shortlist"), &[("nomination_id", &pick), ("on", "1")]).await;
    assert_eq!(office.post(&format!("/selections/{second}/open"), &[]).await.0, StatusCode::SEE_OTHER);
    let names: Vec<String> =
        sqlx::query_scalar("SELECT username FROM users WHERE active = 1 AND username <> 'bank' ORDER BY username")
            .fetch_all(&app.db.pool)
            .await
            .unwrap();
    let mut voters = Vec::new();
    for name in names.iter().take(12) {
        voters.push(app.login(name).await);
    }
    assert_eq!(voters.len(), 12, "{names:?}");
    let counted = format!("SELECT staff_votes FROM nominations WHERE id = '{pick}'");
    let votes = futures::future::join_all(voters.iter().map(|v| {
        let (second, pick) = (&second, &pick);
        async move {
            let (status, html, _) = v.post(&format!("/selections/{second}/vote"), &[("nomination_id", pick)]).await;
            (status, html.contains("投票已结束") || html.contains("当前不在投票期"))
        }
    }));
    let publish = async {
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        let (status, _, _) = office.post(&format!("/selections/{second}/publish"), &[]).await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        app.scalar(&counted).await
    };
    let (votes, at_publication) = tokio::join!(votes, publish);
    let accepted = votes.iter().filter(|v| v.0 == StatusCode::SEE_OTHER).count() as i64;
    assert!(votes.iter().all(|v| v.0 == StatusCode::SEE_OTHER || v.1), "counted or told it is over: {votes:?}");
    assert_eq!(app.scalar(&counted).await, accepted, "every accepted vote is counted");
    assert_eq!(at_publication, accepted, "none counted after the result was published");
});
