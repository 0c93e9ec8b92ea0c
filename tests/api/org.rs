use crate::both;
use crate::helpers::*;
use reqwest::StatusCode;

both!(the_demo_tree_has_the_seeded_shape, |app: TestApp| async move {
    let street = app.id_of("SELECT id FROM org_nodes WHERE name = '公园街道'").await;
    assert_eq!(app.scalar(&format!("SELECT COUNT(*) FROM org_nodes WHERE parent_id = '{street}'")).await, 14);
    let compounds = app
        .scalar(&format!(
            "SELECT COUNT(*) FROM org_nodes c JOIN org_nodes m ON m.id = c.parent_id WHERE m.parent_id = '{street}'"
        ))
        .await;
    assert_eq!(compounds, 106);
    assert_eq!(app.scalar("SELECT COUNT(*) FROM units").await, 22);
    assert_eq!(app.scalar("SELECT COUNT(*) FROM units WHERE kind = 'bank_branch'").await, 7);
    assert_eq!(app.scalar("SELECT COUNT(*) FROM units WHERE kind = 'service_hall'").await, 1);
    assert_eq!(app.scalar("SELECT COUNT(*) FROM teams").await, 4);
    for role in ["admin", "supervisor", "unit_user", "point_lead", "grid_worker", "evaluator", "discipline"] {
        assert!(app.scalar(&format!("SELECT COUNT(*) FROM users WHERE role = '{role}'")).await >= 1, "{role}");
    }
});

both!(an_admin_builds_the_tree_through_the_pages, |app: TestApp| async move {
    let b = app.login("admin").await;
    let (status, html) = b.get("/org?level=street").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("公园街道") && html.contains("共 6 条"));
    let street = app.id_of("SELECT id FROM org_nodes WHERE name = '公园街道'").await;
    // Drill down, then add a community under the street.
    let (_, html) = b.get(&format!("/org?parent_id={street}")).await;
    assert!(html.contains("金狮社区") && html.contains("共 14 条"));
    let (status, html) = b.get(&format!("/org/new?parent_id={street}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("value=\"130903005\""), "the code is prefilled with the parent's");
    let (status, _, location) = b
        .post(
            "/org/new",
            &[("level", "community"), ("parent_id", &street), ("code", "130903005015"), ("name", "清风社区")],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(location.unwrap(), format!("/org?parent_id={street}&ok=created"));
    let (_, html) = b.get(&format!("/org?parent_id={street}&ok=created")).await;
    assert!(html.contains("清风社区") && html.contains("已新增") && html.contains("共 15 条"));
    // Keyword search finds it by code; paging splits long lists.
    let (_, html) = b.get("/org?q=130903005015").await;
    assert!(html.contains("清风社区") && html.contains("共 1 条"));
    let (_, html) = b.get("/org?level=compound&size=20&page=2").await;
    assert!(html.contains("第 2/") && html.contains("上一页") && html.contains("下一页"));
    // A node with children cannot be deleted; an empty one can.
    let (status, html, _) = b.post(&format!("/org/{street}/delete"), &[]).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(html.contains("不能删除"));
    let new_id = app.id_of("SELECT id FROM org_nodes WHERE name = '清风社区'").await;
    let (status, _, _) = b.post(&format!("/org/{new_id}/delete"), &[]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(app.scalar("SELECT COUNT(*) FROM org_nodes WHERE name = '清风社区'").await, 0);
});

both!(the_area_list_exports_to_excel, |app: TestApp| async move {
    let b = app.login("admin").await;
    let res = b.get_raw("/org?level=community&export=xlsx").await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["content-type"], "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet");
    assert!(res.headers()["content-disposition"].to_str().unwrap().contains("filename*=UTF-8''"));
    let bytes = res.bytes().await.unwrap();
    let rows = crate::helpers::xlsx_rows(&bytes);
    assert_eq!(rows[0], ["编码", "名称", "层级", "上级", "下级数", "更新时间"]);
    assert_eq!(rows.len(), 1 + 14 + 15, "header plus every community of the filter, not just one page");
    assert!(rows.iter().any(|r| r[1] == "金狮社区" && r[2] == "社区" && r[3] == "公园街道" && r[4] == "8"));
});
