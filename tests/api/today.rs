//! The start pages (我的待办): each role's work, most urgent first, each item one tap from its
//! action, each counter opening the records behind it.

use crate::both;
use crate::fixtures::*;
use crate::helpers::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

fn section<'a>(todo: &'a Value, key: &str) -> &'a Value {
    todo.as_array().unwrap().iter().find(|s| s["key"] == key).unwrap_or_else(|| panic!("no section {key}: {todo}"))
}

fn keys(todo: &Value) -> Vec<String> {
    todo.as_array().unwrap().iter().map(|s| s["key"].as_str().unwrap().to_string()).collect()
}

/// The ledger total behind a section's "more" link, read through the API with the same query.
async fn ledger_total(api: &Api, more: &str) -> i64 {
    let query = more.strip_prefix("/problems").expect("a ledger link");
    let (status, page) = api.get(&format!("/api/v1/problems{query}")).await;
    assert_eq!(status, StatusCode::OK, "{more}: {page}");
    page["total"].as_i64().unwrap()
}

/// A day of work at the lead's unit: one problem waiting for 收到, one fixed with its own
/// before-photo (a paper fix), one sent back for rework, one with an extension request, one
/// found and filed a week ago and overdue. Their ids in that order.
async fn a_day_of_work(app: &TestApp) -> [String; 5] {
    let sup = app.api_login("supervisor").await;
    let lead = app.api_login("lead").await;
    let (point, item) = road_point(app).await;
    let week_ago = chuangcheng::domain::time::to_local(chuangcheng::domain::time::now_ms() - 7 * 86_400_000)
        .format("%Y-%m-%dT%H:%M")
        .to_string();
    let mut ids = Vec::new();
    for n in 0..5u8 {
        let mut body = json!({"point_id": point, "standard_item_id": item, "description": format!("积存垃圾{n}"),
            "source": "supervision", "allow_duplicate": true, "photos": [photo(30 + n)]});
        if n == 4 {
            body["found_at"] = week_ago.clone().into();
        }
        ids.push(sup.file_ok(body).await["id"].as_str().unwrap().to_string());
    }
    app.filed_at_find(&ids[4..]).await;
    for id in &ids[1..4] {
        lead.act_ok(id, "acknowledge", json!({})).await;
    }
    lead.act_ok(&ids[1], "submit_fix", json!({"note": "已清理", "photos": [photo(31)]})).await;
    lead.act_ok(&ids[2], "submit_fix", json!({"note": "已清理", "photos": [photo(60)]})).await;
    sup.act_ok(&ids[2], "fail", json!({"reason": "周边仍有散落垃圾"})).await;
    lead.act_ok(
        &ids[3],
        "request_extension",
        json!({"days": 2, "reason": "需联合市场监管部门劝离，申请延期2个工作日"}),
    )
    .await;
    ids.try_into().unwrap()
}

/// Posts an item's one-tap form as the start page shows it.
async fn tap(b: &Browser, home: &str, post: &str) -> (StatusCode, Option<String>) {
    let at = home.find(&format!("action=\"{post}\"")).unwrap_or_else(|| panic!("{post} is on the page"));
    let form = &home[at..at + home[at..].find("</form>").unwrap()];
    let version = form.split("name=\"version\" value=\"").nth(1).unwrap().split('"').next().unwrap();
    let (status, _, location) = post_multipart(b, post, &[("version", version), ("back", "/")], vec![]).await;
    (status, location)
}

both!(a_unit_starts_its_day_with_what_it_must_do, |app: TestApp| async move {
    let [waiting_id, _, rework_id, _, late_id] = a_day_of_work(&app).await;
    let lead = app.api_login("lead").await;
    let (status, todo) = lead.get("/api/v1/me/todo").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(keys(&todo), ["overdue", "rework", "to_acknowledge", "due_today", "in_hand", "notices"]);
    // Every counter opens exactly the records behind it, and each open problem is counted once:
    // the sections add up to the unit's problems to receive or fix, and the overdue ones waiting
    // for the re-check.
    let sections = ["overdue", "rework", "to_acknowledge", "due_today", "in_hand"];
    let mut listed = std::collections::HashSet::new();
    let mut counted = 0;
    for key in sections {
        let s = section(&todo, key);
        assert_eq!(ledger_total(&lead, s["more"].as_str().unwrap()).await, s["total"].as_i64().unwrap(), "{key}");
        counted += s["total"].as_i64().unwrap();
        for i in s["items"].as_array().unwrap() {
            assert!(listed.insert(i["href"].as_str().unwrap().to_string()), "{key} lists {i} again: {todo}");
        }
    }
    let open = ledger_total(&lead, "/problems?state=dispatched,acknowledged").await
        + ledger_total(&lead, "/problems?state=submitted&overdue=1").await;
    assert_eq!(counted, open, "{todo}");
    assert!(listed.contains(&format!("/problems/{rework_id}")), "the reworked problem is listed: {todo}");
    // Overdue and not yet received: 收到 is one tap from the overdue list.
    let late = section(&todo, "overdue")["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["href"] == format!("/problems/{late_id}").as_str())
        .unwrap_or_else(|| panic!("the overdue problem is listed: {todo}"))
        .clone();
    assert_eq!(late["action"]["post"], format!("/problems/{late_id}/act/acknowledge").as_str(), "{late}");
    let rework = section(&todo, "rework");
    assert_eq!(rework["total"], 1);
    assert_eq!(
        (rework["items"][0]["href"].as_str(), rework["items"][0]["badge"].as_str()),
        (Some(format!("/problems/{rework_id}").as_str()), Some("第1次返工"))
    );
    let overdue = section(&todo, "overdue");
    assert_eq!(overdue["items"][0]["href"], format!("/problems/{late_id}").as_str(), "the oldest deadline first");
    assert!(overdue["items"][0]["badge"].as_str().unwrap().starts_with("逾期"), "{overdue}");
    let due = section(&todo, "due_today");
    assert!(due["items"].as_array().unwrap().iter().all(|i| i["badge"].as_str().unwrap().starts_with("今日")), "{due}");
    let (status, body) = lead.get("/api/v1/problems?due=tomorrow").await;
    assert_eq!((status, body["error"]["code"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_query")));

    // On the phone: the start page holds the work, and 收到 is one tap.
    let b = app.login("lead").await;
    let (_, home) = b.get("/").await;
    assert!(home.contains("我的待办") && home.contains("待签收") && home.contains("被退回返工"), "{home}");
    assert!(!home.contains(">区域<"), "no counts of areas on a lead's start page");
    let waiting = section(&todo, "to_acknowledge");
    let before = waiting["total"].as_i64().unwrap();
    assert!(
        waiting["items"].as_array().unwrap().iter().any(|i| i["href"] == format!("/problems/{waiting_id}").as_str())
    );
    let post = waiting["items"][0]["action"]["post"].as_str().unwrap().to_string();
    assert!(post.ends_with("/act/acknowledge") && waiting["items"][0]["action"]["label"] == "收到");
    let (status, location) = tap(&b, &home, &post).await;
    assert_eq!((status, location.as_deref()), (StatusCode::SEE_OTHER, Some("/")), "back to the start page");
    let id = post.split('/').nth(2).unwrap();
    let (_, d) = lead.get(&format!("/api/v1/problems/{id}")).await;
    assert_eq!(d["problem"]["state"], "acknowledged");
    let (_, todo) = lead.get("/api/v1/me/todo").await;
    assert_eq!(section(&todo, "to_acknowledge")["total"].as_i64().unwrap(), before - 1);
});

both!(the_supervisor_sees_rechecks_with_their_evidence_and_the_round, |app: TestApp| async move {
    let [_, paper_id, ..] = a_day_of_work(&app).await;
    let sup = app.api_login("supervisor").await;
    let (_, todo) = sup.get("/api/v1/me/todo").await;
    assert_eq!(keys(&todo), ["recheck", "round"]);
    let recheck = section(&todo, "recheck");
    assert_eq!(recheck["total"], 1);
    let paper = &recheck["items"][0];
    assert_eq!(paper["href"], format!("/problems/{paper_id}").as_str());
    assert!(paper["photo_id"].as_str().is_some(), "the after-photo is shown: {recheck}");
    assert!(paper["warnings"].as_array().unwrap().iter().any(|w| w == "重复使用整改前照片"), "{recheck}");
    // The round: points of the team's area not inspected today; filing at one takes it off.
    let round = section(&todo, "round");
    let left = round["total"].as_i64().unwrap();
    assert!(left > 0 && round["more"] == "/rounds");
    let first = round["items"][0]["href"].as_str().unwrap().to_string();
    let point = first.split("point_id=").nth(1).unwrap().to_string();
    sup.file_ok(json!({"point_id": point, "category": "井盖缺失", "description": "井盖缺失", "source": "supervision", "photos": [photo(7)]}))
        .await;
    let (_, todo) = sup.get("/api/v1/me/todo").await;
    let round = section(&todo, "round");
    assert_eq!(round["total"].as_i64().unwrap(), left - 1, "an inspected point leaves the round");
    assert!(!round["items"].as_array().unwrap().iter().any(|i| i["href"] == first.as_str()));
    // The 晨扫描 page counts and marks what was inspected today.
    let b = app.login("supervisor").await;
    let (_, html) = b.get("/rounds").await;
    let total: i64 = html.split("共 ").nth(1).unwrap().split(' ').next().unwrap().parse().unwrap();
    assert!(html.contains(&format!("尚余 {} 个", left - 1)) && html.contains("今日已检查"), "{html}");
    assert!(total > 50, "every point of the round is listed, not the first 50 ({total})");
    let (_, home) = b.get("/").await;
    assert!(home.contains("登记问题") && home.contains("有证据警告"), "file button and the warning on the page");
});

both!(the_office_decides_requests_from_its_queue, |app: TestApp| async move {
    let [.., ext_id, _] = a_day_of_work(&app).await;
    let admin = app.api_login("admin").await;
    let lead = app.api_login("lead").await;
    let (_, todo) = admin.get("/api/v1/me/todo").await;
    assert_eq!(keys(&todo)[..2], ["requests", "overdue"], "the decisions first");
    // The city's overdue problems (the 超期 filter), walked one per page most urgent first: the
    // same set as the queue's count, each once, deadlines never earlier than the page before.
    let queue_total = section(&todo, "overdue")["total"].as_i64().unwrap();
    assert!(queue_total >= 1);
    let (mut seen, mut last_deadline, mut url) =
        (Vec::new(), 0, "/api/v1/problems?overdue=1&sort=deadline_asc&size=1".to_string());
    loop {
        let (status, page) = admin.get(&url).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        assert_eq!(page["total"].as_i64().unwrap(), queue_total);
        for row in page["items"].as_array().unwrap() {
            let deadline = row["deadline_at"].as_i64().unwrap();
            assert!(deadline >= last_deadline && deadline < chuangcheng::domain::time::now_ms(), "{row}");
            last_deadline = deadline;
            seen.push(row["id"].as_str().unwrap().to_string());
        }
        match page["next_cursor"].as_str() {
            Some(c) => url = format!("/api/v1/problems?overdue=1&sort=deadline_asc&size=1&after={c}"),
            None => break,
        }
    }
    let distinct: std::collections::HashSet<&String> = seen.iter().collect();
    assert_eq!((seen.len() as i64, distinct.len()), (queue_total, seen.len()));
    let requests = section(&todo, "requests");
    assert_eq!(ledger_total(&admin, requests["more"].as_str().unwrap()).await, requests["total"].as_i64().unwrap());
    let ext = &requests["items"][0];
    assert_eq!(ext["href"], format!("/problems/{ext_id}").as_str());
    assert_eq!(ext["badge"], "申请延期", "{requests}");
    assert!(ext["detail"].as_str().unwrap().contains("申请延期2个工作日"), "{ext}");
    // A transfer request joins the queue too.
    let (point, item) = road_point(&app).await;
    let sup = app.api_login("supervisor").await;
    let p = sup
        .file_ok(
            json!({"point_id": point, "standard_item_id": item, "description": "燃气管线", "source": "supervision",
        "allow_duplicate": true, "photos": [photo(8)]}),
        )
        .await;
    let tid = p["id"].as_str().unwrap().to_string();
    lead.act_ok(&tid, "request_transfer", json!({"reason": "属住建局管辖"})).await;
    let (_, todo) = admin.get("/api/v1/me/todo").await;
    let requests = section(&todo, "requests");
    let n = requests["total"].as_i64().unwrap();
    let transfer =
        requests["items"].as_array().unwrap().iter().find(|i| i["href"] == format!("/problems/{tid}").as_str());
    assert_eq!(transfer.expect("the transfer request is queued")["badge"], "申请转办");
    // The extension is approved with one tap on the start page; the transfer decided on its page.
    let b = app.login("admin").await;
    let (_, home) = b.get("/").await;
    assert!(home.contains("延期/转办申请待审批") && home.contains("批准延期"));
    let post = ext["action"]["post"].as_str().unwrap();
    let (status, location) = tap(&b, &home, post).await;
    assert_eq!((status, location.as_deref()), (StatusCode::SEE_OTHER, Some("/")));
    let eid = post.split('/').nth(2).unwrap();
    let (_, d) = admin.get(&format!("/api/v1/problems/{eid}")).await;
    assert_eq!(d["problem"]["extension_pending"], 0, "approved");
    let target = app.id_of("SELECT id FROM units WHERE name = '运河区住房和城乡建设局'").await;
    admin.act_ok(&tid, "transfer", json!({"reason": "同意转办", "unit_id": target})).await;
    let (_, todo) = admin.get("/api/v1/me/todo").await;
    assert_eq!(section(&todo, "requests")["total"].as_i64().unwrap(), n - 2, "both decided, both gone");
    let (_, page) = admin.get("/api/v1/problems?pending=1").await;
    assert_eq!(page["total"].as_i64().unwrap(), n - 2);
    let (_, html) = b.get("/problems?pending=1").await;
    assert!(html.contains("待审批申请"), "the ledger filter is on the page");

    // The discipline office reads what is overdue and what keeps failing.
    let d = app.api_login("discipline").await;
    let (_, todo) = d.get("/api/v1/me/todo").await;
    assert_eq!(keys(&todo), ["overdue", "reworked"]);
    assert!(section(&todo, "reworked")["total"].as_i64().unwrap() >= 1);
});

both!(filing_a_possible_duplicate_keeps_what_was_typed_and_the_photos, |app: TestApp| async move {
    let (point, item) = road_point(&app).await;
    let b = app.login("supervisor").await;
    let fields = |desc: &'static str| {
        vec![
            ("point_id", point.clone()),
            ("standard_item_id", item.clone()),
            ("description", desc.to_string()),
            ("source", "supervision".to_string()),
            ("severity", String::new()),
            ("found_at", String::new()),
        ]
    };
    let post = |f: Vec<(&'static str, String)>, photos: Vec<Vec<u8>>| {
        let b = &b;
        async move {
            let pairs: Vec<(&str, &str)> = f.iter().map(|(k, v)| (*k, v.as_str())).collect();
            post_multipart(b, "/problems/new", &pairs, photos).await
        }
    };
    let (status, _, first) = post(fields("绿化带内有积存垃圾"), vec![jpeg_bytes(11)]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let first = first.unwrap();
    // The same item again: the form comes back with everything typed, the open problem with its
    // photo, and the choice; the photos are kept.
    let (status, html, _) = post(fields("同一路段又发现垃圾堆放"), vec![jpeg_bytes(12), jpeg_bytes(13)]).await;
    assert_eq!(status, StatusCode::CONFLICT, "{html}");
    assert!(html.contains("同一路段又发现垃圾堆放"), "the description is kept");
    assert!(html.contains("确认是新问题，仍然登记") && html.contains("是同一问题，不再登记"), "{html}");
    assert!(html.contains(&format!("href=\"{first}\"")) && html.contains("/thumb\" alt=\"整改前照片\""), "{html}");
    assert!(html.contains("已保留刚才选择的2张照片"), "{html}");
    let token = html.split("name=\"draft\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_string();
    // File anyway, without taking the photos again.
    let mut again = fields("同一路段又发现垃圾堆放");
    again.push(("allow_duplicate", "1".into()));
    again.push(("draft", token.clone()));
    let (status, _, second) = post(again, vec![]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let id = second.unwrap().trim_start_matches("/problems/").to_string();
    let sup = app.api_login("supervisor").await;
    let (_, d) = sup.get(&format!("/api/v1/problems/{id}")).await;
    assert_eq!(d["problem"]["description"], "同一路段又发现垃圾堆放");
    assert_eq!(d["photos"].as_array().unwrap().len(), 2, "the kept photos were filed");
    // Someone else cannot use the draft.
    let other = app.login("admin").await;
    let mut stolen = fields("别人的草稿");
    stolen.push(("allow_duplicate", "1".into()));
    stolen.push(("draft", token));
    let pairs: Vec<(&str, &str)> = stolen.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let (status, html, _) = post_multipart(&other, "/problems/new", &pairs, vec![]).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "the draft's photos belong to the one who took them");
    assert!(html.contains("须附至少1张现场照片"), "{html}");
});

both!(the_discipline_office_reads_a_problems_audit_trail_in_chinese, |app: TestApp| async move {
    let [_, _, rework_id, ..] = a_day_of_work(&app).await;
    let b = app.login("discipline").await;
    let (status, html) = b.get(&format!("/audit?object_id={rework_id}")).await;
    assert_eq!(status, StatusCode::OK);
    for shown in
        ["核查不通过（返工）", "返工次数", "状态：<del>待核查</del> → <ins>处置中</ins>", "提交整改时间", "签收时间"]
    {
        assert!(html.contains(shown), "{shown} in {html}");
    }
    for raw in ["rework_count", "submitted_at", ">submitted<", "acknowledged_at", "search_text"] {
        assert!(!html.contains(raw), "no raw {raw} in the log");
    }
    let year = chuangcheng::domain::time::to_local(chuangcheng::domain::time::now_ms()).format("<ins>%Y-").to_string();
    assert!(html.contains(&year), "times in Beijing time, not milliseconds");
    assert!(html.contains(&format!("href=\"/problems/{rework_id}\"")), "the entry links to the problem");
    let (_, html) = b.get("/audit?object_type=problem&action=acknowledge").await;
    assert!(html.contains("<td data-label=\"动作\">收到</td>"), "the 收到 filter works: {html}");
});

both!(small_things_seen_in_daily_use, |app: TestApp| async move {
    let b = app.login("admin").await;
    let (_, html) = b.get("/kpi").await;
    assert!(html.contains("<title>整改指标"), "the page is named as its menu entry");
    let (_, html) = b.get("/settings/point-types").await;
    assert!(html.contains("<th>类型</th>") && html.contains("编码 main_road"), "types by their Chinese names");
    let (_, html) = b.get("/settings/calendar").await;
    assert!(!html.contains("npm") && !html.contains("MIT"), "no package notes for users");
    let res = b.get_raw("/favicon.ico").await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.headers()["content-type"].to_str().unwrap().starts_with("image/svg"));
    let (_, html) = b.get("/").await;
    assert!(html.contains("rel=\"icon\""));
});

both!(the_recheck_asks_before_passing_a_warned_fix_and_keeps_what_was_typed, |app: TestApp| async move {
    let [_, paper_id, rework_id, ..] = a_day_of_work(&app).await;
    let s = app.login("supervisor").await;
    let (_, html) = s.get(&format!("/problems/{paper_id}")).await;
    // One re-check form: one photo picker, one opinion, and the two outcomes as its buttons.
    let form = html.split("id=\"recheck-form\"").nth(1).unwrap().split("</form>").next().unwrap();
    assert!(form.contains(&format!("action=\"/problems/{paper_id}/act/pass\"")), "{form}");
    assert_eq!(html.matches("type=\"file\"").count(), 1, "one photo picker on the re-check page: {html}");
    let pass = form.split("核查通过（销号）</button>").next().unwrap().rsplit("<button").next().unwrap();
    assert!(pass.contains("data-confirm=\"整改后照片有证据警告"), "passing a warned fix asks first: {pass}");
    let fail = form.split("核查不通过（返工）</button>").next().unwrap().rsplit("<button").next().unwrap();
    assert!(fail.contains(&format!("formaction=\"/problems/{paper_id}/act/fail\"")), "{fail}");
    assert!(!fail.contains("data-confirm"), "failing a fix asks nothing: {fail}");
    assert!(
        html.contains("class=\"bottombar\"") && html.contains("href=\"/rounds\">今日</a>"),
        "the phone's bottom bar"
    );
    // The round's 回头看 list marks the paper fix as the start page does.
    let (_, html) = s.get("/rounds").await;
    let table = html.split("id=\"recheck\"").nth(1).unwrap().split("</table>").next().unwrap();
    let row =
        table.split("<tr>").find(|r| r.contains(&format!("/problems/{paper_id}\""))).expect("the paper fix's row");
    assert!(row.contains("有证据警告"), "{row}");
    let (_, rounds) = app.api_login("supervisor").await.get("/api/v1/rounds").await;
    assert_eq!(rounds["recheck_warned"], json!([paper_id]), "{rounds}");
    // 核查不通过 without a reason: the message stands beside the opinion box, which takes the focus
    // (on a phone the top of the page is screens away).
    let (status, html, _) = act_on_page(&s, &paper_id, "fail", &[("reason", "")], vec![]).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let form = html.split("id=\"recheck-form\"").nth(1).unwrap().split("</form>").next().unwrap();
    assert!(form.contains("id=\"recheck-error\"") && form.contains("autofocus"), "{form}");
    // A refused fix keeps the note typed.
    let lead = app.login("lead").await;
    let (status, html, _) =
        act_on_page(&lead, &rework_id, "submit_fix", &[("note", "已重新清理并冲洗地面")], vec![]).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("value=\"已重新清理并冲洗地面\""), "the note is kept: {html}");
});

both!(an_inspections_find_needs_its_photo, |app: TestApp| async move {
    let (point, item) = road_point(&app).await;
    let sup = app.api_login("supervisor").await;
    let body = json!({"point_id": point, "standard_item_id": item, "description": "积存垃圾", "source": "supervision", "photos": []});
    let (status, err) = sup.post("/api/v1/problems", body).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(field_codes(&err).contains(&("photos".into(), "photo_required".into())), "{err}");
    let admin = app.api_login("admin").await;
    let assigned = json!({"point_id": point, "category": "上级交办", "description": "市领导交办：清理积存垃圾", "source": "assigned"});
    assert_eq!(admin.post("/api/v1/problems", assigned).await.0, StatusCode::CREATED, "a 交办 needs no photo");
});

both!(an_unverified_citizen_report_costs_the_unit_nothing, |app: TestApp| async move {
    let (point, item) = road_point(&app).await;
    let unit = app.id_of(&format!("SELECT unit_id FROM points WHERE id = '{point}'")).await;
    let admin = app.api_login("admin").await;
    let today = chuangcheng::domain::time::to_local(chuangcheng::domain::time::now_ms()).format("%Y-%m-%d").to_string();
    let ledger = format!("/api/v1/scoring/unit/ledger/{unit}?period=week&date={today}");
    let found = |l: &Value| l["entries"].as_array().unwrap().iter().filter(|e| e["kind"] == "found").count();
    let (_, l) = admin.get(&ledger).await;
    let before = found(&l);
    let report = admin.file_ok(json!({"point_id": point, "standard_item_id": item, "description": "市民反映路边有垃圾", "source": "citizen"})).await;
    assert_eq!(report["state"], "reported");
    let (_, l) = admin.get(&ledger).await;
    assert_eq!(found(&l), before, "待核实: nothing charged yet");
    admin.act_ok(report["id"].as_str().unwrap(), "verify", json!({})).await;
    let (_, l) = admin.get(&ledger).await;
    assert_eq!(found(&l), before + 1, "verified: now it counts");
});

both!(the_office_records_an_interviews_outcome_on_the_page, |app: TestApp| async move {
    let b = app.login("admin").await;
    let unit = app.id_of("SELECT unit_id FROM users WHERE username = 'lead'").await;
    let [_, _, rework_id, ..] = a_day_of_work(&app).await;
    let code = app.id_of(&format!("SELECT code FROM problems WHERE id = '{rework_id}'")).await;
    let fields = [("kind", "interview"), ("unit_id", &unit), ("reason", "整改不到位被返工"), ("problems", &code)];
    let (status, html, _) = b.post("/interviews", &fields).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{html}");
    let id = app.id_of("SELECT id FROM interviews ORDER BY created_at DESC LIMIT 1").await;
    let (_, html) = b.get("/interviews").await;
    assert!(html.contains(&format!("action=\"/interviews/{id}/outcome\"")), "the outcome form is on the page");
    let (status, html, _) = b
        .post(&format!("/interviews/{id}/outcome"), &[("held_on", "2099-01-01"), ("outcome", "x"), ("version", "1")])
        .await;
    assert!(status == StatusCode::UNPROCESSABLE_ENTITY && html.contains("请填写已经过去的日期"), "{html}");
    let today = chuangcheng::domain::time::to_local(chuangcheng::domain::time::now_ms()).format("%Y-%m-%d").to_string();
    let (status, _, _) = b
        .post(
            &format!("/interviews/{id}/outcome"),
            &[("held_on", &today), ("outcome", "主要负责人作出书面检查，限期三日整改"), ("version", "1")],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (_, html) = app.login("discipline").await.get("/interviews").await;
    assert!(html.contains("主要负责人作出书面检查") && html.contains(&format!("{today}已约谈")), "{html}");
});

both!(publishing_a_weekly_notice_before_its_week_ends_takes_a_choice, |app: TestApp| async move {
    let admin = app.api_login("admin").await;
    let today = chuangcheng::domain::time::to_local(chuangcheng::domain::time::now_ms()).format("%Y-%m-%d").to_string();
    let (status, n) = admin.post("/api/v1/notices", json!({"kind": "weekly", "class": "unit", "date": today})).await;
    assert_eq!(status, StatusCode::CREATED, "{n}");
    let id = n["id"].as_str().unwrap().to_string();
    let b = app.login("admin").await;
    let (_, html) = b.get(&format!("/notices/{id}")).await;
    assert!(html.contains("提前发布（本期尚未结束"), "the page offers the choice");
    let (status, html, _) = b.post(&format!("/notices/{id}/publish"), &[]).await;
    assert!(status == StatusCode::CONFLICT && html.contains("尚未结束"), "{html}");
    let (status, body) = admin.post(&format!("/api/v1/notices/{id}/publish"), json!({})).await;
    assert_eq!((status, body["error"]["code"].as_str()), (StatusCode::CONFLICT, Some("period_not_ended")));
    let (status, _, _) = b.post(&format!("/notices/{id}/publish"), &[("early", "1")]).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "published early by choice");
});

both!(the_supervisor_adds_a_recheck_photo, |app: TestApp| async move {
    let [_, paper_id, ..] = a_day_of_work(&app).await;
    let s = app.login("supervisor").await;
    let (_, html) = s.get(&format!("/problems/{paper_id}")).await;
    assert!(html.contains("回头看照片（选填"), "the re-check forms take a photo");
    let (status, _, _) = act_on_page(&s, &paper_id, "fail", &[("reason", "仍有积存垃圾")], vec![jpeg_bytes(77)]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let sup = app.api_login("supervisor").await;
    let (_, d) = sup.get(&format!("/api/v1/problems/{paper_id}")).await;
    let kinds: Vec<&str> = d["photos"].as_array().unwrap().iter().map(|p| p["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds.iter().filter(|k| **k == "recheck").count(), 1, "{kinds:?}");
    let (_, html) = s.get(&format!("/problems/{paper_id}")).await;
    assert!(html.contains("id=\"recheck-photos\"") && html.contains("alt=\"回头看照片\""), "shown with the problem");
});

both!(the_office_is_reminded_of_a_year_whose_holidays_nobody_loaded, |app: TestApp| async move {
    use chrono::{Datelike, Weekday};
    let admin = app.api_login("admin").await;
    let lead = app.api_login("lead").await;
    let today = chuangcheng::domain::time::to_local(chuangcheng::domain::time::now_ms()).date_naive();
    let year = today.year();
    // Whatever the date, this year's data is taken away, as if nobody had loaded it.
    for table in ["calendar_days", "calendar_years"] {
        sqlx::query(&format!("DELETE FROM {table} WHERE year = {year}")).execute(&app.db.pool).await.unwrap();
    }
    let next_loaded = app.scalar(&format!("SELECT COUNT(*) FROM calendar_years WHERE year = {}", year + 1)).await > 0;
    let titles = |todo: &Value| -> Option<Vec<String>> {
        let s = todo.as_array().unwrap().iter().find(|s| s["key"] == "holidays_missing")?;
        Some(s["items"].as_array().unwrap().iter().map(|i| i["title"].as_str().unwrap().to_string()).collect())
    };
    let (status, todo) = admin.get("/api/v1/me/todo").await;
    assert_eq!(status, StatusCode::OK, "{todo}");
    let shown = titles(&todo).expect("the office is told the year is missing");
    let mut expected = vec![format!("尚未导入{year}年节假日安排")];
    // Next year is asked for in December only, when it is not loaded.
    if today.month() == 12 && !next_loaded {
        expected.push(format!("尚未导入{}年节假日安排", year + 1));
    }
    assert_eq!(shown, expected, "{todo}");
    let (_, page) = app.login("admin").await.get("/").await;
    assert!(page.contains(&format!("尚未导入{year}年节假日安排")), "the start page shows it");
    let (_, todo) = lead.get("/api/v1/me/todo").await;
    assert_eq!(titles(&todo), None, "a unit is not asked to load holidays");

    // The office loads the years asked for: the reminder is gone.
    for y in [year, year + 1].into_iter().take(expected.len()) {
        // One weekday in October as the year's holiday (validation refuses weekend ones).
        let day = (1..=7)
            .filter_map(|d| chrono::NaiveDate::from_ymd_opt(y, 10, d))
            .find(|d| !matches!(d.weekday(), Weekday::Sat | Weekday::Sun))
            .unwrap();
        let doc = json!({"year": y, "source": "测试", "holidays": [{"date": day.to_string(), "name": "国庆节"}], "workdays": []});
        let (status, e) = admin.put(&format!("/api/v1/calendar/{y}"), doc).await;
        assert_eq!(status, StatusCode::NO_CONTENT, "{e}");
    }
    let (_, todo) = admin.get("/api/v1/me/todo").await;
    assert_eq!(titles(&todo), None, "{todo}");
});

both!(a_supervisor_rechecks_within_its_teams_area, |app: TestApp| async move {
    // 督导二组 (duban04) covers 公园街道. The lead's unit answers for roads inside and outside it.
    let point = |cond: &str| {
        format!(
            "SELECT p.id FROM points p JOIN org_nodes c ON c.id = p.community_id JOIN org_nodes s ON s.id = c.parent_id \
             JOIN users u ON u.unit_id = p.unit_id WHERE u.username = 'lead' AND p.active = 1 AND s.name {cond} \
             ORDER BY p.code LIMIT 1"
        )
    };
    let inside = app.id_of(&point("= '公园街道'")).await;
    // The same unit's road in another street, added by the office.
    copy_outside_park_street(&app, &inside, "PW002").await;
    let office = app.api_login("admin").await;
    let outside = app.id_of(&point("<> '公园街道'")).await;
    let lead = app.api_login("lead").await;
    let mut ids = Vec::new();
    for (n, at) in [&inside, &outside].into_iter().enumerate() {
        let p = office
            .file_ok(json!({"point_id": at, "category": "乱堆乱放", "description": format!("人行道堆放杂物{n}"),
                "source": "supervision", "allow_duplicate": true}))
            .await;
        let id = p["id"].as_str().unwrap().to_string();
        lead.act_ok(&id, "acknowledge", json!({})).await;
        lead.act_ok(&id, "submit_fix", json!({"note": "已清理", "photos": [photo(80 + n as u8)]})).await;
        ids.push(id);
    }
    let (inside_id, outside_id) = (&ids[0], &ids[1]);
    let sup = app.api_login("duban04").await;
    // Its start page and its round list the fix in its area, not the other.
    let (_, todo) = sup.get("/api/v1/me/todo").await;
    let s = section(&todo, "recheck");
    let listed: Vec<&str> = s["items"].as_array().unwrap().iter().map(|i| i["href"].as_str().unwrap()).collect();
    assert!(listed.contains(&format!("/problems/{inside_id}").as_str()), "{s}");
    assert!(!listed.contains(&format!("/problems/{outside_id}").as_str()), "{s}");
    let more = s["more"].as_str().unwrap();
    assert!(more.contains("team=1"), "{more}");
    assert_eq!(ledger_total(&sup, more).await, s["total"].as_i64().unwrap(), "the counter opens its records");
    let everywhere = ledger_total(&sup, "/problems?state=submitted").await;
    assert!(everywhere > s["total"].as_i64().unwrap(), "the ledger still reads the city: {everywhere}");
    let (_, rounds) = sup.get("/api/v1/rounds").await;
    let recheck: Vec<&str> = rounds["recheck"].as_array().unwrap().iter().map(|r| r["id"].as_str().unwrap()).collect();
    assert!(recheck.contains(&inside_id.as_str()) && !recheck.contains(&outside_id.as_str()), "{recheck:?}");
    // Outside its area it reads the problem but neither passes nor fails it.
    let (_, d) = sup.get(&format!("/api/v1/problems/{outside_id}")).await;
    assert_eq!(d["allowed_actions"], json!([]), "{d}");
    let (status, e) = sup.act(outside_id, "pass", json!({})).await;
    assert_eq!((status, e["error"]["code"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("outside_team_area")));
    let covering = app.id_of("SELECT COALESCE(MIN(name), '所在区域的督导组或创城办') FROM teams WHERE area_id IS NOT NULL AND area_id <> (SELECT id FROM org_nodes WHERE name = '公园街道')").await;
    assert!(e["error"]["message"].as_str().unwrap().contains(&format!("由{covering}")), "{covering}: {e}");
    let (status, _) = sup.act(outside_id, "fail", json!({"reason": "仍有杂物"})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(app.id_of(&format!("SELECT state FROM problems WHERE id = '{outside_id}'")).await, "submitted");
    let b = app.login("duban04").await;
    let (_, html) = b.get(&format!("/problems/{outside_id}")).await;
    assert!(html.contains("id=\"recheck-elsewhere\"") && !html.contains("id=\"recheck-form\""), "{html}");
    let (_, html) = b.get("/problems").await;
    assert!(html.contains("name=\"team\""), "the ledger offers 本组督导区域");
    // Inside it, it re-checks; the office re-checks anywhere.
    let (_, d) = sup.get(&format!("/api/v1/problems/{inside_id}")).await;
    assert_eq!(d["allowed_actions"], json!(["pass", "fail"]), "{d}");
    let (_, html) = b.get(&format!("/problems/{inside_id}")).await;
    assert!(html.contains("id=\"recheck-form\"") && !html.contains("id=\"recheck-elsewhere\""), "{html}");
    assert_eq!(sup.act(inside_id, "pass", json!({})).await.0, StatusCode::OK);
    assert_eq!(office.act(outside_id, "pass", json!({})).await.0, StatusCode::OK);
});
