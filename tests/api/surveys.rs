//! Surveys: a resident survey built from the national template (a question added, one refused,
//! one removed), answered once through the public link with a text-message code and 499 times
//! by a surveyor at the door; skip logic drops skipped answers and requires the rest; the Word
//! report carries 知晓率, 支持率 and 满意度 by community as computed by hand. A thematic survey is
//! answered once per unit and summed.

use crate::both;
use crate::helpers::TestApp;
use reqwest::StatusCode;
use std::collections::BTreeMap;

fn survey_id(to: Option<String>) -> String {
    to.unwrap().trim_start_matches("/surveys/").split('?').next().unwrap().to_string()
}

fn version(html: &str) -> String {
    let marker = "name=\"version\" value=\"";
    let at = html.find(marker).unwrap() + marker.len();
    html[at..].split('"').next().unwrap().to_string()
}

/// Resident `i`'s answers: aware unless i.is_multiple_of(5), supporting unless i.is_multiple_of(4), satisfaction
/// (i % 4) + 1 (the dissatisfied also say why).
fn answers(i: usize) -> Vec<(&'static str, String)> {
    let mut a = vec![
        ("a_q1", if i.is_multiple_of(5) { "2" } else { "1" }.to_string()),
        ("a_q2", if i.is_multiple_of(4) { "3" } else { "1" }.to_string()),
        ("a_q3", ((i % 4) + 1).to_string()),
        ("a_q6", ((i % 5) + 1).to_string()),
    ];
    if i % 4 >= 2 {
        a.push(("a_q4", "1".into()));
        a.push(("a_q4", "3".into()));
    }
    a
}

both!(a_resident_survey_of_500_reports_its_rates_by_community, |app: TestApp| async move {
    let office = app.login("admin").await;
    let (status, _, to) =
        office.post("/surveys", &[("name", "2026年市民文明城市创建满意度调查"), ("kind", "resident")]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let id = survey_id(to);
    // The builder: a one-option choice is refused, a scale question is added, q5 is removed.
    let (_, html) = office.get(&format!("/surveys/{id}")).await;
    let (status, html, _) = office
        .post(
            &format!("/surveys/{id}/questions"),
            &[("title", "只有一个选项"), ("kind", "single"), ("options", "唯一"), ("version", &version(&html))],
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("应有2至20个选项"));
    // Skip rules are checked as they are typed: forward only, single choices only, one rule per
    // option; duplicate options refused; the form comes back with what was typed.
    for (kind, options, skips, why) in [
        ("single", "是\n否", "1->q2", "不能跳到q2"),
        ("multi", "是\n否", "1→结束", "只有单选题可以设置跳题规则"),
        ("single", "是\n否", "3→结束", "不存在的选项3"),
        ("single", "是\n否", "1→结束，1->q9", "选项1有两条跳题规则"),
        ("single", "是\n是", "", "选项“是”重复"),
    ] {
        let (status, page, _) = office
            .post(
                &format!("/surveys/{id}/questions"),
                &[
                    ("title", "跳题检查"),
                    ("kind", kind),
                    ("options", options),
                    ("skips", skips),
                    ("version", &version(&html)),
                ],
            )
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{skips}");
        assert!(page.contains(why), "{skips}: {why}");
        assert!(page.contains("value=\"跳题检查\""));
    }
    let (status, _, _) = office
        .post(
            &format!("/surveys/{id}/questions"),
            &[("title", "您对小区环境打几分？"), ("kind", "scale"), ("required", "1"), ("version", &version(&html))],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (_, html) = office.get(&format!("/surveys/{id}")).await;
    assert!(html.contains("编号q6") && html.contains("选1→跳至q5；选2→跳至q5"));
    let (status, _, _) = office
        .post(
            &format!("/surveys/{id}/questions"),
            &[
                ("title", "多余的题"),
                ("kind", "single"),
                ("options", "是\n否"),
                ("skips", "２->结束，1>q9"),
                ("version", &version(&html)),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (_, html) = office.get(&format!("/surveys/{id}")).await;
    assert!(html.contains("选2→结束；选1→跳至q9"));
    // A target never added keeps the survey from opening: the page says which question.
    let (status, page, _) = office.post(&format!("/surveys/{id}/open"), &[]).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("q7（第7题“多余的题”）的跳题目标q9不存在"), "{page}");
    assert!(page.contains("添加题目"));
    let (status, _, _) =
        office.post(&format!("/surveys/{id}/questions/q7/delete"), &[("version", &version(&html))]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (_, html) = office.get(&format!("/surveys/{id}")).await;
    assert!(!html.contains("多余的题"));
    let (status, _, _) = office.post(&format!("/surveys/{id}/open"), &[]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let token = app.id_of(&format!("SELECT token FROM surveys WHERE id = '{id}'")).await;

    let communities: Vec<(String, String)> =
        sqlx::query_as("SELECT id, name FROM org_nodes WHERE level = 'community' ORDER BY code LIMIT 3")
            .fetch_all(&app.db.pool)
            .await
            .unwrap();
    let mut expected: BTreeMap<String, [(u32, u32); 3]> = BTreeMap::new();
    let mut tally = |i: usize| {
        let e = expected.entry(communities[i % 3].1.clone()).or_default();
        e[0].1 += 1;
        e[1].1 += 1;
        e[2].1 += 1;
        e[0].0 += u32::from(!i.is_multiple_of(5));
        e[1].0 += u32::from(!i.is_multiple_of(4));
        e[2].0 += u32::from(i % 4 < 2);
    };

    // Resident 0 answers through the public link with a text-message code.
    let public = app.browser();
    let (status, html) = public.get(&format!("/public/surveys/{token}")).await;
    assert_eq!(status, StatusCode::OK);
    let csrf = crate::helpers::extract_csrf(&html).unwrap();
    let phone = "13912345678";
    let mut fields: Vec<(&str, String)> =
        vec![("_csrf", csrf.clone()), ("community_id", communities[0].0.clone()), ("phone", phone.into())];
    fields.extend(answers(0));
    let mut with = fields.clone();
    with.push(("step", "code".into()));
    let (status, html, _) = public
        .post_raw(&format!("/public/surveys/{token}"), &with.iter().map(|(k, v)| (*k, v.as_str())).collect::<Vec<_>>())
        .await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(html.contains("验证码已发送") && html.contains("value=\"1\" checked"), "what was chosen is kept");
    let sms = app.id_of(&format!("SELECT body FROM sms_outbox WHERE phone = '{phone}'")).await;
    let code: String = sms.split("验证码").nth(1).unwrap().chars().take(6).collect();
    let mut with = fields.clone();
    with.push(("code", code.clone()));
    with.push(("step", "submit".into()));
    let post = |w: Vec<(&'static str, String)>| {
        let public = &public;
        let token = token.clone();
        async move {
            public
                .post_raw(
                    &format!("/public/surveys/{token}"),
                    &w.iter().map(|(k, v)| (*k, v.as_str())).collect::<Vec<_>>(),
                )
                .await
        }
    };
    let (status, _, to) = post(with.clone()).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{to:?}");
    tally(0);
    let (status, html, _) = post(with).await;
    assert_eq!(status, StatusCode::CONFLICT, "one answer per phone");
    assert!(html.contains("已经填写过"));

    // 499 more at the door by the evaluator.
    let ev = app.login("evaluator").await;
    for i in 1..500 {
        let household = format!("幸福小区{}号楼{}室", i / 10, i % 10 + 101);
        let mut f: Vec<(&str, String)> = vec![("community_id", communities[i % 3].0.clone()), ("household", household)];
        f.extend(answers(i));
        let (status, body, _) = ev
            .post(&format!("/surveys/{id}/respond"), &f.iter().map(|(k, v)| (*k, v.as_str())).collect::<Vec<_>>())
            .await;
        assert_eq!(status, StatusCode::SEE_OTHER, "response {i}: {body}");
        tally(i);
    }
    // The dissatisfied must say why; a household is counted once.
    let mut f: Vec<(&str, String)> =
        vec![("community_id", communities[0].0.clone()), ("household", "和平里1号".to_string())];
    f.extend(answers(2).into_iter().filter(|(k, _)| *k != "a_q4"));
    let (status, html, _) =
        ev.post(&format!("/surveys/{id}/respond"), &f.iter().map(|(k, v)| (*k, v.as_str())).collect::<Vec<_>>()).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("请回答“您不满意的主要方面（可多选）”"));
    let mut f: Vec<(&str, String)> =
        vec![("community_id", communities[1].0.clone()), ("household", "幸福小区 ０号楼１０２室".to_string())];
    f.extend(answers(1));
    let (status, html, _) =
        ev.post(&format!("/surveys/{id}/respond"), &f.iter().map(|(k, v)| (*k, v.as_str())).collect::<Vec<_>>()).await;
    assert_eq!(status, StatusCode::CONFLICT, "the same household twice (typed with full-width digits)");
    assert!(html.contains("这一户（手机号或门牌）已经录入过答卷"));
    assert_eq!(app.scalar(&format!("SELECT COUNT(*) FROM survey_responses WHERE survey_id = '{id}'")).await, 500);

    // The rates by community in the Word report, as computed by hand.
    let unit = app.login("unit").await;
    assert_eq!(unit.get(&format!("/surveys/{id}/analysis")).await.0, StatusCode::NOT_FOUND);
    let (status, html) = office.get(&format!("/surveys/{id}/analysis")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("<b id=\"total\">500</b>"));
    let docx = office.get_raw(&format!("/surveys/{id}/report.docx")).await.bytes().await.unwrap().to_vec();
    let text = crate::notices::docx_text(&docx);
    assert!(text.contains("共收回有效问卷500份"), "{text}");
    for (name, rates) in &expected {
        let cells: Vec<String> =
            rates.iter().map(|(p, n)| format!("{:.1}%", (*p as f64 * 1000.0 / *n as f64).round() / 10.0)).collect();
        let row = format!("{name}{}{}", rates[0].1, cells.join(""));
        assert!(text.contains(&row), "{row} in the report");
    }
    let sheet = office.get_raw(&format!("/surveys/{id}/responses.xlsx")).await.bytes().await.unwrap().to_vec();
    assert_eq!(crate::helpers::xlsx_rows(&sheet).len(), 501);
    // The survey's history in the audit log reads in Chinese: its state, its questions counted,
    // the export as an export; no codes, JSON or the public link's token.
    let admin = app.api_login("admin").await;
    let (_, log) = admin.get(&format!("/api/v1/audit?object_id={id}&size=100")).await;
    let lines: Vec<String> = log["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            let changes: Vec<String> = e["changes"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| format!("{}：{} → {}", c["label"].as_str().unwrap(), c["before"], c["after"]))
                .collect();
            format!("{} {}", e["action"].as_str().unwrap(), changes.join("；"))
        })
        .collect();
    let all = lines.join("\n");
    assert!(
        lines.iter().any(|l| l.starts_with("export ") && l.contains("导出内容") && l.contains("答卷明细")),
        "{all}"
    );
    assert!(all.contains("问卷状态") && all.contains("题目"), "{all}");
    for raw in ["draft", "\"open\"", "questions", "token", "opened_at", "[{"] {
        assert!(!all.contains(raw), "{raw}: {all}");
    }
});

both!(a_thematic_survey_is_answered_once_per_unit, |app: TestApp| async move {
    let office = app.login("admin").await;
    let (_, _, to) = office.post("/surveys", &[("name", "银行网点志愿服务专题调研"), ("kind", "thematic")]).await;
    let id = survey_id(to);
    let (_, html) = office.get(&format!("/surveys/{id}")).await;
    let (status, _, _) = office
        .post(
            &format!("/surveys/{id}/questions"),
            &[("title", "志愿服务队人数"), ("kind", "number"), ("required", "1"), ("version", &version(&html))],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    office.post(&format!("/surveys/{id}/open"), &[]).await;
    let bank = app.login("bank").await;
    let (status, html, _) = bank.post(&format!("/surveys/{id}/respond"), &[("a_q1", "十二")]).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("请填写0至1万亿之间的数字"));
    let (status, _, _) = bank.post(&format!("/surveys/{id}/respond"), &[("a_q1", "-3")]).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "a count below zero");
    let (status, html, _) = bank.post(&format!("/surveys/{id}/respond"), &[("a_q1", "99999999999999")]).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "a count past any unit's");
    assert!(html.contains("请填写0至1万亿之间的数字"), "{html}");
    let (_, html) = bank.get(&format!("/surveys/{id}")).await;
    assert!(html.contains("填报本单位问卷") && !html.contains("编号q1"), "the unit reads no question codes");
    assert_eq!(bank.post(&format!("/surveys/{id}/respond"), &[("a_q1", "12")]).await.0, StatusCode::SEE_OTHER);
    // A form opened before the answer was saved does not answer twice.
    assert_eq!(bank.post(&format!("/surveys/{id}/respond"), &[("a_q1", "13")]).await.0, StatusCode::CONFLICT);
    // The unit sees what it answered and corrects it while the survey is open.
    let (_, html) = bank.get(&format!("/surveys/{id}")).await;
    assert!(
        html.contains("本单位答卷") && html.contains("志愿服务队人数：12") && html.contains("修改本单位答卷"),
        "{html}"
    );
    let (_, form) = bank.get(&format!("/surveys/{id}/respond")).await;
    assert!(form.contains("value=\"12\"") && form.contains("保存修改"), "the stored answer to correct: {form}");
    let (status, html, _) =
        bank.post(&format!("/surveys/{id}/respond"), &[("a_q1", "十三"), ("version", &version(&form))]).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("value=\"十三\""), "what was typed is kept: {html}");
    let (status, _, _) = bank.post(&format!("/surveys/{id}/respond"), &[("a_q1", "13"), ("version", "1")]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    // A second correction from the page read before the first is refused, not overwriting it.
    let (status, html, _) = bank.post(&format!("/surveys/{id}/respond"), &[("a_q1", "14"), ("version", "1")]).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(html.contains("已被他人修改"), "{html}");
    let (_, audit) = office.get(&format!("/audit?object_id={id}")).await;
    assert!(
        audit.contains("本单位答卷") && audit.contains("志愿服务队人数：12") && audit.contains("志愿服务队人数：13"),
        "{audit}"
    );
    let unit = app.login("unit").await;
    assert_eq!(unit.post(&format!("/surveys/{id}/respond"), &[("a_q1", "7")]).await.0, StatusCode::SEE_OTHER);
    let (_, html) = office.get(&format!("/surveys/{id}/analysis")).await;
    assert!(html.contains("合计 <b>20</b>") && html.contains("平均值 <b>10</b>"), "summed over the units: {html}");
    let ev = app.login("evaluator").await;
    assert_eq!(
        ev.post(&format!("/surveys/{id}/respond"), &[("a_q1", "8")]).await.0,
        StatusCode::FORBIDDEN,
        "units answer thematic surveys"
    );
});
