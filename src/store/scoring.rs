//! Scoring schemes, awards, clean inspections and the facts scoring reads from problems.

use super::{Db, from_json, json_aggregate};
use crate::domain::audit::ObjectType;
use crate::domain::code::Code;
use crate::domain::problem::{Source, State};
use crate::domain::score::{AwardFact, AwardKind, Class, Earlier};
use crate::domain::standard::Publication;
use crate::domain::time::fmt_local;
use crate::domain::unit::UnitKind;
use serde::Serialize;
use sqlx::AnyConnection;

#[derive(Debug, Clone, sqlx::FromRow, Serialize, utoipa::ToSchema)]
pub struct Scheme {
    pub id: String,
    pub class: Class,
    pub status: Publication,
    pub version_no: i64,
    /// The rule set as JSON (see RuleSet)
    pub rules: String,
    pub created_by: Option<String>,
    pub created_at: i64,
    pub published_at: Option<i64>,
    pub updated_at: i64,
    pub version: i64,
    /// Start (Monday 00:00 Beijing, UTC ms) of the first week scored by this version once
    /// published; None: since the beginning
    pub effective_from: Option<i64>,
}

const SCHEME_COLS: &str =
    "id, class, status, version_no, rules, created_by, created_at, published_at, updated_at, version, effective_from";

crate::record! {
    Scheme in "score_schemes" as ObjectType::ScoreScheme,
    label |s| match s.effective_from {
        Some(t) => format!("{}评分规则 第{}版（{}起生效）", s.class.label(), s.version_no, &fmt_local(t)[..10]),
        None => format!("{}评分规则 第{}版", s.class.label(), s.version_no),
    },
    insert [id, class, status, version_no, rules, created_by, created_at, published_at, updated_at, version, effective_from],
    update [status, rules, published_at, updated_at, effective_from],
    snapshot |s| serde_json::from_str(&s.rules).unwrap_or_default(),
    persistent = false,
}

pub async fn schemes(db: &Db, class: Class) -> Result<Vec<Scheme>, sqlx::Error> {
    sqlx::query_as(&format!("SELECT {SCHEME_COLS} FROM score_schemes WHERE class = $1 ORDER BY version_no DESC"))
        .bind(class)
        .fetch_all(&db.pool)
        .await
}

pub async fn scheme_in(db: &Db, class: Class, status: Publication) -> Result<Option<Scheme>, sqlx::Error> {
    sqlx::query_as(&format!("SELECT {SCHEME_COLS} FROM score_schemes WHERE class = $1 AND status = $2"))
        .bind(class)
        .bind(status)
        .fetch_optional(&db.pool)
        .await
}

/// The end of the latest period whose scores are published for a class: a published notice
/// (周通报, 工作日报) or a week whose red flags are awarded. Rules cannot take effect before it.
pub async fn published_until(db: &Db, class: Class) -> Result<Option<i64>, sqlx::Error> {
    let notice: Option<i64> =
        sqlx::query_scalar("SELECT MAX(period_end) FROM notices WHERE class = $1 AND status = 'published'")
            .bind(class)
            .fetch_one(&db.pool)
            .await?;
    let flag: Option<i64> =
        sqlx::query_scalar("SELECT MAX(period_end) FROM score_awards WHERE class = $1 AND kind = 'red_flag'")
            .bind(class)
            .fetch_one(&db.pool)
            .await?;
    Ok(notice.max(flag))
}

pub async fn next_version_no(conn: &mut AnyConnection, class: Class) -> Result<i64, sqlx::Error> {
    let n: Option<i64> = sqlx::query_scalar("SELECT MAX(version_no) FROM score_schemes WHERE class = $1")
        .bind(class)
        .fetch_one(conn)
        .await?;
    Ok(n.unwrap_or(0) + 1)
}

#[derive(Debug, Clone, sqlx::FromRow, Serialize, utoipa::ToSchema)]
pub struct Award {
    pub id: String,
    pub class: Class,
    pub target_id: String,
    pub target_name: String,
    pub kind: AwardKind,
    /// The period (week or month) a red flag was won for: [period_start, period_end)
    pub period_start: Option<i64>,
    pub at: i64,
    pub note: String,
    pub created_by: Option<String>,
    pub created_at: i64,
    pub period_end: Option<i64>,
}

const AWARD_COLS: &str =
    "id, class, target_id, target_name, kind, period_start, at, note, created_by, created_at, period_end";

crate::record! {
    Award in "score_awards" as ObjectType::ScoreAward,
    label |a| match a.kind {
        AwardKind::RedFlag => format!("流动红旗 {}", a.target_name),
        kind => format!("{} {}", kind.label(), a.target_name),
    },
    insert [id, class, target_id, target_name, kind, period_start, at, note, created_by, created_at, period_end],
    unique ("target_id", Code::AlreadyAwarded, "本期流动红旗已由他人评定"),
    persistent = false,
}

/// Awards of a class, newest first; optionally one kind, one target or one week.
/// Which awards to read.
#[derive(Debug, Clone, Default)]
pub struct AwardFilter {
    pub class: Option<Class>,
    pub kind: Option<AwardKind>,
    pub target: Option<String>,
    /// A red flag's period
    pub period_start: Option<i64>,
    /// Awarded in [from, to)
    pub from: Option<i64>,
    pub to: Option<i64>,
}

fn award_where(f: &AwardFilter) -> super::Where {
    let mut w = super::Where::default();
    w.eq("class", f.class.map(|c| c.as_str()));
    w.eq("kind", f.kind.map(|k| k.as_str()));
    w.eq("target_id", f.target.as_deref());
    w.compare("period_start =", f.period_start);
    w.range("at", f.from, f.to);
    w
}

/// Awards newest first (the first 500).
pub async fn awards(db: &Db, f: &AwardFilter) -> Result<Vec<Award>, sqlx::Error> {
    Ok(award_page(db, f, super::PageReq { page: 1, size: 500 }).await?.0)
}

/// Whether a class's red flags of the period starting at `start` are awarded, as a write reads it.
pub async fn red_flags_awarded_in(conn: &mut AnyConnection, class: Class, start: i64) -> Result<bool, sqlx::Error> {
    let n: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM score_awards WHERE class = $1 AND kind = 'red_flag' AND period_start = $2",
    )
    .bind(class)
    .bind(start)
    .fetch_one(conn)
    .await?;
    Ok(n > 0)
}

/// One page of awards, newest first, and how many match.
pub async fn award_page(db: &Db, f: &AwardFilter, page: super::PageReq) -> Result<(Vec<Award>, i64), sqlx::Error> {
    let w = award_where(f);
    let total = super::count(db, "score_awards", &w).await?;
    let sql =
        format!("SELECT {AWARD_COLS} FROM score_awards{} ORDER BY at DESC, id DESC{}", w.sql(), page.limit_offset());
    let rows = super::bind_args_as(sqlx::query_as::<_, Award>(&sql), &w.args).fetch_all(&db.pool).await?;
    Ok((rows, total))
}

/// Red flags a unit or area won, in any class, newest first (for its page and notices).
/// Red flags won per target of a class for weeks starting in [from, to).
pub async fn red_flag_counts(
    db: &Db,
    class: Class,
    from: i64,
    to: i64,
) -> Result<std::collections::HashMap<String, i64>, sqlx::Error> {
    let rows: Vec<(String, i64)> = sqlx::query_as(
        "SELECT target_id, CAST(COUNT(*) AS BIGINT) FROM score_awards \
         WHERE class = $1 AND kind = 'red_flag' AND period_start >= $2 AND period_start < $3 GROUP BY target_id",
    )
    .bind(class)
    .bind(from)
    .bind(to)
    .fetch_all(&db.pool)
    .await?;
    Ok(rows.into_iter().collect())
}

pub async fn red_flags_of(db: &Db, target: &str) -> Result<Vec<Award>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT {AWARD_COLS} FROM score_awards WHERE target_id = $1 AND kind = 'red_flag' ORDER BY period_start DESC"
    ))
    .bind(target)
    .fetch_all(&db.pool)
    .await
}

/// The SQL giving a problem's (or point's) target in a class, over `p` (points) and `q` (problems).
fn target_sql(class: Class, unit_col: &str) -> String {
    match class {
        Class::Community => "p.community_id".into(),
        Class::Street => "(SELECT c.parent_id FROM org_nodes c WHERE c.id = p.community_id)".into(),
        Class::Unit | Class::Window => unit_col.into(),
    }
}

/// Units of the window kinds, scored as windows rather than as responsible units: `('bank_branch', …)`.
pub fn window_kinds() -> String {
    let codes: Vec<String> =
        UnitKind::ALL.into_iter().filter(|k| k.is_window()).map(|k| format!("'{}'", k.as_str())).collect();
    format!("({})", codes.join(", "))
}

/// Every target of a class with its name (targets without any event keep the base score).
pub async fn targets(db: &Db, class: Class) -> Result<Vec<(String, String)>, sqlx::Error> {
    let level = match class {
        Class::Community => "community",
        Class::Street => "street",
        // Units by name, from the names every instance keeps.
        Class::Unit | Class::Window => {
            let window = class == Class::Window;
            let units = super::units::index(db).await?;
            return Ok(units
                .by_name
                .iter()
                .filter(|u| u.kind.is_window() == window)
                .map(|u| (u.id.clone(), u.name.clone()))
                .collect());
        }
    };
    // One JSON array: the driver hands rows over one by one, SQLite reads them in 1 ms.
    let (agg, row, cast) = super::json_aggregate(db);
    let sql = format!("SELECT {agg}({row}(id, name) ORDER BY code){cast} FROM org_nodes WHERE level = '{level}'");
    let (text,): (Option<String>,) = sqlx::query_as(&sql).fetch_one(&db.pool).await?;
    super::from_json(text)
}

/// A problem row as scoring reads it (deserialized from a JSON array of the columns in order).
#[derive(Debug, Clone, serde::Deserialize)]
pub struct FactRow {
    pub id: String,
    pub code: String,
    pub target: Option<String>,
    pub point_id: String,
    pub category: String,
    pub source: Source,
    pub state: State,
    pub found_at: i64,
    pub deadline_at: Option<i64>,
    pub closed_at: Option<i64>,
}

/// The query for `problem_facts`: the problems of the class in [$1, $2) (of target $3 when
/// `only`) as one JSON array.
fn facts_sql(db: &Db, class: Class, only: bool) -> String {
    let target = target_sql(class, "q.unit_id");
    // Units are told apart by kind through a small set; areas need the point's community. On
    // SQLite the unit filter is written `+q.unit_id` so the planner keeps to the time indexes
    // (OR of three ranges) instead of walking every problem of every unit.
    let unit = if db.backend == super::Backend::Sqlite { "+q.unit_id" } else { "q.unit_id" };
    let windows = window_kinds();
    let (tables, filter) = match class {
        Class::Unit => ("problems q", format!(" AND {unit} IN (SELECT id FROM units WHERE kind NOT IN {windows})")),
        Class::Window => ("problems q", format!(" AND {unit} IN (SELECT id FROM units WHERE kind IN {windows})")),
        _ => ("problems q JOIN points p ON p.id = q.point_id", String::new()),
    };
    // One target's ledger reads only its problems.
    let filter = if only { format!("{filter} AND {target} = $3") } else { filter };
    // A week of a big city is 100,000 problems and more: they come back as one JSON array in one
    // row, because handing rows one by one from the driver's thread costs more than the query.
    let (agg, row, cast) = json_aggregate(db);
    let cols = |target: &str| {
        format!(
            "{row}(q.id, q.code, {target}, q.point_id, q.category, q.source, q.state, q.found_at, q.deadline_at, q.closed_at)"
        )
    };
    let in_range = "((q.found_at >= $1 AND q.found_at < $2) OR (COALESCE(q.deadline_at, 0) >= $1 AND COALESCE(q.deadline_at, 0) < $2))";
    // Failed re-checks, reopenings after a reporter said "not fixed", and reporters' 不满意.
    // One sub-select (a semi-join on both backends, never an OR of two that scans the table).
    let failed = "q.id IN (SELECT e.problem_id FROM problem_events e WHERE e.action IN ('fail', 'reopen') AND e.at >= $1 AND e.at < $2 \
         UNION ALL SELECT r.problem_id FROM reports r WHERE r.satisfaction <= 2 AND r.feedback_at >= $1 AND r.feedback_at < $2)";
    match db.backend {
        // SQLite answers the three conditions with one multi-index OR.
        super::Backend::Sqlite => format!(
            "SELECT {agg}({}) FROM {tables} WHERE q.state NOT IN ('voided', 'reported'){filter} AND ({in_range} OR {failed})",
            cols(&target)
        ),
        // PostgreSQL cannot OR a sub-select into a bitmap scan (it scans the whole table, even
        // for an empty fortnight): the failed re-checks come as a second branch.
        super::Backend::Postgres => format!(
            "SELECT {agg}({}){cast} FROM ( \
             SELECT q.*, {target} AS target FROM {tables} WHERE q.state NOT IN ('voided', 'reported'){filter} AND {in_range} \
             UNION ALL SELECT q.*, {target} AS target FROM {tables} WHERE q.state NOT IN ('voided', 'reported'){filter} AND {failed} AND NOT {in_range} \
             ) q",
            cols("q.target")
        ),
    }
}

/// Problems that can cause an entry in [from, to): found, due or re-checked and failed in it
/// (each condition has its index: found_at, the COALESCE(deadline_at, 0) expression, events by
/// action and time), of one target when `only` is given, plus (as `history`) every find of any
/// unit from `history_from` up to `to` (for repeats, which are judged at the point).
/// What `problem_facts` reads: the problems, the earlier finds, the failures by problem.
pub type Facts = (Vec<FactRow>, Vec<Earlier>, Vec<(String, i64, String)>);

pub async fn problem_facts(
    db: &Db,
    class: Class,
    from: i64,
    to: i64,
    history_from: i64,
    only: Option<&str>,
) -> Result<Facts, sqlx::Error> {
    let (agg, row, cast) = json_aggregate(db);
    let facts_sql = facts_sql(db, class, only.is_some());
    let facts = async {
        let mut q = sqlx::query_scalar(&facts_sql).bind(from).bind(to);
        if let Some(t) = only {
            q = q.bind(t);
        }
        let text: Option<String> = q.fetch_one(&db.pool).await?;
        from_json::<FactRow>(text)
    };
    // Repeats are recognised at the point, so earlier finds of any unit count.
    let history_sql = format!(
        "SELECT {agg}({row}(point_id, category, found_at)){cast} FROM problems \
         WHERE found_at >= $1 AND found_at < $2 AND state NOT IN ('voided', 'reported')"
    );
    let history = async {
        let text: Option<String> =
            sqlx::query_scalar(&history_sql).bind(history_from).bind(to).fetch_one(&db.pool).await?;
        from_json::<Earlier>(text)
    };
    // Failed re-checks and reopenings, and reporters' 不满意 (as the action "dissatisfied").
    let reworks = sqlx::query_as(
        "SELECT problem_id, at, action FROM problem_events WHERE action IN ('fail', 'reopen') AND at >= $1 AND at < $2 \
         UNION ALL SELECT problem_id, feedback_at, 'dissatisfied' FROM reports \
         WHERE satisfaction <= 2 AND problem_id IS NOT NULL AND feedback_at >= $1 AND feedback_at < $2",
    )
    .bind(from)
    .bind(to)
    .fetch_all(&db.pool);
    // The three reads are independent: side by side, each on its own connection.
    tokio::try_join!(facts, history, reworks)
}

/// Commendations, red flags and clean inspections in [from, to), as award facts of the class.
pub async fn award_facts(db: &Db, class: Class, from: i64, to: i64) -> Result<Vec<AwardFact>, sqlx::Error> {
    let rows: Vec<(String, AwardKind, String, i64, String)> = sqlx::query_as(
        "SELECT id, kind, target_id, at, note FROM score_awards WHERE class = $1 AND at >= $2 AND at < $3",
    )
    .bind(class)
    .bind(from)
    .bind(to)
    .fetch_all(&db.pool)
    .await?;
    let mut out: Vec<AwardFact> =
        rows.into_iter().map(|(id, kind, target, at, note)| AwardFact { id, kind, target, at, note }).collect();
    let target = target_sql(class, "p.unit_id");
    let windows = window_kinds();
    let unit_filter = match class {
        Class::Unit => format!(" AND u.kind NOT IN {windows}"),
        Class::Window => format!(" AND u.kind IN {windows}"),
        _ => String::new(),
    };
    // A point found clean earns nothing on a Beijing day a problem was found there (filed after
    // the clean record, perhaps by another supervisor): the day was not clean.
    let clean: Vec<(String, Option<String>, i64, String, String)> = sqlx::query_as(&format!(
        "SELECT i.id, {target} AS target, i.at, p.name, i.inspector_name FROM point_inspections i \
         JOIN points p ON p.id = i.point_id JOIN units u ON u.id = p.unit_id WHERE i.at >= $1 AND i.at < $2{unit_filter} \
         AND NOT EXISTS (SELECT 1 FROM problems q WHERE q.point_id = i.point_id AND q.voided_at IS NULL \
             AND q.found_at >= {day} - {BEIJING_OFFSET_MS} AND q.found_at < {day} + {DAY_MS} - {BEIJING_OFFSET_MS})",
        day = format!("((i.at + {BEIJING_OFFSET_MS}) / {DAY_MS}) * {DAY_MS}"),
    ))
    .bind(from)
    .bind(to)
    .fetch_all(&db.pool)
    .await?;
    out.extend(clean.into_iter().filter_map(|(id, target, at, point, who)| {
        Some(AwardFact {
            id, kind: AwardKind::CleanPoint, target: target?, at, note: format!("{point}（{who}检查）")
        })
    }));
    Ok(out)
}

/// Beijing's offset from UTC (no daylight saving), and a day, in milliseconds.
const BEIJING_OFFSET_MS: i64 = 8 * 3_600_000;
const DAY_MS: i64 = 86_400_000;

/// A point found clean (检查无问题), as recorded; a second record for the point on the same
/// Beijing day is refused by a unique index.
#[derive(Debug, Clone, Serialize)]
pub struct CleanInspection {
    pub id: String,
    pub point_id: String,
    /// For the audit log
    #[serde(skip)]
    pub point_name: String,
    pub at: i64,
    pub inspector_id: String,
    pub inspector_name: String,
    pub note: String,
    pub created_at: i64,
    /// YYYY-MM-DD in Beijing
    pub day: String,
}

crate::record! {
    CleanInspection in "point_inspections" as ObjectType::PointInspection,
    label |i| format!("点位检查无问题 {} {}", i.point_name, fmt_local(i.at)),
    insert [id, point_id, at, inspector_id, inspector_name, note, created_at, day],
    unique ("", Code::AlreadyRecorded, "该点位今日已记录检查无问题，每个点位每天计一次"),
}

/// A point's clean inspections, newest first.
#[derive(Debug, Clone, sqlx::FromRow, Serialize, utoipa::ToSchema)]
pub struct Inspection {
    pub id: String,
    pub at: i64,
    pub inspector_name: String,
    pub note: String,
}

pub async fn inspections_of(db: &Db, point_id: &str, limit: i64) -> Result<Vec<Inspection>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, at, inspector_name, note FROM point_inspections WHERE point_id = $1 ORDER BY at DESC LIMIT $2",
    )
    .bind(point_id)
    .bind(limit)
    .fetch_all(&db.pool)
    .await
}
