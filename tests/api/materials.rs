//! 网上申报: a drive splits the material indicators among their lead units; one indicator goes
//! assigned → uploaded → returned → re-uploaded → accepted, every version kept; bad files are
//! refused by their bytes; other units see nothing; the package zip holds the accepted files
//! under the indicator's folder with its index sheet.

use crate::both;
use crate::fixtures::jpeg_bytes;
use crate::helpers::{Browser, TestApp};
use reqwest::StatusCode;
use std::io::Read;

fn version_of(html: &str) -> String {
    let marker = "name=\"version\" value=\"";
    let at = html.find(marker).expect("a form with its version") + marker.len();
    html[at..].split('"').next().unwrap().to_string()
}

async fn submit(b: &Browser, task: &str, account: &str, files: Vec<(&str, Vec<u8>)>) -> (StatusCode, String) {
    let (_, html) = b.get(&format!("/materials/tasks/{task}")).await;
    let mut form = reqwest::multipart::Form::new()
        .text("_csrf", b.csrf.clone())
        .text("version", version_of(&html))
        .text("account", account.to_string());
    for (name, bytes) in files {
        form = form.part("files", reqwest::multipart::Part::bytes(bytes).file_name(name.to_string()));
    }
    let res = b.client.post(format!("{}/materials/tasks/{task}", b.base)).multipart(form).send().await.unwrap();
    (res.status(), res.text().await.unwrap())
}

fn xlsx_bytes() -> Vec<u8> {
    let mut wb = rust_xlsxwriter::Workbook::new();
    wb.add_worksheet().write_string(0, 0, "主干道亮灯率统计").unwrap();
    wb.save_to_buffer().unwrap()
}

both!(a_material_indicator_is_returned_then_accepted_and_packaged, |app: TestApp| async move {
    let office = app.login("admin").await;
    let (status, html, _) = office.post("/materials", &[("name", ""), ("due_on", "明天")]).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("请填写名称") && html.contains("日期格式应为"));
    let (status, _, to) =
        office.post("/materials", &[("name", "2026年度网上申报材料"), ("due_on", "2026-01-10")]).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{to:?}");
    let materials = app.scalar("SELECT COUNT(*) FROM eval_items i JOIN eval_systems s ON s.id = i.system_id WHERE s.status = 'published' AND i.leg = 'material'").await;
    assert_eq!(app.scalar("SELECT COUNT(*) FROM material_tasks").await, materials, "every material indicator assigned");
    let (task, code): (String, String) = sqlx::query_as(
        "SELECT t.id, i.code FROM material_tasks t JOIN eval_items i ON i.id = t.item_id JOIN units u ON u.id = t.unit_id \
         WHERE u.name = '运河区城市管理综合行政执法局' ORDER BY i.seq LIMIT 1",
    )
    .fetch_one(&app.db.pool)
    .await
    .unwrap();
    // Past its due date and not handed in: overdue on the office's list.
    let (_, list) = office.get("/materials?state=overdue").await;
    assert!(list.contains(&code) && list.contains("逾期"));

    // Another unit cannot see it; the lead unit's refusal keeps the account typed.
    let other = app.login("bank").await;
    assert_eq!(other.get(&format!("/materials/tasks/{task}")).await.0, StatusCode::NOT_FOUND);
    let unit = app.login("unit").await;
    let (status, html) =
        submit(&unit, &task, "已建成数字化城管系统并有效运行", vec![("说明.pdf", b"just text, not a pdf".to_vec())])
            .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("类型不受支持") && html.contains("已建成数字化城管系统并有效运行"), "refused, text kept");
    let (status, html) = submit(&unit, &task, "", vec![]).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("请填写情况说明") && html.contains("请上传至少一份佐证材料"));
    assert_eq!(app.scalar("SELECT COUNT(*) FROM material_files").await, 0, "nothing half-saved");

    // Version 1: a PDF and a photo.
    let pdf = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n".to_vec();
    let (status, _) = submit(
        &unit,
        &task,
        "系统运行报告及案件统计见附件",
        vec![("运行报告.pdf", pdf.clone()), ("现场.jpg", jpeg_bytes(5))],
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    // Returned with a reason (a return without one is refused).
    let (_, html) = office.get(&format!("/materials/tasks/{task}")).await;
    let v = version_of(&html[html.find("review-form").unwrap()..]);
    let (status, html, _) = office
        .post(&format!("/materials/tasks/{task}/review"), &[("decision", "return"), ("reason", ""), ("version", &v)])
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("退回时请写明原因"));
    assert!(html.contains("value=\"return\" checked"), "the decision comes back as chosen");
    let (status, _, _) = office
        .post(
            &format!("/materials/tasks/{task}/review"),
            &[("decision", "return"), ("reason", "缺少2026年案件统计表"), ("version", &v)],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (_, html) = unit.get(&format!("/materials/tasks/{task}")).await;
    assert!(html.contains("缺少2026年案件统计表") && html.contains("第2版"), "the unit sees why and re-uploads");

    // Version 2 with the statistics sheet; accepted.
    let (status, _) =
        submit(&unit, &task, "补充2026年案件统计表", vec![("案件统计.xlsx", xlsx_bytes()), ("运行报告.pdf", pdf)])
            .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (_, html) = office.get(&format!("/materials/tasks/{task}")).await;
    assert!(!html.contains("id=\"return-reason\""), "the old reason stays in the history only");
    assert!(html.contains("已退回：缺少2026年案件统计表"));
    let v = version_of(&html[html.find("review-form").unwrap()..]);
    let (status, _, _) =
        office.post(&format!("/materials/tasks/{task}/review"), &[("decision", "accept"), ("version", &v)]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(app.id_of(&format!("SELECT state FROM material_tasks WHERE id = '{task}'")).await, "accepted");
    assert_eq!(
        app.scalar(&format!("SELECT COUNT(*) FROM material_revisions WHERE task_id = '{task}'")).await,
        2,
        "both versions kept"
    );
    assert_eq!(app.scalar(&format!("SELECT COUNT(*) FROM material_files WHERE task_id = '{task}'")).await, 4);
    assert!(app.scalar(&format!("SELECT COUNT(*) FROM audit_log WHERE object_id = '{task}'")).await >= 3, "audited");
    let (status, _, _) = office
        .post(
            &format!("/materials/tasks/{task}/review"),
            &[("decision", "return"), ("reason", "再看看"), ("version", &v)],
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "accepted is final");
    // A stored PDF downloads as a PDF.
    let pdf_file = app
        .id_of(&format!(
            "SELECT id FROM material_files WHERE task_id = '{task}' AND revision = 2 AND filename LIKE '%.pdf'"
        ))
        .await;
    let res = unit.get_raw(&format!("/materials/files/{pdf_file}")).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["content-type"], "application/pdf");

    // The package: the accepted version's files under the indicator's folder, and the index.
    let drive = app.id_of("SELECT id FROM material_drives").await;
    assert_eq!(unit.get(&format!("/materials/{drive}/package.zip")).await.0, StatusCode::FORBIDDEN);
    let res = office.get_raw(&format!("/materials/{drive}/package.zip")).await;
    assert_eq!(res.status(), StatusCode::OK);
    let bytes = res.bytes().await.unwrap().to_vec();
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).expect("a real zip");
    let names: Vec<String> = zip.file_names().map(str::to_string).collect();
    let folder = names
        .iter()
        .find(|n| n.starts_with(&format!("{code} ")) && n.ends_with("/案件统计.xlsx"))
        .expect("the sheet under its indicator");
    let folder = folder.rsplit_once('/').unwrap().0.to_string();
    assert!(names.contains(&format!("{folder}/运行报告.pdf")) && names.contains(&format!("{folder}/情况说明.txt")));
    assert!(!names.iter().any(|n| n.ends_with("现场.jpg")), "only the accepted version: {names:?}");
    let mut index = Vec::new();
    zip.by_name("目录.xlsx").unwrap().read_to_end(&mut index).unwrap();
    let rows = crate::helpers::xlsx_rows(&index);
    assert_eq!(rows.len() as i64, materials + 1, "every indicator in the index");
    let row = rows.iter().find(|r| r[0] == code).unwrap();
    assert_eq!((row[5].as_str(), row[6].as_str()), ("已通过", "第2版"));
});
