//! Case-loop metrics (DOMAIN.md "Metrics"): ratios of counts over problems dispatched in a
//! period, from the per-stage timestamps and flags every problem keeps.

use serde::Serialize;

/// The facts of one problem that the metrics need.
#[derive(Debug, Clone, Copy)]
pub struct CaseFacts {
    pub closed: bool,
    pub closed_on_time: bool,
    pub disposed: bool,
    pub disposed_on_time: bool,
    pub reworked: bool,
    pub extended: bool,
    pub postponed: bool,
    /// An after-photo of its fix carries an evidence warning
    pub flagged: bool,
    /// Minutes from dispatch to the accepted fix, for closed cases
    pub minutes_to_close: Option<i64>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Kpi {
    #[serde(flatten)]
    pub counts: Counts,
    /// 结案率 closed / due, in percent (None when nothing was due)
    pub closure_rate: Option<f64>,
    /// 按期结案率 closed on time / (due − postponed)
    pub on_time_closure_rate: Option<f64>,
    /// 处置率 disposed / due
    pub disposal_rate: Option<f64>,
    /// 返工率 reworked / due
    pub rework_rate: Option<f64>,
    /// 延期率 extended / due
    pub extension_rate: Option<f64>,
    /// 证据警告率 fixes whose photos carry an evidence warning / fixes submitted (disposed)
    pub evidence_warning_rate: Option<f64>,
    /// Mean hours from dispatch to close
    pub mean_hours_to_close: Option<f64>,
    /// 群众满意率 reporters satisfied (满意 or better) / reporters who rated
    pub satisfaction_rate: Option<f64>,
    /// 群众反映未解决率 problems reopened because the reporter said not fixed / due
    pub reopen_rate: Option<f64>,
}

fn rate(n: i64, d: i64) -> Option<f64> {
    (d > 0).then(|| (n as f64 * 1000.0 / d as f64).round() / 10.0)
}

pub fn compute(cases: &[CaseFacts]) -> Kpi {
    let count = |f: fn(&CaseFacts) -> bool| cases.iter().filter(|c| f(c)).count() as i64;
    let minutes: Vec<i64> = cases.iter().filter_map(|c| c.minutes_to_close).collect();
    from_counts(Counts {
        due: cases.len() as i64,
        closed: count(|c| c.closed),
        closed_on_time: count(|c| c.closed_on_time),
        disposed: count(|c| c.disposed),
        disposed_on_time: count(|c| c.disposed_on_time),
        reworked: count(|c| c.reworked),
        extended: count(|c| c.extended),
        postponed: count(|c| c.postponed),
        flagged: count(|c| c.flagged),
        timed: minutes.len() as i64,
        minutes_to_close: minutes.iter().sum(),
        ..Default::default()
    })
}

/// The counts the metrics are ratios of (what the database aggregates at scale).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, utoipa::ToSchema, sqlx::FromRow)]
pub struct Counts {
    /// Problems dispatched in the period (due to be closed)
    pub due: i64,
    pub closed: i64,
    pub closed_on_time: i64,
    pub disposed: i64,
    pub disposed_on_time: i64,
    pub reworked: i64,
    pub extended: i64,
    pub postponed: i64,
    /// Fixes whose after-photos carry an evidence warning
    pub flagged: i64,
    /// Closed cases with a measured time to close, and the sum of those minutes
    #[serde(skip)]
    pub timed: i64,
    #[serde(skip)]
    pub minutes_to_close: i64,
    /// Problems whose reporter answered "满意吗" / answered 满意 or better
    #[sqlx(default)]
    pub rated: i64,
    #[sqlx(default)]
    pub satisfied: i64,
    /// Problems reopened because the reporter said they were not fixed
    #[sqlx(default)]
    pub reopened: i64,
}

impl std::ops::Deref for Kpi {
    type Target = Counts;
    fn deref(&self) -> &Counts {
        &self.counts
    }
}

impl std::ops::AddAssign for Counts {
    fn add_assign(&mut self, o: Counts) {
        self.due += o.due;
        self.closed += o.closed;
        self.closed_on_time += o.closed_on_time;
        self.disposed += o.disposed;
        self.disposed_on_time += o.disposed_on_time;
        self.reworked += o.reworked;
        self.extended += o.extended;
        self.postponed += o.postponed;
        self.flagged += o.flagged;
        self.timed += o.timed;
        self.minutes_to_close += o.minutes_to_close;
        self.rated += o.rated;
        self.satisfied += o.satisfied;
        self.reopened += o.reopened;
    }
}

pub fn from_counts(c: Counts) -> Kpi {
    Kpi {
        closure_rate: rate(c.closed, c.due),
        // Postponed (缓办) cases leave the denominator, as some cities count it.
        on_time_closure_rate: rate(c.closed_on_time, c.due - c.postponed),
        disposal_rate: rate(c.disposed, c.due),
        rework_rate: rate(c.reworked, c.due),
        extension_rate: rate(c.extended, c.due),
        evidence_warning_rate: rate(c.flagged, c.disposed),
        mean_hours_to_close: (c.timed > 0)
            .then(|| (c.minutes_to_close as f64 / c.timed as f64 / 60.0 * 10.0).round() / 10.0),
        satisfaction_rate: rate(c.satisfied, c.rated),
        reopen_rate: rate(c.reopened, c.due),
        counts: c,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn case(closed: bool, on_time: bool) -> CaseFacts {
        CaseFacts {
            closed,
            closed_on_time: closed && on_time,
            disposed: closed,
            disposed_on_time: closed && on_time,
            reworked: false,
            extended: false,
            postponed: false,
            flagged: false,
            minutes_to_close: closed.then_some(120),
        }
    }

    #[test]
    fn rates_are_ratios_of_counts() {
        let mut cases = vec![case(true, true), case(true, false), case(false, false), case(false, false)];
        cases[1].reworked = true;
        cases[3].postponed = true;
        let k = compute(&cases);
        assert_eq!((k.due, k.closed, k.closed_on_time), (4, 2, 1));
        assert_eq!(k.closure_rate, Some(50.0));
        assert_eq!(k.on_time_closure_rate, Some(33.3), "1 of 3 once the postponed case is left out");
        assert_eq!(k.rework_rate, Some(25.0));
        assert_eq!(k.mean_hours_to_close, Some(2.0));
        assert_eq!(compute(&[]).closure_rate, None, "no cases, no rate");
    }
}
