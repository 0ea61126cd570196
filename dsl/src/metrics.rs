//! The ranking metrics: one registry that the checker accepts names from, the trainer computes
//! and the journal records, so a metric the language takes is always one that can be scored.

use std::fmt;
use std::str::FromStr;

use crate::types::Value;

/// A top-K ranking metric (full-ranking definitions as RecBole uses them).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RankingMetric {
    /// Normalised discounted cumulative gain.
    Ndcg,
    /// Share of a user's positives in the top K.
    Recall,
    /// 1 when any positive is in the top K.
    HitRate,
    /// Reciprocal rank of the first positive in the top K.
    Mrr,
    /// Share of the top K that are positives.
    Precision,
    /// Average precision over the top K, divided by min(positives, K).
    Map,
}

impl RankingMetric {
    /// Every metric, in the order tables list them.
    pub const ALL: [RankingMetric; 6] = [
        RankingMetric::Ndcg,
        RankingMetric::Recall,
        RankingMetric::HitRate,
        RankingMetric::Mrr,
        RankingMetric::Precision,
        RankingMetric::Map,
    ];

    /// The name a workflow writes before `@k`.
    pub fn name(self) -> &'static str {
        match self {
            RankingMetric::Ndcg => "ndcg",
            RankingMetric::Recall => "recall",
            RankingMetric::HitRate => "hitrate",
            RankingMetric::Mrr => "mrr",
            RankingMetric::Precision => "precision",
            RankingMetric::Map => "map",
        }
    }

    /// The metric a name stands for.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|m| m.name() == name)
    }

    /// Every name, for help texts and suggestions.
    pub fn names() -> impl Iterator<Item = &'static str> {
        Self::ALL.into_iter().map(Self::name)
    }
}

/// A metric at a cut-off: `ndcg@10`. Its `Display` is the one spelling used as a key everywhere
/// (trainer output, loop scores, journal columns).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MetricAt {
    /// Which metric.
    pub metric: RankingMetric,
    /// The cut-off, at least 1.
    pub k: u32,
}

impl MetricAt {
    /// `metric@k`.
    pub fn new(metric: RankingMetric, k: u32) -> Self {
        MetricAt { metric, k }
    }

    /// The metric a checked `Value::Metric` holds.
    pub fn from_value(value: &Value) -> Option<Self> {
        match value {
            Value::Metric { name, k } if *k > 0 => Some(MetricAt::new(RankingMetric::from_name(name)?, *k)),
            _ => None,
        }
    }

    /// The cut-off as a list length.
    pub fn cutoff(self) -> usize {
        self.k as usize
    }
}

impl fmt::Display for MetricAt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}@{}", self.metric.name(), self.k)
    }
}

impl FromStr for MetricAt {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (name, k) = s.split_once('@').ok_or_else(|| format!("`{s}` is not a metric: write it as `name@k`"))?;
        let metric = RankingMetric::from_name(name).ok_or_else(|| {
            format!(
                "unknown ranking metric `{name}`; ranking metrics are {}",
                RankingMetric::names().collect::<Vec<_>>().join(", ")
            )
        })?;
        match k.parse::<u32>() {
            Ok(k) if k > 0 => Ok(MetricAt::new(metric, k)),
            _ => Err(format!("`{s}` needs a whole cut-off of at least 1 after `@`")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_metric_round_trips_through_its_name() {
        for m in RankingMetric::ALL {
            assert_eq!(RankingMetric::from_name(m.name()), Some(m));
            for k in [1, 5, 10, 20] {
                let at = MetricAt::new(m, k);
                assert_eq!(at.to_string().parse::<MetricAt>(), Ok(at));
            }
        }
    }

    #[test]
    fn bad_names_and_cutoffs_are_refused() {
        assert!("hit@10".parse::<MetricAt>().unwrap_err().contains("unknown ranking metric `hit`"));
        assert!("ndcg@0".parse::<MetricAt>().is_err());
        assert!("ndcg".parse::<MetricAt>().is_err());
        assert_eq!(MetricAt::from_value(&Value::Metric { name: "map".into(), k: 5 }).unwrap().to_string(), "map@5");
    }
}
