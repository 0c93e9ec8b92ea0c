//! Excel exchange for units with their contact books, grid attributes and the standard
//! catalogue. Every import is all or nothing with a row-by-row report; every export reads back.

use super::Ctx;
use super::access::require_admin;
use super::sheet::{self, Column, RowError, TemplateSheet};
use super::units::UnitInput;
use super::write::Write;
use crate::domain::audit::{ObjectType, Verb};
use crate::domain::role::Role;
use crate::domain::standard::ItemInput;
use crate::domain::standard::Publication;
use crate::domain::unit::UnitKind;
use crate::domain::validate::{FieldErrors, optional_text, phone, required_text};
use crate::domain::{ids::new_id, time::now_ms};
use crate::error::{AppError, AppResult, Code};
use crate::store::record::Insert;
use crate::store::units::{self as unit_store, Contact, Unit};
use crate::store::{Db, org, points, standards};
use serde::Serialize;
use serde_json::json;
use std::collections::{HashMap, HashSet};
use utoipa::ToSchema;

pub const UNIT_COLUMNS: [Column; 7] = [
    ("单位名称", "name", true),
    ("单位类型", "kind", true),
    ("所属区域编码", "area", false),
    ("地址", "address", false),
    ("联系电话", "phone", false),
    ("状态", "active", false),
    ("备注", "note", false),
];

pub const CONTACT_COLUMNS: [Column; 6] = [
    ("单位名称", "unit", true),
    ("层级", "level", true),
    ("姓名", "name", true),
    ("职务", "position", false),
    ("联系电话", "phone", true),
    ("备注", "note", false),
];

#[derive(Debug, Serialize, ToSchema)]
pub struct ExchangeSummary {
    pub created: usize,
    pub updated: usize,
    /// Contacts written (units import) or items (standards import)
    pub details: usize,
}

/// The units sheet and the contacts sheet, as rows, for exports and templates.
pub async fn unit_sheets(db: &Db, units: &[Unit]) -> AppResult<(Vec<Vec<String>>, Vec<Vec<String>>)> {
    let areas: HashMap<String, String> = org::all(db).await?.into_iter().map(|n| (n.id, n.code)).collect();
    let mut books: HashMap<String, Vec<Contact>> = HashMap::new();
    for c in unit_store::all_contacts(db).await? {
        books.entry(c.unit_id.clone()).or_default().push(c);
    }
    let mut unit_rows = Vec::new();
    let mut contact_rows = Vec::new();
    for u in units {
        unit_rows.push(vec![
            u.name.clone(),
            u.kind.label().to_string(),
            u.area_id.as_ref().and_then(|a| areas.get(a)).cloned().unwrap_or_default(),
            u.address.clone(),
            u.phone.clone(),
            if u.active == 1 { "启用" } else { "停用" }.into(),
            u.note.clone(),
        ]);
        for c in books.remove(&u.id).unwrap_or_default() {
            contact_rows.push(vec![u.name.clone(), c.level_name, c.name, c.position, c.phone, c.note]);
        }
    }
    Ok((unit_rows, contact_rows))
}

/// A unit row of an import: the unit as it will be stored, and as it is now (None: new).
struct UnitPlan {
    unit: Unit,
    old: Option<Unit>,
}

/// What an import of units and contact books will write, once every row is checked.
#[derive(Default)]
struct UnitsImport {
    plans: Vec<UnitPlan>,
    /// The new contact books, by unit name
    books: HashMap<String, Vec<Contact>>,
    errors: Vec<RowError>,
}

/// Imports units (matched by name) and, for the units named in the 联系人 sheet, replaces their
/// contact books. All or nothing: every bad cell of both sheets is reported.
pub async fn import_units(ctx: &Ctx<'_>, bytes: &[u8]) -> AppResult<ExchangeSummary> {
    require_admin(ctx.user)?;
    let mut sheets = sheet::read(bytes, &[(Some("单位"), &UNIT_COLUMNS), (Some("联系人"), &CONTACT_COLUMNS)]).await?;
    let contact_rows = sheets.pop().unwrap_or_default();
    let unit_rows = sheets.pop().unwrap_or_default();
    let existing: HashMap<String, Unit> =
        unit_store::all(ctx.db).await?.into_iter().map(|u| (u.name.clone(), u)).collect();
    let mut import = UnitsImport::default();
    plan_units(ctx, &unit_rows, &existing, &mut import).await?;
    plan_contacts(ctx, &contact_rows, &existing, &mut import).await?;
    if !import.errors.is_empty() {
        return Err(sheet::rejected(import.errors));
    }
    if import.plans.is_empty() && import.books.is_empty() {
        return Err(sheet::file_error("文件中没有数据行"));
    }
    let mut w = ctx.write().await?;
    let (created, updated) = write_units(&mut w, &mut import.plans).await?;
    let mut ids: HashMap<String, String> = existing.iter().map(|(n, u)| (n.clone(), u.id.clone())).collect();
    ids.extend(import.plans.iter().map(|p| (p.unit.name.clone(), p.unit.id.clone())));
    let mut written = 0;
    for (unit_name, book) in import.books {
        written += replace_book(&mut w, &ids[&unit_name], &unit_name, book).await?;
    }
    w.commit().await?;
    Ok(ExchangeSummary { created, updated, details: written })
}

/// Checks the 单位 sheet: each row becomes a unit to create or update, or errors.
async fn plan_units(
    ctx: &Ctx<'_>,
    rows: &[sheet::Row],
    existing: &HashMap<String, Unit>,
    import: &mut UnitsImport,
) -> AppResult<()> {
    let areas: HashMap<String, String> = org::all(ctx.db).await?.into_iter().map(|n| (n.code, n.id)).collect();
    let mut seen = HashSet::new();
    let now = now_ms();
    for r in rows {
        let err = |column: &str, message: String| RowError::new("单位", r.number, column, message);
        let name = r.get("name");
        if !seen.insert(name.clone()) {
            import.errors.push(err("单位名称", format!("单位“{name}”在表中重复")));
            continue;
        }
        let area_code = r.get("area");
        let area_id = match areas.get(&area_code) {
            _ if area_code.is_empty() => None,
            Some(id) => Some(id.clone()),
            None => {
                import.errors.push(err("所属区域编码", format!("区域编码{area_code}不存在")));
                continue;
            }
        };
        let active = match r.get("active").as_str() {
            "" | "启用" => true,
            "停用" => false,
            other => {
                import.errors.push(err("状态", format!("“{other}”应为“启用”或“停用”")));
                continue;
            }
        };
        let kind = UnitKind::parse_any(&r.get("kind"));
        let input = UnitInput {
            name: name.clone(),
            kind: kind.map(|k| k.as_str().to_string()).unwrap_or_else(|| r.get("kind")),
            // The sheet has no sector column: a unit keeps the one the office set.
            sector: existing.get(&name).and_then(|u| u.sector).map(|s| s.as_str().to_string()).unwrap_or_default(),
            area_id,
            address: r.get("address"),
            phone: r.get("phone"),
            note: r.get("note"),
            active: Some(active),
            version: None,
        };
        let old = existing.get(&name).cloned();
        let base = old.clone().unwrap_or_else(|| super::units::blank(now));
        match super::units::validate(ctx, &input, Unit { updated_at: now, ..base }).await {
            Ok(unit) => import.plans.push(UnitPlan { unit, old }),
            Err(AppError::Validation(f)) => import
                .errors
                .extend(f.0.into_iter().map(|e| err(&sheet::header(&UNIT_COLUMNS, unit_field(&e.field)), e.message))),
            Err(other) => return Err(other),
        }
    }
    Ok(())
}

/// Checks the 联系人 sheet: the new contact book of each unit named there, or errors.
async fn plan_contacts(
    ctx: &Ctx<'_>,
    rows: &[sheet::Row],
    existing: &HashMap<String, Unit>,
    import: &mut UnitsImport,
) -> AppResult<()> {
    let levels = unit_store::contact_levels(ctx.db).await?;
    let now = now_ms();
    for r in rows {
        let mut e = FieldErrors::default();
        let unit_name = r.get("unit");
        if !import.plans.iter().any(|p| p.unit.name == unit_name) && !existing.contains_key(&unit_name) {
            e.add("unit", Code::UnknownUnit, format!("单位“{unit_name}”既不在“单位”表中也未登记"));
        }
        let level = levels.iter().find(|l| l.name == r.get("level"));
        if level.is_none() {
            e.add("level", Code::InvalidLevel, format!("层级“{}”不存在", r.get("level")));
        }
        let name = required_text(&mut e, "name", "姓名", &r.get("name"), 30);
        let position = optional_text(&mut e, "position", "职务", &r.get("position"), 40, false);
        let tel = phone(&mut e, "phone", "联系电话", &r.get("phone"), true);
        let note = optional_text(&mut e, "note", "备注", &r.get("note"), 200, true);
        let Some(level) = level.filter(|_| e.is_empty()) else {
            import.errors.extend(sheet::field_rows("联系人", r.number, &CONTACT_COLUMNS, e));
            continue;
        };
        import.books.entry(unit_name.clone()).or_default().push(Contact {
            id: new_id(),
            unit_id: String::new(),
            unit_name,
            level_id: level.id.clone(),
            level_name: level.name.clone(),
            level_seq: level.seq,
            name,
            position,
            phone: tel,
            note,
            created_at: now,
            updated_at: now,
            version: 1,
        });
    }
    Ok(())
}

/// Creates the new units and updates the others; (created, updated).
async fn write_units(w: &mut Write<'_>, plans: &mut [UnitPlan]) -> AppResult<(usize, usize)> {
    let (mut created, mut updated) = (0, 0);
    for p in plans {
        match &p.old {
            Some(old) => {
                w.update(old, &mut p.unit, old.version).await?;
                updated += 1;
            }
            None => {
                w.create(&p.unit).await?;
                created += 1;
            }
        }
    }
    Ok((created, updated))
}

/// Replaces a unit's contact book, audited as one change; how many contacts were written.
async fn replace_book(w: &mut Write<'_>, unit_id: &str, unit_name: &str, book: Vec<Contact>) -> AppResult<usize> {
    let line = |c: &Contact| format!("{} {} {}", c.level_name, c.name, c.phone);
    let old = unit_store::contacts_in(w.conn(), unit_id).await?;
    unit_store::clear_contacts(w.conn(), unit_id).await?;
    for c in &book {
        Contact { unit_id: unit_id.to_string(), ..c.clone() }.insert(w.conn()).await?;
    }
    let before = json!({"contacts": old.iter().map(line).collect::<Vec<_>>()});
    let after = json!({"contacts": book.iter().map(line).collect::<Vec<_>>()});
    let label = format!("{unit_name} · 通讯录");
    w.audit(Verb::Update, ObjectType::UnitContact, unit_id, &label, Some(before), Some(after)).await?;
    Ok(book.len())
}

fn unit_field(field: &str) -> &str {
    match field {
        "area_id" => "area",
        other => other,
    }
}

pub async fn units_template(ctx: &Ctx<'_>) -> AppResult<Vec<u8>> {
    let levels = unit_store::contact_levels(ctx.db).await?;
    let sheets = [
        TemplateSheet {
            name: "单位",
            columns: &UNIT_COLUMNS,
            examples: vec![vec![
                "示例：运河区某某局".into(),
                "政府部门".into(),
                "130903".into(),
                "沧州市运河区示例路1号".into(),
                "0317-2000000".into(),
                "启用".into(),
                String::new(),
            ]],
        },
        TemplateSheet {
            name: "联系人",
            columns: &CONTACT_COLUMNS,
            examples: vec![vec![
                "示例：运河区某某局".into(),
                levels.first().map(|l| l.name.clone()).unwrap_or_default(),
                "张三".into(),
                "局长".into(),
                "13800000000".into(),
                String::new(),
            ]],
        },
    ];
    let notes = [
        "“单位”表按单位名称匹配：已有单位更新，新名称新增",
        "“联系人”表中出现的单位，其通讯录整体替换为表中各行；未出现的单位通讯录不变",
        "所属区域编码为区县6位、街道9位或社区12位编码",
        "任何一行有错，整份文件都不会导入，系统会列出每一处错误",
    ];
    let lists = [
        ("单位类型", UnitKind::ALL.iter().map(|k| k.label().to_string()).collect()),
        ("联系人层级", levels.into_iter().map(|l| l.name).collect()),
    ];
    sheet::template(&sheets, &notes, &lists)
}

pub const GRID_COLUMNS: [Column; 4] = [
    ("网格编码", "code", true),
    ("网格名称", "name", false),
    ("责任单位", "unit", false),
    ("网格员账号", "worker", false),
];

/// Updates the attributes of existing grids (name, unit, worker); boundaries come from GeoJSON.
pub async fn import_grid_attributes(ctx: &Ctx<'_>, bytes: &[u8]) -> AppResult<ExchangeSummary> {
    require_admin(ctx.user)?;
    let rows = sheet::read(bytes, &[(None, &GRID_COLUMNS)]).await?.pop().unwrap_or_default();
    let grids: HashMap<String, points::Grid> =
        points::grids(ctx.db).await?.into_iter().map(|g| (g.code.clone(), g)).collect();
    let names = GridNames {
        units: unit_store::all_names(ctx.db).await?.into_iter().map(|(id, n)| (n, id)).collect(),
        workers: sqlx::query_as::<_, (String, String)>("SELECT username, id FROM users WHERE role = $1")
            .bind(Role::GridWorker)
            .fetch_all(&ctx.db.pool)
            .await?
            .into_iter()
            .collect(),
    };
    let changes = check_grid_rows(&grids, &names, rows).map_err(sheet::rejected)?;
    if changes.is_empty() {
        return Err(sheet::file_error("文件中没有数据行"));
    }
    let mut w = ctx.write().await?;
    let mut updated = 0;
    for mut new in changes {
        let old = &grids[&new.code];
        if old.name == new.name && old.unit_id == new.unit_id && old.worker_id == new.worker_id {
            continue;
        }
        new.updated_at = w.now;
        w.update(old, &mut new, old.version).await?;
        updated += 1;
    }
    w.commit().await?;
    Ok(ExchangeSummary { created: 0, updated, details: 0 })
}

/// Unit ids by name and grid-worker account ids by username.
struct GridNames {
    units: HashMap<String, String>,
    workers: HashMap<String, String>,
}

/// The grids as the rows would leave them; every bad cell reported.
fn check_grid_rows(
    grids: &HashMap<String, points::Grid>,
    names: &GridNames,
    rows: Vec<sheet::Row>,
) -> Result<Vec<points::Grid>, Vec<RowError>> {
    let mut errors = Vec::new();
    let mut changes = Vec::new();
    let mut seen = HashSet::new();
    for r in rows {
        let mut err = |column: &str, message: String| errors.push(RowError::new("", r.number, column, message));
        let code = r.get("code");
        let Some(g) = grids.get(&code) else {
            err("网格编码", format!("网格{code}不存在，请先导入网格边界"));
            continue;
        };
        if !seen.insert(code.clone()) {
            err("网格编码", format!("网格{code}在表中重复"));
            continue;
        }
        let name = if r.get("name").is_empty() { g.name.clone() } else { r.get("name") };
        if name.chars().count() > 50 {
            err("网格名称", "网格名称不超过50个字".into());
        }
        let mut named = |column: &str, map: &HashMap<String, String>, key: &str, message: String| match key {
            "" => None,
            k => map.get(k).cloned().or_else(|| {
                err(column, message);
                None
            }),
        };
        let unit = r.get("unit");
        let unit_id = named("责任单位", &names.units, &unit, format!("责任单位“{unit}”不存在"));
        let worker = r.get("worker");
        let worker_id = named("网格员账号", &names.workers, &worker, format!("“{worker}”不是网格员账号"));
        changes.push(points::Grid { name, unit_id, worker_id, ..g.clone() });
    }
    if errors.is_empty() { Ok(changes) } else { Err(errors) }
}

pub const STANDARD_COLUMNS: [Column; 11] = [
    ("大类编码", "major_code", true),
    ("小类编码", "minor_code", true),
    ("大类", "category", true),
    ("小类", "item", true),
    ("标准要求", "requirement", true),
    ("适用点位", "point_types", true),
    ("处置时限", "time_limit", true),
    ("时限单位", "time_unit", true),
    ("严重程度", "severity", true),
    ("默认扣分", "deduction", true),
    ("结案标准", "closing_standard", false),
];

/// The catalogue of a version as rows in the import's columns (point types by name).
pub async fn standard_rows(db: &Db, version_id: &str) -> AppResult<Vec<Vec<String>>> {
    let names: HashMap<String, String> = points::types(db).await?.into_iter().map(|t| (t.code, t.name)).collect();
    Ok(standards::items(db, version_id)
        .await?
        .into_iter()
        .map(|stored| {
            let i = stored.spec;
            let types = if i.point_types == "*" {
                "全部点位".to_string()
            } else {
                i.point_types
                    .split(',')
                    .map(|c| names.get(c).cloned().unwrap_or_else(|| c.to_string()))
                    .collect::<Vec<_>>()
                    .join("、")
            };
            vec![
                i.major_code,
                i.minor_code,
                i.category,
                i.item,
                i.requirement,
                types,
                i.time_limit.to_string(),
                i.time_unit.label().into(),
                i.severity.label().into(),
                i.deduction.to_string(),
                i.closing_standard,
            ]
        })
        .collect())
}

/// A standard row as the item form's input (point types named or coded; 全部点位 is all).
fn standard_input(r: &sheet::Row, types: &[points::PointType]) -> ItemInput {
    let named = r.get("point_types");
    let point_types = if named == "全部点位" || named == "*" {
        "*".to_string()
    } else {
        let code = |t: &str| types.iter().find(|x| x.name == t || x.code == t).map(|x| x.code.clone());
        let codes = named.split(['、', ',', '，']).map(str::trim).filter(|s| !s.is_empty());
        codes.map(|t| code(t).unwrap_or_else(|| t.to_string())).collect::<Vec<_>>().join(",")
    };
    ItemInput {
        category: r.get("category"),
        item: r.get("item"),
        major_code: r.get("major_code"),
        minor_code: r.get("minor_code"),
        requirement: r.get("requirement"),
        point_types,
        time_limit: json!(r.get("time_limit")),
        time_unit: r.get("time_unit"),
        severity: r.get("severity"),
        deduction: json!(r.get("deduction")),
        closing_standard: r.get("closing_standard"),
        version: None,
    }
}

/// Replaces a draft's items with a sheet's, all or nothing.
pub async fn import_standard(ctx: &Ctx<'_>, version_id: &str, bytes: &[u8]) -> AppResult<ExchangeSummary> {
    require_admin(ctx.user)?;
    let v = standards::version(ctx.db, version_id).await?.ok_or(AppError::NotFound)?;
    if v.status != Publication::Draft {
        return Err(AppError::refuse(Code::NotDraft, "只能向草稿版本导入标准，请先起草新版本"));
    }
    let rows = sheet::read(bytes, &[(None, &STANDARD_COLUMNS)]).await?.pop().unwrap_or_default();
    let types = points::types(ctx.db).await?;
    let codes: Vec<String> = types.iter().map(|t| t.code.clone()).collect();
    let mut errors = Vec::new();
    let mut items = Vec::new();
    let mut seen = HashSet::new();
    for r in rows {
        match standard_input(&r, &types).validate(&codes) {
            Ok(valid) => {
                let code = format!("{}{}", valid.major_code, valid.minor_code);
                if seen.insert(code.clone()) {
                    items.push(valid);
                } else {
                    errors.push(RowError::new("", r.number, "小类编码", format!("编码{code}在表中重复")));
                }
            }
            Err(f) => errors.extend(sheet::field_rows("", r.number, &STANDARD_COLUMNS, f)),
        }
    }
    if !errors.is_empty() {
        return Err(sheet::rejected(errors));
    }
    if items.is_empty() {
        return Err(sheet::file_error("文件中没有数据行"));
    }
    let mut w = ctx.write().await?;
    let before = standards::items_in(w.conn(), &v.id).await?.len();
    standards::delete_items_of(w.conn(), &v.id).await?;
    let count = items.len();
    for (i, valid) in items.into_iter().enumerate() {
        super::standards::item_from(valid, &v.id, i as i64 + 1).insert(w.conn()).await?;
    }
    let (label, after) = (v.label(), json!({"items": count, "source": "Excel导入"}));
    w.audit(Verb::Update, ObjectType::StandardVersion, &v.id, &label, Some(json!({"items": before})), Some(after))
        .await?;
    w.commit().await?;
    Ok(ExchangeSummary { created: count, updated: 0, details: count })
}
