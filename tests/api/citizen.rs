//! Residents' reports end to end, over HTTP on both databases: 随手拍 with a photo, the refusals,
//! "附近已有人反映" and "我也遇到", triage by the grid worker, the unit's fix, the reporter's status
//! page and "not fixed" reopening the problem as rework, the text message asking them, and the
//! public pages and feeds without personal data.

use crate::both;
use crate::fixtures::{jpeg_bytes, media_files, media_files_settled, photo};
use crate::helpers::*;
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::io::{BufRead, BufReader, Read, Write};
use std::sync::{Mutex, OnceLock};

/// A point in the grid worker's area whose unit has a unit account: (point id, lng, lat, unit username).
pub async fn point_in_grid_area(app: &TestApp) -> (String, f64, f64, String) {
    let area = app.id_of("SELECT area_id FROM users WHERE username = 'grid'").await;
    let ids = chuangcheng::store::org::subtree_ids(&app.db, &area).await.unwrap();
    let list = ids.iter().map(|i| format!("'{i}'")).collect::<Vec<_>>().join(",");
    let sql = format!(
        "SELECT p.id, p.lng, p.lat, u.username FROM points p JOIN users u ON u.unit_id = p.unit_id AND u.role = 'unit_user' \
         AND u.active = 1 WHERE p.active = 1 AND p.lng IS NOT NULL AND p.community_id IN ({list}) ORDER BY p.code LIMIT 1"
    );
    sqlx::query_as::<_, (String, f64, f64, String)>(&sql).fetch_one(&app.db.pool).await.expect(&sql)
}

/// The first category code of the published standard, as the report page offers it.
pub async fn a_category(b: &Browser) -> String {
    let (status, html) = b.get("/public/report").await;
    assert_eq!(status, StatusCode::OK);
    let at = html.find("<option value=\"0").expect("the form lists the standard's categories") + 15;
    html[at..at + 4].to_string()
}

/// Files a 随手拍 report as a resident's browser would; (status, page). A report filed answers 303
/// to its private status page, which opens with the receipt: that page is returned then.
pub async fn submit(b: &Browser, fields: &[(&str, &str)], photos: Vec<Vec<u8>>) -> (StatusCode, String) {
    let (_, html) = b.get("/public/report").await;
    let csrf = extract_csrf(&html).expect("the report form carries a token");
    let mut form = reqwest::multipart::Form::new().text("_csrf", csrf);
    for (k, v) in fields {
        form = form.text(k.to_string(), v.to_string());
    }
    for (i, bytes) in photos.into_iter().enumerate() {
        form = form.part("photos", reqwest::multipart::Part::bytes(bytes).file_name(format!("p{i}.jpg")));
    }
    let res = b.client.post(format!("{}/public/report", b.base)).multipart(form).send().await.unwrap();
    let status = res.status();
    if status == StatusCode::SEE_OTHER {
        let to = res.headers()["location"].to_str().unwrap().to_string();
        assert!(to.starts_with("/public/s/") && to.ends_with("?new=1"), "{to}");
        let (again, page) = b.get(&to).await;
        assert_eq!(again, StatusCode::OK);
        return (status, page);
    }
    (status, res.text().await.unwrap_or_default())
}

async fn anyone_get(app: &TestApp, path: &str) -> (StatusCode, String) {
    app.browser().get(path).await
}

pub fn between<'a>(html: &'a str, start: &str, end: &str) -> &'a str {
    let at = html.find(start).unwrap_or_else(|| panic!("{start} in page")) + start.len();
    html[at..].split(end).next().unwrap()
}

/// The text messages the fake gateway received: (phone, text).
static SMS: Mutex<Vec<(String, String)>> = Mutex::new(Vec::new());
static SMS_URL: OnceLock<String> = OnceLock::new();

/// A text-message gateway on loopback (a real HTTP server on its own thread, shared by the tests
/// of this binary; each test looks for its own phone number).
fn sms_gateway() -> String {
    SMS_URL
        .get_or_init(|| {
            let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            let url = format!("http://{}/send", listener.local_addr().unwrap());
            std::thread::spawn(move || {
                for stream in listener.incoming().flatten() {
                    let mut reader = BufReader::new(stream);
                    let mut length = 0;
                    loop {
                        let mut line = String::new();
                        if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                            break;
                        }
                        if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                            length = v.trim().parse().unwrap_or(0);
                        }
                    }
                    let mut body = vec![0; length];
                    if reader.read_exact(&mut body).is_ok()
                        && let Ok(v) = serde_json::from_slice::<Value>(&body)
                    {
                        let text = (
                            v["phone"].as_str().unwrap_or("").to_string(),
                            v["text"].as_str().unwrap_or("").to_string(),
                        );
                        SMS.lock().unwrap().push(text);
                    }
                    let mut s = reader.into_inner();
                    let _ = s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok");
                }
            });
            url
        })
        .clone()
}

fn with_sms(c: &mut chuangcheng::config::Config) {
    c.sms_url = sms_gateway();
}

both!(a_resident_reports_it_is_verified_fixed_and_reopened_when_not_fixed, configure with_sms, |app: TestApp| async move {
    let resident = app.browser();
    let (point, lng, lat, unit_user) = point_in_grid_area(&app).await;
    let category = a_category(&resident).await;
    let problems_before = app.scalar("SELECT COUNT(*) FROM problems").await;
    let phone = format!("139{:08}", (lng * 1e6) as i64 % 100_000_000);
    let (lng_s, lat_s) = (lng.to_string(), lat.to_string());
    let fields = [
        ("service_code", category.as_str()),
        ("description", "人行道上堆了很多建筑垃圾"),
        ("lng", lng_s.as_str()),
        ("lat", lat_s.as_str()),
        ("name", "张先生"),
        ("phone", phone.as_str()),
    ];
    let (status, receipt) = submit(&resident, &fields, vec![jpeg_bytes(41)]).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{receipt}");
    let code = between(&receipt, "receipt-code\">", "<").to_string();
    let link = between(&receipt, "id=\"private-link\" href=\"", "\"").to_string();
    let path = &link[link.find("/public/s/").unwrap()..];
    assert!(code.starts_with('R'), "{code}");
    // Nothing is charged to a unit before verification.
    assert_eq!(app.scalar("SELECT COUNT(*) FROM problems").await, problems_before);

    // Only staff who triage see the queue; the grid worker sees it in its area.
    let unit = app.api_login(&unit_user).await;
    assert_eq!(unit.get("/api/v1/reports").await.0, StatusCode::FORBIDDEN);
    let grid = app.api_login("grid").await;
    let (_, todo) = grid.get("/api/v1/me/todo").await;
    let waiting = todo.as_array().unwrap().iter().find(|s| s["key"] == "reports").expect("the grid worker's start page asks");
    assert!(waiting["items"].as_array().unwrap().iter().any(|i| i["title"].as_str().unwrap().contains("人行道上堆了很多建筑垃圾")));
    let (status, list) = grid.get("/api/v1/reports").await;
    assert_eq!(status, StatusCode::OK);
    let item = list["items"].as_array().unwrap().iter().find(|r| r["code"] == code.as_str()).expect("in the queue").clone();
    let id = item["id"].as_str().unwrap().to_string();
    let (_, detail) = grid.get(&format!("/api/v1/reports/{id}")).await;
    assert_eq!(detail["reporter_phone"], format!("{}****{}", &phone[..3], &phone[7..]), "staff see the phone masked");
    assert!(detail.get("reporter_email").is_none() && detail.get("client").is_none());
    assert_eq!(detail["photos"].as_array().unwrap().len(), 1);

    // Verified: a problem of source 市民上报 at the point, dispatched now, with the resident's photo.
    let (status, verified) = grid.post(&format!("/api/v1/reports/{id}/verify"), json!({"point_id": point, "version": 1})).await;
    assert_eq!(status, StatusCode::OK, "{verified}");
    let pid = verified["problem_id"].as_str().unwrap().to_string();
    let (_, d) = grid.get(&format!("/api/v1/problems/{pid}")).await;
    let p = &d["problem"];
    assert_eq!((p["source"].as_str(), p["state"].as_str()), (Some("citizen"), Some("dispatched")));
    assert!(p["deadline_at"].as_i64().unwrap() > p["dispatched_at"].as_i64().unwrap());
    let before = format!("SELECT COUNT(*) FROM photos WHERE owner_id = '{pid}' AND kind = 'before'");
    assert_eq!(app.scalar(&before).await, 1);
    let (status, again) = grid.post(&format!("/api/v1/reports/{id}/verify"), json!({"version": 2})).await;
    assert_eq!((status, again["error"]["code"].as_str()), (StatusCode::CONFLICT, Some("report_not_received")));

    // The unit fixes it, the supervisor closes it.
    unit.act_ok(&pid, "acknowledge", json!({})).await;
    unit.act_ok(&pid, "submit_fix", json!({"note": "已清运建筑垃圾", "photos": [photo(42)]})).await;
    let supervisor = app.api_login("supervisor").await;
    supervisor.act_ok(&pid, "pass", json!({})).await;

    // The reporter sees it closed, with the reply and the after-photo, and is asked.
    let (status, page) = resident.get(path).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("已核查办结") && page.contains("已清运建筑垃圾") && page.contains("解决了吗？满意吗？"), "{page}");
    assert!(page.contains("/public/photos/"));
    // By code and the phone's last four digits too; a wrong pair is refused in Chinese.
    let (_, lookup) = resident.get("/public/status").await;
    let csrf = extract_csrf(&lookup).unwrap();
    let (status, wrong, _) =
        resident.post_raw("/public/status", &[("_csrf", &csrf), ("code", &code), ("last4", "0000")]).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(wrong.contains("受理编号或手机号后四位不正确"));
    // Typed with a Chinese input method: full-width digits, the code in lower case.
    let wide: String = phone[7..].chars().map(|c| char::from_u32(c as u32 + 0xFEE0).unwrap()).collect();
    let (status, found, _) = resident
        .post_raw("/public/status", &[("_csrf", &csrf), ("code", &code.to_lowercase()), ("last4", &wide)])
        .await;
    assert_eq!(status, StatusCode::OK, "{found}");
    assert!(found.contains("已核查办结"));

    // The text message went to the reporter's phone through the gateway.
    let mut asked = false;
    for _ in 0..100 {
        asked = SMS.lock().unwrap().iter().any(|(to, text)| *to == phone && text.contains(&code) && text.contains("满意"));
        if asked {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(asked, "the reporter gets a text message asking 解决了吗？满意吗？");

    // "Not fixed": back to the unit as rework, on its list, its inbox told.
    let token = path.trim_start_matches("/public/s/");
    let (status, _, location) = resident
        .post_raw(
            "/public/status/feedback",
            &[("_csrf", &csrf), ("token", token), ("fixed", "false"), ("satisfaction", "1"), ("note", "垃圾又堆回来了")],
        )
        .await;
    // Answered: back to the status page (a reload does not send it again).
    assert_eq!((status, location.as_deref()), (StatusCode::SEE_OTHER, Some(format!("/public/s/{token}?ok=reopened").as_str())));
    let (_, answered) = resident.get(&location.unwrap()).await;
    assert!(answered.contains("重新整改"), "{answered}");
    let (_, d) = unit.get(&format!("/api/v1/problems/{pid}")).await;
    let p = &d["problem"];
    assert_eq!((p["state"].as_str(), p["rework_count"].as_i64()), (Some("dispatched"), Some(1)));
    assert!(p["closed_at"].is_null() && p["deadline_at"].as_i64().unwrap() > chrono::Utc::now().timestamp_millis());
    let (_, mine) = unit.get("/api/v1/problems?state=dispatched").await;
    assert!(mine["items"].as_array().unwrap().iter().any(|x| x["id"] == pid.as_str()), "back in the unit's list");
    let reopen = format!("SELECT COUNT(*) FROM problem_events WHERE problem_id = '{pid}' AND action = 'reopen'");
    assert_eq!(app.scalar(&reopen).await, 1);
    let told = format!("SELECT COUNT(*) FROM notifications WHERE problem_id = '{pid}' AND title LIKE '群众反映未解决%'");
    assert!(app.scalar(&told).await >= 1);
    let (status, twice, _) = resident
        .post_raw("/public/status/feedback", &[("_csrf", &csrf), ("token", token), ("fixed", "true"), ("satisfaction", "5")])
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{twice}");
    assert!(twice.contains("每个问题只能评价一次") && twice.contains("办理进度"), "the page again, saying why");

    // The 千分制 counts the reopening (−5) and the 非常不满意 (−2) against the unit, each traced to
    // the problem; the KPIs show the satisfaction and reopen rates.
    let unit_id = p["unit_id"].as_str().unwrap().to_string();
    let today = chuangcheng::domain::time::to_local(chuangcheng::domain::time::now_ms()).date_naive();
    let admin = app.api_login("admin").await;
    let (_, l) = admin.get(&format!("/api/v1/scoring/unit/ledger/{unit_id}?period=week&date={today}")).await;
    let entries = l["entries"].as_array().unwrap();
    let of = |kind: &str| entries.iter().filter(|e| e["kind"] == kind && e["cause_id"] == pid.as_str()).map(|e| e["amount"].as_i64().unwrap()).collect::<Vec<_>>();
    assert_eq!((of("reopen"), of("dissatisfied")), (vec![-50], vec![-20]), "{l}");
    let (_, kpi) = admin.get(&format!("/api/v1/kpi?from={today}&to={today}")).await;
    let line = kpi["lines"].as_array().unwrap().iter().find(|x| x["key"] == unit_id.as_str()).expect("the unit's KPIs").clone();
    assert_eq!((line["rated"].as_i64(), line["satisfied"].as_i64(), line["reopened"].as_i64()), (Some(1), Some(0), Some(1)), "{line}");
    assert_eq!(line["satisfaction_rate"].as_f64(), Some(0.0));

    // Every step is audited with its actor; the public pages never show the reporter.
    let audited = format!("SELECT COUNT(*) FROM audit_log WHERE object_id = '{id}' AND action IN ('create', 'verify', 'update')");
    assert_eq!(app.scalar(&audited).await, 3);
    let (_, public) = resident.get("/public?state=处置中").await;
    assert!(public.contains(&code), "{public}");
    assert!(!public.contains("张先生") && !public.contains(&phone));
    let (_, feed) = resident.get("/public/feed.atom").await;
    assert!(feed.contains(&code) && !feed.contains("张先生") && !feed.contains(&phone));
    // The feed's entries lead to the report's public page: its stages and the unit's reply, no reporter.
    assert!(feed.contains(&format!("/public/reports/{code}\"")));
    let (status, page) = anyone_get(&app, &format!("/public/reports/{code}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("已核实立案") && page.contains("已核查办结") && page.contains("群众反映未解决，重新办理"), "{page}");
    assert!(!page.contains("张先生") && !page.contains(&phone) && !page.contains("解决了吗"));
    assert_eq!(anyone_get(&app, "/public/reports/R000").await.0, StatusCode::NOT_FOUND);
});

both!(refusals_are_clear_and_nothing_is_half_saved, |app: TestApp| async move {
    let resident = app.browser();
    let (_, lng, lat, _) = point_in_grid_area(&app).await;
    let category = a_category(&resident).await;
    let (lng_s, lat_s) = (lng.to_string(), lat.to_string());
    let good = [
        ("service_code", category.as_str()),
        ("description", "路灯不亮"),
        ("lng", lng_s.as_str()),
        ("lat", lat_s.as_str()),
    ];
    // A robot fills the hidden field.
    let mut robot = good.to_vec();
    robot.push(("website", "http://spam.example"));
    let (status, page) = submit(&resident, &robot, vec![jpeg_bytes(1)]).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("页面内容异常"), "{page}");
    // No photo, no position, an unknown category, a bad phone: all said at once, in Chinese.
    let bad = [("service_code", "9999"), ("description", "灯"), ("phone", "12345")];
    let (status, page) = submit(&resident, &bad, vec![]).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        page.contains("网页不能保留刚才选的照片，请在第④项重新选择照片"),
        "a refused form asks for its photos again"
    );
    for said in ["请从列表中选择问题类别", "至少4个字", "请定位或在地图上选择", "手机号应为11位", "至少拍摄或选择1张"]
    {
        assert!(page.contains(said), "{said} in {page}");
    }
    // A file that is not a photo, seven photos, a place outside the city: the form again, with
    // what was typed and the reason.
    let (status, page) = submit(&resident, &good, vec![b"not an image at all".to_vec()]).await;
    assert!(status.is_client_error(), "{status}");
    assert!(page.contains("不是图片") && page.contains("id=\"report-form\"") && page.contains("路灯不亮"), "{page}");
    // A good photo and then a bad one: refused whole, and the good one, stored on the way, goes.
    let files = media_files(&app);
    let (status, page) = submit(&resident, &good, vec![jpeg_bytes(5), b"not an image at all".to_vec()]).await;
    assert!(status.is_client_error() && page.contains("不是图片"), "{status}");
    assert_eq!(media_files_settled(&app, files).await, files, "nothing of the refused report is left");
    let (status, page) = submit(&resident, &good, (0..7).map(jpeg_bytes).collect()).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("最多上传6张照片") && page.contains("路灯不亮"));
    let beijing =
        [("service_code", category.as_str()), ("description", "路灯不亮"), ("lng", "116.4074"), ("lat", "39.9042")];
    let (status, page) = submit(&resident, &beijing, vec![jpeg_bytes(2)]).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("位置不在本市范围内"), "{page}");
    // Phone and ID numbers typed into the text never reach the public pages.
    let mut private = good.to_vec();
    private[1] = ("description", "路灯不亮，我电话13812345678，身份证130903199001011234");
    let (status, _) = submit(&resident, &private, vec![jpeg_bytes(4)]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    for path in ["/public", "/public/feed.atom", "/open311/v2/requests.json", "/open311/v2/requests.xml"] {
        let (_, body) = app.browser().get(path).await;
        assert!(body.contains("路灯不亮，我电话****，身份证****"), "{path}: {body}");
        assert!(!body.contains("13812345678") && !body.contains("130903199001011234"), "{path}");
    }
    // A form from elsewhere (no token).
    let form = reqwest::multipart::Form::new().text("service_code", category.clone()).text("description", "路灯不亮");
    let res = app.browser().client.post(format!("{}/public/report", app.base)).multipart(form).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert_eq!(app.scalar("SELECT COUNT(*) FROM reports").await, 1, "only the good one was saved");
    let orphans = "SELECT COUNT(*) FROM photos WHERE owner_type = 'report'";
    assert_eq!(app.scalar(orphans).await, 1);
});

both!(near_reports_are_suggested_and_a_supporter_counts_once, |app: TestApp| async move {
    let resident = app.browser();
    let (_, lng, lat, _) = point_in_grid_area(&app).await;
    let category = a_category(&resident).await;
    let (lng_s, lat_s) = (lng.to_string(), lat.to_string());
    let fields = [
        ("service_code", category.as_str()),
        ("description", "井盖松动有响声"),
        ("lng", lng_s.as_str()),
        ("lat", lat_s.as_str()),
    ];
    let (status, receipt) = submit(&resident, &fields, vec![jpeg_bytes(7)]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(receipt.contains("只能通过这个链接查询"), "no phone: the private link is the only way back");
    let code = between(&receipt, "receipt-code\">", "<").to_string();
    // 100 m away: suggested; 2 km away: not.
    let near = format!("/public/report/nearby.json?lng={}&lat={}&service_code={category}", lng + 0.0009, lat);
    let (_, body) = resident.get(&near).await;
    let v: Value = serde_json::from_str(&body).unwrap();
    let first = &v["similar"][0];
    assert_eq!((first["code"].as_str(), first["same_category"].as_bool()), (Some(code.as_str()), Some(true)));
    assert!(first.get("reporter_phone").is_none());
    let far = format!("/public/report/nearby.json?lng={}&lat={}&service_code={category}", lng + 0.02, lat);
    let (_, body) = resident.get(&far).await;
    assert_eq!(serde_json::from_str::<Value>(&body).unwrap()["similar"], json!([]));
    // "我也遇到" from another resident: counted once.
    let other = app.browser();
    let (_, html) = other.get("/public/report").await;
    let csrf = extract_csrf(&html).unwrap();
    let (status, body, _) = other.post_raw("/public/report/support", &[("_csrf", &csrf), ("code", &code)]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(serde_json::from_str::<Value>(&body).unwrap()["supporters"], 1);
    let (status, body, _) = other.post_raw("/public/report/support", &[("_csrf", &csrf), ("code", &code)]).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(body.contains("已表示遇到过"), "{body}");
    assert_eq!(app.scalar("SELECT supporters FROM reports").await, 1);
    assert_eq!(app.scalar("SELECT COUNT(*) FROM reports").await, 1, "a supporter is not a new report");
    // The card shown again carries the new count, and no browser keeps the old one.
    let res = other.get_raw(&near).await;
    assert_eq!(res.headers().get("cache-control").unwrap(), "no-store");
    let v: Value = res.json().await.unwrap();
    assert_eq!(v["similar"][0]["supporters"], 1, "{v}");
});

fn strict_limits(c: &mut chuangcheng::config::Config) {
    c.reports_per_hour = 2;
    c.public_per_minute = 40;
}

both!(a_photo_taken_elsewhere_long_ago_is_flagged_for_the_triage, |app: TestApp| async move {
    use base64::Engine;
    let resident = app.browser();
    let (_, lng, lat, _) = point_in_grid_area(&app).await;
    let category = a_category(&resident).await;
    // Taken three days ago, 5 km away.
    let taken = (chrono::Utc::now() - chrono::Duration::days(3))
        .with_timezone(&chrono::FixedOffset::east_opt(8 * 3600).unwrap());
    let exif = crate::evidence::jpeg_with_exif(5, &taken.format("%Y:%m:%d %H:%M:%S").to_string(), lng + 0.06, lat);
    let bytes = base64::engine::general_purpose::STANDARD.decode(exif).unwrap();
    let (lng_s, lat_s) = (lng.to_string(), lat.to_string());
    let fields = [
        ("service_code", category.as_str()),
        ("description", "窨井盖破损"),
        ("lng", lng_s.as_str()),
        ("lat", lat_s.as_str()),
    ];
    let (status, _) = submit(&resident, &fields, vec![bytes]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let id = app.id_of("SELECT id FROM reports").await;
    let admin = app.api_login("admin").await;
    let (_, detail) = admin.get(&format!("/api/v1/reports/{id}")).await;
    let warnings: Vec<&str> =
        detail["photo_warnings"].as_array().unwrap().iter().map(|w| w.as_str().unwrap()).collect();
    assert!(warnings.iter().any(|w| w.contains("早一天以上")), "{warnings:?}");
    assert!(warnings.iter().any(|w| w.contains("公里") || w.contains("米")), "{warnings:?}");
    let office = app.login("admin").await;
    let (_, page) = office.get(&format!("/reports/{id}")).await;
    assert!(page.contains("flash warn"));
    // A fresh photo taken where the report says carries none.
    let now = chrono::Utc::now().with_timezone(&chrono::FixedOffset::east_opt(8 * 3600).unwrap());
    let exif = crate::evidence::jpeg_with_exif(6, &now.format("%Y:%m:%d %H:%M:%S").to_string(), lng, lat);
    let bytes = base64::engine::general_purpose::STANDARD.decode(exif).unwrap();
    let (status, _) = submit(&resident, &fields, vec![bytes]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let id = app.id_of("SELECT id FROM reports ORDER BY created_at DESC, id DESC LIMIT 1").await;
    let (_, detail) = admin.get(&format!("/api/v1/reports/{id}")).await;
    assert_eq!(detail["photo_warnings"], json!([]));
});

// Reports sent at the same moment from one client through three instances (each lets a
// client upload one at a time) count each other: the hourly limit holds. Before, each counted
// only the reports already saved, and all three were kept.
both!(reports_sent_at_once_stay_within_the_hourly_limit, configure strict_limits, |app: TestApp| async move {
    let (_, lng, lat, _) = point_in_grid_area(&app).await;
    let category = a_category(&app.browser()).await;
    let (lng_s, lat_s) = (lng.to_string(), lat.to_string());
    let fields = [("service_code", category.as_str()), ("description", "同时提交"), ("lng", lng_s.as_str()), ("lat", lat_s.as_str())];
    let bases = [app.base.clone(), app.second_instance().await, app.second_instance().await];
    let browsers: Vec<Browser> = bases.iter().map(|b| Browser::new(b)).collect();
    let files = media_files(&app);
    let sent = futures::future::join_all(
        browsers.iter().enumerate().map(|(i, b)| submit(b, &fields, vec![jpeg_bytes(20 + i as u8)])),
    )
    .await;
    let mut statuses: Vec<StatusCode> = sent.iter().map(|(s, _)| *s).collect();
    statuses.sort();
    assert_eq!(statuses, [StatusCode::SEE_OTHER, StatusCode::SEE_OTHER, StatusCode::TOO_MANY_REQUESTS]);
    let refused = &sent.iter().find(|(s, _)| *s == StatusCode::TOO_MANY_REQUESTS).unwrap().1;
    assert!(refused.contains("一小时后再试"), "{refused}");
    assert_eq!(app.scalar("SELECT COUNT(*) FROM reports").await, 2);
    assert_eq!(app.scalar("SELECT COUNT(*) FROM photos WHERE owner_type = 'report'").await, 2);
    // The refused report's files are removed just after its answer: wait for that, counting
    // the files the two kept photos name (was: the count at once, which could still hold them).
    let kept = app
        .scalar(
            "SELECT COUNT(*) FROM (SELECT original_key FROM photos WHERE owner_type = 'report' \
             UNION SELECT thumb_key FROM photos WHERE owner_type = 'report') k",
        )
        .await as usize;
    assert!((2..=4).contains(&kept), "{kept}");
    assert_eq!(
        media_files_settled(&app, files + kept).await,
        files + kept,
        "the two kept reports' photo files only"
    );
});

both!(one_senders_reports_either_side_of_midnight_stay_within_the_hourly_limit, configure strict_limits, |app: TestApp| async move {
    use chuangcheng::service::reports::{Sender, SubmitInput, submit};
    let (_, lng, lat, _) = point_in_grid_area(&app).await;
    let category = a_category(&app.browser()).await;
    let mut config = chuangcheng::config::Config::for_tests(app.dir.path().to_path_buf(), app.database_url.clone());
    strict_limits(&mut config);
    let storage = chuangcheng::media::storage::Storage::from_config(&config).unwrap();
    let sender = Sender { client: "one-phone".into(), channel: chuangcheng::domain::citizen::Channel::Web, api_key: None };
    // 23:59:59.9 and 00:00:00.1 Beijing time: the day's report numbers are two different rows.
    let midnight = chrono::DateTime::parse_from_rfc3339("2026-11-30T00:00:00+08:00").unwrap().timestamp_millis();
    let sends = (0..6).map(|i| {
        let at = if i % 2 == 0 { midnight - 100 } else { midnight + 100 };
        let input = SubmitInput {
            service_code: category.clone(),
            description: format!("午夜前后同时提交{i}"),
            lng: Some(lng),
            lat: Some(lat),
            ..Default::default()
        };
        let (db, storage, config, sender) = (&app.db, &storage, &config, &sender);
        chuangcheng::domain::time::replay_at(at, async move { submit(db, storage, config, sender, input, (vec![], false)).await })
    });
    let answers = futures::future::join_all(sends).await;
    let kept = answers.iter().filter(|a| a.is_ok()).count();
    for a in answers.iter().filter_map(|a| a.as_ref().err()) {
        assert_eq!(a.code().as_str(), "report_limit", "{a:?}");
    }
    assert_eq!(kept, 2, "two an hour, whichever day each was numbered in");
    assert_eq!(app.scalar("SELECT COUNT(*) FROM reports").await, 2);
});

both!(rate_limits_answer_429_in_chinese, configure strict_limits, |app: TestApp| async move {
    let resident = app.browser();
    // The site's address leads to the staff sign-in; it shows residents the way to their pages.
    let res = resident.get_raw("/").await;
    assert_eq!(res.headers().get("location").unwrap(), "/login?next=/");
    let (_, login) = resident.get("/login?next=/").await;
    assert!(login.contains("市民请进入 <a href=\"/public/report\">随手拍</a>"), "{login}");
    let (_, lng, lat, _) = point_in_grid_area(&app).await;
    let category = a_category(&resident).await;
    let (lng_s, lat_s) = (lng.to_string(), lat.to_string());
    let fields = [("service_code", category.as_str()), ("description", "绿化带里有垃圾"), ("lng", lng_s.as_str()), ("lat", lat_s.as_str())];
    for i in 0..2 {
        assert_eq!(submit(&resident, &fields, vec![jpeg_bytes(i)]).await.0, StatusCode::SEE_OTHER);
    }
    let (status, page) = submit(&resident, &fields, vec![jpeg_bytes(9)]).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert!(page.contains("一小时后再试"), "{page}");
    assert_eq!(app.scalar("SELECT COUNT(*) FROM reports").await, 2);
    // A list's photos are counted apart from the pages (ten times the allowance): a resident
    // scrolling three lists of 40 photos is not refused.
    let photo = app.id_of("SELECT id FROM photos WHERE owner_type = 'report' ORDER BY id LIMIT 1").await;
    // (A verified report's photos are public; the verification itself is tested elsewhere.)
    sqlx::query(&format!("UPDATE reports SET state = 'verified' WHERE id = (SELECT owner_id FROM photos WHERE id = '{photo}')"))
        .execute(&app.db.pool)
        .await
        .unwrap();
    for i in 0..120 {
        let res = resident.get_raw(&format!("/public/photos/{photo}")).await;
        assert_eq!(res.status(), StatusCode::OK, "photo request {i}");
    }
    // Reading the public pages: past the minute's allowance, 429 with a Chinese page and Retry-After.
    let mut refused = None;
    for _ in 0..60 {
        let res = resident.get_raw("/public/exposure").await;
        if res.status() == StatusCode::TOO_MANY_REQUESTS {
            refused = Some((res.headers().get("retry-after").cloned(), res.text().await.unwrap()));
            break;
        }
    }
    let (retry, body) = refused.expect("the public pages are rate limited");
    assert_eq!(retry.unwrap(), "60");
    assert!(body.contains("访问过于频繁"), "{body}");
    // Staff pages are not limited with them.
    let admin = app.login("admin").await;
    assert_eq!(admin.get("/problems").await.0, StatusCode::OK);
    // Open311 clients get the spec's error list.
    let res = resident.get_raw("/open311/v2/services.json").await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    let v: Value = res.json().await.unwrap();
    assert_eq!(v[0]["code"], 429);
});

both!(a_voided_report_says_why_in_public_and_charges_no_one, |app: TestApp| async move {
    let resident = app.browser();
    let (_, lng, lat, _) = point_in_grid_area(&app).await;
    let category = a_category(&resident).await;
    let (lng_s, lat_s) = (lng.to_string(), lat.to_string());
    let fields = [
        ("service_code", category.as_str()),
        ("description", "小区内部装修噪音"),
        ("lng", lng_s.as_str()),
        ("lat", lat_s.as_str()),
    ];
    let (_, receipt) = submit(&resident, &fields, vec![jpeg_bytes(3)]).await;
    let code = between(&receipt, "receipt-code\">", "<").to_string();
    let problems = app.scalar("SELECT COUNT(*) FROM problems").await;
    let office = app.login("admin").await;
    let id = app.id_of(&format!("SELECT id FROM reports WHERE code = '{code}'")).await;
    let (_, page) = office.get(&format!("/reports/{id}")).await;
    assert!(page.contains("核实立案并派单") && page.contains("不予立案"));
    let (status, page, _) = office.post(&format!("/reports/{id}/void"), &[("version", "1"), ("reason", "")]).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("将向市民公开"), "{page}");
    let reason = "属物业管理范围，已转小区物业处理";
    let (status, _, location) =
        office.post(&format!("/reports/{id}/void"), &[("version", "1"), ("reason", reason)]).await;
    assert_eq!((status, location.as_deref()), (StatusCode::SEE_OTHER, Some("/reports")));
    assert_eq!(app.scalar("SELECT COUNT(*) FROM problems").await, problems);
    // The queue's state filter: 待核实 first, and one 全部 that shows every report.
    let (_, queue) = office.get("/reports").await;
    let states = between(&queue, "<select name=\"state\">", "</select>");
    assert_eq!(states.matches(">全部</option>").count(), 1, "{states}");
    assert!(states.contains("<option value=\"all\">全部</option>"), "{states}");
    let (_, public) = resident.get("/public?state=不予立案").await;
    assert!(public.contains(&code) && public.contains(reason));
    let photo = app.id_of(&format!("SELECT id FROM photos WHERE owner_id = '{id}'")).await;
    assert_eq!(
        resident.get(&format!("/public/photos/{photo}")).await.0,
        StatusCode::NOT_FOUND,
        "a voided report's photo stays private"
    );
    let (_, xml) = resident.get(&format!("/open311/v2/requests/{code}.json")).await;
    let v: Value = serde_json::from_str(&xml).unwrap();
    assert_eq!(v[0]["status"], "closed");
    assert!(v[0]["status_notes"].as_str().unwrap().contains(reason));
});

both!(public_pages_show_fixes_the_exposure_board_and_feeds, |app: TestApp| async move {
    let anyone = app.browser();
    // A problem found, fixed and closed with its photos.
    let (point, item) = crate::fixtures::road_point(&app).await;
    let supervisor = app.api_login("supervisor").await;
    let body =
        json!({"point_id": point, "standard_item_id": item, "description": "垃圾桶满溢", "source": "supervision"});
    let (status, p) = crate::fixtures::file(&supervisor, body).await;
    assert_eq!(status, StatusCode::CREATED, "{p}");
    let pid = p["id"].as_str().unwrap();
    let lead = app.api_login("lead").await;
    lead.act_ok(pid, "acknowledge", json!({})).await;
    lead.act_ok(pid, "submit_fix", json!({"note": "已清理", "photos": [photo(77)]})).await;
    supervisor.act_ok(pid, "pass", json!({})).await;
    // Closed problems with their before and after photos.
    let (status, closed) = anyone.get("/public/closed").await;
    assert_eq!(status, StatusCode::OK);
    let shown = closed.matches("alt=\"整改后\"").count();
    assert!(shown > 0, "the demo city has fixed problems with after-photos");
    let photo_id = between(&closed, "src=\"/public/photos/", "\"").to_string();
    let res = anyone.get_raw(&format!("/public/photos/{photo_id}")).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["content-type"], "image/jpeg");
    // The 曝光台: open problems past their deadline, as many as the ledger holds.
    let overdue = app
        .scalar(&format!(
            "SELECT COUNT(*) FROM problems WHERE state IN ('dispatched', 'acknowledged', 'submitted') AND deadline_at < {}",
            chrono::Utc::now().timestamp_millis()
        ))
        .await;
    let (_, exposure) = anyone.get("/public/exposure").await;
    assert!(exposure.contains(&format!("共 {overdue} 条")), "exposure counts {overdue}");
    // Filtered by street: a street's count is at most the city's.
    let street = app.id_of("SELECT id FROM org_nodes WHERE level = 'street' ORDER BY code LIMIT 1").await;
    let (_, one_street) = anyone.get(&format!("/public/exposure?area={street}")).await;
    let n: i64 = between(&one_street, "共 ", " 条").parse().unwrap();
    assert!(n <= overdue);
    // Pages that are the same for everyone are served from the cache the second time.
    let first = anyone.get_raw("/public/closed?page=1").await;
    assert!(first.headers().get("x-cache").is_none());
    let second = anyone.get_raw("/public/closed?page=1").await;
    assert_eq!(second.headers()["x-cache"], "hit");
    assert!(second.headers()["cache-control"].to_str().unwrap().starts_with("public"));
    // No staff names, phones or people on the public pages.
    let lead_phone = app.id_of("SELECT lead_phone FROM points WHERE lead_phone <> '' ORDER BY code LIMIT 1").await;
    for page in [&closed, &exposure] {
        assert!(!page.contains(&lead_phone) && !page.contains("负责人"));
    }
    // Feeds: well-formed, with zones on every time.
    let (status, atom) = anyone.get("/public/feed.atom?kind=closed").await;
    assert_eq!(status, StatusCode::OK);
    crate::open311::well_formed(&atom);
    let (status, rss) = anyone.get("/public/feed.rss").await;
    assert_eq!(status, StatusCode::OK);
    crate::open311::well_formed(&rss);
    // The notices page: published notices and the published ranking.
    let (status, notices) = anyone.get("/public/notices").await;
    assert_eq!(status, StatusCode::OK);
    let published = app.scalar("SELECT COUNT(*) FROM notices WHERE status = 'published'").await;
    assert_eq!(notices.matches("下载Word").count() as i64, published.min(50));
    if published > 0 {
        assert!(notices.contains("千分制排名"), "the ranking of the latest published week");
    } else {
        assert!(notices.contains("暂无已发布的通报") && !notices.contains("千分制排名"));
    }
    // The poster carries a QR code of the report page.
    let (status, poster) = anyone.get("/public/report/poster").await;
    assert_eq!(status, StatusCode::OK);
    assert!(poster.contains("<svg") && poster.contains("/public/report"));
});
