//! Pure domain rules: no IO. Everything here is testable without a database.

pub mod audit;
pub mod calendar;
pub mod citizen;
pub mod code;
pub mod community;
pub mod evaluation;
pub mod geo;
pub mod ids;
pub mod kpi;
pub mod mutual;
pub mod notice;
pub mod notify;
pub mod org;
pub mod photo;
pub mod problem;
pub mod role;
pub mod score;
pub mod search;
pub mod standard;
pub mod time;
pub mod unit;
pub mod validate;
pub mod vocab;
pub mod window;

/// Percent-encodes a value for a URL's query or path (slashes kept).
pub fn urlencode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~' | b'/') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}
