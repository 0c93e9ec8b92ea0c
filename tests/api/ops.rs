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

fn metric_value(text: &str, series: &str) -> Option<f64> {
    text.lines().find_map(|l| l.strip_prefix(series).and_then(|v| v.strip_prefix(' ')).and_then(|v| v.parse().ok()))
}

// Operators read /metrics from the machine itself (no token configured): requests per route
// template with their latency histogram, job rounds, queues and the pool. A request that came
// through a proxy, or from elsewhere, is refused.
both!(metrics_count_requests_per_route_and_stay_off_the_public, |app: TestApp| async move {
    let b = app.login("admin").await;
    let point = app.id_of("SELECT id FROM points ORDER BY code LIMIT 1").await;
    for _ in 0..3 {
        assert_eq!(b.get(&format!("/points/{point}")).await.0, StatusCode::OK);
    }
    let api = app.api_login("admin").await;
    api.created("/api/v1/contact-levels", serde_json::json!({"name": "指标层级", "seq": 9})).await;
    // A filing goes through the writer's group commit on both databases.
    let filed =
        serde_json::json!({"point_id": point, "category": "指标", "description": "指标登记", "source": "assigned"});
    api.created("/api/v1/problems", filed).await;
    // Jobs run every 200 ms in tests: wait for a round to be counted.
    tokio::time::sleep(std::time::Duration::from_millis(600)).await;
    let client = reqwest::Client::new();
    let res = client.get(format!("{}/metrics", app.base)).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.headers()["content-type"].to_str().unwrap().starts_with("text/plain; version=0.0.4"));
    let text = res.text().await.unwrap();
    let page = r#"chuangcheng_http_requests_total{method="GET",route="/points/{id}",status="200"}"#;
    assert_eq!(metric_value(&text, page), Some(3.0), "three views of one route, not one series per id:\n{text}");
    assert!(!text.contains(&point), "ids never become labels");
    let count = r#"chuangcheng_http_request_duration_seconds_count{method="GET",route="/points/{id}"}"#;
    assert_eq!(metric_value(&text, count), Some(3.0));
    let inf = r#"chuangcheng_http_request_duration_seconds_bucket{method="GET",route="/points/{id}",le="+Inf"}"#;
    assert_eq!(metric_value(&text, inf), Some(3.0));
    let created = r#"chuangcheng_http_requests_total{method="POST",route="/api/v1/contact-levels",status="201"}"#;
    assert_eq!(metric_value(&text, created), Some(1.0));
    assert!(metric_value(&text, "chuangcheng_job_rounds_total").unwrap() >= 1.0, "job rounds counted");
    assert_eq!(metric_value(&text, "chuangcheng_job_failures_total"), Some(0.0));
    assert_eq!(metric_value(&text, "chuangcheng_webhook_queue_depth"), Some(0.0));
    assert_eq!(metric_value(&text, "chuangcheng_db_pool_max"), Some(8.0));
    assert!(metric_value(&text, "chuangcheng_db_pool_connections").unwrap() >= 1.0);
    // A gauge of the moment (a job round may be waiting for the writer just then).
    assert!(metric_value(&text, "chuangcheng_writer_queue_depth").is_some_and(|v| v >= 0.0));
    assert!(metric_value(&text, "chuangcheng_group_commits_total").unwrap() >= 1.0, "{text}");
    assert!(metric_value(&text, "chuangcheng_group_committed_writes_total").unwrap() >= 1.0);
    let proxied =
        client.get(format!("{}/metrics", app.base)).header("x-forwarded-for", "203.0.113.9").send().await.unwrap();
    assert_eq!(proxied.status(), StatusCode::FORBIDDEN, "what a proxy forwards is the public");
});

// With a token configured, only a scraper that presents it reads the metrics.
both!(
    metrics_need_the_configured_token,
    configure | c | c.metrics_token = "prom-Token-2026".into(),
    |app: TestApp| async move {
        let client = reqwest::Client::new();
        let url = format!("{}/metrics", app.base);
        assert_eq!(client.get(&url).send().await.unwrap().status(), StatusCode::FORBIDDEN);
        assert_eq!(
            client.get(&url).bearer_auth("prom-Token-2025").send().await.unwrap().status(),
            StatusCode::FORBIDDEN
        );
        let res = client.get(&url).bearer_auth("prom-Token-2026").send().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        assert!(res.text().await.unwrap().contains("# TYPE chuangcheng_http_requests_total counter"));
    }
);

// Every connection commits durably across power loss: SQLite syncs its log at each commit
// (synchronous = FULL, 2), PostgreSQL waits for its WAL flush (synchronous_commit = on).
both!(every_connection_commits_durably, |app: TestApp| async move {
    let mut conns = Vec::new();
    for _ in 0..3 {
        conns.push(app.db.pool.acquire().await.unwrap());
    }
    for c in conns.iter_mut() {
        if app.backend == Backend::Sqlite {
            let level: i64 = sqlx::query_scalar("PRAGMA synchronous").fetch_one(&mut **c).await.unwrap();
            assert_eq!(level, 2, "synchronous = FULL");
        } else {
            let level: String = sqlx::query_scalar("SHOW synchronous_commit").fetch_one(&mut **c).await.unwrap();
            assert_eq!(level, "on");
        }
    }
});
