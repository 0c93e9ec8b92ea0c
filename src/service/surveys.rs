//! Surveys (问卷调查): the office builds a questionnaire (single and multiple choice, 1-5 scale,
//! number, text; required; skip logic), opens it and closes it. A resident survey mirrors the
//! national one (知晓率, 支持率, 满意度 by community): residents answer through a link or QR code,
//! one answer per mobile number (proved by a text-message code), or a surveyor enters it at the
//! door. A thematic survey (专题调研) is answered once by each unit. The analysis counts every
//! question, cross-tabulates by community or unit and is exported to Word and Excel.

use super::Ctx;
use super::access::require_admin;
use crate::domain::audit::{ObjectType, Verb};
use crate::domain::code::Code;
use crate::domain::evaluation::{
    self as rules, Answers, Metric, Question, QuestionKind, Rate, Skip, SurveyKind, SurveyState,
};
use crate::domain::ids::new_id;
use crate::domain::role::Role;
use crate::domain::time::now_ms;
use crate::domain::validate::{FieldErrors, optional_text, required_text};
use crate::error::{AppError, AppResult};
use crate::store::Db;
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::collections::BTreeMap;

#[derive(Debug, Clone, sqlx::FromRow, Serialize, utoipa::ToSchema)]
pub struct Survey {
    pub id: String,
    pub name: String,
    pub kind: SurveyKind,
    pub state: SurveyState,
    pub intro: String,
    /// The questions as JSON (see `Question`)
    pub questions: String,
    /// The public link's token
    pub token: String,
    pub created_by: Option<String>,
    pub opened_at: Option<i64>,
    pub closed_at: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
    pub version: i64,
}

crate::record! {
    Survey in "surveys" as ObjectType::Survey,
    label |s| s.name.clone(),
    insert [id, name, kind, state, intro, questions, token, created_by, opened_at, closed_at, created_at, updated_at,
        version],
    update [name, state, intro, questions, opened_at, closed_at, updated_at],
}

impl Survey {
    pub fn parsed(&self) -> Vec<Question> {
        serde_json::from_str(&self.questions).unwrap_or_default()
    }
}

const SCOLS: &str = "id, name, kind, state, intro, questions, token, created_by, opened_at, closed_at, created_at, \
     updated_at, version";

/// Who answers a survey of this kind as staff: surveyors at the door for a resident survey, each
/// unit for a thematic one.
pub fn may_answer(role: Role, kind: SurveyKind) -> bool {
    match kind {
        SurveyKind::Resident => matches!(role, Role::Admin | Role::Supervisor | Role::Evaluator | Role::GridWorker),
        SurveyKind::Thematic => role.needs_unit(),
    }
}

fn may_analyse(role: Role) -> bool {
    matches!(role, Role::Admin | Role::Supervisor | Role::Discipline | Role::Evaluator)
}

pub async fn list(ctx: &Ctx<'_>) -> AppResult<Vec<Survey>> {
    let all: Vec<Survey> = sqlx::query_as(&format!("SELECT {SCOLS} FROM surveys ORDER BY created_at DESC"))
        .fetch_all(&ctx.db.pool)
        .await?;
    let role = ctx.user.role;
    Ok(all
        .into_iter()
        .filter(|s| {
            role == Role::Admin || (s.state != SurveyState::Draft && (may_analyse(role) || may_answer(role, s.kind)))
        })
        .collect())
}

pub async fn get(db: &Db, id: &str) -> AppResult<Survey> {
    crate::store::record::find(db, id).await?.ok_or(AppError::NotFound)
}

/// A survey the caller may see.
pub async fn visible(ctx: &Ctx<'_>, id: &str) -> AppResult<Survey> {
    let s = get(ctx.db, id).await?;
    if list(ctx).await?.iter().any(|x| x.id == s.id) { Ok(s) } else { Err(AppError::NotFound) }
}

pub async fn by_token(db: &Db, token: &str) -> AppResult<Survey> {
    let s: Option<Survey> =
        sqlx::query_as(&format!("SELECT {SCOLS} FROM surveys WHERE token = $1 AND kind = 'resident'"))
            .bind(token)
            .fetch_optional(&db.pool)
            .await?;
    s.filter(|s| s.state != SurveyState::Draft).ok_or(AppError::NotFound)
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct SurveyInput {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub kind: String,
    #[serde(default)]
    pub intro: String,
}

fn q(
    id: &str,
    kind: QuestionKind,
    title: &str,
    options: &[&str],
    metric: Metric,
    positive: &[usize],
    skips: Vec<Skip>,
) -> Question {
    Question {
        id: id.into(),
        kind,
        title: title.into(),
        options: options.iter().map(|s| s.to_string()).collect(),
        required: kind != QuestionKind::Text,
        metric,
        positive: positive.to_vec(),
        skips,
    }
}

/// The national survey's core, a resident survey starts with (the office edits it before
/// opening): awareness, support, satisfaction, what is unsatisfactory (skipped by the
/// satisfied), suggestions.
pub fn resident_template() -> Vec<Question> {
    let to = |option: usize, to: &str| Skip { option, to: to.into() };
    vec![
        q(
            "q1",
            QuestionKind::Single,
            "您是否知道本市正在创建全国文明城市？",
            &["知道", "不知道"],
            Metric::Awareness,
            &[1],
            vec![],
        ),
        q(
            "q2",
            QuestionKind::Single,
            "您是否支持创建全国文明城市？",
            &["支持", "比较支持", "不支持", "说不清"],
            Metric::Support,
            &[1, 2],
            vec![],
        ),
        q(
            "q3",
            QuestionKind::Single,
            "您对本市文明城市创建工作的成效是否满意？",
            &["满意", "比较满意", "不满意", "说不清"],
            Metric::Satisfaction,
            &[1, 2],
            // Who is satisfied, or cannot say, is not asked what dissatisfies them.
            vec![to(1, "q5"), to(2, "q5"), to(4, "q5")],
        ),
        q(
            "q4",
            QuestionKind::Multi,
            "您不满意的主要方面（可多选）",
            &["环境卫生", "交通秩序", "公共设施", "窗口服务", "其他"],
            Metric::None,
            &[],
            vec![],
        ),
        q("q5", QuestionKind::Text, "您对创建工作的意见和建议", &[], Metric::None, &[], vec![]),
    ]
}

pub async fn create(ctx: &Ctx<'_>, input: SurveyInput) -> AppResult<Survey> {
    require_admin(ctx.user)?;
    let mut e = FieldErrors::default();
    let name = required_text(&mut e, "name", "名称", &input.name, 60);
    let intro = optional_text(&mut e, "intro", "说明", &input.intro, 1000, true);
    let kind = SurveyKind::parse(input.kind.trim());
    if kind.is_none() {
        e.add("kind", Code::InvalidKind, "请选择问卷类别");
    }
    let (Some(kind), true) = (kind, e.is_empty()) else { return Err(AppError::Validation(e)) };
    let questions = if kind == SurveyKind::Resident { resident_template() } else { Vec::new() };
    let now = now_ms();
    let s = Survey {
        id: new_id(),
        name,
        kind,
        state: SurveyState::Draft,
        intro,
        questions: serde_json::to_string(&questions).map_err(|e| AppError::Internal(e.into()))?,
        token: hex::encode(rand::random::<[u8; 12]>()),
        created_by: Some(ctx.user.id.clone()).filter(|u| !u.is_empty()),
        opened_at: None,
        closed_at: None,
        created_at: now,
        updated_at: now,
        version: 1,
    };
    ctx.create(&s).await?;
    Ok(s)
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct QuestionInput {
    #[serde(default)]
    pub kind: String,
    #[serde(default)]
    pub title: String,
    /// One option per line
    #[serde(default)]
    pub options: String,
    #[serde(default)]
    pub required: Option<String>,
    #[serde(default)]
    pub metric: String,
    /// Option numbers counted as positive: "1,2"
    #[serde(default)]
    pub positive: String,
    /// Skip rules: "2→q4，3→结束"
    #[serde(default)]
    pub skips: String,
    #[serde(default, deserialize_with = "crate::domain::validate::number")]
    pub version: Option<i64>,
}

fn numbers(text: &str) -> Result<Vec<usize>, String> {
    text.split([',', '，', '、', ' '])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| s.parse::<usize>().map_err(|_| format!("“{s}”不是选项序号")))
        .collect()
}

/// "2→q4，3→结束" (or "2->q4", "2>q4", "3=end", full-width signs and digits too).
fn parse_skips(text: &str) -> Result<Vec<Skip>, String> {
    let text = crate::domain::validate::half_width(text).replace("->", "→").replace("-->", "→");
    let mut out: Vec<Skip> = Vec::new();
    for part in text.split([',', ';', '；', '、', '\n']).map(str::trim).filter(|s| !s.is_empty()) {
        let (o, t) = part
            .split_once(['→', '>', '='])
            .ok_or_else(|| format!("跳题规则“{part}”应写成“选项序号→题号”，如“2→q4”"))?;
        let option: usize = o
            .trim()
            .trim_start_matches('选')
            .trim()
            .parse()
            .map_err(|_| format!("跳题规则“{part}”的选项序号应为数字"))?;
        if out.iter().any(|s| s.option == option) {
            return Err(format!("选项{option}有两条跳题规则，请只保留一条"));
        }
        let t = t.trim().trim_start_matches('第').trim_end_matches('题');
        let to = match t {
            "结束" | "end" => "end".to_string(),
            t if t.starts_with(['q', 'Q']) && t[1..].parse::<usize>().is_ok() => t.to_lowercase(),
            t if t.parse::<usize>().is_ok() => format!("q{t}"),
            _ => return Err(format!("跳题规则“{part}”的目标应为题号（如q4）或“结束”")),
        };
        out.push(Skip { option, to });
    }
    Ok(out)
}

async fn draft(ctx: &Ctx<'_>, id: &str) -> AppResult<Survey> {
    require_admin(ctx.user)?;
    let s = get(ctx.db, id).await?;
    if s.state != SurveyState::Draft {
        return Err(AppError::refuse(Code::SurveyClosed, "问卷已开始收集，不能再修改题目"));
    }
    Ok(s)
}

async fn save_questions(
    ctx: &Ctx<'_>,
    old: &Survey,
    questions: Vec<Question>,
    version: Option<i64>,
) -> AppResult<Survey> {
    let mut new = Survey {
        questions: serde_json::to_string(&questions).map_err(|e| AppError::Internal(e.into()))?,
        updated_at: now_ms(),
        ..old.clone()
    };
    ctx.update(old, &mut new, version).await?;
    Ok(new)
}

/// Adds a question at the end (a draft only); all mistakes at once.
pub async fn add_question(ctx: &Ctx<'_>, id: &str, input: QuestionInput) -> AppResult<Survey> {
    let s = draft(ctx, id).await?;
    let mut e = FieldErrors::default();
    let title = required_text(&mut e, "title", "题目", &input.title, 200);
    let kind = QuestionKind::parse(input.kind.trim());
    if kind.is_none() {
        e.add("kind", Code::InvalidKind, "请选择题型");
    }
    let options: Vec<String> = input.options.lines().map(|l| l.trim().to_string()).filter(|l| !l.is_empty()).collect();
    if options.iter().any(|o| o.chars().count() > 100) {
        e.add("options", Code::TooLong, "每个选项100字以内");
    } else if let Some(dup) = options.iter().enumerate().find(|(i, o)| options[..*i].contains(o)) {
        e.add("options", Code::InvalidQuestion, format!("选项“{}”重复", dup.1));
    }
    let metric = Metric::parse(input.metric.trim()).unwrap_or(Metric::None);
    let positive =
        numbers(&input.positive).map_err(|m| e.add("positive", Code::InvalidQuestion, m)).unwrap_or_default();
    let skips = parse_skips(&input.skips).map_err(|m| e.add("skips", Code::InvalidQuestion, m)).unwrap_or_default();
    let (Some(kind), true) = (kind, e.is_empty()) else { return Err(AppError::Validation(e)) };
    let mut questions = s.parsed();
    let next =
        questions.iter().filter_map(|q| q.id.trim_start_matches('q').parse::<usize>().ok()).max().unwrap_or(0) + 1;
    let choice = matches!(kind, QuestionKind::Single | QuestionKind::Multi);
    questions.push(Question {
        id: format!("q{next}"),
        kind,
        title,
        options: if choice { options } else { Vec::new() },
        required: input.required.is_some_and(|r| !r.is_empty()),
        metric,
        positive,
        skips,
    });
    if questions.len() > 100 {
        return Err(AppError::field("title", Code::TooMany, "一份问卷最多100道题"));
    }
    // Skip targets may point to questions added later: checked fully when the survey opens;
    // here only what this question itself says.
    let last = questions.last().expect("pushed");
    let probe: Vec<Question> = vec![Question { skips: Vec::new(), ..last.clone() }];
    if let Err(m) = rules::check_questions(&probe) {
        return Err(AppError::field("options", Code::InvalidQuestion, m));
    }
    if let Some(m) = skip_mistake(last, next) {
        return Err(AppError::field("skips", Code::InvalidQuestion, m));
    }
    save_questions(ctx, &s, questions, input.version).await
}

/// What is wrong with the skip rules of a question added as number `next`: rules only on single
/// choices, on existing options, and forward (to a question added later, or the end).
fn skip_mistake(q: &Question, next: usize) -> Option<String> {
    if q.skips.is_empty() {
        return None;
    }
    if q.kind != QuestionKind::Single {
        return Some("只有单选题可以设置跳题规则".into());
    }
    if let Some(bad) = q.skips.iter().find(|s| s.option == 0 || s.option > q.options.len()) {
        return Some(format!("跳题规则引用了不存在的选项{}（本题共{}个选项）", bad.option, q.options.len()));
    }
    let back = q.skips.iter().find(|s| s.to != "end" && s.to[1..].parse::<usize>().is_ok_and(|n| n <= next));
    back.map(|s| format!("跳题只能跳到本题（q{next}）之后添加的题目或“结束”，不能跳到{}", s.to))
}

/// Removes a question (a draft only) and the skip rules that pointed to it.
pub async fn delete_question(ctx: &Ctx<'_>, id: &str, qid: &str, version: Option<i64>) -> AppResult<Survey> {
    let s = draft(ctx, id).await?;
    let mut questions = s.parsed();
    let before = questions.len();
    questions.retain(|q| q.id != qid);
    if questions.len() == before {
        return Err(AppError::NotFound);
    }
    for q in &mut questions {
        q.skips.retain(|k| k.to != qid);
    }
    save_questions(ctx, &s, questions, version).await
}

/// Opens the survey for answers (its questions checked as a whole) or closes it.
pub async fn set_state(ctx: &Ctx<'_>, id: &str, open: bool) -> AppResult<Survey> {
    require_admin(ctx.user)?;
    let old = get(ctx.db, id).await?;
    let now = now_ms();
    let new_state = match (open, old.state) {
        (true, SurveyState::Draft) => {
            rules::check_questions(&old.parsed()).map_err(|m| AppError::refuse(Code::InvalidQuestion, m))?;
            SurveyState::Open
        }
        (false, SurveyState::Open) => SurveyState::Closed,
        _ => return Err(AppError::refuse(Code::SurveyClosed, "问卷当前状态不能进行此操作")),
    };
    let mut new = Survey {
        state: new_state,
        opened_at: if open { Some(now) } else { old.opened_at },
        closed_at: if open { None } else { Some(now) },
        updated_at: now,
        ..old.clone()
    };
    let mut w = ctx.write().await?;
    w.update_as(if open { Verb::Publish } else { Verb::Update }, &old, &mut new, old.version).await?;
    w.commit().await?;
    Ok(new)
}

/// A response as submitted: who (a phone's key, a door or a unit), where, how, the answers.
pub struct Response {
    pub respondent: String,
    pub community_id: Option<String>,
    pub unit_id: Option<String>,
    /// link | door | unit
    pub via: &'static str,
    pub surveyor_id: Option<String>,
    pub answers: Answers,
}

/// The answers checked against the questionnaire (skipped answers dropped), each mistake named
/// by its question.
fn checked(s: &Survey, answers: &Answers) -> AppResult<Answers> {
    rules::check_answers(&s.parsed(), answers).map_err(|errs| {
        let mut e = FieldErrors::default();
        for (q, m) in errs {
            e.add(&q, Code::InvalidAnswer, m);
        }
        AppError::Validation(e)
    })
}

/// Stores one response after checking it against the questionnaire (skipped answers dropped);
/// a second response by the same person is refused.
async fn record(db: &Db, s: &Survey, r: Response) -> AppResult<()> {
    if s.state != SurveyState::Open {
        return Err(Code::SurveyClosed.into());
    }
    let kept = checked(s, &r.answers)?;
    let mut tx = db.begin().await?;
    let done = sqlx::query(
        "INSERT INTO survey_responses (id, survey_id, respondent, community_id, unit_id, via, surveyor_id, answers, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (survey_id, respondent) DO NOTHING",
    )
    .bind(new_id())
    .bind(&s.id)
    .bind(&r.respondent)
    .bind(&r.community_id)
    .bind(&r.unit_id)
    .bind(r.via)
    .bind(&r.surveyor_id)
    .bind(serde_json::to_string(&kept).map_err(|e| AppError::Internal(e.into()))?)
    .bind(now_ms())
    .execute(&mut *tx)
    .await?;
    if done.rows_affected() == 0 {
        return Err(Code::AlreadyAnswered.into());
    }
    tx.commit().await?;
    Ok(())
}

async fn community(db: &Db, id: &str) -> AppResult<String> {
    let found: Option<String> = sqlx::query_scalar("SELECT id FROM org_nodes WHERE id = $1 AND level = 'community'")
        .bind(id.trim())
        .fetch_optional(&db.pool)
        .await?;
    found.ok_or_else(|| AppError::field("community_id", Code::UnknownArea, "请选择您居住的社区"))
}

/// A resident's own answer through the public link: the phone proved by its code, one answer
/// per phone.
pub async fn answer_public(
    db: &Db,
    token: &str,
    (phone, code, community_id): (&str, &str, &str),
    answers: Answers,
) -> AppResult<()> {
    let s = by_token(db, token).await?;
    if s.state != SurveyState::Open {
        return Err(Code::SurveyClosed.into());
    }
    let community = community(db, community_id).await?;
    let key = super::phone_codes::verify(db, phone, code).await?;
    let r = Response {
        respondent: format!("p:{key}"),
        community_id: Some(community),
        unit_id: None,
        via: "link",
        surveyor_id: None,
        answers,
    };
    record(db, &s, r).await
}

pub async fn send_code(db: &Db, token: &str, phone: &str) -> AppResult<String> {
    let s = by_token(db, token).await?;
    if s.state != SurveyState::Open {
        return Err(Code::SurveyClosed.into());
    }
    super::phone_codes::send(db, phone, &format!("填写“{}”", s.name)).await
}

/// A unit's own answer to a thematic survey, as stored: what it answered, when, and the
/// version a correction must name.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OwnAnswer {
    pub answers: String,
    pub created_at: i64,
    pub updated_at: Option<i64>,
    pub version: i64,
    /// Who entered it last
    pub by_name: Option<String>,
}

impl OwnAnswer {
    pub fn parsed(&self) -> Answers {
        serde_json::from_str(&self.answers).unwrap_or_default()
    }
}

/// The caller's unit's answer to this survey, if it has answered (thematic surveys only).
pub async fn own_answer(ctx: &Ctx<'_>, s: &Survey) -> AppResult<Option<OwnAnswer>> {
    let Some(unit) = ctx.user.unit_id.as_deref().filter(|_| s.kind == SurveyKind::Thematic) else {
        return Ok(None);
    };
    Ok(sqlx::query_as(
        "SELECT r.answers, r.created_at, r.updated_at, r.version, u.display_name AS by_name FROM survey_responses r \
         LEFT JOIN users u ON u.id = COALESCE(r.updated_by, r.surveyor_id) WHERE r.survey_id = $1 AND r.respondent = $2",
    )
    .bind(&s.id)
    .bind(format!("u:{unit}"))
    .fetch_optional(&ctx.db.pool)
    .await?)
}

/// Answers as people read them (the audit log, the unit's own answer): each question's title and
/// the option words chosen.
pub fn readable(s: &Survey, answers: &Answers) -> String {
    s.parsed()
        .iter()
        .filter_map(|q| {
            let given = answers.get(&q.id)?;
            let words: Vec<String> = given
                .iter()
                .map(|a| match a.parse::<usize>().ok().filter(|_| q.choice()).and_then(|n| q.options.get(n - 1)) {
                    Some(option) => option.clone(),
                    None => a.clone(),
                })
                .collect();
            Some(format!("{}：{}", q.title, words.join("、")))
        })
        .collect::<Vec<_>>()
        .join("；")
}

/// A unit answers a thematic survey for itself, or corrects its answer while the survey is open
/// (naming the version it read: another person's correction meanwhile is not overwritten).
/// Both are audited with the answers in words.
async fn answer_for_unit(ctx: &Ctx<'_>, s: &Survey, answers: Answers, version: Option<i64>) -> AppResult<()> {
    if s.state != SurveyState::Open {
        return Err(Code::SurveyClosed.into());
    }
    let unit = ctx.user.unit_id.clone().ok_or(AppError::Forbidden)?;
    let kept = checked(s, &answers)?;
    let stored = serde_json::to_string(&kept).map_err(|e| AppError::Internal(e.into()))?;
    let respondent = format!("u:{unit}");
    let label = format!("{} · 本单位答卷", s.name);
    let mut w = ctx.write().await?;
    let now = w.now;
    let old: Option<(String,)> =
        sqlx::query_as("SELECT answers FROM survey_responses WHERE survey_id = $1 AND respondent = $2")
            .bind(&s.id)
            .bind(&respondent)
            .fetch_optional(w.conn())
            .await?;
    let after = json!({ "answers": readable(s, &kept) });
    match (old, version) {
        (None, _) => {
            let done = sqlx::query(
                "INSERT INTO survey_responses (id, survey_id, respondent, community_id, unit_id, via, surveyor_id, answers, \
                 created_at) VALUES ($1, $2, $3, NULL, $4, 'unit', $5, $6, $7) ON CONFLICT (survey_id, respondent) DO NOTHING",
            )
            .bind(new_id())
            .bind(&s.id)
            .bind(&respondent)
            .bind(&unit)
            .bind(&ctx.user.id)
            .bind(&stored)
            .bind(now)
            .execute(w.conn())
            .await?;
            if done.rows_affected() == 0 {
                return Err(Code::AlreadyAnswered.into());
            }
            w.audit(Verb::Create, ObjectType::Survey, &s.id, &label, None, Some(after)).await?;
        }
        // A form opened before the unit's first answer was saved: not a correction.
        (Some(_), None) => return Err(Code::AlreadyAnswered.into()),
        (Some((before,)), Some(seen)) => {
            let done = sqlx::query(
                "UPDATE survey_responses SET answers = $1, updated_at = $2, updated_by = $3, version = version + 1 \
                 WHERE survey_id = $4 AND respondent = $5 AND version = $6",
            )
            .bind(&stored)
            .bind(now)
            .bind(&ctx.user.id)
            .bind(&s.id)
            .bind(&respondent)
            .bind(seen)
            .execute(w.conn())
            .await?;
            if done.rows_affected() == 0 {
                return Err(Code::StaleVersion.into());
            }
            let before: Answers = serde_json::from_str(&before).unwrap_or_default();
            let before = json!({ "answers": readable(s, &before) });
            w.audit(Verb::Update, ObjectType::Survey, &s.id, &label, Some(before), Some(after)).await?;
        }
    }
    w.commit().await
}

/// Staff enter a response: a surveyor at the door (the household's phone, or its address when
/// there is none, is the respondent), or a unit answering a thematic survey for itself (or
/// correcting its answer: `version` is the one its page showed).
pub async fn answer_staff(
    ctx: &Ctx<'_>,
    id: &str,
    (household, community_id): (&str, &str),
    answers: Answers,
    version: Option<i64>,
) -> AppResult<()> {
    let s = visible(ctx, id).await?;
    if !may_answer(ctx.user.role, s.kind) {
        return Err(AppError::Forbidden);
    }
    let surveyor = Some(ctx.user.id.clone()).filter(|u| !u.is_empty());
    let r = match s.kind {
        SurveyKind::Resident => {
            let community = community(ctx.db, community_id).await?;
            // "３号楼 2单元" and "3号楼2单元" are one household.
            let household: String = crate::domain::validate::half_width(household)
                .chars()
                .filter(|c| !c.is_whitespace())
                .collect::<String>()
                .to_lowercase();
            let household = household.as_str();
            let respondent = match crate::domain::citizen::mobile(household) {
                Some(phone) => format!("p:{}", super::phone_codes::key(&phone)),
                None if household.chars().count() >= 4 && household.chars().count() <= 100 => {
                    format!("d:{}", super::phone_codes::key(&format!("{community}:{household}")))
                }
                None => {
                    return Err(AppError::field(
                        "household",
                        Code::Required,
                        "请填写受访者手机号或门牌地址（每户一份）",
                    ));
                }
            };
            Response {
                respondent,
                community_id: Some(community),
                unit_id: None,
                via: "door",
                surveyor_id: surveyor,
                answers,
            }
        }
        SurveyKind::Thematic => return answer_for_unit(ctx, &s, answers, version).await,
    };
    let door = r.via == "door";
    record(ctx.db, &s, r).await.map_err(|e| match e {
        AppError::Refused(Code::AlreadyAnswered, _) if door => {
            AppError::refuse(Code::AlreadyAnswered, "这一户（手机号或门牌）已经录入过答卷，每户一份，请核对或换下一户")
        }
        e => e,
    })
}

/// One question's figures.
#[derive(Debug, Clone, Serialize)]
pub struct QuestionStats {
    pub q: Question,
    pub answered: i64,
    /// (option, count, percent of those who answered)
    pub options: Vec<(String, i64, f64)>,
    /// Scale and number questions: the mean and (numbers) the sum
    pub mean: Option<f64>,
    pub sum: Option<f64>,
    /// Text answers (the latest 200)
    pub texts: Vec<String>,
    /// By community or unit: (group, answered, one cell per option or the mean)
    pub cross: Vec<(String, i64, Vec<String>)>,
}

/// A survey's analysis.
#[derive(Debug, Clone, Serialize)]
pub struct Analysis {
    pub survey: Survey,
    pub total: i64,
    pub by_via: Vec<(String, i64)>,
    /// The national rates: (metric, rate)
    pub rates: Vec<(Metric, Rate)>,
    /// By community: (community, responses, the three rates as text)
    pub rates_by_area: Vec<(String, i64, Vec<String>)>,
    pub questions: Vec<QuestionStats>,
    /// What the cross-tabulation groups by
    pub group_label: &'static str,
}

const METRICS: [Metric; 3] = [Metric::Awareness, Metric::Support, Metric::Satisfaction];

fn chosen(a: &Answers, q: &str) -> Vec<usize> {
    a.get(q).map(|v| v.iter().filter_map(|x| x.parse().ok()).collect()).unwrap_or_default()
}

fn pct(n: i64, of: i64) -> f64 {
    if of == 0 { 0.0 } else { (n as f64 * 1000.0 / of as f64).round() / 10.0 }
}

/// A response as analysed: (how it came, its community or unit, its answers).
type Answered = (String, String, Answers);

/// One question's counts, mean, texts and cross-tabulation over `groups`.
fn question_stats(q: &Question, responses: &[Answered], groups: &[String]) -> QuestionStats {
    let answered: Vec<&Answered> = responses.iter().filter(|r| r.2.contains_key(&q.id)).collect();
    let n = answered.len() as i64;
    let count = |rs: &[&Answered], o: usize| rs.iter().filter(|r| chosen(&r.2, &q.id).contains(&o)).count() as i64;
    let values = |rs: &[&Answered]| -> Vec<f64> {
        rs.iter().filter_map(|r| r.2.get(&q.id).and_then(|v| v.first()).and_then(|x| x.parse::<f64>().ok())).collect()
    };
    let mean = |v: &[f64]| (!v.is_empty()).then(|| (v.iter().sum::<f64>() / v.len() as f64 * 100.0).round() / 100.0);
    let (options, m, sum) = match q.kind {
        QuestionKind::Single | QuestionKind::Multi => (
            q.options
                .iter()
                .enumerate()
                .map(|(i, o)| (o.clone(), count(&answered, i + 1), pct(count(&answered, i + 1), n)))
                .collect(),
            None,
            None,
        ),
        QuestionKind::Scale => {
            let v = values(&answered);
            (
                (1..=5).map(|i| (format!("{i}分"), count(&answered, i), pct(count(&answered, i), n))).collect(),
                mean(&v),
                None,
            )
        }
        QuestionKind::Number => {
            let v = values(&answered);
            (Vec::new(), mean(&v), Some(v.iter().sum::<f64>()))
        }
        QuestionKind::Text => (Vec::new(), None, None),
    };
    let texts = if q.kind == QuestionKind::Text {
        answered.iter().rev().take(200).filter_map(|r| r.2.get(&q.id).and_then(|v| v.first()).cloned()).collect()
    } else {
        Vec::new()
    };
    let cross = if q.kind == QuestionKind::Text {
        Vec::new()
    } else {
        groups
            .iter()
            .map(|g| {
                let sub: Vec<&Answered> = answered.iter().copied().filter(|r| &r.1 == g).collect();
                let k = sub.len() as i64;
                let cells = match q.kind {
                    QuestionKind::Single | QuestionKind::Multi => {
                        (1..=q.options.len()).map(|o| format!("{:.1}%", pct(count(&sub, o), k))).collect()
                    }
                    _ => vec![mean(&values(&sub)).map(|m| format!("{m}")).unwrap_or_else(|| "—".into())],
                };
                (g.clone(), k, cells)
            })
            .filter(|c| c.1 > 0)
            .collect()
    };
    QuestionStats { q: q.clone(), answered: n, options, mean: m, sum, texts, cross }
}

/// How a response came in, in words.
pub fn via_label(via: &str) -> &'static str {
    match via {
        "link" => "扫码/链接自填",
        "door" => "入户调查录入",
        _ => "单位填报",
    }
}

pub async fn analyse(ctx: &Ctx<'_>, id: &str) -> AppResult<Analysis> {
    let s = visible(ctx, id).await?;
    if !may_analyse(ctx.user.role) {
        return Err(AppError::Forbidden);
    }
    let rows: Vec<(String, Option<String>, String)> = sqlx::query_as(
        "SELECT r.via, COALESCE(c.name, u.name), r.answers FROM survey_responses r LEFT JOIN org_nodes c ON c.id = r.community_id \
         LEFT JOIN units u ON u.id = r.unit_id WHERE r.survey_id = $1 ORDER BY r.created_at",
    )
    .bind(&s.id)
    .fetch_all(&ctx.db.pool)
    .await?;
    let responses: Vec<Answered> = rows
        .into_iter()
        .map(|(via, group, a)| {
            (via, group.unwrap_or_else(|| "未填写".into()), serde_json::from_str(&a).unwrap_or_default())
        })
        .collect();
    let questions = s.parsed();
    let mut by_via: BTreeMap<String, i64> = BTreeMap::new();
    for (via, _, _) in &responses {
        *by_via.entry(via_label(via).into()).or_default() += 1;
    }
    // The national rates: for each metric question, positive answers over answers.
    let metric_rate = |m: Metric, subset: &dyn Fn(&str) -> bool| {
        let mut r = Rate::default();
        for q in questions.iter().filter(|q| q.metric == m) {
            for (_, _, a) in responses.iter().filter(|x| subset(&x.1)) {
                let c = chosen(a, &q.id);
                if let Some(o) = c.first() {
                    r.possible += 1.0;
                    if q.positive.contains(o) {
                        r.earned += 1.0;
                    }
                }
            }
        }
        r
    };
    let has = |m: Metric| questions.iter().any(|q| q.metric == m);
    let rates: Vec<(Metric, Rate)> =
        METRICS.iter().filter(|m| has(**m)).map(|m| (*m, metric_rate(*m, &|_| true))).collect();
    let mut groups: Vec<String> = responses.iter().map(|r| r.1.clone()).collect();
    groups.sort();
    groups.dedup();
    let rates_by_area = if rates.is_empty() {
        Vec::new()
    } else {
        groups
            .iter()
            .map(|g| {
                let n = responses.iter().filter(|r| &r.1 == g).count() as i64;
                let cells = rates.iter().map(|(m, _)| metric_rate(*m, &|x| x == g).text()).collect();
                (g.clone(), n, cells)
            })
            .collect()
    };
    let stats = questions.iter().map(|q| question_stats(q, &responses, &groups)).collect();
    Ok(Analysis {
        total: responses.len() as i64,
        by_via: by_via.into_iter().collect(),
        rates,
        rates_by_area,
        questions: stats,
        group_label: if s.kind == SurveyKind::Resident { "社区" } else { "单位" },
        survey: s,
    })
}

/// A bar of full blocks for a percentage (the Word report's chart column).
fn bar(p: f64) -> String {
    "█".repeat((p / 5.0).round() as usize)
}

/// The analysis report as a Word document: the summary, the national rates by community, each
/// question with its chart column and its cross-tabulation.
pub fn docx(a: &Analysis) -> AppResult<Vec<u8>> {
    let letter = super::notices::Letter::new();
    let title = docx_rs::Run::new().add_text(format!("{}分析报告", a.survey.name)).size(44).fonts(letter.title_fonts());
    let via = a.by_via.iter().map(|(v, n)| format!("{v}{n}份")).collect::<Vec<_>>().join("，");
    let mut summary = format!("共收回有效问卷{}份（{}）。", a.total, if via.is_empty() { "无".into() } else { via });
    for (m, r) in &a.rates {
        summary.push_str(&format!("{}{}；", m.label(), r.text()));
    }
    let mut doc = docx_rs::Docx::new()
        .page_size(11906, 16838)
        .add_paragraph(super::notices::Letter::center(title))
        .add_paragraph(docx_rs::Paragraph::new().add_run(letter.text(&summary, 32)));
    let mut n = 0;
    let numbers = ["一", "二", "三", "四", "五", "六", "七", "八", "九", "十"];
    let mut heading = |t: &str| {
        let h = format!("{}、{t}", numbers.get(n).copied().unwrap_or("十"));
        n += 1;
        letter.heading(&h)
    };
    if !a.rates_by_area.is_empty() {
        let mut head = vec!["社区", "问卷数"];
        head.extend(a.rates.iter().map(|(m, _)| m.label()));
        let rows = a
            .rates_by_area
            .iter()
            .map(|(g, k, cells)| [vec![g.clone(), k.to_string()], cells.clone()].concat())
            .collect();
        doc = doc.add_paragraph(heading("各社区知晓率、支持率、满意度")).add_table(letter.table(&head, rows));
    }
    doc = doc.add_paragraph(heading("逐题统计"));
    for (i, st) in a.questions.iter().enumerate() {
        doc = doc.add_paragraph(docx_rs::Paragraph::new().add_run(
            letter.text(&format!("{}. {}（{}，回答{}人）", i + 1, st.q.title, st.q.kind.label(), st.answered), 28),
        ));
        if !st.options.is_empty() {
            let rows = st
                .options
                .iter()
                .map(|(o, c, p)| vec![o.clone(), c.to_string(), format!("{p:.1}%"), bar(*p)])
                .collect();
            doc = doc.add_table(letter.table(&["选项", "人数", "比例", "图示"], rows));
        }
        if let Some(m) = st.mean {
            let mut t = format!("平均值：{m}");
            if let Some(s) = st.sum {
                t.push_str(&format!("；合计：{s}"));
            }
            doc = doc.add_paragraph(docx_rs::Paragraph::new().add_run(letter.text(&t, 28)));
        }
        if !st.cross.is_empty() && (a.survey.kind == SurveyKind::Thematic || st.q.metric != Metric::None) {
            let mut head: Vec<&str> = vec![a.group_label, "回答人数"];
            match st.q.kind {
                QuestionKind::Single | QuestionKind::Multi => head.extend(st.q.options.iter().map(String::as_str)),
                _ => head.push("平均值"),
            }
            let rows =
                st.cross.iter().map(|(g, k, cells)| [vec![g.clone(), k.to_string()], cells.clone()].concat()).collect();
            doc = doc.add_table(letter.table(&head, rows));
        }
        for t in st.texts.iter().take(20) {
            doc = doc.add_paragraph(docx_rs::Paragraph::new().add_run(letter.text(&format!("· {t}"), 24)));
        }
    }
    let mut out = std::io::Cursor::new(Vec::new());
    doc.build().pack(&mut out).map_err(|e| AppError::Internal(anyhow::anyhow!("docx: {e}")))?;
    Ok(out.into_inner())
}

/// Every response as a row: (时间, 方式, 社区/单位, one column per question).
pub async fn response_rows(ctx: &Ctx<'_>, s: &Survey) -> AppResult<(Vec<String>, Vec<Vec<String>>)> {
    if !may_analyse(ctx.user.role) {
        return Err(AppError::Forbidden);
    }
    let questions = s.parsed();
    let rows: Vec<(i64, String, Option<String>, String)> = sqlx::query_as(
        "SELECT r.created_at, r.via, COALESCE(c.name, u.name), r.answers FROM survey_responses r \
         LEFT JOIN org_nodes c ON c.id = r.community_id LEFT JOIN units u ON u.id = r.unit_id WHERE r.survey_id = $1 \
         ORDER BY r.created_at",
    )
    .bind(&s.id)
    .fetch_all(&ctx.db.pool)
    .await?;
    let mut head = vec!["时间".to_string(), "方式".into(), "社区/单位".into()];
    head.extend(questions.iter().enumerate().map(|(i, q)| format!("{}. {}", i + 1, q.title)));
    let out = rows
        .into_iter()
        .map(|(at, via, g, a)| {
            let a: Answers = serde_json::from_str(&a).unwrap_or_default();
            let mut row = vec![crate::domain::time::fmt_local(at), via_label(&via).to_string(), g.unwrap_or_default()];
            for q in &questions {
                let v = a.get(&q.id).cloned().unwrap_or_default();
                row.push(if q.choice() {
                    v.iter()
                        .filter_map(|x| x.parse::<usize>().ok())
                        .filter_map(|o| q.options.get(o - 1).cloned())
                        .collect::<Vec<_>>()
                        .join("、")
                } else {
                    v.join("")
                });
            }
            row
        })
        .collect();
    Ok((head, out))
}

/// The audit line of a response export.
pub async fn audit_export(ctx: &Ctx<'_>, s: &Survey) -> AppResult<()> {
    let mut w = ctx.write().await?;
    w.audit(Verb::Export, ObjectType::Survey, &s.id, &s.name, None, Some(json!({"export": "答卷明细"}))).await?;
    w.commit().await
}

#[cfg(test)]
mod skip_rules {
    use super::*;

    #[test]
    fn skip_rules_read_as_people_type_them() {
        let read = |t: &str| parse_skips(t).map(|v| v.into_iter().map(|s| (s.option, s.to)).collect::<Vec<_>>());
        let end = || "end".to_string();
        assert_eq!(read("2->结束").unwrap(), [(2, end())]);
        assert_eq!(read("选１→第4题，3=end").unwrap(), [(1, "q4".into()), (3, end())]);
        assert_eq!(read("２＞Q5；4>6").unwrap(), [(2, "q5".into()), (4, "q6".into())]);
        assert!(read("1->q3, 1->结束").unwrap_err().contains("两条跳题规则"));
        assert!(read("2跳到结束").unwrap_err().contains("应写成"));
        assert!(read("x->q3").unwrap_err().contains("选项序号应为数字"));
        assert!(read("1->qq").unwrap_err().contains("目标应为题号"));
        assert_eq!(read("").unwrap(), []);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_resident_template_asks_why_only_the_dissatisfied() {
        let qs = resident_template();
        let answers = |q3: &str| -> crate::domain::evaluation::Answers {
            [("q1", "1"), ("q2", "1"), ("q3", q3)].iter().map(|(k, v)| (k.to_string(), vec![v.to_string()])).collect()
        };
        for q3 in ["1", "2", "4"] {
            assert!(rules::check_answers(&qs, &answers(q3)).is_ok(), "q3 = {q3}: q4 is skipped");
        }
        let errs = rules::check_answers(&qs, &answers("3")).unwrap_err();
        assert!(errs.iter().any(|(q, _)| q == "q4"), "不满意 must say why: {errs:?}");
    }
}
