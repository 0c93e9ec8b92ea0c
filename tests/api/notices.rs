//! Notices (通报): the daily brief, the weekly notice list, Word documents, interviews.

use crate::both;
use crate::fixtures::*;
use crate::helpers::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

both!(the_daily_brief_ranks_the_week_up_to_its_day, |app: TestApp| async move {
    let sup = app.api_login("supervisor").await;
    let admin = app.api_login("admin").await;
    let (point, item) = road_point(&app).await;
    let unit = app.id_of(&format!("SELECT unit_id FROM points WHERE id = '{point}'")).await;
    let (monday, _) = last_week();
    let tuesday = monday + chrono::Duration::days(1);
    let thursday = monday + chrono::Duration::days(3);
    for (d, text) in [(tuesday, "积存垃圾"), (thursday, "又见积存垃圾")] {
        let (status, p) = file(
            &sup,
            json!({"point_id": point, "standard_item_id": item, "description": text, "source": "supervision",
                "found_at": format!("{}T07:05", day(d)), "allow_duplicate": true}),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{p}");
    }
    // Tuesday's brief: the unit's score is base + its entries up to Tuesday midnight.
    let (status, n) =
        admin.post("/api/v1/notices", json!({"kind": "daily", "class": "unit", "date": day(tuesday)})).await;
    assert_eq!(status, StatusCode::CREATED, "{n}");
    let id = n["id"].as_str().unwrap();
    let (_, brief) = admin.get(&format!("/api/v1/notices/{id}")).await;
    let label = format!("本周{}至{}累计", monday.format("%m月%d日"), tuesday.format("%m月%d日"));
    assert_eq!(brief["data"]["ranking_label"], label.as_str());
    assert!(brief["notice"]["body"].as_str().unwrap().contains(&format!("（{label}）")), "{brief}");
    let (_, l) = admin.get(&format!("/api/v1/scoring/unit/ledger/{unit}?period=week&date={}", day(tuesday))).await;
    let wednesday =
        chuangcheng::domain::time::parse_local_day_start(&day(tuesday + chrono::Duration::days(1))).unwrap();
    let entries = l["entries"].as_array().unwrap();
    let upto: i64 =
        entries.iter().filter(|e| e["at"].as_i64().unwrap() < wednesday).map(|e| e["amount"].as_i64().unwrap()).sum();
    let whole: i64 = entries.iter().map(|e| e["amount"].as_i64().unwrap()).sum();
    assert!(whole < upto && upto < 0, "Thursday's find and repeat come later: {l}");
    let pts = |t: i64| if t % 10 == 0 { (t / 10).to_string() } else { format!("{:.1}", t as f64 / 10.0) };
    let row = brief["data"]["ranking"].as_array().unwrap().iter().find(|r| r["last"] == true).unwrap().clone();
    assert_eq!(row["score"], pts(10000 + upto).as_str(), "{row}");
    // The weekly notice of the same week ranks the whole week.
    let w = admin.created("/api/v1/notices", json!({"kind": "weekly", "class": "unit", "date": day(thursday)})).await;
    let (_, weekly) = admin.get(&format!("/api/v1/notices/{}", w["id"].as_str().unwrap())).await;
    // Its title names whom it ranks: the units' and the communities' notices of a week differ.
    let title = weekly["notice"]["title"].as_str().unwrap();
    assert!(title.starts_with("关于") && title.ends_with("各责任单位创建全国文明城市工作情况的通报"), "{title}");
    let row = weekly["data"]["ranking"].as_array().unwrap().iter().find(|r| r["last"] == true).unwrap().clone();
    assert_eq!(row["score"], pts(10000 + whole).as_str(), "{row}");
    // The Word document heads the ranking with the same period.
    let text = docx_text(&notice_docx(&admin, id).await);
    assert!(text.contains(&format!("千分制排名（{label}）")), "{text}");
});

/// The sections a notice has are numbered 一、二、… in order, with no gap for a missing one.
pub fn check_section_numbers(text: &str, class_label: &str) {
    let sections = [
        format!("{class_label}千分制排名"),
        "逾期问题（本期发现、超过整改期限）".into(),
        "典型问题整改前后对比".into(),
        "拟约谈单位".into(),
    ];
    let numerals = ["一", "二", "三", "四"];
    let present: Vec<&String> =
        sections.iter().filter(|s| numerals.iter().any(|n| text.contains(&format!("{n}、{s}")))).collect();
    assert!(present.len() >= 2, "{text}");
    for (i, s) in present.iter().enumerate() {
        assert!(
            text.contains(&format!("{}、{s}", numerals[i])),
            "section {s} should be number {}: {text}",
            numerals[i]
        );
    }
}

/// A notice's Word document, downloaded over the API.
pub async fn notice_docx(api: &Api, id: &str) -> Vec<u8> {
    let res =
        api.client.get(format!("{}/api/v1/notices/{id}/docx", api.base)).bearer_auth(&api.token).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    res.bytes().await.unwrap().to_vec()
}

/// The text of a .docx (the w:t runs of word/document.xml), read with a zip reader.
pub fn docx_text(bytes: &[u8]) -> String {
    use std::io::Read;
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).expect("a .docx is a zip archive");
    assert!(zip.by_name("[Content_Types].xml").is_ok());
    let mut xml = String::new();
    zip.by_name("word/document.xml").expect("word/document.xml").read_to_string(&mut xml).unwrap();
    let mut out = String::new();
    for part in xml.split("<w:t").skip(1) {
        let Some(start) = part.find('>') else { continue };
        if let Some(end) = part.find("</w:t>") {
            out.push_str(&part[start + 1..end]);
        }
    }
    out
}

/// Converts the document with LibreOffice when it is installed (CI installs it and sets
/// CHUANGCHENG_TEST_PDF_REQUIRED), and checks a PDF came out.
pub fn convert_to_pdf_if_possible(docx: &[u8]) {
    let required = std::env::var("CHUANGCHENG_TEST_PDF_REQUIRED").is_ok_and(|v| v == "1");
    let Some(soffice) = ["soffice", "libreoffice"]
        .into_iter()
        .find(|b| std::process::Command::new(b).arg("--version").output().is_ok_and(|o| o.status.success()))
    else {
        assert!(!required, "LibreOffice is required for the PDF check but not installed");
        crate::helpers::skipped("the notice's PDF conversion", "LibreOffice (soffice) is not installed");
        return;
    };
    let dir = std::env::temp_dir().join(format!("notice-{}", uuid::Uuid::now_v7()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("notice.docx"), docx).unwrap();
    let out = std::process::Command::new(soffice)
        .args(["--headless", "--convert-to", "pdf", "--outdir"])
        .arg(&dir)
        .arg(dir.join("notice.docx"))
        .env("HOME", &dir)
        .output()
        .expect("run LibreOffice");
    let pdf = std::fs::read(dir.join("notice.pdf"))
        .unwrap_or_else(|_| panic!("no PDF: {}", String::from_utf8_lossy(&out.stderr)));
    assert!(pdf.starts_with(b"%PDF") && pdf.len() > 5_000, "a real PDF");
    let _ = std::fs::remove_dir_all(&dir);
}

both!(interviews_and_accountability_name_their_facts, |app: TestApp| async move {
    let sup = app.api_login("supervisor").await;
    let admin = app.api_login("admin").await;
    let (point, item) = road_point(&app).await;
    let p = sup
        .file_ok(
            json!({"point_id": point, "standard_item_id": item, "description": "逾期未改", "source": "supervision"}),
        )
        .await;
    let code = p["code"].as_str().unwrap().to_string();
    let unit = p["unit_id"].as_str().unwrap().to_string();
    let other = app.id_of("SELECT id FROM units WHERE name = '运河区住房和城乡建设局'").await;
    // Without facts, with another unit's problem, or with an unknown one: refused, nothing saved.
    let (status, e) =
        admin.post("/api/v1/interviews", json!({"kind": "interview", "unit_id": unit, "reason": "逾期"})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    assert!(e.to_string().contains("请至少关联一个问题"), "{e}");
    let (status, e) = admin
        .post("/api/v1/interviews", json!({"kind": "interview", "unit_id": other, "reason": "x", "problems": [code]}))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(e.to_string().contains("不属于该单位"), "{e}");
    let (status, _) = admin
        .post("/api/v1/interviews", json!({"kind": "trial", "unit_id": unit, "reason": "x", "problems": ["Q000"]}))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(app.scalar("SELECT COUNT(*) FROM interviews").await, 0);
    assert_eq!(
        sup.post(
            "/api/v1/interviews",
            json!({"kind": "interview", "unit_id": unit, "reason": "x", "problems": [code]})
        )
        .await
        .0,
        StatusCode::FORBIDDEN
    );
    let (status, i) = admin
        .post(
            "/api/v1/interviews",
            json!({"kind": "interview", "unit_id": unit, "reason": "问题逾期未整改", "problems": [code]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{i}");
    assert!(i["facts"].as_str().unwrap().contains(&code));
    let id = i["id"].as_str().unwrap();
    let (status, _) =
        admin.put(&format!("/api/v1/interviews/{id}"), json!({"held_at": "2099-01-01", "outcome": "x"})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "not held in the future");
    let today = chuangcheng::domain::time::to_local(chuangcheng::domain::time::now_ms()).format("%Y-%m-%d").to_string();
    let (status, _) = admin
        .put(
            &format!("/api/v1/interviews/{id}"),
            json!({"held_at": today, "outcome": "主要负责人作出书面检查", "version": 1}),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    // The unit sees its own record, another unit does not; the discipline office sees all.
    let (_, mine) = app.api_login("lead").await.get("/api/v1/interviews").await;
    assert_eq!(mine.as_array().unwrap().len(), 1);
    assert_eq!(mine[0]["outcome"], "主要负责人作出书面检查");
    assert_eq!(app.api_login("bank").await.get("/api/v1/interviews").await.1.as_array().unwrap().len(), 0);
    let d = app.login("discipline").await;
    let (_, html) = d.get("/interviews").await;
    assert!(html.contains(&code) && html.contains("问题逾期未整改"));
    assert_eq!(app.scalar(&format!("SELECT COUNT(*) FROM audit_log WHERE object_id = '{id}'")).await, 2);
    // The office's form is prefilled from the unit's overdue problems.
    let (_, html) = app.login("admin").await.get(&format!("/interviews?unit_id={unit}")).await;
    assert!(html.contains("逾期未整改问题"));
});

both!(the_notice_list_filters_pages_and_exports_and_units_see_what_they_have_not_read, |app: TestApp| async move {
    let admin = app.api_login("admin").await;
    let (monday, _) = last_week();
    let earlier = monday - chrono::Duration::days(7);
    let mut made = Vec::new();
    for (kind, class, d) in [
        ("weekly", "unit", earlier),
        ("weekly", "unit", monday),
        ("weekly", "community", monday),
        ("daily", "unit", monday),
    ] {
        let (status, n) = admin.post("/api/v1/notices", json!({"kind": kind, "class": class, "date": day(d)})).await;
        assert_eq!(status, StatusCode::CREATED, "{n}");
        made.push(n["id"].as_str().unwrap().to_string());
    }
    for id in &made[..2] {
        assert_eq!(admin.post(&format!("/api/v1/notices/{id}/publish"), json!({})).await.0, StatusCode::OK);
    }
    // The office pages through everything, newest period first, and filters.
    let ids = |v: &Value| {
        v["items"].as_array().unwrap().iter().map(|n| n["id"].as_str().unwrap().to_string()).collect::<Vec<_>>()
    };
    let (_, p1) = admin.get("/api/v1/notices?size=3").await;
    let (_, p2) = admin.get("/api/v1/notices?size=3&page=2").await;
    assert_eq!((p1["total"].as_i64(), ids(&p1).len(), ids(&p2).len()), (Some(4), 3, 1), "{p1}");
    assert_eq!(ids(&p2), [made[0].clone()], "the oldest period comes last");
    assert!(p1["items"][0].get("body").is_none(), "the list carries no texts");
    for (query, expected) in [
        ("kind=daily", vec![&made[3]]),
        ("class=community", vec![&made[2]]),
        ("status=published&kind=weekly&class=unit", vec![&made[1], &made[0]]),
        ("year=1999", vec![]),
    ] {
        let (status, r) = admin.get(&format!("/api/v1/notices?{query}")).await;
        assert_eq!(status, StatusCode::OK, "{r}");
        let mut got = ids(&r);
        let mut want: Vec<String> = expected.into_iter().cloned().collect();
        got.sort();
        want.sort();
        assert_eq!(got, want, "{query}");
    }
    for (query, code) in [
        ("kind=monthly", "invalid_kind"),
        ("class=moon", "unknown_class"),
        ("status=gone", "invalid_status"),
        ("year=abc", "invalid_year"),
    ] {
        let (status, e) = admin.get(&format!("/api/v1/notices?{query}")).await;
        assert_eq!((status, e["error"]["code"].as_str()), (StatusCode::BAD_REQUEST, Some(code)), "{query}");
        assert!(!e["error"]["message"].as_str().unwrap().is_ascii(), "a Chinese message: {e}");
    }
    // A unit sees published notices only, with its own confirmation; it finds what it has not read.
    let bank = app.api_login("bank").await;
    let (_, r) = bank.get("/api/v1/notices").await;
    assert_eq!(ids(&r), [made[1].clone(), made[0].clone()]);
    assert!(r["items"].as_array().unwrap().iter().all(|n| n["own_read_at"].is_null()));
    assert_eq!(bank.get("/api/v1/notices?status=draft").await.1["total"], 0, "drafts stay the office's");
    bank.post(&format!("/api/v1/notices/{}/read", made[1]), json!({})).await;
    let (_, r) = bank.get("/api/v1/notices?unread=1").await;
    assert_eq!(ids(&r), [made[0].clone()]);
    let (_, r) = bank.get("/api/v1/notices").await;
    assert!(r["items"][0]["own_read_at"].is_i64(), "{r}");
    let (_, r) = admin.get("/api/v1/notices?status=published&size=1").await;
    assert_eq!(r["items"][0]["reads"], 1, "the office sees how many units confirmed: {r}");
    // The pages: filter bar and paging for the office, 未确认 for a unit, a real Excel export.
    let b = app.login("admin").await;
    let (_, html) = b.get("/notices?class=community").await;
    assert!(html.contains("<select name=\"status\">") && html.contains("共 1 条"), "{html}");
    let res = b.get_raw("/notices?status=published&export=xlsx").await;
    assert_eq!(res.status(), StatusCode::OK);
    let rows = crate::helpers::xlsx_rows(&res.bytes().await.unwrap());
    assert_eq!(rows.len(), 3, "a header and the two published notices: {rows:?}");
    assert_eq!(rows[0][0], "期号");
    assert!(rows[1..].iter().any(|r| r[7] == "1"), "{rows:?}");
    let (_, html) = app.login("bank").await.get("/notices").await;
    assert!(html.contains("未确认") && !html.contains("草稿</span>"), "{html}");
    // The start pages point at what needs attention.
    let card = |html: &str, label: &str| {
        let at = html.find(label).unwrap_or_else(|| panic!("no card {label}: {html}"));
        let rest = &html[at..];
        let open = "class=\"num\">";
        let num = &rest[rest.find(open).unwrap() + open.len()..];
        num[..num.find('<').unwrap()].to_string()
    };
    let (_, home) = app.login("bank").await.get("/").await;
    assert_eq!(card(&home, "通报待确认"), "1", "{home}");
    assert!(home.contains("href=\"/notices?unread=1\""));
    assert_eq!(card(&home, "本周千分制得分"), "1000");
    let (_, home) = b.get("/").await;
    assert_eq!(card(&home, "待发布的通报"), "2", "{home}");
    let units = app.scalar("SELECT COUNT(*) FROM units").await;
    assert_eq!(card(&home, "最新通报未确认的单位"), (units - 1).to_string());
    let (status, html) = b.get("/notices?kind=monthly").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(html.contains("通报类型“monthly”无效"), "{html}");
});

both!(a_notice_says_one_set_of_numbers_in_the_office_form, |app: TestApp| async move {
    let sup = app.api_login("supervisor").await;
    let admin = app.api_login("admin").await;
    let b = app.login("admin").await;
    // Late problems: found and filed on the last working day's morning, so past their same-day
    // deadline.
    let (point, item) = road_point(&app).await;
    let other_point = app
        .id_of("SELECT p.id FROM points p JOIN units u ON u.id = p.unit_id WHERE u.name = '运河区园林绿化服务中心' ORDER BY p.code LIMIT 1")
        .await;
    let found_day = last_working_day(&app).await;
    let found_at = format!("{found_day}T07:30");
    let mut late = Vec::new();
    for n in 0..3 {
        let p = sup
            .file_ok(json!({"point_id": point, "standard_item_id": item, "description": format!("积存垃圾{n}"),
            "source": "supervision", "allow_duplicate": true, "found_at": found_at}))
            .await;
        late.push(p["id"].as_str().unwrap().to_string());
    }
    let p = sup
        .file_ok(
            json!({"point_id": other_point, "category": "乱贴乱画", "description": "小广告", "source": "supervision",
        "found_at": found_at}),
        )
        .await;
    late.push(p["id"].as_str().unwrap().to_string());
    app.filed_at_find(&late).await;
    let (status, _, _) = b.post("/escalation/threshold", &[("threshold", "2")]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    // The week of the finds (it may be last week on a Monday).
    let this_day = chrono::NaiveDate::parse_from_str(&found_day, "%Y-%m-%d").unwrap();
    let today = day(this_day);
    let n = admin.created("/api/v1/notices", json!({"kind": "weekly", "class": "unit", "date": today})).await;
    let id = n["id"].as_str().unwrap();
    // The office's own document number, in the year it is issued (today's, in Beijing).
    let year = &day(crate::fixtures::today())[..4];
    let number = n["number"].as_str().unwrap();
    assert!(number.starts_with(&format!("运创城办〔{year}〕")) && number.ends_with('号'), "{number}");
    // Downloaded from the page, the Word file is named by its title, then its number in brackets.
    let res = b.get_raw(&format!("/notices/{id}/docx")).await;
    let disposition = res.headers()["content-disposition"].to_str().unwrap().to_string();
    let encoded = disposition.split("filename*=UTF-8''").nth(1).unwrap();
    let mut bytes = Vec::new();
    let mut rest = encoded.as_bytes();
    while let Some((&c, tail)) = rest.split_first() {
        if c == b'%' {
            bytes.push(u8::from_str_radix(std::str::from_utf8(&tail[..2]).unwrap(), 16).unwrap());
            rest = &tail[2..];
        } else {
            bytes.push(c);
            rest = tail;
        }
    }
    let file = String::from_utf8(bytes).unwrap();
    let title = n["title"].as_str().unwrap();
    assert_eq!(file, format!("{title}（{number}）.docx"));
    // The text, the overdue table and the interviews count the same records.
    let (_, notice) = admin.get(&format!("/api/v1/notices/{id}")).await;
    let d = &notice["data"];
    let rows = d["overdue"].as_array().unwrap();
    assert!(rows.len() >= 4, "{d}");
    assert_eq!(d["late_total"].as_u64().unwrap() as usize, rows.len());
    assert_eq!(d["overdue_open"].as_u64().unwrap() as usize, rows.iter().filter(|r| r["open"] == true).count());
    let body = notice["notice"]["body"].as_str().unwrap();
    assert!(body.contains(&format!("其中{}个超过整改期限", rows.len())), "{body}");
    let interviews = d["interviews"].as_array().unwrap();
    assert!(!interviews.is_empty(), "three late problems pass the threshold of two: {d}");
    for i in interviews {
        let (unit, count) = (i[0].as_str().unwrap(), i[1].as_u64().unwrap() as usize);
        assert_eq!(rows.iter().filter(|r| r["unit"] == unit).count(), count, "{unit}: the table has its {count} cases");
        assert!(body.contains(&format!("{unit}（逾期{count}件）")), "{body}");
    }
    // The escalation page proposes the same units with the same counts for the notice's week,
    // and each count opens its cases in the ledger.
    let local = |ms: i64| chuangcheng::domain::time::to_local(ms).format("%Y-%m-%d").to_string();
    let (from, to) = (
        local(notice["notice"]["period_start"].as_i64().unwrap()),
        local(notice["notice"]["period_end"].as_i64().unwrap() - 1),
    );
    let (_, esc) = admin.get(&format!("/api/v1/escalation?from={from}&to={to}")).await;
    let proposed: Vec<(String, u64)> = esc["interviews"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| (i["unit_name"].as_str().unwrap().to_string(), i["overdue_cases"].as_u64().unwrap()))
        .collect();
    let in_notice: Vec<(String, u64)> =
        interviews.iter().map(|i| (i[0].as_str().unwrap().to_string(), i[1].as_u64().unwrap())).collect();
    assert_eq!(proposed, in_notice, "{esc}");
    let unit_id = esc["interviews"][0]["unit_id"].as_str().unwrap();
    let (_, html) = b.get(&format!("/escalation?from={from}&to={to}")).await;
    let link = format!("/problems?unit_id={unit_id}&amp;from={from}&amp;to={to}&amp;late=1");
    assert!(html.contains(&link), "{html}");
    let (_, cases) = admin.get(&format!("/api/v1/problems?unit_id={unit_id}&from={from}&to={to}&late=1")).await;
    assert_eq!(cases["total"].as_u64(), Some(in_notice[0].1), "{cases}");
    // The period is that of the finds (the three were found on that day and filed today).
    let (_, esc) = admin.get(&format!("/api/v1/escalation?from={found_day}&to={found_day}")).await;
    let lead_unit = app.id_of(&format!("SELECT unit_id FROM points WHERE id = '{point}'")).await;
    let on_the_day = esc["interviews"].as_array().unwrap().iter().find(|i| i["unit_id"] == lead_unit.as_str());
    assert!(on_the_day.is_some_and(|i| i["overdue_cases"].as_i64().unwrap() >= 3), "{esc}");
    // The Word document: a header that fits one line, a full-width red rule, columns by their
    // content, page numbers, and the 版记 with 抄送 and 印发.
    let bytes = notice_docx(&admin, id).await;
    let part = |name: &str| {
        use std::io::Read;
        let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes.clone())).unwrap();
        let mut xml = String::new();
        zip.by_name(name).unwrap_or_else(|_| panic!("{name}")).read_to_string(&mut xml).unwrap();
        xml
    };
    let xml = part("word/document.xml");
    let office = d["office"].as_str().unwrap();
    let run = xml.split(&format!(">{office}</w:t>")).next().unwrap();
    let size: usize = run.rsplit("<w:sz w:val=\"").next().unwrap().split('"').next().unwrap().parse().unwrap();
    let chars = office.chars().count();
    assert!(size / 2 * chars <= 442, "the office's name ({chars} characters at {}pt) fits the 442pt line", size / 2);
    assert!(xml.contains("<w:pBdr>") && xml.contains("w:color=\"FF0000\""), "a red rule across the page");
    let grid: Vec<usize> =
        xml.split("<w:gridCol w:w=\"").skip(1).map(|s| s.split('"').next().unwrap().parse().unwrap()).collect();
    assert!(grid.iter().max() > grid.iter().min(), "columns are not all equal: {grid:?}");
    assert!(xml.contains("footer") || part("[Content_Types].xml").contains("footer"), "a footer");
    let footer = (1..4).map(|i| format!("word/footer{i}.xml")).find_map(|f| {
        use std::io::Read;
        let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes.clone())).unwrap();
        let mut s = String::new();
        zip.by_name(&f).ok()?.read_to_string(&mut s).ok()?;
        Some(s)
    });
    assert!(footer.expect("a footer part").contains("PAGE"), "page numbers");
    let text = docx_text(&bytes);
    assert!(text.contains("抄送：市创城办") && text.contains("运河区创城办") && text.contains("印发"), "{text}");
    convert_to_pdf_if_possible(&bytes);
    // The office changes its prefix and 抄送; the next notice uses them, the change is audited.
    let (status, _, _) = b
        .post("/notices/settings", &[("number_prefix", "运河创城"), ("cc", "市文明办"), ("issuer", "运河区创城办")])
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (status, _, _) = b.post("/notices/settings", &[("number_prefix", ""), ("cc", ""), ("issuer", "x")]).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "a prefix is required");
    let last_week = day(this_day - chrono::Duration::days(7));
    let m = admin.created("/api/v1/notices", json!({"kind": "weekly", "class": "unit", "date": last_week})).await;
    assert!(m["number"].as_str().unwrap().starts_with("运河创城〔"), "{m}");
    let (_, again) = admin.get(&format!("/api/v1/notices/{}", m["id"].as_str().unwrap())).await;
    assert_eq!(again["data"]["cc"], "市文明办");
    let (_, first) = admin.get(&format!("/api/v1/notices/{id}")).await;
    assert_eq!(first["notice"]["number"], number, "a notice keeps the number it was given");
    assert_eq!(app.scalar("SELECT COUNT(*) FROM audit_log WHERE object_id = 'notice_number_prefix'").await, 1);
});

both!(a_published_notice_is_put_right_by_a_numbered_correction, |app: TestApp| async move {
    let admin = app.api_login("admin").await;
    let last_week = day(today() - chrono::Duration::days(7));
    let n = admin.created("/api/v1/notices", json!({"kind": "weekly", "class": "unit", "date": last_week})).await;
    let id = n["id"].as_str().unwrap();
    // A draft is edited, not corrected.
    let (status, e) = admin.post(&format!("/api/v1/notices/{id}/corrections"), json!({"body": "更正"})).await;
    assert_eq!((status, e["error"]["code"].as_str()), (StatusCode::CONFLICT, Some("not_published")));
    let (status, _) = admin.post(&format!("/api/v1/notices/{id}/publish"), json!({})).await;
    assert_eq!(status, StatusCode::OK);
    let original_body = n["body"].as_str().unwrap().to_string();
    // The office corrects it from the notice's page; an empty correction is refused in words.
    let b = app.login("admin").await;
    let (status, html, _) = b.post(&format!("/notices/{id}/correct"), &[("body", "")]).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("更正内容"), "{html}");
    let text = "原通报第一段中“已整改销号1个”有误，应为“已整改销号2个”，特此更正。";
    let (status, _, location) = b.post(&format!("/notices/{id}/correct"), &[("body", text)]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let cid = location.unwrap().trim_start_matches("/notices/").to_string();
    let (_, c) = admin.get(&format!("/api/v1/notices/{cid}")).await;
    let number = n["number"].as_str().unwrap();
    assert_eq!(c["notice"]["number"], format!("{number}（更正1）").as_str());
    assert_eq!(c["notice"]["status"], "published");
    assert_eq!(c["notice"]["corrects_id"], id);
    assert!(c["notice"]["title"].as_str().unwrap().starts_with("关于《"));
    // The original is kept exactly as published, and says it was corrected.
    let (_, o) = admin.get(&format!("/api/v1/notices/{id}")).await;
    assert_eq!(o["notice"]["body"], original_body.as_str());
    let (_, page) = b.get(&format!("/notices/{id}")).await;
    assert!(page.contains("本通报已更正") && page.contains(&format!("{number}（更正1）")));
    let (_, page) = b.get(&format!("/notices/{cid}")).await;
    assert!(page.contains("本文为更正") && page.contains(text));
    // Its Word document is the correction's text under the red header, without the tables.
    let words = docx_text(&notice_docx(&admin, &cid).await);
    assert!(words.contains(text) && words.contains("（更正1）") && !words.contains("千分制排名"), "{words}");
    // A second correction takes the next number; a correction is not corrected itself.
    let c2 =
        admin.created(&format!("/api/v1/notices/{id}/corrections"), json!({"body": "再次更正：排名表无误。"})).await;
    assert_eq!(c2["number"], format!("{number}（更正2）").as_str());
    // Three more sent at the same moment (two offices' staff at once) get three numbers.
    let path = format!("/api/v1/notices/{id}/corrections");
    let sent = futures::future::join_all(
        ["第三次更正。", "第四次更正。", "第五次更正。"].map(|t| admin.post(&path, json!({"body": t}))),
    )
    .await;
    let mut numbers: Vec<String> = sent
        .iter()
        .map(|(status, c)| {
            assert_eq!(*status, StatusCode::CREATED, "{c}");
            c["number"].as_str().unwrap().to_string()
        })
        .collect();
    numbers.sort();
    assert_eq!(numbers, [3, 4, 5].map(|k| format!("{number}（更正{k}）")));
    let (status, _) = admin.post(&format!("/api/v1/notices/{cid}/corrections"), json!({"body": "x"})).await;
    assert_eq!(status, StatusCode::CONFLICT);
    // Units confirm reading a correction like any notice; another generation of the period is
    // still refused (one original per period).
    let lead = app.api_login("lead").await;
    let (status, _) = lead.post(&format!("/api/v1/notices/{cid}/read"), json!({})).await;
    assert!(status.is_success(), "{status}");
    let (status, e) =
        admin.post("/api/v1/notices", json!({"kind": "weekly", "class": "unit", "date": last_week})).await;
    assert_eq!((status, e["error"]["code"].as_str()), (StatusCode::CONFLICT, Some("overlapping_period")));
    assert_eq!(
        app.scalar(&format!("SELECT COUNT(*) FROM audit_log WHERE object_id = '{cid}' AND action = 'create'")).await,
        1
    );
});

both!(the_interview_list_filters_pages_and_exports, |app: TestApp| async move {
    let sup = app.api_login("supervisor").await;
    let admin = app.api_login("admin").await;
    let (point, item) = road_point(&app).await;
    let p = sup
        .file_ok(
            json!({"point_id": point, "standard_item_id": item, "description": "逾期未改", "source": "supervision"}),
        )
        .await;
    let (code, unit) = (p["code"].as_str().unwrap().to_string(), p["unit_id"].as_str().unwrap().to_string());
    let mut first = String::new();
    for n in 0..22 {
        let kind = if n < 3 { "accountability" } else { "interview" };
        let i = admin
            .created(
                "/api/v1/interviews",
                json!({"kind": kind, "unit_id": unit, "reason": format!("第{n}次"), "problems": [code]}),
            )
            .await;
        if n == 0 {
            first = i["id"].as_str().unwrap().to_string();
        }
    }
    let today = day(today());
    let (status, _) = admin
        .put(&format!("/api/v1/interviews/{first}"), json!({"held_at": today, "outcome": "书面检查", "version": 1}))
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let b = app.login("discipline").await;
    let rows = |html: &str| html.matches("<tr><td data-label=\"类型\">").count();
    let (_, html) = b.get("/interviews").await;
    assert_eq!(rows(&html), 20, "a page holds twenty");
    assert!(html.contains("共 22 条，第 1/2 页") && html.contains("下一页"));
    let (_, html) = b.get("/interviews?page=2").await;
    assert_eq!(rows(&html), 2);
    let (_, html) = b.get("/interviews?status=recorded").await;
    assert_eq!(rows(&html), 1);
    assert!(html.contains("书面检查"));
    let (_, html) = b.get("/interviews?kind=accountability").await;
    assert_eq!(rows(&html), 3);
    let (_, html) = b.get(&format!("/interviews?unit={unit}&year=2000")).await;
    assert_eq!(rows(&html), 0);
    let (status, _) = b.get("/interviews?year=abc").await;
    assert!(status.is_client_error(), "a bad year is refused: {status}");
    // Excel: the filtered list, every row.
    let sheets = xlsx_sheets(b.get_raw("/interviews?kind=interview&export=xlsx").await).await;
    assert_eq!(sheets[0].1.len(), 1 + 19, "heading and the nineteen interviews");
    assert_eq!(sheets[0].1[0][0].to_string(), "类型");
});

both!(
    a_week_of_many_late_problems_counts_them_all_and_lists_the_longest_past_the_deadline,
    |app: TestApp| async move {
        // 150 copies of a problem found last Monday, a third still open past the deadline and the
        // rest closed after it by a varying number of days: 151 late problems or more, at two units.
        let sup = app.api_login("supervisor").await;
        let admin = app.api_login("admin").await;
        let (point, item) = road_point(&app).await;
        let other = app
        .id_of("SELECT p.id FROM points p JOIN units u ON u.id = p.unit_id WHERE u.name = '运河区园林绿化服务中心' ORDER BY p.code LIMIT 1")
        .await;
        let (monday, monday_s) = last_week();
        let t = sup
            .file_ok(
                json!({"point_id": point, "standard_item_id": item, "description": "积存垃圾", "source": "supervision",
            "found_at": format!("{monday_s}T07:30")}),
            )
            .await;
        app.filed_at_find(&[t["id"].as_str().unwrap().to_string()]).await;
        bulk_problems(&app, t["id"].as_str().unwrap(), (&point, &other), 150).await;
        // Each copy is its point's unit's.
        sqlx::query("UPDATE problems SET unit_id = (SELECT unit_id FROM points WHERE id = problems.point_id) WHERE id LIKE 'bbbb-%'")
        .execute(&app.db.pool)
        .await
        .unwrap();
        sqlx::query(
        "UPDATE problems SET state = 'closed', closed_at = deadline_at + (CAST(SUBSTR(id, 6) AS INTEGER) % 5) * 86400000 \
         + CAST(SUBSTR(id, 6) AS INTEGER) * 600000 WHERE id LIKE 'bbbb-%' AND CAST(SUBSTR(id, 6) AS INTEGER) % 3 <> 0",
    )
    .execute(&app.db.pool)
    .await
    .unwrap();
        // One more problem of the week, closed within its deadline: not late.
        let on_time = sup
            .file_ok(
                json!({"point_id": point, "standard_item_id": item, "description": "按期整改", "source": "supervision",
                "allow_duplicate": true, "found_at": format!("{monday_s}T07:40")}),
            )
            .await;
        app.filed_at_find(&[on_time["id"].as_str().unwrap().to_string()]).await;
        sqlx::query(&format!(
            "UPDATE problems SET state = 'closed', closed_at = deadline_at - 3600000 WHERE id = '{}'",
            on_time["id"].as_str().unwrap()
        ))
        .execute(&app.db.pool)
        .await
        .unwrap();
        let (status, _, _) = app.login("admin").await.post("/escalation/threshold", &[("threshold", "2")]).await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        let n = admin.created("/api/v1/notices", json!({"kind": "weekly", "class": "unit", "date": monday_s})).await;
        let id = n["id"].as_str().unwrap().to_string();
        let (_, notice) = admin.get(&format!("/api/v1/notices/{id}")).await;
        let d = &notice["data"];

        // What the records say: the week's problems past their deadline, and each one's working
        // hours past it (to its closing, or to now while open).
        let from = chuangcheng::domain::time::parse_local_day_start(&monday_s).unwrap();
        let to = from + 7 * 86_400_000;
        let now = chuangcheng::domain::time::now_ms();
        let late: Vec<(String, String, String, i64, Option<i64>)> = sqlx::query_as(&format!(
        "SELECT q.code, u.name, q.state, q.deadline_at, q.closed_at FROM problems q JOIN units u ON u.id = q.unit_id \
         WHERE q.found_at >= {from} AND q.found_at < {to} AND q.deadline_at IS NOT NULL AND \
         ((q.state = 'closed' AND q.closed_at > q.deadline_at) OR \
          (q.state IN ('dispatched', 'acknowledged', 'submitted') AND q.deadline_at < {now}))"
    ))
    .fetch_all(&app.db.pool)
    .await
    .unwrap();
        let cal = chuangcheng::service::calendar::load(&app.db).await.unwrap();
        let hours = |(_, _, state, deadline, closed): &(String, String, String, i64, Option<i64>)| {
            let until = if state == "closed" { closed.unwrap() } else { now };
            chuangcheng::service::escalation::hours_past(&cal, Some(*deadline), until)
        };
        let open = late.iter().filter(|r| r.2 != "closed").count();
        assert!(late.len() > 150 && open > 40 && open < 100, "{} late, {open} open", late.len());

        // Every one counted; the first hundred listed: the open ones, then the closed ones longest
        // past the deadline.
        assert_eq!(d["late_total"].as_u64(), Some(late.len() as u64), "{d}");
        assert_eq!(d["overdue_open"].as_u64(), Some(open as u64));
        let rows = d["overdue"].as_array().unwrap();
        assert_eq!(rows.len(), 100);
        assert!(rows[..open].iter().all(|r| r["open"] == true) && rows[open..].iter().all(|r| r["open"] == false));
        let listed_hours: Vec<f64> = rows.iter().map(|r| r["hours"].as_f64().unwrap()).collect();
        for part in [&listed_hours[..open], &listed_hours[open..]] {
            assert!(part.windows(2).all(|w| w[0] >= w[1]), "longest past the deadline first: {part:?}");
        }
        let listed: std::collections::HashSet<&str> = rows.iter().map(|r| r["code"].as_str().unwrap()).collect();
        let shortest_listed = listed_hours[99];
        let unlisted: Vec<f64> = late.iter().filter(|r| !listed.contains(r.0.as_str())).map(hours).collect();
        assert_eq!(unlisted.len(), late.len() - 100);
        assert!(unlisted.iter().all(|h| *h <= shortest_listed), "{shortest_listed} listed, unlisted {unlisted:?}");
        assert!(listed_hours[open] > listed_hours[99], "the closed ones differ: {listed_hours:?}");
        for r in rows {
            let fact = late.iter().find(|l| l.0 == r["code"].as_str().unwrap()).unwrap();
            // An open one's hours run on: the notice took them a moment before this test did
            // (one rounding step apart when a minute ticked in between during working hours).
            let tolerance = if fact.2 == "closed" { 0.0 } else { 0.1 + 1e-9 };
            assert!((r["hours"].as_f64().unwrap() - hours(fact)).abs() <= tolerance, "{r}: {}", hours(fact));
            assert_eq!(r["unit"].as_str().unwrap(), fact.1);
        }
        // The interviews count every late problem of a unit, listed or not.
        let interviews = d["interviews"].as_array().unwrap();
        assert_eq!(interviews.len(), 2, "{interviews:?}");
        for i in interviews {
            let unit = i[0].as_str().unwrap();
            assert_eq!(i[1].as_u64().unwrap() as usize, late.iter().filter(|l| l.1 == unit).count(), "{unit}");
        }
        let body = notice["notice"]["body"].as_str().unwrap();
        assert!(body.contains(&format!("其中{}个超过整改期限", late.len())), "{body}");

        // The document, the page and the ledger say how many there are and where to find them all.
        let note = format!("本期逾期问题共{}个，上表列出其中未整改的和超期最久的100个", late.len());
        let text = docx_text(&notice_docx(&admin, &id).await);
        assert!(text.contains(&note), "{text}");
        let (_, html) = app.login("admin").await.get(&format!("/notices/{id}")).await;
        assert!(html.contains(&note), "{html}");
        let sunday = day(monday + chrono::Duration::days(6));
        let link = format!("/problems?from={monday_s}&#38;to={sunday}&#38;late=1");
        assert!(html.contains(&link), "{html}");
        let (status, ledger) = admin.get(&format!("/api/v1/problems?from={monday_s}&to={sunday}&late=1&size=1")).await;
        assert_eq!(status, StatusCode::OK, "{ledger}");
        assert_eq!(ledger["total"].as_u64(), Some(late.len() as u64), "{ledger}");
        let (_, week) = admin.get(&format!("/api/v1/problems?from={monday_s}&to={sunday}&size=1")).await;
        assert!(week["total"].as_u64().unwrap() > late.len() as u64, "the week also holds one closed in time: {week}");
        // On the ledger page a problem closed after its deadline is marked so.
        let (status, page) =
            app.login("admin").await.get(&format!("/problems?from={monday_s}&to={sunday}&late=1")).await;
        assert_eq!(status, StatusCode::OK);
        assert!(page.contains("逾期办结") && page.contains("BULK1<"), "{page}");
        let (status, e) = admin.get("/api/v1/problems?late=yes").await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{e}");
    }
);

both!(a_draft_published_later_states_the_figures_of_its_publication, |app: TestApp| async move {
    let sup = app.api_login("supervisor").await;
    let admin = app.api_login("admin").await;
    let (point, item) = road_point(&app).await;
    let found_day = last_working_day(&app).await;
    let file = |n: usize| {
        let (sup, point, item, found_at) = (&sup, point.clone(), item.clone(), format!("{found_day}T07:30"));
        async move {
            sup.file_ok(json!({"point_id": point, "standard_item_id": item, "description": format!("发布前登记{n}"),
                "source": "supervision", "allow_duplicate": true, "found_at": found_at}))
                .await;
        }
    };
    file(0).await;
    let date = day(chrono::NaiveDate::parse_from_str(&found_day, "%Y-%m-%d").unwrap());
    let found_of = |n: &Value| n["data"]["found"].as_i64().unwrap();
    // The form opens on last week (a week's notice is written once it is over).
    let (_, list) = app.login("admin").await.get("/notices").await;
    let last_week = crate::fixtures::today() - chrono::Days::new(7);
    assert!(list.contains(&format!("name=\"date\" value=\"{}\"", day(last_week))), "{list}");
    // A draft left as written: published after another find, it states the figures then.
    let n = admin.created("/api/v1/notices", json!({"kind": "weekly", "class": "unit", "date": date})).await;
    let id = n["id"].as_str().unwrap().to_string();
    let (_, draft) = admin.get(&format!("/api/v1/notices/{id}")).await;
    let drafted = found_of(&draft);
    file(1).await;
    let (status, published) = admin.post(&format!("/api/v1/notices/{id}/publish?early=true"), json!({})).await;
    assert_eq!(status, StatusCode::OK, "{published}");
    let (_, published) = admin.get(&format!("/api/v1/notices/{id}")).await;
    assert_eq!(found_of(&published), drafted + 1, "{published}");
    let body = published["notice"]["body"].as_str().unwrap();
    assert!(body.contains(&format!("发现各类问题{}个", drafted + 1)), "{body}");
    // A draft whose text the office edited is not rewritten unseen: publishing after a change
    // is refused until it is generated again from the records.
    let c = admin.created("/api/v1/notices", json!({"kind": "weekly", "class": "community", "date": date})).await;
    let cid = c["id"].as_str().unwrap().to_string();
    let edited = format!("{}\n\n（办公室补充：本周开展专项整治。）", c["body"].as_str().unwrap());
    let (status, c) = admin
        .put(&format!("/api/v1/notices/{cid}"), json!({"title": c["title"], "body": edited, "version": c["version"]}))
        .await;
    assert_eq!(status, StatusCode::OK, "{c}");
    file(2).await;
    let (status, refused) = admin.post(&format!("/api/v1/notices/{cid}/publish?early=true"), json!({})).await;
    assert_eq!(status, StatusCode::CONFLICT, "{refused}");
    assert_eq!(refused["error"]["code"], "notice_outdated");
    assert!(refused["error"]["message"].as_str().unwrap().contains("按最新数据重新生成"), "{refused}");
    let (status, fresh) = admin.post(&format!("/api/v1/notices/{cid}/refresh"), json!({"version": c["version"]})).await;
    assert_eq!(status, StatusCode::OK, "{fresh}");
    assert!(!fresh["body"].as_str().unwrap().contains("办公室补充"));
    let (status, _) = admin.post(&format!("/api/v1/notices/{cid}/publish?early=true"), json!({})).await;
    assert_eq!(status, StatusCode::OK);
    let (_, done) = admin.get(&format!("/api/v1/notices/{cid}")).await;
    assert_eq!(found_of(&done), drafted + 2, "{done}");
    // Both steps are in the audit log.
    assert!(app.scalar(&format!("SELECT COUNT(*) FROM audit_log WHERE object_id = '{cid}'")).await >= 4);
    let (_, audit) = admin.get(&format!("/api/v1/audit?object_id={cid}")).await;
    let text = audit.to_string();
    assert!(text.contains("已发布") && !text.contains("现行"), "a notice is 已发布 in the audit log: {text}");
});
