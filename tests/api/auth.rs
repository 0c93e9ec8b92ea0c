use crate::both;
use crate::helpers::*;
use reqwest::StatusCode;
use serde_json::json;

both!(login_and_logout, |app: TestApp| async move {
    let mut b = app.browser();
    // Not signed in: pages send you to the login page.
    let res = b.get_raw("/units").await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(res.headers()["location"], "/login?next=/units");

    let res = b.login("admin", PW).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let cookie = res
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .collect::<Vec<_>>()
        .join("\n");
    assert!(cookie.contains("cc_session=") && cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"));
    let (status, html) = b.get("/").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("文明办管理员") && html.contains("退出"), "home shows the user and a logout button");

    b.refresh_csrf().await;
    let (status, _, location) = b.post("/logout", &[]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(location.as_deref(), Some("/login"));
    assert_eq!(b.get_raw("/").await.status(), StatusCode::SEE_OTHER, "after logout the session is gone");
    let sessions = app.scalar("SELECT COUNT(*) FROM sessions WHERE kind = 'web'").await;
    assert_eq!(sessions, 0, "logout deletes the session row");
});

both!(wrong_password_is_refused_in_chinese_then_throttled, |app: TestApp| async move {
    let mut b = app.browser();
    for _ in 0..5 {
        let res = b.login("unit", "wrong-password1").await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
        assert!(res.text().await.unwrap().contains("用户名或密码错误"));
    }
    // The sixth try is refused even with the right password.
    let res = b.login("unit", PW).await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    let html = res.text().await.unwrap();
    assert!(html.contains("登录失败次数过多"), "{html}");
    // The API shares the throttle and says so with a stable code.
    let api = Api { client: reqwest::Client::new(), base: app.base.clone(), token: String::new() };
    let (status, body) = api.post("/api/v1/auth/login", json!({"username": "unit", "password": PW})).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(body["error"]["code"], "too_many_attempts");
    // Other accounts are unaffected.
    assert_eq!(b.login("bank", PW).await.status(), StatusCode::SEE_OTHER);
    // Twelve guesses sent at once for another account, then more one by one: five are
    // checked in all (sent together they used to be checked all), the rest throttled, and
    // then the right password waits too.
    let guesses =
        futures::future::join_all((0..12).map(|i| {
            api.post("/api/v1/auth/login", json!({"username": "lead", "password": format!("guess-{i}-wrong")}))
        }))
        .await;
    let mut checked = guesses.iter().filter(|g| g.0 == StatusCode::UNAUTHORIZED).count();
    let throttled = guesses.iter().filter(|g| g.0 == StatusCode::TOO_MANY_REQUESTS).count();
    assert_eq!(checked + throttled, 12, "{:?}", guesses.iter().map(|g| g.0).collect::<Vec<_>>());
    for i in 0..6 {
        let (status, _) =
            api.post("/api/v1/auth/login", json!({"username": "lead", "password": format!("more-{i}")})).await;
        if status == StatusCode::UNAUTHORIZED {
            checked += 1;
        } else {
            assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
        }
    }
    assert_eq!(checked, 5, "five guesses checked, however they were sent");
    let (status, _) = api.post("/api/v1/auth/login", json!({"username": "lead", "password": PW})).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
});

both!(unknown_user_gets_the_same_answer_as_a_wrong_password, |app: TestApp| async move {
    let api = Api { client: reqwest::Client::new(), base: app.base.clone(), token: String::new() };
    let (s1, b1) = api.post("/api/v1/auth/login", json!({"username": "nobody", "password": "x"})).await;
    let (s2, b2) = api.post("/api/v1/auth/login", json!({"username": "admin", "password": "x"})).await;
    assert_eq!((s1, s2), (StatusCode::UNAUTHORIZED, StatusCode::UNAUTHORIZED));
    assert_eq!(b1, b2);
    assert_eq!(b1["error"]["message"], "用户名或密码错误");
    let (s, body) = api.post("/api/v1/auth/login", json!({"username": "", "password": ""})).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"]["code"], "missing_credentials");
    let res = api
        .client
        .post(format!("{}/api/v1/auth/login", app.base))
        .body("{not json")
        .header("content-type", "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["error"]["code"], "invalid_json");
});

both!(api_token_login_me_and_logout, |app: TestApp| async move {
    let api = app.api_login("supervisor").await;
    let (status, me) = api.get("/api/v1/me").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(me["username"], "supervisor");
    assert_eq!(me["role"], "supervisor");
    assert!(me.get("password_hash").is_none(), "the hash never leaves the server");
    let (status, _) = api.post("/api/v1/auth/logout", json!({})).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, body) = api.get("/api/v1/me").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["error"]["code"], "unauthorized");
    assert_eq!(body["error"]["message"], "请先登录");
});

both!(api_tokens_and_cookies_do_not_cross, |app: TestApp| async move {
    // A web session cookie does not authenticate the API, and a bearer token does not open pages.
    let b = app.login("admin").await;
    let res = b.client.get(format!("{}/api/v1/me", app.base)).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let api = app.api_login("admin").await;
    let res = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(format!("{}/units", app.base))
        .bearer_auth(&api.token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
});

both!(changing_the_password_ends_other_sessions, |app: TestApp| async move {
    let phone = app.login("lead").await;
    let other = app.login("lead").await;
    let api = app.api_login("lead").await;
    let new_pw = "NewPass2027";
    let (status, html, _) = phone
        .post(
            "/account/password",
            &[("old_password", "wrong1234"), ("new_password", new_pw), ("confirm_password", new_pw)],
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("当前密码不正确"));
    let (status, html, _) = phone
        .post("/account/password", &[("old_password", PW), ("new_password", "short"), ("confirm_password", "shortx")])
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("密码须为8至64位") && html.contains("两次输入的新密码不一致"));
    let (status, _, location) = phone
        .post("/account/password", &[("old_password", PW), ("new_password", new_pw), ("confirm_password", new_pw)])
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER, "password changed");
    assert_eq!(location.as_deref(), Some("/account/password?ok=password"));
    assert_eq!(phone.get("/").await.0, StatusCode::OK, "the session that changed it stays");
    assert_eq!(other.get_raw("/").await.status(), StatusCode::SEE_OTHER, "other browser signed out");
    assert_eq!(api.get("/api/v1/me").await.0, StatusCode::UNAUTHORIZED, "API token revoked");
    let mut fresh = app.browser();
    assert_eq!(fresh.login("lead", PW).await.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(fresh.login("lead", new_pw).await.status(), StatusCode::SEE_OTHER);
});

both!(login_redirects_only_to_local_paths, |app: TestApp| async move {
    let b = app.browser();
    let (_, html) = b.get("/login?next=//evil.example/x").await;
    let token = extract_csrf(&html).unwrap();
    let res = b
        .client
        .post(format!("{}/login", app.base))
        .form(&[("_csrf", token.as_str()), ("username", "admin"), ("password", PW), ("next", "//evil.example/x")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(res.headers()["location"], "/");
});

both!(a_login_in_flight_does_not_outlive_a_password_reset, |app: TestApp| async move {
    // Someone keeps signing in as the lead with the old password from four clients; the office
    // resets it meanwhile. A login whose password was checked before the reset, and whose
    // session would be opened after it, must be refused: afterwards nobody holds a session.
    let office = app.api_login("admin").await;
    let lead: String = app.id_of("SELECT id FROM users WHERE username = 'lead'").await;
    let mut clients = Vec::new();
    let started = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    for _ in 0..4 {
        let (client, base, started) = (reqwest::Client::new(), app.base.clone(), started.clone());
        clients.push(tokio::spawn(async move {
            let mut signed_in = 0;
            loop {
                let res = client
                    .post(format!("{base}/api/v1/auth/login"))
                    .json(&json!({"username": "lead", "password": PW}))
                    .send()
                    .await
                    .unwrap();
                if res.status() != StatusCode::OK {
                    return (signed_in, res.status());
                }
                if signed_in == 0 {
                    started.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                }
                signed_in += 1;
            }
        }));
    }
    // The reset comes once every client has signed in (and is signing in again).
    let waiting = std::time::Instant::now();
    while started.load(std::sync::atomic::Ordering::SeqCst) < 4 {
        assert!(waiting.elapsed() < std::time::Duration::from_secs(60), "the clients did not sign in");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    let new_pw = "Reset2027x";
    let (status, body) = office
        .put(&format!("/api/v1/users/{lead}/password"), json!({"new_password": new_pw, "confirm_password": new_pw}))
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    for c in clients {
        let (signed_in, last) = c.await.unwrap();
        assert!(signed_in > 0, "each client signed in before the reset");
        assert_eq!(last, StatusCode::UNAUTHORIZED, "then the old password is refused");
    }
    let sessions = app.scalar(&format!("SELECT COUNT(*) FROM sessions WHERE user_id = '{lead}'")).await;
    assert_eq!(sessions, 0, "no session opened with the old password outlives the reset");
});
