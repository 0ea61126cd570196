//! Daily looks: with always-valid intervals, stopping at the first significant look keeps false
//! launches at or below the level; peeking at fixed-horizon intervals does not.

use simulator::sequential::{Looks, DEFAULT_TAU};
use simulator::{Analysis, Experiment, ExperimentConfig, GuardrailRule, Interval, Metric, ScoreTable, World};

#[test]
fn daily_peeking_with_always_valid_intervals_keeps_false_launches_below_five_percent() {
    let w = World::new(1_000, 40, 8).unwrap();
    let t = {
        let w = w.clone();
        ScoreTable::from_fn(w.users(), w.items(), move |u, i| {
            w.interest(u as usize).iter().zip(w.embedding(i as usize)).map(|(a, b)| a * b).sum()
        })
        .unwrap()
    };
    let (studies, days) = (400, 8);
    let valid = Analysis { interval: Interval::AlwaysValid { tau: DEFAULT_TAU }, ..Analysis::fixed(0.95) };
    let fixed = Analysis::fixed(0.95);
    let (mut false_valid, mut false_peeking) = (0, 0);
    for seed in 0..studies {
        let config = ExperimentConfig { ranked: 20, pre_days: 3, ..ExperimentConfig::new(0.5, days, seed) };
        let mut exp = Experiment::with_config(w.clone(), t.clone(), vec![t.clone()], config).unwrap();
        exp.run_to_end().unwrap();
        let mut looks = Looks::new(1);
        let mut peeked = false;
        // Return rate is known from the second day on: a look every day after that.
        for day in 1..days {
            let verdicts = exp.verdicts(Metric::ReturnRate, &[], &valid, GuardrailRule::default(), day).unwrap();
            looks.look(day, verdicts);
            let naive = exp.verdicts(Metric::ReturnRate, &[], &fixed, GuardrailRule::default(), day).unwrap();
            peeked |= naive[0].primary.significant();
        }
        false_valid += usize::from(looks.all_concluded());
        false_peeking += usize::from(peeked);
    }
    let rate = |n: usize| n as f64 / studies as f64;
    eprintln!(
        "A/A with {} daily looks: always-valid {:.1}% significant, fixed-horizon peeking {:.1}%",
        days - 1,
        100.0 * rate(false_valid),
        100.0 * rate(false_peeking)
    );
    assert!(rate(false_valid) <= 0.05, "always-valid looks: {false_valid} of {studies} A/A studies concluded");
    // The test can tell: peeking at fixed-horizon intervals finds more "effects" than it may.
    assert!(rate(false_peeking) > 0.05, "fixed-horizon peeking: {false_peeking} of {studies}");
}
