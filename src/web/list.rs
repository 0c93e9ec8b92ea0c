//! One declaration per list. A `ListSpec` names the list's filters (one query type read by the
//! page's filter bar and by the API alike: same names, same checks, same errors), how a page of
//! rows is loaded within the caller's scope, and its columns. The columns drive the HTML table,
//! the phone cards (each cell carries its header) and the Excel export, where numbers are
//! numbers, times are dates and text is text.
//!
//! ```ignore
//! pub struct Teams;
//! impl ListSpec for Teams {
//!     type Query = TeamQuery;
//!     type Row = TeamRow;
//!     const TITLE: &'static str = "督导组";
//!     const EMPTY: &'static str = "没有符合条件的督导组";
//!     fn columns(_: &CurrentUser) -> Vec<Column<TeamRow>> {
//!         vec![col("名称", |r| Cell::link(&r.name, format!("/teams/{}", r.id))), col("成员数", |r| Cell::Int(r.member_count))]
//!     }
//!     async fn load(ctx: &Ctx<'_>, q: &TeamQuery, page: PageReq) -> AppResult<(Vec<TeamRow>, i64)> { … }
//! }
//! // page: list::page::<Teams>(&page, raw, &q, paging)   API: list::api::<Teams>(&api, &q, paging)
//! ```

use super::api::Page;
use super::auth::{ApiUser, PageUser};
use super::error::{ApiResult, PageResult, error_page};
use super::query::Query;
use super::ui::{Layout, Opt, Pager};
use crate::domain::time::{parse_local_day_start, to_local};
use crate::error::{AppError, AppResult, Code};
use crate::service::audit::FieldChange;
use crate::service::{Ctx, CurrentUser};
use crate::store::PageReq;
use askama::Template;
use askama_web::WebTemplate;
use axum::Json;
use axum::extract::RawQuery;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use rust_xlsxwriter::{ExcelDateTime, Format, Workbook, XlsxError};
use serde::{Deserialize, Serialize};
use std::future::Future;

/// One cell of a list, as the table shows it and the Excel export writes it.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Text(String),
    /// Shown grey ("—", "未入格"), written as text
    Muted(String),
    Int(i64),
    /// A number shown with this many decimals (a score: 997.5)
    Decimal(f64, usize),
    /// A rate in percent (33.3 → 33.3%); None shows "—"
    Percent(Option<f64>),
    /// A moment (UTC ms), shown and written in Beijing time; None is empty
    Time(Option<i64>),
    /// A day, YYYY-MM-DD
    Date(String),
    Link(String, String),
    /// A line with a grey second line under it on the page ("来源"); one line in Excel
    Hint(String, String),
    /// Text followed by a marker ("逾期", "返工2"); None: no marker
    Marked(String, Option<(String, &'static str)>),
    /// A label with a style: "" (plain), "off", "win"
    Tag(String, &'static str),
    /// A label with a colour mark (point types)
    Swatch(String, String),
    /// A person and a phone number to call
    Phone(String, String),
    /// What changed in a record (the audit log): each field before and after
    Changes(Vec<FieldChange>),
    /// Buttons, on the page only
    Actions(Vec<Button>),
}

/// A row's button: a link, or a form posting to `href` (with the page's CSRF token).
#[derive(Debug, Clone, PartialEq)]
pub struct Button {
    pub label: String,
    pub href: String,
    pub post: bool,
    /// Asked before posting ("确定删除…吗？"); empty: no question
    pub confirm: String,
    pub danger: bool,
}

impl Button {
    pub fn link(label: &str, href: impl Into<String>) -> Button {
        Button { label: label.into(), href: href.into(), post: false, confirm: String::new(), danger: false }
    }

    /// A form that deletes or changes something, confirmed first.
    pub fn danger(label: &str, href: impl Into<String>, confirm: impl Into<String>) -> Button {
        Button { label: label.into(), href: href.into(), post: true, confirm: confirm.into(), danger: true }
    }
}

impl Cell {
    pub fn text(s: impl Into<String>) -> Cell {
        Cell::Text(s.into())
    }

    pub fn link(text: impl Into<String>, href: impl Into<String>) -> Cell {
        Cell::Link(text.into(), href.into())
    }

    /// Text, or a grey dash when there is none.
    pub fn or_dash(s: Option<&str>) -> Cell {
        match s.filter(|s| !s.is_empty()) {
            Some(s) => Cell::Text(s.into()),
            None => Cell::Muted("—".into()),
        }
    }

    /// A number with `d` decimals, or a grey dash when there is none.
    pub fn decimal(v: Option<f64>, d: usize) -> Cell {
        v.map(|v| Cell::Decimal(v, d)).unwrap_or_else(|| Cell::Muted("—".into()))
    }

    /// Points kept in tenths (997.5), or a grey dash.
    pub fn points(tenths: Option<i64>) -> Cell {
        Cell::decimal(tenths.map(|t| t as f64 / 10.0), 1)
    }

    /// A number written as text earlier ("91.5" in a stored notice): a number again when it reads as one.
    pub fn number(s: &str) -> Cell {
        match s.trim().parse::<f64>() {
            Ok(v) => Cell::Decimal(v, s.split_once('.').map(|(_, f)| f.len()).unwrap_or(0)),
            Err(_) => Cell::Text(s.into()),
        }
    }

    /// Short cells (numbers, times, tags) stay on one line.
    pub fn compact(&self) -> bool {
        matches!(
            self,
            Cell::Int(_) | Cell::Decimal(..) | Cell::Percent(_) | Cell::Time(_) | Cell::Date(_) | Cell::Tag(..)
        )
    }

    /// What the cell says as plain text (the Excel text, the phone card).
    pub fn plain(&self) -> String {
        match self {
            Cell::Text(s)
            | Cell::Muted(s)
            | Cell::Date(s)
            | Cell::Link(s, _)
            | Cell::Tag(s, _)
            | Cell::Swatch(s, _) => s.clone(),
            Cell::Int(n) => n.to_string(),
            Cell::Decimal(v, d) => format!("{v:.d$}"),
            Cell::Percent(Some(v)) => format!("{v:.1}%"),
            Cell::Percent(None) => "—".into(),
            Cell::Time(Some(t)) => to_local(*t).format("%Y-%m-%d %H:%M").to_string(),
            Cell::Time(None) => String::new(),
            Cell::Phone(name, phone) | Cell::Hint(name, phone) => format!("{name} {phone}").trim().to_string(),
            Cell::Marked(text, None) => text.clone(),
            Cell::Marked(text, Some((mark, _))) => format!("{text} {mark}").trim().to_string(),
            Cell::Changes(c) => c.iter().map(crate::service::audit::describe).collect::<Vec<_>>().join("；"),
            Cell::Actions(_) => String::new(),
        }
    }
}

/// Where a column appears.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum On {
    Both,
    Table,
    Sheet,
}

/// A column: its header, where it appears, and how a row fills it.
pub struct Column<R> {
    pub header: &'static str,
    pub on: On,
    pub cell: Box<dyn Fn(&R) -> Cell + Send + Sync>,
    /// Kept on one line in the table (codes, short labels)
    pub nowrap: bool,
}

impl<R> Column<R> {
    /// Keeps the column's cells on one line.
    pub fn nowrap(mut self) -> Self {
        self.nowrap = true;
        self
    }
}

/// A column of the table and the export.
pub fn col<R>(header: &'static str, cell: impl Fn(&R) -> Cell + Send + Sync + 'static) -> Column<R> {
    Column { header, on: On::Both, cell: Box::new(cell), nowrap: false }
}

/// A column of the page's table only (links, buttons).
pub fn table_col<R>(header: &'static str, cell: impl Fn(&R) -> Cell + Send + Sync + 'static) -> Column<R> {
    Column { header, on: On::Table, cell: Box::new(cell), nowrap: false }
}

/// A column of the Excel export only (details the table leaves out).
pub fn sheet_col<R>(header: &'static str, cell: impl Fn(&R) -> Cell + Send + Sync + 'static) -> Column<R> {
    Column { header, on: On::Sheet, cell: Box::new(cell), nowrap: false }
}

/// The rows as a table of cells, for a page or a sheet.
pub struct Table {
    pub headers: Vec<&'static str>,
    /// Per column: kept on one line
    pub nowrap: Vec<bool>,
    pub rows: Vec<Vec<Cell>>,
    /// Shown when there are no rows
    pub empty: &'static str,
}

impl Table {
    pub fn of<R>(columns: &[Column<R>], on: On, rows: &[R], empty: &'static str) -> Table {
        let shown: Vec<&Column<R>> = columns.iter().filter(|c| c.on == On::Both || c.on == on).collect();
        Table {
            headers: shown.iter().map(|c| c.header).collect(),
            nowrap: shown.iter().map(|c| c.nowrap).collect(),
            rows: rows.iter().map(|r| shown.iter().map(|c| (c.cell)(r)).collect()).collect(),
            empty,
        }
    }
}

/// One sheet of an Excel download.
pub struct Sheet {
    pub name: String,
    pub table: Table,
}

impl Sheet {
    /// A sheet of text cells (an import's format, where every cell is read as text).
    pub fn text(name: &str, headers: Vec<&'static str>, rows: Vec<Vec<String>>) -> Sheet {
        let table = Table {
            nowrap: vec![false; headers.len()],
            headers,
            rows: rows.into_iter().map(|r| r.into_iter().map(Cell::Text).collect()).collect(),
            empty: "",
        };
        Sheet { name: name.into(), table }
    }
}

impl Sheet {
    /// A sheet of text rows whose listed columns are written as numbers: `ints` as integers,
    /// `percents` ("70.1%") as percentages; a cell that does not read as one stays text.
    pub fn typed(
        name: &str,
        headers: Vec<&'static str>,
        rows: Vec<Vec<String>>,
        (ints, percents): (&[usize], &[usize]),
    ) -> Sheet {
        let cell = |c: usize, v: String| {
            if ints.contains(&c)
                && let Ok(n) = v.trim().parse::<i64>()
            {
                return Cell::Int(n);
            }
            if percents.contains(&c)
                && let Some(p) = v.trim().strip_suffix('%').and_then(|p| p.parse::<f64>().ok())
            {
                return Cell::Percent(Some(p));
            }
            Cell::Text(v)
        };
        let table = Table {
            nowrap: vec![false; headers.len()],
            headers,
            rows: rows.into_iter().map(|r| r.into_iter().enumerate().map(|(c, v)| cell(c, v)).collect()).collect(),
            empty: "",
        };
        Sheet { name: name.into(), table }
    }
}

/// One sheet of an Excel download from column declarations (the columns shown in Excel).
pub fn sheet<R>(name: &str, columns: &[Column<R>], rows: &[R]) -> Sheet {
    Sheet { name: name.into(), table: Table::of(columns, On::Sheet, rows, "") }
}

/// How a filter is entered in the filter bar.
pub enum Input {
    /// A text box with this placeholder
    Text(&'static str),
    /// A choice, "全部" first
    Select(Vec<Opt>),
    /// A choice that always has a value (an order); the first option is the default
    Choice(Vec<Opt>),
    Date,
    /// A year, four digits
    Year,
    /// A tick box sending 1
    Check,
    /// Carried along when set (a drill-down's context)
    Hidden,
}

/// One filter of the filter bar, with the value the page was asked with.
pub struct Field {
    pub name: &'static str,
    pub label: &'static str,
    pub input: Input,
    pub value: String,
}

impl Field {
    pub fn text(name: &'static str, label: &'static str, placeholder: &'static str, value: &str) -> Field {
        Field { name, label, input: Input::Text(placeholder), value: value.into() }
    }

    pub fn select(name: &'static str, label: &'static str, options: Vec<Opt>, value: &str) -> Field {
        Field { name, label, input: Input::Select(options), value: value.into() }
    }

    pub fn choice(name: &'static str, label: &'static str, options: Vec<Opt>, value: &str) -> Field {
        Field { name, label, input: Input::Choice(options), value: value.into() }
    }

    pub fn date(name: &'static str, label: &'static str, value: &str) -> Field {
        Field { name, label, input: Input::Date, value: value.into() }
    }

    pub fn year(name: &'static str, label: &'static str, value: &str) -> Field {
        Field { name, label, input: Input::Year, value: value.into() }
    }

    pub fn check(name: &'static str, label: &'static str, value: &str) -> Field {
        Field { name, label, input: Input::Check, value: value.into() }
    }

    pub fn hidden(name: &'static str, value: &str) -> Field {
        Field { name, label: "", input: Input::Hidden, value: value.into() }
    }
}

/// A line shown above the table ("有 3 个在用点位不在任何网格内", "当前：…的下级").
pub struct Note {
    pub text: String,
    pub link: Option<(String, String)>,
    pub warn: bool,
}

/// The options of a vocabulary for a select box.
pub fn options<T: Copy>(all: &[T], code: fn(T) -> &'static str, label: fn(T) -> &'static str) -> Vec<Opt> {
    all.iter().map(|v| Opt::new(code(*v), label(*v))).collect()
}

/// A list as its page shows it: filter bar, notes, buttons, table, paging and, for a refused
/// filter, why. Pages that show more than the list (an import form) embed it and
/// `{% include "list_body.html" %}`.
pub struct Listing {
    pub path: &'static str,
    pub filters: Vec<Field>,
    pub notes: Vec<Note>,
    pub buttons: Vec<Button>,
    pub table: Table,
    pub pager: Pager,
    pub error: Option<String>,
    /// The refusal's status (the API's for the same query), or 200
    pub refused: StatusCode,
}

impl Listing {
    /// The status of the refused filters, as the API answers them (the page still shows the
    /// filter bar to fix them).
    pub fn status(&self) -> StatusCode {
        self.refused
    }
}

/// Paging as the page and the API send it: `page` (from 1) and `size` (1-200, default 20);
/// `export=xlsx` on a page downloads the whole filtered list.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
pub struct Paging {
    /// Page number, from 1
    pub page: Option<i64>,
    /// Rows per page, 1-200 (default 20)
    pub size: Option<i64>,
    #[serde(default)]
    #[param(ignore)]
    pub export: Option<String>,
    /// Keyset lists: continue after / go back before this cursor (see `Cursors`)
    #[param(ignore)]
    pub after: Option<String>,
    #[param(ignore)]
    pub before: Option<String>,
    /// Keyset lists: the page number shown (the cursor decides the rows)
    #[param(ignore)]
    pub n: Option<i64>,
}

impl Paging {
    pub fn req(&self) -> PageReq {
        PageReq::new(self.page, self.size)
    }
}

/// The cursors of a keyset list as the API documents them.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct Cursors {
    /// Continue after this cursor (`next_cursor` of the previous answer)
    pub after: Option<String>,
    /// Go back before this cursor (`prev_cursor`)
    pub before: Option<String>,
}

/// One page of a list: its rows, the total, and for keyset lists the cursors on either side.
pub struct Slice<R> {
    pub items: Vec<R>,
    pub total: i64,
    /// False when the count stopped at a cap: more than `total` rows match
    pub total_exact: bool,
    pub page: i64,
    pub size: i64,
    /// Keyset lists only: (next, previous) cursors
    pub cursors: Option<(Option<String>, Option<String>)>,
}

impl<R> Slice<R> {
    pub fn offset(items: Vec<R>, total: i64, req: PageReq) -> Slice<R> {
        Slice { items, total, total_exact: true, page: req.page, size: req.size, cursors: None }
    }

    fn pager(&self, raw_query: Option<&str>) -> Pager {
        match &self.cursors {
            None => Pager::new(raw_query, PageReq { page: self.page, size: self.size }, self.total),
            Some((next, prev)) => Pager::keyset(
                raw_query,
                (self.page, self.size),
                (self.total, self.total_exact),
                next.clone(),
                prev.clone(),
            ),
        }
    }
}

/// What names a list: the page title (also the Excel file's name), where its page is, the menu
/// entry it lights and what an empty table says.
pub struct Meta {
    pub title: &'static str,
    pub path: &'static str,
    pub menu: &'static str,
    pub empty: &'static str,
}

impl Meta {
    pub const fn new(title: &'static str, path: &'static str, menu: &'static str, empty: &'static str) -> Meta {
        Meta { title, path, menu, empty }
    }
}

/// A list declared once for its page, its API and its Excel export.
pub trait ListSpec: Send + Sync + 'static {
    /// The filters: the page's filter bar and the API's query string use the same names.
    type Query: serde::de::DeserializeOwned + Default + Send + Sync;
    type Row: Serialize + utoipa::ToSchema + Send + Sync;
    /// Its title, page, menu entry and empty-table text.
    const META: Meta;

    fn columns(user: &CurrentUser) -> Vec<Column<Self::Row>>;

    /// Checks the filters and loads one page of rows within the caller's scope, with the total.
    fn load(
        ctx: &Ctx<'_>,
        q: &Self::Query,
        page: PageReq,
    ) -> impl Future<Output = AppResult<(Vec<Self::Row>, i64)>> + Send;

    /// One page as the page and the API ask for it: by page number, unless a list pages by
    /// keyset (then it reads the cursors of `Paging`).
    fn slice(
        ctx: &Ctx<'_>,
        q: &Self::Query,
        paging: &Paging,
    ) -> impl Future<Output = AppResult<Slice<Self::Row>>> + Send {
        async move {
            let req = paging.req();
            let (items, total) = Self::load(ctx, q, req).await?;
            Ok(Slice::offset(items, total, req))
        }
    }

    /// The filter bar, with the values asked for and the choices the caller has.
    fn filters(ctx: &Ctx<'_>, q: &Self::Query) -> impl Future<Output = AppResult<Vec<Field>>> + Send;

    /// Buttons above the table besides 导出Excel (新增, 导入Excel), by role.
    fn buttons(_user: &CurrentUser) -> Vec<Button> {
        Vec::new()
    }

    /// Lines shown above the table.
    fn notes(_ctx: &Ctx<'_>, _q: &Self::Query) -> impl Future<Output = AppResult<Vec<Note>>> + Send {
        async { Ok(Vec::new()) }
    }

    /// Where a user goes instead of this list (a unit's people to their own unit's page).
    fn elsewhere(_user: &CurrentUser) -> Option<String> {
        None
    }

    /// The Excel download of the whole filtered list (one sheet of the export columns unless a
    /// list writes the format its import reads).
    fn export(ctx: &Ctx<'_>, q: &Self::Query) -> impl Future<Output = AppResult<Vec<Sheet>>> + Send {
        async move {
            let (rows, _) = Self::load(ctx, q, PageReq::all()).await?;
            let table = Table::of(&Self::columns(ctx.user), On::Sheet, &rows, Self::META.empty);
            Ok(vec![Sheet { name: Self::META.title.into(), table }])
        }
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "list_page.html")]
pub struct ListPage {
    l: Layout,
    list: Listing,
}

/// The page of a list: filter bar, notes, buttons, table, paging and its Excel download.
pub async fn show<L: ListSpec>(
    page: PageUser,
    RawQuery(raw): RawQuery,
    Query(q): Query<L::Query>,
    Query(paging): Query<Paging>,
    Query(flash): Query<Flash>,
) -> PageResult<Response> {
    if let Some(to) = L::elsewhere(&page.user) {
        return Ok(Redirect::to(&to).into_response());
    }
    let list = match self::page::<L>(&page, raw.as_deref(), &q, &paging).await? {
        Listed::Export(r) => return Ok(r),
        Listed::View(v) => v,
    };
    let l = Layout::new(&page.user, L::META.menu, L::META.title).with_flash(flash.ok.as_deref());
    Ok((list.status(), ListPage { l, list }).into_response())
}

/// The message to show after a redirect (`?ok=saved`).
#[derive(Debug, Default, Deserialize)]
pub struct Flash {
    pub ok: Option<String>,
}

/// What a list page answers: its view, or the Excel download.
pub enum Listed {
    View(Listing),
    Export(Response),
}

/// The list for its page. Refused filters are shown above an empty table, not as an error page.
pub async fn page<L: ListSpec>(
    page: &PageUser,
    raw_query: Option<&str>,
    q: &L::Query,
    paging: &Paging,
) -> PageResult<Listed> {
    let ctx = page.ctx();
    if paging.export.as_deref() == Some("xlsx") {
        return Ok(Listed::Export(xlsx(L::META.title, L::export(&ctx, q).await?)));
    }
    let (slice, error, refused) = match L::slice(&ctx, q, paging).await {
        Ok(slice) => (slice, None, StatusCode::OK),
        Err(e @ (AppError::Refused(..) | AppError::Validation(_))) => {
            (Slice::offset(Vec::new(), 0, paging.req()), Some(super::error::message_of(&e)), e.status())
        }
        Err(e) => return Err(e.into()),
    };
    Ok(Listed::View(Listing {
        path: L::META.path,
        filters: L::filters(&ctx, q).await?,
        notes: L::notes(&ctx, q).await?,
        buttons: L::buttons(&page.user),
        pager: slice.pager(raw_query),
        table: Table::of(&L::columns(&page.user), On::Table, &slice.items, L::META.empty),
        error,
        refused,
    }))
}

/// The list for the API: one page of rows with the total.
pub async fn api<L: ListSpec>(api: &ApiUser, q: &L::Query, paging: &Paging) -> ApiResult<Json<Page<L::Row>>> {
    let s = L::slice(&api.ctx(), q, paging).await?;
    let (next_cursor, prev_cursor) = s.cursors.unwrap_or_default();
    Ok(Json(Page {
        items: s.items,
        total: s.total,
        total_exact: s.total_exact,
        page: s.page,
        size: s.size,
        next_cursor,
        prev_cursor,
    }))
}

/// An .xlsx download: bold frozen header rows, typed cells.
pub fn xlsx(filename: &str, sheets: Vec<Sheet>) -> Response {
    match build(sheets) {
        Ok(bytes) => {
            let disposition = format!(
                "attachment; filename=\"export.xlsx\"; filename*=UTF-8''{}",
                super::auth::urlencode(&format!("{filename}.xlsx"))
            );
            let content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet".to_string();
            ([(header::CONTENT_TYPE, content_type), (header::CONTENT_DISPOSITION, disposition)], bytes).into_response()
        }
        Err(e) => {
            tracing::error!(error = %e, "xlsx export failed");
            error_page(StatusCode::INTERNAL_SERVER_ERROR, "导出失败，请稍后重试".into())
        }
    }
}

/// The number formats of the typed cells, made once per workbook rather than once per cell.
struct Formats {
    /// 0, 0.0, … 0.000000 (coordinates have six decimals)
    decimals: [Format; 7],
    percent: Format,
    time: Format,
    date: Format,
}

impl Formats {
    fn new() -> Formats {
        Formats {
            decimals: ["0", "0.0", "0.00", "0.000", "0.0000", "0.00000", "0.000000"]
                .map(|f| Format::new().set_num_format(f)),
            percent: Format::new().set_num_format("0.0%"),
            time: Format::new().set_num_format("yyyy-mm-dd hh:mm"),
            date: Format::new().set_num_format("yyyy-mm-dd"),
        }
    }
}

fn build(sheets: Vec<Sheet>) -> Result<Vec<u8>, XlsxError> {
    let mut wb = Workbook::new();
    let bold = Format::new().set_bold();
    let formats = Formats::new();
    for sheet in sheets {
        let ws = wb.add_worksheet();
        ws.set_name(&sheet.name)?;
        // Column widths as Excel shows them: a Chinese character is two, a time 16, a date 10
        // (the writer's own autofit measures neither).
        let mut widths: Vec<usize> = sheet.table.headers.iter().map(|h| display_width(h)).collect();
        for (c, h) in sheet.table.headers.iter().enumerate() {
            ws.write_string_with_format(0, c as u16, *h, &bold)?;
        }
        for (r, row) in sheet.table.rows.iter().enumerate() {
            for (c, cell) in row.iter().enumerate() {
                write_cell(ws, r as u32 + 1, c as u16, cell, &formats)?;
                let w = match cell {
                    Cell::Time(Some(_)) => 16,
                    Cell::Date(d) if !d.is_empty() => 10,
                    other => display_width(&other.plain()),
                };
                if let Some(m) = widths.get_mut(c) {
                    *m = (*m).max(w);
                }
            }
        }
        ws.set_freeze_panes(1, 0)?;
        for (c, w) in widths.iter().enumerate() {
            ws.set_column_width(c as u16, (*w).clamp(6, 60) as f64 + 2.0)?;
        }
    }
    wb.save_to_buffer()
}

/// How many columns of a spreadsheet a text takes: wide (CJK) characters two, others one.
fn display_width(s: &str) -> usize {
    s.chars().map(|c| if (c as u32) < 0x1100 { 1 } else { 2 }).sum()
}

fn write_cell(ws: &mut rust_xlsxwriter::Worksheet, r: u32, c: u16, cell: &Cell, f: &Formats) -> Result<(), XlsxError> {
    match cell {
        Cell::Int(n) => ws.write_number(r, c, *n as f64).map(|_| ()),
        Cell::Decimal(v, d) => ws.write_number_with_format(r, c, *v, &f.decimals[(*d).min(6)]).map(|_| ()),
        Cell::Percent(Some(v)) => ws.write_number_with_format(r, c, v / 100.0, &f.percent).map(|_| ()),
        Cell::Time(Some(t)) => {
            let local = to_local(*t).naive_local();
            let dt = ExcelDateTime::parse_from_str(&local.format("%Y-%m-%dT%H:%M:%S").to_string())?;
            ws.write_datetime_with_format(r, c, &dt, &f.time).map(|_| ())
        }
        Cell::Date(d) if !d.is_empty() => match ExcelDateTime::parse_from_str(d) {
            Ok(dt) => ws.write_datetime_with_format(r, c, &dt, &f.date).map(|_| ()),
            Err(_) => ws.write_string(r, c, d).map(|_| ()),
        },
        Cell::Time(None) | Cell::Actions(_) => Ok(()),
        other => ws.write_string(r, c, other.plain()).map(|_| ()),
    }
}

/// Filter values as typed into a filter bar or a query string: empty means "no filter".
pub fn given(s: &str) -> Option<&str> {
    Some(s.trim()).filter(|s| !s.is_empty())
}

/// A day filter (YYYY-MM-DD, Beijing) as the start of that day; `end` gives the end of it.
pub fn day(s: &str, end: bool) -> AppResult<Option<i64>> {
    let Some(s) = given(s) else { return Ok(None) };
    let start = parse_local_day_start(s)
        .ok_or_else(|| AppError::refuse(Code::InvalidDate, format!("日期格式应为2026-11-23：{s}")))?;
    Ok(Some(if end { start + crate::domain::time::DAY_MS } else { start }))
}

/// A from/to pair of day filters; refused when the end comes before the start (an empty list
/// would say nothing of why).
pub fn days(from: &str, to: &str, what: &str) -> AppResult<(Option<i64>, Option<i64>)> {
    let (a, b) = (day(from, false)?, day(to, true)?);
    if let (Some(a), Some(b)) = (a, b)
        && a >= b
    {
        return Err(AppError::refuse(Code::DateOutOfRange, format!("{what}的开始日期晚于结束日期：{from} 至 {to}")));
    }
    Ok((a, b))
}

/// A yes/no filter: 1/0, true/false, or empty for both.
pub fn flag(s: &str, what: &str) -> AppResult<Option<bool>> {
    match given(s) {
        None => Ok(None),
        Some("1" | "true" | "on") => Ok(Some(true)),
        Some("0" | "false") => Ok(Some(false)),
        Some(other) => Err(AppError::refuse(Code::InvalidQuery, format!("“{what}”应为1（是）或0（否）：{other}"))),
    }
}

/// A filter naming a value of a vocabulary (its code), refused with `code` when unknown.
pub fn one_of<T>(s: &str, parse: fn(&str) -> Option<T>, code: Code, what: &str) -> AppResult<Option<T>> {
    match given(s) {
        None => Ok(None),
        Some(v) => parse(v).map(Some).ok_or_else(|| AppError::refuse(code, format!("{what}“{v}”无效"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_read_as_people_read_them() {
        assert_eq!(Cell::Decimal(997.5, 1).plain(), "997.5");
        assert_eq!(Cell::Percent(Some(33.3)).plain(), "33.3%");
        assert_eq!(Cell::Percent(None).plain(), "—");
        assert_eq!(Cell::or_dash(None), Cell::Muted("—".into()));
        let t = parse_local_day_start("2026-11-23").unwrap() + 7 * 3_600_000 + 5 * 60_000;
        assert_eq!(Cell::Time(Some(t)).plain(), "2026-11-23 07:05");
    }

    #[test]
    fn exported_columns_are_wide_enough_for_times_and_chinese_names() {
        let t = parse_local_day_start("2026-11-23").unwrap();
        let table = Table {
            headers: vec!["发现时间", "责任单位", "状态"],
            nowrap: vec![false; 3],
            rows: vec![vec![Cell::Time(Some(t)), Cell::text("运河区城市管理综合行政执法局"), Cell::text("待签收")]],
            empty: "",
        };
        let bytes = build(vec![Sheet { name: "问题台账".into(), table }]).unwrap();
        let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
        let mut xml = String::new();
        std::io::Read::read_to_string(&mut zip.by_name("xl/worksheets/sheet1.xml").unwrap(), &mut xml).unwrap();
        let widths: Vec<f64> = xml
            .split("<col ")
            .skip(1)
            .map(|c| c.split("width=\"").nth(1).unwrap().split('"').next().unwrap().parse().unwrap())
            .collect();
        // "2026-11-23 00:00" is 16 wide; 14 Chinese characters are 28; 待签收 and its header 8.
        assert_eq!(widths.len(), 3, "{xml}");
        assert!(widths[0] >= 17.0 && widths[1] >= 29.0 && widths[2] >= 8.0, "{widths:?}");
    }

    #[test]
    fn filters_refuse_with_a_code() {
        assert!(day("", false).unwrap().is_none());
        assert_eq!(day("昨天", false).unwrap_err().code(), Code::InvalidDate);
        assert_eq!(flag("maybe", "固定点位").unwrap_err().code(), Code::InvalidQuery);
        assert_eq!(flag("1", "x").unwrap(), Some(true));
    }
}
