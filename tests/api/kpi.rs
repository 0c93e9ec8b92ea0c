//! KPIs and the daily rounds: figures that link to their problems, overdue problems proposing notices.

use crate::both;
use crate::fixtures::*;
use crate::helpers::*;
use reqwest::StatusCode;
use serde_json::json;

both!(kpis_follow_the_stored_timestamps_and_link_to_their_problems, |app: TestApp| async move {
    let sup = app.api_login("supervisor").await;
    let lead = app.api_login("lead").await;
    let (point, item) = road_point(&app).await;
    let mut ids = Vec::new();
    for n in 0..3 {
        let p = sup.file_ok(json!({"point_id": point, "standard_item_id": item, "description": format!("问题{n}"), "source": "supervision", "allow_duplicate": true})).await;
        ids.push(p["id"].as_str().unwrap().to_string());
    }
    for id in &ids[..2] {
        lead.act_ok(id, "acknowledge", json!({})).await;
        lead.act_ok(id, "submit_fix", json!({"note": "已整改", "photos": [photo(5)]})).await;
    }
    sup.act_ok(&ids[0], "pass", json!({})).await;
    sup.act_ok(&ids[1], "fail", json!({"reason": "不彻底"})).await;
    let today = chuangcheng::domain::time::to_local(chuangcheng::domain::time::now_ms()).format("%Y-%m-%d").to_string();
    let admin = app.api_login("admin").await;
    let (status, k) = admin.get(&format!("/api/v1/kpi?from={today}&to={today}")).await;
    assert_eq!(status, StatusCode::OK, "{k}");
    let line = &k["lines"][0];
    assert_eq!(line["name"], "运河区城市管理综合行政执法局");
    assert_eq!((line["due"].as_i64(), line["closed"].as_i64(), line["reworked"].as_i64()), (Some(3), Some(1), Some(1)));
    assert_eq!(line["closure_rate"], 33.3);
    assert_eq!(line["rework_rate"], 33.3);
    assert_eq!(k["total"]["due"], 3);
    // The page's figures link to exactly those problems.
    let b = app.login("admin").await;
    let (_, html) = b.get(&format!("/kpi?from={today}&to={today}")).await;
    assert!(html.contains("33.3%"));
    // The total line's figures open the whole period's problems too (all units here).
    let total = html.split("id=\"kpi-total\"").nth(1).unwrap().split("</tr>").next().unwrap();
    for (extra, count) in [("", 3), ("&#38;closed=1", 1), ("&#38;reworked=1", 1)] {
        let href = format!("/problems?dfrom={today}&#38;dto={today}{extra}\"");
        assert!(total.contains(&href), "{href}: {total}");
        let (_, list) = b.get(&href.trim_end_matches('"').replace("&#38;", "&")).await;
        assert!(list.contains(&format!("共 {count} 条")), "{href}");
    }
    // Its Excel export holds counts and rates as numbers (a rate as a percentage cell).
    let sheets = xlsx_sheets(b.get_raw(&format!("/kpi?from={today}&to={today}&export=xlsx")).await).await;
    let rows = &sheets[0].1;
    assert_eq!(rows[1][0].to_string(), "运河区城市管理综合行政执法局");
    assert_eq!((number(&rows[1][1]), number(&rows[1][2])), (3.0, 1.0));
    assert!((number(&rows[1][3]) - 0.333).abs() < 1e-9, "{:?}", rows[1][3]);
    assert_eq!(rows.last().unwrap()[0].to_string(), "合计");
    let unit = line["key"].as_str().unwrap();
    let (_, html) = b.get(&format!("/problems?dfrom={today}&dto={today}&unit_id={unit}&closed=1")).await;
    assert!(html.contains("共 1 条") && html.contains(&format!("/problems/{}", ids[0])));
    let (_, html) = b.get(&format!("/problems?dfrom={today}&dto={today}&unit_id={unit}&reworked=1")).await;
    assert!(html.contains("共 1 条") && html.contains(&format!("/problems/{}", ids[1])));
    // A unit sees only its own figures.
    let (_, k) = app.api_login("bank").await.get(&format!("/api/v1/kpi?from={today}&to={today}")).await;
    assert_eq!(k["total"]["due"], 0);
});

both!(overdue_problems_propose_notices_and_interviews_and_fill_the_rounds, |app: TestApp| async move {
    let sup = app.api_login("supervisor").await;
    let (point, item) = road_point(&app).await;
    let day = last_working_day(&app).await;
    // Found and filed yesterday (a working day) at 07:05: the 17:00 deadline has passed.
    let late = sup.file_ok(json!({"point_id": point, "standard_item_id": item, "description": "昨日问题未整改", "source": "supervision", "found_at": format!("{day}T07:05")})).await;
    let late_id = late["id"].as_str().unwrap().to_string();
    app.filed_at_find(std::slice::from_ref(&late_id)).await;
    let fresh = sup.file_ok(json!({"point_id": point, "standard_item_id": item, "description": "刚发现", "source": "supervision", "allow_duplicate": true}))
    .await;
    let fresh_id = fresh["id"].as_str().unwrap().to_string();
    let (_, d) = sup.get(&format!("/api/v1/problems/{late_id}")).await;
    assert_eq!(d["overdue"], true);
    let discipline = app.login("discipline").await;
    let (status, html) = discipline.get("/escalation").await;
    assert_eq!(status, StatusCode::OK);
    let notices = html.split("id=\"notices\"").nth(1).unwrap().split("</table>").next().unwrap();
    assert!(notices.contains(&format!("/problems/{late_id}")) && !notices.contains(&format!("/problems/{fresh_id}")));
    assert!(html.contains("没有达到约谈门槛的单位"), "one late case is below the default threshold of 3");
    // The office lowers the threshold to 1: the unit is proposed for an interview.
    let admin = app.login("admin").await;
    let (status, html, _) = admin.post("/escalation/threshold", &[("threshold", "0")]).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("约谈门槛应为1至100"));
    let (status, _, _) = admin.post("/escalation/threshold", &[("threshold", "1")]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (_, html) = discipline.get(&format!("/escalation?from={day}")).await;
    let interviews = html.split("id=\"interviews\"").nth(1).unwrap();
    assert!(interviews.contains("运河区城市管理综合行政执法局"));
    let unit = app.login("unit").await;
    assert_eq!(unit.get("/escalation").await.0, StatusCode::FORBIDDEN);
    // Rounds: the unit's 今日必须办结 lists the late one and, when its deadline falls today (found
    // on a working day's morning), the fresh one after it; the supervisor's 回头看 fills when a fix
    // is submitted.
    let (_, html) = unit.get("/rounds").await;
    let due = html.split("id=\"due-today\"").nth(1).unwrap().split("</table>").next().unwrap();
    let a = due.find(&format!("/problems/{late_id}")).expect("the overdue problem is due today");
    let fresh_deadline = fresh["deadline_at"].as_i64().unwrap();
    let today = chuangcheng::domain::time::to_local(chuangcheng::domain::time::now_ms()).format("%Y-%m-%d");
    let end_of_today = chuangcheng::domain::time::parse_local_day_start(&today.to_string()).unwrap() + 86_400_000;
    match due.find(&format!("/problems/{fresh_id}")) {
        Some(b) => assert!(fresh_deadline < end_of_today && a < b, "due today, after the overdue one"),
        None => assert!(fresh_deadline >= end_of_today, "a problem due later is not on today's list"),
    }
    let lead = app.api_login("lead").await;
    lead.act_ok(&fresh_id, "acknowledge", json!({})).await;
    lead.act_ok(&fresh_id, "submit_fix", json!({"note": "已整改", "photos": [photo(7)]})).await;
    let supervisor = app.login("supervisor").await;
    let (_, html) = supervisor.get("/rounds").await;
    let recheck = html.split("id=\"recheck\"").nth(1).unwrap().split("</table>").next().unwrap();
    assert!(recheck.contains(&format!("/problems/{fresh_id}")) && !recheck.contains(&format!("/problems/{late_id}")));
    let code = fresh["code"].as_str().unwrap();
    assert!(
        recheck.contains(code) && recheck.contains(&format!("/problems/{fresh_id}#recheck-form\">核查")),
        "{recheck}"
    );
    assert!(html.contains("晨扫描") && html.contains("登记问题"));
});

type KpiRow = (Option<String>, chuangcheng::domain::kpi::Counts, i64);

/// The KPI lines read through the kept days, and computed from the records at the same moment,
/// as comparable rows (key, counts, late).
async fn kpis_both_ways(
    app: &TestApp,
    f: &chuangcheng::store::problems::ProblemFilter,
    now: i64,
) -> (Vec<KpiRow>, Vec<KpiRow>) {
    kpis_both_ways_by(app, f, false, now).await
}

/// The same, by unit or by community.
async fn kpis_both_ways_by(
    app: &TestApp,
    f: &chuangcheng::store::problems::ProblemFilter,
    by_community: bool,
    now: i64,
) -> (Vec<KpiRow>, Vec<KpiRow>) {
    let rows = |v: Vec<chuangcheng::store::problems::KpiCounts>| {
        let mut v: Vec<KpiRow> = v.into_iter().map(|r| (r.key, r.counts, r.late)).collect();
        v.sort_by(|a, b| a.0.cmp(&b.0));
        v
    };
    let kept = chuangcheng::service::kpi::counts(&app.db, f, by_community, now).await.expect("kept counts");
    let live = chuangcheng::store::problems::kpi_counts(&app.db, f, by_community, now).await.expect("live counts");
    (rows(kept), rows(live))
}

both!(kpis_of_past_days_are_kept_and_forgotten_when_a_fact_under_them_changes, |app: TestApp| async move {
    use chuangcheng::domain::time::{DAY_MS, now_ms, parse_local_day_start, to_local};
    use chuangcheng::store::kpi_days::{day_of, monday_of};
    use chuangcheng::store::problems::ProblemFilter;
    let sup = app.api_login("supervisor").await;
    let lead = app.api_login("lead").await;
    let admin = app.api_login("admin").await;
    let (point, item) = road_point(&app).await;
    let unit = app.id_of(&format!("SELECT unit_id FROM points WHERE id = '{point}'")).await;
    let mut ids = Vec::new();
    for n in 0..4 {
        let p = sup.file_ok(json!({"point_id": point, "standard_item_id": item, "description": format!("问题{n}"), "source": "supervision", "allow_duplicate": true})).await;
        ids.push(p["id"].as_str().unwrap().to_string());
    }
    for id in &ids[..3] {
        lead.act_ok(id, "acknowledge", json!({})).await;
        lead.act_ok(id, "submit_fix", json!({"note": "已整改", "photos": [photo(5)]})).await;
    }
    sup.act_ok(&ids[0], "pass", json!({})).await;
    sup.act_ok(&ids[1], "fail", json!({"reason": "不彻底"})).await;
    // They were dispatched ten days ago (a test cannot file in the past): every time moves back
    // together; the last one stays open, past its deadline.
    let shift = 10 * DAY_MS;
    app.move_back(&ids, shift).await;
    let now = now_ms();
    let dispatched = app.scalar(&format!("SELECT dispatched_at FROM problems WHERE id = '{}'", ids[0])).await;
    let their_day = day_of(dispatched);
    let today = to_local(now).format("%Y-%m-%d").to_string();
    // Three weeks back: the period holds the whole week of their day.
    let from_day = to_local(now - 21 * DAY_MS).format("%Y-%m-%d").to_string();
    let from = parse_local_day_start(&from_day).unwrap();
    let city = ProblemFilter { dispatched_from: Some(from), dispatched_to: Some(now + DAY_MS), ..Default::default() };
    let kept_day = format!("SELECT COUNT(*) FROM kpi_days WHERE day = {their_day} AND span = 1 AND filled = 1");
    let their_week = monday_of(their_day);
    let weeks_of_the_day = format!("SELECT COUNT(*) FROM kpi_days WHERE day = {their_week} AND span = 7");
    assert_eq!(app.scalar("SELECT COUNT(*) FROM kpi_days").await, 0, "nothing is kept before anyone reads");

    // The office reads the last three weeks: the past days and the whole weeks are computed,
    // kept, and equal the records.
    let (status, k) = admin.get(&format!("/api/v1/kpi?from={from_day}&to={today}")).await;
    assert_eq!(status, StatusCode::OK, "{k}");
    assert_eq!(app.scalar("SELECT COUNT(*) FROM kpi_days WHERE span = 1 AND filled = 1").await, 21, "21 past days");
    assert_eq!(app.scalar(&format!("{weeks_of_the_day} AND filled = 1")).await, 1, "the whole week of their day");
    assert_eq!(app.scalar(&kept_day).await, 1);
    let line =
        k["lines"].as_array().unwrap().iter().find(|l| l["key"] == unit.as_str()).expect("the unit's line").clone();
    assert_eq!(
        (line["due"].as_i64(), line["closed"].as_i64(), line["reworked"].as_i64(), line["disposed"].as_i64()),
        (Some(4), Some(1), Some(1), Some(2)),
        "{line}"
    );
    let (kept, live) = kpis_both_ways(&app, &city, now).await;
    assert_eq!(kept, live);
    let (kept, live) = kpis_both_ways_by(&app, &city, true, now).await;
    assert_eq!(kept, live, "by community too");
    assert!(!kept.is_empty());
    // The next read takes the kept figures: a kept count altered here shows through (in the
    // day, its week, and the month so far when the three weeks start on the 1st).
    sqlx::query(&format!(
        "UPDATE kpi_day_counts SET due = due + 100 WHERE grp = 'u' AND key = '{unit}' \
         AND ((span = 1 AND day = {their_day}) OR (span = 7 AND day = {their_week}) \
              OR (span > 7 AND day <= {their_day} AND day + span > {their_day}))"
    ))
    .execute(&app.db.pool)
    .await
    .unwrap();
    let (_, k2) = admin.get(&format!("/api/v1/kpi?from={from_day}&to={today}")).await;
    assert_eq!(k2["total"]["due"].as_i64(), k["total"]["due"].as_i64().map(|d| d + 100), "read from the kept day");

    // A change to one of its problems forgets the day; the next read computes it again.
    lead.act_ok(&ids[1], "submit_fix", json!({"note": "已返工", "photos": [photo(6)]})).await;
    sup.act_ok(&ids[1], "pass", json!({})).await;
    assert_eq!(app.scalar(&kept_day).await, 0, "the pass forgot the day");
    assert_eq!(app.scalar(&weeks_of_the_day).await, 0, "and its week");
    let (kept, live) = kpis_both_ways(&app, &city, now_ms()).await;
    assert_eq!(kept, live, "computed again, the altered count is gone");
    assert_eq!(app.scalar(&kept_day).await, 1, "and kept again");
    let of_unit =
        |rows: &[KpiRow]| rows.iter().find(|r| r.0.as_deref() == Some(unit.as_str())).expect("the unit's line").1;
    assert_eq!(of_unit(&kept).closed, 2);

    // A warning on a fix's photo, a point moving to another community: each forgets.
    let photo_id = app
        .id_of(&format!(
            "SELECT id FROM photos WHERE owner_type = 'problem' AND owner_id = '{}' AND kind = 'after'",
            ids[0]
        ))
        .await;
    let flags = app.id_of(&format!("SELECT flags FROM photos WHERE id = '{photo_id}'")).await;
    let (new_flags, change) = if flags == "[]" { ("[\"reused\"]", 1) } else { ("[]", -1) };
    let flagged = of_unit(&kept).flagged;
    sqlx::query(&format!("UPDATE photos SET flags = '{new_flags}' WHERE id = '{photo_id}'"))
        .execute(&app.db.pool)
        .await
        .unwrap();
    assert_eq!(app.scalar(&kept_day).await, 0, "a photo warning forgot the day");
    assert_eq!(app.scalar(&weeks_of_the_day).await, 0, "and its week");
    let (kept, live) = kpis_both_ways(&app, &city, now_ms()).await;
    assert_eq!(kept, live);
    assert_eq!(of_unit(&kept).flagged, flagged + change);
    // Saving a point with the same community forgets nothing; moving it to another forgets every
    // day, and its problems then count for the new community.
    let before = app.scalar("SELECT COUNT(*) FROM kpi_days").await;
    assert!(before > 0);
    sqlx::query(&format!("UPDATE points SET community_id = community_id WHERE id = '{point}'"))
        .execute(&app.db.pool)
        .await
        .unwrap();
    assert_eq!(app.scalar("SELECT COUNT(*) FROM kpi_days").await, before, "the same community forgets nothing");
    let other = app
        .id_of(&format!(
            "SELECT id FROM org_nodes WHERE level = 'community' AND id <> \
             (SELECT community_id FROM points WHERE id = '{point}') ORDER BY code LIMIT 1"
        ))
        .await;
    sqlx::query(&format!("UPDATE points SET community_id = '{other}' WHERE id = '{point}'"))
        .execute(&app.db.pool)
        .await
        .unwrap();
    assert_eq!(app.scalar("SELECT COUNT(*) FROM kpi_days").await, 0, "a point's new community forgot every day");
    let (kept, live) = kpis_both_ways_by(&app, &city, true, now_ms()).await;
    assert_eq!(kept, live);
    assert!(kept.iter().any(|r| r.0.as_deref() == Some(other.as_str()) && r.1.due >= 4), "{kept:?}");

    // An open problem whose deadline is still ahead: the day holds only until that deadline, after
    // which the problem counts as late.
    let ahead = now_ms() + 3_600_000;
    sqlx::query(&format!("UPDATE problems SET deadline_at = {ahead} WHERE id = '{}'", ids[3]))
        .execute(&app.db.pool)
        .await
        .unwrap();
    let (kept, live) = kpis_both_ways(&app, &city, now_ms()).await;
    assert_eq!(kept, live);
    assert_eq!(app.scalar(&format!("SELECT valid_until FROM kpi_days WHERE day = {their_day}")).await, ahead);
    let later = ahead + 1;
    let (kept_later, live_later) = kpis_both_ways(&app, &city, later).await;
    assert_eq!(kept_later, live_later, "past the deadline the day is computed again");
    let late = |rows: &[KpiRow]| rows.iter().map(|r| r.2).sum::<i64>();
    assert_eq!(late(&kept_later), late(&kept) + 1, "the open problem is now late");

    // A unit reads its own lines from the same kept days, and never keeps for the city.
    let (kept, live) =
        kpis_both_ways(&app, &ProblemFilter { unit_id: Some(unit.clone()), ..city.clone() }, later).await;
    assert_eq!(kept, live);
    assert_eq!(kept.len(), 1);
    sqlx::query("DELETE FROM kpi_days").execute(&app.db.pool).await.unwrap();
    let (_, k) = lead.get(&format!("/api/v1/kpi?from={from_day}&to={today}")).await;
    assert_eq!(k["total"]["due"], 4, "{k}");
    assert_eq!(app.scalar("SELECT COUNT(*) FROM kpi_days").await, 0, "a unit's read keeps nothing");

    // The background jobs keep the last two months, a week's days per round, newest first.
    use chuangcheng::service::kpi::keep_recent;
    let kept_days = "SELECT COUNT(*) FROM kpi_days WHERE span = 1 AND filled = 1";
    assert!(keep_recent(&app.db, now_ms(), 7).await.unwrap() >= 7);
    let first_round = app.scalar(kept_days).await;
    assert!((7..=13).contains(&first_round), "one round keeps about a week of days: {first_round}");
    while keep_recent(&app.db, now_ms(), 7).await.unwrap() > 0 {}
    assert_eq!(app.scalar(kept_days).await, 62, "every day of the last two months");
    assert_eq!(keep_recent(&app.db, now_ms(), 7).await.unwrap(), 0, "nothing left to keep");
    let (kept, live) = kpis_both_ways(&app, &city, now_ms()).await;
    assert_eq!(kept, live);
});

both!(a_past_month_is_kept_as_one_block_while_every_day_under_it_holds, |app: TestApp| async move {
    use chrono::Datelike;
    use chuangcheng::domain::time::{DAY_MS, now_ms, parse_local_day_start, to_local};
    use chuangcheng::store::kpi_days::{day_of, day_start, month_of};
    use chuangcheng::store::problems::ProblemFilter;
    let sup = app.api_login("supervisor").await;
    let lead = app.api_login("lead").await;
    let admin = app.api_login("admin").await;
    let (point, item) = road_point(&app).await;
    let mut ids = Vec::new();
    for n in 0..3 {
        let p = sup.file_ok(json!({"point_id": point, "standard_item_id": item, "description": format!("上月问题{n}"), "source": "supervision", "allow_duplicate": true})).await;
        ids.push(p["id"].as_str().unwrap().to_string());
    }
    for id in &ids[..2] {
        lead.act_ok(id, "acknowledge", json!({})).await;
        lead.act_ok(id, "submit_fix", json!({"note": "已整改", "photos": [photo(8)]})).await;
    }
    sup.act_ok(&ids[0], "pass", json!({})).await;
    // Into the previous calendar month (a test cannot file in the past: every time moves back).
    // Twelve days past the month's end: their week is over too, whatever today's weekday.
    let shift = (i64::from(to_local(now_ms()).day()) + 12) * DAY_MS;
    app.move_back(&ids, shift).await;
    let (first, span) = month_of(day_of(now_ms()) - to_local(now_ms()).day() as i64);
    let day_text = |d: i64| to_local(day_start(d)).format("%Y-%m-%d").to_string();
    let (from_day, to_day) = (day_text(first), day_text(first + span - 1));
    let from = parse_local_day_start(&from_day).unwrap();
    let city =
        ProblemFilter { dispatched_from: Some(from), dispatched_to: Some(from + span * DAY_MS), ..Default::default() };
    let month_row = format!("SELECT COUNT(*) FROM kpi_days WHERE day = {first} AND span = {span} AND filled = 1");

    // The office reads last month: its days and weeks are kept, and the month as their sum.
    let (status, k) = admin.get(&format!("/api/v1/kpi?from={from_day}&to={to_day}")).await;
    assert_eq!(status, StatusCode::OK, "{k}");
    assert_eq!(k["total"]["due"], 3, "{k}");
    assert_eq!(app.scalar(&month_row).await, 1, "the month is kept");
    let (kept, live) = kpis_both_ways(&app, &city, now_ms()).await;
    assert_eq!(kept, live);
    let (kept, live) = kpis_both_ways_by(&app, &city, true, now_ms()).await;
    assert_eq!(kept, live, "by community too");
    // The next reading takes the month alone: a count altered in the month's rows shows through.
    let alter =
        format!("UPDATE kpi_day_counts SET due = due + 100 WHERE day = {first} AND span = {span} AND grp = 'u'");
    sqlx::query(&alter).execute(&app.db.pool).await.unwrap();
    let (_, k2) = admin.get(&format!("/api/v1/kpi?from={from_day}&to={to_day}")).await;
    assert!(k2["total"]["due"].as_i64().unwrap() >= 103, "read from the kept month: {}", k2["total"]);

    // A change to one of its problems forgets that day (and its week): the month no longer holds,
    // though its own row is still there, and the reading equals the records again.
    sup.act_ok(&ids[1], "pass", json!({})).await;
    assert_eq!(app.scalar(&month_row).await, 1, "the month's row itself is not touched by the change");
    // The changed day and its week kept again alone (a reading of that week) are new fills: the
    // month, whose row and parts are all there again, is not read with them.
    let their_day = day_of(app.scalar(&format!("SELECT dispatched_at FROM problems WHERE id = '{}'", ids[1])).await);
    let monday = chuangcheng::store::kpi_days::monday_of(their_day);
    let their_week = ProblemFilter {
        dispatched_from: Some(day_start(monday)),
        dispatched_to: Some(day_start(monday + 7)),
        ..Default::default()
    };
    kpis_both_ways(&app, &their_week, now_ms()).await;
    let day_row = format!("SELECT COUNT(*) FROM kpi_days WHERE day = {their_day} AND span = 1 AND filled = 1");
    assert_eq!(app.scalar(&day_row).await, 1, "the day is kept again");
    let week_row = format!("SELECT COUNT(*) FROM kpi_days WHERE day = {monday} AND span = 7 AND filled = 1");
    assert_eq!(app.scalar(&week_row).await, 1, "and its week");
    let unit = app.id_of(&format!("SELECT unit_id FROM points WHERE id = '{point}'")).await;
    let own = ProblemFilter { unit_id: Some(unit), ..city.clone() };
    let (kept, live) = kpis_both_ways(&app, &own, now_ms()).await;
    assert_eq!(kept, live, "a month whose day was kept anew is not read (its altered count is not seen)");
    let (kept, live) = kpis_both_ways(&app, &city, now_ms()).await;
    assert_eq!(kept, live, "the altered month is not read");
    assert_eq!(kept.iter().map(|r| r.1.closed).sum::<i64>(), 2);
    // That reading kept the day again and summed the month anew (the alteration is gone).
    let (_, k3) = admin.get(&format!("/api/v1/kpi?from={from_day}&to={to_day}")).await;
    assert_eq!((k3["total"]["due"].as_i64(), k3["total"]["closed"].as_i64()), (Some(3), Some(2)), "{}", k3["total"]);
    sqlx::query(&alter).execute(&app.db.pool).await.unwrap();
    let (_, k4) = admin.get(&format!("/api/v1/kpi?from={from_day}&to={to_day}")).await;
    assert!(k4["total"]["due"].as_i64().unwrap() >= 103, "the new month is read: {}", k4["total"]);

    // A reader held to an area reads its communities' lines of the kept month.
    let community = app.id_of(&format!("SELECT community_id FROM points WHERE id = '{point}'")).await;
    let area = ProblemFilter { area_ids: Some(vec![community.clone()]), ..city.clone() };
    let (kept, live) = kpis_both_ways_by(&app, &area, true, now_ms()).await;
    assert_eq!(kept, live, "the area's lines equal the records");
    assert_eq!(live.iter().map(|r| r.1.due).sum::<i64>(), 3);
    sqlx::query(&format!(
        "UPDATE kpi_day_counts SET due = due + 100 WHERE day = {first} AND span = {span} AND grp = 'c' AND key = '{community}'"
    ))
    .execute(&app.db.pool)
    .await
    .unwrap();
    let (kept, _) = kpis_both_ways_by(&app, &area, true, now_ms()).await;
    assert_eq!(kept.iter().map(|r| r.1.due).sum::<i64>(), 103, "read from the kept month");
});

both!(the_last_30_days_are_kept_as_one_window_for_the_day_while_every_day_under_it_holds, |app: TestApp| async move {
    use chuangcheng::domain::time::{DAY_MS, now_ms, to_local};
    use chuangcheng::store::kpi_days::{day_of, day_start};
    use chuangcheng::store::problems::ProblemFilter;
    let sup = app.api_login("supervisor").await;
    let admin = app.api_login("admin").await;
    let (point, item) = road_point(&app).await;
    let mut ids = Vec::new();
    for n in 0..3 {
        let p = sup.file_ok(json!({"point_id": point, "standard_item_id": item, "description": format!("近期问题{n}"), "source": "supervision", "allow_duplicate": true})).await;
        ids.push(p["id"].as_str().unwrap().to_string());
    }
    // Ten days back: inside the last 30 days, not today.
    app.move_back(&ids, 10 * DAY_MS).await;
    let today = day_of(now_ms());
    let first = today - 29;
    let day_text = |d: i64| to_local(day_start(d)).format("%Y-%m-%d").to_string();
    let url = format!("/api/v1/kpi?from={}&to={}", day_text(first), day_text(today));
    let city = ProblemFilter {
        dispatched_from: Some(day_start(first)),
        dispatched_to: Some(day_start(today + 1)),
        ..Default::default()
    };
    let window = |day: i64, span: i64| {
        format!("SELECT COUNT(*) FROM kpi_days WHERE day = {day} AND span = {span} AND filled = 1")
    };
    // A window that ended three days ago, as a reading then would have kept it.
    let old = (first - 3, 29);
    for sql in [
        format!(
            "INSERT INTO kpi_days (day, span, token, filled, valid_until, built_at, parts) VALUES ({}, {}, 'old', 1, NULL, 0, NULL)",
            old.0, old.1
        ),
        format!(
            "INSERT INTO kpi_day_counts (day, span, grp, key, due, closed, closed_on_time, disposed, disposed_on_time, reworked, extended, postponed, flagged, timed, minutes_to_close, late, rated, satisfied, reopened) VALUES ({}, {}, 'u', 'x', 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)",
            old.0, old.1
        ),
    ] {
        sqlx::query(&sql).execute(&app.db.pool).await.unwrap();
    }

    // The office reads the last 30 days: the past 29 are kept as one window, the old one is gone.
    let (status, k) = admin.get(&url).await;
    assert_eq!(status, StatusCode::OK, "{k}");
    assert_eq!(k["total"]["due"], 3, "{k}");
    // On 1 and 2 March the past 29 days hold the whole of February: they are read as that kept
    // month and at most one day, and no window is kept for them (in a leap year the 29 days
    // are February itself, whose kept month is the one row).
    let month_of = chuangcheng::store::kpi_days::month_of;
    let month_inside = (first..today).any(|d| month_of(d).0 == d && d + month_of(d).1 <= today);
    if month_inside {
        let february = i64::from(month_of(first) == (first, 29));
        assert_eq!(app.scalar(&window(first, 29)).await, february, "no window over a kept month and a day");
        let (kept, live) = kpis_both_ways(&app, &city, now_ms()).await;
        assert_eq!(kept, live);
        return;
    }
    assert_eq!(app.scalar(&window(first, 29)).await, 1, "the window is kept");
    assert_eq!(app.scalar(&window(old.0, old.1)).await, 0, "the window that ended three days ago is forgotten");
    assert_eq!(
        app.scalar(&format!("SELECT COUNT(*) FROM kpi_day_counts WHERE day = {} AND span = {}", old.0, old.1)).await,
        0
    );
    let (kept, live) = kpis_both_ways(&app, &city, now_ms()).await;
    assert_eq!(kept, live);
    let (kept, live) = kpis_both_ways_by(&app, &city, true, now_ms()).await;
    assert_eq!(kept, live, "by community too");
    // Another period up to today (three weeks) is read from its weeks and days: no window. (A
    // period from the 1st is this month so far, which is kept as a window: a day later then.)
    let three_weeks =
        if chuangcheng::store::kpi_days::month_of(today).0 == today - 20 { today - 19 } else { today - 20 };
    let (status, _) = admin.get(&format!("/api/v1/kpi?from={}&to={}", day_text(three_weeks), day_text(today))).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(app.scalar(&format!("SELECT COUNT(*) FROM kpi_days WHERE day = {three_weeks} AND span > 7")).await, 0);
    // The next reading takes the window alone: a count altered in its rows shows through.
    let alter = format!("UPDATE kpi_day_counts SET due = due + 100 WHERE day = {first} AND span = 29 AND grp = 'u'");
    sqlx::query(&alter).execute(&app.db.pool).await.unwrap();
    let (_, k2) = admin.get(&url).await;
    assert!(k2["total"]["due"].as_i64().unwrap() >= 103, "read from the kept window: {}", k2["total"]);
    // Tomorrow the same past days are not read from today's window (it no longer ends at the
    // reading's today, and a newer reading may forget it).
    let past = ProblemFilter { dispatched_to: Some(day_start(today)), ..city.clone() };
    let (kept, live) = kpis_both_ways(&app, &past, now_ms()).await;
    assert_ne!(kept, live, "today the window is read for them (its altered count)");
    let (kept, live) = kpis_both_ways(&app, &past, now_ms() + DAY_MS).await;
    assert_eq!(kept, live, "a window is read only on the day it ends at");

    // A change to one of its problems forgets that day: the window no longer holds and the
    // reading equals the records again (and keeps a new window).
    let lead = app.api_login("lead").await;
    lead.act_ok(&ids[0], "acknowledge", json!({})).await;
    let (kept, live) = kpis_both_ways(&app, &city, now_ms()).await;
    assert_eq!(kept, live, "the altered window is not read");
    let (_, k3) = admin.get(&url).await;
    assert_eq!(k3["total"]["due"], 3, "{}", k3["total"]);
    sqlx::query(&alter).execute(&app.db.pool).await.unwrap();
    let (_, k4) = admin.get(&url).await;
    assert!(k4["total"]["due"].as_i64().unwrap() >= 103, "the new window is read: {}", k4["total"]);
});

both!(kpis_of_one_street_or_community_count_its_records, |app: TestApp| async move {
    use chrono::Duration;
    use chuangcheng::domain::time::{DAY_MS, now_ms, to_local};
    let ids = todays_work(&app).await;
    let (point, _) = road_point(&app).await;
    // Two of them (one closed) three days ago, so that past days are read kept.
    app.move_back(&ids[..2], 3 * DAY_MS).await;
    let today = to_local(now_ms()).date_naive();
    let (from, to) = (today - Duration::days(10), today);
    let q = format!("from={from}&to={to}");
    let admin = app.api_login("admin").await;
    // The office's city-wide reading keeps the past days; the areas below read their kept lines.
    let (status, city) = admin.get(&format!("/api/v1/kpi?{q}&by=community")).await;
    assert_eq!(status, StatusCode::OK, "{city}");
    assert!(app.scalar("SELECT COUNT(*) FROM kpi_days").await > 0, "the office's reading kept days");
    let areas: Vec<(String, String)> =
        sqlx::query_as("SELECT id, level FROM org_nodes WHERE level IN ('street', 'community') ORDER BY code")
            .fetch_all(&app.db.pool)
            .await
            .unwrap();
    let (mut streets_due, mut with_work) = (0, 0);
    for (id, level) in &areas {
        let due = ledger_total(&admin, &format!("/problems?dfrom={from}&dto={to}&area_id={id}")).await;
        let closed = ledger_total(&admin, &format!("/problems?dfrom={from}&dto={to}&closed=1&area_id={id}")).await;
        for by in ["unit", "community"] {
            let (status, k) = admin.get(&format!("/api/v1/kpi?{q}&by={by}&area_id={id}")).await;
            assert_eq!(status, StatusCode::OK, "{k}");
            assert_eq!(
                (k["total"]["due"].as_i64(), k["total"]["closed"].as_i64()),
                (Some(due), Some(closed)),
                "{by} {id}: {k}"
            );
            if level == "community" && by == "community" {
                assert!(k["lines"].as_array().unwrap().iter().all(|l| l["key"] == id.as_str()), "{k}");
            }
        }
        if level == "street" {
            streets_due += due;
        } else {
            with_work += usize::from(due > 0);
        }
    }
    assert!(with_work >= 2, "the work lies in two communities");
    // The streets together hold the city's problems (every demo point lies in a street).
    assert_eq!(Some(streets_due), city["total"]["due"].as_i64(), "{city}");

    // The page: the area is chosen in the filter bar, its figures open the area's records and
    // its export holds the same total.
    let community = app.id_of(&format!("SELECT community_id FROM points WHERE id = '{point}'")).await;
    let b = app.login("admin").await;
    let (status, html) = b.get(&format!("/kpi?{q}&by=community&area_id={community}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains(&format!("<option value=\"{community}\" selected>")), "the area is selected");
    let tail = format!("&area_id={community}&closed=1").replace('&', "&#38;");
    assert!(html.contains(&tail), "the figures open the area's records: {html}");
    let sheets = xlsx_sheets(b.get_raw(&format!("/kpi?{q}&by=community&area_id={community}&export=xlsx")).await).await;
    let last = sheets[0].1.last().unwrap().clone();
    let (_, k) = admin.get(&format!("/api/v1/kpi?{q}&area_id={community}")).await;
    assert_eq!((last[0].to_string(), number(&last[1])), ("合计".to_string(), k["total"]["due"].as_f64().unwrap()));
    assert!(number(&last[1]) > 0.0, "the community has work: {k}");
    // The dashboard's rate card for the area opens the KPI page of the same area.
    let (_, d) = admin.get(&format!("/api/v1/dashboard?area_id={community}")).await;
    let card = d["cards"].as_array().unwrap().iter().find(|c| c["key"] == "closure_rate").unwrap().clone();
    assert!(
        card["href"].as_str().unwrap().starts_with("/kpi?")
            && card["href"].as_str().unwrap().ends_with(&format!("&area_id={community}")),
        "{card}"
    );

    // A grid worker reads its own community, and is refused another area.
    let grid = app.api_login("grid").await;
    let own = app.id_of("SELECT area_id FROM users WHERE username = 'grid'").await;
    let (status, k) = grid.get(&format!("/api/v1/kpi?{q}&area_id={own}")).await;
    assert_eq!(status, StatusCode::OK, "{k}");
    let (street, _) = areas.iter().find(|(_, level)| level == "street").unwrap();
    let (status, body) = grid.get(&format!("/api/v1/kpi?{q}&area_id={street}")).await;
    assert_eq!((status, body["error"]["code"].as_str()), (StatusCode::FORBIDDEN, Some("forbidden")), "{body}");
    assert_eq!(app.login("grid").await.get(&format!("/kpi?{q}&area_id={street}")).await.0, StatusCode::FORBIDDEN);
    // An area that does not exist is refused with its code.
    let (status, body) = admin.get(&format!("/api/v1/kpi?{q}&area_id=nowhere")).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["error"]["code"], "unknown_area");
    assert!(body["error"]["message"].as_str().unwrap().contains("不存在"));
});

both!(the_reporting_rate_counts_each_units_active_points, |app: TestApp| async move {
    // 点位汇报率: the reports a unit's points filed on the period's working days, over its active
    // points times those days. The points are counted from the copy each instance keeps in
    // memory; a point taken out of service elsewhere (here straight in the database) leaves the
    // count on the next reading.
    use chrono::Duration;
    let admin = app.api_login("admin").await;
    let cal = chuangcheng::service::calendar::load(&app.db).await.unwrap();
    let today = chuangcheng::domain::time::to_local(chuangcheng::domain::time::now_ms()).date_naive();
    let (from, to) = (today - Duration::days(14), today);
    let days: Vec<String> = from
        .iter_days()
        .take_while(|d| *d <= to)
        .filter(|d| cal.is_working_day(*d))
        .map(|d| d.format("%Y-%m-%d").to_string())
        .collect();
    assert!(days.len() >= 5, "{days:?}");
    let unit = app
        .id_of("SELECT unit_id FROM points WHERE active = 1 GROUP BY unit_id ORDER BY COUNT(*) DESC, unit_id LIMIT 1")
        .await;
    let points: Vec<String> =
        sqlx::query_scalar(&format!("SELECT id FROM points WHERE unit_id = '{unit}' AND active = 1 ORDER BY code"))
            .fetch_all(&app.db.pool)
            .await
            .unwrap();
    assert!(points.len() >= 3, "{points:?}");
    // The first point reports on every working day, the second on the first two.
    for (point, n) in [(&points[0], days.len()), (&points[1], 2)] {
        for day in &days[..n] {
            sqlx::query(
                "INSERT INTO daily_reports (id, point_id, unit_id, community_id, day, done, created_at, updated_at) \
                 SELECT $1, id, unit_id, community_id, $2, '巡查保洁', 0, 0 FROM points WHERE id = $3 \
                 AND NOT EXISTS (SELECT 1 FROM daily_reports WHERE point_id = $3 AND day = $2)",
            )
            .bind(chuangcheng::domain::ids::new_id())
            .bind(day)
            .bind(point)
            .execute(&app.db.pool)
            .await
            .unwrap();
        }
    }
    // A line is shown for a unit with problems in the period.
    let sup = app.api_login("supervisor").await;
    sup.file_ok(
        json!({"point_id": points[0], "category": "乱贴乱画", "description": "小广告", "source": "supervision",
                       "allow_duplicate": true}),
    )
    .await;
    let within = days.iter().map(|d| format!("'{d}'")).collect::<Vec<_>>().join(",");
    let filed =
        app.scalar(&format!("SELECT COUNT(*) FROM daily_reports WHERE unit_id = '{unit}' AND day IN ({within})")).await;
    assert!(filed >= days.len() as i64 + 2, "{filed}");
    let rate_of = |k: &serde_json::Value| {
        k["lines"].as_array().unwrap().iter().find(|l| l["key"] == unit.as_str()).map(|l| l["report_rate"].as_f64())
    };
    let url = format!("/api/v1/kpi?from={from}&to={to}");
    let expected =
        |active: i64| Some(Some((filed as f64 * 1000.0 / (active * days.len() as i64) as f64).round() / 10.0));
    let (status, k) = admin.get(&url).await;
    assert_eq!(status, StatusCode::OK, "{k}");
    let rate = rate_of(&k);
    assert_eq!(rate, expected(points.len() as i64), "{k}");
    // The last point is taken out of service: the unit's rate is over one point fewer.
    sqlx::query("UPDATE points SET active = 0 WHERE id = $1")
        .bind(points.last().unwrap())
        .execute(&app.db.pool)
        .await
        .unwrap();
    let (_, k) = admin.get(&url).await;
    assert_eq!(rate_of(&k), expected(points.len() as i64 - 1), "{k}");
    assert_ne!(rate_of(&k), rate);
});
