//! Bad input to `evoflow run`: a clear error, the right exit code, and nothing half-written.

mod support;

use support::{Dir, Test};

#[test]
fn a_missing_data_file_is_named() {
    // Before anything runs: the checker finds it.
    let out = Test::new().file("m.evo", "dataset d = \"missing.csv\"\n").args(["run", "m.evo"]).status(2);
    assert!(out.stderr.contains("E0804") && out.stderr.contains("no data file at `missing.csv`"), "{}", out.stderr);
}

#[test]
fn a_bad_set_is_refused_before_anything_is_written() {
    let dir = Dir::new();
    dir.file("p.evo", "param n: int = 3\nlet s = std::debug::sleep(1ms, value: n)\n");
    let out = dir.status(["run", "p.evo", "--set", "m=4"], 2);
    assert!(out.stderr.contains("no param named `m`"), "{}", out.stderr);
    let out = dir.status(["run", "p.evo", "--set", "n=four"], 2);
    assert!(out.stderr.contains("`four` is not an int"), "{}", out.stderr);
    assert!(!dir.path().join(".evoflow").exists(), "no run dir was created");
}

#[test]
fn an_unusable_run_dir_is_reported() {
    let dir = Dir::new();
    dir.file("p.evo", "let s = std::debug::sleep(1ms)\n").file("blocker", "a file, not a folder");
    let out = dir.status(["run", "p.evo", "--run-dir", "blocker/run"], 1);
    assert!(out.stderr.starts_with("error: cannot use the run dir `blocker/run`"), "{}", out.stderr);
}

#[test]
fn the_agent_tools_run_as_steps_and_a_write_is_refused_and_journaled() {
    let dir = Dir::new();
    dir.file(
        "t.evo",
        "let j = std::tools::read_journal(top: 5)\nlet q = std::tools::run_sql_query(\"SELECT count(*) AS n FROM runs\")\n",
    );
    dir.status(["run", "t.evo", "-q"], 0);
    let calls = dir.status(
        ["journal", "t.evo", "--format", "csv", "--sql", "SELECT tool, status FROM tool_calls ORDER BY tool"],
        0,
    );
    let lines: Vec<&str> = calls.stdout.lines().map(str::trim).collect();
    assert_eq!(lines, ["tool,status", "read_journal,ok", "run_sql_query,ok"], "{}", calls.stdout);
    // One experiment by its key: an unknown key is an empty table, a quote cannot break out.
    dir.file("k.evo", "let j = std::tools::read_journal(key: \"x' OR '1'='1\")\n");
    dir.status(["run", "k.evo", "-q"], 0);

    dir.file("w.evo", "let q = std::tools::run_sql_query(\"DELETE FROM runs\")\n");
    let out = dir.status(["run", "w.evo"], 1);
    assert!(out.stderr.contains("DELETE"), "{}", out.stderr);
    let runs = dir.status(["journal", "w.evo", "--format", "csv", "--sql", "SELECT count(*) AS n FROM runs"], 0);
    let lines: Vec<&str> = runs.stdout.lines().map(str::trim).collect();
    assert_eq!(lines, ["n", "1"], "the refused statement changed the journal: {}", runs.stdout);
    let calls = dir.status(["journal", "w.evo", "--format", "csv", "--sql", "SELECT status FROM tool_calls"], 0);
    let lines: Vec<&str> = calls.stdout.lines().map(str::trim).collect();
    assert_eq!(lines, ["status", "failed"], "{}", calls.stdout);
    // Refused as an input the step cannot use: the code says so on the terminal and in the journal.
    assert!(out.stderr.contains("[step::input]"), "{}", out.stderr);
    let quiet = dir.status(["run", "w.evo", "-q"], 1);
    assert!(
        quiet.stderr.starts_with("error: step `q` failed: ") && quiet.stderr.contains("[step::input]"),
        "{}",
        quiet.stderr
    );
    let steps = dir.status(
        ["journal", "w.evo", "--format", "csv", "--sql", "SELECT error FROM steps WHERE node_id = 'q' LIMIT 1"],
        0,
    );
    assert!(steps.stdout.trim_end().ends_with("[step::input]\""), "{}", steps.stdout);
}

#[test]
fn evoflow_toml_supplies_defaults_and_the_command_line_wins() {
    let dir = Dir::new();
    dir.file("p.evo", "param n: int = 3\nlet s = std::debug::echo(n)\n")
        .file("evoflow.toml", "jobs = 2\n[params]\nn = 5\n");
    let out = dir.status(["graph", "p.evo", "--format", "json"], 0);
    assert!(out.stdout.contains(r#""int": 3"#), "graph does not read evoflow.toml: {}", out.stdout);
    let out = dir.status(["run", "p.evo", "--dry-run"], 0);
    assert!(out.stdout.contains("run      s"), "{}", out.stdout);
    let out = dir.status(["explain", "p.evo", "s"], 0);
    assert!(out.stdout.contains(r#""int": 5"#), "the file's param: {}", out.stdout);
    let out = dir.status(["explain", "p.evo", "s", "--set", "n=7"], 0);
    assert!(out.stdout.contains(r#""int": 7"#), "the command line wins: {}", out.stdout);
    dir.file("evoflow.toml", "jobz = 2\n");
    let out = dir.status(["run", "p.evo"], 2);
    assert!(out.stderr.contains("unknown field `jobz`"), "{}", out.stderr);
}

#[test]
fn evoflow_toml_takes_llm_settings_and_a_budget_but_no_key() {
    let dir = Dir::new();
    dir.file("p.evo", "let s = std::debug::echo(1)\n").file(
        "evoflow.toml",
        "[llm]\nprovider = \"anthropic\"\nmodel = \"claude-x\"\ntimeout_secs = 30\nprice_input_per_mtok = 3.0\n\
         [budget]\nmax_cost_usd = 2.5\nmax_calls = 40\n",
    );
    let out = dir.status(["run", "p.evo", "--dry-run"], 0);
    assert!(out.stdout.contains("run      s"), "{}", out.stdout);

    dir.file("evoflow.toml", "[llm]\nprovider = \"openai\"\nmodel = \"m\"\napi_key = \"sk-proj-4f9XkQ2\"\n");
    let out = dir.status(["run", "p.evo", "--dry-run"], 2);
    assert!(out.stderr.contains("unknown field `api_key`"), "{}", out.stderr);
    // The error points at the line but never prints the key back, whatever the key is called.
    assert!(out.stderr.contains("line 4") && out.stderr.contains("api_key = \"<redacted>\""), "{}", out.stderr);
    assert!(!out.stderr.contains("4f9XkQ2"), "the key is printed back: {}", out.stderr);
    dir.file("evoflow.toml", "[llm]\nprovider = \"openai\"\nmodel = \"m\"\ntimeout_secs = \"sk-proj-4f9XkQ2\"\n");
    let out = dir.status(["run", "p.evo", "--dry-run"], 2);
    assert!(!out.stderr.contains("4f9XkQ2"), "a key pasted under another name is printed back: {}", out.stderr);

    dir.file("evoflow.toml", "[budget]\nmax_cost = 1\n");
    let out = dir.status(["run", "p.evo", "--dry-run"], 2);
    assert!(out.stderr.contains("unknown field `max_cost`"), "{}", out.stderr);

    dir.file("evoflow.toml", "[llm]\nprovider = \"gemini\"\nmodel = \"g\"\nbase_url = \"localhost:9\"\n");
    let out = dir.status(["run", "p.evo", "--dry-run"], 2);
    assert!(
        out.stderr.contains("[llm]: `base_url` must start with http:// or https://, not `localhost:9`"),
        "{}",
        out.stderr
    );

    dir.file("evoflow.toml", "[llm]\nprovider = \"mistral\"\nmodel = \"m\"\n");
    let out = dir.status(["run", "p.evo", "--dry-run"], 2);
    assert!(out.stderr.contains("unknown variant `mistral`"), "{}", out.stderr);
}

#[test]
fn the_journal_of_a_running_run_can_be_read_from_its_refreshed_copy() {
    let dir = Dir::new();
    dir.file(
        "w.evo",
        "use std::debug::{sleep}\nlet s1 = sleep(1500ms)\nlet s2 = sleep(1500ms, after: [s1])\nlet s3 = sleep(4s, after: [s2])\n",
    );
    let mut child = dir.spawn_quiet("w.evo");
    let snapshot = dir.path().join(".evoflow/w/journal.snapshot.duckdb");
    let started = std::time::Instant::now();
    while !snapshot.exists() {
        assert!(started.elapsed().as_secs() < 30, "no copy of the running journal");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let out = dir.status(
        ["journal", "w.evo", "--format", "csv", "--sql", "SELECT node_id, status FROM steps ORDER BY node_id"],
        0,
    );
    assert!(out.stderr.contains("a run is writing this journal"), "{}", out.stderr);
    let rows: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(rows[..3], ["node_id,status", "s1,done", "s2,done"], "{}", out.stdout);
    assert!(child.wait().unwrap().success());
    assert!(!snapshot.exists(), "the copy goes when the run ends");
    let out = dir.status(["journal", "w.evo", "--format", "csv", "--sql", "SELECT count(*) AS n FROM steps"], 0);
    assert!(!out.stderr.contains("a run is writing"), "{}", out.stderr);
    assert_eq!(out.stdout.trim(), "n\n3");
}

#[test]
fn a_run_dir_in_use_and_zero_jobs_are_usage_errors() {
    let dir = Dir::new();
    dir.file("w.evo", "let s = std::debug::sleep(3s)\n");
    let mut first = dir.spawn_quiet("w.evo");
    let journal = dir.path().join(".evoflow/w/journal.duckdb");
    while !journal.exists() {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    std::thread::sleep(std::time::Duration::from_millis(300));
    let second = dir.status(["run", "w.evo", "-q"], 2);
    assert!(second.stderr.contains("another run is using this run dir"), "{}", second.stderr);
    assert!(first.wait().unwrap().success());

    let zero = dir.status(["run", "w.evo", "--jobs", "0"], 2);
    assert!(zero.stderr.contains("--jobs"), "{}", zero.stderr);
    dir.file("evoflow.toml", "jobs = 0\n");
    let zero = dir.status(["run", "w.evo"], 2);
    assert!(zero.stderr.contains("`jobs` must be at least 1"), "{}", zero.stderr);
}
