use crate::both;
use crate::helpers::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

const OWN: &str = "运河区城市管理综合行政执法局";
const OTHER: &str = "中国工商银行沧州运河支行";

async fn unit_id(app: &TestApp, name: &str) -> String {
    app.id_of(&format!("SELECT id FROM units WHERE name = '{name}'")).await
}

both!(a_unit_user_sees_only_its_own_unit_in_pages, |app: TestApp| async move {
    let b = app.login("unit").await;
    let own = unit_id(&app, OWN).await;
    let other = unit_id(&app, OTHER).await;
    // The unit list leads straight to the own unit.
    let res = b.get_raw("/units").await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(res.headers()["location"], format!("/units/{own}").as_str());
    let (status, html) = b.get(&format!("/units/{own}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("联系人通讯录") && html.contains("新增联系人"));
    // Another unit's page, contacts and contact forms are not there for it.
    assert_eq!(b.get(&format!("/units/{other}")).await.0, StatusCode::NOT_FOUND);
    assert_eq!(b.get(&format!("/units/{other}/contacts/new")).await.0, StatusCode::NOT_FOUND);
    let other_contact =
        app.id_of(&format!("SELECT id FROM unit_contacts WHERE unit_id = '{other}' ORDER BY name LIMIT 1")).await;
    assert_eq!(b.get(&format!("/contacts/{other_contact}/edit")).await.0, StatusCode::NOT_FOUND);
    let before = app.scalar("SELECT COUNT(*) FROM unit_contacts").await;
    let (status, _, _) = b
        .post(
            &format!("/units/{other}/contacts/new"),
            &[("level_id", "00000000-0000-7000-8000-000000000004"), ("name", "冒名"), ("phone", "13800000000")],
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _, _) = b.post(&format!("/contacts/{other_contact}/delete"), &[]).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _, _) = b
        .post(
            &format!("/contacts/{other_contact}/edit"),
            &[("level_id", "00000000-0000-7000-8000-000000000004"), ("name", "改名"), ("phone", "13800000000")],
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(app.scalar("SELECT COUNT(*) FROM unit_contacts").await, before);
    assert_eq!(app.scalar("SELECT COUNT(*) FROM unit_contacts WHERE name IN ('冒名', '改名')").await, 0);
    // Its own users list shows only its own unit's accounts.
    let (status, html) = b.get("/users").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("王建国") && html.contains("李卫东"));
    assert!(!html.contains("赵晓燕"), "the bank's account is not listed");
    assert!(!html.contains("文明办管理员</td>"));
});

both!(a_unit_user_cannot_reach_admin_pages, |app: TestApp| async move {
    let b = app.login("unit").await;
    let own = unit_id(&app, OWN).await;
    let bank_user = app.id_of("SELECT id FROM users WHERE username = 'bank'").await;
    for path in [
        "/org/new",
        "/units/new",
        "/users/new",
        "/teams",
        "/teams/new",
        "/audit",
        "/settings/contact-levels",
        &format!("/units/{own}/edit"),
        &format!("/users/{bank_user}/edit"),
        &format!("/users/{bank_user}/password"),
    ] {
        let (status, html) = b.get(path).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{path}");
        assert!(html.contains("您没有权限进行此操作"), "{path}");
    }
    let (status, _, _) = b.post("/org/new", &[("level", "district"), ("code", "130902"), ("name", "新华区")]).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _, _) = b.post(&format!("/units/{own}/edit"), &[("name", "改名"), ("kind", "government")]).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _, _) = b
        .post(
            &format!("/users/{bank_user}/password"),
            &[("new_password", "Takeover123"), ("confirm_password", "Takeover123")],
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // The menu does not offer them either.
    let (_, html) = b.get("/").await;
    assert!(!html.contains("href=\"/audit\"") && !html.contains("href=\"/settings/contact-levels\""));
});

both!(a_unit_user_is_scoped_in_the_api_too, |app: TestApp| async move {
    let api = app.api_login("unit").await;
    let own = unit_id(&app, OWN).await;
    let other = unit_id(&app, OTHER).await;
    let (status, page) = api.get("/api/v1/units").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(page["total"], 1);
    assert_eq!(page["items"][0]["id"], own.as_str());
    assert_eq!(api.get(&format!("/api/v1/units/{other}")).await.0, StatusCode::NOT_FOUND);
    assert_eq!(api.get(&format!("/api/v1/units/{other}/contacts")).await.0, StatusCode::NOT_FOUND);
    let (status, body) = api
        .post(
            &format!("/api/v1/units/{other}/contacts"),
            json!({"level_id": "00000000-0000-7000-8000-000000000004", "name": "冒名", "phone": "13800000000"}),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["error"]["code"], "not_found");
    let (status, users) = api.get("/api/v1/users").await;
    assert_eq!(status, StatusCode::OK);
    assert!(users["items"].as_array().unwrap().iter().all(|u| u["unit_id"] == own.as_str()));
    let bank_user = app.id_of("SELECT id FROM users WHERE username = 'bank'").await;
    assert_eq!(api.get(&format!("/api/v1/users/{bank_user}")).await.0, StatusCode::NOT_FOUND);
    let (status, body) = api.post("/api/v1/units", json!({"name": "x", "kind": "government"})).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(body["error"]["code"], "forbidden");
    assert_eq!(api.get("/api/v1/audit").await.0, StatusCode::FORBIDDEN);
    // Its own contact book it may keep up to date.
    let (status, c) = api.post(&format!("/api/v1/units/{own}/contacts"), json!({"level_id": "00000000-0000-7000-8000-000000000004", "name": "新联络员", "phone": "13912345678", "position": "科员"})).await;
    assert_eq!(status, StatusCode::CREATED, "{c}");
    assert_eq!(c["level_name"], "联络员");
});

both!(a_point_lead_reads_but_does_not_edit_its_contact_book, |app: TestApp| async move {
    let api = app.api_login("lead").await;
    let own = unit_id(&app, OWN).await;
    let (status, contacts) = api.get(&format!("/api/v1/units/{own}/contacts")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(contacts.as_array().unwrap().len(), 5, "the five default levels");
    let (status, _) = api
        .post(
            &format!("/api/v1/units/{own}/contacts"),
            json!({"level_id": "00000000-0000-7000-8000-000000000004", "name": "甲", "phone": "13912345678"}),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(api.get("/api/v1/users").await.0, StatusCode::FORBIDDEN);
});

both!(a_grid_worker_sees_units_of_its_area_only, |app: TestApp| async move {
    let api = app.api_login("grid").await;
    // The demo grid worker patrols 金狮社区: no unit is registered there, but units answer for
    // its points; those it reads, and no other.
    let serving = "SELECT COUNT(DISTINCT p.unit_id) FROM points p JOIN org_nodes c ON c.id = p.community_id \
         WHERE c.name = '金狮社区' AND p.active = 1";
    let answering = app.scalar(serving).await;
    assert!(answering > 0 && answering < app.scalar("SELECT COUNT(*) FROM units").await);
    let (status, page) = api.get("/api/v1/units?size=100").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(page["total"], answering, "{page}");
    let elsewhere = app
        .id_of(
            "SELECT u.id FROM units u WHERE NOT EXISTS (SELECT 1 FROM points p JOIN org_nodes c ON c.id = p.community_id \
             WHERE p.unit_id = u.id AND c.name = '金狮社区') ORDER BY u.name LIMIT 1",
        )
        .await;
    assert!(!page.to_string().contains(&elsewhere));
    let b = app.login("grid").await;
    let serving_id = page["items"][0]["id"].as_str().unwrap().to_string();
    assert_eq!(b.get(&format!("/units/{serving_id}")).await.0, StatusCode::OK, "a unit answering there opens");
    assert_eq!(b.get(&format!("/units/{elsewhere}")).await.0, StatusCode::NOT_FOUND, "another does not");
    let (_, nodes) = api.get("/api/v1/org/nodes?size=200").await;
    let names: Vec<&str> = nodes["items"].as_array().unwrap().iter().map(|n| n["name"].as_str().unwrap()).collect();
    assert!(names.contains(&"金狮社区"));
    assert!(!names.contains(&"百合社区"), "other communities are outside its area");
    // A unit registered into its community from elsewhere: now it reads that one too.
    let admin = app.api_login("admin").await;
    let community = app.id_of("SELECT id FROM org_nodes WHERE name = '金狮社区'").await;
    let (_, mut unit) = admin.get(&format!("/api/v1/units/{elsewhere}")).await;
    unit["area_id"] = community.into();
    let (status, body) = admin.put(&format!("/api/v1/units/{elsewhere}"), unit).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (_, page) = api.get("/api/v1/units?size=100").await;
    assert_eq!(page["total"], answering + 1, "{page}");
    assert!(page["items"].as_array().unwrap().iter().any(|u| u["id"] == elsewhere.as_str()));
});

both!(the_discipline_office_reads_but_cannot_change, |app: TestApp| async move {
    let b = app.login("discipline").await;
    assert_eq!(b.get("/audit").await.0, StatusCode::OK);
    assert_eq!(b.get("/units").await.0, StatusCode::OK);
    assert_eq!(b.get("/teams").await.0, StatusCode::OK);
    let unit = unit_id(&app, OWN).await;
    assert_eq!(b.get(&format!("/units/{unit}")).await.0, StatusCode::OK);
    let (status, _, _) = b.post(&format!("/units/{unit}/edit"), &[("name", "改名"), ("kind", "government")]).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(b.get("/users").await.0, StatusCode::FORBIDDEN);
    // No filing form to fill in for nothing, and its start page looks rather than acts.
    assert_eq!(b.get("/problems/new").await.0, StatusCode::FORBIDDEN);
    let (_, home) = b.get("/").await;
    assert!(!home.contains(">处理<") && home.contains("被退回返工过的问题"), "{home}");
    // A supervisor's form offers the sources it may file from, and nothing it would lose its
    // typing to.
    let s = app.login("supervisor").await;
    let point = app.id_of("SELECT id FROM points WHERE active = 1 ORDER BY code LIMIT 1").await;
    let (_, form) = s.get(&format!("/problems/new?point_id={point}")).await;
    let select = form.split("name=\"source\"").nth(1).unwrap().split("</select>").next().unwrap();
    assert_eq!(select.matches("<option").count(), 2, "{select}");
    assert!(select.contains("督导检查") && select.contains("上级交办"), "{select}");
    // On a phone its bottom bar lights 登记, not 台账.
    assert!(form.contains("<a href=\"/problems/new\" class=\"active\">登记</a>"), "{form}");
    assert!(!form.contains("<a href=\"/problems\" class=\"active\">台账</a>"), "{form}");
});

both!(pages_offer_only_links_the_role_may_follow, |app: TestApp| async move {
    // The ledger's unit filter: a grid worker is offered the units with points in its area.
    let units_offered = |html: &str| {
        let select = html.split("name=\"unit_id\"").nth(1).unwrap().split("</select>").next().unwrap().to_string();
        // Every option but the empty one (全部).
        select.matches("<option value=\"").count() - select.matches("<option value=\"\"").count()
    };
    let (_, all) = app.login("admin").await.get("/problems").await;
    let (_, mine) = app.login("grid").await.get("/problems").await;
    let area = app.id_of("SELECT area_id FROM users WHERE username = 'grid'").await;
    let under = chuangcheng::store::org::subtree_ids(&app.db, &area).await.unwrap();
    let in_area = chuangcheng::store::points::units_in(&app.db, &under).await.unwrap().len();
    assert!(in_area > 0 && units_offered(&mine) == in_area, "{} offered, {in_area} in the area", units_offered(&mine));
    assert!(units_offered(&all) > in_area, "the office is offered every unit");
    let unit = app.login("unit").await;
    let own = unit_id(&app, OWN).await;
    let (_, html) = unit.get(&format!("/units/{own}")).await;
    assert!(!html.contains("/audit?object_id="), "a unit user cannot read the audit log, so no link to it");
    assert!(!html.contains(&format!("/units/{own}/edit")));
    let admin = app.login("admin").await;
    let (_, html) = admin.get(&format!("/units/{own}")).await;
    assert!(html.contains("/audit?object_id=") && html.contains(&format!("/units/{own}/edit")));
});

both!(a_problem_follows_its_point_into_another_community, |app: TestApp| async move {
    // The demo grid worker patrols 金狮社区: it sees a problem filed at a point there, in the
    // ledger, the problem's page and the area's dashboard.
    let admin = app.api_login("admin").await;
    let grid = app.api_login("grid").await;
    let jinshi = app.id_of("SELECT id FROM org_nodes WHERE name = '金狮社区'").await;
    let baihe = app.id_of("SELECT id FROM org_nodes WHERE name = '百合社区'").await;
    let point =
        app.id_of(&format!("SELECT id FROM points WHERE community_id = '{jinshi}' ORDER BY code LIMIT 1")).await;
    let p = admin
        .file_ok(json!({"point_id": point, "category": "市容环境·暴露垃圾", "description": "跟随点位的问题", "source": "supervision"}))
        .await;
    let id = p["id"].as_str().unwrap().to_string();
    assert_eq!(p["community_id"], jinshi.as_str(), "the problem carries its point's community");
    assert!(in_ledger(&grid, &id, None).await);
    assert_eq!(grid.get(&format!("/api/v1/problems/{id}")).await.0, StatusCode::OK);
    assert!(in_ledger(&admin, &id, Some(&jinshi)).await);
    assert!(!in_ledger(&admin, &id, Some(&baihe)).await);
    let (jinshi_before, baihe_before) = (found_in(&admin, &jinshi).await, found_in(&admin, &baihe).await);

    // The office moves the point to 百合社区: its problem moves with it, everywhere at once.
    let (_, mut body) = admin.get(&format!("/api/v1/points/{point}")).await;
    body["community_id"] = json!(baihe);
    body["grid_id"] = Value::Null;
    let (status, moved) = admin.put(&format!("/api/v1/points/{point}"), body).await;
    assert_eq!(status, StatusCode::OK, "{moved}");
    assert_eq!(moved["community_id"], baihe.as_str());
    let (_, now) = admin.get(&format!("/api/v1/problems/{id}")).await;
    assert_eq!(now["problem"]["community_id"], baihe.as_str());
    assert!(!in_ledger(&grid, &id, None).await, "the grid worker's ledger no longer holds it");
    assert_eq!(grid.get(&format!("/api/v1/problems/{id}")).await.0, StatusCode::NOT_FOUND);
    assert!(in_ledger(&admin, &id, Some(&baihe)).await);
    assert!(!in_ledger(&admin, &id, Some(&jinshi)).await);
    // The point's other problems moved too: each area's count changed by the same number.
    let moved_n = app.scalar(&format!("SELECT COUNT(*) FROM problems WHERE point_id = '{point}'")).await;
    assert_eq!(
        app.scalar(&format!("SELECT COUNT(*) FROM problems WHERE point_id = '{point}' AND community_id = '{baihe}'"))
            .await,
        moved_n
    );
    let (jinshi_after, baihe_after) = (found_in(&admin, &jinshi).await, found_in(&admin, &baihe).await);
    assert!(jinshi_after < jinshi_before && baihe_after > baihe_before);
    assert_eq!(jinshi_before - jinshi_after, baihe_after - baihe_before);
});

/// Whether the ledger (of an area, when given) lists the problem.
async fn in_ledger(api: &Api, id: &str, area: Option<&str>) -> bool {
    let tail = area.map(|a| format!("&area_id={a}")).unwrap_or_default();
    let (status, page) = api.get(&format!("/api/v1/problems?size=200&keyword=跟随点位{tail}")).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    page["items"].as_array().unwrap().iter().any(|r| r["id"] == id)
}

/// The area dashboard's count of problems found this week.
async fn found_in(admin: &Api, area: &str) -> f64 {
    let (status, d) = admin.get(&format!("/api/v1/dashboard?area_id={area}")).await;
    assert_eq!(status, StatusCode::OK, "{d}");
    d["cards"].as_array().unwrap().iter().find(|c| c["key"] == "found").unwrap()["number"].as_f64().unwrap()
}

both!(a_supervisor_inspects_within_its_teams_area, |app: TestApp| async move {
    // 督导二组 covers 公园街道; its member duban04 inspects there and nowhere else.
    let point_in = |street: &str| {
        format!(
            "SELECT p.id FROM points p JOIN org_nodes c ON c.id = p.community_id JOIN org_nodes s ON s.id = c.parent_id \
             JOIN point_types t ON t.id = p.type_id WHERE p.active = 1 AND t.code = 'main_road' AND s.name {street} \
             ORDER BY p.code LIMIT 1"
        )
    };
    let inside = app.id_of(&point_in("= '公园街道'")).await;
    // A road in another street of the district, added by the office.
    crate::fixtures::copy_outside_park_street(&app, &inside, "PW001").await;
    let office = app.api_login("admin").await;
    let outside = app.id_of(&point_in("<> '公园街道'")).await;
    let area = app.id_of("SELECT t.area_id FROM teams t JOIN team_members m ON m.team_id = t.id JOIN users u ON u.id = m.user_id WHERE u.username = 'duban04'").await;
    assert_eq!(area, app.id_of("SELECT id FROM org_nodes WHERE name = '公园街道'").await, "the demo's second team");
    let sup = app.api_login("duban04").await;
    let body = |point: &str| {
        json!({"point_id": point, "category": "乱堆乱放", "description": "人行道堆放杂物", "source": "supervision",
               "allow_duplicate": true, "photos": [crate::fixtures::photo(71)]})
    };
    let before = app.scalar("SELECT COUNT(*) FROM problems").await;
    let (status, e) = sup.post("/api/v1/problems", body(&outside)).await;
    assert_eq!(
        (status, e["error"]["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("validation_failed")),
        "{e}"
    );
    assert_eq!(field_codes(&e), [("point_id".to_string(), "outside_team_area".to_string())], "{e}");
    assert!(e["error"]["fields"][0]["message"].as_str().unwrap().contains("督导区域"), "{e}");
    assert_eq!(app.scalar("SELECT COUNT(*) FROM problems").await, before, "nothing filed");
    let (status, e) = sup.post(&format!("/api/v1/points/{outside}/clean"), json!({})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    assert!(e.to_string().contains("outside_team_area"), "{e}");
    let (status, p) = sup.post("/api/v1/problems", body(&inside)).await;
    assert_eq!(status, StatusCode::CREATED, "{p}");
    // The round and the filing page hold the team's points only, and say so before anything is typed.
    let (_, rounds) = sup.get("/api/v1/rounds").await;
    let scan = rounds["scan"].as_array().unwrap();
    assert!(!scan.is_empty() && scan.iter().all(|p| p["id"] != outside.as_str()), "{rounds}");
    let b = app.login("duban04").await;
    let (status, html) = b.get(&format!("/problems/new?point_id={outside}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("id=\"point-error\"") && html.contains("不在您所在督导组的督导区域内"), "{html}");
    assert!(
        !html.contains("action=\"/problems/new\" enctype") && !html.contains("id=\"clean-form\""),
        "no form to fill: {html}"
    );
    assert!(!html.contains("提交的内容有误"), "nothing was submitted: {html}");
    let (_, html) = b.get(&format!("/problems/new?point_id={inside}")).await;
    assert!(!html.contains("id=\"point-error\""), "{html}");
    // The list says how many points there are when it shows only the first.
    let (_, html) = b.get("/problems/new").await;
    let in_street = app
        .scalar(
            "SELECT COUNT(*) FROM points p JOIN org_nodes c ON c.id = p.community_id JOIN org_nodes s ON s.id = c.parent_id \
             WHERE p.active = 1 AND s.name = '公园街道'",
        )
        .await;
    assert!(in_street > 30, "{in_street}");
    assert!(html.contains(&format!("共 {in_street} 个点位，显示前 30 个")), "{html}");
    let outside_name = app.id_of(&format!("SELECT name FROM points WHERE id = '{outside}'")).await;
    let (_, html) = b.get("/problems/new?q=%E8%B7%AF").await;
    assert!(html.contains("在此登记") && !html.contains(&format!("point_id={outside}")), "{outside_name}: {html}");
    // The office widens the team to the whole district: the same filing is taken.
    let team = app.id_of("SELECT t.id FROM teams t JOIN team_members m ON m.team_id = t.id JOIN users u ON u.id = m.user_id WHERE u.username = 'duban04'").await;
    let (_, t) = office.get(&format!("/api/v1/teams/{team}")).await;
    let district = app.id_of(&format!("SELECT parent_id FROM org_nodes WHERE id = '{area}'")).await;
    let mut change = t.clone();
    change["area_id"] = district.into();
    let (status, t) = office.put(&format!("/api/v1/teams/{team}"), change).await;
    assert_eq!(status, StatusCode::OK, "{t}");
    let (status, p) = sup.post("/api/v1/problems", body(&outside)).await;
    assert_eq!(status, StatusCode::CREATED, "{p}");
});

/// The option labels of a page's `<select name="{name}">`, without the blank 全部.
fn select_options(html: &str, name: &str) -> Vec<String> {
    let Some(select) = html.split(&format!("<select name=\"{name}\">")).nth(1) else { return Vec::new() };
    let select = select.split("</select>").next().unwrap();
    select
        .split("<option value=\"")
        .skip(1)
        .filter(|o| !o.starts_with('"'))
        .map(|o| o.split('>').nth(1).unwrap().split('<').next().unwrap().trim().to_string())
        .collect()
}

both!(area_filters_offer_only_the_readers_own_area, |app: TestApp| async move {
    // The street worker works in 公园街道, the grid worker in its 金狮社区; the office sees all.
    let other_street = app
        .id_of("SELECT name FROM org_nodes WHERE level = 'street' AND name <> '公园街道' ORDER BY code LIMIT 1")
        .await;
    let office = app.login("admin").await;
    let (_, html) = office.get("/points").await;
    let all = select_options(&html, "area_id");
    assert!(all.iter().any(|o| o.contains(&other_street)), "the office is offered every area: {all:?}");
    for (user, page, own, grids) in [
        ("street", "/points", "公园街道", false),
        ("street", "/units", "公园街道", false),
        ("street", "/grids", "公园街道", false),
        ("grid", "/points", "金狮社区", true),
    ] {
        let b = app.login(user).await;
        let (status, html) = b.get(page).await;
        assert_eq!(status, StatusCode::OK, "{user} {page}");
        let offered = select_options(&html, "area_id");
        assert!(offered.iter().any(|o| o.contains(own)), "{user} {page}: {offered:?}");
        assert!(!offered.iter().any(|o| o.contains(&other_street)), "{user} {page}: {offered:?}");
        assert!(offered.len() < all.len(), "{user} {page}: {offered:?}");
        if grids {
            // Grids by their codes: its community's code is in each of them.
            let code = app.id_of(&format!("SELECT code FROM org_nodes WHERE name = '{own}'")).await;
            let offered = select_options(&html, "grid_id");
            assert!(!offered.is_empty() && offered.iter().all(|g| g.starts_with(&code)), "{code}: {offered:?}");
        }
    }
});
