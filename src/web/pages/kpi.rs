//! The KPI page: 结案率, 按期结案率, 处置率, 返工率, 延期率 and mean time to close, per unit or
//! community for a period; every count links to the problems behind it.

use crate::domain::kpi::Kpi;
use crate::domain::time::{DAY_MS, now_ms, parse_local_day_start, to_local};
use crate::service::kpi::{KpiLine, report};
use crate::web::auth::PageUser;
use crate::web::error::PageResult;
use crate::web::query::Query;
use crate::web::ui::{Layout, xlsx};
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
        format!("/problems?dfrom={}&dto={}{scope}{extra}", self.from, self.to)
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
    let (lines, total) = report(&page.ctx(), from_ms, to_ms, by_community).await?;
    if q.export.as_deref() == Some("xlsx") {
        let row = |name: &str, k: &Kpi| {
            vec![
                name.to_string(),
                k.due.to_string(),
                k.closed.to_string(),
                pct(&k.closure_rate),
                pct(&k.on_time_closure_rate),
                pct(&k.disposal_rate),
                pct(&k.rework_rate),
                pct(&k.extension_rate),
                hours(&k.mean_hours_to_close),
            ]
        };
        let mut data: Vec<Vec<String>> = lines.iter().map(|l| row(&l.name, &l.kpi)).collect();
        data.push(row("合计", &total));
        let headers = [
            if by_community { "社区" } else { "责任单位" },
            "应结案",
            "已结案",
            "结案率",
            "按期结案率",
            "处置率",
            "返工率",
            "延期率",
            "平均处置时长",
        ];
        return Ok(xlsx(&format!("问题办理指标{from}至{to}"), "指标", &headers, data));
    }
    Ok(KpiPage { l: Layout::new(&page.user, "kpi", "办理指标"), lines, total, from, to, by_community }.into_response())
}
