//! CUPED: the pre-period covariate narrows intervals by the amount theory predicts, and A/A
//! intervals keep their coverage with it on.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use simulator::synthesis::deltas;
use simulator::{Analysis, Experiment, ExperimentConfig, Metric, ScoreTable, Units, World};

fn normal(rng: &mut ChaCha8Rng) -> f64 {
    let (u, v): (f64, f64) = (rng.gen_range(1e-12..1.0), rng.gen());
    (-2.0 * u.ln()).sqrt() * (2.0 * std::f64::consts::PI * v).cos()
}

#[test]
fn the_variance_shrinks_by_one_minus_rho_squared() {
    // Y = 10 + 2·X + ε, X ~ N(0, 1), ε ~ N(0, 1.5²): ρ = 2/√(4 + 2.25) = 0.8, so CUPED should
    // leave 1 − ρ² = 0.36 of the variance.
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let (mut arms, mut pre) = (Vec::new(), Vec::new());
    for _ in 0..2 {
        let x: Vec<f64> = (0..20_000).map(|_| normal(&mut rng)).collect();
        let y: Vec<f64> = x.iter().map(|x| 10.0 + 2.0 * x + 1.5 * normal(&mut rng)).collect();
        pre.push(Units::means(x));
        arms.push(Units::means(y));
    }
    let on = Analysis::fixed(0.95);
    let off = Analysis { cuped: false, ..on };
    let with = &deltas("m", &arms, Some(&pre), &on).unwrap()[0];
    let without = &deltas("m", &arms, Some(&pre), &off).unwrap()[0];
    let kept = 1.0 - with.variance_reduction;
    assert!((kept - 0.36).abs() / 0.36 < 0.10, "kept {kept} of the variance; theory 0.36");
    let narrower = (with.high - with.low) / (without.high - without.low);
    assert!((narrower - 0.6).abs() / 0.6 < 0.10, "the interval is {narrower} as wide; theory 0.6");
    assert_eq!(without.variance_reduction, 0.0);
}

/// Every item scored by relevance to the user: both arms of an A/A study show the same lists.
fn relevance(w: &World) -> ScoreTable {
    let w = w.clone();
    ScoreTable::from_fn(w.users(), w.items(), move |u, i| {
        w.interest(u as usize).iter().zip(w.embedding(i as usize)).map(|(a, b)| a * b).sum()
    })
    .unwrap()
}

fn correlation(a: &[f64], b: &[f64]) -> f64 {
    let n = a.len() as f64;
    let (ma, mb) = (a.iter().sum::<f64>() / n, b.iter().sum::<f64>() / n);
    let cov: f64 = a.iter().zip(b).map(|(x, y)| (x - ma) * (y - mb)).sum();
    let (va, vb): (f64, f64) = (a.iter().map(|x| (x - ma).powi(2)).sum(), b.iter().map(|y| (y - mb).powi(2)).sum());
    cov / (va * vb).sqrt()
}

#[test]
fn on_a_simulated_population_the_reduction_matches_the_pre_period_correlation() {
    let w = World::new(20_000, 100, 3).unwrap();
    let t = relevance(&w);
    let config = ExperimentConfig { ranked: 40, pre_days: 7, ..ExperimentConfig::new(0.5, 7, 11) };
    let mut exp = Experiment::with_config(w, t.clone(), vec![t], config).unwrap();
    exp.run_to_end().unwrap();
    for metric in [Metric::WatchTime, Metric::Sessions] {
        let (study, pre) = (exp.units(metric, 6), exp.pre_units(metric).unwrap());
        // Per-user means: the within-arm correlation of the study's values with the pre-period's.
        let rho2: f64 = (0..2).map(|a| correlation(&study[a].num, &pre[a].num).powi(2)).sum::<f64>() / 2.0;
        let d = &exp.deltas(metric, 0.95, 6).unwrap()[0];
        let (kept, theory) = (1.0 - d.variance_reduction, 1.0 - rho2);
        eprintln!("{metric}: ρ² {rho2:.3}, CUPED kept {kept:.3} of the variance");
        assert!(rho2 > 0.1, "{metric}: the pre-period should predict the study (ρ² {rho2})");
        assert!((kept - theory).abs() / theory < 0.10, "{metric}: kept {kept}, theory {theory}");
    }
}

#[test]
fn a_a_intervals_keep_their_coverage_with_cuped_on() {
    let w = World::new(1_000, 40, 5).unwrap();
    let t = relevance(&w);
    let studies = 1_000;
    let metrics = [Metric::ReturnRate, Metric::WatchTime, Metric::SessionLength];
    let (mut covered, mut reduction) = ([0usize; 3], [0.0f64; 3]);
    for seed in 0..studies {
        let config = ExperimentConfig { ranked: 20, pre_days: 3, ..ExperimentConfig::new(0.5, 3, seed) };
        let mut exp = Experiment::with_config(w.clone(), t.clone(), vec![t.clone()], config).unwrap();
        exp.run_to_end().unwrap();
        for (k, m) in metrics.iter().enumerate() {
            let d = &exp.deltas(*m, 0.95, 2).unwrap()[0];
            covered[k] += usize::from(d.low <= 0.0 && 0.0 <= d.high);
            reduction[k] += d.variance_reduction / studies as f64;
        }
    }
    for ((m, c), r) in metrics.iter().zip(covered).zip(reduction) {
        let rate = c as f64 / studies as f64;
        eprintln!("{m}: covered 0 in {c} of {studies} A/A studies; CUPED removed {:.0}% of the variance", 100.0 * r);
        assert!((0.93..=0.97).contains(&rate), "{m}: covered 0 in {c} of {studies} A/A studies");
    }
}
