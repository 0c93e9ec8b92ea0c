//! KPIs per unit or community for a period, computed from the stored timestamps.

use super::Ctx;
use super::problems::scope;
use crate::domain::kpi::{Counts, Kpi, from_counts};
use crate::domain::time::now_ms;
use crate::error::AppResult;
use crate::store::problems as store;
use serde::Serialize;
use utoipa::ToSchema;

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct KpiLine {
    pub key: String,
    pub name: String,
    #[serde(flatten)]
    pub kpi: Kpi,
    /// 点位汇报率: the daily reports filed over those expected (active points × working days of
    /// the period up to today), in percent; None when nothing was expected
    pub report_rate: Option<f64>,
}

/// KPIs for problems dispatched in [from, to), grouped by unit or by community, plus the total.
/// The database does the counting; the ratios are computed here from the counts.
pub async fn report(ctx: &Ctx<'_>, from: i64, to: i64, by_community: bool) -> AppResult<(Vec<KpiLine>, Kpi)> {
    let mut f = scope(ctx).await?;
    f.dispatched_from = Some(from);
    f.dispatched_to = Some(to);
    let rows = store::kpi_counts(ctx.db, &f, by_community, now_ms()).await?;
    let day = |ms: i64| crate::domain::time::to_local(ms).date_naive();
    let rates = super::weekly_summaries::rates_by(ctx.db, day(from), day(to - 1), by_community).await?;
    let mut total = Counts::default();
    let mut lines: Vec<KpiLine> = rows
        .iter()
        .map(|r| {
            total += r.counts();
            let name = match (&r.name, by_community) {
                (Some(n), _) => n.clone(),
                (None, true) => "（未指定社区）".into(),
                (None, false) => "（未知单位）".into(),
            };
            let key = r.key.clone().unwrap_or_default();
            KpiLine { report_rate: rates.get(&key).copied(), key, name, kpi: from_counts(r.counts()) }
        })
        .collect();
    lines.sort_by(|a, b| a.name.cmp(&b.name).then_with(|| a.key.cmp(&b.key)));
    Ok((lines, from_counts(total)))
}
