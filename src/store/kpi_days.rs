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
use chrono::{Datelike, NaiveDate};
use std::collections::{BTreeSet, HashMap};

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

/// The calendar month holding a day, as a kept block: its first day and its number of days.
pub fn month_of(day: i64) -> Block {
    let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).expect("epoch");
    let date = epoch + chrono::Duration::days(day);
    let first = date.with_day(1).expect("day 1");
    let next = first.checked_add_months(chrono::Months::new(1)).expect("next month");
    ((first - epoch).num_days(), (next - first).num_days())
}

/// A kept block: a day (span 1), a week from its Monday (span 7) or a calendar month from its
/// first day (span 28 to 31).
pub type Block = (i64, i64);

/// A kept row as read: day, span, token, the days' tokens a month summed.
type KeptRow = (i64, i64, String, Option<String>);

/// The filled blocks starting in [from, to) whose validity holds at `now` (and built by then: a
/// block built at a later moment may count more problems as late). A month holds only while
/// each of its days still holds from the fill it summed.
pub async fn valid_blocks(db: &Db, from: i64, to: i64, now: i64) -> Result<BTreeSet<Block>, sqlx::Error> {
    let rows: Vec<KeptRow> = sqlx::query_as(
        "SELECT day, span, token, parts FROM kpi_days WHERE day >= $1 AND day < $2 AND filled = 1 \
         AND (valid_until IS NULL OR valid_until > $3) AND built_at <= $3",
    )
    .bind(from)
    .bind(to)
    .bind(now)
    .fetch_all(&db.pool)
    .await?;
    let tokens: HashMap<Block, &str> = rows.iter().filter(|r| r.1 <= 7).map(|r| ((r.0, r.1), r.2.as_str())).collect();
    let month_holds = |(day, span, _, parts): &KeptRow| {
        parts.as_deref().is_some_and(|p| covers(p, (*day, *span)) && still_kept(p, &tokens))
    };
    Ok(rows.iter().filter(|r| r.1 <= 7 || month_holds(r)).map(|r| (r.0, r.1)).collect())
}

/// A month's parts: the weeks and days it summed, each with the token of the fill it read
/// ("day:span:token", separated by commas, in order).
fn parts_of(blocks: &[(Block, String)]) -> String {
    blocks.iter().map(|((d, s), t)| format!("{d}:{s}:{t}")).collect::<Vec<_>>().join(",")
}

/// The blocks of a month's parts; None when unreadable.
fn blocks_of(parts: &str) -> Option<Vec<(Block, &str)>> {
    parts
        .split(',')
        .map(|p| {
            let mut it = p.splitn(3, ':');
            Some(((it.next()?.parse().ok()?, it.next()?.parse().ok()?), it.next()?))
        })
        .collect()
}

/// Whether a month's parts cover exactly its days, one after another.
fn covers(parts: &str, (first, span): Block) -> bool {
    let Some(blocks) = blocks_of(parts) else { return false };
    let mut next = first;
    for ((d, s), _) in blocks {
        if d != next {
            return false;
        }
        next += s;
    }
    next == first + span
}

/// Whether every part of a month is still kept from the very fill the month read.
fn still_kept(parts: &str, tokens: &HashMap<Block, &str>) -> bool {
    blocks_of(parts).is_some_and(|b| b.iter().all(|(block, token)| tokens.get(block) == Some(token)))
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
    for span in blocks.iter().map(|b| b.1).collect::<BTreeSet<i64>>() {
        let days: Vec<String> = blocks.iter().filter(|b| b.1 == span).map(|b| w.int(b.0)).collect();
        spans.push(format!("(c.span = {span} AND c.day IN ({}))", days.join(", ")));
    }
    w.and(format!("({})", spans.join(" OR ")));
    let grp = w.text(if by_community { "c" } else { "u" });
    w.and(format!("c.grp = {grp}"));
    w.within("c.key", keys);
    let names = if by_community { "org_nodes" } else { "units" };
    // The lines travel as one JSON array in one row ([key, name, [fifteen sums]] each): handing
    // 10,000 rows one by one from the driver's thread was most of the reading's time on SQLite.
    // One block (a kept month, the monthly report's case) is read as it is; several are summed.
    let (sum, group) = if blocks.len() == 1 { ("", "") } else { ("SUM", " GROUP BY c.key") };
    let sums: Vec<String> = COLUMNS.iter().map(|c| format!("{sum}(c.{c}) AS {c}")).collect();
    let (agg, row, cast) = super::json_aggregate(db);
    let columns: Vec<String> = COLUMNS.iter().map(|c| format!("g.{c}")).collect();
    // A community's lines keep '' for problems at points outside any community.
    let sql = format!(
        "SELECT {agg}({row}(CASE WHEN g.gkey = '' THEN NULL ELSE g.gkey END, n.name, {row}({}))){cast} FROM \
         (SELECT c.key AS gkey, {} FROM kpi_day_counts c{}{group}) g LEFT JOIN {names} n ON n.id = g.gkey",
        columns.join(", "),
        sums.join(", "),
        w.sql()
    );
    let (text,): (Option<String>,) = bind_args_as(sqlx::query_as(&sql), &w.args).fetch_one(&db.pool).await?;
    lines_from_json(text)
}

/// KPI lines from one JSON array of `[key, name, [the fifteen COLUMNS in order]]`.
pub(super) fn lines_from_json(text: Option<String>) -> Result<Vec<KpiCounts>, sqlx::Error> {
    let rows: Vec<(Option<String>, Option<String>, [i64; 15])> = super::from_json(text)?;
    let mut out = Vec::with_capacity(rows.len());
    for (key, name, n) in rows {
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
pub(super) const COLUMNS: [&str; 15] = [
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
    clear(tx, (day, span)).await?;
    Ok(true)
}

/// Deletes a block's kept counts (before it is filled again).
async fn clear(tx: &mut super::Tx, (day, span): Block) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM kpi_day_counts WHERE day = $1 AND span = $2")
        .bind(day)
        .bind(span)
        .execute(&mut **tx)
        .await?;
    Ok(())
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
    for (grp, key) in [("u", "q.unit_id"), ("c", "COALESCE(q.community_id, '')")] {
        let mut w = Where::default();
        w.range("q.dispatched_at", Some(day_start(day)), Some(day_start(day + 1)));
        let now = w.int(now);
        let (d, g) = (w.int(day), w.text(grp));
        let sql = format!(
            "INSERT INTO kpi_day_counts ({columns}) SELECT {d}, 1, {g}, {key}, {} FROM problems q{} GROUP BY {key}",
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
    let days: Vec<Block> = (monday..monday + 7).map(|d| (d, 1)).collect();
    insert_sum(&mut tx, (monday, 7), &days).await?;
    sqlx::query("UPDATE kpi_days SET valid_until = $1 WHERE day = $2 AND span = 7")
        .bind(until)
        .bind(monday)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(true)
}

/// Keeps the calendar month starting on `first` as the sum of its kept days (valid at `now`), in
/// one transaction, recording which fill of each day it summed; whether it was kept (false: a
/// day is not kept, or one changed while the month was summed).
pub async fn fill_month(db: &Db, first: i64, now: i64) -> Result<bool, sqlx::Error> {
    fill_range(db, month_of(first), now).await
}

/// Whether a kept block longer than a week is a calendar month (otherwise a window).
pub fn is_month(block: Block) -> bool {
    month_of(block.0) == block
}

/// Keeps the past days of a period up to today (the last 30 days, this month so far), [first,
/// end), as one block summed like a month, and forgets the windows that ended two days or more
/// before it (a day later the page asks for the next one; readers use only a window that ends
/// today, so one that ended yesterday may still be read by a reading begun before midnight);
/// whether it was kept.
pub async fn fill_window(db: &Db, first: i64, end: i64, now: i64) -> Result<bool, sqlx::Error> {
    // A block of up to seven days is trusted as a day or a week (no parts to check): never a window.
    if end - first <= 7 {
        return Ok(false);
    }
    let ended: Vec<(i64, i64)> = sqlx::query_as("SELECT day, span FROM kpi_days WHERE span > 7 AND day + span < $1")
        .bind(end - 1)
        .fetch_all(&db.pool)
        .await?;
    let windows: Vec<Block> = ended.into_iter().filter(|b| !is_month(*b)).collect();
    if !windows.is_empty() {
        let mut tx = db.begin().await?;
        for (day, span) in windows {
            clear(&mut tx, (day, span)).await?;
            sqlx::query("DELETE FROM kpi_days WHERE day = $1 AND span = $2")
                .bind(day)
                .bind(span)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
    }
    fill_range(db, (first, end - first), now).await
}

/// Keeps the days [first, first + span) as the sum of their kept weeks and days (valid at
/// `now`), in one transaction, recording which fill of each it summed; whether it was kept.
async fn fill_range(db: &Db, (first, span): Block, now: i64) -> Result<bool, sqlx::Error> {
    let mut tx = db.begin().await?;
    // The month's row first: on PostgreSQL a second builder of the same month waits here.
    sqlx::query(
        "INSERT INTO kpi_days (day, span, token, filled, valid_until, built_at, parts) VALUES ($1, $2, $3, 0, NULL, $4, NULL) \
         ON CONFLICT (day, span) DO UPDATE SET token = excluded.token, filled = 0, valid_until = NULL, \
         built_at = excluded.built_at, parts = NULL",
    )
    .bind(first)
    .bind(span)
    .bind(crate::domain::ids::new_id())
    .bind(now)
    .execute(&mut *tx)
    .await?;
    let Some((parts, until)) = month_parts(&mut tx, (first, span), now).await? else {
        tx.rollback().await?;
        return Ok(false);
    };
    let Some(blocks) = blocks_of(&parts).filter(|b| !b.is_empty()) else {
        tx.rollback().await?;
        return Ok(false);
    };
    clear(&mut tx, (first, span)).await?;
    let blocks: Vec<Block> = blocks.into_iter().map(|(b, _)| b).collect();
    insert_sum(&mut tx, (first, span), &blocks).await?;
    // The parts summed are the ones recorded: none was rebuilt between the two readings (on
    // PostgreSQL each statement reads the latest commits).
    if month_parts(&mut tx, (first, span), now).await?.as_ref().map(|f| &f.0) != Some(&parts) {
        tx.rollback().await?;
        return Ok(false);
    }
    sqlx::query("UPDATE kpi_days SET filled = 1, parts = $1, valid_until = $2 WHERE day = $3 AND span = $4")
        .bind(parts)
        .bind(until)
        .bind(first)
        .bind(span)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(true)
}

/// Keeps, as the counts of `target`, the sums per unit and per community of the kept counts of
/// `parts` (the days of a week, the weeks and days of a month).
async fn insert_sum(tx: &mut super::Tx, target: Block, parts: &[Block]) -> Result<(), sqlx::Error> {
    let mut w = Where::default();
    let (d, s) = (w.int(target.0), w.int(target.1));
    let which: Vec<String> =
        parts.iter().map(|&(day, span)| format!("(day = {} AND span = {})", w.int(day), w.int(span))).collect();
    let sums: Vec<String> = COLUMNS.iter().map(|c| format!("SUM({c})")).collect();
    let sql = format!(
        "INSERT INTO kpi_day_counts (day, span, grp, key, {}) SELECT {d}, {s}, grp, key, {} FROM kpi_day_counts \
         WHERE {} GROUP BY grp, key",
        COLUMNS.join(", "),
        sums.join(", "),
        which.join(" OR ")
    );
    super::bind_args(sqlx::query(&sql), &w.args).execute(&mut **tx).await?;
    Ok(())
}

/// The fewest kept weeks and days covering a month (a week only where it lies wholly inside),
/// as its parts, and the earliest of their validities; None unless every day is covered by a
/// block filled and valid at `now`.
async fn month_parts(
    tx: &mut super::Tx,
    (first, span): Block,
    now: i64,
) -> Result<Option<(String, Option<i64>)>, sqlx::Error> {
    let rows: Vec<(i64, i64, String, Option<i64>)> = sqlx::query_as(
        "SELECT day, span, token, valid_until FROM kpi_days WHERE span IN (1, 7) AND day >= $1 AND day < $2 \
         AND filled = 1 AND (valid_until IS NULL OR valid_until > $3) AND built_at <= $3",
    )
    .bind(first)
    .bind(first + span)
    .bind(now)
    .fetch_all(&mut **tx)
    .await?;
    let kept: HashMap<Block, (String, Option<i64>)> = rows.into_iter().map(|(d, s, t, u)| ((d, s), (t, u))).collect();
    let (mut parts, mut until, mut d) = (Vec::new(), None::<i64>, first);
    while d < first + span {
        let week = (d, 7);
        let block = if monday_of(d) == d && d + 7 <= first + span && kept.contains_key(&week) { week } else { (d, 1) };
        let Some((token, valid_until)) = kept.get(&block) else { return Ok(None) };
        until = match (until, *valid_until) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        parts.push((block, token.clone()));
        d += block.1;
    }
    Ok(Some((parts_of(&parts), until)))
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
        // December 2026 has 31 days from day 20788; February 2028 (a leap year) 29.
        let december =
            day_of(chrono::DateTime::parse_from_rfc3339("2026-12-01T00:00:00+08:00").unwrap().timestamp_millis());
        assert_eq!(month_of(day_of(midnight)), (december, 31));
        assert_eq!(month_of(december + 30), (december, 31));
        assert_eq!(month_of(december - 1).1, 30);
        let leap =
            day_of(chrono::DateTime::parse_from_rfc3339("2028-02-29T12:00:00+08:00").unwrap().timestamp_millis());
        assert_eq!(month_of(leap), (leap - 28, 29));
    }
}
