//! Excel exchange for the point registry: a template, and an import that is all or nothing and
//! answers with a row-by-row report (row, column, reason in Chinese).

use super::Ctx;
use super::access::require_admin;
use super::points::{Lookups, PointInput, blank, duplicate, record, validate};
use crate::domain::time::now_ms;
use crate::error::{AppError, AppResult};
use crate::store::points as store;
use calamine::{Data, Reader, Xlsx};
use rust_xlsxwriter::{Format, Workbook};
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};
use std::io::Cursor;
use utoipa::ToSchema;

/// The columns, in template order: (header, input field, required).
pub const COLUMNS: [(&str, &str, bool); 18] = [
    ("点位编码", "code", false),
    ("点位名称", "name", true),
    ("点位类型", "type_id", true),
    ("固定/随机", "fixed", false),
    ("地址", "address", false),
    ("经度", "lng", false),
    ("纬度", "lat", false),
    ("坐标系", "coord_system", false),
    ("所属社区编码", "community_id", false),
    ("责任单位", "unit_id", true),
    ("负责人", "lead_name", true),
    ("负责人电话", "lead_phone", true),
    ("备用负责人", "backup_name", false),
    ("备用负责人电话", "backup_phone", false),
    ("包保领导", "guarantor_name", false),
    ("包保领导电话", "guarantor_phone", false),
    ("状态", "active", false),
    ("备注", "note", false),
];

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct RowError {
    /// Excel row number (the header is row 1)
    pub row: usize,
    pub column: String,
    pub message: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ImportSummary {
    pub created: usize,
    pub updated: usize,
}

fn rejected(rows: Vec<RowError>) -> AppError {
    let msg = format!("导入文件有{}处错误，已整份拒收，未导入任何数据", rows.len());
    AppError::Rejected("import_rejected", msg, serde_json::to_value(rows).unwrap_or_default())
}

fn file_error(message: &str) -> AppError {
    rejected(vec![RowError { row: 0, column: String::new(), message: message.into() }])
}

/// A cell as text: numbers without a spurious ".0" (phones typed as numbers), dates as text.
fn text(cell: Option<&Data>) -> String {
    match cell {
        None | Some(Data::Empty) => String::new(),
        Some(Data::Float(f)) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
        Some(Data::Float(f)) => f.to_string(),
        Some(Data::Int(i)) => i.to_string(),
        Some(Data::String(s)) => s.trim().to_string(),
        Some(Data::Bool(b)) => b.to_string(),
        Some(other) => other.to_string(),
    }
}

fn header_of(field: &str) -> &'static str {
    COLUMNS.iter().find(|c| c.1 == field).map(|c| c.0).unwrap_or("")
}

/// Reads and checks every row; nothing is written unless every row is good.
pub async fn import(ctx: &Ctx<'_>, bytes: &[u8]) -> AppResult<ImportSummary> {
    require_admin(ctx.user)?;
    let mut wb: Xlsx<_> =
        Xlsx::new(Cursor::new(bytes.to_vec())).map_err(|_| file_error("文件不是有效的Excel（.xlsx）文件"))?;
    let sheet = wb.sheet_names().first().cloned().ok_or_else(|| file_error("Excel文件中没有工作表"))?;
    let range = wb.worksheet_range(&sheet).map_err(|_| file_error("无法读取第一个工作表"))?;
    let mut rows = range.rows();
    let header: Vec<String> = rows.next().map(|r| r.iter().map(|c| text(Some(c))).collect()).unwrap_or_default();
    let index: HashMap<&str, usize> =
        COLUMNS.iter().filter_map(|(h, f, _)| header.iter().position(|x| x == h).map(|i| (*f, i))).collect();
    let missing: Vec<RowError> = COLUMNS
        .iter()
        .filter(|(_, f, req)| *req && !index.contains_key(f))
        .map(|(h, _, _)| RowError {
            row: 1,
            column: h.to_string(),
            message: format!("缺少必填列“{h}”，请使用导入模板"),
        })
        .collect();
    if !missing.is_empty() {
        return Err(rejected(missing));
    }
    let lookups = Lookups::load(ctx.db).await?;
    let mut existing: HashMap<String, crate::store::points::Point> =
        store::all(ctx.db).await?.into_iter().map(|p| (p.code.clone(), p)).collect();
    let now = now_ms();
    let mut errors = Vec::new();
    let mut seen = HashSet::new();
    let mut good = Vec::new();
    for (i, r) in rows.enumerate() {
        let row = i + 2;
        let get = |field: &str| text(index.get(field).and_then(|&c| r.get(c)));
        if COLUMNS.iter().all(|(_, f, _)| get(f).is_empty()) {
            continue;
        }
        let mut err = |column: &str, message: String| errors.push(RowError { row, column: column.into(), message });
        let fixed = match get("fixed").as_str() {
            "" | "固定" | "固定点位" => Some(true),
            "随机" | "随机点位" => Some(false),
            other => {
                err("固定/随机", format!("“{other}”应为“固定”或“随机”"));
                None
            }
        };
        let active = match get("active").as_str() {
            "" | "在用" => Some(true),
            "已撤销" | "撤销" => Some(false),
            other => {
                err("状态", format!("“{other}”应为“在用”或“已撤销”"));
                None
            }
        };
        let coord_system = match get("coord_system").to_uppercase().replace(['-', ' '], "").as_str() {
            "" | "WGS84" => "wgs84".to_string(),
            "GCJ02" => "gcj02".to_string(),
            _ => {
                err("坐标系", "坐标系应为WGS-84或GCJ-02".into());
                "wgs84".to_string()
            }
        };
        let code = get("code");
        if !code.is_empty() && !seen.insert(code.clone()) {
            err("点位编码", format!("点位编码{code}在文件中重复"));
            continue;
        }
        let input = PointInput {
            code: code.clone(),
            name: get("name"),
            type_id: get("type_id"),
            fixed,
            address: get("address"),
            lng: get("lng"),
            lat: get("lat"),
            coord_system,
            community_id: Some(get("community_id")),
            unit_id: get("unit_id"),
            lead_name: get("lead_name"),
            lead_phone: get("lead_phone"),
            backup_name: get("backup_name"),
            backup_phone: get("backup_phone"),
            guarantor_name: get("guarantor_name"),
            guarantor_phone: get("guarantor_phone"),
            active,
            note: get("note"),
            version: None,
        };
        let (base, old) = match existing.remove(&code) {
            Some(p) => (p.clone(), Some((p.clone(), p.version))),
            None => (blank(now), None),
        };
        match validate(&lookups, &input, base) {
            Ok(p) => good.push((p, old)),
            Err(fields) => {
                for f in fields.0 {
                    errors.push(RowError { row, column: header_of(&f.field).to_string(), message: f.message });
                }
            }
        }
    }
    if !errors.is_empty() {
        return Err(rejected(errors));
    }
    if good.is_empty() {
        return Err(file_error("文件中没有数据行"));
    }
    let (mut created, mut updated) = (0, 0);
    let mut tx = ctx.db.begin().await?;
    for (mut p, old) in good {
        match old {
            Some((old, version)) => {
                p.updated_at = now;
                if !store::update(&mut tx, &p, version).await.map_err(duplicate)? {
                    return Err(AppError::stale());
                }
                p.version = version + 1;
                record(ctx, &mut tx, "update", Some(&old), &p, now).await?;
                updated += 1;
            }
            None => {
                store::insert(&mut tx, &p).await.map_err(duplicate)?;
                record(ctx, &mut tx, "create", None, &p, now).await?;
                created += 1;
            }
        }
    }
    tx.commit().await?;
    Ok(ImportSummary { created, updated })
}

/// The import template: the header row, an example, and a sheet explaining the allowed values.
pub async fn template(ctx: &Ctx<'_>) -> AppResult<Vec<u8>> {
    let lookups = Lookups::load(ctx.db).await?;
    let build = || -> Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
        let mut wb = Workbook::new();
        let bold = Format::new().set_bold();
        let ws = wb.add_worksheet();
        ws.set_name("点位")?;
        for (c, (h, _, req)) in COLUMNS.iter().enumerate() {
            let format = if *req { bold.clone().set_font_color(rust_xlsxwriter::Color::Red) } else { bold.clone() };
            ws.write_string_with_format(0, c as u16, *h, &format)?;
        }
        let example = [
            "",
            "解放西路（示例段）",
            "主次干道",
            "固定",
            "沧州市运河区解放西路",
            "116.838600",
            "38.303700",
            "WGS-84",
            "",
            lookups.units.first().map(|u| u.1.as_str()).unwrap_or(""),
            "张三",
            "13800000000",
            "",
            "",
            "",
            "",
            "在用",
            "示例行，导入前请删除",
        ];
        for (c, v) in example.iter().enumerate() {
            ws.write_string(1, c as u16, *v)?;
        }
        ws.set_freeze_panes(1, 0)?;
        ws.autofit();
        let help = wb.add_worksheet();
        help.set_name("填写说明")?;
        help.write_string_with_format(0, 0, "点位类型（可选值）", &bold)?;
        help.write_string_with_format(0, 1, "责任单位（可选值）", &bold)?;
        help.write_string_with_format(0, 2, "说明", &bold)?;
        for (i, t) in lookups.types.iter().enumerate() {
            help.write_string(i as u32 + 1, 0, &t.name)?;
        }
        for (i, u) in lookups.units.iter().enumerate() {
            help.write_string(i as u32 + 1, 1, &u.1)?;
        }
        let notes = [
            "必填列：点位名称、点位类型、责任单位、负责人、负责人电话",
            "点位编码留空则自动生成；与已有编码相同的行会更新该点位",
            "固定/随机填“固定”或“随机”；状态填“在用”或“已撤销”",
            "经纬度为十进制度；坐标系填WGS-84（手机GPS）或GCJ-02（高德/腾讯地图）",
            "所属社区编码为12位社区编码，留空则按坐标所在网格自动判断",
            "任何一行有错，整份文件都不会导入，系统会列出每一处错误",
        ];
        for (i, n) in notes.iter().enumerate() {
            help.write_string(i as u32 + 1, 2, *n)?;
        }
        help.autofit();
        wb.save_to_buffer()
    };
    build().map_err(|e| AppError::Internal(anyhow::anyhow!("template: {e}")))
}
