use crate::both;
use crate::helpers::*;
use reqwest::StatusCode;
use serde_json::json;

both!(an_admin_creates_scoped_accounts, |app: TestApp| async move {
    let b = app.login("admin").await;
    let unit = app.id_of("SELECT id FROM units WHERE name = '运河区民政局'").await;
    let before = app.scalar("SELECT COUNT(*) FROM users").await;
    // A point lead needs a unit; a grid worker an area.
    let (status, html, _) = b
        .post(
            "/users/new",
            &[("username", "mzj_lead"), ("display_name", "钱多多"), ("role", "point_lead"), ("password", "Qian2026x")],
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("点位负责人必须指定所属单位"));
    let (status, html, _) = b
        .post(
            "/users/new",
            &[
                ("username", "g"),
                ("display_name", ""),
                ("role", "grid_worker"),
                ("password", "123"),
                ("phone", "1381234"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    for m in ["用户名须为3至32位", "请填写姓名", "网格员必须指定负责区域", "密码须为8至64位", "手机号格式不正确"]
    {
        assert!(html.contains(m), "{m}");
    }
    assert!(!html.contains("value=\"123\""), "the password is not echoed back");
    let (status, html, _) = b
        .post(
            "/users/new",
            &[("username", "admin"), ("display_name", "冒名"), ("role", "admin"), ("password", "Cang-River26")],
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("该用户名已被使用"));
    assert_eq!(app.scalar("SELECT COUNT(*) FROM users").await, before);
    let (status, _, _) = b
        .post(
            "/users/new",
            &[
                ("username", "mzj_lead"),
                ("display_name", "钱多多"),
                ("role", "point_lead"),
                ("unit_id", &unit),
                ("phone", "13812345678"),
                ("password", "Qian2026x"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let mut lead = app.browser();
    assert_eq!(lead.login("mzj_lead", "Qian2026x").await.status(), StatusCode::SEE_OTHER);
    let (_, html) = lead.get("/").await;
    assert!(html.contains("（点位负责人） · 运河区民政局"), "{html}");
    // The list filters by role and keyword.
    let (_, html) = b.get("/users?role=point_lead&q=钱").await;
    assert!(html.contains("钱多多") && html.contains("共 1 条"));
});

both!(deactivating_an_account_signs_it_out, |app: TestApp| async move {
    let admin = app.api_login("admin").await;
    let eval = app.api_login("evaluator").await;
    let id = app.id_of("SELECT id FROM users WHERE username = 'evaluator'").await;
    let (status, u) = admin.get(&format!("/api/v1/users/{id}")).await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = admin
        .put(
            &format!("/api/v1/users/{id}"),
            json!({"display_name": u["display_name"], "role": "evaluator", "active": false, "version": u["version"]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(eval.get("/api/v1/me").await.0, StatusCode::UNAUTHORIZED);
    let mut b = app.browser();
    assert_eq!(b.login("evaluator", PW).await.status(), StatusCode::UNAUTHORIZED);
});

both!(an_admin_cannot_lock_itself_out, |app: TestApp| async move {
    let admin = app.api_login("admin").await;
    let id = app.id_of("SELECT id FROM users WHERE username = 'admin'").await;
    let (status, body) = admin
        .put(&format!("/api/v1/users/{id}"), json!({"display_name": "管理员", "role": "supervisor", "version": 1}))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(field_codes(&body), [("role".to_string(), "self_lockout".to_string())]);
});

both!(an_admin_resets_a_password, |app: TestApp| async move {
    let b = app.login("admin").await;
    let id = app.id_of("SELECT id FROM users WHERE username = 'grid'").await;
    let grid = app.api_login("grid").await;
    let (status, html, _) = b
        .post(
            &format!("/users/{id}/password"),
            &[("new_password", "Patrol-2027a"), ("confirm_password", "Patrol-2027b")],
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("两次输入的新密码不一致"));
    let (status, _, _) = b
        .post(
            &format!("/users/{id}/password"),
            &[("new_password", "Patrol-2027a"), ("confirm_password", "Patrol-2027a")],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(grid.get("/api/v1/me").await.0, StatusCode::UNAUTHORIZED, "old sessions end");
    let mut g = app.browser();
    assert_eq!(g.login("grid", "Patrol-2027a").await.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        app.scalar(&format!("SELECT COUNT(*) FROM audit_log WHERE object_id = '{id}' AND action = 'password'")).await,
        1
    );
});

both!(teams_have_supervisor_members_and_a_leader_among_them, |app: TestApp| async move {
    let admin = app.api_login("admin").await;
    let sup = app.id_of("SELECT id FROM users WHERE username = 'duban05'").await;
    let unit_user = app.id_of("SELECT id FROM users WHERE username = 'unit'").await;
    let (status, body) =
        admin.post("/api/v1/teams", json!({"name": "第九督导组", "member_ids": [unit_user], "leader_id": sup})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let codes = field_codes(&body);
    assert!(codes.contains(&("member_ids".to_string(), "invalid_member".to_string())), "{codes:?}");
    assert!(codes.contains(&("leader_id".to_string(), "leader_not_member".to_string())), "{codes:?}");
    let (status, t) = admin
        .post(
            "/api/v1/teams",
            json!({"name": "夜间督导组", "theme": "夜市与亮化", "member_ids": [sup], "leader_id": sup}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(t["members"].as_array().unwrap().len(), 1);
    assert_eq!(t["leader_id"], sup.as_str());
    let (status, body) = admin.post("/api/v1/teams", json!({"name": "夜间督导组"})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(field_codes(&body), [("name".to_string(), "duplicate_name".to_string())]);
    let b = app.login("supervisor").await;
    let (status, html) = b.get(&format!("/teams/{}", t["id"].as_str().unwrap())).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("夜间督导组") && html.contains("组长"));
    assert_eq!(b.get("/teams/new").await.0, StatusCode::FORBIDDEN, "supervisors read teams but do not edit them");
});
