//! The problem ledger's keyword search, filters shared by page and API, and keyset paging.

use crate::both;
use crate::fixtures::*;
use crate::helpers::*;
use reqwest::StatusCode;
use serde_json::json;

both!(chinese_keyword_search_codes_and_keyset_paging, |app: TestApp| async move {
    let sup = app.api_login("supervisor").await;
    let admin = app.api_login("admin").await;
    let (point, _) = road_point(&app).await;
    let mut codes = Vec::new();
    let mut ids = Vec::new();
    for text in ["人行道井盖缺失（第88号）", "路面井盖破损下沉（第188号）", "绿化带积存垃圾"]
    {
        let (status, p) = file(
            &sup,
            json!({"point_id": point, "category": "市容环境", "description": text, "source": "supervision"}),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{p}");
        codes.push(p["code"].as_str().unwrap().to_string());
        ids.push(p["id"].as_str().unwrap().to_string());
    }
    // Codes number the day's problems one after another.
    let today = chuangcheng::domain::time::to_local(chuangcheng::domain::time::now_ms()).format("%Y%m%d").to_string();
    let seq: Vec<i64> = codes
        .iter()
        .map(|c| {
            assert!(c.starts_with(&format!("Q{today}")), "{c}");
            c[9..].parse().unwrap()
        })
        .collect();
    assert_eq!((seq[1] - seq[0], seq[2] - seq[1]), (1, 1), "{codes:?}");
    let search = |q: &str| {
        let sup = &sup;
        let q = q.to_string();
        async move {
            let (status, v) = sup.get(&format!("/api/v1/problems?q={}", urlencode(&q))).await;
            assert_eq!(status, StatusCode::OK, "{v}");
            let mut found: Vec<String> =
                v["items"].as_array().unwrap().iter().map(|r| r["id"].as_str().unwrap().to_string()).collect();
            found.sort();
            found
        }
    };
    let sorted = |mut v: Vec<String>| {
        v.sort();
        v
    };
    // Searched before and after the background indexer has seen them: the same answers.
    for round in 0..2 {
        if round == 1 {
            while chuangcheng::store::problems::index_pending(&app.db).await.unwrap() > 0 {}
        }
        assert_eq!(search("井盖").await, sorted(vec![ids[0].clone(), ids[1].clone()]), "round {round}");
        assert_eq!(search("井盖  破损").await, vec![ids[1].clone()], "every term must match");
        assert_eq!(search("盖破").await, vec![ids[1].clone()], "any substring");
        assert_eq!(search("井").await, sorted(vec![ids[0].clone(), ids[1].clone()]), "one character scans");
        assert_eq!(search(&codes[2].to_lowercase()).await, vec![ids[2].clone()], "a complete code");
        assert_eq!(search("井盖垃圾").await, Vec::<String>::new());
        // A number quoted whole is a word of the index; a piece of one is found too.
        assert_eq!(search("第88号").await, vec![ids[0].clone()], "round {round}");
        assert_eq!(search("（第188号）").await, vec![ids[1].clone()], "round {round}");
        assert_eq!(search("88号").await, sorted(vec![ids[0].clone(), ids[1].clone()]), "round {round}");
        let (_, v) = sup.get(&format!("/api/v1/problems?q={}", urlencode("第188号"))).await;
        assert_eq!((v["total"].as_i64(), v["total_exact"].as_bool()), (Some(1), Some(true)), "counted: {v}");
    }
    // Renaming the point re-indexes its problems: they are found by the new name.
    let (_, pt) = admin.get(&format!("/api/v1/points/{point}")).await;
    let type_id = app.id_of(&format!("SELECT type_id FROM points WHERE id = '{point}'")).await;
    let community = app.id_of(&format!("SELECT community_id FROM points WHERE id = '{point}'")).await;
    let version = app.scalar(&format!("SELECT version FROM points WHERE id = '{point}'")).await;
    let body = json!({"code": pt["code"], "name": "解放路龙凤桥段", "type_id": type_id, "fixed": pt["fixed"] == 1,
        "address": pt["address"], "lng": pt["lng"].to_string(), "lat": pt["lat"].to_string(), "community_id": community,
        "unit_id": pt["unit_id"], "lead_name": pt["lead_name"], "lead_phone": pt["lead_phone"], "backup_name": pt["backup_name"],
        "backup_phone": pt["backup_phone"], "guarantor_name": pt["guarantor_name"], "guarantor_phone": pt["guarantor_phone"],
        "active": true, "note": pt["note"], "version": version});
    let (status, v) = admin.put(&format!("/api/v1/points/{point}"), body).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(search("龙凤桥").await.len(), 3);

    // Keyset paging: two pages of two, newest first; back again; the other order.
    let (_, p1) = sup.get("/api/v1/problems?size=2").await;
    assert_eq!(p1["total"], 3);
    let first: Vec<&str> = p1["items"].as_array().unwrap().iter().map(|r| r["id"].as_str().unwrap()).collect();
    assert_eq!(first, [ids[2].as_str(), ids[1].as_str()]);
    assert!(p1["prev_cursor"].is_null());
    let next = p1["next_cursor"].as_str().unwrap().to_string();
    let (_, p2) = sup.get(&format!("/api/v1/problems?size=2&after={next}")).await;
    let second: Vec<&str> = p2["items"].as_array().unwrap().iter().map(|r| r["id"].as_str().unwrap()).collect();
    assert_eq!(second, [ids[0].as_str()]);
    assert!(p2["next_cursor"].is_null());
    let prev = p2["prev_cursor"].as_str().unwrap().to_string();
    let (_, back) = sup.get(&format!("/api/v1/problems?size=2&before={prev}")).await;
    assert_eq!(back["items"], p1["items"]);
    let (_, asc) = sup.get("/api/v1/problems?size=2&sort=found_asc").await;
    assert_eq!(asc["items"][0]["id"], ids[0].as_str());
    let (status, e) = sup.get("/api/v1/problems?after=garbage").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(e["error"]["code"], "invalid_cursor");
    assert!(e["error"]["message"].as_str().unwrap().contains("翻页参数无效"));
    // The page refuses the same bad filters with the same Chinese message (one query type for both).
    let b = app.login("supervisor").await;
    for bad in ["sort=sideways", "state=lost", "source=rumour", "overdue=maybe", "from=2026-13-01"] {
        let (status, e) = sup.get(&format!("/api/v1/problems?{bad}")).await;
        assert!(status.is_client_error() && e["error"]["code"].is_string(), "{bad}: {e}");
        let message = e["error"]["message"].as_str().unwrap().to_string();
        let (page_status, html) = b.get(&format!("/problems?{bad}")).await;
        assert_eq!(page_status, status, "{bad}");
        assert!(
            html.contains(&message) && html.contains("问题台账"),
            "{bad}: the page says “{message}” above its filter bar"
        );
    }
    let (status, e) = sup.get("/api/v1/problems?sort=sideways").await;
    assert_eq!((status, e["error"]["code"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_sort")));
    // The page walks the same way, with a page number for people.
    let (_, html) = b.get("/problems?size=2").await;
    assert!(html.contains("共 3 条，第 1/2 页"), "{html}");
    let href = html
        .split("href=\"?")
        .find(|s| s.contains("after="))
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .replace("&#38;", "&")
        .replace("&amp;", "&");
    let (_, html) = b.get(&format!("/problems?{href}")).await;
    assert!(
        html.contains("第 2/2 页") && html.contains(&format!("/problems/{}", ids[0])),
        "{href} {}",
        html.split("class=\"pager\"").nth(1).unwrap_or("")
    );
    assert!(!html.contains(&format!("/problems/{}\"", ids[2])));
});

fn urlencode(s: &str) -> String {
    s.bytes().map(|b| if b.is_ascii_alphanumeric() { (b as char).to_string() } else { format!("%{b:02X}") }).collect()
}

both!(broad_filters_are_counted_to_a_cap_and_common_words_are_found_row_by_row, |app: TestApp| async move {
    use chuangcheng::store::problems::{self as store, Problem};
    use chuangcheng::store::record::Insert;
    let sup = app.api_login("supervisor").await;
    let admin = app.api_login("admin").await;
    let (point, item) = road_point(&app).await;
    let filed = sup
        .file_ok(json!({"point_id": point, "standard_item_id": item, "description": "人行道井盖缺失", "source": "supervision"}))
        .await;
    let template = store::get(&app.db, filed["id"].as_str().unwrap()).await.unwrap().unwrap();
    let point_name = app.id_of(&format!("SELECT name FROM points WHERE id = '{point}'")).await;
    // 10,500 older problems at the point: every fourth about a manhole cover (井盖), three about
    // a bridge (龙凤桥), the rest about rubbish.
    let start = template.found_at - 30 * 86_400_000;
    let mut tx = app.db.begin().await.unwrap();
    for i in 0..10_500i64 {
        let description = match i {
            5..=7 => format!("龙凤桥下积水第{i}处"),
            _ if i % 4 == 0 => format!("井盖缺失第{i}处"),
            _ => format!("积存垃圾第{i}处"),
        };
        let at = start + i * 60_000;
        let p = Problem {
            id: chuangcheng::domain::ids::new_id(),
            code: format!("T{i:09}"),
            description,
            found_at: at,
            created_at: at,
            updated_at: at,
            ..template.clone()
        };
        let p = Problem { search_text: store::search_text(&p, &point_name), ..p };
        p.insert(&mut tx).await.unwrap();
    }
    tx.commit().await.unwrap();
    while store::index_pending(&app.db).await.unwrap() > 0 {}

    // Everything: counted up to 10,000, then "more than".
    let (status, all) = admin.get("/api/v1/problems?size=20").await;
    assert_eq!(status, StatusCode::OK, "{all}");
    assert_eq!((all["total"].as_i64(), all["total_exact"].as_bool()), (Some(10_000), Some(false)));
    let b = app.login("admin").await;
    let (_, html) = b.get("/problems").await;
    assert!(html.contains("超过 10000 条，第 1 页"), "the page says the count stopped");
    // A narrow filter is counted exactly.
    let (_, rare) = admin.get(&format!("/api/v1/problems?q={}", urlencode("龙凤桥"))).await;
    assert_eq!((rare["total"].as_i64(), rare["total_exact"].as_bool()), (Some(3), Some(true)), "{rare}");
    let codes: Vec<&str> = rare["items"].as_array().unwrap().iter().map(|r| r["code"].as_str().unwrap()).collect();
    assert_eq!(codes, ["T000000007", "T000000006", "T000000005"]);
    // A common word (2,624 matches): counted to 1,000; its pages are the newest matches in order,
    // page after page, exactly as when every match is read.
    let expected: Vec<String> = std::iter::once(filed["code"].as_str().unwrap().to_string())
        .chain((0..10_500).rev().filter(|i| i % 4 == 0 && !(5..=7).contains(i)).map(|i| format!("T{i:09}")))
        .take(40)
        .collect();
    let (_, p1) = admin.get(&format!("/api/v1/problems?q={}&size=20", urlencode("井盖"))).await;
    assert_eq!((p1["total"].as_i64(), p1["total_exact"].as_bool()), (Some(1_000), Some(false)));
    let next = p1["next_cursor"].as_str().unwrap();
    let (_, p2) = admin.get(&format!("/api/v1/problems?q={}&size=20&after={next}", urlencode("井盖"))).await;
    let got: Vec<String> = [&p1, &p2]
        .iter()
        .flat_map(|p| p["items"].as_array().unwrap().iter().map(|r| r["code"].as_str().unwrap().to_string()))
        .collect();
    assert_eq!(got, expected);
    // Two words, one common and one absent: nothing.
    let (_, none) = admin.get(&format!("/api/v1/problems?q={}", urlencode("井盖 龙凤桥"))).await;
    assert_eq!((none["total"].as_i64(), none["total_exact"].as_bool()), (Some(0), Some(true)), "{none}");
});
