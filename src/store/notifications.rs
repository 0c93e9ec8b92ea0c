//! Inbox entries, unit webhooks, the delivery outbox and the once-only alert marks.

use super::Db;
use super::batch::Batch;
use crate::domain::audit::ObjectType;
use crate::domain::ids::new_id;
use crate::domain::notify::{DeliveryStatus, NotifyEvent, WebhookKind};
use serde::Serialize;
use sqlx::{AnyConnection, Arguments};

#[derive(Debug, Clone, sqlx::FromRow, Serialize, utoipa::ToSchema)]
pub struct Notification {
    pub id: String,
    pub user_id: String,
    pub problem_id: Option<String>,
    pub kind: NotifyEvent,
    pub title: String,
    pub body: String,
    pub link: String,
    pub created_at: i64,
    pub read_at: Option<i64>,
}

/// Whose inboxes a notification goes to.
#[derive(Debug, Clone, Copy)]
pub enum Inboxes<'a> {
    /// Every active unit user and point lead of the unit.
    Unit(&'a str),
    /// Every active administrator (the office decides).
    Office,
}

/// Puts a notification about a problem in each recipient's inbox, in one statement; each row's
/// id is this batch's id plus the user's.
pub async fn notify(
    conn: &mut AnyConnection,
    to: Inboxes<'_>,
    problem_id: &str,
    kind: NotifyEvent,
    message: (&str, &str),
    now: i64,
) -> Result<(), sqlx::Error> {
    let mut b = Batch::default();
    stage_notify(&mut b, to, problem_id, kind, message, now);
    b.run(conn).await
}

/// The same inbox entries, added to a batch of statements sent together.
pub fn stage_notify(
    b: &mut Batch<'_>,
    to: Inboxes<'_>,
    problem_id: &str,
    kind: NotifyEvent,
    (title, body): (&str, &str),
    now: i64,
) {
    let (sql, unit_id) = match to {
        Inboxes::Unit(unit_id) => (NOTIFY_UNIT, Some(unit_id.to_string())),
        Inboxes::Office => (NOTIFY_OFFICE, None),
    };
    let (problem_id, title, body) = (problem_id.to_string(), title.to_string(), body.to_string());
    b.push(sql, move |a| {
        a.add(new_id())?;
        a.add(format!("/problems/{problem_id}"))?;
        a.add(problem_id)?;
        a.add(kind)?;
        a.add(title)?;
        a.add(body)?;
        a.add(now)?;
        if let Some(unit_id) = unit_id {
            a.add(unit_id)?;
        }
        Ok(())
    });
}

/// One inbox entry per active user of the unit ($8) or of the office; `$2` is the link.
const NOTIFY_UNIT: &str = "INSERT INTO notifications (id, user_id, problem_id, kind, title, body, link, created_at) \
     SELECT $1 || '.' || id, id, $3, $4, $5, $6, $2, $7 FROM users WHERE active = 1 AND unit_id = $8 \
     AND role IN ('unit_user', 'point_lead')";
const NOTIFY_OFFICE: &str = "INSERT INTO notifications (id, user_id, problem_id, kind, title, body, link, created_at) \
     SELECT $1 || '.' || id, id, $3, $4, $5, $6, $2, $7 FROM users WHERE active = 1 AND role = 'admin'";

pub async fn inbox(db: &Db, user_id: &str) -> Result<Vec<Notification>, sqlx::Error> {
    sqlx::query_as::<_, Notification>(
        "SELECT id, user_id, problem_id, kind, title, body, link, created_at, read_at FROM notifications \
         WHERE user_id = $1 ORDER BY created_at DESC, id DESC LIMIT 200",
    )
    .bind(user_id)
    .fetch_all(&db.pool)
    .await
}

pub async fn unread(db: &Db, user_id: &str) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("SELECT COUNT(*) FROM notifications WHERE user_id = $1 AND read_at IS NULL")
        .bind(user_id)
        .fetch_one(&db.pool)
        .await
}

pub async fn mark_read(db: &Db, user_id: &str, now: i64) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE notifications SET read_at = $1 WHERE user_id = $2 AND read_at IS NULL")
        .bind(now)
        .bind(user_id)
        .execute(&db.pool)
        .await
        .map(|_| ())
}

#[derive(Debug, Clone, sqlx::FromRow, Serialize, utoipa::ToSchema)]
pub struct Webhook {
    pub id: String,
    pub unit_id: String,
    pub kind: WebhookKind,
    pub url: String,
    pub active: i64,
    pub created_at: i64,
    /// The signing secret (加签), never shown again once saved
    #[serde(skip)]
    pub secret: String,
}

crate::record! {
    Webhook in "webhooks" as ObjectType::Webhook,
    label |w| w.kind.label().to_string(),
    insert [id, unit_id, kind, url, active, created_at, secret],
}

pub async fn webhooks(db: &Db, unit_id: &str) -> Result<Vec<Webhook>, sqlx::Error> {
    sqlx::query_as::<_, Webhook>(
        "SELECT id, unit_id, kind, url, active, created_at, secret FROM webhooks WHERE unit_id = $1 ORDER BY created_at",
    )
    .bind(unit_id)
    .fetch_all(&db.pool)
    .await
}

pub async fn webhook(db: &Db, id: &str) -> Result<Option<Webhook>, sqlx::Error> {
    sqlx::query_as::<_, Webhook>(
        "SELECT id, unit_id, kind, url, active, created_at, secret FROM webhooks WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(&db.pool)
    .await
}

pub async fn deactivate_webhook(conn: &mut AnyConnection, id: &str) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE webhooks SET active = 0 WHERE id = $1").bind(id).execute(conn).await.map(|_| ())
}

/// Queues one message per active robot of the unit; a message already queued is not queued again.
pub async fn enqueue(
    conn: &mut AnyConnection,
    unit_id: &str,
    problem_id: &str,
    event: NotifyEvent,
    now: i64,
) -> Result<(), sqlx::Error> {
    let mut b = Batch::default();
    stage_enqueue(&mut b, unit_id, problem_id, event, now);
    b.run(conn).await
}

/// The same deliveries, added to a batch of statements sent together. The same event of a
/// problem happening again (a second failed re-check, a deadline moved on and passed again)
/// sends again once the first message is done; while it still waits, it is one message.
pub fn stage_enqueue(b: &mut Batch<'_>, unit_id: &str, problem_id: &str, event: NotifyEvent, now: i64) {
    let (unit_id, problem_id) = (unit_id.to_string(), problem_id.to_string());
    b.push(
        "INSERT INTO outbox (id, webhook_id, problem_id, event, payload, status, attempts, next_attempt_at, created_at) \
         SELECT $1 || '.' || id, id, $2, $3, '', 'pending', 0, $4, $4 FROM webhooks WHERE unit_id = $5 AND active = 1 \
         ON CONFLICT (webhook_id, problem_id, event) DO UPDATE SET status = 'pending', attempts = 0, \
         next_attempt_at = excluded.next_attempt_at, claimed_until = NULL, last_error = '', \
         created_at = excluded.created_at, sent_at = NULL WHERE outbox.status <> 'pending'",
        move |a| {
            a.add(new_id())?;
            a.add(problem_id)?;
            a.add(event)?;
            a.add(now)?;
            a.add(unit_id)?;
            Ok(())
        },
    );
}

/// Marks an alert as raised at `now`; false when some instance already raised it at or after
/// `since` (for the deadline as it is now; one raised before is for an earlier deadline).
pub async fn mark_alert(
    conn: &mut AnyConnection,
    problem_id: &str,
    event: NotifyEvent,
    (now, since): (i64, i64),
) -> Result<bool, sqlx::Error> {
    let r = sqlx::query(
        "INSERT INTO problem_alerts (problem_id, event, at) VALUES ($1, $2, $3) \
         ON CONFLICT (problem_id, event) DO UPDATE SET at = excluded.at WHERE problem_alerts.at < $4",
    )
    .bind(problem_id)
    .bind(event)
    .bind(now)
    .bind(since)
    .execute(conn)
    .await?;
    Ok(r.rows_affected() == 1)
}

#[derive(Debug, Clone, sqlx::FromRow, Serialize, utoipa::ToSchema)]
pub struct Delivery {
    pub id: String,
    pub webhook_id: String,
    pub problem_id: String,
    pub event: NotifyEvent,
    pub status: DeliveryStatus,
    pub attempts: i64,
    pub next_attempt_at: i64,
    pub last_error: String,
    pub created_at: i64,
    pub sent_at: Option<i64>,
}

const DCOLS: &str =
    "id, webhook_id, problem_id, event, status, attempts, next_attempt_at, last_error, created_at, sent_at";

pub async fn due(db: &Db, now: i64, limit: i64) -> Result<Vec<Delivery>, sqlx::Error> {
    sqlx::query_as::<_, Delivery>(&format!(
        "SELECT {DCOLS} FROM outbox WHERE status = 'pending' AND next_attempt_at <= $1 \
         AND (claimed_until IS NULL OR claimed_until < $1) ORDER BY next_attempt_at LIMIT {limit}"
    ))
    .bind(now)
    .fetch_all(&db.pool)
    .await
}

/// Takes a delivery for `lease_ms`; false when another instance holds it.
pub async fn claim(db: &Db, id: &str, now: i64, lease_ms: i64) -> Result<bool, sqlx::Error> {
    let r = sqlx::query(
        "UPDATE outbox SET claimed_until = $1 WHERE id = $2 AND status = 'pending' AND (claimed_until IS NULL OR claimed_until < $3)",
    )
    .bind(now + lease_ms)
    .bind(id)
    .bind(now)
    .execute(&db.pool)
    .await?;
    Ok(r.rows_affected() == 1)
}

pub async fn finish(
    db: &Db,
    id: &str,
    payload: &str,
    outcome: Result<(), String>,
    now: i64,
    next: Option<i64>,
) -> Result<(), sqlx::Error> {
    match outcome {
        Ok(()) => sqlx::query("UPDATE outbox SET status = 'sent', sent_at = $1, attempts = attempts + 1, payload = $2, claimed_until = NULL, last_error = '' WHERE id = $3")
            .bind(now)
            .bind(payload)
            .bind(id)
            .execute(&db.pool)
            .await
            .map(|_| ()),
        Err(e) => {
            let status = if next.is_some() { "pending" } else { "failed" };
            sqlx::query("UPDATE outbox SET status = $1, attempts = attempts + 1, next_attempt_at = $2, last_error = $3, payload = $4, claimed_until = NULL WHERE id = $5")
                .bind(status)
                .bind(next.unwrap_or(now))
                .bind(e)
                .bind(payload)
                .bind(id)
                .execute(&db.pool)
                .await
                .map(|_| ())
        }
    }
}

/// Deliveries that were given up on, newest first: (unit name, robot kind, last error, when),
/// and how many there are.
pub async fn failed_deliveries(
    db: &Db,
    limit: i64,
) -> Result<(Vec<(String, WebhookKind, String, i64)>, i64), sqlx::Error> {
    let rows = sqlx::query_as(
        "SELECT u.name, w.kind, o.last_error, o.created_at FROM outbox o JOIN webhooks w ON w.id = o.webhook_id \
         JOIN units u ON u.id = w.unit_id WHERE o.status = 'failed' ORDER BY o.created_at DESC LIMIT $1",
    )
    .bind(limit)
    .fetch_all(&db.pool)
    .await?;
    let total = sqlx::query_scalar("SELECT COUNT(*) FROM outbox WHERE status = 'failed'").fetch_one(&db.pool).await?;
    Ok((rows, total))
}

/// A delivery as the office reads it: which unit's robot, which problem.
#[derive(Debug, Clone, sqlx::FromRow, Serialize, utoipa::ToSchema)]
pub struct DeliveryRow {
    #[sqlx(flatten)]
    #[serde(flatten)]
    pub delivery: Delivery,
    pub unit_id: String,
    pub unit_name: String,
    /// The robot's kind (wecom or dingtalk)
    pub robot_kind: WebhookKind,
    /// The robot's address with its key shortened (https://oapi.dingtalk.com/…a1b2)
    #[sqlx(rename = "robot_url")]
    pub robot: String,
    pub problem_code: Option<String>,
}

/// A robot address as shown: its host and the last four characters, never the whole key.
pub fn masked_url(url: &str) -> String {
    let host_end = url.find("://").map(|s| s + 3).and_then(|s| url[s..].find('/').map(|e| s + e)).unwrap_or(url.len());
    let tail: String = url.chars().rev().take(4).collect::<Vec<_>>().into_iter().rev().collect();
    if url.len() <= host_end + 4 { url.to_string() } else { format!("{}/…{tail}", &url[..host_end]) }
}

pub async fn deliveries(db: &Db, status: Option<DeliveryStatus>) -> Result<Vec<DeliveryRow>, sqlx::Error> {
    let cols = DCOLS.split(", ").map(|c| format!("o.{c}")).collect::<Vec<_>>().join(", ");
    let sql = format!(
        "SELECT {cols}, w.unit_id, u.name AS unit_name, w.kind AS robot_kind, w.url AS robot_url, q.code AS problem_code \
         FROM outbox o JOIN webhooks w ON w.id = o.webhook_id JOIN units u ON u.id = w.unit_id \
         LEFT JOIN problems q ON q.id = o.problem_id{} ORDER BY o.created_at DESC LIMIT 500",
        if status.is_some() { " WHERE o.status = $1" } else { "" }
    );
    let mut q = sqlx::query_as::<_, DeliveryRow>(&sql);
    if let Some(s) = status {
        q = q.bind(s);
    }
    let mut rows = q.fetch_all(&db.pool).await?;
    for r in &mut rows {
        r.robot = masked_url(&r.robot);
    }
    Ok(rows)
}

pub async fn retry(db: &Db, id: &str, now: i64) -> Result<bool, sqlx::Error> {
    let r = sqlx::query(
        "UPDATE outbox SET status = 'pending', next_attempt_at = $1, attempts = 0 WHERE id = $2 AND status = 'failed'",
    )
    .bind(now)
    .bind(id)
    .execute(&db.pool)
    .await?;
    Ok(r.rows_affected() == 1)
}
