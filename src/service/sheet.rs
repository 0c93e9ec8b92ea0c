//! Reading and writing the .xlsx sheets of the Excel exchanges: column lookup by header, cells as
//! text, the all-or-nothing refusal with its row-by-row report, and templates.

use crate::error::AppError;
use calamine::{Data, Reader, Xlsx};
use rust_xlsxwriter::{Color, Format, Workbook, XlsxError};

use std::collections::HashMap;
use std::io::Cursor;

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

pub struct Workbook2 {
    wb: Xlsx<Cursor<Vec<u8>>>,
}

pub fn open(bytes: &[u8]) -> Result<Workbook2, AppError> {
    let wb = Xlsx::new(Cursor::new(bytes.to_vec())).map_err(|_| file_error("文件不是有效的Excel（.xlsx）文件"))?;
    Ok(Workbook2 { wb })
}

impl Workbook2 {
    /// The rows of a sheet (the first sheet when `name` is None), skipping empty rows. A missing
    /// required column is an error of row 1.
    pub fn rows(&mut self, name: Option<&str>, columns: &[Column]) -> Result<Vec<Row>, Vec<RowError>> {
        let sheet_name = match name {
            Some(n) => n.to_string(),
            None => self.wb.sheet_names().first().cloned().unwrap_or_default(),
        };
        let label = name.unwrap_or("").to_string();
        let err = |row: usize, column: &str, message: String| RowError {
            sheet: label.clone(),
            row,
            column: column.into(),
            key: String::new(),
            message,
        };
        let Ok(range) = self.wb.worksheet_range(&sheet_name) else {
            return Err(vec![err(0, "", format!("找不到工作表“{sheet_name}”，请使用导入模板"))]);
        };
        let mut it = range.rows();
        let header: Vec<String> = it.next().map(|r| r.iter().map(|c| text(Some(c))).collect()).unwrap_or_default();
        let index: Vec<(&'static str, usize)> =
            columns.iter().filter_map(|(h, k, _)| header.iter().position(|x| x == h).map(|i| (*k, i))).collect();
        let missing: Vec<RowError> = columns
            .iter()
            .filter(|(_, k, req)| *req && !index.iter().any(|(x, _)| x == k))
            .map(|(h, _, _)| err(1, h, format!("缺少必填列“{h}”，请使用导入模板")))
            .collect();
        if !missing.is_empty() {
            return Err(missing);
        }
        let mut out = Vec::new();
        for (i, r) in it.enumerate() {
            let cells: HashMap<&'static str, String> = index.iter().map(|(k, c)| (*k, text(r.get(*c)))).collect();
            if cells.values().all(String::is_empty) {
                continue;
            }
            out.push(Row { number: i + 2, cells });
        }
        Ok(out)
    }
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
