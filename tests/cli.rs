//! The command line: exit codes, messages, and what each subcommand prints.

mod support;

use support::Test;

const VALID: &str = r#"use std::data::{load_interactions, random_split}
use std::models::{bpr_mf}

param seed: int = 7
param lr: float = 0.01

dataset ratings = load_interactions("ratings.csv", user: "userId", item: "movieId")
let split = random_split(ratings, seed: seed)
let trained = std::train::train(bpr_mf, split, optimizer: adam(lr: lr))
"#;

/// `VALID` with the (empty) data file it names: `check` wants the files a workflow reads.
fn valid() -> Test {
    Test::new().file("ok.evo", VALID).file("ratings.csv", "userId,movieId\n")
}

#[test]
fn help_lists_the_subcommands() {
    let out = Test::new().args(["--help"]).status(0);
    insta::assert_snapshot!(out.stdout);
}

#[test]
fn version_names_libtorch_and_duckdb() {
    let out = Test::new().args(["--version"]).status(0);
    let line = out.stdout.trim();
    assert!(line.starts_with(&format!("evoflow {} (", env!("CARGO_PKG_VERSION"))), "{line}");
    assert!(line.contains("libtorch 2.") && line.contains("DuckDB v1."), "{line}");
    assert_eq!(Test::new().args(["-V"]).status(0).stdout, out.stdout, "-V says the same");
}

#[test]
fn no_arguments_is_a_usage_error() {
    Test::new().status(2);
    Test::new().args(["check"]).status(2);
    Test::new().args(["frobnicate"]).status(2);
}

#[test]
fn quickstart_checks_cleanly() {
    let out = Test::new().in_repo().args(["check", "workflows/quickstart.evo"]).status(0);
    insta::assert_snapshot!(out.stdout, @"ok workflows/quickstart.evo: 6 steps, 1 model, 2 rewards, 3 personas");
}

#[test]
fn an_invalid_program_exits_2_with_located_diagnostics() {
    let out = Test::new()
        .file("bad.evo", "param n: int = 3\nlet s = std::data::random_split(missing, sed: n)\n")
        .args(["check", "bad.evo"])
        .status(2);
    insta::assert_snapshot!(out.stderr);
}

#[test]
fn json_diagnostics_are_machine_readable() {
    let out = Test::new()
        .file("bad.evo", "let s = random_splitt(1)\n")
        .args(["check", "bad.evo", "--format", "json"])
        .status(2);
    let diags: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    insta::assert_json_snapshot!(diags);
}

#[test]
fn json_format_prints_an_empty_list_for_a_valid_program() {
    let out = valid().args(["check", "ok.evo", "--format", "json"]).status(0);
    assert_eq!(out.stdout.trim(), "[]");
}

#[test]
fn a_missing_file_is_reported() {
    let out = Test::new().args(["check", "nope.evo"]).status(2);
    assert_eq!(out.stderr.trim(), "error: cannot read `nope.evo`: no such file");
}

#[test]
fn set_overrides_a_param_with_its_type() {
    let out = valid().args(["graph", "ok.evo", "--format", "json", "--set", "seed=42"]).status(0);
    let plan: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    let split = plan["nodes"].as_array().unwrap().iter().find(|n| n["id"] == "split").unwrap();
    assert_eq!(split["args"]["seed"], serde_json::json!({ "int": 42 }));
    let out = valid().args(["graph", "ok.evo", "--format", "json", "--set", "lr=3"]).status(0);
    assert!(out.stdout.contains(r#""float": 3.0"#), "an int given to a float param becomes a float");
}

#[test]
fn set_with_a_wrong_type_or_name_is_refused() {
    let out = valid().args(["check", "ok.evo", "--set", "seed=fast"]).status(2);
    insta::assert_snapshot!("set_wrong_type", out.stderr);
    let out = valid().args(["check", "ok.evo", "--set", "sed=3"]).status(2);
    insta::assert_snapshot!("set_unknown_name", out.stderr);
    valid().args(["check", "ok.evo", "--set", "novalue"]).status(2);
}

#[test]
fn graph_prints_the_plan_as_dot_and_mermaid() {
    let dot = Test::new().in_repo().args(["graph", "workflows/quickstart.evo"]).status(0);
    insta::assert_snapshot!("quickstart_dot", dot.stdout);
    let mermaid = Test::new().in_repo().args(["graph", "workflows/quickstart.evo", "--format", "mermaid"]).status(0);
    insta::assert_snapshot!("quickstart_mermaid", mermaid.stdout);
}

#[test]
fn relative_imports_resolve_from_the_importing_file() {
    let out = Test::new()
        .file("lib/common.evo", "use std::data::{load_interactions}\ndataset ratings = load_interactions(\"r.csv\")\n")
        .file("lib/r.csv", "user,item\n")
        .file("main.evo", "use \"./lib/common.evo\"\nlet split = std::data::random_split(ratings)\n")
        .args(["graph", "main.evo", "--format", "mermaid"])
        .status(0);
    insta::assert_snapshot!(out.stdout);
}

#[test]
fn fmt_rewrites_files_and_check_mode_changes_nothing() {
    let messy =
        "param   n :int=3   # count\nlet s=std::data::random_split( std::data::load_interactions(\"x.csv\"),seed:n)\n";
    let out = Test::new().file("m.evo", messy).args(["fmt", "--check", "m.evo"]).status(1);
    assert_eq!(out.stdout.trim(), "would reformat m.evo");
    assert_eq!(out.read("m.evo"), messy);
    let out = Test::new().file("m.evo", messy).args(["fmt", "m.evo"]).status(0);
    insta::assert_snapshot!(out.read("m.evo"));
    let formatted = out.read("m.evo");
    Test::new().file("m.evo", &formatted).args(["fmt", "--check", "m.evo"]).status(0);
}

#[test]
fn fmt_refuses_a_file_that_does_not_parse() {
    let out = Test::new().file("b.evo", "let x = (\n").args(["fmt", "b.evo"]).status(2);
    assert!(out.stderr.contains("E0103"), "{}", out.stderr);
    assert_eq!(out.read("b.evo"), "let x = (\n", "the file is left as it was");
}
