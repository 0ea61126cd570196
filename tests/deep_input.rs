//! Hostile nesting through the front end (what an agent's proposal can hold): refused with a
//! located E0107, never a stack overflow, on a thread with the 8 MiB stack `evoflow run` gives
//! its workers (and Linux its main thread).

fn check_on_a_small_stack(text: String) -> Vec<dsl::Diagnostic> {
    std::thread::Builder::new()
        .stack_size(8 << 20)
        .spawn(move || match dsl::check("deep.evo", &text, &dsl::NoFiles, &[]).result {
            Ok(_) => Vec::new(),
            Err(diags) => diags,
        })
        .unwrap()
        .join()
        .expect("checking must not overflow the stack")
}

fn refused_at(text: String, line: usize) {
    let diags = check_on_a_small_stack(text.clone());
    let codes: Vec<&str> = diags.iter().map(|d| d.code()).collect();
    assert_eq!(codes, ["E0107"], "{diags:?}");
    let mut sources = dsl::SourceMap::default();
    let file = sources.add("deep.evo", &text);
    assert_eq!(diags[0].span.file, file);
    assert_eq!(text[..diags[0].span.start as usize].matches('\n').count() + 1, line);
}

#[test]
fn brackets_nested_100000_deep_are_refused() {
    let n = 100_000;
    refused_at(format!("let x = std::debug::echo({}1{})\n", "[".repeat(n), "]".repeat(n)), 1);
    refused_at(format!("use std::debug::{{echo}}\nlet x = echo({}1{})\n", "(".repeat(n), ")".repeat(n)), 2);
}

#[test]
fn an_operator_chain_100000_long_is_refused() {
    refused_at(format!("reward r(e) -> float {{\n  {}\n}}\n", vec!["e.x"; 100_000].join(" + ")), 2);
}

#[test]
fn prefix_operators_100000_deep_are_refused() {
    refused_at(format!("reward r(e) -> float {{\n  {}e.x\n}}\n", "-".repeat(100_000)), 2);
}

#[test]
fn a_field_chain_100000_long_is_refused() {
    refused_at(format!("reward r(e) -> float {{\n  e{}\n}}\n", ".x".repeat(100_000)), 2);
}

#[test]
fn an_else_if_chain_5000_long_is_refused() {
    let chain: Vec<String> = (0..5_000).map(|i| format!("if e.x > {i}.0 {{ 1.0 }}")).collect();
    refused_at(format!("reward r(e) -> float {{\n  {} else {{ 0.0 }}\n}}\n", chain.join(" else ")), 2);
}

#[test]
fn expressions_up_to_the_limits_check() {
    let long = vec!["e.x"; dsl::MAX_EXPR_DEPTH - 2].join(" + ");
    assert!(check_on_a_small_stack(format!("reward r(e) -> float {{\n  {long}\n}}\n")).is_empty());
    let deep = format!("{}embed(user, 8){}", "relu(".repeat(dsl::MAX_NESTING - 2), ")".repeat(dsl::MAX_NESTING - 2));
    let model = format!("model m {{\n  input user: id, item: id\n  h = {deep}\n  score = dense(h, 1)\n}}\n");
    assert!(check_on_a_small_stack(model).is_empty());
}
