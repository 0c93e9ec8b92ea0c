//! Where photos and documents live: the local disk under the data directory (one instance), or
//! an S3-compatible object store (MinIO, a cloud's OSS/COS, …) that several instances share,
//! built with the cargo feature `s3` and chosen by `storage = "s3"` in the configuration.

use std::path::{Component, Path, PathBuf};

#[derive(Debug, Clone)]
pub enum Storage {
    Local(PathBuf),
    #[cfg(feature = "s3")]
    S3(std::sync::Arc<dyn object_store::ObjectStore>),
}

impl Storage {
    /// The store the configuration names: `local` (default) or `s3` with its endpoint, bucket
    /// and keys.
    pub fn from_config(config: &crate::config::Config) -> anyhow::Result<Storage> {
        match config.storage.trim() {
            "" | "local" => Ok(Storage::Local(config.data_dir.join("media"))),
            "s3" => s3(config),
            other => anyhow::bail!("不支持的文件存储 storage = \"{other}\"（应为 local 或 s3）"),
        }
    }
}

#[cfg(feature = "s3")]
fn s3(config: &crate::config::Config) -> anyhow::Result<Storage> {
    use anyhow::Context;
    anyhow::ensure!(!config.s3_bucket.trim().is_empty(), "使用对象存储时须配置 s3_bucket（存储桶名称）");
    // The S3 client's TLS runs on ring; installed once per process (a second call finds it set).
    let _ = rustls::crypto::ring::default_provider().install_default();
    let endpoint = config.s3_endpoint.trim();
    let mut b = object_store::aws::AmazonS3Builder::new()
        .with_bucket_name(config.s3_bucket.trim())
        .with_region(if config.s3_region.trim().is_empty() { "us-east-1" } else { config.s3_region.trim() })
        .with_access_key_id(config.s3_access_key_id.trim())
        .with_secret_access_key(config.s3_secret_access_key.trim());
    if !endpoint.is_empty() {
        // An intranet object store (MinIO and the like) is addressed by path, often over HTTP.
        b = b.with_endpoint(endpoint).with_allow_http(endpoint.starts_with("http://"));
    }
    let store = b.build().context("对象存储配置有误")?;
    Ok(Storage::S3(std::sync::Arc::new(store)))
}

#[cfg(not(feature = "s3"))]
fn s3(_config: &crate::config::Config) -> anyhow::Result<Storage> {
    anyhow::bail!("此程序构建时未包含对象存储（S3）支持：请用 cargo build --release --features s3 重新构建")
}

#[cfg(feature = "s3")]
fn object_path(key: &str) -> std::io::Result<object_store::path::Path> {
    safe_key(key)?;
    object_store::path::Path::parse(key).map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))
}

/// Deletes files older than `cutoff` below `dir`, then `dir`'s empty subfolders.
fn prune_dir(dir: &Path, cutoff: std::time::SystemTime) -> std::io::Result<usize> {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
        Err(e) => return Err(e),
    };
    let mut gone = 0;
    for entry in entries {
        let entry = entry?;
        let meta = entry.metadata()?;
        if meta.is_dir() {
            gone += prune_dir(&entry.path(), cutoff)?;
            // Only an empty folder goes; one still in use keeps its files.
            let _ = std::fs::remove_dir(entry.path());
        } else if meta.modified()? < cutoff {
            std::fs::remove_file(entry.path())?;
            gone += 1;
        }
    }
    Ok(gone)
}

fn safe_key(key: &str) -> std::io::Result<&Path> {
    let p = Path::new(key);
    if p.components().all(|c| matches!(c, Component::Normal(_))) {
        Ok(p)
    } else {
        Err(std::io::Error::new(std::io::ErrorKind::InvalidInput, "bad storage key"))
    }
}

impl Storage {
    /// Writes atomically (temporary file, then rename), so a crash never leaves half a photo.
    pub async fn put(&self, key: &str, bytes: &[u8]) -> std::io::Result<()> {
        match self {
            Storage::Local(root) => {
                let path = root.join(safe_key(key)?);
                if let Some(dir) = path.parent() {
                    tokio::fs::create_dir_all(dir).await?;
                }
                let tmp = path.with_extension("part");
                tokio::fs::write(&tmp, bytes).await?;
                tokio::fs::rename(&tmp, &path).await
            }
            // An object appears whole or not at all.
            #[cfg(feature = "s3")]
            Storage::S3(store) => {
                use object_store::ObjectStoreExt;
                store.put(&object_path(key)?, bytes.to_vec().into()).await.map(|_| ()).map_err(std::io::Error::from)
            }
        }
    }

    pub async fn get(&self, key: &str) -> std::io::Result<Vec<u8>> {
        match self {
            Storage::Local(root) => tokio::fs::read(root.join(safe_key(key)?)).await,
            #[cfg(feature = "s3")]
            Storage::S3(store) => {
                use object_store::ObjectStoreExt;
                let got = store.get(&object_path(key)?).await.map_err(std::io::Error::from)?;
                got.bytes().await.map(|b| b.to_vec()).map_err(std::io::Error::from)
            }
        }
    }

    /// Removes the files under `prefix` last written before `older_than` ago (and the folders
    /// left empty); returns how many files went. Used for abandoned draft photos.
    pub async fn prune(&self, prefix: &str, older_than: std::time::Duration) -> std::io::Result<usize> {
        match self {
            Storage::Local(root) => {
                let dir = root.join(safe_key(prefix)?);
                tokio::task::spawn_blocking(move || {
                    let cutoff = std::time::SystemTime::now() - older_than;
                    prune_dir(&dir, cutoff)
                })
                .await
                .map_err(std::io::Error::other)?
            }
            #[cfg(feature = "s3")]
            Storage::S3(store) => {
                use futures::StreamExt;
                use object_store::ObjectStoreExt;
                let cutoff = chrono::Utc::now()
                    - chrono::TimeDelta::from_std(older_than).unwrap_or(chrono::TimeDelta::days(36_500));
                let prefix = object_path(prefix)?;
                let mut listed = store.list(Some(&prefix));
                let mut gone = 0;
                while let Some(meta) = listed.next().await {
                    let meta = meta.map_err(std::io::Error::from)?;
                    if meta.last_modified < cutoff {
                        store.delete(&meta.location).await.map_err(std::io::Error::from)?;
                        gone += 1;
                    }
                }
                Ok(gone)
            }
        }
    }

    pub async fn delete(&self, key: &str) -> std::io::Result<()> {
        match self {
            Storage::Local(root) => match tokio::fs::remove_file(root.join(safe_key(key)?)).await {
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
                other => other,
            },
            #[cfg(feature = "s3")]
            Storage::S3(store) => {
                use object_store::ObjectStoreExt;
                match store.delete(&object_path(key)?).await {
                    Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
                    Err(e) => Err(e.into()),
                }
            }
        }
    }
}

/// Files stored ahead of the write that records them (photos, documents). Dropped without
/// `keep` (the write was refused or failed before its commit), it removes them, so a refused
/// request leaves nothing behind in storage. Removal is best effort and runs just after the
/// answer: a file left over only costs space.
pub struct Unkept {
    storage: Storage,
    keys: Vec<String>,
}

impl Unkept {
    pub fn new(storage: &Storage) -> Unkept {
        Unkept { storage: storage.clone(), keys: Vec::new() }
    }

    pub fn add_key(&mut self, key: &str) {
        self.keys.push(key.to_string());
    }

    /// The files are recorded (or may be: a commit whose outcome is unknown keeps them).
    pub fn keep(mut self) {
        self.keys.clear();
    }
}

impl Drop for Unkept {
    fn drop(&mut self) {
        if self.keys.is_empty() {
            return;
        }
        let (storage, keys) = (self.storage.clone(), std::mem::take(&mut self.keys));
        let Ok(runtime) = tokio::runtime::Handle::try_current() else { return };
        runtime.spawn(async move {
            for key in keys {
                if let Err(e) = storage.delete(&key).await {
                    tracing::warn!(error = %e, key, "could not remove a file that was not kept");
                }
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn abandoned_drafts_are_pruned_and_fresh_ones_kept() {
        let root = std::env::temp_dir().join(format!("storage-{}", uuid::Uuid::now_v7()));
        let s = Storage::Local(root.clone());
        s.put("drafts/u1/old/0", b"old").await.unwrap();
        s.put("drafts/u1/new/0", b"new").await.unwrap();
        s.put("photos/keep", b"photo").await.unwrap();
        let two_days_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(2 * 86_400);
        std::fs::File::options()
            .write(true)
            .open(root.join("drafts/u1/old/0"))
            .unwrap()
            .set_modified(two_days_ago)
            .unwrap();
        let gone = s.prune("drafts", std::time::Duration::from_secs(86_400)).await.unwrap();
        assert_eq!(gone, 1);
        assert!(!root.join("drafts/u1/old").exists(), "the emptied folder goes too");
        assert_eq!(s.get("drafts/u1/new/0").await.unwrap(), b"new");
        assert_eq!(s.get("photos/keep").await.unwrap(), b"photo", "nothing outside the prefix");
        assert_eq!(s.prune("nothing-here", std::time::Duration::from_secs(1)).await.unwrap(), 0);
        let _ = std::fs::remove_dir_all(root);
    }

    #[tokio::test]
    async fn files_not_kept_are_removed_and_kept_ones_stay() {
        let root = std::env::temp_dir().join(format!("storage-{}", uuid::Uuid::now_v7()));
        let s = Storage::Local(root.clone());
        for key in ["photos/refused", "photos/refused.thumb", "photos/kept"] {
            s.put(key, b"bytes").await.unwrap();
        }
        let mut refused = Unkept::new(&s);
        refused.add_key("photos/refused");
        refused.add_key("photos/refused.thumb");
        drop(refused);
        let mut kept = Unkept::new(&s);
        kept.add_key("photos/kept");
        kept.keep();
        // The removal runs on the runtime just after the drop.
        for _ in 0..100 {
            if !root.join("photos/refused").exists() && !root.join("photos/refused.thumb").exists() {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        assert!(!root.join("photos/refused").exists() && !root.join("photos/refused.thumb").exists());
        assert_eq!(s.get("photos/kept").await.unwrap(), b"bytes");
        let _ = std::fs::remove_dir_all(root);
    }
}
