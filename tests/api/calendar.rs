use crate::both;
use crate::helpers::*;
use reqwest::StatusCode;
use reqwest::multipart::{Form, Part};
use serde_json::json;

both!(the_shipped_calendar_gives_the_official_2026_deadlines, |app: TestApp| async move {
    let api = app.api_login("unit").await;
    let (status, years) = api.get("/api/v1/calendar").await;
    assert_eq!(status, StatusCode::OK);
    let y2026 = years.as_array().unwrap().iter().find(|y| y["year"] == 2026).expect("2026 shipped").clone();
    assert_eq!((y2026["holidays"].as_i64(), y2026["workdays"].as_i64()), (Some(33), Some(6)));
    let (_, days) = api.get("/api/v1/calendar/2026").await;
    let has = |day: &str, kind: &str| days.as_array().unwrap().iter().any(|d| d["day"] == day && d["kind"] == kind);
    assert!(has("2026-02-17", "holiday") && has("2026-02-14", "workday") && has("2026-10-10", "workday"));
    // Across the Spring Festival.
    let (status, d) = api.get("/api/v1/calendar/deadline?from=2026-02-13T10:00&days=3").await;
    assert_eq!(status, StatusCode::OK, "{d}");
    assert_eq!(d["deadline"], "2026-02-25T10:00:00+08:00");
    let (_, d) = api.get("/api/v1/calendar/deadline?from=2026-02-14T16:00&hours=4").await;
    assert_eq!(d["deadline"], "2026-02-24T11:00:00+08:00");
    // Across National Day, with an RFC 3339 start.
    let (_, d) = api.get("/api/v1/calendar/deadline?from=2026-09-30T01:00:00Z&days=1").await;
    assert_eq!(d["deadline"], "2026-10-08T09:00:00+08:00");
    assert_eq!(d["calendar_covered"], true);
    let (status, e) = api.get("/api/v1/calendar/deadline?from=tomorrow&days=1").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(e["error"]["code"], "invalid_time");
    let (status, e) = api.get("/api/v1/calendar/deadline?from=2026-02-13T10:00&days=1&hours=2").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(e["error"]["code"], "invalid_amount");
});

fn year_2027(bad: bool) -> serde_json::Value {
    let mut holidays =
        vec![json!({"date": "2027-01-01", "name": "元旦"}), json!({"date": "2027-10-01", "name": "国庆节"})];
    let mut workdays = vec![json!({"date": "2027-10-09", "name": "国庆节调休上班"})];
    if bad {
        holidays.push(json!({"date": "2027-02-30", "name": "春节"}));
        holidays.push(json!({"date": "2026-05-01", "name": "劳动节"}));
        workdays.push(json!({"date": "2027-10-11", "name": "周一不必调休"}));
    }
    json!({"year": 2027, "source": "测试", "holidays": holidays, "workdays": workdays})
}

both!(an_admin_uploads_a_new_year_all_or_nothing, |app: TestApp| async move {
    let admin = app.api_login("admin").await;
    let (status, e) = admin.put("/api/v1/calendar/2027", year_2027(true)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(e["error"]["code"], "import_rejected");
    let rows: Vec<(String, i64)> = e["error"]["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["sheet"].as_str().unwrap().to_string(), r["row"].as_i64().unwrap()))
        .collect();
    assert_eq!(rows, [("holidays".to_string(), 3), ("holidays".to_string(), 4), ("workdays".to_string(), 2)]);
    assert_eq!(app.scalar("SELECT COUNT(*) FROM calendar_days WHERE year = 2027").await, 0, "nothing half-saved");
    let (status, e) = admin.put("/api/v1/calendar/2028", year_2027(false)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(e["error"]["code"], "year_mismatch");
    let unit = app.api_login("unit").await;
    assert_eq!(unit.put("/api/v1/calendar/2027", year_2027(false)).await.0, StatusCode::FORBIDDEN);

    let (status, _) = admin.put("/api/v1/calendar/2027", year_2027(false)).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, d) = admin.get("/api/v1/calendar/deadline?from=2027-09-30T09:00&days=1").await;
    assert_eq!(d["deadline"], "2027-10-04T09:00:00+08:00", "Fri 1 Oct 2027 is now off, then the weekend: Monday 4 Oct");
    let (_, d) = admin.get("/api/v1/calendar/deadline?from=2027-10-08T09:00&days=1").await;
    assert_eq!(d["deadline"], "2027-10-09T09:00:00+08:00", "Saturday 9 Oct 2027 is a swapped working day");
    assert_eq!(
        app.scalar("SELECT COUNT(*) FROM audit_log WHERE object_type = 'calendar_year' AND object_id = '2027'").await,
        1
    );
});

both!(the_calendar_page_uploads_files_and_sets_working_hours, |app: TestApp| async move {
    let b = app.login("admin").await;
    let (status, html) = b.get("/settings/calendar?year=2026").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("2026年放假与调休安排") && html.contains("春节调休上班") && html.contains("国庆节"));
    let upload = |bytes: Vec<u8>, csrf: &str| {
        let form = Form::new().text("_csrf", csrf.to_string()).part("file", Part::bytes(bytes).file_name("2027.json"));
        b.client.post(format!("{}/settings/calendar/upload", app.base)).multipart(form).send()
    };
    let res = upload(year_2027(false).to_string().into_bytes(), "wrong").await.unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN, "an upload needs the CSRF token too");
    let res = upload(b"not json at all".to_vec(), &b.csrf).await.unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.text().await.unwrap().contains("文件不是有效的年度数据JSON"));
    let res = upload(year_2027(true).to_string().into_bytes(), &b.csrf).await.unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = res.text().await.unwrap();
    assert!(html.contains("请修改以下 3 处") && html.contains("节假日第3条") && html.contains("不是周末"));
    assert_eq!(app.scalar("SELECT COUNT(*) FROM calendar_years WHERE year = 2027").await, 0);
    let res = upload(year_2027(false).to_string().into_bytes(), &b.csrf).await.unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(app.scalar("SELECT COUNT(*) FROM calendar_days WHERE year = 2027").await, 3);

    let (status, html, _) = b.post("/settings/calendar/hours", &[("working_hours", "09:00-12:00,12:30-11:00")]).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("结束时间应晚于开始时间"));
    let (status, _, _) = b.post("/settings/calendar/hours", &[("working_hours", "09:00-12:00,14:00-18:00")]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    // The calculator on the page uses the new hours: 2 working hours from Friday 17:00 end Monday 10:00.
    let (_, html) = b.get("/settings/calendar?from=2026-11-20T17:00&amount=2&unit=hours").await;
    assert!(html.contains("2026-11-23 10:00:00"), "{}", html.split("id=\"deadline\"").nth(1).unwrap_or("no result"));
    // Everyone may read the calendar; only the office changes it.
    let unit = app.login("unit").await;
    let (status, html) = unit.get("/settings/calendar").await;
    assert_eq!(status, StatusCode::OK);
    assert!(!html.contains("/settings/calendar/upload"));
    let (status, _, _) = unit.post("/settings/calendar/hours", &[("working_hours", "08:00-20:00")]).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
});
