//! Citizens' reports, their supporters, Open311 keys and the text-message outbox.

use super::{Db, PageReq, Where, bind_args_as, paged};
use crate::domain::audit::ObjectType;
use crate::domain::citizen::{Channel, ReportState, masked};
use crate::domain::problem::State as ProblemState;
use serde::Serialize;
use sqlx::AnyConnection;

#[derive(Debug, Clone, sqlx::FromRow, Serialize, utoipa::ToSchema)]
pub struct Report {
    pub id: String,
    /// The receipt code the reporter keeps (受理编号), e.g. R202612030001
    pub code: String,
    #[serde(skip)]
    pub token_hash: String,
    pub channel: Channel,
    pub api_key_id: Option<String>,
    /// The category's code (the standard's 大类+小类, e.g. 0103)
    pub service_code: String,
    pub category: String,
    pub description: String,
    pub address: String,
    pub lng: f64,
    pub lat: f64,
    pub community_id: Option<String>,
    pub grid_id: Option<String>,
    /// The nearest point when it was sent (the triage's suggestion)
    pub point_id: Option<String>,
    #[serde(skip)]
    pub reporter_name: String,
    #[serde(skip)]
    pub reporter_phone: String,
    #[serde(skip)]
    pub reporter_email: String,
    #[serde(skip)]
    pub client: String,
    pub state: ReportState,
    /// Why it was not filed, or what the office told the public
    pub public_note: String,
    pub problem_id: Option<String>,
    /// "我也遇到": residents who reported the same
    pub supporters: i64,
    pub triaged_by: Option<String>,
    pub triaged_at: Option<i64>,
    pub asked_at: Option<i64>,
    pub feedback_at: Option<i64>,
    /// The reporter's answer to "解决了吗": 1 yes, 0 no
    pub fixed: Option<i64>,
    /// 1 (非常不满意) … 5 (非常满意)
    pub satisfaction: Option<i64>,
    pub feedback_note: String,
    pub created_at: i64,
    pub updated_at: i64,
    pub version: i64,
}

const COLS: &str = "id, code, token_hash, channel, api_key_id, service_code, category, description, address, lng, lat, \
     community_id, grid_id, point_id, reporter_name, reporter_phone, reporter_email, client, state, public_note, problem_id, \
     supporters, triaged_by, triaged_at, asked_at, feedback_at, fixed, satisfaction, feedback_note, created_at, updated_at, version";

crate::record! {
    Report in "reports" as ObjectType::Report,
    label |r| format!("{} {}", r.code, r.category),
    insert [id, code, token_hash, channel, api_key_id, service_code, category, description, address, lng, lat,
        community_id, grid_id, point_id, reporter_name, reporter_phone, reporter_email, client, state, public_note,
        problem_id, supporters, triaged_by, triaged_at, asked_at, feedback_at, fixed, satisfaction, feedback_note,
        created_at, updated_at, version],
    update [state, public_note, problem_id, point_id, triaged_by, triaged_at, asked_at, feedback_at, fixed,
        satisfaction, feedback_note, updated_at],
    // The audit log keeps what was reported and decided, never the reporter's contact.
    snapshot |r| serde_json::json!({
        "code": r.code, "category": r.category, "description": r.description, "address": r.address,
        "state": r.state, "public_note": r.public_note, "problem_id": r.problem_id,
        "reporter_phone": if r.reporter_phone.is_empty() { String::new() } else { masked(&r.reporter_phone) },
        "fixed": r.fixed, "satisfaction": r.satisfaction, "feedback_note": r.feedback_note,
    }),
}

pub async fn get(db: &Db, id: &str) -> Result<Option<Report>, sqlx::Error> {
    sqlx::query_as(&format!("SELECT {COLS} FROM reports WHERE id = $1")).bind(id).fetch_optional(&db.pool).await
}

pub async fn by_code(db: &Db, code: &str) -> Result<Option<Report>, sqlx::Error> {
    sqlx::query_as(&format!("SELECT {COLS} FROM reports WHERE code = $1")).bind(code).fetch_optional(&db.pool).await
}

pub async fn by_token_hash(db: &Db, hash: &str) -> Result<Option<Report>, sqlx::Error> {
    sqlx::query_as(&format!("SELECT {COLS} FROM reports WHERE token_hash = $1"))
        .bind(hash)
        .fetch_optional(&db.pool)
        .await
}

pub async fn by_problem(db: &Db, problem_id: &str) -> Result<Option<Report>, sqlx::Error> {
    sqlx::query_as(&format!("SELECT {COLS} FROM reports WHERE problem_id = $1 ORDER BY created_at LIMIT 1"))
        .bind(problem_id)
        .fetch_optional(&db.pool)
        .await
}

/// Reports a client sent since a time (the hourly limit).
pub async fn sent_by(db: &Db, client: &str, since: i64) -> Result<i64, sqlx::Error> {
    sent_by_in(&mut *db.pool.acquire().await?, client, since).await
}

/// `sent_by` as a write reads it.
pub async fn sent_by_in(conn: &mut sqlx::AnyConnection, client: &str, since: i64) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("SELECT COUNT(*) FROM reports WHERE client = $1 AND created_at >= $2")
        .bind(client)
        .bind(since)
        .fetch_one(conn)
        .await
}

/// Reports not voided inside a box around a position since a time, newest first (for
/// "附近已有人反映"; the caller measures the exact distance).
pub async fn around(db: &Db, (lng, lat): (f64, f64), meters: f64, since: i64) -> Result<Vec<PublicRow>, sqlx::Error> {
    let dlat = meters / 111_000.0;
    let dlng = meters / (111_000.0 * lat.to_radians().cos().max(0.1));
    let sql = format!(
        "{PUBLIC_SELECT} WHERE r.state <> 'voided' AND r.lat BETWEEN $1 AND $2 AND r.lng BETWEEN $3 AND $4 \
         AND r.created_at >= $5 ORDER BY r.created_at DESC LIMIT 50"
    );
    sqlx::query_as(&sql)
        .bind(lat - dlat)
        .bind(lat + dlat)
        .bind(lng - dlng)
        .bind(lng + dlng)
        .bind(since)
        .fetch_all(&db.pool)
        .await
}

/// Adds a supporter once per client; false when this client already supported the report.
pub async fn support(conn: &mut AnyConnection, report_id: &str, client: &str, now: i64) -> Result<bool, sqlx::Error> {
    let added = sqlx::query(
        "INSERT INTO report_supporters (report_id, client, created_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
    )
    .bind(report_id)
    .bind(client)
    .bind(now)
    .execute(&mut *conn)
    .await?
    .rows_affected()
        == 1;
    if added {
        sqlx::query("UPDATE reports SET supporters = supporters + 1 WHERE id = $1")
            .bind(report_id)
            .execute(conn)
            .await?;
    }
    Ok(added)
}

/// What anyone may read of a report: no name, phone, e-mail or client.
#[derive(Debug, Clone, sqlx::FromRow, Serialize, utoipa::ToSchema)]
pub struct PublicRow {
    pub id: String,
    pub code: String,
    pub service_code: String,
    pub category: String,
    pub description: String,
    pub address: String,
    pub lng: f64,
    pub lat: f64,
    pub community_id: Option<String>,
    pub community_name: Option<String>,
    pub street_name: Option<String>,
    pub state: ReportState,
    pub public_note: String,
    pub supporters: i64,
    pub problem_id: Option<String>,
    pub problem_state: Option<ProblemState>,
    pub unit_name: Option<String>,
    pub fix_note: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
    pub closed_at: Option<i64>,
    pub deadline_at: Option<i64>,
}

impl PublicRow {
    /// The row as anyone may read it: phone and ID numbers and e-mail addresses typed into the
    /// free text masked.
    pub fn for_public(mut self) -> PublicRow {
        use crate::domain::citizen::mask_personal;
        self.description = mask_personal(&self.description);
        self.address = mask_personal(&self.address);
        self.public_note = mask_personal(&self.public_note);
        self.fix_note = self.fix_note.as_deref().map(mask_personal);
        self
    }
}

const PUBLIC_SELECT: &str = "SELECT r.id, r.code, r.service_code, r.category, r.description, r.address, r.lng, r.lat, \
     r.community_id, c.name AS community_name, s.name AS street_name, r.state, r.public_note, r.supporters, r.problem_id, \
     q.state AS problem_state, u.name AS unit_name, q.fix_note, r.created_at, r.updated_at, q.closed_at, q.deadline_at \
     FROM reports r LEFT JOIN problems q ON q.id = r.problem_id LEFT JOIN units u ON u.id = q.unit_id \
     LEFT JOIN org_nodes c ON c.id = r.community_id LEFT JOIN org_nodes s ON s.id = c.parent_id";

/// Which reports a list shows.
#[derive(Debug, Clone, Default)]
pub struct ReportFilter {
    pub state: Option<ReportState>,
    /// Communities (a street's, a grid worker's)
    pub community_ids: Option<Vec<String>>,
    pub service_code: Option<String>,
    /// A category of the standard (环境卫生): its items' reports
    pub group: Option<String>,
    pub keyword: Option<String>,
    /// Closed problems only / open only (public lists)
    pub closed: Option<bool>,
    pub since: Option<i64>,
    pub until: Option<i64>,
}

fn filter_sql(db: &Db, f: &ReportFilter) -> Where {
    let mut w = Where::default();
    w.eq("r.state", f.state.map(|s| s.as_str()));
    w.within("r.community_id", f.community_ids.as_deref());
    w.eq("r.service_code", f.service_code.as_deref());
    if let Some(g) = &f.group {
        let p = w.text(format!("{}·%", g.replace(['%', '_', '\\'], "")));
        w.and(format!("r.category LIKE {p}"));
    }
    w.contains(db, &["r.code", "r.category", "r.description", "r.address"], f.keyword.as_deref());
    match f.closed {
        Some(true) => w.and("q.state = 'closed'".into()),
        Some(false) => w.and("(q.state IS NULL OR q.state <> 'closed')".into()),
        None => {}
    }
    w.range("r.created_at", f.since, f.until);
    w
}

/// A page of reports as the public (and the triage list) sees them, newest first.
pub async fn page(db: &Db, f: &ReportFilter, page: PageReq) -> Result<(Vec<PublicRow>, i64), sqlx::Error> {
    let w = filter_sql(db, f);
    let from = "reports r LEFT JOIN problems q ON q.id = r.problem_id";
    paged(db, PUBLIC_SELECT, from, &w, "r.created_at DESC, r.id", page).await
}

/// The newest reports of a filter, at most `limit` (maps and feeds).
pub async fn newest(db: &Db, f: &ReportFilter, limit: i64) -> Result<Vec<PublicRow>, sqlx::Error> {
    let w = filter_sql(db, f);
    let sql = format!("{PUBLIC_SELECT}{} ORDER BY r.updated_at DESC, r.id LIMIT {}", w.sql(), limit.clamp(1, 1000));
    bind_args_as(sqlx::query_as::<_, PublicRow>(&sql), &w.args).fetch_all(&db.pool).await
}

pub async fn public_row(db: &Db, id: &str) -> Result<Option<PublicRow>, sqlx::Error> {
    sqlx::query_as(&format!("{PUBLIC_SELECT} WHERE r.id = $1")).bind(id).fetch_optional(&db.pool).await
}

/// Reports by Open311's filters: ids, category, created between, open/closed; newest first.
pub async fn open311_page(
    db: &Db,
    ids: Option<&[String]>,
    service_code: Option<&str>,
    (start, end): (Option<i64>, Option<i64>),
    status: Option<&str>,
    page: PageReq,
) -> Result<Vec<PublicRow>, sqlx::Error> {
    let mut w = Where::default();
    w.within("r.code", ids);
    w.eq("r.service_code", service_code);
    w.range("r.created_at", start, end);
    match status {
        Some("closed") => w.and("(r.state = 'voided' OR q.state IN ('closed', 'voided'))".into()),
        Some(_) => w.and("r.state <> 'voided' AND (q.state IS NULL OR q.state NOT IN ('closed', 'voided'))".into()),
        None => {}
    }
    let sql = format!("{PUBLIC_SELECT}{} ORDER BY r.created_at DESC, r.id{}", w.sql(), page.limit_offset());
    bind_args_as(sqlx::query_as::<_, PublicRow>(&sql), &w.args).fetch_all(&db.pool).await
}

/// Reports whose problem was closed and whose reporter has not been asked yet (a bounded batch).
pub async fn to_ask(db: &Db) -> Result<Vec<Report>, sqlx::Error> {
    let cols: String = COLS.split(", ").map(|c| format!("r.{}", c.trim())).collect::<Vec<_>>().join(", ");
    sqlx::query_as(&format!(
        "SELECT {cols} FROM reports r JOIN problems q ON q.id = r.problem_id \
         WHERE q.state = 'closed' AND r.asked_at IS NULL AND r.feedback_at IS NULL ORDER BY q.closed_at LIMIT 200"
    ))
    .fetch_all(&db.pool)
    .await
}

/// Marks a report asked; false when another instance marked it first.
pub async fn mark_asked(conn: &mut AnyConnection, id: &str, now: i64) -> Result<bool, sqlx::Error> {
    Ok(sqlx::query("UPDATE reports SET asked_at = $1 WHERE id = $2 AND asked_at IS NULL")
        .bind(now)
        .bind(id)
        .execute(conn)
        .await?
        .rows_affected()
        == 1)
}

/// Counts of reports waiting for triage, per community (for the start pages and the menu).
pub async fn waiting(db: &Db, community_ids: Option<&[String]>) -> Result<i64, sqlx::Error> {
    let mut w = Where::default();
    w.eq("r.state", Some("received"));
    w.within("r.community_id", community_ids);
    super::count(db, "reports r", &w).await
}

// --- Open311 keys -------------------------------------------------------------------------

#[derive(Debug, Clone, sqlx::FromRow, Serialize, utoipa::ToSchema)]
pub struct ApiKey {
    pub id: String,
    pub name: String,
    /// The first characters of the key, to recognise it
    pub prefix: String,
    #[serde(skip)]
    pub key_hash: String,
    pub created_at: i64,
    pub created_by: Option<String>,
    pub revoked_at: Option<i64>,
    pub last_used_at: Option<i64>,
    pub requests: i64,
}

crate::record! {
    ApiKey in "open311_keys" as ObjectType::ApiKey,
    label |k| format!("{}（{}…）", k.name, k.prefix),
    insert [id, name, prefix, key_hash, created_at, created_by, revoked_at, last_used_at, requests],
}

const KEY_COLS: &str = "id, name, prefix, key_hash, created_at, created_by, revoked_at, last_used_at, requests";

pub async fn keys(db: &Db) -> Result<Vec<ApiKey>, sqlx::Error> {
    sqlx::query_as(&format!("SELECT {KEY_COLS} FROM open311_keys ORDER BY created_at DESC")).fetch_all(&db.pool).await
}

pub async fn key(db: &Db, id: &str) -> Result<Option<ApiKey>, sqlx::Error> {
    sqlx::query_as(&format!("SELECT {KEY_COLS} FROM open311_keys WHERE id = $1"))
        .bind(id)
        .fetch_optional(&db.pool)
        .await
}

pub async fn key_by_hash(db: &Db, hash: &str) -> Result<Option<ApiKey>, sqlx::Error> {
    sqlx::query_as(&format!("SELECT {KEY_COLS} FROM open311_keys WHERE key_hash = $1"))
        .bind(hash)
        .fetch_optional(&db.pool)
        .await
}

pub async fn revoke_key(conn: &mut AnyConnection, id: &str, now: i64) -> Result<bool, sqlx::Error> {
    Ok(sqlx::query("UPDATE open311_keys SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
        .bind(now)
        .bind(id)
        .execute(conn)
        .await?
        .rows_affected()
        == 1)
}

pub async fn key_used(conn: &mut AnyConnection, id: &str, now: i64) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE open311_keys SET last_used_at = $1, requests = requests + 1 WHERE id = $2")
        .bind(now)
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

// --- Text messages ------------------------------------------------------------------------

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Sms {
    pub id: String,
    pub phone: String,
    pub body: String,
    pub attempts: i64,
}

pub async fn queue_sms(
    conn: &mut AnyConnection,
    (phone, body): (&str, &str),
    report_id: Option<&str>,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO sms_outbox (id, phone, body, report_id, state, attempts, next_at, created_at) \
         VALUES ($1, $2, $3, $4, 'pending', 0, $5, $5)",
    )
    .bind(crate::domain::ids::new_id())
    .bind(phone)
    .bind(body)
    .bind(report_id)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

/// Claims the next due message for a lease, right before it is sent: another instance sees it
/// again only when the lease ends without a result (the lease is far longer than one send).
pub async fn claim_sms(db: &Db, now: i64, lease_ms: i64) -> Result<Option<Sms>, sqlx::Error> {
    let due: Vec<Sms> = sqlx::query_as(
        "SELECT id, phone, body, attempts FROM sms_outbox WHERE state = 'pending' AND next_at <= $1 ORDER BY next_at LIMIT 8",
    )
    .bind(now)
    .fetch_all(&db.pool)
    .await?;
    for m in due {
        let won = sqlx::query(
            "UPDATE sms_outbox SET next_at = $1, attempts = attempts + 1 WHERE id = $2 AND state = 'pending' AND attempts = $3",
        )
        .bind(now + lease_ms)
        .bind(&m.id)
        .bind(m.attempts)
        .execute(&db.pool)
        .await?
        .rows_affected()
            == 1;
        if won {
            return Ok(Some(m));
        }
    }
    Ok(None)
}

pub async fn sms_done(db: &Db, id: &str, result: Result<i64, (String, Option<i64>)>) -> Result<(), sqlx::Error> {
    match result {
        Ok(at) => sqlx::query("UPDATE sms_outbox SET state = 'sent', sent_at = $1, error = '' WHERE id = $2")
            .bind(at)
            .bind(id),
        Err((error, Some(retry_at))) => sqlx::query("UPDATE sms_outbox SET next_at = $1, error = $2 WHERE id = $3")
            .bind(retry_at)
            .bind(error)
            .bind(id),
        Err((error, None)) => {
            sqlx::query("UPDATE sms_outbox SET state = 'failed', error = $1 WHERE id = $2").bind(error).bind(id)
        }
    }
    .execute(&db.pool)
    .await?;
    Ok(())
}

// --- Public problem lists (整改公示, 曝光台) ---------------------------------------------------

/// A problem as the public sees it: where, what, which unit, when; no people.
#[derive(Debug, Clone, sqlx::FromRow, Serialize, utoipa::ToSchema)]
pub struct PublicProblem {
    pub id: String,
    pub code: String,
    pub category: String,
    pub description: String,
    pub source: crate::domain::problem::Source,
    pub point_name: String,
    pub unit_name: String,
    pub community_name: Option<String>,
    pub street_name: Option<String>,
    pub found_at: i64,
    pub deadline_at: Option<i64>,
    pub closed_at: Option<i64>,
    pub fix_note: String,
    pub before_photo: Option<String>,
    pub after_photo: Option<String>,
}

/// Which problems a public list shows.
pub enum PublicKind {
    /// Closed, newest first, with their before and after photos
    Closed,
    /// Open past their deadline (曝光台), longest overdue first
    Overdue { now: i64 },
}

/// A public list counts at most this many (then "1000+"), and pages through them.
pub const PUBLIC_CAP: i64 = 1000;

const PUBLIC_SELECT_PROBLEMS: &str = "SELECT q.id, q.code, q.category, q.description, q.source, p.name AS point_name, \
     u.name AS unit_name, c.name AS community_name, s.name AS street_name, q.found_at, q.deadline_at, q.closed_at, q.fix_note, \
     (SELECT MIN(b.id) FROM photos b WHERE b.owner_type = 'problem' AND b.owner_id = q.id AND b.kind = 'before') AS before_photo, \
     (SELECT MAX(a.id) FROM photos a WHERE a.owner_type = 'problem' AND a.owner_id = q.id AND a.kind = 'after') AS after_photo \
     FROM problems q JOIN points p ON p.id = q.point_id JOIN units u ON u.id = q.unit_id \
     LEFT JOIN org_nodes c ON c.id = p.community_id LEFT JOIN org_nodes s ON s.id = c.parent_id";

/// The filters of a public list besides its kind.
fn public_where(w: &mut Where, community_ids: Option<&[String]>, category: Option<&str>) {
    w.within("p.community_id", community_ids);
    if let Some(c) = category {
        let pat = w.text(format!("{}%", c.replace(['%', '_', '\\'], "")));
        w.and(format!("q.category LIKE {pat}"));
    }
}

/// Rows of one indexed walk (closed_at descending, or one state's deadlines ascending), at most
/// `limit`, and how many there are up to the cap.
async fn public_walk(
    db: &Db,
    condition: (&str, Option<(&str, i64)>),
    filters: (Option<&[String]>, Option<&str>),
    order: &str,
    limit: i64,
) -> Result<(Vec<PublicProblem>, i64), sqlx::Error> {
    let mut w = Where::default();
    w.and(condition.0.to_string());
    if let Some((state, now)) = condition.1 {
        w.eq("q.state", Some(state));
        w.compare("q.deadline_at <", Some(now));
    }
    public_where(&mut w, filters.0, filters.1);
    let sql = format!("{PUBLIC_SELECT_PROBLEMS}{} ORDER BY {order} LIMIT {limit}", w.sql());
    let rows = bind_args_as(sqlx::query_as::<_, PublicProblem>(&sql), &w.args).fetch_all(&db.pool).await?;
    let join = if filters.0.is_some() { " JOIN points p ON p.id = q.point_id" } else { "" };
    let count =
        format!("SELECT COUNT(*) FROM (SELECT 1 FROM problems q{join}{} LIMIT {}) capped", w.sql(), PUBLIC_CAP + 1);
    Ok((rows, super::count_sql(db, &count, &w).await?))
}

/// A page of a public list and its total (capped at PUBLIC_CAP + 1: "1000+"). Each walk follows
/// an index in the list's order (closed_at; each open state's deadline), so a page costs the
/// same in a city of 10,000 problems or of 10 million.
pub async fn public_problems(
    db: &Db,
    kind: PublicKind,
    community_ids: Option<&[String]>,
    category: Option<&str>,
    page: PageReq,
) -> Result<(Vec<PublicProblem>, i64), sqlx::Error> {
    let offset = ((page.page - 1) * page.size).min(PUBLIC_CAP);
    let want = offset + page.size;
    let filters = (community_ids, category);
    match kind {
        PublicKind::Closed => {
            let (rows, total) =
                public_walk(db, ("q.closed_at IS NOT NULL", None), filters, "q.closed_at DESC, q.id", want).await?;
            Ok((rows.into_iter().skip(offset as usize).collect(), total))
        }
        PublicKind::Overdue { now } => {
            let (mut rows, mut total) = (Vec::new(), 0);
            for state in ["dispatched", "acknowledged", "submitted"] {
                let (r, n) = public_walk(
                    db,
                    ("q.deadline_at IS NOT NULL", Some((state, now))),
                    filters,
                    "q.deadline_at, q.id",
                    want,
                )
                .await?;
                rows.extend(r);
                total += n;
            }
            rows.sort_by(|a, b| a.deadline_at.cmp(&b.deadline_at).then_with(|| a.id.cmp(&b.id)));
            let rows = rows.into_iter().skip(offset as usize).take(page.size as usize).collect();
            Ok((rows, total.min(PUBLIC_CAP + 1)))
        }
    }
}

/// Whether a photo may be shown to the public: a verified report's, or a problem's that is on a
/// public list (dispatched onward, not voided).
pub async fn photo_is_public(db: &Db, photo_id: &str) -> Result<bool, sqlx::Error> {
    let n: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM photos ph WHERE ph.id = $1 AND ( \
           (ph.owner_type = 'report' AND EXISTS (SELECT 1 FROM reports r WHERE r.id = ph.owner_id AND r.state = 'verified')) \
        OR (ph.owner_type = 'problem' AND ph.kind IN ('before', 'after') AND EXISTS (SELECT 1 FROM problems q \
              WHERE q.id = ph.owner_id AND q.state IN ('dispatched', 'acknowledged', 'submitted', 'closed'))))",
    )
    .bind(photo_id)
    .fetch_one(&db.pool)
    .await?;
    Ok(n > 0)
}
