//! Kept case-loop counts of past days and weeks (`kpi_days`, `kpi_day_counts`): for each Beijing
//! day and each week from Monday, the counts of the problems dispatched in it per unit and per
//! community. A cache of what
//! `problems::kpi_counts` computes from the records, never a source: the database's triggers
//! delete a day's row the moment a fact under it changes, and a reader uses a day only while it
//! is filled and its validity holds (see migration 0035).

use super::problems::{KpiCounts, kpi_columns};
use super::{Db, Where, bind_args_as};
use crate::domain::kpi::Counts;
use crate::domain::time::DAY_MS;
use std::collections::BTreeSet;

/// Beijing is eight hours ahead of UTC all year (no summer time).
const OFFSET_MS: i64 = 8 * 3600 * 1000;

/// The Beijing day holding `ms`, as days since 1970-01-01.
pub fn day_of(ms: i64) -> i64 {
    (ms + OFFSET_MS).div_euclid(DAY_MS)
}

/// The first millisecond of a Beijing day.
pub fn day_start(day: i64) -> i64 {
    day * DAY_MS - OFFSET_MS
}

/// The Monday starting the week that holds a day (day 0, 1970-01-01, was a Thursday).
pub fn monday_of(day: i64) -> i64 {
    day - (day + 3).rem_euclid(7)
}

/// A kept block: a day (span 1) or a week from its Monday (span 7).
pub type Block = (i64, i64);

/// The filled blocks starting in [from, to) whose validity holds at `now` (and built by then: a
/// block built at a later moment may count more problems as late).
pub async fn valid_blocks(db: &Db, from: i64, to: i64, now: i64) -> Result<BTreeSet<Block>, sqlx::Error> {
    let rows: Vec<(i64, i64)> = sqlx::query_as(
        "SELECT day, span FROM kpi_days WHERE day >= $1 AND day < $2 AND filled = 1 \
         AND (valid_until IS NULL OR valid_until > $3) AND built_at <= $3",
    )
    .bind(from)
    .bind(to)
    .bind(now)
    .fetch_all(&db.pool)
    .await?;
    Ok(rows.into_iter().collect())
}

/// The kept counts summed over the given blocks, per unit or per community (optionally only
/// the units or communities in `keys`), each line with its unit's or community's name.
pub async fn read(
    db: &Db,
    blocks: &[Block],
    keys: Option<&[String]>,
    by_community: bool,
) -> Result<Vec<KpiCounts>, sqlx::Error> {
    if blocks.is_empty() || keys.is_some_and(<[String]>::is_empty) {
        return Ok(Vec::new());
    }
    let mut w = Where::default();
    let mut spans = Vec::new();
    for span in [1, 7] {
        let days: Vec<String> = blocks.iter().filter(|b| b.1 == span).map(|b| w.int(b.0)).collect();
        if !days.is_empty() {
            spans.push(format!("(c.span = {span} AND c.day IN ({}))", days.join(", ")));
        }
    }
    w.and(format!("({})", spans.join(" OR ")));
    let grp = w.text(if by_community { "c" } else { "u" });
    w.and(format!("c.grp = {grp}"));
    w.within("c.key", keys);
    let names = if by_community { "org_nodes" } else { "units" };
    // The fifteen sums travel as one text ("3,1,…"): a line of 10,000 then decodes three values
    // instead of seventeen, which was most of the reading's time on SQLite.
    let sums: Vec<String> = COLUMNS.iter().map(|c| format!("CAST(SUM(c.{c}) AS TEXT)")).collect();
    // A community's lines keep '' for problems at points outside any community.
    let sql = format!(
        "SELECT CASE WHEN g.gkey = '' THEN NULL ELSE g.gkey END AS key, g.sums, n.name FROM \
         (SELECT c.key AS gkey, {} AS sums FROM kpi_day_counts c{} GROUP BY c.key) g LEFT JOIN {names} n ON n.id = g.gkey",
        sums.join(" || ',' || "),
        w.sql()
    );
    let rows: Vec<(Option<String>, String, Option<String>)> =
        bind_args_as(sqlx::query_as(&sql), &w.args).fetch_all(&db.pool).await?;
    let mut out = Vec::with_capacity(rows.len());
    for (key, sums, name) in rows {
        let mut n = [0i64; 15];
        let mut parts = sums.split(',');
        for slot in n.iter_mut() {
            *slot = parts.next().and_then(|p| p.trim().parse().ok()).ok_or_else(|| {
                sqlx::Error::Decode(format!("kept KPI sums of {key:?} are unreadable: {sums}").into())
            })?;
        }
        let [
            due,
            closed,
            closed_on_time,
            disposed,
            disposed_on_time,
            reworked,
            extended,
            postponed,
            flagged,
            timed,
            minutes_to_close,
            late,
            rated,
            satisfied,
            reopened,
        ] = n;
        let counts = Counts {
            due,
            closed,
            closed_on_time,
            disposed,
            disposed_on_time,
            reworked,
            extended,
            postponed,
            flagged,
            timed,
            minutes_to_close,
            rated,
            satisfied,
            reopened,
        };
        out.push(KpiCounts { key, name, counts, late });
    }
    Ok(out)
}

/// The count columns of `kpi_day_counts`, in the order of `problems::kpi_columns`.
const COLUMNS: [&str; 15] = [
    "due",
    "closed",
    "closed_on_time",
    "disposed",
    "disposed_on_time",
    "reworked",
    "extended",
    "postponed",
    "flagged",
    "timed",
    "minutes_to_close",
    "late",
    "rated",
    "satisfied",
    "reopened",
];

/// Claims blocks for building: each row is (re)set unfilled with `token`. Once this returns true,
/// any change to a fact under a claimed block deletes its row, so `fill_*` keep only what no
/// change has overtaken (false on PostgreSQL when the writes running at the claim did not end
/// in time: then nothing should be kept).
pub async fn claim(db: &Db, blocks: &[Block], token: &str, now: i64) -> Result<bool, sqlx::Error> {
    let upserts = blocks
        .iter()
        .map(|&(day, span)| {
            sqlx::query(
                "INSERT INTO kpi_days (day, span, token, filled, valid_until, built_at) VALUES ($1, $2, $3, 0, NULL, $4) \
                 ON CONFLICT (day, span) DO UPDATE SET token = excluded.token, filled = 0, valid_until = NULL, \
                 built_at = excluded.built_at",
            )
            .bind(day)
            .bind(span)
            .bind(token)
            .bind(now)
        })
        .collect();
    super::claim_rows(db, upserts).await
}

/// Takes a claimed block for filling inside `tx` (holding its row: a change committing after
/// this waits, then forgets the block); false when the claim no longer stands.
async fn take(tx: &mut super::Tx, (day, span): Block, token: &str) -> Result<bool, sqlx::Error> {
    let took = sqlx::query("UPDATE kpi_days SET filled = 1 WHERE day = $1 AND span = $2 AND token = $3")
        .bind(day)
        .bind(span)
        .bind(token)
        .execute(&mut **tx)
        .await?;
    if took.rows_affected() == 0 {
        return Ok(false);
    }
    sqlx::query("DELETE FROM kpi_day_counts WHERE day = $1 AND span = $2")
        .bind(day)
        .bind(span)
        .execute(&mut **tx)
        .await?;
    Ok(true)
}

/// Computes a claimed day from the records and keeps it, in one transaction, with `late` as of
/// `now` and valid until the earliest deadline still ahead of a problem open that day; whether
/// it was kept (false: a change forgot the claim meanwhile, or another builder re-claimed it).
pub async fn fill_day(db: &Db, token: &str, day: i64, now: i64) -> Result<bool, sqlx::Error> {
    let mut tx = db.begin().await?;
    if !take(&mut tx, (day, 1), token).await? {
        tx.rollback().await?;
        return Ok(false);
    }
    let columns = format!("day, span, grp, key, {}", COLUMNS.join(", "));
    for (grp, key) in [("u", "q.unit_id"), ("c", "COALESCE(p.community_id, '')")] {
        let mut w = Where::default();
        w.range("q.dispatched_at", Some(day_start(day)), Some(day_start(day + 1)));
        let now = w.int(now);
        let (d, g) = (w.int(day), w.text(grp));
        let from = if grp == "c" { "problems q JOIN points p ON p.id = q.point_id" } else { "problems q" };
        let sql = format!(
            "INSERT INTO kpi_day_counts ({columns}) SELECT {d}, 1, {g}, {key}, {} FROM {from}{} GROUP BY {key}",
            kpi_columns(&now),
            w.sql()
        );
        super::bind_args(sqlx::query(&sql), &w.args).execute(&mut *tx).await?;
    }
    sqlx::query(
        "UPDATE kpi_days SET valid_until = (SELECT MIN(q.deadline_at) FROM problems q \
         WHERE q.dispatched_at >= $1 AND q.dispatched_at < $2 \
         AND q.state IN ('dispatched', 'acknowledged', 'submitted') AND q.deadline_at >= $3) \
         WHERE day = $4 AND span = 1",
    )
    .bind(day_start(day))
    .bind(day_start(day + 1))
    .bind(now)
    .bind(day)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(true)
}

/// Keeps a claimed week as the sum of its seven kept days (valid at `now`), in one transaction,
/// valid while all of them are; false when a day is not kept (any more) or the claim no longer stands.
pub async fn fill_week(db: &Db, token: &str, monday: i64, now: i64) -> Result<bool, sqlx::Error> {
    let mut tx = db.begin().await?;
    if !take(&mut tx, (monday, 7), token).await? {
        tx.rollback().await?;
        return Ok(false);
    }
    // The week's row is held: a day forgotten from here on forgets the week too.
    let (days, until): (i64, Option<i64>) = sqlx::query_as(
        "SELECT COUNT(*), MIN(valid_until) FROM kpi_days WHERE span = 1 AND day >= $1 AND day < $2 AND filled = 1 \
         AND (valid_until IS NULL OR valid_until > $3) AND built_at <= $3",
    )
    .bind(monday)
    .bind(monday + 7)
    .bind(now)
    .fetch_one(&mut *tx)
    .await?;
    if days < 7 {
        tx.rollback().await?;
        return Ok(false);
    }
    let sums: Vec<String> = COLUMNS.iter().map(|c| format!("SUM({c})")).collect();
    let sql = format!(
        "INSERT INTO kpi_day_counts (day, span, grp, key, {}) SELECT $1, 7, grp, key, {} FROM kpi_day_counts \
         WHERE span = 1 AND day >= $1 AND day < $2 GROUP BY grp, key",
        COLUMNS.join(", "),
        sums.join(", ")
    );
    sqlx::query(&sql).bind(monday).bind(monday + 7).execute(&mut *tx).await?;
    sqlx::query("UPDATE kpi_days SET valid_until = $1 WHERE day = $2 AND span = 7")
        .bind(until)
        .bind(monday)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(true)
}

/// Forgets every kept block (the bench's cold reading).
pub async fn forget_all(db: &Db) -> Result<(), sqlx::Error> {
    let mut tx = db.begin().await?;
    sqlx::query("DELETE FROM kpi_days").execute(&mut *tx).await?;
    tx.commit().await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_kept_columns_follow_the_computed_ones() {
        // A day is filled by INSERT (COLUMNS) SELECT kpi_columns: the names must match in order,
        // or a kept day would hold one count under another's name.
        let sql = kpi_columns("$1");
        let names: Vec<&str> = sql
            .split(" AS ")
            .skip(1)
            .map(|rest| rest.split(|c: char| c == ',' || c.is_whitespace()).next().unwrap_or(""))
            .filter(|n| !n.starts_with("BIGINT"))
            .collect();
        assert_eq!(names, COLUMNS);
    }

    #[test]
    fn a_day_is_the_beijing_day() {
        // 2026-12-04 16:00 UTC is midnight starting 5 December in Beijing.
        let midnight = chrono::DateTime::parse_from_rfc3339("2026-12-05T00:00:00+08:00").unwrap().timestamp_millis();
        assert_eq!(day_start(day_of(midnight)), midnight);
        assert_eq!(day_of(midnight - 1), day_of(midnight) - 1);
        assert_eq!(day_of(midnight + DAY_MS - 1), day_of(midnight));
        assert_eq!(day_start(day_of(midnight) + 1), midnight + DAY_MS);
        // Same as SQL's integer division for positive times.
        assert_eq!(day_of(midnight + 5), (midnight + 5 + 28_800_000) / 86_400_000);
        // 5 December 2026 is a Saturday: its week starts on Monday 30 November.
        let monday = chrono::DateTime::parse_from_rfc3339("2026-11-30T00:00:00+08:00").unwrap().timestamp_millis();
        assert_eq!(monday_of(day_of(midnight)), day_of(monday));
        assert_eq!(monday_of(day_of(monday)), day_of(monday));
        assert_eq!(monday_of(day_of(monday) - 1), day_of(monday) - 7);
    }
}
