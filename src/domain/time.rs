//! Storage keeps UTC epoch milliseconds; screens show Asia/Shanghai (UTC+8, no DST).

use chrono::{DateTime, FixedOffset, NaiveDate, TimeZone, Utc};

pub fn shanghai() -> FixedOffset {
    FixedOffset::east_opt(8 * 3600).expect("UTC+8 is a valid offset")
}

tokio::task_local! {
    /// "Now" for one task replaying the past (the demo city's weeks of history go through the
    /// real use cases at the times they happened). Unset everywhere else.
    static REPLAY_NOW: i64;
}

/// The current time, UTC epoch milliseconds (the replayed time inside `replay_at`).
pub fn now_ms() -> i64 {
    REPLAY_NOW.try_with(|t| *t).unwrap_or_else(|_| Utc::now().timestamp_millis())
}

/// Runs `f` with `now_ms()` answering `at` in this task (tasks it spawns see the real time).
pub async fn replay_at<F: std::future::Future>(at: i64, f: F) -> F::Output {
    REPLAY_NOW.scope(at, f).await
}

pub fn to_local(ms: i64) -> DateTime<FixedOffset> {
    let utc = Utc.timestamp_millis_opt(ms).single().unwrap_or_default();
    utc.with_timezone(&shanghai())
}

/// "2026-11-22 23:08:05" in Beijing time.
pub fn fmt_local(ms: i64) -> String {
    to_local(ms).format("%Y-%m-%d %H:%M:%S").to_string()
}

/// A period [start, end) as its first and last days: "2026-11-16至2026-11-22".
pub fn fmt_period(start: i64, end: i64) -> String {
    format!("{}至{}", to_local(start).format("%Y-%m-%d"), to_local(end - 1).format("%Y-%m-%d"))
}

/// RFC 3339 with the +08:00 offset, for the JSON API.
pub fn rfc3339_local(ms: i64) -> String {
    to_local(ms).to_rfc3339()
}

/// Start of a local calendar day ("2026-11-22") as UTC epoch milliseconds.
pub fn parse_local_day_start(s: &str) -> Option<i64> {
    let date = NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").ok()?;
    let local = shanghai().from_local_datetime(&date.and_hms_opt(0, 0, 0)?).single()?;
    Some(local.timestamp_millis())
}

pub const DAY_MS: i64 = 24 * 3600 * 1000;

/// Midnight at the end of the Beijing day holding `t`.
pub fn end_of_local_day(t: i64) -> i64 {
    parse_local_day_start(&to_local(t).format("%Y-%m-%d").to_string()).unwrap_or(t) + DAY_MS
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_time_is_utc_plus_eight() {
        // 2026-11-22 15:08:00 UTC is 23:08 in Shanghai.
        let ms = Utc.with_ymd_and_hms(2026, 11, 22, 15, 8, 0).unwrap().timestamp_millis();
        assert_eq!(fmt_local(ms), "2026-11-22 23:08:00");
        assert!(rfc3339_local(ms).ends_with("+08:00"));
    }

    #[tokio::test]
    async fn a_replay_sets_the_time_for_its_task_only() {
        let past = parse_local_day_start("2026-11-02").unwrap();
        let (inside, spawned) =
            replay_at(past, async { (now_ms(), tokio::spawn(async { now_ms() }).await.unwrap()) }).await;
        assert_eq!(inside, past);
        assert!(spawned > past + DAY_MS && now_ms() > past + DAY_MS, "outside the replay the clock is real");
    }

    #[test]
    fn local_day_start_is_sixteen_hundred_utc_the_day_before() {
        let ms = parse_local_day_start("2026-02-17").unwrap();
        let utc = Utc.timestamp_millis_opt(ms).unwrap();
        assert_eq!(utc.to_rfc3339(), "2026-02-16T16:00:00+00:00");
        assert!(parse_local_day_start("2026-02-30").is_none());
        assert!(parse_local_day_start("昨天").is_none());
    }
}
