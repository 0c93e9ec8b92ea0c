use crate::both;
use crate::helpers::*;
use crate::problems::{file, photo, road_point};
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::collections::HashMap;

/// Monday of last week and a day of it, in Beijing time.
fn last_week() -> (chrono::NaiveDate, String) {
    use chrono::Datelike;
    let today = chuangcheng::domain::time::to_local(chuangcheng::domain::time::now_ms()).date_naive();
    let monday = today - chrono::Duration::days(today.weekday().num_days_from_monday() as i64 + 7);
    (monday, monday.format("%Y-%m-%d").to_string())
}

/// Checks the ledger invariant for every line of a ranking and returns target → score.
async fn check_ranking(api: &Api, class: &str, date: &str) -> (Value, HashMap<String, i64>) {
    let (status, r) = api.get(&format!("/api/v1/scoring/{class}/ranking?period=week&date={date}")).await;
    assert_eq!(status, StatusCode::OK, "{r}");
    let base = (r["base"].as_f64().unwrap() * 10.0) as i64;
    let mut scores = HashMap::new();
    for line in r["lines"].as_array().unwrap() {
        let target = line["target"].as_str().unwrap();
        let (status, l) = api.get(&format!("/api/v1/scoring/{class}/ledger/{target}?period=week&date={date}")).await;
        assert_eq!(status, StatusCode::OK, "{l}");
        let entries = l["entries"].as_array().unwrap();
        let sum: i64 = entries.iter().map(|e| e["amount"].as_i64().unwrap()).sum();
        assert_eq!(l["base"].as_i64(), Some(base));
        assert_eq!(l["score"].as_i64(), Some(base + sum), "score = base + the entries, {target}");
        assert_eq!(line["score"].as_i64(), Some(base + sum), "the ranking shows the ledger's sum, {target}");
        for e in entries {
            assert!(!e["cause_id"].as_str().unwrap().is_empty() && !e["note"].as_str().unwrap().is_empty(), "{e}");
            assert!(matches!(e["cause_type"].as_str(), Some("problem" | "award")), "{e}");
        }
        scores.insert(target.to_string(), line["score"].as_i64().unwrap());
    }
    (r, scores)
}

both!(a_week_of_activity_is_scored_entry_by_entry_and_rules_rescore_it, |app: TestApp| async move {
    let sup = app.api_login("supervisor").await;
    let lead = app.api_login("lead").await;
    let admin = app.api_login("admin").await;
    let (point, item) = road_point(&app).await;
    let (monday, _) = last_week();
    let tuesday = (monday + chrono::Duration::days(1)).format("%Y-%m-%d").to_string();
    let thursday = (monday + chrono::Duration::days(3)).format("%Y-%m-%d").to_string();
    // Last week: three problems at one point, the second repeating the first.
    let mut ids = Vec::new();
    for (day, text) in [(&tuesday, "积存垃圾"), (&thursday, "又见积存垃圾"), (&thursday, "垃圾桶满溢")] {
        let (status, p) = file(
            &sup,
            json!({"point_id": point, "standard_item_id": item, "description": text,
            "source": "supervision", "found_at": format!("{day}T07:05"), "allow_duplicate": true}),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{p}");
        ids.push(p["id"].as_str().unwrap().to_string());
    }
    // Today: one fixed and passed (late), one failed at the re-check (rework).
    for id in &ids[..2] {
        lead.post(&format!("/api/v1/problems/{id}/actions/acknowledge"), json!({})).await;
        lead.post(
            &format!("/api/v1/problems/{id}/actions/submit_fix"),
            json!({"note": "已整改", "photos": [photo(9)]}),
        )
        .await;
    }
    assert_eq!(sup.post(&format!("/api/v1/problems/{}/actions/pass", ids[0]), json!({})).await.0, StatusCode::OK);
    assert_eq!(
        sup.post(&format!("/api/v1/problems/{}/actions/fail", ids[1]), json!({"reason": "未清理干净"})).await.0,
        StatusCode::OK
    );
    // A commendation for another unit and a clean inspection.
    let other = app.id_of("SELECT id FROM units WHERE name = '运河区住房和城乡建设局'").await;
    let (status, a) =
        admin.post("/api/v1/scoring/unit/commendations", json!({"target_id": other, "note": "工地围挡整改迅速"})).await;
    assert_eq!(status, StatusCode::CREATED, "{a}");
    let (status, a) = admin
        .post(
            "/api/v1/scoring/unit/commendations",
            json!({"target_id": other, "note": "周末突击清理", "date": tuesday}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{a}");
    let (status, e) = admin
        .post("/api/v1/scoring/unit/commendations", json!({"target_id": other, "note": "x", "date": "2099-01-01"}))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    let (status, _) = sup.post(&format!("/api/v1/points/{point}/clean"), json!({"note": "复查无问题"})).await;
    assert_eq!(status, StatusCode::CREATED);

    let unit = app.id_of(&format!("SELECT unit_id FROM points WHERE id = '{point}'")).await;
    let today = chuangcheng::domain::time::to_local(chuangcheng::domain::time::now_ms()).format("%Y-%m-%d").to_string();
    let (last, last_scores) = check_ranking(&admin, "unit", &tuesday).await;
    let (_, now_scores) = check_ranking(&admin, "unit", &today).await;
    // Last week: 3 found (−5 each), 1 repeat... the rules' defaults: found −5, repeat −5, overdue −5 − 2/working day.
    let (_, l) = admin.get(&format!("/api/v1/scoring/unit/ledger/{unit}?period=week&date={tuesday}")).await;
    let kinds: Vec<&str> = l["entries"].as_array().unwrap().iter().map(|e| e["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds.iter().filter(|k| **k == "found").count(), 3, "{kinds:?}");
    assert!(kinds.contains(&"repeat") && kinds.contains(&"overdue"), "{kinds:?}");
    assert!(last_scores[&unit] < 10000);
    assert_eq!(last["lines"].as_array().unwrap().last().unwrap()["last"], true, "last place is marked");
    let (_, l) = admin.get(&format!("/api/v1/scoring/unit/ledger/{unit}?period=week&date={today}")).await;
    assert!(l["entries"].as_array().unwrap().iter().any(|e| e["kind"] == "rework"), "{l}");
    assert_eq!(now_scores[&other], 10000 + 100, "commended: +10");
    // A unit reads its own ledger, not another's.
    let bank = app.api_login("bank").await;
    assert_eq!(bank.get(&format!("/api/v1/scoring/unit/ledger/{unit}")).await.0, StatusCode::NOT_FOUND);

    // Bad rules are refused whole; the published rules stay as they were.
    let (_, before) = admin.get("/api/v1/scoring/unit/rules").await;
    let mut rules = before["published_rules"].clone();
    rules["deduction_cap"] = json!(-5);
    let (status, e) = admin.put("/api/v1/scoring/unit/draft", json!({"rules": rules})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(e.to_string().contains("扣分上限不能为负数"), "{e}");
    let (status, e) = admin.get("/api/v1/scoring/planet/ranking").await;
    assert_eq!((status, e["error"]["code"].as_str()), (StatusCode::BAD_REQUEST, Some("unknown_class")));
    assert_eq!(
        lead.put("/api/v1/scoring/unit/draft", json!({"rules": before["published_rules"]})).await.0,
        StatusCode::FORBIDDEN
    );
    let (_, after) = admin.get("/api/v1/scoring/unit/rules").await;
    assert_eq!(after["published"], before["published"]);
    assert!(after["draft"].is_null());

    // A heavier rework deduction: the preview moves exactly the reworked unit, and publishing
    // gives what the preview showed.
    let mut rules = before["published_rules"].clone();
    rules["rework_points"] = json!(-8);
    let (status, d) = admin.put("/api/v1/scoring/unit/draft", json!({"rules": rules})).await;
    assert_eq!(status, StatusCode::OK, "{d}");
    let (status, preview) = admin.get(&format!("/api/v1/scoring/unit/preview?period=week&date={today}")).await;
    assert_eq!(status, StatusCode::OK, "{preview}");
    for w in preview.as_array().unwrap() {
        let changed = w["score"] != w["draft_score"];
        assert_eq!(changed, w["target"] == unit.as_str(), "{w}");
    }
    let (status, _) = admin.post("/api/v1/scoring/unit/publish", json!({})).await;
    assert_eq!(status, StatusCode::OK);
    let (r, scores) = check_ranking(&admin, "unit", &today).await;
    for w in preview.as_array().unwrap() {
        let t = w["target"].as_str().unwrap();
        assert_eq!(Some(scores[t]), w["draft_score"].as_i64(), "published = preview for {t}");
        let line = r["lines"].as_array().unwrap().iter().find(|l| l["target"] == t).unwrap();
        assert_eq!(line["rank"], w["draft_rank"]);
    }
    assert_eq!(scores[&unit], now_scores[&unit] - 50, "one rework, 5 points more");
    assert_eq!(
        app.scalar("SELECT COUNT(*) FROM audit_log WHERE object_type = 'score_scheme' AND action = 'publish'").await,
        1
    );

    // Red flags: not before the week is over; once per week.
    let (status, e) = admin.post("/api/v1/scoring/unit/red-flags", json!({"date": today})).await;
    assert_eq!((status, e["error"]["code"].as_str()), (StatusCode::CONFLICT, Some("week_not_over")));
    let (status, flags) = admin.post("/api/v1/scoring/unit/red-flags", json!({"date": tuesday})).await;
    assert_eq!(status, StatusCode::CREATED, "{flags}");
    let winners: Vec<&str> = flags.as_array().unwrap().iter().map(|f| f["target_id"].as_str().unwrap()).collect();
    assert_eq!(winners, [other.as_str()], "only the commended unit was assessed and above the minimum");
    let (status, e) = admin.post("/api/v1/scoring/unit/red-flags", json!({"date": thursday})).await;
    assert_eq!((status, e["error"]["code"].as_str()), (StatusCode::CONFLICT, Some("already_awarded")));
    // The pages: the ranking with its markers, a ledger summed entry by entry, the rules form.
    let b = app.login("admin").await;
    let (status, html) = b.get(&format!("/scores?class=unit&date={tuesday}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("流动红旗") && html.contains("末位") && html.contains("运河区住房和城乡建设局"), "{html}");
    let (status, html) = b.get(&format!("/scores/unit/{unit}?date={tuesday}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("得分 <b>") && html.contains("区级督导检查发现问题"), "{html}");
    let (_, html) = b.get("/scores/rules?class=unit").await;
    assert!(html.contains("每周扣分上限") && html.contains("现行第2版"), "{html}");
    let (status, html, _) = b
        .post(
            "/scores/rules",
            &[
                ("class", "unit"),
                ("base", "1000"),
                ("found", "督导|supervision|-5"),
                ("on_spot_minutes", "60"),
                ("on_spot_factor", "0.5"),
                ("overdue_points", "-5"),
                ("overdue_per_day_points", "-2"),
                ("rework_points", "-3"),
                ("repeat_points", "-5"),
                ("repeat_days", "7"),
                ("commendation_points", "10"),
                ("red_flag_points", "20"),
                ("clean_point_points", "1"),
                ("deduction_cap", "-1"),
                ("bonus_cap", "100"),
                ("red_flag_top_n", "3"),
                ("red_flag_min_score", "990"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("扣分上限不能为负数"));
    assert!(admin.get("/api/v1/scoring/unit/rules").await.1["draft"].is_null(), "nothing saved");
    let (_, r) = admin.get(&format!("/api/v1/scoring/unit/ranking?date={tuesday}")).await;
    assert_eq!(
        r["lines"].as_array().unwrap().iter().filter(|l| l["red_flag"] == true).count(),
        flags.as_array().unwrap().len()
    );
});
