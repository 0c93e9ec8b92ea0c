//! Calendar years, their special days, and key/value settings.

use super::Db;
use crate::domain::calendar::DayKind;
use sqlx::AnyConnection;

#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize, utoipa::ToSchema)]
pub struct YearRow {
    pub year: i64,
    pub source: String,
    pub updated_at: i64,
    pub holidays: i64,
    pub workdays: i64,
}

#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize, utoipa::ToSchema)]
pub struct DayRow {
    pub day: String,
    pub year: i64,
    /// holiday | workday
    pub kind: DayKind,
    pub name: String,
}

pub async fn years(db: &Db) -> Result<Vec<YearRow>, sqlx::Error> {
    sqlx::query_as::<_, YearRow>(
        "SELECT y.year, y.source, y.updated_at, \
         (SELECT COUNT(*) FROM calendar_days d WHERE d.year = y.year AND d.kind = 'holiday') AS holidays, \
         (SELECT COUNT(*) FROM calendar_days d WHERE d.year = y.year AND d.kind = 'workday') AS workdays \
         FROM calendar_years y ORDER BY y.year",
    )
    .fetch_all(&db.pool)
    .await
}

pub async fn days(db: &Db, year: Option<i64>) -> Result<Vec<DayRow>, sqlx::Error> {
    match year {
        Some(y) => {
            sqlx::query_as::<_, DayRow>("SELECT day, year, kind, name FROM calendar_days WHERE year = $1 ORDER BY day")
                .bind(y)
                .fetch_all(&db.pool)
                .await
        }
        None => {
            sqlx::query_as::<_, DayRow>("SELECT day, year, kind, name FROM calendar_days ORDER BY day")
                .fetch_all(&db.pool)
                .await
        }
    }
}

pub async fn year_exists(conn: &mut AnyConnection, year: i64) -> Result<bool, sqlx::Error> {
    Ok(sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM calendar_years WHERE year = $1")
        .bind(year)
        .fetch_one(conn)
        .await?
        > 0)
}

/// Replaces a year's days.
pub async fn replace_year(
    conn: &mut AnyConnection,
    year: i64,
    source: &str,
    days: &[(String, &str, String)],
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM calendar_days WHERE year = $1").bind(year).execute(&mut *conn).await?;
    sqlx::query(
        "INSERT INTO calendar_years (year, source, updated_at) VALUES ($1, $2, $3) \
         ON CONFLICT (year) DO UPDATE SET source = excluded.source, updated_at = excluded.updated_at",
    )
    .bind(year)
    .bind(source)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    for (day, kind, name) in days {
        sqlx::query("INSERT INTO calendar_days (day, year, kind, name) VALUES ($1, $2, $3, $4)")
            .bind(day)
            .bind(year)
            .bind(*kind)
            .bind(name)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

pub async fn setting(db: &Db, key: &str) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar::<_, String>("SELECT value FROM settings WHERE key = $1")
        .bind(key)
        .fetch_optional(&db.pool)
        .await
}

/// A setting's stored text as a write reads it.
pub async fn setting_in(conn: &mut AnyConnection, key: &str) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar("SELECT value FROM settings WHERE key = $1").bind(key).fetch_optional(conn).await
}

/// Sets a setting if it still holds `stored` (None: never set); false when another write
/// changed it first (PostgreSQL re-checks the row after waiting for that write).
pub async fn set_setting_from(
    conn: &mut AnyConnection,
    key: &str,
    stored: Option<&str>,
    value: &str,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let done = match stored {
        Some(old) => {
            sqlx::query("UPDATE settings SET value = $2, updated_at = $3 WHERE key = $1 AND value = $4")
                .bind(key)
                .bind(value)
                .bind(now)
                .bind(old)
                .execute(conn)
                .await?
        }
        None => {
            sqlx::query(
                "INSERT INTO settings (key, value, updated_at) VALUES ($1, $2, $3) ON CONFLICT (key) DO NOTHING",
            )
            .bind(key)
            .bind(value)
            .bind(now)
            .execute(conn)
            .await?
        }
    };
    Ok(done.rows_affected() == 1)
}

/// Changes whenever a year is (re)loaded or a setting changes: the number of years, the latest
/// year's update time and the given setting's value and update time.
pub async fn fingerprint(db: &Db, key: &str) -> Result<String, sqlx::Error> {
    let (n, max, value, at): (i64, Option<i64>, Option<String>, Option<i64>) = sqlx::query_as(
        "SELECT (SELECT COUNT(*) FROM calendar_years), (SELECT MAX(updated_at) FROM calendar_years), \
         (SELECT value FROM settings WHERE key = $1), (SELECT updated_at FROM settings WHERE key = $1)",
    )
    .bind(key)
    .fetch_one(&db.pool)
    .await?;
    Ok(format!("{n}|{}|{}|{}", max.unwrap_or(0), value.unwrap_or_default(), at.unwrap_or(0)))
}
