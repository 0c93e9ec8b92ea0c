//! Point photos: upload (multipart, up to 20 MB), original and thumbnail, delete.

use crate::error::AppError;
use crate::service::photos as svc;
use crate::web::auth::{CsrfForm, CsrfMultipart, PageUser};
use crate::web::error::{PageResult, error_page};
use axum::extract::Path;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};

pub async fn upload(Path(point_id): Path<String>, form: CsrfMultipart) -> PageResult<Response> {
    let page = &form.page;
    let Some(file) = form.file("photo") else {
        return Ok(error_page(StatusCode::UNPROCESSABLE_ENTITY, "请选择要上传的照片".into()));
    };
    match svc::add_to_point(&page.ctx(), &page.state.storage, &point_id, file.bytes.clone()).await {
        Ok(_) => Ok(Redirect::to(&format!("/points/{point_id}?ok=created")).into_response()),
        Err(AppError::Refused(_, message)) => Ok(error_page(StatusCode::UNPROCESSABLE_ENTITY, message)),
        Err(e) => Err(e.into()),
    }
}

async fn send(page: &PageUser, id: &str, thumb: bool) -> PageResult<Response> {
    let photo = svc::visible_photo(&page.ctx(), id).await?;
    let key = if thumb { &photo.thumb_key } else { &photo.original_key };
    let bytes = page.state.storage.get(key).await.map_err(|e| anyhow::anyhow!("reading photo {key}: {e}"))?;
    let content_type = if thumb { "image/jpeg".to_string() } else { photo.content_type.clone() };
    Ok(([(header::CONTENT_TYPE, content_type), (header::CACHE_CONTROL, "private, max-age=600".into())], bytes)
        .into_response())
}

pub async fn original(page: PageUser, Path(id): Path<String>) -> PageResult<Response> {
    send(&page, &id, false).await
}

pub async fn thumbnail(page: PageUser, Path(id): Path<String>) -> PageResult<Response> {
    send(&page, &id, true).await
}

pub async fn delete(
    Path(id): Path<String>,
    CsrfForm { page, .. }: CsrfForm<Vec<(String, String)>>,
) -> PageResult<Response> {
    let point = svc::delete(&page.ctx(), &page.state.storage, &id).await?;
    Ok(Redirect::to(&format!("/points/{point}?ok=deleted")).into_response())
}
