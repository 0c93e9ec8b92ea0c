use crate::both;
use crate::helpers::*;
use reqwest::StatusCode;
use serde_json::json;

both!(the_openapi_document_describes_every_route, |app: TestApp| async move {
    let api = Api { client: reqwest::Client::new(), base: app.base.clone(), token: String::new() };
    let (status, doc) = api.get("/api/v1/openapi.json").await;
    assert_eq!(status, StatusCode::OK);
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    let paths = doc["paths"].as_object().unwrap();
    for p in [
        "/auth/login",
        "/auth/logout",
        "/me",
        "/me/password",
        "/org/nodes",
        "/org/nodes/{id}",
        "/units",
        "/units/{id}",
        "/units/{id}/contacts",
        "/contacts/{id}",
        "/contact-levels",
        "/teams",
        "/teams/{id}",
        "/users",
        "/users/{id}",
        "/users/{id}/password",
        "/audit",
    ] {
        assert!(paths.contains_key(p), "{p} documented");
    }
    assert!(paths["/auth/login"]["post"]["requestBody"].is_object());
    assert_eq!(doc["components"]["securitySchemes"]["bearer"]["scheme"], "bearer");
    // Every documented operation answers (not 404) when called without a token.
    for (path, item) in paths {
        for method in item.as_object().unwrap().keys() {
            let url = format!("{}/api/v1{}", app.base, path.replace("{id}", "00000000-0000-7000-8000-000000000000"));
            let req = api.client.request(method.to_uppercase().parse().unwrap(), &url).json(&json!({}));
            let status = req.send().await.unwrap().status();
            assert!(status == StatusCode::UNAUTHORIZED || path == "/auth/login", "{method} {path}: {status}");
        }
    }
});

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
    assert_eq!(app.scalar("SELECT COUNT(*) FROM org_nodes").await, before);
    let (status, body) = admin.get("/api/v1/nothing-here").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["error"]["code"], "not_found");
    let (status, body) = admin.get("/api/v1/audit?from=yesterday").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"]["code"], "invalid_date");
});
