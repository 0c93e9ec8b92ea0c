use crate::both;
use crate::helpers::*;
use reqwest::StatusCode;
use serde_json::json;

/// The operations the handlers in `src/web/api` declare with `#[utoipa::path(method, path = "…")]`
/// or as a list's or a record's endpoints (`list_endpoint!`, `record_endpoints!`).
fn declared_operations() -> Vec<(String, String)> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/src/web/api");
    let mut ops = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let source = std::fs::read_to_string(entry.unwrap().path()).unwrap();
        for attr in source.split("#[utoipa::path(").skip(1) {
            let method = attr.split(',').next().unwrap().trim().to_string();
            let path = attr.split("path = ").nth(1).unwrap().split([',', ')']).next().unwrap().trim().to_string();
            if path != "$path" {
                ops.push((method, path.trim_matches('"').to_string()));
            }
        }
        for call in source.split("record_endpoints! {").skip(1) {
            for line in call.split("\n}").next().unwrap().lines().map(str::trim) {
                let verb = line.split(' ').next().unwrap_or_default();
                let method = match verb {
                    "create" => "post",
                    "get" => "get",
                    "update" => "put",
                    "delete" => "delete",
                    _ => continue,
                };
                ops.push((method.into(), line.split('"').nth(1).unwrap().to_string()));
            }
        }
        for call in source.split("list_endpoint! {").skip(1) {
            let body = call.split('}').next().unwrap();
            let path = body.split('"').nth(1).unwrap().to_string();
            ops.push(("get".into(), path));
        }
    }
    ops.sort();
    ops
}

both!(the_openapi_document_and_the_routes_are_one_list, |app: TestApp| async move {
    let api = Api { client: reqwest::Client::new(), base: app.base.clone(), token: String::new() };
    let (status, doc) = api.get("/api/v1/openapi.json").await;
    assert_eq!(status, StatusCode::OK);
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    let paths = doc["paths"].as_object().unwrap();
    let mut documented: Vec<(String, String)> = paths
        .iter()
        .flat_map(|(path, item)| item.as_object().unwrap().keys().map(move |m| (m.clone(), path.clone())))
        .collect();
    documented.sort();
    // Every handler that declares an operation is documented, and nothing else is.
    assert_eq!(documented, declared_operations());
    assert!(documented.len() >= 90, "{} operations", documented.len());
    // Routes are only added through the documented list (the document itself aside).
    let registry = include_str!("../../src/web/api/mod.rs");
    let plain: Vec<&str> = registry.lines().filter(|l| l.contains(".route(")).collect();
    assert_eq!(plain.len(), 1, "only /openapi.json is routed outside routes!(…): {plain:?}");
    assert!(plain[0].contains("/openapi.json"));
    // Every schema a document refers to is in it.
    let text = doc.to_string();
    for r in text.split("\"$ref\":\"#/components/schemas/").skip(1) {
        let name = r.split('"').next().unwrap();
        assert!(doc["components"]["schemas"][name].is_object(), "schema {name} is referenced and defined");
    }
    assert!(paths["/auth/login"]["post"]["requestBody"].is_object());
    assert_eq!(doc["components"]["securitySchemes"]["bearer"]["scheme"], "bearer");
    let body_ref = |path: &str, method: &str| {
        paths[path][method]["requestBody"]["content"]["application/json"]["schema"]["$ref"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert!(
        body_ref("/standards", "post").ends_with("/NewStandardDraft"),
        "POST /standards names the standard's draft"
    );
    assert!(body_ref("/scoring/{class}/draft", "put").ends_with("/RulesDraft"));
    assert!(doc["components"]["schemas"]["NewStandardDraft"]["properties"]["name"].is_object());
    // Every documented operation is routed: without a token it asks for one (never 404 or 405).
    for (method, path) in &documented {
        let url = format!("{}/api/v1{}", app.base, path.replace("{id}", "00000000-0000-7000-8000-000000000000"));
        let req = api.client.request(method.to_uppercase().parse().unwrap(), &url).json(&json!({}));
        let status = req.send().await.unwrap().status();
        assert!(status == StatusCode::UNAUTHORIZED || path == "/auth/login", "{method} {path}: {status}");
    }
});

/// The checked-in `docs/openapi.json` is the document the server serves, so that every API change
/// shows in review. `UPDATE_OPENAPI=1 cargo test openapi_snapshot` rewrites it.
#[test]
fn openapi_snapshot_is_checked_in() {
    let file = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/openapi.json");
    let doc = serde_json::to_value(chuangcheng::web::api::openapi()).unwrap();
    if std::env::var("UPDATE_OPENAPI").is_ok() {
        std::fs::write(file, serde_json::to_string_pretty(&doc).unwrap() + "\n").unwrap();
    }
    let checked_in: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(file).expect("docs/openapi.json is checked in")).unwrap();
    assert!(
        checked_in == doc,
        "the API changed: review it and run `UPDATE_OPENAPI=1 cargo test openapi_snapshot` to update docs/openapi.json"
    );
}

both!(json_validation_errors_carry_codes_and_chinese_messages, |app: TestApp| async move {
    let admin = app.api_login("admin").await;
    let before = app.scalar("SELECT COUNT(*) FROM org_nodes").await;
    let (status, body) = admin.post("/api/v1/org/nodes", json!({"level": "street", "code": "12", "name": ""})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["error"]["code"], "validation_failed");
    let codes = field_codes(&body);
    assert!(codes.contains(&("name".to_string(), "required".to_string())));
    assert!(codes.contains(&("parent_id".to_string(), "parent_required".to_string())));
    assert!(codes.contains(&("code".to_string(), "invalid_code".to_string())));
    let name_msg =
        body["error"]["fields"].as_array().unwrap().iter().find(|f| f["field"] == "name").unwrap()["message"].clone();
    assert_eq!(name_msg, "请填写名称");
    let (status, body) = admin.post("/api/v1/org/nodes", json!({"level": 5})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"]["code"], "invalid_json");
    // The message names the field and the place in Chinese, without the parser's English.
    let message = body["error"]["message"].as_str().unwrap();
    assert!(message.contains("字段“level”") && message.contains("第1行"), "{message}");
    assert!(!message.contains("Failed") && !message.contains("invalid type"), "{message}");
    let res = reqwest::Client::new()
        .post(format!("{}/api/v1/units", app.base))
        .bearer_auth(&admin.token)
        .header("content-type", "application/json")
        .body(r#"{"name":"#)
        .send()
        .await
        .unwrap();
    let body: serde_json::Value = res.json().await.unwrap();
    let message = body["error"]["message"].as_str().unwrap();
    assert!(message.contains("第1行第8列") && !message.contains("EOF"), "{message}");
    assert_eq!(app.scalar("SELECT COUNT(*) FROM org_nodes").await, before);
    let (status, body) = admin.get("/api/v1/nothing-here").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["error"]["code"], "not_found");
    let (status, body) = admin.get("/api/v1/audit?from=yesterday").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"]["code"], "invalid_date");
    // A range whose end comes before its start is said to be one, not answered with nothing.
    let (status, body) = admin.get("/api/v1/problems?from=2026-12-07&to=2026-12-01").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["error"]["code"], "date_out_of_range");
    let page = app.login("admin").await;
    let (_, html) = page.get("/problems?from=2026-12-07&to=2026-12-01").await;
    assert!(html.contains("发现时间的开始日期晚于结束日期"), "{html}");
});

both!(a_record_read_over_the_api_can_be_sent_back_unchanged, |app: TestApp| async move {
    let admin = app.api_login("admin").await;
    for kind in ["units", "users", "points"] {
        let (_, page) = admin.get(&format!("/api/v1/{kind}?size=1")).await;
        let id = page["items"][0]["id"].as_str().unwrap().to_string();
        let (status, record) = admin.get(&format!("/api/v1/{kind}/{id}")).await;
        assert_eq!(status, StatusCode::OK, "{record}");
        // Flags come back as 1/0 and coordinates as numbers; a PUT takes them as they are.
        let (status, saved) = admin.put(&format!("/api/v1/{kind}/{id}"), record.clone()).await;
        assert_eq!(status, StatusCode::OK, "PUT {kind}/{id} with its own GET body: {saved}");
        assert_eq!(saved["version"].as_i64(), record["version"].as_i64().map(|v| v + 1), "{saved}");
        if kind == "points" {
            assert!(record["lng"].is_f64(), "{record}");
            assert!((saved["lng"].as_f64().unwrap() - record["lng"].as_f64().unwrap()).abs() < 1e-6, "{saved}");
        }
    }
});

/// The keys an error object may carry, as the OpenAPI document's ErrorDetail lists them.
async fn documented_error_keys(app: &TestApp) -> Vec<String> {
    let api = Api { client: reqwest::Client::new(), base: app.base.clone(), token: String::new() };
    let (_, doc) = api.get("/api/v1/openapi.json").await;
    let props = doc["components"]["schemas"]["ErrorDetail"]["properties"].as_object().expect("ErrorDetail documented");
    props.keys().cloned().collect()
}

both!(framework_rejections_come_in_the_catalogue_shape, |app: TestApp| async move {
    let admin = app.api_login("admin").await;
    let documented = documented_error_keys(&app).await;
    let check = |status: StatusCode, body: &serde_json::Value, want: StatusCode, code: &str| {
        assert_eq!(status, want, "{body}");
        assert_eq!(body["error"]["code"], code, "{body}");
        let message = body["error"]["message"].as_str().unwrap_or_default();
        assert!(message.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)), "a Chinese message: {body}");
        for key in body["error"].as_object().unwrap().keys() {
            assert!(documented.contains(key), "error field {key} is documented in ErrorDetail");
        }
    };
    let token = admin.token.clone();
    let send = |req: reqwest::RequestBuilder| {
        let req = req.bearer_auth(&token);
        async move { raw(req).await }
    };
    let client = reqwest::Client::new();
    // An over-limit JSON body (was an English text/plain 413) and an over-limit upload: the
    // server answers from the declared length, before the body is sent.
    let auth = format!("Authorization: Bearer {}\r\nContent-Type: application/json\r\n", admin.token);
    for path in ["/api/v1/points", "/api/v1/grids/import"] {
        let (s, _, body) = declared_oversize(&app.base, path, &auth).await;
        let body: serde_json::Value = serde_json::from_str(&body).unwrap_or_else(|_| panic!("{path}: {s} {body}"));
        check(s, &body, StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large");
    }
    // JSON without its content type, a wrong method.
    let (s, b, _) = send(client.post(format!("{}/api/v1/points", app.base)).body("{}")).await;
    check(s, &b, StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type");
    let (s, b, allow) = send(client.delete(format!("{}/api/v1/points", app.base))).await;
    check(s, &b, StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed");
    assert!(allow.is_some_and(|a| a.contains("GET")), "the Allow header is kept");
    // Field errors and import rows are documented too.
    let (s, b) = admin.post("/api/v1/org/nodes", json!({"level": "street", "name": ""})).await;
    check(s, &b, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    let (s, b) = admin
        .put("/api/v1/calendar/2027", json!({"year": 2027, "holidays": [{"date": "2027-13-01", "name": "x"}]}))
        .await;
    check(s, &b, StatusCode::UNPROCESSABLE_ENTITY, "import_rejected");
    assert_eq!(b["error"]["rows"][0]["sheet"], "holidays", "{b}");
    // A page answers an over-limit form with a Chinese page, not plain text.
    let cookie = format!(
        "Cookie: cc_session={}\r\nContent-Type: application/x-www-form-urlencoded\r\n",
        session_cookie(&app, "admin").await
    );
    let (s, content_type, html) = declared_oversize(&app.base, "/org/new", &cookie).await;
    assert_eq!(s, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(content_type.starts_with("text/html"), "{content_type}");
    assert!(html.contains("超过大小限制"), "{html}");
});

/// Sends a request; its status, JSON body and Allow header.
async fn raw(req: reqwest::RequestBuilder) -> (StatusCode, serde_json::Value, Option<String>) {
    let res = req.send().await.unwrap();
    let status = res.status();
    let allow = res.headers().get("allow").map(|v| v.to_str().unwrap().to_string());
    (status, res.json::<serde_json::Value>().await.unwrap_or_default(), allow)
}

/// A POST of a 12 MB body (over every limit but the photo forms'), read while it is being written (the server answers
/// before the body ends, and a client that only waited for its write to finish would see a
/// broken pipe): the status, content type and body of the answer.
async fn declared_oversize(base: &str, path: &str, headers: &str) -> (StatusCode, String, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr = base.trim_start_matches("http://");
    let (mut s, mut w) = tokio::net::TcpStream::connect(addr).await.unwrap().into_split();
    let size = 12 * 1024 * 1024;
    let req =
        format!("POST {path} HTTP/1.1\r\nHost: {addr}\r\n{headers}Content-Length: {size}\r\nConnection: close\r\n\r\n");
    tokio::spawn(async move {
        // The server may stop reading and close: the rest of the body is then refused, as expected.
        let _ = w.write_all(req.as_bytes()).await;
        let _ = w.write_all(&vec![b'a'; size]).await;
    });
    // Read the answer as far as its Content-Length: the server may keep the connection open.
    let mut out = Vec::new();
    let complete = |out: &[u8]| {
        let text = String::from_utf8_lossy(out);
        let Some((head, body)) = text.split_once("\r\n\r\n") else { return false };
        let length = head
            .lines()
            .find_map(|l| l.to_ascii_lowercase().strip_prefix("content-length: ").map(|n| n.trim().parse().unwrap()))
            .unwrap_or(0usize);
        body.len() >= length
    };
    while !complete(&out) {
        let mut buf = [0u8; 8192];
        let n = tokio::time::timeout(std::time::Duration::from_secs(10), s.read(&mut buf))
            .await
            .unwrap_or_else(|_| panic!("{path}: no answer before the body was sent"))
            .unwrap();
        assert!(n > 0, "{path}: connection closed early");
        out.extend_from_slice(&buf[..n]);
    }
    let text = String::from_utf8_lossy(&out).to_string();
    let (head, body) = text.split_once("\r\n\r\n").unwrap();
    let status: u16 = head.split(' ').nth(1).unwrap().parse().unwrap();
    let content_type = head
        .lines()
        .find_map(|l| l.to_ascii_lowercase().strip_prefix("content-type: ").map(str::to_string))
        .unwrap_or_default();
    (StatusCode::from_u16(status).unwrap(), content_type, body.to_string())
}

/// Signs in through the login form and returns the session cookie's value.
async fn session_cookie(app: &TestApp, username: &str) -> String {
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let form = client.get(format!("{}/login", app.base)).send().await.unwrap();
    let login_cookie = form.headers()["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_string();
    let token = extract_csrf(&form.text().await.unwrap()).unwrap();
    let res = client
        .post(format!("{}/login", app.base))
        .header("cookie", login_cookie)
        .form(&[("_csrf", token.as_str()), ("username", username), ("password", PW), ("next", "/")])
        .send()
        .await
        .unwrap();
    let set = res.headers().get_all("set-cookie").iter().map(|v| v.to_str().unwrap().to_string()).collect::<Vec<_>>();
    let session = set.iter().find_map(|c| c.strip_prefix("cc_session=")).expect("a session cookie");
    session.split(';').next().unwrap().to_string()
}
