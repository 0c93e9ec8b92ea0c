//! Window service (文明服务窗口) after the national 好差评 rules (GB/T 39734/39735): the five
//! levels and the tags each offers, sectors, the bad-rating case's states, one-rating-per-visit
//! keys, visit tokens, and the figures computed from counts. Pure rules; no IO.

use super::code::Code;
use super::validate::FieldErrors;
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The five levels, best first: (level, label).
pub const LEVELS: [(i64, &str); 5] = super::citizen::SATISFACTION;

/// The tags a rater may tick at each level (level 5 first).
pub const TAGS: [(i64, &[&str]); 5] = [
    (5, &["态度热情", "办事高效", "业务熟练", "主动服务", "一次办好", "环境整洁"]),
    (4, &["态度友好", "办事较快", "解释清楚", "环境整洁"]),
    (3, &["等候稍久", "解释一般", "流程较繁"]),
    (2, &["态度生硬", "等候太久", "解释不清", "多次跑腿", "推诿扯皮"]),
    (1, &["态度恶劣", "推诿扯皮", "等候太久", "吃拿卡要", "乱收费", "不按规定办理"]),
];

/// Most tags one rating carries, and the longest comment.
pub const MAX_TAGS: usize = 6;
pub const MAX_COMMENT: usize = 300;

pub fn level_label(level: i64) -> &'static str {
    super::citizen::satisfaction_label(level)
}

pub fn tags_of(level: i64) -> &'static [&'static str] {
    TAGS.iter().find(|(l, _)| *l == level).map(|(_, t)| *t).unwrap_or(&[])
}

/// 不满意 or 非常不满意: a bad rating (差评), which opens a case.
pub fn is_bad(level: i64) -> bool {
    level <= 2
}

/// 非常满意 or 满意: a good rating (好评), what the satisfaction rate counts.
pub fn is_good(level: i64) -> bool {
    level >= 4
}

/// The points of a level in the rating score (百分制): 100, 80, 60, 30, 0.
pub fn level_points(level: i64) -> i64 {
    match level {
        5 => 100,
        4 => 80,
        3 => 60,
        2 => 30,
        _ => 0,
    }
}

/// A level as typed (1–5 or its label).
pub fn parse_level(s: &str) -> Option<i64> {
    let s = s.trim();
    s.parse::<i64>().ok().filter(|l| (1..=5).contains(l)).or_else(|| LEVELS.iter().find(|(_, n)| *n == s).map(|x| x.0))
}

/// Checks a rating's level, tags and comment; the tags kept in the level's own order.
pub fn check_rating(e: &mut FieldErrors, level: Option<i64>, tags: &[String], comment: &str) -> (i64, String) {
    let Some(level) = level.filter(|l| (1..=5).contains(l)) else {
        e.add("level", Code::InvalidRating, "请选择评价等级（非常满意、满意、基本满意、不满意、非常不满意）");
        return (0, String::new());
    };
    let offered = tags_of(level);
    let mut picked: Vec<&str> = Vec::new();
    for t in tags.iter().map(|t| t.trim()).filter(|t| !t.is_empty()) {
        if !offered.contains(&t) {
            e.add("tags", Code::InvalidRating, format!("“{t}”不是“{}”可选的标签", level_label(level)));
        } else if !picked.contains(&t) {
            picked.push(t);
        }
    }
    if picked.len() > MAX_TAGS {
        e.add("tags", Code::InvalidRating, format!("标签最多选{MAX_TAGS}个"));
    }
    if comment.chars().count() > MAX_COMMENT {
        e.add("comment", Code::TooLong, format!("意见建议最多{MAX_COMMENT}字"));
    }
    if comment.chars().any(|c| c.is_control() && c != '\n' && c != '\r') {
        e.add("comment", Code::InvalidChars, "意见建议含有不可见的控制字符");
    }
    let ordered: Vec<&str> = offered.iter().copied().filter(|t| picked.contains(t)).collect();
    (level, ordered.join("、"))
}

crate::vocab! {
    /// The trade a window unit belongs to (figures are compared within a sector).
    pub enum Sector: "行业" {
        Bank("bank", "银行"),
        Government("government", "政务"),
        Telecom("telecom", "通信"),
        Power("power", "供电"),
        Water("water", "供水"),
        Gas("gas", "燃气"),
        Medical("medical", "医疗"),
        Transport("transport", "交通"),
        Postal("postal", "邮政"),
        Other("other", "其他"),
    }
}

impl Sector {
    /// The sector a window unit of a kind has unless the office says otherwise.
    pub fn default_for(kind: super::unit::UnitKind) -> Option<Sector> {
        use super::unit::UnitKind::*;
        match kind {
            BankBranch => Some(Sector::Bank),
            ServiceHall => Some(Sector::Government),
            BusinessHall => Some(Sector::Telecom),
            _ => None,
        }
    }
}

crate::vocab! {
    /// How a rating arrived.
    pub enum RatingChannel: "评价渠道" {
        /// The window's QR code on the rater's phone
        Qr("qr", "扫码评价"),
        /// A rating device (评价器) at the window, through the batch API
        Device("device", "评价器"),
    }
}

crate::vocab! {
    /// Where a bad-rating case (差评工单) stands.
    pub enum CaseState: "差评工单状态" {
        /// The unit calls the rater back
        Callback("callback", "待回访"),
        /// The unit checks what happened and decides: fix at once, the ledger, or an appeal
        Verify("verify", "待核实"),
        /// On the problem ledger with its deadline
        Fixing("fixing", "整改中"),
        /// The unit says the rating is malicious; the office decides
        Appealed("appealed", "申诉中"),
        /// Fixed and answered; the rater may rate the fix once
        Replied("replied", "已答复"),
        /// The office upheld the appeal: the rating is left out of the figures
        Upheld("upheld", "申诉成立"),
    }
}

impl CaseState {
    /// Still waiting for the unit (the start page's to-do).
    pub fn open(self) -> bool {
        matches!(self, Self::Callback | Self::Verify)
    }
}

crate::vocab! {
    /// What is done with a bad-rating case (the audit log's words).
    pub enum CaseAction: "差评处理" {
        Callback("case_callback", "差评回访"),
        FixAtOnce("case_fix_at_once", "差评当场整改"),
        ToLedger("case_to_ledger", "差评纳入整改台账"),
        Replied("case_replied", "差评整改答复"),
        Appeal("case_appeal", "差评申诉"),
        Uphold("case_uphold", "申诉成立"),
        Reject("case_reject", "申诉驳回"),
        RateFix("case_rate_fix", "评价人评价整改"),
    }
}

crate::vocab! {
    /// What the callback found.
    pub enum CallbackResult: "回访结果" {
        Reached("reached", "已联系评价人"),
        Unreached("unreached", "多次联系未接通"),
        Anonymous("anonymous", "匿名评价，无需回访"),
    }
}

/// A local month as a number (202612) from epoch milliseconds.
pub fn month_of(ms: i64) -> i64 {
    use chrono::Datelike;
    let d = super::time::to_local(ms);
    d.year() as i64 * 100 + d.month() as i64
}

/// 202612 → "2026年12月".
pub fn month_label(m: i64) -> String {
    format!("{}年{}月", m / 100, m % 100)
}

/// The month before (202601 → 202512).
pub fn previous_month(m: i64) -> i64 {
    if m % 100 == 1 { (m / 100 - 1) * 100 + 12 } else { m - 1 }
}

/// "2026-12" or "202612" → 202612.
pub fn parse_month(s: &str) -> Option<i64> {
    let digits: String = s.trim().chars().filter(char::is_ascii_digit).collect();
    let m = digits.parse::<i64>().ok().filter(|_| digits.len() == 6)?;
    (2000..=2100).contains(&(m / 100)).then_some(m).filter(|m| (1..=12).contains(&(m % 100)))
}

/// The first instant of a local month and of the month after, in epoch milliseconds.
pub fn month_span(m: i64) -> (i64, i64) {
    let start =
        |y: i64, mo: i64| super::time::parse_local_day_start(&format!("{y:04}-{mo:02}-01")).expect("a valid first day");
    let next = if m % 100 == 12 { (m / 100 + 1, 1) } else { (m / 100, m % 100 + 1) };
    (start(m / 100, m % 100), start(next.0, next.1))
}

/// What makes a rating the only one of its visit.
pub enum Once<'a> {
    /// A visit token the window printed or showed
    Visit(&'a str),
    /// A rating device's own sequence number (a resent batch is not counted twice)
    Device(&'a str, &'a str),
    /// No token: one rating per device (browser) and window per day
    Browser(&'a str, &'a str),
}

impl Once<'_> {
    pub fn key(&self, window_id: &str) -> String {
        match self {
            Once::Visit(t) => format!("v:{window_id}:{t}"),
            Once::Device(device, seq) => format!("d:{device}:{seq}"),
            Once::Browser(client, day) => format!("b:{window_id}:{client}:{day}"),
        }
    }
}

type HmacSha256 = Hmac<Sha256>;

const TOKEN_ALPHABET: &[u8] = b"23456789ABCDEFGHJKLMNPQRSTUVWXYZ";

fn signature(key: &[u8], window_id: &str, nonce: &str) -> String {
    let mut mac = HmacSha256::new_from_slice(key).expect("HMAC takes any key");
    mac.update(window_id.as_bytes());
    mac.update(b"/");
    mac.update(nonce.as_bytes());
    let bytes = mac.finalize().into_bytes();
    bytes[..5].iter().map(|b| TOKEN_ALPHABET[(*b as usize) % 32] as char).collect()
}

/// A visit token for a window: 8 random characters and a 5-character signature (13 in all,
/// easy to print under a QR code); only the platform's key makes valid ones.
pub fn visit_token(key: &[u8], window_id: &str, random: [u8; 8]) -> String {
    let nonce: String = random.iter().map(|b| TOKEN_ALPHABET[(*b as usize) % 32] as char).collect();
    let sig = signature(key, window_id, &nonce);
    format!("{nonce}{sig}")
}

/// Whether a token was issued for this window.
pub fn token_valid(key: &[u8], window_id: &str, token: &str) -> bool {
    let token = token.trim().to_ascii_uppercase();
    if token.len() != 13 || !token.bytes().all(|b| TOKEN_ALPHABET.contains(&b)) {
        return false;
    }
    let (nonce, sig) = token.split_at(8);
    let expected = signature(key, window_id, nonce);
    // Constant-time enough: both are 5 ASCII characters compared in full.
    expected.bytes().zip(sig.bytes()).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0
}

/// Counts of counted ratings by level (index 0 = level 1).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct Tally {
    pub by_level: [i64; 5],
}

impl Tally {
    pub fn add(&mut self, level: i64, n: i64) {
        if (1..=5).contains(&level) {
            self.by_level[(level - 1) as usize] += n;
        }
    }

    pub fn merge(&mut self, other: &Tally) {
        for (a, b) in self.by_level.iter_mut().zip(other.by_level) {
            *a += b;
        }
    }

    pub fn total(&self) -> i64 {
        self.by_level.iter().sum()
    }

    pub fn good(&self) -> i64 {
        self.by_level[3] + self.by_level[4]
    }

    pub fn bad(&self) -> i64 {
        self.by_level[0] + self.by_level[1]
    }

    /// Share of 非常满意 and 满意 (满意率).
    pub fn satisfaction(&self) -> Option<f64> {
        ratio(self.good(), self.total())
    }

    /// Share of 不满意 and 非常不满意 (差评率).
    pub fn bad_rate(&self) -> Option<f64> {
        ratio(self.bad(), self.total())
    }

    /// The mean of the levels' points (百分制, one decimal): the monthly ranking's score.
    pub fn score(&self) -> Option<f64> {
        let total = self.total();
        (total > 0).then(|| {
            let points: i64 = (1..=5).map(|l| level_points(l) * self.by_level[(l - 1) as usize]).sum();
            (points as f64 * 10.0 / total as f64).round() / 10.0
        })
    }
}

/// a / b, None when nothing was counted.
pub fn ratio(a: i64, b: i64) -> Option<f64> {
    (b > 0).then(|| a as f64 / b as f64)
}

/// "96.3%" or "—".
pub fn percent(r: Option<f64>) -> String {
    match r {
        Some(r) => format!("{:.1}%", r * 100.0),
        None => "—".into(),
    }
}

/// Low in a month: among the bottom fifth (at least one) of the units ranked that month, ranked
/// being those with at least `min_ratings` counted ratings. `ranked` is best first.
pub fn low_ones(ranked: &[String]) -> Vec<String> {
    let n = ranked.len();
    if n < 2 {
        return Vec::new();
    }
    let bottom = n.div_ceil(5);
    ranked[n - bottom..].to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_belong_to_their_level_and_come_back_in_its_order() {
        let mut e = FieldErrors::default();
        let (l, tags) = check_rating(&mut e, Some(1), &["等候太久".into(), "推诿扯皮".into(), "推诿扯皮".into()], "");
        assert!(e.is_empty(), "{e:?}");
        assert_eq!((l, tags.as_str()), (1, "推诿扯皮、等候太久"));
        let mut e = FieldErrors::default();
        check_rating(&mut e, Some(5), &["推诿扯皮".into()], "");
        assert!(e.0[0].message.contains("不是“非常满意”可选的标签"), "{e:?}");
        let mut e = FieldErrors::default();
        check_rating(&mut e, Some(6), &[], "");
        assert_eq!(e.0[0].field, "level");
    }

    #[test]
    fn figures_come_from_the_counts() {
        let mut t = Tally::default();
        t.add(5, 6);
        t.add(4, 2);
        t.add(3, 1);
        t.add(1, 1);
        assert_eq!(t.total(), 10);
        assert_eq!(t.satisfaction(), Some(0.8));
        assert_eq!(t.bad_rate(), Some(0.1));
        // (6×100 + 2×80 + 60 + 0) / 10 = 82
        assert_eq!(t.score(), Some(82.0));
        assert_eq!(Tally::default().score(), None);
        assert_eq!(percent(t.satisfaction()), "80.0%");
    }

    #[test]
    fn months_and_their_spans() {
        assert_eq!(previous_month(202601), 202512);
        assert_eq!(parse_month("2026-12"), Some(202612));
        assert_eq!(parse_month("2026-13"), None);
        let (a, b) = month_span(202612);
        assert_eq!(month_of(a), 202612);
        assert_eq!(month_of(b), 202701);
        assert_eq!(month_of(b - 1), 202612);
    }

    #[test]
    fn visit_tokens_are_bound_to_their_window() {
        let key = b"secret";
        let t = visit_token(key, "w1", [7, 1, 2, 3, 4, 5, 6, 200]);
        assert_eq!(t.len(), 13);
        assert!(token_valid(key, "w1", &t));
        assert!(token_valid(key, "w1", &t.to_lowercase()));
        assert!(!token_valid(key, "w2", &t));
        assert!(!token_valid(b"other", "w1", &t));
        let mut forged = t.clone();
        forged.replace_range(12..13, if t.ends_with('2') { "3" } else { "2" });
        assert!(!token_valid(key, "w1", &forged));
    }

    #[test]
    fn the_bottom_fifth_is_low() {
        let ids: Vec<String> = (1..=10).map(|i| i.to_string()).collect();
        assert_eq!(low_ones(&ids), vec!["9".to_string(), "10".to_string()]);
        assert_eq!(low_ones(&ids[..3]), vec!["3".to_string()]);
        assert!(low_ones(&ids[..1]).is_empty());
    }
}
