//! `evoflow run` executes the plan: independent branches overlap, dependencies are respected,
//! `--jobs 1` serialises, and steps can add nodes at run time.

mod support;

use std::collections::HashMap;

use support::{events, Test};

/// `(start, end)` in ms of every step that ran, from the `--json` events.
fn spans(stdout: &str) -> HashMap<String, (u64, u64)> {
    let mut out: HashMap<String, (u64, u64)> = HashMap::new();
    for e in events(stdout) {
        let (Some(node), Some(t)) = (e["node"].as_str(), e["t_ms"].as_u64()) else { continue };
        match e["event"].as_str() {
            Some("step_started") => {
                out.insert(node.to_string(), (t, u64::MAX));
            }
            Some("step_finished") => out.get_mut(node).unwrap().1 = t,
            _ => {}
        }
    }
    out
}

const DIAMOND: &str = r#"use std::debug::{sleep}
let top = sleep(300ms, value: 1)
let left = sleep(300ms, value: 2, after: [top])
let right = sleep(300ms, value: 3, after: [top])
let bottom = sleep(100ms, value: 4, after: [left, right])
"#;

#[test]
fn a_diamond_runs_its_branches_in_parallel_and_in_order() {
    let out = Test::new().file("d.evo", DIAMOND).args(["run", "d.evo", "--json", "--jobs", "4"]).status(0);
    let s = spans(&out.stdout);
    assert_eq!(s.len(), 4, "{}", out.stdout);
    assert!(s["top"].1 <= s["left"].0 && s["top"].1 <= s["right"].0, "branches wait for the top: {s:?}");
    assert!(s["left"].1 <= s["bottom"].0 && s["right"].1 <= s["bottom"].0, "the bottom waits for both: {s:?}");
    assert!(s["left"].0 < s["right"].1 && s["right"].0 < s["left"].1, "the branches overlap: {s:?}");
}

#[test]
fn jobs_1_serialises_independent_steps() {
    let wide: String = (0..4).map(|i| format!("let s{i} = std::debug::sleep(150ms, value: {i})\n")).collect();
    let out = Test::new().file("w.evo", &wide).args(["run", "w.evo", "--json", "--jobs", "1"]).status(0);
    let mut s: Vec<(u64, u64)> = spans(&out.stdout).into_values().collect();
    s.sort();
    assert_eq!(s.len(), 4);
    for pair in s.windows(2) {
        assert!(pair[0].1 <= pair[1].0, "with --jobs 1 no two steps overlap: {s:?}");
    }
}

#[test]
fn a_wide_fan_out_overlaps_up_to_the_job_limit() {
    let wide: String = (0..6).map(|i| format!("let s{i} = std::debug::sleep(300ms, value: {i})\n")).collect();
    let out = Test::new().file("w.evo", &wide).args(["run", "w.evo", "--json", "--jobs", "3"]).status(0);
    let s: Vec<(u64, u64)> = spans(&out.stdout).into_values().collect();
    let max_overlap = s.iter().map(|(a, _)| s.iter().filter(|(b, e)| b <= a && a < e).count()).max().unwrap();
    assert_eq!(max_overlap, 3, "three at a time: {s:?}");
}

#[test]
fn resources_limit_concurrency_in_fractions() {
    let wide: String = (0..4)
        .map(|i| format!("let s{i} = std::debug::sleep(300ms, value: {i}) with {{ resources: {{ gpu: 0.5 }} }}\n"))
        .collect();
    let out = Test::new().file("g.evo", &wide).args(["run", "g.evo", "--json", "--jobs", "4"]).status(0);
    let s: Vec<(u64, u64)> = spans(&out.stdout).into_values().collect();
    let max_overlap = s.iter().map(|(a, _)| s.iter().filter(|(b, e)| b <= a && a < e).count()).max().unwrap();
    assert_eq!(max_overlap, 2, "one gpu, half each: two at a time: {s:?}");
}

#[test]
fn a_step_can_add_nodes_to_the_running_graph() {
    let dir = support::Dir::new();
    dir.file("f.evo", "let fan = std::debug::fan_out(count: 3, duration: 50ms)\n");
    let out = dir.status(["run", "f.evo", "--json"], 0);
    assert_eq!(support::ran(&out.stdout), ["fan", "fan/0", "fan/1", "fan/2"]);
    let again = dir.status(["run", "f.evo", "--json", "--rerun", "fan"], 0);
    assert_eq!(support::ran(&again.stdout), ["fan"], "the children's outputs come from the cache");
}

#[test]
fn the_summary_says_what_ran_and_where_the_journal_is() {
    let out = Test::new().file("d.evo", DIAMOND).args(["run", "d.evo", "-q"]).status(0);
    assert_eq!(out.stdout, "", "quiet prints nothing");
    let out = Test::new().file("d.evo", DIAMOND).args(["run", "d.evo"]).status(0);
    assert!(out.stdout.starts_with("succeeded: 4 steps run, 0 cached in "), "{}", out.stdout);
    assert!(out.stdout.contains(".evoflow/d/journal.duckdb"), "{}", out.stdout);
}
