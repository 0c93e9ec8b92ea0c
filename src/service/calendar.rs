//! The working-day calendar as the application uses it: shipped years, uploads by the office,
//! working hours, and deadline calculation.

use super::{Ctx, access::require_admin};
use crate::domain::audit::{ObjectType, Verb};
use crate::domain::calendar::{Calendar, DayKind, NamedDay, WorkingHours, YearData};
use crate::error::{AppError, AppResult, Code};
use crate::store::{Db, calendar as store};
use serde_json::json;

pub const WORKING_HOURS_KEY: &str = "working_hours";

/// Official years shipped with the release (State Council notices).
pub const SHIPPED: [&str; 2] =
    [include_str!("../../resources/calendar/2025.json"), include_str!("../../resources/calendar/2026.json")];

/// Loads shipped years that the database does not have yet. Safe on several instances at once.
pub async fn install_shipped(db: &Db) -> anyhow::Result<()> {
    for text in SHIPPED {
        let data: YearData = serde_json::from_str(text)?;
        let (h, w) = data.validate().map_err(|e| anyhow::anyhow!("shipped calendar {} invalid: {e:?}", data.year))?;
        let mut tx = db.begin().await?;
        if !store::year_exists(&mut tx, data.year as i64).await? {
            let days = rows(&h, &w);
            if let Err(e) = store::replace_year(&mut tx, data.year as i64, &data.source, &days, 0).await {
                // Another instance installed it first.
                if crate::store::is_unique_violation(&e) {
                    continue;
                }
                return Err(e.into());
            }
        }
        tx.commit().await?;
    }
    Ok(())
}

fn rows(h: &[NamedDay], w: &[NamedDay]) -> Vec<(String, &'static str, String)> {
    h.iter()
        .map(|(d, n)| (d.to_string(), "holiday", n.clone()))
        .chain(w.iter().map(|(d, n)| (d.to_string(), "workday", n.clone())))
        .collect()
}

pub async fn working_hours(db: &Db) -> AppResult<WorkingHours> {
    Ok(hours_of(store::setting(db, WORKING_HOURS_KEY).await?.as_deref()))
}

/// The working hours a stored setting (None: never set) stands for.
fn hours_of(stored: Option<&str>) -> WorkingHours {
    stored.and_then(|s| WorkingHours::parse(s).ok()).unwrap_or_default()
}

/// The calendar with every loaded year and the configured working hours. Deadlines are computed
/// on every filing, so the parsed calendar is kept per database and re-read only when one cheap
/// query shows that a year or the working hours changed (on this instance or another one).
pub async fn load(db: &Db) -> AppResult<Calendar> {
    let fingerprint = store::fingerprint(db, WORKING_HOURS_KEY).await?;
    if let Some((f, cal)) = db.calendar_cache.lock().expect("calendar cache").as_ref()
        && *f == fingerprint
    {
        return Ok(cal.clone());
    }
    let cal = load_uncached(db).await?;
    *db.calendar_cache.lock().expect("calendar cache") = Some((fingerprint, cal.clone()));
    Ok(cal)
}

async fn load_uncached(db: &Db) -> AppResult<Calendar> {
    let mut cal = Calendar::new(working_hours(db).await?);
    let years = store::years(db).await?;
    let days = store::days(db, None).await?;
    for y in years {
        let pick = |kind: DayKind| {
            days.iter()
                .filter(|d| d.year == y.year && d.kind == kind)
                .filter_map(|d| Some((chrono::NaiveDate::parse_from_str(&d.day, "%Y-%m-%d").ok()?, d.name.clone())))
                .collect()
        };
        cal.add_year(y.year as i32, pick(DayKind::Holiday), pick(DayKind::Workday));
    }
    Ok(cal)
}

/// Replaces a year's data with an upload, all or nothing.
pub async fn import_year(ctx: &Ctx<'_>, data: YearData) -> AppResult<()> {
    require_admin(ctx.user)?;
    let (h, w) = data.validate().map_err(|rows| AppError::rejected("年度数据", rows))?;
    let before: Vec<_> = store::days(ctx.db, Some(data.year as i64))
        .await?
        .into_iter()
        .map(|d| format!("{} {}", d.day, d.name))
        .collect();
    let days = rows(&h, &w);
    let mut w = ctx.write().await?;
    let now = w.now;
    store::replace_year(w.conn(), data.year as i64, data.source.trim(), &days, now).await?;
    let label = format!("{}年节假日安排", data.year);
    let after: Vec<String> = days.iter().map(|(d, _, n)| format!("{d} {n}")).collect();
    let action = if before.is_empty() { Verb::Create } else { Verb::Update };
    let before = (!before.is_empty()).then(|| json!({ "days": before }));
    let after = Some(json!({ "days": after, "source": data.source.trim() }));
    w.audit(action, ObjectType::CalendarYear, &data.year.to_string(), &label, before, after).await?;
    w.commit().await
}

/// Sets the working hours from `seen`, the hours the page showed (see `Write::setting`).
pub async fn set_working_hours(ctx: &Ctx<'_>, text: &str, seen: Option<&str>) -> AppResult<WorkingHours> {
    require_admin(ctx.user)?;
    let hours =
        WorkingHours::parse(text).map_err(|m| AppError::field("working_hours", Code::InvalidWorkingHours, m))?;
    let seen = seen.map(|s| WorkingHours::parse(s).map(|h| h.to_string()).unwrap_or_else(|_| s.to_string()));
    let mut w = ctx.write().await?;
    let shown = |s: Option<&str>| hours_of(s).to_string();
    w.setting((WORKING_HOURS_KEY, "工作时间"), shown, seen.as_deref(), &hours.to_string()).await?;
    w.commit().await?;
    Ok(hours)
}
