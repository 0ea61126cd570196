//! 10M events through one realistic composite reward: the compiled WASM batch path against the
//! same formula as a native Rust closure and as a DuckDB SQL expression over the same table, in one
//! run, with the ratios printed at the end.
//!
//! ```evo
//! reward composite(e) -> float {
//!   let watched = log1p(e.watch_seconds ?? 0.0)
//!   let liked = if e.rating >= 4.0 { 1.0 } else { 0.0 }
//!   0.5 * liked + 0.3 * watched + 0.2 * e.clicks
//! }
//! ```
//!
//! DuckDB gets the same events as an in-memory table `t(watch_seconds DOUBLE, rating DOUBLE,
//! clicks BIGINT)`, built once, and the same formula as a SQL expression. Two queries are timed:
//! `CREATE OR REPLACE TEMP TABLE r AS SELECT <expr> AS reward FROM t` (materialises every reward,
//! like the other two paths) and `SELECT sum(<expr>) FROM t` (an aggregate, DuckDB's best case),
//! each with DuckDB's default thread count and with one thread (the WASM and native paths use one).
//!
//! Run: `cargo bench -p sandboxes --bench reward`. `EVO_BENCH_EVENTS` overrides the event count
//! for quick iteration.

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use duckdb::Connection;
use sandboxes::{Columns, Limits, RewardFn, SandboxEngine};

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

/// The reward of the module doc, checked by the dsl as `evoflow` would.
fn composite() -> RewardFn {
    testdata::reward_fn(
        "dataset events = \"events.parquet\" { watch_seconds: float, rating: float, clicks: int }\n\
         reward composite(e: events) -> float {\n  let watched = log1p(e.watch_seconds ?? 0.0)\n  \
         let liked = if e.rating >= 4.0 { 1.0 } else { 0.0 }\n  0.5 * liked + 0.3 * watched + 0.2 * e.clicks\n}\n",
        "composite",
    )
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

/// The composite reward in DuckDB's SQL. Plain `0.5` is a DECIMAL literal there, so every
/// constant is a DOUBLE; DuckDB has no `log1p`, so it is `ln(1 + x)`.
const SQL_REWARD: &str = "0.5::DOUBLE * (CASE WHEN rating >= 4.0::DOUBLE THEN 1.0::DOUBLE ELSE 0.0::DOUBLE END) \
     + 0.3::DOUBLE * ln(1.0::DOUBLE + coalesce(watch_seconds, 0.0::DOUBLE)) + 0.2::DOUBLE * clicks";

/// An in-memory DuckDB holding the events as table `t`.
fn duckdb_table(e: &Events) -> Connection {
    let conn = Connection::open_in_memory().expect("duckdb");
    conn.execute_batch("CREATE TABLE t (watch_seconds DOUBLE, rating DOUBLE, clicks BIGINT)").expect("create");
    {
        let mut app = conn.appender("t").expect("appender");
        for i in 0..e.rating.len() {
            let watch = (!e.watch_null[i]).then_some(e.watch[i]);
            app.append_row(duckdb::params![watch, e.rating[i], e.clicks[i]]).expect("append");
        }
        app.flush().expect("flush");
    }
    conn
}

/// Materialises every reward into a temporary table.
fn duckdb_materialise(conn: &Connection) {
    conn.execute_batch(&format!("CREATE OR REPLACE TEMP TABLE r AS SELECT {SQL_REWARD} AS reward FROM t"))
        .expect("create table as");
}

/// The rewards' sum.
fn duckdb_sum(conn: &Connection) -> f64 {
    conn.query_row(&format!("SELECT sum({SQL_REWARD}) FROM t"), [], |r| r.get(0)).expect("sum")
}

fn set_threads(conn: &Connection, threads: usize) {
    conn.execute_batch(&format!("SET threads = {threads}")).expect("threads");
}

fn time(f: &mut dyn FnMut()) -> Duration {
    let t = Instant::now();
    f();
    t.elapsed()
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
    let setup = Instant::now();
    let conn = duckdb_table(&e);
    eprintln!("duckdb table of {n} events built in {:.1} s", setup.elapsed().as_secs_f64());
    let default_threads: i64 =
        conn.query_row("SELECT current_setting('threads')", [], |r| r.get(0)).expect("threads setting");
    let wasm_sum: f64 = a.iter().sum();
    let sql_sum = duckdb_sum(&conn);
    assert!((wasm_sum - sql_sum).abs() <= 1e-9 * wasm_sum.abs(), "wasm sum {wasm_sum}, duckdb sum {sql_sum}");
    duckdb_materialise(&conn);
    let rows: i64 = conn.query_row("SELECT count(*) FROM r", [], |r| r.get(0)).expect("count");
    assert_eq!(rows as usize, n);

    let mut group = c.benchmark_group("composite_reward");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(8));
    group.throughput(Throughput::Elements(n as u64));
    group.bench_function(format!("wasm_batch/{n}"), |bench| {
        bench.iter(|| sandbox.run(black_box(&cols), &mut a).expect("runs"))
    });
    group.bench_function(format!("native_closure/{n}"), |bench| bench.iter(|| native(black_box(&e), &mut b)));
    group.bench_function(format!("duckdb_create_table_as/{n}"), |bench| bench.iter(|| duckdb_materialise(&conn)));
    group.bench_function(format!("duckdb_sum/{n}"), |bench| bench.iter(|| black_box(duckdb_sum(&conn))));
    group.finish();

    // Criterion reports each side; the ratios need all of them, measured back to back.
    let mut runs: Vec<(&str, Vec<Duration>)> = [
        "wasm batch (1 thread)",
        "native closure (1 thread)",
        "duckdb CREATE TABLE AS (default threads)",
        "duckdb CREATE TABLE AS (1 thread)",
        "duckdb SELECT sum (default threads)",
        "duckdb SELECT sum (1 thread)",
    ]
    .into_iter()
    .map(|name| (name, Vec::new()))
    .collect();
    for _ in 0..7 {
        runs[0].1.push(time(&mut || sandbox.run(&cols, &mut a).expect("runs")));
        runs[1].1.push(time(&mut || native(&e, &mut b)));
        set_threads(&conn, default_threads as usize);
        runs[2].1.push(time(&mut || duckdb_materialise(&conn)));
        runs[4].1.push(time(&mut || {
            black_box(duckdb_sum(&conn));
        }));
        set_threads(&conn, 1);
        runs[3].1.push(time(&mut || duckdb_materialise(&conn)));
        runs[5].1.push(time(&mut || {
            black_box(duckdb_sum(&conn));
        }));
    }
    set_threads(&conn, default_threads as usize);
    let medians: Vec<(&str, f64)> = runs.into_iter().map(|(name, v)| (name, median(v).as_secs_f64())).collect();
    let wasm = medians[0].1;
    println!("composite reward, {n} events, median of 7 (DuckDB default threads = {default_threads}):");
    println!("  {:<42} {:>10} {:>10} {:>12}", "path", "ms", "ns/event", "x wasm");
    for (name, secs) in &medians {
        println!("  {name:<42} {:>10.1} {:>10.2} {:>12.2}", secs * 1e3, secs * 1e9 / n as f64, secs / wasm);
    }
    println!(
        "  wasm/native = {:.2}x; duckdb CREATE TABLE AS / wasm = {:.2}x ({default_threads} threads), {:.2}x (1 thread)",
        wasm / medians[1].1,
        medians[2].1 / wasm,
        medians[3].1 / wasm
    );
}

criterion_group!(benches, bench);
criterion_main!(benches);
