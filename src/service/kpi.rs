//! KPIs per unit or community for a period, computed from the stored timestamps.

use super::Ctx;
use super::problems::scope;
use crate::domain::kpi::{Counts, Kpi, from_counts};
use crate::domain::time::now_ms;
use crate::error::AppResult;
use crate::store::Db;
use crate::store::kpi_days;
use crate::store::problems::{self as store, KpiCounts, ProblemFilter};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use utoipa::ToSchema;

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct KpiLine {
    pub key: String,
    pub name: String,
    #[serde(flatten)]
    pub kpi: Kpi,
    /// 点位汇报率: the daily reports filed over those expected (active points × working days of
    /// the period up to today), in percent; None when nothing was expected
    pub report_rate: Option<f64>,
}

/// KPIs for problems dispatched in [from, to), grouped by unit or by community, plus the total;
/// with `area`, of the problems at points in that street or community (within what the reader
/// may see: another area is refused). The database does the counting; the ratios are computed
/// here from the counts.
pub async fn report(
    ctx: &Ctx<'_>,
    (from, to): (i64, i64),
    by_community: bool,
    area: Option<&str>,
) -> AppResult<(Vec<KpiLine>, Kpi)> {
    let mut f = scope(ctx).await?;
    if let Some(id) = area.map(str::trim).filter(|a| !a.is_empty()) {
        let held = super::access::area_scope(ctx).await?;
        let (_, ids) = super::access::asked_area(ctx, held.as_ref(), id, "只能查看本人负责区域的指标").await?;
        f.area_ids = Some(super::access::within(f.area_ids.take(), ids));
    }
    f.dispatched_from = Some(from);
    f.dispatched_to = Some(to);
    let day = |ms: i64| crate::domain::time::to_local(ms).date_naive();
    // The counts and the reporting rate beside them, side by side (each on its own connection).
    let (rows, rates) = tokio::try_join!(
        counts(ctx.db, &f, by_community, now_ms()),
        super::weekly_summaries::rates_by(ctx.db, day(from), day(to - 1), by_community)
    )?;
    let mut total = Counts::default();
    let mut lines: Vec<KpiLine> = rows
        .iter()
        .map(|r| {
            total += r.counts();
            let name = match (&r.name, by_community) {
                (Some(n), _) => n.clone(),
                (None, true) => "（未指定社区）".into(),
                (None, false) => "（未知单位）".into(),
            };
            let key = r.key.clone().unwrap_or_default();
            KpiLine { report_rate: rates.get(&key).copied(), key, name, kpi: from_counts(r.counts()) }
        })
        .collect();
    lines.sort_by(|a, b| a.name.cmp(&b.name).then_with(|| a.key.cmp(&b.key)));
    Ok((lines, from_counts(total)))
}

/// The case-loop counts of the problems dispatched in the filter's [from, to) within its scope,
/// grouped by unit or by community, with `late` as of `now`: the same lines
/// `store::kpi_counts` computes from the records, read from the kept days and weeks where they
/// still hold (`store::kpi_days`). The whole past days of the period are read kept (a whole
/// week at once where it can); the parts of days at its ends, today and any day not validly kept
/// are computed. A city-wide reader (the office) keeps what it had to compute, for the next
/// reader; a unit reads its own lines, and a reader held to areas its communities' lines, and
/// neither keeps anything. A unit's lines by community, an area's lines by unit, and a filter
/// with any other condition are computed.
pub async fn counts(db: &Db, f: &ProblemFilter, by_community: bool, now: i64) -> AppResult<Vec<KpiCounts>> {
    let scope_only =
        ProblemFilter { unit_id: None, area_ids: None, dispatched_from: None, dispatched_to: None, ..f.clone() }
            == ProblemFilter::default();
    // The kept lines are per unit and per community: a reading limited to some of them reads those.
    let keys: Option<Vec<String>> = match (&f.unit_id, &f.area_ids, by_community) {
        (None, None, _) => None,
        (Some(unit), None, false) => Some(vec![unit.clone()]),
        (None, Some(areas), true) => Some(areas.clone()),
        _ => return Ok(store::kpi_counts(db, f, by_community, now).await?),
    };
    let city_wide = keys.is_none();
    let (Some(from), Some(to), true) = (f.dispatched_from, f.dispatched_to, scope_only) else {
        return Ok(store::kpi_counts(db, f, by_community, now).await?);
    };
    // The whole days inside [from, to) that are over.
    let first = kpi_days::day_of(from - 1) + 1;
    let end = kpi_days::day_of(to).min(kpi_days::day_of(now));
    if first >= end {
        return Ok(store::kpi_counts(db, f, by_community, now).await?);
    }
    let mut valid = kpi_days::valid_blocks(db, first, end, now).await?;
    // Windows are read only on the day they end at (see `kpi_days::fill_window`).
    let today = kpi_days::day_of(now);
    valid.retain(|&b| b.1 <= 7 || kpi_days::is_month(b) || b.0 + b.1 == today);
    if city_wide {
        keep_for_reading(db, (first, end), today, now, &mut valid).await?;
    }
    let (blocks, missing) = cover(first, end, &valid);
    // What is not read kept is computed: the ends, and the days not kept.
    let mut live: Vec<(i64, i64)> = Vec::new();
    let mut add = |a: i64, b: i64| match live.last_mut() {
        Some(last) if last.1 == a => last.1 = b,
        _ if a < b => live.push((a, b)),
        _ => {}
    };
    add(from, kpi_days::day_start(first));
    for d in missing {
        add(kpi_days::day_start(d), kpi_days::day_start(d + 1));
    }
    add(kpi_days::day_start(end), to);
    let mut lines: BTreeMap<Option<String>, KpiCounts> = BTreeMap::new();
    let mut merge = |rows: Vec<KpiCounts>| {
        for r in rows {
            let line =
                lines.entry(r.key.clone()).or_insert_with(|| KpiCounts { key: r.key.clone(), ..Default::default() });
            line.counts += r.counts;
            line.late += r.late;
            if line.name.is_none() {
                line.name = r.name;
            }
        }
    };
    // The computed parts run beside the kept read, on their own connection (one after another,
    // so that a reader with many days not kept takes one connection, not one per day).
    let computed = {
        let (db, f) = (db.clone(), f.clone());
        tokio::spawn(async move {
            let mut rows = Vec::new();
            for (a, b) in live {
                let part = ProblemFilter { dispatched_from: Some(a), dispatched_to: Some(b), ..f.clone() };
                rows.extend(store::kpi_counts(&db, &part, by_community, now).await?);
            }
            Ok::<_, sqlx::Error>(rows)
        })
    };
    merge(kpi_days::read(db, &blocks, keys.as_deref(), by_community).await?);
    merge(computed.await.map_err(|e| crate::error::AppError::Internal(e.into()))??);
    Ok(lines.into_values().collect())
}

/// What a city-wide reading of the days [first, end) keeps before it reads: the days not kept
/// (at most two months' worth), the whole recent months, and the window of the two periods
/// offices read most; `valid` gains what was kept.
async fn keep_for_reading(
    db: &Db,
    (first, end): (i64, i64),
    today: i64,
    now: i64,
    valid: &mut BTreeSet<kpi_days::Block>,
) -> AppResult<()> {
    let (_, missing) = cover(first, end, valid);
    // A reading keeps at most two months' days: a longer period is computed where it is not
    // kept, so that one request never holds the writer for a year's days.
    if !missing.is_empty() && missing.len() as i64 <= RECENT_DAYS {
        valid.extend(keep(db, first, end, valid, now).await?);
    }
    // Months are summed in the reading only within the recent days (at most two): older
    // ones are read as their weeks and days, so that one reading never builds a year's.
    valid.extend(keep_months(db, first.max(end - RECENT_DAYS), end, valid, now).await?);
    // The periods offices read most, the last 30 days and this month so far (the page's
    // default): their past days summed into one kept block once a day, instead of some
    // eleven weeks and days at every reading. Other periods are not kept as windows, so a
    // day keeps at most two (and none of a week or less: see `fill_window`).
    let (blocks, missing) = cover(first, end, valid);
    if end == today
        && (end - first == 29 || first == kpi_days::month_of(today).0)
        && end - first <= RECENT_DAYS
        && missing.is_empty()
        && blocks.len() > 2
        && kpi_days::fill_window(db, first, end, now).await?
    {
        valid.insert((first, end - first));
    }
    Ok(())
}

/// The fewest valid blocks covering the days [first, end): the whole period where it is kept as
/// one window, otherwise a whole calendar month or week where it is kept, otherwise its kept
/// days; and the days left uncovered.
fn cover(first: i64, end: i64, valid: &BTreeSet<kpi_days::Block>) -> (Vec<kpi_days::Block>, Vec<i64>) {
    let (mut blocks, mut missing) = (Vec::new(), Vec::new());
    // A kept window of the whole period (see `kpi_days::fill_window`).
    if end - first > 7 && valid.contains(&(first, end - first)) {
        return (vec![(first, end - first)], missing);
    }
    let mut d = first;
    while d < end {
        let month = kpi_days::month_of(d);
        if month.0 == d && d + month.1 <= end && valid.contains(&month) {
            blocks.push(month);
            d += month.1;
            continue;
        }
        if kpi_days::monday_of(d) == d && d + 7 <= end && valid.contains(&(d, 7)) {
            blocks.push((d, 7));
            d += 7;
            continue;
        }
        if valid.contains(&(d, 1)) {
            blocks.push((d, 1));
        } else {
            missing.push(d);
        }
        d += 1;
    }
    (blocks, missing)
}

/// How far back the background jobs keep the KPI days warm: this month and last month, whatever
/// the day (the office's usual periods).
const RECENT_DAYS: i64 = 62;

/// The background job's part of the KPIs: keeps, city-wide, the past days of the last
/// `RECENT_DAYS` (and their whole weeks, then whole months) that no valid kept block covers, newest week first,
/// up to `limit` days a round, so that the office's reader finds them kept instead of computing
/// them in its request. Several instances may run it at once: a block one of them is filling is
/// re-claimed by the other, and only the last claim's fill is kept. Returns the blocks kept.
pub async fn keep_recent(db: &Db, now: i64, limit: usize) -> AppResult<usize> {
    let end = kpi_days::day_of(now);
    let start = end - RECENT_DAYS;
    let mut valid = kpi_days::valid_blocks(db, start, end, now).await?;
    let (mut days, mut blocks) = (0, 0);
    let mut monday = kpi_days::monday_of(end);
    while monday + 7 > start && days < limit {
        let (a, b) = (monday.max(start), (monday + 7).min(end));
        let missing = (a..b).filter(|d| !valid.contains(&(*d, 1))).count();
        let week_missing = a == monday && b == monday + 7 && !valid.contains(&(monday, 7));
        if a < b && (missing > 0 || week_missing) {
            let kept = keep(db, a, b, &valid, now).await?;
            days += missing;
            blocks += kept.len();
            valid.extend(kept);
        }
        monday -= 7;
    }
    Ok(blocks + keep_months(db, start, end, &valid, now).await?.len())
}

/// Keeps the whole calendar months inside [first, end) whose days are all kept and valid and
/// which are not kept yet, each as the sum of its kept weeks and days (cheap: no problem is
/// read); the months kept.
async fn keep_months(
    db: &Db,
    first: i64,
    end: i64,
    valid: &BTreeSet<kpi_days::Block>,
    now: i64,
) -> AppResult<Vec<kpi_days::Block>> {
    let mut kept = Vec::new();
    let mut d = kpi_days::month_of(first).0;
    while d < end {
        let month = kpi_days::month_of(d);
        let days_kept = (d..d + month.1).all(|day| valid.contains(&(day, 1)));
        if d >= first
            && d + month.1 <= end
            && days_kept
            && !valid.contains(&month)
            && kpi_days::fill_month(db, d, now).await?
        {
            kept.push(month);
        }
        d += month.1;
    }
    Ok(kept)
}

/// Computes and keeps, city-wide, the past days in [first, end) not validly kept and the whole
/// weeks among them; the blocks kept (one a change reached while it was computed is not).
async fn keep(
    db: &Db,
    first: i64,
    end: i64,
    valid: &BTreeSet<kpi_days::Block>,
    now: i64,
) -> AppResult<Vec<kpi_days::Block>> {
    let days: Vec<i64> = (first..end).filter(|d| !valid.contains(&(*d, 1))).collect();
    let weeks: Vec<i64> =
        (first..end).filter(|&d| kpi_days::monday_of(d) == d && d + 7 <= end && !valid.contains(&(d, 7))).collect();
    let claims: Vec<kpi_days::Block> = days.iter().map(|&d| (d, 1)).chain(weeks.iter().map(|&w| (w, 7))).collect();
    let token = crate::domain::ids::new_id();
    if !kpi_days::claim(db, &claims, &token, now).await? {
        return Ok(Vec::new());
    }
    let mut kept = Vec::new();
    for d in days {
        if kpi_days::fill_day(db, &token, d, now).await? {
            kept.push((d, 1));
        }
    }
    for w in weeks {
        if kpi_days::fill_week(db, &token, w, now).await? {
            kept.push((w, 7));
        }
    }
    Ok(kept)
}
