//! Logged interactions: the world under a fixed behaviour policy (popularity with noise, mixed
//! with uniform exposure), one [`Impression`] per shown item. Engagement in these logs rewards
//! clickbait; satisfaction shows only faintly, through likes, shares and rare survey answers.

use rand::Rng;
use rand_chacha::ChaCha8Rng;

use crate::rng::{stream, Purpose};
use crate::visit::{visit, SlateSource};
use crate::{Impression, Population, World};

/// Counts of what [`logs`] produced.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LogSummary {
    /// Impressions (rows).
    pub impressions: u64,
    /// Clicks among them.
    pub clicks: u64,
    /// User-days with a visit.
    pub visits: u64,
}

/// Streams the logs of `days` days of `world` under the logging policy to `sink`, in order of
/// (day, user, time, position). The same (world, days, seed) always gives the same rows.
pub fn logs(world: &World, days: u32, seed: u64, mut sink: impl FnMut(&Impression)) -> LogSummary {
    let mut pop = Population::new(world, (0..world.users() as u32).collect(), seed);
    let mut policy = Popularity::new(world);
    let mut summary = LogSummary::default();
    let mut count = |imp: &Impression| {
        summary.impressions += 1;
        summary.clicks += u64::from(imp.click);
        sink(imp);
    };
    let mut visits = 0;
    for day in 0..days {
        for slot in 0..pop.len() {
            if pop.next_visit[slot] == day {
                let mut rng = stream(seed, Purpose::Logs, u64::from(day), slot as u64);
                visit(world, &mut pop, slot, day, &mut rng, &mut policy, &mut count);
                visits += 1;
            }
        }
    }
    summary.visits = visits;
    summary
}

/// All the rows of [`logs`] in memory (for tests and small worlds).
pub fn collect_logs(world: &World, days: u32, seed: u64) -> Vec<Impression> {
    let mut rows = Vec::new();
    logs(world, days, seed, |imp| rows.push(*imp));
    rows
}

/// The behaviour policy: each slot is a uniform item with chance `explore`, else an item drawn in
/// proportion to popularity; no item twice in a slate.
struct Popularity {
    cumulative: Vec<f64>,
    explore: f32,
    slate_size: usize,
}

impl Popularity {
    fn new(world: &World) -> Self {
        let mut total = 0.0;
        let cumulative = world
            .popularity()
            .iter()
            .map(|&w| {
                total += f64::from(w);
                total
            })
            .collect();
        Popularity { cumulative, explore: world.params().explore, slate_size: world.params().slate_size }
    }

    fn draw(&self, rng: &mut ChaCha8Rng) -> u32 {
        let n = self.cumulative.len();
        if rng.gen::<f32>() < self.explore {
            return rng.gen_range(0..n) as u32;
        }
        let x = rng.gen::<f64>() * self.cumulative[n - 1];
        self.cumulative.partition_point(|&c| c <= x).min(n - 1) as u32
    }
}

impl SlateSource for Popularity {
    fn fill(&mut self, _slot: usize, _cursor: &mut u32, rng: &mut ChaCha8Rng, out: &mut Vec<u32>) {
        let want = self.slate_size.min(self.cumulative.len());
        let mut tries = 0;
        while out.len() < want {
            let item = self.draw(rng);
            tries += 1;
            // A few rejections, then allow a repeat rather than loop on a tiny catalogue.
            if !out.contains(&item) || tries > 20 * want {
                out.push(item);
            }
        }
    }
}
