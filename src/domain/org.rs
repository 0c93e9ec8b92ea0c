//! The administrative tree: district (区县) → street office (街道) → community (社区) → compound (小区).
//! Codes follow GB/T 2260 for the county (6 digits) and add 3 digits per level below it, so a
//! compound code is 15 digits and always starts with its parents' codes.

use super::code::Code;

crate::vocab! {
    /// The levels of the administrative tree.
    pub enum OrgLevel: "区域层级" {
        District("district", "区县"),
        Street("street", "街道"),
        Community("community", "社区"),
        Compound("compound", "小区"),
    }
}

impl OrgLevel {
    pub fn code_len(self) -> usize {
        match self {
            Self::District => 6,
            Self::Street => 9,
            Self::Community => 12,
            Self::Compound => 15,
        }
    }

    pub fn parent(self) -> Option<Self> {
        match self {
            Self::District => None,
            Self::Street => Some(Self::District),
            Self::Community => Some(Self::Street),
            Self::Compound => Some(Self::Community),
        }
    }

    pub fn child(self) -> Option<Self> {
        match self {
            Self::District => Some(Self::Street),
            Self::Street => Some(Self::Community),
            Self::Community => Some(Self::Compound),
            Self::Compound => None,
        }
    }
}

/// Why a code is refused: a stable code for API clients and a sentence for people.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeError {
    pub code: Code,
    pub message: String,
}

/// Checks a node's code against its level and its parent's code.
pub fn check_code(level: OrgLevel, code: &str, parent_code: Option<&str>) -> Result<(), CodeError> {
    let len = level.code_len();
    if code.len() != len || !code.bytes().all(|b| b.is_ascii_digit()) {
        return Err(CodeError {
            code: Code::InvalidCode, message: format!("{}编码应为{}位数字", level.label(), len)
        });
    }
    if level == OrgLevel::District {
        // County-level GB/T 2260 codes never end in 00 (that is the prefecture itself) and
        // start with a province prefix from 11 to 82.
        let province: u32 = code[..2].parse().unwrap_or(0);
        if code.ends_with("00") || !(11..=82).contains(&province) {
            return Err(CodeError {
                code: Code::InvalidCode,
                message: "区县编码应为GB/T 2260县级行政区划代码（6位，末两位不为00）".into(),
            });
        }
        return Ok(());
    }
    if code.ends_with("000") {
        return Err(CodeError { code: Code::InvalidCode, message: "本级序号不能为000".into() });
    }
    match parent_code {
        Some(p) if code.starts_with(p) && p.len() + 3 == len => Ok(()),
        Some(p) => Err(CodeError {
            code: Code::CodeNotUnderParent,
            message: format!("编码应以上级编码{p}开头，再加3位本级序号"),
        }),
        None => Err(CodeError { code: Code::ParentRequired, message: format!("{}必须有上级", level.label()) }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn district_codes_follow_gbt_2260() {
        assert!(check_code(OrgLevel::District, "130903", None).is_ok());
        assert_eq!(check_code(OrgLevel::District, "130900", None).unwrap_err().code, Code::InvalidCode);
        assert_eq!(check_code(OrgLevel::District, "13090", None).unwrap_err().code, Code::InvalidCode);
        assert_eq!(check_code(OrgLevel::District, "99090a", None).unwrap_err().code, Code::InvalidCode);
        assert_eq!(check_code(OrgLevel::District, "990903", None).unwrap_err().code, Code::InvalidCode);
    }

    #[test]
    fn lower_levels_extend_the_parent_code_by_three_digits() {
        assert!(check_code(OrgLevel::Street, "130903001", Some("130903")).is_ok());
        assert!(check_code(OrgLevel::Compound, "130903001002003", Some("130903001002")).is_ok());
        let e = check_code(OrgLevel::Street, "130904001", Some("130903")).unwrap_err();
        assert_eq!(e.code, Code::CodeNotUnderParent);
        assert_eq!(check_code(OrgLevel::Street, "130903000", Some("130903")).unwrap_err().code, Code::InvalidCode);
        assert_eq!(check_code(OrgLevel::Community, "130903001001", None).unwrap_err().code, Code::ParentRequired);
    }

    #[test]
    fn levels_chain() {
        for l in OrgLevel::ALL {
            assert_eq!(OrgLevel::parse(l.as_str()), Some(l));
            if let Some(c) = l.child() {
                assert_eq!(c.parent(), Some(l));
                assert_eq!(c.code_len(), l.code_len() + 3);
            }
        }
        assert_eq!(OrgLevel::parse("city"), None);
    }
}
