//! Reading proposals out of LLM replies: tolerant of fences and shapes, exact about errors.

use agents::{parse_proposals, ProposalKind};

const ONE: &str = r#"{"kind": "exploit", "explanation": "lower the rate", "delta": {"op": "set", "block": "opt", "args": {"lr": 0.01}}}"#;

#[test]
fn a_fenced_list_with_prose_around_it_parses() {
    let text = format!("Here are my ideas:\n```json\n[{ONE}, {ONE}]\n```\nGood luck!");
    let ps = parse_proposals(&text).unwrap();
    assert_eq!(ps.len(), 2);
    assert_eq!(ps[0].kind, ProposalKind::Exploit);
    assert_eq!(ps[0].delta.edits[0].block(), "opt");
}

#[test]
fn a_single_object_is_a_list_of_one() {
    assert_eq!(parse_proposals(ONE).unwrap().len(), 1);
    assert_eq!(parse_proposals(&format!("{{\"proposals\": [{ONE}]}}")).unwrap().len(), 1);
}

#[test]
fn a_list_of_edits_is_a_delta() {
    let text = r#"[{"kind": "innovate", "explanation": "x", "delta": [
        {"op": "replace", "block": "opt", "source": "optimizer opt = sgd()"},
        {"op": "set", "block": "opt", "args": {"momentum": 0.9}}]}]"#;
    assert_eq!(parse_proposals(text).unwrap()[0].delta.edits.len(), 2);
}

#[test]
fn errors_say_exactly_what_is_wrong() {
    let cases = [
        "I think we should lower the learning rate.",
        "```json\n[{\"kind\": \"explore\", \"explanation\": \"x\", \"delta\": {\"op\": \"set\", \"block\": \"opt\"}\n```",
        "[]",
        "42",
        r#"[{"kind": "explore", "delta": {"op": "set", "block": "opt", "args": {"lr": 0.1}}}]"#,
        r#"[{"kind": "wild", "explanation": "x", "delta": {"op": "set", "block": "opt", "args": {"lr": 0.1}}}]"#,
        r#"[{"kind": "explore", "explanation": "x", "delta": {"op": "rename", "block": "opt"}}]"#,
        r#"[{"kind": "explore", "explanation": "x", "delta": {"op": "replace", "block": "opt"}}]"#,
        r#"[{"kind": "explore", "explanation": "x", "delta": "lr = 0.1"}]"#,
        r#"[{"kind": "explore", "explanation": "x", "delta": []}]"#,
        r#"[{"kind": "explore", "explanation": "", "delta": {"op": "set", "block": "opt", "args": {"lr": 0.1}}}, 7]"#,
        r#"[{"kind": "explore", "explanation": "x", "delta": {"op": "set", "block": "opt", "args": {}}, "extra": 1}]"#,
    ];
    let out: Vec<String> = cases.iter().map(|c| format!("{c}\n=> {}\n", parse_proposals(c).unwrap_err())).collect();
    insta::assert_snapshot!(out.join("\n"));
}
