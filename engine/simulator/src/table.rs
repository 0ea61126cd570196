//! Per-arm, per-day metric tables: what an experiment reports and what a team's own experiment
//! platform exports (arm, day, metric, value). The same delay and synthesis apply to both; with
//! only daily aggregates, the units of the interval are days.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use crate::synthesis::{relative_delta, Delta, SynthesisError, Units};
use crate::Metric;

/// One value of one metric for one arm on one day.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MetricRow {
    /// The arm (`control`, `treatment_1`, or a platform's own names).
    pub arm: String,
    /// Day from 0.
    pub day: u32,
    /// The metric's name.
    pub metric: String,
    /// Its value.
    pub value: f64,
    /// Users behind the value: the arm's users for a per-user metric, those with a non-zero
    /// denominator for a ratio; `None` when the source does not say (a team's table without `n`).
    #[serde(default)]
    pub n: Option<u64>,
}

/// A table of [`MetricRow`]s.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct MetricTable {
    rows: Vec<MetricRow>,
}

/// Why a metric table is unusable.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum TableError {
    /// A value that is not a finite number.
    #[error("row {row} ({arm}, day {day}, {metric}) has a value that is not a finite number")]
    NotFinite {
        /// 0-based row.
        row: usize,
        /// Its arm.
        arm: String,
        /// Its day.
        day: u32,
        /// Its metric.
        metric: String,
    },
    /// The same (arm, day, metric) twice.
    #[error("({arm}, day {day}, {metric}) appears more than once")]
    Duplicate {
        /// The arm.
        arm: String,
        /// The day.
        day: u32,
        /// The metric.
        metric: String,
    },
}

impl MetricTable {
    /// A table from rows, refusing non-finite values and repeated keys.
    pub fn new(rows: Vec<MetricRow>) -> Result<MetricTable, TableError> {
        let mut seen = BTreeSet::new();
        for (row, r) in rows.iter().enumerate() {
            if !r.value.is_finite() {
                return Err(TableError::NotFinite { row, arm: r.arm.clone(), day: r.day, metric: r.metric.clone() });
            }
            if !seen.insert((&r.arm, r.day, &r.metric)) {
                return Err(TableError::Duplicate { arm: r.arm.clone(), day: r.day, metric: r.metric.clone() });
            }
        }
        Ok(MetricTable { rows })
    }

    /// Rows built by the simulator, already valid.
    pub(crate) fn from_known(rows: Vec<MetricRow>) -> MetricTable {
        MetricTable { rows }
    }

    /// The rows.
    pub fn rows(&self) -> &[MetricRow] {
        &self.rows
    }

    /// The arms, sorted, `control` first when present.
    pub fn arms(&self) -> Vec<String> {
        let set: BTreeSet<&str> = self.rows.iter().map(|r| r.arm.as_str()).collect();
        let mut arms: Vec<String> = set.into_iter().map(str::to_string).collect();
        if let Some(k) = arms.iter().position(|a| a == "control") {
            let control = arms.remove(k);
            arms.insert(0, control);
        }
        arms
    }

    /// The value of (arm, day, metric), if present.
    pub fn value(&self, arm: &str, day: u32, metric: &str) -> Option<f64> {
        self.rows.iter().find(|r| r.arm == arm && r.day == day && r.metric == metric).map(|r| r.value)
    }

    /// The rows known at the end of day `as_of`: a row of day d is known once d + delay ≤ as_of,
    /// the delay being `return_window` for `return_rate` and 0 for everything else.
    pub fn observed(&self, as_of: u32, return_window: u32) -> MetricTable {
        let delay = |m: &str| m.parse::<Metric>().map(|m| m.delay(return_window)).unwrap_or(0);
        let rows = self.rows.iter().filter(|r| r.day + delay(&r.metric) <= as_of).cloned().collect();
        MetricTable { rows }
    }

    /// Daily values of `metric` in `arm`, as units (one per day).
    pub fn units(&self, arm: &str, metric: &str) -> Units {
        let mut days: Vec<(u32, f64)> =
            self.rows.iter().filter(|r| r.arm == arm && r.metric == metric).map(|r| (r.day, r.value)).collect();
        days.sort_by_key(|d| d.0);
        Units::means(days.into_iter().map(|d| d.1).collect())
    }

    /// The relative delta of `treatment` vs `control` on `metric` with days as units.
    pub fn delta(&self, metric: &str, control: &str, treatment: &str, level: f64) -> Result<Delta, SynthesisError> {
        relative_delta(metric, &self.units(control, metric), &self.units(treatment, metric), level)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(arm: &str, day: u32, metric: &str, value: f64) -> MetricRow {
        MetricRow { arm: arm.into(), day, metric: metric.into(), value, n: None }
    }

    #[test]
    fn delayed_rows_stay_hidden_until_known() {
        let t = MetricTable::new(vec![
            row("control", 0, "watch_time", 1.0),
            row("control", 0, "return_rate", 0.5),
            row("control", 1, "watch_time", 1.0),
        ])
        .unwrap();
        let metrics = |as_of| t.observed(as_of, 2).rows().iter().map(|r| (r.day, r.metric.clone())).collect::<Vec<_>>();
        assert_eq!(metrics(0), vec![(0, "watch_time".to_string())]);
        assert_eq!(metrics(1).len(), 2);
        assert_eq!(metrics(2).len(), 3);
    }

    #[test]
    fn days_are_units() {
        let t = MetricTable::new(vec![
            row("b", 0, "m", 12.0),
            row("b", 1, "m", 10.0),
            row("control", 0, "m", 10.0),
            row("control", 1, "m", 10.0),
        ])
        .unwrap();
        assert_eq!(t.arms(), vec!["control", "b"]);
        let d = t.delta("m", "control", "b", 0.95).unwrap();
        assert!((d.relative - 0.1).abs() < 1e-12 && d.n_control == 2);
    }

    #[test]
    fn bad_tables_are_refused() {
        let dup = MetricTable::new(vec![row("a", 0, "m", 1.0), row("a", 0, "m", 2.0)]).unwrap_err();
        assert_eq!(dup.to_string(), "(a, day 0, m) appears more than once");
        assert!(MetricTable::new(vec![row("a", 0, "m", f64::NAN)]).is_err());
    }
}
