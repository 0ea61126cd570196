//! The first hour of a new user: `evoflow init` makes a project that checks at once, and the
//! shells get completions (`--version` is in `tests/cli.rs`).

mod support;

use support::{Dir, Test};

const CSV: &str = "userId,movieId,rating,timestamp\n1,10,4.0,100\n1,11,3.0,101\n2,10,5.0,102\n";

#[test]
fn init_writes_a_project_that_checks_at_once() {
    let dir = Dir::new();
    dir.file("ratings.csv", CSV);
    let args = ["--data", "ratings.csv", "--user", "userId", "--item", "movieId", "--rating", "rating"];
    let out = dir.status(["init", "shop"].into_iter().chain(args).chain(["--time", "timestamp"]), 0);
    assert!(out.stderr.contains("evoflow check shop/pipeline.evo"), "{}", out.stderr);
    insta::assert_snapshot!("init_pipeline", dir_read(&dir, "shop/pipeline.evo"));
    assert_eq!(dir_read(&dir, "shop/.gitignore").lines().last(), Some(".evoflow/"));
    // The data path is written relative to the workflow, which reads it from its own folder.
    assert!(dir_read(&dir, "shop/pipeline.evo").contains(r#"param interactions: str = "../ratings.csv""#));
    dir.status(["check", "shop/pipeline.evo"], 0);

    // Every key of evoflow.toml is there, commented; uncommented, they are all valid keys.
    let toml = dir_read(&dir, "shop/evoflow.toml");
    let keys = toml.lines().filter(|l| is_key(l)).count();
    assert!(keys >= 20, "{keys} keys:\n{toml}");
    let uncommented: String = toml.lines().map(|l| if is_key(l) { &l[2..] } else { l }).collect::<Vec<_>>().join("\n");
    dir.file("shop/evoflow.toml", &uncommented);
    let checked = dir.run(["check", "shop/pipeline.evo"]);
    assert_eq!(checked.status, 0, "every key evoflow.toml lists is one it reads:\n{}", checked.stderr);
}

/// A commented `key = value` or `[table]` line.
fn is_key(line: &str) -> bool {
    let Some(rest) = line.strip_prefix("# ") else { return false };
    rest.starts_with('[')
        || rest.split_once(" = ").is_some_and(|(k, _)| k.chars().all(|c| c.is_ascii_lowercase() || c == '_'))
}

fn dir_read(dir: &Dir, path: &str) -> String {
    std::fs::read_to_string(dir.path().join(path)).unwrap()
}

#[test]
fn init_keeps_what_exists_unless_forced_and_asks_for_the_data() {
    let dir = Dir::new();
    dir.file("ratings.csv", CSV);
    dir.file("p/pipeline.evo", "# mine\n");
    let out = dir.status(["init", "p", "--data", "ratings.csv"], 1);
    assert!(out.stderr.contains("already has pipeline.evo") && out.stderr.contains("--force"), "{}", out.stderr);
    assert_eq!(dir_read(&dir, "p/pipeline.evo"), "# mine\n", "nothing was written");
    assert!(!dir.path().join("p/evoflow.toml").exists(), "nothing at all");
    dir.status(["init", "p", "--data", "ratings.csv", "--force"], 0);
    assert!(dir_read(&dir, "p/pipeline.evo").contains(r#"user: "user_id""#), "default column names");
    // No terminal to ask at, no --data: say what is needed.
    let out = dir.status(["init", "q"], 2);
    assert!(out.stderr.contains("--data PATH"), "{}", out.stderr);
}

#[test]
fn completions_for_each_shell() {
    let bash = Test::new().args(["completions", "bash"]).status(0).stdout;
    assert!(bash.contains("_evoflow()") && bash.contains("report") && bash.contains("--run-dir"), "bash");
    let zsh = Test::new().args(["completions", "zsh"]).status(0).stdout;
    assert!(zsh.starts_with("#compdef evoflow"), "zsh");
    let fish = Test::new().args(["completions", "fish"]).status(0).stdout;
    assert!(fish.contains("complete -c evoflow"), "fish");
    Test::new().args(["completions", "tcsh"]).status(2);
}
