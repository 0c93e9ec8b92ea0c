//! Roles and what each may see. The scoping rules live here so pages and API agree.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Admin,
    Supervisor,
    UnitUser,
    PointLead,
    GridWorker,
    Evaluator,
    Discipline,
}

impl Role {
    pub const ALL: [Role; 7] = [
        Self::Admin,
        Self::Supervisor,
        Self::UnitUser,
        Self::PointLead,
        Self::GridWorker,
        Self::Evaluator,
        Self::Discipline,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Admin => "admin",
            Self::Supervisor => "supervisor",
            Self::UnitUser => "unit_user",
            Self::PointLead => "point_lead",
            Self::GridWorker => "grid_worker",
            Self::Evaluator => "evaluator",
            Self::Discipline => "discipline",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Admin => "文明办管理员",
            Self::Supervisor => "督导员",
            Self::UnitUser => "责任单位用户",
            Self::PointLead => "点位负责人",
            Self::GridWorker => "网格员",
            Self::Evaluator => "测评员",
            Self::Discipline => "纪委/督查室",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == s)
    }

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
