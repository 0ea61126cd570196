//! 10M events through one realistic composite reward: the compiled WASM batch path against the
//! same formula as a native Rust closure, in one run, with the ratio printed at the end.
//!
//! ```evo
//! reward composite(e) -> float {
//!   let watched = log1p(e.watch_seconds ?? 0.0)
//!   let liked = if e.rating >= 4.0 { 1.0 } else { 0.0 }
//!   0.5 * liked + 0.3 * watched + 0.2 * e.clicks
//! }
//! ```
//!
//! A DuckDB comparison (the same formula as SQL over the same columns) belongs here too; it
//! is not written yet, and nothing below pretends to measure it.
//!
//! `EVO_BENCH_EVENTS` overrides the event count for quick iteration.

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use sandboxes::ir::{BinaryOp, Builtin, Expr};
use sandboxes::{Columns, Field, Limits, RewardIr, SandboxEngine, Type};

struct Events {
    watch: Vec<f64>,
    watch_null: Vec<bool>,
    rating: Vec<f64>,
    clicks: Vec<i64>,
}

fn events(n: usize) -> Events {
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let mut e = Events {
        watch: Vec::with_capacity(n),
        watch_null: Vec::with_capacity(n),
        rating: Vec::with_capacity(n),
        clicks: Vec::with_capacity(n),
    };
    for _ in 0..n {
        e.watch.push((next() % 3_600_000) as f64 / 1000.0);
        e.watch_null.push(next() % 20 == 0);
        e.rating.push((next() % 10 + 1) as f64 * 0.5);
        e.clicks.push((next() % 10) as i64);
    }
    e
}

fn composite() -> RewardIr {
    let b = Expr::binary;
    RewardIr {
        name: "composite".into(),
        fields: vec![
            Field::new("watch_seconds", Type::Float),
            Field::new("rating", Type::Float),
            Field::new("clicks", Type::Int),
        ],
        body: Expr::let_in(
            "watched",
            Expr::call(Builtin::Log1p, vec![Expr::field_or(0, Expr::Float(0.0))]),
            Expr::let_in(
                "liked",
                Expr::if_else(b(BinaryOp::Ge, Expr::field(1), Expr::Float(4.0)), Expr::Float(1.0), Expr::Float(0.0)),
                b(
                    BinaryOp::Add,
                    b(
                        BinaryOp::Add,
                        b(BinaryOp::Mul, Expr::Float(0.5), Expr::local("liked")),
                        b(BinaryOp::Mul, Expr::Float(0.3), Expr::local("watched")),
                    ),
                    b(BinaryOp::Mul, Expr::Float(0.2), Expr::field(2)),
                ),
            ),
        ),
    }
}

/// The same reward as a native closure over the same columns.
fn native(e: &Events, out: &mut Vec<f64>) {
    let reward = |watch: Option<f64>, rating: f64, clicks: i64| {
        let watched = watch.unwrap_or(0.0).ln_1p();
        let liked = if rating >= 4.0 { 1.0 } else { 0.0 };
        0.5 * liked + 0.3 * watched + 0.2 * clicks as f64
    };
    out.clear();
    out.extend((0..e.rating.len()).map(|i| {
        let watch = (!e.watch_null[i]).then_some(e.watch[i]);
        reward(watch, e.rating[i], e.clicks[i])
    }));
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn bench(c: &mut Criterion) {
    let n: usize = std::env::var("EVO_BENCH_EVENTS").ok().and_then(|v| v.parse().ok()).unwrap_or(10_000_000);
    let e = events(n);
    let cols = Columns::new()
        .with_nulls("watch_seconds", &e.watch[..], &e.watch_null[..])
        .with("rating", &e.rating[..])
        .with("clicks", &e.clicks[..]);
    let engine = SandboxEngine::new(Limits::default()).expect("engine");
    let sandbox = engine.compile(&composite()).expect("compiles");

    // Same answers first (within log1p's documented 1 ulp difference from libm).
    let (mut a, mut b) = (Vec::new(), Vec::new());
    sandbox.run(&cols, &mut a).expect("runs");
    native(&e, &mut b);
    assert!(a.iter().zip(&b).all(|(x, y)| (x - y).abs() <= 1e-12 * y.abs().max(1.0)));

    let mut group = c.benchmark_group("composite_reward");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(8));
    group.throughput(Throughput::Elements(n as u64));
    group.bench_function(format!("wasm_batch/{n}"), |bench| {
        bench.iter(|| sandbox.run(black_box(&cols), &mut a).expect("runs"))
    });
    group.bench_function(format!("native_closure/{n}"), |bench| bench.iter(|| native(black_box(&e), &mut b)));
    group.finish();

    // Criterion reports each side; the ratio needs both, measured back to back.
    let (mut wasm, mut nat) = (Vec::new(), Vec::new());
    for _ in 0..7 {
        let t = Instant::now();
        sandbox.run(&cols, &mut a).expect("runs");
        wasm.push(t.elapsed());
        let t = Instant::now();
        native(&e, &mut b);
        nat.push(t.elapsed());
    }
    let (wasm, nat) = (median(wasm), median(nat));
    println!(
        "composite reward, {n} events: wasm {:.1} ms ({:.2} ns/event), native {:.1} ms ({:.2} ns/event), wasm/native = {:.2}x",
        wasm.as_secs_f64() * 1e3,
        wasm.as_secs_f64() * 1e9 / n as f64,
        nat.as_secs_f64() * 1e3,
        nat.as_secs_f64() * 1e9 / n as f64,
        wasm.as_secs_f64() / nat.as_secs_f64()
    );
}

criterion_group!(benches, bench);
criterion_main!(benches);
