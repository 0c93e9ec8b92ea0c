//! The city's quantitative indicators (seed 004): each year's value entered with its source
//! document, graded against the requirement's thresholds for the city's region, with the trend
//! over the years and the weakest indicators first.

use super::Ctx;
use super::access::require_admin;
use crate::domain::audit::ObjectType;
use crate::domain::code::Code;
use crate::domain::evaluation::{CITY_INDICATORS, CityIndicator, Region, city_indicator};
use crate::domain::ids::new_id;
use crate::domain::role::Role;
use crate::domain::time::now_ms;
use crate::domain::validate::{FieldErrors, required_text};
use crate::error::{AppError, AppResult};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, sqlx::FromRow, Serialize, utoipa::ToSchema)]
pub struct Value {
    pub id: String,
    pub code: String,
    pub year: i64,
    pub value: f64,
    /// The document the value comes from (统计公报, 监测报告 …)
    pub source: String,
    pub entered_by: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
    pub version: i64,
}

crate::record! {
    Value in "city_indicator_values" as ObjectType::CityIndicator,
    label |v| format!("{} {}年", city_indicator(&v.code).map(|i| i.name).unwrap_or(v.code.as_str()), v.year),
    insert [id, code, year, value, source, entered_by, created_at, updated_at, version],
    update [value, source, entered_by, updated_at],
}

pub const REGION_KEY: &str = "city_region";

pub async fn region(db: &crate::store::Db) -> AppResult<Region> {
    let v = crate::store::calendar::setting(db, REGION_KEY).await?;
    Ok(v.as_deref().and_then(Region::parse).unwrap_or(Region::East))
}

/// One indicator as the page shows it.
#[derive(Debug, Clone, Serialize)]
pub struct Line {
    #[serde(skip)]
    pub def: &'static CityIndicator,
    pub rule: String,
    /// The year's value, its grade and source
    pub value: Option<Value>,
    pub grade: Option<(&'static str, u8)>,
    /// Values of the years shown, oldest first ("—" when missing)
    pub history: Vec<String>,
    /// ↑ ↓ → against the year before
    pub trend: &'static str,
    pub shortfall: f64,
}

impl Line {
    /// Below the best grade it can reach.
    pub fn weak(&self) -> bool {
        self.grade.is_some_and(|g| g.1 < self.def.top())
    }
}

pub struct Board {
    pub year: i64,
    pub region: Region,
    pub years: Vec<i64>,
    /// Weakest first: not entered, then lowest grade relative to the best, then furthest short
    pub lines: Vec<Line>,
}

fn may_read(role: Role) -> bool {
    matches!(role, Role::Admin | Role::Supervisor | Role::Discipline)
}

pub async fn board(ctx: &Ctx<'_>, year: i64) -> AppResult<Board> {
    if !may_read(ctx.user.role) {
        return Err(AppError::Forbidden);
    }
    let region = region(ctx.db).await?;
    let values: Vec<Value> = sqlx::query_as(
        "SELECT id, code, year, value, source, entered_by, created_at, updated_at, version FROM city_indicator_values \
         WHERE year BETWEEN $1 AND $2 ORDER BY year",
    )
    .bind(year - 4)
    .bind(year)
    .fetch_all(&ctx.db.pool)
    .await?;
    let years: Vec<i64> = (year - 4..=year).filter(|y| values.iter().any(|v| v.year == *y) || *y == year).collect();
    let mut lines: Vec<Line> = CITY_INDICATORS
        .iter()
        .map(|def| {
            let of = |y: i64| values.iter().find(|v| v.code == def.code && v.year == y);
            let value = of(year).cloned();
            let grade = value.as_ref().map(|v| def.grade(region, v.value));
            let prev = of(year - 1).map(|v| v.value);
            let trend = match (value.as_ref().map(|v| v.value), prev) {
                (Some(a), Some(b)) if a > b => "↑",
                (Some(a), Some(b)) if a < b => "↓",
                (Some(_), Some(_)) => "→",
                _ => "",
            };
            Line {
                def,
                rule: def.rule_text(region),
                shortfall: value.as_ref().map(|v| def.shortfall(region, v.value)).unwrap_or(0.0),
                history: years
                    .iter()
                    .map(|y| of(*y).map(|v| format!("{}", v.value)).unwrap_or_else(|| "—".into()))
                    .collect(),
                value,
                grade,
                trend,
            }
        })
        .collect();
    lines.sort_by(|a, b| {
        let gap = |l: &Line| l.grade.map(|g| i32::from(l.def.top()) - i32::from(g.1)).unwrap_or(99);
        gap(b).cmp(&gap(a)).then(b.shortfall.total_cmp(&a.shortfall))
    });
    Ok(Board { year, region, years, lines })
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct ValueInput {
    #[serde(default)]
    pub code: String,
    #[serde(default)]
    pub year: crate::domain::validate::IntText,
    #[serde(default)]
    pub value: String,
    #[serde(default)]
    pub source: String,
}

/// Enters (or corrects) a year's value with its source; audited with before and after.
pub async fn enter(ctx: &Ctx<'_>, input: ValueInput) -> AppResult<Value> {
    require_admin(ctx.user)?;
    let mut e = FieldErrors::default();
    let def = city_indicator(input.code.trim());
    if def.is_none() {
        e.add("code", Code::UnknownItem, "请选择指标");
    }
    let this_year = i64::from(chrono::Datelike::year(&crate::domain::time::to_local(now_ms())));
    let year = input.year.get(&mut e, "year", "年度", 1990..=this_year);
    if year.is_none() && input.year.is_empty() {
        e.add("year", Code::Required, "请填写年度");
    }
    let value: Option<f64> =
        input.value.trim().trim_end_matches('%').parse().ok().filter(|v: &f64| v.is_finite() && *v >= 0.0);
    match (value, def) {
        (None, _) => e.add("value", Code::InvalidValue, "数值应为不小于0的数字"),
        (Some(v), Some(d)) if d.unit == "%" && v > 100.0 => e.add("value", Code::InvalidValue, "百分比不能超过100"),
        _ => {}
    }
    let source = required_text(&mut e, "source", "数据来源", &input.source, 200);
    let (Some(def), Some(year), Some(value), true) = (def, year, value, e.is_empty()) else {
        return Err(AppError::Validation(e));
    };
    let now = now_ms();
    let old: Option<Value> = sqlx::query_as(
        "SELECT id, code, year, value, source, entered_by, created_at, updated_at, version FROM city_indicator_values \
         WHERE code = $1 AND year = $2",
    )
    .bind(def.code)
    .bind(year)
    .fetch_optional(&ctx.db.pool)
    .await?;
    let by = Some(ctx.user.id.clone()).filter(|u| !u.is_empty());
    match old {
        Some(old) => {
            let mut new = Value { value, source, entered_by: by, updated_at: now, ..old.clone() };
            ctx.update(&old, &mut new, Some(old.version)).await?;
            Ok(new)
        }
        None => {
            let v = Value {
                id: new_id(),
                code: def.code.into(),
                year,
                value,
                source,
                entered_by: by,
                created_at: now,
                updated_at: now,
                version: 1,
            };
            ctx.create(&v).await?;
            Ok(v)
        }
    }
}

pub async fn set_region(ctx: &Ctx<'_>, value: &str) -> AppResult<Region> {
    require_admin(ctx.user)?;
    let new = Region::parse(value.trim())
        .ok_or_else(|| AppError::field("region", Code::InvalidKind, "请选择城市所在地区"))?;
    let old = region(ctx.db).await?;
    let mut w = ctx.write().await?;
    w.setting(REGION_KEY, "城市所在地区（测评指标分档）", old.label(), new.as_str()).await?;
    w.commit().await?;
    Ok(new)
}
