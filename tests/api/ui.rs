//! A real browser (Debian chromium, driven by playwright-core from npm) against the real server.
//! Runs when node, chromium and tests/ui/node_modules are present; CI installs them and sets
//! CHUANGCHENG_TEST_UI_REQUIRED so a missing piece fails instead of skipping.

use crate::helpers::*;
use std::path::Path;
use std::process::Command;

fn ready() -> Result<(), String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    if !root.join("tests/ui/node_modules/playwright-core").exists() {
        return Err("tests/ui/node_modules missing (run npm ci in tests/ui)".into());
    }
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    if !Path::new(&chromium).exists() {
        return Err(format!("{chromium} missing (apt-get install chromium)"));
    }
    Command::new("node").arg("--version").output().map_err(|_| "node missing".to_string())?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_day_per_role_through_the_start_pages_and_an_offline_filing() {
    if let Err(why) = ready() {
        if std::env::var("CHUANGCHENG_TEST_UI_REQUIRED").is_ok() {
            panic!("browser test required but not runnable: {why}");
        }
        crate::helpers::skipped("ui::one_day_per_role_through_the_start_pages_and_an_offline_filing", &why);
        return;
    }
    let app = spawn_app(Backend::Sqlite).await.expect("app");
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let shots = root.join("target/screenshots");
    let photos = root.join("target/ui-photos");
    std::fs::create_dir_all(&shots).unwrap();
    std::fs::create_dir_all(&photos).unwrap();
    for n in 1..=5u8 {
        std::fs::write(photos.join(format!("photo{n}.jpg")), crate::fixtures::jpeg_bytes(40 + n * 13)).unwrap();
    }
    let base = app.base.clone();
    let script = root.join("tests/ui/day.mjs");
    let out = tokio::task::spawn_blocking(move || {
        Command::new("node").arg(script).arg(&base).arg(&shots).arg(PW).arg(&photos).output().expect("run node")
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "browser day failed:\n{stdout}\n{stderr}");
    assert!(stdout.contains("ui day: ok"), "{stdout}");
    let codes: Vec<&str> = stdout.split("ui day: ok ").nth(1).unwrap().split_whitespace().collect();
    let state = |code: &str| format!("SELECT state FROM problems WHERE code = '{code}'");
    assert_eq!(app.id_of(&state(codes[0])).await, "closed", "the re-checked problem is closed");
    assert_eq!(
        app.scalar(&format!("SELECT extensions FROM problems WHERE code = '{}'", codes[1])).await,
        1,
        "the extension was approved"
    );
    assert_eq!(
        app.scalar("SELECT COUNT(*) FROM problems WHERE description = '地下车库入口积存垃圾（离线登记）'").await,
        1,
        "the offline filing arrived once"
    );
    for shot in [
        "day-1-supervisor-start",
        "day-2-lead-start",
        "day-3-office-start",
        "day-4-supervisor-recheck",
        "day-5-discipline-start",
        "day-6-discipline-audit",
        "dashboard",
        "big-screen",
        "offline-kept",
        "offline-sent",
    ] {
        assert!(root.join(format!("target/screenshots/{shot}.png")).exists(), "{shot}.png kept");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resident_reports_from_a_phone_and_not_fixed_sends_it_back_as_rework() {
    if let Err(why) = ready() {
        if std::env::var("CHUANGCHENG_TEST_UI_REQUIRED").is_ok() {
            panic!("browser test required but not runnable: {why}");
        }
        crate::helpers::skipped("ui::a_resident_reports_from_a_phone_and_not_fixed_sends_it_back_as_rework", &why);
        return;
    }
    let app = spawn_app(Backend::Sqlite).await.expect("app");
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let shots = root.join("target/screenshots");
    let photos = root.join("target/ui-photos-citizen");
    std::fs::create_dir_all(&shots).unwrap();
    std::fs::create_dir_all(&photos).unwrap();
    for n in 1..=2u8 {
        std::fs::write(photos.join(format!("photo{n}.jpg")), crate::fixtures::jpeg_bytes(60 + n * 11)).unwrap();
    }
    let (_, lng, lat, unit_user) = crate::citizen::point_in_grid_area(&app).await;
    let base = app.base.clone();
    let script = root.join("tests/ui/citizen.mjs");
    let args = [
        base,
        shots.display().to_string(),
        PW.to_string(),
        photos.display().to_string(),
        lng.to_string(),
        lat.to_string(),
        unit_user,
    ];
    let out =
        tokio::task::spawn_blocking(move || Command::new("node").arg(script).args(args).output().expect("run node"))
            .await
            .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "browser citizen test failed:\n{stdout}\n{stderr}");
    let code = stdout.split("ui citizen: ok ").nth(1).expect("finished").trim().to_string();
    let problem = app.id_of(&format!("SELECT problem_id FROM reports WHERE code = '{code}'")).await;
    assert_eq!(app.id_of(&format!("SELECT state FROM problems WHERE id = '{problem}'")).await, "dispatched");
    assert_eq!(app.scalar(&format!("SELECT rework_count FROM problems WHERE id = '{problem}'")).await, 1);
    assert_eq!(app.scalar(&format!("SELECT fixed FROM reports WHERE code = '{code}'")).await, 0);
    for shot in ["citizen-1-report", "citizen-3-triage", "citizen-4-closed", "citizen-6-unit-list", "citizen-7-public"]
    {
        assert!(root.join(format!("target/screenshots/{shot}.png")).exists(), "{shot}.png kept");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_browser_signs_in_navigates_at_phone_width_and_fills_a_form() {
    if let Err(why) = ready() {
        if std::env::var("CHUANGCHENG_TEST_UI_REQUIRED").is_ok() {
            panic!("browser test required but not runnable: {why}");
        }
        crate::helpers::skipped("ui::a_browser_signs_in_navigates_at_phone_width_and_fills_a_form", &why);
        return;
    }
    let app = spawn_app(Backend::Sqlite).await.expect("app");
    routed_suggestion(&app).await;
    let shots = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/screenshots");
    std::fs::create_dir_all(&shots).unwrap();
    let base = app.base.clone();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/ui/smoke.mjs");
    let out = tokio::task::spawn_blocking(move || {
        Command::new("node").arg(script).arg(&base).arg(&shots).arg(PW).output().expect("run node")
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "browser test failed:\n{stdout}\n{stderr}");
    assert!(stdout.contains("ui smoke: ok"));
    assert_eq!(
        app.scalar("SELECT COUNT(*) FROM units WHERE name = '沧州市运河区图书馆'").await,
        1,
        "the form really saved"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resident_rates_a_window_badly_and_the_unit_calls_back_fixes_and_appeals() {
    if let Err(why) = ready() {
        if std::env::var("CHUANGCHENG_TEST_UI_REQUIRED").is_ok() {
            panic!("browser test required but not runnable: {why}");
        }
        crate::helpers::skipped("ui::a_resident_rates_a_window_badly_and_the_unit_calls_back_fixes_and_appeals", &why);
        return;
    }
    let app = spawn_app(Backend::Sqlite).await.expect("app");
    chuangcheng::demo::windows::seed(&app.db).await.expect("demo windows");
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let shots = root.join("target/screenshots");
    std::fs::create_dir_all(&shots).unwrap();
    let photo = root.join("target/ui-photos-window.jpg");
    std::fs::write(&photo, crate::fixtures::jpeg_bytes(93)).unwrap();
    let unit = app.id_of("SELECT unit_id FROM users WHERE username = 'bank'").await;
    let code = app.id_of(&format!("SELECT code FROM windows WHERE unit_id = '{unit}' ORDER BY number LIMIT 1")).await;
    let args = [app.base.clone(), shots.display().to_string(), PW.to_string(), photo.display().to_string(), code, unit];
    let stdout = node("window.mjs", args.to_vec()).await;
    let codes: Vec<&str> = stdout.split("ui window: ok ").nth(1).expect("finished").split_whitespace().collect();
    let fixed = app.id_of(&format!("SELECT state FROM rating_cases WHERE code = '{}'", codes[0])).await;
    assert_eq!(fixed, "replied");
    assert_eq!(app.scalar(&format!("SELECT fix_level FROM rating_cases WHERE code = '{}'", codes[0])).await, 4);
    let excluded = app
        .scalar(&format!(
            "SELECT r.excluded FROM ratings r JOIN rating_cases c ON c.rating_id = r.id WHERE c.code = '{}'",
            codes[1]
        ))
        .await;
    assert_eq!(excluded, 1, "the upheld appeal's rating is kept and flagged");
    for shot in ["window-1-rate", "window-3-case", "window-5-ranking", "window-6-ratings"] {
        assert!(root.join(format!("target/screenshots/{shot}.png")).exists(), "{shot}.png kept");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bank_inspects_another_banks_point_on_a_phone() {
    if let Err(why) = ready() {
        if std::env::var("CHUANGCHENG_TEST_UI_REQUIRED").is_ok() {
            panic!("browser test required but not runnable: {why}");
        }
        crate::helpers::skipped("ui::a_bank_inspects_another_banks_point_on_a_phone", &why);
        return;
    }
    let app = spawn_app(Backend::Sqlite).await.expect("app");
    let admin = app.api_login("admin").await;
    let body = serde_json::json!({"name": "银行网点互评互查", "sector": "bank", "starts_on": "2026-12-01", "ends_on": "2026-12-31", "seed": 3});
    let round = admin.created("/api/v1/mutual-rounds", body).await;
    let round_id = round["round"]["id"].as_str().unwrap().to_string();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let shots = root.join("target/screenshots");
    std::fs::create_dir_all(&shots).unwrap();
    let photo = root.join("target/ui-photos-mutual.jpg");
    std::fs::write(&photo, crate::fixtures::jpeg_bytes(57)).unwrap();
    let args =
        [app.base.clone(), shots.display().to_string(), PW.to_string(), photo.display().to_string(), round_id.clone()];
    let stdout = node("mutual.mjs", args.to_vec()).await;
    assert!(stdout.contains("ui mutual: ok"));
    let filed = app
        .scalar(&format!(
            "SELECT COUNT(*) FROM mutual_checks c JOIN mutual_tasks t ON t.id = c.task_id \
             JOIN problems q ON q.id = c.problem_id WHERE t.round_id = '{round_id}' AND q.source = 'mutual_inspection' \
             AND q.unit_id = t.owner_unit_id"
        ))
        .await;
    assert_eq!(filed, 1, "the failure is a problem of the inspected bank");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_evaluator_scores_a_point_on_a_phone() {
    if let Err(why) = ready() {
        if std::env::var("CHUANGCHENG_TEST_UI_REQUIRED").is_ok() {
            panic!("browser test required but not runnable: {why}");
        }
        crate::helpers::skipped("ui::an_evaluator_scores_a_point_on_a_phone", &why);
        return;
    }
    let app = spawn_app(Backend::Sqlite).await.expect("app");
    let evaluator = app.id_of("SELECT id FROM users WHERE username = 'evaluator'").await;
    let office = app.login("admin").await;
    let form = [
        ("name", "2026年第三轮模拟测评"),
        ("starts_on", "2026-12-01"),
        ("ends_on", "2026-12-10"),
        ("quotas", "主次干道:3"),
        ("seed", "5"),
        ("evaluators", evaluator.as_str()),
    ];
    let (status, _, to) = office.post("/evaluations", &form).await;
    assert_eq!(status, reqwest::StatusCode::SEE_OTHER);
    let round_id = to.unwrap().trim_start_matches("/evaluations/").split('?').next().unwrap().to_string();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let shots = root.join("target/screenshots");
    std::fs::create_dir_all(&shots).unwrap();
    let photo = root.join("target/ui-photos-evaluation.jpg");
    std::fs::write(&photo, crate::fixtures::jpeg_bytes(61)).unwrap();
    let args =
        [app.base.clone(), shots.display().to_string(), PW.to_string(), photo.display().to_string(), round_id.clone()];
    let stdout = node("evaluation.mjs", args.to_vec()).await;
    assert!(stdout.contains("ui evaluation: ok"));
    let filed = app
        .scalar(&format!(
            "SELECT COUNT(*) FROM eval_checks c JOIN eval_visits v ON v.id = c.visit_id JOIN problems q ON q.id = c.problem_id \
             WHERE v.round_id = '{round_id}' AND q.source = 'evaluation' AND q.unit_id = v.unit_id"
        ))
        .await;
    assert_eq!(filed, 1, "the failure is a problem of the point's unit");
    assert_eq!(app.scalar("SELECT COUNT(*) FROM photos p JOIN eval_checks c ON c.problem_id = p.owner_id").await, 1);
}

/// Runs a browser script of tests/ui with its arguments; its output, which must be a success.
async fn node(script: &str, args: Vec<String>) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/ui").join(script);
    let out =
        tokio::task::spawn_blocking(move || Command::new("node").arg(path).args(args).output().expect("run node"))
            .await
            .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "browser test {script} failed:\n{stdout}\n{stderr}");
    stdout
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn community_work_on_a_phone_from_daily_report_to_public_answer() {
    if let Err(why) = ready() {
        if std::env::var("CHUANGCHENG_TEST_UI_REQUIRED").is_ok() {
            panic!("browser test required but not runnable: {why}");
        }
        crate::helpers::skipped("ui::community_work_on_a_phone_from_daily_report_to_public_answer", &why);
        return;
    }
    use chrono::Datelike;
    // A volunteer's second scan counts as a sign-out 2 s after signing in (5 minutes by default).
    let app = crate::helpers::AppBuilder::new(Backend::Sqlite)
        .configure(|c| c.volunteer_repeat_scan_seconds = 2)
        .spawn()
        .await
        .expect("app");
    let community = app.id_of("SELECT area_id FROM users WHERE username = 'grid'").await;
    let unit_id = app.id_of("SELECT unit_id FROM users WHERE username = 'lead'").await;
    let point = app
        .id_of(&format!(
            "SELECT code FROM points WHERE unit_id = '{unit_id}' AND community_id = '{community}' AND active = 1 ORDER BY code LIMIT 1"
        ))
        .await;
    // Tuesday, and today too, so that the volunteer can sign in whatever day the test runs.
    let today = chrono::Utc::now().with_timezone(&chrono::FixedOffset::east_opt(8 * 3600).unwrap()).weekday();
    let weekdays = format!("二、{}", today.number_from_monday());
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let shots = root.join("target/screenshots");
    std::fs::create_dir_all(&shots).unwrap();
    let photo = root.join("target/ui-photos-community.jpg");
    std::fs::write(&photo, crate::fixtures::jpeg_bytes(77)).unwrap();
    let args = [
        app.base.clone(),
        shots.display().to_string(),
        PW.to_string(),
        photo.display().to_string(),
        point.clone(),
        weekdays,
        unit_id.clone(),
    ];
    let stdout = node("community.mjs", args.to_vec()).await;
    assert!(stdout.contains("ui community: ok"), "{stdout}");
    assert_eq!(
        app.scalar(&format!(
            "SELECT COUNT(*) FROM daily_reports r JOIN points p ON p.id = r.point_id WHERE p.code = '{point}'"
        ))
        .await,
        1
    );
    assert_eq!(app.scalar("SELECT COUNT(*) FROM photos WHERE owner_type = 'daily_report'").await, 1, "the photo kept");
    assert_eq!(app.id_of("SELECT state FROM weekly_summaries").await, "submitted");
    assert_eq!(app.scalar("SELECT minutes FROM service_records WHERE state = 'confirmed'").await, 90);
    assert_eq!(app.id_of("SELECT state FROM suggestions").await, "answered");
    assert_eq!(app.id_of("SELECT unit_id FROM suggestions").await, unit_id, "answered by the unit it was routed to");
}

/// A resident's suggestion raised at a meeting of 金狮社区 and routed to the unit `unit`, for the
/// unit to answer in the browser.
async fn routed_suggestion(app: &TestApp) {
    let community = app.id_of("SELECT area_id FROM users WHERE username = 'grid'").await;
    let unit_id = app.id_of("SELECT unit_id FROM users WHERE username = 'unit'").await;
    let grid = app.login("grid").await;
    let held_on =
        chuangcheng::domain::time::to_local(chuangcheng::domain::time::now_ms()).format("%Y-%m-%d").to_string();
    let (status, _, to) = grid
        .post(
            "/deliberation/meetings",
            &[("community_id", &community), ("held_on", &held_on), ("place", "居民议事亭"), ("topic", "小区照明")],
        )
        .await;
    assert_eq!(status, reqwest::StatusCode::SEE_OTHER);
    let meeting = to.unwrap().trim_start_matches("/deliberation/meetings/").split('?').next().unwrap().to_string();
    let (status, _, _) = grid
        .post(
            &format!("/deliberation/meetings/{meeting}/suggestions"),
            &[("content", "小区门口路灯不亮，晚上出行不便")],
        )
        .await;
    assert_eq!(status, reqwest::StatusCode::SEE_OTHER);
    let sid = app.id_of("SELECT id FROM suggestions WHERE content = '小区门口路灯不亮，晚上出行不便' ORDER BY created_at DESC LIMIT 1").await;
    let soon = (chuangcheng::domain::time::to_local(chuangcheng::domain::time::now_ms()).date_naive()
        + chrono::Days::new(10))
    .format("%Y-%m-%d")
    .to_string();
    let (status, _, _) = grid
        .post(
            &format!("/deliberation/suggestions/{sid}"),
            &[("action", "route"), ("unit_id", &unit_id), ("due_on", &soon), ("version", "1")],
        )
        .await;
    assert_eq!(status, reqwest::StatusCode::SEE_OTHER);
}
