//! Builds the whole application the same way for `serve`, `demo` and the tests.

use crate::config::Config;
use crate::store::{Db, redact, sessions};
use crate::web::{self, AppState};
use anyhow::Context;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;

pub struct Application {
    listener: TcpListener,
    state: AppState,
}

/// Opens (and migrates) the configured database.
pub async fn open_db(config: &Config) -> anyhow::Result<Db> {
    std::fs::create_dir_all(&config.data_dir)
        .with_context(|| format!("cannot create data directory {}", config.data_dir.display()))?;
    let url = config.database_url();
    let db = Db::connect(&url, config.db_max_connections).await?;
    db.migrate().await?;
    crate::service::calendar::install_shipped(&db).await.context("cannot install the shipped calendar")?;
    crate::service::scoring::install_defaults(&db).await.context("cannot install the default scoring rules")?;
    let indexed = crate::store::problems::backfill_search(&db).await.context("cannot index problems for search")?;
    if indexed > 0 {
        tracing::info!(indexed, "problems indexed for keyword search");
    }
    crate::service::standards::install_default(&db).await.context("cannot install the default standard catalogue")?;
    crate::service::evaluations::install_default(&db).await.context("cannot install the default evaluation system")?;
    tracing::info!(database = %redact(&url), backend = db.backend.name(), "database ready");
    Ok(db)
}

impl Application {
    pub async fn build(config: Config) -> anyhow::Result<Application> {
        let db = open_db(&config).await?;
        Self::with_db(config, db).await
    }

    pub async fn with_db(config: Config, db: Db) -> anyhow::Result<Application> {
        let listener =
            TcpListener::bind(&config.addr).await.with_context(|| format!("cannot listen on {}", config.addr))?;
        let storage = crate::media::storage::Storage::from_config(&config)?;
        let ratings = crate::service::ratings::Intake::start(db.clone());
        let state = AppState {
            db,
            config: Arc::new(config),
            storage,
            public: Default::default(),
            ratings,
            metrics: Default::default(),
        };
        Ok(Application { listener, state })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener.local_addr().expect("a bound listener has an address")
    }

    pub fn db(&self) -> &Db {
        &self.state.db
    }

    /// Serves until SIGTERM or Ctrl-C, letting requests in flight finish.
    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        self.run_with_shutdown(shutdown_signal()).await
    }

    pub async fn run_with_shutdown(self, shutdown: impl Future<Output = ()> + Send + 'static) -> anyhow::Result<()> {
        spawn_housekeeping(self.state.db.clone());
        let base_url = match self.state.config.public_url.trim() {
            "" => format!("http://{}", self.local_addr()),
            url => url.trim_end_matches('/').to_string(),
        };
        crate::jobs::spawn(
            self.state.db.clone(),
            self.state.config.clone(),
            base_url,
            self.state.storage.clone(),
            self.state.metrics.clone(),
        );
        let router = web::router(self.state);
        axum::serve(self.listener, router.into_make_service_with_connect_info::<SocketAddr>())
            .with_graceful_shutdown(shutdown)
            .await
            .context("server error")?;
        tracing::info!("server stopped");
        Ok(())
    }
}

/// Hourly clean-up of expired sessions. Safe to run on every instance at once: it is one
/// idempotent DELETE.
fn spawn_housekeeping(db: Db) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(3600));
        loop {
            tick.tick().await;
            match sessions::purge_expired(&db, crate::domain::time::now_ms()).await {
                Ok(n) if n > 0 => tracing::info!(purged = n, "expired sessions removed"),
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "session purge failed"),
            }
            if let Err(e) = crate::store::two_step::purge_challenges(&db, crate::domain::time::now_ms()).await {
                tracing::warn!(error = %e, "login challenge purge failed");
            }
        }
    });
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutdown signal received, finishing requests in flight");
}

pub fn init_logging(format: &str) {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_target(false);
    let _ = if format == "json" { builder.json().try_init() } else { builder.try_init() };
}
