//! End to end: a realistic reward over the real MovieLens ratings, compiled and interpreted.

use sandboxes::interp::Interpreter;
use sandboxes::{Columns, Limits, SandboxEngine};

struct Ratings {
    user: Vec<i64>,
    movie: Vec<i64>,
    rating: Vec<f64>,
    timestamp: Vec<i64>,
}

fn ratings() -> Ratings {
    let path = testdata::ml_100k().ratings_csv();
    let mut reader = csv::Reader::from_path(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let mut r = Ratings { user: Vec::new(), movie: Vec::new(), rating: Vec::new(), timestamp: Vec::new() };
    for record in reader.records() {
        let record = record.expect("a CSV record");
        r.user.push(record[0].parse().expect("userId"));
        r.movie.push(record[1].parse().expect("movieId"));
        r.rating.push(record[2].parse().expect("rating"));
        r.timestamp.push(record[3].parse().expect("timestamp"));
    }
    r
}

const ENGAGED: &str = "dataset ratings = \"ratings.csv\" { userId: int, movieId: int, rating: float, timestamp: int }

reward engaged(e: ratings) -> float {
  let liked = if e.rating >= 4.0 { 1.0 } else { 0.0 }
  let fresh = sigmoid((e.timestamp - 1200000000) / 100000000)
  let novelty = clamp(e.movieId % 1000, 10, 900)
  liked + 0.25 * log1p(e.rating ?? 3.0) * fresh + 0.001 * sqrt(novelty) - 0.1 * tanh(e.userId / 300)
}
";

/// The same formula as plain Rust, to check the numbers mean what the program says.
fn by_hand(user: i64, movie: i64, rating: Option<f64>, ts: i64) -> f64 {
    let liked = if rating.is_some_and(|r| r >= 4.0) { 1.0 } else { 0.0 };
    let fresh = 1.0 / (1.0 + (-((ts - 1_200_000_000) as f64 / 1e8)).exp());
    let novelty = (movie % 1000).clamp(10, 900) as f64;
    liked + 0.25 * rating.unwrap_or(3.0).ln_1p() * fresh + 0.001 * novelty.sqrt() - 0.1 * (user as f64 / 300.0).tanh()
}

#[test]
fn engaged_reward_over_movielens_matches_interpreter() {
    let r = ratings();
    assert_eq!(r.rating.len(), 100_000, "expected all of MovieLens-100K");
    // Every 13th rating is treated as missing, to exercise `??` on real data.
    let nulls: Vec<bool> = (0..r.rating.len()).map(|i| i % 13 == 0).collect();
    let cols = Columns::new()
        .with("userId", &r.user[..])
        .with("movieId", &r.movie[..])
        .with_nulls("rating", &r.rating[..], &nulls[..])
        .with("timestamp", &r.timestamp[..]);
    let ir = testdata::reward_fn(ENGAGED, "engaged");
    let engine = SandboxEngine::new(Limits::default()).unwrap();
    let sandbox = engine.compile(&ir).unwrap();
    let mut got = Vec::new();
    sandbox.run(&cols, &mut got).unwrap();
    let want = Interpreter::new(&ir).unwrap().run(&cols).unwrap();
    assert_eq!(got.len(), r.rating.len());
    for (i, (g, w)) in got.iter().zip(&want).enumerate() {
        assert_eq!(g.to_bits(), w.to_bits(), "row {i}: wasm {g}, interpreter {w}");
        let rating = (!nulls[i]).then_some(r.rating[i]);
        let hand = by_hand(r.user[i], r.movie[i], rating, r.timestamp[i]);
        assert!((g - hand).abs() <= 1e-12, "row {i}: wasm {g}, by hand {hand}");
    }
}
