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
    unique ("", Code::StaleVersion, "该指标本年度的数值已由他人填报"),
}

pub const REGION_KEY: &str = "city_region";

pub async fn region(db: &crate::store::Db) -> AppResult<Region> {
    Ok(region_of(crate::store::calendar::setting(db, REGION_KEY).await?.as_deref()))
}

/// The region a stored setting (None: never set) stands for.
fn region_of(stored: Option<&str>) -> Region {
    stored.and_then(Region::parse).unwrap_or(Region::East)
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

impl Board {
    /// The year's values as the page shows them, for the entry form (`ValueInput::seen`):
    /// "2026|code:version,code:version".
    pub fn seen(&self) -> String {
        let versions: Vec<String> =
            self.lines.iter().filter_map(|l| l.value.as_ref()).map(|v| format!("{}:{}", v.code, v.version)).collect();
        format!("{}|{}", self.year, versions.join(","))
    }
}

/// The version of `code`'s value in `year` that a form's page showed: None when the client sent
/// nothing, Some(None) when the page showed no value of that year (or showed another year).
fn seen_version(seen: &str, code: &str, year: i64) -> Option<Option<i64>> {
    let (y, versions) = seen.split_once('|')?;
    if y.trim().parse::<i64>().ok()? != year {
        return Some(None);
    }
    Some(
        versions
            .split(',')
            .filter_map(|cv| cv.split_once(':'))
            .find(|(c, _)| *c == code)
            .and_then(|(_, v)| v.parse().ok()),
    )
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
    /// The year's values the page showed (`Board::seen`): a value entered or corrected by
    /// someone else since is not overwritten unseen
    #[serde(default)]
    pub seen: String,
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
    let old = stored(ctx, def.code, year).await?;
    let by = Some(ctx.user.id.clone()).filter(|u| !u.is_empty());
    let seen = seen_version(&input.seen, def.code, year);
    if let (Some(old), Some(seen)) = (&old, seen)
        && seen != Some(old.version)
    {
        return Err(entered_by_another(ctx, old).await);
    }
    let saved = match old {
        Some(old) => {
            let mut new = Value { value, source, entered_by: by, updated_at: now, ..old.clone() };
            ctx.update(&old, &mut new, Some(old.version)).await.map(|()| new)
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
            ctx.create(&v).await.map(|()| v)
        }
    };
    match saved {
        // Entered or corrected by another save in between (the same number created twice, or
        // the version moved): what is stored now, in the refusal.
        // Read through the writer: on SQLite the other save may share this one's group commit,
        // not yet visible to readers.
        Err(AppError::Refused(Code::StaleVersion, _)) => {
            let mut w = ctx.write().await?;
            let now = stored_in(w.conn(), def.code, year).await?;
            drop(w);
            match now {
                Some(now) => Err(entered_by_another(ctx, &now).await),
                None => Err(AppError::stale()),
            }
        }
        saved => saved,
    }
}

async fn stored(ctx: &Ctx<'_>, code: &str, year: i64) -> AppResult<Option<Value>> {
    let mut conn = ctx.db.pool.acquire().await?;
    stored_in(&mut conn, code, year).await
}

async fn stored_in(conn: &mut sqlx::AnyConnection, code: &str, year: i64) -> AppResult<Option<Value>> {
    Ok(sqlx::query_as(
        "SELECT id, code, year, value, source, entered_by, created_at, updated_at, version FROM city_indicator_values \
         WHERE code = $1 AND year = $2",
    )
    .bind(code)
    .bind(year)
    .fetch_optional(conn)
    .await?)
}

/// The refusal of a save over a value the user did not see: who entered what, and when.
async fn entered_by_another(ctx: &Ctx<'_>, now: &Value) -> AppError {
    let who = match &now.entered_by {
        Some(id) => crate::store::users::get(ctx.db, id).await.ok().flatten().map(|u| u.display_name),
        None => None,
    };
    let name = city_indicator(&now.code).map(|i| i.name).unwrap_or(now.code.as_str());
    AppError::refuse(
        Code::StaleVersion,
        format!(
            "{name}{}年的数值已由{}于{}填报为{}（来源：{}），请核对后重新提交",
            now.year,
            who.unwrap_or_else(|| "他人".into()),
            crate::domain::time::fmt_local(now.updated_at),
            now.value,
            now.source
        ),
    )
}

/// Sets the region from `seen`, the one the page showed (see `Write::setting`).
pub async fn set_region(ctx: &Ctx<'_>, value: &str, seen: Option<&str>) -> AppResult<Region> {
    require_admin(ctx.user)?;
    let new = Region::parse(value.trim())
        .ok_or_else(|| AppError::field("region", Code::InvalidKind, "请选择城市所在地区"))?;
    let mut w = ctx.write().await?;
    let shown = |s: Option<&str>| region_of(s).as_str().to_string();
    w.setting((REGION_KEY, "城市所在地区（测评指标分档）"), shown, seen.map(str::trim), new.as_str()).await?;
    w.commit().await?;
    Ok(new)
}
