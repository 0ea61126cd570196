//! Rendered persona prompts, with the paper's ablation switches.

mod common;

use agents::{render_prompt, HistoryEntry, PromptContext, PromptOptions, ProposalKind, Quota, SortOrder, SqlResult};
use common::{baseline, workflow_with_std_model, LOCAL};

fn history() -> Vec<HistoryEntry> {
    let entry =
        |id: &str, persona: &str, score: Option<f64>, time: u64, status: &str, explanation: &str| HistoryEntry {
            id: id.into(),
            key: None,
            persona: persona.into(),
            operator: "lr_down".into(),
            kind: ProposalKind::Exploit,
            explanation: explanation.into(),
            metric: "ndcg@10".into(),
            score,
            status: status.into(),
            time,
            params: score.map(|_| 168_000),
        };
    vec![
        entry("1", "optimizer", Some(0.21), 1, "trained", "adam at 1e-3"),
        entry("2", "architecture", Some(0.25), 2, "trained", "a gated path"),
        entry("3", "architecture", None, 3, "failed", "a cross layer"),
        entry("4", "optimizer", Some(0.19), 4, "trained", "cosine schedule"),
    ]
}

fn context() -> PromptContext {
    PromptContext {
        task: None,
        metric: "ndcg@10".into(),
        sql_results: vec![SqlResult {
            sql: "SELECT avg(watch_seconds) FROM events".into(),
            table: "avg(watch_seconds)\n41.7".into(),
        }],
        history: history(),
        quota: Quota::new(2, 2, 1),
        data: Some("943 users, 1,682 items; 80,808 / 9,596 / 9,596 train / valid / test rows".into()),
        training: Some("loss bpr, batch 2048, at most 100 epochs".into()),
    }
}

#[test]
fn the_optimizer_prompt() {
    let b = baseline(LOCAL);
    let p = b.persona("optimizer").unwrap();
    insta::assert_snapshot!(render_prompt(&p, &b, &context(), &PromptOptions::for_persona(&p)).unwrap());
}

#[test]
fn the_architecture_prompt_without_persona_and_by_time_with_two_entries() {
    let b = baseline(LOCAL);
    let p = b.persona("architecture").unwrap();
    let options = PromptOptions { history: 2, sort: SortOrder::Time, persona: false };
    insta::assert_snapshot!(render_prompt(&p, &b, &context(), &options).unwrap());
}

#[test]
fn the_reward_prompt_with_no_history() {
    let b = baseline(LOCAL);
    let p = b.persona("reward").unwrap();
    let options = PromptOptions { history: 0, sort: SortOrder::None, persona: true };
    let out = render_prompt(&p, &b, &PromptContext { history: vec![], ..context() }, &options).unwrap();
    assert!(!out.contains("Experiment journal"));
    insta::assert_snapshot!(out);
}

#[test]
fn score_order_puts_the_best_first_and_unscored_last() {
    let h = history();
    let rows = agents::prompt::select_history(&h, &PromptOptions::default());
    let ids: Vec<&str> = rows.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids, ["2", "1", "4", "3"]);
}

#[test]
fn a_template_that_does_not_parse_is_a_clear_error() {
    let b = baseline(LOCAL);
    let mut p = b.persona("optimizer").unwrap();
    p.prompt = "{% extends \"base.j2\" %}{% block persona %}unclosed".into();
    let e = render_prompt(&p, &b, &context(), &PromptOptions::default()).unwrap_err();
    assert!(e.message.starts_with("the `optimizer` persona's prompt template"), "{e}");
}

/// The agent must see what it edits: a model imported from the stdlib is shown in full (the
/// baseline file holds only its `use` line), with the operations and shape rules it may use, the
/// data and the training it will get; its objective is the metric, nothing else.
#[test]
fn the_architecture_prompt_shows_an_imported_model_and_the_operations() {
    let b = baseline(&workflow_with_std_model("bpr_mf"));
    let p = b.persona("architecture").unwrap();
    let out = render_prompt(&p, &b, &context(), &PromptOptions::for_persona(&p)).unwrap();
    assert!(out.contains("u = embed(user, 64)"), "the stdlib model's source:\n{out}");
    assert!(out.contains("| `dot(a, b)` | `[n]`, `[n]` | `[1]` |"), "the operations table:\n{out}");
    assert!(out.contains("943 users, 1,682 items") && out.contains("at most 100 epochs"), "{out}");
    assert!(!out.contains("validation loss"), "one objective, the metric:\n{out}");
    assert!(out.contains("params=168000"), "past experiments' sizes:\n{out}");
    insta::assert_snapshot!(out);
}

/// The side features a split supplies are listed with their types and owners: the model inputs
/// the architect may add.
#[test]
fn the_architecture_prompt_lists_the_side_features() {
    let b = common::baseline_with_files(common::WITH_FEATURES, &["items.csv", "users.csv"]);
    let p = b.persona("architecture").unwrap();
    let out = render_prompt(&p, &b, &context(), &PromptOptions::for_persona(&p)).unwrap();
    let line = "`genre` (str, per item), `price` (float, per item), `band` (int, per user)";
    assert!(out.contains(line), "{out}");
    let plain = baseline(&workflow_with_std_model("bpr_mf"));
    let out = render_prompt(&p, &plain, &context(), &PromptOptions::for_persona(&p)).unwrap();
    assert!(!out.contains("Side features"), "{out}");
}

#[test]
fn the_optimizer_prompt_lists_every_argument_with_its_default() {
    let b = baseline(LOCAL);
    let p = b.persona("optimizer").unwrap();
    let out = render_prompt(&p, &b, &context(), &PromptOptions::for_persona(&p)).unwrap();
    for arg in ["`loss`", "`negatives`", "`temperature`", "`weight_decay`", "`momentum`"] {
        assert!(out.contains(arg), "{arg} missing:\n{out}");
    }
}

/// The reference agents read is the language guide's table, row for row.
#[test]
fn the_operations_table_is_the_language_guides() {
    let guide = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../grammar/README.md")).unwrap();
    for (call, operands, result) in dsl::shape::REFERENCE {
        let row = format!("| {call} | {operands} | {result} |");
        assert!(guide.contains(&row), "grammar/README.md lacks {row}");
    }
}
