//! The evaluation system (测评体系) as versioned data, and simulated evaluation rounds (模拟测评):
//! the office draws a stratified, seeded sample of points, assigns evaluators, the evaluators
//! score each applicable field item on a phone; failures become problems of the point's unit;
//! the round reports its 得分率 by district, street, community, unit and point type, compares with
//! earlier rounds, ranks the units and, when published, records the last place's consequences.

use super::Ctx;
use super::access::require_admin;
use crate::domain::audit::{ObjectType, Verb};
use crate::domain::code::Code;
use crate::domain::evaluation::{self as rules, Candidate, EvalState, Leg, Rate};
use crate::domain::ids::new_id;
use crate::domain::mutual::CheckResult;
use crate::domain::org::OrgLevel;
use crate::domain::problem::{Limit, Source};
use crate::domain::role::Role;
use crate::domain::standard::{Publication, Severity, applies};
use crate::domain::time::{now_ms, parse_local_day_start};
use crate::domain::validate::{FieldErrors, optional_text, required_text};
use crate::error::{AppError, AppResult, RowError};
use crate::media::storage::Storage;
use crate::store::Db;
use crate::store::evaluation::{self as store, EvalItem, EvalRound, ItemRow, System, Transfer, Visit, VisitRow};
use crate::store::photos::Photo;
use crate::store::record::Insert;
use crate::store::{Held, Hold};
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::collections::{BTreeMap, HashMap};

pub const DEFAULT_SYSTEM: &str = include_str!("../../resources/evaluation/default.json");

#[derive(Deserialize)]
struct DefaultSystem {
    name: String,
    note: String,
    items: Vec<DefaultItem>,
}

#[derive(Deserialize)]
struct DefaultItem {
    code: String,
    project: String,
    content: String,
    standard: String,
    leg: Leg,
    points: f64,
    point_types: String,
    #[serde(default)]
    lead: String,
    #[serde(default)]
    coop: String,
}

/// Publishes the shipped evaluation system as version 1 when there is none; lead units are
/// matched by name (those not present are left for the office to assign). Safe on several
/// instances.
pub async fn install_default(db: &Db) -> anyhow::Result<()> {
    let d: DefaultSystem = serde_json::from_str(DEFAULT_SYSTEM)?;
    let units: HashMap<String, String> = sqlx::query_as::<_, (String, String)>("SELECT name, id FROM units")
        .fetch_all(&db.pool)
        .await?
        .into_iter()
        .collect();
    let mut tx = db.begin().await?;
    if store::max_version_no(&mut tx).await? > 0 {
        return Ok(());
    }
    let v = System {
        id: new_id(),
        version_no: 1,
        name: d.name,
        status: Publication::Published,
        note: d.note,
        created_at: 0,
        published_at: Some(0),
        updated_at: 0,
        version: 1,
    };
    if let Err(e) = v.insert(&mut tx).await {
        if crate::store::is_unique_violation(&e) {
            return Ok(());
        }
        return Err(e.into());
    }
    for (i, it) in d.items.into_iter().enumerate() {
        EvalItem {
            id: new_id(),
            system_id: v.id.clone(),
            seq: i as i64 + 1,
            code: it.code,
            project: it.project,
            content: it.content,
            standard: it.standard,
            leg: it.leg,
            points: it.points,
            point_types: it.point_types,
            lead_unit_id: units.get(&it.lead).cloned(),
            coop_units: it.coop,
            version: 1,
        }
        .insert(&mut tx)
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// The shipped system's lead units by name, filled in where a published item has none (the demo
/// city's units exist only after the system was installed).
pub async fn fill_default_leads(db: &Db) -> AppResult<()> {
    let d: DefaultSystem = serde_json::from_str(DEFAULT_SYSTEM).map_err(|e| AppError::Internal(e.into()))?;
    for it in d.items.iter().filter(|i| !i.lead.is_empty()) {
        sqlx::query(
            "UPDATE eval_items SET lead_unit_id = (SELECT id FROM units WHERE name = $1) WHERE code = $2 \
             AND lead_unit_id IS NULL",
        )
        .bind(&it.lead)
        .bind(&it.code)
        .execute(&db.pool)
        .await?;
    }
    Ok(())
}

pub async fn published(db: &Db) -> AppResult<Option<System>> {
    let mut conn = db.pool.acquire().await?;
    Ok(store::system_with(&mut conn, Publication::Published).await?)
}

/// The system's versions and the items of the one asked for (default: the draft if any, else
/// the published one).
pub async fn system(ctx: &Ctx<'_>, id: Option<&str>) -> AppResult<(Vec<System>, Option<System>, Vec<ItemRow>)> {
    require_staff(ctx)?;
    let all = store::systems(ctx.db).await?;
    let chosen = match id {
        Some(id) => Some(all.iter().find(|v| v.id == id).cloned().ok_or(AppError::NotFound)?),
        None => all.iter().find(|v| v.status == Publication::Draft).or_else(|| all.first()).cloned(),
    };
    let items = match &chosen {
        Some(v) => store::items(ctx.db, &v.id).await?,
        None => Vec::new(),
    };
    Ok((all, chosen, items))
}

fn require_staff(ctx: &Ctx<'_>) -> AppResult<()> {
    if ctx.user.role == Role::GridWorker { Err(AppError::Forbidden) } else { Ok(()) }
}

pub const SYSTEM_COLUMNS: [crate::service::sheet::Column; 9] = [
    ("编码", "code", true),
    ("测评项目", "project", true),
    ("测评内容", "content", true),
    ("测评标准", "standard", true),
    ("测评方式", "leg", true),
    ("分值", "points", true),
    ("适用点位", "point_types", false),
    ("牵头单位", "lead", false),
    ("配合单位", "coop", false),
];

/// A version's items as rows of the import's columns (point types and units by name).
pub async fn system_rows(db: &Db, system_id: &str) -> AppResult<Vec<Vec<String>>> {
    let names: HashMap<String, String> =
        crate::store::points::types(db).await?.into_iter().map(|t| (t.code, t.name)).collect();
    Ok(store::items(db, system_id)
        .await?
        .into_iter()
        .map(|i| {
            vec![
                i.code.clone(),
                i.project.clone(),
                i.content.clone(),
                i.standard.clone(),
                i.leg.label().into(),
                format!("{}", i.points),
                type_names(&i.point_types, &names),
                i.lead_name.clone().unwrap_or_default(),
                i.coop_units.clone(),
            ]
        })
        .collect())
}

pub fn type_names(codes: &str, names: &HashMap<String, String>) -> String {
    match codes {
        "" => String::new(),
        "*" => "全部点位".into(),
        _ => codes
            .split(',')
            .map(|c| names.get(c).cloned().unwrap_or_else(|| c.to_string()))
            .collect::<Vec<_>>()
            .join("、"),
    }
}

/// One row of an evaluation-system sheet as an item, its mistakes added to `errors`.
fn item_of_row(
    r: &super::sheet::Row,
    seq: i64,
    (types, units): (&[crate::store::points::PointType], &HashMap<String, String>),
    seen: &mut std::collections::HashSet<String>,
    errors: &mut Vec<RowError>,
) -> Option<EvalItem> {
    let mut err = |col: &str, msg: String| errors.push(RowError::new("", r.number, col, msg));
    let code = r.get("code");
    if code.is_empty() || code.chars().count() > 20 {
        err("编码", "请填写编码（20字以内）".into());
    } else if !seen.insert(code.clone()) {
        err("编码", format!("编码{code}在表中重复"));
    }
    for (key, head, max) in [("project", "测评项目", 60), ("content", "测评内容", 100), ("standard", "测评标准", 500)]
    {
        let v = r.get(key);
        if v.is_empty() || v.chars().count() > max {
            err(head, format!("请填写{head}（{max}字以内）"));
        }
    }
    let leg_text = r.get("leg");
    let leg = Leg::ALL.iter().copied().find(|l| {
        l.label() == leg_text || l.as_str() == leg_text || l.label().starts_with(&leg_text) && !leg_text.is_empty()
    });
    if leg.is_none() {
        err("测评方式", format!("“{leg_text}”应为网上材料、实地考察或问卷调查"));
    }
    let points: Option<f64> = r.get("points").parse().ok().filter(|p: &f64| p.is_finite() && *p > 0.0 && *p <= 100.0);
    if points.is_none() {
        err("分值", "分值应为大于0、不超过100的数".into());
    }
    let named = r.get("point_types");
    let point_types = if named == "全部点位" || named == "*" {
        "*".to_string()
    } else {
        let mut codes = Vec::new();
        for t in named.split(['、', ',', '，']).map(str::trim).filter(|s| !s.is_empty()) {
            match types.iter().find(|x| x.name == t || x.code == t) {
                Some(x) => codes.push(x.code.clone()),
                None => err("适用点位", format!("没有名为“{t}”的点位类型")),
            }
        }
        codes.join(",")
    };
    if leg == Some(Leg::Field) && point_types.is_empty() {
        err("适用点位", "实地考察项目请填写适用点位（或“全部点位”）".into());
    }
    let lead = r.get("lead");
    let lead_unit_id = if lead.is_empty() {
        None
    } else {
        let id = units.get(&lead).cloned();
        if id.is_none() {
            err("牵头单位", format!("没有名为“{lead}”的责任单位"));
        }
        id
    };
    let coop = r.get("coop");
    if coop.chars().count() > 200 {
        err("配合单位", "配合单位200字以内".into());
    }
    let (leg, points) = (leg?, points?);
    Some(EvalItem {
        id: new_id(),
        system_id: String::new(),
        seq,
        code,
        project: r.get("project"),
        content: r.get("content"),
        standard: r.get("standard"),
        leg,
        points,
        point_types,
        lead_unit_id,
        coop_units: coop,
        version: 1,
    })
}

/// Imports a sheet as a new draft version (replacing an earlier draft's items), all or nothing
/// with a row-by-row report.
pub async fn import(ctx: &Ctx<'_>, bytes: &[u8]) -> AppResult<(System, usize)> {
    require_admin(ctx.user)?;
    let rows = super::sheet::read(bytes, &[(None, &SYSTEM_COLUMNS)]).await?.pop().unwrap_or_default();
    let types = crate::store::points::types(ctx.db).await?;
    let units: HashMap<String, String> = sqlx::query_as::<_, (String, String)>("SELECT name, id FROM units")
        .fetch_all(&ctx.db.pool)
        .await?
        .into_iter()
        .collect();
    let mut errors = Vec::new();
    let mut items = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for r in &rows {
        if let Some(item) = item_of_row(r, items.len() as i64 + 1, (&types, &units), &mut seen, &mut errors) {
            items.push(item);
        }
    }
    if !errors.is_empty() {
        return Err(super::sheet::rejected(errors));
    }
    if items.is_empty() {
        return Err(super::sheet::file_error("文件中没有数据行"));
    }
    let now = now_ms();
    let mut w = ctx.write().await?;
    let draft = match store::system_with(w.conn(), Publication::Draft).await? {
        Some(d) => {
            sqlx::query("DELETE FROM eval_items WHERE system_id = $1").bind(&d.id).execute(w.conn()).await?;
            d
        }
        None => {
            let no = store::max_version_no(w.conn()).await? + 1;
            let d = System {
                id: new_id(),
                version_no: no,
                name: format!("第{no}版测评体系（Excel导入）"),
                status: Publication::Draft,
                note: String::new(),
                created_at: now,
                published_at: None,
                updated_at: now,
                version: 1,
            };
            w.create(&d).await?;
            d
        }
    };
    let count = items.len();
    for it in items {
        EvalItem { system_id: draft.id.clone(), ..it }.insert(w.conn()).await?;
    }
    let label = draft.label();
    w.audit(
        Verb::Update,
        ObjectType::EvalSystem,
        &draft.id,
        &label,
        None,
        Some(json!({"items": count, "source": "Excel导入"})),
    )
    .await?;
    w.commit().await?;
    Ok((draft, count))
}

/// Publishes a draft; the published version before it is archived. Rounds and drives keep the
/// version they were made with.
pub async fn publish_system(ctx: &Ctx<'_>, id: &str) -> AppResult<System> {
    require_admin(ctx.user)?;
    let old: System = crate::store::record::find(ctx.db, id).await?.ok_or(AppError::NotFound)?;
    if old.status != Publication::Draft {
        return Err(AppError::refuse(Code::NotDraft, "只能发布草稿版本"));
    }
    let now = now_ms();
    let mut w = ctx.write().await?;
    if let Some(current) = store::system_with(w.conn(), Publication::Published).await? {
        let mut archived = System { status: Publication::Archived, updated_at: now, ..current.clone() };
        w.update_as(Verb::Update, &current, &mut archived, current.version).await?;
    }
    let mut new = System { status: Publication::Published, published_at: Some(now), updated_at: now, ..old.clone() };
    w.update_as(Verb::Publish, &old, &mut new, old.version).await?;
    w.commit().await?;
    Ok(new)
}

// ---------------------------------------------------------------------------------------------
// Rounds.

#[derive(Debug, Clone, Default, Deserialize)]
pub struct RoundInput {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub starts_on: String,
    #[serde(default)]
    pub ends_on: String,
    /// District or street ids; none: the whole city
    #[serde(default)]
    pub areas: Vec<String>,
    /// "社区:20，背街小巷:10"
    #[serde(default)]
    pub quotas: String,
    /// Point codes always included
    #[serde(default)]
    pub fixed_points: String,
    #[serde(default)]
    pub seed: crate::domain::validate::IntText,
    /// Evaluator user ids
    #[serde(default)]
    pub evaluators: Vec<String>,
    #[serde(default)]
    pub last_place_interview: Option<String>,
    #[serde(default)]
    pub transfer_amount: crate::domain::validate::IntText,
}

/// The active users chosen as evaluators (evaluators or supervisors); mistakes added to `e`.
async fn evaluators_of(ctx: &Ctx<'_>, ids: &[String], e: &mut FieldErrors) -> AppResult<Vec<String>> {
    let mut out = Vec::new();
    for id in ids.iter().map(|s| s.trim()).filter(|s| !s.is_empty()) {
        match crate::store::users::get(ctx.db, id).await? {
            Some(u) if matches!(u.role, Role::Evaluator | Role::Supervisor) && u.active == 1 => out.push(u.id),
            _ => e.add("evaluators", Code::UnknownUser, "测评员应为在用的测评员或督导员账号"),
        }
    }
    if out.is_empty() {
        e.add("evaluators", Code::Required, "请至少选择一名测评员");
    }
    Ok(out)
}

/// An active point as the draw sees it: (id, code, type code, community, unit).
type PointRef = (String, String, String, Option<String>, String);

/// The drawn points as visits with their areas, in walking order (district, street, community,
/// code), split among the evaluators in contiguous blocks.
fn visits_of(
    round_id: &str,
    drawn: &[String],
    (points, fixed): (&[PointRef], &[String]),
    ancestry: &Ancestry,
    evaluators: &[String],
) -> Vec<Visit> {
    let mut visits: Vec<Visit> = drawn
        .iter()
        .filter_map(|id| points.iter().find(|p| &p.0 == id))
        .map(|p| {
            let (community, street, district) = ancestry.levels(p.3.as_deref());
            Visit {
                id: new_id(),
                round_id: round_id.to_string(),
                point_id: p.0.clone(),
                unit_id: p.4.clone(),
                type_code: p.2.clone(),
                community_id: community,
                street_id: street,
                district_id: district,
                fixed: i64::from(fixed.contains(&p.0)),
                evaluator_id: None,
                state: "todo".into(),
                earned: 0.0,
                possible: 0.0,
                passed: 0,
                failed: 0,
                visited_at: None,
                version: 1,
            }
        })
        .collect();
    let code_of = |id: &str| points.iter().find(|p| p.0 == id).map(|p| p.1.clone()).unwrap_or_default();
    visits.sort_by_key(|v| (v.district_id.clone(), v.street_id.clone(), v.community_id.clone(), code_of(&v.point_id)));
    let n = visits.len();
    for (i, v) in visits.iter_mut().enumerate() {
        v.evaluator_id = Some(evaluators[i * evaluators.len() / n].clone());
    }
    visits
}

/// The fixed points named by their codes, each in the round's areas; mistakes added to `e`.
fn fixed_of(
    text: &str,
    points: &[PointRef],
    in_scope: &dyn Fn(&Option<String>) -> bool,
    e: &mut FieldErrors,
) -> Vec<String> {
    let mut fixed = Vec::new();
    for code in text.split([',', '，', '、', ' ', '\n']).map(str::trim).filter(|s| !s.is_empty()) {
        match points.iter().find(|p| p.1 == code) {
            Some(p) if in_scope(&p.3) => fixed.push(p.0.clone()),
            Some(_) => e.add("fixed_points", Code::UnknownPoint, format!("点位{code}不在所选区域内")),
            None => e.add("fixed_points", Code::UnknownPoint, format!("点位编码“{code}”不存在")),
        }
    }
    fixed
}

/// A round's dates: both days, the end not before the start, at most 92 days apart.
fn check_dates(starts_on: &str, ends_on: &str, e: &mut FieldErrors) {
    let days = |s: &str| parse_local_day_start(s.trim()).map(|t| t / 86_400_000);
    for (field, value) in [("starts_on", starts_on), ("ends_on", ends_on)] {
        if days(value).is_none() {
            e.add(field, Code::InvalidDate, "日期格式应为2026-12-01");
        }
    }
    match (days(starts_on), days(ends_on)) {
        (Some(a), Some(b)) if b < a => e.add("ends_on", Code::DateOutOfRange, "结束日期不能早于开始日期"),
        (Some(a), Some(b)) if b - a > 92 => e.add("ends_on", Code::DateOutOfRange, "一轮模拟测评不超过92天"),
        _ => {}
    }
}

/// Schedules a round: the stratified draw of points in its areas, assigned to its evaluators in
/// contiguous blocks (by street and community, so each walks one area).
pub async fn create_round(ctx: &Ctx<'_>, input: RoundInput) -> AppResult<EvalRound> {
    require_admin(ctx.user)?;
    let mut e = FieldErrors::default();
    let name = required_text(&mut e, "name", "名称", &input.name, 60);
    check_dates(&input.starts_on, &input.ends_on, &mut e);
    let types: Vec<(String, String)> =
        crate::store::points::types(ctx.db).await?.into_iter().map(|t| (t.code, t.name)).collect();
    let quotas = rules::parse_quotas(&input.quotas, &types).map_err(|m| e.add("quotas", Code::InvalidKind, m)).ok();
    let nodes = crate::store::org::all(ctx.db).await?;
    let areas: Vec<String> = input.areas.iter().map(|a| a.trim().to_string()).filter(|a| !a.is_empty()).collect();
    for a in &areas {
        if !nodes.iter().any(|n| &n.id == a && matches!(n.level, OrgLevel::District | OrgLevel::Street)) {
            e.add("areas", Code::UnknownArea, "请选择区县或街道");
        }
    }
    let evaluators = evaluators_of(ctx, &input.evaluators, &mut e).await?;
    let amount = input.transfer_amount.get(&mut e, "transfer_amount", "拨付金额（元）", 0..=100_000_000).unwrap_or(0);
    let seed = input.seed.get(&mut e, "seed", "随机数种子", 0..=999_999_999_999);
    let system = published(ctx.db).await?;
    if system.is_none() {
        e.add("_form", Code::UnknownItem, "还没有发布的测评体系");
    }
    let points: Vec<PointRef> = sqlx::query_as(
        "SELECT p.id, p.code, t.code, p.community_id, p.unit_id FROM points p JOIN point_types t ON t.id = p.type_id \
         WHERE p.active = 1",
    )
    .fetch_all(&ctx.db.pool)
    .await?;
    let ancestry = Ancestry::new(&nodes);
    let in_scope = |community: &Option<String>| {
        areas.is_empty() || community.as_deref().is_some_and(|c| areas.iter().any(|a| ancestry.under(c, a)))
    };
    let fixed = fixed_of(&input.fixed_points, &points, &in_scope, &mut e);
    let (Some(quotas), Some(system), true) = (quotas, system, e.is_empty()) else {
        return Err(AppError::Validation(e));
    };
    let candidates: Vec<Candidate> = points
        .iter()
        .filter(|p| in_scope(&p.3))
        .map(|p| Candidate { id: p.0.clone(), type_code: p.2.clone() })
        .collect();
    let seed = seed.unwrap_or_else(|| now_ms() % 1_000_000_007);
    let drawn = rules::draw(&candidates, &quotas, &fixed, seed as u64);
    if drawn.is_empty() {
        return Err(AppError::field("quotas", Code::UnknownPoint, "所选区域内没有这些类型的在用点位"));
    }
    let now = now_ms();
    let round = EvalRound {
        id: new_id(),
        name,
        system_id: system.id,
        seed,
        starts_on: input.starts_on.trim().into(),
        ends_on: input.ends_on.trim().into(),
        areas: areas.join(","),
        quotas: quotas.iter().map(|(t, n)| format!("{t}:{n}")).collect::<Vec<_>>().join(","),
        fixed_points: fixed.join(","),
        state: EvalState::Open,
        last_place_interview: i64::from(input.last_place_interview.is_some_and(|v| !v.is_empty() && v != "0")),
        transfer_amount: amount,
        created_by: Some(ctx.user.id.clone()).filter(|u| !u.is_empty()),
        published_at: None,
        created_at: now,
        updated_at: now,
        version: 1,
    };
    let visits = visits_of(&round.id, &drawn, (&points, &fixed), &ancestry, &evaluators);
    let mut w = ctx.write().await?;
    w.create(&round).await?;
    for v in &visits {
        v.insert(w.conn()).await?;
    }
    w.commit().await?;
    Ok(round)
}

/// The org tree's parent links, to find a community's street and district.
pub struct Ancestry {
    parent: HashMap<String, (Option<String>, OrgLevel)>,
}

impl Ancestry {
    pub fn new(nodes: &[crate::store::org::OrgNode]) -> Ancestry {
        Ancestry { parent: nodes.iter().map(|n| (n.id.clone(), (n.parent_id.clone(), n.level))).collect() }
    }

    /// Whether `node` is `area` or lies under it.
    pub fn under(&self, node: &str, area: &str) -> bool {
        let mut cur = Some(node.to_string());
        for _ in 0..8 {
            match cur {
                Some(c) if c == area => return true,
                Some(c) => cur = self.parent.get(&c).and_then(|p| p.0.clone()),
                None => return false,
            }
        }
        false
    }

    /// (community, street, district) of a node (a compound counts as its community).
    pub fn levels(&self, node: Option<&str>) -> (Option<String>, Option<String>, Option<String>) {
        let (mut c, mut s, mut d) = (None, None, None);
        let mut cur = node.map(str::to_string);
        for _ in 0..8 {
            let Some(id) = cur else { break };
            let Some((parent, level)) = self.parent.get(&id) else { break };
            match level {
                OrgLevel::Community => c = Some(id.clone()),
                OrgLevel::Street => s = Some(id.clone()),
                OrgLevel::District => d = Some(id.clone()),
                OrgLevel::Compound => {}
            }
            cur = parent.clone();
        }
        (c, s, d)
    }
}

/// One line of a breakdown: the group's name, its points done and its rate.
#[derive(Debug, Clone, Serialize)]
pub struct Line {
    pub name: String,
    pub visits: i64,
    pub checks: i64,
    pub rate: Rate,
}

/// The first and the last places of ranked lines (highest rate first), each with every line tied
/// with it (equal rates as shown share a place); None with fewer than two lines or all tied.
pub fn first_and_last(ls: &[Line]) -> Option<(&[Line], &[Line])> {
    let (top, bottom) = (ls.first()?.rate.pct(), ls.last()?.rate.pct());
    if ls.len() < 2 || top == bottom {
        return None;
    }
    let firsts = ls.iter().take_while(|l| l.rate.pct() == top).count();
    let lasts = ls.iter().rev().take_while(|l| l.rate.pct() == bottom).count();
    Some((&ls[..firsts], &ls[ls.len() - lasts..]))
}

/// The place a ranked table row holds (名次 in its first cell) in a table that marks places
/// (`marked`: the units'): 第一 or 末位 by rank, so tied lines share it; nothing when all are tied.
pub fn place(rows: &[Vec<String>], rank: &str, marked: bool) -> Option<&'static str> {
    let (top, bottom) = (rows.first()?.first()?, rows.last()?.first()?);
    match rank {
        _ if !marked || top == bottom => None,
        r if r == top => Some("第一"),
        r if r == bottom => Some("末位"),
        _ => None,
    }
}

/// "A、B" of lines' names.
fn names(ls: &[Line]) -> String {
    ls.iter().map(|l| l.name.as_str()).collect::<Vec<_>>().join("、")
}

/// "主次干道6个、背街小巷5个" from a round's stored quotas.
pub fn quota_text(quotas: &str, names: &HashMap<String, String>) -> String {
    quotas
        .split(',')
        .filter_map(|q| q.split_once(':'))
        .map(|(t, n)| format!("{}{n}个", names.get(t).map(String::as_str).unwrap_or(t)))
        .collect::<Vec<_>>()
        .join("、")
}

/// "（区域内点位不足：主次干道实抽4个）" when a type had fewer points in the round's areas than
/// its quota asked for; empty otherwise.
pub fn shortfall_text(quotas: &str, visits: &[VisitRow], names: &HashMap<String, String>) -> String {
    let short: Vec<String> = quotas
        .split(',')
        .filter_map(|q| q.split_once(':'))
        .filter_map(|(t, n)| {
            let asked: usize = n.parse().ok()?;
            let got = visits.iter().filter(|v| v.type_code == t).count();
            (got < asked).then(|| format!("{}实抽{got}个", names.get(t).map(String::as_str).unwrap_or(t)))
        })
        .collect();
    if short.is_empty() { String::new() } else { format!("（区域内点位不足：{}）", short.join("、")) }
}

pub async fn type_name_map(db: &Db) -> AppResult<HashMap<String, String>> {
    Ok(crate::store::points::types(db).await?.into_iter().map(|t| (t.code, t.name)).collect())
}

/// A round as its page and report show it.
#[derive(Debug, Clone, Serialize)]
pub struct RoundView {
    /// The draw's quotas by type name
    pub quota_text: String,
    pub round: EvalRound,
    pub visits: Vec<VisitRow>,
    pub done: i64,
    pub checks: i64,
    pub total: Rate,
    pub by_district: Vec<Line>,
    pub by_street: Vec<Line>,
    pub by_community: Vec<Line>,
    /// Units ranked by rate, best first
    pub by_unit: Vec<Line>,
    pub by_type: Vec<Line>,
    /// The items most often failed: (code, standard, failed, checked)
    pub weak_items: Vec<(String, String, i64, i64)>,
    /// Earlier rounds' names and, per street, the rate in each (this round last)
    pub history: (Vec<String>, Vec<(String, Vec<String>)>),
    pub transfer: Option<(String, String, i64)>,
    /// Evaluators with their points (done, all)
    pub evaluators: Vec<(String, i64, i64)>,
}

fn may_read_all(role: Role) -> bool {
    matches!(role, Role::Admin | Role::Supervisor | Role::Discipline)
}

/// The rounds the caller may see: the office all, an evaluator those with points assigned to
/// them, units the published ones.
pub async fn rounds(ctx: &Ctx<'_>) -> AppResult<Vec<EvalRound>> {
    let all = store::rounds(ctx.db).await?;
    Ok(match ctx.user.role {
        r if may_read_all(r) => all,
        Role::Evaluator => {
            let mine: Vec<String> =
                sqlx::query_scalar("SELECT DISTINCT round_id FROM eval_visits WHERE evaluator_id = $1")
                    .bind(&ctx.user.id)
                    .fetch_all(&ctx.db.pool)
                    .await?;
            all.into_iter().filter(|r| mine.contains(&r.id)).collect()
        }
        Role::GridWorker => return Err(AppError::Forbidden),
        _ => all.into_iter().filter(|r| r.state == EvalState::Published).collect(),
    })
}

fn group(visits: &[VisitRow], key: impl Fn(&VisitRow) -> Option<String>) -> Vec<Line> {
    let mut m: BTreeMap<String, Line> = BTreeMap::new();
    for v in visits.iter().filter(|v| v.state == "done") {
        let Some(k) = key(v) else { continue };
        let l = m.entry(k.clone()).or_insert(Line { name: k, visits: 0, checks: 0, rate: Rate::default() });
        l.visits += 1;
        l.checks += v.passed + v.failed;
        l.rate.add(v.earned, v.possible);
    }
    let mut out: Vec<Line> = m.into_values().collect();
    out.sort_by(|a, b| b.rate.pct().unwrap_or(-1.0).total_cmp(&a.rate.pct().unwrap_or(-1.0)).then(a.name.cmp(&b.name)));
    out
}

pub async fn view(ctx: &Ctx<'_>, id: &str) -> AppResult<RoundView> {
    let round = store::round(ctx.db, id).await?.ok_or(AppError::NotFound)?;
    if !rounds(ctx).await?.iter().any(|r| r.id == round.id) {
        return Err(AppError::NotFound);
    }
    let visits = store::visits(ctx.db, id).await?;
    let done_visits: Vec<&VisitRow> = visits.iter().filter(|v| v.state == "done").collect();
    let mut total = Rate::default();
    for v in &done_visits {
        total.add(v.earned, v.possible);
    }
    let mut items: BTreeMap<(String, String), (i64, i64)> = BTreeMap::new();
    for (_, code, standard, result, _) in store::round_checks(ctx.db, id).await? {
        let e = items.entry((code, standard)).or_default();
        if result != CheckResult::NotApplicable {
            e.1 += 1;
        }
        if result == CheckResult::Fail {
            e.0 += 1;
        }
    }
    let mut weak_items: Vec<(String, String, i64, i64)> =
        items.into_iter().filter(|(_, (f, _))| *f > 0).map(|((c, s), (f, n))| (c, s, f, n)).collect();
    weak_items.sort_by(|a, b| (b.2 * a.3.max(1)).cmp(&(a.2 * b.3.max(1))).then(a.0.cmp(&b.0)));
    weak_items.truncate(10);
    let mut evaluators: BTreeMap<String, (i64, i64)> = BTreeMap::new();
    for v in &visits {
        let e = evaluators.entry(v.evaluator_name.clone().unwrap_or_else(|| "未分配".into())).or_default();
        e.1 += 1;
        if v.state == "done" {
            e.0 += 1;
        }
    }
    let transfer = match store::transfer_of(ctx.db, id).await? {
        Some(t) => {
            let name = |u: String| async move {
                crate::store::units::get(ctx.db, &u).await.map(|u| u.map(|u| u.name).unwrap_or_default())
            };
            Some((name(t.from_unit_id).await?, name(t.to_unit_id).await?, t.amount))
        }
        None => None,
    };
    Ok(RoundView {
        quota_text: {
            let names = type_name_map(ctx.db).await?;
            quota_text(&round.quotas, &names) + &shortfall_text(&round.quotas, &visits, &names)
        },
        done: done_visits.len() as i64,
        checks: done_visits.iter().map(|v| v.passed + v.failed).sum(),
        total,
        by_district: group(&visits, |v| v.district_name.clone()),
        by_street: group(&visits, |v| v.street_name.clone()),
        by_community: group(&visits, |v| v.community_name.clone()),
        by_unit: group(&visits, |v| Some(v.unit_name.clone())),
        by_type: group(&visits, |v| Some(v.type_name.clone())),
        weak_items,
        history: history(ctx.db, &round).await?,
        transfer,
        evaluators: evaluators.into_iter().map(|(n, (d, a))| (n, d, a)).collect(),
        visits,
        round,
    })
}

/// This round and up to four before it: each street's rate in each.
async fn history(db: &Db, round: &EvalRound) -> AppResult<(Vec<String>, Vec<(String, Vec<String>)>)> {
    let mut earlier: Vec<EvalRound> =
        store::rounds(db).await?.into_iter().filter(|r| r.starts_on < round.starts_on || r.id == round.id).collect();
    earlier.sort_by(|a, b| a.starts_on.cmp(&b.starts_on));
    let keep = earlier.len().saturating_sub(5);
    let earlier: Vec<EvalRound> = earlier.into_iter().skip(keep).collect();
    let sums: Vec<(String, String, f64, f64)> = sqlx::query_as(
        "SELECT v.round_id, s.name, SUM(v.earned), SUM(v.possible) FROM eval_visits v JOIN org_nodes s ON s.id = v.street_id \
         WHERE v.state = 'done' GROUP BY v.round_id, s.name",
    )
    .fetch_all(&db.pool)
    .await?;
    let mut streets: Vec<String> = sums.iter().filter(|s| s.0 == round.id).map(|s| s.1.clone()).collect();
    streets.sort();
    let rows = streets
        .into_iter()
        .map(|street| {
            let cells = earlier
                .iter()
                .map(|r| {
                    sums.iter()
                        .find(|s| s.0 == r.id && s.1 == street)
                        .map(|s| Rate { earned: s.2, possible: s.3 }.text())
                        .unwrap_or_else(|| "—".into())
                })
                .collect();
            (street, cells)
        })
        .collect();
    Ok((earlier.into_iter().map(|r| r.name).collect(), rows))
}

/// A visit with the field items to check at its point.
pub async fn visit(ctx: &Ctx<'_>, id: &str) -> AppResult<(EvalRound, VisitRow, Vec<ItemRow>)> {
    let v = store::visit(ctx.db, id).await?.ok_or(AppError::NotFound)?;
    let round = store::round(ctx.db, &v.round_id).await?.ok_or(AppError::NotFound)?;
    let mine = v.evaluator_id.as_deref() == Some(ctx.user.id.as_str());
    let own_unit = round.state == EvalState::Published && ctx.user.unit_id.as_deref() == Some(v.unit_id.as_str());
    if !mine && !own_unit && !may_read_all(ctx.user.role) {
        return Err(AppError::NotFound);
    }
    let items = store::items(ctx.db, &round.system_id)
        .await?
        .into_iter()
        .filter(|i| i.leg == Leg::Field && applies(&i.point_types, &v.type_code))
        .collect();
    Ok((round, v, items))
}

/// One item as the evaluator scored it.
#[derive(Debug, Clone, Default)]
pub struct Scored {
    pub result: String,
    pub note: String,
    pub photos: Vec<Vec<u8>>,
}

/// An item as scored: the item, its result, the note and the photos.
type Planned<'a> = (&'a ItemRow, CheckResult, String, Vec<Vec<u8>>);

/// Every applicable item scored, a failure with its photo (at most three); all mistakes at once.
fn plan_scores(items: &[ItemRow], mut scored: HashMap<String, Scored>) -> AppResult<Vec<Planned<'_>>> {
    let mut e = FieldErrors::default();
    let mut plan = Vec::new();
    for i in items {
        let s = scored.remove(&i.id).unwrap_or_default();
        let Some(result) = CheckResult::parse(s.result.trim()) else {
            e.add(&format!("result_{}", i.id), Code::Required, format!("请评定“{}”", i.code));
            continue;
        };
        let note = optional_text(&mut e, &format!("note_{}", i.id), "说明", &s.note, 200, true);
        if result == CheckResult::Fail && s.photos.is_empty() {
            e.add(&format!("photo_{}", i.id), Code::PhotoRequired, format!("“{}”不达标，请拍照留证", i.code));
        }
        if s.photos.len() > 3 {
            e.add(&format!("photo_{}", i.id), Code::TooManyPhotos, "每项最多3张照片");
        }
        plan.push((i, result, note, s.photos));
    }
    if items.is_empty() {
        e.add("_form", Code::UnknownItem, "该点位类型在测评体系中没有实地考察项目");
    }
    if e.is_empty() { Ok(plan) } else { Err(AppError::Validation(e)) }
}

/// Whether the caller may score this visit now: its own evaluator, the round open and begun,
/// the visit not done yet.
fn may_score(ctx: &Ctx<'_>, round: &EvalRound, v: &VisitRow) -> AppResult<()> {
    if v.evaluator_id.as_deref() != Some(ctx.user.id.as_str()) {
        return Err(AppError::Forbidden);
    }
    if round.state != EvalState::Open || v.state != "todo" {
        return Err(Code::VisitNotOpen.into());
    }
    if parse_local_day_start(&round.starts_on).is_some_and(|start| now_ms() < start) {
        return Err(AppError::refuse(Code::VisitNotOpen, format!("本轮测评自{}开始，尚不能提交", round.starts_on)));
    }
    Ok(())
}

/// The evaluator's checklist of a point: every applicable item pass / fail / not applicable (a
/// failure with a photo); failures filed as problems of source 测评 for the point's unit; the
/// visit's earned and possible points stored. All or nothing.
pub async fn score(
    ctx: &Ctx<'_>,
    storage: &Storage,
    id: &str,
    version: Option<i64>,
    scored: HashMap<String, Scored>,
) -> AppResult<VisitRow> {
    let (round, v, items) = visit(ctx, id).await?;
    may_score(ctx, &round, &v)?;
    let version = super::write::expected(version)?;
    let mut plan = plan_scores(&items, scored)?;
    // Refused or failed before its commit, the check leaves no photo files behind.
    let mut files = crate::media::storage::Unkept::new(storage);
    let photos = plan.iter_mut().map(|p| std::mem::take(&mut p.3)).collect();
    let prepared = super::photos::prepare_per_item(ctx, storage, photos, &mut files).await?;
    let point = crate::store::points::get(ctx.db, &v.point_id).await?.ok_or(AppError::NotFound)?;
    let mut w = ctx.write().await?;
    // Still open when the visit is written (the results may have been published meanwhile).
    if !crate::store::hold(w.conn(), Held::EvalRounds, (&round.id, Some(EvalState::Open.as_str())), Hold::Shared)
        .await?
    {
        return Err(AppError::refuse(Code::VisitNotOpen, "本轮测评结果已发布，不能再提交"));
    }
    let (mut passed, mut failed, mut earned, mut possible) = (0, 0, 0.0, 0.0);
    for ((item, result, note, _), photos) in plan.into_iter().zip(prepared) {
        let mut problem = None;
        match result {
            CheckResult::Pass => {
                passed += 1;
                earned += item.points;
                possible += item.points;
            }
            CheckResult::Fail => {
                failed += 1;
                possible += item.points;
                let filing = super::problems::Verified {
                    point: point.clone(),
                    item: None,
                    category: item.project.clone(),
                    severity: Severity::Normal,
                    // Neutral words: the unit learns what fails, not which round is running.
                    description: format!("{}：{}", item.content, if note.is_empty() { &item.standard } else { &note }),
                    found_at: w.now,
                    note: format!("模拟测评发现（测评标准{}）", item.code),
                };
                let p =
                    super::problems::file_dispatched(&mut w, filing, Source::Evaluation, Limit::WorkingDays(3)).await?;
                for ph in photos {
                    Photo { owner_id: p.id.clone(), ..ph }.insert(w.conn()).await?;
                }
                problem = Some(p.id);
            }
            CheckResult::NotApplicable => {}
        }
        store::add_check(w.conn(), &v.id, &item.id, (result, item.points, &note, problem.as_deref())).await?;
    }
    let at = w.now;
    if !store::finish_visit(w.conn(), &v.id, version, (earned, possible, passed, failed), at).await? {
        return Err(AppError::stale());
    }
    let rate = Rate { earned, possible };
    let label = format!("{} · {} {}", round.name, v.point_code, v.point_name);
    let after = json!({"point": v.point_code, "passed": passed, "failed": failed, "rate": rate.text()});
    w.audit(Verb::Update, ObjectType::EvalRound, &round.id, &label, None, Some(after)).await?;
    let committed = w.commit().await;
    files.keep();
    committed?;
    store::visit(ctx.db, id).await?.ok_or(AppError::NotFound)
}

/// Publishes the round's results. When the round says so, its last-placed unit gets an
/// interview proposal and a recorded transfer (末位拨付) to the first; all audited.
pub async fn publish_round(ctx: &Ctx<'_>, id: &str) -> AppResult<EvalRound> {
    require_admin(ctx.user)?;
    let old = store::round(ctx.db, id).await?.ok_or(AppError::NotFound)?;
    if old.state == EvalState::Published {
        return Ok(old);
    }
    let v = view(ctx, id).await?;
    if v.done == 0 {
        return Err(Code::RoundNotReady.into());
    }
    let now = now_ms();
    let mut new = EvalRound { state: EvalState::Published, published_at: Some(now), updated_at: now, ..old.clone() };
    let mut w = ctx.write().await?;
    // The round closes: visits being written finish first, later ones are refused. A visit
    // finished after the results above were read would change them (末位 included): then the
    // office publishes again from the page as it is now.
    w.update_as(Verb::Publish, &old, &mut new, old.version).await?;
    if store::done_visits(w.conn(), id).await? != v.done {
        return Err(AppError::refuse(Code::StaleVersion, "发布时又有点位完成了测评，请刷新页面后重新发布"));
    }
    let wants = old.last_place_interview == 1 || old.transfer_amount > 0;
    if let (true, Some((first, last))) = (wants, first_and_last(&v.by_unit)) {
        let unit_id =
            |name: &str| v.visits.iter().find(|x| x.unit_name == name).map(|x| x.unit_id.clone()).unwrap_or_default();
        // Every unit tied for the last place is proposed for an interview.
        let tied = if last.len() > 1 { format!("（{}个单位并列）", last.len()) } else { String::new() };
        let mut interviews = Vec::new();
        for l in last.iter().filter(|_| old.last_place_interview == 1) {
            let i = super::interviews::Interview {
                id: new_id(),
                kind: crate::domain::notice::InterviewKind::Interview,
                unit_id: unit_id(&l.name),
                unit_name: l.name.clone(),
                reason: format!(
                    "在“{}”中得分率{}，位列末位{tied}，建议约谈单位主要负责人并公开检讨",
                    old.name,
                    l.rate.text()
                ),
                facts: json!([{"type": "eval_round", "id": old.id, "name": old.name}]).to_string(),
                held_at: None,
                outcome: String::new(),
                created_by: Some(ctx.user.id.clone()).filter(|u| !u.is_empty()),
                created_at: now,
                updated_at: now,
                version: 1,
            };
            w.create(&i).await?;
            interviews.push(i.id);
        }
        // The transfer is recorded only between one last and one first; a tie is the office's
        // decision (the report says so).
        if let ([from], [to], true) = (last, first, old.transfer_amount > 0) {
            let t = Transfer {
                id: new_id(),
                round_id: old.id.clone(),
                from_unit_id: unit_id(&from.name),
                to_unit_id: unit_id(&to.name),
                amount: old.transfer_amount,
                interview_id: interviews.pop(),
                created_by: Some(ctx.user.id.clone()).filter(|u| !u.is_empty()),
                created_at: now,
            };
            w.create(&t).await?;
        }
    }
    w.commit().await?;
    Ok(new)
}

/// The ranked lines as table rows. Equal rates (as shown, to one decimal) share a rank and the
/// next rank skips them (1, 1, 3), as the 千分制 ranking does.
fn lines(ls: &[Line]) -> Vec<Vec<String>> {
    let mut rank = 0;
    ls.iter()
        .enumerate()
        .map(|(i, l)| {
            if i == 0 || l.rate.pct() != ls[i - 1].rate.pct() {
                rank = i + 1;
            }
            vec![rank.to_string(), l.name.clone(), l.visits.to_string(), l.checks.to_string(), l.rate.text()]
        })
        .collect()
}

pub const LINE_HEAD: [&str; 5] = ["名次", "名称", "测评点位", "检查项次", "得分率"];

/// The report's tables: (title, rows) in the order of the Word report and the Excel sheets.
pub fn report_tables(v: &RoundView) -> Vec<(&'static str, Vec<Vec<String>>)> {
    vec![
        ("各区县", lines(&v.by_district)),
        ("各街道", lines(&v.by_street)),
        ("各社区", lines(&v.by_community)),
        ("各责任单位", lines(&v.by_unit)),
        ("各类点位", lines(&v.by_type)),
    ]
}

pub const VISIT_HEAD: [&str; 9] =
    ["点位编码", "点位", "类型", "街道", "社区", "责任单位", "测评员", "达标/不达标", "得分率"];

pub fn visit_rows(v: &RoundView) -> Vec<Vec<String>> {
    v.visits
        .iter()
        .map(|x| {
            let rate = Rate { earned: x.earned, possible: x.possible };
            vec![
                x.point_code.clone(),
                x.point_name.clone(),
                x.type_name.clone(),
                x.street_name.clone().unwrap_or_default(),
                x.community_name.clone().unwrap_or_default(),
                x.unit_name.clone(),
                x.evaluator_name.clone().unwrap_or_default(),
                if x.state == "done" { format!("{}/{}", x.passed, x.failed) } else { "未测评".into() },
                if x.state == "done" { rate.text() } else { "—".into() },
            ]
        })
        .collect()
}

/// The one-paragraph summary: "抽取78个点位，检查328项次，得分率70.1%…".
pub fn summary(v: &RoundView) -> String {
    let mut s = format!(
        "{}至{}，按分层随机抽样（种子{}）抽取{}个点位，已测评{}个，检查{}项次，总体得分率{}。",
        v.round.starts_on,
        v.round.ends_on,
        v.round.seed,
        v.visits.len(),
        v.done,
        v.checks,
        v.total.text()
    );
    let tie = |ls: &[Line]| if ls.len() > 1 { "并列" } else { "" };
    let published = v.round.state == EvalState::Published;
    if !published {
        s.insert_str(0, "（测评尚未结束，以下为阶段性结果）");
    }
    match first_and_last(&v.by_unit) {
        Some((first, last)) => {
            s.push_str(&format!(
                "责任单位中{}为{}{}（{}），{}为{}{}（{}）。",
                if published { "第一名" } else { "暂列第一" },
                names(first),
                tie(first),
                first[0].rate.text(),
                if published { "末位" } else { "暂列末位" },
                names(last),
                tie(last),
                last[0].rate.text()
            ));
            let tied = first.len() > 1 || last.len() > 1;
            if tied && v.round.transfer_amount > 0 && published {
                s.push_str("因第一名或末位并列，末位拨付由文明办研究确定。");
            }
        }
        None if v.by_unit.len() >= 2 => s.push_str("各责任单位得分率相同，不设第一名和末位。"),
        None => {}
    }
    if let Some((from, to, amount)) = &v.transfer {
        s.push_str(&format!("按规定，末位单位{from}向第一名{to}拨付{amount}元。"));
    }
    s
}

/// The round's report as a Word document.
pub fn docx(v: &RoundView) -> AppResult<Vec<u8>> {
    let letter = super::notices::Letter::new();
    let title = docx_rs::Run::new().add_text(format!("{}报告", v.round.name)).size(44).fonts(letter.title_fonts());
    let mut doc = docx_rs::Docx::new()
        .page_size(11906, 16838)
        .add_paragraph(super::notices::Letter::center(title))
        .add_paragraph(docx_rs::Paragraph::new().add_run(letter.text(&summary(v), 32)));
    let numbers = ["一", "二", "三", "四", "五", "六", "七", "八"];
    let mut n = 0;
    for (title, rows) in report_tables(v) {
        if rows.is_empty() {
            continue;
        }
        doc = doc
            .add_paragraph(letter.heading(&format!("{}、{}得分率", numbers[n], title)))
            .add_table(letter.table(&LINE_HEAD, rows));
        n += 1;
    }
    if !v.weak_items.is_empty() {
        let rows = v.weak_items.iter().map(|(c, s, f, k)| vec![c.clone(), s.clone(), format!("{f}/{k}")]).collect();
        doc = doc
            .add_paragraph(letter.heading(&format!("{}、失分较多的测评标准", numbers[n])))
            .add_table(letter.table(&["编码", "测评标准", "不达标/检查"], rows));
        n += 1;
    }
    if v.history.0.len() > 1 {
        let mut head: Vec<&str> = vec!["街道"];
        head.extend(v.history.0.iter().map(String::as_str));
        let rows = v
            .history
            .1
            .iter()
            .map(|(s, cells)| std::iter::once(s.clone()).chain(cells.iter().cloned()).collect())
            .collect();
        doc = doc
            .add_paragraph(letter.heading(&format!("{}、与往轮比较", numbers[n])))
            .add_table(letter.table(&head, rows));
    }
    let mut out = std::io::Cursor::new(Vec::new());
    doc.build().pack(&mut out).map_err(|e| AppError::Internal(anyhow::anyhow!("docx: {e}")))?;
    Ok(out.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_rates_share_a_rank() {
        let line = |name: &str, earned: f64| Line {
            name: name.into(),
            visits: 1,
            checks: 8,
            rate: Rate { earned, possible: 8.0 },
        };
        let ls = [
            line("朝阳社区", 8.0),
            line("清池社区", 8.0),
            line("文庙社区", 7.0),
            line("永安社区", 7.0),
            line("颐和社区", 6.0),
        ];
        let ranks: Vec<String> = lines(&ls).into_iter().map(|r| r[0].clone()).collect();
        assert_eq!(ranks, ["1", "1", "3", "3", "5"]);
    }
}
