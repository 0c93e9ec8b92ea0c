//! Community work over HTTP on both databases: a point lead's daily report and the community's
//! view of who has not reported, help turned into a problem, the weekly summary drafted from the
//! records, submitted and acknowledged by the street; volunteer figures for 1,000 imported
//! volunteers against hand-computed values, with QR sign-in and sign-out and confirmed hours;
//! a resident's suggestion routed to a unit whose answer shows publicly without the resident's
//! name; a civilized-unit application scored, named, published and revoked.

use crate::both;
use crate::fixtures::jpeg_bytes;
use crate::helpers::{Browser, TestApp, extract_csrf, number, xlsx_sheets};
use chrono::Datelike;
use reqwest::StatusCode;

fn version_in(html: &str, after: &str) -> String {
    let from = html.find(after).expect("the marker");
    let marker = "name=\"version\" value=\"";
    let at = html[from..].find(marker).expect("a version") + from + marker.len();
    html[at..].split('"').next().unwrap().to_string()
}

async fn report(b: &Browser, point: &str, done: &str, help: &str, photo: Option<Vec<u8>>) -> (StatusCode, String) {
    let mut form = reqwest::multipart::Form::new()
        .text("_csrf", b.csrf.clone())
        .text("point_id", point.to_string())
        .text("done", done.to_string())
        .text("help", help.to_string());
    if let Some(p) = photo {
        form = form.part("photos", reqwest::multipart::Part::bytes(p).file_name("scene.jpg"));
    }
    let res = b.client.post(format!("{}/daily-reports", b.base)).multipart(form).send().await.unwrap();
    (res.status(), res.text().await.unwrap())
}

both!(a_point_lead_reports_the_community_sees_who_has_not_and_the_week_is_summarised, |app: TestApp| async move {
    let community = app.id_of("SELECT area_id FROM users WHERE username = 'grid'").await;
    let lead_unit = app.id_of("SELECT unit_id FROM users WHERE username = 'lead'").await;
    // One of the lead's points in the grid worker's community.
    let point = app
        .id_of(&format!("SELECT id FROM points WHERE unit_id = '{lead_unit}' AND community_id = '{community}' AND active = 1 ORDER BY code LIMIT 1"))
        .await;
    let in_community =
        app.scalar(&format!("SELECT COUNT(*) FROM points WHERE community_id = '{community}' AND active = 1")).await;
    assert!(in_community >= 2, "the community has points");

    let lead = app.login("lead").await;
    let (status, html) = lead.get("/daily-reports").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("今日未汇报") && html.contains(&point));
    let (status, html) = report(&lead, &point, "  ", "", None).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("请填写今日工作"), "refused in Chinese");
    let (status, _) = report(&lead, "not-a-point", "清理卫生死角", "", None).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (status, _) =
        report(&lead, &point, "清理卫生死角3处\n劝导占道经营2起", "路灯两盏不亮，需城管协调维修", Some(jpeg_bytes(31)))
            .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(app.scalar("SELECT COUNT(*) FROM daily_reports").await, 1);
    assert_eq!(app.scalar("SELECT COUNT(*) FROM photos WHERE owner_type = 'daily_report'").await, 1);
    // A second filing from a page opened before the first (no version) is refused, not duplicated.
    let (status, html) = report(&lead, &point, "又一次", "", None).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(html.contains("该点位今天已经汇报过了"), "said in Chinese");
    assert_eq!(app.scalar("SELECT COUNT(*) FROM daily_reports").await, 1);

    // Another unit sees nothing of it; the community sees who has and has not reported.
    let bank = app.login("bank").await;
    let (_, html) = bank.get("/daily-reports").await;
    assert!(!html.contains("路灯两盏不亮"));
    let grid = app.login("grid").await;
    let (status, html) = grid.get("/daily-reports?state=missing").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains(&format!("未汇报 <b id=\"missing-count\">{}</b>", in_community - 1)),
        "missing count from the records"
    );
    assert!(!html.contains("路灯两盏不亮"), "the reported point is not in the missing list");
    let (_, html) = grid.get("/daily-reports?state=help").await;
    assert!(html.contains("路灯两盏不亮") && html.contains("转为问题"));
    let report_id = app.id_of("SELECT id FROM daily_reports").await;
    let (status, _, to) = grid.post(&format!("/daily-reports/{report_id}/problem"), &[("version", "1")]).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{to:?}");
    assert_eq!(app.scalar(&format!("SELECT COUNT(*) FROM problems WHERE point_id = '{point}' AND source = 'grid_patrol' AND description = '路灯两盏不亮，需城管协调维修'")).await, 1);
    assert_eq!(app.scalar("SELECT COUNT(*) FROM daily_reports WHERE problem_id IS NOT NULL").await, 1);
    let (status, _, _) = grid.post(&format!("/daily-reports/{report_id}/problem"), &[("version", "2")]).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "not twice");

    // The weekly summary: drafted from the week's records, edited, submitted, acknowledged.
    let today = chrono::Utc::now().with_timezone(&chrono::FixedOffset::east_opt(8 * 3600).unwrap()).date_naive();
    let week = today.format("%Y-%m-%d").to_string();
    // A week not begun has nothing to summarise: no button, and a draft is refused.
    let ahead = (today + chrono::Days::new(14)).format("%Y-%m-%d").to_string();
    let (_, html) = grid.get(&format!("/daily-reports/weekly?week={ahead}")).await;
    assert!(html.contains("该周尚未开始") && !html.contains("生成周汇总") && !html.contains("下一周"), "{html}");
    let (status, html, _) = grid.post("/daily-reports/weekly", &[("community_id", &community), ("week", &ahead)]).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("该周尚未开始，不能生成周汇总"), "{html}");
    assert_eq!(app.scalar("SELECT COUNT(*) FROM weekly_summaries").await, 0);
    let (status, _, to) = grid.post("/daily-reports/weekly", &[("community_id", &community), ("week", &week)]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let to = to.unwrap();
    let (_, html) = grid.get(&to).await;
    assert!(html.contains("路灯两盏不亮，需城管协调维修"), "help asked for is in the draft");
    // Today's report counts as filed when today is a working day, else as a rest-day report.
    let calendar = chuangcheng::service::calendar::load(&app.db).await.unwrap();
    let filed = if calendar.is_working_day(today) { "实报1次" } else { "另有休息日汇报1次" };
    assert!(html.contains(filed) && html.contains("发现问题1个"), "figures from the records: {html}");
    let v = version_in(&html, "summary-form");
    let (status, html, _) = grid.post(&to, &[("body", ""), ("action", "submit"), ("version", &v)]).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("请填写汇总内容"));
    let (status, _, _) =
        grid.post(&to, &[("body", "本周汇报情况良好。\n下周继续。"), ("action", "submit"), ("version", &v)]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    // Another community's grid worker cannot acknowledge; the street office can.
    let (status, _, _) = grid.post(&format!("{to}/acknowledge"), &[("reply", ""), ("version", "2")]).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let street = app.login("street").await;
    let (_, roll) = street.get(&format!("/daily-reports/weekly?week={week}")).await;
    assert!(roll.contains("已报街道"), "the street's roll-up shows the submitted summary");
    let (status, _, _) = street.post(&format!("{to}/acknowledge"), &[("reply", "已阅"), ("version", "2")]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(app.id_of("SELECT state FROM weekly_summaries").await, "acknowledged");
    assert!(app.scalar("SELECT COUNT(*) FROM audit_log WHERE object_type = 'weekly_summary'").await >= 3, "audited");

    // Help at another point becomes a task of the unit in its responsibility ledger.
    let other = app
        .id_of(&format!("SELECT id FROM points WHERE unit_id = '{lead_unit}' AND id <> '{point}' AND active = 1 ORDER BY code LIMIT 1"))
        .await;
    let (status, _) = report(&lead, &other, "巡查背街小巷", "绿化带缺株，需园林部门补种", None).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let rid = app.id_of(&format!("SELECT id FROM daily_reports WHERE point_id = '{other}'")).await;
    let office = app.login("admin").await;
    let (status, html, _) =
        office.post(&format!("/daily-reports/{rid}/task"), &[("due_date", "下周"), ("version", "1")]).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("完成时限应为有效日期"), "refused in Chinese");
    let (status, html, _) =
        office.post(&format!("/daily-reports/{rid}/task"), &[("due_date", "2020-01-01"), ("version", "1")]).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("完成时限不能早于今天"));
    assert_eq!(
        grid.post(&format!("/daily-reports/{rid}/task"), &[("due_date", "2030-01-01"), ("version", "1")]).await.0,
        StatusCode::FORBIDDEN
    );
    let (status, _, _) =
        office.post(&format!("/daily-reports/{rid}/task"), &[("due_date", "2030-01-01"), ("version", "1")]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(
        app.scalar(&format!("SELECT COUNT(*) FROM tasks WHERE unit_id = '{lead_unit}' AND point_id = '{other}' AND due_date = '2030-01-01' AND title LIKE '%绿化带缺株%'")).await,
        1
    );
    assert_eq!(
        app.scalar(&format!("SELECT COUNT(*) FROM daily_reports WHERE id = '{rid}' AND task_id IS NOT NULL")).await,
        1
    );
    // The audit log reads the reports in Chinese, each named with its point.
    let (_, audit) = office.get("/audit?object_type=daily_report").await;
    let name = app.id_of(&format!("SELECT name FROM points WHERE id = '{other}'")).await;
    assert!(audit.contains(&format!("点位汇报 · {name}")), "{audit}");
    assert!(audit.contains("今日工作") && audit.contains("交办任务") && audit.contains("绿化带缺株"), "{audit}");
    let task = app.id_of(&format!("SELECT task_id FROM daily_reports WHERE id = '{rid}'")).await;
    for raw in ["done：", "help：", "task_id", &task] {
        assert!(!audit.contains(raw), "{raw} shown raw: {audit}");
    }
});

// 1,000 volunteers over three communities, some registered after the month; residents; QR
// sign-in and sign-out; confirmed minutes. Figures per community equal the hand count.
both!(volunteer_figures_for_a_thousand_volunteers_match_the_hand_count, |app: TestApp| async move {
    let communities: Vec<(String, String)> =
        sqlx::query_as("SELECT id, name FROM org_nodes WHERE level = 'community' ORDER BY code LIMIT 3")
            .fetch_all(&app.db.pool)
            .await
            .unwrap();
    let today = chrono::Utc::now().with_timezone(&chrono::FixedOffset::east_opt(8 * 3600).unwrap()).date_naive();
    let month = today.format("%Y-%m").to_string();
    let next_month = (today.with_day(1).unwrap() + chrono::Months::new(1)).format("%Y-%m-15").to_string();
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet();
    for (c, h) in ["姓名", "手机号", "社区", "服务队", "服务特长", "登记日期"].iter().enumerate() {
        ws.write_string(0, c as u16, *h).unwrap();
    }
    let mut expected = [0i64; 3];
    for i in 0..1000u32 {
        let c = (i * 7 % 3) as usize;
        let later = i % 10 == 0; // registered next month: not counted this month
        if !later {
            expected[c] += 1;
        }
        let row = i + 1;
        ws.write_string(row, 0, format!("志愿者{i}")).unwrap();
        ws.write_string(row, 1, format!("1370000{i:04}")).unwrap();
        ws.write_string(row, 2, &communities[c].1).unwrap();
        ws.write_string(row, 5, if later { next_month.clone() } else { "2026-01-05".into() }).unwrap();
    }
    let bytes = wb.save_to_buffer().unwrap();
    let office = app.login("admin").await;
    let upload = |bytes: Vec<u8>| {
        let form = reqwest::multipart::Form::new()
            .text("_csrf", office.csrf.clone())
            .part("file", reqwest::multipart::Part::bytes(bytes).file_name("名册.xlsx"));
        office.client.post(format!("{}/volunteers/import", office.base)).multipart(form).send()
    };
    // A bad roster is refused whole, row by row.
    let mut bad = rust_xlsxwriter::Workbook::new();
    let bs = bad.add_worksheet();
    for (c, h) in ["姓名", "手机号", "社区"].iter().enumerate() {
        bs.write_string(0, c as u16, *h).unwrap();
    }
    bs.write_string(1, 0, "甲").unwrap();
    bs.write_string(1, 1, "12345").unwrap();
    bs.write_string(1, 2, &communities[0].1).unwrap();
    bs.write_string(2, 0, "乙").unwrap();
    bs.write_string(2, 1, "13900000001").unwrap();
    bs.write_string(2, 2, "不存在社区").unwrap();
    let res = upload(bad.save_to_buffer().unwrap()).await.unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = res.text().await.unwrap();
    assert!(html.contains("第2行") && html.contains("第3行") && html.contains("没有名为“不存在社区”的社区"));
    assert_eq!(app.scalar("SELECT COUNT(*) FROM volunteers").await, 0, "nothing imported");
    let res = upload(bytes).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(app.scalar("SELECT COUNT(*) FROM volunteers").await, 1000);
    // The roster shows them 50 a page, all counted, and its last page the last ones.
    let (_, roster) = office.get("/volunteers").await;
    let rows = |html: &str| {
        html.split("id=\"volunteer-list\"")
            .nth(1)
            .unwrap()
            .split("</table>")
            .next()
            .unwrap()
            .matches("/certificate\"")
            .count()
    };
    assert_eq!(rows(&roster), 50);
    assert!(roster.contains("志愿者名册（1000人）") && roster.contains("第 1/20 页"), "{roster}");
    let (_, last) = office.get("/volunteers?page=20").await;
    assert_eq!(rows(&last), 50);
    assert!(last.contains("第 20/20 页") && last.contains("上一页") && !last.contains("下一页"), "{last}");
    let (_, beyond) = office.get("/volunteers?page=99").await;
    assert!(beyond.contains("第 20/20 页"), "a page past the end shows the last");
    for (k, (id, _)) in communities.iter().enumerate() {
        let (status, _, _) = office
            .post("/volunteers/residents", &[("community_id", id), ("residents", &(3000 * (k + 1)).to_string())])
            .await;
        assert_eq!(status, StatusCode::SEE_OTHER);
    }
    // An activity on every day of the week, so that the test signs in whatever day it runs.
    let activity = daily_activity(&office, "学雷锋便民服务", &communities[0].0, 30).await;
    // The days as organisers write them: "每天" is every day (it was read as Sunday alone), a
    // word the form does not know is refused with the form kept.
    for (typed, stored) in [("每天", Some("1,2,3,4,5,6,7")), ("周一至周五", Some("1,2,3,4,5")), ("节假日", None)]
    {
        let title = format!("文明交通劝导{typed}");
        let (status, html, _) = weekly_activity(&office, &title, &communities[0].0, typed).await;
        let saved = sqlx::query_scalar::<_, String>("SELECT weekdays FROM volunteer_activities WHERE title = $1")
            .bind(&title)
            .fetch_optional(&app.db.pool)
            .await
            .unwrap();
        match stored {
            Some(days) => {
                assert_eq!(status, StatusCode::SEE_OTHER, "{typed}");
                assert_eq!(saved.as_deref(), Some(days), "{typed}");
            }
            None => {
                assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{typed}");
                assert!(html.contains("请填写每周哪几天") && html.contains(&title), "refused, typed kept: {typed}");
                assert_eq!(saved, None);
            }
        }
    }
    let (_, page) = office.get(&format!("/volunteers/activities/{activity}")).await;
    let url = page.split("id=\"sign-url\">").nth(1).unwrap().split('<').next().unwrap().replace("&amp;", "&");
    let path = url.split_once("/public/").map(|(_, p)| format!("/public/{p}")).unwrap();
    let volunteer = Browser::new(&app.base);
    let sign = async |name: &str, phone: &str, path: &str| {
        let (_, html) = volunteer.get(path).await;
        let csrf = extract_csrf(&html).unwrap();
        let (s, html, _) = volunteer.post_raw(path, &[("_csrf", &csrf), ("name", name), ("phone", phone)]).await;
        (s, html)
    };
    // Wrong name, wrong code: refused in Chinese.
    let (s, html) = sign("别人", "13700000001", &path).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert!(html.contains("没有找到该手机号登记的志愿者"));
    let bad_code = format!("/public/serve/{activity}?c=0000000000");
    let (s, html) = sign("志愿者1", "13700000001", &bad_code).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("签到码无效"));
    // A mistyped link (or an activity deleted since the poster was printed) leads a citizen
    // back to the public home, not to the staff sign-in; a staff page's error leads to the staff home.
    for (path, home) in [
        ("/public/serve/no-such-activity?c=1".to_string(), "/public"),
        ("/public/volunteer/no-such-activity".to_string(), "/public"),
        ("/public/no-such-page".to_string(), "/public"),
        ("/no-such-page".to_string(), "/"),
    ] {
        let (s, html) = volunteer.get(&path).await;
        assert_eq!(s, StatusCode::NOT_FOUND, "{path}");
        assert!(html.contains(&format!("<a class=\"btn\" href=\"{home}\">返回首页</a>")), "{path}: {html}");
    }
    // Volunteers of community 0 (i*7%3 == 0: i = 3, 6, 9, 12) sign in and out.
    let people = [(3u32, 120i64), (6, 90), (9, 60), (12, 45)];
    for (i, m) in people {
        let (name, phone) = (format!("志愿者{i}"), format!("1370000{i:04}"));
        let (s, html) = sign(&name, &phone, &path).await;
        assert_eq!(s, StatusCode::OK);
        assert!(html.contains("签到成功"), "{html}");
        // Scanning again at once (unsure the first went through) is not a sign-out: told
        // calmly that the first scan counted.
        let (s, html) = sign(&name, &phone, &path).await;
        assert_eq!(s, StatusCode::OK);
        assert!(html.contains("签到成功，活动结束时再扫码签退") && html.contains("5分钟内再次扫码不算签退"), "{html}");
        assert!(html.contains("flash ok"), "{html}");
        assert_eq!(
            app.scalar(&format!("SELECT COUNT(*) FROM service_records r JOIN volunteers v ON v.id = r.volunteer_id WHERE v.phone = '{phone}' AND r.state = 'signed_in'")).await,
            1
        );
        // m minutes of service later.
        sqlx::query(&format!(
            "UPDATE service_records SET signed_in_at = signed_in_at - {} WHERE volunteer_id = (SELECT id FROM volunteers WHERE phone = '{phone}')",
            m * 60_000
        ))
        .execute(&app.db.pool)
        .await
        .unwrap();
        // The last signs out with the phone as a Chinese input method types it: full-width
        // digits and the country code.
        let typed = if i == 12 {
            let wide: String = phone.chars().map(|c| char::from_u32(c as u32 + 0xFEE0).unwrap()).collect();
            format!("＋８６ {wide}")
        } else {
            phone.clone()
        };
        let (s, html) = sign(&name, &typed, &path).await;
        assert_eq!(s, StatusCode::OK);
        assert!(html.contains(&format!("签退成功！本次服务{m}分钟")), "{typed}: {html}");
    }
    let (s, html) = sign("志愿者3", "13700000003", &path).await;
    assert_eq!(s, StatusCode::CONFLICT);
    assert!(html.contains("已经签退"));
    // Signing up for tomorrow from the activity's public page.
    let tomorrow = (today + chrono::Days::new(1)).format("%Y-%m-%d").to_string();
    let signup = format!("/public/volunteer/{activity}");
    let (_, html) = volunteer.get(&signup).await;
    assert!(html.contains(&tomorrow), "tomorrow is offered");
    let csrf = extract_csrf(&html).unwrap();
    let (s, html, _) = volunteer
        .post_raw(&signup, &[("_csrf", &csrf), ("name", "志愿者15"), ("phone", "13700000015"), ("day", &tomorrow)])
        .await;
    assert_eq!(s, StatusCode::OK);
    assert!(html.contains("报名成功"));
    let (s, html, _) = volunteer
        .post_raw(&signup, &[("_csrf", &csrf), ("name", "志愿者15"), ("phone", "13700000015"), ("day", &tomorrow)])
        .await;
    assert_eq!(s, StatusCode::CONFLICT);
    assert!(html.contains("您已报名"), "a second sign-up says so");
    let (s, html, _) =
        volunteer.post_raw(&signup, &[("_csrf", &csrf), ("name", ""), ("phone", "12345"), ("day", &tomorrow)]).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("请填写姓名") && html.contains("手机号应为11位数字"));
    let (s, _, _) = volunteer
        .post_raw(&signup, &[("_csrf", &csrf), ("name", "志愿者15"), ("phone", "13700000015"), ("day", "2020-01-01")])
        .await;
    assert_eq!(s, StatusCode::CONFLICT, "no activity that day");
    assert_eq!(app.scalar("SELECT COUNT(*) FROM service_records WHERE state = 'signed_up'").await, 1);
    // Each state in its own colour on the organiser's list: on site (signed in) apart from
    // waiting for confirmation (signed out).
    let (_, page) = office.get(&format!("/volunteers/activities/{activity}")).await;
    assert!(page.contains("<span class=\"tag state-open\">已签退</span>"), "{page}");
    assert!(!page.contains("<span class=\"tag\">"), "no state without its colour");
    // An activity held only on tomorrow's weekday: today its page says why there is no QR
    // and when the next one is, instead of leaving the organiser looking for it.
    let day_char =
        |d: chrono::NaiveDate| ["一", "二", "三", "四", "五", "六", "日"][d.weekday().num_days_from_monday() as usize];
    let tomorrow_day = today + chrono::Days::new(1);
    let weekly = weekly_activity(&office, "每周一次的文明劝导", &communities[0].0, day_char(tomorrow_day)).await;
    assert_eq!(weekly.0, StatusCode::SEE_OTHER);
    let (_, page) = office.get(weekly.2.as_deref().unwrap()).await;
    assert!(!page.contains("id=\"sign-qr\""), "no QR on a day without the activity");
    assert!(page.contains("不是本活动的活动日"), "{page}");
    assert!(page.contains(&format!("下一个活动日是 {tomorrow}")), "{page}");
    assert!(page.contains("class=\"day\" href=\"/volunteers/activities/"), "the days do not break inside");
    // The organiser confirms each with the minutes it took (corrected by hand here).
    let records: Vec<(String, String, i64)> = sqlx::query_as(
        "SELECT r.id, v.name, r.version FROM service_records r JOIN volunteers v ON v.id = r.volunteer_id WHERE r.state = 'signed_out' ORDER BY v.name",
    )
    .fetch_all(&app.db.pool)
    .await
    .unwrap();
    assert_eq!(records.len(), 4);
    // 0 minutes cannot be confirmed as service.
    let (s, html, _) = office
        .post(
            &format!("/volunteers/records/{}/confirm", records[0].0),
            &[("minutes", "0"), ("version", &records[0].2.to_string())],
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("服务时长为0分钟"));
    let mut minutes = 0;
    for (id, name, version) in &records {
        let m = people.iter().find(|(i, _)| format!("志愿者{i}") == *name).unwrap().1;
        minutes += m;
        let (s, _, _) = office
            .post(
                &format!("/volunteers/records/{id}/confirm"),
                &[("minutes", &m.to_string()), ("version", &version.to_string())],
            )
            .await;
        assert_eq!(s, StatusCode::SEE_OTHER);
    }
    let (s, html, _) = office
        .post(&format!("/volunteers/records/{}/confirm", records[0].0), &[("minutes", "10"), ("version", "4")])
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "confirmed once: {html}");
    // The figures, read from the Excel export, equal the hand count.
    let res = office.get_raw(&format!("/volunteers?month={month}&export=xlsx")).await;
    let sheets = crate::helpers::xlsx_sheets(res).await;
    let figures = &sheets.iter().find(|(n, _)| n.contains("志愿服务")).unwrap().1;
    for (k, (_, name)) in communities.iter().enumerate() {
        let row = figures.iter().find(|r| r[0].to_string() == *name).unwrap_or_else(|| panic!("{name}"));
        let residents = 3000.0 * (k + 1) as f64;
        assert_eq!(crate::helpers::number(&row[1]), residents);
        assert_eq!(crate::helpers::number(&row[2]), expected[k] as f64, "registered in {name}");
        let share = (expected[k] as f64 * 10000.0 / residents).round() / 100.0;
        assert!((crate::helpers::number(&row[3]) * 100.0 - share).abs() < 0.01, "share in {name}");
        assert_eq!(crate::helpers::number(&row[4]), if k == 0 { 4.0 } else { 0.0 }, "active in {name}");
        let hours = if k == 0 { (minutes as f64 / 6.0).round() / 10.0 } else { 0.0 };
        assert_eq!(row[5].to_string(), format!("{hours}"), "hours in {name}");
    }
    // The certificate counts the confirmed hours; phones are masked for other readers.
    let v3 = app.id_of("SELECT id FROM volunteers WHERE name = '志愿者3'").await;
    let (_, cert) = office.get(&format!("/volunteers/{v3}/certificate")).await;
    assert!(cert.contains("<b>2</b> 小时"), "120 minutes");
    let sup = app.login("supervisor").await;
    let (_, list) = sup.get("/volunteers?q=志愿者3").await;
    assert!(list.contains("137****0003") && !list.contains("13700000003"));
    assert_eq!(app.login("bank").await.get("/volunteers").await.0, StatusCode::FORBIDDEN);

    // Two scans of one volunteer at once, through two instances (a double tap, a page sent
    // twice): one signs in, the other is told so; later two sign-out scans at once sign out once.
    let other = Browser::new(&app.second_instance().await);
    let (name, phone) = ("志愿者18", "13700000018");
    let answers = scan_at_once([&volunteer, &other], &path, name, phone).await;
    assert_eq!((answers[0].0, answers[1].0), (StatusCode::OK, StatusCode::OK));
    let signed = answers.iter().filter(|a| a.1.contains("签到成功！")).count();
    let told = answers.iter().filter(|a| a.1.contains("签到成功，活动结束时再扫码签退")).count();
    assert_eq!((signed, told), (1, 1), "{answers:?}");
    let whose =
        format!("activity_id = '{activity}' AND volunteer_id = (SELECT id FROM volunteers WHERE phone = '{phone}')");
    let mine = format!("FROM service_records WHERE {whose}");
    assert_eq!(app.scalar(&format!("SELECT COUNT(*) {mine} AND state = 'signed_in'")).await, 1);
    // Still serving: the organiser's list shows no minutes yet rather than 0.
    let (_, page) = office.get(&format!("/volunteers/activities/{activity}")).await;
    let row = page.split("data-volunteer=\"志愿者18\"").nth(1).unwrap().split("</tr>").next().unwrap();
    assert!(row.contains("已签到") && row.contains("<td data-label=\"时长\">—</td>"), "{row}");
    sqlx::query(&format!("UPDATE service_records SET signed_in_at = signed_in_at - 3600000 WHERE {whose}"))
        .execute(&app.db.pool)
        .await
        .unwrap();
    let answers = scan_at_once([&volunteer, &other], &path, name, phone).await;
    assert_eq!((answers[0].0, answers[1].0), (StatusCode::OK, StatusCode::CONFLICT));
    assert!(answers[0].1.contains("签退成功！本次服务60分钟"), "{}", answers[0].1);
    assert!(answers[1].1.contains("已经签退"), "{}", answers[1].1);
    assert_eq!(app.scalar(&format!("SELECT COUNT(*) {mine} AND state = 'signed_out' AND minutes = 60")).await, 1);

    // The last three places of a day, taken by twelve residents at the same moment: three get
    // them, the others are told it is full; never more than the organiser allowed.
    let small = daily_activity(&office, "文明劝导（名额有限）", &communities[0].0, 3).await;
    let signup = format!("/public/volunteer/{small}");
    let (_, html) = volunteer.get(&signup).await;
    let csrf = extract_csrf(&html).unwrap();
    let people = [21u32, 24, 27, 33, 36, 39, 42, 45, 48, 51, 54, 57];
    let answers = futures::future::join_all(people.iter().map(|i| {
        let (name, phone) = (format!("志愿者{i}"), format!("1370000{i:04}"));
        let (volunteer, signup, csrf, tomorrow) = (&volunteer, &signup, &csrf, &tomorrow);
        async move {
            let form = [("_csrf", csrf.as_str()), ("name", &name), ("phone", &phone), ("day", tomorrow.as_str())];
            let (s, html, _) = volunteer.post_raw(signup, &form).await;
            (s, html.contains("报名成功"), html.contains("人数已满"))
        }
    }))
    .await;
    let taken = answers.iter().filter(|a| a.0 == StatusCode::OK && a.1).count();
    let full = answers.iter().filter(|a| a.0 == StatusCode::CONFLICT && a.2).count();
    assert_eq!((taken, full), (3, 9), "{answers:?}");
    let on_list = app.scalar(&format!("SELECT COUNT(*) FROM service_records WHERE activity_id = '{small}'")).await;
    assert_eq!(on_list, 3);
});

both!(a_suggestion_at_a_meeting_goes_to_a_unit_and_its_answer_is_public, |app: TestApp| async move {
    let community = app.id_of("SELECT area_id FROM users WHERE username = 'grid'").await;
    let unit_id = app.id_of("SELECT unit_id FROM users WHERE username = 'unit'").await;
    let grid = app.login("grid").await;
    let (status, html, _) = grid
        .post(
            "/deliberation/meetings",
            &[("community_id", &community), ("held_on", "昨天"), ("place", ""), ("topic", "停车")],
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("日期格式应为") && html.contains("请填写地点"));
    let (status, html, _) = grid
        .post(
            "/deliberation/meetings",
            &[("community_id", &community), ("held_on", "2099-01-01"), ("place", "议事亭"), ("topic", "停车")],
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("不能晚于今天") && html.contains("议事亭"), "refused, typed kept");
    let (status, _, to) = grid
        .post(
            "/deliberation/meetings",
            &[
                ("community_id", &community),
                ("held_on", "2026-12-01"),
                ("place", "居民议事亭"),
                ("topic", "小区停车和充电"),
                ("residents", "23"),
                ("party_members", "6"),
                ("property", "金狮物业"),
                ("partners", "城管局"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let meeting = to.unwrap().trim_start_matches("/deliberation/meetings/").split('?').next().unwrap().to_string();
    let (status, _, _) = grid
        .post(
            &format!("/deliberation/meetings/{meeting}/suggestions"),
            &[("content", "小区门口路灯不亮，晚上出行不便"), ("raised_by", "张师傅"), ("phone", "13812345678")],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let sid = app.id_of("SELECT id FROM suggestions").await;
    let (status, html, _) = grid
        .post(
            &format!("/deliberation/suggestions/{sid}"),
            &[("action", "route"), ("unit_id", &unit_id), ("due_on", "2020-01-01"), ("version", "1")],
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("办理时限应为今天或以后的日期"));
    // Not a year away either: the resident waits for the answer.
    let day = |n: u64| {
        (chuangcheng::domain::time::to_local(chuangcheng::domain::time::now_ms()).date_naive() + chrono::Days::new(n))
            .format("%Y-%m-%d")
            .to_string()
    };
    let (status, html, _) = grid
        .post(
            &format!("/deliberation/suggestions/{sid}"),
            &[("action", "route"), ("unit_id", &unit_id), ("due_on", &day(365)), ("version", "1")],
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains(&format!("办理时限最长90天，最晚{}", day(90))), "{html}");
    assert!(html.contains(&format!("max=\"{}\"", day(90))), "the date field stops there too");
    let soon = day(30);
    let (status, _, _) = grid
        .post(
            &format!("/deliberation/suggestions/{sid}"),
            &[("action", "route"), ("unit_id", &unit_id), ("due_on", &soon), ("version", "1")],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    // The unit sees it as its task; another unit does not and cannot answer it.
    let bank = app.login("bank").await;
    let (_, html) = bank.get("/deliberation").await;
    assert!(!html.contains("路灯不亮"));
    let (status, _, _) = bank
        .post(
            &format!("/deliberation/suggestions/{sid}"),
            &[("action", "answer"), ("answer", "我们来修"), ("version", "2")],
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let unit = app.login("unit").await;
    let (_, html) = unit.get("/deliberation").await;
    assert!(html.contains("小区门口路灯不亮") && !html.contains("张师傅"), "the unit sees the task, not the resident");
    let (status, _, _) = unit
        .post(
            &format!("/deliberation/suggestions/{sid}"),
            &[("action", "answer"), ("answer", "已安排维修班组，三天内修复"), ("version", "2")],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (status, _, _) = unit
        .post(
            &format!("/deliberation/suggestions/{sid}"),
            &[("action", "answer"), ("answer", "再答复一次看看"), ("version", "3")],
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "answered once");
    // The public page: the answer, never the name or phone.
    let public = Browser::new(&app.base);
    let (status, html) = public.get("/public/deliberation").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("已安排维修班组，三天内修复") && html.contains("小区门口路灯不亮"));
    assert!(!html.contains("张师傅") && !html.contains("13812345678"));
    // A resident's online suggestion; the honeypot refuses a robot.
    let csrf = extract_csrf(&html).unwrap();
    let (status, _, _) = public
        .post_raw(
            "/public/deliberation",
            &[
                ("_csrf", &csrf),
                ("community_id", &community),
                ("content", "希望增加健身器材"),
                ("website", "http://spam"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (status, _, _) = public
        .post_raw(
            "/public/deliberation",
            &[("_csrf", &csrf), ("community_id", &community), ("content", "希望增加健身器材")],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(app.scalar("SELECT COUNT(*) FROM suggestions WHERE channel = 'online'").await, 1);
    // Closure per community and the minutes as a Word document.
    let (_, html) = grid.get("/deliberation").await;
    assert!(html.contains("50%"), "one of two answered");
    // The Excel download holds the page's figures: the suggestions as filtered, the closure, the
    // meetings; a unit's holds its routed suggestions without the resident's name.
    assert!(html.contains("id=\"export\""), "导出Excel on the filter bar");
    let sheets = xlsx_sheets(grid.get_raw("/deliberation?state=answered&export=xlsx").await).await;
    let names: Vec<&str> = sheets.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["居民建议", "各社区办结情况", "居民议事会"]);
    let suggestions = &sheets[0].1;
    assert_eq!(suggestions.len(), 2, "the header and the one answered: {suggestions:?}");
    assert_eq!(suggestions[1][2].to_string(), "张师傅");
    assert!(suggestions[1].iter().any(|c| *c == "已安排维修班组，三天内修复"));
    let closure = &sheets[1].1;
    assert_eq!((number(&closure[1][1]), number(&closure[1][2])), (2.0, 1.0), "{closure:?}");
    assert!((number(&closure[1][3]) - 0.5).abs() < 1e-9, "50% as a percentage cell: {closure:?}");
    let meetings = &sheets[2].1;
    assert_eq!((meetings[1][2].to_string(), number(&meetings[1][4])), ("小区停车和充电".to_string(), 23.0));
    // Bad filters say so (nothing listed, nothing exported); an area filter holds the meetings too.
    for bad in ["/deliberation?state=xx", "/deliberation?area=abc", "/deliberation?state=xx&export=xlsx"] {
        let (status, html) = grid.get(bad).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}");
        assert!(html.contains("id=\"filter-error\"") && !html.contains("小区停车和充电"), "{bad}: {html}");
    }
    assert!(html_of(&grid, "/deliberation?state=xx").await.contains("状态“xx”无效"));
    let other = app
        .id_of(&format!(
            "SELECT id FROM org_nodes WHERE level = 'community' AND id <> '{community}' ORDER BY code LIMIT 1"
        ))
        .await;
    let (status, html) = app.login("admin").await.get(&format!("/deliberation?area={other}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(!html.contains("小区停车和充电"), "another community's filter lists not this meeting");
    let (_, html) = app.login("admin").await.get(&format!("/deliberation?area={community}")).await;
    assert!(html.contains("小区停车和充电"), "its own community's filter lists it");
    let sheets = xlsx_sheets(unit.get_raw("/deliberation?export=xlsx").await).await;
    assert_eq!(sheets.len(), 1);
    assert!(sheets[0].1.iter().flatten().all(|c| *c != "张师傅"), "{:?}", sheets[0].1);
    assert!(sheets[0].1.iter().flatten().any(|c| *c == "小区门口路灯不亮，晚上出行不便"));
    let res = grid.get_raw(&format!("/deliberation/meetings/{meeting}/minutes.docx")).await;
    assert_eq!(res.status(), StatusCode::OK);
    let bytes = res.bytes().await.unwrap();
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes.to_vec())).unwrap();
    let mut xml = String::new();
    std::io::Read::read_to_string(&mut zip.by_name("word/document.xml").unwrap(), &mut xml).unwrap();
    assert!(xml.contains("居民议事会会议纪要") && xml.contains("已安排维修班组"));
    assert!(app.scalar("SELECT COUNT(*) FROM audit_log WHERE object_type = 'suggestion'").await >= 4);
});

both!(a_civilized_unit_is_scored_named_published_and_revoked, |app: TestApp| async move {
    let unit = app.login("unit").await;
    let statements: Vec<(String, String)> =
        (0..8).map(|i| (format!("s{i}"), format!("第{i}项标准落实情况良好，制度健全，活动经常"))).collect();
    let apply = async |b: &Browser, fields: &[(String, String)]| {
        let mut form = reqwest::multipart::Form::new().text("_csrf", b.csrf.clone());
        for (k, v) in fields {
            form = form.text(k.clone(), v.clone());
        }
        let res = b.client.post(format!("{}/civilized-units", b.base)).multipart(form).send().await.unwrap();
        (res.status(), res.text().await.unwrap())
    };
    let (status, html) = apply(&unit, &statements[..7]).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("示范作用明显"), "the missing criterion is named");
    let (status, _) = apply(&unit, &statements).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (status, _) = apply(&unit, &statements).await;
    assert_eq!(status, StatusCode::CONFLICT, "once a year");
    let id = app.id_of("SELECT id FROM civilized_applications").await;
    assert_eq!(app.login("bank").await.get(&format!("/civilized-units/{id}")).await.0, StatusCode::NOT_FOUND);
    let office = app.login("admin").await;
    let (_, html) = office.get(&format!("/civilized-units/{id}")).await;
    assert!(html.contains("创城工作记录") && html.contains("campaign-record"));
    let mut fields: Vec<(String, String)> = ["15", "14", "14", "9", "9", "14", "9", "11"]
        .iter()
        .enumerate()
        .map(|(i, s)| (format!("score{i}"), s.to_string()))
        .collect();
    fields.extend([("decision".into(), "score".into()), ("version".into(), "1".into())]);
    let as_ref = |f: &[(String, String)]| f.iter().map(|(a, b)| (a.clone(), b.clone())).collect::<Vec<_>>();
    let post = async |f: Vec<(String, String)>| {
        let refs: Vec<(&str, &str)> = f.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
        office.post(&format!("/civilized-units/{id}/review"), &refs).await
    };
    let (status, html, _) = post(as_ref(&fields)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "11 over a 10-point criterion");
    assert!(html.contains("每项在0与该项满分之间"));
    fields[7].1 = "10".into();
    let (status, _, _) = post(as_ref(&fields)).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let total: f64 =
        sqlx::query_scalar("SELECT total FROM civilized_applications").fetch_one(&app.db.pool).await.unwrap();
    assert_eq!(total, 15.0 + 14.0 + 14.0 + 9.0 + 9.0 + 14.0 + 9.0 + 10.0);
    assert_eq!(app.id_of("SELECT state FROM civilized_applications").await, "passed");
    let year = crate::fixtures::today().format("%Y").to_string();
    // The office's list: filtered by state and name, paged, exported; a unit reads its own only.
    let unit_name =
        app.id_of("SELECT u.name FROM units u JOIN users s ON s.unit_id = u.id WHERE s.username = 'unit'").await;
    let (status, html) = office.get("/civilized-units?state=passed").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains(&unit_name) && html.contains("评审通过") && html.contains("94.0"), "{html}");
    assert!(html.contains("导出Excel") && html.contains("name=\"state\""), "the kit's filter bar and export");
    assert!(html.contains("id=\"publish-form\" data-confirm=") && html.contains("的1个单位在发布后命名"), "{html}");
    let (_, html) = office.get("/civilized-units?year=2025").await;
    assert!(html.contains("2025年度暂无评审通过") && !html.contains("id=\"publish-form\""), "nothing to name");
    let (status, html, _) = office.post("/civilized-units/publish", &[("year", "2025")]).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("2025年度还没有评审通过"), "{html}");
    let (_, html) = office.get("/civilized-units?state=submitted").await;
    assert!(html.contains("没有符合条件的申报") && !html.contains(&unit_name), "{html}");
    let (status, html) = office.get("/civilized-units?state=won").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(html.contains("状态“won”无效"), "{html}");
    let sheets = xlsx_sheets(office.get_raw(&format!("/civilized-units?year={year}&export=xlsx")).await).await;
    let rows = &sheets[0].1;
    assert_eq!(rows[0][0].to_string(), "单位");
    let line = rows.iter().find(|r| r[0].to_string() == unit_name).expect("the unit's line");
    assert_eq!((line[2].to_string(), number(&line[3])), ("评审通过".to_string(), 94.0));
    let api = app.api_login("admin").await;
    let (status, l) = api.get(&format!("/api/v1/civilized-units?year={year}&q=%E5%9F%8E%E5%B8%82")).await;
    assert_eq!(status, StatusCode::OK, "{l}");
    assert_eq!((l["total"].as_i64(), l["items"][0]["state"].as_str()), (Some(1), Some("passed")), "{l}");
    assert_eq!(app.api_login("unit").await.get("/api/v1/civilized-units").await.1["total"], 1);
    assert_eq!(app.api_login("bank").await.get("/api/v1/civilized-units").await.1["total"], 0);
    assert_eq!(app.api_login("grid").await.get("/api/v1/civilized-units").await.0, StatusCode::FORBIDDEN);
    let (status, e) = api.get("/api/v1/civilized-units?year=20x6").await;
    assert_eq!((status, e["error"]["code"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_year")));
    let public = Browser::new(&app.base);
    let (_, html) = public.get(&format!("/public/civilized-units?year={year}")).await;
    assert!(!html.contains("named-units"), "not before publication");
    let (status, _, _) = office.post("/civilized-units/publish", &[("year", &year)]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (_, html) = public.get(&format!("/public/civilized-units?year={year}")).await;
    assert!(html.contains(&unit_name));
    let (status, html, _) =
        office.post(&format!("/civilized-units/{id}/revoke"), &[("note", "短"), ("version", "3")]).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("请写明撤销称号的原因"));
    let (status, _, _) = office
        .post(&format!("/civilized-units/{id}/revoke"), &[("note", "发生重大安全生产事故，撤销称号"), ("version", "3")])
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (_, html) = public.get(&format!("/public/civilized-units?year={year}")).await;
    assert!(!html.contains(&unit_name), "a revoked title leaves the list");
    assert!(app.scalar("SELECT COUNT(*) FROM audit_log WHERE object_type = 'civilized_application'").await >= 4);
});

async fn html_of(b: &Browser, path: &str) -> String {
    b.get(path).await.1
}

/// An activity of the community on every day of the week (so a test signs in whatever day it
/// runs) with `capacity` places; its id.
/// The same volunteer's scan sent through each browser at once, answers in status order.
async fn scan_at_once(browsers: [&Browser; 2], path: &str, name: &str, phone: &str) -> Vec<(StatusCode, String)> {
    let mut pages = Vec::new();
    for b in browsers {
        let (_, html) = b.get(path).await;
        pages.push((b, extract_csrf(&html).unwrap()));
    }
    let mut answers = futures::future::join_all(pages.iter().map(|(b, csrf)| async move {
        let (s, html, _) = b.post_raw(path, &[("_csrf", csrf.as_str()), ("name", name), ("phone", phone)]).await;
        (s, html)
    }))
    .await;
    answers.sort_by_key(|a| a.0);
    answers
}

/// Posts an activity held 08:00–10:00 on the days typed, 2026 to 2030, ten places.
async fn weekly_activity(
    office: &Browser,
    title: &str,
    community: &str,
    weekdays: &str,
) -> (StatusCode, String, Option<String>) {
    office
        .post(
            "/volunteers/activities",
            &[
                ("title", title),
                ("community_id", community),
                ("weekdays", weekdays),
                ("starts_at", "08:00"),
                ("ends_at", "10:00"),
                ("first_day", "2026-01-01"),
                ("last_day", "2030-12-31"),
                ("capacity", "10"),
            ],
        )
        .await
}

async fn daily_activity(office: &Browser, title: &str, community: &str, capacity: u32) -> String {
    let capacity = capacity.to_string();
    let (status, _, to) = office
        .post(
            "/volunteers/activities",
            &[
                ("title", title),
                ("community_id", community),
                ("weekdays", "一二三四五六日"),
                ("starts_at", "00:00"),
                ("ends_at", "23:59"),
                ("first_day", "2026-01-01"),
                ("last_day", "2030-12-31"),
                ("capacity", &capacity),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    to.unwrap().trim_start_matches("/volunteers/activities/").split('?').next().unwrap().to_string()
}
