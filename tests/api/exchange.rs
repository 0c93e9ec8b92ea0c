use crate::both;
use crate::helpers::xlsx_rows;
use crate::helpers::*;
use reqwest::StatusCode;
use rust_xlsxwriter::Workbook;

/// Writes sheets of strings into an .xlsx.
fn workbook(sheets: &[(&str, Vec<Vec<String>>)]) -> Vec<u8> {
    let mut wb = Workbook::new();
    for (name, rows) in sheets {
        let ws = wb.add_worksheet();
        ws.set_name(*name).unwrap();
        for (r, row) in rows.iter().enumerate() {
            for (c, v) in row.iter().enumerate() {
                ws.write_string(r as u32, c as u16, v).unwrap();
            }
        }
    }
    wb.save_to_buffer().unwrap()
}

/// All sheets of an .xlsx as rows of strings.
fn sheets(bytes: &[u8]) -> Vec<(String, Vec<Vec<String>>)> {
    use calamine::{Reader, Xlsx};
    let mut wb: Xlsx<_> = Xlsx::new(std::io::Cursor::new(bytes.to_vec())).unwrap();
    wb.sheet_names()
        .into_iter()
        .map(|n| {
            let rows =
                wb.worksheet_range(&n).unwrap().rows().map(|r| r.iter().map(|c| c.to_string()).collect()).collect();
            (n, rows)
        })
        .collect()
}

fn row(cells: &[&str]) -> Vec<String> {
    cells.iter().map(|s| s.to_string()).collect()
}

pub(crate) async fn upload(b: &Browser, path: &str, bytes: Vec<u8>) -> (StatusCode, String) {
    let form = reqwest::multipart::Form::new()
        .text("_csrf", b.csrf.clone())
        .part("file", reqwest::multipart::Part::bytes(bytes).file_name("x.xlsx"));
    let res = b.client.post(format!("{}{path}", b.base)).multipart(form).send().await.unwrap();
    let status = res.status();
    (status, res.text().await.unwrap())
}

both!(units_and_contact_books_round_trip_through_excel, |app: TestApp| async move {
    let b = app.login("admin").await;
    let res = b.get_raw("/units?kind=bank_branch&export=xlsx").await;
    let mut book = sheets(&res.bytes().await.unwrap());
    assert_eq!(book.iter().map(|s| s.0.as_str()).collect::<Vec<_>>(), ["单位", "联系人"]);
    assert_eq!(book[0].1.len(), 8);
    assert_eq!(book[1].1.len(), 1 + 7 * 5, "five contacts per bank branch");
    // Change a phone, add a unit with its contact book.
    book[0].1[1][4] = "0317-2888888".into();
    book[0].1.push(row(&[
        "中国光大银行沧州分行营业部",
        "银行网点",
        "130903005",
        "沧州市运河区永安大道9号",
        "0317-2999000",
        "启用",
        "",
    ]));
    book[1].1.push(row(&["中国光大银行沧州分行营业部", "单位主要负责人", "欧阳明", "行长", "13912349876", ""]));
    let good = workbook(&[("单位", book[0].1.clone()), ("联系人", book[1].1.clone())]);
    // A broken copy first: every problem is reported, nothing is saved.
    let mut units = book[0].1.clone();
    units.push(row(&["运河区教育局", "飞船", "999999", "", "12", "暂停", ""]));
    units.push(row(&["中国光大银行沧州分行营业部", "银行网点", "", "", "", "", ""]));
    let mut contacts = book[1].1.clone();
    contacts.push(row(&["不存在的单位", "部长", "", "", "123", ""]));
    let (status, html) = upload(&b, "/units/import", workbook(&[("单位", units), ("联系人", contacts)])).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    for m in [
        "区域编码999999不存在",
        "在表中重复",
        "既不在“单位”表中也未登记",
        "层级“部长”不存在",
        "请填写姓名",
        "联系电话格式不正确",
    ] {
        assert!(html.contains(m), "{m}");
    }
    assert_eq!(app.scalar("SELECT COUNT(*) FROM units WHERE name = '中国光大银行沧州分行营业部'").await, 0);
    let (status, html) = upload(&b, "/units/import", good).await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(html.contains("新增 1 条，更新 7 条"));
    let first = &book[0].1[1][0];
    assert_eq!(
        app.scalar(&format!("SELECT COUNT(*) FROM units WHERE name = '{first}' AND phone = '0317-2888888'")).await,
        1
    );
    assert_eq!(app.scalar("SELECT COUNT(*) FROM unit_contacts c JOIN units u ON u.id = c.unit_id WHERE u.name = '中国光大银行沧州分行营业部'").await, 1);
    assert_eq!(
        app.scalar(
            "SELECT COUNT(*) FROM unit_contacts c JOIN units u ON u.id = c.unit_id WHERE u.kind = 'bank_branch'"
        )
        .await,
        36
    );
    let res = b.get_raw("/units/template.xlsx").await;
    assert_eq!(res.status(), StatusCode::OK);
    let t = sheets(&res.bytes().await.unwrap());
    assert_eq!(t.iter().map(|s| s.0.as_str()).collect::<Vec<_>>(), ["单位", "联系人", "填写说明"]);
    let unit = app.login("unit").await;
    assert_eq!(upload(&unit, "/units/import", workbook(&[("单位", vec![])])).await.0, StatusCode::FORBIDDEN);
});

both!(grid_attributes_round_trip_through_excel, |app: TestApp| async move {
    let b = app.login("admin").await;
    let res = b.get_raw("/grids?export=xlsx").await;
    let mut rows = xlsx_rows(&res.bytes().await.unwrap());
    assert_eq!(rows[0][..4], ["网格编码", "网格名称", "责任单位", "网格员账号"]);
    assert_eq!(rows.len(), 29);
    let target = rows.iter().position(|r| r[0] == "130903005002001").unwrap();
    rows[target][2] = "运河区民政局".into();
    rows[target][3] = "grid".into();
    let mut bad = rows.clone();
    bad.push(row(&["130903005099001", "无此网格", "", ""]));
    bad[1][3] = "admin".into();
    let (status, html) = upload(&b, "/grids/attributes", workbook(&[("网格", bad)])).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        html.contains("请先导入网格边界")
            && html.contains("不是网格员账号")
            && html.contains("第30行")
            && html.contains("第2行")
    );
    let (status, html) = upload(&b, "/grids/attributes", workbook(&[("网格", rows)])).await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(html.contains("更新 1 条"), "only the changed grid is written");
    let (unit, worker): (String, String) = sqlx::query_as("SELECT u.name, s.username FROM grids g JOIN units u ON u.id = g.unit_id JOIN users s ON s.id = g.worker_id WHERE g.code = '130903005002001'")
        .fetch_one(&app.db.pool).await.unwrap();
    assert_eq!((unit.as_str(), worker.as_str()), ("运河区民政局", "grid"));
});

both!(a_standard_draft_is_filled_from_excel, |app: TestApp| async move {
    let b = app.login("admin").await;
    let res = b.get_raw("/standards?export=xlsx").await;
    let mut rows = xlsx_rows(&res.bytes().await.unwrap());
    assert_eq!(rows.len(), 57);
    let v1 = app.id_of("SELECT id FROM standard_versions WHERE status = 'published'").await;
    let (status, html) = upload(&b, &format!("/standards/{v1}/import"), workbook(&[("标准", rows.clone())])).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(html.contains("只能向草稿版本导入"));
    let (_, _, location) = b.post("/standards/draft", &[("name", "2027版（Excel）")]).await;
    let draft = location.unwrap().split("version=").nth(1).unwrap().split('&').next().unwrap().to_string();
    let garbage = rows.iter().position(|r| r[3] == "暴露垃圾").unwrap();
    rows[garbage][6] = "2".into();
    let mut bad = rows.clone();
    bad.push(row(&["01", "01", "市容环境", "重复", "重复编码", "全部点位", "1", "工作日", "一般", "1", ""]));
    bad.push(row(&["14", "01", "新类", "新项", "要求", "机场", "0", "周", "致命", "abc", ""]));
    let (status, html) = upload(&b, &format!("/standards/{draft}/import"), workbook(&[("标准", bad)])).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    for m in [
        "编码0101在表中重复",
        "点位类型“机场”不存在",
        "处置时限应为1至365的整数",
        "时限单位应为工作时或工作日",
        "严重程度应为轻微、一般或严重",
        "默认扣分应为",
    ] {
        assert!(html.contains(m), "{m}");
    }
    let (status, html) = upload(&b, &format!("/standards/{draft}/import"), workbook(&[("标准", rows)])).await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert_eq!(app.scalar(&format!("SELECT COUNT(*) FROM standard_items WHERE version_id = '{draft}'")).await, 56);
    assert_eq!(
        app.scalar(&format!(
            "SELECT time_limit FROM standard_items WHERE version_id = '{draft}' AND item = '暴露垃圾'"
        ))
        .await,
        2
    );
    assert_eq!(
        app.scalar(&format!("SELECT time_limit FROM standard_items WHERE version_id = '{v1}' AND item = '暴露垃圾'"))
            .await,
        4,
        "the published version is untouched"
    );
});
