//! The configurable list of point types (seeded with the national evaluation types).

use super::Ctx;
use super::access::require_admin;
use crate::domain::validate::{FieldErrors, required_text};
use crate::domain::{ids::new_id, time::now_ms};
use crate::error::{AppError, AppResult, Code};
use crate::store::points::{self as store, PointType};
use serde::Deserialize;
use utoipa::ToSchema;

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct TypeInput {
    /// Lower-case code used in standards, e.g. night_market (create only)
    #[serde(default)]
    pub code: String,
    #[serde(default)]
    pub name: String,
    #[serde(default, deserialize_with = "super::version")]
    pub seq: Option<i64>,
    /// Map colour, #rrggbb
    #[serde(default)]
    pub color: String,
    /// Required when changing a type
    #[serde(default, deserialize_with = "super::version")]
    pub version: Option<i64>,
}

fn validate(input: &TypeInput, creating: bool) -> Result<(String, String, i64, String), FieldErrors> {
    let mut e = FieldErrors::default();
    let code = input.code.trim().to_string();
    if creating
        && (code.is_empty()
            || code.len() > 30
            || !code.bytes().all(|b| b.is_ascii_lowercase() || b == b'_' || b.is_ascii_digit()))
    {
        e.add("code", Code::InvalidCode, "类型编码为1至30位小写字母、数字或下划线，如 night_market");
    }
    let name = required_text(&mut e, "name", "类型名称", &input.name, 20);
    let seq = input.seq.unwrap_or(0);
    if !(1..=999).contains(&seq) {
        e.add("seq", Code::InvalidSeq, "排序号应为1至999的整数");
    }
    let color = input.color.trim().to_lowercase();
    if color.len() != 7 || !color.starts_with('#') || !color[1..].bytes().all(|b| b.is_ascii_hexdigit()) {
        e.add("color", Code::InvalidColor, "颜色应为#加6位十六进制数，如#d62728");
    }
    if e.is_empty() { Ok((code, name, seq, color)) } else { Err(e) }
}

pub async fn create(ctx: &Ctx<'_>, input: TypeInput) -> AppResult<PointType> {
    require_admin(ctx.user)?;
    let (code, name, seq, color) = validate(&input, true).map_err(AppError::Validation)?;
    let now = now_ms();
    let t = PointType { id: new_id(), code, name, seq, color, created_at: now, updated_at: now, version: 1 };
    ctx.create(&t).await?;
    Ok(t)
}

pub async fn update(ctx: &Ctx<'_>, id: &str, input: TypeInput) -> AppResult<PointType> {
    require_admin(ctx.user)?;
    let old = store::types(ctx.db).await?.into_iter().find(|t| t.id == id).ok_or(AppError::NotFound)?;
    let (_, name, seq, color) = validate(&input, false).map_err(AppError::Validation)?;
    let mut new = PointType { name, seq, color, updated_at: now_ms(), ..old.clone() };
    ctx.update(&old, &mut new, input.version).await?;
    Ok(new)
}
