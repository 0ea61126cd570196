//! The formatter is idempotent and preserves the plan; the front end never panics, whatever the
//! input.

mod support;

use std::path::{Path, PathBuf};

use proptest::prelude::*;

/// Reads imports from the repository root.
struct RepoLoader;

impl dsl::Loader for RepoLoader {
    fn read(&self, path: &str) -> Result<String, String> {
        std::fs::read_to_string(support::repo_root().join(path)).map_err(|e| e.to_string())
    }

    fn exists(&self, path: &str) -> bool {
        support::repo_root().join(path).is_file()
    }
}

fn format(text: &str) -> Result<String, Vec<dsl::Diagnostic>> {
    let mut sources = dsl::SourceMap::default();
    let file = sources.add("x.evo", text);
    let module = dsl::parse::parse(file, text)?;
    Ok(dsl::fmt::format(&module, text))
}

/// The plan as JSON, or the error codes: what formatting must not change.
fn meaning(path: &str, text: &str) -> Result<serde_json::Value, Vec<&'static str>> {
    let checked = dsl::check(path, text, &RepoLoader, &[]);
    match checked.result {
        Ok(program) => Ok(serde_json::json!({
            "plan": dsl::Plan::new(&program).to_json(),
            "models": program.models,
            "rewards": program.rewards,
            "personas": program.personas,
            "params": program.params,
        })),
        Err(diags) => Err(diags.iter().map(|d| d.code()).collect()),
    }
}

fn evo_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries {
        let path = entry.unwrap().path();
        // Hidden folders are run dirs (`.evoflow/`): outputs of a local run, not shipped files.
        let hidden = path.file_name().is_some_and(|n| n.to_string_lossy().starts_with('.'));
        if path.is_dir() && !hidden {
            evo_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "evo") {
            out.push(path);
        }
    }
}

/// Every valid program we ship or test with.
fn corpus() -> Vec<(String, String)> {
    let root = support::repo_root();
    let mut files = Vec::new();
    for dir in ["workflows", "stdlib", "tests/corpus/valid"] {
        evo_files(&root.join(dir), &mut files);
    }
    files.sort();
    files
        .into_iter()
        .map(|p| {
            let rel = p.strip_prefix(&root).unwrap().to_string_lossy().into_owned();
            (rel, std::fs::read_to_string(&p).unwrap())
        })
        .collect()
}

#[test]
fn formatting_the_corpus_is_idempotent_and_keeps_the_plan() {
    let corpus = corpus();
    assert!(corpus.len() >= 4, "the corpus is there");
    for (path, text) in corpus {
        let once = format(&text).unwrap_or_else(|e| panic!("{path} does not parse: {e:?}"));
        let twice = format(&once).unwrap();
        assert_eq!(once, twice, "formatting {path} twice changes it");
        assert_eq!(meaning(&path, &text), meaning(&path, &once), "formatting {path} changes its meaning");
        let comments = |t: &str| t.lines().filter(|l| l.trim_start().starts_with('#') || l.contains(" # ")).count();
        assert_eq!(comments(&text), comments(&once), "formatting {path} loses a comment");
    }
}

#[test]
fn shipped_files_are_formatted() {
    for (path, text) in corpus() {
        if path.starts_with("workflows/") || path.starts_with("stdlib/") {
            assert_eq!(format(&text).unwrap(), text, "{path} is not in canonical form: run `evoflow fmt {path}`");
        }
    }
}

#[test]
fn a_comment_inside_a_statement_after_a_blank_line_moves_above_it_once() {
    // Found by `the_checker_never_panics_on_damaged_programs`: the comment moved out of the
    // statement saw the statement's blank line again, and the second pass removed the extra one.
    let text = "use std::sim::{logs}\n\nparam seed: events = logs(users: 100, # note\n  seed: seed)\n";
    let once = format(text).unwrap();
    assert_eq!(once, "use std::sim::{logs}\n\n# note\nparam seed: events = logs(users: 100, seed: seed)\n");
    assert_eq!(format(&once).unwrap(), once);
}

#[test]
fn a_field_of_a_literal_keeps_its_space_so_the_literal_does_not_swallow_the_field() {
    // Found by the fuzzer: `0 .e` parses (a field of the literal 0; the checker refuses it), but
    // the formatter wrote `0.e`, which lexes as one literal with the unknown unit `e`.
    let text = "let a = f(0 .se2t)\nlet b = 5m .x\nlet c = ndcg@10 .y\nlet d = 1.5 .z\nlet e = g(2) .w\n";
    let once = format(text).unwrap();
    assert_eq!(once, "let a = f(0 .se2t)\nlet b = 5m .x\nlet c = ndcg@10 .y\nlet d = 1.5 .z\nlet e = g(2).w\n");
    assert_eq!(format(&once).unwrap(), once);
}

// ---------------------------------------------------------------- generated programs

fn ws() -> impl Strategy<Value = &'static str> {
    prop_oneof![Just(" "), Just("  "), Just("\n    "), Just(" # note\n  ")]
}

/// A layer that keeps the model well-shaped, with `{x}` for its input.
fn layer() -> impl Strategy<Value = String> {
    prop_oneof![
        (1u64..64).prop_map(|units| format!("dense({{x}}, {units})")),
        Just("relu({x})".to_string()),
        Just("layer_norm({x})".to_string()),
        Just("dropout({x}, 0.1)".to_string()),
        Just("{x} * sigmoid({x})".to_string()),
        Just("cross({x}, {x})".to_string()),
    ]
}

fn model() -> impl Strategy<Value = String> {
    (1u64..48, prop::collection::vec(layer(), 0..6), ws()).prop_map(|(dim, layers, w)| {
        let mut text = format!(
            "model m {{\n  input user: id,{w}item: id\n  h0 = concat(embed(user, {dim}), embed(item, {dim}))\n"
        );
        for (i, layer) in layers.iter().enumerate() {
            text.push_str(&format!("  h{} = {}\n", i + 1, layer.replace("{x}", &format!("h{i}"))));
        }
        text.push_str(&format!("  score = dense(h{}, 1)\n}}\n", layers.len()));
        text
    })
}

fn reward_expr() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![
        Just("e.watch_seconds".to_string()),
        Just("(e.survey ?? 0.0)".to_string()),
        (0u32..100).prop_map(|n| format!("{n}.5")),
        Just("if e.like { 1.0 } else { 0.0 }".to_string()),
    ];
    leaf.prop_recursive(3, 12, 2, |inner| {
        prop_oneof![
            (inner.clone(), inner.clone(), prop_oneof![Just("+"), Just("-"), Just("*"), Just("/")])
                .prop_map(|(a, b, op)| format!("{a} {op} {b}")),
            inner.clone().prop_map(|a| format!("log1p(abs({a}))")),
            (inner.clone(), inner).prop_map(|(a, b)| format!("max({a}, {b})")),
        ]
    })
}

fn program() -> impl Strategy<Value = String> {
    (model(), reward_expr(), 1i64..100, ws(), any::<bool>()).prop_map(|(model, reward, seed, w, trailing)| {
        let comment = if trailing { "  # trailing" } else { "" };
        format!(
            "# generated\nuse std::sim::{{logs}}\nuse std::data::{{random_split}}\n\nparam seed: int = {seed}{comment}\n\
             dataset events = logs(users: 100,{w}seed: seed)\nlet split = random_split(events, seed: seed){comment}\n\n\
             {model}\nreward r(e: events) -> float {{\n  {reward}\n}}\n\
             let trained = std::train::train(m,{w}split, reward: r, optimizer: adam(lr: 1e-3))\n"
        )
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn generated_programs_check_and_format_stably(text in program()) {
        let first = meaning("gen.evo", &text);
        prop_assert!(first.is_ok(), "generated program does not check: {:?}\n{}", first, text);
        let once = format(&text).unwrap();
        prop_assert_eq!(&format(&once).unwrap(), &once);
        prop_assert_eq!(first, meaning("gen.evo", &once));
    }

    #[test]
    fn the_parser_never_panics_on_arbitrary_text(text in "\\PC{0,200}") {
        let _ = format(&text);
    }

    #[test]
    fn the_parser_never_panics_on_arbitrary_bytes(bytes in prop::collection::vec(any::<u8>(), 0..300)) {
        let _ = format(&String::from_utf8_lossy(&bytes));
    }

    #[test]
    fn the_checker_never_panics_on_damaged_programs(text in program(), cut in 0usize..2000, len in 1usize..20) {
        let start = cut % text.len();
        let mut damaged = text.clone();
        let end = (start + len).min(damaged.len());
        if damaged.is_char_boundary(start) && damaged.is_char_boundary(end) {
            damaged.replace_range(start..end, "");
        }
        let _ = meaning("gen.evo", &damaged);
        if let Ok(formatted) = format(&damaged) {
            prop_assert_eq!(format(&formatted).unwrap(), formatted);
        }
    }
}
