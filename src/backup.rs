//! `chuangcheng backup` and `chuangcheng restore`: the database (SQLite `VACUUM INTO`, a
//! consistent online copy; PostgreSQL `pg_dump` in its custom format) and the photo files, in
//! one folder with a manifest of what it holds. A restore replaces the city only when told to,
//! in one transaction on PostgreSQL, and then checks the restored counts against the manifest.
//!
//! The database is copied before the photos: a photo's file is written before its row, so every
//! photo row in the copy has its file (a file newer than the copy is harmless).

use crate::config::Config;
use crate::store::{Backend, Db};
use anyhow::{Context, bail};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The tables whose row counts a backup records and a restore must give back.
const COUNTED: [&str; 10] = [
    "users",
    "units",
    "points",
    "problems",
    "problem_events",
    "photos",
    "audit_log",
    "notices",
    "score_schemes",
    "grids",
];

const SQLITE_FILE: &str = "chuangcheng.db";
const PG_FILE: &str = "database.pgdump";
const MANIFEST: &str = "manifest.json";

#[derive(Debug, Serialize, Deserialize, PartialEq)]
pub struct Manifest {
    pub format: u32,
    /// sqlite or postgres
    pub backend: String,
    pub created_at: String,
    pub counts: BTreeMap<String, i64>,
    pub media_files: u64,
}

fn backend_name(b: Backend) -> &'static str {
    match b {
        Backend::Sqlite => "sqlite",
        Backend::Postgres => "postgres",
    }
}

async fn counts(db: &Db) -> anyhow::Result<BTreeMap<String, i64>> {
    let mut out = BTreeMap::new();
    for t in COUNTED {
        let n: i64 = sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {t}")).fetch_one(&db.pool).await?;
        out.insert(t.to_string(), n);
    }
    Ok(out)
}

fn media_dir(config: &Config) -> PathBuf {
    config.data_dir.join("media")
}

/// Writes a backup of the configured city into `out` (a new or empty folder).
pub async fn backup(config: &Config, out: &Path) -> anyhow::Result<Manifest> {
    if out.exists() && std::fs::read_dir(out)?.next().is_some() {
        bail!("备份目录 {} 不是空的，请指定新的目录 / the backup folder must be new or empty", out.display());
    }
    std::fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))?;
    let url = config.database_url();
    let db = Db::connect(&url, 2).await?;
    let counts = counts(&db).await?;
    match db.backend {
        Backend::Sqlite => {
            let target = out.join(SQLITE_FILE);
            let quoted = target.to_str().context("backup path is not UTF-8")?.replace('\'', "''");
            sqlx::query(&format!("VACUUM INTO '{quoted}'")).execute(&db.pool).await.context("VACUUM INTO")?;
        }
        Backend::Postgres => {
            let file = out.join(PG_FILE);
            let status = tokio::process::Command::new(pg_tool("pg_dump")?)
                .args(["--format=custom", "--no-owner", "--no-privileges", "--file"])
                .arg(&file)
                .arg("--dbname")
                .arg(&url)
                .status()
                .await
                .context("cannot run pg_dump")?;
            if !status.success() {
                bail!("pg_dump 失败 / pg_dump failed ({status})");
            }
        }
    }
    let backend = backend_name(db.backend);
    db.close().await;
    let media_files = copy_tree(media_dir(config), out.join("media")).await?;
    let manifest = Manifest {
        format: 1,
        backend: backend.into(),
        created_at: crate::domain::time::fmt_local(crate::domain::time::now_ms()),
        counts,
        media_files,
    };
    std::fs::write(out.join(MANIFEST), serde_json::to_vec_pretty(&manifest)?)?;
    Ok(manifest)
}

/// Restores the backup in `from` over the configured database and data folder. The server must
/// be stopped. A database that already holds a city is replaced only with `force`.
pub async fn restore(config: &Config, from: &Path, force: bool) -> anyhow::Result<Manifest> {
    let manifest: Manifest = serde_json::from_slice(
        &std::fs::read(from.join(MANIFEST))
            .with_context(|| format!("{} 不是备份目录（缺少manifest.json）", from.display()))?,
    )?;
    let url = config.database_url();
    let db = Db::connect(&url, 2).await?;
    if backend_name(db.backend) != manifest.backend {
        bail!("备份来自{}数据库，不能恢复到{}数据库", manifest.backend, backend_name(db.backend));
    }
    let occupied: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users").fetch_one(&db.pool).await.unwrap_or(0);
    if occupied > 0 && !force {
        bail!(
            "目标数据库已有数据（{occupied}个账号）；确认用备份覆盖请加 --force / the database is not empty: add --force"
        );
    }
    match db.backend {
        Backend::Sqlite => {
            db.close().await;
            let path = sqlite_path(&url)?;
            for suffix in ["", "-wal", "-shm"] {
                let p = PathBuf::from(format!("{}{suffix}", path.display()));
                // The last connection closing may remove its -wal and -shm files itself meanwhile.
                match std::fs::remove_file(&p) {
                    Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                        return Err(anyhow::Error::new(e).context(format!("cannot remove {}", p.display())));
                    }
                    _ => {}
                }
            }
            std::fs::copy(from.join(SQLITE_FILE), &path).context("cannot copy the database back")?;
        }
        Backend::Postgres => {
            db.close().await;
            let status = tokio::process::Command::new(pg_tool("pg_restore")?)
                .args([
                    "--clean",
                    "--if-exists",
                    "--no-owner",
                    "--no-privileges",
                    "--single-transaction",
                    "--exit-on-error",
                ])
                .arg("--dbname")
                .arg(&url)
                .arg(from.join(PG_FILE))
                .status()
                .await
                .context("cannot run pg_restore")?;
            if !status.success() {
                bail!("pg_restore 失败，数据库未改变 / pg_restore failed, nothing was changed ({status})");
            }
        }
    }
    let media = media_dir(config);
    let old = config.data_dir.join(format!("media.before-restore-{}", crate::domain::time::now_ms()));
    if media.exists() {
        std::fs::rename(&media, &old).context("cannot move the current photos aside")?;
    }
    let media_files = copy_tree(from.join("media"), media).await?;
    let db = Db::connect(&url, 2).await?;
    let restored = counts(&db).await?;
    db.close().await;
    if restored != manifest.counts || media_files != manifest.media_files {
        bail!("恢复后的数据与备份清单不一致 / restored counts differ: {restored:?} vs {:?}", manifest.counts);
    }
    if old.exists() {
        std::fs::remove_dir_all(&old).ok();
    }
    Ok(manifest)
}

fn sqlite_path(url: &str) -> anyhow::Result<PathBuf> {
    let rest = url.trim_start_matches("sqlite://").trim_start_matches("sqlite:");
    let path = rest.split('?').next().unwrap_or_default();
    if path.is_empty() || path == ":memory:" {
        bail!("SQLite数据库地址没有文件路径: {url}");
    }
    Ok(PathBuf::from(path))
}

/// A PostgreSQL client tool: on the PATH, or in the newest /usr/lib/postgresql/*/bin.
fn pg_tool(name: &str) -> anyhow::Result<PathBuf> {
    if let Some(paths) = std::env::var_os("PATH") {
        for dir in std::env::split_paths(&paths) {
            let p = dir.join(name);
            if p.is_file() {
                return Ok(p);
            }
        }
    }
    let mut found: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path().join("bin").join(name))
        .filter(|p| p.is_file())
        .collect();
    found.sort();
    found.pop().with_context(|| format!("找不到 {name}（请安装 postgresql-client）"))
}

/// Copies a folder tree (absent: nothing); the number of files copied.
async fn copy_tree(from: PathBuf, to: PathBuf) -> anyhow::Result<u64> {
    tokio::task::spawn_blocking(move || {
        fn walk(from: &Path, to: &Path, n: &mut u64) -> std::io::Result<()> {
            if !from.exists() {
                return Ok(());
            }
            std::fs::create_dir_all(to)?;
            for entry in std::fs::read_dir(from)? {
                let entry = entry?;
                let target = to.join(entry.file_name());
                if entry.file_type()?.is_dir() {
                    walk(&entry.path(), &target, n)?;
                } else if entry.file_type()?.is_file() {
                    std::fs::copy(entry.path(), &target)?;
                    *n += 1;
                }
            }
            Ok(())
        }
        let mut n = 0;
        walk(&from, &to, &mut n).map(|_| n)
    })
    .await?
    .context("cannot copy the photo files")
}
