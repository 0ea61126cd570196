//! The cache: an unchanged re-run runs nothing; a change re-runs exactly the steps it reaches;
//! `explain` names what changed.

mod support;

use support::{ran, Dir};

const PIPELINE: &str = r#"use std::debug::{sleep, echo}

param seed: int = 7

model tiny {
  input user: id, item: id
  score = dot(embed(user, 8), embed(item, 8))
}

let a = sleep(10ms, value: seed)
let b = echo(a)
let m = echo(tiny, after: [b])
let c = sleep(10ms, value: 3)
"#;

fn run(dir: &Dir, extra: &[&str]) -> Vec<String> {
    let mut args = vec!["run", "p.evo", "--json"];
    args.extend(extra);
    ran(&dir.status(args, 0).stdout)
}

#[test]
fn an_unchanged_rerun_runs_nothing() {
    let dir = Dir::new();
    dir.file("p.evo", PIPELINE);
    assert_eq!(run(&dir, &[]), ["a", "b", "c", "m"]);
    assert_eq!(run(&dir, &[]), Vec::<String>::new());
}

#[test]
fn a_param_change_reruns_exactly_its_dependents() {
    let dir = Dir::new();
    dir.file("p.evo", PIPELINE);
    run(&dir, &[]);
    assert_eq!(run(&dir, &["--set", "seed=8"]), ["a", "b", "m"], "c does not read seed");
    assert_eq!(run(&dir, &["--set", "seed=8"]), Vec::<String>::new());
    assert_eq!(run(&dir, &[]), Vec::<String>::new(), "seed=7's outputs are still in the cache");
}

#[test]
fn a_model_block_change_reruns_exactly_the_steps_that_use_it() {
    let dir = Dir::new();
    dir.file("p.evo", PIPELINE);
    run(&dir, &[]);
    dir.file("p.evo", &PIPELINE.replace("embed(user, 8), embed(item, 8)", "embed(user, 16), embed(item, 16)"));
    assert_eq!(run(&dir, &[]), ["m"]);
}

#[test]
fn formatting_or_comments_change_nothing() {
    let dir = Dir::new();
    dir.file("p.evo", PIPELINE);
    run(&dir, &[]);
    dir.file("p.evo", &format!("# a comment\n{}", PIPELINE.replace("let c = sleep(10ms,", "let c   =  sleep( 10ms ,")));
    assert_eq!(run(&dir, &[]), Vec::<String>::new());
}

#[test]
fn an_upstream_output_change_reruns_its_dependents_only_when_the_output_differs() {
    let dir = Dir::new();
    dir.file("p.evo", PIPELINE);
    run(&dir, &[]);
    // `b` runs again but produces the same output: `m` stays cached (content, not time, decides).
    assert_eq!(run(&dir, &["--rerun", "b"]), ["b"]);
    dir.file("p.evo", &PIPELINE.replace("let b = echo(a)", "let b = echo(c)"));
    assert_eq!(run(&dir, &[]), ["b", "m"], "a new output of b reaches m");
}

#[test]
fn no_cache_runs_everything() {
    let dir = Dir::new();
    dir.file("p.evo", PIPELINE);
    run(&dir, &[]);
    assert_eq!(run(&dir, &["--no-cache"]), ["a", "b", "c", "m"]);
}

#[test]
fn dry_run_says_what_would_run_and_why() {
    let dir = Dir::new();
    dir.file("p.evo", PIPELINE);
    let first = dir.status(["run", "p.evo", "--dry-run"], 0);
    insta::assert_snapshot!("dry_run_fresh", first.stdout);
    run(&dir, &[]);
    let changed = dir.status(["run", "p.evo", "--dry-run", "--set", "seed=9"], 0);
    insta::assert_snapshot!("dry_run_changed", changed.stdout);
    assert!(!dir.path().join(".evoflow/p/journal.duckdb").exists() || run(&dir, &[]).is_empty());
}

#[test]
fn explain_names_the_changed_component() {
    let dir = Dir::new();
    dir.file("p.evo", PIPELINE);
    run(&dir, &[]);
    let out = dir.status(["explain", "p.evo", "b", "--set", "seed=9"], 0);
    let text = out.stdout.lines().take_while(|l| !l.starts_with("key ")).collect::<Vec<_>>().join("\n");
    insta::assert_snapshot!("explain_after_upstream", text);
    dir.file("p.evo", &PIPELINE.replace("embed(user, 8), embed(item, 8)", "embed(user, 4), embed(item, 4)"));
    let out = dir.status(["explain", "p.evo", "m"], 0);
    let text = out.stdout.lines().take_while(|l| !l.starts_with("key ")).collect::<Vec<_>>().join("\n");
    insta::assert_snapshot!("explain_block_changed", text);
    let out = dir.status(["explain", "p.evo", "c"], 0);
    assert!(out.stdout.contains("cached: the key matches a finished run"), "{}", out.stdout);
    let bad = dir.status(["explain", "p.evo", "cc"], 2);
    assert!(bad.stderr.contains("did you mean `c`?"), "{}", bad.stderr);
}

#[test]
fn an_external_reward_module_change_reruns_the_steps_that_use_it() {
    let dir = Dir::new();
    dir.file("r.wat", "(module)").file("p.evo", "reward ext = wasm(\"r.wat\")\nlet m = std::debug::echo(ext)\n");
    assert_eq!(ran(&dir.status(["run", "p.evo", "--json"], 0).stdout), ["m"]);
    assert_eq!(ran(&dir.status(["run", "p.evo", "--json"], 0).stdout), Vec::<String>::new());
    dir.file("r.wat", "(module (memory 1))");
    assert_eq!(ran(&dir.status(["run", "p.evo", "--json"], 0).stdout), ["m"], "the module's bytes are in the key");
}

#[test]
fn a_key_names_the_evoflow_release_so_an_upgrade_recomputes() {
    let dir = Dir::new();
    dir.file("p.evo", PIPELINE);
    run(&dir, &[]);
    let out = dir.status(["explain", "p.evo", "a"], 0);
    let key = out.stdout.split_once("key ").map(|(_, k)| k).unwrap_or_default();
    let json = key.split_once(":\n").map(|(_, j)| j).unwrap_or_default();
    let key: serde_json::Value = serde_json::from_str(json.trim()).unwrap_or_else(|e| panic!("{e}: {}", out.stdout));
    assert_eq!(key["evoflow"], env!("CARGO_PKG_VERSION"), "{key}");
    assert_eq!(key["version"], 1, "{key}");
}

#[test]
fn a_persona_prompt_template_change_reruns_the_steps_that_use_the_persona() {
    let dir = Dir::new();
    dir.file("tune.j2", "Tune the optimizer of {{ baseline }}.\n").file(
        "p.evo",
        "persona tuner {\n  description: \"tunes\"\n  edits: optimizer\n  prompt: file(\"tune.j2\")\n}\n\
         let m = std::debug::echo(tuner)\nlet c = std::debug::echo(1)\n",
    );
    assert_eq!(ran(&dir.status(["run", "p.evo", "--json"], 0).stdout), ["c", "m"]);
    assert_eq!(ran(&dir.status(["run", "p.evo", "--json"], 0).stdout), Vec::<String>::new());
    dir.file("tune.j2", "Tune the optimizer of {{ baseline }}; keep the learning rate small.\n");
    assert_eq!(ran(&dir.status(["run", "p.evo", "--json"], 0).stdout), ["m"], "the template is in the key");
}

const DATA: &str = r#"use std::sim::{logs}
use std::data::{random_split}

dataset events = logs(users: 200, items: 50, days: 2, seed: 3)
let split = random_split(events, valid: 0.1, test: 0.1, seed: 3)
"#;

#[test]
fn a_damaged_cached_output_is_named_and_made_again_never_reused() {
    let dir = Dir::new();
    dir.file("p.evo", DATA);
    assert_eq!(run(&dir, &[]), ["events", "split"]);
    let object = support::output_dir(&dir, "p.evo", "split");
    let train = object.join("train.parquet");
    let original = std::fs::read(&train).unwrap();
    type Damage<'a> = (&'a str, Box<dyn Fn() + 'a>);
    let damages: [Damage; 3] = [
        // The same size, one byte flipped: only the bytes can tell.
        (
            "its bytes changed",
            Box::new(|| {
                let mut bytes = original.clone();
                bytes[original.len() / 2] ^= 0x55;
                std::fs::write(&train, bytes).unwrap();
            }),
        ),
        ("bytes, ", Box::new(|| std::fs::write(&train, &original[..100]).unwrap())),
        ("is missing", Box::new(|| std::fs::remove_file(&train).unwrap())),
    ];
    for (said, damage) in damages {
        damage();
        let out = dir.status(["run", "p.evo", "--json"], 0);
        assert_eq!(ran(&out.stdout), ["split"], "{said}: the damaged output is made again");
        assert!(out.stderr.contains("the cached output of `split` is damaged"), "{}", out.stderr);
        assert!(out.stderr.contains("train.parquet") && out.stderr.contains(said), "{said}: {}", out.stderr);
        // Made again from the same inputs: the same content, under the same name.
        assert_eq!(std::fs::read(&train).unwrap(), original);
        assert_eq!(run(&dir, &[]), Vec::<String>::new(), "{said}: whole again, it is reused");
    }
}
