//! KPIs per unit or community for a period, computed from the stored timestamps.

use super::Ctx;
use super::problems::scope;
use crate::domain::kpi::{CaseFacts, Kpi, compute};
use crate::error::AppResult;
use crate::store::problems::{self as store, KpiRow};
use serde::Serialize;
use std::collections::BTreeMap;
use utoipa::ToSchema;

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct KpiLine {
    pub key: String,
    pub name: String,
    #[serde(flatten)]
    pub kpi: Kpi,
}

fn facts(r: &KpiRow) -> CaseFacts {
    let closed = r.state == "closed";
    let deadline = r.deadline_at.unwrap_or(i64::MAX);
    let disposed_at = r.submitted_at.or(r.closed_at);
    CaseFacts {
        closed,
        closed_on_time: closed && r.closed_at.is_some_and(|c| c <= deadline),
        disposed: disposed_at.is_some(),
        disposed_on_time: disposed_at.is_some_and(|d| d <= deadline),
        reworked: r.rework_count > 0,
        extended: r.extensions > 0,
        postponed: r.postponed == 1,
        minutes_to_close: match (closed, r.dispatched_at, r.closed_at) {
            (true, Some(d), Some(c)) => Some((c - d) / 60_000),
            _ => None,
        },
    }
}

/// KPIs for problems dispatched in [from, to), grouped by unit or by community, plus the total.
pub async fn report(ctx: &Ctx<'_>, from: i64, to: i64, by_community: bool) -> AppResult<(Vec<KpiLine>, Kpi)> {
    let mut f = scope(ctx).await?;
    f.dispatched_from = Some(from);
    f.dispatched_to = Some(to);
    let rows = store::kpi_rows(ctx.db, &f).await?;
    let mut groups: BTreeMap<(String, String), Vec<CaseFacts>> = BTreeMap::new();
    for r in &rows {
        let key = if by_community {
            (
                r.community_name.clone().unwrap_or_else(|| "（未指定社区）".into()),
                r.community_id.clone().unwrap_or_default(),
            )
        } else {
            (r.unit_name.clone(), r.unit_id.clone())
        };
        groups.entry(key).or_default().push(facts(r));
    }
    let all: Vec<CaseFacts> = rows.iter().map(facts).collect();
    let lines = groups.into_iter().map(|((name, key), cases)| KpiLine { key, name, kpi: compute(&cases) }).collect();
    Ok((lines, compute(&all)))
}
