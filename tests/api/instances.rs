//! Photos and documents in an S3-compatible object store (a real S3 server, moto, started on
//! loopback by the test), and three instances on one PostgreSQL sharing it: a photo uploaded
//! through one is served by the others, a stale save is refused across instances, a job due once
//! runs once, and an instance killed mid-request loses nothing it acknowledged.
//!
//! Needs the `s3` build (`cargo test --features s3`) and `moto_server` (`pip install
//! "moto[server]"`; found on PATH or at CHUANGCHENG_TEST_S3_SERVER). Without them the tests say
//! SKIPPED on the terminal, and fail when CHUANGCHENG_TEST_S3_REQUIRED is set (as in CI).

use crate::helpers::*;
use chuangcheng::app::Application;
use chuangcheng::config::Config;
use reqwest::StatusCode;
use serde_json::json;
use std::process::Stdio;
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_chuangcheng");
const BUCKET: &str = "chuangcheng-media";

/// Says why the S3 variant cannot run: a failure when it is required, else a loud skip.
fn cannot_run(test: &str, why: &str) {
    if std::env::var("CHUANGCHENG_TEST_S3_REQUIRED").is_ok() {
        panic!("S3 test required but not runnable: {why}");
    }
    skipped(test, why);
}

/// A moto S3 server on a free loopback port, with the bucket created; stopped on drop.
struct S3Server {
    endpoint: String,
    child: std::process::Child,
}

impl Drop for S3Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn moto_server() -> Option<String> {
    if let Ok(p) = std::env::var("CHUANGCHENG_TEST_S3_SERVER") {
        return Some(p);
    }
    let path = std::env::var("PATH").unwrap_or_default();
    path.split(':').map(|d| format!("{d}/moto_server")).find(|p| std::path::Path::new(p).exists())
}

impl S3Server {
    async fn start(test: &str) -> Option<S3Server> {
        if !cfg!(feature = "s3") {
            cannot_run(test, "built without the s3 feature (cargo test --features s3)");
            return None;
        }
        let Some(bin) = moto_server() else {
            cannot_run(test, "moto_server not found (pip install \"moto[server]\" or set CHUANGCHENG_TEST_S3_SERVER)");
            return None;
        };
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let child = std::process::Command::new(bin)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start moto_server");
        let server = S3Server { endpoint: format!("http://127.0.0.1:{port}"), child };
        let client = reqwest::Client::new();
        let started = Instant::now();
        // Creating the bucket is also the sign that the server is up.
        loop {
            if let Ok(r) = client.put(format!("{}/{BUCKET}", server.endpoint)).send().await
                && r.status().is_success()
            {
                break;
            }
            assert!(started.elapsed() < Duration::from_secs(30), "moto_server did not start");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        Some(server)
    }

    /// The keys the bucket holds (a plain ListObjectsV2; moto does not check signatures).
    async fn keys(&self) -> Vec<String> {
        let xml = reqwest::get(format!("{}/{BUCKET}?list-type=2", self.endpoint)).await.unwrap().text().await.unwrap();
        xml.split("<Key>").skip(1).filter_map(|k| k.split("</Key>").next()).map(str::to_string).collect()
    }

    fn configure(&self, c: &mut Config) {
        c.storage = "s3".into();
        c.s3_endpoint = self.endpoint.clone();
        c.s3_bucket = BUCKET.into();
        c.s3_access_key_id = "test".into();
        c.s3_secret_access_key = "test".into();
    }

    /// The same settings as an operator's configuration file.
    fn toml(&self) -> String {
        format!(
            "storage = \"s3\"\ns3_endpoint = \"{}\"\ns3_bucket = \"{BUCKET}\"\ns3_access_key_id = \"test\"\n\
             s3_secret_access_key = \"test\"\nadmin_two_step = false\njobs_interval_ms = 200\n\
             webhook_backoff_ms = 100\nwebhook_allow_hosts = [\"127.0.0.1\"]\n",
            self.endpoint
        )
    }
}

/// An instance in this process on `url` with its own (empty) data directory.
async fn instance(url: &str, s3: &S3Server, seed: bool) -> (String, chuangcheng::store::Db, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config::for_tests(dir.path().to_path_buf(), url.to_string());
    s3.configure(&mut config);
    let app = Application::build(config).await.expect("instance");
    let db = app.db().clone();
    if seed {
        chuangcheng::demo::seed_if_empty(&db, "Demo2026", 1).await.expect("demo city");
    }
    let base = format!("http://{}", app.local_addr());
    tokio::spawn(app.run_until_stopped());
    (base, db, dir)
}

async fn login(base: &str) -> Api {
    login_as(base, "supervisor").await
}

async fn file_with_photo(api: &Api, point: &str, what: &str) -> String {
    let body = crate::fixtures::with_photo(
        json!({"point_id": point, "category": "乱堆乱放", "description": what, "source": "supervision"}),
    );
    let (status, p) = api.post("/api/v1/problems", body).await;
    assert_eq!(status, StatusCode::CREATED, "{p}");
    p["id"].as_str().unwrap().to_string()
}

/// One instance on either database keeps its photos in the object store, not on its disk.
async fn photos_live_in_the_object_store(backend: Backend, test: &str) {
    let Some(s3) = S3Server::start(test).await else { return };
    let dir = tempfile::tempdir().unwrap();
    let Some(url) = fresh_database(backend, dir.path()).await else {
        skipped(test, "CHUANGCHENG_TEST_PG is not set");
        return;
    };
    let (base, db, data) = instance(&url, &s3, true).await;
    let api = login(&base).await;
    let point: String =
        sqlx::query_scalar("SELECT id FROM points ORDER BY code LIMIT 1").fetch_one(&db.pool).await.unwrap();
    let id = file_with_photo(&api, &point, "对象存储里的照片").await;
    let (photo, original, thumb): (String, String, String) =
        sqlx::query_as("SELECT id, original_key, thumb_key FROM photos WHERE owner_id = $1")
            .bind(&id)
            .fetch_one(&db.pool)
            .await
            .unwrap();
    let keys = s3.keys().await;
    assert!(keys.contains(&original) && keys.contains(&thumb), "both files are in the bucket: {keys:?}");
    assert!(!data.path().join("media").join(&original).exists(), "nothing on the instance's disk");
    let viewer = signed_in(&base, "supervisor").await;
    let res = viewer.client.get(format!("{base}/photos/{photo}")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["content-type"], "image/jpeg");
    let bytes = res.bytes().await.unwrap();
    assert!(bytes.len() > 1_000 && bytes.starts_with(&[0xFF, 0xD8]), "the photo itself comes back");
    // A photo missing from the store is a clear 404, not a crash.
    sqlx::query("UPDATE photos SET original_key = 'photos/none/gone.jpg' WHERE id = $1")
        .bind(&photo)
        .execute(&db.pool)
        .await
        .unwrap();
    let res = viewer.client.get(format!("{base}/photos/{photo}")).send().await.unwrap();
    assert!(res.status().is_client_error() || res.status().is_server_error());
    assert_ne!(res.status(), StatusCode::OK);
    drop(s3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn photos_live_in_the_object_store_sqlite() {
    photos_live_in_the_object_store(Backend::Sqlite, "instances::photos_live_in_the_object_store_sqlite").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn photos_live_in_the_object_store_postgres() {
    photos_live_in_the_object_store(Backend::Postgres, "instances::photos_live_in_the_object_store_postgres").await;
}

/// A fake group-chat robot on loopback that counts what it receives.
async fn robot() -> (std::sync::Arc<std::sync::Mutex<Vec<serde_json::Value>>>, String) {
    use axum::{Json, Router, extract::State, routing::post};
    type Got = std::sync::Arc<std::sync::Mutex<Vec<serde_json::Value>>>;
    let got: Got = Default::default();
    async fn hook(State(got): State<Got>, Json(v): Json<serde_json::Value>) -> Json<serde_json::Value> {
        got.lock().unwrap().push(v);
        Json(json!({"errcode": 0, "errmsg": "ok"}))
    }
    let app = Router::new().route("/hook", post(hook)).with_state(got.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (got, url)
}

/// An instance as a process of its own: the real binary (`serve`), which can be killed with SIGKILL.
fn spawn_serve(url: &str, s3: &S3Server, dir: &std::path::Path) -> (tokio::process::Child, String) {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let config = dir.join("chuangcheng.toml");
    std::fs::write(&config, s3.toml()).unwrap();
    let child = tokio::process::Command::new(BIN)
        .args(["serve", "--addr", &format!("127.0.0.1:{port}"), "--data-dir", dir.to_str().unwrap()])
        .args(["--database-url", url, "--config", config.to_str().unwrap()])
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("start serve");
    (child, format!("http://127.0.0.1:{port}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_instances_share_postgres_and_the_object_store() {
    const TEST: &str = "instances::three_instances_share_postgres_and_the_object_store";
    let Some(s3) = S3Server::start(TEST).await else { return };
    let dir = tempfile::tempdir().unwrap();
    let Some(url) = fresh_database(Backend::Postgres, dir.path()).await else {
        skipped(TEST, "CHUANGCHENG_TEST_PG is not set");
        return;
    };
    let (a, db, _da) = instance(&url, &s3, true).await;
    // B and C are processes of their own, as in a deployment (A shares the test's process).
    let (db_dir, dc) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (_b_process, b) = spawn_serve(&url, &s3, db_dir.path());
    let (mut child, c) = spawn_serve(&url, &s3, dc.path());
    for base in [&b, &c] {
        let started = Instant::now();
        while !reqwest::get(format!("{base}/healthz")).await.is_ok_and(|r| r.status().is_success()) {
            assert!(started.elapsed() < Duration::from_secs(60), "the instance at {base} did not start");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    // The lead's unit has a group-chat robot: a new problem must reach it exactly once although
    // three instances run the jobs.
    let (got, hook) = robot().await;
    let unit: String =
        sqlx::query_scalar("SELECT unit_id FROM users WHERE username = 'lead'").fetch_one(&db.pool).await.unwrap();
    let office = signed_in(&a, "admin").await;
    let (status, _, _) = office.post(&format!("/units/{unit}/webhooks"), &[("kind", "wecom"), ("url", &hook)]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);

    // A photo uploaded through A is served by B and by C (none of them has it on its disk).
    let on_a = login(&a).await;
    let point: String = sqlx::query_scalar("SELECT id FROM points WHERE unit_id = $1 ORDER BY code LIMIT 1")
        .bind(&unit)
        .fetch_one(&db.pool)
        .await
        .unwrap();
    let problem = file_with_photo(&on_a, &point, "三个实例共享的照片").await;
    let photo: String = sqlx::query_scalar("SELECT id FROM photos WHERE owner_id = $1")
        .bind(&problem)
        .fetch_one(&db.pool)
        .await
        .unwrap();
    // The session signed in at A is good everywhere (cookies go by host, sessions live in the
    // database): no sticky sessions needed.
    let viewer = signed_in(&a, "supervisor").await;
    let mut served = Vec::new();
    for base in [&a, &b, &c] {
        let res = viewer.client.get(format!("{base}/photos/{photo}")).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK, "served by {base}");
        served.push(res.bytes().await.unwrap());
    }
    assert!(served.iter().all(|s| s == &served[0]) && served[0].len() > 1_000, "the same photo everywhere");

    // A stale save is refused across instances: B saves, then C with the version both read.
    let admin = login_as(&a, "admin").await;
    let level = admin.created("/api/v1/contact-levels", json!({"name": "跨实例层级", "seq": 9})).await;
    let id = level["id"].as_str().unwrap().to_string();
    let version = level["version"].as_i64().unwrap();
    let put = |base: &str, name: &str| {
        admin
            .client
            .put(format!("{base}/api/v1/contact-levels/{id}"))
            .bearer_auth(&admin.token)
            .json(&json!({"name": name, "seq": 9, "version": version}))
            .send()
    };
    assert_eq!(put(&b, "跨实例层级（乙）").await.unwrap().status(), StatusCode::OK);
    let stale = put(&c, "跨实例层级（丙）").await.unwrap();
    assert_eq!(stale.status(), StatusCode::CONFLICT);
    let body: serde_json::Value = stale.json().await.unwrap();
    assert_eq!(body["error"]["code"], "stale_version");

    retries_through_every_instance_are_done_once(&db, [&a, &b, &c], &point).await;
    // The retries' photos that were not kept are removed from the bucket again (just after
    // their answers): it holds each kept photo and thumbnail, nothing else.
    let kept: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM photos").fetch_one(&db.pool).await.unwrap();
    let started = Instant::now();
    let in_bucket = loop {
        let n = s3.keys().await.iter().filter(|k| k.starts_with("photos/")).count() as i64;
        if n == 2 * kept || started.elapsed() > Duration::from_secs(10) {
            break n;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(in_bucket, 2 * kept, "no photo of a retry that was not kept is left in the bucket");

    // The robot got the new problem once, after several rounds of all three job loops.
    let started = Instant::now();
    while got.lock().unwrap().is_empty() {
        assert!(started.elapsed() < Duration::from_secs(30), "the robot message was not sent");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let messages: Vec<String> = got.lock().unwrap().iter().map(|m| m.to_string()).collect();
    let about: Vec<&String> = messages.iter().filter(|m| m.contains(&problem)).collect();
    assert_eq!(about.len(), 1, "sent once by one of three instances: {messages:?}");

    // C is killed (SIGKILL) while 8 clients file problems through it: every filing it
    // acknowledged is in the database, and A and B go on serving.
    let on_c = login(&c).await;
    let acked = std::sync::Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let mut clients = Vec::new();
    for w in 0..8 {
        let api = Api { client: on_c.client.clone(), base: on_c.base.clone(), token: on_c.token.clone() };
        let (point, acked) = (point.clone(), acked.clone());
        clients.push(tokio::spawn(async move {
            for i in 0.. {
                let body = json!({"point_id": point, "category": "强杀测试", "description": format!("客户端{w}第{i}次"),
                    "source": "assigned", "allow_duplicate": true});
                let Ok(r) = api
                    .client
                    .post(format!("{}/api/v1/problems", api.base))
                    .bearer_auth(&api.token)
                    .json(&body)
                    .send()
                    .await
                else {
                    return;
                };
                if r.status() != StatusCode::CREATED {
                    return;
                }
                let Ok(v) = r.json::<serde_json::Value>().await else { return };
                acked.lock().unwrap().push(v["id"].as_str().unwrap().to_string());
            }
        }));
    }
    tokio::time::sleep(Duration::from_millis(1200)).await;
    child.start_kill().unwrap();
    child.wait().await.unwrap();
    for t in clients {
        let _ = t.await;
    }
    let ids = acked.lock().unwrap().clone();
    assert!(!ids.is_empty(), "C acknowledged filings before it was killed");
    let stored: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM problems WHERE category = '强杀测试'")
        .fetch_one(&db.pool)
        .await
        .unwrap();
    for id in &ids {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM problems WHERE id = $1")
            .bind(id)
            .fetch_one(&db.pool)
            .await
            .unwrap();
        assert_eq!(n, 1, "acknowledged filing {id} is stored");
    }
    assert!(stored >= ids.len() as i64);
    let after = file_with_photo(&on_a, &point, "强杀之后").await;
    let res = on_a.client.get(format!("{b}/api/v1/problems/{after}")).bearer_auth(&on_a.token).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK, "the others go on");
    drop(s3);
}

/// The three answers of one request sent through every instance at the same moment.
async fn at_once(
    api: &Api,
    bases: [&str; 3],
    path: &str,
    body: serde_json::Value,
) -> Vec<(StatusCode, serde_json::Value)> {
    let send = |base: &str| {
        let request = api.client.post(format!("{base}{path}")).bearer_auth(&api.token).json(&body).send();
        async move {
            let r = request.await.expect("answered");
            (r.status(), r.json::<serde_json::Value>().await.unwrap_or_default())
        }
    };
    let (x, y, z) = tokio::join!(send(bases[0]), send(bases[1]), send(bases[2]));
    vec![x, y, z]
}

/// A phone whose answers were lost sends its queued draft and its queued action again, and the
/// proxy spreads the retries over all instances, so that they run at the same moment: each is
/// done once, and every instance answers with what that one did (not a conflict).
async fn retries_through_every_instance_are_done_once(db: &chuangcheng::store::Db, bases: [&str; 3], point: &str) {
    let (sup, lead) = (login_as(bases[0], "supervisor").await, login_as(bases[0], "lead").await);
    for round in 0..4 {
        let what = format!("离线草稿第{round}条：三个实例同时收到");
        let draft = crate::fixtures::with_photo(json!({"point_id": point, "category": "乱堆乱放", "description": what,
            "source": "supervision", "allow_duplicate": true, "client_ref": format!("draft-{round}-across-instances")}));
        let answers = at_once(&sup, bases, "/api/v1/problems", draft).await;
        for (status, p) in &answers {
            assert!(status.is_success(), "round {round}: {status} {p}");
        }
        let id = answers[0].1["id"].as_str().expect("id").to_string();
        assert!(answers.iter().all(|(_, p)| p["id"] == id.as_str()), "one problem in every answer: {answers:?}");
        let filed: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM problems WHERE description = $1")
            .bind(&what)
            .fetch_one(&db.pool)
            .await
            .unwrap();
        assert_eq!(filed, 1, "round {round}: filed once");
        let photos: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM photos WHERE owner_id = $1")
            .bind(&id)
            .fetch_one(&db.pool)
            .await
            .unwrap();
        assert_eq!(photos, 1, "round {round}: with the one photo sent");

        let version = lead.get(&format!("/api/v1/problems/{id}")).await.1["problem"]["version"].clone();
        let ack = json!({"version": version, "client_ref": format!("ack-{round}-across-instances")});
        let answers = at_once(&lead, bases, &format!("/api/v1/problems/{id}/actions/acknowledge"), ack).await;
        for (status, p) in &answers {
            assert_eq!(*status, StatusCode::OK, "round {round}: every instance answers with the one done: {p}");
        }
        assert!(answers.iter().all(|(_, p)| p["version"] == answers[0].1["version"]), "{answers:?}");
        let done: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM problem_events WHERE problem_id = $1 AND action = 'acknowledge'")
                .bind(&id)
                .fetch_one(&db.pool)
                .await
                .unwrap();
        assert_eq!(done, 1, "round {round}: acknowledged once");
    }
}

async fn login_as(base: &str, username: &str) -> Api {
    let client = reqwest::Client::new();
    let v: serde_json::Value = client
        .post(format!("{base}/api/v1/auth/login"))
        .json(&json!({"username": username, "password": "Demo2026"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    Api { client, base: base.to_string(), token: v["token"].as_str().expect("token").to_string() }
}

/// A browser session signed in at `base` (CSRF token read).
async fn signed_in(base: &str, username: &str) -> Browser {
    let mut b = Browser::new(base);
    assert_eq!(b.login(username, "Demo2026").await.status(), StatusCode::SEE_OTHER);
    b.refresh_csrf().await;
    b
}
