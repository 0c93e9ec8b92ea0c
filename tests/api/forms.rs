use crate::both;
use crate::helpers::*;
use reqwest::StatusCode;

both!(a_form_without_the_csrf_token_is_refused_and_saves_nothing, |app: TestApp| async move {
    let b = app.login("admin").await;
    let before = app.scalar("SELECT COUNT(*) FROM units").await;
    let fields = [("name", "运河区新设单位"), ("kind", "government")];
    let (status, html, _) = b.post_raw("/units/new", &fields).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(html.contains("页面已过期或来源不明") && html.contains("<h1>页面已过期</h1>"), "{html}");
    let (status, _, _) = b
        .post_raw(
            "/units/new",
            &[("_csrf", "0123456789abcdef0123456789abcdef"), ("name", "运河区新设单位"), ("kind", "government")],
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "a wrong token is refused too");
    assert_eq!(app.scalar("SELECT COUNT(*) FROM units").await, before, "nothing saved");
    // A form's address reloaded (after a refusal the page shows at it): the problem's actions
    // lead back to the problem; any other says what happened.
    let pid = "01a25008-0000-7000-8000-000000000001";
    let res = b.get_raw(&format!("/problems/{pid}/act/submit_fix")).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(res.headers().get("location").unwrap().to_str().unwrap(), format!("/problems/{pid}"));
    let (status, html) = b.get("/escalation/threshold").await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    assert!(html.contains("这个地址用于提交表单，不能直接打开"), "{html}");
    // Logout is a form too.
    let (status, _, _) = b.post_raw("/logout", &[]).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(b.get("/").await.0, StatusCode::OK, "still signed in");
    // The same post with the token works.
    let (status, _, location) = b.post("/units/new", &fields).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(location.unwrap().starts_with("/units/"));
    assert_eq!(app.scalar("SELECT COUNT(*) FROM units").await, before + 1);
});

both!(the_login_form_needs_its_own_token, |app: TestApp| async move {
    let b = app.browser();
    let res = b
        .client
        .post(format!("{}/login", app.base))
        .form(&[("username", "admin"), ("password", PW)])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert_eq!(app.scalar("SELECT COUNT(*) FROM sessions").await, 0);
});

both!(another_users_token_does_not_work, |app: TestApp| async move {
    let admin = app.login("admin").await;
    let mut intruder = app.login("supervisor").await;
    intruder.csrf = admin.csrf.clone();
    let (status, _, _) = intruder
        .post(
            "/account/password",
            &[("old_password", PW), ("new_password", "Hacked1234"), ("confirm_password", "Hacked1234")],
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
});

both!(bad_org_input_gives_field_errors_and_saves_nothing, |app: TestApp| async move {
    let b = app.login("admin").await;
    let street = app.id_of("SELECT id FROM org_nodes WHERE name = '公园街道'").await;
    let before = app.scalar("SELECT COUNT(*) FROM org_nodes").await;
    let long = "很".repeat(51);
    // (form fields, the field that is wrong, the message shown next to it)
    type Case<'a> = (Vec<(&'a str, &'a str)>, &'a str, &'a str);
    let cases: Vec<Case> = vec![
        (
            vec![("level", "community"), ("parent_id", &street), ("code", "130903005099"), ("name", "  ")],
            "name",
            "请填写名称",
        ),
        (
            vec![("level", "community"), ("parent_id", &street), ("code", "130903005099"), ("name", &long)],
            "name",
            "名称不能超过50个字",
        ),
        (
            vec![("level", "community"), ("parent_id", &street), ("code", "130903005001"), ("name", "重复社区")],
            "code",
            "该编码已被使用",
        ),
        (
            vec![("level", "community"), ("parent_id", &street), ("code", "13090300509x"), ("name", "格式错误")],
            "code",
            "社区编码应为12位数字",
        ),
        (
            vec![("level", "community"), ("parent_id", &street), ("code", "130904001099"), ("name", "编码错位")],
            "code",
            "编码应以上级编码130903005开头",
        ),
        (
            vec![
                ("level", "community"),
                ("parent_id", "00000000-0000-7000-8000-00000000dead"),
                ("code", "130903005099"),
                ("name", "无上级"),
            ],
            "parent_id",
            "上级区域不存在",
        ),
        (vec![("level", "village"), ("code", "130903005099"), ("name", "层级错误")], "level", "请选择层级"),
        (vec![("level", "district"), ("code", "130900"), ("name", "地级市编码")], "code", "区县编码应为GB/T 2260"),
    ];
    for (fields, field, message) in cases {
        let (status, html, _) = b.post("/org/new", &fields).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{field}: {message}");
        assert!(html.contains(message), "expected “{message}” for {field} in the form");
        assert!(html.contains("field-error"), "shown next to the field");
    }
    assert_eq!(app.scalar("SELECT COUNT(*) FROM org_nodes").await, before, "nothing saved");
    // The form keeps what was typed.
    let (_, html, _) = b
        .post("/org/new", &[("level", "community"), ("parent_id", &street), ("code", "bad"), ("name", "保留的名称")])
        .await;
    assert!(html.contains("value=\"保留的名称\""));
});

both!(bad_unit_and_contact_input_gives_field_errors, |app: TestApp| async move {
    let b = app.login("admin").await;
    let before = app.scalar("SELECT COUNT(*) FROM units").await;
    let (status, html, _) = b.post("/units/new", &[("name", "运河区教育局"), ("kind", "government")]).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("已有同名单位"));
    let (status, html, _) =
        b.post("/units/new", &[("name", ""), ("kind", "spaceship"), ("phone", "12345"), ("area_id", "nope")]).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    for m in ["请填写单位名称", "请选择单位类型", "联系电话格式不正确", "所属区域不存在"]
    {
        assert!(html.contains(m), "{m}");
    }
    assert_eq!(app.scalar("SELECT COUNT(*) FROM units").await, before);
    let unit = app.id_of("SELECT id FROM units WHERE name = '运河区教育局'").await;
    let contacts = app.scalar("SELECT COUNT(*) FROM unit_contacts").await;
    let (status, html, _) =
        b.post(&format!("/units/{unit}/contacts/new"), &[("level_id", "x"), ("name", ""), ("phone", "")]).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    for m in ["请选择联系人层级", "请填写姓名", "请填写联系电话"] {
        assert!(html.contains(m), "{m}");
    }
    assert_eq!(app.scalar("SELECT COUNT(*) FROM unit_contacts").await, contacts);
});

// Every public form sent from a page that expired (its token no longer matches the browser's)
// is refused with what to do, and nothing of it is kept.
both!(public_forms_from_an_expired_page_are_refused_and_keep_nothing, |app: TestApp| async move {
    let b = app.browser();
    // The browser holds a page token (a cookie) that the forms below do not carry.
    assert_eq!(b.get("/public/deliberation").await.0, StatusCode::OK);
    let suggestions = app.scalar("SELECT COUNT(*) FROM suggestions").await;
    let community = app.id_of("SELECT id FROM org_nodes WHERE level = 'community' ORDER BY code LIMIT 1").await;
    let forms: [(&str, Vec<(&str, &str)>); 9] = [
        (
            "/public/deliberation",
            vec![("community_id", community.as_str()), ("content", "建议增加路灯"), ("raised_by", "居民")],
        ),
        ("/public/serve/any", vec![("name", "张三"), ("phone", "13900000000")]),
        ("/public/volunteer/any", vec![("name", "张三"), ("phone", "13900000000"), ("day", "2026-12-08")]),
        ("/public/surveys/any", vec![("phone", "13900000000"), ("step", "code")]),
        ("/public/selections/any", vec![("phone", "13900000000"), ("step", "code")]),
        ("/public/status", vec![("code", "R202612070001"), ("last4", "5678")]),
        ("/public/status/feedback", vec![("code", "R202612070001"), ("last4", "5678"), ("fixed", "yes")]),
        ("/public/status/case-fix", vec![("code", "C202612070001"), ("last4", "5678"), ("level", "5")]),
        ("/rate/r/any", vec![("level", "5")]),
    ];
    for (path, fields) in forms {
        let mut sent = vec![("_csrf", "from-a-page-long-gone")];
        sent.extend(fields);
        let (status, html, _) = b.post_raw(path, &sent).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{path}: {html}");
        assert!(html.contains("页面已过期"), "{path}: {html}");
    }
    assert_eq!(app.scalar("SELECT COUNT(*) FROM suggestions").await, suggestions, "no suggestion kept");
});
