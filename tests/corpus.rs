//! The corpus of `.evo` programs: valid ones that check cleanly and plan, and invalid ones with
//! one mistake each, whose rendered diagnostics and JSON form are snapshots.
//!
//! Every invalid file starts with `# EXXXX kind: what the mistake is`; the test checks that the
//! file yields exactly that diagnostic. Files under `lib/` are imported by others, not programs.
//!
//! Accept new snapshots with `INSTA_UPDATE=always cargo test -p evoflow --test corpus`.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// The repository root: diagnostics name files relative to it, the same on every machine.
fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("engine/ has a parent").to_path_buf()
}

/// Reads files relative to the repository root, whatever the test's working directory.
struct RootLoader {
    root: PathBuf,
}

impl dsl::Loader for RootLoader {
    fn read(&self, path: &str) -> Result<String, String> {
        std::fs::read_to_string(self.root.join(path)).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => "no such file".to_string(),
            _ => e.to_string(),
        })
    }

    fn exists(&self, path: &str) -> bool {
        self.root.join(path).is_file()
    }

    /// A fixed environment, the same on every machine: a home folder, and the data folder
    /// relative to the program (its fixtures are in `valid/data`).
    fn var(&self, name: &str) -> Option<String> {
        match name {
            "HOME" => Some("/home/corpus".to_string()),
            "EVOFLOW_DATA" => Some("data".to_string()),
            _ => None,
        }
    }
}

/// `tests/corpus/invalid/x.evo` for a path anywhere under the root.
fn relative(path: &Path) -> String {
    let root = root().canonicalize().unwrap();
    let path = path.canonicalize().unwrap();
    path.strip_prefix(&root).expect("corpus files lie under the root").to_string_lossy().replace('\\', "/")
}

/// Checks the program at `rel` (relative to the root).
fn check_file(rel: &str) -> dsl::Checked {
    let loader = RootLoader { root: root() };
    let text = dsl::Loader::read(&loader, rel).unwrap_or_else(|e| panic!("{rel}: {e}"));
    dsl::check(rel, &text, &loader, &[])
}

/// The `.evo` files directly in `dir` (not in `lib/`), sorted.
fn programs(dir: &str) -> Vec<String> {
    let mut files: Vec<String> = std::fs::read_dir(root().join(dir))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file() && p.extension().is_some_and(|x| x == "evo"))
        .map(|p| relative(&p))
        .collect();
    files.sort();
    files
}

/// A compact, stable summary of a plan: each node with its step and what it reads.
fn plan_summary(program: &dsl::Program) -> String {
    let plan = dsl::Plan::new(program);
    assert_eq!(plan.len(), program.nodes.len());
    let order = plan.topo_order();
    assert_eq!(order.len(), program.nodes.len(), "the plan is a DAG over every node");
    let mut out = String::new();
    for node in program.nodes.values() {
        let deps = node.deps();
        let step = node.step.rsplit("::").next().unwrap_or(&node.step);
        if deps.is_empty() {
            out.push_str(&format!("{} = {step}\n", node.id));
        } else {
            out.push_str(&format!("{} = {step} <- {}\n", node.id, deps.join(", ")));
        }
    }
    out
}

#[test]
fn valid_programs_check_and_plan() {
    insta::glob!("corpus/valid/*.evo", |path| {
        let rel = relative(path);
        let checked = check_file(&rel);
        let program = match checked.result {
            Ok(program) => program,
            Err(diags) => {
                panic!("{rel} should check cleanly:\n{}", dsl::render::render(&diags, &checked.sources, false))
            }
        };
        assert!(!program.nodes.is_empty(), "{rel} has steps");
        insta::assert_snapshot!("plan", plan_summary(&program));
    });
}

#[test]
fn valid_helper_modules_check_on_their_own() {
    let helpers = programs("tests/corpus/valid/lib");
    assert!(!helpers.is_empty());
    for rel in helpers {
        let checked = check_file(&rel);
        if let Err(diags) = checked.result {
            panic!("{rel} should check cleanly:\n{}", dsl::render::render(&diags, &checked.sources, false));
        }
    }
}

/// The code an invalid file's first line promises: `# E0101 syntax: ...`.
fn expected_code(rel: &str) -> String {
    let text = std::fs::read_to_string(root().join(rel)).unwrap();
    let first = text.lines().next().unwrap_or_default();
    let code = first.strip_prefix("# ").and_then(|rest| rest.split_whitespace().next()).unwrap_or_default();
    assert!(
        code.len() == 5 && code.starts_with('E') && code[1..].chars().all(|c| c.is_ascii_digit()),
        "{rel} must start with `# EXXXX kind: what the mistake is`, found {first:?}"
    );
    code.to_string()
}

#[test]
fn invalid_programs_report_their_mistake() {
    insta::glob!("corpus/invalid/*.evo", |path| {
        let rel = relative(path);
        let checked = check_file(&rel);
        let diags = match checked.result {
            Ok(_) => panic!("{rel} should not check"),
            Err(diags) => diags,
        };
        let rendered = dsl::render::render(&diags, &checked.sources, false);
        let code = expected_code(&rel);
        let codes: Vec<&str> = diags.iter().map(|d| d.code()).collect();
        assert_eq!(codes, [code.as_str()], "{rel}: one mistake, one diagnostic:\n{rendered}");
        insta::assert_snapshot!("rendered", rendered);
        insta::assert_json_snapshot!("json", dsl::render::to_json(&diags, &checked.sources));
    });
}

/// Every code a file can trigger: all of `ErrorKind`'s but E0314 and E0315 (`--set` mistakes).
#[rustfmt::skip]
const FILE_CODES: &[&str] = &[
    "E0101", "E0102", "E0103", "E0104", "E0105", "E0106", "E0107", // syntax
    "E0201", "E0202", "E0203", "E0204", "E0205", "E0206", "E0207", // names, modules and paths
    "E0301", "E0302", "E0303", "E0304", "E0305", "E0306", "E0307", "E0308", "E0309", "E0310", "E0311",
    "E0312", "E0313", "E0316", // types and arguments
    "E0401", "E0402", "E0403", "E0404", "E0405", "E0406", "E0407", "E0408", "E0409", "E0410", "E0411",
    "E0412", "E0413", // model shapes and side features
    "E0501", "E0502", "E0503", "E0504", "E0505", "E0506", "E0507", "E0508", "E0509", // rewards
    "E0601", // data flow
    "E0701", "E0702", "E0703", "E0704", "E0705", "E0706", // personas
    "E0801", "E0802", "E0803", "E0804", // datasets
];

#[test]
fn invalid_corpus_covers_every_error_code() {
    let files = programs("tests/corpus/invalid");
    assert!(files.len() >= 40, "at least 40 distinct mistakes, found {}", files.len());
    let mut seen = BTreeSet::new();
    for rel in &files {
        if let Err(diags) = check_file(rel).result {
            seen.extend(diags.iter().map(|d| d.code()));
        }
    }
    let missing: Vec<&&str> = FILE_CODES.iter().filter(|c| !seen.contains(**c)).collect();
    assert!(missing.is_empty(), "no corpus file triggers {missing:?}");
    let unexpected: Vec<&&str> = seen.iter().filter(|c| !FILE_CODES.contains(c)).collect();
    assert!(unexpected.is_empty(), "codes outside the list: {unexpected:?}");
}

#[test]
fn every_stdlib_item_checks_when_used() {
    // Import every item of every stdlib module under a unique alias, and use each one.
    let mut uses = String::new();
    let (mut models, mut rewards, mut personas, mut others) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for (i, (path, text)) in dsl::stdlib::modules().enumerate() {
        let module = format!("std::{}", path.trim_end_matches(".evo").replace('/', "::"));
        let parsed = dsl::parse::parse(dsl::FileId(0), text).unwrap_or_else(|_| panic!("{module} parses"));
        let mut names = Vec::new();
        for item in &parsed.items {
            let Some(name) = item.name() else { continue };
            let alias = format!("{}_{i}", name.name);
            names.push(format!("{} as {alias}", name.name));
            let qualified = format!("{module}::{}", name.name);
            match item {
                dsl::ast::Item::Model(_) => models.push((alias, qualified)),
                dsl::ast::Item::Reward(_) => rewards.push((alias, qualified)),
                dsl::ast::Item::Persona(_) => personas.push((alias, qualified)),
                dsl::ast::Item::Step(_) => panic!("{qualified}: teach this test to call stdlib steps"),
                _ => others.push((alias, qualified)),
            }
        }
        if !names.is_empty() {
            uses.push_str(&format!("use {module}::{{{}}}\n", names.join(", ")));
        }
    }
    assert!(!models.is_empty() && !rewards.is_empty() && !personas.is_empty());
    let mut program = uses;
    program.push_str(
        "use std::sim::{logs as sim_logs, satisfaction as sim_env}\n\
         use std::data::{random_split as split_data}\n\
         use std::train::{train as train_model}\n\
         use std::loops::{offline as fast_loop, top as best, online as slow_loop}\n\
         dataset stdlib_events = sim_logs(users: 100, items: 50, days: 2)\n\
         let stdlib_split = split_data(stdlib_events)\n",
    );
    for (alias, _) in &models {
        program.push_str(&format!("let trained_{alias} = train_model({alias}, stdlib_split, epochs: 1)\n"));
    }
    for (alias, _) in &rewards {
        program
            .push_str(&format!("let rewarded_{alias} = train_model({}, stdlib_split, reward: {alias})\n", models[0].0));
    }
    for (alias, _) in &others {
        program.push_str(&format!("let used_{alias} = {alias}\n"));
    }
    let team: Vec<&str> = personas.iter().map(|(alias, _)| alias.as_str()).collect();
    program.push_str(&format!(
        "let evolved = fast_loop(baseline: {{ model: {}, optimizer: adam(), reward: {} }}, data: stdlib_split, \
         personas: [{}])\nlet decided = slow_loop(candidates: best(evolved), env: sim_env(), primary: return_rate)\n",
        models[0].0,
        rewards[0].0,
        team.join(", ")
    ));
    let loader = RootLoader { root: root() };
    let checked = dsl::check("stdlib_use.evo", &program, &loader, &[]);
    let checked_program = match checked.result {
        Ok(p) => p,
        Err(diags) => panic!("{program}\n{}", dsl::render::render(&diags, &checked.sources, false)),
    };
    for (_, qualified) in &models {
        assert!(checked_program.models.contains_key(qualified), "{qualified} is checked");
    }
    for (_, qualified) in &rewards {
        assert!(checked_program.rewards.contains_key(qualified), "{qualified} is checked");
    }
    for (_, qualified) in &personas {
        assert!(checked_program.personas.contains_key(qualified), "{qualified} is checked");
    }
    dsl::Plan::new(&checked_program);
}
