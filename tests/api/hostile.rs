//! Bad files and bad actors: crafted workbooks, oversized bodies and uploads that hold the
//! server's memory. Each is answered with a Chinese message and a stable code, and the server
//! goes on answering.

use crate::both;
use crate::helpers::*;
use reqwest::StatusCode;
use rust_xlsxwriter::Workbook;
use std::io::Write;

/// A points-import workbook: the header, one good row, and whatever `extra` writes.
fn points_book(extra: impl FnOnce(&mut rust_xlsxwriter::Worksheet)) -> Vec<u8> {
    book("Sheet1", extra)
}

/// A workbook with one sheet of that name, a header and a row, and what `extra` writes.
fn book(name: &str, extra: impl FnOnce(&mut rust_xlsxwriter::Worksheet)) -> Vec<u8> {
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    ws.set_name(name).unwrap();
    for (c, h) in ["点位编码", "点位名称", "点位类型", "责任单位"].iter().enumerate() {
        ws.write_string(0, c as u16, *h).unwrap();
    }
    for (c, v) in ["HOST-1", "测试点位", "背街小巷", "运河区城市管理综合行政执法局"].iter().enumerate()
    {
        ws.write_string(1, c as u16, *v).unwrap();
    }
    extra(ws);
    wb.save_to_buffer().unwrap()
}

/// The same workbook with one more zip entry of `size` zero bytes (which packs to almost nothing).
fn with_padding(xlsx: &[u8], size: usize) -> Vec<u8> {
    let mut src = zip::ZipArchive::new(std::io::Cursor::new(xlsx)).unwrap();
    let mut out = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for i in 0..src.len() {
        out.raw_copy_file(src.by_index(i).unwrap()).unwrap();
    }
    let options = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    out.start_file("xl/media/padding.bin", options).unwrap();
    let chunk = vec![0u8; 1024 * 1024];
    for _ in 0..size / chunk.len() {
        out.write_all(&chunk).unwrap();
    }
    out.finish().unwrap().into_inner()
}

use crate::exchange::upload as upload_page;
use crate::points::post_xlsx as post_points;

/// The whole-file message of a refused import.
fn file_message(body: &serde_json::Value) -> String {
    body["error"]["rows"][0]["message"].as_str().unwrap_or_default().to_string()
}

both!(a_workbook_claiming_a_million_rows_is_refused_and_the_server_lives, |app: TestApp| async move {
    // One cell at A1 and one at XFD1048576: 1.8 KB that a dense reader expands to 512 GiB.
    let bomb = points_book(|ws| {
        ws.write_string(1_048_575, 16_383, "x").unwrap();
    });
    assert!(bomb.len() < 10_000, "{}", bomb.len());
    let api = app.api_login("admin").await;
    let (status, body) = post_points(&api, bomb.clone()).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["error"]["code"], "import_rejected");
    assert!(file_message(&body).contains("超过100000行数据（第1048576行有内容）"), "{body}");
    let b = app.login("admin").await;
    let far = |ws: &mut rust_xlsxwriter::Worksheet| {
        ws.write_string(1_048_575, 16_383, "x").unwrap();
    };
    for (path, sheet) in [("/units/import", "单位"), ("/grids/attributes", "网格")] {
        let (status, html) = upload_page(&b, path, book(sheet, far)).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{path}");
        assert!(html.contains("超过100000行数据"), "{path}: {html}");
    }
    assert_eq!(api.get("/healthz").await.0, StatusCode::OK);
    assert_eq!(app.scalar("SELECT COUNT(*) FROM points WHERE code = 'HOST-1'").await, 0, "nothing half-saved");
});

both!(a_zip_bomb_and_an_oversized_cell_are_refused_before_they_are_read, |app: TestApp| async move {
    let api = app.api_login("admin").await;
    // 100 MB of zeros inside a file of a few hundred KB.
    let padded = with_padding(&points_book(|_| {}), 100 * 1024 * 1024);
    assert!(padded.len() < 1024 * 1024, "{}", padded.len());
    let (status, body) = post_points(&api, padded).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(file_message(&body).contains("解压后超过64MB"), "{body}");
    // A cell of 3,000 characters is a row error under its column.
    let long = points_book(|ws| {
        ws.write_string(1, 1, "长".repeat(3_000)).unwrap();
    });
    let (status, body) = post_points(&api, long).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let row = &body["error"]["rows"][0];
    assert_eq!((row["row"].as_i64(), row["column"].as_str()), (Some(2), Some("B")), "{body}");
    assert!(row["message"].as_str().unwrap().contains("超过2000字"), "{body}");
    // A file over the import size is refused from its declared length, before its body is sent
    // (a client still sending would meet a closed connection, so only the head goes out).
    let auth = format!("Authorization: Bearer {}\r\n", api.token);
    let mut s = hold_upload(&app.base, "/api/v1/points/import", &auth, 11 * 1024 * 1024 + 10, 0).await;
    let answer = read_head(&mut s).await;
    assert!(answer.starts_with("HTTP/1.1 413"), "answered from the declared length: {answer}");
    // Not a workbook at all.
    let (status, body) = post_points(&api, b"PK\x03\x04 not really a zip".to_vec()).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(file_message(&body).contains("不是有效的Excel"), "{body}");
});

/// Sends the head of a POST and `sent` bytes of its body, then holds the connection open.
async fn hold_upload(base: &str, path: &str, headers: &str, declared: usize, sent: usize) -> tokio::net::TcpStream {
    use tokio::io::AsyncWriteExt;
    let addr = base.trim_start_matches("http://");
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    let head = format!("POST {path} HTTP/1.1\r\nHost: {addr}\r\n{headers}Content-Length: {declared}\r\n\r\n");
    s.write_all(head.as_bytes()).await.unwrap();
    s.write_all(&vec![b'{'; sent]).await.unwrap();
    s
}

both!(uploads_are_bounded_before_their_bodies_are_read, |app: TestApp| async move {
    // A bank's account cannot file problems; it still cannot make the server hold a large body.
    let bank = app.api_login("bank").await;
    let auth = format!("Authorization: Bearer {}\r\nContent-Type: application/json\r\n", bank.token);
    let mut s = hold_upload(&app.base, "/api/v1/problems", &auth, 300 * 1024 * 1024, 10).await;
    let answer = read_head(&mut s).await;
    assert!(answer.starts_with("HTTP/1.1 413"), "answered from the declared length: {answer}");
    assert!(answer.contains("payload_too_large"), "{answer}");
    // JSON bodies elsewhere are small.
    let (status, body) = bank.post("/api/v1/org/nodes", serde_json::json!({"name": "x".repeat(2 * 1024 * 1024)})).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{body}");
    // One upload at a time per account: a second one while the first is still arriving is
    // turned away at once, and the first, once finished, is answered as usual.
    let declared = 2 * 1024 * 1024;
    let mut first = hold_upload(&app.base, "/api/v1/problems", &auth, declared, 1024).await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let (status, body) = bank.post("/api/v1/problems", serde_json::json!({})).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(body["error"]["code"], "busy");
    assert!(body["error"]["message"].as_str().unwrap().contains("上传尚未完成"), "{body}");
    {
        use tokio::io::AsyncWriteExt;
        first.write_all(&vec![b' '; declared - 1024]).await.unwrap();
    }
    let answer = read_head(&mut first).await;
    assert!(answer.starts_with("HTTP/1.1 400") || answer.starts_with("HTTP/1.1 422"), "{answer}");
    let (status, _) = bank.post("/api/v1/problems", serde_json::json!({})).await;
    assert_ne!(status, StatusCode::SERVICE_UNAVAILABLE, "the account may upload again");
});

/// Reads an answer's head and as much of its body as has arrived.
async fn read_head(s: &mut tokio::net::TcpStream) -> String {
    use tokio::io::AsyncReadExt;
    let mut buf = vec![0u8; 16 * 1024];
    let n = tokio::time::timeout(std::time::Duration::from_secs(10), s.read(&mut buf))
        .await
        .expect("an answer within 10 s")
        .unwrap();
    String::from_utf8_lossy(&buf[..n]).to_string()
}

both!(a_grid_boundary_with_too_many_vertices_is_refused, |app: TestApp| async move {
    let api = app.api_login("admin").await;
    let community: String =
        app.id_of("SELECT code FROM org_nodes WHERE level = 'community' ORDER BY code LIMIT 1").await;
    // A circle of 6,000 vertices: every user's map would download it.
    let mut ring: Vec<[f64; 2]> = (0..6_000)
        .map(|i| {
            let a = i as f64 / 6_000.0 * std::f64::consts::TAU;
            [116.85 + 0.01 * a.cos(), 38.30 + 0.01 * a.sin()]
        })
        .collect();
    ring.push(ring[0]);
    let doc = serde_json::json!({"type": "FeatureCollection", "features": [{"type": "Feature",
        "properties": {"code": format!("{community}901"), "name": "过密网格"},
        "geometry": {"type": "Polygon", "coordinates": [ring]}}]});
    let res = api
        .client
        .post(format!("{}/api/v1/grids/import", api.base))
        .bearer_auth(&api.token)
        .body(doc.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: serde_json::Value = res.json().await.unwrap();
    let row = &body["error"]["rows"][0];
    assert_eq!((row["row"].as_i64(), row["column"].as_str()), (Some(1), Some("geometry")), "{body}");
    assert!(row["message"].as_str().unwrap().contains("6001个顶点，超过上限5000个"), "{body}");
    assert_eq!(app.scalar(&format!("SELECT COUNT(*) FROM grids WHERE code = '{community}901'")).await, 0);
});

both!(private_answers_are_not_cached_and_leak_no_referrer, |app: TestApp| async move {
    let b = app.login("admin").await;
    for path in ["/points", "/api/v1/openapi.json", "/healthz"] {
        let res = b.get_raw(path).await;
        let h = res.headers();
        assert_eq!(h["cache-control"], "no-store", "{path}");
        assert_eq!(h["referrer-policy"], "same-origin", "{path}");
        assert!(h.get("strict-transport-security").is_none(), "{path}: no HSTS over plain HTTP");
    }
    let (_, html) = b.get("/").await;
    let css = html.split("href=\"/static/").nth(1).and_then(|s| s.split('"').next()).expect("a stylesheet");
    let res = b.get_raw(&format!("/static/{css}")).await;
    assert!(res.headers()["cache-control"].to_str().unwrap().starts_with("public"), "static files are cached");
});

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn https_deployments_send_hsts() {
    let app = AppBuilder::new(Backend::Sqlite).empty().configure(|c| c.secure_cookies = true).spawn().await.unwrap();
    let res = reqwest::get(format!("{}/login", app.base)).await.unwrap();
    assert_eq!(res.headers()["strict-transport-security"], "max-age=31536000");
}

/// Signs in over the API as `username` through a proxy that says the client is `client`.
async fn login_from(app: &TestApp, username: &str, password: &str, client: &str) -> (StatusCode, serde_json::Value) {
    let res = reqwest::Client::new()
        .post(format!("{}/api/v1/auth/login", app.base))
        .header("x-forwarded-for", client)
        .json(&serde_json::json!({"username": username, "password": password}))
        .send()
        .await
        .unwrap();
    let status = res.status();
    (status, res.json().await.unwrap_or_default())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stranger_cannot_lock_the_owner_out() {
    let app = AppBuilder::new(Backend::Sqlite)
        .configure(|c| c.trusted_proxies = vec!["127.0.0.1".into()])
        .spawn()
        .await
        .unwrap();
    // Five wrong guesses at the administrator from one address: that address is stopped.
    for _ in 0..5 {
        let (status, _) = login_from(&app, "admin", "Guess12345", "203.0.113.9").await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
    let (status, body) = login_from(&app, "admin", PW, "203.0.113.9").await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    // The administrator, at the office's address, signs in as usual.
    let (status, body) = login_from(&app, "admin", PW, "198.51.100.7").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // A forged hop in front of the proxy's own does not hide the client.
    for _ in 0..5 {
        login_from(&app, "unit", "Guess12345", "10.9.9.9, 203.0.113.10").await;
    }
    let (status, _) = login_from(&app, "unit", PW, "1.2.3.4, 203.0.113.10").await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "the proxy's hop names the client");
    // Guesses spread over many addresses slow the account down to one try per 10 seconds.
    for i in 0..20 {
        login_from(&app, "bank", "Guess12345", &format!("192.0.2.{i}")).await;
    }
    let (status, body) = login_from(&app, "bank", PW, "198.51.100.7").await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    assert!(body["error"]["message"].as_str().unwrap().contains("秒后再试"), "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_trusted_proxy_the_forwarded_header_is_ignored() {
    let app = AppBuilder::new(Backend::Sqlite).spawn().await.unwrap();
    for i in 0..5 {
        login_from(&app, "admin", "Guess12345", &format!("203.0.113.{i}")).await;
    }
    let (status, _) = login_from(&app, "admin", PW, "198.51.100.7").await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "every guess came from the same socket");
}

both!(weak_and_reused_passwords_are_refused_and_reauthentication_is_throttled, |app: TestApp| async move {
    let admin = app.api_login("admin").await;
    let unit = app.id_of("SELECT id FROM units ORDER BY name LIMIT 1").await;
    for (pw, why) in [("password1", "常见的弱密码"), ("aaaaaaa1", "过于简单"), ("zhaoliu2026", "不能包含用户名")]
    {
        let (status, body) = admin
            .post(
                "/api/v1/users",
                serde_json::json!({"username": "zhaoliu", "display_name": "赵六", "role": "unit_user",
                    "unit_id": unit, "password": pw}),
            )
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{pw}: {body}");
        let field = &body["error"]["fields"][0];
        assert_eq!(field["code"], "weak_password", "{body}");
        assert!(field["message"].as_str().unwrap().contains(why), "{pw}: {body}");
    }
    // The current password again is not a new one.
    let me = app.api_login("unit").await;
    let same = serde_json::json!({"old_password": PW, "new_password": PW, "confirm_password": PW});
    let (status, body) = me.put("/api/v1/me/password", same).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(body.to_string().contains("不能与当前密码相同"), "{body}");
    // Guessing the current password from a signed-in session is throttled like a login.
    let guess = serde_json::json!({"old_password": "Guess12345", "new_password": "Yunhe-River7", "confirm_password": "Yunhe-River7"});
    for _ in 0..5 {
        assert_eq!(me.put("/api/v1/me/password", guess.clone()).await.0, StatusCode::UNPROCESSABLE_ENTITY);
    }
    let right =
        serde_json::json!({"old_password": PW, "new_password": "Yunhe-River7", "confirm_password": "Yunhe-River7"});
    let (status, body) = me.put("/api/v1/me/password", right).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
});

both!(group_chat_robots_cannot_point_inside_the_network, |app: TestApp| async move {
    let admin = app.login("admin").await;
    let unit = app.id_of("SELECT unit_id FROM users WHERE username = 'lead'").await;
    // The test configuration allows loopback (its fake robots live there): a host it does not
    // name is judged by where it points.
    for url in [
        "http://10.0.0.8/hook",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]:8080/api/v1/users",
        "http://192.168.1.1/",
        "http://0.0.0.0:8080/",
    ] {
        let (status, html, _) =
            admin.post(&format!("/units/{unit}/webhooks"), &[("kind", "wecom"), ("url", url)]).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{url}");
        assert!(html.contains("指向内网或本机地址"), "{url}: {html}");
    }
    assert_eq!(app.scalar("SELECT COUNT(*) FROM webhooks").await, 0);
});

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_robot_stored_with_an_inside_address_is_never_called() {
    let app = AppBuilder::new(Backend::Sqlite).configure(|c| c.webhook_allow_hosts.clear()).spawn().await.unwrap();
    let admin = app.login("admin").await;
    let unit = app.id_of("SELECT unit_id FROM users WHERE username = 'lead'").await;
    // A name that resolves to loopback is refused when the robot is connected…
    let (status, html, _) =
        admin.post(&format!("/units/{unit}/webhooks"), &[("kind", "wecom"), ("url", "http://localhost:9/hook")]).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(html.contains("指向内网或本机地址"), "{html}");
    // …and one stored before (or whose name changed its address since) is not called at delivery.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let called = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let flag = called.clone();
    tokio::spawn(async move {
        while listener.accept().await.is_ok() {
            flag.store(true, std::sync::atomic::Ordering::SeqCst);
        }
    });
    for url in [format!("http://127.0.0.1:{port}/hook"), format!("http://localhost:{port}/hook")] {
        sqlx::query(
            "INSERT INTO webhooks (id, unit_id, kind, url, active, created_at) VALUES ($1, $2, 'wecom', $3, 1, 0)",
        )
        .bind(uuid::Uuid::now_v7().to_string())
        .bind(&unit)
        .bind(url)
        .execute(&app.db.pool)
        .await
        .unwrap();
    }
    let sup = app.api_login("supervisor").await;
    let point = app.id_of(&format!("SELECT id FROM points WHERE unit_id = '{unit}' ORDER BY code LIMIT 1")).await;
    let body = serde_json::json!({"point_id": point, "category": "道路破损", "description": "人行道砖松动", "source": "supervision"});
    assert_eq!(sup.post("/api/v1/problems", crate::fixtures::with_photo(body)).await.0, StatusCode::CREATED);
    let start = std::time::Instant::now();
    while app.scalar("SELECT COUNT(*) FROM outbox WHERE attempts > 0").await < 2 {
        assert!(start.elapsed() < std::time::Duration::from_secs(20), "both deliveries were tried");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(!called.load(std::sync::atomic::Ordering::SeqCst), "no connection reached the inside address");
    let errors: Vec<String> =
        sqlx::query_scalar("SELECT last_error FROM outbox").fetch_all(&app.db.pool).await.unwrap();
    assert!(errors.iter().all(|e| !e.is_empty()), "{errors:?}");
}
