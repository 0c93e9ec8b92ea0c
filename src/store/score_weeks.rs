//! Kept figures of closed weeks (`score_weeks`): per class and week, each target's sum of entries
//! and their count. A cache of what scoring computes from the records, never a source: the
//! database's triggers delete a week the moment a fact under it changes, and a reader uses a week
//! only under the rule version and calendar it was computed with (see migration 0031).

use super::Db;
use crate::domain::score::{Class, Sums};
use std::collections::HashMap;

/// A kept week as read back.
#[derive(Debug, Clone)]
pub struct Kept {
    pub rules_version: i64,
    pub calendar: String,
    /// None: holds until a fact changes; otherwise only before this time
    pub valid_until: Option<i64>,
    pub sums: Sums,
    /// For a week that crosses the first of a month: that day and the sums before it
    pub before: Option<(i64, Sums)>,
}

/// A kept row as stored: week start, rule version, calendar, valid until, sums (JSON), the
/// first of a month inside the week and the sums before it (JSON).
type Row = (i64, Option<i64>, Option<String>, Option<i64>, Option<String>, Option<i64>, Option<String>);

/// Sums as stored: `[[target, amount, count], …]`; None when unreadable.
fn parse(text: &str) -> Option<Sums> {
    let pairs = serde_json::from_str::<Vec<(String, i64, i64)>>(text).ok()?;
    Some(pairs.into_iter().map(|(t, amount, n)| (t, (amount, n))).collect())
}

/// Sums in the stored form, targets in order.
fn render(sums: &Sums) -> Result<String, sqlx::Error> {
    let mut pairs: Vec<(&String, i64, i64)> = sums.iter().map(|(t, (a, n))| (t, *a, *n)).collect();
    pairs.sort();
    serde_json::to_string(&pairs).map_err(|e| sqlx::Error::Encode(Box::new(e)))
}

/// The filled weeks of a class starting at or after `from` and before `to`, by start.
pub async fn read(db: &Db, class: Class, from: i64, to: i64) -> Result<HashMap<i64, Kept>, sqlx::Error> {
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT week_from, rules_version, calendar, valid_until, sums, split_at, sums_before FROM score_weeks \
         WHERE class = $1 AND week_from >= $2 AND week_from < $3 AND sums IS NOT NULL",
    )
    .bind(class)
    .bind(from)
    .bind(to)
    .fetch_all(&db.pool)
    .await?;
    let mut out = HashMap::new();
    for (week, version, calendar, valid_until, sums, split_at, before) in rows {
        let (Some(rules_version), Some(calendar), Some(sums)) = (version, calendar, sums) else { continue };
        // An unreadable row is treated as missing: it is rebuilt.
        let Some(sums) = parse(&sums) else { continue };
        let before = split_at.zip(before.as_deref().and_then(parse));
        out.insert(week, Kept { rules_version, calendar, valid_until, sums, before });
    }
    Ok(out)
}

/// A week to be computed and kept: [from, to), depending on facts from `reach_from` on.
#[derive(Debug, Clone, Copy)]
pub struct Claim {
    pub from: i64,
    pub to: i64,
    pub reach_from: i64,
}

/// Claims weeks for building: each row is (re)set empty with `token`. Once this returns, any
/// change to a fact under a claimed week deletes its row, so `fill` keeps only what no change
/// has overtaken. On PostgreSQL it also waits (up to two seconds) for the transactions running
/// at the claim to end, since their triggers may have run before the claim was visible; false
/// when they did not end in time (then nothing should be kept).
pub async fn claim(db: &Db, class: Class, weeks: &[Claim], token: &str, now: i64) -> Result<bool, sqlx::Error> {
    let upserts = weeks
        .iter()
        .map(|w| {
            sqlx::query(
                "INSERT INTO score_weeks (class, week_from, week_to, reach_from, token, built_at) \
                 VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (class, week_from) DO UPDATE SET \
                 week_to = excluded.week_to, reach_from = excluded.reach_from, token = excluded.token, \
                 rules_version = NULL, calendar = NULL, valid_until = NULL, sums = NULL, split_at = NULL, sums_before = NULL, \
                 built_at = excluded.built_at",
            )
            .bind(class)
            .bind(w.from)
            .bind(w.to)
            .bind(w.reach_from)
            .bind(token)
            .bind(now)
        })
        .collect();
    super::claim_rows(db, upserts).await
}

/// A computed week to keep.
#[derive(Debug, Clone)]
pub struct Built {
    pub from: i64,
    pub rules_version: i64,
    pub calendar: String,
    pub valid_until: Option<i64>,
    pub sums: Sums,
    /// For a week that crosses the first of a month: that day and the sums before it
    pub before: Option<(i64, Sums)>,
}

/// Fills claimed weeks whose claim still stands (one statement each, so a concurrent change
/// never waits on more than one row); the number kept.
pub async fn fill(db: &Db, class: Class, token: &str, weeks: &[Built]) -> Result<u64, sqlx::Error> {
    let mut kept = 0;
    for w in weeks {
        let sums = render(&w.sums)?;
        let before = w.before.as_ref().map(|(_, s)| render(s)).transpose()?;
        let mut tx = db.begin().await?;
        let done = sqlx::query(
            "UPDATE score_weeks SET rules_version = $1, calendar = $2, valid_until = $3, sums = $4, \
             split_at = $8, sums_before = $9 WHERE class = $5 AND week_from = $6 AND token = $7",
        )
        .bind(w.rules_version)
        .bind(&w.calendar)
        .bind(w.valid_until)
        .bind(sums)
        .bind(class)
        .bind(w.from)
        .bind(token)
        .bind(w.before.as_ref().map(|(at, _)| *at))
        .bind(before)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        kept += done.rows_affected();
    }
    Ok(kept)
}

/// A kept row's week start, rule version, calendar, validity and whether it has its part before
/// a first of the month.
type KeptRow = (i64, Option<i64>, Option<String>, Option<i64>, Option<i64>);

/// What is kept of each week of a class starting in [from, to) (the sums not read): week start
/// → (rule version, calendar, valid until, part before a first of the month kept), for filled
/// weeks only.
pub async fn filled(
    db: &Db,
    class: Class,
    from: i64,
    to: i64,
) -> Result<HashMap<i64, (i64, String, Option<i64>, bool)>, sqlx::Error> {
    let rows: Vec<KeptRow> = sqlx::query_as(
        "SELECT week_from, rules_version, calendar, valid_until, split_at FROM score_weeks \
         WHERE class = $1 AND week_from >= $2 AND week_from < $3 AND sums IS NOT NULL",
    )
    .bind(class)
    .bind(from)
    .bind(to)
    .fetch_all(&db.pool)
    .await?;
    Ok(rows.into_iter().filter_map(|(w, v, c, u, s)| Some((w, (v?, c?, u, s.is_some())))).collect())
}

/// Takes a week for rebuilding in the background: true when this caller may rebuild it, false
/// when someone (another instance's job, a reader) claimed it within `lease_ms`. Only the
/// instance whose statement took the row rebuilds it.
pub async fn take(
    db: &Db,
    class: Class,
    week: Claim,
    token: &str,
    now: i64,
    lease_ms: i64,
) -> Result<bool, sqlx::Error> {
    let mut tx = db.begin().await?;
    let r = sqlx::query(
        "INSERT INTO score_weeks (class, week_from, week_to, reach_from, token, built_at) \
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (class, week_from) DO UPDATE SET \
         token = excluded.token, built_at = excluded.built_at WHERE score_weeks.built_at < $7",
    )
    .bind(class)
    .bind(week.from)
    .bind(week.to)
    .bind(week.reach_from)
    .bind(token)
    .bind(now)
    .bind(now - lease_ms)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(r.rows_affected() == 1)
}
