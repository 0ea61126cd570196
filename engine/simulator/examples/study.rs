//! One online study at scale, timed: `cargo run --release -p simulator --example study -- USERS
//! DAYS ARMS [PRE_DAYS] [ITEMS] [RETURN_WINDOW]`. Arms rank by the world's relevance (the treatments by noisier
//! copies of it), every user in one arm; prints the time of each phase, the peak memory, and each
//! treatment's return-rate interval and CUPED's variance reduction. The online stage's figure in
//! BENCHMARKS.md comes from here.

use std::time::Instant;

use simulator::{Analysis, Experiment, ExperimentConfig, Metric, Ranker, SimError, World};

/// Ranks by relevance plus `noise` times a per-(user, item) hash: arm 0 is the world's own order.
struct Relevance {
    world: World,
    noise: f32,
}

impl Ranker for Relevance {
    fn shape(&self) -> (usize, usize) {
        (self.world.users(), self.world.items())
    }

    fn rank(&self, users: &[u32], depth: usize, out: &mut Vec<u32>) -> Result<(), SimError> {
        let items = self.world.items();
        let mut row = vec![0f32; items];
        for &u in users {
            let interest = self.world.interest(u as usize);
            for (i, s) in row.iter_mut().enumerate() {
                let r: f32 = interest.iter().zip(self.world.embedding(i)).map(|(a, b)| a * b).sum();
                let h = (u as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ (i as u64).wrapping_mul(0xc2b2_ae3d_27d4_eb4f);
                *s = r + self.noise * ((h >> 40) as f32 / (1u64 << 24) as f32 - 0.5);
            }
            out.extend(simulator::top_of(&row, depth));
        }
        Ok(())
    }
}

fn peak_rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

fn main() {
    let args: Vec<usize> = std::env::args().skip(1).map(|a| a.parse().expect("a number")).collect();
    let (users, days, arms) = (args[0], args[1] as u32, args[2]);
    let pre_days = args.get(3).copied().unwrap_or(days as usize) as u32;
    let items = args.get(4).copied().unwrap_or(500);
    let return_window = args.get(5).copied().unwrap_or(1) as u32;
    let t0 = Instant::now();
    let world = World::new(users, items, 7).unwrap();
    let rankers: Vec<Box<dyn Ranker>> = (0..arms)
        .map(|k| Box::new(Relevance { world: world.clone(), noise: 0.3 * k as f32 }) as Box<dyn Ranker>)
        .collect();
    let config = ExperimentConfig { pre_days, return_window, ..ExperimentConfig::new(1.0 / arms as f64, days, 1) };
    let mut exp = Experiment::with_rankers(world, rankers, config).unwrap();
    let ranked = t0.elapsed().as_secs_f64();
    let t1 = Instant::now();
    exp.run_to_end().unwrap();
    let simulated = t1.elapsed().as_secs_f64();
    let t2 = Instant::now();
    let mut lines = Vec::new();
    for metric in [Metric::ReturnRate, Metric::WatchTime] {
        let on = exp.analyse(metric, &Analysis::fixed(0.95), days - 1).unwrap();
        let off = exp.analyse(metric, &Analysis { cuped: false, ..Analysis::fixed(0.95) }, days - 1).unwrap();
        for (k, (d, raw)) in on.iter().zip(&off).enumerate() {
            lines.push(format!(
                "  treatment_{} {metric}: {:+.2}% ±{:.2}% (without CUPED ±{:.2}%), CUPED removed {:.0}% of the variance, MDE {:.2}%",
                k + 1,
                100.0 * d.relative,
                50.0 * (d.high - d.low),
                50.0 * (raw.high - raw.low),
                100.0 * d.variance_reduction,
                100.0 * d.mde,
            ));
        }
    }
    let synthesis = t2.elapsed().as_secs_f64();
    println!(
        "{users} users, {arms} arms, {pre_days}+{days} days: rank {ranked:.1} s, simulate {simulated:.1} s, \
         synthesis {synthesis:.1} s, total {:.1} s, peak memory {:.0} MiB",
        t0.elapsed().as_secs_f64(),
        peak_rss_mib()
    );
    for l in lines {
        println!("{l}");
    }
}
