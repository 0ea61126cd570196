//! The online metrics an experiment reports, their direction and their delay.

use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::SimError;

/// An online metric. Names match `dsl::builtins::ONLINE_METRICS` (plus `sessions`, `active_users`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Metric {
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

impl Metric {
    /// Every metric, in report order.
    pub const ALL: [Metric; 11] = [
        Metric::WatchTime,
        Metric::Clicks,
        Metric::Likes,
        Metric::Shares,
        Metric::Sessions,
        Metric::SessionLength,
        Metric::Survey,
        Metric::ReturnRate,
        Metric::LeaveRate,
        Metric::Satisfaction,
        Metric::ActiveUsers,
    ];

    /// The metric's name in `.evo` files and tables.
    pub fn name(self) -> &'static str {
        match self {
            Metric::WatchTime => "watch_time",
            Metric::Clicks => "clicks",
            Metric::Likes => "likes",
            Metric::Shares => "shares",
            Metric::Sessions => "sessions",
            Metric::SessionLength => "session_length",
            Metric::Survey => "survey",
            Metric::ReturnRate => "return_rate",
            Metric::LeaveRate => "leave_rate",
            Metric::Satisfaction => "satisfaction",
            Metric::ActiveUsers => "active_users",
        }
    }

    /// Whether a rise is good news (false only for `leave_rate`).
    pub fn higher_is_better(self) -> bool {
        self != Metric::LeaveRate
    }

    /// Days after day `d` before day `d`'s value is known: the return window for `return_rate`,
    /// 0 for the immediate metrics.
    pub fn delay(self, return_window: u32) -> u32 {
        if self == Metric::ReturnRate {
            return_window
        } else {
            0
        }
    }
}

impl FromStr for Metric {
    type Err = SimError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Metric::ALL.into_iter().find(|m| m.name() == s).ok_or_else(|| SimError::UnknownMetric { name: s.to_string() })
    }
}

impl std::fmt::Display for Metric {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}
