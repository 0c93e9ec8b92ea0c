//! Settings, layered: built-in defaults → TOML file → `CHUANGCHENG_*` environment → command-line flags.

use anyhow::Context;
use serde::Deserialize;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Deserialize)]
pub struct Config {
    /// Address to listen on, e.g. 127.0.0.1:8080 (port 0 picks a free port).
    pub addr: String,
    /// Where the SQLite database and uploaded files live.
    pub data_dir: PathBuf,
    /// sqlite://… or postgres://…; empty means SQLite in `data_dir`.
    #[serde(default)]
    pub database_url: String,
    pub db_max_connections: u32,
    /// Web session lifetime in hours.
    pub session_hours: i64,
    /// API bearer token lifetime in hours.
    pub api_token_hours: i64,
    /// "text" or "json".
    pub log_format: String,
    /// Mark cookies Secure (set when served over HTTPS).
    pub secure_cookies: bool,
    /// Optional intranet tile server, e.g. http://tiles.example/{z}/{x}/{y}.png; empty = no tiles.
    #[serde(default)]
    pub map_tile_url: String,
    /// Coordinate system of those tiles: "gcj02" (most Chinese providers) or "wgs84".
    #[serde(default = "default_tile_crs")]
    pub map_tile_crs: String,
    /// Address people use to reach this server, for links in chat messages; empty = http://addr.
    #[serde(default)]
    pub public_url: String,
    /// How often background jobs (reminders, overdue alerts, webhook delivery) run.
    #[serde(default = "default_jobs_interval")]
    pub jobs_interval_ms: u64,
    /// How often the background jobs rebuild the kept figures of closed weeks (scores) and of
    /// the last two months' days (KPIs) that a change forgot (0 = never; readers then rebuild
    /// them in their requests).
    #[serde(default = "default_keep_weeks_interval")]
    pub keep_weeks_interval_ms: u64,
    /// First retry delay of a failed webhook delivery; it doubles each time (capped at an hour).
    #[serde(default = "default_backoff")]
    pub webhook_backoff_ms: i64,
    /// Deliveries give up (and show as failed) after this many attempts.
    #[serde(default = "default_attempts")]
    pub webhook_max_attempts: i64,
    /// A reminder goes out this long before a deadline.
    #[serde(default = "default_reminder")]
    pub reminder_minutes: i64,
    /// Addresses of the reverse proxies in front of this server (e.g. ["10.0.0.5"]): only a
    /// request from one of them may name its client in X-Forwarded-For. Empty: the socket's
    /// address is the client.
    #[serde(default)]
    pub trusted_proxies: Vec<String>,
    /// Hosts (names or addresses) that group-chat robots may use although they are inside
    /// addresses, e.g. an intranet chat server. Empty: public addresses only.
    #[serde(default)]
    pub webhook_allow_hosts: Vec<String>,
    /// Administrators must sign in with a second step (an authenticator app's code). Unset:
    /// required by `serve`, not by `demo` (which says so when it starts).
    #[serde(default)]
    pub admin_two_step: Option<bool>,
    /// The text-message gateway reporters are asked through ("解决了吗？满意吗？"): an HTTP
    /// address that takes POST {"phone", "text"} as JSON. Empty: no text messages are sent (the
    /// reporter is asked on the status page only).
    #[serde(default)]
    pub sms_url: String,
    /// With no gateway (`sms_url` empty), a verification code sent is also shown on the page
    /// that asked for it, marked as the demo's: `demo` sets it, so that a survey or a vote can
    /// be tried through. Never for a real city: the code proves the phone.
    #[serde(default)]
    pub sms_show_codes: bool,
    /// Requests one client may make to the public pages and Open311 per minute (then 429).
    #[serde(default = "default_public_rate")]
    pub public_per_minute: u32,
    /// Reports (随手拍 and Open311) one client may send per hour.
    #[serde(default = "default_reports_rate")]
    pub reports_per_hour: u32,
    /// A volunteer's scan this many seconds or less after signing in is the same scan again
    /// (a double tap), not a sign-out.
    #[serde(default = "default_repeat_scan")]
    pub volunteer_repeat_scan_seconds: u32,
    /// The bearer token operators' Prometheus sends to read `/metrics`. Empty: `/metrics`
    /// answers only requests from this machine (loopback) that came through no proxy.
    #[serde(default)]
    pub metrics_token: String,
    /// Where photos and documents are kept: `local` (the data directory; one instance) or `s3`
    /// (an S3-compatible object store shared by several instances; needs the `s3` build).
    #[serde(default)]
    pub storage: String,
    /// The object store's address, e.g. `http://minio.intranet:9000` (empty: Amazon S3).
    #[serde(default)]
    pub s3_endpoint: String,
    #[serde(default)]
    pub s3_bucket: String,
    #[serde(default)]
    pub s3_region: String,
    #[serde(default)]
    pub s3_access_key_id: String,
    #[serde(default)]
    pub s3_secret_access_key: String,
}

fn default_public_rate() -> u32 {
    120
}

fn default_reports_rate() -> u32 {
    10
}

fn default_repeat_scan() -> u32 {
    300
}

fn default_jobs_interval() -> u64 {
    10_000
}

fn default_keep_weeks_interval() -> u64 {
    60_000
}

fn default_backoff() -> i64 {
    30_000
}

fn default_attempts() -> i64 {
    8
}

fn default_reminder() -> i64 {
    60
}

fn default_tile_crs() -> String {
    "gcj02".into()
}

impl Config {
    /// A demo without a text gateway: verification codes are shown on the page that asked.
    pub fn shows_sms_codes(&self) -> bool {
        self.sms_show_codes && self.sms_url.trim().is_empty()
    }

    /// Reads defaults, then `file` (or ./chuangcheng.toml when present), then the environment.
    pub fn load(file: Option<&Path>) -> anyhow::Result<Config> {
        let mut b = config::Config::builder()
            .set_default("addr", "127.0.0.1:8080")?
            .set_default("data_dir", "./data")?
            .set_default("database_url", "")?
            .set_default("db_max_connections", 16)?
            .set_default("session_hours", 12)?
            .set_default("api_token_hours", 24)?
            .set_default("log_format", "text")?
            .set_default("secure_cookies", false)?;
        b = match file {
            Some(f) => b.add_source(config::File::from(f).required(true)),
            None => b.add_source(config::File::with_name("chuangcheng.toml").required(false)),
        };
        b = b.add_source(config::Environment::with_prefix("CHUANGCHENG").try_parsing(true));
        let cfg: Config = b.build()?.try_deserialize().context("配置有误（config is invalid）")?;
        Ok(cfg)
    }

    /// The database URL in force: the configured one, or SQLite inside the data directory.
    pub fn database_url(&self) -> String {
        if self.database_url.trim().is_empty() {
            format!("sqlite://{}?mode=rwc", self.data_dir.join("chuangcheng.db").display())
        } else {
            self.database_url.trim().to_string()
        }
    }

    /// A configuration for tests and benchmarks: a free port, everything else default.
    pub fn for_tests(data_dir: PathBuf, database_url: String) -> Config {
        Config {
            addr: "127.0.0.1:0".into(),
            data_dir,
            database_url,
            db_max_connections: 8,
            session_hours: 12,
            api_token_hours: 24,
            log_format: "text".into(),
            secure_cookies: false,
            map_tile_url: String::new(),
            map_tile_crs: default_tile_crs(),
            public_url: String::new(),
            jobs_interval_ms: 200,
            // Tests that keep weeks say when (tests/api/scoring.rs calls the job's step).
            keep_weeks_interval_ms: 0,
            webhook_backoff_ms: 100,
            webhook_max_attempts: 3,
            reminder_minutes: default_reminder(),
            trusted_proxies: Vec::new(),
            // The tests' robot is a real HTTP server on loopback.
            webhook_allow_hosts: vec!["127.0.0.1".into(), "localhost".into()],
            // Tests that sign in as the office say it themselves (see tests/api/two_step.rs).
            admin_two_step: Some(false),
            sms_url: String::new(),
            sms_show_codes: false,
            // Tests send many requests from one address; the limits' own tests lower these.
            public_per_minute: 100_000,
            reports_per_hour: 1_000,
            volunteer_repeat_scan_seconds: default_repeat_scan(),
            metrics_token: String::new(),
            storage: String::new(),
            s3_endpoint: String::new(),
            s3_bucket: String::new(),
            s3_region: String::new(),
            s3_access_key_id: String::new(),
            s3_secret_access_key: String::new(),
        }
    }

    /// Whether maps show GCJ-02 positions (tiles are configured and are not WGS-84): positions
    /// are converted for display and back from a tap on the map.
    pub fn gcj_display(&self) -> bool {
        !self.map_tile_url.trim().is_empty() && self.map_tile_crs != "wgs84"
    }

    /// Whether administrators must use two-step sign-in.
    pub fn admins_two_step(&self) -> bool {
        self.admin_two_step.unwrap_or(true)
    }
}
