//! Roles and what each may see. The scoping rules live here so pages and API agree.

crate::vocab! {
    /// The roles an account can have.
    pub enum Role: "角色" {
        Admin("admin", "文明办管理员"),
        Supervisor("supervisor", "督导员"),
        UnitUser("unit_user", "责任单位用户"),
        PointLead("point_lead", "点位负责人"),
        GridWorker("grid_worker", "网格员"),
        Evaluator("evaluator", "测评员"),
        Discipline("discipline", "纪委/督查室"),
    }
}

crate::vocab! {
    /// How a session was opened: a browser cookie or an API token.
    pub enum SessionKind: "会话类型" {
        Web("web", "网页登录"),
        Api("api", "接口令牌"),
    }
}

impl Role {
    /// Unit users and point leads act for exactly one responsible unit.
    pub fn needs_unit(self) -> bool {
        matches!(self, Self::UnitUser | Self::PointLead)
    }

    /// Grid workers patrol one area of the administrative tree.
    pub fn needs_area(self) -> bool {
        matches!(self, Self::GridWorker)
    }

    /// Roles that may read every unit and its contact book (the office and its watchers).
    pub fn sees_all_units(self) -> bool {
        matches!(self, Self::Admin | Self::Supervisor | Self::Evaluator | Self::Discipline)
    }

    pub fn reads_audit(self) -> bool {
        matches!(self, Self::Admin | Self::Discipline)
    }

    pub fn sees_teams(self) -> bool {
        matches!(self, Self::Admin | Self::Supervisor | Self::Discipline | Self::Evaluator)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_role_round_trips_and_has_a_chinese_label() {
        for r in Role::ALL {
            assert_eq!(Role::parse(r.as_str()), Some(r));
            assert!(!r.label().is_ascii());
        }
        assert_eq!(Role::parse("root"), None);
    }

    #[test]
    fn scoped_roles() {
        assert!(Role::UnitUser.needs_unit() && Role::PointLead.needs_unit());
        assert!(Role::GridWorker.needs_area());
        assert!(!Role::UnitUser.sees_all_units());
        assert!(!Role::UnitUser.reads_audit() && Role::Discipline.reads_audit());
    }
}
