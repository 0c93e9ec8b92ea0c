//! Where photo files live. Local disk under the data directory by default; the same interface
//! will carry an object store (S3) behind a cargo feature for multi-instance deployments.

use std::path::{Component, Path, PathBuf};

#[derive(Debug, Clone)]
pub enum Storage {
    Local(PathBuf),
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
        }
    }

    pub async fn get(&self, key: &str) -> std::io::Result<Vec<u8>> {
        match self {
            Storage::Local(root) => tokio::fs::read(root.join(safe_key(key)?)).await,
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
}
