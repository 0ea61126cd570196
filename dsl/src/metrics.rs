//! The metrics: one registry each for ranking metrics (which the checker accepts, the trainer
//! computes and the journal records) and online metrics (which the checker accepts and the
//! simulator reports), so a metric the language takes is always one that can be measured.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

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

/// An online metric: what `primary:` and guardrails name, what the simulator reports and a
/// team's table holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OnlineMetric {
    /// Seconds watched per user.
    WatchTime,
    /// Clicks per user.
    Clicks,
    /// Likes per user.
    Likes,
    /// Shares per user.
    Shares,
    /// Sessions per user.
    Sessions,
    /// Slates per session.
    SessionLength,
    /// Mean survey answer (1–5).
    Survey,
    /// Share of visits followed by another visit within the return window: the delayed metric.
    ReturnRate,
    /// Share of users who left for good.
    LeaveRate,
    /// Mean hidden satisfaction at the end of visits (an oracle only a simulator has).
    Satisfaction,
    /// Active days per user; per day, the number of users who visited.
    ActiveUsers,
}

impl OnlineMetric {
    /// Every metric, in report order.
    pub const ALL: [OnlineMetric; 11] = [
        OnlineMetric::WatchTime,
        OnlineMetric::Clicks,
        OnlineMetric::Likes,
        OnlineMetric::Shares,
        OnlineMetric::Sessions,
        OnlineMetric::SessionLength,
        OnlineMetric::Survey,
        OnlineMetric::ReturnRate,
        OnlineMetric::LeaveRate,
        OnlineMetric::Satisfaction,
        OnlineMetric::ActiveUsers,
    ];

    /// The metric's name in `.evo` files and tables.
    pub fn name(self) -> &'static str {
        match self {
            OnlineMetric::WatchTime => "watch_time",
            OnlineMetric::Clicks => "clicks",
            OnlineMetric::Likes => "likes",
            OnlineMetric::Shares => "shares",
            OnlineMetric::Sessions => "sessions",
            OnlineMetric::SessionLength => "session_length",
            OnlineMetric::Survey => "survey",
            OnlineMetric::ReturnRate => "return_rate",
            OnlineMetric::LeaveRate => "leave_rate",
            OnlineMetric::Satisfaction => "satisfaction",
            OnlineMetric::ActiveUsers => "active_users",
        }
    }

    /// Whether a rise is good news (false only for `leave_rate`).
    pub fn higher_is_better(self) -> bool {
        self != OnlineMetric::LeaveRate
    }

    /// Days after day `d` before day `d`'s value is known: the return window for `return_rate`,
    /// 0 for the immediate metrics.
    pub fn delay(self, return_window: u32) -> u32 {
        if self == OnlineMetric::ReturnRate {
            return_window
        } else {
            0
        }
    }
}

impl OnlineMetric {
    /// Every name, for help texts and suggestions.
    pub fn names() -> impl Iterator<Item = &'static str> {
        Self::ALL.into_iter().map(Self::name)
    }
}

impl FromStr for OnlineMetric {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        OnlineMetric::ALL.into_iter().find(|m| m.name() == s).ok_or_else(|| {
            format!("unknown online metric `{s}`; online metrics are {}", Self::names().collect::<Vec<_>>().join(", "))
        })
    }
}

impl fmt::Display for OnlineMetric {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
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
