//! A builder for CLI tests: files in a temporary folder, a command line, and what comes out.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

/// The repository root (tests run with the cwd in `engine/`).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

/// One invocation of `evoflow` in a fresh temporary folder.
pub struct Test {
    dir: tempfile::TempDir,
    args: Vec<String>,
    cwd: Option<PathBuf>,
}

/// What an invocation printed and returned.
#[derive(Debug)]
pub struct Output {
    pub status: i32,
    pub stdout: String,
    pub stderr: String,
    /// The folder the command ran in.
    pub root: PathBuf,
    /// Keeps a one-shot test's temporary folder alive as long as its output.
    _dir: Option<tempfile::TempDir>,
}

impl Output {
    /// The text of a file in the folder the command ran in.
    pub fn read(&self, path: &str) -> String {
        std::fs::read_to_string(self.root.join(path)).unwrap()
    }
}

/// A folder for tests that run several commands in a row.
pub struct Dir {
    tmp: tempfile::TempDir,
}

impl Dir {
    pub fn new() -> Self {
        Dir { tmp: tempfile::tempdir().unwrap() }
    }

    /// The folder.
    pub fn path(&self) -> &Path {
        self.tmp.path()
    }

    /// Writes a file.
    pub fn file(&self, path: &str, text: &str) -> &Self {
        let full = self.tmp.path().join(path);
        std::fs::create_dir_all(full.parent().unwrap()).unwrap();
        std::fs::write(full, text).unwrap();
        self
    }

    /// Runs `evoflow` with `args` in the folder.
    pub fn run<I: IntoIterator<Item = S>, S: Into<String>>(&self, args: I) -> Output {
        run_in(self.tmp.path(), args.into_iter().map(Into::into).collect(), None)
    }

    /// Starts `evoflow run FILE --json` in the folder, in the background: the process, and its
    /// events' lines as they come (for tests that act while a run is going).
    pub fn spawn_json(
        &self,
        file: &str,
    ) -> (std::process::Child, std::io::Lines<std::io::BufReader<std::process::ChildStdout>>) {
        use std::io::BufRead;
        let mut child = Command::new(env!("CARGO_BIN_EXE_evoflow"))
            .args(["run", file, "--json"])
            .current_dir(self.tmp.path())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let lines = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
        (child, lines)
    }

    /// Starts `evoflow run FILE -q` in the folder, in the background.
    pub fn spawn_quiet(&self, file: &str) -> std::process::Child {
        Command::new(env!("CARGO_BIN_EXE_evoflow"))
            .args(["run", file, "-q"])
            .current_dir(self.tmp.path())
            .spawn()
            .unwrap()
    }

    /// Runs and asserts the exit status.
    pub fn status<I: IntoIterator<Item = S>, S: Into<String>>(&self, args: I, expected: i32) -> Output {
        let out = self.run(args);
        assert_eq!(out.status, expected, "exit status\nstdout:\n{}\nstderr:\n{}", out.stdout, out.stderr);
        out
    }
}

fn run_in(cwd: &Path, args: Vec<String>, keep: Option<tempfile::TempDir>) -> Output {
    let out = Command::new(env!("CARGO_BIN_EXE_evoflow"))
        .args(&args)
        .current_dir(cwd)
        .env("NO_COLOR", "1")
        .env_remove("RUST_BACKTRACE")
        .output()
        .unwrap();
    Output {
        status: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8(out.stdout).unwrap(),
        stderr: String::from_utf8(out.stderr).unwrap(),
        root: cwd.to_path_buf(),
        _dir: keep,
    }
}

impl Test {
    pub fn new() -> Self {
        Test { dir: tempfile::tempdir().unwrap(), args: Vec::new(), cwd: None }
    }

    /// Writes a file (relative to the temporary folder).
    pub fn file(self, path: &str, text: &str) -> Self {
        let full = self.dir.path().join(path);
        std::fs::create_dir_all(full.parent().unwrap()).unwrap();
        std::fs::write(full, text).unwrap();
        self
    }

    /// Appends arguments.
    pub fn args<I: IntoIterator<Item = S>, S: Into<String>>(mut self, args: I) -> Self {
        self.args.extend(args.into_iter().map(Into::into));
        self
    }

    /// Runs in the repository root instead of the temporary folder.
    pub fn in_repo(mut self) -> Self {
        self.cwd = Some(repo_root());
        self
    }

    /// Runs the command.
    pub fn run(self) -> Output {
        let cwd = self.cwd.clone().unwrap_or_else(|| self.dir.path().to_path_buf());
        run_in(&cwd, self.args, Some(self.dir))
    }

    /// Runs and asserts the exit status.
    pub fn status(self, expected: i32) -> Output {
        let out = self.run();
        assert_eq!(out.status, expected, "exit status\nstdout:\n{}\nstderr:\n{}", out.stdout, out.stderr);
        out
    }
}

/// The `--json` events a run printed, parsed.
pub fn events(stdout: &str) -> Vec<serde_json::Value> {
    stdout.lines().filter(|l| l.starts_with('{')).map(|l| serde_json::from_str(l).unwrap()).collect()
}

/// The output folder of `node` in the latest run of `file`, from the journal.
pub fn output_dir(dir: &Dir, file: &str, node: &str) -> PathBuf {
    let query =
        format!("SELECT output_hash FROM steps WHERE node_id = '{node}' AND run_id = (SELECT max(id) FROM runs)");
    let out = dir.status(["journal", file, "--format", "csv", "--sql", &query], 0);
    let hash = out.stdout.lines().map(str::trim).rfind(|l| !l.is_empty()).unwrap().to_string();
    assert!(hash.len() >= 16 && hash.chars().all(|c| c.is_ascii_hexdigit()), "no output hash: {}", out.stdout);
    let stem = Path::new(file).file_stem().unwrap().to_str().unwrap();
    dir.path().join(".evoflow").join(stem).join("objects").join(hash)
}

/// The meta of the stored output `hash` under `run_dir`: its folder's `meta.json`, or, for an
/// output without files, its line in the store's inline log.
pub fn object_meta(run_dir: &Path, hash: &str) -> serde_json::Value {
    let folder = run_dir.join("objects").join(hash).join("meta.json");
    if let Ok(text) = std::fs::read(&folder) {
        return serde_json::from_slice(&text).unwrap();
    }
    let log = std::fs::read_to_string(run_dir.join("objects/inline.jsonl")).unwrap_or_default();
    log.lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .find(|line| line["hash"] == hash)
        .map(|line| line["meta"].clone())
        .unwrap_or_else(|| panic!("no object {hash} under {}", run_dir.display()))
}

/// `(node, status, error)` of each `step_finished` event.
pub fn finished(stdout: &str) -> Vec<(String, String, Option<String>)> {
    events(stdout)
        .into_iter()
        .filter(|e| e["event"] == "step_finished")
        .map(|e| {
            (
                e["node"].as_str().unwrap().to_string(),
                e["status"].as_str().unwrap().to_string(),
                e["error"].as_str().map(str::to_string),
            )
        })
        .collect()
}

/// `(node, event name)` pairs of the step events, in order.
pub fn step_events(stdout: &str) -> Vec<(String, String)> {
    events(stdout)
        .into_iter()
        .filter_map(|e| Some((e["node"].as_str()?.to_string(), e["event"].as_str()?.to_string())))
        .collect()
}

/// Nodes whose step actually ran (not cached) in a `--json` run.
pub fn ran(stdout: &str) -> Vec<String> {
    let mut nodes: Vec<String> =
        step_events(stdout).into_iter().filter(|(_, e)| e == "step_started").map(|(n, _)| n).collect();
    nodes.sort();
    nodes.dedup();
    nodes
}
