//! Excel exchange for the point registry: a template, and an import that is all or nothing and
//! answers with a row-by-row report (row, column, reason in Chinese).

use super::Ctx;
use super::access::require_admin;
use super::points::{Lookups, PointInput, blank, validate};
use super::sheet::{self, Column, RowError};
use crate::domain::time::now_ms;
use crate::error::AppResult;
use crate::store::points as store;
use serde::Serialize;
use std::collections::{HashMap, HashSet};
use utoipa::ToSchema;

/// The columns, in template order: (header, input field, required).
pub const COLUMNS: [Column; 18] = [
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

#[derive(Debug, Serialize, ToSchema)]
pub struct ImportSummary {
    pub created: usize,
    pub updated: usize,
}

type Point = crate::store::points::Point;

/// A checked row: the point to write and, for an existing code, the stored point it replaces.
type Checked = (Point, Option<Point>);

/// Reads and checks every row; nothing is written unless every row is good.
pub async fn import(ctx: &Ctx<'_>, bytes: &[u8]) -> AppResult<ImportSummary> {
    require_admin(ctx.user)?;
    let rows = sheet::read(bytes, &[(None, &COLUMNS)]).await?.pop().unwrap_or_default();
    let lookups = Lookups::load(ctx.db).await?;
    let existing: HashMap<String, Point> = store::all(ctx.db).await?.into_iter().map(|p| (p.code.clone(), p)).collect();
    let good = check(&lookups, existing, rows).map_err(sheet::rejected)?;
    if good.is_empty() {
        return Err(sheet::file_error("文件中没有数据行"));
    }
    write(ctx, good).await
}

/// Every row checked against the registry (codes already stored are updates).
fn check(
    lookups: &Lookups,
    mut existing: HashMap<String, Point>,
    rows: Vec<sheet::Row>,
) -> Result<Vec<Checked>, Vec<RowError>> {
    let now = now_ms();
    let mut errors = Vec::new();
    let mut seen = HashSet::new();
    let stored: HashSet<String> = existing.keys().cloned().collect();
    let mut good = Vec::new();
    for r in rows {
        let input = row_input(&r, &mut errors);
        let code = input.code.clone();
        if !code.is_empty() && !seen.insert(code.clone()) {
            errors.push(RowError::new("", r.number, "点位编码", format!("点位编码{code}在文件中重复")));
            continue;
        }
        let old = existing.remove(&code);
        // A generated code (32 random bits) is drawn again until it is new to the file and the
        // registry: 100,000 new points would otherwise collide.
        let base = old.clone().unwrap_or_else(|| {
            loop {
                let p = blank(now);
                if !stored.contains(&p.code) && seen.insert(p.code.clone()) {
                    break p;
                }
            }
        });
        match validate(lookups, &input, base) {
            Ok(p) => good.push((p, old)),
            Err(fields) => errors.extend(sheet::field_rows("", r.number, &COLUMNS, fields)),
        }
    }
    if errors.is_empty() { Ok(good) } else { Err(errors) }
}

/// A row's cells as the point form's input; the words of the choice columns checked here.
fn row_input(r: &sheet::Row, errors: &mut Vec<RowError>) -> PointInput {
    let get = |field: &str| r.get(field);
    let mut err = |column: &str, message: String| errors.push(RowError::new("", r.number, column, message));
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
        "" | "WGS84" => "wgs84",
        "GCJ02" => "gcj02",
        _ => {
            err("坐标系", "坐标系应为WGS-84或GCJ-02".into());
            "wgs84"
        }
    };
    PointInput {
        code: get("code"),
        name: get("name"),
        type_id: get("type_id"),
        fixed,
        address: get("address"),
        lng: get("lng"),
        lat: get("lat"),
        coord_system: coord_system.into(),
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
    }
}

/// Writes every checked row in one transaction (each change audited).
async fn write(ctx: &Ctx<'_>, good: Vec<Checked>) -> AppResult<ImportSummary> {
    let (mut created, mut updated) = (0, 0);
    let mut w = ctx.write().await?;
    for (mut p, old) in good {
        match old {
            Some(old) => {
                p.updated_at = w.now;
                super::points::save(&mut w, &old, &mut p, old.version).await?;
                updated += 1;
            }
            None => {
                w.create(&p).await?;
                created += 1;
            }
        }
    }
    w.commit().await?;
    Ok(ImportSummary { created, updated })
}

/// The import template: the header row, an example, and a sheet explaining the allowed values.
pub async fn template(ctx: &Ctx<'_>) -> AppResult<Vec<u8>> {
    let lookups = Lookups::load(ctx.db).await?;
    let unit = lookups.units.first().map(|u| u.1.clone()).unwrap_or_default();
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
        &unit,
        "张三",
        "13800000000",
        "",
        "",
        "",
        "",
        "在用",
        "示例行，导入前请删除",
    ];
    let sheets = [sheet::TemplateSheet {
        name: "点位",
        columns: &COLUMNS,
        examples: vec![example.iter().map(|s| s.to_string()).collect()],
    }];
    let notes = [
        "红色列为必填：点位名称、点位类型、责任单位、负责人、负责人电话",
        "点位编码留空则自动生成；与已有编码相同的行会更新该点位",
        "固定/随机填“固定”或“随机”；状态填“在用”或“已撤销”",
        "经纬度为十进制度；坐标系填WGS-84（手机GPS）或GCJ-02（高德/腾讯地图）",
        "所属社区编码为12位社区编码，留空则按坐标所在网格自动判断",
        "任何一行有错，整份文件都不会导入，系统会列出每一处错误",
    ];
    let lists = [
        ("点位类型", lookups.types.iter().map(|t| t.name.clone()).collect()),
        ("责任单位", lookups.units.iter().map(|u| u.1.clone()).collect()),
    ];
    sheet::template(&sheets, &notes, &lists)
}
