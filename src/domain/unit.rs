//! Responsible units (责任单位): departments, window units and property companies.

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum UnitKind {
    Government,
    Institution,
    BankBranch,
    ServiceHall,
    BusinessHall,
    Property,
    Enterprise,
    Community,
    Other,
}

impl UnitKind {
    pub const ALL: [UnitKind; 9] = [
        Self::Government,
        Self::Institution,
        Self::BankBranch,
        Self::ServiceHall,
        Self::BusinessHall,
        Self::Property,
        Self::Enterprise,
        Self::Community,
        Self::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Government => "government",
            Self::Institution => "institution",
            Self::BankBranch => "bank_branch",
            Self::ServiceHall => "service_hall",
            Self::BusinessHall => "business_hall",
            Self::Property => "property",
            Self::Enterprise => "enterprise",
            Self::Community => "community",
            Self::Other => "other",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Government => "政府部门",
            Self::Institution => "事业单位",
            Self::BankBranch => "银行网点",
            Self::ServiceHall => "政务服务大厅",
            Self::BusinessHall => "营业厅",
            Self::Property => "物业公司",
            Self::Enterprise => "企业",
            Self::Community => "街道/社区",
            Self::Other => "其他",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// Window units (窗口单位) are rated by the public.
    pub fn is_window(self) -> bool {
        matches!(self, Self::BankBranch | Self::ServiceHall | Self::BusinessHall)
    }
}

/// The five default levels of a unit's contact book; admins can change the list.
pub const DEFAULT_CONTACT_LEVELS: [&str; 5] =
    ["单位主要负责人", "分管领导", "部门负责人", "联络员", "现场负责人/大堂经理"];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_round_trip_and_windows_are_marked() {
        for k in UnitKind::ALL {
            assert_eq!(UnitKind::parse(k.as_str()), Some(k));
        }
        assert!(UnitKind::BankBranch.is_window() && UnitKind::ServiceHall.is_window());
        assert!(!UnitKind::Government.is_window());
    }
}
