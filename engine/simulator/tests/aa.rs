//! A/A tests: with identical arms, the 95% interval must cover 0 in about 95% of experiments.
//! Small populations so it runs in a debug build within seconds.

use simulator::{Experiment, ExperimentConfig, Metric, ScoreTable, World};

#[test]
fn the_95_percent_interval_covers_zero_in_about_95_percent_of_a_a_tests() {
    let w = World::new(1200, 60, 5).unwrap();
    let relevance = {
        let w = w.clone();
        ScoreTable::from_fn(w.users(), w.items(), move |u, i| {
            w.interest(u as usize).iter().zip(w.embedding(i as usize)).map(|(a, b)| a * b).sum()
        })
        .unwrap()
    };
    let seeds = 120;
    let metrics = [Metric::WatchTime, Metric::ReturnRate, Metric::SessionLength];
    let mut covered = [0usize; 3];
    for seed in 0..seeds {
        let config = ExperimentConfig { ranked: 30, ..ExperimentConfig::new(0.5, 3, seed) };
        let mut exp = Experiment::with_config(w.clone(), relevance.clone(), vec![relevance.clone()], config).unwrap();
        exp.run_to_end().unwrap();
        for (k, m) in metrics.iter().enumerate() {
            let d = &exp.deltas(*m, 0.95, 2).unwrap()[0];
            covered[k] += usize::from(d.low <= 0.0 && 0.0 <= d.high);
        }
    }
    for (m, c) in metrics.iter().zip(covered) {
        let rate = c as f64 / seeds as f64;
        eprintln!("{m}: the interval covered 0 in {c} of {seeds} A/A tests");
        assert!((0.90..=0.99).contains(&rate), "{m}: covered 0 in {c} of {seeds} A/A tests");
    }
}
