use crate::both;
use crate::helpers::*;
use reqwest::StatusCode;

both!(an_admin_manages_a_unit_and_its_contact_book, |app: TestApp| async move {
    let b = app.login("admin").await;
    let area = app.id_of("SELECT id FROM org_nodes WHERE name = '公园街道'").await;
    let (status, _, location) = b
        .post(
            "/units/new",
            &[
                ("name", "中国邮政储蓄银行沧州公园路支行"),
                ("kind", "bank_branch"),
                ("area_id", &area),
                ("address", "沧州市运河区公园路8号"),
                ("phone", "0317-2012345"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let path = location.unwrap().split('?').next().unwrap().to_string();
    let (status, html) = b.get(&path).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains("中国邮政储蓄银行沧州公园路支行")
            && html.contains("银行网点")
            && html.contains("公园街道")
            && html.contains("尚未登记联系人")
    );
    let (status, _, _) = b
        .post(
            &format!("{path}/contacts/new"),
            &[
                ("level_id", "00000000-0000-7000-8000-000000000005"),
                ("name", "田甜"),
                ("position", "大堂经理"),
                ("phone", "13833334444"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (_, html) = b.get(&path).await;
    assert!(html.contains("现场负责人/大堂经理") && html.contains("田甜") && html.contains("tel:13833334444"));
    // Edit the contact, then the unit (deactivate).
    let cid = app.id_of("SELECT id FROM unit_contacts WHERE name = '田甜'").await;
    let (status, _, _) = b
        .post(
            &format!("/contacts/{cid}/edit"),
            &[
                ("level_id", "00000000-0000-7000-8000-000000000005"),
                ("name", "田甜"),
                ("position", "大堂经理"),
                ("phone", "13833335555"),
                ("version", "1"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(app.scalar("SELECT COUNT(*) FROM unit_contacts WHERE phone = '13833335555'").await, 1);
    let uid = path.trim_start_matches("/units/");
    let (status, _, _) = b
        .post(
            &format!("{path}/edit"),
            &[
                ("name", "中国邮政储蓄银行沧州公园路支行"),
                ("kind", "bank_branch"),
                ("area_id", &area),
                ("version", "1"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER, "unticked 启用 box");
    assert_eq!(app.scalar(&format!("SELECT active FROM units WHERE id = '{uid}'")).await, 0);
    let (_, html) = b.get("/units?active=0").await;
    assert!(html.contains("中国邮政储蓄银行沧州公园路支行") && html.contains("共 1 条"));
    // Filters: kind and area (with everything below it).
    let (_, html) = b.get("/units?kind=bank_branch").await;
    assert!(html.contains("共 8 条"));
    let district = app.id_of("SELECT id FROM org_nodes WHERE level = 'district'").await;
    let (_, html) = b.get(&format!("/units?area_id={district}")).await;
    assert!(html.contains("共 23 条"), "the district filter includes units placed in its streets");
    // Delete the contact.
    let (status, _, _) = b.post(&format!("/contacts/{cid}/delete"), &[]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(app.scalar(&format!("SELECT COUNT(*) FROM unit_contacts WHERE unit_id = '{uid}'")).await, 0);
});

both!(the_unit_list_exports_the_filtered_rows, |app: TestApp| async move {
    let b = app.login("supervisor").await;
    let res = b.get_raw("/units?kind=bank_branch&export=xlsx").await;
    assert_eq!(res.status(), StatusCode::OK);
    let rows = xlsx_rows(&res.bytes().await.unwrap());
    assert_eq!(rows[0][0], "单位名称");
    assert_eq!(rows.len(), 8, "header + 7 bank branches");
    assert!(rows[1..].iter().all(|r| r[1] == "银行网点"));
});

both!(a_unit_user_keeps_its_own_contact_book, |app: TestApp| async move {
    let b = app.login("bank").await;
    let unit = app.id_of("SELECT unit_id FROM users WHERE username = 'bank'").await;
    let (status, _, _) = b
        .post(
            &format!("/units/{unit}/contacts/new"),
            &[("level_id", "00000000-0000-7000-8000-000000000004"), ("name", "新来的联络员"), ("phone", "15012345678")],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let e: (String, String) =
        sqlx::query_as("SELECT actor_name, action FROM audit_log WHERE object_label LIKE '%新来的联络员'")
            .fetch_one(&app.db.pool)
            .await
            .unwrap();
    assert_eq!(e, ("赵晓燕".to_string(), "create".to_string()));
});

both!(contact_levels_are_configurable, |app: TestApp| async move {
    let b = app.login("admin").await;
    let (status, html) = b.get("/settings/contact-levels").await;
    assert_eq!(status, StatusCode::OK);
    for l in ["单位主要负责人", "分管领导", "部门负责人", "联络员", "现场负责人/大堂经理"] {
        assert!(html.contains(l), "{l}");
    }
    let (status, _, _) = b.post("/settings/contact-levels", &[("seq", "6"), ("name", "志愿服务联络人")]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (status, html, _) = b.post("/settings/contact-levels", &[("seq", "0"), ("name", "联络员")]).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("排序号应为1至99的整数"));
    // A level still in use cannot be removed.
    let (status, html, _) = b.post("/settings/contact-levels/00000000-0000-7000-8000-000000000001/delete", &[]).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(html.contains("仍有联系人使用该层级"));
    assert_eq!(app.scalar("SELECT COUNT(*) FROM contact_levels").await, 6);
});

/// (target, name) of every line of this week's ranking of a class.
async fn ranked(api: &Api, class: &str) -> Vec<(String, String)> {
    let (status, r) = api.get(&format!("/api/v1/scoring/{class}/ranking?period=week")).await;
    assert_eq!(status, StatusCode::OK, "{r}");
    let mut lines: Vec<(String, String)> = r["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| (l["target"].as_str().unwrap().to_string(), l["name"].as_str().unwrap().to_string()))
        .collect();
    lines.sort();
    lines
}

/// (id, name) of every unit of the ranking's class, from the records.
async fn units_of(app: &TestApp, windows: bool) -> Vec<(String, String)> {
    let not = if windows { "" } else { "NOT" };
    let mut rows: Vec<(String, String)> = sqlx::query_as(&format!(
        "SELECT id, name FROM units WHERE kind {not} IN ('bank_branch', 'service_hall', 'business_hall')"
    ))
    .fetch_all(&app.db.pool)
    .await
    .unwrap();
    rows.sort();
    rows
}

both!(unit_names_kept_in_memory_follow_every_change_whoever_made_it, |app: TestApp| async move {
    let admin = app.api_login("admin").await;
    // The rankings name every unit of their class, and only those.
    let (units, windows) = (ranked(&admin, "unit").await, ranked(&admin, "window").await);
    assert!(units.len() > 3 && !windows.is_empty(), "{units:?} {windows:?}");
    assert_eq!(units, units_of(&app, false).await);
    assert_eq!(windows, units_of(&app, true).await);
    // The names are kept between reads. A change made elsewhere (another instance: here straight
    // in the database) shows on the next read: a new name, and a unit that became a window.
    let (renamed, moved) = (units[0].0.clone(), units[1].0.clone());
    sqlx::query("UPDATE units SET name = $1 WHERE id = $2")
        .bind("改名后的责任单位")
        .bind(&renamed)
        .execute(&app.db.pool)
        .await
        .unwrap();
    sqlx::query("UPDATE units SET kind = 'service_hall' WHERE id = $1")
        .bind(&moved)
        .execute(&app.db.pool)
        .await
        .unwrap();
    let units = ranked(&admin, "unit").await;
    assert_eq!(units, units_of(&app, false).await);
    assert!(units.contains(&(renamed.clone(), "改名后的责任单位".to_string())), "{units:?}");
    assert!(!units.iter().any(|(id, _)| *id == moved), "{units:?}");
    assert!(ranked(&admin, "window").await.iter().any(|(id, _)| *id == moved));
    // A unit added through the API is ranked on the next read, and named in the unit filter.
    let (status, body) =
        admin.post("/api/v1/units", serde_json::json!({"name": "新设责任单位", "kind": "government"})).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let added = body["id"].as_str().unwrap().to_string();
    assert!(ranked(&admin, "unit").await.contains(&(added.clone(), "新设责任单位".to_string())));
    let (_, html) = app.login("admin").await.get("/problems").await;
    assert!(html.contains(&format!("value=\"{added}\"")) && html.contains("新设责任单位"), "the ledger's unit filter");
    // A removed unit leaves the ranking.
    sqlx::query("DELETE FROM units WHERE id = $1").bind(&added).execute(&app.db.pool).await.unwrap();
    assert_eq!(ranked(&admin, "unit").await, units_of(&app, false).await);
});
