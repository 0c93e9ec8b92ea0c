use crate::both;
use crate::helpers::*;
use axum::extract::{Path, State};
use axum::routing::post;
use axum::{Json, Router};
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A fake group-chat robot on loopback: `/ok/{n}` fails its first n calls with HTTP 500, then
/// answers like WeCom; `/bad` always answers 200 with a robot error code.
#[derive(Clone, Default)]
struct Robot {
    received: Arc<Mutex<Vec<(String, Value)>>>,
    calls: Arc<AtomicUsize>,
}

async fn ok(
    State(r): State<Robot>,
    Path(fail_first): Path<usize>,
    Json(body): Json<Value>,
) -> (axum::http::StatusCode, Json<Value>) {
    let n = r.calls.fetch_add(1, Ordering::SeqCst);
    if n < fail_first {
        return (axum::http::StatusCode::INTERNAL_SERVER_ERROR, Json(json!({})));
    }
    r.received.lock().unwrap().push(("wecom".into(), body));
    (axum::http::StatusCode::OK, Json(json!({"errcode": 0, "errmsg": "ok"})))
}

async fn bad(Json(_): Json<Value>) -> Json<Value> {
    Json(json!({"errcode": 93000, "errmsg": "invalid webhook url"}))
}

/// Like a DingTalk robot with 加签 "SECtest": the request must carry a fresh timestamp and its
/// HMAC-SHA256 signature, or the robot answers 310000.
async fn ding(
    State(r): State<Robot>,
    axum::extract::Query(q): axum::extract::Query<std::collections::HashMap<String, String>>,
    Json(body): Json<Value>,
) -> Json<Value> {
    use base64::Engine;
    use hmac::{Hmac, Mac};
    let (Some(ts), Some(sign)) = (q.get("timestamp"), q.get("sign")) else {
        return Json(json!({"errcode": 310000, "errmsg": "sign not match"}));
    };
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(b"SECtest").unwrap();
    mac.update(format!("{ts}\nSECtest").as_bytes());
    let expected = base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
    let fresh = ts.parse::<i64>().is_ok_and(|t| (t - chuangcheng::domain::time::now_ms()).abs() < 3_600_000);
    if *sign != expected || !fresh {
        return Json(json!({"errcode": 310000, "errmsg": "sign not match"}));
    }
    r.received.lock().unwrap().push(("dingtalk".into(), body));
    Json(json!({"errcode": 0, "errmsg": "ok"}))
}

async fn start_robot() -> (Robot, String) {
    let robot = Robot::default();
    let app = Router::new()
        .route("/ok/{n}", post(ok))
        .route("/bad", post(bad))
        .route("/ding", post(ding))
        .with_state(robot.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (robot, base)
}

async fn wait_for<F: Fn() -> bool>(what: &str, f: F) {
    let start = Instant::now();
    while !f() {
        assert!(start.elapsed() < Duration::from_secs(20), "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

both!(new_and_overdue_problems_reach_the_units_group_chat_once, |app: TestApp| async move {
    let (robot, robot_base) = start_robot().await;
    let _second = app.second_instance().await;
    let admin = app.login("admin").await;
    let unit = app.id_of("SELECT unit_id FROM users WHERE username = 'lead'").await;
    for (kind, url) in [("wecom", format!("{robot_base}/ok/2")), ("dingtalk", format!("{robot_base}/bad"))] {
        let (status, _, _) = admin.post(&format!("/units/{unit}/webhooks"), &[("kind", kind), ("url", &url)]).await;
        assert_eq!(status, StatusCode::SEE_OTHER);
    }
    let (status, _, _) = admin.post(&format!("/units/{unit}/webhooks"), &[("kind", "wecom"), ("url", "ftp://x")]).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let sup = app.api_login("supervisor").await;
    let point = app.id_of("SELECT p.id FROM points p JOIN point_types t ON t.id = p.type_id WHERE p.unit_id IN (SELECT unit_id FROM users WHERE username = 'lead') AND t.code = 'main_road' ORDER BY p.code LIMIT 1").await;
    let point_name = app.id_of(&format!("SELECT name FROM points WHERE id = '{point}'")).await;
    let lead_phone = app.id_of(&format!("SELECT lead_phone FROM points WHERE id = '{point}'")).await;
    let (status, p) = sup
        .post(
            "/api/v1/problems",
            crate::fixtures::with_photo(
                json!({"point_id": point, "category": "道路破损", "description": "人行道砖松动", "source": "supervision"}),
            ),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let id = p["id"].as_str().unwrap().to_string();
    // The WeCom robot fails twice, then gets exactly one message, despite two instances running jobs.
    wait_for("the WeCom message", || !robot.received.lock().unwrap().is_empty()).await;
    tokio::time::sleep(Duration::from_millis(800)).await;
    {
        let got = robot.received.lock().unwrap();
        assert_eq!(got.len(), 1, "delivered once");
        // The point's lead is @-mentioned by phone, so the phone rings: WeCom does that in text.
        let msg = &got[0].1;
        let content = msg["text"]["content"].as_str().unwrap();
        assert!(
            content.contains("新问题待签收")
                && content.contains(&point_name)
                && content.contains(&format!("/problems/{id}")),
            "{content}"
        );
        assert_eq!(msg["text"]["mentioned_mobile_list"], json!([lead_phone]), "{msg}");
    }
    assert_eq!(robot.calls.load(Ordering::SeqCst), 3, "two failures and one success");
    // The DingTalk robot keeps refusing: after the attempts run out the office sees the failure.
    let db = app.db.clone();
    let failed = || {
        let db = db.clone();
        async move {
            sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM outbox WHERE status = 'failed'")
                .fetch_one(&db.pool)
                .await
                .unwrap()
        }
    };
    let start = Instant::now();
    while failed().await < 1 {
        assert!(start.elapsed() < Duration::from_secs(20), "the failing robot is given up on");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (status, html) = admin.get("/deliveries?status=failed").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("机器人返回错误码93000") && html.contains("重发"));
    // The office sees it where it looks first: its start page names the unit and the robot.
    let (_, home) = admin.get("/").await;
    assert!(
        home.contains("工作群消息推送失败") && home.contains("钉钉群机器人") && home.contains("错误码93000"),
        "{home}"
    );
    // The lead's inbox has the new problem.
    let lead = app.login("lead").await;
    let (_, html) = lead.get("/inbox").await;
    assert!(html.contains("新问题待签收：道路破损") && html.contains("未读"));
    assert_eq!(lead.get("/deliveries").await.0, StatusCode::FORBIDDEN);
    // An overdue problem raises one overdue alert.
    let cal = chuangcheng::service::calendar::load(&app.db).await.unwrap();
    let mut d = chuangcheng::domain::time::to_local(chuangcheng::domain::time::now_ms()).date_naive();
    loop {
        d -= chrono::Duration::days(1);
        if cal.is_working_day(d) {
            break;
        }
    }
    let late = sup.file_ok(json!({"point_id": point, "category": "井盖缺失", "description": "昨日发现", "source": "supervision", "found_at": format!("{}T07:05", d.format("%Y-%m-%d"))})).await;
    let late_id = late["id"].as_str().unwrap().to_string();
    app.filed_at_find(std::slice::from_ref(&late_id)).await;
    wait_for("the overdue alert", || {
        robot
            .received
            .lock()
            .unwrap()
            .iter()
            .any(|(_, b)| b["text"]["content"].as_str().unwrap_or("").contains("问题已逾期"))
    })
    .await;
    tokio::time::sleep(Duration::from_millis(800)).await;
    let overdue = robot
        .received
        .lock()
        .unwrap()
        .iter()
        .filter(|(_, b)| b["text"]["content"].as_str().unwrap_or("").contains("问题已逾期"))
        .count();
    assert_eq!(overdue, 1, "one overdue alert");
    assert_eq!(
        app.scalar(&format!(
            "SELECT COUNT(*) FROM problem_alerts WHERE problem_id = '{late_id}' AND event = 'overdue'"
        ))
        .await,
        1
    );
    let (_, html) = lead.get("/inbox").await;
    assert!(html.contains("问题已逾期：井盖缺失"));
    // An extension moves the deadline on; when the new one passes too, the unit is alerted
    // again, once (two instances run the jobs). The new deadline is set here as already past.
    let moved = sqlx::query("UPDATE problems SET deadline_at = $1 WHERE id = $2")
        .bind(chuangcheng::domain::time::now_ms() - 100)
        .bind(&late_id)
        .execute(&app.db.pool)
        .await
        .unwrap();
    assert_eq!(moved.rows_affected(), 1);
    let alerts = || {
        robot
            .received
            .lock()
            .unwrap()
            .iter()
            .filter(|(_, b)| b["text"]["content"].as_str().unwrap_or("").contains("问题已逾期"))
            .count()
    };
    wait_for("the second overdue alert", || alerts() == 2).await;
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(alerts(), 2, "one more alert for the moved deadline");
});

both!(a_signed_dingtalk_robot_rings_the_point_lead, |app: TestApp| async move {
    let (robot, base) = start_robot().await;
    let admin = app.login("admin").await;
    let unit = app.id_of("SELECT unit_id FROM users WHERE username = 'lead'").await;
    let url = format!("{base}/ding");
    let (status, _, _) = admin
        .post(&format!("/units/{unit}/webhooks"), &[("kind", "dingtalk"), ("url", &url), ("secret", "SECtest")])
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (_, html) = admin.get(&format!("/units/{unit}")).await;
    assert!(html.contains("已加签") && !html.contains("SECtest"), "the secret is never shown again");
    let (status, _, _) = admin
        .post(&format!("/units/{unit}/webhooks"), &[("kind", "dingtalk"), ("url", &url), ("secret", "SEC with space")])
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "a malformed secret is refused");
    let sup = app.api_login("supervisor").await;
    let (point, item) = crate::fixtures::road_point(&app).await;
    let lead_phone = app.id_of(&format!("SELECT lead_phone FROM points WHERE id = '{point}'")).await;
    sup.file_ok(
        json!({"point_id": point, "standard_item_id": item, "description": "积存垃圾", "source": "supervision"}),
    )
    .await;
    wait_for("the signed DingTalk message", || !robot.received.lock().unwrap().is_empty()).await;
    let got = robot.received.lock().unwrap().clone();
    let msg = &got[0].1;
    assert_eq!(msg["at"]["atMobiles"], json!([lead_phone]), "{msg}");
    assert!(msg["markdown"]["text"].as_str().unwrap().contains(&format!("@{lead_phone}")), "{msg}");
});

both!(robots_are_managed_over_the_api_and_the_delivery_list_names_them, |app: TestApp| async move {
    let (robot, base) = start_robot().await;
    let admin = app.api_login("admin").await;
    let unit = app.id_of("SELECT unit_id FROM users WHERE username = 'lead'").await;
    let unit_name = app.id_of(&format!("SELECT name FROM units WHERE id = '{unit}'")).await;
    let url = format!("{base}/ding?access_token=0123456789abcdef");
    let created = admin
        .created(
            &format!("/api/v1/units/{unit}/webhooks"),
            json!({"kind": "dingtalk", "url": url, "secret": "SECtest"}),
        )
        .await;
    assert_eq!(created["signed"], true);
    assert!(!created.to_string().contains("SECtest"), "the secret never comes back: {created}");
    assert!(!created["url"].as_str().unwrap().contains("0123456789ab"), "the key is shortened: {created}");
    let (status, list) = admin.get(&format!("/api/v1/units/{unit}/webhooks")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(list.as_array().unwrap().len(), 1);
    // Refusals in words; only the office.
    let (status, e) = admin.post(&format!("/api/v1/units/{unit}/webhooks"), json!({"kind": "qq", "url": url})).await;
    assert_eq!((status, e["error"]["code"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_kind")), "{e}");
    let lead = app.api_login("lead").await;
    assert_eq!(lead.get(&format!("/api/v1/units/{unit}/webhooks")).await.0, StatusCode::FORBIDDEN);
    // A problem reaches the robot; the delivery list names the unit, the robot and the problem.
    let sup = app.api_login("supervisor").await;
    let (point, item) = crate::fixtures::road_point(&app).await;
    let p = sup
        .file_ok(
            json!({"point_id": point, "standard_item_id": item, "description": "积存垃圾", "source": "supervision"}),
        )
        .await;
    wait_for("the DingTalk message", || !robot.received.lock().unwrap().is_empty()).await;
    let (_, rows) = admin.get("/api/v1/deliveries").await;
    let row = &rows[0];
    assert_eq!(row["unit_name"], unit_name.as_str(), "{row}");
    assert_eq!(row["robot_kind"], "dingtalk");
    assert_eq!(row["problem_code"], p["code"]);
    let (_, html) = app.login("admin").await.get("/deliveries").await;
    assert!(html.contains(&unit_name) && html.contains("钉钉群机器人") && html.contains(p["code"].as_str().unwrap()));
    assert!(!html.contains("0123456789abcdef"), "the key is not shown in the list");
    // Disconnected over the API: audited, and gone from the unit's robots.
    let id = created["id"].as_str().unwrap();
    assert_eq!(admin.delete(&format!("/api/v1/webhooks/{id}")).await.0, StatusCode::NO_CONTENT);
    let (_, list) = admin.get(&format!("/api/v1/units/{unit}/webhooks")).await;
    assert!(list.as_array().unwrap().is_empty());
    assert_eq!(app.scalar(&format!("SELECT COUNT(*) FROM audit_log WHERE object_id = '{id}'")).await, 2);
});
