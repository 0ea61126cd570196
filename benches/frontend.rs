//! Front-end speed: parse + check + plan of a generated 5,000-step workflow (target < 100 ms).

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
    group.finish();
}

criterion_group!(benches, frontend);
criterion_main!(benches);
