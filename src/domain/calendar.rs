//! Chinese working-day calendar: weekends off except swapped working days (调休上班), public
//! holidays off, both given as yearly data; working hours as local settings. Pure functions only.
//! All times here are local (Asia/Shanghai, +08:00).

use super::code::RowError;
use chrono::{DateTime, Datelike, Duration, FixedOffset, NaiveDate, NaiveTime, TimeZone, Weekday};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

pub type Local = DateTime<FixedOffset>;

/// The working segments of a working day, e.g. 08:30-12:00 and 13:30-17:30.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkingHours {
    segments: Vec<(NaiveTime, NaiveTime)>,
}

impl Default for WorkingHours {
    fn default() -> Self {
        WorkingHours::parse("08:30-12:00,13:30-17:30").expect("default working hours are valid")
    }
}

impl WorkingHours {
    /// Parses "08:30-12:00,13:30-17:30": ordered, non-overlapping segments within one day.
    pub fn parse(s: &str) -> Result<WorkingHours, String> {
        let mut segments = Vec::new();
        for part in s.split([',', '，', ';', '；']).map(str::trim).filter(|p| !p.is_empty()) {
            let (a, b) = part.split_once('-').ok_or_else(|| format!("“{part}”应为“开始-结束”，如08:30-12:00"))?;
            let t = |x: &str| {
                NaiveTime::parse_from_str(x.trim(), "%H:%M").map_err(|_| format!("“{}”不是有效时间", x.trim()))
            };
            let (start, end) = (t(a)?, t(b)?);
            if start >= end {
                return Err(format!("“{part}”的结束时间应晚于开始时间"));
            }
            if let Some(&(_, prev_end)) = segments.last()
                && start < prev_end
            {
                return Err(format!("“{part}”与前一时段重叠或顺序颠倒"));
            }
            segments.push((start, end));
        }
        if segments.is_empty() {
            return Err("请至少填写一个工作时段".into());
        }
        Ok(WorkingHours { segments })
    }

    pub fn segments(&self) -> &[(NaiveTime, NaiveTime)] {
        &self.segments
    }

    pub fn minutes_per_day(&self) -> i64 {
        self.segments.iter().map(|(a, b)| (*b - *a).num_minutes()).sum()
    }
}

impl std::fmt::Display for WorkingHours {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let parts: Vec<String> =
            self.segments.iter().map(|(a, b)| format!("{}-{}", a.format("%H:%M"), b.format("%H:%M"))).collect();
        f.write_str(&parts.join(","))
    }
}

crate::vocab! {
    /// What a special day of the calendar is.
    pub enum DayKind: "日期类型" {
        /// A day off on what would be a working day
        Holiday("holiday", "放假"),
        /// A swapped working day on a weekend
        Workday("workday", "调休上班"),
    }
}

/// One special day of a year's data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SpecialDay {
    pub date: String,
    pub name: String,
}

/// A year as the State Council publishes it: days off and swapped working days.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct YearData {
    pub year: i32,
    #[serde(default)]
    pub source: String,
    #[serde(default)]
    pub holidays: Vec<SpecialDay>,
    #[serde(default)]
    pub workdays: Vec<SpecialDay>,
}

/// A validated date with its name ("春节", "国庆节调休上班").
pub type NamedDay = (NaiveDate, String);

impl YearData {
    /// Checks every entry and reports every problem (not just the first).
    pub fn validate(&self) -> Result<(Vec<NamedDay>, Vec<NamedDay>), Vec<RowError>> {
        let mut errors = Vec::new();
        if !(2000..=2100).contains(&self.year) {
            errors.push(RowError::new("year", 0, "year", "年份应在2000至2100之间"));
        }
        let mut seen: BTreeMap<NaiveDate, &'static str> = BTreeMap::new();
        let mut check = |list: &'static str, label: &str, days: &[SpecialDay]| {
            let mut ok = Vec::new();
            for (i, d) in days.iter().enumerate() {
                let err = |m: String| RowError::new(list, i + 1, "date", m).with_key(d.date.clone());
                let Ok(date) = NaiveDate::parse_from_str(d.date.trim(), "%Y-%m-%d") else {
                    errors.push(err(format!("日期“{}”格式应为YYYY-MM-DD", d.date)));
                    continue;
                };
                if date.year() != self.year {
                    errors.push(err(format!("{}不属于{}年", d.date, self.year)));
                    continue;
                }
                if let Some(other) = seen.insert(date, list) {
                    let what = if other == list {
                        format!("{label}中重复")
                    } else {
                        "同时出现在节假日和调休上班日中".into()
                    };
                    errors.push(err(format!("{} {what}", d.date)));
                    continue;
                }
                let name = d.name.trim();
                if name.is_empty() || name.chars().count() > 20 {
                    errors.push(err(format!("{} 的名称应为1至20个字", d.date)));
                    continue;
                }
                if list == "workdays" && !matches!(date.weekday(), Weekday::Sat | Weekday::Sun) {
                    errors.push(err(format!("{} 不是周末，无需列为调休上班日", d.date)));
                    continue;
                }
                ok.push((date, name.to_string()));
            }
            ok
        };
        let holidays = check("holidays", "节假日", &self.holidays);
        let workdays = check("workdays", "调休上班日", &self.workdays);
        if errors.is_empty() { Ok((holidays, workdays)) } else { Err(errors) }
    }
}

/// The stamp of figures that read no day of the calendar.
const NO_DAYS: &str = "days:-";

#[derive(Debug, Clone, Default)]
pub struct Calendar {
    holidays: BTreeMap<NaiveDate, String>,
    workdays: BTreeMap<NaiveDate, String>,
    years: BTreeSet<i32>,
    hours: WorkingHours,
}

fn shanghai() -> FixedOffset {
    super::time::shanghai()
}

fn at(d: NaiveDate, t: NaiveTime) -> Local {
    shanghai().from_local_datetime(&d.and_time(t)).single().expect("UTC+8 has no gaps")
}

impl Calendar {
    pub fn new(hours: WorkingHours) -> Calendar {
        Calendar { hours, ..Default::default() }
    }

    /// Adds a year's days (already validated).
    pub fn add_year(&mut self, year: i32, holidays: Vec<NamedDay>, workdays: Vec<NamedDay>) {
        self.years.insert(year);
        self.holidays.extend(holidays);
        self.workdays.extend(workdays);
    }

    pub fn hours(&self) -> &WorkingHours {
        &self.hours
    }

    /// True when official data for the year is loaded; without it only weekends count as off.
    pub fn covers(&self, year: i32) -> bool {
        self.years.contains(&year)
    }

    /// Why a day is (not) worked, for people: "春节", "春节调休上班", "周末" or "工作日".
    pub fn describe(&self, d: NaiveDate) -> String {
        if let Some(n) = self.holidays.get(&d) {
            return n.clone();
        }
        if let Some(n) = self.workdays.get(&d) {
            return n.clone();
        }
        if matches!(d.weekday(), Weekday::Sat | Weekday::Sun) { "周末".into() } else { "工作日".into() }
    }

    /// A short stamp of which days from `from` to `to` (both included) are worked, for figures
    /// that read nothing else of the calendar (`None`: they read no day). Such figures hold while
    /// `holds` finds the stamp unchanged: loading next year's holidays or changing the working
    /// hours leaves a stamp of this year's days as it was.
    pub fn stamp(&self, days: Option<(NaiveDate, NaiveDate)>) -> String {
        let Some((from, to)) = days else { return NO_DAYS.into() };
        // FNV-1a: stable across builds, unlike the standard library's hasher.
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        let mut eat = |bytes: &[u8]| {
            for b in bytes {
                h = (h ^ u64::from(*b)).wrapping_mul(0x100_0000_01b3);
            }
        };
        for (mark, map) in [(b'H', &self.holidays), (b'W', &self.workdays)] {
            for d in map.range(from..=to).map(|(d, _)| d) {
                eat(&[mark]);
                eat(d.to_string().as_bytes());
            }
        }
        format!("days:{from}:{to}:{h:016x}")
    }

    /// Whether the days a `stamp` covers are worked as they were when it was made; false for a
    /// stamp in any other form (figures kept under an older scheme are rebuilt).
    pub fn holds(&self, stamp: &str) -> bool {
        if stamp == NO_DAYS {
            return true;
        }
        let mut parts = stamp.split(':');
        let (Some("days"), Some(from), Some(to)) = (parts.next(), parts.next(), parts.next()) else { return false };
        let day = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").ok();
        match (day(from), day(to)) {
            (Some(from), Some(to)) if from <= to => self.stamp(Some((from, to))) == stamp,
            _ => false,
        }
    }

    pub fn is_working_day(&self, d: NaiveDate) -> bool {
        if self.holidays.contains_key(&d) {
            return false;
        }
        if self.workdays.contains_key(&d) {
            return true;
        }
        !matches!(d.weekday(), Weekday::Sat | Weekday::Sun)
    }

    /// The first working day strictly after `d`.
    pub fn next_working_day(&self, d: NaiveDate) -> NaiveDate {
        let mut n = d + Duration::days(1);
        while !self.is_working_day(n) {
            n += Duration::days(1);
        }
        n
    }

    /// A deadline that falls on a day off moves to the next working day, at the same time.
    pub fn roll_forward(&self, t: Local) -> Local {
        let d = t.date_naive();
        if self.is_working_day(d) { t } else { at(self.next_working_day(d), t.time()) }
    }

    /// `n` working days after `t`: the n-th working day after t's date, at t's time of day.
    pub fn add_working_days(&self, t: Local, n: u32) -> Local {
        if n == 0 {
            return self.roll_forward(t);
        }
        let mut d = t.date_naive();
        for _ in 0..n {
            d = self.next_working_day(d);
        }
        at(d, t.time())
    }

    /// `minutes` of working time after `t`, counting only working hours of working days.
    pub fn add_working_minutes(&self, t: Local, minutes: i64) -> Local {
        if minutes <= 0 {
            return t;
        }
        let mut left = minutes;
        let mut day = t.date_naive();
        let mut from = t.time();
        loop {
            if self.is_working_day(day) {
                for &(start, end) in &self.hours.segments {
                    if from >= end {
                        continue;
                    }
                    let begin = from.max(start);
                    let available = (end - begin).num_minutes();
                    if left <= available {
                        return at(day, begin) + Duration::minutes(left);
                    }
                    left -= available;
                }
            }
            day += Duration::days(1);
            from = NaiveTime::MIN;
        }
    }

    /// Working minutes between two moments (0 when `b` is not after `a`).
    pub fn working_minutes_between(&self, a: Local, b: Local) -> i64 {
        if b <= a {
            return 0;
        }
        let mut total = 0;
        let mut day = a.date_naive();
        while day <= b.date_naive() {
            if self.is_working_day(day) {
                for &(start, end) in &self.hours.segments {
                    let s = at(day, start).max(a);
                    let e = at(day, end).min(b);
                    if e > s {
                        total += (e - s).num_minutes();
                    }
                }
            }
            day += Duration::days(1);
        }
        total
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn year_2026() -> Calendar {
        let data: YearData = serde_json::from_str(include_str!("../../resources/calendar/2026.json")).unwrap();
        let (h, w) = data.validate().unwrap();
        let mut c = Calendar::new(WorkingHours::default());
        c.add_year(2026, h, w);
        let data: YearData = serde_json::from_str(include_str!("../../resources/calendar/2025.json")).unwrap();
        let (h, w) = data.validate().unwrap();
        c.add_year(2025, h, w);
        c
    }

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn t(s: &str) -> Local {
        DateTime::parse_from_str(&format!("{s} +08:00"), "%Y-%m-%d %H:%M %z").unwrap()
    }

    #[test]
    fn spring_festival_and_national_day_2026() {
        let c = year_2026();
        for off in ["2026-02-15", "2026-02-17", "2026-02-23", "2026-10-01", "2026-10-07"] {
            assert!(!c.is_working_day(d(off)), "{off} is off");
        }
        for on in ["2026-02-14", "2026-02-28", "2026-09-20", "2026-10-10"] {
            assert!(c.is_working_day(d(on)), "{on} is a swapped working day (a weekend)");
        }
        assert!(!c.is_working_day(d("2026-02-21")), "an ordinary Saturday inside the holiday");
        assert!(c.is_working_day(d("2026-02-24")));
        assert_eq!(c.describe(d("2026-02-17")), "春节");
        assert_eq!(c.describe(d("2026-02-14")), "春节调休上班");
        assert_eq!(c.describe(d("2026-03-07")), "周末");
    }

    #[test]
    fn a_stamp_of_days_changes_only_with_the_days_it_covers() {
        let c = year_2026();
        let march = Some((d("2026-03-01"), d("2026-03-31")));
        let october = Some((d("2026-09-28"), d("2026-10-12")));
        let (s_march, s_october) = (c.stamp(march), c.stamp(october));
        assert!(c.holds(&s_march) && c.holds(&s_october));
        assert_ne!(s_march, s_october);
        // Next year's days and other working hours leave both as they were.
        let mut later = c.clone();
        later.add_year(2027, vec![(d("2027-01-01"), "元旦".into())], vec![(d("2027-02-07"), "春节调休上班".into())]);
        later.hours = WorkingHours::parse("09:00-12:00,14:00-18:00").unwrap();
        assert!(later.holds(&s_march) && later.holds(&s_october));
        // A day off added inside a stamp's days breaks that stamp only; so does a swapped
        // working day taken back.
        let mut moved = c.clone();
        moved.add_year(2026, vec![(d("2026-03-09"), "临时休假".into())], vec![]);
        assert!(!moved.holds(&s_march) && moved.holds(&s_october));
        let mut fewer = c.clone();
        fewer.workdays.remove(&d("2026-10-10"));
        assert!(fewer.holds(&s_march) && !fewer.holds(&s_october));
        // Figures that read no day hold under any calendar; a stamp in another form never does.
        assert!(moved.holds(&c.stamp(None)));
        for other in ["", "3|1764000000000|08:30-12:00|0", "days:2026-03-31:2026-03-01:0", "days:x:y:z"] {
            assert!(!c.holds(other), "{other}");
        }
    }

    #[test]
    fn a_deadline_crossing_the_spring_festival() {
        let c = year_2026();
        // Dispatched Friday 13 Feb at 10:00 with 3 working days: Sat 14 (swapped) counts, then the
        // holiday runs to Mon 23; Tue 24 and Wed 25 follow.
        assert_eq!(c.add_working_days(t("2026-02-13 10:00"), 3), t("2026-02-25 10:00"));
        // 4 working hours from Sat 14 Feb 16:00 (a working day): 1.5 h that day, then 2.5 h on 24 Feb.
        assert_eq!(c.add_working_minutes(t("2026-02-14 16:00"), 240), t("2026-02-24 11:00"));
        assert_eq!(c.working_minutes_between(t("2026-02-14 16:00"), t("2026-02-24 11:00")), 240);
    }

    #[test]
    fn national_day_and_weekend_deadlines() {
        let c = year_2026();
        // 30 Sep (Wed) + 1 working day skips the 1-7 Oct holiday to Thu 8 Oct.
        assert_eq!(c.add_working_days(t("2026-09-30 09:00"), 1), t("2026-10-08 09:00"));
        // Sat 10 Oct is worked.
        assert_eq!(c.add_working_days(t("2026-10-09 09:00"), 1), t("2026-10-10 09:00"));
        // A deadline on a day off moves to the next working day.
        assert_eq!(c.roll_forward(t("2026-10-03 17:00")), t("2026-10-08 17:00"));
        assert_eq!(c.roll_forward(t("2026-10-10 17:00")), t("2026-10-10 17:00"));
        // 2 working hours from Friday 16:30 end Monday 09:30.
        assert_eq!(c.add_working_minutes(t("2026-11-20 16:30"), 120), t("2026-11-23 09:30"));
        // Before hours and at lunch the clock starts at the next segment.
        assert_eq!(c.add_working_minutes(t("2026-11-23 06:00"), 30), t("2026-11-23 09:00"));
        assert_eq!(c.add_working_minutes(t("2026-11-23 12:10"), 30), t("2026-11-23 14:00"));
        // Exactly the end of a segment is a valid deadline.
        assert_eq!(c.add_working_minutes(t("2026-11-23 11:00"), 60), t("2026-11-23 12:00"));
    }

    #[test]
    fn working_hours_parse_and_reject() {
        let h = WorkingHours::parse("08:30-12:00，13:30-17:30").unwrap();
        assert_eq!(h.to_string(), "08:30-12:00,13:30-17:30");
        assert_eq!(h.minutes_per_day(), 450);
        assert!(WorkingHours::parse("").unwrap_err().contains("至少"));
        assert!(WorkingHours::parse("12:00-08:00").unwrap_err().contains("晚于"));
        assert!(WorkingHours::parse("08:00-12:00,11:00-13:00").unwrap_err().contains("重叠"));
        assert!(WorkingHours::parse("8点-12点").unwrap_err().contains("不是有效时间"));
    }

    #[test]
    fn year_data_reports_every_bad_entry() {
        let y = YearData {
            year: 2027,
            source: String::new(),
            holidays: vec![
                SpecialDay { date: "2027-01-01".into(), name: "元旦".into() },
                SpecialDay { date: "2027-13-01".into(), name: "x".into() },
                SpecialDay { date: "2026-05-01".into(), name: "劳动节".into() },
                SpecialDay { date: "2027-01-01".into(), name: "元旦".into() },
            ],
            workdays: vec![
                SpecialDay { date: "2027-01-01".into(), name: "元旦调休".into() },
                SpecialDay { date: "2027-01-04".into(), name: "周一".into() },
                SpecialDay { date: "2027-01-09".into(), name: "".into() },
            ],
        };
        let errors = y.validate().unwrap_err();
        let found: Vec<(&str, usize)> = errors.iter().map(|e| (e.sheet.as_str(), e.row)).collect();
        assert_eq!(
            found,
            [("holidays", 2), ("holidays", 3), ("holidays", 4), ("workdays", 1), ("workdays", 2), ("workdays", 3)]
        );
        assert!(errors[3].message.contains("同时出现"));
        assert!(errors[4].message.contains("不是周末"));
    }

    fn arb_time() -> impl Strategy<Value = Local> {
        // Any minute from 2025-01-01 to the end of 2026.
        (0i64..(730 * 24 * 60)).prop_map(|m| t("2025-01-01 00:00") + Duration::minutes(m))
    }

    proptest! {
        #[test]
        fn adding_working_days_lands_on_the_nth_working_day(start in arb_time(), n in 1u32..40) {
            let c = year_2026();
            let end = c.add_working_days(start, n);
            prop_assert!(c.is_working_day(end.date_naive()));
            prop_assert_eq!(end.time(), start.time());
            let mut count = 0;
            let mut day = start.date_naive();
            while day < end.date_naive() {
                day += Duration::days(1);
                if c.is_working_day(day) { count += 1; }
            }
            prop_assert_eq!(count, n);
        }

        #[test]
        fn adding_working_minutes_is_undone_by_measuring_them(start in arb_time(), minutes in 1i64..(20 * 450)) {
            let c = year_2026();
            let end = c.add_working_minutes(start, minutes);
            prop_assert!(end > start);
            prop_assert_eq!(c.working_minutes_between(start, end), minutes);
            // The deadline is inside working time of a working day.
            prop_assert!(c.is_working_day(end.date_naive()));
            let inside = c.hours().segments().iter().any(|(s, e)| end.time() > *s && end.time() <= *e);
            prop_assert!(inside, "{} is within working hours", end);
        }

        #[test]
        fn rolling_forward_never_goes_back_and_ends_on_a_working_day(start in arb_time()) {
            let c = year_2026();
            let r = c.roll_forward(start);
            prop_assert!(r >= start && c.is_working_day(r.date_naive()));
        }
    }
}
