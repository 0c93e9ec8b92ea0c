//! The standard ledger's rules: what a requirement item must carry, and how versions move
//! (draft → published → archived). Items of a published version never change, so a problem
//! judged against an item keeps that version for good.

use super::code::Code;
use super::validate::{FieldErrors, optional_text, required_text};
use serde::{Deserialize, Serialize};

crate::vocab! {
    /// How serious a problem is.
    pub enum Severity: "严重程度" {
        Minor("minor", "轻微"),
        Normal("normal", "一般"),
        Major("major", "严重"),
    }
}

crate::vocab! {
    /// The unit of a time limit.
    pub enum TimeUnit: "时限单位" {
        WorkingHours("hours", "工作时"),
        WorkingDays("days", "工作日"),
    }
}

crate::vocab! {
    /// Where a versioned document (a standard catalogue, a rule set, a notice) stands.
    pub enum Publication: "发布状态" {
        Draft("draft", "草稿"),
        Published("published", "现行"),
        Archived("archived", "已归档"),
    }
}

/// A requirement item as entered (form, JSON, Excel row or the shipped catalogue).
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ItemInput {
    /// 大类, e.g. 市容环境
    #[serde(default)]
    pub category: String,
    /// 小类, e.g. 暴露垃圾
    #[serde(default)]
    pub item: String,
    /// Two digits
    #[serde(default)]
    pub major_code: String,
    /// Two digits
    #[serde(default)]
    pub minor_code: String,
    #[serde(default)]
    pub requirement: String,
    /// Comma-separated point type codes, or * for every type
    #[serde(default)]
    pub point_types: String,
    #[serde(default)]
    pub time_limit: serde_json::Value,
    /// hours (working hours) or days (working days)
    #[serde(default)]
    pub time_unit: String,
    /// minor | normal | major
    #[serde(default)]
    pub severity: String,
    #[serde(default)]
    pub deduction: serde_json::Value,
    #[serde(default)]
    pub closing_standard: String,
    /// The row version an edit was read at (required when changing an item)
    #[serde(default, deserialize_with = "super::validate::version")]
    pub version: Option<i64>,
}

/// A checked item: what a stored standard item requires.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow, serde::Serialize, utoipa::ToSchema)]
pub struct ValidItem {
    pub category: String,
    pub item: String,
    pub major_code: String,
    pub minor_code: String,
    pub requirement: String,
    pub point_types: String,
    pub time_limit: i64,
    pub time_unit: TimeUnit,
    pub severity: Severity,
    pub deduction: f64,
    pub closing_standard: String,
}

fn number(v: &serde_json::Value) -> Option<f64> {
    match v {
        serde_json::Value::Number(n) => n.as_f64(),
        serde_json::Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn two_digits(e: &mut FieldErrors, field: &str, label: &str, v: &str) -> String {
    let v = v.trim();
    if v.len() != 2 || !v.bytes().all(|b| b.is_ascii_digit()) {
        e.add(field, Code::InvalidCode, format!("{label}应为2位数字，如01"));
    }
    v.to_string()
}

impl ItemInput {
    /// Checks every field; `known_types` are the point type codes in use.
    pub fn validate(&self, known_types: &[String]) -> Result<ValidItem, FieldErrors> {
        let mut e = FieldErrors::default();
        let category = required_text(&mut e, "category", "大类", &self.category, 20);
        let item = required_text(&mut e, "item", "小类", &self.item, 30);
        let major_code = two_digits(&mut e, "major_code", "大类编码", &self.major_code);
        let minor_code = two_digits(&mut e, "minor_code", "小类编码", &self.minor_code);
        let requirement = required_text(&mut e, "requirement", "标准要求", &self.requirement, 300);
        let mut types: Vec<String> = self
            .point_types
            .split([',', '，', '、', ' '])
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect();
        types.dedup();
        if types.is_empty() {
            e.add("point_types", Code::Required, "请选择适用的点位类型（全部类型填*）");
        } else if let Some(bad) = types.iter().find(|t| t.as_str() != "*" && !known_types.contains(t)) {
            e.add("point_types", Code::UnknownType, format!("点位类型“{bad}”不存在"));
        }
        let time_limit = number(&self.time_limit).filter(|n| n.fract() == 0.0 && (1.0..=365.0).contains(n));
        if time_limit.is_none() {
            e.add("time_limit", Code::InvalidTimeLimit, "处置时限应为1至365的整数");
        }
        let time_unit = TimeUnit::parse_any(&self.time_unit);
        if time_unit.is_none() {
            e.add("time_unit", Code::InvalidTimeUnit, "时限单位应为工作时或工作日");
        }
        let severity = Severity::parse_any(&self.severity);
        if severity.is_none() {
            e.add("severity", Code::InvalidSeverity, "严重程度应为轻微、一般或严重");
        }
        let deduction = number(&self.deduction).filter(|n| (0.0..=100.0).contains(n) && (n * 10.0).fract() == 0.0);
        if deduction.is_none() {
            e.add("deduction", Code::InvalidDeduction, "默认扣分应为0至100之间的数，最多一位小数");
        }
        let closing_standard = optional_text(&mut e, "closing_standard", "结案标准", &self.closing_standard, 200, true);
        if !e.is_empty() {
            return Err(e);
        }
        Ok(ValidItem {
            category,
            item,
            major_code,
            minor_code,
            requirement,
            point_types: if types.iter().any(|t| t == "*") { "*".into() } else { types.join(",") },
            time_limit: time_limit.unwrap_or(1.0) as i64,
            time_unit: time_unit.unwrap_or(TimeUnit::WorkingDays),
            severity: severity.unwrap_or(Severity::Normal),
            deduction: deduction.unwrap_or(0.0),
            closing_standard,
        })
    }
}

/// Whether an item (its `point_types`) applies to a point type code.
pub fn applies(point_types: &str, type_code: &str) -> bool {
    point_types == "*" || point_types.split(',').any(|t| t == type_code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Deserialize)]
    struct Catalogue {
        items: Vec<ItemInput>,
    }

    const TYPES: [&str; 20] = [
        "main_road",
        "back_street",
        "compound",
        "market",
        "mall",
        "bank",
        "service_hall",
        "hospital",
        "school",
        "park",
        "bus_stop",
        "construction",
        "shop_front",
        "village",
        "toilet",
        "station",
        "intersection",
        "transfer_station",
        "business_hall",
        "culture",
    ];

    #[test]
    fn the_default_catalogue_is_valid_and_covers_every_point_type() {
        let c: Catalogue = serde_json::from_str(include_str!("../../resources/standards/default.json")).unwrap();
        let known: Vec<String> = TYPES.iter().map(|s| s.to_string()).collect();
        let items: Vec<ValidItem> = c.items.iter().map(|i| i.validate(&known).unwrap()).collect();
        for t in TYPES {
            let own = items.iter().filter(|i| i.point_types != "*" && applies(&i.point_types, t)).count();
            assert!(own >= 1, "{t} has its own requirements");
        }
        let mut codes: Vec<String> = items.iter().map(|i| format!("{}{}", i.major_code, i.minor_code)).collect();
        codes.sort();
        codes.dedup();
        assert_eq!(codes.len(), items.len(), "codes are unique");
        // The time limits DOMAIN.md quotes.
        let garbage = items.iter().find(|i| i.item == "暴露垃圾").unwrap();
        assert_eq!((garbage.time_limit, garbage.time_unit), (4, TimeUnit::WorkingHours));
        let cleaning = items.iter().find(|i| i.item == "道路保洁").unwrap();
        assert_eq!((cleaning.time_limit, cleaning.time_unit), (2, TimeUnit::WorkingHours));
        let green = items.iter().find(|i| i.item == "绿地养护").unwrap();
        assert_eq!((green.time_limit, green.time_unit), (5, TimeUnit::WorkingDays));
    }

    #[test]
    fn bad_items_are_explained_field_by_field() {
        let i = ItemInput {
            category: "".into(),
            item: "x".into(),
            major_code: "1".into(),
            minor_code: "01".into(),
            requirement: "要求".into(),
            point_types: "main_road,airport".into(),
            time_limit: serde_json::json!(0),
            time_unit: "weeks".into(),
            severity: "致命".into(),
            deduction: serde_json::json!("1.25"),
            closing_standard: String::new(),
            version: None,
        };
        let e = i.validate(&["main_road".to_string()]).unwrap_err();
        let fields: Vec<&str> = e.0.iter().map(|f| f.field.as_str()).collect();
        assert_eq!(
            fields,
            ["category", "major_code", "point_types", "time_limit", "time_unit", "severity", "deduction"]
        );
        assert!(applies("*", "park") && applies("park,school", "school") && !applies("park", "school"));
    }
}
