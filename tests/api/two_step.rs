//! Two-step sign-in: administrators bind an authenticator at their first login where the
//! deployment requires it; every code is good once; recovery codes stand in for a lost phone;
//! wrong codes count as failed logins; the office can reset a lost authenticator.

use crate::both;
use crate::helpers::*;
use chuangcheng::service::two_step::code_at;
use reqwest::StatusCode;
use serde_json::json;

fn now_s() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs()
}

/// The code the authenticator shows `ahead` steps (30 s each) from now.
fn code(secret: &str, ahead: u64) -> String {
    code_at(secret, now_s() + 30 * ahead).unwrap()
}

/// A code that is none of those accepted now (the current step and one either side).
fn wrong(secret: &str) -> String {
    let taken: Vec<String> = (0..3).map(|i| code_at(secret, now_s() + 30 * i - 30).unwrap()).collect();
    (0..1_000_000).map(|n| format!("{n:06}")).find(|c| !taken.contains(c)).unwrap()
}

/// The secret shown on an enrolment page (groups of four after "密钥：").
fn secret_of(html: &str) -> String {
    let at = html.find("密钥：<code>").expect("enrolment shows the secret") + "密钥：<code>".len();
    html[at..].split('<').next().unwrap().replace(' ', "")
}

fn recovery_codes(html: &str) -> Vec<String> {
    html.split("<li><code>").skip(1).map(|s| s.split('<').next().unwrap().to_string()).collect()
}

fn api(app: &TestApp) -> Api {
    Api { client: reqwest::Client::new(), base: app.base.clone(), token: String::new() }
}

/// Posts the second step of a login (the login page's own CSRF cookie and token).
async fn second_step(b: &Browser, code: &str) -> (StatusCode, String, Option<String>) {
    let (status, html) = b.get("/login/verify?next=/points").await;
    if status != StatusCode::OK {
        return (status, html, None);
    }
    let csrf = extract_csrf(&html).expect("the second step has a CSRF token");
    b.post_raw("/login/verify", &[("_csrf", &csrf), ("code", code), ("next", "/points")]).await
}

both!(
    an_administrator_binds_an_authenticator_at_first_login_and_each_code_is_good_once,
    configure | c | c.admin_two_step = Some(true),
    |app: TestApp| async move {
        let mut b = app.browser();
        let res = b.login("admin", PW).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        assert_eq!(res.headers()["location"], "/login/verify?next=/");
        // The password alone signs nobody in.
        assert_eq!(b.get_raw("/points").await.status(), StatusCode::SEE_OTHER);
        let (status, html) = b.get("/login/verify?next=/points").await;
        assert_eq!(status, StatusCode::OK);
        assert!(html.contains("管理员账号须启用两步验证") && html.contains("<svg"), "QR code to scan: {html}");
        let secret = secret_of(&html);
        assert_eq!(secret.len(), 32);

        let (status, html, _) = second_step(&b, &wrong(&secret)).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert!(html.contains("验证码不正确") && html.contains(&secret.chars().take(4).collect::<String>()), "{html}");
        assert_eq!(b.get_raw("/points").await.status(), StatusCode::SEE_OTHER, "still not signed in");

        // The login page opened in another tab does not spoil the code page left open.
        assert_eq!(b.get("/login").await.0, StatusCode::OK);
        let (status, html, _) = second_step(&b, &code(&secret, 0)).await;
        assert_eq!(status, StatusCode::OK, "{html}");
        assert!(html.contains("文明办管理员（admin）"), "the page says who is signing in");
        let codes = recovery_codes(&html);
        assert_eq!(codes.len(), 10, "ten recovery codes are shown once: {html}");
        assert!(html.contains("账号：文明办管理员（admin）"), "printed with the account they belong to");
        assert_eq!(b.get_raw("/points").await.status(), StatusCode::OK, "signed in after binding");
        let on = app
            .scalar("SELECT COUNT(*) FROM audit_log WHERE action = 'two_step_on' AND actor_name = '文明办管理员'")
            .await;
        assert_eq!(on, 1, "binding is in the audit log");
        let stored = app.scalar("SELECT COUNT(*) FROM recovery_codes WHERE used_at IS NULL").await;
        assert_eq!(stored, 10);

        // The API asks for the code with the password; a code already used is refused.
        let a = api(&app);
        let (status, body) = a.post("/api/v1/auth/login", json!({"username": "admin", "password": PW})).await;
        assert_eq!((status, body["error"]["code"].as_str()), (StatusCode::UNAUTHORIZED, Some("two_step_required")));
        let used = code(&secret, 0);
        let (status, body) =
            a.post("/api/v1/auth/login", json!({"username": "admin", "password": PW, "code": used})).await;
        assert_eq!((status, body["error"]["code"].as_str()), (StatusCode::UNAUTHORIZED, Some("invalid_two_step_code")));
        let next = code(&secret, 1);
        let (status, body) =
            a.post("/api/v1/auth/login", json!({"username": "admin", "password": PW, "code": next})).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let (status, _) =
            a.post("/api/v1/auth/login", json!({"username": "admin", "password": PW, "code": next})).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "the same code twice is a replay");

        // A recovery code works once, written any way (upper case, spaces).
        let typed = codes[3].to_uppercase().replace('-', " ");
        let (status, _) =
            a.post("/api/v1/auth/login", json!({"username": "admin", "password": PW, "code": typed})).await;
        assert_eq!(status, StatusCode::OK);
        let (status, _) =
            a.post("/api/v1/auth/login", json!({"username": "admin", "password": PW, "code": codes[3]})).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "a recovery code is good once");
        let audited = app
            .scalar("SELECT COUNT(*) FROM audit_log WHERE action = 'login' AND after_json LIKE '%recovery_code%'")
            .await;
        assert_eq!(audited, 1, "the login says it used a recovery code");

        // A web login with a recovery code, straight to where it was going.
        let mut b2 = app.browser();
        assert_eq!(b2.login("admin", PW).await.headers()["location"], "/login/verify?next=/");
        let (status, html) = b2.get("/login/verify").await;
        assert!(status == StatusCode::OK && html.contains("两步验证") && !html.contains("<svg"), "verify, not enrol");
        let (status, _, location) = second_step(&b2, &codes[0]).await;
        assert_eq!((status, location.as_deref()), (StatusCode::SEE_OTHER, Some("/points")));

        // Required for administrators: it cannot be switched off, only moved to a new phone.
        b2.refresh_csrf().await;
        let (status, html) = b2.get("/account/two-step").await;
        assert!(status == StatusCode::OK && html.contains("已启用") && html.contains("剩余恢复码 <b>8</b>"), "{html}");
        assert!(!html.contains("/account/two-step/disable"), "no switch-off form for a required account");
        let (status, html, _) = b2.post("/account/two-step/disable", &[("code", &codes[1])]).await;
        assert!(status == StatusCode::UNPROCESSABLE_ENTITY && html.contains("必须启用两步验证"), "{html}");

        // The office cannot clear its own second step, nor one that is off.
        let admin_id = app.id_of("SELECT id FROM users WHERE username = 'admin'").await;
        let (status, _, _) = b2.post(&format!("/users/{admin_id}/two-step/reset"), &[]).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        let grid_id = app.id_of("SELECT id FROM users WHERE username = 'grid'").await;
        let (status, html, _) = b2.post(&format!("/users/{grid_id}/two-step/reset"), &[]).await;
        assert!(status == StatusCode::UNPROCESSABLE_ENTITY && html.contains("尚未启用两步验证"), "{html}");

        // Other roles are not forced.
        let mut unit = app.browser();
        assert_eq!(unit.login("unit", PW).await.headers()["location"], "/");

        // One waiting login per account: opening another ends the first, so many open code pages
        // cannot multiply the guesses.
        let mut first = app.browser();
        first.login("admin", PW).await;
        let mut g = app.browser();
        g.login("admin", PW).await;
        let (status, _, _) = second_step(&first, &code(&secret, 1)).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "the first waiting login was ended");
        // Wrong codes end the waiting login after five and count as failed logins, so guessing
        // codes is throttled like guessing passwords.
        for i in 0..5 {
            let (status, html, _) = second_step(&g, &wrong(&secret)).await;
            assert_eq!(status, StatusCode::UNAUTHORIZED, "try {i}");
            if i == 4 {
                assert!(html.contains("验证码错误次数过多"), "{html}");
            }
        }
        let (status, html) = g.get("/login/verify").await;
        assert!(
            status == StatusCode::UNAUTHORIZED && html.contains("请重新输入密码登录"),
            "the challenge is gone: {html}"
        );
        let res = g.login("admin", PW).await;
        assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS, "five wrong codes from this client lock it out");
    }
);

both!(any_account_may_use_two_step_sign_in_and_the_office_can_reset_it, |app: TestApp| async move {
    let b = app.login("unit").await;
    let (status, html) = b.get("/account/two-step").await;
    assert!(status == StatusCode::OK && html.contains("未启用"), "{html}");
    let (status, html, _) = b.post("/account/two-step", &[]).await;
    assert_eq!(status, StatusCode::OK);
    let (secret, token) = (secret_of(&html), field_value(&html, "token"));

    let (status, html, _) = b.post("/account/two-step/confirm", &[("token", &token), ("code", "12")]).await;
    assert!(status == StatusCode::UNPROCESSABLE_ENTITY && html.contains("6位数字") && html.contains("<svg"), "{html}");
    let (status, html, _) =
        b.post("/account/two-step/confirm", &[("token", &token), ("code", &code(&secret, 0))]).await;
    assert_eq!(status, StatusCode::OK, "{html}");
    let first = recovery_codes(&html);
    assert_eq!(first.len(), 10);
    assert!(html.contains("账号：") && html.contains("生成时间："), "the printed codes say whose they are");
    // Moving to a new phone takes a current code from the old one.
    let (status, html, _) = b.post("/account/two-step", &[]).await;
    assert!(status == StatusCode::UNPROCESSABLE_ENTITY && html.contains("原验证器上的动态验证码"), "{html}");
    let (status, html, _) = b.post("/account/two-step", &[("code", "abcdef")]).await;
    assert!(status == StatusCode::UNPROCESSABLE_ENTITY && html.contains("请输入验证器上显示的6位数字"), "{html}");
    // The enrolment is spent: posting it again does nothing.
    let (status, _, _) = b.post("/account/two-step/confirm", &[("token", &token), ("code", &code(&secret, 1))]).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);

    // Signing in now takes the code; the API says so with a stable code.
    let mut again = app.browser();
    assert_eq!(again.login("unit", PW).await.headers()["location"], "/login/verify?next=/");
    let (status, _, location) = second_step(&again, &code(&secret, 1)).await;
    assert_eq!((status, location.as_deref()), (StatusCode::SEE_OTHER, Some("/points")));
    let (status, body) = api(&app).post("/api/v1/auth/login", json!({"username": "unit", "password": PW})).await;
    assert_eq!((status, body["error"]["code"].as_str()), (StatusCode::UNAUTHORIZED, Some("two_step_required")));

    // New recovery codes void the old ones.
    let (status, html, _) = b.post("/account/two-step/codes", &[("code", &first[0])]).await;
    assert_eq!(status, StatusCode::OK, "{html}");
    let second = recovery_codes(&html);
    assert!(second.len() == 10 && second.iter().all(|c| !first.contains(c)));
    let (status, html, _) = b.post("/account/two-step/disable", &[("code", &first[1])]).await;
    assert!(status == StatusCode::UNPROCESSABLE_ENTITY && html.contains("验证码不正确"), "old codes are void: {html}");
    let (status, _, location) = b.post("/account/two-step/disable", &[("code", &second[0])]).await;
    assert_eq!((status, location.as_deref()), (StatusCode::SEE_OTHER, Some("/account/two-step?ok=two_step_off")));
    assert_eq!(app.browser().login("unit", PW).await.headers()["location"], "/", "off: the password is enough");

    // On again; the phone is lost: the office resets it, the account's sessions end.
    let (_, html, _) = b.post("/account/two-step", &[]).await;
    let (secret, token) = (secret_of(&html), field_value(&html, "token"));
    let (status, _, _) = b.post("/account/two-step/confirm", &[("token", &token), ("code", &code(&secret, 0))]).await;
    assert_eq!(status, StatusCode::OK);
    let unit_id = app.id_of("SELECT id FROM users WHERE username = 'unit'").await;
    let (status, _, _) = b.post(&format!("/users/{unit_id}/two-step/reset"), &[]).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "a unit cannot reset it, not even its own");
    let office = app.login("admin").await;
    let (status, _, location) = office.post(&format!("/users/{unit_id}/two-step/reset"), &[]).await;
    assert_eq!((status, location.as_deref()), (StatusCode::SEE_OTHER, Some("/users?ok=two_step_reset")));
    assert_eq!(b.get_raw("/points").await.status(), StatusCode::SEE_OTHER, "the unit's sessions ended");
    assert_eq!(app.browser().login("unit", PW).await.headers()["location"], "/");
    let off = app
        .scalar("SELECT COUNT(*) FROM audit_log WHERE action = 'two_step_off' AND actor_name = '文明办管理员' AND after_json LIKE '%reset_by_office%'")
        .await;
    assert_eq!(off, 1, "the reset is audited with who did it");
});
