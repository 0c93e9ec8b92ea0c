//! Responsible units (责任单位): departments, window units and property companies.

crate::vocab! {
    /// What kind of organisation a responsible unit is.
    pub enum UnitKind: "单位类型" {
        Government("government", "政府部门"),
        Institution("institution", "事业单位"),
        BankBranch("bank_branch", "银行网点"),
        ServiceHall("service_hall", "政务服务大厅"),
        BusinessHall("business_hall", "营业厅"),
        Property("property", "物业公司"),
        Enterprise("enterprise", "企业"),
        Community("community", "街道/社区"),
        Other("other", "其他"),
    }
}

impl UnitKind {
    /// Window units (窗口单位) are rated by the public.
    pub fn is_window(self) -> bool {
        matches!(self, Self::BankBranch | Self::ServiceHall | Self::BusinessHall)
    }
}

crate::vocab! {
    /// Where a task of a unit's responsibility ledger stands.
    pub enum TaskStatus: "任务状态" {
        Todo("todo", "未开始"),
        Doing("doing", "进行中"),
        Done("done", "已完成"),
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
