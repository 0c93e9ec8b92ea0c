//! Field-level validation with Chinese messages for people and stable codes for API clients.

use super::code::Code;
use serde::{Deserialize, Deserializer, Serialize};

#[derive(Debug, Clone, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct FieldError {
    pub field: String,
    pub code: Code,
    pub message: String,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct FieldErrors(pub Vec<FieldError>);

impl FieldErrors {
    pub fn add(&mut self, field: &str, code: Code, message: impl Into<String>) {
        // One message per field is enough for a form; keep the first.
        if self.get(field).is_none() {
            self.0.push(FieldError { field: field.to_string(), code, message: message.into() });
        }
    }

    pub fn get(&self, field: &str) -> Option<&str> {
        self.0.iter().find(|e| e.field == field).map(|e| e.message.as_str())
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn single(field: &str, code: Code, message: impl Into<String>) -> Self {
        let mut e = Self::default();
        e.add(field, code, message);
        e
    }
}

fn has_control_chars(s: &str) -> bool {
    s.chars().any(|c| c.is_control())
}

/// A required one-line text: trimmed, 1..=max characters (counted as characters, not bytes).
pub fn required_text(errors: &mut FieldErrors, field: &str, label: &str, value: &str, max: usize) -> String {
    let v = value.trim();
    if v.is_empty() {
        errors.add(field, Code::Required, format!("请填写{label}"));
    } else if v.chars().count() > max {
        errors.add(field, Code::TooLong, format!("{label}不能超过{max}个字"));
    } else if has_control_chars(v) {
        errors.add(field, Code::InvalidChars, format!("{label}含有不可见的控制字符"));
    }
    v.to_string()
}

/// A required text typed in a text area: as `required_text`, line breaks allowed.
pub fn required_lines(errors: &mut FieldErrors, field: &str, label: &str, value: &str, max: usize) -> String {
    if value.trim().is_empty() {
        errors.add(field, Code::Required, format!("请填写{label}"));
        return String::new();
    }
    optional_text(errors, field, label, value, max, true)
}

/// An optional text: trimmed, at most `max` characters; line breaks allowed when `multiline`.
pub fn optional_text(
    errors: &mut FieldErrors,
    field: &str,
    label: &str,
    value: &str,
    max: usize,
    multiline: bool,
) -> String {
    let v = value.trim();
    if v.chars().count() > max {
        errors.add(field, Code::TooLong, format!("{label}不能超过{max}个字"));
    } else if v.chars().any(|c| c.is_control() && !(multiline && (c == '\n' || c == '\r' || c == '\t'))) {
        errors.add(field, Code::InvalidChars, format!("{label}含有不可见的控制字符"));
    }
    v.to_string()
}

/// Chinese phone numbers: 11-digit mobiles (1[3-9]…) or landlines such as 0317-2345678 (with
/// optional extension). Empty is allowed unless `required`.
pub fn phone(errors: &mut FieldErrors, field: &str, label: &str, value: &str, required: bool) -> String {
    let v = value.trim();
    if v.is_empty() {
        if required {
            errors.add(field, Code::Required, format!("请填写{label}"));
        }
        return String::new();
    }
    // A mobile as typed (full-width, +86, groups) is kept as its 11 digits.
    if let Some(m) = crate::domain::citizen::mobile(v) {
        return m;
    }
    let v = half_width(v);
    if !is_phone(&v) {
        errors.add(field, Code::InvalidPhone, format!("{label}格式不正确，应为11位手机号或带区号的固定电话"));
    }
    v
}

/// Full-width ASCII (０-９, Ａ-Ｚ, ＞, ，…) and the ideographic space as their half-width forms, as
/// Chinese input methods often type them.
pub fn half_width(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '\u{3000}' => ' ',
            '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
            c => c,
        })
        .collect()
}

pub fn is_phone(v: &str) -> bool {
    let b = v.as_bytes();
    let mobile = b.len() == 11 && b[0] == b'1' && (b'3'..=b'9').contains(&b[1]) && b.iter().all(u8::is_ascii_digit);
    if mobile {
        return true;
    }
    // Landline: 0 + 2-3 digit area code, a dash, 7-8 digits, optional "-ext".
    let mut parts = v.split('-');
    let (Some(area), Some(num)) = (parts.next(), parts.next()) else { return false };
    let ext_ok = parts.next().is_none_or(|e| (1..=6).contains(&e.len()) && e.bytes().all(|c| c.is_ascii_digit()));
    parts.next().is_none()
        && ext_ok
        && area.starts_with('0')
        && (3..=4).contains(&area.len())
        && area.bytes().all(|c| c.is_ascii_digit())
        && (7..=8).contains(&num.len())
        && num.bytes().all(|c| c.is_ascii_digit())
}

/// Accepts a JSON boolean, 1 or 0 (as the API returns stored flags) or a form value ("on", "1",
/// "true", "0", "false").
pub fn flag<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Flag {
        B(bool),
        N(i64),
        S(String),
    }
    Ok(match Option::<Flag>::deserialize(d)? {
        None => None,
        Some(Flag::B(b)) => Some(b),
        Some(Flag::N(1)) => Some(true),
        Some(Flag::N(0)) => Some(false),
        Some(Flag::N(_)) => return Err(serde::de::Error::custom("应为是/否")),
        Some(Flag::S(s)) => match s.as_str() {
            "on" | "1" | "true" | "yes" => Some(true),
            "0" | "false" | "off" | "no" => Some(false),
            "" => None,
            _ => return Err(serde::de::Error::custom("应为是/否")),
        },
    })
}

/// Accepts a JSON number (as the API returns coordinates) or the text typed into a form.
pub fn number_text<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum NumberText {
        N(f64),
        S(String),
    }
    Ok(match Option::<NumberText>::deserialize(d)? {
        None => String::new(),
        Some(NumberText::N(n)) => n.to_string(),
        Some(NumberText::S(s)) => s,
    })
}

/// Accepts a text or null (as the API returns a text it does not have), null as "".
pub fn text_or_null<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    Ok(Option::<String>::deserialize(d)?.unwrap_or_default())
}

/// Accepts a JSON integer or a form string ("" is none).
pub fn number<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum V {
        N(i64),
        S(String),
    }
    Ok(match Option::<V>::deserialize(d)? {
        None => None,
        Some(V::N(n)) => Some(n),
        Some(V::S(s)) if s.trim().is_empty() => None,
        Some(V::S(s)) => Some(s.trim().parse().map_err(|_| serde::de::Error::custom("应为整数"))?),
    })
}

/// Accepts a JSON number or a form string for a row version.
pub fn version<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum V {
        N(i64),
        S(String),
    }
    Ok(match Option::<V>::deserialize(d)? {
        None => None,
        Some(V::N(n)) => Some(n),
        Some(V::S(s)) if s.trim().is_empty() => None,
        Some(V::S(s)) => Some(s.trim().parse().map_err(|_| serde::de::Error::custom("版本号应为数字"))?),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn required_text_counts_characters_not_bytes() {
        let mut e = FieldErrors::default();
        let v = required_text(&mut e, "name", "名称", "  运河区  ", 3);
        assert_eq!(v, "运河区");
        assert!(e.is_empty());
        required_text(&mut e, "name", "名称", "运河区区", 3);
        assert_eq!(e.get("name"), Some("名称不能超过3个字"));
    }

    #[test]
    fn required_text_rejects_blank_and_control_chars() {
        let mut e = FieldErrors::default();
        required_text(&mut e, "a", "名称", "   ", 10);
        required_text(&mut e, "b", "名称", "a\u{0}b", 10);
        assert_eq!(e.0[0].code, Code::Required);
        assert_eq!(e.0[1].code, Code::InvalidChars);
    }

    #[test]
    fn phones() {
        for ok in ["13812345678", "0317-2345678", "010-12345678", "0317-2345678-123"] {
            assert!(is_phone(ok), "{ok}");
        }
        for bad in ["12812345678", "1381234567", "2345678", "0317-234", "abc", "0317-2345678-", "0317--2345678"] {
            assert!(!is_phone(bad), "{bad}");
        }
    }
}

/// An integer field of a form (or a JSON number): kept as typed, so that "abc" comes back as a
/// field error beside what was typed instead of a refused request. Full-width digits count.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IntText(pub String);

impl IntText {
    pub fn is_empty(&self) -> bool {
        self.0.trim().is_empty()
    }

    /// The value (None when empty); a text that is not an integer within `range` adds
    /// "{label}应为{min}至{max}的整数" to `errors` under `field`.
    pub fn get(
        &self,
        errors: &mut FieldErrors,
        field: &str,
        label: &str,
        range: std::ops::RangeInclusive<i64>,
    ) -> Option<i64> {
        if self.is_empty() {
            return None;
        }
        let text = half_width(self.0.trim()).replace([',', ' '], "");
        match text.parse::<i64>() {
            Ok(n) if range.contains(&n) => Some(n),
            _ => {
                errors.add(field, Code::InvalidValue, format!("{label}应为{}至{}的整数", range.start(), range.end()));
                None
            }
        }
    }
}

impl From<i64> for IntText {
    fn from(n: i64) -> IntText {
        IntText(n.to_string())
    }
}

impl std::fmt::Display for IntText {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for IntText {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<IntText, D::Error> {
        number_text(d).map(IntText)
    }
}
