//! Today's problems in the demo ledger, filed and moved on through the real use cases, so the loop
//! can be tried at once: open, acknowledged, awaiting re-check, closed, reworked and overdue ones.

use crate::domain::problem::Action;
use crate::error::{AppError, AppResult};
use crate::media::storage::Storage;
use crate::service::problems::{ActInput, FileInput, act, file};
use crate::service::{Ctx, CurrentUser};
use crate::store::problems::Problem;
use crate::store::{Db, users};
use image::codecs::jpeg::JpegEncoder;
use image::{ImageBuffer, Rgb};

/// A generated "photo" (the demo has no camera): coloured blocks that differ per seed (the
/// seed is mixed first, so neighbouring seeds are different pictures, not near-copies).
pub(super) fn photo(seed: u64) -> Vec<u8> {
    let salt = seed.wrapping_add(0x9E37_79B9_7F4A_7C15).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    let salt = (salt ^ (salt >> 31)).wrapping_mul(0x94D0_49BB_1331_11EB);
    let img = ImageBuffer::from_fn(320, 240, |x, y| {
        let mut z = (((x / 10) as u64) << 40 | ((y / 10) as u64) << 20) ^ salt;
        z = z.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ (z >> 31);
        let v = (z >> 56) as u8;
        Rgb([v, 120u8.wrapping_add(v / 3), 255 - v])
    });
    let mut out = Vec::new();
    let _ = JpegEncoder::new_with_quality(&mut out, 80).encode_image(&img);
    out
}

/// A fix photo as the unit's phone takes it at the point a few minutes before sending it: the
/// picture with its capture time and place, which the re-check's evidence checks read. One in
/// ten was sent through a chat app that strips them (the re-check warns: 无拍摄信息), as in life.
pub(super) async fn fix_photo(db: &Db, problem: &Problem, seed: u64) -> AppResult<Vec<u8>> {
    let jpeg = photo(seed);
    if seed.is_multiple_of(10) {
        return Ok(jpeg);
    }
    let point = crate::store::points::get(db, &problem.point_id).await?;
    let at = point.and_then(|p| Some((p.lng?, p.lat?)));
    let now = crate::domain::time::now_ms();
    let taken = (now - 5 * 60_000).max(problem.found_at + 60_000).min(now);
    let taken = crate::domain::time::to_local(taken).format("%Y:%m:%d %H:%M:%S").to_string();
    Ok(crate::media::with_exif(&jpeg, &taken, at))
}

/// Today's before-photos: coloured blocks, and for the paper fix a street scene (the blocks
/// repeat too much for the alignment that confirms a copy).
fn before_photo(n: usize) -> Vec<u8> {
    if n == 2 { crate::bench::evidence::street_jpeg(3, true) } else { photo(n as u64 + 1) }
}

/// A photo cropped a little and saved again: other bytes, the same picture.
fn resaved(jpeg: &[u8]) -> Vec<u8> {
    let Ok(img) = image::load_from_memory(jpeg) else { return jpeg.to_vec() };
    let (w, h) = (img.width(), img.height());
    let cropped = img.crop_imm(w / 20, h / 20, w * 9 / 10, h * 9 / 10).to_rgb8();
    let mut out = Vec::new();
    let _ = JpegEncoder::new_with_quality(&mut out, 70).encode_image(&cropped);
    out
}

pub(super) async fn as_user(db: &Db, username: &str) -> AppResult<CurrentUser> {
    let u = users::by_username(db, username).await?.ok_or(AppError::NotFound)?;
    Ok(CurrentUser::signed_in(&u))
}

/// What the demo's activity made: weeks of history, then today's problems.
pub struct Seeded {
    pub history: super::history::Replayed,
    pub today: usize,
    /// Residents' reports (随手拍)
    pub reports: usize,
    /// 好差评 ratings at the window units
    pub ratings: usize,
    /// The evaluation season: rounds, materials, surveys
    pub evaluation: super::evaluation::Made,
    /// Community work: daily reports, volunteers, deliberation
    pub community: super::community::Made,
}

pub async fn seed(db: &Db, storage: &Storage) -> AppResult<Seeded> {
    let history = super::history::replay(db, storage).await?;
    let sup = as_user(db, "supervisor").await?;
    let lead = as_user(db, "lead").await?;
    let s = Ctx { db, user: &sup, request_id: "demo" };
    let l = Ctx { db, user: &lead, request_id: "demo" };
    // Points of the demo lead's unit, with a standard item that applies to each.
    let rows: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT p.id, i.id, i.item FROM points p JOIN point_types t ON t.id = p.type_id \
         JOIN standard_items i ON (i.point_types = '*' OR i.point_types LIKE '%' || t.code || '%') \
         JOIN standard_versions v ON v.id = i.version_id AND v.status = 'published' \
         WHERE p.unit_id = $1 AND p.active = 1 AND i.item IN ('暴露垃圾', '乱贴乱画', '车辆停放', '占道经营') ORDER BY p.code, i.major_code, i.minor_code",
    )
    .bind(lead.unit_id.clone().unwrap_or_default())
    .fetch_all(&db.pool)
    .await?;
    // What a supervisor writes for each item.
    let text = |item: &str, n: usize| match (item, n % 2) {
        ("暴露垃圾", 0) => "绿化带内有积存垃圾",
        ("暴露垃圾", _) => "垃圾桶周边散落垃圾",
        ("乱贴乱画", 0) => "电杆上有小广告",
        ("乱贴乱画", _) => "墙面乱贴乱画",
        ("车辆停放", _) => "非机动车乱停放，占用盲道",
        ("占道经营", _) => "流动摊贩占道经营",
        _ => "现场不符合标准要求",
    };
    let mut filed = Vec::new();
    for (n, (point, item, name)) in rows.iter().step_by(3).take(6).enumerate() {
        let input = FileInput {
            point_id: point.clone(),
            standard_item_id: Some(item.clone()),
            description: text(name, n).into(),
            source: "supervision".into(),
            allow_duplicate: true,
            ..Default::default()
        };
        filed.push(file(&s, storage, input, vec![before_photo(n)]).await?);
    }
    // Each action is taken on the problem as it stands (its current version).
    let step = |p: &Problem, reason: &str| ActInput {
        reason: reason.into(),
        note: "已清理完毕".into(),
        version: Some(p.version),
        ..Default::default()
    };
    // 0 stays 待签收; 1 acknowledged; 2 fixed, awaiting the re-check; 3 closed; 4 reworked;
    // 5 acknowledged with an extension request.
    for p in filed.iter_mut().skip(1) {
        *p = act(&l, storage, &p.id, Action::Acknowledge, step(p, ""), vec![]).await?;
    }
    for (k, p) in filed.iter_mut().enumerate().skip(2).take(3) {
        // The one awaiting the re-check is a paper fix: its before-photo cropped and re-saved,
        // which the re-check page flags (重复使用整改前照片).
        let after = if k == 2 { resaved(&before_photo(k)) } else { fix_photo(db, p, 100 + k as u64 + 1).await? };
        *p = act(&l, storage, &p.id, Action::SubmitFix, step(p, ""), vec![after]).await?;
    }
    if let Some(p) = filed.get(3) {
        act(&s, storage, &p.id, Action::Pass, step(p, ""), vec![]).await?;
    }
    if let Some(p) = filed.get(4) {
        act(&s, storage, &p.id, Action::Fail, step(p, "周边仍有散落垃圾"), vec![]).await?;
    }
    // 5 waits for the office: the unit asked for more time (the office's queue shows it).
    if let Some(p) = filed.get(5) {
        let ask =
            ActInput { days: Some(2), ..step(p, "需协调相关部门共同处置，申请延期2个工作日") };
        act(&l, storage, &p.id, Action::RequestExtension, ask, vec![]).await?;
    }
    scoring(db).await?;
    let reports = super::citizen::seed(db, storage).await?;
    let ratings = super::windows::seed(db).await?;
    let evaluation = super::evaluation::seed(db, storage).await?;
    let community = super::community::seed(db, storage).await?;
    Ok(Seeded { history, today: filed.len(), reports, ratings, evaluation, community })
}

/// Scoring activity for the demo: a commendation, a clean inspection at a bank branch, and this
/// week's notice as a draft for the office to edit and publish.
async fn scoring(db: &Db) -> AppResult<()> {
    use crate::domain::score::Class;
    let admin = as_user(db, "admin").await?;
    let sup = as_user(db, "supervisor").await?;
    let a = Ctx { db, user: &admin, request_id: "demo" };
    let s = Ctx { db, user: &sup, request_id: "demo" };
    if let Some(unit) =
        crate::store::units::all_names(db).await?.into_iter().find(|(_, n)| n.contains("住房和城乡建设局"))
    {
        crate::service::scoring::commend(&a, Class::Unit, &unit.0, "建筑工地围挡和扬尘问题整改迅速", None).await?;
    }
    let bank_point: Option<String> = sqlx::query_scalar(
        "SELECT p.id FROM points p JOIN units u ON u.id = p.unit_id WHERE u.kind = 'bank_branch' ORDER BY p.code LIMIT 1",
    )
    .fetch_optional(&db.pool)
    .await?;
    if let Some(p) = bank_point {
        crate::service::scoring::record_clean(&s, &p, "营业厅环境整洁，服务规范").await?;
    }
    let today = crate::domain::time::to_local(crate::domain::time::now_ms()).date_naive();
    crate::service::notices::generate(&a, crate::domain::notice::NoticeKind::Weekly, Class::Unit, today).await?;
    Ok(())
}
