//! Citizens' reports (随手拍, Open311): their states, what the public may read of them, and the
//! checks of what a resident typed. Pure rules; the store and the pages are elsewhere.

use super::problem::State as ProblemState;
use super::validate::FieldErrors;
use crate::domain::code::Code;

crate::vocab! {
    /// Where a report is before and after triage.
    pub enum ReportState: "反映状态" {
        /// Waiting for the office or the grid worker to verify it
        Received("received", "待核实"),
        /// Verified: it is a problem on the ledger now
        Verified("verified", "已立案"),
        /// Not a case; the public reason says why
        Voided("voided", "不予立案"),
    }
}

crate::vocab! {
    /// How a report arrived.
    pub enum Channel: "反映渠道" {
        Web("web", "随手拍"),
        Open311("open311", "Open311接口"),
    }
}

/// The five levels of satisfaction a reporter answers with (5 best).
pub const SATISFACTION: [(i64, &str); 5] =
    [(5, "非常满意"), (4, "满意"), (3, "基本满意"), (2, "不满意"), (1, "非常不满意")];

pub fn satisfaction_label(level: i64) -> &'static str {
    SATISFACTION.iter().find(|(l, _)| *l == level).map(|(_, s)| *s).unwrap_or("")
}

/// Satisfied: 满意 or better (the rate the KPIs report).
pub fn satisfied(level: i64) -> bool {
    level >= 4
}

/// Dissatisfied: 不满意 or worse (what the 千分制 may deduct for).
pub fn dissatisfied(level: i64) -> bool {
    level <= 2
}

/// Most photos a report carries.
pub const MAX_PHOTOS: usize = 6;
/// A report of the same category within this distance and these days is suggested as the same.
pub const NEAR_M: f64 = 150.0;
pub const NEAR_DAYS: i64 = 30;

/// A mainland mobile number, digits only; None when it is not one. Typed as people type it:
/// full-width digits (Chinese input methods), spaces and dashes between groups, the country code
/// (+86, 0086, 86) in front.
pub fn mobile(phone: &str) -> Option<String> {
    let typed = crate::domain::validate::half_width(phone);
    let typed = typed.trim();
    if !typed.chars().all(|c| c.is_ascii_digit() || " -+".contains(c))
        || typed.get(1..).is_some_and(|rest| rest.contains('+'))
    {
        return None;
    }
    let digits: String = typed.chars().filter(char::is_ascii_digit).collect();
    let digits = match digits.len() {
        13 if digits.starts_with("86") => digits[2..].to_string(),
        15 if digits.starts_with("0086") => digits[4..].to_string(),
        11 if !typed.starts_with('+') => digits,
        _ => return None,
    };
    let b = digits.as_bytes();
    (b[0] == b'1' && (b'3'..=b'9').contains(&b[1])).then_some(digits)
}

/// The last four digits of a phone (what the status page asks for).
pub fn last4(phone: &str) -> String {
    let digits: Vec<char> = phone.chars().filter(char::is_ascii_digit).collect();
    digits[digits.len().saturating_sub(4)..].iter().collect()
}

/// A phone as staff see it on the triage page: 138****5678.
pub fn masked(phone: &str) -> String {
    let d: Vec<char> = phone.chars().filter(char::is_ascii_digit).collect();
    if d.len() < 7 {
        return "****".into();
    }
    format!("{}****{}", d[..3].iter().collect::<String>(), d[d.len() - 4..].iter().collect::<String>())
}

/// What residents type, as the public reads it: phone and ID numbers (seven digits or more, with
/// spaces or hyphens between, an ID's final X) and e-mail addresses are masked. Names cannot be
/// told apart from words, so the form asks not to write them.
pub fn mask_personal(s: &str) -> String {
    let chars: Vec<char> = s.chars().collect();
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    // Full-width digits and separators count as Chinese input methods type them.
    let digit = |c: &char| c.is_ascii_digit() || ('０'..='９').contains(c);
    while i < chars.len() {
        // A run of digits, possibly broken by single spaces or hyphens.
        if digit(&chars[i]) {
            let mut j = i;
            let mut digits = 0;
            let mut plain = true;
            while j < chars.len() {
                if digit(&chars[j]) {
                    digits += 1;
                    j += 1;
                } else if matches!(chars[j], ' ' | '-' | '\u{3000}' | '－') && chars.get(j + 1).is_some_and(digit) {
                    plain = false;
                    j += 1;
                } else if matches!(chars[j], 'x' | 'X' | 'ｘ' | 'Ｘ') && digits == 17 {
                    j += 1;
                    break;
                } else {
                    break;
                }
            }
            // The platform's own codes (R202612070016, Q…, C…) are no one's number.
            let own_code = plain
                && (12..=14).contains(&digits)
                && i > 0
                && matches!(chars[i - 1], 'R' | 'Q' | 'C')
                && (i < 2 || !chars[i - 2].is_ascii_alphanumeric())
                && chars[i..j].starts_with(&['2', '0']);
            if digits >= 7 && !own_code {
                out.push_str("****");
            } else {
                out.extend(&chars[i..j]);
            }
            i = j;
            continue;
        }
        // An e-mail address: the word around an @.
        if chars[i] == '@' {
            while out.chars().last().is_some_and(|c| c.is_ascii_alphanumeric() || "._-+".contains(c)) {
                out.pop();
            }
            let mut j = i + 1;
            while j < chars.len() && (chars[j].is_ascii_alphanumeric() || ".-".contains(chars[j])) {
                j += 1;
            }
            out.push_str("****");
            i = j;
            continue;
        }
        out.push(chars[i]);
        i += 1;
    }
    out
}

/// A position inside mainland China's rough bounds (WGS-84).
pub fn in_china(lng: f64, lat: f64) -> bool {
    lng.is_finite() && lat.is_finite() && (73.0..=136.0).contains(&lng) && (3.0..=54.0).contains(&lat)
}

/// The reporter's optional contact: a name of at most 20 characters, a mobile number.
pub fn check_contact(e: &mut FieldErrors, name: &str, phone: &str) -> (String, String) {
    let name = name.trim();
    if name.chars().count() > 20 {
        e.add("name", Code::TooLong, "称呼不能超过20个字");
    }
    let phone = phone.trim();
    let phone = if phone.is_empty() {
        String::new()
    } else if let Some(m) = mobile(phone) {
        m
    } else {
        e.add("phone", Code::InvalidPhone, "手机号应为11位数字，如13800138000（可不填）");
        String::new()
    };
    (name.to_string(), phone)
}

/// A stage of the public timeline.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Stage {
    pub at: i64,
    pub label: &'static str,
    pub note: String,
}

/// What the public reads of a problem's step: a label per state reached, never who did it.
pub fn public_stage(to: ProblemState, reopened: bool) -> Option<&'static str> {
    Some(match to {
        _ if reopened => "群众反映未解决，重新办理",
        ProblemState::Dispatched => "已派单至责任单位",
        ProblemState::Acknowledged => "责任单位已签收，正在处置",
        ProblemState::Submitted => "责任单位已整改，等待核查",
        ProblemState::Postponed => "暂缓办理",
        ProblemState::Closed => "已核查办结",
        ProblemState::Voided => "已作废",
        ProblemState::Reported => return None,
    })
}

/// The Open311 status of a report: open until its problem is closed or it was voided.
pub fn open311_status(report: ReportState, problem: Option<ProblemState>) -> &'static str {
    match (report, problem) {
        (ReportState::Voided, _) => "closed",
        (_, Some(ProblemState::Closed | ProblemState::Voided)) => "closed",
        _ => "open",
    }
}

/// The public state of a report in one word, for lists and maps.
pub fn public_state(report: ReportState, problem: Option<ProblemState>) -> &'static str {
    match (report, problem) {
        (ReportState::Received, _) => "待核实",
        (ReportState::Voided, _) => "不予立案",
        (_, Some(ProblemState::Closed)) => "已办结",
        (_, Some(ProblemState::Voided)) => "已作废",
        (_, Some(ProblemState::Submitted)) => "已整改待验收",
        _ => "处置中",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phones_are_checked_masked_and_cut_to_four() {
        assert_eq!(mobile("138 0013 8000").as_deref(), Some("13800138000"));
        assert_eq!(mobile("010-12345678"), None);
        assert_eq!(mobile("1380013800a"), None);
        // As typed on phones: full-width digits, the country code, groups.
        assert_eq!(mobile("１３８００１３８０００").as_deref(), Some("13800138000"));
        assert_eq!(mobile("+86 138-0013-8000").as_deref(), Some("13800138000"));
        assert_eq!(mobile("＋８６１３８００１３８０００").as_deref(), Some("13800138000"));
        assert_eq!(mobile("008613800138000").as_deref(), Some("13800138000"));
        assert_eq!(mobile("8613800138000").as_deref(), Some("13800138000"));
        for bad in ["+13800138000", "138+00138000", "12800138000", "+8612800138000", "+44 7700 900123", "", "+"] {
            assert_eq!(mobile(bad), None, "{bad}");
        }
        assert_eq!(masked("13800138000"), "138****8000");
        assert_eq!(last4("13800138000"), "8000");
        let mut e = FieldErrors::default();
        let (_, p) = check_contact(&mut e, "王", "12345");
        assert!(p.is_empty() && !e.is_empty());
    }

    #[test]
    fn phone_and_id_numbers_and_mail_are_masked_for_the_public() {
        assert_eq!(mask_personal("电话13812345678，谢谢"), "电话****，谢谢");
        // Typed with a Chinese input method: full-width digits and spaces.
        assert_eq!(mask_personal("有事联系１３９１２３４５６７８"), "有事联系****");
        assert_eq!(mask_personal("电话１３９　１２３４　５６７８。"), "电话****。");
        assert_eq!(mask_personal("身份证１３０９０３１９９００１０１１２３Ｘ"), "身份证****");
        // The platform's own codes stay readable; a number run on after letters does not.
        assert_eq!(
            mask_personal("受理编号 R202612070016，问题Q202611220001"),
            "受理编号 R202612070016，问题Q202611220001"
        );
        assert_eq!(mask_personal("编号XR202612070016"), "编号XR****");
        assert_eq!(mask_personal("R139 1234 5678"), "R****");
        assert_eq!(mask_personal("身份证130903199001011234"), "身份证****");
        assert_eq!(mask_personal("身份证13090319900101123X号"), "身份证****号");
        assert_eq!(mask_personal("打138 1234 5678或0317-1234567"), "打****或****");
        assert_eq!(mask_personal("写信给 liu.nv@example.com 吧"), "写信给 **** 吧");
        assert_eq!(mask_personal("解放路12号3单元，堆了20袋"), "解放路12号3单元，堆了20袋");
        assert_eq!(mask_personal("2026年12月4日"), "2026年12月4日");
    }

    #[test]
    fn public_words_never_name_staff_and_open311_closes_with_the_problem() {
        assert_eq!(open311_status(ReportState::Received, None), "open");
        assert_eq!(open311_status(ReportState::Verified, Some(ProblemState::Closed)), "closed");
        assert_eq!(open311_status(ReportState::Voided, None), "closed");
        assert_eq!(public_state(ReportState::Verified, Some(ProblemState::Acknowledged)), "处置中");
        assert_eq!(public_stage(ProblemState::Closed, true), Some("群众反映未解决，重新办理"));
        assert_eq!(public_stage(ProblemState::Reported, false), None);
        assert!(in_china(117.05, 30.52) && !in_china(0.0, 0.0) && !in_china(f64::NAN, 30.0));
        assert!(satisfied(4) && !satisfied(3) && dissatisfied(2) && !dissatisfied(3));
    }
}
