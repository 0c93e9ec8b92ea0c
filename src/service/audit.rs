//! Reading the audit log: its entries with what changed in each, in Chinese, ids shown by name.

use super::Ctx;
use crate::domain::audit::ObjectType;
use crate::domain::org::OrgLevel;
use crate::domain::role::{Role, SessionKind};
use crate::domain::unit::UnitKind;
use crate::error::{AppError, AppResult};
use crate::store::PageReq;
use crate::store::audit::{self, AuditEntry, AuditFilter};
use serde::Serialize;
use serde_json::Value;
use std::collections::HashMap;
use utoipa::ToSchema;

/// An entry of the log with its changes spelled out.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditLine {
    #[serde(flatten)]
    pub entry: AuditEntry,
    /// The fields that changed, in Chinese
    pub changes: Vec<FieldChange>,
}

/// The entries matching a filter, newest first (the office and the discipline office only).
pub async fn lines(ctx: &Ctx<'_>, f: &AuditFilter, page: PageReq) -> AppResult<(Vec<AuditLine>, i64)> {
    if !ctx.user.role.reads_audit() {
        return Err(AppError::Forbidden);
    }
    let (entries, total) = audit::list(ctx.db, f, page).await?;
    let names = audit::names_of(ctx.db, &referenced_ids(&entries)).await?;
    let lines = entries
        .into_iter()
        .map(|mut e| {
            let changes = diff_of(Some(e.object_type), e.before_json.as_deref(), e.after_json.as_deref(), &names);
            // A point's daily report is named by its day alone: the point makes it readable.
            if e.object_type == ObjectType::DailyReport {
                let point = [&e.after_json, &e.before_json]
                    .into_iter()
                    .filter_map(|j| parse(j.as_deref()))
                    .find_map(|o| o.get("point_id").and_then(Value::as_str).and_then(|id| names.get(id)).cloned());
                if let Some(point) = point {
                    e.object_label = format!("{} · {point}", e.object_label);
                }
            }
            AuditLine { changes, entry: e }
        })
        .collect();
    Ok((lines, total))
}

/// Chinese names of the fields that appear in before/after snapshots (a key not listed is
/// shown as it is).
fn field_label(key: &str) -> &str {
    [COMMON_LABELS, PROBLEMS_LABELS, POINTS_LABELS, OTHERS_LABELS]
        .iter()
        .flat_map(|labels| labels.iter())
        .find(|(k, _)| *k == key)
        .map_or(key, |(_, label)| label)
}

/// Field labels: people, places and settings.
const COMMON_LABELS: &[(&str, &str)] = &[
    ("name", "名称"),
    ("code", "编码"),
    ("level", "层级"),
    ("parent_id", "上级"),
    ("kind", "类型"),
    ("area_id", "区域"),
    ("address", "地址"),
    ("phone", "电话"),
    ("note", "备注"),
    ("active", "启用"),
    ("display_name", "姓名"),
    ("username", "用户名"),
    ("role", "角色"),
    ("unit_id", "单位"),
    ("level_id", "联系人层级"),
    ("level_name", "联系人层级"),
    ("position", "职务"),
    ("theme", "督导主题"),
    ("leader_id", "组长"),
    ("member_ids", "成员"),
    ("seq", "排序"),
    ("ip", "IP地址"),
    ("days", "日期"),
    ("source", "来源"),
    ("value", "设置值"),
    ("created_by", "创建人"),
    ("at", "时间"),
    ("day", "日期"),
    ("year", "年度"),
    ("unit_name", "单位"),
    ("reason", "理由"),
    ("answer", "答复"),
    ("reply", "答复"),
    ("due_on", "期限"),
    ("due_date", "完成期限"),
    ("owner_name", "责任人"),
    ("reviewed_at", "审核时间"),
    ("reviewed_by", "审核人"),
    ("entered_by", "填报人"),
    ("submitted_by", "提交人"),
    ("acknowledged_by", "签收人"),
    ("answered_by", "答复人"),
    ("week_start", "周"),
    ("sector", "行业"),
    ("service", "服务事项"),
    ("badge", "工号"),
    ("post", "岗位"),
    ("residents", "常住人口"),
    ("leader", "负责人"),
    ("organizer_id", "组织人"),
    ("team_id", "志愿服务队"),
    ("station_id", "服务站"),
    ("capacity", "名额"),
    ("weekdays", "每周活动日"),
    ("first_day", "开始日期"),
    ("last_day", "结束日期"),
    ("starts_on", "开始日期"),
    ("ends_on", "结束日期"),
    ("equipment", "设施"),
    ("hours", "开放时间"),
    ("inspector_id", "检查人"),
    ("inspector_name", "检查人"),
    ("target_id", "对象"),
    ("target_name", "对象名称"),
    ("outcome", "结果"),
    ("feedback_note", "市民评价说明"),
    ("public_note", "公开答复"),
    ("reporter_phone", "反映人电话"),
    ("satisfaction", "满意度"),
    ("triaged_by", "核实人"),
    ("account", "说明"),
    ("revision", "修订次数"),
    ("total", "总分"),
    ("scores", "评分"),
    ("statements", "申报说明"),
    ("record", "创城工作记录"),
    ("content", "内容"),
    ("raised_by", "提出人"),
    ("channel", "来源"),
    ("meeting_id", "议事会"),
    ("problem_id", "台账问题"),
    ("starts_at", "开始时间"),
    ("ends_at", "结束时间"),
    ("system_id", "测评体系"),
    ("staff_id", "工作人员"),
];

/// Field labels: problems.
const PROBLEMS_LABELS: &[(&str, &str)] = &[
    ("state", "状态"),
    ("point_id", "点位"),
    ("standard_item_id", "标准条目"),
    ("category", "问题类别"),
    ("severity", "严重程度"),
    ("description", "问题描述"),
    ("lead_name", "负责人"),
    ("found_at", "发现时间"),
    ("filed_at", "登记时间"),
    ("dispatched_at", "下派时间"),
    ("acknowledged_at", "签收时间"),
    ("submitted_at", "提交整改时间"),
    ("closed_at", "销号时间"),
    ("voided_at", "作废时间"),
    ("deadline_at", "整改期限"),
    ("fix_note", "整改说明"),
    ("rework_count", "返工次数"),
    ("extension_pending", "延期申请待审批"),
    ("transfer_pending", "转办申请待审批"),
    ("extension_days", "申请延期工作日"),
    ("extensions", "已延期次数"),
    ("postponed", "缓办"),
    ("reporter_name", "上报人"),
    ("reported_by", "上报账号"),
];

/// Field labels: points.
const POINTS_LABELS: &[(&str, &str)] = &[
    ("type_id", "点位类型"),
    ("community_id", "所属社区"),
    ("grid_id", "网格"),
    ("fixed", "固定/随机"),
    ("lng", "经度"),
    ("lat", "纬度"),
    ("lead_phone", "负责人电话"),
    ("backup_name", "备用负责人"),
    ("backup_phone", "备用负责人电话"),
    ("guarantor_name", "包保领导"),
    ("guarantor_phone", "包保领导电话"),
];

/// Field labels: notices, rules, photos and the rest.
const OTHERS_LABELS: &[(&str, &str)] = &[
    ("status", "状态"),
    ("title", "标题"),
    ("number", "文号"),
    ("body", "正文"),
    ("period_start", "周期开始"),
    ("period_end", "周期结束"),
    ("published_at", "发布时间"),
    ("class", "考核类别"),
    ("rules", "评分规则"),
    ("effective_from", "生效日期"),
    ("owner_type", "所属"),
    ("owner_id", "所属记录"),
    ("content_type", "文件类型"),
    ("width", "宽"),
    ("height", "高"),
    ("size", "大小（字节）"),
    ("uploaded_by", "上传人"),
    ("uploaded_at", "上传时间"),
    ("taken_at", "拍摄时间"),
    ("flags", "证据警告"),
    ("device_lat", "上传时手机纬度"),
    ("device_lng", "上传时手机经度"),
    ("device_accuracy", "手机定位精度（米）"),
    ("device_clock", "上传时手机时钟"),
    ("second_step", "两步验证方式"),
    ("reset_by_office", "由创城办重置"),
    ("recovery_codes", "恢复码个数"),
    ("export", "导出内容"),
];

/// Field labels of a window's bad-rating case (差评工单), whose `state` and `level` mean other
/// things than an area's or a problem's.
const CASE_LABELS: &[(&str, &str)] = &[
    ("state", "工单状态"),
    ("level", "评价等级"),
    ("window_id", "窗口"),
    ("staff_id", "工作人员"),
    ("callback_due", "回访期限"),
    ("callback_result", "回访结果"),
    ("callback_note", "回访记录"),
    ("called_at", "回访时间"),
    ("called_by", "回访人"),
    ("finding", "核实情况"),
    ("verified_at", "核实时间"),
    ("problem_id", "台账问题"),
    ("fix_due", "整改期限"),
    ("reply", "答复评价人"),
    ("replied_at", "答复时间"),
    ("on_time", "按期答复"),
    ("appeal_reason", "申诉理由"),
    ("appealed_at", "申诉时间"),
    ("decision_note", "申诉审核意见"),
    ("decided_by", "审核人"),
    ("decided_at", "审核时间"),
    ("fix_level", "评价人对整改"),
    ("fix_rated_at", "整改评价时间"),
    ("fix_comment", "评价人意见"),
];

/// Field labels of a survey (问卷), whose `state` and `kind` mean other things than a problem's.
const SURVEY_LABELS: &[(&str, &str)] = &[
    ("state", "问卷状态"),
    ("kind", "问卷类别"),
    ("intro", "说明"),
    ("questions", "题目"),
    ("created_by", "创建人"),
    ("opened_at", "开始收集时间"),
    ("closed_at", "结束收集时间"),
    ("answers", "答卷内容"),
];

/// Field labels of a residents' meeting (居民议事会).
const MEETING_LABELS: &[(&str, &str)] = &[
    ("held_on", "日期"),
    ("place", "地点"),
    ("topic", "议题"),
    ("residents", "参会居民（人）"),
    ("party_members", "参会党员（人）"),
    ("property", "物业企业"),
    ("partners", "共建单位"),
    ("minutes", "会议记录"),
];

/// Field labels of an interview (约谈).
const INTERVIEW_LABELS: &[(&str, &str)] =
    &[("kind", "约谈类型"), ("reason", "约谈事由"), ("held_at", "约谈时间"), ("outcome", "约谈结果")];

/// Field labels of a simulated evaluation round (模拟测评): the round, its visits' scores and its
/// 末位拨付.
const EVAL_LABELS: &[(&str, &str)] = &[
    ("state", "测评状态"),
    ("quotas", "抽样配额"),
    ("seed", "随机数种子"),
    ("last_place_interview", "末位约谈"),
    ("transfer_amount", "末位拨付金额（元）"),
    ("point", "点位"),
    ("passed", "达标项"),
    ("failed", "不达标项"),
    ("rate", "得分率"),
    ("amount", "拨付金额（元）"),
    ("from_unit_id", "拨出单位（末位）"),
    ("to_unit_id", "收款单位（第一名）"),
    ("round_id", "测评轮次"),
];

/// The labels of a record type's own fields, before the common ones.
fn own_labels(kind: Option<ObjectType>) -> &'static [(&'static str, &'static str)] {
    match kind {
        Some(ObjectType::RatingCase) => CASE_LABELS,
        Some(ObjectType::Survey) => SURVEY_LABELS,
        Some(ObjectType::Meeting) => MEETING_LABELS,
        Some(ObjectType::Interview) => INTERVIEW_LABELS,
        Some(ObjectType::EvalRound) => EVAL_LABELS,
        Some(ObjectType::MaterialTask) => {
            &[("state", "申报状态"), ("reason", "退回理由"), ("submitted_at", "提交时间")]
        }
        Some(ObjectType::Suggestion) => &[("content", "建议内容"), ("due_on", "答复时限")],
        Some(ObjectType::DailyReport) => &[("done", "今日工作"), ("help", "需协调事项"), ("task_id", "交办任务")],
        Some(ObjectType::Report) => &[("fixed", "市民确认已解决"), ("state", "反映状态")],
        Some(ObjectType::CivilizedApplication) => {
            &[("reviewed_at", "评审时间"), ("reviewed_by", "评审人"), ("submitted_at", "申报时间")]
        }
        Some(ObjectType::WeeklySummary) => &[("submitted_at", "提交时间")],
        Some(ObjectType::Window) => &[("number", "窗口号")],
        Some(ObjectType::Point) => &[("fixed", "点位性质")],
        Some(ObjectType::CityIndicator) => &[("code", "指标")],
        _ => &[],
    }
}

/// A record type's own values shown in Chinese: the states of records that are not problems
/// (a stored `submitted` is a problem's 待核查 but an application's 待评审), a case's levels,
/// a survey's kind and number of questions, an award's and an interview's kind.
fn own_value(kind: Option<ObjectType>, key: &str, v: &Value) -> Option<String> {
    use crate::domain::citizen::ReportState;
    use crate::domain::community::{ApplicationState, Channel, ServiceState, SuggestionState, SummaryState};
    use crate::domain::evaluation::{EvalState, MaterialState};
    use crate::domain::mutual::{NominationState, RoundState, SelectionState};
    let kind = kind?;
    match (kind, key) {
        (ObjectType::RatingCase, _) => return case_value(key, v),
        (ObjectType::Survey, _) => return survey_value(key, v),
        _ => {}
    }
    match (kind, key, v) {
        (ObjectType::EvalRound, "last_place_interview", Value::Number(n)) => {
            return Some(if n.as_i64() == Some(1) { "是" } else { "否" }.to_string());
        }
        (ObjectType::Point, "fixed", Value::Number(n)) => {
            return Some(if n.as_i64() == Some(1) { "固定点位" } else { "随机点位" }.to_string());
        }
        (ObjectType::Report, "satisfaction", Value::Number(n)) => {
            return n.as_i64().map(|l| crate::domain::citizen::satisfaction_label(l).to_string());
        }
        (ObjectType::Activity, "weekdays", Value::String(s)) => {
            return Some(crate::domain::community::weekdays_label(s));
        }
        // An application's scores per criterion, its account per criterion and the campaign
        // record seen at review: what they say, not their JSON.
        (ObjectType::CivilizedApplication, "scores", Value::String(s)) => return Some(application_scores(s)),
        (ObjectType::CivilizedApplication, "statements", Value::String(s)) => {
            let filled = serde_json::from_str::<Vec<String>>(s)
                .map(|v| v.iter().filter(|t| !t.trim().is_empty()).count())
                .unwrap_or(0);
            return Some(format!("已填写{filled}项"));
        }
        (ObjectType::CivilizedApplication, "record", Value::String(s)) => return Some(campaign_record(s)),
        (ObjectType::CityIndicator, "code", Value::String(s)) => {
            return crate::domain::evaluation::city_indicator(s).map(|i| i.name.to_string());
        }
        _ => {}
    }
    let Value::String(s) = v else { return None };
    let label = match (kind, key) {
        (ObjectType::Report, "state") => ReportState::parse(s).map(ReportState::label),
        (ObjectType::WeeklySummary, "state") => SummaryState::parse(s).map(SummaryState::label),
        (ObjectType::ServiceRecord, "state") => ServiceState::parse(s).map(ServiceState::label),
        (ObjectType::Suggestion, "state") => SuggestionState::parse(s).map(SuggestionState::label),
        (ObjectType::Suggestion, "channel") => Channel::parse(s).map(Channel::label),
        (ObjectType::CivilizedApplication, "state") => ApplicationState::parse(s).map(ApplicationState::label),
        (ObjectType::EvalRound, "state") => EvalState::parse(s).map(EvalState::label),
        (ObjectType::MaterialTask, "state") => MaterialState::parse(s).map(MaterialState::label),
        (ObjectType::MutualRound, "state") => RoundState::parse(s).map(RoundState::label),
        (ObjectType::Selection, "state") => SelectionState::parse(s).map(SelectionState::label),
        (ObjectType::Nomination, "state") => NominationState::parse(s).map(NominationState::label),
        (ObjectType::Task, "status") => crate::domain::unit::TaskStatus::parse(s).map(|t| t.label()),
        (ObjectType::ScoreAward, "kind") => crate::domain::score::AwardKind::parse(s).map(|k| k.label()),
        (ObjectType::Interview, "kind") => crate::domain::notice::InterviewKind::parse(s).map(|k| k.label()),
        (_, "sector") => crate::domain::window::Sector::parse(s).map(|k| k.label()),
        _ => None,
    };
    label.map(str::to_string)
}

/// "组织领导14分、…" of an application's stored scores.
fn application_scores(stored: &str) -> String {
    let scores: Vec<f64> = serde_json::from_str(stored).unwrap_or_default();
    if scores.is_empty() {
        return "（未评分）".into();
    }
    crate::domain::community::CRITERIA
        .iter()
        .zip(&scores)
        .map(|(c, s)| format!("{}{s}分", c.0))
        .collect::<Vec<_>>()
        .join("、")
}

/// "发现问题51个，按期整改13个，…" of the campaign record kept with an application.
fn campaign_record(stored: &str) -> String {
    match serde_json::from_str::<super::civilized::Campaign>(stored) {
        Ok(c) => c.describe(),
        Err(_) if stored.trim().is_empty() => "（无）".into(),
        Err(_) => "（无法读取）".into(),
    }
}

fn survey_value(key: &str, v: &Value) -> Option<String> {
    use crate::domain::evaluation::{SurveyKind, SurveyState};
    match (key, v) {
        ("state", Value::String(s)) => SurveyState::parse(s).map(|x| x.label().to_string()),
        ("kind", Value::String(s)) => SurveyKind::parse(s).map(|x| x.label().to_string()),
        ("questions", Value::String(s)) => {
            Some(format!("{}题", serde_json::from_str::<Vec<Value>>(s).map(|q| q.len()).unwrap_or(0)))
        }
        _ => None,
    }
}

/// A case's value shown by its Chinese words: its state, the callback's result, the rating levels.
fn case_value(key: &str, v: &Value) -> Option<String> {
    use crate::domain::window::{CallbackResult, CaseState, level_label};
    match (key, v) {
        ("state", Value::String(s)) => CaseState::parse(s).map(|x| x.label().to_string()),
        ("callback_result", Value::String(s)) => CallbackResult::parse(s).map(|x| x.label().to_string()),
        ("level" | "fix_level", Value::Number(n)) => n.as_i64().map(|l| level_label(l).to_string()),
        ("on_time", Value::Number(n)) => Some(if n.as_i64() == Some(1) { "是" } else { "否" }.to_string()),
        _ => None,
    }
}

/// Fields whose values are ids of other records, shown by name.
const ID_FIELDS: [&str; 34] = [
    "meeting_id",
    "task_id",
    "inspector_id",
    "target_id",
    "reviewed_by",
    "entered_by",
    "submitted_by",
    "acknowledged_by",
    "answered_by",
    "triaged_by",
    "organizer_id",
    "team_id",
    "station_id",
    "from_unit_id",
    "to_unit_id",
    "system_id",
    "round_id",
    "parent_id",
    "area_id",
    "unit_id",
    "leader_id",
    "member_ids",
    "point_id",
    "type_id",
    "community_id",
    "standard_item_id",
    "reported_by",
    "uploaded_by",
    "called_by",
    "decided_by",
    "created_by",
    "window_id",
    "staff_id",
    "problem_id",
];
/// Bookkeeping fields that say nothing to a reader.
const HIDDEN: [&str; 22] = [
    "target_name",
    "bbox",
    "facts",
    "interview_id",
    "secret",
    "id",
    "created_at",
    "updated_at",
    "version",
    "level_seq",
    "level_id",
    "search_text",
    "sha256",
    "original_key",
    "thumb_key",
    "signature",
    "phash",
    "data",
    "token_hash",
    "token",
    "rating_id",
    "month",
];

/// Times (epoch milliseconds) shown in Beijing time.
fn is_time(key: &str) -> bool {
    key.ends_with("_at")
        || matches!(key, "period_start" | "period_end" | "device_clock" | "effective_from" | "callback_due" | "fix_due")
}

/// Flags stored as 0/1.
const YES_NO: [&str; 4] = ["extension_pending", "transfer_pending", "postponed", "fixed"];

/// A stored code shown by its Chinese label (problem states, sources, severities, …).
fn label_of(key: &str, s: &str) -> Option<&'static str> {
    use crate::domain::photo::{PhotoKind, PhotoOwner};
    use crate::domain::problem::{Source, State};
    use crate::domain::standard::Severity;
    match key {
        "state" => State::parse(s).map(State::label),
        "source" => Source::parse(s).map(Source::label),
        "severity" => Severity::parse(s).map(Severity::label),
        // Notices and standard versions alike: "现行" names a standard in force, not a notice.
        "status" if s == "published" => Some("已发布"),
        "status" => crate::domain::standard::Publication::parse(s).map(|p| p.label()),
        "owner_type" => PhotoOwner::parse(s).map(PhotoOwner::label),
        "kind" => PhotoKind::parse(s).map(PhotoKind::label),
        "class" => crate::domain::score::Class::parse(s).map(|c| c.label()),
        "second_step" => match s {
            "totp" => Some("动态验证码"),
            "recovery_code" => Some("恢复码"),
            _ => None,
        },
        _ => None,
    }
}

/// One changed field: the value before (None for a creation) and after (None for a deletion).
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct FieldChange {
    pub label: String,
    pub before: Option<String>,
    pub after: Option<String>,
}

fn render(key: &str, v: &Value, names: &HashMap<String, String>) -> Option<String> {
    let name = |id: &str| names.get(id).cloned().unwrap_or_else(|| id.to_string());
    let text = match v {
        Value::Null => return None,
        Value::String(s) if s.is_empty() => return None,
        Value::Array(items) if items.is_empty() => return None,
        Value::Array(items) => items.iter().filter_map(Value::as_str).map(name).collect::<Vec<_>>().join("、"),
        Value::String(s) if ID_FIELDS.contains(&key) => name(s),
        // A round's quotas by point type code: "主次干道6个、背街小巷5个".
        Value::String(s) if key == "quotas" => s
            .split(',')
            .filter_map(|q| q.split_once(':'))
            .map(|(t, n)| format!("{}{n}个", name(t)))
            .collect::<Vec<_>>()
            .join("、"),
        Value::String(s) if key == "flags" => {
            let flags = crate::domain::photo::EvidenceFlag::list(s);
            if flags.is_empty() {
                return None;
            }
            flags.iter().map(|f| f.code.label()).collect::<Vec<_>>().join("、")
        }
        Value::String(s) => match key {
            "kind" => UnitKind::parse(s)
                .map(UnitKind::label)
                .or_else(|| SessionKind::parse(s).map(SessionKind::label))
                .or_else(|| label_of(key, s))
                .unwrap_or(s)
                .to_string(),
            _ if label_of(key, s).is_some() => label_of(key, s).unwrap_or_default().to_string(),
            "role" => Role::parse(s).map(|r| r.label().to_string()).unwrap_or_else(|| s.clone()),
            "level" => OrgLevel::parse(s).map(|l| l.label().to_string()).unwrap_or_else(|| s.clone()),
            _ => s.clone(),
        },
        Value::Number(n) if key == "active" => if n.as_i64() == Some(1) { "启用" } else { "停用" }.to_string(),
        Value::Number(n) if YES_NO.contains(&key) => if n.as_i64() == Some(1) { "是" } else { "否" }.to_string(),
        Value::Number(n) if is_time(key) => match n.as_i64() {
            Some(t) => crate::domain::time::fmt_local(t)[..16].to_string(),
            None => n.to_string(),
        },
        Value::Bool(b) => if *b { "是" } else { "否" }.to_string(),
        other => other.to_string(),
    };
    Some(text)
}

fn parse(s: Option<&str>) -> Option<Value> {
    s.and_then(|s| serde_json::from_str::<Value>(s).ok()).filter(Value::is_object)
}

/// The fields that changed between two snapshots, in Chinese, with ids shown as names.
pub fn diff(before: Option<&str>, after: Option<&str>, names: &HashMap<String, String>) -> Vec<FieldChange> {
    diff_of(None, before, after, names)
}

/// `diff` of a record of type `kind`, with the type's own field names and values.
fn diff_of(
    kind: Option<ObjectType>,
    before: Option<&str>,
    after: Option<&str>,
    names: &HashMap<String, String>,
) -> Vec<FieldChange> {
    let (b, a) = (parse(before), parse(after));
    let is_update = b.is_some() && a.is_some();
    let mut keys: Vec<&String> = b.iter().chain(a.iter()).filter_map(Value::as_object).flat_map(|o| o.keys()).collect();
    keys.sort();
    keys.dedup();
    let value = |snap: &Option<Value>, k: &str| -> Option<String> {
        let v = snap.as_ref()?.get(k)?;
        let shown = own_value(kind, k, v).or_else(|| render(k, v, names));
        shown.or_else(|| is_update.then(|| "（空）".to_string()))
    };
    let label = |k: &str| match own_labels(kind).iter().find(|(c, _)| *c == k) {
        Some((_, l)) => l.to_string(),
        None => field_label(k).to_string(),
    };
    keys.into_iter()
        .filter(|k| !HIDDEN.contains(&k.as_str()))
        .map(|k| FieldChange { label: label(k), before: value(&b, k), after: value(&a, k) })
        .filter(|c| c.before != c.after)
        .collect()
}

/// One change as plain text, for the Excel export.
pub fn describe(c: &FieldChange) -> String {
    match (&c.before, &c.after) {
        (Some(b), Some(a)) => format!("{}：{b} → {a}", c.label),
        (None, Some(a)) => format!("{}：{a}", c.label),
        (Some(b), None) => format!("{}：{b}（已删除）", c.label),
        (None, None) => c.label.clone(),
    }
}

/// Every id that the snapshots on this page refer to, so they can be shown by name.
fn referenced_ids(entries: &[AuditEntry]) -> Vec<String> {
    let mut ids = Vec::new();
    for e in entries {
        for snap in [&e.before_json, &e.after_json] {
            let Some(obj) = parse(snap.as_deref()) else { continue };
            for key in ID_FIELDS {
                match obj.get(key) {
                    Some(Value::String(s)) => ids.push(s.clone()),
                    Some(Value::Array(items)) => ids.extend(items.iter().filter_map(Value::as_str).map(str::to_string)),
                    _ => {}
                }
            }
            // A round's quotas name point types by code.
            if let Some(Value::String(q)) = obj.get("quotas") {
                ids.extend(q.split(',').filter_map(|x| x.split_once(':')).map(|(t, _)| t.to_string()));
            }
        }
    }
    ids.sort();
    ids.dedup();
    ids
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names() -> HashMap<String, String> {
        HashMap::from([("a1".to_string(), "公园街道".to_string()), ("u1".to_string(), "王建国".to_string())])
    }

    #[test]
    fn an_update_lists_only_changed_fields_in_chinese() {
        let before = r#"{"id":"1","name":"运河区","code":"130903","area_id":null,"version":1,"updated_at":5}"#;
        let after = r#"{"id":"1","name":"运河区（新）","code":"130903","area_id":"a1","version":2,"updated_at":9}"#;
        let d = diff(Some(before), Some(after), &names());
        let shown: Vec<(String, Option<String>, Option<String>)> =
            d.into_iter().map(|c| (c.label, c.before, c.after)).collect();
        assert_eq!(
            shown,
            vec![
                ("区域".to_string(), Some("（空）".to_string()), Some("公园街道".to_string())),
                ("名称".to_string(), Some("运河区".to_string()), Some("运河区（新）".to_string())),
            ]
        );
    }

    #[test]
    fn a_creation_lists_what_it_set_with_enums_and_ids_translated() {
        let after = r#"{"id":"1","name":"A","phone":"","kind":"bank_branch","active":1,"member_ids":["u1","zz"]}"#;
        let d = diff(None, Some(after), &names());
        let shown: Vec<(String, Option<String>)> = d.into_iter().map(|c| (c.label, c.after)).collect();
        assert_eq!(
            shown,
            vec![
                ("启用".to_string(), Some("启用".to_string())),
                ("类型".to_string(), Some("银行网点".to_string())),
                ("成员".to_string(), Some("王建国、zz".to_string())),
                ("名称".to_string(), Some("A".to_string())),
            ]
        );
    }

    #[test]
    fn a_cases_callback_reads_in_chinese() {
        let before = r#"{"state":"callback","level":1,"callback_due":1796745505166,"callback_result":null,"called_by":null,"token_hash":"ab","on_time":null}"#;
        let after = r#"{"state":"verify","level":1,"callback_due":1796745505166,"callback_result":"reached","called_by":"u1","token_hash":"ab","on_time":1}"#;
        let d = diff_of(Some(ObjectType::RatingCase), Some(before), Some(after), &names());
        let shown: Vec<String> = d.iter().map(describe).collect();
        assert_eq!(
            shown,
            [
                "回访结果：（空） → 已联系评价人",
                "回访人：（空） → 王建国",
                "按期答复：（空） → 是",
                "工单状态：待回访 → 待核实"
            ]
        );
        // The same keys of another record keep their own meaning.
        let d = diff(Some(r#"{"state":"dispatched"}"#), Some(r#"{"state":"acknowledged"}"#), &names());
        assert_eq!(describe(&d[0]), "状态：待签收 → 处置中");
    }

    #[test]
    fn community_records_read_in_their_own_words() {
        // An application's `submitted` is 待评审, not a problem's 待核查.
        let before = r#"{"state":"submitted","total":null,"year":2026}"#;
        let after = r#"{"state":"passed","total":94.0,"year":2026,"reviewed_by":"u1"}"#;
        let d = diff_of(Some(ObjectType::CivilizedApplication), Some(before), Some(after), &names());
        let shown: Vec<String> = d.iter().map(describe).collect();
        assert_eq!(shown, ["评审人：王建国", "状态：待评审 → 评审通过", "总分：（空） → 94.0"]);
        let record = r#"{"problems":51,"closed_on_time":13,"overdue":2,"on_time_rate":86.7,"ratings":0,"bad_ratings":0,"satisfaction":null}"#;
        let after =
            serde_json::json!({"scores": "[14.0,13.0]", "statements": "[\"有\",\"\"]", "record": record}).to_string();
        let d = diff_of(Some(ObjectType::CivilizedApplication), None, Some(&after), &names());
        let shown: Vec<String> = d.iter().map(describe).collect();
        assert_eq!(
            shown,
            [
                "创城工作记录：问题51个（按期整改13个，逾期2个，按期整改率86.7%）",
                "评分：组织领导坚强有力14分、思想道德风尚良好13分",
                "申报说明：已填写1项"
            ]
        );
        let meeting = r#"{"held_on":"2026-12-01","residents":23,"topic":"停车","created_by":"u1"}"#;
        let d = diff_of(Some(ObjectType::Meeting), None, Some(meeting), &names());
        let shown: Vec<String> = d.iter().map(describe).collect();
        assert_eq!(shown, ["创建人：王建国", "日期：2026-12-01", "参会居民（人）：23", "议题：停车"]);
    }

    #[test]
    fn a_deletion_lists_what_was_there() {
        let d = diff(Some(r#"{"name":"旧社区"}"#), None, &names());
        assert_eq!(d.len(), 1);
        assert_eq!((d[0].before.as_deref(), d[0].after.as_deref()), (Some("旧社区"), None));
    }
}
