//! KPIs and the daily rounds: figures that link to their problems, overdue problems proposing notices.

use crate::both;
use crate::fixtures::*;
use crate::helpers::*;
use reqwest::StatusCode;
use serde_json::json;

both!(kpis_follow_the_stored_timestamps_and_link_to_their_problems, |app: TestApp| async move {
    let sup = app.api_login("supervisor").await;
    let lead = app.api_login("lead").await;
    let (point, item) = road_point(&app).await;
    let mut ids = Vec::new();
    for n in 0..3 {
        let p = sup.file_ok(json!({"point_id": point, "standard_item_id": item, "description": format!("问题{n}"), "source": "supervision", "allow_duplicate": true})).await;
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
    let late = sup.file_ok(json!({"point_id": point, "standard_item_id": item, "description": "昨日问题未整改", "source": "supervision", "found_at": format!("{day}T07:05")})).await;
    let late_id = late["id"].as_str().unwrap().to_string();
    let fresh = sup.file_ok(json!({"point_id": point, "standard_item_id": item, "description": "刚发现", "source": "supervision", "allow_duplicate": true}))
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
