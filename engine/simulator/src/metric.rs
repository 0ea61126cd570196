//! The online metrics an experiment reports, their direction and their delay: the language's
//! own registry (`dsl::metrics::OnlineMetric`), so the checker and the simulator never disagree.

pub use dsl::metrics::OnlineMetric as Metric;
