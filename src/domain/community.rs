//! Community work: the vocabularies and pure rules of daily progress reports, weekly community
//! summaries, volunteer service, residents' deliberation and civilized-unit applications.

use chrono::{Datelike, NaiveDate};

crate::vocab! {
    /// Where a community's weekly summary stands.
    pub enum SummaryState: "周汇总状态" {
        Draft("draft", "草稿"),
        Submitted("submitted", "已报街道"),
        Acknowledged("acknowledged", "街道已阅"),
    }
}

crate::vocab! {
    /// One volunteer at one occurrence of an activity.
    pub enum ServiceState: "服务记录状态" {
        SignedUp("signed_up", "已报名"),
        SignedIn("signed_in", "已签到"),
        SignedOut("signed_out", "已签退"),
        Confirmed("confirmed", "时长已确认"),
    }
}

crate::vocab! {
    /// How a suggestion reached the community.
    pub enum Channel: "议事来源" {
        Meeting("meeting", "议事会现场"),
        Online("online", "网上提交"),
    }
}

crate::vocab! {
    /// Where a resident's suggestion stands.
    pub enum SuggestionState: "建议状态" {
        Open("open", "待答复"),
        Routed("routed", "已转单位办理"),
        Answered("answered", "已答复"),
    }
}

crate::vocab! {
    /// Where a civilized-unit application stands.
    pub enum ApplicationState: "文明单位申报状态" {
        Submitted("submitted", "待评审"),
        Returned("returned", "退回补充"),
        Passed("passed", "评审通过"),
        Failed("failed", "未通过"),
        Named("named", "已命名"),
        Revoked("revoked", "已撤销称号"),
    }
}

/// The eight criteria of a city's 文明单位 standard (seed 004) with their points (100 in all).
pub const CRITERIA: [(&str, i64); 8] = [
    ("组织领导坚强有力", 15),
    ("思想道德风尚良好", 15),
    ("业务工作实绩显著", 15),
    ("文化建设扎实有效", 10),
    ("民主管理科学规范", 10),
    ("内外环境整洁优美", 15),
    ("社会治安综合治理良好", 10),
    ("示范作用明显", 10),
];

/// The score an application needs to pass review.
pub const PASS_MARK: f64 = 85.0;

/// Weekdays as stored ("2,5" = Tuesday and Friday; 1 = Monday … 7 = Sunday), read from what
/// people type: digits or 一…日 / 天 (周日、星期天), lists ("二、五", "2,5"), ranges ("一至五",
/// "周一到周五", "1-5", "工作日", "周末") and every day ("每天", "每日", "天天", "全周"). Anything else (a
/// letter, an unknown word) refuses the whole text rather than guessing.
pub fn parse_weekdays(s: &str) -> Option<Vec<u32>> {
    let s = s.trim().replace("工作日", "一至五").replace("周末", "六、日");
    if ["每天", "每日", "天天", "全周", "全天"].iter().any(|w| s.contains(w)) {
        return Some((1..=7).collect());
    }
    let mut out: Vec<u32> = Vec::new();
    // The day before a range sign ("一至五": 一), waiting for the range's end.
    let (mut last, mut range_from): (Option<u32>, Option<u32>) = (None, None);
    for c in s.chars() {
        let d = match c {
            '1'..='7' => c.to_digit(10)?,
            '一' => 1,
            '二' => 2,
            '三' => 3,
            '四' => 4,
            '五' => 5,
            '六' => 6,
            '日' | '天' => 7,
            '至' | '到' | '-' | '~' | '～' | '—' | '－' => {
                range_from = Some(last?);
                continue;
            }
            '周' | '星' | '期' | '礼' | '拜' | '每' | '、' | ',' | '，' | ';' | '；' | '和' | '及' | '与' | ' '
            | '\u{3000}' => {
                continue;
            }
            _ => return None,
        };
        let from = range_from.take().unwrap_or(d);
        if from > d {
            return None;
        }
        for x in from..=d {
            if !out.contains(&x) {
                out.push(x);
            }
        }
        last = Some(d);
    }
    if range_from.is_some() {
        return None;
    }
    out.sort_unstable();
    (!out.is_empty()).then_some(out)
}

pub fn weekdays_text(days: &[u32]) -> String {
    days.iter().map(|d| d.to_string()).collect::<Vec<_>>().join(",")
}

/// "每周二、五".
pub fn weekdays_label(stored: &str) -> String {
    const NAMES: [&str; 7] = ["一", "二", "三", "四", "五", "六", "日"];
    let days = parse_weekdays(stored).unwrap_or_default();
    format!("每周{}", days.iter().map(|d| NAMES[(*d - 1) as usize]).collect::<Vec<_>>().join("、"))
}

/// Whether a recurring activity takes place on a day.
pub fn occurs_on(stored_weekdays: &str, first: NaiveDate, last: NaiveDate, day: NaiveDate) -> bool {
    day >= first
        && day <= last
        && parse_weekdays(stored_weekdays).unwrap_or_default().contains(&day.weekday().number_from_monday())
}

/// The occurrences of an activity from `from` for `n` days.
pub fn occurrences(
    stored_weekdays: &str,
    first: NaiveDate,
    last: NaiveDate,
    from: NaiveDate,
    n: u32,
) -> Vec<NaiveDate> {
    (0..n)
        .filter_map(|i| from.checked_add_days(chrono::Days::new(i as u64)))
        .filter(|d| occurs_on(stored_weekdays, first, last, *d))
        .collect()
}

/// Service minutes between sign-in and sign-out, whole minutes, capped at the activity's own
/// length plus an hour (a forgotten sign-out does not earn a night of service).
pub fn service_minutes(signed_in: i64, signed_out: i64, planned_minutes: i64) -> i64 {
    ((signed_out - signed_in).max(0) / 60_000).min(planned_minutes + 60)
}

/// "HH:MM" to minutes after midnight.
pub fn clock_minutes(s: &str) -> Option<i64> {
    let (h, m) = s.trim().split_once(':')?;
    let (h, m): (i64, i64) = (h.parse().ok()?, m.parse().ok()?);
    ((0..24).contains(&h) && (0..60).contains(&m) && m.to_string().len() <= 2).then_some(h * 60 + m)
}

/// The Monday of a day's week.
pub fn week_start(day: NaiveDate) -> NaiveDate {
    day - chrono::Days::new(day.weekday().num_days_from_monday() as u64)
}

/// A share in percent with one decimal; None when there is nothing to divide by.
pub fn percent(part: i64, whole: i64) -> Option<f64> {
    (whole > 0).then(|| (part as f64 * 1000.0 / whole as f64).round() / 10.0)
}

/// An application's total from the eight criterion scores, each clamped to its maximum.
pub fn total(scores: &[f64]) -> Option<f64> {
    if scores.len() != CRITERIA.len() {
        return None;
    }
    let mut sum = 0.0;
    for (s, (_, max)) in scores.iter().zip(CRITERIA) {
        if !s.is_finite() || *s < 0.0 || *s > max as f64 {
            return None;
        }
        sum += s;
    }
    Some((sum * 10.0).round() / 10.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn weekdays_read_as_people_type_them() {
        assert_eq!(parse_weekdays("2,5"), Some(vec![2, 5]));
        assert_eq!(parse_weekdays("周二、周五"), Some(vec![2, 5]));
        assert_eq!(parse_weekdays("五 二 二"), Some(vec![2, 5]));
        assert_eq!(parse_weekdays("星期日"), Some(vec![7]));
        assert_eq!(parse_weekdays("8"), None);
        assert_eq!(parse_weekdays("每周"), None);
        // Every day and ranges, as people write them; never Sunday alone for "每天".
        let all: Vec<u32> = (1..=7).collect();
        for every in ["每天", "每日", "天天", "全周", "一至日", "周一至周日", "星期一到星期天", "1-7"]
        {
            assert_eq!(parse_weekdays(every).as_ref(), Some(&all), "{every}");
        }
        assert_eq!(parse_weekdays("一至五"), Some(vec![1, 2, 3, 4, 5]));
        assert_eq!(parse_weekdays("周一到周三、周六"), Some(vec![1, 2, 3, 6]));
        assert_eq!(parse_weekdays("每周日"), Some(vec![7]));
        assert_eq!(parse_weekdays("五至一"), None, "a range backwards is refused");
        assert_eq!(parse_weekdays("一至"), None);
        assert_eq!(parse_weekdays("工作日"), Some(vec![1, 2, 3, 4, 5]));
        assert_eq!(parse_weekdays("周末"), Some(vec![6, 7]));
        assert_eq!(parse_weekdays("节假日"), None, "an unknown word is refused, not read as 日");
        assert_eq!(weekdays_label("2,5"), "每周二、五");
    }

    #[test]
    fn a_tuesday_and_friday_activity_occurs_only_then_and_within_its_dates() {
        // 2026-12-01 is a Tuesday.
        let (first, last) = (d("2026-12-01"), d("2026-12-31"));
        assert!(occurs_on("2,5", first, last, d("2026-12-01")));
        assert!(occurs_on("2,5", first, last, d("2026-12-04")));
        assert!(!occurs_on("2,5", first, last, d("2026-12-03")));
        assert!(!occurs_on("2,5", first, last, d("2026-11-27")), "before the first day");
        let next = occurrences("2,5", first, last, d("2026-12-02"), 7);
        assert_eq!(next, vec![d("2026-12-04"), d("2026-12-08")]);
        assert_eq!(week_start(d("2026-12-06")), d("2026-11-30"));
    }

    #[test]
    fn minutes_are_capped_and_never_negative() {
        let h = 3_600_000;
        assert_eq!(service_minutes(0, 2 * h, 120), 120);
        assert_eq!(service_minutes(0, 10 * h, 120), 180);
        assert_eq!(service_minutes(h, 0, 120), 0);
        assert_eq!(clock_minutes("09:30"), Some(570));
        assert_eq!(clock_minutes("24:00"), None);
        assert_eq!(clock_minutes("9点"), None);
    }

    #[test]
    fn totals_need_eight_scores_within_their_maxima() {
        let full: Vec<f64> = CRITERIA.iter().map(|c| c.1 as f64).collect();
        assert_eq!(total(&full), Some(100.0));
        assert_eq!(CRITERIA.iter().map(|c| c.1).sum::<i64>(), 100);
        let mut over = full.clone();
        over[3] = 11.0;
        assert_eq!(total(&over), None);
        assert_eq!(total(&full[..7]), None);
        assert_eq!(percent(1, 3), Some(33.3));
        assert_eq!(percent(1, 0), None);
    }
}
