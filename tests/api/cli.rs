use crate::both;
use crate::helpers::*;
use reqwest::StatusCode;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_chuangcheng");

fn run(app: &TestApp, args: &[&str]) -> std::process::Output {
    Command::new(BIN)
        .args(args)
        .args(["--data-dir", app.dir.path().to_str().unwrap(), "--database-url", &app.database_url])
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .output()
        .expect("run chuangcheng")
}

both!(user_add_and_passwd_from_the_command_line, |app: TestApp| async move {
    let out = run(
        &app,
        &["user", "add", "--username", "ops", "--name", "运维值班", "--role", "admin", "--password", "Duty-2026abc"],
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("已创建账号"));
    let mut b = app.browser();
    assert_eq!(b.login("ops", "Duty-2026abc").await.status(), StatusCode::SEE_OTHER);
    // Errors are explained, and nothing is created.
    let out = run(&app, &["user", "add", "--username", "ops", "--name", "x", "--role", "boss", "--password", "weak"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("请选择角色") && err.contains("密码须为8至64位"), "{err}");
    let out = run(
        &app,
        &[
            "user",
            "add",
            "--username",
            "x1",
            "--name",
            "x",
            "--role",
            "unit_user",
            "--unit",
            "不存在的单位",
            "--password",
            "Teller-2026q",
        ],
    );
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("找不到单位"));
    let out = run(
        &app,
        &[
            "user",
            "add",
            "--username",
            "bank2",
            "--name",
            "钱柜员",
            "--role",
            "unit_user",
            "--unit",
            "沧州银行公园支行",
            "--password",
            "Teller-2026q",
        ],
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    // passwd changes the password and is audited as the command line.
    let out = run(&app, &["user", "passwd", "--username", "ops", "--password", "Duty-2027xyz"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let mut b = app.browser();
    assert_eq!(b.login("ops", "Duty-2026abc").await.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(b.login("ops", "Duty-2027xyz").await.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        app.scalar("SELECT COUNT(*) FROM audit_log WHERE actor_name = '系统命令行' AND actor_id IS NULL").await,
        3
    );
    let out = run(&app, &["user", "passwd", "--username", "nobody", "--password", "Duty-2027xyz"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("找不到账号"));
});

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

both!(serve_stops_gracefully_on_sigterm, |app: TestApp| async move {
    let port = free_port();
    let mut child = Command::new(BIN)
        .args([
            "serve",
            "--addr",
            &format!("127.0.0.1:{port}"),
            "--data-dir",
            app.dir.path().to_str().unwrap(),
            "--database-url",
            &app.database_url,
        ])
        .env("CHUANGCHENG_LOG_FORMAT", "json")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start serve");
    let client = reqwest::Client::new();
    let url = format!("http://127.0.0.1:{port}/healthz");
    let started = Instant::now();
    loop {
        if client.get(&url).send().await.is_ok_and(|r| r.status() == StatusCode::OK) {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(30), "server did not start");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let kill = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(kill.success());
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(Instant::now() < deadline, "server did not stop after SIGTERM");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(status.success(), "clean exit after SIGTERM: {status}");
    let mut out = String::new();
    std::io::Read::read_to_string(child.stdout.as_mut().unwrap(), &mut out).unwrap();
    let lines: Vec<serde_json::Value> = out.lines().filter_map(|l| serde_json::from_str(l).ok()).collect();
    assert!(!lines.is_empty(), "structured JSON logs: {out}");
    assert!(
        lines.iter().any(|l| l["fields"]["message"] == "request" && l["span"]["request_id"].is_string()),
        "request lines carry request ids: {out}"
    );
    assert!(lines.iter().any(|l| l["fields"]["message"] == "server stopped"));
});

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_command_creates_a_city_with_problems_in_every_stage() {
    for backend in [Backend::Sqlite, Backend::Postgres] {
        let Some(app) = crate::helpers::AppBuilder::new(backend).empty().spawn().await else { continue };
        let port = free_port();
        let day_before = chuangcheng::domain::time::to_local(chuangcheng::domain::time::now_ms()).date_naive();
        let mut child = Command::new(BIN)
            .args([
                "demo",
                "--addr",
                &format!("127.0.0.1:{port}"),
                "--data-dir",
                app.dir.path().to_str().unwrap(),
                "--database-url",
                &app.database_url,
            ])
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start demo");
        let client = reqwest::Client::new();
        let started = Instant::now();
        let token = loop {
            let r = client
                .post(format!("http://127.0.0.1:{port}/api/v1/auth/login"))
                .json(&serde_json::json!({"username": "admin", "password": PW}))
                .send()
                .await;
            if let Ok(r) = r
                && r.status() == StatusCode::OK
            {
                break r.json::<serde_json::Value>().await.unwrap()["token"].as_str().unwrap().to_string();
            }
            assert!(started.elapsed() < Duration::from_secs(240), "demo did not start");
            tokio::time::sleep(Duration::from_millis(200)).await;
        };
        let get = |path: String| {
            let (client, token) = (&client, &token);
            async move {
                client
                    .get(format!("http://127.0.0.1:{port}{path}"))
                    .bearer_auth(token)
                    .send()
                    .await
                    .unwrap()
                    .json::<serde_json::Value>()
                    .await
                    .unwrap()
            }
        };
        // Today: six problems, one in every stage of the loop. (The demo's today is the day it
        // started on, which is the day before when Beijing's midnight passed meanwhile.)
        let today = chuangcheng::domain::time::to_local(chuangcheng::domain::time::now_ms()).date_naive();
        let mut page = get(format!("/api/v1/problems?size=50&from={today}&to={today}&source=supervision")).await;
        if day_before != today && page["items"].as_array().is_some_and(|a| a.is_empty()) {
            page = get(format!("/api/v1/problems?size=50&from={day_before}&to={day_before}&source=supervision")).await;
        }
        let mut states: Vec<String> =
            page["items"].as_array().unwrap().iter().map(|p| p["state"].as_str().unwrap().to_string()).collect();
        states.sort();
        assert_eq!(
            states,
            ["acknowledged", "acknowledged", "acknowledged", "closed", "dispatched", "submitted"],
            "{backend:?}"
        );
        assert!(page["items"].as_array().unwrap().iter().any(|p| p["rework_count"] == 1));
        // Four weeks of history before today, replayed at the times they happened.
        let all = get("/api/v1/problems?size=1".into()).await;
        assert!(all["total"].as_i64().unwrap() > 100, "{all}");
        // The latest replayed week whose red flags were awarded (a holiday week has none): spread
        // out, with a last place.
        let mut flagged = None;
        for back in 1..=4 {
            let day = today - chrono::Duration::days(7 * back);
            let r = get(format!("/api/v1/scoring/unit/ranking?period=week&date={day}")).await;
            if r["lines"].as_array().unwrap().iter().any(|l| l["red_flag"] == true) {
                flagged = Some(r);
                break;
            }
        }
        let r = flagged.expect("red flags in one of the four replayed weeks");
        let lines = r["lines"].as_array().unwrap();
        let mut scores: Vec<i64> = lines.iter().map(|l| l["score"].as_i64().unwrap()).collect();
        scores.dedup();
        assert!(scores.len() >= 5, "the week's ranking is spread out: {r}");
        assert!(lines.iter().any(|l| l["last"] == true), "{r}");
        let notices = get("/api/v1/notices?size=50".into()).await;
        let notices = notices["items"].as_array().unwrap();
        let published: Vec<&serde_json::Value> = notices
            .iter()
            .filter(|n| n["status"] == "published" && n["kind"] == "weekly" && n["class"] == "unit")
            .collect();
        assert!(published.len() >= 2, "weekly notices published (fewer across the Spring Festival): {notices:?}");
        let drafts: Vec<&serde_json::Value> = notices.iter().filter(|n| n["status"] == "draft").collect();
        assert_eq!(drafts.len(), 1, "this week's notice waits as a draft: {notices:?}");
        let oldest = published.last().unwrap()["id"].as_str().unwrap().to_string();
        let reads = get(format!("/api/v1/notices/{oldest}/reads")).await;
        let read = reads.as_array().unwrap().iter().filter(|r| r["read_at"].is_i64()).count();
        assert!(read >= 15, "most units confirmed reading an old notice: {reads}");
        let interviews = get("/api/v1/interviews".into()).await;
        assert!(
            interviews
                .as_array()
                .unwrap()
                .iter()
                .any(|i| i["facts"].as_str().unwrap().contains("notice") && !i["outcome"].as_str().unwrap().is_empty()),
            "{interviews}"
        );
        // The audit log reads in Chinese for every kind of record the demo wrote: each field's
        // name, and each state in its own record's words.
        let mut untranslated = std::collections::BTreeSet::new();
        for kind in chuangcheng::domain::audit::ObjectType::ALL {
            let page = get(format!("/api/v1/audit?object_type={}&size=100", kind.as_str())).await;
            for e in page["items"].as_array().unwrap() {
                for c in e["changes"].as_array().unwrap() {
                    let label = c["label"].as_str().unwrap();
                    if label.is_ascii() {
                        untranslated.insert(format!("{kind:?}: field {label}"));
                    }
                    for v in [&c["before"], &c["after"]].into_iter().filter_map(|v| v.as_str()) {
                        // A state in English, a stored code (main_road:6) or raw JSON.
                        let code = v.is_ascii() && v.contains('_');
                        if (label.ends_with("状态") && v.is_ascii()) || code || v.starts_with(['[', '{']) {
                            untranslated
                                .insert(format!("{kind:?}: {label} {}", v.chars().take(40).collect::<String>()));
                        }
                    }
                }
            }
        }
        assert!(untranslated.is_empty(), "{untranslated:#?}");
        // Nothing of the replay lies in the future.
        let audit = get("/api/v1/audit?size=1".into()).await;
        let newest = audit["items"][0]["at"].as_i64().unwrap();
        assert!(newest <= chuangcheng::domain::time::now_ms(), "{audit}");
        let awards = get("/api/v1/scoring/unit/awards".into()).await;
        let kinds: Vec<&str> =
            awards["items"].as_array().unwrap().iter().map(|a| a["kind"].as_str().unwrap()).collect();
        assert!(kinds.contains(&"commendation") && kinds.contains(&"red_flag"), "{awards}");
        // The point lead account answers for six points of 公园街道 from their creation
        // (audited), and no point's lead shares a name with another account. (The evaluation's
        // points in two more streets are copies of points with their leads.)
        assert_eq!(
            app.scalar("SELECT COUNT(*) FROM points p JOIN users u ON u.username = 'lead' JOIN org_nodes c ON c.id = p.community_id \
                 JOIN org_nodes s ON s.id = c.parent_id WHERE p.lead_phone = u.phone AND p.lead_name = u.display_name AND s.name = '公园街道'").await,
            6
        );
        // Every point has a name and a code of its own, numbered as its street's points are.
        assert!(app.scalar("SELECT COUNT(*) FROM points WHERE community_id IS NOT NULL AND community_id NOT IN (SELECT c.id FROM org_nodes c JOIN org_nodes s ON s.id = c.parent_id WHERE s.name = '公园街道')").await >= 8);
        assert_eq!(app.scalar("SELECT COUNT(*) - COUNT(DISTINCT name) FROM points").await, 0, "point names repeat");
        assert_eq!(
            app.scalar("SELECT COUNT(*) FROM points p JOIN org_nodes c ON c.id = p.community_id JOIN org_nodes s ON s.id = c.parent_id \
                 WHERE p.code NOT LIKE s.code || '-%'").await,
            0,
            "a point code that is not its street's"
        );
        assert_eq!(
            app.scalar("SELECT COUNT(*) FROM audit_log WHERE object_type = 'point' AND action = 'create' AND after_json LIKE '%李卫东%'").await,
            6
        );
        assert_eq!(
            app.scalar(
                "SELECT COUNT(*) FROM points p JOIN users u ON u.display_name = p.lead_name WHERE u.username <> 'lead'"
            )
            .await,
            0
        );
        // The demo has no text gateway: a survey's verification code is shown on the page, so
        // that the survey can be tried through (a real city's `serve` never shows it).
        // (The demo's resident survey is closed, answered; the office opens it again here.)
        let survey = app.id_of("SELECT token FROM surveys WHERE kind = 'resident' LIMIT 1").await;
        sqlx::query(&format!("UPDATE surveys SET state = 'open' WHERE token = '{survey}'"))
            .execute(&app.db.pool)
            .await
            .unwrap();
        let resident = crate::helpers::Browser::new(&format!("http://127.0.0.1:{port}"));
        let path = format!("/public/surveys/{survey}");
        let (_, html) = resident.get(&path).await;
        let csrf = crate::helpers::extract_csrf(&html).unwrap();
        let (status, html, _) =
            resident.post_raw(&path, &[("_csrf", &csrf), ("step", "code"), ("phone", "13912340000")]).await;
        assert_eq!(status, StatusCode::OK, "{html}");
        let sms = app.id_of("SELECT body FROM sms_outbox WHERE phone = '13912340000'").await;
        let code: String = sms.split("验证码").nth(1).unwrap().chars().take(6).collect();
        assert!(html.contains(&format!("演示环境未接入短信平台，本次验证码为 {code}")), "{html}");
        let _ = Command::new("kill").args(["-TERM", &child.id().to_string()]).status();
        let _ = child.wait();
    }
}

/// What a restored city must give back: problems, photos with their files, the audit log.
async fn fingerprint(url: &str, media: &std::path::Path) -> Vec<String> {
    let db = chuangcheng::store::Db::connect(url, 1).await.unwrap();
    let mut out = Vec::new();
    for sql in [
        "SELECT id || ':' || code || ':' || state || ':' || CAST(version AS TEXT) FROM problems ORDER BY id",
        "SELECT id || ':' || action || ':' || CAST(at AS TEXT) FROM problem_events ORDER BY id",
        "SELECT id || ':' || sha256 || ':' || original_key FROM photos ORDER BY id",
        "SELECT id || ':' || actor_name || ':' || action || ':' || object_id || ':' || CAST(at AS TEXT) FROM audit_log ORDER BY id",
    ] {
        let rows: Vec<String> = sqlx::query_scalar(sql).fetch_all(&db.pool).await.unwrap();
        assert!(!rows.is_empty(), "{sql}");
        out.extend(rows);
    }
    let keys: Vec<String> =
        sqlx::query_scalar("SELECT original_key FROM photos ORDER BY id").fetch_all(&db.pool).await.unwrap();
    for k in keys {
        let bytes = std::fs::read(media.join(&k)).unwrap_or_else(|e| panic!("{k}: {e}"));
        out.push(format!("{k}:{}", bytes.len()));
    }
    db.close().await;
    out
}

both!(backup_then_restore_on_a_new_machine_gives_back_the_same_city, |app: TestApp| async move {
    use crate::fixtures::{file, photo, road_point};
    let sup = app.api_login("supervisor").await;
    let (point, item) = road_point(&app).await;
    let body = serde_json::json!({"point_id": point, "standard_item_id": item, "description": "备份前登记",
        "source": "supervision", "photos": [photo(7)]});
    assert_eq!(file(&sup, body).await.0, StatusCode::CREATED);
    let backup_dir = app.dir.path().join("backup-1");
    let out = run(&app, &["backup", "--out", backup_dir.to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("备份完成"));
    let before = fingerprint(&app.database_url, &app.dir.path().join("media")).await;
    // The city goes on after the backup; what it did then is not in the backup.
    let body = serde_json::json!({"point_id": point, "description": "备份后登记", "category": "其他", "source": "supervision"});
    assert_eq!(file(&sup, body).await.0, StatusCode::CREATED);
    // A second backup into the same folder is refused; so is a restore over a working city.
    let again = run(&app, &["backup", "--out", backup_dir.to_str().unwrap()]);
    assert!(!again.status.success() && String::from_utf8_lossy(&again.stderr).contains("不是空的"));
    let over = run(&app, &["restore", "--from", backup_dir.to_str().unwrap()]);
    assert!(!over.status.success());
    assert!(String::from_utf8_lossy(&over.stderr).contains("--force"), "{}", String::from_utf8_lossy(&over.stderr));
    // The machine is lost: a new data folder and an empty database of the same kind.
    let new_dir = tempfile::tempdir().unwrap();
    let new_url = fresh_database(app.backend, new_dir.path()).await.unwrap();
    let restore = Command::new(BIN)
        .args(["restore", "--from", backup_dir.to_str().unwrap()])
        .args(["--data-dir", new_dir.path().to_str().unwrap(), "--database-url", &new_url])
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    assert!(restore.status.success(), "{}", String::from_utf8_lossy(&restore.stderr));
    assert!(String::from_utf8_lossy(&restore.stdout).contains("恢复完成"));
    let after = fingerprint(&new_url, &new_dir.path().join("media")).await;
    assert_eq!(before, after, "the same problems, events, photos (and their files) and audit log");
    assert!(!after.iter().any(|l| l.contains("备份后")), "nothing from after the backup");
});

both!(an_operator_issues_an_open311_key_from_the_command_line, |app: TestApp| async move {
    let out = run(&app, &["open311-key", "--name", "区融媒体中心App"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let key = String::from_utf8_lossy(&out.stdout).trim().to_string();
    assert!(key.starts_with("cc311_") && key.len() > 30, "only the key on stdout: {key}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("只显示这一次"));
    // The key works at once; only its hash is stored; the audit log names the command line.
    let services: serde_json::Value =
        reqwest::get(format!("{}/open311/v2/services.json", app.base)).await.unwrap().json().await.unwrap();
    let code = services[0]["service_code"].as_str().unwrap();
    let (_, lng, lat, _) = crate::citizen::point_in_grid_area(&app).await;
    let (lat, lng) = (lat.to_string(), lng.to_string());
    let res = reqwest::Client::new()
        .post(format!("{}/open311/v2/requests.json", app.base))
        .form(&[
            ("api_key", key.as_str()),
            ("service_code", code),
            ("lat", &lat),
            ("long", &lng),
            ("description", "路面坑洼"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK, "{}", res.text().await.unwrap());
    assert_eq!(app.scalar(&format!("SELECT COUNT(*) FROM open311_keys WHERE key_hash = '{key}'")).await, 0);
    assert_eq!(app.scalar("SELECT requests FROM open311_keys").await, 1);
    let by = app.id_of("SELECT actor_name FROM audit_log WHERE object_type = 'api_key'").await;
    assert_eq!(by, "系统命令行");
    // A missing name is refused in Chinese, and nothing is issued.
    let out = run(&app, &["open311-key", "--name", " "]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("请填写使用该密钥的应用或单位名称"));
    assert_eq!(app.scalar("SELECT COUNT(*) FROM open311_keys").await, 1);
});
