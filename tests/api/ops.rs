use crate::both;
use crate::helpers::*;
use reqwest::StatusCode;

both!(health_request_ids_and_security_headers, |app: TestApp| async move {
    let client = reqwest::Client::new();
    let res = client.get(format!("{}/healthz", app.base)).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let rid = res.headers().get("x-request-id").expect("request id").to_str().unwrap().to_string();
    assert_eq!(rid.len(), 36, "a UUID per request");
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["status"], "ok");
    assert_eq!(body["database"], if app.backend == Backend::Sqlite { "sqlite" } else { "postgres" });
    // A caller's own request id is kept and ends up in the audit log.
    let api = app.api_login("admin").await;
    let res = client
        .post(format!("{}/api/v1/contact-levels", app.base))
        .bearer_auth(&api.token)
        .header("x-request-id", "trace-abc-123")
        .json(&serde_json::json!({"name": "临时层级", "seq": 9}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    assert_eq!(res.headers()["x-request-id"], "trace-abc-123");
    assert_eq!(app.scalar("SELECT COUNT(*) FROM audit_log WHERE request_id = 'trace-abc-123'").await, 1);
    let res = client.get(format!("{}/login", app.base)).send().await.unwrap();
    assert_eq!(res.headers()["x-frame-options"], "DENY");
    assert!(res.headers()["content-security-policy"].to_str().unwrap().contains("default-src 'self'"));
});

both!(pages_load_nothing_from_the_internet, |app: TestApp| async move {
    let b = app.login("admin").await;
    let unit = app.id_of("SELECT id FROM units ORDER BY name LIMIT 1").await;
    let anonymous = app.browser();
    for path in ["/", "/org", "/units", &format!("/units/{unit}"), "/teams", "/users", "/audit", "/users/new", "/login"]
    {
        let (status, html) = if path == "/login" { anonymous.get(path).await } else { b.get(path).await };
        assert_eq!(status, StatusCode::OK, "{path}");
        assert!(html.contains("lang=\"zh-CN\"") && html.contains("width=device-width"), "{path}: Chinese, phone-ready");
        for attr in ["src=\"http", "href=\"http", "src=\"//", "href=\"//"] {
            assert!(!html.contains(attr), "{path} refers to an outside resource");
        }
    }
    for asset in ["/static/app.css", "/static/app.js", "/static/vendor/htmx-2.0.11.min.js"] {
        let res = b.get_raw(asset).await;
        assert_eq!(res.status(), StatusCode::OK, "{asset} embedded");
        assert!(res.bytes().await.unwrap().len() > 100);
    }
    assert_eq!(b.get("/static/nope.js").await.0, StatusCode::NOT_FOUND);
    let (status, html) = b.get("/no/such/page").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(html.contains("页面不存在"));
});

both!(malformed_query_strings_are_answered_in_chinese, |app: TestApp| async move {
    let b = app.login("admin").await;
    for path in ["/units?page=abc", "/problems/new?lng=east&lat=1", "/settings/calendar?year=two"] {
        let (status, html) = b.get(path).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{path}");
        assert!(html.contains("查询条件格式不正确"), "{path}");
    }
    let api = app.api_login("admin").await;
    let (status, body) = api.get("/api/v1/units?size=lots").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"]["code"], "invalid_query", "{body}");
    assert_eq!(body["error"]["message"], "查询条件格式不正确，请检查页码、数字和日期后重试");
});
