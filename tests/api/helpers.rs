use chuangcheng::app::Application;
use chuangcheng::config::Config;
use chuangcheng::store::Db;
use reqwest::StatusCode;
use reqwest::redirect::Policy;
use serde_json::Value;
use std::sync::OnceLock;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

pub const PW: &str = chuangcheng::demo::DEFAULT_PASSWORD;

/// Runs a test body once per backend on a server holding the demo city:
/// `both!(name, |app| async move { ... });`, or on an empty one: `both!(name, empty, |app| …)`,
/// or with the configuration changed first: `both!(name, configure |c| …, |app| …)`.
/// Without CHUANGCHENG_TEST_PG the PostgreSQL variant says on the terminal that it was skipped.
#[macro_export]
macro_rules! both {
    ($name:ident, empty, $body:expr) => {
        $crate::both!(@variants $name, false, |_| {}, $body);
    };
    ($name:ident, configure $configure:expr, $body:expr) => {
        $crate::both!(@variants $name, true, $configure, $body);
    };
    ($name:ident, $body:expr) => {
        $crate::both!(@variants $name, true, |_| {}, $body);
    };
    (@variants $name:ident, $demo:expr, $configure:expr, $body:expr) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let app = $crate::helpers::AppBuilder::new($crate::helpers::Backend::Sqlite)
                    .demo($demo).configure($configure).spawn().await;
                app.expect("sqlite app").run($body).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                let app = $crate::helpers::AppBuilder::new($crate::helpers::Backend::Postgres)
                    .demo($demo).configure($configure).spawn().await;
                match app {
                    Some(app) => app.run($body).await,
                    None => $crate::helpers::skipped(concat!(module_path!(), "::postgres"), "CHUANGCHENG_TEST_PG is not set"),
                }
            }
        }
    };
}

/// Says on the terminal (past the test harness's output capture) that a test variant did not
/// run, so a skipped PostgreSQL, browser or PDF check never passes unnoticed.
pub fn skipped(test: &str, why: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "\x1b[1;33mSKIPPED\x1b[0m {test}: {why}");
}

pub struct TestApp {
    pub base: String,
    pub db: Db,
    pub backend: Backend,
    pub database_url: String,
    pub dir: std::sync::Arc<tempfile::TempDir>,
    /// The test's configuration change, applied to every instance it starts
    configure: fn(&mut Config),
}

fn init_logs() {
    static ONCE: OnceLock<()> = OnceLock::new();
    ONCE.get_or_init(|| {
        if std::env::var("TEST_LOG").is_ok() {
            chuangcheng::app::init_logging("text");
        }
    });
}

/// A fresh database of the given backend, migrated; None when PostgreSQL is not configured.
pub async fn fresh_database(backend: Backend, dir: &std::path::Path) -> Option<String> {
    match backend {
        Backend::Sqlite => Some(format!("sqlite://{}?mode=rwc", dir.join("test.db").display())),
        Backend::Postgres => {
            let Ok(server) = std::env::var("CHUANGCHENG_TEST_PG") else {
                if std::env::var("CHUANGCHENG_TEST_PG_REQUIRED").is_ok() {
                    panic!("CHUANGCHENG_TEST_PG_REQUIRED is set but CHUANGCHENG_TEST_PG is not");
                }
                return None;
            };
            let name = format!("cc_test_{}", uuid::Uuid::new_v4().simple());
            let admin = Db::connect(&server, 1).await.expect("connect to CHUANGCHENG_TEST_PG");
            sqlx::query(&format!("CREATE DATABASE {name}")).execute(&admin.pool).await.expect("create test database");
            admin.pool.close().await;
            let base = server.rsplit_once('/').map(|(b, _)| b).unwrap_or(&server).to_string();
            Some(format!("{base}/{name}"))
        }
    }
}

/// Drops a passed test's PostgreSQL database (a failed one stays for a look), so a full run
/// does not leave gigabytes of demo cities on the cluster's disk.
async fn drop_database(url: &str) {
    let Some((_, name)) = url.rsplit_once('/') else { return };
    let Ok(server) = std::env::var("CHUANGCHENG_TEST_PG") else { return };
    if let Ok(admin) = Db::connect(&server, 1).await {
        let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).execute(&admin.pool).await;
        admin.pool.close().await;
    }
}

/// How a test's server starts: on which database, with the demo city or empty.
pub struct AppBuilder {
    backend: Backend,
    demo: bool,
    configure: fn(&mut Config),
}

impl AppBuilder {
    /// The demo city on a fresh database of `backend`.
    pub fn new(backend: Backend) -> AppBuilder {
        AppBuilder { backend, demo: true, configure: |_| {} }
    }

    /// Changes the test configuration before the server starts (HTTPS, a trusted proxy, …).
    pub fn configure(self, configure: fn(&mut Config)) -> AppBuilder {
        AppBuilder { configure, ..self }
    }

    /// Whether the demo city is seeded (an empty platform holds only its first administrator).
    pub fn demo(self, demo: bool) -> AppBuilder {
        AppBuilder { demo, ..self }
    }

    pub fn empty(self) -> AppBuilder {
        self.demo(false)
    }

    /// Starts the real server on a free port; None when PostgreSQL is asked for but not configured.
    pub async fn spawn(self) -> Option<TestApp> {
        init_logs();
        let dir = tempfile::tempdir().expect("tempdir");
        let url = fresh_database(self.backend, dir.path()).await?;
        let mut config = Config::for_tests(dir.path().to_path_buf(), url.clone());
        (self.configure)(&mut config);
        let app = Application::build(config).await.expect("build app");
        let db = app.db().clone();
        if self.demo {
            chuangcheng::demo::seed_if_empty(&db, PW, 1).await.expect("demo city");
        }
        let base = format!("http://{}", app.local_addr());
        tokio::spawn(app.run_until_stopped());
        let dir = std::sync::Arc::new(dir);
        Some(TestApp { base, db, backend: self.backend, database_url: url, dir, configure: self.configure })
    }
}

/// Starts the real server on a fresh database holding the demo city.
pub async fn spawn_app(backend: Backend) -> Option<TestApp> {
    AppBuilder::new(backend).spawn().await
}

impl TestApp {
    /// Runs a test body; the data directory lives until the body ends (it may move the app).
    pub async fn run<F: std::future::Future<Output = ()>>(self, body: impl FnOnce(TestApp) -> F) {
        let keep = self.dir.clone();
        let drop_pg = (self.backend == Backend::Postgres).then(|| self.database_url.clone());
        body(self).await;
        drop(keep);
        if let Some(url) = drop_pg {
            drop_database(&url).await;
        }
    }

    /// Another server instance on the same database (multi-instance tests).
    pub async fn second_instance(&self) -> String {
        let mut config = Config::for_tests(self.dir.path().to_path_buf(), self.database_url.clone());
        (self.configure)(&mut config);
        let app = Application::build(config).await.expect("second instance");
        let base = format!("http://{}", app.local_addr());
        tokio::spawn(app.run_until_stopped());
        base
    }

    pub fn browser(&self) -> Browser {
        Browser::new(&self.base)
    }

    /// A browser signed in as `username` (demo password).
    pub async fn login(&self, username: &str) -> Browser {
        let mut b = self.browser();
        let res = b.login(username, PW).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "login of {username} should redirect");
        b.refresh_csrf().await;
        b
    }

    pub async fn api_login(&self, username: &str) -> Api {
        let api = Api { client: reqwest::Client::new(), base: self.base.clone(), token: String::new() };
        let (status, body) =
            api.post("/api/v1/auth/login", serde_json::json!({"username": username, "password": PW})).await;
        assert_eq!(status, StatusCode::OK, "api login of {username}: {body}");
        Api { token: body["token"].as_str().expect("token").to_string(), ..api }
    }

    pub async fn scalar(&self, sql: &str) -> i64 {
        sqlx::query_scalar::<_, i64>(sql).fetch_one(&self.db.pool).await.expect(sql)
    }

    pub async fn id_of(&self, sql: &str) -> String {
        sqlx::query_scalar::<_, String>(sql).fetch_one(&self.db.pool).await.expect(sql)
    }

    /// Makes problems read as filed at their find (a test cannot file in the past, and a find
    /// entered after its deadline is due from its filing): filed and dispatched at the find, due
    /// when the rules count from the find.
    pub async fn filed_at_find(&self, ids: &[String]) {
        use chuangcheng::domain::problem::{IronRule, Limit, Source, deadline};
        let cal = chuangcheng::service::calendar::load(&self.db).await.expect("calendar");
        for id in ids {
            let (found, source, limit, unit): (i64, String, Option<i64>, Option<String>) = sqlx::query_as(&format!(
                "SELECT q.found_at, q.source, s.time_limit, s.time_unit FROM problems q \
                 LEFT JOIN standard_items s ON s.id = q.standard_item_id WHERE q.id = '{id}'"
            ))
            .fetch_one(&self.db.pool)
            .await
            .expect("problem to move");
            let limit = match (limit, unit.as_deref()) {
                (Some(h), Some("hours")) => Limit::WorkingHours(h),
                (Some(d), _) => Limit::WorkingDays(d as u32),
                (None, _) => Limit::WorkingDays(1),
            };
            let source = Source::parse(&source).expect("source");
            let due = deadline(&cal, IronRule::default(), chuangcheng::domain::time::to_local(found), source, limit);
            sqlx::query(&format!(
                "UPDATE problems SET filed_at = found_at, deadline_at = {}, \
                 dispatched_at = CASE WHEN dispatched_at IS NULL THEN NULL ELSE found_at END WHERE id = '{id}'",
                due.timestamp_millis()
            ))
            .execute(&self.db.pool)
            .await
            .expect("problem filed at its find");
        }
    }

    /// Moves problems back in time by `ms` (a test cannot file in the past): every stored time
    /// of theirs moves together.
    pub async fn move_back(&self, ids: &[String], ms: i64) {
        let list = ids.iter().map(|i| format!("'{i}'")).collect::<Vec<_>>().join(",");
        sqlx::query(&format!(
            "UPDATE problems SET found_at = found_at - {ms}, filed_at = filed_at - {ms}, \
             dispatched_at = dispatched_at - {ms}, deadline_at = deadline_at - {ms}, \
             submitted_at = submitted_at - {ms}, closed_at = closed_at - {ms} WHERE id IN ({list})"
        ))
        .execute(&self.db.pool)
        .await
        .expect("problems moved back");
    }
}

/// A browser with its own cookie jar that does not follow redirects, so tests see them.
pub struct Browser {
    pub client: reqwest::Client,
    pub base: String,
    pub csrf: String,
}

pub fn extract_csrf(html: &str) -> Option<String> {
    let at = html.find("name=\"_csrf\" value=\"")? + "name=\"_csrf\" value=\"".len();
    Some(html[at..].split('"').next()?.to_string())
}

/// The value of a form field (`name="…" value="…"`) in a page.
pub fn field_value(html: &str, name: &str) -> String {
    let key = format!("name=\"{name}\" value=\"");
    let at = html.find(&key).unwrap_or_else(|| panic!("no {name} in page")) + key.len();
    html[at..].split('"').next().unwrap().to_string()
}

impl Browser {
    pub fn new(base: &str) -> Browser {
        let client = reqwest::Client::builder().cookie_store(true).redirect(Policy::none()).build().expect("client");
        Browser { client, base: base.to_string(), csrf: String::new() }
    }

    pub async fn get(&self, path: &str) -> (StatusCode, String) {
        let res = self.client.get(format!("{}{path}", self.base)).send().await.expect("GET");
        let status = res.status();
        (status, res.text().await.unwrap_or_default())
    }

    pub async fn get_raw(&self, path: &str) -> reqwest::Response {
        self.client.get(format!("{}{path}", self.base)).send().await.expect("GET")
    }

    /// Posts a form with this session's CSRF token added.
    pub async fn post(&self, path: &str, fields: &[(&str, &str)]) -> (StatusCode, String, Option<String>) {
        let mut all: Vec<(&str, &str)> = vec![("_csrf", self.csrf.as_str())];
        all.extend_from_slice(fields);
        self.post_raw(path, &all).await
    }

    /// Posts exactly these fields (no CSRF token added).
    pub async fn post_raw(&self, path: &str, fields: &[(&str, &str)]) -> (StatusCode, String, Option<String>) {
        let res = self.client.post(format!("{}{path}", self.base)).form(fields).send().await.expect("POST");
        let status = res.status();
        let location = res.headers().get("location").and_then(|v| v.to_str().ok()).map(str::to_string);
        (status, res.text().await.unwrap_or_default(), location)
    }

    pub async fn login(&mut self, username: &str, password: &str) -> reqwest::Response {
        let (status, html) = self.get("/login").await;
        assert_eq!(status, StatusCode::OK);
        let token = extract_csrf(&html).expect("login form has a CSRF token");
        self.client
            .post(format!("{}/login", self.base))
            .form(&[("_csrf", token.as_str()), ("username", username), ("password", password), ("next", "/")])
            .send()
            .await
            .expect("POST /login")
    }

    pub async fn refresh_csrf(&mut self) {
        let (status, html) = self.get("/account/password").await;
        assert_eq!(status, StatusCode::OK, "signed-in page");
        self.csrf = extract_csrf(&html).expect("page carries the session CSRF token");
    }
}

/// A JSON API client holding a bearer token.
pub struct Api {
    pub client: reqwest::Client,
    pub base: String,
    pub token: String,
}

impl Api {
    async fn send(&self, req: reqwest::RequestBuilder) -> (StatusCode, Value) {
        let req = if self.token.is_empty() { req } else { req.bearer_auth(&self.token) };
        let res = req.send().await.expect("API request");
        let status = res.status();
        let text = res.text().await.unwrap_or_default();
        (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
    }

    pub async fn get(&self, path: &str) -> (StatusCode, Value) {
        self.send(self.client.get(format!("{}{path}", self.base))).await
    }

    pub async fn post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.send(self.client.post(format!("{}{path}", self.base)).json(&body)).await
    }

    pub async fn put(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.send(self.client.put(format!("{}{path}", self.base)).json(&body)).await
    }

    pub async fn delete(&self, path: &str) -> (StatusCode, Value) {
        self.send(self.client.delete(format!("{}{path}", self.base))).await
    }

    /// The row version of a record as `GET path` returns it (every record carries one).
    pub async fn version_of(&self, path: &str) -> i64 {
        let (status, body) = self.get(path).await;
        assert_eq!(status, StatusCode::OK, "GET {path}: {body}");
        let record = if body["problem"].is_object() { &body["problem"] } else { &body };
        record["version"].as_i64().unwrap_or_else(|| panic!("{path} carries its version: {body}"))
    }

    /// Takes an action on a problem as the user sees it now (its current version, as the page
    /// sends it): the status and body, for tests of refusals.
    pub async fn act(&self, id: &str, action: &str, mut body: Value) -> (StatusCode, Value) {
        if body.get("version").is_none() {
            let (_, p) = self.get(&format!("/api/v1/problems/{id}")).await;
            if let Some(v) = p["problem"]["version"].as_i64() {
                body["version"] = v.into();
            }
        }
        self.post(&format!("/api/v1/problems/{id}/actions/{action}"), body).await
    }

    /// Takes an action that must succeed; the problem as it is afterwards.
    pub async fn act_ok(&self, id: &str, action: &str, body: Value) -> Value {
        let (status, p) = self.act(id, action, body).await;
        assert_eq!(status, StatusCode::OK, "{action} on {id}: {p}");
        p
    }

    /// Creates a record that must be created (201); the record.
    pub async fn created(&self, path: &str, body: Value) -> Value {
        let (status, record) = self.post(path, body).await;
        assert_eq!(status, StatusCode::CREATED, "POST {path}: {record}");
        record
    }

    /// Files a problem that must be accepted; the problem.
    pub async fn file_ok(&self, body: Value) -> Value {
        let (status, p) = self.post("/api/v1/problems", crate::fixtures::with_photo(body)).await;
        assert_eq!(status, StatusCode::CREATED, "filing: {p}");
        p
    }
}

/// The ledger total behind a ledger link (/problems?…), read through the API with the same query.
pub async fn ledger_total(api: &Api, href: &str) -> i64 {
    let query = href.strip_prefix("/problems").unwrap_or_else(|| panic!("a ledger link: {href}"));
    let (status, page) = api.get(&format!("/api/v1/problems{query}")).await;
    assert_eq!(status, StatusCode::OK, "{href}: {page}");
    page["total"].as_i64().unwrap()
}

/// The field errors of a JSON validation failure, as (field, code) pairs.
pub fn field_codes(body: &Value) -> Vec<(String, String)> {
    body["error"]["fields"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|f| (f["field"].as_str().unwrap_or("").to_string(), f["code"].as_str().unwrap_or("").to_string()))
                .collect()
        })
        .unwrap_or_default()
}

/// The cells of every sheet of an .xlsx download, typed as Excel holds them (numbers stay numbers).
pub async fn xlsx_sheets(res: reqwest::Response) -> Vec<(String, Vec<Vec<calamine::Data>>)> {
    use calamine::{Reader, Xlsx};
    assert_eq!(res.status(), StatusCode::OK, "an Excel download");
    let bytes = res.bytes().await.unwrap().to_vec();
    let mut wb: Xlsx<_> = Xlsx::new(std::io::Cursor::new(bytes)).expect("a real .xlsx file");
    let names = wb.sheet_names().to_vec();
    names
        .into_iter()
        .map(|n| {
            let range = wb.worksheet_range(&n).expect("a sheet");
            (n, range.rows().map(|r| r.to_vec()).collect())
        })
        .collect()
}

/// A cell that Excel holds as a number (not as text), and its value.
pub fn number(cell: &calamine::Data) -> f64 {
    match cell {
        calamine::Data::Float(v) => *v,
        calamine::Data::Int(v) => *v as f64,
        other => panic!("expected a number cell, found {other:?}"),
    }
}

/// The first sheet of an .xlsx file as text.
pub fn xlsx_rows(bytes: &[u8]) -> Vec<Vec<String>> {
    use calamine::Reader;
    let mut wb: calamine::Xlsx<_> =
        calamine::Xlsx::new(std::io::Cursor::new(bytes.to_vec())).expect("a real .xlsx file");
    let sheet = wb.sheet_names()[0].clone();
    let range = wb.worksheet_range(&sheet).expect("first sheet");
    range.rows().map(|r| r.iter().map(|c| c.to_string()).collect()).collect()
}
