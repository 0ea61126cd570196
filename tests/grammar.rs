//! The TextMate grammar of `editors/vscode`, run through VS Code's own tokenizer
//! (`scripts/test-grammar.sh`, which installs it on first use): every valid `.evo` file of the
//! repository tokenizes without an `invalid` scope, and a stray character is flagged.

mod support;

use std::process::Command;

use support::{repo_root, Dir};

fn tokenize(files: &[&std::path::Path]) -> (bool, String) {
    let out = Command::new(repo_root().join("scripts/test-grammar.sh"))
        .args(files)
        .current_dir(repo_root())
        .output()
        .unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    (out.status.success(), text)
}

#[test]
fn every_valid_file_tokenizes_without_an_invalid_scope() {
    let (ok, out) = tokenize(&[]);
    assert!(ok, "{out}");
    assert!(out.contains(" 0 invalid"), "{out}");
    for scope in
        ["storage.type", "entity.name.function", "string.quoted.double", "comment.line", "constant.other.metric"]
    {
        assert!(out.contains(scope), "no `{scope}` token in the corpus: {out}");
    }
}

#[test]
fn a_stray_character_is_invalid() {
    let dir = Dir::new();
    dir.file("bad.evo", "let a = 1 $\n");
    let (ok, out) = tokenize(&[&dir.path().join("bad.evo")]);
    assert!(!ok && out.contains("invalid token `$`"), "{out}");
}
