//! Generating logs: 100k users × 7 days, against an anchor in the same run that draws as many
//! random numbers from the same generator family as the simulator consumed.

use criterion::{criterion_group, criterion_main, Criterion};
use rand::{Rng, SeedableRng};
use simulator::{logs, World};

fn generate(c: &mut Criterion) {
    let world = World::new(100_000, 2_000, 7).unwrap();
    let summary = logs(&world, 7, 7, |_| {});
    eprintln!(
        "100k users × 7 days: {} impressions, {} clicks, {} visits",
        summary.impressions, summary.clicks, summary.visits
    );
    let mut group = c.benchmark_group("logs");
    group.sample_size(10);
    group.bench_function("100k_users_7_days", |b| {
        b.iter(|| {
            logs(&world, 7, 7, |imp| {
                std::hint::black_box(imp);
            })
        })
    });
    // Anchor: three f32 draws per impression from ChaCha8, with nothing simulated.
    let draws = summary.impressions * 3;
    group.bench_function("anchor_chacha8_3_draws_per_impression", |b| {
        b.iter(|| {
            let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
            let mut acc = 0.0f32;
            for _ in 0..draws {
                acc += rng.gen::<f32>();
            }
            std::hint::black_box(acc)
        })
    });
    group.finish();
}

criterion_group!(benches, generate);
criterion_main!(benches);
