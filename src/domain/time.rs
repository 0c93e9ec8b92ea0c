//! Storage keeps UTC epoch milliseconds; screens show Asia/Shanghai (UTC+8, no DST).

use chrono::{DateTime, FixedOffset, NaiveDate, TimeZone, Utc};

pub fn shanghai() -> FixedOffset {
    FixedOffset::east_opt(8 * 3600).expect("UTC+8 is a valid offset")
}

pub fn now_ms() -> i64 {
    Utc::now().timestamp_millis()
}

pub fn to_local(ms: i64) -> DateTime<FixedOffset> {
    let utc = Utc.timestamp_millis_opt(ms).single().unwrap_or_default();
    utc.with_timezone(&shanghai())
}

/// "2026-11-22 23:08:05" in Beijing time.
pub fn fmt_local(ms: i64) -> String {
    to_local(ms).format("%Y-%m-%d %H:%M:%S").to_string()
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

    #[test]
    fn local_day_start_is_sixteen_hundred_utc_the_day_before() {
        let ms = parse_local_day_start("2026-02-17").unwrap();
        let utc = Utc.timestamp_millis_opt(ms).unwrap();
        assert_eq!(utc.to_rfc3339(), "2026-02-16T16:00:00+00:00");
        assert!(parse_local_day_start("2026-02-30").is_none());
        assert!(parse_local_day_start("昨天").is_none());
    }
}
