//! What the audit log names: the kinds of records and what was done to them.

use super::problem::Action;
use super::window::CaseAction;

crate::vocab! {
    /// The kinds of records the audit log tracks.
    pub enum ObjectType: "对象类型" {
        Problem("problem", "问题"),
        Point("point", "点位"),
        PointType("point_type", "点位类型"),
        PointInspection("point_inspection", "点位检查无问题"),
        Photo("photo", "照片"),
        Grid("grid", "网格"),
        StandardVersion("standard_version", "标准版本"),
        StandardItem("standard_item", "标准条目"),
        Task("task", "任务"),
        ScoreScheme("score_scheme", "评分规则"),
        ScoreAward("score_award", "红旗与表扬"),
        Notice("notice", "通报简报"),
        Interview("interview", "约谈问责"),
        Webhook("webhook", "工作群机器人"),
        CalendarYear("calendar_year", "节假日安排"),
        Setting("setting", "系统设置"),
        OrgNode("org_node", "区域"),
        Unit("unit", "责任单位"),
        UnitContact("unit_contact", "单位联系人"),
        ContactLevel("contact_level", "联系人层级"),
        Team("team", "督导组"),
        User("user", "用户"),
        Session("session", "登录"),
        Report("report", "市民反映"),
        ApiKey("api_key", "Open311接口密钥"),
        Window("window", "服务窗口"),
        WindowStaff("window_staff", "窗口工作人员"),
        RatingDevice("rating_device", "评价器"),
        RatingCase("rating_case", "差评工单"),
        MutualRound("mutual_round", "互评互查"),
        Selection("selection", "十佳评选"),
        Nomination("nomination", "十佳推荐"),
        EvalSystem("eval_system", "测评体系"),
        EvalRound("eval_round", "模拟测评"),
        MaterialTask("material_task", "网上申报"),
        Survey("survey", "问卷调查"),
        CityIndicator("city_indicator", "城市指标"),
        DailyReport("daily_report", "每日汇报"),
        WeeklySummary("weekly_summary", "社区周汇总"),
        Volunteer("volunteer", "志愿者"),
        VolunteerTeam("volunteer_team", "志愿服务队"),
        Station("station", "学雷锋志愿服务站"),
        Activity("activity", "志愿服务活动"),
        ServiceRecord("service_record", "志愿服务记录"),
        Meeting("meeting", "居民议事会"),
        Suggestion("suggestion", "居民建议"),
        CivilizedApplication("civilized_application", "文明单位申报"),
    }
}

crate::vocab! {
    /// What was done to a record, besides the problem actions.
    pub enum Verb: "操作" {
        Create("create", "新增"),
        Update("update", "修改"),
        Delete("delete", "删除"),
        Publish("publish", "发布"),
        Read("read", "确认阅读"),
        Export("export", "导出"),
        Password("password", "修改密码"),
        Login("login", "登录"),
        Logout("logout", "退出"),
        TwoStepOn("two_step_on", "启用两步验证"),
        TwoStepOff("two_step_off", "停用两步验证"),
    }
}

/// An audited action: a verb, or an action on a problem.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AuditAction {
    Verb(Verb),
    Problem(Action),
    Case(CaseAction),
}

impl AuditAction {
    pub const WHAT: &'static str = "操作";
    pub const CREATE: AuditAction = AuditAction::Verb(Verb::Create);
    pub const UPDATE: AuditAction = AuditAction::Verb(Verb::Update);
    pub const DELETE: AuditAction = AuditAction::Verb(Verb::Delete);

    /// Every action, verbs first.
    pub fn all() -> Vec<AuditAction> {
        Verb::ALL
            .into_iter()
            .map(AuditAction::Verb)
            .chain(Action::ALL.into_iter().map(AuditAction::Problem))
            .chain(CaseAction::ALL.into_iter().map(AuditAction::Case))
            .collect()
    }

    pub fn as_str(self) -> &'static str {
        match self {
            AuditAction::Verb(v) => v.as_str(),
            AuditAction::Problem(a) => a.as_str(),
            AuditAction::Case(a) => a.as_str(),
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            AuditAction::Verb(v) => v.label(),
            AuditAction::Problem(a) => a.label(),
            AuditAction::Case(a) => a.label(),
        }
    }

    pub fn parse(s: &str) -> Option<AuditAction> {
        Verb::parse(s)
            .map(AuditAction::Verb)
            .or_else(|| Action::parse(s).map(AuditAction::Problem))
            .or_else(|| CaseAction::parse(s).map(AuditAction::Case))
    }
}

impl From<Verb> for AuditAction {
    fn from(v: Verb) -> Self {
        AuditAction::Verb(v)
    }
}

impl From<CaseAction> for AuditAction {
    fn from(a: CaseAction) -> Self {
        AuditAction::Case(a)
    }
}

impl From<Action> for AuditAction {
    fn from(a: Action) -> Self {
        AuditAction::Problem(a)
    }
}

impl std::fmt::Display for AuditAction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.label())
    }
}

crate::text_codec!(AuditAction);

impl utoipa::PartialSchema for AuditAction {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .description(Some("操作: a verb (create, update, …) or a problem action (verify, pass, …)"))
            .enum_values(Some(AuditAction::all().into_iter().map(AuditAction::as_str)))
            .into()
    }
}

impl utoipa::ToSchema for AuditAction {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actions_round_trip_and_never_collide() {
        let all = AuditAction::all();
        for a in &all {
            assert_eq!(AuditAction::parse(a.as_str()), Some(*a));
        }
        let mut codes: Vec<&str> = all.iter().map(|a| a.as_str()).collect();
        codes.sort();
        codes.dedup();
        assert_eq!(codes.len(), all.len(), "a verb and a problem action share no code");
    }
}
