//! Background jobs, safe on several instances at once: reminders and overdue alerts are raised
//! once per problem (a unique mark decides who raises them), and each webhook delivery is claimed
//! by one instance for a lease before it is sent.

use crate::config::Config;
use crate::domain::notify::{NotifyEvent, WebhookKind};
use crate::domain::photo::{PhotoKind, PhotoOwner};
use crate::domain::time::{fmt_local, now_ms};
use crate::store::notifications::{self as store, Delivery};
use crate::store::{Db, photos, points, problems};
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;

/// Draft photos kept for a filing sent back as a possible duplicate are dropped after a day.
const DRAFTS_KEPT: Duration = Duration::from_secs(24 * 3600);

/// Closed weeks rebuilt per round at most (each is a week's scoring from the records: about a
/// second for 10,000 units at ten million problems), so a rule change re-warms over minutes
/// without holding the jobs up.
const WEEKS_PER_ROUND: usize = 8;

/// Past days whose KPI counts are rebuilt per round at most (a day's counts are computed inside
/// one write: about 30 ms at three million problems on SQLite, a week's worth per round).
const KPI_DAYS_PER_ROUND: usize = 7;

pub fn spawn(
    db: Db,
    config: Arc<Config>,
    base_url: String,
    storage: crate::media::storage::Storage,
    metrics: Arc<crate::web::metrics::Metrics>,
) {
    tokio::spawn(async move {
        let client = crate::service::outbound::client(&config.webhook_allow_hosts);
        let mut tick = tokio::time::interval(Duration::from_millis(config.jobs_interval_ms.max(50)));
        let mut pruned: Option<std::time::Instant> = None;
        let mut kept_at = std::time::Instant::now();
        loop {
            tick.tick().await;
            metrics.job_rounds.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            if let Err(e) = run_once(&db, &config, &client, &base_url).await {
                metrics.job_failures.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                tracing::warn!(error = %e, "background jobs failed; retrying next round");
            }
            let keep_every = Duration::from_millis(config.keep_weeks_interval_ms);
            if !keep_every.is_zero() && kept_at.elapsed() >= keep_every {
                kept_at = std::time::Instant::now();
                match crate::service::scoring::keep_weeks(&db, now_ms(), WEEKS_PER_ROUND).await {
                    Ok(0) => {}
                    Ok(n) => tracing::info!(weeks = n, "kept figures of closed weeks rebuilt"),
                    Err(e) => tracing::warn!(error = %e, "rebuilding kept weeks failed"),
                }
                match crate::service::kpi::keep_recent(&db, now_ms(), KPI_DAYS_PER_ROUND).await {
                    Ok(0) => {}
                    Ok(n) => tracing::info!(blocks = n, "kept KPI days, weeks and months rebuilt"),
                    Err(e) => tracing::warn!(error = %e, "rebuilding kept KPI days failed"),
                }
            }
            if pruned.is_none_or(|t| t.elapsed() > Duration::from_secs(3600)) {
                pruned = Some(std::time::Instant::now());
                match db.refresh_statistics().await {
                    Ok(tables) if tables.is_empty() => {}
                    Ok(tables) => tracing::info!(?tables, "planner's statistics taken again"),
                    Err(e) => tracing::warn!(error = %e, "refreshing the planner's statistics failed"),
                }
                match storage.prune("drafts", DRAFTS_KEPT).await {
                    Ok(0) => {}
                    Ok(n) => tracing::info!(files = n, "abandoned draft photos removed"),
                    Err(e) => tracing::warn!(error = %e, "pruning draft photos failed"),
                }
            }
        }
    });
}

pub async fn run_once(db: &Db, config: &Config, client: &reqwest::Client, base_url: &str) -> anyhow::Result<()> {
    problems::index_pending(db).await?;
    // A point that cannot be followed now is tried again next round; the other jobs go on.
    if let Err(e) = problems::follow_marked_points(db).await {
        tracing::warn!(error = %e, "bringing problems in line with their changed point failed");
    }
    db.checkpoint().await?;
    raise_alerts(db, config).await?;
    // Reporters of closed problems are asked "解决了吗？满意吗？" (text message when configured).
    crate::service::reports::ask_reporters(db, config, base_url).await?;
    crate::service::reports::send_sms(db, config, client).await?;
    deliver(db, config, client, base_url).await
}

/// Reminders before deadlines and alerts after them, each once per deadline: a deadline moved
/// on (an extension, a rework) is reminded of and alerted again.
async fn raise_alerts(db: &Db, config: &Config) -> anyhow::Result<()> {
    let now = now_ms();
    let window = config.reminder_minutes * 60_000;
    // Only problems that lack the alert they are due for since their deadline was what it is
    // (a reminder raised within the window before it, an alert after it), a bounded batch.
    let rows: Vec<(String, String, String, i64)> = sqlx::query_as(
        "SELECT q.id, q.unit_id, q.category, q.deadline_at FROM problems q WHERE q.state IN ('dispatched', 'acknowledged') \
         AND q.deadline_at IS NOT NULL AND q.deadline_at < $1 \
         AND NOT EXISTS (SELECT 1 FROM problem_alerts a WHERE a.problem_id = q.id \
             AND a.event = CASE WHEN q.deadline_at < $2 THEN 'overdue' ELSE 'reminder' END \
             AND a.at >= CASE WHEN q.deadline_at < $2 THEN q.deadline_at ELSE q.deadline_at - $3 END) \
         ORDER BY q.deadline_at LIMIT 500",
    )
    .bind(now + window)
    .bind(now)
    .bind(window)
    .fetch_all(&db.pool)
    .await?;
    for (id, unit, category, deadline) in rows {
        let (event, title, since) = if deadline < now {
            (NotifyEvent::Overdue, format!("问题已逾期：{category}"), deadline)
        } else {
            (NotifyEvent::Reminder, format!("即将到期：{category}"), deadline - window)
        };
        let mut tx = db.begin().await?;
        if store::mark_alert(&mut tx, &id, event, (now, since)).await? {
            let body = format!("整改期限 {}", fmt_local(deadline));
            store::notify(&mut tx, store::Inboxes::Unit(&unit), &id, event, (&title, &body), now).await?;
            store::enqueue(&mut tx, &unit, &id, event, now).await?;
        }
        tx.commit().await?;
    }
    Ok(())
}

/// The message for a robot, @-mentioning the point's lead by phone so that the phone rings:
/// DingTalk takes markdown with `at.atMobiles` (the numbers also written in the text); WeCom
/// mentions by phone only in text messages, so a message with someone to ring is sent as text.
async fn payload(db: &Db, d: &Delivery, kind: WebhookKind, base_url: &str) -> anyhow::Result<serde_json::Value> {
    let p = problems::get(db, &d.problem_id).await?.ok_or_else(|| anyhow::anyhow!("problem gone"))?;
    let point_row = points::get(db, &p.point_id).await?;
    let mobiles: Vec<String> =
        point_row.as_ref().and_then(|x| crate::domain::citizen::mobile(&x.lead_phone)).into_iter().collect();
    let point = point_row.map(|x| x.name).unwrap_or_default();
    let title = d.event.label();
    let photo = photos::of(db, PhotoOwner::Problem, &p.id).await?.into_iter().find(|ph| ph.kind == PhotoKind::Before);
    let mut text = format!(
        "### 【创城通】{title}\n> 点位：{point}\n> 问题：{}（{}）\n> 负责人：{}\n> 整改期限：{}\n",
        p.category,
        p.description,
        if p.lead_name.is_empty() { "未指定" } else { &p.lead_name },
        p.deadline_at.map(fmt_local).unwrap_or_else(|| "待立案".into())
    );
    if let Some(ph) = photo {
        text.push_str(&format!("> [现场照片]({base_url}/photos/{})\n", ph.id));
    }
    text.push_str(&format!("\n[打开问题并签收]({base_url}/problems/{})", p.id));
    Ok(match kind {
        WebhookKind::Dingtalk => {
            for m in &mobiles {
                text.push_str(&format!("\n\n@{m}"));
            }
            json!({"msgtype": "markdown", "markdown": {"title": title, "text": text},
                "at": {"atMobiles": mobiles, "isAtAll": false}})
        }
        _ if !mobiles.is_empty() => {
            let plain = text
                .replace("### ", "")
                .replace("> ", "")
                .replace("[打开问题并签收](", "打开问题并签收：")
                .replace("[现场照片](", "现场照片：")
                .replace(')', "");
            json!({"msgtype": "text", "text": {"content": plain, "mentioned_mobile_list": mobiles}})
        }
        _ => json!({"msgtype": "markdown", "markdown": {"content": text}}),
    })
}

/// A DingTalk robot with 加签: the address carries the time and the HMAC-SHA256 of
/// "time\nsecret" under the secret, base64 and URL-encoded.
pub fn signed_url(url: &str, secret: &str, now_ms: i64) -> String {
    use base64::Engine;
    use hmac::{Hmac, Mac};
    if secret.is_empty() {
        return url.to_string();
    }
    let Ok(mut mac) = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()) else { return url.to_string() };
    mac.update(format!("{now_ms}\n{secret}").as_bytes());
    let sign = base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}timestamp={now_ms}&sign={}", crate::web::auth::urlencode(&sign).replace('/', "%2F"))
}

async fn deliver(db: &Db, config: &Config, client: &reqwest::Client, base_url: &str) -> anyhow::Result<()> {
    for d in store::due(db, now_ms(), 50).await? {
        if !store::claim(db, &d.id, now_ms(), 60_000).await? {
            continue;
        }
        let Some(hook) = store::webhook(db, &d.webhook_id).await? else { continue };
        let body = payload(db, &d, hook.kind, base_url).await?;
        let text = body.to_string();
        let refused = crate::service::outbound::literal_refused(&hook.url, &config.webhook_allow_hosts);
        let target = signed_url(&hook.url, &hook.secret, now_ms());
        let sent = if refused { None } else { Some(client.post(&target).json(&body).send().await) };
        let outcome = match sent {
            None => Err("机器人地址指向内网或本机地址，未发送".to_string()),
            Some(Ok(r)) if r.status().is_success() => {
                // Both robots answer 200 with {"errcode": 0} on success and a non-zero code otherwise.
                let reply: serde_json::Value = r.json().await.unwrap_or_default();
                match reply.get("errcode").and_then(|c| c.as_i64()) {
                    None | Some(0) => Ok(()),
                    Some(code) => Err(format!(
                        "机器人返回错误码{code}：{}",
                        reply.get("errmsg").and_then(|m| m.as_str()).unwrap_or("")
                    )),
                }
            }
            Some(Ok(r)) => Err(format!("HTTP {}", r.status().as_u16())),
            Some(Err(e)) => Err(format!("无法送达：{e}")),
        };
        let attempts = d.attempts + 1;
        let next = (outcome.is_err() && attempts < config.webhook_max_attempts)
            .then(|| now_ms() + (config.webhook_backoff_ms << (attempts - 1).min(16)).min(3_600_000));
        if let Err(e) = &outcome {
            tracing::warn!(delivery = %d.id, attempts, error = %e, "webhook delivery failed");
        }
        store::finish(db, &d.id, &text, outcome, now_ms(), next).await?;
    }
    Ok(())
}
