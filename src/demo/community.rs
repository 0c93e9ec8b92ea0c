//! Community work in the demo city, over the last four weeks: the point leads' daily reports
//! (a few points not yet reported today), the first community's weekly summaries submitted and
//! acknowledged by the street, residents' counts, a volunteer roster with a Lei Feng station
//! and a Tuesday-and-Friday activity with confirmed hours, a residents' meeting whose
//! suggestions were answered or routed, and two civilized-unit applications.

use super::problems::as_user;
use crate::domain::community::{ServiceState, week_start};
use crate::domain::ids::new_id;
use crate::domain::time::{now_ms, parse_local_day_start, to_local};
use crate::error::AppResult;
use crate::media::storage::Storage;
use crate::service::Ctx;
use crate::service::daily_reports::DailyReport;
use crate::service::deliberation::{self as delib, HandleInput, MeetingInput, SuggestionInput};
use crate::service::volunteers::{self as vol, ActivityInput, ServiceRecord, StationInput, TeamInput, Volunteer};
use crate::service::weekly_summaries::{self as weekly, SummaryInput};
use crate::store::Db;
use crate::store::record::Insert;
use chrono::NaiveDate;

/// What was made, for the demo's summary line.
pub struct Made {
    pub reports: usize,
    pub volunteers: usize,
    pub hours: i64,
    pub suggestions: usize,
}

const HELP: [&str; 4] = [
    "路灯两盏不亮，需城管协调维修",
    "小区门口共享单车堆放，需运营企业清运",
    "墙面小广告反复张贴，需联合执法",
    "绿化带缺株，需园林部门补种",
];
const DONE: [&str; 5] = [
    "清理卫生死角，规范非机动车停放",
    "劝导占道经营3起，清理小广告5处",
    "巡查公益广告和宣传栏，补贴破损海报",
    "组织志愿者清扫楼道，清理堆物",
    "检查垃圾分类投放点，督促保洁及时清运",
];

/// The day's work at a point of this type: stairwells only where people live.
fn done_at(type_name: &str, k: usize) -> String {
    let text = DONE[k % DONE.len()];
    let housing = type_name.contains("小区") || type_name.contains("楼院");
    if text.contains("楼道") && !housing { DONE[(k + 1) % DONE.len()].into() } else { text.into() }
}

fn day(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

pub async fn seed(db: &Db, storage: &Storage) -> AppResult<Made> {
    let today = to_local(now_ms()).date_naive();
    let reports = daily(db, today).await?;
    summaries(db, today).await?;
    let (volunteers, hours) = volunteers(db, storage, today).await?;
    let suggestions = deliberation(db, today).await?;
    civilized(db, storage).await?;
    Ok(Made { reports, volunteers, hours, suggestions })
}

/// Daily reports of the first community's points and the first unit's points.
async fn daily(db: &Db, today: NaiveDate) -> AppResult<usize> {
    let grid = as_user(db, "grid").await?;
    let lead = as_user(db, "lead").await?;
    let points: Vec<(String, String, Option<String>, String)> = sqlx::query_as(
        "SELECT p.id, p.unit_id, p.community_id, t.name FROM points p JOIN point_types t ON t.id = p.type_id \
         WHERE p.active = 1 AND (p.community_id = $1 OR p.unit_id = $2) ORDER BY p.code",
    )
    .bind(grid.area_id.clone().unwrap_or_default())
    .bind(lead.unit_id.clone().unwrap_or_default())
    .fetch_all(&db.pool)
    .await?;
    let cal = crate::service::calendar::load(db).await?;
    let mut tx = db.begin().await?;
    // (The lead answers for six of the unit's points from their creation: `Seeder::points`.)
    let mut n = 0;
    for back in 1..=28u64 {
        let d = today - chrono::Days::new(back);
        if !cal.is_working_day(d) {
            continue;
        }
        let at = parse_local_day_start(&day(d)).unwrap_or(0) + 17 * 3_600_000;
        for (i, (point, unit, community, kind)) in points.iter().enumerate() {
            let k = i + back as usize;
            if k.is_multiple_of(9) {
                continue; // not every point reports every day
            }
            let r = DailyReport {
                id: new_id(),
                point_id: point.clone(),
                unit_id: unit.clone(),
                community_id: community.clone(),
                day: day(d),
                done: done_at(kind, k),
                help: if k % 11 == 3 { HELP[k % HELP.len()].into() } else { String::new() },
                problem_id: None,
                task_id: None,
                reported_by: lead.id.clone().into(),
                created_at: at,
                updated_at: at,
                version: 1,
            };
            r.insert(&mut tx).await?;
            n += 1;
        }
    }
    // Today: half the points have reported so far.
    let now = now_ms();
    for (i, (point, unit, community, kind)) in points.iter().enumerate().filter(|(i, _)| i % 2 == 0) {
        let r = DailyReport {
            id: new_id(),
            point_id: point.clone(),
            unit_id: unit.clone(),
            community_id: community.clone(),
            day: day(today),
            done: done_at(kind, i),
            help: if i == 2 { HELP[0].into() } else { String::new() },
            problem_id: None,
            task_id: None,
            reported_by: lead.id.clone().into(),
            created_at: now,
            updated_at: now,
            version: 1,
        };
        r.insert(&mut tx).await?;
        n += 1;
    }
    tx.commit().await?;
    Ok(n)
}

/// The first community's last three weeks: drafted, submitted and acknowledged by the street.
async fn summaries(db: &Db, today: NaiveDate) -> AppResult<()> {
    let grid = as_user(db, "grid").await?;
    let street = as_user(db, "street").await?;
    let g = Ctx { db, user: &grid, request_id: "demo" };
    let s = Ctx { db, user: &street, request_id: "demo" };
    let community = grid.area_id.clone().unwrap_or_default();
    for back in [3u64, 2, 1] {
        let monday = week_start(today) - chrono::Days::new(7 * back);
        let draft = weekly::draft(&g, &community, monday).await?;
        let body = format!("{}\n1. 继续做好背街小巷环境整治；2. 组织志愿者开展文明劝导。", draft.body);
        let input = SummaryInput { body, action: "submit".into(), version: Some(draft.version), ..Default::default() };
        let sent = weekly::save(&g, &draft.id, input).await?;
        if back > 1 {
            let ack = SummaryInput {
                reply: "已阅，请继续抓好点位日常管理。".into(),
                version: Some(sent.version),
                ..Default::default()
            };
            weekly::acknowledge(&s, &sent.id, ack).await?;
        }
    }
    Ok(())
}

/// Residents, a roster, a station, a team and a Tuesday-and-Friday activity with four weeks
/// of confirmed service.
async fn volunteers(db: &Db, _storage: &Storage, today: NaiveDate) -> AppResult<(usize, i64)> {
    let admin = as_user(db, "admin").await?;
    let grid = as_user(db, "grid").await?;
    let a = Ctx { db, user: &admin, request_id: "demo" };
    let g = Ctx { db, user: &grid, request_id: "demo" };
    let communities: Vec<(String, String)> =
        sqlx::query_as("SELECT id, name FROM org_nodes WHERE level = 'community' ORDER BY code")
            .fetch_all(&db.pool)
            .await?;
    for (i, (id, _)) in communities.iter().enumerate() {
        vol::set_residents(&a, id, &(6000 + (i * 1379) % 9000).to_string()).await?;
    }
    let first = grid.area_id.clone().unwrap_or_default();
    let team = vol::create_team(
        &g,
        TeamInput {
            name: "金狮社区学雷锋志愿服务队".into(), community_id: first.clone(), leader: "刘桂芳".into()
        },
    )
    .await?;
    let station = vol::create_station(
        &g,
        StationInput {
            name: "金狮社区学雷锋志愿服务站".into(),
            community_id: first.clone(),
            address: "金狮社区党群服务中心一楼".into(),
            hours: "每周二、五 9:00-11:00".into(),
            equipment: "医药箱、打气筒、雨伞、老花镜、针线包、饮水机".into(),
            ..Default::default()
        },
    )
    .await?;
    let now = now_ms();
    let mut tx = db.begin().await?;
    let mut roster = Vec::new();
    for i in 0..120usize {
        let cid = if i < 40 { &first } else { &communities[i % communities.len()].0 };
        let v = Volunteer {
            id: new_id(),
            name: super::names::person_name(600 + i),
            phone: format!("1390000{:04}", i),
            community_id: cid.clone(),
            team_id: (cid == &first && i % 2 == 0).then(|| team.id.clone()),
            skills: ["理发", "家电维修", "法律咨询", "义诊", "文明劝导", ""][i % 6].into(),
            joined_on: day(today - chrono::Days::new(30 + (i as u64 * 7) % 400)),
            created_at: now,
            updated_at: now,
            version: 1,
        };
        v.insert(&mut tx).await?;
        roster.push(v);
    }
    tx.commit().await?;
    let first_day = today - chrono::Days::new(35);
    let activity = vol::create_activity(
        &g,
        ActivityInput {
            title: "学雷锋便民服务".into(),
            community_id: first.clone(),
            station_id: station.id.clone(),
            team_id: team.id.clone(),
            weekdays: "二、五".into(),
            starts_at: "09:00".into(),
            ends_at: "11:00".into(),
            first_day: day(first_day),
            last_day: day(today + chrono::Days::new(180)),
            capacity: "30".into(),
        },
    )
    .await?;
    let mut tx = db.begin().await?;
    let mut minutes = 0;
    let ours: Vec<&Volunteer> = roster.iter().filter(|v| v.community_id == first).collect();
    for d in activity
        .upcoming(first_day)
        .into_iter()
        .chain(activity.upcoming(first_day + chrono::Days::new(14)))
        .chain(activity.upcoming(first_day + chrono::Days::new(28)))
    {
        if d >= today {
            continue;
        }
        let start = parse_local_day_start(&day(d)).unwrap_or(0) + 9 * 3_600_000;
        for (k, v) in ours.iter().enumerate().filter(|(k, _)| (k + d.ordinal() as usize).is_multiple_of(3)) {
            let m = 90 + (k as i64 % 4) * 10;
            let r = ServiceRecord {
                id: new_id(),
                activity_id: activity.id.clone(),
                day: day(d),
                volunteer_id: v.id.clone(),
                community_id: first.clone(),
                state: ServiceState::Confirmed,
                signed_up_at: None,
                signed_in_at: Some(start),
                signed_out_at: Some(start + m * 60_000),
                minutes: m,
                confirmed_by: Some(grid.id.clone()),
                confirmed_at: Some(start + m * 60_000 + 600_000),
                created_at: start,
                updated_at: start,
                version: 1,
            };
            r.insert(&mut tx).await?;
            minutes += m;
        }
    }
    tx.commit().await?;
    Ok((roster.len(), minutes / 60))
}

use chrono::Datelike;

/// A residents' meeting two weeks ago: one suggestion answered on the spot, one routed to the
/// first unit and answered, one routed and still open; and an online suggestion waiting.
async fn deliberation(db: &Db, today: NaiveDate) -> AppResult<usize> {
    let grid = as_user(db, "grid").await?;
    let unit = as_user(db, "unit").await?;
    let g = Ctx { db, user: &grid, request_id: "demo" };
    let u = Ctx { db, user: &unit, request_id: "demo" };
    let m = delib::create_meeting(
        &g,
        MeetingInput {
            community_id: grid.area_id.clone().unwrap_or_default(),
            held_on: day(today - chrono::Days::new(14)),
            place: "金狮社区居民议事亭".into(),
            topic: "小区环境和停车秩序".into(),
            residents: "23".into(),
            party_members: "6".into(),
            property: "金狮物业服务有限公司".into(),
            partners: "城市管理局、公园街道派出所".into(),
            minutes: "居民代表围绕电动车充电、楼道堆物和停车秩序发言，社区、物业和共建单位逐一回应。".into(),
        },
    )
    .await?;
    let say = |c: &str, who: &str| SuggestionInput { content: c.into(), raised_by: who.into(), ..Default::default() };
    let s1 = delib::add_at_meeting(&g, &m.id, say("楼道堆放杂物较多，存在消防隐患", "王阿姨")).await?;
    let s2 = delib::add_at_meeting(&g, &m.id, say("小区门口路灯不亮，晚上出行不便", "张师傅")).await?;
    let s3 = delib::add_at_meeting(&g, &m.id, say("电动车充电桩不够用，希望增设", "李先生")).await?;
    let answer = |text: &str, v: i64| HandleInput {
        action: "answer".into(),
        answer: text.into(),
        version: Some(v),
        ..Default::default()
    };
    delib::handle(&g, &s1.id, answer("物业本周内组织清理楼道堆物，社区志愿者协助劝导", s1.version)).await?;
    let unit_id = unit.unit_id.clone().unwrap_or_default();
    let route = |v: i64, due: NaiveDate| HandleInput {
        action: "route".into(),
        unit_id: unit_id.clone(),
        due_on: day(due),
        version: Some(v),
        ..Default::default()
    };
    let r2 = delib::handle(&g, &s2.id, route(s2.version, today + chrono::Days::new(3))).await?;
    let by = today + chrono::Days::new(3);
    let fixed_by = format!("已安排维修班组更换路灯，{}前修复", by.format("%-m月%-d日"));
    delib::handle(&u, &r2.id, answer(&fixed_by, r2.version)).await?;
    delib::handle(&g, &s3.id, route(s3.version, today + chrono::Days::new(10))).await?;
    // Raised at the meeting two weeks ago (seeded now): dated by the meeting's evening.
    let evening = parse_local_day_start(&m.held_on).unwrap_or(0) + 19 * 3_600_000;
    sqlx::query("UPDATE suggestions SET created_at = $1 WHERE meeting_id = $2")
        .bind(evening)
        .bind(&m.id)
        .execute(&db.pool)
        .await?;
    delib::add_online(
        db,
        SuggestionInput {
            community_id: grid.area_id.clone().unwrap_or_default(),
            content: "希望在社区广场增加健身器材".into(),
            ..Default::default()
        },
    )
    .await?;
    Ok(4)
}

/// Two applications: the first unit's scored and passed, the bank branch's waiting.
async fn civilized(db: &Db, storage: &Storage) -> AppResult<()> {
    let admin = as_user(db, "admin").await?;
    let unit = as_user(db, "unit").await?;
    let bank = as_user(db, "bank").await?;
    let texts = |who: &str| -> Vec<String> {
        crate::domain::community::CRITERIA
            .iter()
            .map(|(c, _)| format!("{who}在“{c}”方面建立了制度，全年按计划开展，成效明显。"))
            .collect()
    };
    let a = crate::service::civilized::apply(
        &Ctx { db, user: &unit, request_id: "demo" },
        storage,
        texts("本单位"),
        Vec::new(),
        None,
    )
    .await?;
    crate::service::civilized::apply(
        &Ctx { db, user: &bank, request_id: "demo" },
        storage,
        texts("本网点"),
        Vec::new(),
        None,
    )
    .await?;
    let scores = ["14", "13", "14", "9", "9", "13", "9", "9"].iter().map(|s| s.to_string()).collect();
    let review = crate::service::civilized::ReviewInput {
        decision: "score".into(),
        scores,
        note: "材料齐全，创城问题整改及时".into(),
        version: Some(a.version),
    };
    crate::service::civilized::review(&Ctx { db, user: &admin, request_id: "demo" }, &a.id, review).await?;
    Ok(())
}
