//! The problem lifecycle (the national case loop): collect → verify and file (立案; voided 作废)
//! → dispatch (派遣; the clock starts) → dispose (处置) → feedback → on-site check and close
//! (核查结案; a failed check sends it back, 返工). A pure state machine, tested exhaustively.

use super::calendar::{Calendar, Local};
use super::code::Code;
use super::role::Role;
use chrono::NaiveTime;

crate::vocab! {
    /// Where a problem is in the loop.
    pub enum State: "问题状态" {
        /// Reported by a citizen, waiting for the office to verify
        Reported("reported", "待核实"),
        /// Filed and sent to the responsible unit, waiting for "收到"
        Dispatched("dispatched", "待签收"),
        /// The lead said "收到" and is fixing it
        Acknowledged("acknowledged", "处置中"),
        /// Fix submitted with after-photos, waiting for the re-check
        Submitted("submitted", "待核查"),
        /// Postponed by the office; the clock stops
        Postponed("postponed", "缓办"),
        /// Passed the re-check
        Closed("closed", "已销号"),
        /// Not a valid case
        Voided("voided", "已作废"),
    }
}

impl State {
    /// The states of a problem not yet closed or voided.
    pub const OPEN: [State; 5] =
        [State::Reported, State::Dispatched, State::Acknowledged, State::Submitted, State::Postponed];

    /// States in which the deadline runs (a problem can become overdue).
    pub fn clock_running(self) -> bool {
        matches!(self, Self::Dispatched | Self::Acknowledged | Self::Submitted)
    }

    pub fn is_final(self) -> bool {
        matches!(self, Self::Closed | Self::Voided)
    }
}

crate::vocab! {
    /// What someone asks to do with a problem.
    pub enum Action: "问题操作" {
        Verify("verify", "核实立案"),
        Void("void", "作废"),
        Acknowledge("acknowledge", "收到"),
        SubmitFix("submit_fix", "提交整改"),
        Pass("pass", "核查通过（销号）"),
        Fail("fail", "核查不通过（返工）"),
        RequestExtension("request_extension", "申请延期"),
        ApproveExtension("approve_extension", "批准延期"),
        RefuseExtension("refuse_extension", "驳回延期"),
        Postpone("postpone", "缓办"),
        Resume("resume", "恢复办理"),
        Reassign("reassign", "单位内改派"),
        RequestTransfer("request_transfer", "申请转办"),
        Transfer("transfer", "转办其他单位"),
        RefuseTransfer("refuse_transfer", "驳回转办"),
        /// The reporter (or the office for them) says a closed problem is not fixed
        Reopen("reopen", "群众反映未解决，重新办理"),
    }
}

impl Action {
    /// The re-check's outcomes (回头看: 销号 or 返工).
    pub fn is_recheck(self) -> bool {
        matches!(self, Self::Pass | Self::Fail)
    }

    /// Actions that must carry a reason.
    pub fn needs_reason(self) -> bool {
        matches!(
            self,
            Self::Void
                | Self::Fail
                | Self::RequestExtension
                | Self::RefuseExtension
                | Self::Postpone
                | Self::RequestTransfer
                | Self::Transfer
                | Self::RefuseTransfer
                | Self::Reopen
        )
    }
}

/// A step in a problem's history: filed, merged into, or one of the actions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Step {
    File,
    Merge,
    Act(Action),
}

impl Step {
    pub const WHAT: &'static str = "问题处理步骤";

    pub fn as_str(self) -> &'static str {
        match self {
            Step::File => "file",
            Step::Merge => "merge",
            Step::Act(a) => a.as_str(),
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Step::File => "登记",
            Step::Merge => "合并重复问题",
            Step::Act(a) => a.label(),
        }
    }

    pub fn parse(s: &str) -> Option<Step> {
        match s {
            "file" => Some(Step::File),
            "merge" => Some(Step::Merge),
            other => Action::parse(other).map(Step::Act),
        }
    }
}

impl std::fmt::Display for Step {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.label())
    }
}

crate::text_codec!(Step);

impl utoipa::PartialSchema for Step {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        let codes = ["file", "merge"].into_iter().chain(Action::ALL.iter().map(|a| a.as_str()));
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .description(Some("问题处理步骤: file 登记, merge 合并重复问题, or an action"))
            .enum_values(Some(codes))
            .into()
    }
}

impl utoipa::ToSchema for Step {}

/// Who acts, as far as the rules care: the role, and whether the problem is their unit's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Actor {
    pub role: Role,
    /// The problem is assigned to the actor's own unit.
    pub own_unit: bool,
}

/// The parts of a problem the rules look at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Facts {
    pub state: State,
    pub extension_pending: bool,
    /// The unit asked for the problem to go to another unit and the office has not decided
    pub transfer_pending: bool,
}

/// What a permitted action does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Outcome {
    pub state: State,
    pub extension_pending: bool,
    pub transfer_pending: bool,
    pub rework: bool,
}

/// Why an action is refused: a stable code and a Chinese sentence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub code: Code,
    pub message: String,
}

fn refuse(code: Code, message: impl Into<String>) -> Result<Outcome, Refusal> {
    Err(Refusal { code, message: message.into() })
}

/// Who may take an action, in the refusal's words.
fn who_may(action: Action) -> &'static str {
    use Action as A;
    match action {
        A::Pass | A::Fail => "督导员或创城办",
        A::Acknowledge | A::SubmitFix | A::RequestExtension | A::RequestTransfer => "该问题的责任单位",
        A::Reassign => "该问题的责任单位管理员或创城办",
        _ => "创城办管理员",
    }
}

/// A closed problem its reporter says is not fixed goes back to the unit as rework.
fn reopen(s: State) -> Result<Outcome, Refusal> {
    match s {
        State::Closed => {
            Ok(Outcome { state: State::Dispatched, extension_pending: false, transfer_pending: false, rework: true })
        }
        _ => refuse(Code::WrongState, format!("只有已销号的问题可以“{}”", Action::Reopen.label())),
    }
}

/// The single rule book: may `actor` do `action` on a problem in `facts`, and with what result.
pub fn transition(facts: Facts, action: Action, actor: Actor) -> Result<Outcome, Refusal> {
    use Action as A;
    use State as S;
    let office = actor.role == Role::Admin;
    let inspector = matches!(actor.role, Role::Admin | Role::Supervisor);
    let unit_side = actor.own_unit && matches!(actor.role, Role::UnitUser | Role::PointLead);
    let unit_manager = actor.own_unit && actor.role == Role::UnitUser;
    let (ext, transfer) = (facts.extension_pending, facts.transfer_pending);
    let keep = |state| Ok(Outcome { state, extension_pending: ext, transfer_pending: transfer, rework: false });
    // Closing, voiding, postponing or transferring settles every request.
    let settled = |state| Ok(Outcome { state, extension_pending: false, transfer_pending: false, rework: false });
    let who_ok = match action {
        A::Verify
        | A::Void
        | A::ApproveExtension
        | A::RefuseExtension
        | A::Postpone
        | A::Resume
        | A::Transfer
        | A::RefuseTransfer
        | A::Reopen => office,
        A::Acknowledge | A::SubmitFix | A::RequestExtension | A::RequestTransfer => unit_side,
        A::Pass | A::Fail => inspector,
        A::Reassign => unit_manager || office,
    };
    if !who_ok {
        return refuse(Code::NotAllowed, format!("只有{}可以“{}”", who_may(action), action.label()));
    }
    let s = facts.state;
    if action == A::Reopen {
        return reopen(s);
    }
    if s.is_final() {
        return refuse(Code::AlreadyFinal, format!("问题已{}，不能再“{}”", s.label(), action.label()));
    }
    match (action, s) {
        (A::Verify, S::Reported) => keep(S::Dispatched),
        (A::Void, S::Reported | S::Dispatched | S::Acknowledged | S::Postponed) => settled(S::Voided),
        (A::Acknowledge, S::Dispatched) => keep(S::Acknowledged),
        (A::SubmitFix, S::Acknowledged) => keep(S::Submitted),
        (A::SubmitFix, S::Dispatched) => refuse(Code::NotAcknowledged, "请先点“收到”签收，再提交整改"),
        (A::Pass, S::Submitted) => settled(S::Closed),
        (A::Fail, S::Submitted) => {
            Ok(Outcome { state: S::Acknowledged, extension_pending: ext, transfer_pending: transfer, rework: true })
        }
        (A::RequestExtension, S::Dispatched | S::Acknowledged) if facts.extension_pending => {
            refuse(Code::ExtensionPending, "已有一项延期申请待审批")
        }
        (A::RequestExtension, S::Dispatched | S::Acknowledged) => {
            Ok(Outcome { state: s, extension_pending: true, transfer_pending: transfer, rework: false })
        }
        (A::ApproveExtension | A::RefuseExtension, _) if !facts.extension_pending => {
            refuse(Code::NoExtension, "没有待审批的延期申请")
        }
        (A::ApproveExtension | A::RefuseExtension, S::Dispatched | S::Acknowledged) => {
            Ok(Outcome { state: s, extension_pending: false, transfer_pending: transfer, rework: false })
        }
        (A::Postpone, S::Dispatched | S::Acknowledged) => settled(S::Postponed),
        (A::Resume, S::Postponed) => keep(S::Acknowledged),
        (A::Reassign, S::Dispatched | S::Acknowledged) => keep(s),
        (A::RequestTransfer, S::Dispatched | S::Acknowledged) if transfer => {
            refuse(Code::TransferPending, "已有一项转办申请待审批")
        }
        (A::RequestTransfer, S::Dispatched | S::Acknowledged) => {
            Ok(Outcome { state: s, extension_pending: ext, transfer_pending: true, rework: false })
        }
        (A::RefuseTransfer, _) if !transfer => refuse(Code::NoTransfer, "没有待审批的转办申请"),
        (A::RefuseTransfer, S::Dispatched | S::Acknowledged) => {
            Ok(Outcome { state: s, extension_pending: ext, transfer_pending: false, rework: false })
        }
        (A::Transfer, S::Dispatched | S::Acknowledged) => settled(S::Dispatched),
        _ => refuse(Code::WrongState, format!("问题当前为“{}”，不能“{}”", s.label(), action.label())),
    }
}

crate::vocab! {
    /// Where a problem came from (scoring rules name these).
    pub enum Source: "问题来源" {
        Supervision("supervision", "督导检查"),
        GridPatrol("grid_patrol", "网格巡查"),
        Citizen("citizen", "市民上报"),
        WindowRating("window_rating", "窗口差评"),
        MutualInspection("mutual_inspection", "互评互查"),
        Evaluation("evaluation", "测评"),
        SelfCheck("self_check", "自查"),
        Assigned("assigned", "上级交办"),
    }
}

impl Source {
    /// Found by an inspection on the ground: the iron rule applies.
    pub fn is_inspection(self) -> bool {
        matches!(self, Self::Supervision | Self::GridPatrol | Self::Evaluation | Self::MutualInspection)
    }

    /// Citizen reports are verified by the office before they are filed and dispatched.
    pub fn needs_verification(self) -> bool {
        self == Self::Citizen
    }
}

/// The "iron rule" settings: an inspection problem found on a working day before `cutoff` must be
/// fixed that day by `same_day_by`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IronRule {
    pub cutoff: NaiveTime,
    pub same_day_by: NaiveTime,
}

impl Default for IronRule {
    fn default() -> Self {
        IronRule {
            cutoff: NaiveTime::from_hms_opt(12, 0, 0).expect("valid time"),
            same_day_by: NaiveTime::from_hms_opt(17, 0, 0).expect("valid time"),
        }
    }
}

/// A category's time limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limit {
    WorkingHours(i64),
    WorkingDays(u32),
}

/// The deadline of a problem found at `found`: the iron rule for quick fixes found by inspection
/// in the morning of a working day; otherwise the category's limit on the working-day calendar.
pub fn deadline(cal: &Calendar, rule: IronRule, found: Local, source: Source, limit: Limit) -> Local {
    let quick = match limit {
        Limit::WorkingHours(_) => true,
        Limit::WorkingDays(d) => d <= 1,
    };
    let day = found.date_naive();
    if source.is_inspection() && quick && cal.is_working_day(day) && found.time() < rule.cutoff {
        let by = found.with_time(rule.same_day_by).single().unwrap_or(found);
        if by > found {
            return by;
        }
    }
    match limit {
        Limit::WorkingHours(h) => cal.add_working_minutes(found, h * 60),
        Limit::WorkingDays(d) => cal.add_working_days(found, d),
    }
}

/// The deadline of a problem filed at `filed` that was found at `found`: counted from the find,
/// unless that deadline has passed when the problem is filed (a find entered the next day, or in
/// the evening after a morning scan); then the clock starts at filing, so that no unit is late
/// for a problem before it could know of it.
pub fn deadline_at_filing(
    cal: &Calendar,
    rule: IronRule,
    (found, filed): (Local, Local),
    source: Source,
    limit: Limit,
) -> Local {
    let from_find = deadline(cal, rule, found, source, limit);
    if from_find > filed {
        return from_find;
    }
    deadline(cal, rule, filed, source, limit)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::calendar::{WorkingHours, YearData};

    fn actors() -> Vec<Actor> {
        Role::ALL.iter().flat_map(|&role| [Actor { role, own_unit: true }, Actor { role, own_unit: false }]).collect()
    }

    /// Every state × action × actor: the outcome is exactly what the rule book below says.
    #[test]
    fn every_state_action_and_actor() {
        use Action as A;
        use State as S;
        let mut allowed = 0;
        for state in State::ALL {
            for (pending, asked) in [(false, false), (true, false), (false, true), (true, true)] {
                let facts = Facts { state, extension_pending: pending, transfer_pending: asked };
                for action in Action::ALL {
                    for actor in actors() {
                        let r = transition(facts, action, actor);
                        let office = actor.role == Role::Admin;
                        let inspector = matches!(actor.role, Role::Admin | Role::Supervisor);
                        let unit_side = actor.own_unit && matches!(actor.role, Role::UnitUser | Role::PointLead);
                        let who = match action {
                            A::Verify
                            | A::Void
                            | A::ApproveExtension
                            | A::RefuseExtension
                            | A::Postpone
                            | A::Resume
                            | A::Transfer
                            | A::RefuseTransfer
                            | A::Reopen => office,
                            A::Acknowledge | A::SubmitFix | A::RequestExtension | A::RequestTransfer => unit_side,
                            A::Pass | A::Fail => inspector,
                            A::Reassign => office || (actor.own_unit && actor.role == Role::UnitUser),
                        };
                        let open = matches!(state, S::Dispatched | S::Acknowledged);
                        // (state, extension pending, transfer pending, rework)
                        let expected: Option<(State, bool, bool, bool)> = if !who {
                            None
                        } else if action == A::Reopen {
                            (state == S::Closed).then_some((S::Dispatched, false, false, true))
                        } else if state.is_final() {
                            None
                        } else {
                            match action {
                                A::Verify if state == S::Reported => Some((S::Dispatched, pending, asked, false)),
                                A::Void if state != S::Submitted => Some((S::Voided, false, false, false)),
                                A::Acknowledge if state == S::Dispatched => {
                                    Some((S::Acknowledged, pending, asked, false))
                                }
                                A::SubmitFix if state == S::Acknowledged => Some((S::Submitted, pending, asked, false)),
                                A::Pass if state == S::Submitted => Some((S::Closed, false, false, false)),
                                A::Fail if state == S::Submitted => Some((S::Acknowledged, pending, asked, true)),
                                A::RequestExtension if open && !pending => Some((state, true, asked, false)),
                                A::ApproveExtension | A::RefuseExtension if open && pending => {
                                    Some((state, false, asked, false))
                                }
                                A::Postpone if open => Some((S::Postponed, false, false, false)),
                                A::Resume if state == S::Postponed => Some((S::Acknowledged, pending, asked, false)),
                                A::Reassign if open => Some((state, pending, asked, false)),
                                A::RequestTransfer if open && !asked => Some((state, pending, true, false)),
                                A::RefuseTransfer if open && asked => Some((state, pending, false, false)),
                                A::Transfer if open => Some((S::Dispatched, false, false, false)),
                                _ => None,
                            }
                        };
                        match (expected, &r) {
                            (Some((st, p, t, rw)), Ok(o)) => {
                                assert_eq!(
                                    (o.state, o.extension_pending, o.transfer_pending, o.rework),
                                    (st, p, t, rw),
                                    "{state:?} {action:?} {actor:?}"
                                );
                                allowed += 1;
                            }
                            (None, Err(refusal)) => assert!(!refusal.message.is_empty()),
                            _ => panic!(
                                "{state:?} pending={pending} {action:?} {actor:?}: expected {expected:?}, got {r:?}"
                            ),
                        }
                    }
                }
            }
        }
        assert!(allowed > 50, "the table is not empty: {allowed}");
    }

    #[test]
    fn the_seed_rules_in_words() {
        let lead = Actor { role: Role::PointLead, own_unit: true };
        let supervisor = Actor { role: Role::Supervisor, own_unit: false };
        let submitted = Facts { state: State::Submitted, extension_pending: false, transfer_pending: false };
        assert_eq!(
            transition(submitted, Action::Pass, lead).unwrap_err().code,
            Code::NotAllowed,
            "a lead cannot close their own problem"
        );
        assert_eq!(transition(submitted, Action::Fail, supervisor).unwrap().state, State::Acknowledged);
        let dispatched = Facts { state: State::Dispatched, extension_pending: false, transfer_pending: false };
        assert_eq!(
            transition(dispatched, Action::Void, supervisor).unwrap_err().code,
            Code::NotAllowed,
            "a supervisor cannot void"
        );
        let other_unit = Actor { role: Role::UnitUser, own_unit: false };
        assert_eq!(transition(dispatched, Action::Acknowledge, other_unit).unwrap_err().code, Code::NotAllowed);
        assert_eq!(transition(dispatched, Action::SubmitFix, lead).unwrap_err().code, Code::NotAcknowledged);
        for a in [
            Action::Void,
            Action::Fail,
            Action::RequestExtension,
            Action::RefuseExtension,
            Action::Postpone,
            Action::RequestTransfer,
            Action::Transfer,
            Action::RefuseTransfer,
        ] {
            assert!(a.needs_reason(), "{a:?} needs a reason");
        }
        assert!(!Action::Acknowledge.needs_reason() && !Action::Pass.needs_reason());
    }

    fn cal() -> Calendar {
        let data: YearData = serde_json::from_str(include_str!("../../resources/calendar/2026.json")).unwrap();
        let (h, w) = data.validate().unwrap();
        let mut c = Calendar::new(WorkingHours::default());
        c.add_year(2026, h, w);
        c
    }

    fn t(s: &str) -> Local {
        chrono::DateTime::parse_from_str(&format!("{s} +08:00"), "%Y-%m-%d %H:%M %z").unwrap()
    }

    #[test]
    fn deadlines_follow_the_iron_rule_then_the_calendar() {
        let c = cal();
        let r = IronRule::default();
        // 07:05 morning scan, exposed garbage (4 working hours): fixed today by 17:00.
        assert_eq!(
            deadline(&c, r, t("2026-11-23 07:05"), Source::Supervision, Limit::WorkingHours(4)),
            t("2026-11-23 17:00")
        );
        // Found after the cut-off: the category's 4 working hours (14:00 + 3.5 h today, 0.5 h tomorrow).
        assert_eq!(
            deadline(&c, r, t("2026-11-23 14:00"), Source::Supervision, Limit::WorkingHours(4)),
            t("2026-11-24 09:00")
        );
        // A citizen report is not an inspection: 08:30-12:00 is 3.5 h, the last 0.5 h after lunch.
        assert_eq!(
            deadline(&c, r, t("2026-11-23 07:05"), Source::Citizen, Limit::WorkingHours(4)),
            t("2026-11-23 14:00")
        );
        // Green-space upkeep takes 5 working days even when found in the morning.
        assert_eq!(
            deadline(&c, r, t("2026-11-23 07:05"), Source::Supervision, Limit::WorkingDays(5)),
            t("2026-11-30 07:05")
        );
        // On a day off the iron rule does not apply: Saturday 2026-11-21 → next working hours.
        assert_eq!(
            deadline(&c, r, t("2026-11-21 07:05"), Source::Supervision, Limit::WorkingHours(2)),
            t("2026-11-23 10:30")
        );
        // Across the Spring Festival.
        assert_eq!(
            deadline(&c, r, t("2026-02-13 15:00"), Source::Supervision, Limit::WorkingDays(3)),
            t("2026-02-25 15:00")
        );
    }

    #[test]
    fn a_find_entered_late_is_due_from_its_filing() {
        let c = cal();
        let r = IronRule::default();
        let hours = Limit::WorkingHours(4);
        // Found at the morning scan and filed at 09:10: still due by 17:00 that day.
        let at = |found, filed| deadline_at_filing(&c, r, (t(found), t(filed)), Source::Supervision, hours);
        assert_eq!(at("2026-11-23 07:05", "2026-11-23 09:10"), t("2026-11-23 17:00"));
        // Found on Monday morning, entered on Tuesday at 08:00: the iron rule of Tuesday.
        assert_eq!(at("2026-11-23 07:05", "2026-11-24 08:00"), t("2026-11-24 17:00"));
        // Found in the morning, entered at 18:00 after the re-check: four working hours from then.
        assert_eq!(at("2026-11-23 07:05", "2026-11-23 18:00"), t("2026-11-24 14:00"));
        // A longer limit still running at filing keeps counting from the find.
        let days = deadline_at_filing(
            &c,
            r,
            (t("2026-11-23 07:05"), t("2026-11-24 09:00")),
            Source::Supervision,
            Limit::WorkingDays(5),
        );
        assert_eq!(days, t("2026-11-30 07:05"));
    }
}
