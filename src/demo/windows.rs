//! Window service for the demo city: windows and staff at every bank branch and the service hall,
//! two months of 好差评 ratings (mostly good, a few bad), and bad-rating cases at every stage:
//! last month's answered, this month's some waiting for the callback, one on the ledger.

use crate::domain::ids::new_id;
use crate::domain::time::now_ms;
use crate::domain::window::{self as rules, Once, RatingChannel};
use crate::error::AppResult;
use crate::service::Ctx;
use crate::service::rating_cases::{self as cases, CallbackInput, ResolveInput};
use crate::service::ratings::{self, Item};
use crate::service::windows::{StaffInput, WindowInput, create, create_staff};
use crate::store::Db;
use crate::store::windows::{self as store, CaseFilter, Rating};

const BANK: [(&str, &str, &str); 3] =
    [("1号窗口", "个人业务", "综合柜员"), ("2号窗口", "对公业务", "综合柜员"), ("大堂", "咨询引导", "大堂经理")];
const HALL: [(&str, &str); 6] = [
    ("1号窗口", "综合受理"),
    ("2号窗口", "社保业务"),
    ("3号窗口", "医保业务"),
    ("4号窗口", "不动产登记"),
    ("5号窗口", "公积金"),
    ("6号窗口", "证照出件"),
];
const NAMES: [&str; 12] =
    ["王丽", "李娜", "张静", "刘洋", "陈晨", "杨帆", "赵敏", "黄磊", "周婷", "吴昊", "徐倩", "孙悦"];

/// A small deterministic generator (the demo is the same every time).
struct Dice(u64);

impl Dice {
    fn below(&mut self, n: u64) -> u64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (self.0 >> 33) % n.max(1)
    }
}

/// Returns how many ratings were stored.
pub async fn seed(db: &Db) -> AppResult<usize> {
    let admin = super::problems::as_user(db, "admin").await?;
    let ctx = Ctx { db, user: &admin, request_id: "" };
    let units = crate::store::units::all(db).await?;
    for (n, u) in units.into_iter().filter(|u| u.kind.is_window()).enumerate() {
        let hall = u.kind == crate::domain::unit::UnitKind::ServiceHall;
        let layout: Vec<(&str, &str, &str)> =
            if hall { HALL.iter().map(|(a, b)| (*a, *b, "窗口专员")).collect() } else { BANK.to_vec() };
        for (i, (number, service, post)) in layout.into_iter().enumerate() {
            let name = NAMES[(n + i) % NAMES.len()];
            let s = create_staff(
                &ctx,
                StaffInput {
                    unit_id: u.id.clone(),
                    name: name.into(),
                    badge: format!("{:04}", 1001 + i),
                    post: post.into(),
                    ..Default::default()
                },
            )
            .await?;
            let input = WindowInput {
                unit_id: u.id.clone(),
                number: number.into(),
                service: service.into(),
                staff_id: s.id.clone(),
                active: Some(true),
                ..Default::default()
            };
            create(&ctx, input).await?;
        }
    }
    let stored = ratings_for_two_months(db).await?;
    handle_cases(&ctx).await?;
    Ok(stored)
}

async fn ratings_for_two_months(db: &Db) -> AppResult<usize> {
    let now = now_ms();
    let this = rules::month_of(now);
    let windows = store::windows_of(db, None).await?;
    let mut dice = Dice(20_261_204);
    let mut items = Vec::new();
    for (month, per_window) in [(rules::previous_month(this), 30u64), (this, 14)] {
        let (from, to) = rules::month_span(month);
        let to = to.min(now - 60_000);
        for (wi, w) in windows.iter().enumerate() {
            // Each branch has its own standard: the last ones do worse (a low-ranked unit).
            let weak = wi % 7 == 6;
            for k in 0..per_window {
                let roll = dice.below(100);
                let level = match (weak, roll) {
                    (false, 0..=69) | (true, 0..=44) => 5,
                    (false, 70..=90) | (true, 45..=69) => 4,
                    (false, 91..=96) | (true, 70..=84) => 3,
                    (false, 97..=98) | (true, 85..=94) => 2,
                    _ => 1,
                };
                let tags = rules::tags_of(level);
                let tag = tags[dice.below(tags.len() as u64) as usize].to_string();
                // During opening hours (09:00–17:00 Beijing time) of a day of the month so far.
                let day_ms = crate::domain::time::DAY_MS;
                let days = ((to - from) / day_ms).max(0) + 1;
                let minute = 9 * 60 + dice.below(8 * 60) as i64;
                let mut at = from + dice.below(days as u64) as i64 * day_ms + minute * 60_000;
                if at > to {
                    // Today's opening hours have not come yet: the day before.
                    at = (at - day_ms).max(from).min(to);
                }
                let bad = rules::is_bad(level);
                items.push(Item {
                    bad,
                    token_hash: None,
                    rating: Rating {
                        id: new_id(),
                        window_id: w.id.clone(),
                        unit_id: w.unit_id.clone(),
                        staff_id: w.staff_id.clone(),
                        level,
                        tags: tag,
                        comment: String::new(),
                        phone: if bad && k % 2 == 0 {
                            format!("1390317{:04}", dice.below(10_000))
                        } else {
                            String::new()
                        },
                        channel: if k % 3 == 0 { RatingChannel::Device } else { RatingChannel::Qr },
                        device_id: None,
                        once_key: Once::Visit(&format!("DEMO{month}{wi}{k}")).key(&w.id),
                        month,
                        rated_at: at.max(from),
                        excluded: 0,
                    },
                });
            }
        }
    }
    let total = items.len();
    let mut rest = items;
    while !rest.is_empty() {
        let chunk: Vec<Item> = rest.drain(..rest.len().min(ratings::MAX_BATCH)).collect();
        ratings::store_now(db, chunk).await?;
    }
    Ok(total)
}

/// The callback of a real-name case (an anonymous one waits for its verification already).
async fn call_back(ctx: &Ctx<'_>, c: store::CaseRow, note: &str) -> AppResult<store::Case> {
    if c.state != crate::domain::window::CaseState::Callback {
        return Ok(c.record);
    }
    let called = CallbackInput { result: "reached".into(), note: note.into(), version: Some(c.version) };
    cases::callback(ctx, &c.id, called).await
}

/// Last month's cases answered (a callback, then a fix at once); this month's: one put on the
/// ledger, the others waiting for the unit.
async fn handle_cases(ctx: &Ctx<'_>) -> AppResult<()> {
    let this = rules::month_of(now_ms());
    let last = CaseFilter { month: Some(rules::previous_month(this)), ..Default::default() };
    for c in store::case_page(ctx.db, &last, crate::store::PageReq::all()).await?.0 {
        let c = call_back(ctx, c, "已电话联系评价人，说明情况并致歉").await?;
        let fix = ResolveInput {
            outcome: "fix_at_once".into(),
            finding: "经查看监控，情况属实".into(),
            reply: "已对相关人员进行批评教育，并调整高峰时段窗口人手".into(),
            version: Some(c.version),
        };
        cases::resolve(ctx, &c.id, fix).await?;
    }
    let now = CaseFilter { month: Some(this), ..Default::default() };
    if let Some(c) = store::case_page(ctx.db, &now, crate::store::PageReq::all()).await?.0.into_iter().next() {
        let c = call_back(ctx, c, "评价人反映等候时间过长").await?;
        let ledger = ResolveInput {
            outcome: "ledger".into(),
            finding: "高峰时段仅开一个窗口，群众等候超过40分钟".into(),
            reply: String::new(),
            version: Some(c.version),
        };
        cases::resolve(ctx, &c.id, ledger).await?;
    }
    Ok(())
}
