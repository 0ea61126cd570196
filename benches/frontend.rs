//! Front-end speed: parse + check + plan of a generated 5,000-step workflow (target < 100 ms),
//! and hostile nesting (what an agent's proposal could hold): checking is linear in the text,
//! and nesting past the limit is refused where it starts (target < 100 ms at depth 10,000).

use criterion::{criterion_group, criterion_main, Criterion};

/// 1,000 simulated datasets and 4,000 splits of them: 5,000 steps, 4,000 edges.
pub fn generate(datasets: usize, splits: usize) -> String {
    let mut text = String::from("use std::sim::{logs}\nuse std::data::{random_split}\n\n");
    for i in 0..datasets {
        text.push_str(&format!("dataset d{i} = logs(users: 100, seed: {i})\n"));
    }
    for i in 0..splits {
        text.push_str(&format!("let s{i} = random_split(d{}, valid: 0.1, test: 0.1, seed: {i})\n", i % datasets));
    }
    text
}

fn frontend(c: &mut Criterion) {
    let text = generate(1000, 4000);
    let mut group = c.benchmark_group("frontend");
    group.sample_size(20);
    group.bench_function("parse+check+plan 5000 steps", |b| {
        b.iter(|| {
            let checked = dsl::check("gen.evo", &text, &dsl::NoFiles, &[]);
            let program = checked.result.expect("the generated program is valid");
            let plan = dsl::Plan::new(&program);
            assert_eq!(plan.len(), 5000);
            plan
        })
    });
    group.bench_function("parse only 5000 steps", |b| {
        b.iter(|| dsl::parse::parse(dsl::FileId(0), &text).expect("parses"))
    });
    let too_deep = format!("let x = std::debug::echo({}1{})\n", "[".repeat(10_000), "]".repeat(10_000));
    group.bench_function("check 10000-deep brackets (refused)", |b| {
        b.iter(|| assert!(dsl::check("deep.evo", &too_deep, &dsl::NoFiles, &[]).result.is_err()))
    });
    let deepest_model = format!(
        "model m {{\n  input user: id, item: id\n  h = {}embed(user, 8){}\n  score = dense(h, 1)\n}}\n",
        "relu(".repeat(dsl::MAX_NESTING - 2),
        ")".repeat(dsl::MAX_NESTING - 2)
    );
    group.bench_function("check a model nested to the limit", |b| {
        b.iter(|| dsl::check("model.evo", &deepest_model, &dsl::NoFiles, &[]).result.expect("valid"))
    });
    let chain = |terms: usize| format!("reward r(e) -> float {{\n  {}\n}}\n", vec!["e.x"; terms].join(" + "));
    let (refused, longest) = (chain(10_000), chain(dsl::MAX_EXPR_DEPTH - 2));
    group.bench_function("check a 10000-term reward (refused)", |b| {
        b.iter(|| assert!(dsl::check("chain.evo", &refused, &dsl::NoFiles, &[]).result.is_err()))
    });
    group.bench_function("check a reward as long as the limit", |b| {
        b.iter(|| dsl::check("chain.evo", &longest, &dsl::NoFiles, &[]).result.expect("valid"))
    });
    group.finish();
}

criterion_group!(benches, frontend);
criterion_main!(benches);
