//! The KPI page: 结案率, 按期结案率, 处置率, 返工率, 延期率 and mean time to close, per unit or
//! community for a period; every count links to the problems behind it.

use crate::domain::kpi::Kpi;
use crate::domain::time::{DAY_MS, now_ms, parse_local_day_start, to_local};
use crate::service::kpi::{KpiLine, report};
use crate::web::auth::PageUser;
use crate::web::error::PageResult;
use crate::web::list::{self, Cell, Column, sheet_col};
use crate::web::query::Query;
use crate::web::ui::Layout;
use askama::Template;
use askama_web::WebTemplate;
use axum::response::{IntoResponse, Response};
use chrono::Datelike;
use serde::Deserialize;

#[derive(Deserialize, Default)]
pub struct KpiQuery {
    from: Option<String>,
    to: Option<String>,
    by: Option<String>,
    area_id: Option<String>,
    export: Option<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "problems/kpi.html")]
pub struct KpiPage {
    l: Layout,
    lines: Vec<KpiLine>,
    total: Kpi,
    from: String,
    to: String,
    by_community: bool,
    /// The street or community the figures are limited to (empty: all the reader may see)
    area: String,
    areas: Vec<crate::web::ui::Opt>,
}

/// The Excel columns of the KPI table: counts as numbers, rates as percentages, hours as decimals.
fn sheet_columns(by: &'static str) -> Vec<Column<(String, Kpi, Option<f64>)>> {
    type Row = (String, Kpi, Option<f64>);
    vec![
        sheet_col(by, |(name, _, _): &Row| Cell::text(name)),
        sheet_col("应结案", |(_, k, _): &Row| Cell::Int(k.due)),
        sheet_col("已结案", |(_, k, _): &Row| Cell::Int(k.closed)),
        sheet_col("结案率", |(_, k, _): &Row| Cell::Percent(k.closure_rate)),
        sheet_col("按期结案率", |(_, k, _): &Row| Cell::Percent(k.on_time_closure_rate)),
        sheet_col("处置率", |(_, k, _): &Row| Cell::Percent(k.disposal_rate)),
        sheet_col("返工率", |(_, k, _): &Row| Cell::Percent(k.rework_rate)),
        sheet_col("延期率", |(_, k, _): &Row| Cell::Percent(k.extension_rate)),
        sheet_col("证据警告率", |(_, k, _): &Row| Cell::Percent(k.evidence_warning_rate)),
        sheet_col("平均处置时长（小时）", |(_, k, _): &Row| Cell::decimal(k.mean_hours_to_close, 1)),
        sheet_col("群众满意率", |(_, k, _): &Row| Cell::Percent(k.satisfaction_rate)),
        sheet_col("群众反映未解决率", |(_, k, _): &Row| Cell::Percent(k.reopen_rate)),
        sheet_col("点位汇报率", |(_, _, r): &Row| Cell::Percent(*r)),
    ]
}

pub fn pct(v: &Option<f64>) -> String {
    v.map(|x| format!("{x:.1}%")).unwrap_or_else(|| "—".into())
}

pub fn hours(v: &Option<f64>) -> String {
    v.map(|x| format!("{x:.1}小时")).unwrap_or_else(|| "—".into())
}

impl KpiPage {
    /// The problem list behind a figure of a line (or of the total when `key` is empty).
    fn link(&self, key: &str, extra: &str) -> String {
        let scope = match (key.is_empty(), self.by_community) {
            (true, _) => String::new(),
            (false, false) => format!("&unit_id={key}"),
            (false, true) => format!("&community_id={key}"),
        };
        format!("/problems?dfrom={}&dto={}{scope}{}{extra}", self.from, self.to, self.area_q())
    }

    /// The area as a query tail ("&area_id=…"), empty for none.
    fn area_q(&self) -> String {
        if self.area.is_empty() { String::new() } else { format!("&area_id={}", self.area) }
    }
}

pub async fn page(page: PageUser, Query(q): Query<KpiQuery>) -> PageResult<Response> {
    let today = to_local(now_ms()).date_naive();
    let month_start = today.with_day(1).unwrap_or(today);
    let from = q
        .from
        .clone()
        .filter(|s| parse_local_day_start(s).is_some())
        .unwrap_or_else(|| month_start.format("%Y-%m-%d").to_string());
    let to =
        q.to.clone()
            .filter(|s| parse_local_day_start(s).is_some())
            .unwrap_or_else(|| today.format("%Y-%m-%d").to_string());
    let from_ms = parse_local_day_start(&from).unwrap_or(0);
    let to_ms = parse_local_day_start(&to).unwrap_or(0) + DAY_MS;
    let by_community = q.by.as_deref() == Some("community");
    let area = q.area_id.as_deref().map(str::trim).unwrap_or_default().to_string();
    let ctx = page.ctx();
    let (lines, total) = report(&ctx, (from_ms, to_ms), by_community, Some(&area)).await?;
    if q.export.as_deref() == Some("xlsx") {
        let mut rows: Vec<(String, Kpi, Option<f64>)> =
            lines.iter().map(|l| (l.name.clone(), l.kpi.clone(), l.report_rate)).collect();
        rows.push(("合计".into(), total, None));
        let by = if by_community { "社区" } else { "责任单位" };
        let sheet = list::sheet("指标", &sheet_columns(by), &rows);
        return Ok(list::xlsx(&format!("问题整改指标{from}至{to}"), vec![sheet]));
    }
    let held = crate::service::access::area_scope(&ctx).await?;
    let areas = super::scoped_area_options(ctx.db, held.as_ref()).await?;
    let l = Layout::new(&page.user, "kpi", "整改指标");
    Ok(KpiPage { l, lines, total, from, to, by_community, area, areas }.into_response())
}
