//! 好差评 ratings: from the window's QR page (one per visit token, or one per browser, window and
//! day) and from rating devices in batches. Ratings are the platform's highest-volume write, so
//! they go through one group-commit queue per instance: ratings arriving together share one
//! durable transaction (one disk sync), and each sender is answered only after that commit.
//! A bad rating (不满意, 非常不满意) opens its case in the same transaction.

use super::{Ctx, CurrentUser};
use crate::domain::code::Code;
use crate::domain::ids::new_id;
use crate::domain::role::Role;
use crate::domain::time::{now_ms, to_local};
use crate::domain::validate::{FieldErrors, optional_text};
use crate::domain::window::{self as rules, CaseState, Once, RatingChannel};
use crate::error::{AppError, AppResult};
use crate::store::Db;
use crate::store::windows::{self as store, Case, Device, Rating, WindowRow};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot};
use utoipa::ToSchema;

/// Most ratings one device batch carries, and one group commit writes.
pub const MAX_BATCH: usize = 500;
const MAX_GROUP: usize = 2_000;

/// A rating (and its case) waiting for the group commit.
pub struct Item {
    pub rating: Rating,
    pub bad: bool,
    /// The hash of the rater's private link to the case (a bad rating from the QR page)
    pub token_hash: Option<String>,
}

struct Pending {
    items: Vec<Item>,
    extra: Extra,
    /// Per item: stored (true) or already rated (false)
    answer: oneshot::Sender<Result<Vec<bool>, String>>,
}

/// What else a sender's write carries: served counts (window, month, count) and the device
/// that sent it (its last use is kept).
#[derive(Debug, Clone, Default)]
pub struct Extra {
    pub served: Vec<(String, i64, i64)>,
    pub device: Option<String>,
    /// The sending device and its id of the batch: served counts of a batch seen before are
    /// not added again
    pub batch: Option<(String, String)>,
}

/// A device and what its batches are checked against, as recently read.
#[derive(Clone)]
struct Known {
    at: std::time::Instant,
    device: Device,
    windows: Arc<HashMap<String, WindowRow>>,
    staff: Arc<HashMap<String, String>>,
}

/// How long a device's key, windows and staff are trusted without reading them again (a
/// revoked key or a new window takes effect within this time).
const KNOWN_FOR: std::time::Duration = std::time::Duration::from_secs(15);

/// The instance's rating queue (cheap to clone).
#[derive(Clone)]
pub struct Intake {
    tx: mpsc::Sender<Pending>,
    known: Arc<std::sync::Mutex<HashMap<String, Known>>>,
    touched: Arc<std::sync::Mutex<HashMap<String, std::time::Instant>>>,
}

impl Intake {
    /// Starts the writer task of this instance.
    pub fn start(db: Db) -> Intake {
        let (tx, rx) = mpsc::channel(4_096);
        tokio::spawn(run(db, rx));
        Intake { tx, known: Default::default(), touched: Default::default() }
    }

    /// Whether a device's last use should be written now (once a minute per device and instance).
    fn touch(&self, device: &str) -> bool {
        let Ok(mut t) = self.touched.lock() else { return true };
        let now = std::time::Instant::now();
        if t.len() > 10_000 {
            t.clear();
        }
        match t.get(device) {
            Some(at) if now.duration_since(*at) < std::time::Duration::from_secs(60) => false,
            _ => {
                t.insert(device.to_string(), now);
                true
            }
        }
    }

    /// Queues ratings and waits until they are on disk: per rating, stored or already rated.
    pub async fn submit(&self, items: Vec<Item>) -> AppResult<Vec<bool>> {
        self.submit_with(items, Extra::default()).await
    }

    /// Ratings with what else the sender's write carries.
    pub async fn submit_with(&self, items: Vec<Item>, extra: Extra) -> AppResult<Vec<bool>> {
        let (answer, done) = oneshot::channel();
        self.tx
            .send(Pending { items, extra, answer })
            .await
            .map_err(|_| AppError::Internal(anyhow::anyhow!("rating queue closed")))?;
        match done.await {
            Ok(Ok(stored)) => Ok(stored),
            Ok(Err(e)) => Err(AppError::Internal(anyhow::anyhow!(e))),
            Err(_) => Err(AppError::Internal(anyhow::anyhow!("rating writer stopped"))),
        }
    }
}

/// Group commits written and the ratings they held, since the process started (the bench
/// reports the mean group size).
pub static GROUPS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
pub static GROUPED: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

async fn run(db: Db, mut rx: mpsc::Receiver<Pending>) {
    while let Some(first) = rx.recv().await {
        let mut n = first.items.len();
        let mut group = vec![first];
        while n < MAX_GROUP {
            match rx.try_recv() {
                Ok(p) => {
                    n += p.items.len();
                    group.push(p);
                }
                Err(_) => break,
            }
        }
        let items: Vec<&Item> = group.iter().flat_map(|p| p.items.iter()).collect();
        GROUPS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        GROUPED.fetch_add(items.len() as u64, std::sync::atomic::Ordering::Relaxed);
        let extras: Vec<&Extra> = group.iter().map(|p| &p.extra).collect();
        match write_group(&db, &items, &extras).await {
            Ok(stored) => {
                let mut at = 0;
                for p in group {
                    let k = p.items.len();
                    let _ = p.answer.send(Ok(stored[at..at + k].to_vec()));
                    at += k;
                }
            }
            // One sender's bad rating must not sink the others: each is tried on its own.
            Err(e) if group.len() > 1 => {
                tracing::warn!(error = %e, "rating group failed; writing its senders one by one");
                for p in group {
                    let items: Vec<&Item> = p.items.iter().collect();
                    let result = write_group(&db, &items, &[&p.extra]).await;
                    let _ = p.answer.send(result.map_err(|e| e.to_string()));
                }
            }
            Err(e) => {
                tracing::error!(error = %e, "rating write failed");
                for p in group {
                    let _ = p.answer.send(Err(e.to_string()));
                }
            }
        }
    }
}

/// Stores ratings now, without the queue (the demo and imports): one durable transaction.
pub async fn store_now(db: &Db, items: Vec<Item>) -> AppResult<Vec<bool>> {
    let refs: Vec<&Item> = items.iter().collect();
    write_group(db, &refs, &[]).await
}

/// The deadlines of bad-rating handling, in working days (settings the office changes).
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
pub struct CaseRules {
    /// The callback is due within this many working days of the rating (default 1)
    pub callback_days: u32,
    /// A fix put on the ledger is due within this many working days (default 15)
    pub fix_days: u32,
}

pub const CALLBACK_DAYS_KEY: &str = "rating_callback_days";
pub const FIX_DAYS_KEY: &str = "rating_fix_days";

pub async fn case_rules(db: &Db) -> AppResult<CaseRules> {
    let get = async |key: &str| crate::store::calendar::setting(db, key).await;
    Ok(CaseRules {
        callback_days: callback_days_of(get(CALLBACK_DAYS_KEY).await?.as_deref()),
        fix_days: fix_days_of(get(FIX_DAYS_KEY).await?.as_deref()),
    })
}

/// The callback deadline a stored setting (None: never set) stands for.
pub fn callback_days_of(stored: Option<&str>) -> u32 {
    stored.and_then(|v| v.parse().ok()).unwrap_or(1)
}

/// The fix deadline a stored setting (None: never set) stands for.
pub fn fix_days_of(stored: Option<&str>) -> u32 {
    stored.and_then(|v| v.parse().ok()).unwrap_or(15)
}

/// Writes one group in one durable transaction: the ratings, their monthly tallies and a case
/// for each bad one (audited as the system's).
async fn write_group(db: &Db, items: &[&Item], extras: &[&Extra]) -> AppResult<Vec<bool>> {
    let system = CurrentUser { display_name: "好差评".into(), ..CurrentUser::system() };
    let ctx = Ctx { db, user: &system, request_id: "" };
    let needs_cases = items.iter().any(|i| i.bad);
    let (cal, case_rules) =
        if needs_cases { (Some(super::calendar::load(db).await?), Some(case_rules(db).await?)) } else { (None, None) };
    let mut w = ctx.write().await?;
    let ratings: Vec<&Rating> = items.iter().map(|i| &i.rating).collect();
    let added = store::insert_ratings(w.conn(), &ratings).await?;
    let mut stored = Vec::with_capacity(items.len());
    let mut tallies: HashMap<(i64, &str, &str, i64), i64> = HashMap::new();
    for item in items {
        let r = &item.rating;
        let added = added.contains(&r.id);
        stored.push(added);
        if !added {
            continue;
        }
        *tallies.entry((r.month, &r.window_id, r.staff_id.as_deref().unwrap_or(""), r.level)).or_default() += 1;
        if item.bad
            && let (Some(cal), Some(cr)) = (&cal, &case_rules)
        {
            let due = cal.add_working_days(to_local(r.rated_at), cr.callback_days);
            let day = to_local(r.rated_at).format("%Y%m%d").to_string();
            let n = w.next_in_sequence(&format!("rating_case:{day}")).await?;
            let mut case = new_case(r, format!("C{day}{n:04}"), due.timestamp_millis());
            case.token_hash = item.token_hash.clone();
            if r.phone.is_empty() {
                // Nobody to call back: the unit verifies at once.
                (case.state, case.callback_result) = (CaseState::Verify, Some(rules::CallbackResult::Anonymous));
            }
            w.create(&case).await?;
        }
    }
    let mut tallies: Vec<_> = tallies.into_iter().collect();
    // The same order every time: two instances' groups never wait on each other's rows crosswise.
    tallies.sort();
    store::tally_many(w.conn(), &tallies).await?;
    let now = w.now;
    let mut devices: Vec<&str> = Vec::new();
    for e in extras {
        if let Some((device, batch)) = &e.batch
            && !store::first_batch(w.conn(), (device, batch), now).await?
        {
            // Sent again: its ratings were kept once by their numbers, its counts are kept already.
            continue;
        }
        for (window, month, n) in &e.served {
            store::add_volume(w.conn(), window, *month, *n, now).await?;
        }
        if let Some(d) = e.device.as_deref().filter(|d| !devices.contains(d)) {
            devices.push(d);
        }
    }
    for d in devices {
        sqlx::query("UPDATE rating_devices SET last_used_at = $1 WHERE id = $2")
            .bind(now)
            .bind(d)
            .execute(w.conn())
            .await?;
    }
    w.commit().await?;
    Ok(stored)
}

fn new_case(r: &Rating, code: String, callback_due: i64) -> Case {
    Case {
        id: new_id(),
        code,
        rating_id: r.id.clone(),
        token_hash: None,
        unit_id: r.unit_id.clone(),
        window_id: r.window_id.clone(),
        staff_id: r.staff_id.clone(),
        level: r.level,
        state: CaseState::Callback,
        callback_due,
        callback_result: None,
        callback_note: String::new(),
        called_at: None,
        called_by: None,
        finding: String::new(),
        verified_at: None,
        problem_id: None,
        fix_due: None,
        reply: String::new(),
        replied_at: None,
        on_time: None,
        appeal_reason: String::new(),
        appealed_at: None,
        decision_note: String::new(),
        decided_by: None,
        decided_at: None,
        fix_level: None,
        fix_rated_at: None,
        fix_comment: String::new(),
        month: r.month,
        created_at: r.rated_at,
        updated_at: r.rated_at,
        version: 1,
    }
}

pub fn hash_token(token: &str) -> String {
    hex::encode(Sha256::digest(format!("rating:{}", token.trim()).as_bytes()))
}

/// What a rater sends from the window's QR page.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct RateInput {
    /// 5 非常满意 … 1 非常不满意
    #[serde(default, deserialize_with = "crate::domain::validate::number")]
    pub level: Option<i64>,
    /// Tags offered for the level
    #[serde(default)]
    pub tags: Vec<String>,
    #[serde(default)]
    pub comment: String,
    /// For the callback; kept private
    #[serde(default)]
    pub phone: String,
    /// The visit token the window printed or showed, if any
    #[serde(default)]
    pub visit: String,
    /// Left empty by people (the honeypot)
    #[serde(default)]
    pub website: String,
}

/// A rating as stored, with the rater's private link's token for a bad one (shown once).
pub struct Rated {
    pub rating: Rating,
    pub token: Option<String>,
}

/// The platform's key for visit tokens (made once, shared by every instance through the database).
pub async fn token_key(db: &Db) -> AppResult<Vec<u8>> {
    const SETTING: &str = "rating_token_key";
    if let Some(v) = crate::store::calendar::setting(db, SETTING).await?
        && let Ok(k) = hex::decode(&v)
    {
        return Ok(k);
    }
    let fresh = hex::encode(rand::random::<[u8; 32]>());
    sqlx::query("INSERT INTO settings (key, value, updated_at) VALUES ($1, $2, $3) ON CONFLICT (key) DO NOTHING")
        .bind(SETTING)
        .bind(&fresh)
        .bind(now_ms())
        .execute(&db.pool)
        .await?;
    let stored = crate::store::calendar::setting(db, SETTING).await?.unwrap_or(fresh);
    hex::decode(stored).map_err(|e| AppError::Internal(e.into()))
}

/// A rating from the QR page: checked, then stored through the group commit. `browser` is the
/// rater's device cookie (or address hash) for the one-per-day limit when there is no token.
pub async fn rate(db: &Db, intake: &Intake, window: &WindowRow, input: RateInput, browser: &str) -> AppResult<Rated> {
    let mut e = FieldErrors::default();
    if !input.website.is_empty() {
        return Err(AppError::refuse(Code::SpamSuspected, Code::SpamSuspected.message()));
    }
    let (level, tags) = rules::check_rating(&mut e, input.level, &input.tags, input.comment.trim());
    let phone = match input.phone.trim() {
        "" => String::new(),
        p => crate::domain::citizen::mobile(p).unwrap_or_else(|| {
            e.add("phone", Code::InvalidPhone, "手机号应为11位数字（可不填）");
            String::new()
        }),
    };
    let visit = input.visit.trim().to_ascii_uppercase();
    if !visit.is_empty() && !rules::token_valid(&token_key(db).await?, &window.id, &visit) {
        e.add("visit", Code::InvalidVisitToken, Code::InvalidVisitToken.message());
    }
    if !e.is_empty() {
        return Err(AppError::Validation(e));
    }
    let now = now_ms();
    let day = to_local(now).format("%Y%m%d").to_string();
    let once = if visit.is_empty() { Once::Browser(browser, &day) } else { Once::Visit(&visit) };
    let bad = rules::is_bad(level);
    let token = bad.then(|| format!("{:032x}", rand::random::<u128>()));
    let rating = Rating {
        id: new_id(),
        window_id: window.id.clone(),
        unit_id: window.unit_id.clone(),
        staff_id: window.staff_id.clone(),
        level,
        tags,
        comment: input.comment.trim().to_string(),
        phone,
        channel: RatingChannel::Qr,
        device_id: None,
        once_key: once.key(&window.id),
        month: rules::month_of(now),
        rated_at: now,
        excluded: 0,
    };
    let item = Item { rating: rating.clone(), bad, token_hash: token.as_deref().map(hash_token) };
    let stored = intake.submit(vec![item]).await?;
    if stored.first() != Some(&true) {
        let message = if visit.is_empty() {
            "您今天已经评价过这个窗口了，感谢您的评价（每台手机每天可评价同一窗口一次）"
        } else {
            Code::AlreadyRated.message()
        };
        return Err(AppError::refuse(Code::AlreadyRated, message));
    }
    Ok(Rated { rating, token })
}

/// One rating as a device sends it.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct DeviceRating {
    /// The window's public code
    #[serde(default)]
    pub window: String,
    /// 1–5
    #[serde(default)]
    pub level: Option<i64>,
    #[serde(default)]
    pub tags: Vec<String>,
    #[serde(default)]
    pub comment: String,
    #[serde(default)]
    pub phone: String,
    /// The staff member's badge number when the device knows who served (default: who is on duty)
    #[serde(default)]
    pub badge: String,
    /// The device's own sequence number of this rating: a batch sent again is not counted twice
    #[serde(default)]
    pub seq: String,
    /// When it was rated (UTC epoch ms; default now; at most 7 days back)
    #[serde(default)]
    pub rated_at: Option<i64>,
}

/// A batch from a rating device; `served` adds the services handled (办件量) per window code.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct DeviceBatch {
    #[serde(default)]
    pub ratings: Vec<DeviceRating>,
    #[serde(default)]
    pub served: HashMap<String, i64>,
    /// The device's own id of this batch (up to 64 letters, digits or hyphens): a batch sent
    /// again with the same id (its answer lost) does not add its `served` counts twice.
    /// Required when `served` is sent
    #[serde(default)]
    pub batch_id: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct BatchResult {
    /// Stored now
    pub stored: i64,
    /// Already stored before (the same device sequence number)
    pub duplicates: i64,
}

/// Checks a device's key and reads what its batches are checked against (kept for a few
/// seconds per instance: a busy device does not read them for every batch).
async fn known(db: &Db, intake: &Intake, key: &str) -> AppResult<Known> {
    let hash = super::windows::hash_key(key);
    if let Ok(k) = intake.known.lock()
        && let Some(hit) = k.get(&hash).filter(|h| h.at.elapsed() < KNOWN_FOR)
    {
        return Ok(hit.clone());
    }
    let device = check_device(db, key).await?;
    let windows: HashMap<String, WindowRow> =
        store::windows_of(db, Some(&device.unit_id)).await?.into_iter().map(|w| (w.code.clone(), w)).collect();
    let staff: HashMap<String, String> = store::staff_rows(db, Some(&device.unit_id))
        .await?
        .into_iter()
        .filter(|s| s.active == 1)
        .map(|s| (s.badge.clone(), s.id.clone()))
        .collect();
    let k = Known { at: std::time::Instant::now(), device, windows: Arc::new(windows), staff: Arc::new(staff) };
    if let Ok(mut m) = intake.known.lock() {
        if m.len() > 10_000 {
            m.clear();
        }
        m.insert(hash, k.clone());
    }
    Ok(k)
}

/// Checks a device's key: the device, or 403.
pub async fn check_device(db: &Db, key: &str) -> AppResult<Device> {
    let refused = || AppError::refuse(Code::DeviceKeyInvalid, Code::DeviceKeyInvalid.message());
    let d = store::device_by_hash(db, &super::windows::hash_key(key)).await?.ok_or_else(refused)?;
    if d.revoked_at.is_some() {
        return Err(refused());
    }
    Ok(d)
}

/// A device's batch: every rating checked first (a batch is stored whole or refused whole, with
/// each bad entry named), then written through the group commit.
pub async fn device_batch(db: &Db, intake: &Intake, key: &str, batch: DeviceBatch) -> AppResult<BatchResult> {
    let known = known(db, intake, key).await?;
    if batch.ratings.len() > MAX_BATCH || batch.served.len() > MAX_BATCH {
        return Err(Code::BatchTooLarge.into());
    }
    let now = now_ms();
    let mut e = FieldErrors::default();
    let items: Vec<Item> =
        batch.ratings.iter().enumerate().filter_map(|(i, d)| device_item(&known, (i, d), now, &mut e)).collect();
    let (device, windows) = (&known.device, &known.windows);
    let mut served = Vec::new();
    for (code, n) in &batch.served {
        match windows.get(code.trim()) {
            Some(w) if (0..=100_000).contains(n) => served.push((w.id.clone(), *n)),
            Some(_) => e.add(&format!("served.{code}"), Code::InvalidValue, "办件量应为0至100000的整数"),
            None => {
                e.add(&format!("served.{code}"), Code::UnknownWindow, format!("窗口编码“{code}”不是本单位的在用窗口"))
            }
        }
    }
    let batch_id = batch.batch_id.trim();
    if batch_id.len() > 64 || !batch_id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
        e.add("batch_id", Code::InvalidClientRef, "批次编号应为不超过64位的字母、数字或连字符");
    } else if batch_id.is_empty() && !batch.served.is_empty() {
        // Ratings are told apart by their seq; 办件量 only by the batch that carries them.
        e.add("batch_id", Code::Required, "上报办件量（served）时请填写批次编号（batch_id），以免重发时重复计数");
    }
    if !e.is_empty() {
        return Err(AppError::Validation(e));
    }
    let served = served.into_iter().map(|(w, n)| (w, rules::month_of(now), n)).collect();
    // The device's last use is written at most once a minute (busy devices send all day).
    let touch = intake.touch(&device.id).then(|| device.id.clone());
    let batch = (!batch_id.is_empty()).then(|| (device.id.clone(), batch_id.to_string()));
    let stored = intake.submit_with(items, Extra { served, device: touch, batch }).await?;
    let n = stored.iter().filter(|s| **s).count() as i64;
    Ok(BatchResult { stored: n, duplicates: stored.len() as i64 - n })
}

/// One rating of a device's batch, checked against the device's windows and staff; its
/// mistakes are added to `e` under `ratings[i].…`.
fn device_item(known: &Known, (i, d): (usize, &DeviceRating), now: i64, e: &mut FieldErrors) -> Option<Item> {
    let Known { device, windows, staff, .. } = known;
    let at = |f: &str| format!("ratings[{i}].{f}");
    let mut one = FieldErrors::default();
    let (level, tags) = rules::check_rating(&mut one, d.level, &d.tags, d.comment.trim());
    for f in one.0 {
        e.add(&at(&f.field), f.code, f.message);
    }
    let Some(w) = windows.get(d.window.trim()) else {
        e.add(&at("window"), Code::UnknownWindow, format!("窗口编码“{}”不是本单位的在用窗口", d.window.trim()));
        return None;
    };
    let seq = d.seq.trim();
    if seq.is_empty() || seq.len() > 64 {
        e.add(&at("seq"), Code::Required, "请填写评价器流水号（seq，64字符以内），以免重发时重复计数");
    }
    let rated_at = d.rated_at.unwrap_or(now);
    if rated_at > now + 300_000 || rated_at < now - 7 * crate::domain::time::DAY_MS {
        e.add(&at("rated_at"), Code::DateOutOfRange, "评价时间应在最近7天内");
    }
    let staff_id = match d.badge.trim() {
        "" => w.staff_id.clone(),
        b => match staff.get(b) {
            Some(id) => Some(id.clone()),
            None => {
                e.add(&at("badge"), Code::NotThisUnit, format!("工号“{b}”不是本单位的在岗人员"));
                None
            }
        },
    };
    let phone = match d.phone.trim() {
        "" => String::new(),
        p => crate::domain::citizen::mobile(p).unwrap_or_else(|| {
            e.add(&at("phone"), Code::InvalidPhone, "手机号应为11位数字");
            String::new()
        }),
    };
    Some(Item {
        bad: rules::is_bad(level),
        token_hash: None,
        rating: Rating {
            id: new_id(),
            window_id: w.id.clone(),
            unit_id: w.unit_id.clone(),
            staff_id,
            level,
            tags,
            comment: d.comment.trim().to_string(),
            phone,
            channel: RatingChannel::Device,
            device_id: Some(device.id.clone()),
            once_key: Once::Device(&device.id, seq).key(&w.id),
            month: rules::month_of(rated_at),
            rated_at,
            excluded: 0,
        },
    })
}

/// What the rater of a bad rating sees on their private page.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RaterStatus {
    pub unit_name: String,
    pub window: String,
    pub level: i64,
    pub tags: String,
    /// What the rater wrote with the rating (意见建议)
    pub comment: String,
    pub rated_at: i64,
    pub case_code: String,
    /// The public stage: 待回访, 核实处理中, 整改中, 已答复, 已核销
    pub stage: String,
    pub reply: String,
    pub replied_at: Option<i64>,
    pub fix_due: Option<i64>,
    pub fix_level: Option<i64>,
    /// What the rater said about the fix, with its level
    pub fix_comment: String,
    /// The rater may rate the fix now (once)
    pub may_rate_fix: bool,
}

pub async fn status(db: &Db, token: &str) -> AppResult<(Rating, RaterStatus)> {
    let c = store::case_by_token_hash(db, &hash_token(token)).await?.ok_or(AppError::NotFound)?;
    let r = store::rating(db, &c.rating_id).await?.ok_or(AppError::NotFound)?;
    Ok(status_of(c, r))
}

/// A case found by its code and the last four digits of the rater's phone (查进度), as a
/// 随手拍 report is: a rater who lost the private link can still follow it and rate the fix.
pub async fn status_by_code(db: &Db, code: &str, last4: &str) -> AppResult<RaterStatus> {
    Ok(case_by_code(db, code, last4).await?.1)
}

async fn case_by_code(db: &Db, code: &str, last4: &str) -> AppResult<(store::CaseRow, RaterStatus)> {
    let wrong = || AppError::refuse(Code::WrongLookup, Code::WrongLookup.message());
    let c = store::case_by_code(db, code.trim().to_ascii_uppercase().as_str()).await?.ok_or_else(wrong)?;
    let r = store::rating(db, &c.rating_id).await?.ok_or_else(wrong)?;
    let last4 = last4.trim();
    if r.phone.is_empty() || last4.len() != 4 || !r.phone.ends_with(last4) {
        return Err(wrong());
    }
    let (_, s) = status_of(c.clone(), r);
    Ok((c, s))
}

/// The rater rates the fix, once, found by the case's code and their phone's last four digits.
pub async fn rate_fix_by_code(db: &Db, (code, last4): (&str, &str), fix: FixRating<'_>) -> AppResult<()> {
    let (c, _) = case_by_code(db, code, last4).await?;
    rate_fix_of(db, c, fix).await
}

fn status_of(c: store::CaseRow, r: Rating) -> (Rating, RaterStatus) {
    let stage = match c.state {
        CaseState::Callback => "待回访",
        CaseState::Verify | CaseState::Appealed => "核实处理中",
        CaseState::Fixing => "整改中",
        CaseState::Replied => "已答复",
        CaseState::Upheld => "经核实不予采纳",
    };
    let s = RaterStatus {
        unit_name: c.unit_name.clone(),
        window: format!("{} {}", c.window_number, c.window_service),
        level: r.level,
        tags: r.tags.clone(),
        comment: r.comment.clone(),
        rated_at: r.rated_at,
        case_code: c.code.clone(),
        stage: stage.into(),
        reply: crate::domain::citizen::mask_personal(&c.reply),
        replied_at: c.replied_at,
        fix_due: c.fix_due,
        fix_level: c.fix_level,
        fix_comment: c.fix_comment.clone(),
        may_rate_fix: may_rate_fix(&c),
    };
    (r, s)
}

/// The fix of an answered case may be rated, once.
fn may_rate_fix(c: &store::CaseRow) -> bool {
    c.state == CaseState::Replied && c.fix_level.is_none()
}

/// The rater rates the fix, once.
pub async fn rate_fix(db: &Db, token: &str, fix: FixRating<'_>) -> AppResult<()> {
    let c = store::case_by_token_hash(db, &hash_token(token)).await?.ok_or(AppError::NotFound)?;
    rate_fix_of(db, c, fix).await
}

/// The rater's rating of a fix: its level (1–5, None when none was chosen) and what they say.
pub struct FixRating<'a> {
    pub level: Option<i64>,
    pub comment: &'a str,
}

/// The most a rater writes about a fix.
pub const FIX_COMMENT_MAX: usize = 200;

async fn rate_fix_of(db: &Db, c: store::CaseRow, fix: FixRating<'_>) -> AppResult<()> {
    let mut e = FieldErrors::default();
    let level = fix.level.filter(|l| (1..=5).contains(l));
    if level.is_none() {
        e.add("level", Code::InvalidRating, "请选择对整改结果的评价");
    }
    let comment = optional_text(&mut e, "comment", "意见", fix.comment, FIX_COMMENT_MAX, true);
    let Some(level) = level.filter(|_| e.is_empty()) else { return Err(AppError::Validation(e)) };
    if !may_rate_fix(&c) {
        let code = if c.fix_level.is_some() { Code::FixAlreadyRated } else { Code::CaseNotOpen };
        return Err(AppError::refuse(code, code.message()));
    }
    // Read again for the write: a second tap may have rated it since the check above (its
    // version is the one the write requires, so a third cannot pass either).
    let old = store::case_by_code(db, &c.code).await?.ok_or(AppError::NotFound)?.record;
    if old.fix_level.is_some() {
        return Err(AppError::refuse(Code::FixAlreadyRated, Code::FixAlreadyRated.message()));
    }
    let rater = CurrentUser { display_name: "评价人".into(), role: Role::PointLead, ..CurrentUser::system() };
    let ctx = Ctx { db, user: &rater, request_id: "" };
    let now = now_ms();
    let mut new =
        Case { fix_level: Some(level), fix_rated_at: Some(now), fix_comment: comment, updated_at: now, ..old.clone() };
    let mut w = ctx.write().await?;
    w.update_as(rules::CaseAction::RateFix, &old, &mut new, old.version).await?;
    w.commit().await
}
