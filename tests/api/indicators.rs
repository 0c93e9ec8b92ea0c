//! 城市指标: every threshold of seed 004 at its boundary, entered over HTTP and graded on the
//! page (">" excludes the threshold, "≥" includes it), east and west; the weakest first; bad
//! input refused; the source kept; audited.

use crate::both;
use crate::helpers::{Browser, TestApp};
use reqwest::StatusCode;

/// The grade shown for an indicator in a year.
async fn grade(b: &Browser, code: &str, year: i64) -> String {
    let (status, html) = b.get(&format!("/indicators/city?year={year}")).await;
    assert_eq!(status, StatusCode::OK);
    let row = html.split(&format!("data-code=\"{code}\"")).nth(1).unwrap_or_else(|| panic!("{code} on the page"));
    let cell = row.split("class=\"grade\">").nth(1).unwrap().split("</td>").next().unwrap();
    cell.split('>').nth(1).unwrap_or(cell).split('<').next().unwrap().to_string()
}

async fn enter(b: &Browser, code: &str, year: i64, value: &str) {
    let y = year.to_string();
    let (status, html, _) =
        b.post("/indicators/city", &[("code", code), ("year", &y), ("value", value), ("source", "统计公报")]).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{code} {value}: {html}");
}

// (indicator, value, grade) as the requirement text reads (east and central cities).
const EAST: &[(&str, &str, &str)] = &[
    ("green_space_rate", "31.01", "优秀"),
    ("green_space_rate", "31", "良好"),
    ("green_space_rate", "28.01", "良好"),
    ("green_space_rate", "28", "达标"),
    ("park_green_per_person", "8.01", "优秀"),
    ("park_green_per_person", "8", "良好"),
    ("park_green_per_person", "6", "达标"),
    ("garbage_treatment_rate", "95.01", "优秀"),
    ("garbage_treatment_rate", "95", "良好"),
    ("garbage_treatment_rate", "90", "达标"),
    ("air_good_days", "80", "优秀"),
    ("air_good_days", "79.99", "良好"),
    ("air_good_days", "70", "良好"),
    ("air_good_days", "69.99", "达标（需完成省级下达的年度目标任务）"),
    ("main_road_lamps_installed", "100", "达标"),
    ("main_road_lamps_installed", "99.99", "未达标"),
    ("main_road_lamps_lit", "99", "达标"),
    ("main_road_lamps_lit", "98.99", "未达标"),
    ("back_street_lamps_installed", "100", "达标"),
    ("back_street_lamps_lit", "95", "达标"),
    ("back_street_lamps_lit", "94.99", "未达标"),
    ("sports_area_per_person", "1.08", "未达标"),
    ("sports_area_per_person", "1.09", "达标"),
    ("exercise_points_per_street", "5", "达标"),
    ("exercise_points_per_street", "4", "未达标"),
    ("moral_class_rate", "100", "合格"),
    ("moral_class_rate", "80", "基本合格"),
    ("moral_class_rate", "79.9", "不合格"),
    ("water_good_rate", "70", "达标"),
];

both!(the_city_indicators_grade_every_boundary, |app: TestApp| async move {
    let office = app.login("admin").await;
    // Each case in its own year, so each is graded alone.
    for (i, (code, value, _)) in EAST.iter().enumerate() {
        enter(&office, code, 1990 + i as i64, value).await;
    }
    for (i, (code, value, expected)) in EAST.iter().enumerate() {
        assert_eq!(grade(&office, code, 1990 + i as i64).await, *expected, "{code} = {value}");
    }
    // Western cities: green space > 21 / > 18.
    let (status, _, _) = office.post("/indicators/city/region", &[("region", "west")]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    for (year, value, expected) in [(2019, "21.01", "优秀"), (2020, "21", "良好"), (2021, "18", "达标")] {
        enter(&office, "green_space_rate", year, value).await;
        assert_eq!(grade(&office, "green_space_rate", year).await, expected, "west {value}");
    }
    assert!(app.scalar("SELECT COUNT(*) FROM audit_log WHERE object_id = 'city_region'").await >= 1);

    // A correction keeps one value per year, audited; the page puts the weakest first.
    enter(&office, "main_road_lamps_lit", 2022, "99.5").await;
    enter(&office, "main_road_lamps_lit", 2022, "97").await;
    enter(&office, "garbage_treatment_rate", 2022, "97").await;
    assert_eq!(app.scalar("SELECT COUNT(*) FROM city_indicator_values WHERE year = 2022").await, 2);
    assert!(
        app.scalar("SELECT COUNT(*) FROM audit_log WHERE object_type = 'city_indicator' AND action = 'update'").await
            >= 1
    );
    let (_, html) = office.get("/indicators/city?year=2022").await;
    let at = |code: &str| html.find(&format!("data-code=\"{code}\"")).unwrap();
    assert!(at("main_road_lamps_lit") < at("garbage_treatment_rate"), "the failing indicator first");

    // Bad input is named; nothing saved.
    let (status, html, _) = office
        .post(
            "/indicators/city",
            &[("code", "green_space_rate"), ("year", "1800"), ("value", "一百二"), ("source", "")],
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    for m in ["年度应为1990至", "数值应为不小于0的数字", "请填写数据来源"] {
        assert!(html.contains(m), "{m}");
    }
    let (status, html, _) = office
        .post("/indicators/city", &[("code", "air_good_days"), ("year", "2023"), ("value", "120"), ("source", "x")])
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("百分比不能超过100"));
    // A year still to come, or not a number, is named beside what was typed (no lost form).
    let next = (chrono::Datelike::year(&chrono::Utc::now()) + 2).to_string();
    for year in [next.as_str(), "二〇二六"] {
        let (status, html, _) = office
            .post("/indicators/city", &[("code", "air_good_days"), ("year", year), ("value", "81"), ("source", "公报")])
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{year}");
        assert!(html.contains("年度应为1990至") && html.contains("value=\"公报\""), "{year}");
    }
    assert_eq!(app.scalar("SELECT COUNT(*) FROM city_indicator_values WHERE value = 81").await, 0);
    // A year in the address that is not one shows this year's board and says so.
    let (status, html) = office.get("/indicators/city?year=abc").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("查询的年度应为1990至2100的整数"));
    let unit = app.login("unit").await;
    assert_eq!(unit.get("/indicators/city").await.0, StatusCode::FORBIDDEN);
});

/// The entry form of the page a user opened: its `seen` field.
async fn seen(b: &Browser, year: i64) -> String {
    let (status, html) = b.get(&format!("/indicators/city?year={year}")).await;
    assert_eq!(status, StatusCode::OK);
    crate::helpers::field_value(&html, "seen")
}

both!(a_value_entered_by_another_admin_meanwhile_is_not_overwritten_unseen, |app: TestApp| async move {
    let (a, b) = (app.login("admin").await, app.login("admin").await);
    let count = "SELECT COUNT(*) FROM city_indicator_values WHERE code = 'green_space_rate' AND year = 2025";
    let post = async |br: &Browser, value: &str, seen: &str| {
        let f =
            [("code", "green_space_rate"), ("year", "2025"), ("value", value), ("source", "统计公报"), ("seen", seen)];
        br.post("/indicators/city", &f).await
    };
    // Both opened the page of 2025 with no value; A enters one, then B.
    let (seen_a, seen_b) = (seen(&a, 2025).await, seen(&b, 2025).await);
    assert_eq!(post(&a, "30", &seen_a).await.0, StatusCode::SEE_OTHER);
    let (status, html, _) = post(&b, "32", &seen_b).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        html.contains("建成区绿地率2025年的数值已由") && html.contains("填报为30（来源：统计公报），请核对后重新提交"),
        "{html}"
    );
    assert!(html.contains("value=\"32\""), "B's entry stays in the form");
    assert_eq!(
        app.scalar(
            "SELECT COUNT(*) FROM city_indicator_values WHERE code = 'green_space_rate' AND year = 2025 AND value = 30"
        )
        .await,
        1
    );
    // Having seen it, B corrects it.
    let seen_b = seen(&b, 2025).await;
    assert_eq!(post(&b, "32", &seen_b).await.0, StatusCode::SEE_OTHER);
    // A's page is now stale: A's correction is refused, naming B's value.
    let (status, html, _) = post(&a, "31", &seen_a).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("填报为32"), "{html}");
    assert_eq!(app.scalar(count).await, 1);
    // The form is for the year the page shows.
    let (_, page) = a.get("/indicators/city?year=2024").await;
    assert!(page.contains("id=\"vyear\" name=\"year\" inputmode=\"numeric\" value=\"2024\""), "{page}");
    // A year the page did not show: entered when it has no value, refused when it has one.
    let y2024 = |v: &'static str| {
        [("code", "green_space_rate"), ("year", "2024"), ("value", v), ("source", "统计公报"), ("seen", "2025|")]
    };
    assert_eq!(a.post("/indicators/city", &y2024("29")).await.0, StatusCode::SEE_OTHER);
    let (status, html, _) = a.post("/indicators/city", &y2024("28")).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("建成区绿地率2024年的数值已由") && html.contains("填报为29"), "{html}");

    // Two first entries of one value at the same moment: one saved, the other told. From a
    // client that sends no `seen`, the later save corrects the first (nothing to compare), or,
    // when both found no value, is told as above; never an internal error (before: 500).
    let form = |year: i64, v: &'static str, s: &str| {
        vec![
            ("code", "air_good_days".to_string()),
            ("year", year.to_string()),
            ("value", v.into()),
            ("source", "监测报告".into()),
            ("seen", s.to_string()),
        ]
    };
    let post = async |br: &Browser, f: Vec<(&'static str, String)>| {
        let f: Vec<(&str, &str)> = f.iter().map(|(k, v)| (*k, v.as_str())).collect();
        br.post("/indicators/city", &f).await
    };
    let stored = async |year: i64| {
        let sql = format!(
            "SELECT CAST(value AS TEXT) FROM city_indicator_values WHERE code = 'air_good_days' AND year = {year}"
        );
        let v: Vec<String> = sqlx::query_scalar(&sql).fetch_all(&app.db.pool).await.unwrap();
        v
    };
    let (seen_a, seen_b) = (seen(&a, 2023).await, seen(&b, 2023).await);
    let (ra, rb) = tokio::join!(post(&a, form(2023, "81", &seen_a)), post(&b, form(2023, "79", &seen_b)));
    let mut statuses = [ra.0, rb.0];
    statuses.sort();
    assert_eq!(statuses, [StatusCode::SEE_OTHER, StatusCode::UNPROCESSABLE_ENTITY], "{} {}", ra.1, rb.1);
    let (kept, loser) = if ra.0 == StatusCode::SEE_OTHER { ("81", &rb.1) } else { ("79", &ra.1) };
    assert!(loser.contains("全年空气质量优良天数比例2023年的数值已由"), "{loser}");
    assert!(loser.contains(&format!("填报为{kept}")), "{loser}");
    assert_eq!(stored(2023).await.len(), 1);
    assert!(stored(2023).await[0].starts_with(kept));
    let (ra, rb) = tokio::join!(post(&a, form(2022, "81", "")), post(&b, form(2022, "79", "")));
    for r in [&ra, &rb] {
        assert!([StatusCode::SEE_OTHER, StatusCode::UNPROCESSABLE_ENTITY].contains(&r.0), "{}", r.1);
    }
    assert!(ra.0 == StatusCode::SEE_OTHER || rb.0 == StatusCode::SEE_OTHER);
    assert_eq!(stored(2022).await.len(), 1);
    let saved_2022 = [&ra, &rb].iter().filter(|r| r.0 == StatusCode::SEE_OTHER).count() as i64;
    let audited = app.scalar("SELECT COUNT(*) FROM audit_log WHERE object_type = 'city_indicator'").await;
    assert_eq!(audited, 4 + saved_2022, "2025 entered and corrected, 2024 and 2023 entered once, each save of 2022");
});
