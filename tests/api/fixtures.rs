//! Domain fixtures shared by the feature tests: a point and standard item to file at, photos,
//! working days, the week's dates. Setup calls assert the status they expect (see `Api::file_ok`,
//! `Api::act_ok`, `Api::created`), so a broken setup fails where it breaks.

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

/// A before-photo for a filing that does not care which: every call a picture of its own
/// (another pattern than `photo`'s, so no test's after-photo repeats it by chance).
pub fn field_photo() -> String {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let block = |bx: u32, by: u32| {
        let mut z = (bx as u64) << 40 ^ (by as u64) << 20 ^ n.wrapping_mul(0xD6E8_FEB8_6659_FD93) ^ 0xA5A5;
        z = z.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ (z >> 31);
        z = z.wrapping_mul(0xBF58_476D_1CE4_E5B9);
        (z >> 56) as u8
    };
    let img = ImageBuffer::from_fn(320, 240, |x, y| {
        let v = block(x / 20, y / 12);
        Rgb([255 - v, v, v / 3 + 80])
    });
    let mut out = Vec::new();
    JpegEncoder::new_with_quality(&mut out, 80).encode_image(&img).unwrap();
    base64::engine::general_purpose::STANDARD.encode(out)
}

/// An inspection's filing carries its photo (the rule since inspection finds need evidence);
/// a test that gives none gets one of its own.
pub fn with_photo(mut body: Value) -> Value {
    let inspection = matches!(body["source"].as_str(), Some("supervision" | "grid_patrol" | "evaluation"));
    if inspection && body.get("photos").is_none() {
        body["photos"] = serde_json::json!([field_photo()]);
    }
    body
}

/// The most recent working day before today (Beijing), as "YYYY-MM-DD".
pub async fn last_working_day(app: &TestApp) -> String {
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
    api.post("/api/v1/problems", with_photo(body)).await
}

pub fn jpeg_bytes(seed: u8) -> Vec<u8> {
    base64::engine::general_purpose::STANDARD.decode(photo(seed)).unwrap()
}

pub async fn post_multipart(
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
pub async fn act_on_page(
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

/// Monday of last week and a day of it, in Beijing time.
pub fn last_week() -> (chrono::NaiveDate, String) {
    use chrono::Datelike;
    let today = chuangcheng::domain::time::to_local(chuangcheng::domain::time::now_ms()).date_naive();
    let monday = today - chrono::Duration::days(today.weekday().num_days_from_monday() as i64 + 7);
    (monday, monday.format("%Y-%m-%d").to_string())
}

pub fn day(d: chrono::NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

pub fn today() -> chrono::NaiveDate {
    chuangcheng::domain::time::to_local(chuangcheng::domain::time::now_ms()).date_naive()
}

/// Today's work across the city: problems at points of two streets, one fixed and closed, one
/// with an extension request waiting for the office; the ids of the three at the first point.
pub async fn todays_work(app: &TestApp) -> Vec<String> {
    let sup = app.api_login("supervisor").await;
    let lead = app.api_login("lead").await;
    let (point, item) = road_point(app).await;
    let elsewhere = app
        .id_of(&format!(
            "SELECT id FROM points WHERE community_id <> (SELECT community_id FROM points WHERE id = '{point}') \
                 ORDER BY code LIMIT 1"
        ))
        .await;
    let mut ids = Vec::new();
    for n in 0..3 {
        let body = json!({"point_id": point, "standard_item_id": item, "description": format!("积存垃圾{n}"),
            "source": "supervision", "allow_duplicate": true});
        ids.push(sup.file_ok(body).await["id"].as_str().unwrap().to_string());
    }
    sup.file_ok(json!({"point_id": elsewhere, "category": "乱贴乱画", "description": "墙面小广告",
        "source": "supervision", "severity": "minor"}))
        .await;
    lead.act_ok(&ids[0], "acknowledge", json!({})).await;
    lead.act_ok(&ids[0], "submit_fix", json!({"note": "已清理", "photos": [photo(40)]})).await;
    sup.act_ok(&ids[0], "pass", json!({})).await;
    lead.act_ok(&ids[1], "request_extension", json!({"days": 2, "reason": "需协调环卫车辆"})).await;
    ids
}

/// Copies a template problem `n` times, alternately at two points, found a minute
/// apart going back from the template, open and two hours overdue (ids `bbbb-…`, hex as cursors
/// require).
pub async fn bulk_problems(app: &TestApp, template: &str, (a, b): (&str, &str), n: i64) {
    use chuangcheng::store::problems::Problem;
    use chuangcheng::store::record::Insert;
    let cols = <Problem as Insert>::COLUMNS;
    let values: Vec<String> = cols
        .iter()
        .map(|c| match *c {
            "id" => "'bbbb-' || CAST(n.i AS TEXT)".into(),
            "code" => "'BULK' || CAST(n.i AS TEXT)".into(),
            "point_id" => format!("CASE WHEN n.i % 2 = 0 THEN '{a}' ELSE '{b}' END"),
            "community_id" => {
                format!("(SELECT community_id FROM points WHERE id = CASE WHEN n.i % 2 = 0 THEN '{a}' ELSE '{b}' END)")
            }
            "state" => "'dispatched'".into(),
            "found_at" | "filed_at" | "dispatched_at" | "created_at" | "updated_at" => {
                "t.found_at - n.i * 60000".into()
            }
            "deadline_at" => "t.found_at - n.i * 60000 - 7200000".into(),
            "acknowledged_at" | "submitted_at" | "closed_at" | "voided_at" => "NULL".into(),
            other => format!("t.{other}"),
        })
        .collect();
    let sql = format!(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {n}) \
         INSERT INTO problems ({}) SELECT {} FROM n, (SELECT * FROM problems WHERE id = '{template}') t",
        cols.join(", "),
        values.join(", ")
    );
    sqlx::query(&sql).execute(&app.db.pool).await.expect("bulk problems");
}

/// How many files the app's local photo store holds (originals and thumbnails).
pub fn media_files(app: &TestApp) -> usize {
    fn count(dir: &std::path::Path) -> usize {
        let Ok(entries) = std::fs::read_dir(dir) else { return 0 };
        entries.flatten().map(|e| if e.path().is_dir() { count(&e.path()) } else { 1 }).sum()
    }
    count(&app.dir.path().join("media").join("photos"))
}

/// The store's file count once the removal of a refused request's files has run (it runs just
/// after the answer): waits up to five seconds for `expected`, then returns what is there.
pub async fn media_files_settled(app: &TestApp, expected: usize) -> usize {
    let started = std::time::Instant::now();
    while media_files(app) != expected && started.elapsed() < std::time::Duration::from_secs(5) {
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    media_files(app)
}

/// A copy of a point (its unit, type and lead) in the first community outside 公园街道, added by
/// the office with this code: a point outside the demo's second team's area.
pub async fn copy_outside_park_street(app: &TestApp, point: &str, code: &str) {
    let office = app.api_login("admin").await;
    let (_, mut road) = office.get(&format!("/api/v1/points/{point}")).await;
    road["code"] = code.into();
    road["name"] = "新华西路（西段）".into();
    road["grid_id"] = Value::Null;
    road["community_id"] = app
        .id_of(
            "SELECT c.id FROM org_nodes c JOIN org_nodes s ON s.id = c.parent_id WHERE c.level = 'community' \
             AND s.name <> '公园街道' ORDER BY c.code LIMIT 1",
        )
        .await
        .into();
    let (status, body) = office.post("/api/v1/points", road).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
}
