//! Reading and writing the .xlsx sheets of the Excel exchanges: column lookup by header, cells as
//! text, the all-or-nothing refusal with its row-by-row report, and templates.

use crate::error::AppError;
use calamine::{Data, DataRef, Reader, Xlsx};
use rust_xlsxwriter::{Color, Format, Workbook, XlsxError};

use std::collections::HashMap;
use std::io::{Cursor, Read};

pub use crate::error::RowError;

/// A column of a sheet: header text, key, required.
pub type Column = (&'static str, &'static str, bool);

pub fn rejected(rows: Vec<RowError>) -> AppError {
    AppError::rejected("导入文件", rows)
}

pub fn file_error(message: &str) -> AppError {
    rejected(vec![RowError {
        sheet: String::new(),
        row: 0,
        column: String::new(),
        key: String::new(),
        message: message.into(),
    }])
}

/// A cell as text: numbers without a spurious ".0" (phones typed as numbers).
pub fn text(cell: Option<&Data>) -> String {
    match cell {
        None | Some(Data::Empty) => String::new(),
        Some(Data::Float(f)) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
        Some(Data::Float(f)) => f.to_string(),
        Some(Data::Int(i)) => i.to_string(),
        Some(Data::String(s)) => s.trim().to_string(),
        Some(other) => other.to_string(),
    }
}

/// A data row: its Excel row number and its cells by column key.
pub struct Row {
    pub number: usize,
    cells: HashMap<&'static str, String>,
}

impl Row {
    pub fn get(&self, key: &str) -> String {
        self.cells.get(key).cloned().unwrap_or_default()
    }
}

/// Bounds of an uploaded workbook, checked before anything is allocated for its content: the
/// packed file, the zip's entries and what they unpack to (measured, not as the zip claims),
/// then rows, columns, cell text and all text kept while the sheet is read.
pub mod limits {
    pub const FILE_BYTES: usize = 10 * 1024 * 1024;
    pub const ENTRIES: usize = 1_000;
    pub const UNPACKED_BYTES: u64 = 64 * 1024 * 1024;
    /// Data rows of a sheet (the header is row 1).
    pub const ROWS: u32 = 100_000;
    /// Columns read (cells further right are ignored).
    pub const COLUMNS: u32 = 100;
    pub const CELL_CHARS: usize = 2_000;
    pub const KEPT_TEXT_BYTES: usize = 64 * 1024 * 1024;
}

/// Only this many workbooks are parsed at once (each within the limits above).
static PARSING: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(2);

/// A sheet an import reads: its name (None: the first sheet) and its columns.
pub type Wanted = (Option<&'static str>, &'static [Column]);

/// Reads the wanted sheets of an uploaded workbook, bounded (see `limits`), on a blocking thread,
/// at most two at a time. A bad file is refused with a Chinese message; a bad sheet with its
/// row-by-row report (every sheet's errors together); a reader panic is a refused file, never a
/// dropped connection.
pub async fn read(bytes: &[u8], wanted: &[Wanted]) -> Result<Vec<Vec<Row>>, AppError> {
    if bytes.len() > limits::FILE_BYTES {
        return Err(file_error(&format!(
            "文件过大（约{}MB），Excel导入文件不能超过{}MB",
            bytes.len() / 1024 / 1024 + 1,
            limits::FILE_BYTES / 1024 / 1024
        )));
    }
    let _permit = PARSING.acquire().await.map_err(|e| AppError::Internal(e.into()))?;
    let bytes = bytes.to_vec();
    let wanted = wanted.to_vec();
    tokio::task::spawn_blocking(move || {
        std::panic::catch_unwind(move || read_now(&bytes, &wanted))
            .unwrap_or_else(|_| Err(file_error("文件内容异常，无法读取，请用Excel另存为.xlsx后重试")))
    })
    .await
    .map_err(|e| AppError::Internal(e.into()))?
}

fn read_now(bytes: &[u8], wanted: &[Wanted]) -> Result<Vec<Vec<Row>>, AppError> {
    check_package(bytes)?;
    let mut wb = Xlsx::new(Cursor::new(bytes)).map_err(|_| file_error("文件不是有效的Excel（.xlsx）文件"))?;
    let mut all = Vec::new();
    let mut errors = Vec::new();
    for (name, columns) in wanted {
        match sheet_rows(&mut wb, *name, columns)? {
            Ok(rows) => all.push(rows),
            Err(e) => errors.extend(e),
        }
    }
    if errors.is_empty() { Ok(all) } else { Err(rejected(errors)) }
}

/// The zip container: few entries, and everything unpacks within the budget. Each entry is
/// inflated into a counter (never into memory), so a zip that lies about its sizes is caught.
fn check_package(bytes: &[u8]) -> Result<(), AppError> {
    let not_xlsx = || file_error("文件不是有效的Excel（.xlsx）文件");
    let too_big = || {
        file_error(&format!(
            "文件解压后超过{}MB，可能是异常文件；请删除多余的工作表、图片或空白行后重试",
            limits::UNPACKED_BYTES / 1024 / 1024
        ))
    };
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes)).map_err(|_| not_xlsx())?;
    if zip.len() > limits::ENTRIES {
        return Err(file_error("文件内部条目过多，可能是异常文件"));
    }
    let mut left = limits::UNPACKED_BYTES;
    for i in 0..zip.len() {
        let mut entry = zip.by_index(i).map_err(|_| not_xlsx())?;
        if entry.size() > left {
            return Err(too_big());
        }
        let n = std::io::copy(&mut (&mut entry).take(left + 1), &mut std::io::sink()).map_err(|_| not_xlsx())?;
        if n > left {
            return Err(too_big());
        }
        left -= n;
    }
    Ok(())
}

/// One sheet's data rows, read cell by cell (a sheet's claimed size is never allocated): the
/// header is its first used row; rows below become `Row`s keyed by the columns found there.
fn sheet_rows(
    wb: &mut Xlsx<Cursor<&[u8]>>,
    name: Option<&str>,
    columns: &[Column],
) -> Result<Result<Vec<Row>, Vec<RowError>>, AppError> {
    let sheet_name = match name {
        Some(n) => n.to_string(),
        None => wb.sheet_names().first().cloned().unwrap_or_default(),
    };
    let label = name.unwrap_or("");
    let Ok(mut cells) = wb.worksheet_cells_reader(&sheet_name) else {
        return Ok(Err(vec![RowError::new(label, 0, "", format!("找不到工作表“{sheet_name}”，请使用导入模板"))]));
    };
    let broken = || file_error(&format!("工作表“{sheet_name}”内容损坏，无法读取"));
    let mut grid: std::collections::BTreeMap<u32, HashMap<u32, String>> = Default::default();
    let (mut first_row, mut kept) = (None::<u32>, 0usize);
    while let Some(cell) = cells.next_cell().map_err(|_| broken())? {
        let (r, c) = cell.get_position();
        let first = *first_row.get_or_insert(r);
        if r > first.saturating_add(limits::ROWS) {
            return Err(file_error(&format!(
                "工作表“{sheet_name}”超过{}行数据（第{}行有内容），请分批导入或删除多余的行",
                limits::ROWS,
                r + 1
            )));
        }
        let value = text_of(cell.get_value());
        if c >= limits::COLUMNS || value.is_empty() {
            continue;
        }
        if value.chars().count() > limits::CELL_CHARS {
            return Ok(Err(vec![RowError::new(
                label,
                r as usize + 1,
                &column_name(c),
                format!("单元格内容超过{}字", limits::CELL_CHARS),
            )]));
        }
        kept += value.len();
        if kept > limits::KEPT_TEXT_BYTES {
            return Err(file_error("文件内容过多，请分批导入"));
        }
        grid.entry(r).or_default().insert(c, value);
    }
    Ok(keyed_rows(grid, label, columns))
}

/// Rows keyed by the columns named in the header row (the first row of `grid`).
fn keyed_rows(
    grid: std::collections::BTreeMap<u32, HashMap<u32, String>>,
    label: &str,
    columns: &[Column],
) -> Result<Vec<Row>, Vec<RowError>> {
    let mut it = grid.into_iter();
    let (header_row, header) = it.next().unwrap_or_default();
    let index: Vec<(&'static str, u32)> =
        columns.iter().filter_map(|(h, k, _)| header.iter().find(|(_, x)| x == h).map(|(c, _)| (*k, *c))).collect();
    let missing: Vec<RowError> = columns
        .iter()
        .filter(|(_, k, req)| *req && !index.iter().any(|(x, _)| x == k))
        .map(|(h, _, _)| RowError::new(label, header_row as usize + 1, h, format!("缺少必填列“{h}”，请使用导入模板")))
        .collect();
    if !missing.is_empty() {
        return Err(missing);
    }
    Ok(it
        .filter_map(|(r, mut cells)| {
            let cells: HashMap<&'static str, String> =
                index.iter().filter_map(|(k, c)| cells.remove(c).map(|v| (*k, v))).collect();
            (!cells.is_empty()).then(|| Row { number: r as usize + 1, cells })
        })
        .collect())
}

/// A cell as text, as `text` reads it.
fn text_of(v: &DataRef<'_>) -> String {
    match v {
        DataRef::SharedString(s) => s.trim().to_string(),
        DataRef::String(s) => s.trim().to_string(),
        other => text(Some(&Data::from(other.clone()))),
    }
}

/// The Excel name of a 0-based column (0 → A, 27 → AB).
fn column_name(mut c: u32) -> String {
    let mut name = Vec::new();
    loop {
        name.push(b'A' + (c % 26) as u8);
        if c < 26 {
            break;
        }
        c = c / 26 - 1;
    }
    name.reverse();
    String::from_utf8(name).unwrap_or_default()
}

/// A row's field errors (from a form's validation) as report lines under their column headers.
pub fn field_rows<'a>(
    sheet: &'a str,
    row: usize,
    columns: &'a [Column],
    fields: crate::domain::validate::FieldErrors,
) -> impl Iterator<Item = RowError> + 'a {
    fields.0.into_iter().map(move |f| RowError::new(sheet, row, &header(columns, &f.field), f.message))
}

/// The header of a column key, for error reports.
pub fn header(columns: &[Column], key: &str) -> String {
    columns.iter().find(|c| c.1 == key).map(|c| c.0.to_string()).unwrap_or_else(|| key.to_string())
}

/// A template sheet: headers (required ones in red), example rows, and lists of allowed values.
pub struct TemplateSheet<'a> {
    pub name: &'a str,
    pub columns: &'a [Column],
    pub examples: Vec<Vec<String>>,
}

pub fn template(
    sheets: &[TemplateSheet<'_>],
    notes: &[&str],
    lists: &[(&str, Vec<String>)],
) -> Result<Vec<u8>, AppError> {
    let build = || -> Result<Vec<u8>, XlsxError> {
        let mut wb = Workbook::new();
        let bold = Format::new().set_bold();
        let red = Format::new().set_bold().set_font_color(Color::Red);
        for s in sheets {
            let ws = wb.add_worksheet();
            ws.set_name(s.name)?;
            for (c, (h, _, req)) in s.columns.iter().enumerate() {
                ws.write_string_with_format(0, c as u16, *h, if *req { &red } else { &bold })?;
            }
            for (r, row) in s.examples.iter().enumerate() {
                for (c, v) in row.iter().enumerate() {
                    ws.write_string(r as u32 + 1, c as u16, v)?;
                }
            }
            ws.set_freeze_panes(1, 0)?;
            ws.autofit();
        }
        let help = wb.add_worksheet();
        help.set_name("填写说明")?;
        help.write_string_with_format(0, 0, "说明", &bold)?;
        for (i, n) in notes.iter().enumerate() {
            help.write_string(i as u32 + 1, 0, *n)?;
        }
        for (c, (title, values)) in lists.iter().enumerate() {
            help.write_string_with_format(0, c as u16 + 1, *title, &bold)?;
            for (r, v) in values.iter().enumerate() {
                help.write_string(r as u32 + 1, c as u16 + 1, v)?;
            }
        }
        help.autofit();
        wb.save_to_buffer()
    };
    build().map_err(|e| AppError::Internal(anyhow::anyhow!("template: {e}")))
}

/// A one-sheet workbook of text cells under a bold header (an index inside an export).
pub fn simple(name: &str, head: &[&str], rows: &[Vec<String>]) -> Result<Vec<u8>, AppError> {
    let build = || -> Result<Vec<u8>, XlsxError> {
        let mut wb = Workbook::new();
        let bold = Format::new().set_bold();
        let ws = wb.add_worksheet();
        ws.set_name(name)?;
        for (c, h) in head.iter().enumerate() {
            ws.write_string_with_format(0, c as u16, *h, &bold)?;
        }
        for (r, row) in rows.iter().enumerate() {
            for (c, v) in row.iter().enumerate() {
                ws.write_string(r as u32 + 1, c as u16, v)?;
            }
        }
        ws.set_freeze_panes(1, 0)?;
        ws.autofit();
        wb.save_to_buffer()
    };
    build().map_err(|e| AppError::Internal(anyhow::anyhow!("sheet: {e}")))
}

#[cfg(test)]
mod fuzz {
    use super::*;
    use proptest::prelude::*;

    const COLUMNS: [Column; 2] = [("名称", "name", true), ("电话", "phone", false)];

    fn workbook() -> Vec<u8> {
        let mut wb = Workbook::new();
        let ws = wb.add_worksheet();
        for (r, row) in
            [["名称", "电话"], ["运河区城管局", "0317-1234567"], ["新华区文明办", "0317-7654321"]].iter().enumerate()
        {
            for (c, v) in row.iter().enumerate() {
                ws.write_string(r as u32, c as u16, *v).unwrap();
            }
        }
        wb.save_to_buffer().unwrap()
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 96, failure_persistence: None, ..ProptestConfig::default() })]

        /// Byte mutations of a real workbook: every one is read or refused with a Chinese
        /// message; none takes the reader down.
        #[test]
        fn mutated_workbooks_are_read_or_refused(flips in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..24)) {
            let mut bytes = workbook();
            let n = bytes.len();
            for (i, v) in flips {
                bytes[i % n] = v;
            }
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            match rt.block_on(read(&bytes, &[(None, &COLUMNS)])) {
                Ok(sheets) => prop_assert_eq!(sheets.len(), 1),
                Err(e) => prop_assert!(e.to_string().chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)), "{}", e),
            }
        }
    }
}
