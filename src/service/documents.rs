//! Documents units hand in as evidence (网上申报 materials, 文明单位 applications): a bounded
//! number and size per submission, each file recognised by its bytes off the async threads, and
//! nothing stored unless every file is acceptable.

use crate::domain::code::Code;
use crate::domain::ids::new_id;
use crate::domain::validate::FieldErrors;
use crate::error::{AppError, AppResult};
use crate::media::storage::Storage;

/// At most this many files per submission, and this many bytes together.
pub const MAX_FILES: usize = 10;
pub const MAX_TOTAL: usize = 40 * 1024 * 1024;

/// A file as stored: the caller writes its row.
pub struct Stored {
    pub id: String,
    pub filename: String,
    pub kind: String,
    pub size: i64,
    pub storage_key: String,
}

/// The submission's count and total size, as field errors of `files`.
pub fn check_counts(e: &mut FieldErrors, files: &[(String, Vec<u8>)]) {
    if files.len() > MAX_FILES {
        e.add("files", Code::TooMany, format!("每次最多上传{MAX_FILES}个文件"));
    }
    if files.iter().map(|f| f.1.len()).sum::<usize>() > MAX_TOTAL {
        e.add("files", Code::FileTooLarge, "本次上传的文件合计超过40MB，请压缩后上传");
    }
}

/// Checks each file by its bytes (off the async threads), then stores every one under
/// `{prefix}/{id}`; a single unacceptable file refuses them all before anything is stored.
pub async fn store(storage: &Storage, prefix: &str, files: Vec<(String, Vec<u8>)>) -> AppResult<Vec<Stored>> {
    let checked = tokio::task::spawn_blocking(move || {
        files
            .into_iter()
            .map(|(name, bytes)| crate::media::document_kind(&name, &bytes).map(|k| (name, k, bytes)))
            .collect::<Result<Vec<_>, String>>()
    })
    .await
    .map_err(|e| AppError::Internal(e.into()))?
    .map_err(|m| AppError::field("files", Code::UnsupportedFile, m))?;
    let (mut stored, mut files) = (Vec::new(), crate::media::storage::Unkept::new(storage));
    for (name, kind, bytes) in checked {
        let id = new_id();
        let storage_key = format!("{prefix}/{id}");
        storage.put(&storage_key, &bytes).await.map_err(|e| AppError::Internal(e.into()))?;
        // A file that cannot be stored refuses them all: the ones stored before it go.
        files.add_key(&storage_key);
        let filename: String = name.chars().filter(|c| !c.is_control() && *c != '/' && *c != '\\').take(120).collect();
        stored.push(Stored {
            id,
            filename: if filename.is_empty() { "未命名".into() } else { filename },
            kind: kind.into(),
            size: bytes.len() as i64,
            storage_key,
        });
    }
    // From here the caller's write decides.
    files.keep();
    Ok(stored)
}
