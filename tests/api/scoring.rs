use crate::both;
use crate::fixtures::*;
use crate::helpers::*;
use crate::notices::{check_section_numbers, convert_to_pdf_if_possible, docx_text, notice_docx};
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::collections::HashMap;

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
    // Before anything happened everyone keeps the base: first together, nobody last.
    let (_, r0) = admin.get(&format!("/api/v1/scoring/unit/ranking?date={tuesday}")).await;
    assert!(r0["lines"].as_array().unwrap().iter().all(|l| l["rank"] == 1 && l["last"] == false), "{r0}");
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
    app.filed_at_find(&ids).await;
    // Today: one fixed and passed (late), one failed at the re-check (rework).
    for id in &ids[..2] {
        lead.act_ok(id, "acknowledge", json!({})).await;
        lead.act_ok(id, "submit_fix", json!({"note": "已整改", "photos": [photo(9)]})).await;
    }
    assert_eq!(sup.act(&ids[0], "pass", json!({})).await.0, StatusCode::OK);
    assert_eq!(sup.act(&ids[1], "fail", json!({"reason": "未清理干净"})).await.0, StatusCode::OK);
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
    // The composite index beside the ranking: 3 dispatched last week, 1 closed late, 1 reworked:
    // (33.3×40 + 0×30 + (100−33.3)×15 + (100−0)×15) / 100 = 38.3, grade E.
    let (_, r) = admin.get(&format!("/api/v1/scoring/unit/ranking?date={tuesday}")).await;
    let line = r["lines"].as_array().unwrap().iter().find(|l| l["target"] == unit.as_str()).unwrap();
    assert_eq!((line["composite"].as_f64(), line["grade"].as_str()), (Some(38.3), Some("E")), "{line}");
    let quiet = r["lines"].as_array().unwrap().iter().find(|l| l["target"] == other.as_str()).unwrap();
    assert!(quiet["composite"].is_null(), "no problems, no index");
    let mut bad = admin.get("/api/v1/scoring/unit/rules").await.1["published_rules"].clone();
    bad["composite"]["closure"] = json!(-1);
    let (status, e) = admin.put("/api/v1/scoring/unit/draft", json!({"rules": bad})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(e.to_string().contains("综合指标权重不能为负数"), "{e}");
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
    assert!(html.contains("本周流动红旗已评定") && !html.contains("评定本周流动红旗"), "awarded once: no button");
    let sheets = xlsx_sheets(b.get_raw(&format!("/scores?class=unit&date={tuesday}&export=xlsx")).await).await;
    let rows = &sheets[0].1;
    assert_eq!(rows[0][2].to_string(), "得分");
    assert_eq!(number(&rows[1][0]), 1.0, "the rank is a number");
    assert!(number(&rows[1][2]) > 900.0, "the score is a number: {:?}", rows[1][2]);
    assert!(rows.iter().any(|r| r[6] == "流动红旗"));
    let (_, html) = b.get(&format!("/scores?class=unit&date={today}")).await;
    assert!(html.contains("本周结束后可评定流动红旗") && !html.contains("评定本周流动红旗"), "week not over");
    let (_, html) = b.get(&format!("/scores?class=unit&date={}", day(monday - chrono::Duration::days(7)))).await;
    assert!(html.contains("评定本周流动红旗"), "a finished week without flags offers the button");
    let (status, html) = b.get(&format!("/scores/unit/{unit}?date={tuesday}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("得分 <b>") && html.contains("区级督导检查发现问题"), "{html}");
    // A unit opens its own ledger from the ranking and the awards; the others' names are text
    // (their ledgers are not its to read).
    let own = app.id_of("SELECT unit_id FROM users WHERE username = 'unit'").await;
    let u = app.login("unit").await;
    for page in [format!("/scores?class=unit&date={tuesday}"), "/scores/awards".to_string()] {
        let (status, html) = u.get(&page).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        let links: Vec<&str> = html.split("href=\"/scores/unit/").skip(1).map(|l| &l[..36]).collect();
        assert!(links.iter().all(|l| *l == own), "{page} links another unit's ledger: {links:?}");
        for id in links {
            assert_eq!(u.get(&format!("/scores/unit/{id}")).await.0, StatusCode::OK, "{page}");
        }
    }
    let (_, ranking) = u.get(&format!("/scores?class=unit&date={tuesday}")).await;
    assert!(
        ranking.contains("运河区住房和城乡建设局") && ranking.contains(&format!("href=\"/scores/unit/{own}")),
        "{ranking}"
    );
    let (_, html) = b.get("/scores/rules?class=unit").await;
    assert!(html.contains("每周扣分上限") && html.contains("现行第2版"), "{html}");
    let (status, html, _) = b
        .post(
            "/scores/rules",
            &[
                ("class", "unit"),
                ("base", "1000"),
                ("found_label", "督导"),
                ("found_src", "0:supervision"),
                ("found_points", "-5"),
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
                ("w_closure", "40"),
                ("w_on_time", "30"),
                ("w_rework", "15"),
                ("w_extension", "15"),
                ("y_q1", "25"),
                ("y_q2", "25"),
                ("y_q3", "25"),
                ("y_q4", "25"),
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
    let (_, html) = app.login("admin").await.get(&format!("/units/{other}")).await;
    assert!(html.contains("id=\"red-flags\"") && html.contains("第1名"), "the unit page shows its red flag");
    let last_placed: Vec<String> = r["lines"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| l["last"] == true)
        .map(|l| l["name"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(last_placed, ["运河区城市管理综合行政执法局"]);

    // The week's notice: generated, edited, published as a Word document naming the last place
    // and the red flag; one notice per period; units confirm reading.
    let (status, n) = admin.post("/api/v1/notices", json!({"kind": "weekly", "class": "unit", "date": thursday})).await;
    assert_eq!(status, StatusCode::CREATED, "{n}");
    let id = n["id"].as_str().unwrap().to_string();
    assert!(n["number"].as_str().unwrap().ends_with("〕1号"), "the office's document number: {n}");
    assert!(n["body"].as_str().unwrap().contains("运河区城市管理综合行政执法局排名末位"), "{n}");
    let (status, e) = admin.post("/api/v1/notices", json!({"kind": "weekly", "class": "unit", "date": tuesday})).await;
    assert_eq!((status, e["error"]["code"].as_str()), (StatusCode::CONFLICT, Some("overlapping_period")));
    let (status, e) = admin.post("/api/v1/notices", json!({"kind": "weekly", "class": "moon", "date": tuesday})).await;
    assert_eq!((status, e["error"]["code"].as_str()), (StatusCode::BAD_REQUEST, Some("unknown_class")));
    assert_eq!(bank.get(&format!("/api/v1/notices/{id}")).await.0, StatusCode::NOT_FOUND, "drafts are the office's");
    let (status, _) = admin.put(&format!("/api/v1/notices/{id}"), json!({"title": " ", "body": "x"})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let body = format!("{}\n\n请城市管理综合行政执法局主要负责人于周三前作出书面说明。", n["body"].as_str().unwrap());
    let edit = json!({"title": n["title"], "body": body, "version": n["version"]});
    let (status, _) = admin.put(&format!("/api/v1/notices/{id}"), edit).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(admin.post(&format!("/api/v1/notices/{id}/publish"), json!({})).await.0, StatusCode::OK);
    let (status, e) = admin.put(&format!("/api/v1/notices/{id}"), json!({"title": "改", "body": "改"})).await;
    assert_eq!((status, e["error"]["code"].as_str()), (StatusCode::CONFLICT, Some("published")));
    let docx = notice_docx(&admin, &id).await;
    let text = docx_text(&docx);
    for must in [
        "创建全国文明城市工作指挥部办公室",
        "〕1号",
        "千分制排名",
        "运河区城市管理综合行政执法局",
        "末位",
        "运河区住房和城乡建设局",
        "流动红旗",
        "书面说明",
    ] {
        assert!(text.contains(must), "the Word text lacks {must}: {text}");
    }
    check_section_numbers(&text, "责任单位");
    let (_, page) = app.login("admin").await.get(&format!("/notices/{id}")).await;
    check_section_numbers(&page, "责任单位");
    convert_to_pdf_if_possible(&docx);
    // Units read the published notice and confirm; the office sees who has not.
    assert_eq!(bank.get(&format!("/api/v1/notices/{id}")).await.0, StatusCode::OK);
    assert_eq!(bank.post(&format!("/api/v1/notices/{id}/read"), json!({})).await.1["first"], true);
    assert_eq!(bank.post(&format!("/api/v1/notices/{id}/read"), json!({})).await.1["first"], false);
    let (_, reads) = admin.get(&format!("/api/v1/notices/{id}/reads")).await;
    let read: Vec<&str> = reads
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["read_at"].is_i64())
        .map(|r| r["unit_name"].as_str().unwrap())
        .collect();
    assert_eq!(read.len(), 1, "{reads}");
    assert!(reads.as_array().unwrap().len() > 10);
    let b = app.login("admin").await;
    let (_, html) = b.get(&format!("/notices/{id}")).await;
    assert!(html.contains("个单位未确认") && html.contains("运河区城市管理综合行政执法局"));
    let sheets = xlsx_sheets(b.client.get(format!("{}/notices/{id}/xlsx", b.base)).send().await.unwrap()).await;
    let names: Vec<&str> = sheets.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["排名", "逾期问题", "拟约谈单位"]);
    let ranking = &sheets[0].1;
    assert!(ranking.len() > 10);
    assert_eq!((number(&ranking[1][0]), number(&ranking[2][0])), (1.0, 2.0), "ranks are numbers");
    assert!(number(&ranking[1][2]) >= number(&ranking[2][2]), "scores are numbers, best first");
});

/// The amounts of a target's entries of one kind in the week of `date`.
async fn amounts(api: &Api, unit: &str, date: &str, kind: &str) -> Vec<i64> {
    let (status, l) = api.get(&format!("/api/v1/scoring/unit/ledger/{unit}?period=week&date={date}")).await;
    assert_eq!(status, StatusCode::OK, "{l}");
    l["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == kind)
        .map(|e| e["amount"].as_i64().unwrap())
        .collect()
}

both!(rule_versions_score_from_their_week_and_leave_published_weeks_alone, |app: TestApp| async move {
    let sup = app.api_login("supervisor").await;
    let admin = app.api_login("admin").await;
    let (point, item) = road_point(&app).await;
    let unit = app.id_of(&format!("SELECT unit_id FROM points WHERE id = '{point}'")).await;
    let (monday, _) = last_week();
    let tuesday = day(monday + chrono::Duration::days(1));
    let this_monday = monday + chrono::Duration::days(7);
    let now = day(today());
    // A district-level find last week and one this week: −5 each under the first version.
    for body in [
        json!({"point_id": point, "standard_item_id": item, "description": "积存垃圾", "source": "supervision",
            "found_at": format!("{tuesday}T07:05"), "allow_duplicate": true}),
        json!({"point_id": point, "standard_item_id": item, "description": "又见积存垃圾", "source": "supervision",
            "allow_duplicate": true}),
    ] {
        let (status, p) = file(&sup, body).await;
        assert_eq!(status, StatusCode::CREATED, "{p}");
    }
    assert_eq!(amounts(&admin, &unit, &tuesday, "found").await, [-50]);
    assert_eq!(amounts(&admin, &unit, &now, "found").await, [-50]);
    // Draft: a district-level find costs 8.
    let (_, rules) = admin.get("/api/v1/scoring/unit/rules").await;
    let mut draft = rules["published_rules"].clone();
    for f in draft["found"].as_array_mut().unwrap() {
        if f["sources"].as_array().unwrap().iter().any(|s| s == "supervision") {
            f["points"] = json!(-8);
        }
    }
    assert_eq!(admin.put("/api/v1/scoring/unit/draft", json!({"rules": draft})).await.0, StatusCode::OK);
    // The preview shows the draft moving only the weeks it would take effect in.
    let (status, p) = admin.get(&format!("/api/v1/scoring/unit/preview?date={tuesday}&effective_from={now}")).await;
    assert_eq!(status, StatusCode::OK, "{p}");
    assert!(p.as_array().unwrap().iter().all(|w| w["score"] == w["draft_score"]), "last week untouched: {p}");
    let (_, p) = admin.get(&format!("/api/v1/scoring/unit/preview?date={now}")).await;
    let moved: Vec<&str> = p
        .as_array()
        .unwrap()
        .iter()
        .filter(|w| w["score"] != w["draft_score"])
        .map(|w| w["target"].as_str().unwrap())
        .collect();
    assert_eq!(moved, [unit.as_str()]);
    let (_, p) = admin.get(&format!("/api/v1/scoring/unit/preview?date={tuesday}&effective_from={tuesday}")).await;
    assert!(p.as_array().unwrap().iter().any(|w| w["score"] != w["draft_score"]), "back-dated, last week moves");

    // Last week's notice is published: its results must not change any more.
    let (status, n) = admin.post("/api/v1/notices", json!({"kind": "weekly", "class": "unit", "date": tuesday})).await;
    assert_eq!(status, StatusCode::CREATED, "{n}");
    let notice = n["id"].as_str().unwrap();
    assert_eq!(admin.post(&format!("/api/v1/notices/{notice}/publish"), json!({})).await.0, StatusCode::OK);
    let (status, e) = admin.post("/api/v1/scoring/unit/publish", json!({"effective_from": tuesday})).await;
    assert_eq!((status, e["error"]["code"].as_str()), (StatusCode::CONFLICT, Some("period_published")), "{e}");
    assert!(e["error"]["message"].as_str().unwrap().contains(&format!("最早从{}起生效", day(this_monday))), "{e}");
    let (status, e) = admin.get(&format!("/api/v1/scoring/unit/preview?date={tuesday}&effective_from={tuesday}")).await;
    assert_eq!((status, e["error"]["code"].as_str()), (StatusCode::CONFLICT, Some("period_published")));
    let (status, e) = admin.post("/api/v1/scoring/unit/publish", json!({"effective_from": "2026-02-30"})).await;
    assert_eq!((status, e["error"]["code"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_date")));
    let far = day(today() + chrono::Duration::days(400));
    let (status, e) = admin.post("/api/v1/scoring/unit/publish", json!({"effective_from": far})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    assert_eq!(field_codes(&e), [("effective_from".to_string(), "date_out_of_range".to_string())]);
    let (_, after) = admin.get("/api/v1/scoring/unit/rules").await;
    assert_eq!(after["published"], rules["published"], "refused: nothing published");
    assert!(after["draft"].is_object(), "the draft is kept");

    // Published from this week on: last week keeps version 1, this week is scored by version 2.
    let (status, v2) = admin.post("/api/v1/scoring/unit/publish", json!({})).await;
    assert_eq!(status, StatusCode::OK, "{v2}");
    let monday_ms = chuangcheng::domain::time::parse_local_day_start(&day(this_monday)).unwrap();
    assert_eq!(v2["effective_from"].as_i64(), Some(monday_ms));
    assert_eq!(amounts(&admin, &unit, &tuesday, "found").await, [-50]);
    assert_eq!(amounts(&admin, &unit, &now, "found").await, [-80]);
    let version = |r: Value| r["rules_version"].as_i64();
    assert_eq!(version(admin.get(&format!("/api/v1/scoring/unit/ranking?date={tuesday}")).await.1), Some(1));
    assert_eq!(version(admin.get(&format!("/api/v1/scoring/unit/ranking?date={now}")).await.1), Some(2));
    let (_, published_notice) = admin.get(&format!("/api/v1/notices/{notice}")).await;
    assert_eq!(published_notice["notice"]["status"], "published");
    assert_eq!(
        app.scalar("SELECT COUNT(*) FROM audit_log WHERE object_type = 'score_scheme' AND action = 'publish' AND object_label LIKE '%起生效%'").await,
        1
    );

    // A third version announced for next week: this week stays on version 2.
    let mut v3 = draft.clone();
    v3["rework_points"] = json!(-6);
    assert_eq!(admin.put("/api/v1/scoring/unit/draft", json!({"rules": v3})).await.0, StatusCode::OK);
    let next_week = day(today() + chrono::Duration::days(7));
    let (status, _) = admin.post("/api/v1/scoring/unit/publish", json!({"effective_from": next_week})).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(version(admin.get(&format!("/api/v1/scoring/unit/ranking?date={now}")).await.1), Some(2));
    assert_eq!(version(admin.get(&format!("/api/v1/scoring/unit/ranking?date={next_week}")).await.1), Some(3));
    assert_eq!(amounts(&admin, &unit, &now, "found").await, [-80]);
    // The rules page lists the versions with the weeks they score from.
    let (_, html) = app.login("admin").await.get("/scores/rules?class=unit").await;
    assert!(html.contains("id=\"versions\"") && html.contains(&day(this_monday)) && html.contains("已归档"), "{html}");
});

both!(the_year_end_assessment_weighs_the_quarters, |app: TestApp| async move {
    use chrono::Datelike;
    let sup = app.api_login("supervisor").await;
    let admin = app.api_login("admin").await;
    let (point, item) = road_point(&app).await;
    let (status, p) = file(
        &sup,
        json!({"point_id": point, "standard_item_id": item, "description": "积存垃圾", "source": "assigned", "allow_duplicate": true}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{p}");
    let year = today().year();
    let current = (today().month0() / 3) as usize;
    // Each quarter's column is that quarter's ranking; the year weighs the quarters begun.
    let mut quarter: Vec<HashMap<String, (i64, i64)>> = Vec::new();
    for q in 0..=current {
        let first = chrono::NaiveDate::from_ymd_opt(year, q as u32 * 3 + 1, 1).unwrap();
        let (status, r) = admin.get(&format!("/api/v1/scoring/unit/ranking?period=quarter&date={}", day(first))).await;
        assert_eq!(status, StatusCode::OK, "{r}");
        quarter.push(
            r["lines"]
                .as_array()
                .unwrap()
                .iter()
                .map(|l| {
                    (
                        l["target"].as_str().unwrap().to_string(),
                        (l["score"].as_i64().unwrap(), l["rank"].as_i64().unwrap()),
                    )
                })
                .collect(),
        );
    }
    let check = |y: &Value, w: [f64; 4]| {
        let lines = y["lines"].as_array().unwrap();
        assert!(lines.len() > 10, "{y}");
        let mut prev: Option<i64> = None;
        for l in lines {
            let t = l["target"].as_str().unwrap();
            let mut sum = 0.0;
            let mut total = 0.0;
            for (q, cell) in l["quarters"].as_array().unwrap().iter().enumerate() {
                if q > current {
                    assert!(cell.is_null(), "quarters not begun are empty: {l}");
                    continue;
                }
                let (score, rank) = quarter[q][t];
                assert_eq!((cell["score"].as_i64(), cell["rank"].as_i64()), (Some(score), Some(rank)), "{l}");
                sum += w[q] * score as f64;
                total += w[q];
            }
            let expected = (sum / total).round() as i64;
            assert_eq!(l["score"].as_i64(), Some(expected), "weighted: {l}");
            assert!(prev.is_none_or(|p| p >= expected), "sorted best first");
            prev = Some(expected);
        }
        let unit = p["unit_id"].as_str().unwrap();
        let line = lines.iter().find(|l| l["target"] == unit).unwrap();
        assert!(line["score"].as_i64().unwrap() < 10000, "the find this quarter costs: {line}");
        assert_eq!(line["last"], true, "the only unit with a deduction is last: {line}");
    };
    let (status, y) = admin.get("/api/v1/scoring/unit/annual").await;
    assert_eq!(status, StatusCode::OK, "{y}");
    assert_eq!((y["year"].as_i64(), y["in_progress"].as_bool()), (Some(year as i64), Some(true)));
    check(&y, [25.0; 4]);
    // New weights, published: the year is recombined with them.
    let (_, rules) = admin.get("/api/v1/scoring/unit/rules").await;
    let mut draft = rules["published_rules"].clone();
    draft["year_weights"] = json!({"q1": 10, "q2": 20, "q3": 30, "q4": 40});
    assert_eq!(admin.put("/api/v1/scoring/unit/draft", json!({"rules": draft})).await.0, StatusCode::OK);
    assert_eq!(admin.post("/api/v1/scoring/unit/publish", json!({})).await.0, StatusCode::OK);
    let (_, y) = admin.get(&format!("/api/v1/scoring/unit/annual?year={year}")).await;
    check(&y, [10.0, 20.0, 30.0, 40.0]);
    // Bad input: a negative weight, a year that is not a number or has not begun.
    draft["year_weights"]["q2"] = json!(-1);
    let (status, e) = admin.put("/api/v1/scoring/unit/draft", json!({"rules": draft})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(e.to_string().contains("季度权重不能为负数"), "{e}");
    for bad in ["abc", "2999"] {
        let (status, e) = admin.get(&format!("/api/v1/scoring/unit/annual?year={bad}")).await;
        assert_eq!((status, e["error"]["code"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_year")), "{e}");
    }
    // The page and its Excel export.
    let b = app.login("admin").await;
    let (status, html) = b.get("/scores/annual?class=unit").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("年度考核") && html.contains("第四季度 40%") && html.contains("末位"), "{html}");
    let sheets = xlsx_sheets(b.get_raw("/scores/annual?class=unit&export=xlsx").await).await;
    let rows = &sheets[0].1;
    assert_eq!(rows[0][6].to_string(), "年度得分");
    assert_eq!(number(&rows[1][0]), 1.0, "the rank is a number");
    assert!(number(&rows[1][6]) > 0.0, "the score is a number: {:?}", rows[1][6]);
});

both!(a_point_found_clean_counts_once_a_day_and_not_beside_a_problem, |app: TestApp| async move {
    let (point, item) = road_point(&app).await;
    let other = app
        .id_of(&format!(
            "SELECT id FROM points WHERE unit_id = (SELECT unit_id FROM points WHERE id = '{point}') AND id <> '{point}' ORDER BY code LIMIT 1"
        ))
        .await;
    // In the field: the supervisor picks the point, finds nothing wrong and says so.
    let b = app.login("supervisor").await;
    let (_, html) = b.get(&format!("/problems/new?point_id={point}")).await;
    assert!(html.contains("id=\"clean-form\""), "the filing page offers 检查无问题");
    let (status, _, location) =
        b.post(&format!("/points/{point}/clean"), &[("note", "环境整洁"), ("back", "new")]).await;
    assert_eq!((status, location.as_deref()), (StatusCode::SEE_OTHER, Some("/problems/new?ok=clean")));
    let (_, html) = b.get("/problems/new?ok=clean").await;
    assert!(html.contains("已记录：该点位检查无问题"));
    // A second press, on this instance or another, does not count twice.
    let (status, html, _) = b.post(&format!("/points/{point}/clean"), &[("note", "")]).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(html.contains("今日已记录检查无问题"), "{html}");
    let sup = app.api_login("supervisor").await;
    let (status, e) = sup.post(&format!("/api/v1/points/{point}/clean"), json!({})).await;
    assert_eq!((status, e["error"]["code"].as_str()), (StatusCode::CONFLICT, Some("already_recorded")));
    let second = Api { client: reqwest::Client::new(), base: app.second_instance().await, token: sup.token.clone() };
    let press = |api: &Api| {
        api.client
            .post(format!("{}/api/v1/points/{other}/clean", api.base))
            .bearer_auth(&api.token)
            .json(&json!({}))
            .send()
    };
    let (r1, r2) = tokio::join!(press(&sup), press(&second));
    let mut statuses = [r1.unwrap().status(), r2.unwrap().status()];
    statuses.sort();
    assert_eq!(statuses, [StatusCode::CREATED, StatusCode::CONFLICT]);
    assert_eq!(
        app.scalar(&format!("SELECT COUNT(*) FROM point_inspections WHERE point_id IN ('{point}', '{other}')")).await,
        2
    );
    // A point with a problem found today was not found clean today.
    let third = app
        .id_of(&format!(
            "SELECT id FROM points WHERE unit_id = (SELECT unit_id FROM points WHERE id = '{point}') AND id NOT IN ('{point}', '{other}') ORDER BY code LIMIT 1"
        ))
        .await;
    let third_item = app
        .id_of(&format!(
            "SELECT i.id FROM standard_items i JOIN standard_versions v ON v.id = i.version_id AND v.status = 'published' \
             JOIN point_types t ON (i.point_types = '*' OR i.point_types LIKE '%' || t.code || '%') \
             JOIN points p ON p.type_id = t.id WHERE p.id = '{third}' ORDER BY i.seq LIMIT 1"
        ))
        .await;
    let _ = item;
    let (status, p) = file(&sup, json!({"point_id": third, "standard_item_id": third_item, "description": "乱贴小广告", "source": "supervision"})).await;
    assert_eq!(status, StatusCode::CREATED, "{p}");
    let (status, e) = sup.post(&format!("/api/v1/points/{third}/clean"), json!({})).await;
    assert_eq!((status, e["error"]["code"].as_str()), (StatusCode::CONFLICT, Some("problem_found_today")), "{e}");
    // Who may: not a unit; the point's page lists the record with the inspector.
    let lead = app.api_login("lead").await;
    assert_eq!(lead.post(&format!("/api/v1/points/{other}/clean"), json!({})).await.0, StatusCode::FORBIDDEN);
    let (_, html) = b.get(&format!("/points/{point}")).await;
    assert!(html.contains("id=\"inspections\"") && html.contains("环境整洁"), "{html}");
    let (_, html) = app.login("lead").await.get(&format!("/points/{point}")).await;
    assert!(!html.contains("id=\"clean-form\""), "a unit does not record its own points clean");
    // The unit's week: one clean entry per point, whatever was pressed.
    let unit = app.id_of(&format!("SELECT unit_id FROM points WHERE id = '{point}'")).await;
    let (_, l) = sup.get(&format!("/api/v1/scoring/unit/ledger/{unit}")).await;
    let entries = l["entries"].as_array().unwrap();
    let clean = entries.iter().filter(|e| e["kind"] == "clean_point").count();
    assert_eq!(clean, 2, "{l}");
    let now = chuangcheng::domain::time::now_ms();
    assert!(entries.iter().all(|e| e["at"].as_i64().unwrap() <= now), "nothing charged before it happens: {l}");
    assert_eq!(app.scalar("SELECT COUNT(*) FROM audit_log WHERE object_type = 'point_inspection'").await, 2);
    // Later that day another supervisor finds a problem at a point recorded clean this
    // morning: the day was not clean after all, and that point's clean entry goes (the record
    // stays on the point's page).
    let (status, p) = file(&sup, json!({"point_id": other, "standard_item_id": third_item, "description": "午后发现乱贴小广告", "source": "supervision", "allow_duplicate": true})).await;
    assert_eq!(status, StatusCode::CREATED, "{p}");
    let (_, l) = sup.get(&format!("/api/v1/scoring/unit/ledger/{unit}")).await;
    let clean: Vec<&Value> = l["entries"].as_array().unwrap().iter().filter(|e| e["kind"] == "clean_point").collect();
    assert_eq!(clean.len(), 1, "{l}");
    assert!(
        clean[0]["note"]
            .as_str()
            .unwrap_or("")
            .contains(&app.id_of(&format!("SELECT name FROM points WHERE id = '{point}'")).await),
        "{clean:?}"
    );
});

/// A bank branch's point and its unit.
async fn window_point(app: &TestApp) -> (String, String) {
    let point = app
        .id_of(
            "SELECT p.id FROM points p JOIN units u ON u.id = p.unit_id \
             WHERE u.kind = 'bank_branch' AND p.active = 1 ORDER BY p.code LIMIT 1",
        )
        .await;
    let unit = app.id_of(&format!("SELECT unit_id FROM points WHERE id = '{point}'")).await;
    (point, unit)
}

both!(a_bad_window_rating_costs_the_window_unit_points, |app: TestApp| async move {
    let admin = app.api_login("admin").await;
    let (point, unit) = window_point(&app).await;
    let date = day(today());
    let found_entries = |l: &Value| -> Vec<(i64, String)> {
        l["entries"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["kind"] == "found")
            .map(|e| (e["amount"].as_i64().unwrap(), e["note"].as_str().unwrap().to_string()))
            .collect()
    };
    let ledger = format!("/api/v1/scoring/window/ledger/{unit}?period=week&date={date}");
    let (status, before) = admin.get(&ledger).await;
    assert_eq!(status, StatusCode::OK, "{before}");
    let (status, p) = file(
        &admin,
        json!({"point_id": point, "category": "服务态度", "description": "柜员态度生硬，群众评价为不满意",
               "source": "window_rating"}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{p}");
    assert_eq!(p["source"], "window_rating");
    let (_, after) = admin.get(&ledger).await;
    let new: Vec<(i64, String)> =
        found_entries(&after).into_iter().filter(|e| !found_entries(&before).contains(e)).collect();
    let code = p["code"].as_str().unwrap();
    assert_eq!(new, [(-30, format!("窗口服务差评 {code}"))], "a 窗口差评 costs 3 points under the default rules");
    // The office can name the source in a rule; the old misspelt code is refused in Chinese.
    let (_, rules) = admin.get("/api/v1/scoring/window/rules").await;
    let mut draft = rules["published_rules"].clone();
    assert!(draft["found"].to_string().contains("window_rating"), "{draft}");
    draft["found"][3]["sources"] = json!(["window_rating"]);
    draft["found"][3]["points"] = json!(-4);
    let (status, body) = admin.put("/api/v1/scoring/window/draft", json!({"rules": draft})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    draft["found"][3]["sources"] = json!(["window_review"]);
    let (status, body) = admin.put("/api/v1/scoring/window/draft", json!({"rules": draft})).await;
    assert!(status.is_client_error(), "{body}");
    assert!(body["error"]["message"].as_str().unwrap().contains("“window_review”不是有效的问题来源"), "{body}");
});

both!(stored_rules_naming_window_review_are_migrated, |app: TestApp| async move {
    // A database as it stood before the vocabulary was typed: migrations up to 0016, and a
    // published rule set naming the source "window_review".
    let dir = tempfile::tempdir().unwrap();
    let url = fresh_database(app.backend, dir.path()).await.unwrap();
    let db = chuangcheng::store::Db::connect(&url, 2).await.unwrap();
    let mut old = db.migrator();
    old.migrations = old.migrations.iter().filter(|m| m.version < 17).cloned().collect::<Vec<_>>().into();
    old.run(&db.pool).await.unwrap();
    let mut rules = serde_json::to_value(chuangcheng::domain::score::RuleSet::default_for(
        chuangcheng::domain::score::Class::Window,
    ))
    .unwrap();
    rules["found"][3]["sources"] = json!(["citizen", "window_review"]);
    sqlx::query(
        "INSERT INTO score_schemes (id, class, status, version_no, rules, created_at, updated_at, version) \
         VALUES ('old', 'window', 'published', 1, $1, 0, 0, 1)",
    )
    .bind(rules.to_string())
    .execute(&db.pool)
    .await
    .unwrap();
    db.migrate().await.unwrap();
    let (_, stored) = chuangcheng::service::scoring::published(&db, chuangcheng::domain::score::Class::Window)
        .await
        .expect("the migrated rules read back");
    use chuangcheng::domain::problem::Source;
    assert_eq!(stored.found[3].sources, [Source::Citizen, Source::WindowRating]);
});

fn pairs(v: &[(String, String)]) -> Vec<(&str, &str)> {
    v.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect()
}

both!(the_office_edits_the_rules_in_a_form_with_chinese_labels, |app: TestApp| async move {
    let b = app.login("admin").await;
    let (status, html) = b.get("/scores/rules?class=unit").await;
    assert_eq!(status, StatusCode::OK);
    // Deductions are rows with the sources as ticked Chinese names, never codes to type.
    assert!(html.contains("id=\"found-rules\"") && html.contains("督导检查") && html.contains("网格巡查"));
    assert!(!html.contains("<textarea name=\"found\""), "no textarea of codes");
    assert!(!html.contains("supervision 督导检查") && !html.contains("名称|"), "no English codes to read");
    // Every field the page shows, as posted back with one changed row and one new row.
    let field = |name: &str| -> Vec<String> {
        html.split(&format!("name=\"{name}\" value=\""))
            .skip(1)
            .map(|s| s.split('"').next().unwrap().to_string())
            .collect()
    };
    let mut fields: Vec<(String, String)> = Vec::new();
    for name in [
        "base",
        "on_spot_minutes",
        "on_spot_factor",
        "overdue_points",
        "overdue_per_day_points",
        "rework_points",
        "repeat_points",
        "repeat_days",
        "commendation_points",
        "red_flag_points",
        "clean_point_points",
        "deduction_cap",
        "bonus_cap",
        "red_flag_top_n",
        "red_flag_min_score",
        "w_closure",
        "w_on_time",
        "w_rework",
        "w_extension",
        "y_q1",
        "y_q2",
        "y_q3",
        "y_q4",
    ] {
        fields.push((name.into(), field(name)[0].clone()));
    }
    fields.push(("class".into(), "unit".into()));
    fields.push(("red_flag_period".into(), "week".into()));
    let labels = field("found_label");
    let points = field("found_points");
    let rows = labels.iter().filter(|l| !l.is_empty()).count();
    assert!(rows >= 2, "the published deductions are shown: {labels:?}");
    for (i, l) in labels.iter().enumerate().take(rows) {
        fields.push(("found_label".into(), l.clone()));
        fields.push(("found_points".into(), if i == 0 { "-8".into() } else { points[i].clone() }));
    }
    let ticked: Vec<String> = html
        .split("name=\"found_src\" value=\"")
        .skip(1)
        .filter(|s| s.split('>').next().unwrap().contains("checked"))
        .map(|s| s.split('"').next().unwrap().to_string())
        .collect();
    for t in &ticked {
        fields.push(("found_src".into(), t.clone()));
    }
    // A new row named but with no source ticked is refused in words.
    let mut bad = fields.clone();
    bad.push(("found_label".into(), "市民投诉查实".into()));
    bad.push(("found_points".into(), "-3".into()));
    let (status, page, _) = b.post("/scores/rules", &pairs(&bad)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains(&format!("发现问题扣分第{}行（市民投诉查实）请至少勾选一个问题来源", rows + 1)), "{page}");
    assert!(page.contains("value=\"市民投诉查实\""), "what was typed stays");
    // With a source no other row counts ticked it is saved as a draft.
    let free = ["citizen", "window_rating", "self_check", "assigned", "evaluation", "grid_patrol"]
        .into_iter()
        .find(|s| !ticked.iter().any(|t| t.ends_with(&format!(":{s}"))))
        .expect("a source no rule counts");
    bad.push(("found_src".into(), format!("{rows}:{free}")));
    let (status, page, _) = b.post("/scores/rules", &pairs(&bad)).await;
    let said = page.split("alert error\">").nth(1).map(|s| s.split('<').next().unwrap().to_string());
    assert_eq!(status, StatusCode::SEE_OTHER, "{said:?}");
    let admin = app.api_login("admin").await;
    let (_, r) = admin.get("/api/v1/scoring/unit/rules").await;
    let found = &r["draft_rules"]["found"];
    assert_eq!(found.as_array().unwrap().len(), rows + 1, "{r}");
    assert_eq!(found[0]["points"], -8.0);
    assert_eq!(found[rows]["label"], "市民投诉查实");
    assert_eq!(found[rows]["sources"], json!([free]));
    // The preview names the week the draft would start from.
    let (_, html) = b.get("/scores/rules?class=unit").await;
    assert!(html.contains("所在周起生效时，对该周排名的影响"), "the preview says its week");
});

both!(closed_weeks_are_kept_and_forgotten_when_a_fact_under_them_changes, |app: TestApp| async move {
    use chuangcheng::domain::time::{end_of_local_day, now_ms, parse_local_day_start};
    let sup = app.api_login("supervisor").await;
    let admin = app.api_login("admin").await;
    let (point, item) = road_point(&app).await;
    let unit = app.id_of(&format!("SELECT unit_id FROM points WHERE id = '{point}'")).await;
    let other = app.id_of("SELECT id FROM units WHERE name = '运河区住房和城乡建设局'").await;
    let (monday, _) = last_week();
    let tuesday = day(monday + chrono::Duration::days(1));
    let week = parse_local_day_start(&day(monday)).unwrap();
    let find = |text: &str| {
        json!({"point_id": point, "standard_item_id": item, "description": text, "source": "supervision",
               "found_at": format!("{tuesday}T07:05"), "allow_duplicate": true})
    };
    let first = sup.file_ok(find("积存垃圾")).await;
    app.filed_at_find(&[first["id"].as_str().unwrap().to_string()]).await;
    let (_, before) = check_ranking(&admin, "unit", &tuesday).await;
    let kept_sql =
        format!("SELECT COUNT(*) FROM score_weeks WHERE class = 'unit' AND week_from = {week} AND sums IS NOT NULL");
    assert_eq!(app.scalar(&kept_sql).await, 1, "the closed week is kept once computed");
    // The problem is due last week and still open: its overdue days grow, so the kept figures
    // hold only until midnight.
    let deadline =
        app.scalar(&format!("SELECT deadline_at FROM problems WHERE id = '{}'", first["id"].as_str().unwrap())).await;
    assert!(deadline < week + 7 * 86_400_000, "due last week");
    let until =
        app.scalar(&format!("SELECT valid_until FROM score_weeks WHERE class = 'unit' AND week_from = {week}")).await;
    assert_eq!(until, end_of_local_day(now_ms()));

    // The ranking reads the kept figures, not the records: altered by hand, the ranking shows it.
    sqlx::query(&format!(
        "UPDATE score_weeks SET sums = '[[\"{unit}\", -4321, 1]]' WHERE class = 'unit' AND week_from = {week}"
    ))
    .execute(&app.db.pool)
    .await
    .unwrap();
    let (_, r) = admin.get(&format!("/api/v1/scoring/unit/ranking?period=week&date={tuesday}")).await;
    let line = r["lines"].as_array().unwrap().iter().find(|l| l["target"] == unit.as_str()).unwrap().clone();
    assert_eq!(line["score"], 10000 - 4321, "{line}");

    // A second find last week: the database forgets the week, the ranking is the ledger's again.
    let second = sup.file_ok(find("又见积存垃圾")).await;
    assert_eq!(app.scalar(&kept_sql).await, 0, "a new fact under the week unkeeps it");
    let (_, after_find) = check_ranking(&admin, "unit", &tuesday).await;
    assert!(after_find[&unit] < before[&unit], "{after_find:?} {before:?}");
    assert_eq!(app.scalar(&kept_sql).await, 1, "and it is kept again");
    // A commendation dated last week.
    let (status, a) = admin
        .post("/api/v1/scoring/unit/commendations", json!({"target_id": other, "note": "补记表扬", "date": tuesday}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{a}");
    let (_, after_award) = check_ranking(&admin, "unit", &tuesday).await;
    assert_eq!(after_award[&other], before[&other] + 100);
    // Voiding a problem gives its deductions back.
    admin.act_ok(second["id"].as_str().unwrap(), "void", json!({"reason": "重复上报"})).await;
    let (_, after_void) = check_ranking(&admin, "unit", &tuesday).await;
    assert!(after_void[&unit] > after_find[&unit], "{after_void:?} {after_find:?}");
    // The month and the quarter hold the same week: their rankings agree with the week's entries.
    for period in ["month", "quarter"] {
        let (status, r) = admin.get(&format!("/api/v1/scoring/unit/ranking?period={period}&date={tuesday}")).await;
        assert_eq!(status, StatusCode::OK, "{r}");
        let (_, l) = admin.get(&format!("/api/v1/scoring/unit/ledger/{unit}?period={period}&date={tuesday}")).await;
        let line = r["lines"].as_array().unwrap().iter().find(|l| l["target"] == unit.as_str()).unwrap();
        assert_eq!(line["score"], l["score"], "{period}: ranking = ledger");
    }
    // Who counts as a responsible unit changes: every kept week goes.
    sqlx::query(&format!("UPDATE units SET kind = 'bank_branch' WHERE id = '{other}'"))
        .execute(&app.db.pool)
        .await
        .unwrap();
    assert_eq!(app.scalar("SELECT COUNT(*) FROM score_weeks").await, 0);
    let (_, moved) = check_ranking(&admin, "unit", &tuesday).await;
    assert!(!moved.contains_key(&other), "a window unit is not ranked with responsible units");
});

both!(next_years_holidays_keep_this_years_weeks_and_a_day_off_in_their_reach_forgets_them, |app: TestApp| async move {
    use chrono::Datelike;
    use chuangcheng::domain::time::{now_ms, parse_local_day_start, to_local};
    let sup = app.api_login("supervisor").await;
    let admin = app.api_login("admin").await;
    let (point, item) = road_point(&app).await;
    let unit = app.id_of(&format!("SELECT unit_id FROM points WHERE id = '{point}'")).await;
    let (monday, _) = last_week();
    let tuesday = day(monday + chrono::Duration::days(1));
    let week = parse_local_day_start(&day(monday)).unwrap();
    // A problem found last Tuesday and still open: overdue, one deduction per working day since.
    let p = sup
        .file_ok(
            json!({"point_id": point, "standard_item_id": item, "description": "积存垃圾", "source": "supervision",
               "found_at": format!("{tuesday}T07:05"), "allow_duplicate": true}),
        )
        .await;
    app.filed_at_find(&[p["id"].as_str().unwrap().to_string()]).await;
    let deadline =
        app.scalar(&format!("SELECT deadline_at FROM problems WHERE id = '{}'", p["id"].as_str().unwrap())).await;
    let (_, before) = check_ranking(&admin, "unit", &tuesday).await;
    let kept_sql =
        format!("SELECT COUNT(*) FROM score_weeks WHERE class = 'unit' AND week_from = {week} AND sums IS NOT NULL");
    assert_eq!(app.scalar(&kept_sql).await, 1);
    let stamp =
        app.id_of(&format!("SELECT calendar FROM score_weeks WHERE class = 'unit' AND week_from = {week}")).await;
    // The kept figures are what the ranking reads: altered by hand, the ranking shows it.
    sqlx::query(&format!(
        "UPDATE score_weeks SET sums = '[[\"{unit}\", -4321, 1]]' WHERE class = 'unit' AND week_from = {week}"
    ))
    .execute(&app.db.pool)
    .await
    .unwrap();
    let score_of = |r: &Value| {
        r["lines"].as_array().unwrap().iter().find(|l| l["target"] == unit.as_str()).unwrap()["score"].as_i64().unwrap()
    };
    let ranking = format!("/api/v1/scoring/unit/ranking?period=week&date={tuesday}");
    assert_eq!(score_of(&admin.get(&ranking).await.1), 10000 - 4321);

    // December: the office loads next year's holidays. Last week reads none of its days.
    let next = to_local(now_ms()).year() + 1;
    let body = json!({"year": next, "source": "国务院办公厅通知",
        "holidays": [{"date": format!("{next}-01-01"), "name": "元旦"}], "workdays": []});
    assert_eq!(admin.put(&format!("/api/v1/calendar/{next}"), body).await.0, StatusCode::NO_CONTENT);
    assert_eq!(app.scalar(&kept_sql).await, 1);
    assert_eq!(score_of(&admin.get(&ranking).await.1), 10000 - 4321, "still read from the kept week");
    // Other working hours change no working day either.
    let b = app.login("admin").await;
    let (status, _, _) = b.post("/settings/calendar/hours", &[("working_hours", "09:00-12:00,14:00-18:00")]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(score_of(&admin.get(&ranking).await.1), 10000 - 4321, "the working hours are not read");

    // A working day between the deadline and today declared a day off: one overdue day fewer.
    let cal = chuangcheng::service::calendar::load(&app.db).await.unwrap();
    let today = to_local(now_ms()).date_naive();
    let mut off = to_local(deadline).date_naive();
    loop {
        off += chrono::Duration::days(1);
        assert!(off <= today, "no working day between last week's deadline and today");
        if cal.is_working_day(off) && off.weekday().num_days_from_monday() < 5 {
            break;
        }
    }
    let year = off.year();
    let (_, days) = admin.get(&format!("/api/v1/calendar/{year}")).await;
    let of_kind = |kind: &str| -> Vec<Value> {
        days.as_array()
            .unwrap()
            .iter()
            .filter(|d| d["kind"] == kind)
            .map(|d| json!({"date": d["day"], "name": d["name"]}))
            .collect()
    };
    let mut holidays = of_kind("holiday");
    holidays.push(json!({"date": day(off), "name": "临时休假"}));
    let body = json!({"year": year, "source": "补充通知", "holidays": holidays, "workdays": of_kind("workday")});
    let (status, e) = admin.put(&format!("/api/v1/calendar/{year}"), body).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{e}");
    let (_, after) = check_ranking(&admin, "unit", &tuesday).await;
    assert_eq!(after[&unit], before[&unit] + 20, "2 points a working day given back: {after:?} {before:?}");
    let rebuilt =
        app.id_of(&format!("SELECT calendar FROM score_weeks WHERE class = 'unit' AND week_from = {week}")).await;
    assert_ne!(rebuilt, stamp, "kept again under the new days");
});

both!(editing_a_point_or_unit_keeps_the_weeks_unless_it_moves_whom_facts_count_for, |app: TestApp| async move {
    use chuangcheng::domain::time::parse_local_day_start;
    let sup = app.api_login("supervisor").await;
    let admin = app.api_login("admin").await;
    let (point, item) = road_point(&app).await;
    let unit = app.id_of(&format!("SELECT unit_id FROM points WHERE id = '{point}'")).await;
    let other = app.id_of("SELECT id FROM units WHERE name = '运河区住房和城乡建设局'").await;
    let (monday, _) = last_week();
    let tuesday = day(monday + chrono::Duration::days(1));
    let week = parse_local_day_start(&day(monday)).unwrap();
    sup.file_ok(
        json!({"point_id": point, "standard_item_id": item, "description": "积存垃圾", "source": "supervision",
        "found_at": format!("{tuesday}T07:05"), "allow_duplicate": true}),
    )
    .await;
    let classes = ["unit", "community", "street"];
    for class in classes {
        check_ranking(&admin, class, &tuesday).await;
    }
    let kept = |class: &str| {
        format!("SELECT COUNT(*) FROM score_weeks WHERE class = '{class}' AND week_from = {week} AND sums IS NOT NULL")
    };
    let kept_now = || async {
        [app.scalar(&kept("unit")).await, app.scalar(&kept("community")).await, app.scalar(&kept("street")).await]
    };
    assert_eq!(kept_now().await, [1, 1, 1], "last week kept for each class once read");
    let edit = |path: String, field: &'static str, value: Value| {
        let admin = &admin;
        async move {
            let (_, mut body) = admin.get(&path).await;
            body[field] = value;
            let (status, saved) = admin.put(&path, body).await;
            assert_eq!(status, StatusCode::OK, "{path} {field}: {saved}");
        }
    };

    // The point lead's phone and the unit's address: every form writes the unit and community
    // columns unchanged, and no kept week goes.
    edit(format!("/api/v1/points/{point}"), "lead_phone", json!("13900001111")).await;
    edit(format!("/api/v1/units/{unit}"), "address", json!("运河区新华路1号")).await;
    assert_eq!(kept_now().await, [1, 1, 1], "an edit that moves nothing keeps every week");

    // The point goes to another unit: its problems stay their units', so the units' weeks hold
    // while no clean inspection of the point lies in them.
    edit(format!("/api/v1/points/{point}"), "unit_id", json!(other)).await;
    assert_eq!(kept_now().await, [1, 1, 1]);
    // A clean inspection of the point last Wednesday (it counts for the point's unit of the
    // moment): the week is computed again and kept; moving the point back forgets it.
    let wednesday = week + 2 * 86_400_000 + 9 * 3_600_000;
    sqlx::query(&format!(
        "INSERT INTO point_inspections (id, point_id, at, inspector_id, inspector_name, note, created_at, day) \
         VALUES ('insp-kept-weeks', '{point}', {wednesday}, NULL, '督导员', '检查无问题', {wednesday}, '{}')",
        day(monday + chrono::Duration::days(2))
    ))
    .execute(&app.db.pool)
    .await
    .unwrap();
    assert_eq!(kept_now().await, [0, 0, 0], "a new inspection forgets its week in every class");
    let (_, with_other) = check_ranking(&admin, "unit", &tuesday).await;
    check_ranking(&admin, "community", &tuesday).await;
    check_ranking(&admin, "street", &tuesday).await;
    assert_eq!(kept_now().await, [1, 1, 1]);
    edit(format!("/api/v1/points/{point}"), "unit_id", json!(unit)).await;
    assert_eq!(kept_now().await, [0, 1, 1], "the units' week holding the inspection goes, the areas' stay");
    let (_, back) = check_ranking(&admin, "unit", &tuesday).await;
    let award = with_other[&other] - back[&other];
    assert!(award > 0, "the clean inspection left the other unit: {back:?} {with_other:?}");
    assert_eq!(back[&unit] - with_other[&unit], award, "and counts for the point's unit again");

    // The point moves to another community: the areas' weeks go, the units' stay.
    let community = app.id_of(&format!("SELECT community_id FROM points WHERE id = '{point}'")).await;
    let elsewhere = app
        .id_of(&format!(
            "SELECT id FROM org_nodes WHERE level = 'community' AND id <> '{community}' ORDER BY code LIMIT 1"
        ))
        .await;
    let mut b = admin.get(&format!("/api/v1/points/{point}")).await.1;
    b["community_id"] = json!(elsewhere);
    b["grid_id"] = Value::Null;
    assert_eq!(admin.put(&format!("/api/v1/points/{point}"), b).await.0, StatusCode::OK);
    assert_eq!(kept_now().await, [1, 0, 0]);
    let (_, areas) = check_ranking(&admin, "community", &tuesday).await;
    assert!(areas[&elsewhere] < 10000, "the problem now counts for the new community: {areas:?}");

    // A unit's kind: the units' weeks go, the areas' (read again) stay.
    check_ranking(&admin, "community", &tuesday).await;
    check_ranking(&admin, "street", &tuesday).await;
    edit(format!("/api/v1/units/{other}"), "kind", json!("bank_branch")).await;
    assert_eq!(kept_now().await, [0, 1, 1]);
    let (_, units) = check_ranking(&admin, "unit", &tuesday).await;
    assert!(!units.contains_key(&other), "a window unit is not ranked with responsible units");
});

both!(the_jobs_rebuild_forgotten_weeks_once_across_instances, |app: TestApp| async move {
    use chuangcheng::domain::time::{now_ms, parse_local_day_start};
    use chuangcheng::service::scoring::keep_weeks;
    let sup = app.api_login("supervisor").await;
    let admin = app.api_login("admin").await;
    let (point, item) = road_point(&app).await;
    let unit = app.id_of(&format!("SELECT unit_id FROM points WHERE id = '{point}'")).await;
    let (monday, _) = last_week();
    let tuesday = day(monday + chrono::Duration::days(1));
    let week = parse_local_day_start(&day(monday)).unwrap();
    let find = |text: &str| {
        json!({"point_id": point, "standard_item_id": item, "description": text, "source": "supervision",
               "found_at": format!("{tuesday}T07:05"), "allow_duplicate": true})
    };
    let filled = "SELECT COUNT(*) FROM score_weeks WHERE sums IS NOT NULL";
    let last_week_kept =
        format!("SELECT COUNT(*) FROM score_weeks WHERE class = 'unit' AND week_from = {week} AND sums IS NOT NULL");
    sup.file_ok(find("积存垃圾")).await;
    assert_eq!(app.scalar(filled).await, 0, "nothing is kept before anyone reads or the job runs");

    // The job's step keeps every closed week of the year, for every class, in one go here.
    let built = keep_weeks(&app.db, now_ms(), 10_000).await.expect("keep weeks");
    assert!(built >= 4, "at least last week of each of the four classes: {built}");
    assert_eq!(app.scalar(filled).await, built as i64);
    assert_eq!(app.scalar(&last_week_kept).await, 1);
    assert_eq!(keep_weeks(&app.db, now_ms(), 10_000).await.expect("again"), 0, "nothing left to rebuild");
    // Nor once every rebuild's lease has run out (the week holding 1 January, which starts the
    // December before, included).
    sqlx::query("UPDATE score_weeks SET built_at = built_at - 3600000").execute(&app.db.pool).await.unwrap();
    assert_eq!(keep_weeks(&app.db, now_ms(), 10_000).await.expect("after the leases"), 0, "kept weeks stay kept");

    // A new fact last week forgets the weeks it reaches; two instances' jobs rebuild each once.
    sup.file_ok(find("又见积存垃圾")).await;
    let forgotten = built as i64 - app.scalar(filled).await;
    assert!(forgotten >= 1, "the new find forgets last week");
    assert_eq!(app.scalar(&last_week_kept).await, 0);
    let (a, b) = tokio::join!(keep_weeks(&app.db, now_ms(), 10_000), keep_weeks(&app.db, now_ms(), 10_000));
    let (a, b) = (a.expect("first instance"), b.expect("second instance"));
    assert_eq!(a + b, forgotten as usize, "each forgotten week rebuilt by one instance ({a} + {b})");
    assert_eq!(app.scalar(filled).await, built as i64, "every week kept again");

    // The ranking the office reads comes from the rebuilt week and agrees with the unit's ledger
    // computed from the records.
    let (status, r) = admin.get(&format!("/api/v1/scoring/unit/ranking?period=week&date={tuesday}")).await;
    assert_eq!(status, StatusCode::OK, "{r}");
    let line = r["lines"].as_array().unwrap().iter().find(|l| l["target"] == unit.as_str()).unwrap().clone();
    let (_, ledger) = admin.get(&format!("/api/v1/scoring/unit/ledger/{unit}?period=week&date={tuesday}")).await;
    assert_eq!(line["score"], ledger["score"], "ranking = ledger");
    assert!(line["score"].as_i64().unwrap() < 10_000 - 2, "both finds deducted: {line}");
    // A limit bounds a round's work.
    sup.file_ok(find("第三次积存垃圾")).await;
    assert_eq!(keep_weeks(&app.db, now_ms(), 1).await.expect("one"), 1);
});

both!(a_week_across_the_first_of_a_month_is_kept_in_two_parts, |app: TestApp| async move {
    use chrono::{Datelike, Duration};
    use chuangcheng::domain::time::{now_ms, parse_local_day_start};
    use chuangcheng::service::scoring::keep_weeks;
    let sup = app.api_login("supervisor").await;
    let admin = app.api_login("admin").await;
    let (point, item) = road_point(&app).await;
    let unit = app.id_of(&format!("SELECT unit_id FROM points WHERE id = '{point}'")).await;
    // The latest first of a month inside a week (Monday to Monday) that has ended.
    let mut first = today().with_day(1).unwrap();
    let monday = loop {
        let monday = first - Duration::days(first.weekday().num_days_from_monday() as i64);
        if monday < first && monday + Duration::days(7) <= today() {
            break monday;
        }
        first = (first - Duration::days(1)).with_day(1).unwrap();
    };
    let (week, split) = (parse_local_day_start(&day(monday)).unwrap(), parse_local_day_start(&day(first)).unwrap());
    // Finds on the last day of one month and the first of the next, in the same week. Filing
    // accepts finds of the last 30 days only, so they are filed now and moved back there.
    let find_at = |text: &'static str, at: i64| {
        let (sup, app, point, item) = (&sup, &app, &point, &item);
        async move {
            let p = sup
                .file_ok(json!({"point_id": point, "standard_item_id": item, "description": text,
                                "source": "supervision", "allow_duplicate": true}))
                .await;
            let id = p["id"].as_str().unwrap().to_string();
            let found = app.scalar(&format!("SELECT found_at FROM problems WHERE id = '{id}'")).await;
            app.move_back(&[id], found - at).await;
        }
    };
    find_at("积存垃圾", split - 86_400_000 + 7 * 3_600_000).await;
    find_at("路面破损", split + 7 * 3_600_000).await;
    let (before_day, first_day) = (day(first - Duration::days(1)), day(first));
    // The month's ranking of the unit, checked against its ledger computed from the records.
    let month_score = |date: String| {
        let (admin, unit) = (&admin, &unit);
        async move {
            let (status, r) = admin.get(&format!("/api/v1/scoring/unit/ranking?period=month&date={date}")).await;
            assert_eq!(status, StatusCode::OK, "{r}");
            let line = r["lines"].as_array().unwrap().iter().find(|l| l["target"] == unit.as_str()).unwrap().clone();
            let (_, l) = admin.get(&format!("/api/v1/scoring/unit/ledger/{unit}?period=month&date={date}")).await;
            (line["score"].as_i64().unwrap(), l["score"].as_i64().unwrap())
        }
    };
    let (earlier, ledger) = month_score(before_day.clone()).await;
    assert_eq!(earlier, ledger, "the month before: ranking = ledger");
    let part_sql =
        format!("SELECT split_at FROM score_weeks WHERE class = 'unit' AND week_from = {week} AND sums IS NOT NULL");
    assert_eq!(app.scalar(&part_sql).await, split, "the week is kept with its part before the first of the month");
    let (later, ledger) = month_score(first_day.clone()).await;
    assert_eq!(later, ledger, "the month after: ranking = ledger");

    // Both months read the kept parts: the part before, altered by hand, moves 12.3 points from
    // one month to the other (the part after is the whole week less the part before).
    let text =
        app.id_of(&format!("SELECT sums_before FROM score_weeks WHERE class = 'unit' AND week_from = {week}")).await;
    let mut parts: Vec<(String, i64, i64)> = serde_json::from_str(&text).unwrap();
    let mine = parts.iter_mut().find(|p| p.0 == unit).expect("the unit's find before the first is in the part");
    assert!(mine.1 < 0, "a deduction: {mine:?}");
    mine.1 -= 123;
    sqlx::query(&format!(
        "UPDATE score_weeks SET sums_before = '{}' WHERE class = 'unit' AND week_from = {week}",
        serde_json::to_string(&parts).unwrap()
    ))
    .execute(&app.db.pool)
    .await
    .unwrap();
    assert_eq!(month_score(before_day.clone()).await.0, earlier - 123);
    assert_eq!(month_score(first_day.clone()).await.0, later + 123);

    // A new fact in the week forgets it: both months are the ledger's again, and kept again.
    find_at("又见积存垃圾", split + 8 * 3_600_000).await;
    assert_eq!(app.scalar(&part_sql.replace("split_at", "COUNT(*)")).await, 0, "forgotten");
    let (again, ledger) = month_score(first_day.clone()).await;
    assert_eq!(again, ledger);
    assert!(again < later, "the new find deducts: {again} {later}");
    assert_eq!(month_score(before_day).await.0, earlier);
    assert_eq!(app.scalar(&part_sql).await, split);

    // A week kept without its part (as before this was kept) is rebuilt by the job with it.
    assert!(keep_weeks(&app.db, now_ms(), 10_000).await.expect("keep") > 0, "the other closed weeks");
    assert_eq!(keep_weeks(&app.db, now_ms(), 10_000).await.expect("again"), 0);
    sqlx::query(&format!(
        "UPDATE score_weeks SET split_at = NULL, sums_before = NULL, built_at = built_at - 3600000 \
         WHERE class = 'unit' AND week_from = {week}"
    ))
    .execute(&app.db.pool)
    .await
    .unwrap();
    assert_eq!(keep_weeks(&app.db, now_ms(), 10_000).await.expect("rebuild"), 1);
    assert_eq!(app.scalar(&part_sql).await, split);
    assert_eq!(month_score(first_day).await, (again, again));
});
