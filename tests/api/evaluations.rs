//! 模拟测评 end to end: the office draws a stratified sample (reproducible from the seed, fixed
//! points always in), the evaluator scores every point over HTTP with photos for failures, the
//! failures are problems in the units' ledgers, the 得分率 by street equals the figure computed by
//! hand, and publishing records the last place's interview proposal and transfer.

use crate::both;
use crate::fixtures::jpeg_bytes;
use crate::helpers::{Browser, TestApp, xlsx_sheets};
use reqwest::StatusCode;
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};

/// Four main-road points in a second street, so the round spans two streets.
async fn second_street(app: &TestApp) -> String {
    let admin = app.api_login("admin").await;
    let community = app
        .id_of(
            "SELECT c.id FROM org_nodes c JOIN org_nodes s ON s.id = c.parent_id WHERE c.level = 'community' \
             AND s.name <> '公园街道' ORDER BY c.code LIMIT 1",
        )
        .await;
    let (_, pts) = admin.get("/api/v1/points?size=200").await;
    let template =
        pts["items"].as_array().unwrap().iter().find(|p| p["type_name"] == "主次干道").expect("a road").clone();
    for i in 0..4 {
        let mut p: Value = template.clone();
        p["code"] = format!("PE{i:03}").into();
        p["name"] = format!("解放路第{i}段").into();
        p["community_id"] = community.clone().into();
        p["grid_id"] = Value::Null;
        let (status, body) = admin.post("/api/v1/points", p).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }
    app.id_of(&format!("SELECT parent_id FROM org_nodes WHERE id = '{community}'")).await
}

fn round_form<'a>(name: &'a str, seed: &'a str, evaluator: &'a str, fixed: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("name", name),
        ("starts_on", "2026-11-20"),
        ("ends_on", "2026-11-30"),
        ("quotas", "主次干道:6，居民小区:4，bank:2"),
        ("fixed_points", fixed),
        ("seed", seed),
        ("evaluators", evaluator),
        ("last_place_interview", "1"),
        ("transfer_amount", "200000"),
    ]
}

async fn sample(app: &TestApp, round: &str) -> Vec<(String, String)> {
    let rows: Vec<(String, String)> = sqlx::query_as(&format!(
        "SELECT v.point_id, v.type_code FROM eval_visits v WHERE v.round_id = '{round}' ORDER BY v.point_id"
    ))
    .fetch_all(&app.db.pool)
    .await
    .unwrap();
    rows
}

/// The item ids of a checklist page.
fn checklist_items(html: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for s in html.split("name=\"result_").skip(1) {
        let id = s.split('"').next().unwrap().to_string();
        if !out.contains(&id) {
            out.push(id);
        }
    }
    out
}

/// Scores a visit over HTTP: each item's result by `pick(item index)`, a photo for each failure.
pub async fn score_visit(
    b: &Browser,
    visit: &str,
    pick: impl Fn(usize) -> &'static str,
) -> (StatusCode, Vec<(String, &'static str)>) {
    let (status, html) = b.get(&format!("/evaluations/visits/{visit}")).await;
    assert_eq!(status, StatusCode::OK);
    let marker = "name=\"version\" value=\"";
    let at = html.find(marker).unwrap_or_else(|| panic!("a checklist form: {html}")) + marker.len();
    let version = html[at..].split('"').next().unwrap().to_string();
    let items = checklist_items(&html);
    assert!(!items.is_empty(), "the point's checklist");
    let mut form = reqwest::multipart::Form::new().text("_csrf", b.csrf.clone()).text("version", version);
    let mut sent = Vec::new();
    for (k, item) in items.iter().enumerate() {
        let r = pick(k);
        form = form.text(format!("result_{item}"), r);
        if r == "fail" {
            form = form.text(format!("note_{item}"), "测评发现问题");
            form = form.part(
                format!("photo_{item}"),
                reqwest::multipart::Part::bytes(jpeg_bytes(k as u8 + 3)).file_name("f.jpg"),
            );
        }
        sent.push((item.clone(), r));
    }
    let res = b.client.post(format!("{}/evaluations/visits/{visit}", b.base)).multipart(form).send().await.unwrap();
    (res.status(), sent)
}

both!(a_simulated_round_samples_scores_files_and_reports, |app: TestApp| async move {
    let street2 = second_street(&app).await;
    let street1 = app.id_of("SELECT id FROM org_nodes WHERE name = '公园街道'").await;
    let evaluator = app.id_of("SELECT id FROM users WHERE username = 'evaluator'").await;
    let fixed_code = app.id_of("SELECT code FROM points WHERE code = 'PE003'").await;
    let office = app.login("admin").await;

    // Bad input: named per field, nothing saved.
    let (status, html, _) = office
        .post(
            "/evaluations",
            &[
                ("name", ""),
                ("starts_on", "2026-13-01"),
                ("quotas", "菜地:3"),
                ("fixed_points", "NOPE"),
                ("seed", "abc"),
                ("transfer_amount", "二十万"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    for m in [
        "请填写名称",
        "日期格式应为",
        "没有名为“菜地”的点位类型",
        "点位编码“NOPE”不存在",
        "请至少选择一名测评员",
        "随机数种子应为0至",
        "拨付金额（元）应为0至100000000的整数",
        "value=\"二十万\"",
    ] {
        assert!(html.contains(m), "{m} in the refusal");
    }
    let (status, html, _) =
        office.post("/evaluations", &[("name", "太长"), ("starts_on", "2026-01-01"), ("ends_on", "2026-12-31")]).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("一轮模拟测评不超过92天"));
    assert_eq!(app.scalar("SELECT COUNT(*) FROM eval_rounds").await, 0);

    let form = round_form("2026年第五轮模拟测评", "7", &evaluator, &fixed_code);
    let (status, _, to) = office.post("/evaluations", &form).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let rid = to.unwrap().trim_start_matches("/evaluations/").split('?').next().unwrap().to_string();
    let drawn = sample(&app, &rid).await;
    let count = |t: &str| drawn.iter().filter(|(_, ty)| ty == t).count();
    assert_eq!((count("main_road"), count("compound"), count("bank")), (6, 4, 2), "stratified as asked");
    assert_eq!(drawn.len(), 12, "no other type drawn");
    let fixed_id = app.id_of("SELECT id FROM points WHERE code = 'PE003'").await;
    assert!(drawn.iter().any(|(p, _)| *p == fixed_id), "the fixed point is always in");
    let again = round_form("复现", "7", &evaluator, &fixed_code);
    let (_, _, to2) = office.post("/evaluations", &again).await;
    let rid2 = to2.unwrap().trim_start_matches("/evaluations/").split('?').next().unwrap().to_string();
    assert_eq!(drawn, sample(&app, &rid2).await, "the same seed draws the same points");
    let other = round_form("另一个种子", "8", &evaluator, &fixed_code);
    let (_, _, to3) = office.post("/evaluations", &other).await;
    let rid3 = to3.unwrap().trim_start_matches("/evaluations/").split('?').next().unwrap().to_string();
    assert_ne!(drawn, sample(&app, &rid3).await, "another seed, another sample");

    // A unit sees nothing of a running round; the evaluator sees their points.
    let unit = app.login("unit").await;
    assert_eq!(unit.get(&format!("/evaluations/{rid}")).await.0, StatusCode::NOT_FOUND);
    let ev = app.login("evaluator").await;
    let (status, html) = ev.get(&format!("/evaluations/{rid}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("我的测评点位"));

    // A failure without its photo is refused and keeps what was chosen.
    let visits: Vec<(String, String)> = sqlx::query_as(&format!(
        "SELECT v.id, v.street_id FROM eval_visits v JOIN points p ON p.id = v.point_id WHERE v.round_id = '{rid}' ORDER BY p.code"
    ))
    .fetch_all(&app.db.pool)
    .await
    .unwrap();
    let (_, html) = ev.get(&format!("/evaluations/visits/{}", visits[0].0)).await;
    let items = checklist_items(&html);
    let marker = "name=\"version\" value=\"";
    let at = html.find(marker).unwrap() + marker.len();
    let version = html[at..].split('"').next().unwrap().to_string();
    let mut form = reqwest::multipart::Form::new().text("_csrf", ev.csrf.clone()).text("version", version);
    for (k, i) in items.iter().enumerate() {
        form = form.text(format!("result_{i}"), if k == 0 { "fail" } else { "pass" });
    }
    // The second item's note is too long: said beside that note (the field also stops at 200).
    form = form.text(format!("note_{}", items[1]), "长".repeat(201));
    let res =
        ev.client.post(format!("{}/evaluations/visits/{}", ev.base, visits[0].0)).multipart(form).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = res.text().await.unwrap();
    assert!(html.contains("不达标，请拍照留证"));
    assert!(html.contains(&format!("name=\"result_{}\" value=\"fail\" checked", items[0])), "the choice is kept");
    let second = html.split(&format!("data-item=\"{}\"", items[1])).nth(1).and_then(|r| r.split("</fieldset>").next());
    let second = second.expect("the second item");
    assert!(second.contains("maxlength=\"200\"") && second.contains("<div class=\"field-error\">说明"), "{second}");

    // The evaluator scores every point: item k of visit n fails when (n + k) % 3 == 0.
    let points: HashMap<String, f64> = sqlx::query_as::<_, (String, f64)>("SELECT id, points FROM eval_items")
        .fetch_all(&app.db.pool)
        .await
        .unwrap()
        .into_iter()
        .collect();
    let mut by_street: BTreeMap<String, (f64, f64)> = BTreeMap::new();
    let mut fails = 0;
    for (n, (visit, street)) in visits.iter().enumerate() {
        let (status, sent) = score_visit(&ev, visit, move |k| if (n + k) % 3 == 0 { "fail" } else { "pass" }).await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        let e = by_street.entry(street.clone()).or_default();
        for (item, r) in sent {
            let p = points[&item];
            e.1 += p;
            if r == "pass" {
                e.0 += p;
            } else {
                fails += 1;
            }
        }
    }
    assert!(by_street.contains_key(&street1) && by_street.contains_key(&street2), "two streets in the round");
    // The score sheet of a scored point: who scored it and when, and each failure's photo.
    let (_, sheet) = ev.get(&format!("/evaluations/visits/{}", visits[0].0)).await;
    let name = app.id_of(&format!("SELECT display_name FROM users WHERE id = '{evaluator}'")).await;
    assert!(sheet.contains(&format!("<dt>测评员</dt><dd>{name}，")), "{sheet}");
    let failed_rows = sheet.matches("<b>不达标</b>").count();
    assert!(failed_rows > 0 && sheet.matches("现场照片\"").count() == failed_rows, "a photo per failure: {sheet}");
    // A second submission of a done point is refused.
    let form = reqwest::multipart::Form::new().text("_csrf", ev.csrf.clone()).text("version", "1");
    let res =
        ev.client.post(format!("{}/evaluations/visits/{}", ev.base, visits[0].0)).multipart(form).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::CONFLICT);
    assert!(res.text().await.unwrap().contains("该点位已测评"));

    // The failures are problems of source 测评 in the points' units' ledgers, with their photos.
    let filed = app
        .scalar(&format!(
            "SELECT COUNT(*) FROM eval_checks c JOIN eval_visits v ON v.id = c.visit_id JOIN problems p ON p.id = c.problem_id \
             WHERE v.round_id = '{rid}' AND p.source = 'evaluation' AND p.unit_id = v.unit_id"
        ))
        .await;
    assert_eq!(filed, fails);
    let (code, username): (String, String) = sqlx::query_as(&format!(
        "SELECT p.code, u.username FROM eval_checks c JOIN eval_visits v ON v.id = c.visit_id JOIN problems p ON p.id = c.problem_id \
         JOIN users u ON u.unit_id = p.unit_id WHERE v.round_id = '{rid}' AND u.role = 'unit_user' ORDER BY p.code LIMIT 1"
    ))
    .fetch_one(&app.db.pool)
    .await
    .unwrap();
    let owner = app.login(&username).await;
    let (_, ledger) = owner.get("/problems").await;
    assert!(ledger.contains(&code), "{code} in {username}'s ledger");

    // 得分率 by street as computed by hand, in the Excel report and on the page.
    let sheets = xlsx_sheets(office.get_raw(&format!("/evaluations/{rid}/report.xlsx")).await).await;
    let streets = &sheets.iter().find(|(n, _)| n == "各街道").expect("the streets' sheet").1;
    let (_, page) = office.get(&format!("/evaluations/{rid}")).await;
    for (street, (earned, possible)) in &by_street {
        let expected = format!("{:.1}%", (earned * 1000.0 / possible).round() / 10.0);
        let name = app.id_of(&format!("SELECT name FROM org_nodes WHERE id = '{street}'")).await;
        let row = streets.iter().find(|r| r[1].to_string() == name).unwrap_or_else(|| panic!("{name} in {streets:?}"));
        let pct = (earned * 1000.0 / possible).round() / 10.0;
        assert!((crate::helpers::number(&row[4]) * 100.0 - pct).abs() < 1e-6, "{name}: a rate cell, {expected}");
        assert!(page.contains(&format!("<b>{expected}</b>")), "{expected} on the page");
    }

    // Published: the last place gets an interview proposal and pays the first; audited; shown.
    let (status, _, _) = office.post(&format!("/evaluations/{rid}/publish"), &[]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let units: Vec<(String, f64, f64)> = sqlx::query_as(&format!(
        "SELECT unit_id, SUM(earned), SUM(possible) FROM eval_visits WHERE round_id = '{rid}' GROUP BY unit_id"
    ))
    .fetch_all(&app.db.pool)
    .await
    .unwrap();
    let (from, to, amount): (String, String, i64) = sqlx::query_as(&format!(
        "SELECT from_unit_id, to_unit_id, amount FROM eval_transfers WHERE round_id = '{rid}'"
    ))
    .fetch_one(&app.db.pool)
    .await
    .unwrap();
    let rate = |u: &str| units.iter().find(|x| x.0 == u).map(|x| x.1 / x.2).unwrap();
    assert!(units.iter().all(|x| x.1 / x.2 >= rate(&from) - 1e-9 && x.1 / x.2 <= rate(&to) + 1e-9), "last pays first");
    assert_eq!(amount, 200_000);
    assert_eq!(
        app.scalar(&format!(
            "SELECT COUNT(*) FROM interviews WHERE unit_id = '{from}' AND held_at IS NULL AND facts LIKE '%{rid}%'"
        ))
        .await,
        1
    );
    // The interview list links the round it rests on (its 依据 was empty).
    let (_, list) = app.login("discipline").await.get("/interviews").await;
    assert!(list.contains(&format!("<a href=\"/evaluations/{rid}\">")), "{list}");
    assert!(
        app.scalar("SELECT COUNT(*) FROM audit_log WHERE object_type = 'eval_round' AND action = 'publish'").await >= 1
    );
    let (_, annual) = office.get("/scores/annual?year=2026").await;
    assert!(annual.contains("末位拨付") && annual.contains("200000"), "the transfer in the year-end assessment");
    // The unit now sees the published round; the Word report carries the summary and the streets.
    assert_eq!(unit.get(&format!("/evaluations/{rid}")).await.0, StatusCode::OK);
    let docx = office.get_raw(&format!("/evaluations/{rid}/report.docx")).await.bytes().await.unwrap().to_vec();
    let text = crate::notices::docx_text(&docx);
    assert!(text.contains("各街道得分率") && text.contains("末位"), "{text}");
});

both!(the_evaluation_system_round_trips_through_excel, |app: TestApp| async move {
    let office = app.login("admin").await;
    let (status, html) = office.get("/indicators").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("测评项目：公共服务") && html.contains("网上材料"));
    let bytes = office.get_raw("/indicators/export.xlsx").await.bytes().await.unwrap().to_vec();
    let rows = crate::helpers::xlsx_rows(&bytes);
    assert_eq!(rows[0][0], "编码");
    assert!(rows.len() > 30, "the default system's items");
    // A broken sheet is refused row by row; nothing is drafted.
    let mut bad = rows.clone();
    bad[1][4] = "上门".into();
    bad[2][5] = "-1".into();
    bad[3][7] = "不存在的局".into();
    let (status, html) = upload(&office, &sheet(&bad)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    for m in ["第2行", "测评方式", "分值", "没有名为“不存在的局”的责任单位"] {
        assert!(html.contains(m), "{m} in the report");
    }
    assert_eq!(app.scalar("SELECT COUNT(*) FROM eval_systems").await, 1);
    // A good one becomes a draft, published over version 1.
    let mut good = rows.clone();
    good[1][5] = "3".into();
    let (status, _) = upload(&office, &sheet(&good)).await;
    assert_eq!(status, StatusCode::OK);
    let draft = app.id_of("SELECT id FROM eval_systems WHERE status = 'draft'").await;
    let (status, _, _) = office.post(&format!("/indicators/{draft}/publish"), &[]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(app.scalar("SELECT COUNT(*) FROM eval_systems WHERE status = 'archived'").await, 1);
    let code = &rows[1][0];
    assert_eq!(
        app.scalar(&format!(
            "SELECT CAST(points AS BIGINT) FROM eval_items WHERE system_id = '{draft}' AND code = '{code}'"
        ))
        .await,
        3
    );
    let unit = app.login("unit").await;
    assert_eq!(unit.post(&format!("/indicators/{draft}/publish"), &[]).await.0, StatusCode::FORBIDDEN);
});

fn sheet(rows: &[Vec<String>]) -> Vec<u8> {
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet();
    for (r, row) in rows.iter().enumerate() {
        for (c, v) in row.iter().enumerate() {
            ws.write_string(r as u32, c as u16, v).unwrap();
        }
    }
    wb.save_to_buffer().unwrap()
}

async fn upload(b: &Browser, bytes: &[u8]) -> (StatusCode, String) {
    let form = reqwest::multipart::Form::new()
        .text("_csrf", b.csrf.clone())
        .part("file", reqwest::multipart::Part::bytes(bytes.to_vec()).file_name("system.xlsx"));
    let res = b.client.post(format!("{}/indicators/import", b.base)).multipart(form).send().await.unwrap();
    (res.status(), res.text().await.unwrap())
}

both!(a_tie_for_the_last_place_proposes_each_and_leaves_the_transfer_to_the_office, |app: TestApp| async move {
    let evaluator = app.id_of("SELECT id FROM users WHERE username = 'evaluator'").await;
    let office = app.login("admin").await;
    let ev = app.login("evaluator").await;
    let create = async |name: &str, seed: &str| {
        let (status, _, to) = office.post("/evaluations", &round_form(name, seed, &evaluator, "")).await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        to.unwrap().trim_start_matches("/evaluations/").split('?').next().unwrap().to_string()
    };
    let visits = async |rid: &str| -> Vec<(String, String)> {
        sqlx::query_as(&format!("SELECT id, unit_id FROM eval_visits WHERE round_id = '{rid}' ORDER BY unit_id, id"))
            .fetch_all(&app.db.pool)
            .await
            .unwrap()
    };
    let consequences = async |rid: &str| {
        let interviews: Vec<String> =
            sqlx::query_scalar(&format!("SELECT unit_id FROM interviews WHERE facts LIKE '%{rid}%' ORDER BY unit_id"))
                .fetch_all(&app.db.pool)
                .await
                .unwrap();
        (interviews, app.scalar(&format!("SELECT COUNT(*) FROM eval_transfers WHERE round_id = '{rid}'")).await)
    };

    // Every point passes: all units tie, so nobody is first or last.
    let rid = create("全部达标", "11").await;
    for (v, _) in visits(&rid).await {
        assert_eq!(score_visit(&ev, &v, |_| "pass").await.0, StatusCode::SEE_OTHER);
    }
    assert_eq!(office.post(&format!("/evaluations/{rid}/publish"), &[]).await.0, StatusCode::SEE_OTHER);
    assert_eq!(consequences(&rid).await, (Vec::new(), 0), "no last place, no interview, no transfer");
    let (_, page) = office.get(&format!("/evaluations/{rid}")).await;
    assert!(!page.contains("tag off\">末位") && !page.contains("tag win\">第一"), "no places marked");
    assert!(page.contains("各责任单位得分率相同，不设第一名和末位"), "the summary says why");

    // Two units fail everything, the others pass: both are last, each proposed for an interview,
    // and the transfer is left to the office.
    let rid = create("末位并列", "12").await;
    let all = visits(&rid).await;
    let mut units: Vec<&str> = all.iter().map(|(_, u)| u.as_str()).collect();
    units.dedup();
    assert!(units.len() >= 3, "the sample spans at least three units: {units:?}");
    let last = [units[0].to_string(), units[1].to_string()];
    for (v, u) in &all {
        let result = if last.contains(u) { "fail" } else { "pass" };
        assert_eq!(score_visit(&ev, v, move |_| result).await.0, StatusCode::SEE_OTHER);
    }
    // Before publication the places are provisional, and the page says so.
    let (_, page) = office.get(&format!("/evaluations/{rid}")).await;
    assert_eq!(page.matches("tag off\">暂列末位").count(), 2, "{page}");
    assert!(page.contains("测评尚未结束，以下为阶段性结果"));
    assert_eq!(office.post(&format!("/evaluations/{rid}/publish"), &[]).await.0, StatusCode::SEE_OTHER);
    let mut expected = last.to_vec();
    expected.sort();
    assert_eq!(consequences(&rid).await, (expected, 0));
    let reason = app.id_of(&format!("SELECT reason FROM interviews WHERE facts LIKE '%{rid}%' LIMIT 1")).await;
    assert!(reason.contains("（2个单位并列）"), "{reason}");
    let (_, page) = office.get(&format!("/evaluations/{rid}")).await;
    assert_eq!(page.matches("tag off\">末位").count(), 2, "both marked last");
    assert!(page.contains("并列（") && page.contains("末位拨付由文明办研究确定"), "the summary says so");
});
