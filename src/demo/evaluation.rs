//! The evaluation season in the demo city: a few points in two more streets, a finished and
//! published simulated round (with its last place's transfer) and a running one, a material
//! drive half way, a finished resident survey and an open thematic survey of the bank
//! branches, and two years of the city's indicators.

use super::problems::{as_user, photo};
use crate::domain::evaluation::Answers;
use crate::domain::ids::new_id;
use crate::error::AppResult;
use crate::media::storage::Storage;
use crate::service::Ctx;
use crate::service::evaluations::{self as rounds, RoundInput, Scored};
use crate::service::indicators::{self, ValueInput};
use crate::service::materials::{self, DriveInput, ReviewInput};
use crate::service::surveys::{self, QuestionInput, SurveyInput};
use crate::store::Db;
use std::collections::HashMap;

/// A small deterministic generator (the demo is the same every time).
struct Dice(u64);

impl Dice {
    fn below(&mut self, n: u64) -> u64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (self.0 >> 33) % n.max(1)
    }
}

/// What was made, for the demo's summary line.
pub struct Made {
    pub rounds: usize,
    pub visits: usize,
    pub materials: usize,
    pub responses: usize,
}

pub async fn seed(db: &Db, storage: &Storage) -> AppResult<Made> {
    more_streets(db).await?;
    let admin = as_user(db, "admin").await?;
    let office = Ctx { db, user: &admin, request_id: "demo" };
    let evaluator = as_user(db, "evaluator").await?;
    let ev = Ctx { db, user: &evaluator, request_id: "demo" };
    let mut dice = Dice(2026);
    let round = |name: &str, from: &str, to: &str, seed: i64| RoundInput {
        name: name.into(),
        starts_on: from.into(),
        ends_on: to.into(),
        quotas: "主次干道:6，背街小巷:5，居民小区:6，银行营业网点:3，农贸市场/集贸市场:2".into(),
        seed: seed.into(),
        evaluators: vec![evaluator.id.clone()],
        last_place_interview: Some("1".into()),
        transfer_amount: 200_000.into(),
        ..Default::default()
    };
    let first = rounds::create_round(&office, round("2026年第一轮模拟测评", "2026-09-01", "2026-09-10", 11)).await?;
    let visits = score_all(&ev, storage, &first.id, &mut dice, usize::MAX).await?;
    rounds::publish_round(&office, &first.id).await?;
    let second = rounds::create_round(&office, round("2026年第二轮模拟测评", "2026-11-25", "2026-12-10", 12)).await?;
    let visits = visits + score_all(&ev, storage, &second.id, &mut dice, 12).await?;
    let materials = drive(db, storage).await?;
    let responses = resident_survey(&office, &ev, &mut dice).await? + bank_survey(db, &office, &mut dice).await?;
    city_indicators(&office).await?;
    Ok(Made { rounds: 2, visits, materials, responses })
}

/// Up to ten points in the first community of two more streets, copied from 公园街道's (their units
/// and leads), so that a round spans several streets. Named and numbered as the city's own points
/// are: roads of those streets, the community's lanes, each name and code used once.
async fn more_streets(db: &Db) -> AppResult<()> {
    let communities: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT c.id, c.name, s.code FROM org_nodes c JOIN org_nodes s ON s.id = c.parent_id \
         WHERE c.level = 'community' AND s.name <> '公园街道' \
         AND c.code = (SELECT MIN(c2.code) FROM org_nodes c2 WHERE c2.parent_id = s.id AND c2.level = 'community') \
         ORDER BY s.code LIMIT 2",
    )
    .fetch_all(&db.pool)
    .await?;
    // Roads of the other streets, none of them a road of 公园街道's points (names::ROADS).
    let roads = ["浮阳大道", "迎宾大道"];
    for (ci, (community, community_name, street_code)) in communities.iter().enumerate() {
        let lanes = community_name.trim_end_matches("社区");
        for (k, type_code) in ["main_road", "main_road", "back_street", "back_street", "compound"].iter().enumerate() {
            let template: Option<String> = sqlx::query_scalar(
                "SELECT p.id FROM points p JOIN point_types t ON t.id = p.type_id WHERE t.code = $1 ORDER BY p.code LIMIT 1",
            )
            .bind(type_code)
            .fetch_optional(&db.pool)
            .await?;
            let Some(template) = template else { continue };
            let name = match *type_code {
                "main_road" => format!("{}（{}段）", roads[ci % roads.len()], ["东", "西"][k % 2]),
                "back_street" => format!("{lanes}{}号巷", k - 1),
                _ => format!("{}小区", ["锦绣", "康宁"][ci % 2]),
            };
            sqlx::query(
                "INSERT INTO points (id, code, name, type_id, fixed, address, lng, lat, community_id, grid_id, unit_id, \
                 lead_name, lead_phone, backup_name, backup_phone, guarantor_name, guarantor_phone, active, note, created_at, \
                 updated_at, version) SELECT $1, $2, $3, type_id, fixed, '', NULL, NULL, $4, NULL, unit_id, lead_name, \
                 lead_phone, backup_name, backup_phone, guarantor_name, guarantor_phone, 1, '', created_at, updated_at, 1 \
                 FROM points WHERE id = $5",
            )
            .bind(new_id())
            .bind(format!("{street_code}-{:03}", k + 1))
            .bind(name)
            .bind(community)
            .bind(&template)
            .execute(&db.pool)
            .await?;
        }
    }
    Ok(())
}

/// The evaluator scores up to `limit` points of a round: about one item in five fails (with a
/// photo), more at some units than others.
async fn score_all(ev: &Ctx<'_>, storage: &Storage, round: &str, dice: &mut Dice, limit: usize) -> AppResult<usize> {
    let visits = crate::store::evaluation::visits(ev.db, round).await?;
    let mut n = 0;
    for v in visits.iter().take(limit) {
        let (_, _, items) = rounds::visit(ev, &v.id).await?;
        let strict = (v.unit_name.len() % 3) as u64;
        let mut scored = HashMap::new();
        for i in &items {
            let roll = dice.below(20);
            let result = if roll < 3 + strict {
                "fail"
            } else if roll == 19 {
                "na"
            } else {
                "pass"
            };
            let photos = if result == "fail" { vec![photo(dice.below(1000) + 7)] } else { Vec::new() };
            scored.insert(
                i.id.clone(),
                Scored {
                    result: result.into(),
                    note: if result == "fail" {
                        "测评发现问题，现场拍照留证".into()
                    } else {
                        String::new()
                    },
                    photos,
                },
            );
        }
        rounds::score(ev, storage, &v.id, Some(v.version), scored).await?;
        n += 1;
    }
    Ok(n)
}

/// The year's material drive: some indicators accepted, one returned, some waiting for review.
async fn drive(db: &Db, storage: &Storage) -> AppResult<usize> {
    let admin = as_user(db, "admin").await?;
    let office = Ctx { db, user: &admin, request_id: "demo" };
    let today = crate::domain::time::to_local(crate::domain::time::now_ms()).date_naive();
    let due = (today + chrono::Duration::days(10)).format("%Y-%m-%d").to_string();
    let d = materials::create_drive(&office, DriveInput { name: "2026年度网上申报材料".into(), due_on: due }).await?;
    let tasks = materials::tasks(&office, &d.id).await?;
    let pdf = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n".to_vec();
    let mut done = 0;
    for (k, t) in tasks.iter().enumerate().take(7) {
        let liaison: Option<String> = sqlx::query_scalar(
            "SELECT username FROM users WHERE unit_id = $1 AND role = 'unit_user' ORDER BY username LIMIT 1",
        )
        .bind(&t.unit_id)
        .fetch_optional(&db.pool)
        .await?;
        let Some(liaison) = liaison else { continue };
        let user = as_user(db, &liaison).await?;
        let unit = Ctx { db, user: &user, request_id: "demo" };
        let files =
            vec![(format!("{}佐证材料.pdf", t.code), pdf.clone()), ("现场照片.jpg".to_string(), photo(500 + k as u64))];
        let account = format!("对照“{}”，本单位已逐项落实，相关文件、台账和照片见附件。", t.standard);
        let submitted = materials::submit(&unit, storage, &t.id, Some(t.version), &account, files).await?;
        done += 1;
        let decision = match k % 3 {
            0 => Some(("accept", "")),
            1 if k == 1 => Some(("return", "缺少2026年度统计数据，请补充后重新上传")),
            _ => None,
        };
        if let Some((decision, reason)) = decision {
            let input =
                ReviewInput { decision: decision.into(), reason: reason.into(), version: Some(submitted.version) };
            materials::review(&office, &t.id, input).await?;
        }
    }
    Ok(done)
}

/// Last quarter's resident survey, closed: 300 households in the communities of 公园街道.
async fn resident_survey(office: &Ctx<'_>, ev: &Ctx<'_>, dice: &mut Dice) -> AppResult<usize> {
    let s = surveys::create(
        office,
        SurveyInput {
            name: "2026年第三季度市民文明城市创建满意度调查".into(),
            kind: "resident".into(),
            intro: "为了解市民对文明城市创建工作的知晓、支持和满意情况，特开展本次调查，感谢您的参与。".into(),
        },
    )
    .await?;
    surveys::set_state(office, &s.id, true).await?;
    let communities: Vec<String> = sqlx::query_scalar(
        "SELECT c.id FROM org_nodes c JOIN org_nodes s ON s.id = c.parent_id WHERE c.level = 'community' \
         AND s.name = '公园街道' ORDER BY c.code LIMIT 8",
    )
    .fetch_all(&office.db.pool)
    .await?;
    let mut n = 0;
    for i in 0..300usize {
        let c = &communities[i % communities.len()];
        let bias = (i % communities.len()) as u64;
        let mut a = Answers::new();
        let mut put = |q: &str, v: String| a.insert(q.to_string(), vec![v]);
        put("q1", if dice.below(100) < 92 - bias { "1" } else { "2" }.into());
        put(
            "q2",
            if dice.below(100) < 95 { ["1", "2"][dice.below(2) as usize] } else { ["3", "4"][dice.below(2) as usize] }
                .into(),
        );
        let sat = if dice.below(100) < 85 - 2 * bias { 1 + dice.below(2) } else { 3 + dice.below(2) };
        put("q3", sat.to_string());
        if sat >= 3 {
            put("q4", (1 + dice.below(5)).to_string());
        }
        if dice.below(10) == 0 {
            put(
                "q5",
                ["希望增加小区停车位", "背街小巷路灯经常不亮", "公交站台候车秩序要加强管理"][dice.below(3) as usize]
                    .into(),
            );
        }
        let household = format!("{}号楼{}单元{}室", 1 + i / 12, 1 + i % 3, 101 + i % 12);
        surveys::answer_staff(ev, &s.id, (&household, c), a, None).await?;
        n += 1;
    }
    surveys::set_state(office, &s.id, false).await?;
    Ok(n)
}

/// 专题调研 of the bank branches' volunteer teams, open, answered by most branches.
async fn bank_survey(db: &Db, office: &Ctx<'_>, dice: &mut Dice) -> AppResult<usize> {
    let s = surveys::create(
        office,
        SurveyInput {
            name: "银行网点学雷锋志愿服务专题调研".into(), kind: "thematic".into(), intro: String::new()
        },
    )
    .await?;
    let questions = [
        ("志愿服务队人数", "number", ""),
        ("本年度开展志愿服务活动次数", "number", ""),
        ("是否设立学雷锋志愿服务站", "single", "已设立并有人值守\n已设立但无人值守\n未设立"),
        ("志愿服务活动主要内容", "multi", "助老助残\n金融知识宣传\n文明引导\n环境整治\n其他"),
        ("对网点志愿服务保障的满意度", "scale", ""),
    ];
    let mut version = s.version;
    for (title, kind, options) in questions {
        let input = QuestionInput {
            kind: kind.into(),
            title: title.into(),
            options: options.into(),
            required: Some("1".into()),
            metric: "none".into(),
            version: Some(version),
            ..Default::default()
        };
        version = surveys::add_question(office, &s.id, input).await?.version;
    }
    surveys::set_state(office, &s.id, true).await?;
    let banks: Vec<String> = sqlx::query_scalar(
        "SELECT MIN(u.username) FROM users u JOIN units n ON n.id = u.unit_id WHERE n.kind = 'bank_branch' \
         AND u.role = 'unit_user' GROUP BY n.id ORDER BY MIN(u.username)",
    )
    .fetch_all(&db.pool)
    .await?;
    let mut n = 0;
    for name in banks.iter().skip(1) {
        let user = as_user(db, name).await?;
        let ctx = Ctx { db, user: &user, request_id: "demo" };
        let mut a = Answers::new();
        a.insert("q1".into(), vec![(6 + dice.below(15)).to_string()]);
        a.insert("q2".into(), vec![(4 + dice.below(20)).to_string()]);
        a.insert("q3".into(), vec![(1 + dice.below(3)).to_string()]);
        a.insert("q4".into(), vec!["2".into(), (1 + dice.below(5)).to_string()]);
        a.insert("q5".into(), vec![(3 + dice.below(3)).to_string()]);
        surveys::answer_staff(&ctx, &s.id, ("", ""), a, None).await?;
        n += 1;
    }
    Ok(n)
}

/// 2025 and 2026 values of the city's indicators with their sources.
async fn city_indicators(office: &Ctx<'_>) -> AppResult<()> {
    let values: [(&str, f64, f64); 12] = [
        ("green_space_rate", 33.2, 34.1),
        ("park_green_per_person", 7.6, 8.3),
        ("garbage_treatment_rate", 96.0, 100.0),
        ("air_good_days", 68.5, 71.2),
        ("water_good_rate", 66.7, 72.0),
        ("main_road_lamps_installed", 100.0, 100.0),
        ("main_road_lamps_lit", 98.6, 99.2),
        ("back_street_lamps_installed", 97.5, 99.1),
        ("back_street_lamps_lit", 93.0, 94.2),
        ("moral_class_rate", 96.0, 100.0),
        ("sports_area_per_person", 1.9, 2.1),
        ("exercise_points_per_street", 6.0, 7.0),
    ];
    for (code, y2025, y2026) in values {
        for (year, value, source) in [
            (2025, y2025, "2025年沧州市国民经济和社会发展统计公报"),
            (2026, y2026, "2026年1-11月运河区创城指标统计（区统计局）"),
        ] {
            let input = ValueInput {
                code: code.into(),
                year: year.into(),
                value: value.to_string(),
                source: source.into(),
                ..Default::default()
            };
            indicators::enter(office, input).await?;
        }
    }
    Ok(())
}
