//! Four weeks of campaign history for the demo city, replayed through the real use cases at the
//! times they happened (`domain::time::replay_at`), so that rankings, red flags, notices, KPIs and
//! the audit log have a past to show: every working day the supervision teams and the grid worker
//! find problems in the morning (and the third-party evaluator on some Wednesdays); the units
//! acknowledge and fix them — most the same day, some on the spot, some late, some sent back at
//! the 17:00 re-check, a few extended, one or two left hanging — and the teams record clean
//! inspections. Every Monday the office awards last week's red flags and publishes last week's
//! notices, which the units confirm reading; window units get their monthly red flags; two
//! commendations and an interview of a last-placed unit complete it. Nothing that would happen
//! after the real "now" is replayed. Deterministic for a given day.

use super::problems::{as_user, photo};
use crate::domain::calendar::Calendar;
use crate::domain::problem::Action;
use crate::domain::score::Class;
use crate::domain::time::{DAY_MS, now_ms, parse_local_day_start, replay_at, to_local};
use crate::error::{AppError, AppResult};
use crate::media::storage::Storage;
use crate::service::problems::{ActInput, FileInput, act, file};
use crate::service::scoring::{SpanKind, award_red_flags, commend, flag_span, record_clean};
use crate::service::{Ctx, CurrentUser, notices};
use crate::store::Db;
use chrono::{Datelike, Duration, NaiveDate};
use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};

/// Weeks replayed before the current one.
const WEEKS: i64 = 4;
const MINUTE: i64 = 60_000;
const HOUR: i64 = 60 * MINUTE;

/// What inspectors write for a standard item (the demo's problems use these items only).
const FINDINGS: [(&str, &[&str]); 34] = [
    ("暴露垃圾", &["绿化带内有积存垃圾", "垃圾桶周边散落垃圾", "路边堆放建筑垃圾未清运"]),
    ("道路保洁", &["路面有烟头纸屑", "人行道有油污未清洗"]),
    ("乱贴乱画", &["电杆上有小广告", "墙面乱贴乱画", "公交站牌粘贴小广告"]),
    ("标识标牌", &["路名牌倾斜破损", "指示牌污损褪色"]),
    ("不文明行为", &["有人随地吐痰无人劝阻", "行人攀折花木"]),
    ("场所公益广告", &["公益广告画面破损褪色", "公益广告数量不足"]),
    ("道路公益广告", &["道路沿线公益广告缺失"]),
    ("禁烟标识", &["大厅未张贴禁烟标识"]),
    ("室内吸烟", &["大厅内有人吸烟无人劝阻"]),
    ("车行道", &["车行道坑洼破损"]),
    ("人行道", &["人行道砖松动缺失", "人行道被车辆占用"]),
    ("主干道路灯", &["夜间路灯不亮"]),
    ("车辆停放", &["非机动车乱停放", "机动车占用人行道停放"]),
    ("占道经营", &["流动摊贩占道经营", "店外摆摊占用人行道"]),
    ("路面硬化", &["巷内路面坑洼不平"]),
    ("积水明沟", &["巷内积水未排"]),
    ("乱堆乱放", &["楼道口杂物乱堆", "巷内堆放废旧家具"]),
    ("垃圾分类", &["垃圾未分类投放", "厨余垃圾桶满溢未清运"]),
    ("楼道环境", &["楼道内堆放杂物", "楼道墙面乱涂乱画"]),
    ("飞线充电", &["电动车飞线充电"]),
    ("文明养犬", &["遛狗未牵绳", "犬只粪便未清理"]),
    ("居民公约", &["居民公约未上墙"]),
    ("满意度评价器", &["窗口满意度评价器故障"]),
    ("工作牌", &["工作人员未佩戴工作牌"]),
    ("制度上墙", &["服务制度未上墙"]),
    ("便民服务", &["便民服务箱物品缺失"]),
    ("门前五包", &["门前五包责任牌缺失", "店门前卫生差"]),
    ("出店经营", &["商户出店经营"]),
    ("工地围挡", &["工地围挡破损", "围挡公益广告缺失"]),
    ("公厕保洁", &["公厕地面脏污有异味"]),
    ("绿地养护", &["绿地黄土裸露", "绿篱缺株未补植"]),
    ("划行归市", &["摊位越线经营"]),
    ("地面排水", &["市场地面积水"]),
    ("校门口交通", &["校门口车辆乱停"]),
];

/// How often inspectors find something at each demo unit (index into `UNITS`): the city
/// management bureau and the sanitation centre carry the streets, bank branches little.
const UNIT_WEIGHT: [u64; 22] = [6, 3, 3, 2, 1, 1, 1, 1, 2, 2, 5, 1, 1, 1, 1, 1, 1, 1, 2, 1, 3, 3];

/// What the replay made, for the demo's summary.
#[derive(Debug, Default)]
pub struct Replayed {
    pub problems: usize,
    pub notices: usize,
    pub red_flags: usize,
}

/// A small deterministic generator (SplitMix64).
struct Dice(u64);

impl Dice {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    fn minutes(&mut self, from: i64, to: i64) -> i64 {
        (from + self.below((to - from + 1) as u64) as i64) * MINUTE
    }

    fn pick<'a, T>(&mut self, v: &'a [T]) -> &'a T {
        &v[self.below(v.len() as u64) as usize]
    }
}

/// How a problem's story goes.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Fate {
    /// Fixed while the inspector waits (half the deduction)
    OnTheSpot,
    SameDay,
    /// Fixed after its deadline
    Late,
    /// The first fix fails the 17:00 re-check
    Rework,
    /// The unit asks for three more working days, the office agrees
    Extended,
    /// Acknowledged and left: still open, overdue
    Hanging,
}

struct Plan {
    point: String,
    unit: String,
    item: String,
    description: String,
    source: &'static str,
    filer: String,
    fate: Fate,
    id: Option<String>,
}

enum Step {
    File(usize),
    Act(usize, Action, ActInput),
    Clean {
        point: String,
        by: String,
    },
    Commend {
        class: Class,
        target: String,
        note: &'static str,
    },
    /// Monday: last week's red flags and notices
    Weekly(NaiveDate),
    /// First working day of a month: last month's window red flags
    Monthly(NaiveDate),
    Read {
        notice: String,
        by: String,
    },
    Interview(usize),
    Outcome(usize),
    DailyBrief(NaiveDate),
}

struct Replay<'a> {
    db: &'a Db,
    storage: &'a Storage,
    cal: Calendar,
    dice: Dice,
    users: HashMap<String, CurrentUser>,
    /// unit id → the account that acts for it
    unit_actor: HashMap<String, String>,
    plans: Vec<Plan>,
    queue: BinaryHeap<Reverse<(i64, usize)>>,
    steps: Vec<Option<Step>>,
    /// Weekly unit-class notices published: (Monday of the week reported, id)
    notices: Vec<(NaiveDate, String)>,
    interviews: Vec<String>,
    /// Seeds the generated photos, so that no two look alike
    photos: u64,
    out: Replayed,
}

fn at(day: NaiveDate, hour: u32, minute: u32) -> i64 {
    parse_local_day_start(&day.format("%Y-%m-%d").to_string()).unwrap_or_default()
        + (hour as i64) * HOUR
        + (minute as i64) * MINUTE
}

fn monday_of(d: NaiveDate) -> NaiveDate {
    d - Duration::days(d.weekday().num_days_from_monday() as i64)
}

impl Replay<'_> {
    fn schedule(&mut self, t: i64, step: Step) {
        self.queue.push(Reverse((t, self.steps.len())));
        self.steps.push(Some(step));
    }

    fn ctx<'b>(&'b self, username: &str) -> Ctx<'b> {
        Ctx { db: self.db, user: &self.users[username], request_id: "demo-history" }
    }

    fn next_working_day(&self, d: NaiveDate) -> NaiveDate {
        self.cal.next_working_day(d + Duration::days(1))
    }

    /// Plans the working days from `first` to the day before `today`, and the office's routine.
    fn plan(&mut self, first: NaiveDate, today: NaiveDate, candidates: &Candidates) {
        let mut day = first;
        let mut week = 0;
        while day <= today {
            if day.weekday() == chrono::Weekday::Mon && day > first {
                week += 1;
                // On the first working day from Monday on (after a holiday week, two weeks' worth).
                let d = self.cal.next_working_day(day);
                self.schedule(at(d, 9, 30), Step::Weekly(day - Duration::days(7)));
            }
            if day.day() == 1 && day > first {
                let d = self.cal.next_working_day(day);
                self.schedule(at(d, 9, 50), Step::Monthly(day - Duration::days(1)));
            }
            if day < today && self.cal.is_working_day(day) {
                self.plan_day(day, week, candidates);
            }
            day += Duration::days(1);
        }
        // A commendation for a unit and one for a community.
        let day_in = |w: i64, k: i64| first + Duration::days(7 * w + k);
        if let Some(t) = candidates.unit_named("园林绿化") {
            self.schedule(
                at(day_in(1, 3), 16, 0),
                Step::Commend {
                    class: Class::Unit, target: t, note: "主动认领公园绿地补植，整改及时到位"
                },
            );
        }
        if let Some(c) = candidates.communities.get(1) {
            self.schedule(
                at(day_in(3, 2), 16, 0),
                Step::Commend {
                    class: Class::Community,
                    target: c.clone(),
                    note: "修订居民公约，学雷锋志愿服务站常态开放",
                },
            );
        }
        // The last working day's brief.
        let mut d = today - Duration::days(1);
        while d > first && !self.cal.is_working_day(d) {
            d -= Duration::days(1);
        }
        if d > first {
            self.schedule(at(d, 18, 0), Step::DailyBrief(d));
        }
    }

    fn plan_day(&mut self, day: NaiveDate, week: usize, c: &Candidates) {
        let finds = 5 + self.dice.below(4) as usize;
        let mut t = at(day, 7, 0);
        for _ in 0..finds {
            let (unit, _) = c.units[weighted(&mut self.dice, &c.units)].clone();
            let Some(points) = c.by_unit.get(&unit) else { continue };
            let p = &c.points[*self.dice.pick(points)];
            let grid_here = p.community == c.grid_community && self.dice.below(3) == 0;
            let (source, filer) = if grid_here {
                ("grid_patrol", "grid".to_string())
            } else {
                ("supervision", self.dice.pick(&c.supervisors).clone())
            };
            self.add_plan(t, p, source, filer);
            t += self.dice.minutes(6, 18);
        }
        // A simulated evaluation on the Wednesdays of the second and fourth week: city level.
        if day.weekday() == chrono::Weekday::Wed && week % 2 == 1 {
            let mut t = at(day, 9, 0);
            for _ in 0..3 {
                let p = &c.points[self.dice.below(c.points.len() as u64) as usize];
                self.add_plan(t, p, "evaluation", "evaluator".into());
                t += self.dice.minutes(15, 40);
            }
        }
        // Clean inspections in the afternoon: most points the teams visit are in order (three of
        // any unit), and a window (third team).
        for k in 0..3 {
            let p = &c.points[self.dice.below(c.points.len() as u64) as usize];
            let by = self.dice.pick(&c.supervisors).clone();
            self.schedule(at(day, 15, 10 + 10 * k), Step::Clean { point: p.id.clone(), by });
        }
        if !c.windows.is_empty() {
            let w = c.windows[self.dice.below(c.windows.len() as u64) as usize].clone();
            self.schedule(at(day, 16, 10), Step::Clean { point: w, by: "duban07".into() });
        }
    }

    fn add_plan(&mut self, t: i64, p: &Candidate, source: &'static str, filer: String) {
        let (item, finding) = self.dice.pick(&p.items).clone();
        let description = self.dice.pick(finding).to_string();
        let fate = match self.dice.below(100) {
            0..14 => Fate::OnTheSpot,
            14..70 => Fate::SameDay,
            70..82 => Fate::Late,
            82..94 => Fate::Rework,
            94..98 => Fate::Extended,
            _ => Fate::Hanging,
        };
        self.plans.push(Plan {
            point: p.id.clone(),
            unit: p.unit.clone(),
            item,
            description,
            source,
            filer,
            fate,
            id: None,
        });
        let n = self.plans.len() - 1;
        self.schedule(t, Step::File(n));
    }

    /// After a filing: the unit's and the inspectors' steps, by the problem's fate.
    fn plan_story(&mut self, n: usize, found: i64, deadline: i64) {
        let fate = self.plans[n].fate;
        let day = to_local(found).date_naive();
        let fix = |note: &str| ActInput { note: note.into(), ..Default::default() };
        let ack = found + self.dice.minutes(8, 50);
        let recheck = |d: NaiveDate, k: i64| at(d, 17, 0) + k * 3 * MINUTE;
        let k = (n % 15) as i64;
        match fate {
            Fate::OnTheSpot => {
                self.schedule(found + 8 * MINUTE, Step::Act(n, Action::Acknowledge, ActInput::default()));
                self.schedule(found + 35 * MINUTE, Step::Act(n, Action::SubmitFix, fix("已现场整改")));
                self.schedule(found + 50 * MINUTE, Step::Act(n, Action::Pass, ActInput::default()));
            }
            Fate::SameDay | Fate::Rework => {
                let fixed = (found + self.dice.minutes(180, 480)).min(deadline - 20 * MINUTE).max(ack + 20 * MINUTE);
                self.schedule(ack, Step::Act(n, Action::Acknowledge, ActInput::default()));
                self.schedule(fixed, Step::Act(n, Action::SubmitFix, fix("已按要求整改到位")));
                let check = recheck(to_local(fixed).date_naive(), k).max(fixed + 30 * MINUTE);
                if fate == Fate::SameDay {
                    self.schedule(check, Step::Act(n, Action::Pass, ActInput::default()));
                } else {
                    let fail = ActInput { reason: "整改不彻底，现场仍有遗留".into(), ..Default::default() };
                    self.schedule(check, Step::Act(n, Action::Fail, fail));
                    let again = self.next_working_day(to_local(check).date_naive());
                    self.schedule(at(again, 11, 0), Step::Act(n, Action::SubmitFix, fix("已重新整改，彻底清理")));
                    self.schedule(recheck(again, k), Step::Act(n, Action::Pass, ActInput::default()));
                }
            }
            Fate::Late => {
                let late = self.next_working_day(to_local(deadline).date_naive());
                self.schedule(ack, Step::Act(n, Action::Acknowledge, ActInput::default()));
                let fixed = at(late, 10, 0) + self.dice.minutes(0, 240);
                self.schedule(fixed, Step::Act(n, Action::SubmitFix, fix("已整改，超出时限")));
                self.schedule(
                    recheck(late, k).max(fixed + 30 * MINUTE),
                    Step::Act(n, Action::Pass, ActInput::default()),
                );
            }
            Fate::Extended => {
                self.schedule(ack, Step::Act(n, Action::Acknowledge, ActInput::default()));
                let ask =
                    ActInput {
                        reason: "需协调施工队伍和材料，申请延期".into(), days: Some(3), ..Default::default()
                    };
                self.schedule(ack + 2 * HOUR, Step::Act(n, Action::RequestExtension, ask));
                self.schedule(ack + 3 * HOUR, Step::Act(n, Action::ApproveExtension, ActInput::default()));
                let done = self.next_working_day(self.next_working_day(day));
                self.schedule(at(done, 15, 0), Step::Act(n, Action::SubmitFix, fix("已完成维修")));
                self.schedule(recheck(done, k), Step::Act(n, Action::Pass, ActInput::default()));
            }
            Fate::Hanging => self.schedule(ack, Step::Act(n, Action::Acknowledge, ActInput::default())),
        }
    }

    async fn run(&mut self, real_now: i64) -> AppResult<()> {
        while let Some(Reverse((t, i))) = self.queue.pop() {
            if t >= real_now {
                break;
            }
            let step = self.steps[i].take().expect("each step runs once");
            replay_at(t, self.step(t, step)).await?;
        }
        Ok(())
    }

    async fn step(&mut self, t: i64, step: Step) -> AppResult<()> {
        let day = to_local(t).date_naive();
        match step {
            Step::File(n) => {
                let p = &self.plans[n];
                let input = FileInput {
                    point_id: p.point.clone(),
                    standard_item_id: Some(p.item.clone()),
                    description: p.description.clone(),
                    source: p.source.into(),
                    allow_duplicate: true,
                    ..Default::default()
                };
                self.photos += 1;
                let filed = file(&self.ctx(&p.filer), self.storage, input, vec![photo(self.photos)]).await?;
                self.out.problems += 1;
                self.plans[n].id = Some(filed.id);
                self.plan_story(n, t, filed.deadline_at.unwrap_or(t + 8 * HOUR));
            }
            Step::Act(n, action, input) => {
                self.photos += 1;
                let p = &self.plans[n];
                let who = match action {
                    Action::Pass | Action::Fail => p.filer_or_supervisor(),
                    Action::ApproveExtension => "admin".into(),
                    _ => self.unit_actor[&p.unit].clone(),
                };
                let id = p.id.clone().expect("filed before its story");
                // Acting on the problem as it stands now, as a user who just opened it.
                let current = crate::store::problems::get(self.db, &id).await?;
                let photos = match (&current, action) {
                    (Some(c), Action::SubmitFix) => vec![super::problems::fix_photo(self.db, c, self.photos).await?],
                    _ => vec![],
                };
                let input = ActInput { version: current.map(|p| p.version), ..input };
                act(&self.ctx(&who), self.storage, &id, action, input, photos).await?;
            }
            Step::Clean { point, by } => {
                // A point with a problem found that day, or already recorded, is not counted again.
                match record_clean(&self.ctx(&by), &point, "检查无问题，点位整洁规范").await {
                    Ok(_) | Err(AppError::Refused(..)) => {}
                    Err(e) => return Err(e),
                }
            }
            Step::Commend { class, target, note } => {
                commend(&self.ctx("admin"), class, &target, note, None).await?;
            }
            Step::Weekly(monday) => self.weekly(t, monday).await?,
            Step::Monthly(last_day) => {
                if flag_span(self.db, Class::Window, last_day).await?.kind == SpanKind::Month {
                    self.out.red_flags += award_red_flags(&self.ctx("admin"), Class::Window, last_day).await?.len();
                }
            }
            Step::Read { notice, by } => {
                notices::confirm_read(&self.ctx(&by), &notice).await?;
            }
            Step::Interview(k) => self.interview(k, day).await?,
            Step::Outcome(k) => {
                let id = self.interviews[k].clone();
                let held = day.format("%Y-%m-%d").to_string();
                let version: i64 = sqlx::query_scalar("SELECT version FROM interviews WHERE id = $1")
                    .bind(&id)
                    .fetch_one(&self.db.pool)
                    .await?;
                crate::service::interviews::record_outcome(
                    &self.ctx("admin"),
                    &id,
                    &held,
                    "单位主要负责人作出书面检查，建立问题清单，限一周内全部整改到位",
                    Some(version),
                )
                .await?;
            }
            Step::DailyBrief(d) => {
                let admin = self.ctx("admin");
                let n = notices::generate(&admin, crate::domain::notice::NoticeKind::Daily, Class::Unit, d).await?;
                notices::publish(&admin, &n.id, false).await?;
                self.out.notices += 1;
                self.schedule_reads(t, &n.id);
            }
        }
        Ok(())
    }

    /// Monday morning: last week's red flags for the weekly classes, then its notices (units
    /// and communities) published; the units confirm reading over the next day and a half.
    async fn weekly(&mut self, t: i64, monday: NaiveDate) -> AppResult<()> {
        for class in [Class::Unit, Class::Community, Class::Street] {
            if flag_span(self.db, class, monday).await?.kind == SpanKind::Week {
                self.out.red_flags += award_red_flags(&self.ctx("admin"), class, monday).await?.len();
            }
        }
        for class in [Class::Unit, Class::Community] {
            let admin = self.ctx("admin");
            let n = notices::generate(&admin, crate::domain::notice::NoticeKind::Weekly, class, monday).await?;
            notices::publish(&admin, &n.id, false).await?;
            self.out.notices += 1;
            self.schedule_reads(t, &n.id);
            if class == Class::Unit {
                self.notices.push((monday, n.id));
            }
        }
        // The office interviews a unit a notice placed last (once; a notice of a quiet holiday
        // week has nobody last, so the next one is tried).
        if !self.notices.is_empty() {
            let k = self.notices.len() - 1;
            let day = to_local(t).date_naive();
            let tuesday = self.next_working_day(day);
            self.schedule(at(tuesday, 15, 0), Step::Interview(k));
        }
        Ok(())
    }

    /// The units confirm reading a notice published at `t` over the next day and a half.
    fn schedule_reads(&mut self, t: i64, id: &str) {
        // The unit's head account confirms (the demo's first unit has `unit` beside its lead).
        let mut readers: Vec<String> =
            self.unit_actor.values().map(|u| if u == "lead" { "unit".to_string() } else { u.clone() }).collect();
        readers.sort();
        readers.dedup();
        for by in readers {
            // One unit in twenty never gets round to it.
            if self.dice.below(20) == 0 {
                continue;
            }
            let when = t + 20 * MINUTE + self.dice.minutes(0, 30 * 60);
            self.schedule(when, Step::Read { notice: id.to_string(), by });
        }
    }

    /// An interview of the unit a notice placed last, with its overdue problems of that week.
    async fn interview(&mut self, k: usize, day: NaiveDate) -> AppResult<()> {
        if !self.interviews.is_empty() {
            return Ok(());
        }
        let (monday, notice_id) = self.notices[k].clone();
        let admin = self.ctx("admin");
        let n = notices::visible(&admin, &notice_id).await?;
        let data = notices::data_of(&n)?;
        let Some(last) = data.last_place.first() else { return Ok(()) };
        let Some((unit, _)) = crate::store::units::all_names(self.db).await?.into_iter().find(|(_, name)| name == last)
        else {
            return Ok(());
        };
        let (from, to) = (at(monday, 0, 0), at(monday, 0, 0) + 7 * DAY_MS);
        let codes: Vec<String> = sqlx::query_scalar(
            "SELECT code FROM problems WHERE unit_id = $1 AND found_at >= $2 AND found_at < $3 \
             AND (closed_at IS NULL OR closed_at > deadline_at OR rework_count > 0) ORDER BY code",
        )
        .bind(&unit)
        .bind(from)
        .bind(to)
        .fetch_all(&self.db.pool)
        .await?;
        if codes.is_empty() {
            return Ok(());
        }
        let input = crate::service::interviews::InterviewInput {
            kind: "interview".into(),
            unit_id: unit,
            reason: format!("{}千分制排名末位，逾期或返工问题{}件", n.number, codes.len()),
            problems: codes,
            notice_id: Some(notice_id),
        };
        let i = crate::service::interviews::create(&admin, input).await?;
        self.interviews.push(i.id);
        let held = self.next_working_day(day);
        self.schedule(at(held, 10, 0), Step::Outcome(self.interviews.len() - 1));
        Ok(())
    }
}

impl Plan {
    /// The inspector who found it re-checks it (the office re-checks the evaluator's finds).
    fn filer_or_supervisor(&self) -> String {
        match self.source {
            "supervision" => self.filer.clone(),
            _ => "supervisor".into(),
        }
    }
}

fn weighted(dice: &mut Dice, units: &[(String, u64)]) -> usize {
    let total: u64 = units.iter().map(|(_, w)| w).sum();
    let mut r = dice.below(total);
    for (i, (_, w)) in units.iter().enumerate() {
        if r < *w {
            return i;
        }
        r -= w;
    }
    0
}

struct Candidate {
    id: String,
    unit: String,
    community: Option<String>,
    /// Applicable standard items with what inspectors write for them
    items: Vec<(String, &'static [&'static str])>,
}

/// The demo district's points with the items the demo's findings cover, by unit.
struct Candidates {
    points: Vec<Candidate>,
    by_unit: HashMap<String, Vec<usize>>,
    /// (unit id, weight) for units with points
    units: Vec<(String, u64)>,
    names: HashMap<String, String>,
    supervisors: Vec<String>,
    grid_community: Option<String>,
    communities: Vec<String>,
    /// Points of window units
    windows: Vec<String>,
}

impl Candidates {
    fn unit_named(&self, part: &str) -> Option<String> {
        self.names.iter().find(|(_, n)| n.contains(part)).map(|(id, _)| id.clone())
    }

    async fn load(db: &Db) -> AppResult<Candidates> {
        let names: Vec<(String, String)> = crate::store::units::all_names(db)
            .await?
            .into_iter()
            .filter(|(_, n)| super::names::UNITS.iter().any(|u| u.0 == n))
            .collect();
        let rows: Vec<(String, String, Option<String>, String, String, String)> = sqlx::query_as(
            "SELECT p.id, p.unit_id, p.community_id, i.id, i.item, u.kind FROM points p \
             JOIN units u ON u.id = p.unit_id JOIN point_types t ON t.id = p.type_id \
             JOIN standard_items i ON (i.point_types = '*' OR i.point_types LIKE '%' || t.code || '%') \
             JOIN standard_versions v ON v.id = i.version_id AND v.status = 'published' \
             WHERE p.active = 1 ORDER BY p.code, i.major_code, i.minor_code",
        )
        .fetch_all(&db.pool)
        .await?;
        let ours: HashMap<&str, usize> = names
            .iter()
            .filter_map(|(id, n)| super::names::UNITS.iter().position(|u| u.0 == n).map(|k| (id.as_str(), k)))
            .collect();
        let mut points: Vec<Candidate> = Vec::new();
        let mut windows = Vec::new();
        for (point, unit, community, item, item_name, kind) in rows {
            if !ours.contains_key(unit.as_str()) {
                continue;
            }
            let Some((_, finding)) = FINDINGS.iter().find(|(n, _)| *n == item_name) else { continue };
            if points.last().is_none_or(|c| c.id != point) {
                if crate::domain::unit::UnitKind::parse(&kind).is_some_and(|k| k.is_window()) {
                    windows.push(point.clone());
                }
                points.push(Candidate { id: point, unit, community, items: Vec::new() });
            }
            points.last_mut().expect("pushed").items.push((item, finding));
        }
        let mut by_unit: HashMap<String, Vec<usize>> = HashMap::new();
        for (i, p) in points.iter().enumerate() {
            by_unit.entry(p.unit.clone()).or_default().push(i);
        }
        let mut units: Vec<(String, u64)> = ours
            .iter()
            .filter(|(id, _)| by_unit.contains_key(**id))
            .map(|(id, k)| (id.to_string(), UNIT_WEIGHT[*k]))
            .collect();
        units.sort_by_key(|(id, _)| ours[id.as_str()]);
        // The twelve members of the four supervision teams.
        let supervisors: Vec<String> =
            std::iter::once("supervisor".to_string()).chain((2..=12).map(|n| format!("duban{n:02}"))).collect();
        let grid_community: Option<String> =
            crate::store::users::by_username(db, "grid").await?.and_then(|u| u.area_id);
        let mut communities: Vec<String> = points.iter().filter_map(|p| p.community.clone()).collect();
        communities.sort();
        communities.dedup();
        Ok(Candidates {
            points,
            by_unit,
            units,
            names: names.into_iter().collect(),
            supervisors,
            grid_community,
            communities,
            windows,
        })
    }
}

/// Replays the weeks before today; returns what it made.
pub async fn replay(db: &Db, storage: &Storage) -> AppResult<Replayed> {
    let real_now = now_ms();
    let today = to_local(real_now).date_naive();
    let first = monday_of(today) - Duration::days(7 * WEEKS);
    let candidates = Candidates::load(db).await?;
    let mut users = HashMap::new();
    let mut unit_actor = HashMap::new();
    for (unit, name) in &candidates.names {
        let k = super::names::UNITS.iter().position(|u| u.0 == name).unwrap_or(0);
        let username = match k {
            0 => "lead".to_string(),
            11 => "bank".to_string(),
            _ => super::liaison_username(k),
        };
        unit_actor.insert(unit.clone(), username);
    }
    let mut wanted: Vec<String> = unit_actor.values().cloned().collect();
    wanted.extend(candidates.supervisors.iter().cloned());
    wanted.extend(["admin", "grid", "evaluator", "unit"].map(String::from));
    for u in wanted {
        let user = as_user(db, &u).await?;
        users.insert(u, user);
    }
    let mut r = Replay {
        db,
        storage,
        cal: crate::service::calendar::load(db).await?,
        dice: Dice(first.num_days_from_ce() as u64),
        users,
        unit_actor,
        plans: Vec::new(),
        queue: BinaryHeap::new(),
        steps: Vec::new(),
        notices: Vec::new(),
        interviews: Vec::new(),
        photos: 1000,
        out: Replayed::default(),
    };
    r.plan(first, today, &candidates);
    r.run(real_now).await?;
    Ok(r.out)
}
