//! 数据看板 and 大屏: every figure is a count of the records its link opens, for the city and
//! for one street; filing a problem moves the figures; each role sees only what it may.

use crate::both;
use crate::fixtures::*;
use crate::helpers::*;
use chrono::{Datelike, Duration, NaiveDate};
use reqwest::StatusCode;
use serde_json::{Value, json};

fn card<'a>(d: &'a Value, key: &str) -> &'a Value {
    d["cards"].as_array().unwrap().iter().find(|c| c["key"] == key).unwrap_or_else(|| panic!("no card {key}: {d}"))
}

/// 结案率 of the problems dispatched from `from` to `to` (days, inclusive; `area` a ledger
/// query tail such as "&area_id=…"), counted in the ledger: None when none was dispatched.
async fn closure_rate(api: &Api, (from, to): (NaiveDate, NaiveDate), area: &str) -> Option<f64> {
    let due = ledger_total(api, &format!("/problems?dfrom={from}&dto={to}{area}")).await;
    let closed = ledger_total(api, &format!("/problems?dfrom={from}&dto={to}&closed=1{area}")).await;
    (due > 0).then(|| (closed as f64 * 1000.0 / due as f64).round() / 10.0)
}

/// The 结案率 card (read from the KPI page's kept days where they hold) equals the ledger's
/// count of the period's dispatched problems, and its comparison the previous period's.
async fn assert_closure_rate_counts_the_records(api: &Api, d: &Value) {
    // The period and area, as the found card's link gives them: /problems?from=…&to=…[&area_id=…]
    let href = card(d, "found")["href"].as_str().unwrap();
    let query = href.strip_prefix("/problems?from=").unwrap();
    let (from, rest) = query.split_once("&to=").unwrap();
    let (to, area) = rest.split_at(10);
    let day = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
    let (from, to) = (day(from), day(to));
    let (prev, last) = if d["period"] == "week" {
        ((from - Duration::days(7), from - Duration::days(1)), "上周")
    } else {
        let end = from - Duration::days(1);
        ((end.with_day(1).unwrap(), end), "上月")
    };
    let c = card(d, "closure_rate");
    assert_eq!(c["number"].as_f64().unwrap(), closure_rate(api, (from, to), area).await.unwrap_or(0.0), "{c}");
    let before = closure_rate(api, prev, area).await.map(|p| format!("{last} {p:.1}%"));
    assert_eq!(c["compare"].as_str().map(str::to_string), before, "{c}");
}

/// Every count on the dashboard equals the ledger total behind its link.
async fn assert_figures_open_their_records(api: &Api, d: &Value) {
    assert_closure_rate_counts_the_records(api, d).await;
    for c in d["cards"].as_array().unwrap() {
        let href = c["href"].as_str().unwrap();
        if href.starts_with("/problems") {
            assert_eq!(ledger_total(api, href).await as f64, c["number"].as_f64().unwrap(), "card {}", c["key"]);
        }
    }
    for t in d["trend"].as_array().unwrap() {
        assert_eq!(ledger_total(api, t["found_href"].as_str().unwrap()).await, t["found"].as_i64().unwrap(), "{t}");
        assert_eq!(ledger_total(api, t["closed_href"].as_str().unwrap()).await, t["closed"].as_i64().unwrap(), "{t}");
    }
    // The period's first and last days, and the previous period's (上周, 上月).
    let first = NaiveDate::parse_from_str(d["trend"][0]["day"].as_str().unwrap(), "%Y-%m-%d").unwrap();
    let (last, before) = if d["period"] == "month" {
        let next = first.checked_add_months(chrono::Months::new(1)).unwrap();
        (next - Duration::days(1), first.checked_sub_months(chrono::Months::new(1)).unwrap())
    } else {
        (first + Duration::days(6), first - Duration::days(7))
    };
    for c in d["categories"].as_array().unwrap() {
        let href = c["href"].as_str().unwrap();
        assert_eq!(ledger_total(api, href).await, c["count"].as_i64().unwrap(), "{c}");
        // The same category in the previous period: the same link moved to that period.
        let (now_q, then_q) =
            (format!("from={first}&to={last}"), format!("from={before}&to={}", first - Duration::days(1)));
        assert!(href.contains(&now_q), "{href} opens the period {now_q}");
        assert_eq!(ledger_total(api, &href.replace(&now_q, &then_q)).await, c["previous"].as_i64().unwrap(), "{c}");
    }
    let points = d["points"].as_array().unwrap();
    for p in points {
        assert_eq!(ledger_total(api, p["href"].as_str().unwrap()).await, p["count"].as_i64().unwrap(), "{p}");
        // Named with its unit, as the point's own record says.
        let (_, point) = api.get(&format!("/api/v1/points/{}", p["id"].as_str().unwrap())).await;
        assert_eq!(p["unit"], point["unit_name"], "{p}");
    }
    // Most problems first.
    let counts: Vec<i64> = points.iter().map(|p| p["count"].as_i64().unwrap()).collect();
    assert!(counts.windows(2).all(|w| w[0] >= w[1]), "{counts:?}");
}

/// Work of past days (a test cannot file in the past: every time moves back together): two
/// problems a week ago and two in the previous month, one of each pair closed, so that the
/// previous periods' rates are read from the KPI page's kept days.
async fn past_work(app: &TestApp) {
    use chuangcheng::domain::time::{DAY_MS, now_ms, to_local};
    let sup = app.api_login("supervisor").await;
    let lead = app.api_login("lead").await;
    let (point, item) = road_point(app).await;
    let into_last_month = i64::from(to_local(now_ms()).day()) + 5;
    for days in [7, into_last_month] {
        let mut ids = Vec::new();
        for n in 0..2 {
            let body = json!({"point_id": point, "standard_item_id": item, "description": format!("旧问题{days}-{n}"),
                "source": "supervision", "allow_duplicate": true});
            ids.push(sup.file_ok(body).await["id"].as_str().unwrap().to_string());
        }
        lead.act_ok(&ids[0], "acknowledge", json!({})).await;
        lead.act_ok(&ids[0], "submit_fix", json!({"note": "已清理", "photos": [photo(41)]})).await;
        sup.act_ok(&ids[0], "pass", json!({})).await;
        app.move_back(&ids, days * DAY_MS).await;
    }
}

both!(every_dashboard_figure_opens_the_records_it_counts, |app: TestApp| async move {
    todays_work(&app).await;
    past_work(&app).await;
    let admin = app.api_login("admin").await;
    for period in ["week", "month"] {
        let (status, d) = admin.get(&format!("/api/v1/dashboard?period={period}")).await;
        assert_eq!(status, StatusCode::OK, "{d}");
        assert_eq!(d["period"], period);
        // The demo city has work this period: the figures are not all zero.
        assert!(card(&d, "found")["number"].as_f64().unwrap() > 0.0, "{d}");
        assert!(!d["categories"].as_array().unwrap().is_empty());
        assert!(!d["heat"].as_array().unwrap().is_empty());
        for key in ["closed", "pending"] {
            assert!(card(&d, key)["number"].as_f64().unwrap() > 0.0, "{key}: {d}");
        }
        // The past work dispatched problems in the previous period: its rate is compared (read
        // from the KPI page's kept days, checked against the ledger below).
        assert!(card(&d, "closure_rate")["compare"].is_string(), "{d}");
        assert!(
            app.scalar("SELECT COUNT(*) FROM kpi_days WHERE filled = 1").await > 0,
            "the office's reading kept the past days it computed"
        );
        let trend_found: i64 = d["trend"].as_array().unwrap().iter().map(|t| t["found"].as_i64().unwrap()).sum();
        assert_eq!(trend_found as f64, card(&d, "found")["number"].as_f64().unwrap());
        let heat: i64 = d["heat"].as_array().unwrap().iter().map(|c| c["count"].as_i64().unwrap()).sum();
        assert_eq!(heat, d["heat_total"].as_i64().unwrap());
        assert_figures_open_their_records(&admin, &d).await;
        // The ranking lists the units with their movement and opens each unit's score ledger.
        let r = &d["ranking"];
        assert!(r["total"].as_u64().unwrap() >= 10, "{r}");
        let first = &r["top"][0];
        assert_eq!(first["rank"], 1);
        let (status, _) = app.login("admin").await.get(first["href"].as_str().unwrap()).await;
        assert_eq!(status, StatusCode::OK);
    }
});

both!(filing_a_problem_moves_the_dashboard, |app: TestApp| async move {
    todays_work(&app).await;
    let admin = app.api_login("admin").await;
    let (_, before) = admin.get("/api/v1/dashboard").await;
    let sup = app.api_login("supervisor").await;
    let (point, item) = road_point(&app).await;
    let filed = sup
        .file_ok(json!({"point_id": point, "standard_item_id": item, "description": "人行道积存垃圾",
            "source": "supervision", "allow_duplicate": true}))
        .await;
    let (_, after) = admin.get("/api/v1/dashboard").await;
    let n = |d: &Value, k: &str| card(d, k)["number"].as_f64().unwrap();
    assert_eq!(n(&after, "found"), n(&before, "found") + 1.0);
    let today = |d: &Value| d["trend"].as_array().unwrap().last().unwrap()["found"].as_i64().unwrap();
    assert_eq!(today(&after), today(&before) + 1);
    let category = filed["category"].as_str().unwrap();
    let count = |d: &Value| {
        d["categories"].as_array().unwrap().iter().find(|c| c["name"] == category).map(|c| c["count"].as_i64().unwrap())
    };
    assert_eq!(count(&after).unwrap(), count(&before).unwrap_or(0) + 1);
    // The point now leads the list or is on it with its new problem counted.
    let at = |d: &Value| {
        d["points"].as_array().unwrap().iter().find(|p| p["id"] == point).map(|p| p["count"].as_i64().unwrap())
    };
    if let (Some(a), Some(b)) = (at(&after), at(&before)) {
        assert_eq!(a, b + 1);
    }
    assert_figures_open_their_records(&admin, &after).await;
});

both!(a_street_sees_its_own_figures, |app: TestApp| async move {
    todays_work(&app).await;
    past_work(&app).await;
    let admin = app.api_login("admin").await;
    let (_, city) = admin.get("/api/v1/dashboard").await;
    let areas = city["areas"].as_array().unwrap();
    let streets: Vec<&Value> = areas.iter().filter(|a| a["level"] == "street").collect();
    assert!(!streets.is_empty(), "the demo city has streets: {city}");
    let mut total = 0.0;
    let mut with_work = 0;
    let mut ranked_in_streets = 0;
    for s in areas {
        let id = s["id"].as_str().unwrap();
        let (status, d) = admin.get(&format!("/api/v1/dashboard?area_id={id}")).await;
        assert_eq!(status, StatusCode::OK, "{d}");
        assert_eq!(d["area"]["id"], id);
        // Every link keeps the street, and its records are the street's.
        assert!(card(&d, "found")["href"].as_str().unwrap().contains(&format!("area_id={id}")));
        assert_figures_open_their_records(&admin, &d).await;
        // The ranking holds the units of the area and of the areas under it.
        let in_area = app
            .scalar(&format!(
                "WITH RECURSIVE a(id) AS (SELECT '{id}' UNION ALL SELECT o.id FROM org_nodes o JOIN a ON o.parent_id = a.id) \
                 SELECT COUNT(*) FROM units WHERE area_id IN (SELECT id FROM a) \
                 AND kind NOT IN ('bank_branch', 'service_hall', 'business_hall')"
            ))
            .await;
        assert_eq!(d["ranking"]["total"].as_i64(), Some(in_area), "{}", s["name"]);
        ranked_in_streets += if s["level"] == "street" { in_area } else { 0 };
        let found = card(&d, "found")["number"].as_f64().unwrap();
        if s["level"] == "street" {
            total += found;
        } else {
            with_work += usize::from(found > 0.0);
        }
    }
    assert!(with_work >= 2, "the work lies in two communities");
    assert!(ranked_in_streets >= 2, "the streets' rankings hold units: {ranked_in_streets}");
    // The streets together hold the city's problems (every demo point lies in a street).
    assert_eq!(total, card(&city, "found")["number"].as_f64().unwrap());

    // A grid worker is held to its own area; another area is refused.
    let grid = app.api_login("grid").await;
    let (status, d) = grid.get("/api/v1/dashboard").await;
    assert_eq!(status, StatusCode::OK, "{d}");
    assert_eq!(d["area_fixed"], true);
    assert_eq!(d["area"]["name"], "金狮社区");
    let other = streets[0]["id"].as_str().unwrap();
    let (status, body) = grid.get(&format!("/api/v1/dashboard?area_id={other}")).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
});

both!(the_dashboard_refuses_what_it_should, |app: TestApp| async move {
    let admin = app.api_login("admin").await;
    let (status, body) = admin.get("/api/v1/dashboard?period=year").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"]["code"], "invalid_period");
    assert!(body["error"]["message"].as_str().unwrap().contains("看板周期"));
    let (status, body) = admin.get("/api/v1/dashboard?area_id=nowhere").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["error"]["code"], "unknown_area");
    for who in ["unit", "lead"] {
        let (status, _) = app.api_login(who).await.get("/api/v1/dashboard").await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{who}");
        let (status, _) = app.login(who).await.get("/dashboard").await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{who}");
    }
});

both!(the_dashboard_and_big_screen_pages_show_the_figures, |app: TestApp| async move {
    todays_work(&app).await;
    let b = app.login("admin").await;
    let (status, html) = b.get("/dashboard").await;
    assert_eq!(status, StatusCode::OK);
    for text in
        ["数据看板", "发现问题", "结案率", "每日发现与销号", "高发问题类别", "问题最多的点位", "千分制排名", "大屏模式"]
    {
        assert!(html.contains(text), "{text}");
    }
    // Vendored, never a CDN.
    assert!(html.contains("/static/vendor/echarts/"));
    assert!(!html.contains("http://") && !html.contains("https://"), "no outside address on the page");
    let (status, js) = b.get("/static/vendor/echarts/echarts-6.0.0.common.min.js").await;
    assert_eq!(status, StatusCode::OK);
    assert!(js.len() > 500_000);
    let (status, screen) = b.get("/dashboard/screen?period=month").await;
    assert_eq!(status, StatusCode::OK);
    assert!(screen.contains("数据大屏") && screen.contains("hx-trigger=\"every 60s\"") && screen.contains("本月"));
    // The refresh fetches the figures alone.
    let (status, part) = b.get("/dashboard/screen?period=month&part=1").await;
    assert_eq!(status, StatusCode::OK);
    assert!(part.contains("dash-cards") && !part.contains("<html"));
    let (status, data) = b.get("/dashboard/data.json").await;
    assert_eq!(status, StatusCode::OK);
    let data: Value = serde_json::from_str(&data).unwrap();
    assert!(data["cards"].as_array().unwrap().len() >= 6);
    // A drill-down says what it lists.
    let cat = data["categories"][0]["href"].as_str().unwrap();
    let (status, ledger) = b.get(cat).await;
    assert_eq!(status, StatusCode::OK);
    assert!(ledger.contains("看板明细") && ledger.contains("问题类别："), "{cat}");
});

both!(the_worst_points_are_those_with_most_problems_then_by_name, |app: TestApp| async move {
    use chuangcheng::domain::time::{now_ms, parse_local_day_start};
    let sup = app.api_login("supervisor").await;
    // Problems at fourteen points this week: three at the first, two at the second, one at
    // each other, so the ten shown are chosen among tied points by name.
    let points: Vec<(String,)> =
        sqlx::query_as("SELECT id FROM points ORDER BY code LIMIT 14").fetch_all(&app.db.pool).await.unwrap();
    for (i, (point,)) in points.iter().enumerate() {
        for n in 0..[3, 2].get(i).copied().unwrap_or(1) {
            sup.file_ok(json!({"point_id": point, "category": "乱贴乱画", "description": format!("小广告{i}-{n}"),
                               "source": "supervision", "allow_duplicate": true}))
                .await;
        }
    }
    let admin = app.api_login("admin").await;
    let (status, d) = admin.get("/api/v1/dashboard?period=week").await;
    assert_eq!(status, StatusCode::OK, "{d}");
    let shown: Vec<(String, i64, i64, String)> = d["points"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            let s = |k: &str| p[k].as_str().unwrap().to_string();
            (s("id"), p["count"].as_i64().unwrap(), p["overdue"].as_i64().unwrap(), s("name"))
        })
        .collect();
    // What the records say: every point's problems found this week (and overdue now), ordered
    // most first, then most overdue, then by name (byte order) and id.
    let monday = today() - Duration::days(today().weekday().num_days_from_monday() as i64);
    let week = parse_local_day_start(&day(monday)).unwrap();
    let mut expected: Vec<(String, i64, i64, String)> = sqlx::query_as(&format!(
        "SELECT p.id, CAST(COUNT(*) AS BIGINT), CAST(SUM(CASE WHEN q.state IN ('dispatched', 'acknowledged', 'submitted') \
         AND q.deadline_at < {} THEN 1 ELSE 0 END) AS BIGINT), p.name FROM problems q JOIN points p ON p.id = q.point_id \
         WHERE q.found_at >= {week} GROUP BY p.id, p.name",
        now_ms()
    ))
    .fetch_all(&app.db.pool)
    .await
    .unwrap();
    assert!(expected.len() > 10, "more points with problems than are shown: {}", expected.len());
    expected.sort_by(|a, b| b.1.cmp(&a.1).then(b.2.cmp(&a.2)).then_with(|| a.3.cmp(&b.3)).then_with(|| a.0.cmp(&b.0)));
    expected.truncate(10);
    assert_eq!(shown, expected);
    // Each point's problems are on the heat layer.
    let heat: i64 = d["heat"].as_array().unwrap().iter().map(|c| c["count"].as_i64().unwrap()).sum();
    let placed = app
        .scalar(&format!(
            "SELECT COUNT(*) FROM problems q JOIN points p ON p.id = q.point_id \
             WHERE q.found_at >= {week} AND p.lat IS NOT NULL AND p.lng IS NOT NULL"
        ))
        .await;
    assert_eq!((heat, d["heat_total"].as_i64().unwrap()), (placed, placed));

    // The points are kept in memory between reads. A change made elsewhere (another instance:
    // here straight in the database) shows on the next read: the shown point takes its new name,
    // and with its place removed its problems leave the heat layer.
    let (top, top_count) = (shown[0].0.clone(), shown[0].1);
    sqlx::query("UPDATE points SET name = $1, lat = NULL, lng = NULL WHERE id = $2")
        .bind("改名后的点位")
        .bind(&top)
        .execute(&app.db.pool)
        .await
        .unwrap();
    let (_, d) = admin.get("/api/v1/dashboard?period=week").await;
    let renamed = d["points"].as_array().unwrap().iter().find(|p| p["id"] == top.as_str()).unwrap();
    assert_eq!((renamed["name"].as_str(), renamed["lat"].as_f64()), (Some("改名后的点位"), None), "{renamed}");
    assert_eq!(d["heat_total"].as_i64().unwrap(), placed - top_count);
    // A point added through the API, with a problem filed there, is placed on the next read.
    let (_, mut p) = admin.get(&format!("/api/v1/points/{top}")).await;
    p["code"] = "HEAT-NEW".into();
    p["name"] = "新设点位".into();
    (p["lat"], p["lng"]) = (30.25.into(), 120.17.into());
    let (status, body) = admin.post("/api/v1/points", p).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let added = body["id"].as_str().unwrap().to_string();
    for n in 0..4 {
        sup.file_ok(json!({"point_id": added, "category": "乱贴乱画", "description": format!("新点位{n}"),
                           "source": "supervision", "allow_duplicate": true}))
            .await;
    }
    let (_, d) = admin.get("/api/v1/dashboard?period=week").await;
    assert_eq!(d["heat_total"].as_i64().unwrap(), placed - top_count + 4);
    let first = &d["points"][0];
    assert!(first["count"].as_i64().unwrap() >= 4, "{first}");
    let added_row = d["points"].as_array().unwrap().iter().find(|p| p["id"] == added.as_str());
    assert_eq!(added_row.map(|p| (p["name"].as_str(), p["lat"].as_f64())), Some((Some("新设点位"), Some(30.25))));
});

both!(the_previous_periods_categories_are_kept_while_nothing_found_before_today_changes, |app: TestApp| async move {
    let admin = app.api_login("admin").await;
    let sup = app.api_login("supervisor").await;
    let (point, item) = road_point(&app).await;
    let (monday, _) = last_week();
    let tuesday = (monday + Duration::days(1)).format("%Y-%m-%d").to_string();
    let from = chuangcheng::domain::time::parse_local_day_start(&monday.format("%Y-%m-%d").to_string()).unwrap();
    let to = from + 7 * 86_400_000;
    let filing = |found: Option<String>| litter_at(&point, &item, found.as_deref());
    // Two problems found last week, one today (a category is listed when this week has it).
    let category = sup.file_ok(filing(None)).await["category"].as_str().unwrap().to_string();
    let mut last_week_ids = Vec::new();
    for _ in 0..2 {
        last_week_ids
            .push(sup.file_ok(filing(Some(format!("{tuesday}T07:05")))).await["id"].as_str().unwrap().to_string());
    }
    let previous = || async {
        let (status, d) = admin.get("/api/v1/dashboard?period=week").await;
        assert_eq!(status, StatusCode::OK, "{d}");
        let c = d["categories"].as_array().unwrap().iter().find(|c| c["name"] == category.as_str()).cloned();
        c.unwrap_or_else(|| panic!("{category} is listed: {d}"))["previous"].as_i64().unwrap()
    };
    let in_records = || async {
        app.scalar(&format!(
            "SELECT COUNT(*) FROM problems WHERE category = '{category}' AND found_at >= {from} AND found_at < {to}"
        ))
        .await
    };
    assert_eq!((previous().await, in_records().await), (2, 2));
    // Today's work does not move the found problems' revision: the kept counts hold.
    let revision = || app.scalar("SELECT n FROM revisions WHERE name = 'problems_found'");
    let before = revision().await;
    let today_id = sup.file_ok(filing(None)).await["id"].as_str().unwrap().to_string();
    app.api_login("lead").await.act_ok(&today_id, "acknowledge", json!({})).await;
    assert_eq!(revision().await, before, "filing and acknowledging today's problem");
    assert_eq!(previous().await, 2);
    // A problem filed today as found last week counts on the next read.
    sup.file_ok(filing(Some(format!("{tuesday}T09:30")))).await;
    assert_eq!((previous().await, in_records().await), (3, 3));
    // A change made elsewhere (another instance: here straight in the database) to a problem
    // found last week shows on the next read.
    sqlx::query("UPDATE problems SET category = '其他问题' WHERE id = $1")
        .bind(&last_week_ids[0])
        .execute(&app.db.pool)
        .await
        .unwrap();
    assert_eq!((previous().await, in_records().await), (2, 2));
});

both!(the_past_days_of_the_current_period_are_kept_and_today_is_read_live, |app: TestApp| async move {
    use chuangcheng::domain::time::{DAY_MS, now_ms};
    use chuangcheng::service::dashboard::found_per_day_category;
    use chuangcheng::store::kpi_days::{day_of, day_start};
    use chuangcheng::store::problems::ProblemFilter;
    let sup = app.api_login("supervisor").await;
    let (point, item) = road_point(&app).await;
    let today = day_start(day_of(now_ms()));
    // A period as the dashboard reads it on a day inside it: three past days, today, tomorrow.
    let (from, to) = (today - 3 * DAY_MS, today + 2 * DAY_MS);
    let f = ProblemFilter { from_ms: Some(from), to_ms: Some(to), ..Default::default() };
    let read = || async {
        let mut rows: Vec<(i64, String, i64)> = found_per_day_category(&app.db, &f, now_ms())
            .await
            .unwrap()
            .into_iter()
            .map(|r| (r.day, r.category, r.n))
            .collect();
        rows.sort();
        rows
    };
    let in_records = || async {
        let mut rows: Vec<(i64, String, i64)> = sqlx::query_as(&format!(
            "SELECT CAST((found_at + 28800000) / 86400000 AS BIGINT), category, CAST(COUNT(*) AS BIGINT) \
             FROM problems WHERE found_at >= {from} AND found_at < {to} GROUP BY 1, 2"
        ))
        .fetch_all(&app.db.pool)
        .await
        .unwrap();
        rows.sort();
        rows
    };
    let two_days_ago = chuangcheng::domain::time::to_local(today - 2 * DAY_MS).format("%Y-%m-%dT09:30").to_string();
    let filing = |found: Option<&str>| litter_at(&point, &item, found);
    let past = sup.file_ok(filing(Some(&two_days_ago))).await["id"].as_str().unwrap().to_string();
    let first = read().await;
    assert_eq!(first, in_records().await);
    assert!(first.iter().any(|r| r.0 == day_of(today - 2 * DAY_MS)), "two days ago is counted: {first:?}");
    // Today's filing moves nothing kept and shows at once.
    let revision = || app.scalar("SELECT n FROM revisions WHERE name = 'problems_found'");
    let before = revision().await;
    sup.file_ok(filing(None)).await;
    assert_eq!(revision().await, before);
    let second = read().await;
    assert_eq!(second, in_records().await);
    let today_n = |rows: &[(i64, String, i64)]| rows.iter().filter(|r| r.0 == day_of(today)).map(|r| r.2).sum::<i64>();
    assert_eq!(today_n(&second), today_n(&first) + 1);
    // A problem filed now as found two days ago, and a change made elsewhere (here straight in
    // the database) to one found then: each shows on the next read.
    sup.file_ok(filing(Some(&two_days_ago))).await;
    assert_eq!(read().await, in_records().await);
    sqlx::query("UPDATE problems SET category = '其他问题' WHERE id = $1")
        .bind(&past)
        .execute(&app.db.pool)
        .await
        .unwrap();
    let after = read().await;
    assert_eq!(after, in_records().await);
    assert!(after.iter().any(|r| r.1 == "其他问题"), "{after:?}");
});

both!(every_points_found_open_and_overdue_counts_follow_the_records_as_problems_change, |app: TestApp| async move {
    use chuangcheng::domain::time::{DAY_MS, now_ms};
    use chuangcheng::store::dashboard::per_point;
    use chuangcheng::store::kpi_days::{day_of, day_start};
    use chuangcheng::store::problems::ProblemFilter;
    let sup = app.api_login("supervisor").await;
    let (point, item) = road_point(&app).await;
    let today = day_start(day_of(now_ms()));
    // The last working day before today: a problem inspected there at 09:30 was due by 17:00 the
    // same day, so it is overdue now whatever today's weekday or holiday.
    let worked = last_working_day(&app).await;
    let worked_start = chuangcheng::domain::time::parse_local_day_start(&worked).unwrap();
    let (from, to) = (worked_start.min(today - 3 * DAY_MS), today + 2 * DAY_MS);
    let f = ProblemFilter { from_ms: Some(from), to_ms: Some(to), ..Default::default() };
    // Every point with problems in the range: (point, found, open, overdue now), as the page
    // counts them and as the records say.
    let read = || async {
        let now = now_ms();
        let p = per_point(&app.db, &f, now, 100_000).await.unwrap();
        let mut rows: Vec<(String, i64, i64, i64)> =
            p.worst.into_iter().map(|p| (p.point_id, p.n, p.open, p.overdue)).collect();
        rows.sort();
        (rows, now)
    };
    let pool = &app.db.pool;
    let in_records = |now: i64| async move {
        let mut rows: Vec<(String, i64, i64, i64)> = sqlx::query_as(&format!(
            "SELECT point_id, CAST(COUNT(*) AS BIGINT), \
             CAST(SUM(CASE WHEN state IN ('reported', 'dispatched', 'acknowledged', 'submitted', 'postponed') THEN 1 ELSE 0 END) AS BIGINT), \
             CAST(SUM(CASE WHEN state IN ('dispatched', 'acknowledged', 'submitted') AND deadline_at < {now} THEN 1 ELSE 0 END) AS BIGINT) \
             FROM problems WHERE found_at >= {from} AND found_at < {to} GROUP BY point_id"
        ))
        .fetch_all(pool)
        .await
        .unwrap();
        rows.sort();
        rows
    };
    let check = || async {
        let (rows, now) = read().await;
        assert_eq!(rows, in_records(now).await);
        rows
    };
    let worked_morning = format!("{worked}T09:30");
    let filing = |found: Option<&str>| litter_at(&point, &item, found);
    let past = sup.file_ok(filing(Some(&worked_morning))).await["id"].as_str().unwrap().to_string();
    app.filed_at_find(std::slice::from_ref(&past)).await;
    let first = check().await;
    let at_point = |rows: &[(String, i64, i64, i64)]| rows.iter().find(|r| r.0 == point).cloned().unwrap();
    let (_, n0, open0, overdue0) = at_point(&first);
    assert!(open0 >= 1 && overdue0 >= 1, "the last working day's problem is open and overdue: {:?}", at_point(&first));
    // Today's filing shows at once.
    sup.file_ok(filing(None)).await;
    assert_eq!(at_point(&check().await).1, n0 + 1);
    // Closed elsewhere (here straight in the database): the point's problems stay counted, one
    // fewer open and overdue.
    let closed_at = now_ms();
    sqlx::query(&format!("UPDATE problems SET state = 'closed', closed_at = {closed_at} WHERE id = '{past}'"))
        .execute(&app.db.pool)
        .await
        .unwrap();
    let (_, n, open, overdue) = at_point(&check().await);
    assert_eq!((n, open, overdue), (n0 + 1, open0, overdue0 - 1), "today's is open, not overdue");
    // A problem filed now as found on the last working day counts on the next read.
    sup.file_ok(filing(Some(&worked_morning))).await;
    assert_eq!(at_point(&check().await).1, n0 + 2);
});

both!(past_days_closures_are_kept_and_todays_are_read_live, |app: TestApp| async move {
    use chuangcheng::domain::time::{DAY_MS, now_ms};
    use chuangcheng::service::dashboard::{closed_per_day, previous_closed, previous_found};
    use chuangcheng::store::kpi_days::{day_of, day_start};
    use chuangcheng::store::problems::ProblemFilter;
    let sup = app.api_login("supervisor").await;
    let lead = app.api_login("lead").await;
    let (point, item) = road_point(&app).await;
    let today = day_start(day_of(now_ms()));
    // This period as the dashboard reads it on a day inside it (three past days, today,
    // tomorrow), and a previous one that ended at today's start.
    let (from, to) = (today - 3 * DAY_MS, today + 2 * DAY_MS);
    let this = ProblemFilter { closed_from: Some(from), closed_to: Some(to), ..Default::default() };
    let prev = ProblemFilter { closed_from: Some(from), closed_to: Some(today), ..Default::default() };
    let read = || async {
        let mut days: Vec<(i64, i64)> =
            closed_per_day(&app.db, &this, now_ms()).await.unwrap().into_iter().map(|d| (d.day, d.n)).collect();
        days.sort();
        days
    };
    let in_records = || async {
        let mut days: Vec<(i64, i64)> = sqlx::query_as(&format!(
            "SELECT CAST((closed_at + 28800000) / 86400000 AS BIGINT), CAST(COUNT(*) AS BIGINT) FROM problems \
             WHERE state = 'closed' AND closed_at >= {from} AND closed_at < {to} GROUP BY 1"
        ))
        .fetch_all(&app.db.pool)
        .await
        .unwrap();
        days.sort();
        days
    };
    // Up to a moment of the previous period's second day (上期同期), as the records say.
    let same = from + DAY_MS + 13 * 3_600_000;
    let app_ref = &app;
    let closed_until = move |until: i64| async move {
        app_ref
            .scalar(&format!(
                "SELECT COUNT(*) FROM problems WHERE state = 'closed' AND closed_at >= {from} AND closed_at < {until}"
            ))
            .await
    };
    let found_until = move |until: i64| async move {
        app_ref.scalar(&format!("SELECT COUNT(*) FROM problems WHERE found_at >= {from} AND found_at < {until}")).await
    };
    let close_now = |id: String| {
        let (lead, sup) = (&lead, &sup);
        async move {
            lead.act_ok(&id, "acknowledge", json!({})).await;
            lead.act_ok(&id, "submit_fix", json!({"note": "已整改", "photos": [photo(7)]})).await;
            sup.act_ok(&id, "pass", json!({})).await;
        }
    };
    let mut ids = Vec::new();
    for _ in 0..4 {
        ids.push(sup.file_ok(litter_at(&point, &item, None)).await["id"].as_str().unwrap().to_string());
    }
    // Two closed on past days, elsewhere (here straight in the database: an import, another
    // instance): one two days ago, one on the previous period's second day after `same`.
    for (id, at) in [(&ids[0], today - 2 * DAY_MS + 3_600_000), (&ids[1], same + 3_600_000)] {
        sqlx::query(&format!("UPDATE problems SET state = 'closed', closed_at = {at} WHERE id = '{id}'"))
            .execute(&app.db.pool)
            .await
            .unwrap();
    }
    let first = read().await;
    assert_eq!(first, in_records().await);
    assert!(first.iter().any(|d| d.0 == day_of(today - 2 * DAY_MS)), "two days ago is counted: {first:?}");
    let (prev_found_same, prev_closed_same) = (found_until(same).await, closed_until(same).await);
    assert_eq!(previous_closed(&app.db, &prev, same, now_ms()).await.unwrap(), prev_closed_same);
    assert_eq!(previous_closed(&app.db, &prev, today, now_ms()).await.unwrap(), closed_until(today).await);
    // Today's closing moves nothing kept and shows at once.
    let revision = || app.scalar("SELECT n FROM revisions WHERE name = 'problems_closed'");
    let before = revision().await;
    close_now(ids[2].clone()).await;
    assert_eq!(revision().await, before, "closing today keeps the past days");
    let second = read().await;
    assert_eq!(second, in_records().await);
    let today_n = |days: &[(i64, i64)]| days.iter().filter(|d| d.0 == day_of(today)).map(|d| d.1).sum::<i64>();
    assert_eq!(today_n(&second), today_n(&first) + 1);
    // A past closing reopened elsewhere (here straight in the database) shows on the next read,
    // in this period and in the previous one's count up to the same moment.
    sqlx::query(&format!("UPDATE problems SET state = 'submitted' WHERE id = '{}'", ids[0]))
        .execute(&app.db.pool)
        .await
        .unwrap();
    assert_ne!(revision().await, before);
    assert_eq!(read().await, in_records().await);
    assert_eq!(previous_closed(&app.db, &prev, today, now_ms()).await.unwrap(), closed_until(today).await);
    // A closing moved back before `same` counts there at once.
    let before_move = previous_closed(&app.db, &prev, same, now_ms()).await.unwrap();
    assert_eq!(before_move, closed_until(same).await);
    sqlx::query(&format!("UPDATE problems SET closed_at = {} WHERE id = '{}'", same - 3_600_000, ids[1]))
        .execute(&app.db.pool)
        .await
        .unwrap();
    assert_eq!(previous_closed(&app.db, &prev, same, now_ms()).await.unwrap(), before_move + 1);
    // The previous period's problems found up to the same moment, kept the same way: a problem
    // found then and filed now counts at once.
    let prev_found = ProblemFilter { from_ms: Some(from), to_ms: Some(today), ..Default::default() };
    let (db, prev_found) = (&app.db, &prev_found);
    let found = move |at: i64| async move { previous_found(db, prev_found, at, now_ms()).await.unwrap().1 };
    assert_eq!(found(same).await, prev_found_same);
    let then = chuangcheng::domain::time::to_local(same - 3_600_000).format("%Y-%m-%dT%H:%M").to_string();
    sup.file_ok(litter_at(&point, &item, Some(&then))).await;
    assert_eq!(found(same).await, prev_found_same + 1);
    assert_eq!(found(same).await, found_until(same).await);
    assert_eq!(found(today).await, found_until(today).await);
});

/// A supervisor's filing of litter at a point, found now or at `found` ("2026-12-01T09:30").
fn litter_at(point: &str, item: &str, found: Option<&str>) -> Value {
    let mut body = json!({"point_id": point, "standard_item_id": item, "description": "人行道积存垃圾",
                          "source": "supervision", "allow_duplicate": true});
    if let Some(found) = found {
        body["found_at"] = found.into();
    }
    body
}
