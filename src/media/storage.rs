//! Where photo files live. Local disk under the data directory by default; the same interface
//! will carry an object store (S3) behind a cargo feature for multi-instance deployments.

use std::path::{Component, Path, PathBuf};

#[derive(Debug, Clone)]
pub enum Storage {
    Local(PathBuf),
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
        }
    }

    pub async fn get(&self, key: &str) -> std::io::Result<Vec<u8>> {
        match self {
            Storage::Local(root) => tokio::fs::read(root.join(safe_key(key)?)).await,
        }
    }

    pub async fn delete(&self, key: &str) -> std::io::Result<()> {
        match self {
            Storage::Local(root) => match tokio::fs::remove_file(root.join(safe_key(key)?)).await {
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
                other => other,
            },
        }
    }
}
