//! Online experiments: arms from score tables, the clickbait trap, delayed metrics, resuming.

use simulator::{
    Analysis, Decision, Experiment, ExperimentConfig, ExperimentState, GuardrailRule, Metric, ScoreTable, SimError,
    World,
};

fn world() -> World {
    World::new(3000, 200, 21).unwrap()
}

/// Every user gets the same order: items by `key`, highest first.
fn by_item(w: &World, key: impl Fn(usize) -> f32) -> ScoreTable {
    ScoreTable::from_fn(w.users(), w.items(), |_, i| key(i as usize)).unwrap()
}

fn quality(w: &World) -> ScoreTable {
    let q = w.quality().to_vec();
    by_item(w, move |i| q[i])
}

fn clickbait(w: &World) -> ScoreTable {
    let c = w.clickbait().to_vec();
    by_item(w, move |i| c[i])
}

#[test]
fn quality_beats_clickbait_on_returns_but_loses_on_immediate_watch_time() {
    let w = world();
    let (c, q) = (clickbait(&w), quality(&w));
    let mut exp = Experiment::new(w, c, vec![q], 0.5, 5, 1).unwrap();
    exp.run_to_end().unwrap();
    // Day 0 alone: what an engagement dashboard sees first.
    let watch = &exp.deltas(Metric::WatchTime, 0.95, 0).unwrap()[0];
    assert!(watch.high < 0.0, "quality should lose immediate watch time: {watch:?}");
    // The delayed metric, and the hidden state behind it.
    let returns = &exp.deltas(Metric::ReturnRate, 0.95, 4).unwrap()[0];
    assert!(returns.low > 0.0, "quality should win on return rate: {returns:?}");
    let satisfaction = &exp.deltas(Metric::Satisfaction, 0.95, 4).unwrap()[0];
    assert!(satisfaction.low > 0.0, "{satisfaction:?}");
    // Judged on day 0's watch time alone, the guardrail would block the better policy.
    let guard = simulator::Guardrail::new("watch_time", ">=", -1.0).unwrap();
    let v = exp.verdicts(Metric::ReturnRate, &[guard], &Analysis::fixed(0.95), GuardrailRule::PointEstimate, 0);
    assert!(v.is_err(), "no return is known on day 0");
    let v = exp.verdicts(Metric::ReturnRate, &[], &Analysis::fixed(0.95), GuardrailRule::PointEstimate, 4).unwrap();
    assert_eq!(v[0].decision, Decision::Launch, "{}", v[0].reason);
}

#[test]
fn clickbait_items_get_more_clicks_but_lower_satisfaction_and_fewer_returns() {
    let w = world();
    let honest = {
        let c = w.clickbait().to_vec();
        by_item(&w, move |i| -c[i])
    };
    let bait = clickbait(&w);
    let mut exp = Experiment::new(w, honest, vec![bait], 0.5, 4, 2).unwrap();
    exp.run_to_end().unwrap();
    let d = |m| exp.deltas(m, 0.95, 3).unwrap()[0].clone();
    assert!(exp.deltas(Metric::Clicks, 0.95, 0).unwrap()[0].low > 0.0);
    assert!(d(Metric::Satisfaction).high < 0.0, "{:?}", d(Metric::Satisfaction));
    assert!(d(Metric::ReturnRate).high < 0.0, "{:?}", d(Metric::ReturnRate));
    // Treatment 1 (bait) is rejected on return rate.
    let v = exp.verdicts(Metric::ReturnRate, &[], &Analysis::fixed(0.95), GuardrailRule::PointEstimate, 3).unwrap();
    assert_eq!(v[0].decision, Decision::Rejected, "{}", v[0].reason);
}

#[test]
fn return_rate_is_known_only_after_its_window() {
    let w = World::new(800, 100, 4).unwrap();
    let t = quality(&w);
    let config = ExperimentConfig { return_window: 2, ..ExperimentConfig::new(0.5, 6, 3) };
    let mut exp = Experiment::with_config(w, t.clone(), vec![t], config).unwrap();
    assert!(exp.observed(10).rows().is_empty(), "nothing is known before day 0 ran");
    for _ in 0..6 {
        exp.step_day().unwrap();
    }
    let days_of = |as_of: u32, metric: &str| {
        let mut days: Vec<u32> = exp
            .observed(as_of)
            .rows()
            .iter()
            .filter(|r| r.metric == metric && r.arm == "control")
            .map(|r| r.day)
            .collect();
        days.dedup();
        days
    };
    assert_eq!(days_of(1, "watch_time"), vec![0, 1]);
    assert_eq!(days_of(1, "return_rate"), Vec::<u32>::new());
    assert_eq!(days_of(2, "return_rate"), vec![0]);
    assert_eq!(days_of(5, "return_rate"), vec![0, 1, 2, 3]);
    // The per-user units behind the intervals obey the same delay.
    let units = |as_of| exp.units(Metric::ReturnRate, as_of)[0].den.iter().sum::<f64>();
    assert_eq!(units(1), 0.0);
    assert!(units(2) > 0.0 && units(3) > units(2));
    assert!(matches!(exp.step_day(), Err(SimError::Finished { days: 6 })));
}

#[test]
fn a_resumed_experiment_equals_an_uninterrupted_one() {
    let w = World::new(600, 80, 8).unwrap();
    let (c, q) = (clickbait(&w), quality(&w));
    let mut whole = Experiment::new(w.clone(), c.clone(), vec![q.clone()], 0.4, 5, 9).unwrap();
    whole.run_to_end().unwrap();

    let mut first = Experiment::new(w.clone(), c.clone(), vec![q.clone()], 0.4, 5, 9).unwrap();
    first.step_day().unwrap();
    first.step_day().unwrap();
    let saved = serde_json::to_string(first.state()).unwrap();
    drop(first);
    let state: ExperimentState = serde_json::from_str(&saved).unwrap();
    let mut resumed = Experiment::resume(w.clone(), c.clone(), vec![q.clone()], state).unwrap();
    assert_eq!(resumed.day(), 2, "no day is simulated twice");
    resumed.run_to_end().unwrap();
    assert_eq!(resumed.state(), whole.state());
    assert_eq!(resumed.observed(4), whole.observed(4));

    // Resuming with other arms is refused rather than silently mixing policies.
    let state: ExperimentState = serde_json::from_str(&saved).unwrap();
    let err = Experiment::resume(w, q, vec![c], state).unwrap_err();
    assert!(err.to_string().contains("score tables differ"), "{err}");
}

#[test]
fn arms_are_split_by_a_hash_of_user_and_seed() {
    let w = World::new(4000, 50, 1).unwrap();
    let t = quality(&w);
    let exp = Experiment::new(w.clone(), t.clone(), vec![t.clone(), t.clone()], 0.1, 1, 5).unwrap();
    for size in exp.arm_sizes() {
        assert!((300..500).contains(&size), "{:?}", exp.arm_sizes());
    }
    let err = Experiment::new(w.clone(), t.clone(), vec![t.clone(), t.clone()], 0.4, 1, 5).unwrap_err();
    assert_eq!(err.to_string(), "traffic share 0.4 per arm × 3 arms must be in (0, 1]");
    let small = ScoreTable::new(2, 2, vec![0.0; 4]).unwrap();
    let err = Experiment::new(w, t, vec![small], 0.1, 1, 5).unwrap_err();
    assert_eq!(err.to_string(), "the score table of treatment_1 is 2 users × 2 items, but the world has 4000 × 50");
}
