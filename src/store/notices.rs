//! Notices (通报) and work briefs (工作简报), and who confirmed reading them.

use super::Db;
use crate::domain::audit::ObjectType;
use crate::domain::code::Code;
use crate::domain::notice::NoticeKind;
use crate::domain::score::Class;
use crate::domain::standard::Publication;
use serde::Serialize;
use sqlx::AnyConnection;

#[derive(Debug, Clone, sqlx::FromRow, Serialize, utoipa::ToSchema)]
pub struct Notice {
    pub id: String,
    /// weekly (周通报) or daily (工作日报)
    pub kind: NoticeKind,
    pub class: Class,
    pub period_start: i64,
    pub period_end: i64,
    /// Document number, e.g. 〔2026〕第12期
    pub number: String,
    pub title: String,
    /// The text the office edits before publishing (paragraphs separated by blank lines)
    pub body: String,
    /// The figures and tables as generated (JSON, see NoticeData), frozen at generation
    pub data: String,
    /// draft or published
    pub status: Publication,
    pub created_by: Option<String>,
    pub created_at: i64,
    pub published_at: Option<i64>,
    pub updated_at: i64,
    pub version: i64,
    /// The notice this one corrects (更正), when it is a correction
    pub corrects_id: Option<String>,
}

const COLS: &str = "id, kind, class, period_start, period_end, number, title, body, data, status, created_by, created_at, \
     published_at, updated_at, version, corrects_id";

crate::record! {
    Notice in "notices" as ObjectType::Notice,
    label |n| format!("{} {}", n.number, n.title),
    insert [id, kind, class, period_start, period_end, number, title, body, data, status, created_by, created_at,
        published_at, updated_at, version, corrects_id],
    update [title, body, data, status, published_at, updated_at],
    unique ("", Code::OverlappingPeriod, "该周期的通报已由他人生成，周期不能重叠"),
    snapshot |n| serde_json::json!({"title": n.title, "body": n.body, "status": n.status}),
    persistent = false,
}

pub async fn get(db: &Db, id: &str) -> Result<Option<Notice>, sqlx::Error> {
    super::record::find(db, id).await
}

/// Which notices a list shows.
#[derive(Debug, Clone, Default)]
pub struct NoticeFilter {
    pub kind: Option<NoticeKind>,
    pub class: Option<Class>,
    pub status: Option<Publication>,
    /// Periods starting in [from, to)
    pub from: Option<i64>,
    pub to: Option<i64>,
    /// The unit whose confirmation `own_read_at` reports
    pub reader: Option<String>,
    /// Only notices the reader's unit has not confirmed
    pub unread: bool,
}

/// A line of the notice list: the notice without its text, with how many units confirmed it
/// and when the caller's unit did.
#[derive(Debug, Clone, sqlx::FromRow, Serialize, utoipa::ToSchema)]
pub struct NoticeRow {
    pub id: String,
    /// weekly or daily
    pub kind: NoticeKind,
    pub class: Class,
    pub period_start: i64,
    pub period_end: i64,
    pub number: String,
    pub title: String,
    /// draft or published
    pub status: Publication,
    pub published_at: Option<i64>,
    /// Units that confirmed reading
    pub reads: i64,
    /// Units asked to confirm (every unit)
    pub readers: i64,
    /// When the caller's unit confirmed (unit accounts only)
    pub own_read_at: Option<i64>,
    pub version: i64,
}

/// Notices newest period first, filtered, one page, and the total.
pub async fn list(db: &Db, f: &NoticeFilter, page: super::PageReq) -> Result<(Vec<NoticeRow>, i64), sqlx::Error> {
    let mut w = super::Where::default();
    w.eq("n.kind", f.kind.map(NoticeKind::as_str));
    w.eq("n.class", f.class.map(Class::as_str));
    w.eq("n.status", f.status.map(Publication::as_str));
    w.range("n.period_start", f.from, f.to);
    let own_of =
        |p: &str| format!("(SELECT r.read_at FROM notice_reads r WHERE r.notice_id = n.id AND r.unit_id = {p})");
    let mut own = "CAST(NULL AS BIGINT)".to_string();
    if let Some(r) = &f.reader
        && f.unread
    {
        let p = w.text(r);
        own = own_of(&p);
        w.and(format!("{own} IS NULL"));
    }
    let total = super::count(db, "notices n", &w).await?;
    let mut args = w.args.clone();
    if let Some(r) = &f.reader
        && !f.unread
    {
        args.push(super::Arg::Text(r.clone()));
        own = own_of(&format!("${}", args.len()));
    }
    let sql = format!(
        "SELECT n.id, n.kind, n.class, n.period_start, n.period_end, n.number, n.title, n.status, n.published_at, \
         (SELECT COUNT(*) FROM notice_reads r WHERE r.notice_id = n.id) AS reads, \
         (SELECT COUNT(*) FROM units) AS readers, {own} AS own_read_at, n.version \
         FROM notices n{} ORDER BY n.period_start DESC, n.created_at DESC{}",
        w.sql(),
        page.limit_offset()
    );
    let rows = super::bind_args_as(sqlx::query_as::<_, NoticeRow>(&sql), &args).fetch_all(&db.pool).await?;
    Ok((rows, total))
}

/// Notices of a kind and class whose period overlaps [from, to).
pub async fn overlapping(
    db: &Db,
    kind: NoticeKind,
    class: Class,
    from: i64,
    to: i64,
) -> Result<Vec<(String, Publication)>, sqlx::Error> {
    // Number and status only: a weekly notice's figures are about 1 MB.
    sqlx::query_as(
        "SELECT number, status FROM notices WHERE kind = $1 AND class = $2 AND period_start < $4 AND period_end > $3 \
         AND corrects_id IS NULL",
    )
    .bind(kind)
    .bind(class)
    .bind(from)
    .bind(to)
    .fetch_all(&db.pool)
    .await
}

/// Records a unit's confirmation once; false when the unit had already confirmed.
pub async fn confirm(
    conn: &mut AnyConnection,
    notice: &str,
    unit: &str,
    user: (&str, &str),
    at: i64,
) -> Result<bool, sqlx::Error> {
    let r = sqlx::query(
        "INSERT INTO notice_reads (notice_id, unit_id, user_id, user_name, read_at) VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (notice_id, unit_id) DO NOTHING",
    )
    .bind(notice)
    .bind(unit)
    .bind(user.0)
    .bind(user.1)
    .bind(at)
    .execute(conn)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// Every unit with its confirmation of a notice (None: not yet read).
#[derive(Debug, Clone, sqlx::FromRow, Serialize, utoipa::ToSchema)]
pub struct ReadStatus {
    pub unit_id: String,
    pub unit_name: String,
    pub user_name: Option<String>,
    pub read_at: Option<i64>,
}

pub async fn reads(db: &Db, notice: &str) -> Result<Vec<ReadStatus>, sqlx::Error> {
    sqlx::query_as(
        "SELECT u.id AS unit_id, u.name AS unit_name, r.user_name, r.read_at FROM units u \
         LEFT JOIN notice_reads r ON r.unit_id = u.id AND r.notice_id = $1 ORDER BY r.read_at IS NULL DESC, u.name",
    )
    .bind(notice)
    .fetch_all(&db.pool)
    .await
}

/// The corrections of a notice, oldest first.
/// How many corrections a notice has, as the caller's write sees it.
pub async fn correction_count(conn: &mut sqlx::AnyConnection, id: &str) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("SELECT COUNT(*) FROM notices WHERE corrects_id = $1").bind(id).fetch_one(conn).await
}

pub async fn corrections(db: &Db, id: &str) -> Result<Vec<Notice>, sqlx::Error> {
    sqlx::query_as::<_, Notice>(&format!("SELECT {COLS} FROM notices WHERE corrects_id = $1 ORDER BY created_at, id"))
        .bind(id)
        .fetch_all(&db.pool)
        .await
}
