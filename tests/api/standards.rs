use crate::both;
use crate::helpers::*;
use reqwest::StatusCode;
use serde_json::json;

fn new_item() -> serde_json::Value {
    json!({"category": "小区管理", "item": "加装电梯公示", "major_code": "07", "minor_code": "08",
           "requirement": "加装电梯意见征集和施工信息在小区宣传栏公示", "point_types": "compound",
           "time_limit": 5, "time_unit": "days", "severity": "minor", "deduction": 0.5})
}

both!(the_default_standard_is_published_and_gives_each_point_its_checklist, |app: TestApp| async move {
    let api = app.api_login("lead").await;
    let (status, versions) = api.get("/api/v1/standards").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(versions.as_array().unwrap().len(), 1);
    assert_eq!(versions[0]["status"], "published");
    let (_, items) = api.get(&format!("/api/v1/standards/{}/items", versions[0]["id"].as_str().unwrap())).await;
    assert_eq!(items.as_array().unwrap().len(), 56);
    // A compound point of the lead's own unit? The lead's unit (城管局) answers for roads: check one.
    let own = app.id_of("SELECT p.id FROM points p JOIN point_types t ON t.id = p.type_id JOIN users u ON u.unit_id = p.unit_id WHERE u.username = 'lead' AND t.code = 'main_road' ORDER BY p.code LIMIT 1").await;
    let (status, c) = api.get(&format!("/api/v1/points/{own}/checklist")).await;
    assert_eq!(status, StatusCode::OK);
    let names: Vec<&str> = c["items"].as_array().unwrap().iter().map(|i| i["item"].as_str().unwrap()).collect();
    assert!(names.contains(&"暴露垃圾") && names.contains(&"主干道路灯") && names.contains(&"道路公益广告"));
    assert!(!names.contains(&"过期食品") && !names.contains(&"飞线充电"));
    let other = app.id_of("SELECT p.id FROM points p JOIN point_types t ON t.id = p.type_id WHERE t.code = 'compound' ORDER BY p.code LIMIT 1").await;
    assert_eq!(api.get(&format!("/api/v1/points/{other}/checklist")).await.0, StatusCode::NOT_FOUND, "not its point");
    let b = app.login("admin").await;
    let (_, html) = b.get(&format!("/points/{other}")).await;
    assert!(html.contains("检查标准") && html.contains("飞线充电") && html.contains("依据现行标准：第1版"));
});

both!(a_new_version_is_drafted_and_published_without_touching_the_old_one, |app: TestApp| async move {
    let admin = app.api_login("admin").await;
    let (_, versions) = admin.get("/api/v1/standards").await;
    let v1 = versions[0]["id"].as_str().unwrap().to_string();
    let (_, v1_items_before) = admin.get(&format!("/api/v1/standards/{v1}/items")).await;
    let first_item = v1_items_before[0]["id"].as_str().unwrap().to_string();
    // Published items cannot change.
    let mut edit = new_item();
    edit["item"] = json!("改名");
    let (status, e) = admin.put(&format!("/api/v1/standard-items/{first_item}"), edit).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(e["error"]["code"], "not_draft");
    // Only the office drafts.
    let unit = app.api_login("unit").await;
    assert_eq!(unit.post("/api/v1/standards", json!({"name": "越权"})).await.0, StatusCode::FORBIDDEN);
    let (status, draft) = admin.post("/api/v1/standards", json!({"name": "2027版测评标准"})).await;
    assert_eq!(status, StatusCode::CREATED, "{draft}");
    assert_eq!((draft["version_no"].as_i64(), draft["status"].as_str()), (Some(2), Some("draft")));
    let v2 = draft["id"].as_str().unwrap().to_string();
    assert_eq!(admin.post("/api/v1/standards", json!({"name": "第二个草稿"})).await.0, StatusCode::CONFLICT);
    let (_, copied) = admin.get(&format!("/api/v1/standards/{v2}/items")).await;
    assert_eq!(copied.as_array().unwrap().len(), 56, "the draft starts as a copy");
    // Bad items are explained; a duplicate code is refused.
    let (status, e) = admin.post(&format!("/api/v1/standards/{v2}/items"), json!({"category": "", "major_code": "7", "point_types": "airport", "time_limit": 0, "time_unit": "weeks", "severity": "x", "deduction": -1})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let fields: Vec<String> = field_codes(&e).into_iter().map(|f| f.0).collect();
    for f in [
        "category",
        "item",
        "major_code",
        "minor_code",
        "requirement",
        "point_types",
        "time_limit",
        "time_unit",
        "severity",
        "deduction",
    ] {
        assert!(fields.contains(&f.to_string()), "{f} in {fields:?}");
    }
    let mut dup = new_item();
    dup["minor_code"] = json!("01");
    assert_eq!(admin.post(&format!("/api/v1/standards/{v2}/items"), dup).await.0, StatusCode::UNPROCESSABLE_ENTITY);
    let (status, added) = admin.post(&format!("/api/v1/standards/{v2}/items"), new_item()).await;
    assert_eq!(status, StatusCode::CREATED, "{added}");
    let (status, v) = admin.post(&format!("/api/v1/standards/{v2}/publish"), json!({})).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(v["status"], "published");
    let (_, versions) = admin.get("/api/v1/standards").await;
    let status_of = |id: &str| versions.as_array().unwrap().iter().find(|v| v["id"] == id).unwrap()["status"].clone();
    assert_eq!((status_of(&v1), status_of(&v2)), (json!("archived"), json!("published")));
    // The old version's items, which older problems point to, are exactly as they were.
    let (_, v1_items_after) = admin.get(&format!("/api/v1/standards/{v1}/items")).await;
    assert_eq!(v1_items_after, v1_items_before);
    // Points now get the new requirement.
    let compound = app.id_of("SELECT p.id FROM points p JOIN point_types t ON t.id = p.type_id WHERE t.code = 'compound' ORDER BY p.code LIMIT 1").await;
    let (_, c) = admin.get(&format!("/api/v1/points/{compound}/checklist")).await;
    assert_eq!(c["version"]["version_no"], 2);
    assert!(c["items"].as_array().unwrap().iter().any(|i| i["item"] == "加装电梯公示"));
    assert_eq!(
        app.scalar("SELECT COUNT(*) FROM audit_log WHERE object_type = 'standard_version' AND action = 'publish'")
            .await,
        1
    );
    assert_eq!(
        app.scalar("SELECT COUNT(*) FROM audit_log WHERE object_type = 'standard_item' AND action = 'create'").await,
        1
    );
});

both!(the_standards_pages_draft_edit_and_publish, |app: TestApp| async move {
    let b = app.login("admin").await;
    let (status, html) = b.get("/standards").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("现行") && html.contains("共 56 条") && html.contains("暴露垃圾"));
    let (_, html) = b.get("/standards?type_code=bank").await;
    assert!(html.contains("满意度评价器") && !html.contains("过期食品"));
    let (status, html, _) = b.post("/standards/draft", &[("name", "")]).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("请填写新版本名称"));
    let (status, _, location) = b.post("/standards/draft", &[("name", "2027版")]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let v2 = location.unwrap().split("version=").nth(1).unwrap().split('&').next().unwrap().to_string();
    let (status, html, _) = b
        .post(
            &format!("/standards/{v2}/items/new"),
            &[
                ("category", "小区管理"),
                ("item", "加装电梯公示"),
                ("major_code", "07"),
                ("minor_code", "08"),
                ("requirement", ""),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("请填写标准要求") && html.contains("请选择适用的点位类型"));
    let (status, _, _) = b
        .post(
            &format!("/standards/{v2}/items/new"),
            &[
                ("category", "小区管理"),
                ("item", "加装电梯公示"),
                ("major_code", "07"),
                ("minor_code", "08"),
                ("requirement", "加装电梯信息公示"),
                ("point_types", "compound"),
                ("point_types", "village"),
                ("time_limit", "5"),
                ("time_unit", "days"),
                ("severity", "minor"),
                ("deduction", "0.5"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(
        app.scalar(
            "SELECT COUNT(*) FROM standard_items WHERE item = '加装电梯公示' AND point_types = 'compound,village'"
        )
        .await,
        1
    );
    let (status, _, _) = b.post(&format!("/standards/{v2}/publish"), &[]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (_, html) = b.get("/standards").await;
    assert!(html.contains("第2版 2027版（现行）") && html.contains("已归档"));
    let res = b.get_raw("/standards?export=xlsx").await;
    let rows = crate::helpers::xlsx_rows(&res.bytes().await.unwrap());
    assert_eq!(rows.len(), 1 + 57);
    assert!(rows.iter().any(|r| r[3] == "加装电梯公示" && r[5] == "居民小区、村庄"));
});
