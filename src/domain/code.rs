//! The one error catalogue (Lemmy-style): every refusal the platform answers with has a stable
//! English code, the HTTP status it is answered with, and a Chinese message. Domain rules return
//! a `Code`; the web layer turns it into `{"error": {"code", "message", …}}` or a Chinese page.
//! Field-level codes (inside `validation_failed`) come from the same list, so an API client
//! needs one table to translate everything it may receive.

macro_rules! catalogue {
    ( $( $(#[$meta:meta])* $name:ident = ($status:literal, $code:literal, $message:literal) ),+ $(,)? ) => {
        /// A stable error code.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Code {
            $( $(#[$meta])* $name ),+
        }

        impl Code {
            pub const ALL: [Code; [$($code),+].len()] = [$(Code::$name),+];

            /// The stable English code API clients match on.
            pub const fn as_str(self) -> &'static str {
                match self { $( Code::$name => $code ),+ }
            }

            /// The HTTP status a refusal with this code is answered with.
            pub const fn status(self) -> u16 {
                match self { $( Code::$name => $status ),+ }
            }

            /// The Chinese message shown when nothing more specific is said.
            pub const fn message(self) -> &'static str {
                match self { $( Code::$name => $message ),+ }
            }

            pub fn parse(s: &str) -> Option<Code> {
                match s { $( $code => Some(Code::$name), )+ _ => None }
            }
        }
    };
}

catalogue! {
    // Requests, sessions and the framework.
    ValidationFailed = (422, "validation_failed", "提交的内容有误，请按提示修改"),
    NotFound = (404, "not_found", "记录不存在或无权查看"),
    Forbidden = (403, "forbidden", "您没有权限进行此操作"),
    Unauthorized = (401, "unauthorized", "请先登录"),
    InvalidCredentials = (401, "invalid_credentials", "用户名或密码错误"),
    MissingCredentials = (400, "missing_credentials", "请填写用户名和密码"),
    TooManyAttempts = (429, "too_many_attempts", "登录失败次数过多，请稍后再试"),
    TwoStepRequired = (401, "two_step_required", "该账号已启用两步验证，请同时提交验证器上的6位动态验证码（code）"),
    InvalidTwoStepCode = (401, "invalid_two_step_code", "动态验证码不正确或已使用，请输入验证器上最新的6位数字"),
    TwoStepSetupRequired = (403, "two_step_setup_required", "管理员账号须先启用两步验证：请在网页上登录，按提示用手机验证器扫码绑定"),
    TwoStepExpired = (401, "two_step_expired", "验证已超时或已完成，请重新输入密码登录"),
    CsrfFailed = (403, "csrf_failed", "页面已过期或来源不明，请刷新页面后重新提交"),
    InternalError = (500, "internal_error", "系统内部错误，请稍后重试"),
    StaleVersion = (409, "stale_version", "该记录已被他人修改，请刷新页面后重新编辑"),
    VersionRequired = (422, "version_required", "请提交记录的版本号（version），以免覆盖他人的修改"),
    InvalidJson = (400, "invalid_json", "请求内容不是有效的JSON或字段类型不符"),
    InvalidQuery = (400, "invalid_query", "查询条件格式不正确，请检查页码、数字和日期后重试"),
    InvalidForm = (400, "invalid_form", "表单内容无法识别，请返回检查后重新提交"),
    InvalidUpload = (400, "invalid_upload", "上传内容无法识别，请检查文件后重试"),
    InvalidRequest = (400, "invalid_request", "请求格式不正确"),
    PayloadTooLarge = (413, "payload_too_large", "提交的内容超过大小限制：照片每张不超过20MB，表格文件不超过10MB，其他内容不超过1MB"),
    Busy = (503, "busy", "服务器正忙，请稍后重试"),
    UnsupportedMediaType = (415, "unsupported_media_type", "请求的内容类型不受支持，JSON接口请使用 Content-Type: application/json"),
    MethodNotAllowed = (405, "method_not_allowed", "该地址不支持此请求方法"),
    ImportRejected = (422, "import_rejected", "导入文件有错误，已整份拒收，未导入任何数据"),

    // Filters, dates and periods.
    InvalidCursor = (400, "invalid_cursor", "翻页参数无效，请回到首页重新查询"),
    InvalidSort = (400, "invalid_sort", "排序方式无效"),
    InvalidDate = (400, "invalid_date", "日期格式应为2026-11-23"),
    InvalidTime = (400, "invalid_time", "时间格式应为2026-11-23T07:05"),
    InvalidClientRef = (400, "invalid_client_ref", "客户端编号应为不超过64位的字母、数字或连字符"),
    InvalidYear = (400, "invalid_year", "年度应为四位数字，如2026"),
    InvalidPeriod = (400, "invalid_period", "统计周期应为周、月、季度或年"),
    FuturePeriod = (400, "future_period", "所选周期尚未开始"),
    InvalidKind = (400, "invalid_kind", "类型无效"),
    InvalidStatus = (400, "invalid_status", "状态无效"),
    UnknownClass = (400, "unknown_class", "评分对象类别不存在，应为社区、街道、责任单位或窗口单位"),
    InvalidPosition = (400, "invalid_position", "坐标不在中国境内，请检查经纬度"),
    InvalidAmount = (400, "invalid_amount", "请给出工作日或工作时其中之一"),
    YearMismatch = (400, "year_mismatch", "路径中的年份与数据中的年份不一致"),
    InvalidUrl = (400, "invalid_url", "地址应为http(s)://开头的完整网址"),
    NotAUnit = (400, "not_a_unit", "当前账号不属于任何责任单位"),
    InvalidTask = (400, "invalid_task", "任务不存在或不属于该单位"),

    // Photos.
    InvalidPhotoEncoding = (400, "invalid_photo_encoding", "照片应为base64编码"),
    EmptyFile = (400, "empty_file", "文件是空的"),
    FileTooLarge = (400, "file_too_large", "文件超过大小限制"),
    NotAnImage = (400, "not_an_image", "文件不是图片"),
    UnsupportedImage = (400, "unsupported_image", "图片格式不受支持，请上传JPEG、PNG或WebP"),
    ImageTooLarge = (400, "image_too_large", "图片尺寸过大"),
    CorruptImage = (400, "corrupt_image", "图片已损坏或不完整"),
    BadPhoto = (422, "bad_photo", "照片无法使用，请重新拍摄或选择"),
    PhotoRequired = (422, "photo_required", "请上传照片"),
    TooManyPhotos = (422, "too_many_photos", "照片数量超过上限"),

    // The problem loop (the state machine's refusals).
    NotAllowed = (403, "not_allowed", "您不能对该问题进行此操作"),
    AlreadyFinal = (409, "already_final", "问题已办结，不能再操作"),
    WrongState = (409, "wrong_state", "问题当前的状态不允许此操作"),
    NotAcknowledged = (409, "not_acknowledged", "请先点“收到”签收，再提交整改"),
    ExtensionPending = (409, "extension_pending", "已有一项延期申请待审批"),
    NoExtension = (409, "no_extension", "没有待审批的延期申请"),
    TransferPending = (409, "transfer_pending", "已有一项转办申请待审批"),
    NoTransfer = (409, "no_transfer", "没有待审批的转办申请"),
    DuplicateOpenProblem = (422, "duplicate_open_problem", "该点位已有同一标准条目的未办结问题"),
    PointRetired = (422, "point_retired", "该点位已撤销，不能再登记问题"),
    FoundInFuture = (422, "found_in_future", "发现时间不能晚于现在"),
    FoundTooOld = (422, "found_too_old", "发现时间不能早于30天前"),
    ItemNotCurrent = (422, "item_not_current", "该标准条目不属于现行标准"),
    ItemNotApplicable = (422, "item_not_applicable", "该标准条目不适用于此类点位"),
    NotMergeable = (422, "not_mergeable", "只能合并到同一点位未办结的问题"),
    InvalidDays = (422, "invalid_days", "天数超出允许范围"),

    // Scoring, awards, notices, versions.
    NoDraft = (409, "no_draft", "没有待发布的草稿"),
    NotDraft = (409, "not_draft", "只有草稿可以修改"),
    DraftExists = (409, "draft_exists", "已有一份草稿"),
    EmptyVersion = (409, "empty_version", "版本中没有任何条目，不能发布"),
    Published = (409, "published", "已发布，不能再修改"),
    NotPublished = (409, "not_published", "尚未发布"),
    PeriodPublished = (409, "period_published", "该周期的考核结果已发布，不能改变"),
    PeriodNotEnded = (409, "period_not_ended", "本期尚未结束，提前发布须明确选择（early=true）"),
    WeekNotOver = (409, "week_not_over", "本周尚未结束"),
    WeekNotStarted = (409, "week_not_started", "该周尚未开始，不能生成周汇总"),
    PeriodNotOver = (409, "period_not_over", "本期尚未结束"),
    AlreadyAwarded = (409, "already_awarded", "本期流动红旗已评定"),
    AlreadyRecorded = (409, "already_recorded", "今日已记录"),
    ProblemFoundToday = (409, "problem_found_today", "该点位今日已登记问题"),
    OverlappingPeriod = (409, "overlapping_period", "与已有通报的周期重叠"),
    NoticeOutdated = (409, "notice_outdated", "草稿生成后本期数据已有变化，请按最新数据重新生成后再发布"),
    InUse = (409, "in_use", "仍有记录引用它，不能删除"),
    InvalidRule = (422, "invalid_rule", "评分规则有误"),
    FactsRequired = (422, "facts_required", "请至少关联一项依据"),
    InvalidThreshold = (422, "invalid_threshold", "门槛超出允许范围"),

    // Citizens' reports and Open311.
    RateLimited = (429, "rate_limited", "您的操作过于频繁，请稍后再试"),
    ReportLimit = (429, "report_limit", "您提交的反映较多，请一小时后再试；紧急情况请拨打12345热线"),
    SpamSuspected = (422, "spam_suspected", "提交未成功：页面内容异常，请刷新页面后重新填写"),
    ReportNotReceived = (409, "report_not_received", "该反映已处理，不能再核实或作废"),
    FeedbackNotOpen = (409, "feedback_not_open", "问题办结后才能评价，每个问题只能评价一次"),
    WrongLookup = (404, "wrong_lookup", "受理编号或手机号后四位不正确，请核对后再查"),
    AlreadySupported = (409, "already_supported", "您已表示遇到过这个问题，感谢支持"),
    ApiKeyInvalid = (403, "api_key_invalid", "api_key无效或已停用"),
    UnknownService = (404, "unknown_service", "service_code不存在，请先查询services"),
    UnknownCategory = (422, "unknown_category", "请从列表中选择问题类别"),
    OutsideCity = (422, "outside_city", "位置不在本市范围内，请确认定位或在地图上重新选择"),
    DuplicateKey = (409, "duplicate_key", "该使用方已有一个有效密钥；如需换新，请先停用旧密钥"),

    // Window service (好差评).
    InvalidRating = (422, "invalid_rating", "评价内容有误，请重新选择"),
    UnknownWindow = (404, "unknown_window", "该窗口不存在或已停用，请扫描窗口上的二维码"),
    AlreadyRated = (409, "already_rated", "本次办事已经评价过了，感谢您的评价"),
    InvalidVisitToken = (422, "invalid_visit_token", "评价码无效，请扫描窗口出示的二维码或核对评价码"),
    DeviceKeyInvalid = (403, "device_key_invalid", "评价器密钥无效或已停用"),
    BatchTooLarge = (413, "batch_too_large", "一批评价最多500条，请分批上传"),
    CaseNotOpen = (409, "case_not_open", "该差评工单当前状态不能进行此操作，请刷新后查看"),
    FixAlreadyRated = (409, "fix_already_rated", "整改结果只能评价一次"),
    InvalidMonth = (400, "invalid_month", "月份格式应为2026-12"),

    // The evaluation season.
    VisitNotOpen = (409, "visit_not_open", "该点位已测评或本轮模拟测评已结束"),
    RoundNotReady = (409, "round_not_ready", "本轮还没有测评完成的点位，不能发布"),
    MaterialNotOpen = (409, "material_not_open", "该申报事项当前状态不能进行此操作，请刷新后查看"),
    UnsupportedFile = (400, "unsupported_file", "文件类型不受支持，请上传PDF、Word、Excel或图片"),
    SurveyClosed = (409, "survey_closed", "问卷未开放或已结束，感谢关注"),
    AlreadyAnswered = (409, "already_answered", "您已经填写过这份问卷，感谢参与"),
    InvalidQuestion = (422, "invalid_question", "题目设置有误"),
    InvalidAnswer = (422, "invalid_answer", "答卷填写有误"),
    UnknownUser = (422, "unknown_user", "用户不存在"),
    InvalidValue = (422, "invalid_value", "数值格式不正确"),

    // Community work.
    AlreadyReported = (409, "already_reported", "该点位今天已经汇报过了，可在原汇报上修改"),
    SummaryNotOpen = (409, "summary_not_open", "该周汇总当前状态不能进行此操作，请刷新后查看"),
    UnknownVolunteer = (404, "unknown_volunteer", "没有找到该手机号登记的志愿者，请先到社区登记或核对姓名"),
    DuplicateVolunteer = (409, "duplicate_volunteer", "该手机号已登记为志愿者"),
    NoActivityToday = (409, "no_activity_today", "该活动今天没有安排，请核对活动时间"),
    InvalidSignCode = (422, "invalid_sign_code", "签到码无效或已过期，请扫描活动现场出示的二维码"),
    NotSignedIn = (409, "not_signed_in", "还没有签到，请先签到"),
    AlreadySignedIn = (409, "already_signed_in", "您已签到成功，活动结束时再扫码签退"),
    AlreadySignedOut = (409, "already_signed_out", "本次活动已经签退，服务时长等待组织者确认"),
    ActivityFull = (409, "activity_full", "本次活动报名人数已满"),
    AlreadyOnList = (409, "already_on_list", "您已在本次活动的名单中，请刷新后查看"),
    OutsideHours = (409, "outside_hours", "现在不在活动时间内（开始前1小时至结束后3小时可签到签退）"),
    SuggestionNotOpen = (409, "suggestion_not_open", "该建议已答复或正由单位办理，请刷新后查看"),
    ApplicationNotOpen = (409, "application_not_open", "该申报当前状态不能进行此操作，请刷新后查看"),
    AlreadyApplied = (409, "already_applied", "本单位今年已经提交过文明单位申报，可在原申报上补充"),

    // Field checks (inside validation_failed).
    Required = (422, "required", "此项必填"),
    TooLong = (422, "too_long", "内容过长"),
    TooMany = (422, "too_many", "数量超过上限"),
    InvalidChars = (422, "invalid_chars", "含有不可见的控制字符"),
    InvalidPhone = (422, "invalid_phone", "电话格式不正确，应为11位手机号或带区号的固定电话"),
    InvalidCode = (422, "invalid_code", "编码格式不正确"),
    CodeNotUnderParent = (422, "code_not_under_parent", "编码应以上级编码开头"),
    ParentRequired = (422, "parent_required", "必须选择上级"),
    WrongParentLevel = (422, "wrong_parent_level", "上级的层级不对"),
    DuplicateCode = (422, "duplicate_code", "编码已被使用"),
    DuplicateName = (422, "duplicate_name", "名称已被使用"),
    Duplicate = (422, "duplicate", "已有相同编码或名称的记录"),
    DuplicateUsername = (422, "duplicate_username", "用户名已被使用"),
    InvalidUsername = (422, "invalid_username", "用户名格式不正确"),
    WeakPassword = (422, "weak_password", "密码须为8至64位，且同时包含字母和数字"),
    WrongPassword = (422, "wrong_password", "原密码不正确"),
    TwoStepMandatory = (422, "two_step_mandatory", "管理员账号必须启用两步验证，不能停用；换手机时请用“更换验证器”"),
    TwoStepNotEnabled = (422, "two_step_not_enabled", "该账号尚未启用两步验证"),
    Mismatch = (422, "mismatch", "两次输入不一致"),
    SelfLockout = (422, "self_lockout", "不能停用自己的管理员账号"),
    InvalidRole = (422, "invalid_role", "角色无效"),
    InvalidLevel = (422, "invalid_level", "层级无效"),
    InvalidSeq = (422, "invalid_seq", "排序号应为整数"),
    InvalidColor = (422, "invalid_color", "颜色格式应为#RRGGBB"),
    InvalidType = (422, "invalid_type", "类型无效"),
    InvalidUnit = (422, "invalid_unit", "责任单位无效"),
    InvalidMember = (422, "invalid_member", "成员无效"),
    InvalidSource = (422, "invalid_source", "问题来源无效"),
    InvalidSeverity = (422, "invalid_severity", "严重程度应为轻微、一般或严重"),
    InvalidTimeLimit = (422, "invalid_time_limit", "处置时限应为1至365的整数"),
    InvalidTimeUnit = (422, "invalid_time_unit", "时限单位应为工作时或工作日"),
    InvalidDeduction = (422, "invalid_deduction", "默认扣分应为0至100之间的数"),
    InvalidCoordinate = (422, "invalid_coordinate", "坐标应为数字"),
    InvalidCoordSystem = (422, "invalid_coord_system", "坐标系应为WGS-84或GCJ-02"),
    OutsideChina = (422, "outside_china", "坐标不在中国境内"),
    InvalidWorkingHours = (422, "invalid_working_hours", "工作时间格式不正确"),
    DateOutOfRange = (422, "date_out_of_range", "日期超出允许范围"),
    HasChildren = (422, "has_children", "还有下级，不能删除"),
    UnitRequired = (422, "unit_required", "请选择所属单位"),
    AreaRequired = (422, "area_required", "请选择负责区域"),
    LeaderNotMember = (422, "leader_not_member", "组长必须是组员"),
    NotThisUnit = (422, "not_this_unit", "不属于该单位"),
    OfficeOnly = (422, "office_only", "只有创城办可以修改此项"),
    UnknownPoint = (422, "unknown_point", "点位不存在"),
    OutsideTeamArea = (422, "outside_team_area", "该点位不在您所在督导组的督导区域内"),
    UnknownArea = (422, "unknown_area", "区域不存在"),
    UnknownUnit = (422, "unknown_unit", "责任单位不存在"),
    UnknownParent = (422, "unknown_parent", "上级不存在"),
    UnknownProblem = (422, "unknown_problem", "问题不存在"),
    UnknownItem = (422, "unknown_item", "标准条目不存在"),
    UnknownNotice = (422, "unknown_notice", "通报不存在或尚未发布"),
    UnknownTarget = (422, "unknown_target", "评分对象不存在"),
    UnknownType = (422, "unknown_type", "类型不存在"),
}

/// One refused row (or cell, feature, entry) of an import: where, and why in Chinese.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct RowError {
    /// The sheet or list the row is in ("" when the file has one)
    #[serde(default)]
    pub sheet: String,
    /// Row number as the user counts it (Excel: the header is row 1; 0 for the whole file)
    pub row: usize,
    /// Column header, property or field
    pub column: String,
    /// The row's own key when it has one (a grid code, a date)
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub key: String,
    pub message: String,
}

impl RowError {
    pub fn new(sheet: &str, row: usize, column: &str, message: impl Into<String>) -> RowError {
        RowError { sheet: sheet.into(), row, column: column.into(), key: String::new(), message: message.into() }
    }

    pub fn with_key(mut self, key: impl Into<String>) -> RowError {
        self.key = key.into();
        self
    }
}

impl std::fmt::Display for Code {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl serde::Serialize for Code {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> serde::Deserialize<'de> for Code {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str> as serde::Deserialize>::deserialize(d)?;
        Code::parse(&s).ok_or_else(|| serde::de::Error::custom(format!("unknown error code {s:?}")))
    }
}

impl utoipa::PartialSchema for Code {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .description(Some("Stable error code; each has one HTTP status and a Chinese message (see the catalogue)"))
            .enum_values(Some(Code::ALL.iter().map(|c| c.as_str())))
            .into()
    }
}

impl utoipa::ToSchema for Code {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_is_unique_has_a_status_and_a_chinese_message() {
        let mut seen = std::collections::HashSet::new();
        for c in Code::ALL {
            assert!(seen.insert(c.as_str()), "{c:?} is listed twice");
            assert_eq!(Code::parse(c.as_str()), Some(c));
            assert!((400..600).contains(&c.status()), "{c:?}");
            assert!(c.message().chars().any(|ch| ('\u{4e00}'..='\u{9fff}').contains(&ch)), "{c:?}");
            assert!(c.as_str().bytes().all(|b| b.is_ascii_lowercase() || b == b'_'), "{c:?}");
        }
    }
}
