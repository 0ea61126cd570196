//! Rendered persona prompts, with the paper's ablation switches.

mod common;

use agents::{render_prompt, HistoryEntry, PromptContext, PromptOptions, ProposalKind, Quota, SortOrder, SqlResult};
use common::{baseline, LOCAL};

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
