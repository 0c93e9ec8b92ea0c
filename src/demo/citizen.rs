//! Residents' reports for the demo city: some waiting for the grid worker or the office, some
//! filed and being fixed, one fixed and rated, one rated "not fixed" and back with its unit, one
//! not filed with its public reason, and "我也遇到" supporters.

use super::problems::photo;
use crate::domain::citizen::Channel;
use crate::domain::problem::Action;
use crate::error::AppResult;
use crate::media::storage::Storage;
use crate::service::Ctx;
use crate::service::problems::{ActInput, act};
use crate::service::reports::{self as svc, FeedbackInput, Sender, SubmitInput, VerifyInput, VoidInput};
use crate::store::Db;

/// What residents say, and a word of the standard item it belongs to.
const SAID: [(&str, &str); 10] = [
    ("人行道上堆放建筑垃圾，行人只能走机动车道", "垃圾"),
    ("垃圾桶满溢好几天没人清运，气味很大", "垃圾"),
    ("电线杆上贴满小广告", "乱贴"),
    ("非机动车乱停放，堵住了盲道", "停放"),
    ("早点摊占道经营，油污满地", "占道"),
    ("路灯不亮，晚上很黑", "设施"),
    ("绿化带里有很多白色垃圾", "垃圾"),
    ("墙面被乱涂乱画", "乱贴"),
    ("公交站台广告牌破损", "广告"),
    ("小区门口车辆乱停，消防通道被堵", "停放"),
];

/// Returns how many reports were filed.
pub async fn seed(db: &Db, storage: &Storage) -> AppResult<usize> {
    let mut config = crate::config::Config::for_tests(std::path::PathBuf::new(), String::new());
    config.reports_per_hour = 1000;
    let services = svc::services(db).await?;
    if services.is_empty() {
        return Ok(0);
    }
    // Points of the lead's unit (they fix what is verified there) and of the grid worker's area.
    let lead = super::problems::as_user(db, "lead").await?;
    let grid = super::problems::as_user(db, "grid").await?;
    let admin = super::problems::as_user(db, "admin").await?;
    let sup = super::problems::as_user(db, "supervisor").await?;
    let unit_points: Vec<(String, f64, f64)> = sqlx::query_as(
        "SELECT id, lng, lat FROM points WHERE unit_id = $1 AND active = 1 AND lng IS NOT NULL ORDER BY code LIMIT 6",
    )
    .bind(lead.unit_id.clone().unwrap_or_default())
    .fetch_all(&db.pool)
    .await?;
    let area = crate::store::org::subtree_ids(db, grid.area_id.as_deref().unwrap_or_default()).await?;
    let mut grid_points = Vec::new();
    for p in crate::store::points::all(db).await? {
        if p.active == 1
            && p.community_id.as_ref().is_some_and(|c| area.contains(c))
            && let (Some(lng), Some(lat)) = (p.lng, p.lat)
        {
            grid_points.push((p.id, lng, lat));
        }
        if grid_points.len() >= 4 {
            break;
        }
    }
    let mut filed = Vec::new();
    for (n, (_, lng, lat)) in unit_points.iter().chain(grid_points.iter()).enumerate() {
        let (said, word) = SAID[n % SAID.len()];
        let s = services.iter().find(|s| s.name.contains(word)).unwrap_or(&services[n % services.len()]);
        let sender =
            Sender { client: svc::client_of(&format!("demo-resident-{n}")), channel: Channel::Web, api_key: None };
        let input = SubmitInput {
            service_code: s.code.clone(),
            description: said.into(),
            // A few metres off the point, as a phone's fix would be.
            lng: Some(lng + 0.0002 * ((n % 3) as f64 - 1.0)),
            lat: Some(lat + 0.00015),
            name: if n % 2 == 0 { "王女士".into() } else { String::new() },
            phone: if n % 3 == 0 { format!("1390000{:04}", 1000 + n) } else { String::new() },
            ..Default::default()
        };
        filed.push((svc::submit(db, storage, &config, &sender, input, (vec![photo(300 + n as u64)], true)).await?, n));
    }
    let office = Ctx { db, user: &admin, request_id: "demo" };
    let fixer = Ctx { db, user: &lead, request_id: "demo" };
    let checker = Ctx { db, user: &sup, request_id: "demo" };
    // The lead's unit's reports are verified; three of them are fixed and two of those rated.
    for (i, (s, _)) in filed.iter().take(unit_points.len().min(5)).enumerate() {
        let r =
            svc::verify(&office, &s.report.id, VerifyInput { version: Some(s.report.version), ..Default::default() })
                .await?;
        let Some(pid) = r.problem_id.clone() else { continue };
        if i >= 3 {
            continue;
        }
        let p = crate::store::problems::get(db, &pid).await?.ok_or(crate::error::AppError::NotFound)?;
        let step = |v: i64| ActInput { note: "已清理整改完毕".into(), version: Some(v), ..Default::default() };
        let p = act(&fixer, storage, &p.id, Action::Acknowledge, step(p.version), vec![]).await?;
        let after = super::problems::fix_photo(db, &p, 401 + i as u64).await?;
        let p = act(&fixer, storage, &p.id, Action::SubmitFix, step(p.version), vec![after]).await?;
        act(&checker, storage, &p.id, Action::Pass, step(p.version), vec![]).await?;
        let report = crate::store::reports::get(db, &r.id).await?.ok_or(crate::error::AppError::NotFound)?;
        let answer = match i {
            0 => Some(FeedbackInput {
                fixed: Some(true), satisfaction: Some(5), note: "处理很及时，谢谢".into()
            }),
            1 => Some(FeedbackInput {
                fixed: Some(false), satisfaction: Some(2), note: "清理后第二天又堆上了".into()
            }),
            _ => None,
        };
        if let Some(a) = answer {
            svc::feedback(db, storage, &report, a).await?;
        }
    }
    // One of the grid worker's is not a case for the campaign.
    if let Some((s, _)) = filed.get(unit_points.len()) {
        let reason = "经网格员现场核实，属小区内部物业管理事项，已转物业公司处理".into();
        svc::void(&office, &s.report.id, VoidInput { reason, version: Some(s.report.version) }).await?;
    }
    // Neighbours who saw the same thing.
    if let Some((s, _)) = filed.last() {
        for k in 0..3 {
            let sender =
                Sender { client: svc::client_of(&format!("demo-neighbour-{k}")), channel: Channel::Web, api_key: None };
            svc::support(db, &config, &sender, &s.report.code).await?;
        }
    }
    Ok(filed.len())
}
