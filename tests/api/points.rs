use crate::both;
use crate::helpers::*;
use reqwest::StatusCode;
use rust_xlsxwriter::Workbook;
use serde_json::json;

const HEADERS: [&str; 12] = [
    "点位编码",
    "点位名称",
    "点位类型",
    "固定/随机",
    "经度",
    "纬度",
    "坐标系",
    "责任单位",
    "负责人",
    "负责人电话",
    "状态",
    "所属社区编码",
];

/// An .xlsx with the template's header and the given rows.
fn sheet(rows: &[Vec<String>]) -> Vec<u8> {
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    for (c, h) in HEADERS.iter().enumerate() {
        ws.write_string(0, c as u16, *h).unwrap();
    }
    for (r, row) in rows.iter().enumerate() {
        for (c, v) in row.iter().enumerate() {
            ws.write_string(r as u32 + 1, c as u16, v).unwrap();
        }
    }
    wb.save_to_buffer().unwrap()
}

fn good_row(i: usize) -> Vec<String> {
    let lng = 116.70 + (i % 100) as f64 * 0.001;
    let lat = 38.20 + (i / 100) as f64 * 0.001;
    [
        &format!("IMP-{i:05}"),
        &format!("导入测试点位{i}"),
        "背街小巷",
        "固定",
        &format!("{lng:.6}"),
        &format!("{lat:.6}"),
        "WGS-84",
        "运河区城市管理综合行政执法局",
        "测试负责人",
        "13800138000",
        "在用",
        "",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

pub(crate) async fn post_xlsx(api: &Api, bytes: Vec<u8>) -> (StatusCode, serde_json::Value) {
    let res = api
        .client
        .post(format!("{}/api/v1/points/import", api.base))
        .bearer_auth(&api.token)
        .body(bytes)
        .send()
        .await
        .unwrap();
    let status = res.status();
    (status, res.json().await.unwrap_or_default())
}

both!(the_demo_street_has_136_points_of_every_type_in_grids, |app: TestApp| async move {
    assert_eq!(app.scalar("SELECT COUNT(*) FROM points").await, 136);
    assert_eq!(app.scalar("SELECT COUNT(DISTINCT name) FROM points").await, 136, "no two points share a name");
    let names: Vec<String> = sqlx::query_scalar("SELECT name FROM points").fetch_all(&app.db.pool).await.unwrap();
    let numbered = |n: &String| {
        n.strip_suffix('）').and_then(|s| s.rsplit('（').next()).is_some_and(|x| x.chars().all(|c| c.is_ascii_digit()))
    };
    assert!(!names.iter().any(numbered), "no repeats told apart by a bare number: {names:?}");
    assert_eq!(app.scalar("SELECT COUNT(DISTINCT type_id) FROM points").await, 18);
    assert_eq!(app.scalar("SELECT COUNT(*) FROM grids").await, 28);
    assert_eq!(
        app.scalar("SELECT COUNT(*) FROM points WHERE grid_id IS NULL").await,
        2,
        "two sites lie outside every grid"
    );
    let b = app.login("admin").await;
    let (status, html) = b.get("/points").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("共 136 条") && html.contains("有 2 个在用点位不在任何网格内"));
    // The area filter names the places, indented under their street (no division codes).
    assert!(html.contains(">　公园街道</option>") && html.contains(">　　金狮社区</option>"), "{html}");
    assert!(!html.contains("公园街道 130903005"), "no code in the options");
    let (_, html) = b.get("/points?outside_grids=1").await;
    assert!(html.contains("共 2 条") && html.contains("建设项目工地"));
    let (_, html) = b.get("/points?fixed=0").await;
    assert!(html.contains("共 17 条"), "construction sites and shop fronts are random points");
});

both!(a_unit_sees_only_its_own_points, |app: TestApp| async move {
    let unit_id = app.id_of("SELECT unit_id FROM users WHERE username = 'bank'").await;
    let own = app.scalar(&format!("SELECT COUNT(*) FROM points WHERE unit_id = '{unit_id}'")).await;
    assert_eq!(own, 1, "the bank branch answers for its own outlet");
    let api = app.api_login("bank").await;
    let (status, page) = api.get("/api/v1/points?size=200").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(page["total"], own);
    assert!(page["items"].as_array().unwrap().iter().all(|p| p["unit_id"] == unit_id.as_str()));
    let other = app.id_of(&format!("SELECT id FROM points WHERE unit_id <> '{unit_id}' ORDER BY code LIMIT 1")).await;
    assert_eq!(api.get(&format!("/api/v1/points/{other}")).await.0, StatusCode::NOT_FOUND);
    let b = app.login("bank").await;
    let (_, html) = b.get("/points").await;
    assert!(html.contains("共 1 条"));
    assert_eq!(b.get(&format!("/points/{other}")).await.0, StatusCode::NOT_FOUND);
    let (_, data) = b.get("/map/data.json").await;
    let data: serde_json::Value = serde_json::from_str(&data).unwrap();
    assert_eq!(data["points"].as_array().unwrap().len(), 1, "the map shows only its own point");
    assert_eq!(b.get("/points/new").await.0, StatusCode::FORBIDDEN);
    // A grid worker sees its community's points only.
    let grid = app.api_login("grid").await;
    let (_, page) = grid.get("/api/v1/points?size=200").await;
    let community = app.id_of("SELECT id FROM org_nodes WHERE name = '金狮社区'").await;
    let expected = app.scalar(&format!("SELECT COUNT(*) FROM points WHERE community_id = '{community}'")).await;
    assert!(expected > 0);
    assert_eq!(page["total"], expected);
});

both!(an_admin_registers_a_point_from_map_coordinates, |app: TestApp| async move {
    let b = app.login("admin").await;
    let types: Vec<(String, String)> =
        sqlx::query_as("SELECT id, code FROM point_types").fetch_all(&app.db.pool).await.unwrap();
    let park = types.iter().find(|t| t.1 == "park").unwrap().0.clone();
    let unit = app.id_of("SELECT id FROM units WHERE name = '运河区园林绿化服务中心'").await;
    // Centre of 金狮社区's first grid, in WGS-84, then given as GCJ-02 as a phone map app would.
    let (lng, lat) = (116.822, 38.293);
    let (gx, gy) = chuangcheng::domain::geo::wgs84_to_gcj02((lng, lat));
    let (status, html, _) = b
        .post(
            "/points/new",
            &[
                ("name", ""),
                ("type_id", "x"),
                ("unit_id", &unit),
                ("lng", "abc"),
                ("lat", "38.3"),
                ("lead_name", "刘园长"),
                ("lead_phone", "12"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    for m in ["请填写点位名称", "请选择点位类型", "经度应为数字", "负责人电话格式不正确"]
    {
        assert!(html.contains(m), "{m}");
    }
    let before = app.scalar("SELECT COUNT(*) FROM points").await;
    let (status, _, location) = b
        .post(
            "/points/new",
            &[
                ("name", "金狮游园"),
                ("type_id", &park),
                ("unit_id", &unit),
                ("fixed", "1"),
                ("lng", &format!("{gx:.7}")),
                ("lat", &format!("{gy:.7}")),
                ("coord_system", "gcj02"),
                ("lead_name", "刘园长"),
                ("lead_phone", "13912340000"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(app.scalar("SELECT COUNT(*) FROM points").await, before + 1);
    let (stored_lng, stored_lat, grid, community): (f64, f64, String, String) = sqlx::query_as(
        "SELECT p.lng, p.lat, g.code, c.name FROM points p JOIN grids g ON g.id = p.grid_id JOIN org_nodes c ON c.id = p.community_id WHERE p.name = '金狮游园'")
        .fetch_one(&app.db.pool).await.unwrap();
    assert!((stored_lng - lng).abs() < 1e-6 && (stored_lat - lat).abs() < 1e-6, "stored as WGS-84");
    assert_eq!(grid, "130903005001001");
    assert_eq!(community, "金狮社区", "the community follows from the grid");
    let (_, html) = b.get(&location.unwrap()).await;
    assert!(html.contains("金狮游园") && html.contains("GCJ-02") && html.contains("130903005001001"));
});

both!(a_5000_row_sheet_with_3_bad_rows_is_refused_whole_then_imports_once_fixed, |app: TestApp| async move {
    let api = app.api_login("admin").await;
    let mut rows: Vec<Vec<String>> = (0..5000).map(good_row).collect();
    rows[9][2] = "飞机场".into(); // Excel row 11: unknown type
    rows[2499][9] = "138-abc".into(); // row 2501: bad phone
    rows[4999][7] = "不存在的单位".into(); // row 5001: unknown unit
    let before = app.scalar("SELECT COUNT(*) FROM points").await;
    let audit_before = app.scalar("SELECT COUNT(*) FROM audit_log").await;
    let (status, body) = post_xlsx(&api, sheet(&rows)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["error"]["code"], "import_rejected");
    let report: Vec<(i64, String)> = body["error"]["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["row"].as_i64().unwrap(), r["column"].as_str().unwrap().to_string()))
        .collect();
    assert_eq!(
        report,
        [(11, "点位类型".to_string()), (2501, "负责人电话".to_string()), (5001, "责任单位".to_string())]
    );
    assert_eq!(app.scalar("SELECT COUNT(*) FROM points").await, before, "nothing imported");
    assert_eq!(app.scalar("SELECT COUNT(*) FROM audit_log").await, audit_before);
    rows[9][2] = "背街小巷".into();
    rows[2499][9] = "13800138000".into();
    rows[4999][7] = "运河区城市管理综合行政执法局".into();
    let (status, body) = post_xlsx(&api, sheet(&rows)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["created"], 5000);
    assert_eq!(app.scalar("SELECT COUNT(*) FROM points").await, before + 5000);
    // Re-importing the same codes updates instead of duplicating.
    rows[0][1] = "改名后的点位".into();
    let (status, body) = post_xlsx(&api, sheet(&rows[..1])).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!((body["created"].as_i64(), body["updated"].as_i64()), (Some(0), Some(1)));
    assert_eq!(app.scalar("SELECT COUNT(*) FROM points WHERE name = '改名后的点位'").await, 1);
});

both!(the_import_page_reports_rows_and_the_export_round_trips, |app: TestApp| async move {
    let b = app.login("admin").await;
    let (status, _) = b.get("/points/import").await;
    assert_eq!(status, StatusCode::OK);
    let res = b.get_raw("/points/template.xlsx").await;
    assert_eq!(res.status(), StatusCode::OK);
    let template = crate::helpers::xlsx_rows(&res.bytes().await.unwrap());
    assert_eq!(template[0][1], "点位名称");
    let upload = |bytes: Vec<u8>| {
        let form = reqwest::multipart::Form::new()
            .text("_csrf", b.csrf.clone())
            .part("file", reqwest::multipart::Part::bytes(bytes).file_name("p.xlsx"));
        b.client.post(format!("{}/points/import", app.base)).multipart(form).send()
    };
    let res = upload(b"PK not really a workbook".to_vec()).await.unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.text().await.unwrap().contains("不是有效的Excel"));
    let mut bad = good_row(1);
    bad[4] = "38.2".into();
    bad[5] = "116.7".into();
    let res = upload(sheet(&[good_row(0), bad])).await.unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = res.text().await.unwrap();
    assert!(html.contains("第3行") && html.contains("经度") && html.contains("经纬度是否填反"), "{html}");
    // Export the street's compounds and import the file back unchanged: everything is an update.
    let res = b.get_raw("/points?type_id=00000000-0000-7000-8001-000000000003&export=xlsx").await;
    let exported = res.bytes().await.unwrap().to_vec();
    let rows = crate::helpers::xlsx_rows(&exported);
    assert_eq!(rows.len(), 31, "header + 30 compounds");
    let res = upload(exported).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.text().await.unwrap().contains("新增 0 个点位，更新 30 个点位"));
});

both!(grids_import_from_geojson_and_answer_who_is_responsible, |app: TestApp| async move {
    let api = app.api_login("admin").await;
    // Inside 金狮社区's first grid: its unit and the demo grid worker answer.
    let (status, r) = api.get("/api/v1/lookup?lng=116.822&lat=38.293").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(r["grid_code"], "130903005001001");
    assert_eq!(r["community"], "金狮社区");
    assert_eq!(r["street"], "公园街道");
    assert_eq!(r["unit"], "运河区城市管理综合行政执法局");
    assert_eq!(r["grid_worker"], "孙丽娟");
    assert!(!r["nearest_points"].as_array().unwrap().is_empty());
    let (_, r) = api.get("/api/v1/lookup?lng=116.90&lat=38.40").await;
    assert!(r["grid_code"].is_null(), "outside every grid");
    assert_eq!(api.get("/api/v1/lookup?lng=38.3&lat=116.8").await.0, StatusCode::BAD_REQUEST);

    // A new grid south of the street takes in the two construction sites that were outside.
    let square = |x0: f64, y0: f64, x1: f64, y1: f64| json!({"type": "Polygon", "coordinates": [[[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]]});
    let bad = json!({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"code": "130903005001003", "name": "南侧网格", "unit": "不存在的单位"}, "geometry": square(116.80, 38.28, 116.86, 38.2899)},
        {"type": "Feature", "properties": {"code": "13090300500", "name": "短编码"}, "geometry": square(116.80, 38.28, 116.81, 38.285)},
        {"type": "Feature", "properties": {"code": "130903999001001", "name": "无此社区"}, "geometry": square(116.80, 38.28, 116.81, 38.285)},
        {"type": "Feature", "properties": {"code": "130903005001004", "name": "未闭合"}, "geometry": {"type": "Polygon", "coordinates": [[[116.8, 38.28], [116.81, 38.28], [116.81, 38.29]]]}}
    ]});
    let res = api
        .client
        .post(format!("{}/api/v1/grids/import", app.base))
        .bearer_auth(&api.token)
        .body(bad.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: serde_json::Value = res.json().await.unwrap();
    let report: Vec<(i64, String)> = body["error"]["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["row"].as_i64().unwrap(), r["column"].as_str().unwrap().to_string()))
        .collect();
    assert_eq!(
        report,
        [(1, "unit".to_string()), (2, "code".to_string()), (3, "code".to_string()), (4, "geometry".to_string())]
    );
    assert_eq!(app.scalar("SELECT COUNT(*) FROM grids").await, 28);
    let good = json!({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"code": "130903005001003", "name": "金狮社区南侧网格", "unit": "运河区住房和城乡建设局", "worker": "grid"}, "geometry": square(116.80, 38.28, 116.86, 38.2899)}
    ]});
    let res = api
        .client
        .post(format!("{}/api/v1/grids/import", app.base))
        .bearer_auth(&api.token)
        .body(good.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!((body["created"].as_i64(), body["points_moved"].as_i64()), (Some(1), Some(2)));
    assert_eq!(app.scalar("SELECT COUNT(*) FROM points WHERE grid_id IS NULL").await, 0);
    assert_eq!(app.scalar("SELECT COUNT(*) FROM audit_log WHERE object_type = 'grid' AND action = 'create' AND actor_name = '文明办管理员'").await, 1);
    let b = app.login("admin").await;
    let (_, html) = b.get("/lookup?lng=116.83&lat=38.285").await;
    assert!(html.contains("金狮社区南侧网格") && html.contains("运河区住房和城乡建设局"));
});

both!(point_types_are_configurable_and_drive_the_standard, |app: TestApp| async move {
    let admin = app.api_login("admin").await;
    let (status, e) =
        admin.post("/api/v1/point-types", json!({"code": "Night Market", "name": "", "seq": 0, "color": "red"})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let fields: Vec<String> = field_codes(&e).into_iter().map(|f| f.0).collect();
    assert_eq!(fields, ["code", "name", "seq", "color"]);
    let (status, dup) = admin
        .post("/api/v1/point-types", json!({"code": "park", "name": "公园2", "seq": 30, "color": "#123456"}))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{dup}");
    let (status, t) = admin
        .post("/api/v1/point-types", json!({"code": "night_market", "name": "夜市", "seq": 21, "color": "#AA3300"}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{t}");
    assert_eq!(t["color"], "#aa3300");
    let id = t["id"].as_str().unwrap();
    let (status, t) = admin
        .put(
            &format!("/api/v1/point-types/{id}"),
            json!({"code": "ignored", "name": "夜市街区", "seq": 22, "color": "#aa3300", "version": t["version"]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!((t["code"].as_str(), t["name"].as_str()), (Some("night_market"), Some("夜市街区")));
    // The new type can be used by standards and points at once.
    let draft = admin.created("/api/v1/standards", json!({"name": "含夜市"})).await;
    let item = json!({"category": "市场商超", "item": "夜市收摊", "major_code": "08", "minor_code": "07", "requirement": "夜市收摊后地面清扫干净",
        "point_types": "night_market", "time_limit": 2, "time_unit": "hours", "severity": "normal", "deduction": 1});
    assert_eq!(
        admin.post(&format!("/api/v1/standards/{}/items", draft["id"].as_str().unwrap()), item).await.0,
        StatusCode::CREATED
    );
    let b = app.login("admin").await;
    let (status, html) = b.get("/settings/point-types").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("night_market") && html.contains("夜市街区"));
    let unit = app.login("unit").await;
    assert_eq!(unit.get("/settings/point-types").await.0, StatusCode::FORBIDDEN);
});

both!(a_point_without_coordinates_does_not_break_the_next_one, |app: TestApp| async move {
    // One connection, so the second insert meets the statement the first one prepared.
    let db = chuangcheng::store::Db::connect(&app.database_url, 1).await.unwrap();
    let template = chuangcheng::store::points::all(&db).await.unwrap().remove(0);
    let mut conn = db.pool.acquire().await.unwrap();
    for (n, coords) in [(1, None), (2, Some((116.83, 38.29))), (3, None), (4, Some((116.84, 38.30)))] {
        let p = chuangcheng::store::points::Point {
            id: chuangcheng::domain::ids::new_id(),
            code: format!("REG-{n}"),
            lng: coords.map(|c: (f64, f64)| c.0),
            lat: coords.map(|c: (f64, f64)| c.1),
            ..template.clone()
        };
        chuangcheng::store::record::Insert::insert(&p, &mut conn).await.unwrap_or_else(|e| panic!("insert {n}: {e}"));
    }
    assert_eq!(app.scalar("SELECT COUNT(*) FROM points WHERE code LIKE 'REG-%' AND lng IS NOT NULL").await, 2);
});
