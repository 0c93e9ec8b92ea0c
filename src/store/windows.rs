//! Window service: windows and their staff, rating devices, ratings with their monthly tallies,
//! served counts and bad-rating cases.

use super::{Db, PageReq, Where, paged};
use crate::domain::audit::ObjectType;
use crate::domain::code::Code;
use crate::domain::problem::State as ProblemState;
use crate::domain::window::{CallbackResult, CaseState, RatingChannel, Sector};
use serde::Serialize;
use sqlx::AnyConnection;

#[derive(Debug, Clone, sqlx::FromRow, Serialize, utoipa::ToSchema)]
pub struct Window {
    pub id: String,
    pub unit_id: String,
    /// The unit's point the window is at (a bad rating put on the ledger is filed there)
    pub point_id: Option<String>,
    /// 窗口号, e.g. 3号窗口
    pub number: String,
    /// 业务, e.g. 个人业务
    pub service: String,
    /// The public code of the window's QR link: /rate/{code}
    pub code: String,
    /// Who is on duty now
    pub staff_id: Option<String>,
    pub active: i64,
    pub created_at: i64,
    pub updated_at: i64,
    pub version: i64,
}

crate::record! {
    Window in "windows" as ObjectType::Window,
    label |w| format!("{} {}", w.number, w.service),
    insert [id, unit_id, point_id, number, service, code, staff_id, active, created_at, updated_at, version],
    update [point_id, number, service, staff_id, active, updated_at],
    unique ("number", Code::Duplicate, "本单位已有同号窗口"),
}

crate::listed! {
    /// A window as listed: its unit, sector, point and who is on duty.
    WindowRow: Window {
        unit_name: String,
        sector: Option<Sector>,
        point_name: Option<String>,
        staff_name: Option<String>,
        staff_badge: Option<String>,
    }
}

#[derive(Debug, Clone, sqlx::FromRow, Serialize, utoipa::ToSchema)]
pub struct Staff {
    pub id: String,
    pub unit_id: String,
    pub name: String,
    /// 工号
    pub badge: String,
    /// 岗位, e.g. 大堂经理, 综合柜员
    pub post: String,
    pub active: i64,
    pub created_at: i64,
    pub updated_at: i64,
    pub version: i64,
}

crate::record! {
    Staff in "window_staff" as ObjectType::WindowStaff,
    label |s| format!("{}（工号{}）", s.name, s.badge),
    insert [id, unit_id, name, badge, post, active, created_at, updated_at, version],
    update [name, badge, post, active, updated_at],
    unique ("badge", Code::Duplicate, "本单位已有该工号"),
}

crate::listed! {
    /// A staff member as listed, with the unit and the window they are on duty at.
    StaffRow: Staff { unit_name: String, window_number: Option<String> }
}

/// A rating device (评价器) or queue system that sends ratings with its key.
#[derive(Debug, Clone, sqlx::FromRow, Serialize, utoipa::ToSchema)]
pub struct Device {
    pub id: String,
    pub unit_id: String,
    pub name: String,
    /// The key's first characters, to tell keys apart
    pub prefix: String,
    #[serde(skip)]
    pub key_hash: String,
    pub created_at: i64,
    pub created_by: Option<String>,
    pub revoked_at: Option<i64>,
    pub last_used_at: Option<i64>,
}

crate::record! {
    Device in "rating_devices" as ObjectType::RatingDevice,
    label |d| format!("{}（{}…）", d.name, d.prefix),
    insert [id, unit_id, name, prefix, key_hash, created_at, created_by, revoked_at, last_used_at],
    snapshot |d| serde_json::json!({"name": d.name, "prefix": d.prefix, "unit_id": d.unit_id, "revoked_at": d.revoked_at}),
}

#[derive(Debug, Clone, sqlx::FromRow, Serialize, utoipa::ToSchema)]
pub struct Rating {
    pub id: String,
    pub window_id: String,
    pub unit_id: String,
    pub staff_id: Option<String>,
    /// 5 非常满意 … 1 非常不满意
    pub level: i64,
    /// The ticked tags, joined by 、
    pub tags: String,
    pub comment: String,
    #[serde(skip)]
    pub phone: String,
    pub channel: RatingChannel,
    pub device_id: Option<String>,
    #[serde(skip)]
    pub once_key: String,
    /// Local month, e.g. 202612
    pub month: i64,
    pub rated_at: i64,
    /// 1: an appeal was upheld; kept, not counted
    pub excluded: i64,
}

const RATING_COLS: &str = "id, window_id, unit_id, staff_id, level, tags, comment, phone, channel, device_id, \
     once_key, month, rated_at, excluded";

/// Ratings one statement inserts at most (13 values each, well within both databases' limits).
const ROWS_PER_INSERT: usize = 64;

/// Stores ratings whose visit was not rated already, in multi-row statements; the ids stored.
pub async fn insert_ratings(
    conn: &mut AnyConnection,
    ratings: &[&Rating],
) -> Result<std::collections::HashSet<String>, sqlx::Error> {
    let mut stored = std::collections::HashSet::with_capacity(ratings.len());
    for chunk in ratings.chunks(ROWS_PER_INSERT) {
        let rows: Vec<String> = (0..chunk.len())
            .map(|i| {
                let b = i * 13;
                let marks: Vec<String> = (1..=13).map(|k| format!("${}", b + k)).collect();
                format!("({}, 0)", marks.join(", "))
            })
            .collect();
        let sql = format!(
            "INSERT INTO ratings (id, window_id, unit_id, staff_id, level, tags, comment, phone, channel, device_id, \
             once_key, month, rated_at, excluded) VALUES {} ON CONFLICT (once_key) DO NOTHING RETURNING id",
            rows.join(", ")
        );
        // One prepared statement per batch size (at most ROWS_PER_INSERT of them, cached).
        let mut q = sqlx::query_scalar::<_, String>(&sql);
        for r in chunk {
            q = q
                .bind(&r.id)
                .bind(&r.window_id)
                .bind(&r.unit_id)
                .bind(&r.staff_id)
                .bind(r.level)
                .bind(&r.tags)
                .bind(&r.comment)
                .bind(&r.phone)
                .bind(r.channel)
                .bind(&r.device_id)
                .bind(&r.once_key)
                .bind(r.month)
                .bind(r.rated_at);
        }
        stored.extend(q.fetch_all(&mut *conn).await?);
    }
    Ok(stored)
}

/// Adds `n` (negative to take away) to a month's tally of a window, staff member and level.
pub async fn tally(
    conn: &mut AnyConnection,
    (month, window_id, staff_id, level): (i64, &str, &str, i64),
    n: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO rating_tallies (month, window_id, staff_id, level, n) VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (month, window_id, staff_id, level) DO UPDATE SET n = rating_tallies.n + excluded.n",
    )
    .bind(month)
    .bind(window_id)
    .bind(staff_id)
    .bind(level)
    .bind(n)
    .execute(conn)
    .await?;
    Ok(())
}

/// A tally's key: (month, window, staff or "", level).
pub type TallyKey<'a> = (i64, &'a str, &'a str, i64);

/// Adds many tallies in one statement: (key, n).
pub async fn tally_many(conn: &mut AnyConnection, rows: &[(TallyKey<'_>, i64)]) -> Result<(), sqlx::Error> {
    for chunk in rows.chunks(ROWS_PER_INSERT) {
        let values: Vec<String> = (0..chunk.len())
            .map(|i| format!("(${}, ${}, ${}, ${}, ${})", i * 5 + 1, i * 5 + 2, i * 5 + 3, i * 5 + 4, i * 5 + 5))
            .collect();
        let sql = format!(
            "INSERT INTO rating_tallies (month, window_id, staff_id, level, n) VALUES {} \
             ON CONFLICT (month, window_id, staff_id, level) DO UPDATE SET n = rating_tallies.n + excluded.n",
            values.join(", ")
        );
        let mut q = sqlx::query(&sql);
        for ((month, window, staff, level), n) in chunk {
            q = q.bind(*month).bind(*window).bind(*staff).bind(*level).bind(*n);
        }
        q.execute(&mut *conn).await?;
    }
    Ok(())
}

/// A month's tallies: (window, staff or "", level, count).
pub async fn tallies(db: &Db, month: i64) -> Result<Vec<(String, String, i64, i64)>, sqlx::Error> {
    sqlx::query_as("SELECT window_id, staff_id, level, n FROM rating_tallies WHERE month = $1 AND n <> 0")
        .bind(month)
        .fetch_all(&db.pool)
        .await
}

/// A month's served counts by window.
pub async fn volumes(db: &Db, month: i64) -> Result<Vec<(String, i64)>, sqlx::Error> {
    sqlx::query_as("SELECT window_id, served FROM window_volumes WHERE month = $1")
        .bind(month)
        .fetch_all(&db.pool)
        .await
}

pub async fn set_volume(
    conn: &mut AnyConnection,
    window_id: &str,
    month: i64,
    served: i64,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO window_volumes (window_id, month, served, updated_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (window_id, month) DO UPDATE SET served = excluded.served, updated_at = excluded.updated_at",
    )
    .bind(window_id)
    .bind(month)
    .bind(served)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

/// Whether this is the first time the device sent this batch id (recorded now); the device's
/// batch ids older than a week are forgotten as it goes (a rating is taken at most 7 days back).
pub async fn first_batch(
    conn: &mut AnyConnection,
    (device, batch): (&str, &str),
    now: i64,
) -> Result<bool, sqlx::Error> {
    sqlx::query("DELETE FROM device_batches WHERE device_id = $1 AND at < $2")
        .bind(device)
        .bind(now - 8 * 86_400_000)
        .execute(&mut *conn)
        .await?;
    let r =
        sqlx::query("INSERT INTO device_batches (device_id, batch_id, at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING")
            .bind(device)
            .bind(batch)
            .bind(now)
            .execute(conn)
            .await?;
    Ok(r.rows_affected() == 1)
}

/// Adds to a month's served count (a device reports what it served since it last sent).
pub async fn add_volume(
    conn: &mut AnyConnection,
    window_id: &str,
    month: i64,
    served: i64,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO window_volumes (window_id, month, served, updated_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (window_id, month) DO UPDATE SET served = window_volumes.served + excluded.served, updated_at = excluded.updated_at",
    )
    .bind(window_id)
    .bind(month)
    .bind(served)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn rating(db: &Db, id: &str) -> Result<Option<Rating>, sqlx::Error> {
    sqlx::query_as(&format!("SELECT {RATING_COLS} FROM ratings WHERE id = $1")).bind(id).fetch_optional(&db.pool).await
}

pub async fn case_by_code(db: &Db, code: &str) -> Result<Option<CaseRow>, sqlx::Error> {
    sqlx::query_as(&format!("{} WHERE c.code = $1", case_select())).bind(code).fetch_optional(&db.pool).await
}

/// The case whose rater holds this private link.
pub async fn case_by_token_hash(db: &Db, hash: &str) -> Result<Option<CaseRow>, sqlx::Error> {
    sqlx::query_as(&format!("{} WHERE c.token_hash = $1", case_select())).bind(hash).fetch_optional(&db.pool).await
}

crate::listed! {
    /// A rating as listed: its window, unit and who served.
    RatingRow: Rating {
        window_number: String,
        window_service: String,
        unit_name: String,
        staff_name: Option<String>,
        case_id: Option<String>,
    }
}

/// Which ratings a list shows.
#[derive(Debug, Clone, Default)]
pub struct RatingFilter {
    pub unit_id: Option<String>,
    pub window_id: Option<String>,
    pub staff_id: Option<String>,
    pub sector: Option<Sector>,
    pub level: Option<i64>,
    pub bad_only: bool,
    pub month: Option<i64>,
}

pub async fn rating_page(db: &Db, f: &RatingFilter, page: PageReq) -> Result<(Vec<RatingRow>, i64), sqlx::Error> {
    let mut w = Where::default();
    w.eq("r.unit_id", f.unit_id.as_deref());
    w.eq("r.window_id", f.window_id.as_deref());
    w.eq("r.staff_id", f.staff_id.as_deref());
    if let Some(s) = f.sector {
        let p = w.text(s.as_str());
        w.and(format!("r.unit_id IN (SELECT id FROM units WHERE sector = {p})"));
    }
    if let Some(l) = f.level {
        let p = w.int(l);
        w.and(format!("r.level = {p}"));
    }
    w.when(f.bad_only, "r.level <= 2");
    if let Some(m) = f.month {
        let p = w.int(m);
        w.and(format!("r.month = {p}"));
    }
    let select = "SELECT r.id, r.window_id, r.unit_id, r.staff_id, r.level, r.tags, r.comment, r.phone, r.channel, \
         r.device_id, r.once_key, r.month, r.rated_at, r.excluded, w.number AS window_number, \
         w.service AS window_service, u.name AS unit_name, s.name AS staff_name, c.id AS case_id \
         FROM ratings r JOIN windows w ON w.id = r.window_id JOIN units u ON u.id = r.unit_id \
         LEFT JOIN window_staff s ON s.id = r.staff_id LEFT JOIN rating_cases c ON c.rating_id = r.id";
    paged(db, select, "ratings r", &w, "r.rated_at DESC, r.id DESC", page).await
}

#[derive(Debug, Clone, sqlx::FromRow, Serialize, utoipa::ToSchema)]
pub struct Case {
    pub id: String,
    /// 差评工单号, e.g. C202612040001
    pub code: String,
    pub rating_id: String,
    #[serde(skip)]
    pub token_hash: Option<String>,
    pub unit_id: String,
    pub window_id: String,
    pub staff_id: Option<String>,
    pub level: i64,
    pub state: CaseState,
    /// The callback is due by then (working days after the rating)
    pub callback_due: i64,
    pub callback_result: Option<CallbackResult>,
    pub callback_note: String,
    pub called_at: Option<i64>,
    pub called_by: Option<String>,
    /// 核实情况
    pub finding: String,
    pub verified_at: Option<i64>,
    /// The ledger problem (source 窗口差评) when the fix was put on the ledger
    pub problem_id: Option<String>,
    pub fix_due: Option<i64>,
    /// What the rater is told
    pub reply: String,
    pub replied_at: Option<i64>,
    /// 1 when answered by the fix deadline (or fixed at once)
    pub on_time: Option<i64>,
    pub appeal_reason: String,
    pub appealed_at: Option<i64>,
    pub decision_note: String,
    pub decided_by: Option<String>,
    pub decided_at: Option<i64>,
    /// The rater's one rating of the fix (1–5)
    pub fix_level: Option<i64>,
    pub fix_rated_at: Option<i64>,
    /// What the rater says about the fix (optional, private to the office and the unit)
    pub fix_comment: String,
    pub month: i64,
    pub created_at: i64,
    pub updated_at: i64,
    pub version: i64,
}

crate::record! {
    Case in "rating_cases" as ObjectType::RatingCase,
    label |c| format!("差评工单 {}", c.code),
    insert [id, code, rating_id, token_hash, unit_id, window_id, staff_id, level, state, callback_due, callback_result,
        callback_note, called_at, called_by, finding, verified_at, problem_id, fix_due, reply, replied_at, on_time,
        appeal_reason, appealed_at, decision_note, decided_by, decided_at, fix_level, fix_rated_at, fix_comment,
        month, created_at, updated_at, version],
    update [state, callback_result, callback_note, called_at, called_by, finding, verified_at, problem_id, fix_due,
        reply, replied_at, on_time, appeal_reason, appealed_at, decision_note, decided_by, decided_at, fix_level,
        fix_rated_at, fix_comment, updated_at],
}

const CASE_COLS: &str = "c.id, c.code, c.rating_id, c.token_hash, c.unit_id, c.window_id, c.staff_id, c.level, c.state, \
     c.callback_due, c.callback_result, c.callback_note, c.called_at, c.called_by, c.finding, c.verified_at, \
     c.problem_id, c.fix_due, c.reply, c.replied_at, c.on_time, c.appeal_reason, c.appealed_at, c.decision_note, \
     c.decided_by, c.decided_at, c.fix_level, c.fix_rated_at, c.fix_comment, c.month, c.created_at, c.updated_at, c.version";

crate::listed! {
    /// A case as listed: what was rated, where, and the ledger problem's state.
    CaseRow: Case {
        unit_name: String,
        window_number: String,
        window_service: String,
        staff_name: Option<String>,
        tags: String,
        comment: String,
        rated_at: i64,
        /// The rater left a phone number (a real-name callback is due)
        has_phone: i64,
        /// The number to call back (the unit and the office only; never public)
        rater_phone: String,
        problem_code: Option<String>,
        problem_state: Option<ProblemState>,
    }
}

impl CaseRow {
    /// The step bound by `callback_due` still waits past it: the callback of a real-name rating,
    /// or the verification of an anonymous one (which needs no callback).
    pub fn waiting_past_due(&self, now: i64) -> bool {
        let waiting = match self.state {
            CaseState::Callback => true,
            CaseState::Verify => self.has_phone == 0,
            _ => false,
        };
        waiting && self.callback_due < now
    }

    /// A real-name callback made after its deadline (it stays marked: the callback is published).
    pub fn called_late(&self) -> bool {
        self.has_phone == 1 && self.called_at.is_some_and(|at| at > self.callback_due)
    }
}

fn case_select() -> String {
    format!(
        "SELECT {CASE_COLS}, u.name AS unit_name, w.number AS window_number, w.service AS window_service, \
         s.name AS staff_name, r.tags, r.comment, r.rated_at, CASE WHEN r.phone <> '' THEN 1 ELSE 0 END AS has_phone, r.phone AS rater_phone, \
         q.code AS problem_code, q.state AS problem_state \
         FROM rating_cases c JOIN ratings r ON r.id = c.rating_id JOIN units u ON u.id = c.unit_id \
         JOIN windows w ON w.id = c.window_id LEFT JOIN window_staff s ON s.id = c.staff_id \
         LEFT JOIN problems q ON q.id = c.problem_id"
    )
}

pub async fn case(db: &Db, id: &str) -> Result<Option<CaseRow>, sqlx::Error> {
    sqlx::query_as(&format!("{} WHERE c.id = $1", case_select())).bind(id).fetch_optional(&db.pool).await
}

pub async fn case_of_rating(db: &Db, rating_id: &str) -> Result<Option<CaseRow>, sqlx::Error> {
    sqlx::query_as(&format!("{} WHERE c.rating_id = $1", case_select())).bind(rating_id).fetch_optional(&db.pool).await
}

pub async fn case_of_problem(conn: &mut AnyConnection, problem_id: &str) -> Result<Option<Case>, sqlx::Error> {
    sqlx::query_as(&format!("SELECT {CASE_COLS} FROM rating_cases c WHERE c.problem_id = $1"))
        .bind(problem_id)
        .fetch_optional(conn)
        .await
}

/// Which cases a list shows.
#[derive(Debug, Clone, Default)]
pub struct CaseFilter {
    pub unit_id: Option<String>,
    pub states: Option<Vec<String>>,
    pub month: Option<i64>,
    /// The step bound by the callback's deadline waits past it (`CaseRow::waiting_past_due`)
    pub overdue_at: Option<i64>,
}

pub async fn case_page(db: &Db, f: &CaseFilter, page: PageReq) -> Result<(Vec<CaseRow>, i64), sqlx::Error> {
    let mut w = Where::default();
    w.eq("c.unit_id", f.unit_id.as_deref());
    w.within("c.state", f.states.as_deref());
    if let Some(m) = f.month {
        let p = w.int(m);
        w.and(format!("c.month = {p}"));
    }
    if let Some(t) = f.overdue_at {
        let p = w.int(t);
        // As `CaseRow::waiting_past_due`: the callback, or an anonymous rating's verification.
        w.and(format!(
            "c.callback_due < {p} AND (c.state = 'callback' OR (c.state = 'verify' AND \
             NOT EXISTS (SELECT 1 FROM ratings o WHERE o.id = c.rating_id AND o.phone <> '')))"
        ));
    }
    paged(db, &case_select(), "rating_cases c", &w, "c.created_at DESC, c.id DESC", page).await
}

/// A month's case facts by window and staff member, appeals upheld left out. Only what is due
/// by `now` counts against a unit: a real-name callback once made or past its deadline, a fix
/// once answered or past its deadline (or still unverified past the callback's).
pub async fn case_facts(db: &Db, month: i64, now: i64) -> Result<Vec<CaseFacts>, sqlx::Error> {
    sqlx::query_as(
        "SELECT c.unit_id, c.window_id, COALESCE(c.staff_id, '') AS staff_id, COUNT(*) AS cases, \
         SUM(CASE WHEN r.phone <> '' AND (c.called_at IS NOT NULL OR c.callback_due < $2) THEN 1 ELSE 0 END) AS real_name, \
         SUM(CASE WHEN c.replied_at IS NOT NULL OR (c.fix_due IS NOT NULL AND c.fix_due < $2) \
              OR (c.state IN ('callback', 'verify') AND c.callback_due < $2) THEN 1 ELSE 0 END) AS fixes_due, \
         SUM(CASE WHEN r.phone <> '' AND c.callback_result = 'reached' THEN 1 ELSE 0 END) AS called, \
         SUM(CASE WHEN c.on_time = 1 THEN 1 ELSE 0 END) AS on_time, \
         SUM(CASE WHEN c.fix_level IS NOT NULL THEN 1 ELSE 0 END) AS fix_rated, \
         SUM(CASE WHEN c.fix_level >= 4 THEN 1 ELSE 0 END) AS fix_good \
         FROM rating_cases c JOIN ratings r ON r.id = c.rating_id \
         WHERE c.month = $1 AND c.state <> 'upheld' GROUP BY c.unit_id, c.window_id, COALESCE(c.staff_id, '')",
    )
    .bind(month)
    .bind(now)
    .fetch_all(&db.pool)
    .await
}

/// One group's bad-rating handling in a month.
#[derive(Debug, Clone, Default, sqlx::FromRow)]
pub struct CaseFacts {
    pub unit_id: String,
    pub window_id: String,
    pub staff_id: String,
    pub cases: i64,
    /// Real-name callbacks due (made, or past their deadline)
    pub real_name: i64,
    /// Fixes due (answered, or past their deadline)
    pub fixes_due: i64,
    pub called: i64,
    pub on_time: i64,
    pub fix_rated: i64,
    pub fix_good: i64,
}

/// Every window with its unit's name and sector (the figures group by them).
pub async fn window_rows(db: &Db, f: &WindowFilter, page: PageReq) -> Result<(Vec<WindowRow>, i64), sqlx::Error> {
    let mut w = Where::default();
    w.eq("w.unit_id", f.unit_id.as_deref());
    if let Some(s) = f.sector {
        let p = w.text(s.as_str());
        w.and(format!("u.sector = {p}"));
    }
    w.flag("w.active", f.active);
    w.contains(db, &["w.number", "w.service", "w.code", "u.name"], f.keyword.as_deref());
    let select = "SELECT w.*, u.name AS unit_name, u.sector, p.name AS point_name, s.name AS staff_name, \
         s.badge AS staff_badge FROM windows w JOIN units u ON u.id = w.unit_id LEFT JOIN points p ON p.id = w.point_id \
         LEFT JOIN window_staff s ON s.id = w.staff_id";
    paged(db, select, "windows w JOIN units u ON u.id = w.unit_id", &w, "u.name, w.number", page).await
}

#[derive(Debug, Clone, Default)]
pub struct WindowFilter {
    pub unit_id: Option<String>,
    pub sector: Option<Sector>,
    pub active: Option<bool>,
    pub keyword: Option<String>,
}

pub async fn window(db: &Db, id: &str) -> Result<Option<Window>, sqlx::Error> {
    super::record::find(db, id).await
}

pub async fn window_row(db: &Db, id: &str) -> Result<Option<WindowRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT w.*, u.name AS unit_name, u.sector, p.name AS point_name, s.name AS staff_name, s.badge AS staff_badge \
         FROM windows w JOIN units u ON u.id = w.unit_id LEFT JOIN points p ON p.id = w.point_id \
         LEFT JOIN window_staff s ON s.id = w.staff_id WHERE w.id = $1",
    )
    .bind(id)
    .fetch_optional(&db.pool)
    .await
}

pub async fn window_by_code(db: &Db, code: &str) -> Result<Option<WindowRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT w.*, u.name AS unit_name, u.sector, p.name AS point_name, s.name AS staff_name, s.badge AS staff_badge \
         FROM windows w JOIN units u ON u.id = w.unit_id LEFT JOIN points p ON p.id = w.point_id \
         LEFT JOIN window_staff s ON s.id = w.staff_id WHERE w.code = $1 AND w.active = 1 AND u.active = 1",
    )
    .bind(code)
    .fetch_optional(&db.pool)
    .await
}

pub async fn staff(db: &Db, id: &str) -> Result<Option<Staff>, sqlx::Error> {
    super::record::find(db, id).await
}

pub async fn staff_rows(db: &Db, unit_id: Option<&str>) -> Result<Vec<StaffRow>, sqlx::Error> {
    let mut w = Where::default();
    w.eq("s.unit_id", unit_id);
    let sql = format!(
        "SELECT s.*, u.name AS unit_name, (SELECT MIN(w.number) FROM windows w WHERE w.staff_id = s.id) AS window_number \
         FROM window_staff s JOIN units u ON u.id = s.unit_id{} ORDER BY u.name, s.badge",
        w.sql()
    );
    super::bind_args_as(sqlx::query_as(&sql), &w.args).fetch_all(&db.pool).await
}

pub async fn devices(db: &Db, unit_id: Option<&str>) -> Result<Vec<Device>, sqlx::Error> {
    let mut w = Where::default();
    w.eq("unit_id", unit_id);
    let sql = format!(
        "SELECT id, unit_id, name, prefix, key_hash, created_at, created_by, revoked_at, last_used_at \
         FROM rating_devices{} ORDER BY created_at DESC",
        w.sql()
    );
    super::bind_args_as(sqlx::query_as(&sql), &w.args).fetch_all(&db.pool).await
}

pub async fn device_by_hash(db: &Db, hash: &str) -> Result<Option<Device>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, unit_id, name, prefix, key_hash, created_at, created_by, revoked_at, last_used_at \
         FROM rating_devices WHERE key_hash = $1",
    )
    .bind(hash)
    .fetch_optional(&db.pool)
    .await
}

/// Whether the unit serves any window (its staff see the window service menu).
pub async fn unit_serves_windows(db: &Db, unit_id: &str) -> Result<bool, sqlx::Error> {
    let found: Option<i64> = sqlx::query_scalar("SELECT 1 FROM windows WHERE unit_id = $1 LIMIT 1")
        .bind(unit_id)
        .fetch_optional(&db.pool)
        .await?;
    Ok(found.is_some())
}

/// Every window of a unit, active first (the devices and the QR sheet).
pub async fn windows_of(db: &Db, unit_id: Option<&str>) -> Result<Vec<WindowRow>, sqlx::Error> {
    let f = WindowFilter { unit_id: unit_id.map(str::to_string), active: Some(true), ..Default::default() };
    Ok(window_rows(db, &f, PageReq::all()).await?.0)
}
