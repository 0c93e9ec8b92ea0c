//! Red flags and commendations.

use crate::both;
use crate::fixtures::*;
use crate::helpers::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

both!(red_flags_can_go_monthly, |app: TestApp| async move {
    use chrono::Datelike;
    let admin = app.api_login("admin").await;
    let this_month = today().with_day(1).unwrap();
    let last_month = (this_month - chrono::Duration::days(1)).with_day(1).unwrap();
    let (tenth, fifteenth) =
        (day(last_month + chrono::Duration::days(9)), day(last_month + chrono::Duration::days(14)));
    // Window units default to monthly red flags; responsible units switch to monthly from last month on.
    let (_, w) = admin.get("/api/v1/scoring/window/rules").await;
    assert_eq!(w["published_rules"]["red_flag_period"], "month");
    let (_, rules) = admin.get("/api/v1/scoring/unit/rules").await;
    assert_eq!(rules["published_rules"]["red_flag_period"], "week");
    let mut draft = rules["published_rules"].clone();
    draft["red_flag_period"] = json!("month");
    assert_eq!(admin.put("/api/v1/scoring/unit/draft", json!({"rules": draft})).await.0, StatusCode::OK);
    let (status, e) = admin
        // From the day before last month: the rules take effect from that day's week, so the
        // month before last is monthly too (its last day is read below) even when last month
        // began on a Monday.
        .post("/api/v1/scoring/unit/publish", json!({"effective_from": day(last_month - chrono::Duration::days(1))}))
        .await;
    assert_eq!(status, StatusCode::OK, "{e}");
    let other = app.id_of("SELECT id FROM units WHERE name = '运河区住房和城乡建设局'").await;
    let (status, a) = admin
        .post("/api/v1/scoring/unit/commendations", json!({"target_id": other, "note": "背街小巷整治", "date": tenth}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{a}");
    // This month is not over; last month is awarded once, for the whole month.
    let (status, e) = admin.post("/api/v1/scoring/unit/red-flags", json!({"date": day(today())})).await;
    assert_eq!((status, e["error"]["code"].as_str()), (StatusCode::CONFLICT, Some("period_not_over")), "{e}");
    let (status, flags) = admin.post("/api/v1/scoring/unit/red-flags", json!({"date": fifteenth})).await;
    assert_eq!(status, StatusCode::CREATED, "{flags}");
    let flag = &flags.as_array().unwrap()[..];
    assert_eq!(flag.len(), 1, "{flags}");
    assert_eq!(flag[0]["target_id"], other.as_str());
    let ms = |d: chrono::NaiveDate| chuangcheng::domain::time::parse_local_day_start(&day(d)).unwrap();
    assert_eq!(
        (flag[0]["period_start"].as_i64(), flag[0]["period_end"].as_i64()),
        (Some(ms(last_month)), Some(ms(this_month)))
    );
    let (status, e) = admin.post("/api/v1/scoring/unit/red-flags", json!({"date": tenth})).await;
    assert_eq!((status, e["error"]["code"].as_str()), (StatusCode::CONFLICT, Some("already_awarded")));
    // The month's ranking carries the flag, a week of it does not.
    let flagged = |r: &Value| {
        r["lines"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|l| l["red_flag"] == true)
            .map(|l| l["target"].as_str().unwrap().to_string())
            .collect::<Vec<_>>()
    };
    let (_, r) = admin.get(&format!("/api/v1/scoring/unit/ranking?period=month&date={tenth}")).await;
    assert_eq!(flagged(&r), vec![other.to_string()]);
    let (_, r) = admin.get(&format!("/api/v1/scoring/unit/ranking?period=week&date={tenth}")).await;
    assert!(flagged(&r).is_empty(), "{r}");
    // The awarded month is published: rules cannot take effect inside it any more.
    assert_eq!(
        admin.put("/api/v1/scoring/unit/draft", json!({"rules": rules["published_rules"]})).await.0,
        StatusCode::OK
    );
    let (status, e) = admin.post("/api/v1/scoring/unit/publish", json!({"effective_from": fifteenth})).await;
    assert_eq!((status, e["error"]["code"].as_str()), (StatusCode::CONFLICT, Some("period_published")), "{e}");
    // The ranking page offers the monthly award on the monthly view of a finished month.
    let b = app.login("admin").await;
    let (_, html) = b.get(&format!("/scores?class=unit&period=month&date={}", day(today()))).await;
    assert!(html.contains("本月结束后可评定流动红旗") && !html.contains("评定本月流动红旗"), "{html}");
    let (_, html) = b.get(&format!("/scores?class=unit&period=month&date={tenth}")).await;
    assert!(html.contains("本月流动红旗已评定"), "{html}");
    let (_, html) =
        b.get(&format!("/scores?class=unit&period=month&date={}", day(last_month - chrono::Duration::days(1)))).await;
    assert!(html.contains("评定本月流动红旗"), "{html}");
});

both!(red_flags_and_commendations_have_a_history_page_and_the_office_commends_there, |app: TestApp| async move {
    let b = app.login("admin").await;
    let other = app.id_of("SELECT id FROM units WHERE name = '运河区住房和城乡建设局'").await;
    let today = day(today());
    // A mistake keeps what was typed and saves nothing.
    let (status, html, _) = b
        .post("/scores/commendations", &[("class", "unit"), ("target_id", &other), ("date", &today), ("note", " ")])
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("请填写表扬事由") && html.contains(&format!("value=\"{other}\" selected")), "{html}");
    let (status, html, _) = b
        .post("/scores/commendations", &[("class", "unit"), ("target_id", "nobody"), ("date", &today), ("note", "好")])
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("被表扬的对象不存在"), "{html}");
    assert_eq!(app.scalar("SELECT COUNT(*) FROM score_awards").await, 0);
    let (status, _, location) = b
        .post(
            "/scores/commendations",
            &[("class", "unit"), ("target_id", &other), ("date", &today), ("note", "背街小巷整治迅速")],
        )
        .await;
    assert_eq!((status, location.as_deref()), (StatusCode::SEE_OTHER, Some("/scores/awards?class=unit&ok=created")));
    // Only the office commends.
    let (status, _, _) = app
        .login("supervisor")
        .await
        .post("/scores/commendations", &[("class", "unit"), ("target_id", &other), ("date", &today), ("note", "x")])
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (_, html) = app.login("supervisor").await.get("/scores/awards").await;
    assert!(html.contains("背街小巷整治迅速") && !html.contains("id=\"commend-form\""), "{html}");
    // The history: filters, the API page, the export.
    let (_, html) = b.get("/scores/awards?class=unit&ok=created").await;
    assert!(html.contains("已新增") && html.contains("id=\"commend-form\"") && html.contains("共 1 条"), "{html}");
    let (_, html) = b.get("/scores/awards?kind=red_flag").await;
    assert!(html.contains("暂无记录"), "{html}");
    let (_, html) = b.get("/scores/awards?class=window").await;
    assert!(html.contains("共 0 条"), "another class: {html}");
    let admin = app.api_login("admin").await;
    let (status, page) = admin.get("/api/v1/scoring/unit/awards?kind=commendation&size=5").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!((page["total"].as_i64(), page["items"][0]["target_id"].as_str()), (Some(1), Some(other.as_str())));
    let (status, e) = admin.get("/api/v1/scoring/unit/awards?kind=medal").await;
    assert_eq!((status, e["error"]["code"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_kind")));
    assert_eq!(admin.get("/api/v1/scoring/unit/awards?year=1999").await.1["total"], 0);
    let res = b.get_raw("/scores/awards?export=xlsx").await;
    let rows = crate::helpers::xlsx_rows(&res.bytes().await.unwrap());
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert_eq!(
        (rows[1][2].as_str(), rows[1][3].as_str(), rows[1][5].as_str()),
        ("运河区住房和城乡建设局", "表扬", "背街小巷整治迅速")
    );
    // The commendation is in the unit's week, +10.
    let (_, l) = admin.get(&format!("/api/v1/scoring/unit/ledger/{other}")).await;
    assert_eq!(l["score"], 10100, "{l}");
});

// Last week's red flags awarded by two administrators on two instances at the same moment:
// awarded once, the others told.
both!(red_flags_awarded_at_once_are_awarded_once, |app: TestApp| async move {
    let a = app.api_login("admin").await;
    let b = Api { client: reqwest::Client::new(), base: app.second_instance().await, token: a.token.clone() };
    let last_week = day(today() - chrono::Duration::days(7));
    // The demo city's history awarded its weeks already: last week's are taken back here.
    sqlx::query("DELETE FROM score_awards WHERE kind = 'red_flag' AND class = 'unit'")
        .execute(&app.db.pool)
        .await
        .unwrap();
    // A commendation last week: its unit was assessed that week and competes.
    let unit = app.id_of("SELECT id FROM units WHERE name = '运河区住房和城乡建设局'").await;
    let body = json!({"target_id": unit, "note": "背街小巷整治", "date": last_week});
    assert_eq!(a.post("/api/v1/scoring/unit/commendations", body).await.0, StatusCode::CREATED);
    let award = |api: &Api| {
        let url = format!("{}/api/v1/scoring/unit/red-flags", api.base);
        api.client.post(url).bearer_auth(&api.token).json(&json!({"date": last_week})).send()
    };
    let answers = futures::future::join_all([award(&a), award(&b), award(&a), award(&b)]).await;
    let mut statuses = Vec::new();
    for r in answers {
        let r = r.unwrap();
        let status = r.status();
        let body: Value = r.json().await.unwrap();
        if status == StatusCode::CONFLICT {
            assert_eq!(body["error"]["code"], "already_awarded", "{body}");
        }
        statuses.push(status);
    }
    statuses.sort();
    assert_eq!(statuses, [StatusCode::CREATED, StatusCode::CONFLICT, StatusCode::CONFLICT, StatusCode::CONFLICT]);
    let awards = "SELECT COUNT(DISTINCT created_at) FROM score_awards WHERE kind = 'red_flag' AND class = 'unit'";
    assert_eq!(app.scalar(awards).await, 1, "one award's winners");
    let won = format!("SELECT COUNT(*) FROM score_awards WHERE kind = 'red_flag' AND target_id = '{unit}'");
    assert_eq!(app.scalar(&won).await, 1);
});
